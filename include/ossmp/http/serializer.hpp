// ossmp/http/serializer.hpp: HTTP/1.1 message heads on the wire, and a redacted request dump.
//
// The client writes a request as two buffers: `serialize_head(request)` and the body bytes
// (`request.body()`, a view into the caller's memory for part data), so part data is never
// copied. Servers (the emulator) write responses with `serialize_head(response)` /
// `serialize(response)`.
#pragma once

#include "ossmp/error.hpp"
#include "ossmp/http/chars.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/uri.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace ossmp::http {

namespace detail {

// Framing fields the serializer owns: a copy in `request.headers` would be a second, possibly
// conflicting, value on the wire (request smuggling), so validation refuses them.
inline constexpr std::string_view serializer_owned_fields[] = {"Host", "Content-Length",
                                                               "Transfer-Encoding"};

inline bool is_serializer_owned(std::string_view name) noexcept {
    for (auto f : serializer_owned_fields)
        if (iequals(f, name))
            return true;
    return false;
}

// Visible ASCII and obs-text only: no SP, no control characters, no DEL.
inline bool is_visible(std::string_view s) noexcept {
    for (char c : s)
        if (!has_class(c, cc_target_char))
            return false;
    return true;
}

inline bool request_has_content_length(const request& r) noexcept {
    return r.method == verb::put || r.method == verb::post || r.content_length() != 0;
}

inline bool status_has_body(unsigned status) noexcept {
    return !(status / 100 == 1 || status == 204 || status == 304);
}

inline void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ", 2);
    out.append(value);
    out.append("\r\n", 2);
}

} // namespace detail

/// Checks that `r` can be written without changing its meaning on the wire.
///
/// Returns `errc::invalid_header` when a header name is not a token (empty, or contains a
/// space, colon, CR, LF, NUL, ...), when a header value contains CR, LF, NUL, another control
/// character or DEL (header injection), when `host` is empty or contains a space or control
/// character, or when `headers` contains `Host`, `Content-Length` or `Transfer-Encoding`
/// (the serializer writes those itself). Returns `errc::invalid_argument` when `path` does not
/// start with '/' or contains a space, control character, DEL, '?' or '#' (it must be the
/// percent-encoded path). The query needs no check: it is percent-encoded when written.
inline std::error_code validate_for_wire(const request& r) {
    if (r.path.empty() || r.path.front() != '/' || !detail::is_visible(r.path) ||
        r.path.find_first_of("?#") != std::string::npos)
        return errc::invalid_argument;
    if (r.host.empty() || !detail::is_visible(r.host))
        return errc::invalid_header;
    for (const auto& f : r.headers) {
        if (!is_token(f.name) || !is_field_value(f.value) || detail::is_serializer_owned(f.name))
            return errc::invalid_header;
    }
    return {};
}

/// Writes the head of `r` (request line, fields, empty line); the body is NOT included.
///
/// Exact form: `METHOD path[?query] HTTP/1.1\r\n`, where `query` is
/// `uri::encode_query(r.query)` (no '?' when there are no parameters), then
/// `Host: r.host\r\n`, then every field of `r.headers` in order as `Name: value\r\n`, then
/// `Content-Length: N\r\n` with N = `r.content_length()` (always for PUT and POST, also when 0;
/// for GET, HEAD and DELETE only when the body is not empty), then `\r\n`.
///
/// The caller sends the returned string and then `r.body()` (two buffers, no copy of the
/// body), or the chunks of `r.source()`. Precondition: `validate_for_wire(r)` succeeds; an invalid
/// request is written as it is. Use the overload taking an `std::error_code&` to validate and write
/// in one call.
inline std::string serialize_head(const request& r) {
    std::string out;
    std::size_t estimate = 64 + r.path.size() + r.host.size();
    for (const auto& q : r.query)
        estimate += 3 * (q.name.size() + q.value.size()) + 2;
    for (const auto& f : r.headers)
        estimate += f.name.size() + f.value.size() + 4;
    out.reserve(estimate);

    out.append(to_string(r.method));
    out.push_back(' ');
    out.append(r.path);
    if (!r.query.empty()) {
        out.push_back('?');
        out.append(uri::encode_query(r.query));
    }
    out.append(" HTTP/1.1\r\n", 11);
    detail::append_field(out, "Host", r.host);
    for (const auto& f : r.headers)
        detail::append_field(out, f.name, f.value);
    if (detail::request_has_content_length(r))
        detail::append_field(out, "Content-Length", std::to_string(r.content_length()));
    out.append("\r\n", 2);
    return out;
}

/// Validates `r` with `validate_for_wire` and writes its head. On error `ec` is set and the
/// result is empty; nothing of an invalid request is ever produced.
inline std::string serialize_head(const request& r, std::error_code& ec) {
    ec = validate_for_wire(r);
    if (ec)
        return {};
    return serialize_head(r);
}

/// The standard reason phrase of an HTTP status code (RFC 9110 section 15), or "" for a code
/// this table does not know.
inline constexpr std::string_view reason_phrase(unsigned status) noexcept {
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    }
    return {};
}

/// Whether `serialize_head(response)` adds a `Content-Length` field.
enum class content_length_policy {
    /// Add `Content-Length: body.size()` unless the status has no body (1xx, 204, 304) or the
    /// response already has a `Content-Length` or `Transfer-Encoding` field.
    automatic,
    /// Never add one (the caller frames the body itself, or it is a HEAD reply).
    omit,
};

/// Checks that `r` can be written: status in 100..599, `version_minor` 0 or 1, a reason
/// without control characters, header names that are tokens and values without CR, LF, NUL,
/// control characters or DEL. Returns `errc::invalid_argument` (status, version) or
/// `errc::invalid_header` (reason, fields).
inline std::error_code validate_for_wire(const response& r) {
    if (r.status < 100 || r.status > 599 || (r.version_minor != 0 && r.version_minor != 1))
        return errc::invalid_argument;
    if (!is_field_value(r.reason))
        return errc::invalid_header;
    for (const auto& f : r.headers)
        if (!is_token(f.name) || !is_field_value(f.value))
            return errc::invalid_header;
    return {};
}

/// Writes the head of a response (server side): `HTTP/1.<version_minor> <status> <reason>\r\n`
/// (the standard phrase from `reason_phrase` when `r.reason` is empty; nothing after the
/// second space when neither exists), every field of `r.headers` in order, a
/// `Content-Length` according to `policy`, then `\r\n`. The body is not included.
/// Precondition: `validate_for_wire(r)` succeeds.
inline std::string serialize_head(const response& r,
                                  content_length_policy policy = content_length_policy::automatic) {
    std::string out;
    std::size_t estimate = 48 + r.reason.size();
    for (const auto& f : r.headers)
        estimate += f.name.size() + f.value.size() + 4;
    out.reserve(estimate);
    out.append(r.version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ", 9);
    out.append(std::to_string(r.status));
    out.push_back(' ');
    out.append(r.reason.empty() ? reason_phrase(r.status) : std::string_view(r.reason));
    out.append("\r\n", 2);
    for (const auto& f : r.headers)
        detail::append_field(out, f.name, f.value);
    if (policy == content_length_policy::automatic && detail::status_has_body(r.status) &&
        !r.headers.contains("Content-Length") && !r.headers.contains("Transfer-Encoding"))
        detail::append_field(out, "Content-Length", std::to_string(r.body.size()));
    out.append("\r\n", 2);
    return out;
}

/// `serialize_head(r)` followed by `r.body`. For 1xx, 204 and 304 the body is not written
/// (those statuses have none on the wire). The body is written as it is: with a
/// `Transfer-Encoding: chunked` field the caller must have chunked it.
inline std::string serialize(const response& r) {
    std::string out = serialize_head(r);
    if (detail::status_has_body(r.status))
        out.append(r.body);
    return out;
}

namespace detail {

inline constexpr std::string_view redacted = "<redacted>";

// Header fields whose whole value is a secret.
inline constexpr std::string_view secret_fields[] = {"x-oss-security-token", "security-token",
                                                     "proxy-authorization", "cookie"};

// Query parameters whose value is a secret (presigned URLs).
inline constexpr std::string_view secret_query_params[] = {
    "Signature", "x-oss-signature", "security-token", "x-oss-security-token"};

inline bool is_secret_field(std::string_view name) noexcept {
    for (auto f : secret_fields)
        if (iequals(f, name))
            return true;
    return false;
}

inline bool is_secret_query_param(std::string_view name) noexcept {
    for (auto q : secret_query_params)
        if (q == name)
            return true;
    return false;
}

// Printable for a log line: control characters and DEL become \xNN.
inline void append_printable(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            out.append("\\x", 2);
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 15]);
        } else {
            out.push_back(c);
        }
    }
}

// Authorization without its secret part. V4 (`OSS4-HMAC-SHA256 Credential=...,Signature=hex`)
// keeps every item but the Signature value, in any item order; V1 (`OSS AK:signature`) keeps
// `OSS AK:`; any other scheme keeps only the scheme name.
inline std::string redact_authorization(std::string_view v) {
    constexpr std::string_view v4 = "OSS4-HMAC-SHA256 ";
    constexpr std::string_view v1 = "OSS ";
    std::string out;
    if (v.starts_with(v4)) {
        out.append(v4);
        std::string_view rest = v.substr(v4.size());
        bool first = true;
        while (true) {
            const auto comma = rest.find(',');
            std::string_view item = rest.substr(0, comma);
            if (!first)
                out.push_back(',');
            first = false;
            const auto lead = item.find_first_not_of(' ');
            std::string_view key_value = lead == std::string_view::npos ? "" : item.substr(lead);
            constexpr std::string_view sig = "Signature=";
            if (key_value.starts_with(sig)) {
                out.append(item.substr(0, lead));
                out.append(sig);
                out.append(redacted);
            } else {
                out.append(item);
            }
            if (comma == std::string_view::npos)
                break;
            rest.remove_prefix(comma + 1);
        }
        return out;
    }
    if (v.starts_with(v1)) {
        const auto colon = v.rfind(':');
        out.append(colon == std::string_view::npos ? v1 : v.substr(0, colon + 1));
        out.append(redacted);
        return out;
    }
    const auto space = v.find(' ');
    if (space != std::string_view::npos)
        out.append(v.substr(0, space + 1));
    out.append(redacted);
    return out;
}

} // namespace detail

/// A human-readable dump of `r` for logs and debugging, which never shows a secret.
///
/// Lines end with '\n' (not CRLF): the request line (query percent-encoded as on the wire),
/// `Host`, the fields in order, `Content-Length` when the serializer would write it, an empty
/// line and `<N bytes>` in place of the body (the body itself is never shown). Redacted as
/// `<redacted>`: the signature of `Authorization` (V4 keeps `OSS4-HMAC-SHA256 Credential=AK/...`,
/// V1 keeps `OSS AK:`, other schemes keep only the scheme), the whole value of
/// `x-oss-security-token`, `security-token`, `Proxy-Authorization` and `Cookie`, and the values
/// of the query parameters `Signature`, `x-oss-signature`, `security-token` and
/// `x-oss-security-token`. Control characters are shown as `\xNN`. Works on any request, also
/// one that fails `validate_for_wire`.
inline std::string dump(const request& r) {
    std::string out;
    out.append(to_string(r.method));
    out.push_back(' ');
    detail::append_printable(out, r.path);
    char sep = '?';
    for (const auto& q : r.query) {
        out.push_back(sep);
        sep = '&';
        uri::encode_to(out, q.name, false);
        if (detail::is_secret_query_param(q.name)) {
            out.push_back('=');
            out.append(detail::redacted);
        } else if (!q.value.empty()) {
            out.push_back('=');
            uri::encode_to(out, q.value, false);
        }
    }
    out.append(" HTTP/1.1\nHost: ");
    detail::append_printable(out, r.host);
    out.push_back('\n');
    for (const auto& f : r.headers) {
        detail::append_printable(out, f.name);
        out.append(": ", 2);
        if (iequals(f.name, "Authorization"))
            detail::append_printable(out, detail::redact_authorization(f.value));
        else if (detail::is_secret_field(f.name))
            out.append(detail::redacted);
        else
            detail::append_printable(out, f.value);
        out.push_back('\n');
    }
    if (detail::request_has_content_length(r))
        out.append("Content-Length: " + std::to_string(r.content_length()) + "\n");
    out.append("\n<" + std::to_string(r.content_length()) + " bytes>\n");
    return out;
}

} // namespace ossmp::http
