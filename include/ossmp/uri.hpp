// ossmp/uri.hpp: percent-encoding as OSS needs it (oss-reference sections 1.1, 1.4, 6.2).
//
// One unreserved set everywhere: A-Z a-z 0-9 - _ . ~ (RFC 3986). Everything else becomes %XX
// with upper-case hex, including '+' and ' '. Paths keep '/'.
#pragma once

#include "ossmp/http/message.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ossmp::uri {

inline constexpr bool is_unreserved(unsigned char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/// Appends the percent-encoding of `s` to `out`. With `keep_slash`, '/' stays literal
/// (wire paths, the V4 canonical URI); without it, '/' is %2F (query, canonical query).
inline void encode_to(std::string& out, std::string_view s, bool keep_slash) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (unsigned char c : s) {
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
}

/// Percent-encodes `s` (see `encode_to`).
inline std::string encode(std::string_view s, bool keep_slash = false) {
    std::string out;
    out.reserve(s.size() + s.size() / 2);
    encode_to(out, s, keep_slash);
    return out;
}

/// Percent-encodes a path: '/' is kept.
inline std::string encode_path(std::string_view s) {
    return encode(s, true);
}

namespace detail {
inline constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
} // namespace detail

/// Decodes %XX escapes (either hex case). With `plus_as_space`, '+' decodes to ' ' (query
/// strings and `encoding-type=url` XML values, as Go's QueryUnescape does). Returns nullopt for
/// a malformed escape ('%' not followed by two hex digits).
inline std::optional<std::string> decode(std::string_view s, bool plus_as_space = false) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size())
                return std::nullopt;
            int hi = detail::hex_value(s[i + 1]);
            int lo = detail::hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_as_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

/// Writes `name[=value]&...` with both parts percent-encoded; an empty value is written bare
/// (`uploads`). This is the wire form ossmp sends.
inline std::string encode_query(const std::vector<http::query_param>& params) {
    std::string out;
    for (const auto& p : params) {
        if (!out.empty())
            out.push_back('&');
        encode_to(out, p.name, false);
        if (!p.value.empty()) {
            out.push_back('=');
            encode_to(out, p.value, false);
        }
    }
    return out;
}

/// Splits a raw query string (without '?') into decoded parameters, in order. `a`, `a=` both
/// give an empty value. '+' decodes to a space. Empty segments (`a&&b`) are skipped.
/// Returns nullopt on a malformed escape.
inline std::optional<std::vector<http::query_param>> parse_query(std::string_view q) {
    std::vector<http::query_param> out;
    while (!q.empty()) {
        auto amp = q.find('&');
        auto part = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        if (part.empty())
            continue;
        auto eq = part.find('=');
        auto name = decode(part.substr(0, eq), true);
        auto value = eq == std::string_view::npos ? std::optional<std::string>(std::string())
                                                  : decode(part.substr(eq + 1), true);
        if (!name || !value)
            return std::nullopt;
        out.push_back(http::query_param{std::move(*name), std::move(*value)});
    }
    return out;
}

/// Splits an origin-form target into its decoded path and its query parameters.
struct split_target_result {
    std::string path; ///< decoded ('+' stays '+')
    std::vector<http::query_param> query;
};

inline std::optional<split_target_result> split_target(std::string_view target) {
    auto qm = target.find('?');
    auto path = decode(target.substr(0, qm), false);
    if (!path)
        return std::nullopt;
    split_target_result r;
    r.path = std::move(*path);
    if (qm != std::string_view::npos) {
        auto q = parse_query(target.substr(qm + 1));
        if (!q)
            return std::nullopt;
        r.query = std::move(*q);
    }
    return r;
}

} // namespace ossmp::uri
