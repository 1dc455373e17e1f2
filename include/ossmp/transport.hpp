// ossmp/transport.hpp: the transport concept, the seam between operations and the network.
//
// A transport moves one signed `http::request` to the server and brings back one
// `http::response`. A non-2xx status is NOT a transport error: `ec` is only for I/O, TLS,
// timeouts, cancellation and protocol violations (malformed or truncated HTTP).
#pragma once

#include "ossmp/detail/asio.hpp"
#include "ossmp/http/message.hpp"

#include <concepts>
#include <cstddef>
#include <functional>
#include <string_view>
#include <system_error>

namespace ossmp {

/// Per-round-trip options.
struct round_trip_options {
    /// When set, the body bytes of a 2xx response are handed to this callable as they arrive
    /// (de-chunked) instead of being stored in `response::body` (GetObject streams with it).
    /// Setting `ec` aborts the round trip with that error (the connection is closed).
    /// Error (non-2xx) response bodies are always stored, so they can be parsed.
    std::function<void(std::string_view bytes, std::error_code& ec)> body_sink;
    /// Cap on a stored response body; 0 means the transport's default. Larger ->
    /// errc::body_too_large.
    std::size_t max_body_size = 0;
    /// When set, called once the status line and header fields of the final response are
    /// parsed (`head.body` is empty; interim 1xx responses are skipped), for any status, before
    /// any byte of the body reaches `body_sink`. Returning an error aborts the round trip with
    /// that error (the connection is closed). It runs where `body_sink` runs (never
    /// concurrently with it). GetObject checks the announced sizes with it.
    std::function<std::error_code(const http::response& head)> on_header;
};

namespace detail {

/// The handler shape a transport must accept (concept checking only).
struct round_trip_handler_archetype {
    void operator()(std::error_code, http::response) {}
};

} // namespace detail

/// A type that can carry requests to an OSS endpoint.
///
/// Requirements, for `T& t`:
///  - `T::executor_type` and `t.get_executor()`;
///  - `t.async_round_trip(http::request req, const round_trip_options& opt, Token&& token)`,
///    token-generic, completing with `void(std::error_code, http::response)`.
/// Semantics every model must keep:
///  - Several round trips may be outstanding at once; the transport owns its connections.
///  - The request's body may be a non-owning view: the caller keeps the viewed bytes alive until
///    the completion handler runs. `opt` is copied if needed; the request is moved in.
///  - Per-operation cancellation: terminal cancellation through the handler's associated
///    cancellation slot stops that round trip (its connection is closed, never reused) and
///    completes with `asio::error::operation_aborted`.
///  - The handler is invoked exactly once, through the handler's associated executor.
template <class T>
concept transport = requires(T& t, http::request req, const round_trip_options& opt,
                             detail::round_trip_handler_archetype handler) {
    typename T::executor_type;
    { t.get_executor() } -> std::convertible_to<typename T::executor_type>;
    t.async_round_trip(std::move(req), opt, std::move(handler));
};

/// Readable diagnostics for a type that is not a transport: `static_assert(check_transport<T>())`.
template <class T>
constexpr bool check_transport() {
    static_assert(
        requires { typename T::executor_type; },
        "ossmp transport: the type needs a nested executor_type");
    static_assert(
        requires(T & t) { t.get_executor(); }, "ossmp transport: the type needs get_executor()");
    static_assert(
        requires(T & t, http::request req, const round_trip_options& opt,
                 detail::round_trip_handler_archetype h) {
            t.async_round_trip(std::move(req), opt, std::move(h));
        },
        "ossmp transport: the type needs async_round_trip(http::request, const "
        "round_trip_options&, Token) completing with void(std::error_code, http::response)");
    return transport<T>;
}

} // namespace ossmp
