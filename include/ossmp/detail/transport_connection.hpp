// ossmp/detail/transport_connection.hpp: the pieces of asio_transport below the composed
// operation: one connection (socket, optional TLS stream, watchdog), the per-host pool with
// its waiters, and the response reader on top of the sans-io parser.
#pragma once

#include "ossmp/detail/asio.hpp"
#include "ossmp/detail/transport_target.hpp"
#include "ossmp/error.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/http/parser.hpp"
#include "ossmp/transport.hpp"
#include "ossmp/transport/asio_transport_options.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace ossmp {

namespace detail {

/// Largest single gathered write handed to the socket (Asio's transfer_all default is 64 KiB
/// per write, which costs syscalls on 8 MiB parts).
inline constexpr std::size_t transport_max_write_size = std::size_t{1} << 30;
/// Read buffer per connection.
inline constexpr std::size_t transport_read_buffer_size = 256 * 1024;

/// Maps OpenSSL's verify result after a failed handshake (`SSL_get_verify_result`) to the
/// `errc` that names the cause; an empty error_code when the result names none of them
/// (X509_V_OK, or a rarer failure such as a revoked certificate or a wrong key usage: the
/// caller then keeps the handshake's own error, OpenSSL's "certificate verify failed").
inline std::error_code tls_verify_error(long verify_result) noexcept {
    switch (verify_result) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return errc::tls_untrusted_certificate;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return errc::tls_hostname_mismatch;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return errc::tls_certificate_expired;
    default:
        return {};
    }
}

/// Bytes of TLS records gathered before one send (see `tls_write_batcher`).
inline constexpr std::size_t tls_write_batch_size = 256 * 1024;

/// The layer between a TLS stream and its socket. `asio::ssl::stream` hands its socket one
/// record (at most 16 KiB) per write; sending each with a syscall of its own cost about a third
/// of a TLS upload's client CPU on loopback (perf: `sendto` and the receiver's wake-ups under
/// it). While `batching`, the records are gathered and sent `tls_write_batch_size` bytes at a
/// time, and `async_flush` sends the rest; otherwise (handshake, reads) each write goes out at
/// once. A write "completes" when its bytes are gathered: the caller must flush before it
/// waits for an answer. One round trip at a time, on the connection's executor.
template <class Socket>
class tls_write_batcher {
public:
    using executor_type = typename Socket::executor_type;
    using lowest_layer_type = typename Socket::lowest_layer_type;

    explicit tls_write_batcher(Socket& socket) : socket_(socket) {}

    executor_type get_executor() noexcept { return socket_.get_executor(); }
    lowest_layer_type& lowest_layer() noexcept { return socket_.lowest_layer(); }
    const lowest_layer_type& lowest_layer() const noexcept { return socket_.lowest_layer(); }

    /// Gathers writes from now on (true), or sends each at once (false; flush first).
    void set_batching(bool on) noexcept { batching_ = on; }
    std::size_t pending() const noexcept { return size_; }

    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
        return socket_.async_read_some(buffers, std::forward<Token>(token));
    }

    /// Completion: `void(std::error_code, std::size_t)`, all of `buffers` taken (they are
    /// copied). Sends the gathered bytes when not batching or when a batch is full.
    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
        const std::size_t n = asio::buffer_size(buffers);
        if (capacity_ - size_ < n) { // grows once to a batch and a record (not zero-filled)
            const std::size_t capacity = std::max(size_ + n, tls_write_batch_size + 32 * 1024);
            auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
            std::copy_n(pending_.get(), size_, bigger.get());
            pending_ = std::move(bigger);
            capacity_ = capacity;
        }
        asio::buffer_copy(asio::buffer(pending_.get() + size_, n), buffers);
        size_ += n;
        const bool send = !batching_ || size_ >= tls_write_batch_size;
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(op{*this, n, send},
                                                                              token, socket_);
    }

    /// Sends what is gathered. Completion: `void(std::error_code, std::size_t)` (the bytes sent).
    template <class Token>
    auto async_flush(Token&& token) {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(
            op{*this, size_, true}, token, socket_);
    }

private:
    struct op {
        tls_write_batcher& self_;
        std::size_t n;
        bool send;
        bool started = false;

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, std::size_t = 0) {
            if (!started) {
                started = true;
                if (!send || self_.size_ == 0) // never complete inside the initiation
                    return asio::post(self_.socket_.get_executor(), std::move(self));
                return asio::async_write(self_.socket_,
                                         asio::buffer(self_.pending_.get(), self_.size_),
                                         std::move(self));
            }
            if (send)
                self_.size_ = 0; // sent, or the connection is broken (never reused)
            self.complete(ec, ec ? 0 : n);
        }
    };

    Socket& socket_;
    std::unique_ptr<char[]> pending_;
    std::size_t capacity_ = 0, size_ = 0;
    bool batching_ = false;
};

/// One connection. Owned by exactly one round trip at a time, or by the pool while idle.
///
/// The watchdog timer enforces the connect deadline, the stall timeout, the round trip's
/// deadline (`request_timeout`) and the low-speed rule without being part of the composed
/// operation: when a limit is passed it closes the socket, the pending I/O fails, and the
/// operation reports `timeout_error()` (errc::timeout or errc::transfer_too_slow). Its handler
/// keeps the connection alive through a shared_ptr. The I/O path only records progress (a
/// clock read and two stores per completed read or write, no timer operation); the timer
/// wakes at the earliest of the deadlines and, while the low-speed rule is on, every quarter
/// of its window to take a sample of the byte count.
///
/// Threading: the I/O objects' executor is the connection's own strand when the transport's
/// executor type can hold one (see `transport_pool::make_connection`). The round trip that owns
/// the connection runs every step on that executor, and so does the watchdog, so the two never
/// touch the socket (or the byte count and the samples) at the same time even when the
/// io_context runs on several threads. An idle connection is touched only by the pool (under
/// its mutex) and, at most, by a watchdog handler that was cancelled but not yet run; that
/// handler sees no deadline and the low-speed rule off (atomics) and only clears the atomic
/// `watchdog_running_`, so the pool may close an idle connection from any thread.
template <class Executor>
class transport_connection : public std::enable_shared_from_this<transport_connection<Executor>> {
public:
    using socket_type = asio::basic_stream_socket<asio::ip::tcp, Executor>;
    using tls_stream_type = asio::ssl::stream<tls_write_batcher<socket_type>>;
    using timer_type =
        asio::basic_waitable_timer<std::chrono::steady_clock,
                                   asio::wait_traits<std::chrono::steady_clock>, Executor>;
    using resolver_type = asio::ip::basic_resolver<asio::ip::tcp, Executor>;
    using results_type = typename resolver_type::results_type;
    using clock = std::chrono::steady_clock;

    /// A point in time as the watchdog keeps it (`clock` ticks); `no_deadline` for none.
    using ticks = std::int64_t;
    static constexpr ticks no_deadline = std::numeric_limits<ticks>::max();

    /// `now + d` in ticks, or `no_deadline` when `d` is not positive.
    static ticks deadline_after(std::chrono::milliseconds d) noexcept {
        return d.count() > 0 ? to_ticks(clock::now()) + ticks_of(d) : no_deadline;
    }

    explicit transport_connection(const Executor& ex)
        : socket(ex), resolver(ex), read_buffer(transport_read_buffer_size), watchdog_(ex) {}

    transport_connection(const transport_connection&) = delete;
    transport_connection& operator=(const transport_connection&) = delete;

    /// The executor every step of a round trip on this connection runs on (its strand).
    Executor executor() { return watchdog_.get_executor(); }

    socket_type socket;
    resolver_type resolver;
    std::optional<tls_stream_type> tls;
    std::vector<char> read_buffer;
    bool keep_alive = true;         ///< false once the connection must not be reused
    clock::time_point idle_since{}; ///< when it was put back into the pool

    /// Fills `out` without DNS when `to.host` is an IP literal.
    bool endpoints_from_literal(const transport_host_port& to, results_type& out) const {
        std::error_code ec;
        auto address = asio::ip::make_address(to.host, ec);
        if (ec)
            return false;
        out = results_type::create(asio::ip::tcp::endpoint(address, to.port), to.host,
                                   std::to_string(to.port));
        return true;
    }

    /// Creates the TLS stream over the connected socket: SNI (for names, not IP literals) and
    /// certificate + host name verification unless `insecure`. The name (or IP address) is
    /// checked by OpenSSL itself during chain verification (`SSL_set1_host`, or the IP
    /// address for a literal) rather than in a verify callback, so that a failed handshake
    /// leaves a verify result that tells a name mismatch from an untrusted chain (see
    /// `handshake_error`). Wildcards match one whole left-most label only.
    std::error_code start_tls(asio::ssl::context& ctx, const std::string& host, bool insecure) {
        tls.emplace(socket, ctx);
        SSL* ssl = tls->native_handle();
        std::error_code ec;
        asio::ip::make_address(host, ec);
        const bool is_ip = !ec;
        ec.clear();
        if (!is_ip) { // a name: send SNI
            if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1)
                return errc::invalid_endpoint;
        }
        if (insecure) {
            tls->set_verify_mode(asio::ssl::verify_none, ec);
            return ec;
        }
        tls->set_verify_mode(asio::ssl::verify_peer, ec);
        if (ec)
            return ec;
        if (is_ip) {
            if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1)
                return errc::invalid_endpoint;
        } else {
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            if (SSL_set1_host(ssl, host.c_str()) != 1)
                return errc::invalid_endpoint;
        }
        return {};
    }

    /// The error to report for a failed TLS handshake: the certificate problem OpenSSL's
    /// verify result names (`tls_verify_error`), else the handshake's own error `ec`.
    std::error_code handshake_error(std::error_code ec) {
        if (tls) {
            if (auto mapped = tls_verify_error(SSL_get_verify_result(tls->native_handle())))
                return mapped;
        }
        return ec;
    }

    /// Starts a round trip on this connection: its deadline (`no_deadline` for none) applies
    /// from now on, under whatever phase is armed next. Clears an earlier timeout.
    void begin(ticks request_deadline) noexcept {
        timeout_ = timeout_kind::none;
        request_deadline_.store(request_deadline);
    }

    /// The connect phase: the watchdog deadline is now + `d` (none when `d` is 0; no stall,
    /// no low-speed rule).
    void arm_connect(std::chrono::milliseconds d) {
        stall_ticks_ = 0;
        low_speed_on_.store(false);
        phase_deadline_.store(deadline_after(d));
        schedule();
    }

    /// The transfer phase (write the request, read the response): every `progress` moves the
    /// stall deadline to now + `stall`; with `low_speed_limit` and `low_speed_time` both
    /// non-zero, the low-speed rule starts too (its window opens now).
    void arm_transfer(std::chrono::milliseconds stall, std::uint64_t low_speed_limit,
                      std::chrono::milliseconds low_speed_time) {
        stall_ticks_ = stall.count() > 0 ? ticks_of(stall) : 0;
        written_ = 0;
        const auto now = to_ticks(clock::now());
        phase_deadline_.store(stall_ticks_ > 0 ? now + stall_ticks_ : no_deadline);
        if (low_speed_limit > 0 && low_speed_time.count() > 0) {
            low_limit_ = low_speed_limit;
            low_window_ = ticks_of(low_speed_time);
            low_period_ = std::max<ticks>((low_window_ + 3) / 4, 1); // 4 periods >= 1 window
            samples_.clear();
            samples_.push(now, bytes_);
            next_sample_ = now + low_period_;
            low_speed_on_.store(true);
        } else {
            low_speed_on_.store(false);
        }
        schedule();
    }

    /// `n` bytes were read: counts them and pushes a stall deadline forward.
    void progress(std::size_t n) noexcept {
        bytes_ += n;
        if (stall_ticks_ > 0)
            phase_deadline_.store(to_ticks(clock::now()) + stall_ticks_);
    }
    /// A new write of the request starts (the head, or one chunk of a streamed body): its
    /// running total (`write_progress`) starts again at 0.
    void start_write() noexcept { written_ = 0; }
    /// The request write has moved `total` bytes so far (Asio's completion condition sees the
    /// running total): counts the new ones.
    void write_progress(std::size_t total) noexcept {
        const std::size_t n = total - written_;
        written_ = total;
        progress(n);
    }

    /// Stops the watchdog (the connection goes idle or is done).
    void disarm() {
        clear_limits();
        if (watchdog_running_.load())
            watchdog_.cancel();
    }
    /// True when the watchdog closed the connection.
    bool timed_out() const noexcept { return timeout_ != timeout_kind::none; }
    /// Why the watchdog closed the connection: errc::timeout (connect, stall or request
    /// deadline) or errc::transfer_too_slow (low-speed rule); empty when it did not.
    std::error_code timeout_error() const noexcept {
        switch (timeout_) {
        case timeout_kind::deadline:
            return errc::timeout;
        case timeout_kind::too_slow:
            return errc::transfer_too_slow;
        case timeout_kind::none:
            break;
        }
        return {};
    }

    /// Closes the socket (and the resolver); the TLS stream is dropped without close_notify.
    void close() noexcept {
        disarm_noexcept();
        std::error_code ignored;
        resolver.cancel();
        socket.shutdown(asio::socket_base::shutdown_both, ignored);
        socket.close(ignored);
    }

private:
    enum class timeout_kind { none, deadline, too_slow };

    /// The byte count at one moment (low-speed rule). At most a window and a period apart
    /// are kept: with samples a quarter window apart, 8 slots are never all needed.
    struct sample_ring {
        struct sample {
            ticks at = 0;
            std::uint64_t bytes = 0;
        };
        std::array<sample, 8> slots{};
        std::size_t first = 0;
        std::size_t count = 0;

        void clear() noexcept { first = count = 0; }
        void push(ticks at, std::uint64_t bytes) noexcept {
            if (count == slots.size())
                pop();
            slots[(first + count++) % slots.size()] = {at, bytes};
        }
        void pop() noexcept {
            first = (first + 1) % slots.size();
            --count;
        }
        const sample& front() const noexcept { return slots[first]; }
        const sample& at(std::size_t i) const noexcept { return slots[(first + i) % slots.size()]; }
    };

    static ticks to_ticks(clock::time_point t) noexcept { return t.time_since_epoch().count(); }
    /// `d` in ticks, at most a century (so that `now + d` cannot overflow: a huge timeout
    /// such as `milliseconds::max()` means "none" in practice).
    static ticks ticks_of(std::chrono::milliseconds d) noexcept {
        constexpr std::chrono::milliseconds century = std::chrono::hours(24 * 365 * 100);
        return std::chrono::duration_cast<clock::duration>(std::min(d, century)).count();
    }

    void clear_limits() noexcept {
        phase_deadline_.store(no_deadline);
        request_deadline_.store(no_deadline);
        low_speed_on_.store(false);
        stall_ticks_ = 0;
    }

    void disarm_noexcept() noexcept {
        clear_limits();
        if (watchdog_running_.load()) {
            try {
                watchdog_.cancel();
            } catch (...) {
            }
        }
    }

    /// The next moment the watchdog must look: the earliest deadline, or the next low-speed
    /// sample; `no_deadline` when nothing is armed.
    ticks next_wake() const noexcept {
        ticks t = std::min(phase_deadline_.load(), request_deadline_.load());
        if (low_speed_on_.load())
            t = std::min(t, next_sample_);
        return t;
    }

    /// Starts the watchdog, or makes the running one wake earlier (its handler re-arms).
    void schedule() {
        const ticks wake = next_wake();
        if (!watchdog_running_.load())
            start_watchdog(wake);
        else if (wake < timer_expiry_)
            watchdog_.cancel();
    }

    void start_watchdog(ticks wake) {
        if (wake == no_deadline)
            return;
        watchdog_running_.store(true);
        timer_expiry_ = wake;
        watchdog_.expires_at(clock::time_point(clock::duration(wake)));
        watchdog_.async_wait(
            [self = this->shared_from_this()](const std::error_code&) { self->on_watchdog(); });
    }

    void on_watchdog() {
        watchdog_running_.store(false);
        const ticks now = to_ticks(clock::now());
        if (now >= phase_deadline_.load() || now >= request_deadline_.load())
            return expire(timeout_kind::deadline);
        if (low_speed_on_.load() && now >= next_sample_) {
            if (too_slow(now))
                return expire(timeout_kind::too_slow);
            next_sample_ = now + low_period_;
        }
        start_watchdog(next_wake());
    }

    /// Takes a sample; true when fewer than `low_limit_` bytes per second moved since the
    /// newest sample that is at least a window old (none yet: the transfer is not judged).
    bool too_slow(ticks now) noexcept {
        samples_.push(now, bytes_);
        std::size_t base = samples_.count; // the newest sample at least a window old
        for (std::size_t i = 0; i + 1 < samples_.count; ++i)
            if (samples_.at(i).at <= now - low_window_)
                base = i;
        if (base == samples_.count)
            return false;
        for (std::size_t i = 0; i < base; ++i)
            samples_.pop(); // older than the window: never the base again
        const auto& from = samples_.front();
        const double seconds =
            std::chrono::duration<double>(clock::duration(now - from.at)).count();
        return static_cast<double>(bytes_ - from.bytes) < static_cast<double>(low_limit_) * seconds;
    }

    void expire(timeout_kind why) {
        timeout_ = why;
        clear_limits();
        std::error_code ignored;
        resolver.cancel();
        socket.close(ignored);
    }

    timer_type watchdog_;
    std::atomic<ticks> phase_deadline_{no_deadline};   ///< connect or stall deadline
    std::atomic<ticks> request_deadline_{no_deadline}; ///< the round trip's deadline
    std::atomic<bool> low_speed_on_{false};
    ticks stall_ticks_ = 0;   ///< the stall timeout of the transfer phase, 0 = none
    std::uint64_t bytes_ = 0; ///< bytes moved on this connection (both directions)
    std::size_t written_ = 0; ///< bytes of the current request written so far
    std::uint64_t low_limit_ = 0;
    ticks low_window_ = 0;
    ticks low_period_ = 1;
    ticks next_sample_ = no_deadline;
    sample_ring samples_;
    ticks timer_expiry_ = no_deadline;
    std::atomic<bool> watchdog_running_{false};
    timeout_kind timeout_ = timeout_kind::none;
};

/// A round trip waiting for a connection slot: the pool wakes it by cancelling its timer.
/// The wait is started under the pool's mutex (`transport_pool::wait`), and the wake-up
/// happens under the same mutex, so a wake-up can never fall between "the host is full" and
/// "the wait is pending", whatever thread releases the connection.
template <class Executor>
struct transport_waiter {
    using timer_type = typename transport_connection<Executor>::timer_type;
    explicit transport_waiter(const Executor& ex) : timer(ex) {}
    timer_type timer;
    bool notified = false;  ///< set by the pool (under its mutex) when it wakes this waiter
    bool cancelled = false; ///< set by `transport_pool::cancel_wait` (under the mutex)
};

/// What `transport_pool::acquire` decided.
enum class transport_acquire {
    reused, ///< an idle pooled connection was handed out
    open,   ///< a slot was reserved: open a new connection
    full,   ///< the host is at its limit: `wait`, then try again
};

/// Connections per (scheme, host, port), shared by the transport and its running round trips.
/// Every member function may be called from any thread (one mutex guards the state).
template <class Executor>
class transport_pool {
public:
    using connection_type = transport_connection<Executor>;

    transport_pool(const Executor& ex, asio_transport_options options)
        : executor_(ex), options_(std::move(options)) {
        owned_ctx_.emplace(asio::ssl::context::tls_client);
        configure_owned_context();
        ctx_ = &*owned_ctx_;
    }

    transport_pool(const Executor& ex, asio::ssl::context& ctx, asio_transport_options options)
        : executor_(ex), options_(std::move(options)), ctx_(&ctx) {}

    const Executor& executor() const noexcept { return executor_; }
    const asio_transport_options& options() const noexcept { return options_; }
    asio::ssl::context& ssl_context() noexcept { return *ctx_; }

    /// Hands out an idle connection (`reused`), reserves a slot (`open`), or says the host is
    /// at its limit (`full`).
    transport_acquire acquire(const std::string& key, std::shared_ptr<connection_type>& out) {
        std::lock_guard lock(mutex_);
        sweep_locked();
        auto& h = hosts_[key];
        while (!h.idle.empty()) {
            out = std::move(h.idle.back());
            h.idle.pop_back();
            if (out->socket.is_open())
                return transport_acquire::reused;
            out.reset(); // closed behind our back: drop it
            --h.open;
        }
        if (h.open < limit()) {
            ++h.open;
            return transport_acquire::open;
        }
        return transport_acquire::full;
    }

    /// After `acquire` said `full`: queues `waiter` and calls `start_wait()` (which must start
    /// an `async_wait` on `waiter->timer`) while holding the mutex. If a connection became
    /// available since `acquire`, the timer is made already expired and the waiter counts as
    /// woken, so the wait completes at once and the caller tries again.
    template <class StartWait>
    void wait(const std::string& key, transport_waiter<Executor>* waiter, StartWait&& start_wait) {
        std::lock_guard lock(mutex_);
        auto& h = hosts_[key];
        if (waiter->cancelled || !h.idle.empty() || h.open < limit()) {
            waiter->notified = !waiter->cancelled;
            waiter->timer.expires_at(connection_type::clock::time_point::min());
        } else {
            waiter->notified = false;
            waiter->timer.expires_at(connection_type::clock::time_point::max());
            h.waiters.push_back(waiter);
        }
        start_wait();
    }

    /// Cancels `waiter`'s wait (from any thread): a pending wait completes at once, and a wait
    /// not started yet will not block.
    void cancel_wait(transport_waiter<Executor>* waiter) {
        std::lock_guard lock(mutex_);
        waiter->cancelled = true;
        waiter->timer.cancel();
    }

    /// Called when a waiter's wait completed. Returns true when it was woken by the pool and
    /// should try again; false when it was cancelled (it is removed from the queue, and a
    /// wake-up it received is passed on).
    bool finish_wait(const std::string& key, transport_waiter<Executor>* waiter, bool cancelled) {
        std::lock_guard lock(mutex_);
        auto& h = hosts_[key];
        if (!cancelled && waiter->notified)
            return true;
        for (auto it = h.waiters.begin(); it != h.waiters.end(); ++it) {
            if (*it == waiter) {
                h.waiters.erase(it);
                break;
            }
        }
        if (waiter->notified)
            notify_one_locked(h);
        return cancelled ? false : true;
    }

    /// A new connection for a reserved slot. With `asio::any_io_executor` (the default) it gets
    /// its own strand of the transport's executor; with any other executor type it uses the
    /// transport's executor as it is (which must then not run handlers concurrently: one
    /// thread, or a strand type such as `asio::strand<asio::io_context::executor_type>`).
    std::shared_ptr<connection_type> make_connection(const std::string&) {
        opened_.fetch_add(1);
        if constexpr (std::is_same_v<Executor, asio::any_io_executor>)
            return std::make_shared<connection_type>(Executor(asio::make_strand(executor_)));
        else
            return std::make_shared<connection_type>(executor_);
    }

    /// Closes `c` and returns a fresh connection that takes over its slot (the retry).
    std::shared_ptr<connection_type> replace_connection(const std::string& key,
                                                        std::shared_ptr<connection_type> c) {
        c->close();
        return make_connection(key);
    }

    /// Gives back a connection after a round trip: to the idle list when it may be reused,
    /// else closed and its slot freed. Wakes one waiter of that host either way.
    void release(const std::string& key, std::shared_ptr<connection_type> c) {
        if (!c->keep_alive || !c->socket.is_open())
            c->close();
        std::lock_guard lock(mutex_);
        auto& h = hosts_[key];
        if (c->socket.is_open()) {
            c->idle_since = connection_type::clock::now();
            h.idle.push_back(std::move(c));
        } else {
            --h.open;
        }
        notify_one_locked(h);
    }

    void close_idle() {
        std::lock_guard lock(mutex_);
        for (auto& [key, h] : hosts_) {
            for (auto& c : h.idle) {
                c->close();
                --h.open;
                notify_one_locked(h);
            }
            h.idle.clear();
        }
    }

    std::size_t connections_opened() const noexcept { return opened_.load(); }

    std::size_t idle_connections() const {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& [key, h] : hosts_)
            n += h.idle.size();
        return n;
    }

private:
    struct host_state {
        std::size_t open = 0; ///< idle + in use + connecting
        std::vector<std::shared_ptr<connection_type>> idle;
        std::deque<transport_waiter<Executor>*> waiters;
    };

    std::size_t limit() const noexcept {
        return options_.max_connections_per_host == 0 ? 1 : options_.max_connections_per_host;
    }

    void configure_owned_context() {
        auto& ctx = *owned_ctx_;
        SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
        // OpenSSL's own TLS 1.3 suites, AES-128-GCM first (OpenSSL lists AES-256-GCM first,
        // and servers follow the client's order unless told otherwise): 4.7 against 2.7 GB/s
        // per core here (`openssl speed -evp`), which both ends of an upload pay on every byte.
        SSL_CTX_set_ciphersuites(ctx.native_handle(), "TLS_AES_128_GCM_SHA256:"
                                                      "TLS_AES_256_GCM_SHA384:"
                                                      "TLS_CHACHA20_POLY1305_SHA256");
        if (options_.insecure_skip_verify) {
            ctx.set_verify_mode(asio::ssl::verify_none);
            return;
        }
        ctx.set_verify_mode(asio::ssl::verify_peer);
        ctx.set_default_verify_paths();
        if (!options_.ca_file.empty())
            ctx.load_verify_file(options_.ca_file);
    }

    void notify_one_locked(host_state& h) {
        while (!h.waiters.empty()) {
            auto* w = h.waiters.front();
            h.waiters.pop_front();
            if (w->notified)
                continue;
            w->notified = true;
            w->timer.cancel();
            return;
        }
    }

    /// Closes idle connections older than idle_timeout (every host).
    void sweep_locked() {
        auto now = connection_type::clock::now();
        for (auto& [key, h] : hosts_) {
            // Not std::remove_if: it leaves the elements past its new end moved-from (null),
            // and those are the ones to close. Compacts in place, in order.
            std::size_t kept = 0;
            for (std::size_t i = 0; i < h.idle.size(); ++i) {
                if (now - h.idle[i]->idle_since >= options_.idle_timeout) {
                    h.idle[i]->close();
                    --h.open;
                } else {
                    if (kept != i)
                        h.idle[kept] = std::move(h.idle[i]);
                    ++kept;
                }
            }
            h.idle.resize(kept);
        }
    }

    Executor executor_;
    asio_transport_options options_;
    std::optional<asio::ssl::context> owned_ctx_;
    asio::ssl::context* ctx_ = nullptr;
    mutable std::mutex mutex_;
    std::map<std::string, host_state> hosts_;
    std::atomic<std::size_t> opened_{0};
};

/// Reads one response with the sans-io parser: HEAD flag, body cap, and the caller's body sink
/// for 2xx responses (non-2xx bodies are always stored so they can be parsed).
class transport_response_reader {
public:
    void start(bool head_request, const round_trip_options* options, std::size_t default_cap) {
        parser_.reset();
        parser_.set_head_request(head_request);
        options_ = options;
        cap_ = options->max_body_size != 0 ? options->max_body_size : default_cap;
        parser_.set_body_limit(cap_);
        configured_ = false;
        leftover_ = false;
        received_ = false;
        header_error_.clear();
    }

    /// Feeds received bytes; returns the parser's (or the sink's) error.
    std::error_code feed(std::string_view data) {
        if (!data.empty())
            received_ = true;
        std::error_code ec;
        while (!data.empty()) {
            auto n = parser_.feed(data, ec);
            if (ec)
                return ec;
            data.remove_prefix(n);
            bool changed = configure();
            if (header_error_)
                return header_error_;
            if (parser_.done()) {
                leftover_ = !data.empty();
                break;
            }
            if (n == 0 && !changed) // cannot happen with a conforming parser; never spin
                return errc::bad_header;
        }
        return {};
    }

    /// The connection reached EOF: completes an EOF-delimited body or reports truncation.
    std::error_code finish_eof() {
        std::error_code ec;
        parser_.finish_eof(ec);
        return ec;
    }

    bool done() const noexcept { return parser_.done(); }
    bool received_any() const noexcept { return received_; }
    bool keep_alive() const noexcept { return parser_.keep_alive() && !leftover_; }
    http::response take_response() { return parser_.release(); }

private:
    /// Once the header is parsed: show it to the caller's `on_header` (its error ends the
    /// round trip before any body byte is delivered), and stream a 2xx body to the caller's
    /// sink (no cap there: Content-Length framing still bounds it, and the caller's
    /// `on_header` or sink bounds the rest, as GetObject does).
    bool configure() {
        if (configured_ || !parser_.header_done())
            return false;
        configured_ = true;
        if (options_->on_header)
            header_error_ = options_->on_header(parser_.get());
        if (options_->body_sink && parser_.get().ok()) {
            parser_.set_body_sink(options_->body_sink);
            parser_.set_body_limit(std::numeric_limits<std::uint64_t>::max());
        }
        return true;
    }

    http::response_parser parser_;
    const round_trip_options* options_ = nullptr;
    std::size_t cap_ = 0;
    std::error_code header_error_; ///< what the caller's `on_header` returned
    bool configured_ = false;
    bool leftover_ = false;
    bool received_ = false;
};

} // namespace detail
} // namespace ossmp
