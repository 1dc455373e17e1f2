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

/// One connection. Owned by exactly one round trip at a time, or by the pool while idle.
///
/// The watchdog timer enforces the connect deadline and the stall timeout without being part
/// of the composed operation: when the deadline passes it closes the socket, the pending I/O
/// fails, and the operation reports errc::timeout because `timed_out()` is set. Its handler
/// keeps the connection alive through a shared_ptr.
///
/// Threading: the I/O objects' executor is the connection's own strand when the transport's
/// executor type can hold one (see `transport_pool::make_connection`). The round trip that owns
/// the connection runs every step on that executor, and so does the watchdog, so the two never
/// touch the socket at the same time even when the io_context runs on several threads. An idle
/// connection is touched only by the pool (under its mutex) and, at most, by a watchdog handler
/// that was cancelled but not yet run; that handler sees `no_deadline` and only clears the
/// atomic `watchdog_running_`, so the pool may close an idle connection from any thread.
template <class Executor>
class transport_connection : public std::enable_shared_from_this<transport_connection<Executor>> {
public:
    using socket_type = asio::basic_stream_socket<asio::ip::tcp, Executor>;
    using tls_stream_type = asio::ssl::stream<socket_type&>;
    using timer_type =
        asio::basic_waitable_timer<std::chrono::steady_clock,
                                   asio::wait_traits<std::chrono::steady_clock>, Executor>;
    using resolver_type = asio::ip::basic_resolver<asio::ip::tcp, Executor>;
    using results_type = typename resolver_type::results_type;
    using clock = std::chrono::steady_clock;

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

    /// Starts (or moves) the watchdog deadline to now + `d`. With `stall`, every `progress()`
    /// moves it again by `d`.
    void arm(std::chrono::milliseconds d, bool stall = false) {
        stall_ = stall ? d : std::chrono::milliseconds::zero();
        timed_out_ = false;
        auto deadline = to_ticks(clock::now() + d);
        deadline_.store(deadline);
        if (!watchdog_running_.load())
            start_watchdog();
        else if (deadline < timer_expiry_)
            watchdog_.cancel(); // the handler re-arms at the earlier deadline
    }
    /// Bytes moved: pushes a stall deadline forward.
    void progress() noexcept {
        if (stall_.count() > 0)
            deadline_.store(to_ticks(clock::now() + stall_));
    }
    /// Stops the watchdog (the connection goes idle or is done).
    void disarm() {
        deadline_.store(no_deadline);
        stall_ = std::chrono::milliseconds::zero();
        if (watchdog_running_.load())
            watchdog_.cancel();
    }
    /// True when the watchdog closed the connection.
    bool timed_out() const noexcept { return timed_out_; }

    /// Closes the socket (and the resolver); the TLS stream is dropped without close_notify.
    void close() noexcept {
        disarm_noexcept();
        std::error_code ignored;
        resolver.cancel();
        socket.shutdown(asio::socket_base::shutdown_both, ignored);
        socket.close(ignored);
    }

private:
    static constexpr std::int64_t no_deadline = std::numeric_limits<std::int64_t>::max();

    static std::int64_t to_ticks(clock::time_point t) noexcept {
        return t.time_since_epoch().count();
    }

    void disarm_noexcept() noexcept {
        deadline_.store(no_deadline);
        stall_ = std::chrono::milliseconds::zero();
        if (watchdog_running_.load()) {
            try {
                watchdog_.cancel();
            } catch (...) {
            }
        }
    }

    void start_watchdog() {
        watchdog_running_.store(true);
        timer_expiry_ = deadline_.load();
        watchdog_.expires_at(clock::time_point(clock::duration(timer_expiry_)));
        watchdog_.async_wait(
            [self = this->shared_from_this()](const std::error_code&) { self->on_watchdog(); });
    }

    void on_watchdog() {
        watchdog_running_.store(false);
        auto deadline = deadline_.load();
        if (deadline == no_deadline)
            return;
        if (to_ticks(clock::now()) >= deadline) {
            timed_out_ = true;
            deadline_.store(no_deadline);
            std::error_code ignored;
            resolver.cancel();
            socket.close(ignored);
            return;
        }
        start_watchdog();
    }

    timer_type watchdog_;
    std::atomic<std::int64_t> deadline_{no_deadline};
    std::chrono::milliseconds stall_{0};
    std::int64_t timer_expiry_ = no_deadline;
    std::atomic<bool> watchdog_running_{false};
    bool timed_out_ = false;
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
            auto old_end = std::remove_if(h.idle.begin(), h.idle.end(), [&](const auto& c) {
                return now - c->idle_since >= options_.idle_timeout;
            });
            for (auto it = old_end; it != h.idle.end(); ++it) {
                (*it)->close();
                --h.open;
            }
            h.idle.erase(old_end, h.idle.end());
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
    /// Once the header is parsed: stream a 2xx body to the caller's sink (no cap there).
    bool configure() {
        if (configured_ || !parser_.header_done())
            return false;
        configured_ = true;
        if (options_->body_sink && parser_.get().ok()) {
            parser_.set_body_sink(options_->body_sink);
            parser_.set_body_limit(std::numeric_limits<std::uint64_t>::max());
        }
        return true;
    }

    http::response_parser parser_;
    const round_trip_options* options_ = nullptr;
    std::size_t cap_ = 0;
    bool configured_ = false;
    bool leftover_ = false;
    bool received_ = false;
};

} // namespace detail
} // namespace ossmp
