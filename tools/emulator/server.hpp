// tools/emulator/server.hpp: the socket side of the emulator (Asio coroutines).
//
// Threading: the emulator (main.cpp) runs `--threads` io_contexts, one per thread; the acceptor
// lives on the first and hands each accepted connection to the next io_context in turn, whose
// executor is then that connection's strand (a connection never changes thread: no hand-offs,
// and with 2 threads on 2 cores small requests measured about 43,000-46,000/s against 38,000/s
// for one io_context run by 2 threads with a strand per connection, in noisy runs; bulk ingest
// was the same within the noise). A connection's session coroutine, its watchdog and its
// timers only ever run on its strand, so its state needs no lock, and different connections
// run in parallel. The acceptor has a strand of its own. What connections share:
//   - the `service` and its `storage` (and the fault injector inside the service): the calls
//     that touch them (`begin_locked`, `finish`) hold `svc_mutex_`; `begin_unlocked` (routing
//     and the V1/V4 signature check) and the error replies for malformed requests read only
//     the configuration and run outside it, in parallel on every thread.
//     The body bytes do not: socket reads into the `body_sink`, CRC-64/MD5 in `commit` and the
//     dir-mode file writes run unlocked on the connection's strand, so connections ingest in
//     parallel (a sink is private to its request; `storage` hands out unique temp names under the
//     lock). GetObject streams from `shared_ptr<blob>`s copied under the lock, so a concurrent
//     overwrite or delete only `doom`s the blob: its file goes when the last stream ends;
//   - the registry of live connections (`conns_`, under `reg_mutex_`), used by `stop()`, which
//     posts each connection's close to that connection's strand (a socket or timer is never
//     touched from a foreign thread) and the acceptor's close to the acceptor's strand, and by
//     the acceptor: at `max_connections` a new connection is closed at once, unless a
//     keep-alive connection idle between requests can be closed to make room (the one idle
//     longest; its close is posted to its strand, which closes it only if it is still idle).
// Per connection:
//   - a watchdog closes the socket when its deadline passes: `header_timeout` from the accept
//     to a complete first header section (TLS handshake included: a client that connects and
//     sends nothing, or never finishes its handshake, is closed then), `idle_timeout` between
//     keep-alive requests and then `header_timeout` from the next request's first byte
//     (slowloris), `body_timeout` without progress while a body streams in, and
//     `body_timeout` in all for the body of a request refused before it (answered, drained);
//   - whatever happens in it, an exception included, the connection ends in `finish`, which
//     releases its slot, its watchdog and its socket (an exception is logged on stderr);
//   - its read buffer holds 4 KiB while it waits for a request (64 KiB during a chunked
//     body), and it keeps nothing once closed;
//   - the header section goes through `http::request_parser`; a Content-Length body is then read
//     straight into the `body_sink` buffers (one copy: socket to buffer), a chunked body goes
//     through the parser's body sink;
//   - `Expect: 100-continue` gets `100 Continue` only when the request passed every check that
//     needs no body; otherwise the error is sent at once and the connection closed;
//   - keep-alive and pipelining (leftover bytes start the next request);
//   - malformed HTTP gets a 400 and the connection is closed.
// TLS (`--tls-cert/--tls-key`) wraps the same code in `asio::ssl::stream`.
#pragma once

#include "config.hpp"
#include "connection.hpp"
#include "faults.hpp"
#include "handler.hpp"

#include "ossmp/detail/asio.hpp"
#include "ossmp/http/parser.hpp"
#include "ossmp/http/serializer.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace ossmp::emulator {

/// The emulator's listener: accepts connections and serves them with a `service`, one
/// io_context per thread (see the file comment: connections handed out in turn, the storage
/// behind a mutex).
class server {
public:
    /// Serves from several io_contexts, each meant to be run by one thread: the acceptor lives
    /// on the first, and each accepted connection is given to the next one in turn (its
    /// executor is then the connection's implicit strand). `workers` must not be empty; the
    /// io_contexts must outlive the server.
    server(std::vector<asio::io_context*> workers, const config& cfg, service& svc)
        : io_(*workers.at(0)), cfg_(cfg), svc_(svc), acceptor_(asio::make_strand(*workers[0])),
          accept_pause_(acceptor_.get_executor()), workers_(std::move(workers)) {}

    /// Binds and listens on cfg.listen_host:listen_port (port 0 picks one); loads the TLS
    /// certificate when configured. Returns the error instead of throwing. Call before the
    /// io_context runs.
    std::error_code listen() {
        std::error_code ec;
        auto addr = asio::ip::make_address(cfg_.listen_host, ec);
        if (ec) {
            asio::ip::tcp::resolver resolver(io_);
            auto results = resolver.resolve(cfg_.listen_host, "", ec);
            if (ec || results.empty())
                return ec ? ec : std::make_error_code(std::errc::address_not_available);
            addr = results.begin()->endpoint().address();
        }
        asio::ip::tcp::endpoint ep(addr, cfg_.listen_port);
        acceptor_.open(ep.protocol(), ec);
        if (ec)
            return ec;
        acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        acceptor_.bind(ep, ec);
        if (ec)
            return ec;
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec)
            return ec;
        if (cfg_.tls()) {
            tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
            tls_->set_options(asio::ssl::context::default_workarounds |
                                  asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                                  asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                              ec);
            if (!ec)
                tls_->use_certificate_chain_file(cfg_.tls_cert, ec);
            if (!ec)
                tls_->use_private_key_file(cfg_.tls_key, asio::ssl::context::pem, ec);
            if (ec)
                return ec;
        }
        return {};
    }

    /// The bound address (after `listen`; before the io_context runs, or from the acceptor's
    /// strand).
    asio::ip::tcp::endpoint local_endpoint() const {
        std::error_code ec;
        return acceptor_.local_endpoint(ec);
    }

    /// `http://HOST:PORT` (or https) of the bound address, as printed at start.
    std::string url() const {
        auto ep = local_endpoint();
        std::string host = cfg_.listen_host;
        if (host.find(':') != std::string::npos && host.front() != '[')
            host = "[" + host + "]";
        return std::string(cfg_.tls() ? "https://" : "http://") + host + ":" +
               std::to_string(ep.port());
    }

    /// Starts accepting (on the acceptor's strand).
    void start() {
        asio::co_spawn(acceptor_.get_executor(), accept_loop(),
                       detail::log_exception{"accept loop"});
    }

    /// Stops accepting and closes every connection, from any thread: the closes are posted to
    /// the acceptor's and each connection's strand. Once no connection is left, `on_drained`
    /// (if given) is called once, from whichever thread closed the last one (or from this call);
    /// the io_context then runs out of work. Later calls only close what is left.
    void stop(std::function<void()> on_drained = {}) {
        std::vector<std::shared_ptr<detail::connection_base>> live;
        std::function<void()> fire;
        {
            std::lock_guard lock(reg_mutex_);
            stopped_ = true;
            live.reserve(conns_.size());
            for (auto& [raw, weak] : conns_)
                if (auto c = weak.lock())
                    live.push_back(std::move(c));
            if (on_drained) {
                if (conns_.empty())
                    fire = std::move(on_drained);
                else
                    on_drained_ = std::move(on_drained);
            }
        }
        asio::post(acceptor_.get_executor(), [this] {
            std::error_code ec;
            acceptor_.close(ec);
            accept_pause_.cancel();
        });
        for (auto& c : live) {
            auto* raw = c.get();
            asio::post(raw->strand, [c = std::move(c)] { c->shut(); });
        }
        if (fire)
            fire();
    }

private:
    asio::awaitable<void> accept_loop() {
        while (acceptor_.is_open()) {
            // The accepted socket is bound to a fresh strand: the connection's own.
            asio::any_io_executor strand =
                workers_[next_worker_++ % workers_.size()]->get_executor();
            auto [ec, sock] = co_await acceptor_.async_accept(strand, detail::use_nothrow);
            if (ec) {
                if (!acceptor_.is_open())
                    break;
                if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
                    ec == asio::error::no_memory ||
                    ec == std::error_code(ENFILE, asio::error::get_system_category())) {
                    // The connection stays queued: retrying at once would fail again and spin.
                    accept_pause_.expires_after(detail::accept_retry_delay);
                    auto [pec] = co_await accept_pause_.async_wait(detail::use_nothrow);
                    (void)pec;
                }
                continue; // keep serving the others
            }
            try {
                admit(std::move(sock), strand);
            } catch (const std::exception& e) { // e.g. bad_alloc: that one connection is lost
                detail::log_error("accept", e.what());
            }
        }
    }

    // Starts serving an accepted socket, or closes it (stopping, or full: see `track`).
    void admit(asio::ip::tcp::socket sock, const asio::any_io_executor& strand) {
        std::error_code ignored;
        sock.set_option(asio::ip::tcp::no_delay(true), ignored);
        if (tls_) {
            using stream_t = asio::ssl::stream<asio::ip::tcp::socket>;
            auto tc =
                std::make_shared<detail::connection<stream_t>>(strand, std::move(sock), *tls_);
            if (track(tc))
                asio::co_spawn(strand, serve(tc), detail::log_exception{"connection"});
            else
                tc->close(); // not shared yet: closing it here is safe
        } else {
            auto pc = std::make_shared<detail::connection<asio::ip::tcp::socket>>(strand,
                                                                                  std::move(sock));
            if (track(pc))
                asio::co_spawn(strand, serve(pc), detail::log_exception{"connection"});
            else
                pc->close();
        }
    }

    // One connection, from its accept to its end: the TLS handshake (if any) and the session.
    // Whatever ends it, an exception included, ends in `finish`, which releases its slot, its
    // watchdog and its socket.
    template <class Conn>
    asio::awaitable<void> serve(std::shared_ptr<Conn> c) {
        try {
            // From the accept, `header_timeout` to a complete first header section, TLS
            // handshake included (the session does not move this deadline for it).
            c->set_deadline(cfg_.header_timeout);
            asio::co_spawn(c->strand, detail::watchdog(c), detail::log_exception{"watchdog"});
            bool ready = true;
            if constexpr (!Conn::plain) {
                auto [ec] = co_await c->stream.async_handshake(asio::ssl::stream_base::server,
                                                               detail::use_nothrow);
                ready = !ec;
            }
            if (ready)
                co_await session(c);
        } catch (const std::exception& e) {
            detail::log_error("connection closed after an exception", e.what());
        } catch (...) {
            detail::log_error("connection closed after an exception", "unknown");
        }
        finish(c.get());
    }

    // Registers a new connection; false (do not serve it) when the server is stopping, or
    // full with no keep-alive connection idle between requests to close instead (see the file
    // comment; the one idle longest goes, so the count may pass the cap for the moment its
    // close takes).
    bool track(const std::shared_ptr<detail::connection_base>& c) {
        std::shared_ptr<detail::connection_base> victim;
        {
            std::lock_guard lock(reg_mutex_);
            if (stopped_)
                return false;
            if (conns_.size() >= cfg_.max_connections) {
                victim = longest_idle();
                if (!victim)
                    return false;
                victim->evicting.store(true, std::memory_order_relaxed);
            }
            conns_.emplace(c.get(), c);
        }
        if (victim) {
            auto* raw = victim.get();
            asio::post(raw->strand, [v = std::move(victim)] { v->close_if_idle(); });
        }
        return true;
    }
    // Under reg_mutex_: the connection idle the longest that is not being closed yet, or null.
    std::shared_ptr<detail::connection_base> longest_idle() {
        std::shared_ptr<detail::connection_base> best;
        auto best_since = std::numeric_limits<detail::steady::rep>::max();
        for (auto& [raw, weak] : conns_) {
            if (!raw->idle.load(std::memory_order_relaxed) ||
                raw->evicting.load(std::memory_order_relaxed))
                continue;
            const auto since = raw->idle_since.load(std::memory_order_relaxed);
            if (since < best_since)
                if (auto c = weak.lock()) {
                    best = std::move(c);
                    best_since = since;
                }
        }
        return best;
    }
    // On the connection's strand, when its session ended.
    template <class Conn>
    void finish(Conn* c) {
        c->done = true;
        c->timer.cancel();
        c->stall.cancel();
        c->close();
        std::function<void()> fire;
        {
            std::lock_guard lock(reg_mutex_);
            conns_.erase(c);
            if (stopped_ && conns_.empty())
                fire = std::move(on_drained_);
        }
        if (fire)
            fire();
    }

    // Runs `f` (a call into the service or the storage) under the service lock.
    template <class F>
    auto locked(F&& f) {
        std::lock_guard lock(svc_mutex_);
        return f();
    }

    // Reads more bytes into `buf`; false on EOF/error.
    template <class Conn>
    asio::awaitable<bool> read_more(Conn& c, detail::read_buffer& buf) {
        auto b = buf.space();
        auto [ec, n] = co_await c.stream.async_read_some(b, detail::use_nothrow);
        if (ec || n == 0)
            co_return false;
        buf.commit(n);
        co_return true;
    }

    template <class Conn>
    asio::awaitable<bool> write_all(Conn& c, std::string_view bytes) {
        auto b = asio::buffer(bytes.data(), bytes.size());
        auto [ec, n] = co_await asio::async_write(c.stream, b, detail::use_nothrow);
        (void)n;
        co_return !ec;
    }

    template <class Conn>
    asio::awaitable<void> session(std::shared_ptr<Conn> cp) {
        auto& c = *cp;
        detail::read_buffer buf;
        http::request_parser parser;
        parser.set_header_limit(64 * 1024);
        parser.set_max_headers(200);
        for (bool first = true;; first = false) {
            // ---- header section ----
            // The first request's deadline runs from the accept (set by `serve`). Between
            // keep-alive requests: `idle_timeout` for the first byte (the connection may be
            // closed to make room meanwhile), then `header_timeout` for the whole section.
            bool header_deadline_set = first;
            if (!first && !buf.empty()) { // pipelined: the next request has begun
                c.set_deadline(cfg_.header_timeout);
                header_deadline_set = true;
            } else if (!first) {
                c.set_deadline(cfg_.idle_timeout);
            }
            buf.resize(detail::read_buffer::small);
            std::error_code ec;
            while (!parser.header_done()) {
                if (buf.empty()) {
                    c.set_idle(!header_deadline_set);
                    bool ok = co_await read_more(c, buf);
                    c.set_idle(false);
                    if (!ok)
                        co_return; // EOF, reset, or closed by the watchdog or to make room
                }
                if (!header_deadline_set) {
                    c.set_deadline(cfg_.header_timeout);
                    header_deadline_set = true;
                }
                buf.consume(parser.feed(buf.data(), ec));
                if (ec)
                    break;
            }
            const auto now = clock_type::now();
            if (ec) {
                auto r = svc_.bad_request_reply("Malformed HTTP request: " + ec.message(), now);
                co_await send(c, r, false);
                co_return;
            }
            const http::incoming_request& head = parser.get();
            const bool expect_continue = http::iequals(head.headers.get("Expect"), "100-continue");
            const bool chunked = parser.chunked();
            const std::uint64_t content_length = parser.content_length().value_or(0);
            const bool has_body = chunked || content_length > 0;

            // Routing and signature checks read only the configuration: outside the lock.
            pending p = svc_.begin_unlocked(head, now);
            if (!p.early)
                locked([&] { svc_.begin_locked(p, head, now); });
            bool keep_alive = parser.keep_alive();
            reply r;
            const fault_decision fault = p.fault;
            if (fault.action == fault_action::throw_) // see `serve`: the connection is released
                throw std::runtime_error("fault injected by --faults (throw)");
            if (fault.action == fault_action::reset && !has_body) {
                c.reset();
                co_return;
            }
            if (p.early && expect_continue && has_body && !fault) {
                // Refuse before the body is sent: answer now, close (the body never comes).
                r = std::move(*p.early);
                co_await send(c, r, false);
                co_return;
            }
            if (expect_continue && has_body) {
                constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
                if (!co_await write_all(c, continue_line))
                    co_return;
            }
            std::unique_ptr<body_sink> drain;
            body_sink* sink = p.sink.get();
            std::uint64_t cap = p.max_body;
            // The body of a refused request is read and dropped (so that the client reads the
            // answer), within `body_timeout` in all: a client that drips it cannot keep the
            // connection. A body over its operation's cap (`close`) is not read at all.
            const bool refused = p.early.has_value();
            if (refused) {
                drain = service::drain_sink();
                sink = drain.get();
                cap = cfg_.max_body_size;
                if (content_length > cap || p.early->close) { // not worth reading: answer, close
                    r = std::move(*p.early);
                    co_await send(c, r, false);
                    co_return;
                }
            }
            // ---- body ----
            c.set_deadline(cfg_.body_timeout);
            const auto progress = [&] {
                if (!refused)
                    c.set_deadline(cfg_.body_timeout);
            };
            const std::uint64_t reset_at =
                fault.action == fault_action::reset_mid ? content_length / 2 : UINT64_MAX;
            if (fault.action == fault_action::reset_mid && !has_body) {
                c.reset();
                co_return;
            }
            if (chunked) {
                std::error_code sink_ec;
                parser.set_body_limit(cap);
                parser.set_body_sink(
                    [sink](std::string_view bytes, std::error_code&) { sink->write(bytes); });
                buf.resize(detail::read_buffer::large);
                std::uint64_t fed = 0;
                while (!parser.done()) {
                    if (buf.empty()) {
                        if (fault.action == fault_action::reset_mid && fed > 0) {
                            c.reset();
                            co_return;
                        }
                        if (!co_await read_more(c, buf))
                            co_return;
                        progress();
                    }
                    auto n = parser.feed(buf.data(), sink_ec);
                    buf.consume(n);
                    fed += n;
                    if (sink_ec)
                        break;
                }
                if (sink_ec) {
                    if (sink_ec == make_error_code(errc::body_too_large))
                        r = svc_.too_large_reply(p, clock_type::now());
                    else
                        r = svc_.bad_request_reply("Malformed chunked body: " + sink_ec.message(),
                                                   clock_type::now());
                    co_await send(c, r, false);
                    co_return;
                }
            } else if (content_length > 0) {
                std::uint64_t left = content_length;
                std::uint64_t got = 0;
                int burst = 0; // reads in a row without a trip through the io_context
                const auto arrived = buf.data();
                auto take = std::min<std::uint64_t>(left, arrived.size());
                if (take > reset_at)
                    take = reset_at;
                sink->write(arrived.substr(0, static_cast<std::size_t>(take)));
                buf.consume(static_cast<std::size_t>(take));
                left -= take;
                got += take;
                while (left > 0) {
                    if (got >= reset_at) {
                        c.reset();
                        co_return;
                    }
                    auto want = std::min<std::uint64_t>(left, reset_at - got);
                    auto span = sink->prepare(static_cast<std::size_t>(
                        std::min<std::uint64_t>(want, std::uint64_t(1) << 30)));
                    const auto into = asio::buffer(span.data(), span.size());
                    // Up to `read_burst` reads of what has already arrived, then one through
                    // the io_context (which also lets this thread's other connections run).
                    std::error_code rec;
                    std::size_t n = 0;
                    if (burst < detail::read_burst) {
                        n = c.read_ready(into, rec);
                        ++burst;
                    }
                    if (n == 0 && !rec) {
                        burst = 0;
                        std::tie(rec, n) =
                            co_await c.stream.async_read_some(into, detail::use_nothrow);
                    }
                    if (rec || n == 0)
                        co_return;
                    sink->commit(n);
                    left -= n;
                    got += n;
                    progress();
                }
            }
            parser.reset();

            // ---- reply ----
            if (p.early)
                r = std::move(*p.early);
            else
                r = locked([&] { return svc_.finish(p, clock_type::now()); });
            svc_.log_request(p, r);
            switch (fault.action) {
            case fault_action::reset:
            case fault_action::reset_mid:
                c.reset();
                co_return;
            case fault_action::stall: {
                // `stop()` cancels `c.stall` (on this strand); a stop that came first wins.
                c.deadline = detail::steady::time_point::max();
                if (c.stopping)
                    co_return;
                c.stall.expires_after(std::chrono::seconds(fault.stall_seconds));
                auto [tec] = co_await c.stall.async_wait(detail::use_nothrow);
                (void)tec;
                c.close();
                co_return;
            }
            default:
                break;
            }
            if (r.close || fault.action == fault_action::truncate)
                keep_alive = false;
            if (!co_await send(c, r, keep_alive, fault.action == fault_action::truncate))
                co_return;
            if (!keep_alive)
                co_return;
        }
    }

    // Writes a reply; `truncate` writes only half of it (then the caller closes).
    template <class Conn>
    asio::awaitable<bool> send(Conn& c, reply& r, bool keep_alive, bool truncate = false) {
        r.msg.headers.set("Connection", keep_alive ? "keep-alive" : "close");
        std::string head = http::serialize_head(r.msg);
        const bool has_body = r.msg.status != 204 && r.msg.status != 304;
        if (r.stream.empty()) {
            const std::size_t head_size = head.size();
            std::string all = std::move(head);
            if (has_body)
                all += r.msg.body;
            std::string_view v = all;
            if (truncate) // half the body after the whole head; half the head if no body
                v = v.substr(0, all.size() > head_size ? head_size + (all.size() - head_size) / 2
                                                       : head_size / 2);
            bool ok = co_await write_all(c, v);
            if (truncate || !keep_alive) {
                c.close();
                co_return false;
            }
            co_return ok;
        }
        // Streamed object bytes (GetObject): memory blobs go out as they are (gather write),
        // file blobs through a bounded buffer.
        std::uint64_t total = r.stream_length;
        if (truncate)
            total /= 2;
        if (!co_await write_all(c, head))
            co_return false;
        std::uint64_t skip = r.stream_offset;
        std::uint64_t left = total;
        std::vector<char> fbuf;
        for (const auto& seg : r.stream) {
            if (left == 0)
                break;
            if (skip >= seg->size()) {
                skip -= seg->size();
                continue;
            }
            auto len = std::min<std::uint64_t>(seg->size() - skip, left);
            if (!seg->is_file()) {
                auto bytes = seg->bytes().substr(static_cast<std::size_t>(skip),
                                                 static_cast<std::size_t>(len));
                if (!co_await write_all(c, bytes))
                    co_return false;
            } else {
                int fd = ::open(seg->path().c_str(), O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                    c.close();
                    co_return false;
                }
                if (fbuf.empty())
                    fbuf.resize(256 * 1024);
                std::uint64_t off = skip;
                std::uint64_t rem = len;
                bool ok = true;
                while (rem > 0 && ok) {
                    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(rem, fbuf.size()));
                    auto n = ::pread(fd, fbuf.data(), want, static_cast<off_t>(off));
                    if (n <= 0) {
                        ok = false;
                        break;
                    }
                    ok = co_await write_all(
                        c, std::string_view(fbuf.data(), static_cast<std::size_t>(n)));
                    off += static_cast<std::uint64_t>(n);
                    rem -= static_cast<std::uint64_t>(n);
                }
                ::close(fd);
                if (!ok) {
                    c.close();
                    co_return false;
                }
            }
            left -= len;
            skip = 0;
        }
        if (truncate || !keep_alive) {
            c.close();
            co_return false;
        }
        co_return true;
    }

    asio::io_context& io_;
    const config& cfg_;
    service& svc_;
    asio::ip::tcp::acceptor acceptor_; // on its own strand
    asio::steady_timer accept_pause_;  // after EMFILE & co (on the acceptor's strand)
    std::unique_ptr<asio::ssl::context> tls_;
    std::vector<asio::io_context*> workers_; // one io_context per thread, never empty
    std::size_t next_worker_ = 0;            // round robin, on the acceptor's strand
    std::mutex svc_mutex_; // serializes every call into `svc_` (and so the storage)
    std::mutex reg_mutex_; // guards conns_, stopped_, on_drained_
    std::unordered_map<detail::connection_base*, std::weak_ptr<detail::connection_base>> conns_;
    bool stopped_ = false;             // under reg_mutex_
    std::function<void()> on_drained_; // under reg_mutex_
};

} // namespace ossmp::emulator
