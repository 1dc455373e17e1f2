// ossmp/xml.hpp: a small XML reader for hostile input (over expat), XML escaping for writers,
// and strict parsers for the numbers and booleans found in OSS documents.
//
// OSS response bodies are small, flat documents (oss-reference section 1.4, section 2). They
// come from the network, so the reader trusts nothing:
//   - the size is checked before a byte is parsed (`errc::xml_too_large`);
//   - a DOCTYPE or entity declaration is refused outright (`errc::malformed_xml`): no internal
//     entity expansion ("billion laughs"), no external entities, no DTD processing at all;
//   - nesting depth and element count are capped (`errc::xml_too_large`);
//   - anything that is not one well-formed document (HTML, JSON, truncated text, junk after
//     the root, an empty body) is `errc::malformed_xml`.
// Namespaces are ignored: element names are matched by their local name, so the old
// `<Error xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com">` roots parse like the new ones.
//
// The result is a compact tree: one flat vector of nodes and one character buffer holding every
// name and text (a node stores offsets), so a parse costs a handful of allocations whatever the
// document's size, and a reused `document` costs none once its capacity has grown.
#pragma once

#include "ossmp/error.hpp"

#include <expat.h>

#include <algorithm>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace ossmp {

/// Appends `s` to `out` with the five XML special characters escaped (`&` -> `&amp;`,
/// `<` -> `&lt;`, `>` -> `&gt;`, `"` -> `&quot;`, `'` -> `&apos;`). Other bytes are copied
/// unchanged (the caller supplies UTF-8). Safe in element text and in either kind of quoted
/// attribute value.
inline void xml_escape_to(std::string& out, std::string_view s) {
    std::size_t run = 0; // start of the pending run of bytes that need no escaping
    for (std::size_t i = 0; i < s.size(); ++i) {
        std::string_view rep;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        default:
            continue;
        }
        out.append(s.data() + run, i - run);
        out.append(rep);
        run = i + 1;
    }
    out.append(s.data() + run, s.size() - run);
}

/// Returns `s` with `& < > " '` escaped (see `xml_escape_to`).
inline std::string xml_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 16);
    xml_escape_to(out, s);
    return out;
}

namespace xml {

/// Default size cap: far above the largest OSS listing (1,000 entries is well under 1 MiB),
/// far below what would hurt a client. ossmp's own choice.
inline constexpr std::size_t default_max_size = 16 * 1024 * 1024;
/// Default nesting cap. OSS documents are at most 3 levels deep (ListPartsResult/Part/Size).
inline constexpr std::size_t default_max_depth = 32;
/// Default element-count cap (a 1,000-part ListParts has about 6,000 elements). Bounds the
/// tree's memory for a hostile document of many empty elements.
inline constexpr std::size_t default_max_elements = 1024 * 1024;

/// Limits applied by `parse`. Exceeding any of them gives `errc::xml_too_large`.
struct parse_options {
    std::size_t max_size = default_max_size;         ///< input bytes, checked before parsing
    std::size_t max_depth = default_max_depth;       ///< element nesting (the root is depth 1)
    std::size_t max_elements = default_max_elements; ///< elements in the document
};

class document;
class child_iterator;
struct child_range;

/// A handle to one element of a `document`: two words, cheap to copy. A default-constructed
/// (or "not found") element is null: `operator bool` is false, `name()`/`text()` are empty and
/// navigation returns null elements. Valid as long as the document it came from is alive and not
/// re-parsed or cleared.
class element {
public:
    element() = default;

    /// True for a real element, false for the null element.
    explicit operator bool() const noexcept { return doc_ != nullptr; }

    /// The local name (any `prefix:` removed), e.g. "Key".
    std::string_view name() const noexcept;

    /// The element's character data, entities and character references decoded, CDATA
    /// included, not trimmed. Only leaf elements carry text: the text of an element that has
    /// child elements (indentation between children, mixed content) is not kept and is empty.
    std::string_view text() const noexcept;

    /// True when the element has at least one child element.
    bool has_children() const noexcept;

    /// The first child element, or null.
    element first_child() const noexcept;

    /// The next element with the same parent, or null.
    element next_sibling() const noexcept;

    /// The first child element whose local name is `local_name`, or null.
    element child(std::string_view local_name) const noexcept {
        for (element c = first_child(); c; c = c.next_sibling())
            if (c.name() == local_name)
                return c;
        return {};
    }

    /// The text of the first child named `local_name`, or nullopt when there is no such child.
    std::optional<std::string_view> child_text(std::string_view local_name) const noexcept {
        if (element c = child(local_name))
            return c.text();
        return std::nullopt;
    }

    /// The child elements, in document order: `for (xml::element c : e.children())`.
    child_range children() const noexcept;

    /// Identity: the same element of the same document (or both null).
    friend bool operator==(const element&, const element&) noexcept = default;

private:
    friend class document;
    element(const document* doc, std::uint32_t index) noexcept : doc_(doc), index_(index) {}

    const document* doc_ = nullptr;
    std::uint32_t index_ = 0;
};

/// Forward iterator over the child elements of an element, in document order.
class child_iterator {
public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = element;
    using difference_type = std::ptrdiff_t;
    using pointer = const element*;
    using reference = element;

    child_iterator() = default;
    explicit child_iterator(element e) noexcept : e_(e) {}
    element operator*() const noexcept { return e_; }
    const element* operator->() const noexcept { return &e_; }
    child_iterator& operator++() noexcept {
        e_ = e_.next_sibling();
        return *this;
    }
    child_iterator operator++(int) noexcept {
        auto copy = *this;
        ++*this;
        return copy;
    }
    friend bool operator==(const child_iterator& a, const child_iterator& b) noexcept {
        return a.e_ == b.e_;
    }

private:
    element e_;
};

/// A range over the child elements (see `child_iterator`).
struct child_range {
    element first;
    child_iterator begin() const noexcept { return child_iterator(first); }
    child_iterator end() const noexcept { return child_iterator(); }
};

inline child_range element::children() const noexcept {
    return child_range{first_child()};
}

std::error_code parse(std::string_view input, document& out, const parse_options& options);

/// A parsed XML document: the element tree produced by `parse`. Movable and copyable. An
/// `element` refers to the document object it came from: moving, clearing or re-parsing that
/// object invalidates its handles. Reuse one document for many parses to keep its buffers.
class document {
public:
    document() = default;

    /// The root element, or null when nothing has been parsed successfully.
    element root() const noexcept { return nodes_.empty() ? element() : element(this, 0); }

    /// Number of elements in the document.
    std::size_t element_count() const noexcept { return nodes_.size(); }

    /// Forgets the tree; keeps the capacity for the next parse.
    void clear() noexcept {
        nodes_.clear();
        chars_.clear();
    }

private:
    friend class element;
    friend std::error_code parse(std::string_view, document&, const parse_options&);
    struct builder;

    static constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();

    struct node {
        std::uint32_t name_offset;
        std::uint32_t name_size;
        std::uint32_t text_offset;
        std::uint32_t text_size;
        std::uint32_t first_child;
        std::uint32_t next_sibling;
    };

    std::string_view chars(std::uint32_t offset, std::uint32_t size) const noexcept {
        return std::string_view(chars_.data() + offset, size);
    }

    std::vector<node> nodes_;
    std::string chars_; // every name and text, referenced by offset
};

inline std::string_view element::name() const noexcept {
    if (!doc_)
        return {};
    const auto& n = doc_->nodes_[index_];
    return doc_->chars(n.name_offset, n.name_size);
}

inline std::string_view element::text() const noexcept {
    if (!doc_)
        return {};
    const auto& n = doc_->nodes_[index_];
    return doc_->chars(n.text_offset, n.text_size);
}

inline bool element::has_children() const noexcept {
    return doc_ && doc_->nodes_[index_].first_child != document::npos;
}

inline element element::first_child() const noexcept {
    if (!doc_)
        return {};
    auto i = doc_->nodes_[index_].first_child;
    return i == document::npos ? element() : element(doc_, i);
}

inline element element::next_sibling() const noexcept {
    if (!doc_)
        return {};
    auto i = doc_->nodes_[index_].next_sibling;
    return i == document::npos ? element() : element(doc_, i);
}

// Builds the tree from expat callbacks. Callbacks never let an exception escape into expat (a C
// library): a failed allocation stops the parser and is reported as not_enough_memory. After a
// stop, expat may still deliver a callback for the current token, hence the `failed` guards.
struct document::builder {
    struct open_element {
        std::uint32_t index;
        std::uint32_t last_child;
    };

    document& doc;
    XML_Parser parser;
    const parse_options& options;
    std::vector<open_element> stack{};
    std::error_code error{};

    bool failed() const noexcept { return static_cast<bool>(error); }

    void fail(std::error_code ec) noexcept {
        if (!error)
            error = ec;
        XML_StopParser(parser, XML_FALSE);
    }

    // Room for `n` more chars while every offset still fits a node's 32-bit fields.
    bool chars_fit(std::size_t n) const noexcept {
        return n <= std::size_t{npos} - doc.chars_.size();
    }

    void start(const XML_Char* qname) {
        if (stack.size() >= options.max_depth || doc.nodes_.size() >= options.max_elements) {
            fail(make_error_code(errc::xml_too_large));
            return;
        }
        std::string_view name(qname);
        if (auto colon = name.rfind(':'); colon != std::string_view::npos)
            name.remove_prefix(colon + 1); // namespaces are ignored: keep the local name
        if (!chars_fit(name.size())) {
            fail(make_error_code(errc::xml_too_large));
            return;
        }
        const auto index = static_cast<std::uint32_t>(doc.nodes_.size());
        if (!stack.empty()) {
            auto& parent = stack.back();
            auto& pnode = doc.nodes_[parent.index];
            if (pnode.first_child == npos) {
                // The parent's text so far (indentation) is the tail of chars_: drop it, as
                // elements with children keep no text.
                doc.chars_.resize(pnode.text_offset);
                pnode.text_size = 0;
                pnode.first_child = index;
            } else {
                doc.nodes_[parent.last_child].next_sibling = index;
            }
            parent.last_child = index;
        }
        const auto name_offset = static_cast<std::uint32_t>(doc.chars_.size());
        doc.chars_.append(name);
        doc.nodes_.push_back(node{name_offset, static_cast<std::uint32_t>(name.size()),
                                  static_cast<std::uint32_t>(doc.chars_.size()), 0, npos, npos});
        stack.push_back(open_element{index, npos});
    }

    void text(const XML_Char* s, int len) {
        if (stack.empty() || len <= 0)
            return;
        auto& n = doc.nodes_[stack.back().index];
        if (n.first_child != npos)
            return; // text between child elements is not kept
        if (!chars_fit(static_cast<std::size_t>(len))) {
            fail(make_error_code(errc::xml_too_large));
            return;
        }
        doc.chars_.append(s, static_cast<std::size_t>(len));
        n.text_size += static_cast<std::uint32_t>(len);
    }

    static void XMLCALL on_start(void* user, const XML_Char* name, const XML_Char**) noexcept {
        auto* b = static_cast<builder*>(user);
        if (b->failed())
            return;
        try {
            b->start(name);
        } catch (...) {
            b->fail(std::make_error_code(std::errc::not_enough_memory));
        }
    }

    static void XMLCALL on_end(void* user, const XML_Char*) noexcept {
        auto* b = static_cast<builder*>(user);
        if (!b->failed() && !b->stack.empty())
            b->stack.pop_back();
    }

    static void XMLCALL on_text(void* user, const XML_Char* s, int len) noexcept {
        auto* b = static_cast<builder*>(user);
        if (b->failed())
            return;
        try {
            b->text(s, len);
        } catch (...) {
            b->fail(std::make_error_code(std::errc::not_enough_memory));
        }
    }

    // Any DOCTYPE is refused before its internal subset is read: no entity can be declared, so
    // none can be expanded (billion laughs) or fetched (external entities).
    static void XMLCALL on_doctype(void* user, const XML_Char*, const XML_Char*, const XML_Char*,
                                   int) noexcept {
        static_cast<builder*>(user)->fail(make_error_code(errc::malformed_xml));
    }

    // Belt and braces: entity declarations can only appear inside a DOCTYPE.
    static void XMLCALL on_entity_decl(void* user, const XML_Char*, int, const XML_Char*, int,
                                       const XML_Char*, const XML_Char*, const XML_Char*,
                                       const XML_Char*) noexcept {
        static_cast<builder*>(user)->fail(make_error_code(errc::malformed_xml));
    }
};

/// Parses `input` as one complete XML document into `out` (replacing its content).
///
/// Errors (`out` is left empty on error):
///   - `errc::xml_too_large`: `input` is longer than `options.max_size` (checked first), or the
///     document nests deeper than `options.max_depth` or has more than `options.max_elements`
///     elements;
///   - `errc::malformed_xml`: not well-formed (HTML, JSON, truncated, empty, junk after the
///     root, undefined entity, bad encoding) or it contains a DOCTYPE / entity declaration;
///   - `std::errc::not_enough_memory`: allocation failure.
/// Element names are local names (prefixes and namespace declarations ignored); attributes are
/// ignored. Predefined entities (`&amp;` ...), character references (`&#34;`, `&#x22;`) and
/// CDATA sections are decoded into the text. Input in UTF-8 (default), UTF-16 with a BOM, or an
/// encoding expat knows from the declaration; the tree is always UTF-8.
inline std::error_code parse(std::string_view input, document& out,
                             const parse_options& options = {}) {
    out.clear();
    if (input.size() > options.max_size)
        return make_error_code(errc::xml_too_large);

    std::unique_ptr<std::remove_pointer_t<XML_Parser>, decltype(&XML_ParserFree)> parser(
        XML_ParserCreate(nullptr), &XML_ParserFree);
    if (!parser)
        return std::make_error_code(std::errc::not_enough_memory);

    document::builder b{out, parser.get(), options};
    try {
        // Names and texts are a subset of the input bytes; ~35 input bytes per element in
        // OSS listings.
        out.chars_.reserve(input.size());
        out.nodes_.reserve(input.size() / 32 + 4);
        b.stack.reserve(16);
    } catch (...) {
        return std::make_error_code(std::errc::not_enough_memory);
    }
    XML_SetUserData(parser.get(), &b);
    XML_SetElementHandler(parser.get(), &document::builder::on_start, &document::builder::on_end);
    XML_SetCharacterDataHandler(parser.get(), &document::builder::on_text);
    XML_SetStartDoctypeDeclHandler(parser.get(), &document::builder::on_doctype);
    XML_SetEntityDeclHandler(parser.get(), &document::builder::on_entity_decl);
    XML_SetParamEntityParsing(parser.get(), XML_PARAM_ENTITY_PARSING_NEVER);

    // XML_Parse takes an int length: feed very large inputs in pieces.
    constexpr std::size_t max_chunk = 1u << 30;
    std::size_t pos = 0;
    bool ok = true;
    do {
        const std::size_t n = std::min(max_chunk, input.size() - pos);
        const bool last = pos + n == input.size();
        ok =
            XML_Parse(parser.get(), input.data() + pos, static_cast<int>(n), last) == XML_STATUS_OK;
        pos += n;
    } while (ok && pos < input.size());

    std::error_code ec = b.error;
    if (!ec && !ok)
        ec = make_error_code(errc::malformed_xml);
    if (!ec && out.nodes_.empty())
        ec = make_error_code(errc::malformed_xml);
    if (ec)
        out.clear();
    return ec;
}

/// Parses a whole element text as a non-negative decimal integer in [min_value, max_value]:
/// ASCII digits only (no sign, no spaces, no "0x"), at least one digit, no overflow.
/// Errors: `errc::bad_xml_number` (`out` unchanged).
template <std::integral T>
std::error_code parse_number(std::string_view s, T& out, T min_value = T{0},
                             T max_value = std::numeric_limits<T>::max()) noexcept {
    if (s.empty() || s.front() < '0' || s.front() > '9')
        return make_error_code(errc::bad_xml_number);
    T v{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    if (ec != std::errc() || end != s.data() + s.size() || v < min_value || v > max_value)
        return make_error_code(errc::bad_xml_number);
    out = v;
    return {};
}

/// Parses an XML boolean as OSS writes it: exactly `true` or `false` (xs:boolean's `1`/`0`
/// and other spellings are refused). Errors: `errc::bad_xml_value` (`out` unchanged).
inline std::error_code parse_bool(std::string_view s, bool& out) noexcept {
    if (s == "true") {
        out = true;
        return {};
    }
    if (s == "false") {
        out = false;
        return {};
    }
    return make_error_code(errc::bad_xml_value);
}

} // namespace xml
} // namespace ossmp
