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
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace ossmp {

namespace detail {

/// The heap part of one round trip (stable address: the parser's sink points into it).
///
/// Cancellation. The round trip's steps run on its connection's strand, not on the handler's
/// executor, so the caller's cancellation signal (emitted on the caller's side) must never
/// reach the slots of the I/O operations directly. The op therefore replaces its cancellation
/// state with a filter (`transport_cancel_bridge`) that only calls `request_cancel`, and binds
/// every I/O step to its own signal `inner`, which is emitted only on the connection's strand:
/// `request_cancel` sets `cancel_requested`, cancels a pool wait through the pool's mutex,
/// and posts the emission to the strand the op currently runs on (`current`).
template <class Executor>
struct transport_round_trip_state
    : std::enable_shared_from_this<transport_round_trip_state<Executor>> {
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
    std::span<const std::byte> chunk; ///< the body source's current chunk
    std::uint64_t streamed = 0;       ///< body bytes from the source written so far
    /// The round trip's deadline (`request_timeout`, counted once it holds a connection).
    typename connection_type::ticks request_deadline = connection_type::no_deadline;
    bool reused = false;  ///< the connection came from the pool
    bool retried = false; ///< the one retry on a fresh connection was used
    transport_acquire acquired = transport_acquire::full;
    bool on_strand = false; ///< the last step was bound to the connection's executor
    std::error_code error;  ///< the result, kept across the hop to the handler's executor

    asio::cancellation_signal inner; ///< emitted only on `current`
    std::atomic<bool> cancel_requested{false};
    std::mutex cancel_mutex;         ///< guards `current` and `waiting`
    std::optional<Executor> current; ///< the connection's executor, while on one
    bool waiting = false;            ///< in a pool wait

    /// The caller asked for terminal cancellation (any thread).
    void request_cancel(transport_pool<Executor>& pool) {
        cancel_requested.store(true);
        std::lock_guard lock(cancel_mutex);
        if (waiting)
            pool.cancel_wait(&waiter);
        if (current)
            emit_on(*current);
    }

    /// Sets (or clears) the executor the op runs on; called by the op.
    void set_current(std::optional<Executor> ex) {
        std::lock_guard lock(cancel_mutex);
        current = std::move(ex);
    }

private:
    /// Emits `inner` on `ex` if that is still where the op runs, else follows it (the op moved
    /// to a fresh connection on a retry) or drops the emission (the op has finished).
    void emit_on(const Executor& ex) {
        asio::post(ex, [self = this->shared_from_this(), ex] {
            {
                std::lock_guard lock(self->cancel_mutex);
                if (!self->current)
                    return;
                if (!(*self->current == ex)) {
                    self->emit_on(*self->current);
                    return;
                }
            }
            self->inner.emit(asio::cancellation_type::terminal);
        });
    }
};

/// The in-filter installed in the caller's cancellation slot (see transport_round_trip_state):
/// passes terminal cancellation to `request_cancel` and nothing to the composed op's own
/// child slot.
template <class Executor>
struct transport_cancel_bridge {
    std::weak_ptr<transport_round_trip_state<Executor>> state;
    std::weak_ptr<transport_pool<Executor>> pool;

    asio::cancellation_type_t operator()(asio::cancellation_type_t type) const {
        if ((type & asio::cancellation_type::terminal) != asio::cancellation_type::none) {
            auto s = state.lock();
            auto p = pool.lock();
            if (s && p)
                s->request_cancel(*p);
        }
        return asio::cancellation_type::none;
    }
};

/// How the round trip's engine (`transport_round_trip_op`) reports that it ended: the one
/// completion handler type the engine is ever instantiated with, so that its code (connection
/// pool, TLS, HTTP, timers) is compiled once per executor type, not once per caller's handler
/// type (each operation of the library passes a handler of its own type; instantiating the
/// whole round trip for each cost about 15 s of g++ per translation unit and operation).
/// The caller's handler waits in a `transport_round_trip_front`, behind `done`.
struct transport_engine_completion {
    struct base {
        virtual ~base() = default;
        /// The engine ended (its result is in the state); called once, on the connection's
        /// executor, after the engine released everything of the transport it held.
        virtual void done() = 0;
    };
    std::unique_ptr<base> impl;

    void operator()() {
        auto p = std::move(impl); // destroyed here, after the front was moved out by `done`
        p->done();
    }
};

/// The engine of `basic_asio_transport::async_round_trip` (stackless coroutine), run with
/// `async_compose` and the completion `transport_engine_completion` (see there); its result is
/// left in the state (`error`, the response in `reader`) for the front.
template <class Executor>
class transport_round_trip_op : asio::coroutine {
public:
    using pool_type = transport_pool<Executor>;
    using state_type = transport_round_trip_state<Executor>;

    transport_round_trip_op(std::shared_ptr<pool_type> pool, std::shared_ptr<state_type> state)
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
        if (st.on_strand) { // an I/O step bound to `inner` ended: drop its canceller
            st.on_strand = false;
            st.inner.slot().clear();
        }
        ASIO_CORO_REENTER(*this) {
            // Still inside the initiating call (the front routed the caller's cancellation to
            // `request_cancel` already).
            st.error = prepare();
            if (!st.error)
                st.head = http::serialize_head(st.request, st.error);
            if (st.error) { // never complete inside the initiating call
                ASIO_CORO_YIELD asio::post(std::move(self));
                return finish(self, st.error);
            }

            // Acquire a connection: an idle pooled one, a new slot, or wait for a release.
            for (;;) {
                st.acquired = pool_->acquire(st.key, st.connection);
                if (st.acquired != transport_acquire::full)
                    break;
                {
                    std::lock_guard lock(st.cancel_mutex);
                    st.waiting = true;
                }
                ASIO_CORO_YIELD pool_->wait(st.key, &st.waiter,
                                            [&] { st.waiter.timer.async_wait(std::move(self)); });
                {
                    std::lock_guard lock(st.cancel_mutex);
                    st.waiting = false;
                }
                if (!pool_->finish_wait(st.key, &st.waiter, cancelled()))
                    return finish(self, asio::error::operation_aborted);
            }
            if (st.acquired == transport_acquire::reused)
                st.reused = true;
            else
                st.connection = pool_->make_connection(st.key);
            // request_timeout starts now: the pool wait above is not counted (see the option).
            st.request_deadline =
                state_type::connection_type::deadline_after(pool_->options().request_timeout);

            for (;;) {
                // From here on every step runs on the connection's executor (its strand), the
                // one its watchdog runs on; `finish` goes back to the handler's executor.
                st.set_current(st.connection->executor());
                ASIO_CORO_YIELD asio::dispatch(on_connection(self));
                if (cancelled())
                    return finish(self, asio::error::operation_aborted);
                st.connection->begin(st.request_deadline); // also on the retry's connection
                if (!st.reused) {
                    // Connect: resolve (unless an IP literal), TCP connect, TLS handshake.
                    st.connection->arm_connect(pool_->options().connect_timeout);
                    if (!st.connection->endpoints_from_literal(st.connect, st.endpoints)) {
                        // Asio 1.22 resolvers ignore cancellation slots: cancel by hand.
                        st.inner.slot().template emplace<resolve_canceller>(st.connection.get());
                        ASIO_CORO_YIELD st.connection->resolver.async_resolve(
                            st.connect.host, std::to_string(st.connect.port), on_connection(self));
                        if ((ec = check(ec)))
                            return finish(self, ec);
                    }
                    ASIO_CORO_YIELD asio::async_connect(st.connection->socket, st.endpoints,
                                                        on_connection(self));
                    if ((ec = check(ec)))
                        return finish(self, ec);
                    st.connection->socket.set_option(asio::ip::tcp::no_delay(true), ec);
                    if (pool_->options().tls) {
                        ec = st.connection->start_tls(pool_->ssl_context(), st.target.host,
                                                      pool_->options().insecure_skip_verify);
                        if (ec)
                            return finish(self, ec);
                        ASIO_CORO_YIELD st.connection->tls->async_handshake(
                            asio::ssl::stream_base::client, on_connection(self));
                        if (ec && !cancelled() && !st.connection->timed_out())
                            ec = st.connection->handshake_error(ec); // why verification failed
                        if ((ec = check(ec)))
                            return finish(self, ec);
                    }
                }

                // Write head + body in one gathered write; the body is never copied. A
                // streamed body (a source) follows the head chunk by chunk.
                st.connection->arm_transfer(pool_->options().stall_timeout,
                                            pool_->options().low_speed_limit,
                                            pool_->options().low_speed_time);
                if (st.request.source()) {
                    if ((ec = st.request.source()->rewind()))
                        return finish(self, ec);
                    st.chunk = {};
                    st.streamed = 0;
                }
                if (st.connection->tls) // records gathered into large sends, flushed below
                    st.connection->tls->next_layer().set_batching(true);
                ASIO_CORO_YIELD {
                    std::array<asio::const_buffer, 2> buffers{
                        asio::buffer(st.head),
                        asio::buffer(st.request.body().data(), st.request.body().size())};
                    write(self, buffers);
                }
                if (ec && should_retry(ec))
                    continue;
                if ((ec = check(ec)))
                    return finish(self, ec);
                while (st.request.source() && st.streamed < st.request.source()->size()) {
                    ASIO_CORO_YIELD read_chunk(self);
                    if (!ec && (st.chunk.empty() ||
                                st.chunk.size() > st.request.source()->size() - st.streamed))
                        ec = errc::source_changed; // the source ended early or runs long
                    if ((ec = check(ec)))
                        return finish(self, ec);
                    ASIO_CORO_YIELD write(self, std::array<asio::const_buffer, 1>{asio::buffer(
                                                    st.chunk.data(), st.chunk.size())});
                    if ((ec = check(ec)))
                        return finish(self, ec);
                    st.streamed += st.chunk.size();
                }
                if (st.connection->tls) {
                    st.connection->tls->next_layer().set_batching(false);
                    ASIO_CORO_YIELD st.connection->tls->next_layer().async_flush(
                        on_connection(self));
                    if (ec && should_retry(ec)) // a small request's first send is this one
                        continue;
                    if ((ec = check(ec)))
                        return finish(self, ec);
                }

                // Read until the parser has a complete response.
                st.reader.start(st.request.method == http::verb::head, &st.options,
                                pool_->options().max_body_size);
                while (!st.reader.done()) {
                    ASIO_CORO_YIELD {
                        auto buffer = asio::buffer(st.connection->read_buffer);
                        if (st.connection->tls)
                            st.connection->tls->async_read_some(buffer, on_connection(self));
                        else
                            st.connection->socket.async_read_some(buffer, on_connection(self));
                    }
                    if (n > 0) {
                        st.connection->progress(n);
                        if (!cancelled() && !st.connection->timed_out()) {
                            auto fed = st.reader.feed(
                                std::string_view(st.connection->read_buffer.data(), n));
                            if (fed)
                                return finish(self, fed);
                        }
                    }
                    if (ec && is_eof(ec) && !cancelled() && !st.connection->timed_out()) {
                        if (should_retry(ec))
                            break;
                        ec = st.reader.finish_eof();
                        if (ec)
                            return finish(self, ec);
                        st.connection->keep_alive = false;
                        break;
                    }
                    if ((ec = check(ec)))
                        return finish(self, ec);
                }
                if (!st.reader.done())
                    continue; // retry on a fresh connection
                break;
            }

            st.connection->disarm();
            if (!st.reader.keep_alive() ||
                http::iequals(st.request.headers.get("Connection"), "close"))
                st.connection->keep_alive = false;
            finish(self, std::error_code{});
        }
    }

private:
    /// Writes `buffers` to the connection (TLS or plain), counting progress for the watchdog.
    template <class Self, class Buffers>
    void write(Self& self, const Buffers& buffers) {
        auto* c = st_->connection.get();
        c->start_write();
        auto condition = [c](const std::error_code& e, std::size_t total) -> std::size_t {
            c->write_progress(total);
            return e ? 0 : transport_max_write_size;
        };
        if (c->tls)
            asio::async_write(*c->tls, buffers, condition, on_connection(self));
        else
            asio::async_write(c->socket, buffers, condition, on_connection(self));
    }

    /// Asks the request's body source for its next chunk (kept in `chunk`). The source may
    /// answer from any thread, or at once: the op resumes on the connection's executor through
    /// a post either way.
    template <class Self>
    void read_chunk(Self& self) {
        auto* st = st_.get();
        auto ex = st->connection->executor();
        auto resume = on_connection(self);
        st->request.source()->async_read_chunk(
            [st, ex, resume = std::move(resume)](std::error_code e,
                                                 std::span<const std::byte> chunk) mutable {
                st->chunk = chunk;
                asio::post(
                    ex, [resume = std::move(resume), e]() mutable { resume(e, std::size_t{0}); });
            });
    }

    /// Installed in the cancellation slot while resolving (cleared on the next resumption).
    struct resolve_canceller {
        explicit resolve_canceller(typename state_type::connection_type* c) : connection(c) {}
        typename state_type::connection_type* connection;
        void operator()(asio::cancellation_type type) {
            if ((type & asio::cancellation_type::terminal) != asio::cancellation_type::none)
                connection->resolver.cancel();
        }
    };

    /// The caller asked for terminal cancellation (through the bridge).
    bool cancelled() const noexcept { return st_->cancel_requested.load(); }

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
    std::error_code check(std::error_code ec) {
        if (cancelled())
            return asio::error::operation_aborted;
        if (st_->connection && st_->connection->timed_out())
            return st_->connection->timeout_error();
        return ec;
    }

    /// A reused connection that fails before any response byte arrived is retried once on a
    /// fresh connection (the server may have closed it while it was idle).
    bool should_retry(const std::error_code& ec) {
        auto& st = *st_;
        if (!st.reused || st.retried || cancelled() || st.connection->timed_out() ||
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

    /// `self`, bound to the connection's executor: where its next step runs.
    /// (Its cancellation slot is the op's own `inner` signal, emitted only on that executor.)
    template <class Self>
    auto on_connection(Self& self) {
        auto& st = *st_; // moving `self` moves this op (and st_) too
        st.on_strand = true;
        auto slot = st.inner.slot();
        auto ex = st.connection->executor();
        return asio::bind_cancellation_slot(slot, asio::bind_executor(ex, std::move(self)));
    }

    /// Ends the round trip: gives the connection back (closed on error) while still on its
    /// executor, leaves `ec` in the state and tells the front (which goes back to the caller's
    /// handler's executor). Drops its own references to the state and the pool first: the front
    /// holds both until the caller's handler is called, and nothing of the engine may release
    /// them afterwards on another thread (see `transport_round_trip_front`).
    template <class Self>
    void finish(Self& self, std::error_code ec) {
        auto& st = *st_;
        if (st.connection) {
            if (ec)
                st.connection->keep_alive = false;
            pool_->release(st.key, std::move(st.connection));
        }
        st.set_current(std::nullopt);
        st.error = ec;
        st_.reset();
        pool_.reset();
        self.complete();
    }

    std::shared_ptr<pool_type> pool_;
    std::shared_ptr<state_type> st_;
};

/// The composed operation `basic_asio_transport::async_round_trip` returns, one per caller's
/// handler type and small: it routes the caller's cancellation to the state
/// (`transport_cancel_bridge`), starts the engine (`transport_round_trip_op`) with itself
/// parked behind a `transport_engine_completion`, and when the engine is done, goes to the
/// handler's associated executor (`dispatch`: at once when that is where it already is) and
/// completes there with the state's result.
template <class Executor>
class transport_round_trip_front {
public:
    using pool_type = transport_pool<Executor>;
    using state_type = transport_round_trip_state<Executor>;

    transport_round_trip_front(std::shared_ptr<pool_type> pool, std::shared_ptr<state_type> state)
        : pool_(std::move(pool)), st_(std::move(state)) {}

    template <class Self>
    void operator()(Self& self) {
        if (!started_) {
            started_ = true;
            self.reset_cancellation_state(transport_cancel_bridge<Executor>{st_, pool_});
            auto pool = pool_; // `self` (and this op with it) moves below
            auto state = st_;
            transport_engine_completion completion;
            completion.impl = std::make_unique<parked<Self>>(std::move(self));
            auto ex = pool->executor();
            asio::async_compose<transport_engine_completion, void()>(
                transport_round_trip_op<Executor>(std::move(pool), std::move(state)), completion,
                ex);
            return;
        }
        // The engine is done; on the handler's executor now.
        const std::error_code error = st_->error;
        http::response res = error ? http::response{} : st_->reader.take_response();
        // Nothing of ours may outlive the handler's call: the state's timer and the pool
        // belong to the transport's io_context, and a handler may end its life (a use_future
        // waiter destroys the io_context as soon as the future is ready, while this op would
        // still be destroyed on another thread). The cancellation bridge holds the state too:
        // replaced first.
        self.reset_cancellation_state();
        st_.reset();
        pool_.reset();
        self.complete(error, std::move(res));
    }

private:
    template <class Self>
    struct parked final : transport_engine_completion::base {
        explicit parked(Self&& s) : self(std::move(s)) {}
        void done() override { asio::dispatch(std::move(self)); }
        Self self;
    };

    std::shared_ptr<pool_type> pool_;
    std::shared_ptr<state_type> st_;
    bool started_ = false;
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
/// host name verification and SNI; `insecure_skip_verify` turns both checks off. TLS 1.2 is
/// the minimum version. The name is checked by OpenSSL during chain verification
/// (`SSL_set1_host`; an IP literal against the certificate's IP addresses), where a wildcard
/// matches one whole left-most label only (`*.example.com`, never `f*.example.com`). A failed
/// verification completes with the errc that names the cause, read from OpenSSL's verify
/// result: `errc::tls_untrusted_certificate` (unknown CA, self-signed, incomplete chain),
/// `errc::tls_hostname_mismatch` (neither the name nor the IP address is in the certificate),
/// `errc::tls_certificate_expired` (expired or not yet valid); rarer failures (revoked, wrong
/// key usage, ...) keep OpenSSL's own error (`asio::error::get_ssl_category()`, "certificate
/// verify failed"). None of them is retryable.
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
/// round trip when no byte moves in either direction for that long; `request_timeout` (off by
/// default) bounds the whole round trip from the moment it holds a connection (the wait for
/// a pool slot is not counted); all three -> `errc::timeout`. The low-speed rule
/// (`low_speed_limit` bytes/s over `low_speed_time`, default 1 byte/s over 60 s) fails a
/// round trip that moves too few bytes, such as a peer that trickles a byte every few seconds
/// -> `errc::transfer_too_slow`. One watchdog timer per connection enforces all of them; the
/// I/O path only counts bytes.
///
/// **Cancellation.** Terminal cancellation (the handler's associated cancellation slot) works in
/// every phase: waiting for a pool slot, resolving, connecting, the TLS handshake, writing and
/// reading. The connection is closed, never pooled, and the handler gets
/// `asio::error::operation_aborted`.
///
/// **Not done.** `Expect: 100-continue` is not waited for (the body follows the head at once;
/// an interim 100 response is skipped). No HTTP pipelining; one request per connection at a time.
///
/// **Threading.** Round trips may be started from any thread, and with the default
/// `Executor` (`asio::any_io_executor`) the io_context may be run by several threads: each
/// connection has its own strand, and a round trip runs its socket steps (and the connection's
/// watchdog) on that strand, so several connections send and receive in parallel; the pool is
/// guarded by a mutex. The completion handler is always invoked through its associated
/// executor (default: the transport's). With another `Executor` type (e.g.
/// `asio::io_context::executor_type`) connections use the transport's executor as it is: run
/// that on one thread, or make `Executor` a strand type.
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
    /// TLS errors (`errc::tls_untrusted_certificate`, `errc::tls_hostname_mismatch`,
    /// `errc::tls_certificate_expired` for certificates), `errc::timeout` (connect, stall or
    /// request deadline), `errc::transfer_too_slow` (low-speed rule), the error returned by
    /// `opt.on_header`, `errc::unexpected_eof` (connection closed mid-response),
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
        auto state = std::make_shared<detail::transport_round_trip_state<Executor>>(
            pool_->executor(), std::move(request), opt);
        return asio::async_compose<Token, void(std::error_code, http::response)>(
            detail::transport_round_trip_front<Executor>(pool_, std::move(state)), token,
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
