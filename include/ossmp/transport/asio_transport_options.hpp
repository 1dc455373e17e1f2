// ossmp/transport/asio_transport_options.hpp: the settings of `ossmp::asio_transport`
// (in their own header so that programs can fill them without including Asio).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ossmp {

/// One `--connect-to` rule (curl semantics): a round trip whose target is `host:port` connects
/// to `address:new_port` instead. The Host header, TLS SNI and certificate host name check keep
/// using the original host, so virtual-hosted names can be served from loopback.
///
/// `host` empty matches any host (case-insensitive otherwise); `port` 0 matches any port;
/// `address` empty keeps the host; `new_port` 0 keeps the port. The first matching rule wins.
struct connect_to_rule {
    std::string host;           ///< host name to match ("" = any)
    std::uint16_t port = 0;     ///< port to match (0 = any)
    std::string address;        ///< host name or IP address to connect to ("" = unchanged)
    std::uint16_t new_port = 0; ///< port to connect to (0 = unchanged)
};

/// Settings of an `asio_transport`.
struct asio_transport_options {
    /// Scheme of every connection: `false` = plain HTTP, `true` = HTTPS (TLS).
    bool tls = false;
    /// Port used when `request.host` names none; 0 means 80 (HTTP) or 443 (HTTPS).
    std::uint16_t default_port = 0;
    /// At most this many connections (in use, idle or connecting) per (scheme, host, port);
    /// further round trips wait for one to be released. 0 is treated as 1.
    std::size_t max_connections_per_host = 8;
    /// Deadline for DNS resolution + TCP connect + TLS handshake -> errc::timeout.
    std::chrono::milliseconds connect_timeout{10000};
    /// A pooled connection idle for longer than this is closed instead of reused.
    std::chrono::milliseconds idle_timeout{30000};
    /// A round trip that makes no progress (no byte written or read) for this long fails
    /// with errc::timeout.
    std::chrono::milliseconds stall_timeout{30000};
    /// Default cap on a stored response body (`round_trip_options::max_body_size` overrides it
    /// per round trip) -> errc::body_too_large.
    std::size_t max_body_size = 64 * 1024 * 1024;
    /// Disables certificate and host name verification. Never the default; for tests only.
    bool insecure_skip_verify = false;
    /// Extra trusted CA certificates (PEM file), in addition to the system trust store.
    std::string ca_file;
    /// curl-style `--connect-to` overrides, see `connect_to_rule`.
    std::vector<connect_to_rule> connect_to;
};

} // namespace ossmp
