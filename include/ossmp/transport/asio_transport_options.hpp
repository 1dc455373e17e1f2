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
    /// Deadline for DNS resolution + TCP connect + TLS handshake -> errc::timeout; 0 = none.
    std::chrono::milliseconds connect_timeout{10000};
    /// A pooled connection idle for longer than this is closed instead of reused.
    std::chrono::milliseconds idle_timeout{30000};
    /// A round trip that makes no progress (no byte written or read) for this long fails
    /// with errc::timeout. Any byte restarts it, so it cannot catch a peer that trickles
    /// (see `low_speed_limit`) or a body that never ends (see `request_timeout`). 0 = none.
    std::chrono::milliseconds stall_timeout{30000};
    /// Deadline for the whole round trip -> errc::timeout, counted from the moment the round
    /// trip holds a connection (a pooled one, or a slot to open one) to the last byte of the
    /// response: connecting, the TLS handshake, writing the request, the server's processing
    /// and reading the response, including the one retry on a fresh connection. The wait for a
    /// free slot under `max_connections_per_host` is NOT counted: that wait is the caller's own
    /// queueing (an uploader with more parts in flight than connections), and every round trip
    /// it waits for is bounded by these same limits; bound a whole operation, wait included,
    /// with terminal cancellation (e.g. a timer emitting on the handler's cancellation slot).
    /// 0 (the default) means no limit: a library cannot know how long a legitimate round trip
    /// takes (a 5 GiB UploadPart at 1 MB/s needs 90 minutes); programs set their own.
    std::chrono::milliseconds request_timeout{0};
    /// Low-speed rule (curl's --speed-limit / --speed-time) -> errc::transfer_too_slow: a round
    /// trip fails when, over a window of `low_speed_time`, fewer than `low_speed_limit` bytes
    /// per second moved in either direction (request bytes written plus response bytes read;
    /// with TLS, the bytes inside TLS). The clock starts when the request starts being written
    /// (connecting is bounded by `connect_timeout`) and the rate is checked every
    /// `low_speed_time / 4` over the last `low_speed_time` or a little more, so a transfer
    /// fails at most 1.25 x `low_speed_time` after it fell under the limit, and a round trip
    /// is never judged before it has run for `low_speed_time`: a server that is silent
    /// for a shorter time while it processes a request is fine (and silences of any length
    /// are bounded by `stall_timeout`). Either value 0 turns the rule off.
    ///
    /// Defaults: 1 byte/s over 60 s. That floor is far below any working link (a 56 kbit/s
    /// modem moves 7,000 bytes/s), so it never fails a legitimate transfer, and it catches what
    /// `stall_timeout` cannot: a peer that keeps a round trip alive by sending a byte every
    /// few seconds (one byte every 10 s fails after 60-75 s). Programs that know their
    /// network raise it (e.g. 1024 bytes/s over 30 s).
    std::uint64_t low_speed_limit = 1;
    /// The window of the low-speed rule (see `low_speed_limit`); 0 turns the rule off.
    std::chrono::milliseconds low_speed_time{60000};
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
