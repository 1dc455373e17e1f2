// tools/emulator/connection.hpp: one connection of the emulator's server (server.hpp): its
// stream and timers, its read buffer, its watchdog, and the completion handler that logs what
// escapes a coroutine. The session itself (what is read and answered when) is in server.hpp.
#pragma once

#include "ossmp/detail/asio.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace ossmp::emulator {

namespace detail {

inline constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);
/// Body reads served straight from the socket before one goes through the io_context: 16 of
/// at most 64 KiB (sink) bounds how long one connection keeps its thread from the others.
inline constexpr int read_burst = 16;
/// How long the acceptor waits after `accept` failed for want of a resource (EMFILE, ENFILE,
/// ENOBUFS, ENOMEM): the connection stays queued, so an immediate retry fails again and spins.
inline constexpr std::chrono::milliseconds accept_retry_delay{100};
using steady = std::chrono::steady_clock;

/// Writes one line to stderr (one call, so lines of different threads do not mix).
inline void log_error(std::string_view where, std::string_view what) noexcept {
    std::fprintf(stderr, "ossmp-emulator: %.*s: %.*s\n", static_cast<int>(where.size()),
                 where.data(), static_cast<int>(what.size()), what.data());
}

/// The completion handler of the emulator's `co_spawn`s: an exception that got out of a
/// coroutine is logged (`asio::detached` would drop it without a trace).
struct log_exception {
    const char* where;
    void operator()(std::exception_ptr e) const noexcept {
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            log_error(where, x.what());
        } catch (...) {
            log_error(where, "unknown exception");
        }
    }
};

/// A connection's read buffer: bytes [begin, end) arrived and are not consumed yet. A header
/// section (or a pipelined one) is read into it; a Content-Length body goes straight to its
/// sink and a chunked body through it. It holds `small` bytes while the connection waits for a
/// request (the parser keeps a partial line itself, so a longer header section only takes more
/// reads) and `large` during a chunked body.
class read_buffer {
public:
    static constexpr std::size_t small = 4 * 1024;
    static constexpr std::size_t large = 64 * 1024;

    std::string_view data() const noexcept {
        return bytes_ ? std::string_view(bytes_.get() + begin_, end_ - begin_) : std::string_view();
    }
    bool empty() const noexcept { return begin_ == end_; }
    void consume(std::size_t n) noexcept { begin_ += n; }
    /// Room to read into, at least 1 byte (unconsumed bytes move to the front).
    asio::mutable_buffer space() {
        if (begin_ == end_)
            begin_ = end_ = 0;
        if (!bytes_)
            resize(small);
        if (end_ == size_) {
            std::memmove(bytes_.get(), bytes_.get() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        return asio::buffer(bytes_.get() + end_, size_ - end_);
    }
    void commit(std::size_t n) noexcept { end_ += n; }
    /// `large` (chunked bodies: fewer reads) or back to `small` once the rest fits in it.
    void resize(std::size_t n) {
        if (n == size_ || end_ - begin_ > n)
            return;
        auto fresh = std::make_unique_for_overwrite<char[]>(n);
        if (end_ > begin_)
            std::memcpy(fresh.get(), bytes_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        bytes_ = std::move(fresh);
        size_ = n;
    }

private:
    std::unique_ptr<char[]> bytes_;
    std::size_t size_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

/// What `server` needs of a connection, whatever its stream type.
struct connection_base {
    explicit connection_base(asio::any_io_executor ex) : strand(std::move(ex)) {}
    connection_base(const connection_base&) = delete;
    connection_base& operator=(const connection_base&) = delete;
    virtual ~connection_base() = default;
    /// Closes the socket and cancels every timer (`server::stop`). Call on `strand` only.
    virtual void shut() = 0;
    /// Closes the socket if the connection is still idle between keep-alive requests (to make
    /// room for a new connection at the cap). Call on `strand` only.
    virtual void close_if_idle() = 0;

    /// The connection's strand: its coroutines, socket and timers live there.
    const asio::any_io_executor strand;
    /// Written on `strand`, read by the acceptor under the registry lock: waiting for the next
    /// keep-alive request with nothing received (since `idle_since`, steady-clock ticks).
    std::atomic<bool> idle{false};
    std::atomic<steady::rep> idle_since{0};
    /// The acceptor chose it to make room (set under the registry lock; cleared on `strand`
    /// when it turned out busy).
    std::atomic<bool> evicting{false};
};

/// Per-connection state shared by the connection coroutine and its watchdog (one strand).
template <class Stream>
struct connection final : connection_base {
    template <class... Args>
    explicit connection(asio::any_io_executor ex, Args&&... args)
        : connection_base(ex), stream(std::forward<Args>(args)...), timer(ex), stall(ex) {
        if constexpr (plain) {
            std::error_code ec;
            stream.non_blocking(true, ec); // for `read_ready`; asynchronous reads are unaffected
        }
    }

    static constexpr bool plain = std::is_same_v<Stream, asio::ip::tcp::socket>;

    Stream stream;
    asio::steady_timer timer; ///< the watchdog's
    asio::steady_timer stall; ///< the stall fault's
    steady::time_point deadline = steady::time_point::max();
    bool done = false;
    bool stopping = false; ///< `server::stop` closed it

    asio::basic_socket<asio::ip::tcp, asio::any_io_executor>& socket() {
        return stream.lowest_layer();
    }
    /// Plain TCP: reads what the socket holds now without waiting; 0 with no error when it
    /// holds nothing (or for TLS, which always answers 0: use the asynchronous read). Saves the
    /// io_context round trip (an epoll_wait per read) while a body streams in.
    std::size_t read_ready(asio::mutable_buffer b, std::error_code& ec) {
        ec.clear();
        if constexpr (plain) {
            const std::size_t n = stream.read_some(b, ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) {
                ec.clear();
                return 0;
            }
            return n;
        } else {
            (void)b;
            return 0;
        }
    }
    /// Moves the deadline; an earlier one re-arms the watchdog (which sleeps until the old one).
    void set_deadline(std::chrono::seconds d) {
        deadline = steady::now() + d;
        if (deadline < timer.expiry())
            timer.cancel();
    }
    /// Closes at once with a TCP RST (SO_LINGER 0): what a client sees as "connection reset".
    void reset() {
        std::error_code ec;
        socket().set_option(asio::socket_base::linger(true, 0), ec);
        socket().close(ec);
    }
    void close() {
        std::error_code ec;
        socket().shutdown(asio::socket_base::shutdown_both, ec);
        socket().close(ec);
    }
    void shut() override {
        stopping = true;
        close();
        timer.cancel();
        stall.cancel();
    }
    void close_if_idle() override {
        if (idle.load(std::memory_order_relaxed))
            close(); // the session sees EOF and finishes
        else
            evicting.store(false, std::memory_order_relaxed); // busy again: keep it
    }
    /// Marks the wait for the next keep-alive request (evictable) or its end.
    void set_idle(bool on) noexcept {
        if (on)
            idle_since.store(steady::now().time_since_epoch().count(), std::memory_order_relaxed);
        idle.store(on, std::memory_order_relaxed);
    }
};

template <class Conn>
asio::awaitable<void> watchdog(std::shared_ptr<Conn> c) {
    while (!c->done) {
        c->timer.expires_at(c->deadline);
        auto [ec] = co_await c->timer.async_wait(use_nothrow);
        (void)ec;
        if (c->done)
            break;
        if (steady::now() >= c->deadline) {
            c->close();
            break;
        }
    }
}

} // namespace detail

} // namespace ossmp::emulator
