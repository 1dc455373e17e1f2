// ossmp/transport/asio_transport.hpp: HTTP/1.1 over TCP or TLS on Asio, with a keep-alive
// connection pool. The shipped model of the `ossmp::transport` concept.
#pragma once

#include "ossmp/detail/asio.hpp"
#include "ossmp/detail/transport_connection.hpp"
#include "ossmp/detail/transport_target.hpp"
#include "ossmp/error.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/http/serializer.hpp"
#include "ossmp/transport.hpp"
#include "ossmp/transport/asio_transport_options.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace ossmp {

namespace detail {

/// The heap part of one round trip (stable address: the parser's sink points into it).
template <class Executor>
struct transport_round_trip_state {
    using connection_type = transport_connection<Executor>;
    using timer_type = typename connection_type::timer_type;

    transport_round_trip_state(const Executor& ex, http::request r, const round_trip_options& o)
        : request(std::move(r)), options(o), waiter(ex) {}

    http::request request;
    round_trip_options options;
    std::string head;
    transport_host_port target;  ///< from request.host (+ default port)
    transport_host_port connect; ///< after connect-to rules
    std::string key;             ///< pool key: scheme, host, port
    std::shared_ptr<connection_type> connection;
    transport_waiter<Executor> waiter;
    typename connection_type::results_type endpoints;
    transport_response_reader reader;
    bool reused = false;  ///< the connection came from the pool
    bool retried = false; ///< the one retry on a fresh connection was used
    bool waiting = false;
    std::error_code error; ///< kept across the post of an immediate failure
};

/// The composed operation of `basic_asio_transport::async_round_trip` (stackless coroutine).
template <class Executor>
class transport_round_trip_op : asio::coroutine {
public:
    using pool_type = transport_pool<Executor>;
    using state_type = transport_round_trip_state<Executor>;

    transport_round_trip_op(std::shared_ptr<pool_type> pool, std::unique_ptr<state_type> state)
        : pool_(std::move(pool)), st_(std::move(state)) {}

    template <class Self>
    void operator()(Self& self, std::error_code ec,
                    typename state_type::connection_type::results_type results) {
        st_->endpoints = std::move(results);
        (*this)(self, ec, std::size_t{0});
    }

    template <class Self>
    void operator()(Self& self, std::error_code ec, const asio::ip::tcp::endpoint&) {
        (*this)(self, ec, std::size_t{0});
    }

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
        auto& st = *st_;
        ASIO_CORO_REENTER(*this) {
            st.error = prepare();
            if (!st.error)
                st.head = http::serialize_head(st.request, st.error);
            if (st.error) { // never complete inside the initiating call
                ASIO_CORO_YIELD asio::post(std::move(self));
                return fail(self, st.error);
            }

            // Acquire a connection: an idle pooled one, a new slot, or wait for a release.
            for (;;) {
                switch (pool_->acquire(st.key, st.connection, &st.waiter)) {
                case transport_acquire::reused:
                    st.reused = true;
                    break;
                case transport_acquire::open:
                    st.connection = pool_->make_connection(st.key);
                    break;
                case transport_acquire::wait:
                    st.waiting = true;
                    break;
                }
                if (!st.waiting)
                    break;
                ASIO_CORO_YIELD st.waiter.timer.async_wait(std::move(self));
                st.waiting = false;
                if (pool_->finish_wait(st.key, &st.waiter, cancelled(self)))
                    continue; // woken: try again
                return fail(self, asio::error::operation_aborted);
            }

            for (;;) {
                if (!st.reused) {
                    // Connect: resolve (unless an IP literal), TCP connect, TLS handshake.
                    st.connection->arm(pool_->options().connect_timeout);
                    if (!st.connection->endpoints_from_literal(st.connect, st.endpoints)) {
                        // Asio 1.22 resolvers ignore cancellation slots: cancel by hand.
                        if (auto slot = self.get_cancellation_state().slot(); slot.is_connected())
                            slot.template emplace<resolve_canceller>(st.connection.get());
                        ASIO_CORO_YIELD st.connection->resolver.async_resolve(
                            st.connect.host, std::to_string(st.connect.port), std::move(self));
                        if ((ec = check(self, ec)))
                            return fail(self, ec);
                    }
                    ASIO_CORO_YIELD asio::async_connect(st.connection->socket, st.endpoints,
                                                        std::move(self));
                    if ((ec = check(self, ec)))
                        return fail(self, ec);
                    st.connection->socket.set_option(asio::ip::tcp::no_delay(true), ec);
                    if (pool_->options().tls) {
                        ec = st.connection->start_tls(pool_->ssl_context(), st.target.host,
                                                      pool_->options().insecure_skip_verify);
                        if (ec)
                            return fail(self, ec);
                        ASIO_CORO_YIELD st.connection->tls->async_handshake(
                            asio::ssl::stream_base::client, std::move(self));
                        if ((ec = check(self, ec)))
                            return fail(self, ec);
                    }
                }

                // Write head + body in one gathered write; the body is never copied.
                st.connection->arm(pool_->options().stall_timeout, true);
                ASIO_CORO_YIELD {
                    std::array<asio::const_buffer, 2> buffers{
                        asio::buffer(st.head),
                        asio::buffer(st.request.body().data(), st.request.body().size())};
                    auto* c = st.connection.get();
                    auto condition = [c](const std::error_code& e, std::size_t) -> std::size_t {
                        c->progress();
                        return e ? 0 : transport_max_write_size;
                    };
                    if (st.connection->tls)
                        asio::async_write(*st.connection->tls, buffers, condition, std::move(self));
                    else
                        asio::async_write(st.connection->socket, buffers, condition,
                                          std::move(self));
                }
                if (ec && should_retry(self, ec))
                    continue;
                if ((ec = check(self, ec)))
                    return fail(self, ec);

                // Read until the parser has a complete response.
                st.reader.start(st.request.method == http::verb::head, &st.options,
                                pool_->options().max_body_size);
                while (!st.reader.done()) {
                    ASIO_CORO_YIELD {
                        auto buffer = asio::buffer(st.connection->read_buffer);
                        if (st.connection->tls)
                            st.connection->tls->async_read_some(buffer, std::move(self));
                        else
                            st.connection->socket.async_read_some(buffer, std::move(self));
                    }
                    if (n > 0) {
                        st.connection->progress();
                        if (!cancelled(self) && !st.connection->timed_out()) {
                            auto fed = st.reader.feed(
                                std::string_view(st.connection->read_buffer.data(), n));
                            if (fed)
                                return fail(self, fed);
                        }
                    }
                    if (ec && is_eof(ec) && !cancelled(self) && !st.connection->timed_out()) {
                        if (should_retry(self, ec))
                            break;
                        ec = st.reader.finish_eof();
                        if (ec)
                            return fail(self, ec);
                        st.connection->keep_alive = false;
                        break;
                    }
                    if ((ec = check(self, ec)))
                        return fail(self, ec);
                }
                if (!st.reader.done())
                    continue; // retry on a fresh connection
                break;
            }

            st.connection->disarm();
            if (!st.reader.keep_alive() ||
                http::iequals(st.request.headers.get("Connection"), "close"))
                st.connection->keep_alive = false;
            pool_->release(st.key, std::move(st.connection));
            self.complete(std::error_code{}, st.reader.take_response());
        }
    }

private:
    /// Installed in the cancellation slot while resolving (cleared on the next resumption).
    struct resolve_canceller {
        explicit resolve_canceller(typename state_type::connection_type* c) : connection(c) {}
        typename state_type::connection_type* connection;
        void operator()(asio::cancellation_type type) {
            if ((type & asio::cancellation_type::terminal) != asio::cancellation_type::none)
                connection->resolver.cancel();
        }
    };

    template <class Self>
    static bool cancelled(Self& self) {
        return (self.get_cancellation_state().cancelled() & asio::cancellation_type::terminal) !=
               asio::cancellation_type::none;
    }

    static bool is_eof(const std::error_code& ec) {
        return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    }

    /// Fills target/connect/key from the request and the options.
    std::error_code prepare() {
        auto& st = *st_;
        const auto& o = pool_->options();
        std::uint16_t default_port = o.default_port != 0 ? o.default_port : (o.tls ? 443 : 80);
        if (auto ec = parse_host_port(st.request.host, default_port, st.target))
            return ec;
        st.connect = apply_connect_to(o.connect_to, st.target);
        st.key = (o.tls ? "https://" : "http://") + st.target.host + ":" +
                 std::to_string(st.target.port);
        return {};
    }

    /// Maps the outcome of a step: cancellation and timeouts win over the raw error.
    template <class Self>
    std::error_code check(Self& self, std::error_code ec) {
        if (cancelled(self))
            return asio::error::operation_aborted;
        if (st_->connection && st_->connection->timed_out())
            return errc::timeout;
        return ec;
    }

    /// A reused connection that fails before any response byte arrived is retried once on a
    /// fresh connection (the server may have closed it while it was idle).
    template <class Self>
    bool should_retry(Self& self, const std::error_code& ec) {
        auto& st = *st_;
        if (!st.reused || st.retried || cancelled(self) || st.connection->timed_out() ||
            st.reader.received_any())
            return false;
        if (!(is_eof(ec) || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
              ec == asio::error::connection_aborted))
            return false;
        st.retried = true;
        st.reused = false;
        st.connection = pool_->replace_connection(st.key, std::move(st.connection));
        return true;
    }

    template <class Self>
    void fail(Self& self, std::error_code ec) {
        auto& st = *st_;
        if (st.connection) {
            st.connection->keep_alive = false;
            pool_->release(st.key, std::move(st.connection));
        }
        self.complete(ec, http::response{});
    }

    std::shared_ptr<pool_type> pool_;
    std::unique_ptr<state_type> st_;
};

} // namespace detail

/// HTTP/1.1 client transport over TCP or TLS with a keep-alive connection pool; models
/// `ossmp::transport`.
///
/// **Where it connects.** The scheme is fixed per transport (`asio_transport_options::tls`);
/// host and port come from each request's `host` ("name[:port]", the Host header value, so
/// virtual-hosted buckets work), the port defaulting to `default_port` (80/443). A matching
/// `connect_to` rule changes only the address connected to; Host, SNI and the certificate
/// check keep the request's host name. Names are resolved with Asio's resolver; IP literals
/// are used directly.
///
/// **TLS.** Certificates are verified against the system trust store (plus `ca_file`), with
/// host name verification (RFC 6125 via `asio::ssl::host_name_verification`) and SNI;
/// `insecure_skip_verify` turns both checks off. TLS 1.2 is the minimum version.
///
/// **Pool.** Connections are kept per (scheme, host, port), at most `max_connections_per_host`
/// of them; a connection goes back to the pool only after a complete response that allows
/// keep-alive. Idle connections older than `idle_timeout` are closed when the pool is next used
/// (no timer is kept pending, so `io_context::run()` returns once the last round trip
/// completes). A reused connection that fails (EOF, reset) before any response byte arrives is
/// retried once on a fresh connection: the request is then sent twice if the server had in fact
/// processed it, which is safe for OSS's idempotent calls (UploadPart, Complete with the same
/// part list, GET/HEAD/DELETE) but worth knowing for others.
///
/// **Timeouts.** `connect_timeout` bounds resolve + connect + handshake; `stall_timeout` fails a
/// round trip when no byte moves in either direction for that long. Both -> `errc::timeout`.
///
/// **Cancellation.** Terminal cancellation (the handler's associated cancellation slot) works in
/// every phase: waiting for a pool slot, resolving, connecting, the TLS handshake, writing and
/// reading. The connection is closed, never pooled, and the handler gets
/// `asio::error::operation_aborted`.
///
/// **Not done.** `Expect: 100-continue` is not waited for (the body follows the head at once;
/// an interim 100 response is skipped). No HTTP pipelining; one request per connection at a time.
///
/// **Threading.** Round trips may be started from any thread (the pool is guarded by a mutex).
/// A round trip's steps run on its handler's associated executor (default: the transport's),
/// the timeout watchdog on the transport's executor; these must not run concurrently on
/// different threads: run the io_context on one thread, or give the transport a strand and
/// bind handlers to it.
///
/// **Lifetime.** Non-copyable, non-movable. The transport must outlive its round trips; on
/// destruction it closes its idle connections.
template <class Executor = asio::any_io_executor>
class basic_asio_transport {
public:
    using executor_type = Executor;

    /// Creates a transport that owns its TLS context, built from `options` (system trust
    /// store, `ca_file`, `insecure_skip_verify`). Throws `std::system_error` when `ca_file`
    /// cannot be loaded.
    explicit basic_asio_transport(const executor_type& ex, asio_transport_options options = {})
        : pool_(std::make_shared<detail::transport_pool<Executor>>(ex, std::move(options))) {}

    /// Same, from an execution context (e.g. `asio::io_context`).
    template <class ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, asio::execution_context&>
    explicit basic_asio_transport(ExecutionContext& ctx, asio_transport_options options = {})
        : basic_asio_transport(executor_type(ctx.get_executor()), std::move(options)) {}

    /// Creates a transport that uses the caller's TLS context `ctx` (which must outlive the
    /// transport and its connections); `options.ca_file` is ignored, host name verification and
    /// SNI are still applied unless `options.insecure_skip_verify`.
    basic_asio_transport(const executor_type& ex, asio::ssl::context& ctx,
                         asio_transport_options options = {})
        : pool_(std::make_shared<detail::transport_pool<Executor>>(ex, ctx, std::move(options))) {}

    basic_asio_transport(const basic_asio_transport&) = delete;
    basic_asio_transport& operator=(const basic_asio_transport&) = delete;

    /// Closes the idle connections. Round trips still running keep what they use alive.
    ~basic_asio_transport() { pool_->close_idle(); }

    executor_type get_executor() const noexcept { return pool_->executor(); }

    const asio_transport_options& options() const noexcept { return pool_->options(); }

    /// Sends `request` and reads one response.
    ///
    /// Completion signature: `void(std::error_code, http::response)`. `ec` is set for I/O and
    /// TLS errors, `errc::timeout`, `errc::unexpected_eof` (connection closed mid-response),
    /// HTTP protocol violations (`errc::bad_status_line`, ...), `errc::body_too_large`,
    /// `errc::invalid_endpoint` / `errc::invalid_header` / `errc::invalid_argument` for a request
    /// that cannot be sent, and `asio::error::operation_aborted` on cancellation. A non-2xx
    /// status is not an error. For a 2xx response with `opt.body_sink` set, the body goes to the
    /// sink and `response.body` stays empty.
    ///
    /// Lifetimes: the request is moved in; a body view must stay valid until completion. `opt`
    /// is copied. The transport must outlive the operation.
    ///
    /// Cancellation: terminal cancellation through the handler's associated cancellation slot
    /// stops the round trip, closes its connection (never returned to the pool) and completes
    /// with `asio::error::operation_aborted`.
    template <asio::completion_token_for<void(std::error_code, http::response)> Token>
    auto async_round_trip(http::request request, const round_trip_options& opt, Token&& token) {
        auto state = std::make_unique<detail::transport_round_trip_state<Executor>>(
            pool_->executor(), std::move(request), opt);
        return asio::async_compose<Token, void(std::error_code, http::response)>(
            detail::transport_round_trip_op<Executor>(pool_, std::move(state)), token,
            pool_->executor());
    }

    /// `async_round_trip` with default `round_trip_options`.
    template <asio::completion_token_for<void(std::error_code, http::response)> Token>
    auto async_round_trip(http::request request, Token&& token) {
        return async_round_trip(std::move(request), round_trip_options{},
                                std::forward<Token>(token));
    }

    /// Number of connections opened so far (including retries); for tests and statistics.
    std::size_t connections_opened() const { return pool_->connections_opened(); }
    /// Number of idle pooled connections right now.
    std::size_t idle_connections() const { return pool_->idle_connections(); }
    /// Closes every idle pooled connection now.
    void close_idle() { pool_->close_idle(); }

private:
    std::shared_ptr<detail::transport_pool<Executor>> pool_;
};

/// The transport on `asio::any_io_executor`.
using asio_transport = basic_asio_transport<>;

static_assert(check_transport<asio_transport>());

} // namespace ossmp
