// ossmp/http/message.hpp: the HTTP/1.1 message types of the sans-io core.
//
// `request` is what the client builds, signs and sends (structured: bucket, key and decoded
// query parameters are kept so that signers need not re-parse the target); `response` is what
// a transport brings back; `incoming_request` is what a server (the emulator) parses.
#pragma once

#include "ossmp/http/body_source.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ossmp::http {

namespace detail {
inline constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
} // namespace detail

/// Case-insensitive ASCII comparison of header names.
inline constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (detail::ascii_lower(a[i]) != detail::ascii_lower(b[i]))
            return false;
    return true;
}

/// Lower-cases ASCII letters.
inline std::string to_lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r)
        c = detail::ascii_lower(c);
    return r;
}

struct field {
    std::string name;
    std::string value;
};

/// An ordered list of header fields with case-insensitive lookup. Insertion order is kept
/// (it is the order on the wire); duplicates are allowed (`add`) or replaced (`set`).
class fields {
public:
    using const_iterator = std::vector<field>::const_iterator;

    /// Appends a field, keeping any existing field of the same name.
    void add(std::string_view name, std::string_view value) {
        list_.push_back(field{std::string(name), std::string(value)});
    }
    /// Replaces every field of this name with one field (at the first one's position).
    void set(std::string_view name, std::string_view value) {
        auto it = std::find_if(list_.begin(), list_.end(),
                               [&](const field& f) { return iequals(f.name, name); });
        if (it == list_.end()) {
            add(name, value);
            return;
        }
        it->value.assign(value);
        auto first = it - list_.begin();
        list_.erase(std::remove_if(list_.begin() + first + 1, list_.end(),
                                   [&](const field& f) { return iequals(f.name, name); }),
                    list_.end());
    }
    /// Removes every field of this name; returns how many were removed.
    std::size_t erase(std::string_view name) {
        auto before = list_.size();
        list_.erase(std::remove_if(list_.begin(), list_.end(),
                                   [&](const field& f) { return iequals(f.name, name); }),
                    list_.end());
        return before - list_.size();
    }
    /// The value of the first field of this name.
    std::optional<std::string_view> find(std::string_view name) const noexcept {
        for (const auto& f : list_)
            if (iequals(f.name, name))
                return std::string_view(f.value);
        return std::nullopt;
    }
    /// The value of the first field of this name, or "" when absent.
    std::string_view get(std::string_view name) const noexcept { return find(name).value_or(""); }
    bool contains(std::string_view name) const noexcept { return find(name).has_value(); }
    std::size_t count(std::string_view name) const noexcept {
        return static_cast<std::size_t>(std::count_if(
            list_.begin(), list_.end(), [&](const field& f) { return iequals(f.name, name); }));
    }

    const_iterator begin() const noexcept { return list_.begin(); }
    const_iterator end() const noexcept { return list_.end(); }
    std::size_t size() const noexcept { return list_.size(); }
    bool empty() const noexcept { return list_.empty(); }
    void clear() noexcept { list_.clear(); }
    void reserve(std::size_t n) { list_.reserve(n); }

private:
    std::vector<field> list_;
};

enum class verb { get, head, put, post, delete_ };

inline constexpr std::string_view to_string(verb v) noexcept {
    switch (v) {
    case verb::get:
        return "GET";
    case verb::head:
        return "HEAD";
    case verb::put:
        return "PUT";
    case verb::post:
        return "POST";
    case verb::delete_:
        return "DELETE";
    }
    return "GET";
}

/// One query parameter, decoded. An empty value is written bare (`?uploads`).
struct query_param {
    std::string name;
    std::string value;
};

/// A request the client sends.
///
/// Builders fill `method`, `bucket`, `key`, `query`, `headers` and the body; the endpoint
/// (addressing) fills `host` and `path`; the signer adds date and Authorization headers; the
/// serializer writes `method path?query HTTP/1.1`, `Host`, the headers, `Content-Length`.
///
/// The body is owned (`set_body(std::string)`, used for XML bodies the builders make), a
/// non-owning view (`set_body_view`, for part data the caller holds: no copy; the viewed bytes
/// must outlive every use of the request), or a `body_source` the transport pulls chunk by
/// chunk while it writes (`set_body_source`, for files and other data not held in memory;
/// shared by the request's copies). `content_length()` is the body's size in every case;
/// `body()` is empty for a source.
class request {
public:
    verb method = verb::get;
    std::string bucket;             ///< decoded bucket name; empty for service-level requests
    std::string key;                ///< decoded object key; empty for bucket-level requests
    std::vector<query_param> query; ///< decoded, in wire order
    fields headers;                 ///< without Host and Content-Length (serializer adds them)
    std::string host;               ///< Host header value ("bucket.endpoint[:port]")
    std::string path = "/";         ///< wire path, percent-encoded

    request() = default;

    /// Owns `body`; Content-Length is its size.
    void set_body(std::string body) {
        owned_ = std::move(body);
        view_.reset();
        source_.reset();
    }
    /// Does not own: `body` must outlive the request's use.
    void set_body_view(std::string_view body) noexcept {
        owned_.clear();
        view_ = body;
        source_.reset();
    }
    void set_body_view(std::span<const std::byte> body) noexcept {
        set_body_view(std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
    }
    /// Streams the body from `source` (Content-Length: `source->size()`).
    void set_body_source(std::shared_ptr<body_source> source) noexcept {
        owned_.clear();
        view_.reset();
        source_ = std::move(source);
    }
    /// The owned or viewed body; empty when the body comes from a source.
    std::string_view body() const noexcept { return view_ ? *view_ : std::string_view(owned_); }
    bool body_is_view() const noexcept { return view_.has_value(); }
    /// The streamed body's source, or null.
    const std::shared_ptr<body_source>& source() const noexcept { return source_; }
    /// The body's size, whatever holds it.
    std::uint64_t content_length() const noexcept {
        return source_ ? source_->size() : body().size();
    }

    /// The value of the first query parameter of this name (exact, case-sensitive).
    std::optional<std::string_view> query_value(std::string_view name) const noexcept {
        for (const auto& q : query)
            if (q.name == name)
                return std::string_view(q.value);
        return std::nullopt;
    }

private:
    std::string owned_;
    std::optional<std::string_view> view_;
    std::shared_ptr<body_source> source_;
};

/// A response as a transport delivers it (body fully read, or empty for HEAD / streamed GET).
struct response {
    unsigned status = 0;
    std::string reason;
    int version_minor = 1; ///< 0 for HTTP/1.0, 1 for HTTP/1.1
    fields headers;
    std::string body;

    bool ok() const noexcept { return status >= 200 && status < 300; }
};

/// A request as a server receives it.
struct incoming_request {
    std::string method; ///< as sent (upper case expected, not normalised)
    std::string target; ///< origin-form target as sent, still percent-encoded
    int version_minor = 1;
    fields headers;
    std::string body; ///< de-chunked body
};

} // namespace ossmp::http
