// ossmp/endpoint.hpp: endpoints, regions and addressing styles (oss-reference section 1.1).
//
// An `endpoint` is where requests go (scheme, host, port) plus how a bucket is addressed on it
// (virtual-hosted, path or CNAME style). `endpoint::apply` turns a request's decoded bucket and
// key into the wire `Host` and path. Signing is independent of addressing: the V4 canonical URI
// is always `/bucket/key` (signer.hpp).
#pragma once

#include "ossmp/error.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/uri.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace ossmp {

/// How the bucket is addressed (oss-reference §1.1).
enum class addressing_style {
    virtual_hosted, ///< Host `bucket.endpoint`, path `/key` (the default, what OSS prefers)
    path,           ///< Host `endpoint`, path `/bucket/key`
    cname,          ///< Host `endpoint` (a custom domain bound to one bucket), path `/key`
};

/// What the endpoint's host is.
enum class host_kind {
    name, ///< a DNS name
    ipv4, ///< dotted-quad IPv4 literal
    ipv6, ///< IPv6 literal (written in brackets in URLs and Host)
};

/// The kinds of OSS endpoint a region has (oss-reference §1.1).
enum class endpoint_access {
    public_internet,     ///< `oss-<region>.aliyuncs.com`
    internal,            ///< `oss-<region>-internal.aliyuncs.com` (from inside the region's VPC)
    dual_stack,          ///< `<region>.oss.aliyuncs.com` (IPv4 and IPv6)
    accelerate,          ///< `oss-accelerate.aliyuncs.com` (global, region-independent)
    accelerate_overseas, ///< `oss-accelerate-overseas.aliyuncs.com` (outside mainland China)
};

/// The bare region id used in V4 scopes: strips one leading `oss-` ("oss-cn-hangzhou" ->
/// "cn-hangzhou", as ali-oss does); anything else is returned unchanged. The result views
/// `region`.
inline constexpr std::string_view normalize_region(std::string_view region) noexcept {
    constexpr std::string_view prefix = "oss-";
    return region.substr(0, prefix.size()) == prefix ? region.substr(prefix.size()) : region;
}

namespace detail {

inline constexpr bool is_region_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

inline constexpr bool is_hex_digit(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Dotted-quad IPv4: four decimal parts 0..255 without leading zeros.
inline constexpr bool is_ipv4_literal(std::string_view s) noexcept {
    int parts = 0;
    std::size_t i = 0;
    while (true) {
        std::size_t start = i;
        unsigned v = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3)
            v = v * 10 + static_cast<unsigned>(s[i++] - '0');
        const std::size_t len = i - start;
        if (len == 0 || v > 255 || (len > 1 && s[start] == '0'))
            return false;
        ++parts;
        if (i == s.size())
            return parts == 4;
        if (s[i] != '.' || parts == 4)
            return false;
        ++i;
    }
}

// Colon-separated 16-bit groups of one side of an IPv6 literal; a trailing dotted IPv4 counts
// as two groups when allowed.
inline constexpr bool ipv6_groups(std::string_view s, bool allow_ipv4_tail, int& count) noexcept {
    count = 0;
    if (s.empty())
        return true;
    while (true) {
        const auto colon = s.find(':');
        const std::string_view group = s.substr(0, colon);
        if (colon == std::string_view::npos && allow_ipv4_tail &&
            group.find('.') != std::string_view::npos) {
            if (!is_ipv4_literal(group))
                return false;
            count += 2;
            return true;
        }
        if (group.empty() || group.size() > 4)
            return false;
        for (char c : group)
            if (!is_hex_digit(c))
                return false;
        ++count;
        if (colon == std::string_view::npos)
            return true;
        s.remove_prefix(colon + 1);
    }
}

// An IPv6 literal without brackets and without zone id (RFC 4291 text forms).
inline constexpr bool is_ipv6_literal(std::string_view s) noexcept {
    const auto dbl = s.find("::");
    int head = 0;
    int tail = 0;
    if (dbl == std::string_view::npos)
        return ipv6_groups(s, true, head) && head == 8;
    if (s.find("::", dbl + 1) != std::string_view::npos)
        return false;
    return ipv6_groups(s.substr(0, dbl), false, head) &&
           ipv6_groups(s.substr(dbl + 2), true, tail) && head + tail <= 7;
}

// A DNS host name: dot-separated non-empty labels of [A-Za-z0-9_-], at most 253 characters.
inline constexpr bool is_host_name(std::string_view s) noexcept {
    if (s.empty() || s.size() > 253)
        return false;
    std::size_t label = 0;
    for (char c : s) {
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || ++label > 63)
            return false;
    }
    return label != 0;
}

inline constexpr bool parse_port(std::string_view s, std::uint16_t& out) noexcept {
    if (s.empty() || s.size() > 5)
        return false;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    out = static_cast<std::uint16_t>(v);
    return true;
}

} // namespace detail

/// Where requests go and how buckets are addressed there.
///
/// Fill it with `parse_endpoint`, then set `style`. A value type, immutable in use: `apply` is
/// const and may run concurrently on many requests.
struct endpoint {
    std::string scheme = "https"; ///< "https" or "http" (lower case)
    std::string host;             ///< lower-case DNS name, IPv4 literal, or IPv6 literal (no [])
    std::uint16_t port = 443;     ///< explicit port, or the scheme's default
    host_kind kind = host_kind::name;
    addressing_style style = addressing_style::virtual_hosted; ///< the requested style

    /// True for https.
    bool secure() const noexcept { return scheme == "https"; }
    /// True when the host is an IPv4 or IPv6 literal.
    bool is_ip() const noexcept { return kind != host_kind::name; }
    /// 443 for https, 80 for http.
    std::uint16_t default_port() const noexcept { return secure() ? 443 : 80; }
    /// The style `apply` really uses: an IP host is always path-style (a bucket cannot be a
    /// sub-domain of an address; GO2 `resolveUrlStyle` does the same), else `style`.
    addressing_style effective_style() const noexcept {
        return is_ip() ? addressing_style::path : style;
    }

    /// `host[:port]` as written in a `Host` header and URLs: an IPv6 host in brackets, the port
    /// only when it is not the scheme's default. "oss-cn-hangzhou.aliyuncs.com",
    /// "127.0.0.1:9000", "[::1]:9000".
    std::string authority() const {
        std::string out;
        append_authority(out);
        return out;
    }

    /// Sets `req.host` and the wire `req.path` from `req.bucket` and `req.key`
    /// (oss-reference §1.1), reusing the strings' storage:
    /// - no bucket (service level): host = authority, path `/`;
    /// - virtual-hosted: host `bucket.authority`, path `/escaped-key` (or `/`);
    /// - path style: host = authority, path `/bucket/escaped-key` (or `/bucket/`);
    /// - CNAME: host = authority, path `/escaped-key` (or `/`).
    /// Keys are escaped with `uri::encode_path` (every byte except `A-Za-z0-9-_.~/` becomes
    /// `%XX`). Does not validate the bucket or key (request builders do) and does not touch the
    /// query or headers.
    void apply(http::request& req) const {
        req.host.clear();
        req.path.clear();
        const addressing_style s = effective_style();
        if (!req.bucket.empty() && s == addressing_style::virtual_hosted) {
            req.host.append(req.bucket);
            req.host.push_back('.');
        }
        append_authority(req.host);
        req.path.push_back('/');
        if (!req.bucket.empty() && s == addressing_style::path) {
            uri::encode_to(req.path, req.bucket, false);
            req.path.push_back('/');
        }
        if (!req.bucket.empty())
            uri::encode_to(req.path, req.key, true);
    }

    /// The full URL of a request `apply` has addressed: `scheme://host/path[?query]`, the query
    /// in ossmp's wire form (`uri::encode_query`). For logs, diagnostics and presigned URLs.
    std::string url(const http::request& req) const {
        std::string out = scheme;
        out += "://";
        out += req.host;
        out += req.path;
        if (!req.query.empty()) {
            out.push_back('?');
            out += uri::encode_query(req.query);
        }
        return out;
    }

private:
    void append_authority(std::string& out) const {
        if (kind == host_kind::ipv6) {
            out.push_back('[');
            out.append(host);
            out.push_back(']');
        } else {
            out.append(host);
        }
        if (port != default_port()) {
            out.push_back(':');
            out.append(std::to_string(port));
        }
    }
};

/// Parses an endpoint URL into `out.scheme`, `out.host`, `out.port` and `out.kind` (leaving
/// `out.style` as it is):
/// - `https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000`, `http://[::1]:9000/`;
/// - a bare host (`oss-cn-hangzhou.aliyuncs.com`, `localhost:9000`) means https;
/// - the scheme is http or https (any case); the host name is lower-cased;
/// - one trailing `/` is allowed; any other path, a query, a fragment or user info is not.
/// Returns `errc::invalid_endpoint` for anything else (`out` is then unchanged): empty host,
/// bad port (0, > 65535, not digits), an all-numeric host that is not a valid IPv4 address, a
/// bad IPv6 literal (zone ids are not supported), characters outside `[A-Za-z0-9._-]`.
inline std::error_code parse_endpoint(std::string_view url, endpoint& out) {
    const std::error_code invalid = errc::invalid_endpoint;
    std::string scheme = "https";
    if (const auto sep = url.find("://"); sep != std::string_view::npos) {
        const std::string_view s = url.substr(0, sep);
        if (http::iequals(s, "https"))
            scheme = "https";
        else if (http::iequals(s, "http"))
            scheme = "http";
        else
            return invalid;
        url.remove_prefix(sep + 3);
    }
    const auto end = url.find_first_of("/?#");
    if (end != std::string_view::npos && url.substr(end) != "/")
        return invalid;
    const std::string_view authority = url.substr(0, end);
    if (authority.find('@') != std::string_view::npos)
        return invalid;

    std::string_view host;
    std::string_view port_text;
    bool has_port = false;
    host_kind kind = host_kind::name;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return invalid;
        host = authority.substr(1, close - 1);
        const std::string_view rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                return invalid;
            has_port = true;
            port_text = rest.substr(1);
        }
        if (!detail::is_ipv6_literal(host))
            return invalid;
        kind = host_kind::ipv6;
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port_text = authority.substr(colon + 1);
        }
        if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
            if (!detail::is_ipv4_literal(host))
                return invalid;
            kind = host_kind::ipv4;
        } else if (!detail::is_host_name(host)) {
            return invalid;
        }
    }
    std::uint16_t port = scheme == "https" ? 443 : 80;
    if (has_port && !detail::parse_port(port_text, port))
        return invalid;

    out.scheme = std::move(scheme);
    out.host = http::to_lower(host);
    out.port = port;
    out.kind = kind;
    return {};
}

/// The OSS endpoint host of a region, e.g. `endpoint_for_region("cn-hangzhou")` ->
/// "oss-cn-hangzhou.aliyuncs.com", `(..., internal)` -> "oss-cn-hangzhou-internal.aliyuncs.com",
/// `(..., dual_stack)` -> "cn-hangzhou.oss.aliyuncs.com". The region may carry the `oss-`
/// prefix (`normalize_region`). The accelerate kinds ignore the region. Returns "" when the
/// (normalized) region is empty or has characters outside `[a-z0-9-]` (except for the
/// accelerate kinds).
inline std::string endpoint_for_region(std::string_view region,
                                       endpoint_access access = endpoint_access::public_internet) {
    switch (access) {
    case endpoint_access::accelerate:
        return "oss-accelerate.aliyuncs.com";
    case endpoint_access::accelerate_overseas:
        return "oss-accelerate-overseas.aliyuncs.com";
    default:
        break;
    }
    region = normalize_region(region);
    if (region.empty())
        return {};
    for (char c : region)
        if (!detail::is_region_char(c))
            return {};
    std::string out;
    switch (access) {
    case endpoint_access::internal:
        out.append("oss-").append(region).append("-internal.aliyuncs.com");
        break;
    case endpoint_access::dual_stack:
        out.append(region).append(".oss.aliyuncs.com");
        break;
    default:
        out.append("oss-").append(region).append(".aliyuncs.com");
        break;
    }
    return out;
}

/// The inverse of `endpoint_for_region` for the three regional forms: the region id of an OSS
/// endpoint host ("oss-cn-hangzhou.aliyuncs.com", "oss-cn-hangzhou-internal.aliyuncs.com",
/// "cn-hangzhou.oss.aliyuncs.com" -> "cn-hangzhou"; any case). Returns "" for the accelerate
/// endpoints and for any other host (a CNAME, an IP, a local emulator): the caller must then
/// be told the region explicitly.
inline std::string region_from_endpoint_host(std::string_view host) {
    const std::string lower = http::to_lower(host);
    std::string_view h = lower;
    constexpr std::string_view suffix = ".aliyuncs.com";
    if (h.size() <= suffix.size() || h.substr(h.size() - suffix.size()) != suffix)
        return {};
    h.remove_suffix(suffix.size());
    std::string_view region;
    constexpr std::string_view dual = ".oss";
    constexpr std::string_view internal = "-internal";
    if (h.size() > dual.size() && h.substr(h.size() - dual.size()) == dual) {
        region = h.substr(0, h.size() - dual.size());
    } else if (h.substr(0, 4) == "oss-") {
        region = h.substr(4);
        if (region.size() > internal.size() &&
            region.substr(region.size() - internal.size()) == internal)
            region.remove_suffix(internal.size());
    } else {
        return {};
    }
    if (region.empty() || region == "accelerate" || region == "accelerate-overseas")
        return {};
    for (char c : region)
        if (!detail::is_region_char(c))
            return {};
    return std::string(region);
}

} // namespace ossmp
