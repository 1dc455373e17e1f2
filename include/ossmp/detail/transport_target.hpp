// ossmp/detail/transport_target.hpp: where a round trip connects (sans-io helpers of
// asio_transport): splitting `request.host` into host and port, and curl-style --connect-to.
#pragma once

#include "ossmp/error.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/transport/asio_transport_options.hpp"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ossmp {

namespace detail {

/// A parsed `host[:port]` (IPv6 literals in brackets; `host` is returned without them).
struct transport_host_port {
    std::string host;
    std::uint16_t port = 0;
};

/// Splits `request.host` ("name", "name:port", "[v6]", "[v6]:port") and applies
/// `default_port` when there is no port. Errors: errc::invalid_endpoint for an empty host,
/// unbalanced brackets, or a port that is not 1..65535.
inline std::error_code parse_host_port(std::string_view text, std::uint16_t default_port,
                                       transport_host_port& out) {
    out = {};
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return errc::invalid_endpoint;
        host = text.substr(1, close - 1);
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                return errc::invalid_endpoint;
            port = rest.substr(1);
            if (port.empty())
                return errc::invalid_endpoint;
        }
    } else {
        auto colon = text.rfind(':');
        if (colon != std::string_view::npos) {
            if (text.find(':') != colon) // bare IPv6 without brackets: ambiguous
                return errc::invalid_endpoint;
            host = text.substr(0, colon);
            port = text.substr(colon + 1);
            if (port.empty())
                return errc::invalid_endpoint;
        } else {
            host = text;
        }
    }
    if (host.empty())
        return errc::invalid_endpoint;
    for (char c : host)
        if (static_cast<unsigned char>(c) <= 0x20 || c == '/' || c == '@' || c == 0x7f)
            return errc::invalid_endpoint;
    std::uint16_t p = default_port;
    if (!port.empty()) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
            return errc::invalid_endpoint;
        p = static_cast<std::uint16_t>(value);
    }
    if (p == 0)
        return errc::invalid_endpoint;
    out.host = http::to_lower(host);
    out.port = p;
    return {};
}

/// Applies the first matching connect-to rule to `target`; returns where to connect.
inline transport_host_port apply_connect_to(const std::vector<connect_to_rule>& rules,
                                            const transport_host_port& target) {
    for (const auto& r : rules) {
        std::string_view rule_host = r.host;
        if (!rule_host.empty() && rule_host.front() == '[' && rule_host.back() == ']')
            rule_host = rule_host.substr(1, rule_host.size() - 2);
        if (!rule_host.empty() && !http::iequals(rule_host, target.host))
            continue;
        if (r.port != 0 && r.port != target.port)
            continue;
        transport_host_port to = target;
        if (!r.address.empty()) {
            std::string_view a = r.address;
            if (a.size() >= 2 && a.front() == '[' && a.back() == ']')
                a = a.substr(1, a.size() - 2);
            to.host = std::string(a);
        }
        if (r.new_port != 0)
            to.port = r.new_port;
        return to;
    }
    return target;
}

} // namespace detail
} // namespace ossmp
