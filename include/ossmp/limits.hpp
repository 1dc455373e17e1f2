// ossmp/limits.hpp: limits that many uploads in one process draw from together: a rate limit in
// bytes per second (`rate_limiter`, with `rate_limited_body`, a body source that waits for it
// before it hands on each chunk) and a memory budget (`memory_budget`, whose grants are
// `memory_lease`s).
//
// Both are cheap copyable handles to shared state: every copy may be used from any thread, and
// waiting never blocks a thread (acquisitions are token-generic asynchronous operations, served
// first come, first served). The arithmetic of the rate limit is the sans-io `token_bucket`,
// which takes the time as a parameter, so that a test drives it with a fake clock.
#pragma once

#include "ossmp/detail/asio.hpp"
#include "ossmp/http/body_source.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

namespace ossmp {

namespace detail {

// Token counts are kept in nano-bytes (bytes x 10^9), so that a rate in bytes per second
// accrues exactly `rate` units per nanosecond: no rounding drifts however many takes there are.
// 64 bits are not enough for that (10 GiB of burst is 1.07e19 nano-bytes).
__extension__ using wide_int = __int128;
inline constexpr wide_int nanos_per_second = 1'000'000'000;

} // namespace detail

// --- Rate limit ------------------------------------------------------------------------------

/// A token bucket, the arithmetic of a rate limit, without clocks or I/O: every call takes the
/// current time as a parameter (a test passes a fake one). Not thread-safe (`rate_limiter`
/// guards one with a mutex).
///
/// Tokens are bytes. The bucket fills at `rate()` bytes per second up to `burst()` bytes, and
/// starts full. `take(n, now)` grants `n` bytes when the bucket holds `min(n, burst())` of them
/// and removes `n`: a request larger than the burst is served when the bucket is full and
/// leaves it in debt (a negative balance) that the next requests wait out. So a request of any
/// size is served, and the long-run rate is exact: the bytes granted from a full bucket until
/// time t never exceed `burst + rate x t` by more than one request's excess over the burst
/// (while requests keep waiting, they reach that bound: no credit is lost to rounding; what an
/// idle, full bucket would earn beyond the burst is never granted). The balance is kept in
/// nano-bytes and time in nanoseconds: the arithmetic is exact integer arithmetic.
///
/// A rate of 0 means unlimited: everything is granted at once and nothing is counted.
class token_bucket {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using duration = clock::duration;

    /// The smallest default burst: one `span_body` chunk, so that a request of that size never
    /// has to wait for a full bucket and run it into debt at low rates.
    static constexpr std::uint64_t min_default_burst = 256 * 1024;

    /// The burst used when none is given: 100 ms of traffic at `bytes_per_second` (smooth enough
    /// for a TCP connection, few enough timer wake-ups), at least `min_default_burst`.
    static constexpr std::uint64_t default_burst(std::uint64_t bytes_per_second) noexcept {
        return std::max(bytes_per_second / 10, min_default_burst);
    }

    /// A full bucket at `now`. `burst` 0 chooses `default_burst(bytes_per_second)`, and keeps
    /// choosing it when the rate changes; any other burst stays as given.
    explicit token_bucket(std::uint64_t bytes_per_second, time_point now,
                          std::uint64_t burst = 0) noexcept
        : rate_(bytes_per_second), burst_(burst != 0 ? burst : default_burst(bytes_per_second)),
          auto_burst_(burst == 0), balance_(capacity()), last_(now) {}

    /// Bytes per second; 0 is unlimited.
    std::uint64_t rate() const noexcept { return rate_; }

    /// The bucket's capacity in bytes.
    std::uint64_t burst() const noexcept { return burst_; }

    /// Grants `bytes` at `now` and returns zero when the bucket holds `min(bytes, burst())`
    /// bytes (then they are taken, and the balance may go negative); else takes nothing and
    /// returns how long to wait before asking again (after that wait, the same request is
    /// granted unless the rate changed or someone else took tokens meanwhile). Zero bytes, and
    /// any request at rate 0, are granted at once. A `now` earlier than a time already seen
    /// counts as that time.
    duration take(std::uint64_t bytes, time_point now) noexcept {
        refill(now);
        if (rate_ == 0 || bytes == 0)
            return duration::zero();
        const detail::wide_int need =
            detail::wide_int(std::min(bytes, burst_)) * detail::nanos_per_second;
        if (balance_ >= need) {
            balance_ -= detail::wide_int(bytes) * detail::nanos_per_second;
            return duration::zero();
        }
        // Rounded up, so that the bucket holds `need` when the wait is over.
        const detail::wide_int ns = (need - balance_ + rate_ - 1) / rate_;
        constexpr detail::wide_int longest = std::chrono::nanoseconds::max().count() / 2;
        return std::chrono::ceil<duration>(
            std::chrono::nanoseconds(static_cast<std::int64_t>(std::min(ns, longest))));
    }

    /// The balance at `now` in bytes, rounded down: negative while in debt; the largest
    /// `std::int64_t` at rate 0. Changes nothing.
    std::int64_t available(time_point now) const noexcept {
        if (rate_ == 0)
            return std::numeric_limits<std::int64_t>::max();
        const detail::wide_int b = balance_at(now);
        // Floor division (the balance may be negative).
        detail::wide_int bytes = b / detail::nanos_per_second;
        if (b % detail::nanos_per_second < 0)
            --bytes;
        return static_cast<std::int64_t>(
            std::clamp<detail::wide_int>(bytes, std::numeric_limits<std::int64_t>::min(),
                                         std::numeric_limits<std::int64_t>::max()));
    }

    /// Changes the rate from `now` on (0: unlimited); time up to `now` counts at the old rate.
    /// With the default burst, the burst follows the new rate. The balance is capped at the
    /// new burst, so that a lower rate never starts with a burst of credit earned at the old
    /// one, and a debt is kept (what was granted is paid for, at the new rate), so that lowering
    /// and raising the rate again cannot be used to skip it. Coming from rate 0 the bucket
    /// starts full, like a new one.
    void set_rate(std::uint64_t bytes_per_second, time_point now) noexcept {
        refill(now);
        const bool was_unlimited = rate_ == 0;
        rate_ = bytes_per_second;
        if (auto_burst_)
            burst_ = default_burst(bytes_per_second);
        balance_ = was_unlimited ? capacity() : std::min(balance_, capacity());
    }

private:
    detail::wide_int capacity() const noexcept {
        return detail::wide_int(burst_) * detail::nanos_per_second;
    }

    // The balance at `now`. A bucket fills up to the burst plus less than one nanosecond's
    // worth of tokens: a wait is rounded up to a whole nanosecond, and what the waiter gets
    // beyond its need in that fraction of a nanosecond is kept for the next request, so that
    // no credit is lost to rounding even when requests are as large as the burst.
    detail::wide_int balance_at(time_point now) const noexcept {
        if (rate_ == 0 || now <= last_)
            return balance_;
        const detail::wide_int limit = capacity() + rate_ - 1;
        if (balance_ >= limit)
            return balance_;
        const auto dt = std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count();
        const detail::wide_int gap = limit - balance_;
        // Full already? (Compared first, so that `rate_ * dt` stays at most `gap`.)
        if (detail::wide_int(dt) > gap / rate_)
            return limit;
        return balance_ + detail::wide_int(rate_) * dt;
    }

    void refill(time_point now) noexcept {
        balance_ = balance_at(now);
        last_ = std::max(last_, now);
    }

    std::uint64_t rate_;
    std::uint64_t burst_;
    bool auto_burst_;
    detail::wide_int balance_; // nano-bytes; negative: debt
    time_point last_;
};

namespace detail {

/// One queued `rate_limiter` acquisition (see `rate_limiter_state`).
class rate_waiter_base {
public:
    enum class status { queued, granted, cancelled };

    using list = std::list<rate_waiter_base*>;

    // The queue's node for this waiter is made here, so that queueing and unqueueing it
    // (splices) never allocate or throw under the lock.
    explicit rate_waiter_base(std::uint64_t n) : bytes(n), node_{this} {}
    virtual ~rate_waiter_base() = default;
    rate_waiter_base(const rate_waiter_base&) = delete;
    rate_waiter_base& operator=(const rate_waiter_base&) = delete;

    /// Makes the waiter look at the queue again soon (its timer's wait ends). Under the lock.
    virtual void wake() noexcept = 0;

    /// Under the lock: appends the waiter to `queue` / takes it out of it.
    void link(list& queue) noexcept {
        position_ = node_.begin();
        queue.splice(queue.end(), node_);
        linked_ = true;
    }
    void unlink(list& queue) noexcept { node_.splice(node_.end(), queue, position_); }

    const std::uint64_t bytes;
    status state = status::queued; // under the lock

protected:
    bool linked_ = false; // set once, before any other thread can see the waiter

private:
    list node_; // this waiter's node while it is not in the queue
    list::iterator position_;
};

/// The shared state of a `rate_limiter`.
///
/// Waiting: every queued acquisition has a timer of its own, on the executor it was started
/// with, and only the waiter at the head of the queue sleeps for a finite time (until the
/// bucket holds its bytes); the others wait with no expiry until they are woken. Why not one
/// timer for the head: the limiter has no executor of its own (its users may run on different
/// io_contexts, and the limiter may outlive them), and a waiter's timer is the one piece of
/// work that keeps its io_context running and brings the completion back to its executor.
///
/// Protocol (every field under `mutex`): a waiter's own handler (`on_timer`) is the only one
/// to start a wait on its timer, so at most one wait is outstanding; anyone else only wakes it
/// (`wake`: cancels that wait), and the waiter then looks at its status and the queue again.
/// Granting marks a waiter granted and removes it from the queue (the waiter completes
/// itself). When the head changes (a grant, a cancellation) or the rate does, the new head is
/// woken to compute its wait.
class rate_limiter_state {
public:
    rate_limiter_state(std::uint64_t bytes_per_second, std::uint64_t burst)
        : bucket(bytes_per_second, token_bucket::clock::now(), burst) {}

    /// Grants from the front while the bucket allows, waking the granted waiters and, when the
    /// front changed, the new front. Returns the wait of the front that stays, if any.
    std::optional<token_bucket::duration> grant_front(token_bucket::time_point now) noexcept {
        bool changed = false;
        while (!queue.empty()) {
            rate_waiter_base* w = queue.front();
            const auto wait = bucket.take(w->bytes, now);
            if (wait > token_bucket::duration::zero()) {
                if (changed)
                    w->wake();
                return wait;
            }
            w->state = rate_waiter_base::status::granted;
            w->unlink(queue);
            w->wake();
            changed = true;
        }
        return std::nullopt;
    }

    /// Removes a queued waiter; wakes the next one if it was the head.
    void remove(rate_waiter_base* w) noexcept {
        const bool head = queue.front() == w;
        w->unlink(queue);
        if (head && !queue.empty())
            queue.front()->wake();
    }

    std::mutex mutex;
    token_bucket bucket;
    rate_waiter_base::list queue; // FIFO; a waiter unlinks itself on destruction
};

/// A queued acquisition that completes `Handler` (signature `void(std::error_code)`).
template <class Executor, class Handler>
class rate_waiter final : public rate_waiter_base,
                          public std::enable_shared_from_this<rate_waiter<Executor, Handler>> {
    using clock = token_bucket::clock;
    using timer_type = asio::basic_waitable_timer<clock, asio::wait_traits<clock>, Executor>;
    using work_type =
        decltype(asio::prefer(std::declval<asio::associated_executor_t<Handler, Executor>>(),
                              asio::execution::outstanding_work.tracked));

public:
    /// The longest sleep before the head looks at the bucket again (a wait of days is
    /// recomputed now and then rather than added to a time point that could overflow).
    static constexpr clock::duration max_sleep = std::chrono::hours(1);

    rate_waiter(std::shared_ptr<rate_limiter_state> state, const Executor& ex, std::uint64_t bytes,
                Handler handler)
        : rate_waiter_base(bytes), state_(std::move(state)), timer_(ex),
          work_(asio::prefer(asio::get_associated_executor(handler, ex),
                             asio::execution::outstanding_work.tracked)),
          handler_(std::move(handler)) {}

    // Completed waiters are off the queue already. One that never completed lost its pending
    // wait (its io_context was destroyed with it): it leaves the queue so the others go on.
    // One that was never queued (`start` threw) is known to no one.
    ~rate_waiter() override {
        if (!linked_)
            return;
        std::lock_guard lock(state_->mutex);
        if (state == status::queued)
            state_->remove(this);
    }

    /// Starts the wait (`wait`: the head's; none: not the head) and queues the waiter. Under
    /// the lock, in the initiating function. When it throws, nothing was queued.
    void start(std::optional<clock::duration> wait) {
        auto slot = asio::get_associated_cancellation_slot(handler_);
        if (slot.is_connected())
            slot.template emplace<canceller>(this->weak_from_this());
        arm(wait ? std::optional(clock::now() + *wait) : std::nullopt);
        link(state_->queue); // the timer's handler needs the lock: it sees the waiter queued
    }

    void wake() noexcept override {
        try {
            timer_.cancel();
        } catch (const std::system_error&) {
            // The reactor failed to cancel: the waiter still wakes when its expiry comes.
        }
    }

private:
    struct canceller {
        explicit canceller(std::weak_ptr<rate_waiter> w) noexcept : waiter(std::move(w)) {}
        std::weak_ptr<rate_waiter> waiter;
        void operator()(asio::cancellation_type type) {
            if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                         asio::cancellation_type::total)) == asio::cancellation_type::none)
                return;
            if (auto w = waiter.lock())
                w->cancel();
        }
    };

    // Under the lock: sleeps until `expiry` (none: until woken).
    void arm(std::optional<clock::time_point> expiry) {
        timer_.expires_at(expiry ? *expiry : clock::time_point::max());
        timer_.async_wait([self = this->shared_from_this()](std::error_code) { self->on_timer(); });
    }

    void on_timer() {
        std::unique_lock lock(state_->mutex);
        if (state == status::queued) {
            const auto now = clock::now();
            if (state_->queue.front() != this)
                return arm(std::nullopt);
            const auto wait = state_->grant_front(now);
            if (state == status::queued)
                return arm(now + std::min(*wait, max_sleep));
        }
        const auto outcome = state;
        lock.unlock();
        complete(outcome == status::granted ? std::error_code{}
                                            : std::error_code(asio::error::operation_aborted));
    }

    void cancel() {
        std::lock_guard lock(state_->mutex);
        if (state != status::queued)
            return;
        state = status::cancelled;
        wake(); // before the next head's: its completion comes first
        state_->remove(this);
    }

    // On the timer's executor, outside the lock; the slot is cleared on the handler's.
    void complete(std::error_code ec) {
        asio::dispatch(work_, [h = std::move(handler_), ec]() mutable {
            auto slot = asio::get_associated_cancellation_slot(h);
            if (slot.is_connected())
                slot.clear();
            std::move(h)(ec);
        });
    }

    std::shared_ptr<rate_limiter_state> state_;
    timer_type timer_;
    work_type work_;
    Handler handler_;
};

} // namespace detail

/// A rate limit in bytes per second that any number of uploads (and threads) share: each
/// asks for its bytes with `async_acquire` before it sends them, and waits its turn.
///
/// A cheap copyable handle: copies share one `token_bucket` (see it for the arithmetic: the
/// burst, debt for requests above it, what `set_rate` keeps). Requests are served in the order
/// they were made (FIFO): a small request never overtakes a big one, and nothing that comes
/// later delays a request. Every member function is thread-safe.
class rate_limiter {
public:
    /// A limit of `bytes_per_second` (0: unlimited) with a bucket of `burst` bytes (0: the
    /// default, `token_bucket::default_burst`, which follows the rate). The bucket starts full.
    explicit rate_limiter(std::uint64_t bytes_per_second = 0, std::uint64_t burst = 0)
        : state_(std::make_shared<detail::rate_limiter_state>(bytes_per_second, burst)) {}

    /// Changes the rate at once, for the requests already waiting too (the one at the head of
    /// the queue, sleeping for the old rate, wakes and computes its wait again). 0: unlimited
    /// (everything queued is granted).
    void set_rate(std::uint64_t bytes_per_second) {
        std::lock_guard lock(state_->mutex);
        state_->bucket.set_rate(bytes_per_second, token_bucket::clock::now());
        if (!state_->queue.empty())
            state_->queue.front()->wake();
    }

    /// Bytes per second; 0 is unlimited.
    std::uint64_t rate() const {
        std::lock_guard lock(state_->mutex);
        return state_->bucket.rate();
    }

    /// The bucket's capacity in bytes.
    std::uint64_t burst() const {
        std::lock_guard lock(state_->mutex);
        return state_->bucket.burst();
    }

    /// The bucket's balance now, in bytes (negative: in debt); see `token_bucket::available`.
    std::int64_t available() const {
        std::lock_guard lock(state_->mutex);
        return state_->bucket.available(token_bucket::clock::now());
    }

    /// Acquisitions waiting now.
    std::size_t waiters() const {
        std::lock_guard lock(state_->mutex);
        return state_->queue.size();
    }

    /// Waits until `bytes` may be sent, and takes them from the limit.
    ///
    /// Completion signature: `void(std::error_code)`: success when granted (the bytes are
    /// taken), `asio::error::operation_aborted` when cancelled. Never fails otherwise: a request
    /// larger than the burst is served too (see `token_bucket`). A grant available at once (the
    /// queue is empty and the bucket holds the bytes) still completes through a post, never
    /// inside this call.
    ///
    /// Cancellation: terminal (and partial, total) cancellation through the token's associated
    /// cancellation slot completes this request with `operation_aborted`; it takes nothing from
    /// the bucket, and the requests behind it move up. A request already granted completes
    /// with success.
    ///
    /// Threading: the wait runs on a timer on `ex`; the handler is called through its
    /// associated executor (default `ex`). While it waits, the request keeps work on both.
    /// Requests from different executors and io_contexts share one queue: one whose executor
    /// does not run holds up those behind it.
    ///
    /// Lifetimes: the limiter's state lives as long as any handle or request; `ex`'s execution
    /// context must outlive the request (destroying it with the request pending drops the
    /// request without calling its handler, and the queue goes on without it).
    template <asio::execution::executor Executor,
              asio::completion_token_for<void(std::error_code)> Token>
    auto async_acquire(const Executor& ex, std::uint64_t bytes, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [state = state_](auto handler, const Executor& e, std::uint64_t n) {
                start(state, e, n, std::move(handler));
            },
            token, ex, bytes);
    }

private:
    template <class Executor, class Handler>
    static void start(const std::shared_ptr<detail::rate_limiter_state>& state, const Executor& ex,
                      std::uint64_t bytes, Handler handler) {
        using waiter_type = detail::rate_waiter<Executor, Handler>;
        std::unique_lock lock(state->mutex);
        std::optional<token_bucket::duration> wait;
        if (state->queue.empty()) {
            wait = state->bucket.take(bytes, token_bucket::clock::now());
            if (*wait == token_bucket::duration::zero()) {
                lock.unlock();
                auto hex = asio::get_associated_executor(handler, ex);
                asio::post(hex,
                           [h = std::move(handler)]() mutable { std::move(h)(std::error_code{}); });
                return;
            }
        }
        auto waiter = std::make_shared<waiter_type>(state, ex, bytes, std::move(handler));
        waiter->start(wait);
    }

    std::shared_ptr<detail::rate_limiter_state> state_;
};

/// A request body over bytes the caller holds, handed out in chunks of `chunk_size` (the last
/// one shorter), so that a memory part can be rate limited chunk by chunk
/// (`rate_limited_body`) like a file part. Models `http::body_source`: chunks are views (no
/// copy), delivered inside `async_read_chunk`.
///
/// Threading: one read at a time (the body source protocol). Lifetimes: the bytes must stay
/// alive and unchanged until the last pass is over.
class span_body final : public http::body_source {
public:
    /// The default chunk: small enough for a smooth rate limit, large enough for few trips
    /// through the limiter (and at most `token_bucket::min_default_burst`, so that a chunk
    /// never runs a default bucket into debt).
    static constexpr std::size_t default_chunk_size = 256 * 1024;

    explicit span_body(std::span<const std::byte> bytes,
                       std::size_t chunk_size = default_chunk_size) noexcept
        : bytes_(bytes), chunk_size_(std::max<std::size_t>(chunk_size, 1)) {}

    std::uint64_t size() const noexcept override { return bytes_.size(); }

    std::error_code rewind() override {
        position_ = 0;
        return {};
    }

    /// Calls `handler` at once with the next chunk (empty after the last one).
    void async_read_chunk(chunk_handler handler) override {
        const std::size_t n = std::min(chunk_size_, bytes_.size() - position_);
        const auto chunk = bytes_.subspan(position_, n);
        position_ += n;
        handler(std::error_code{}, chunk);
    }

private:
    std::span<const std::byte> bytes_;
    std::size_t chunk_size_;
    std::size_t position_ = 0;
};

/// A body source that hands on the chunks of another (`inner`) only once `limiter` granted
/// their bytes: each chunk is read from `inner`, then acquired (`rate_limiter::async_acquire`
/// with the chunk's size, on a strand of `Executor`), then delivered. Models
/// `http::body_source` with `inner`'s size and bytes; `rewind()` rewinds `inner`. A retry pays
/// for its bytes again (they are sent again).
///
/// Threading: a chunk is handed on on the strand (never inside `async_read_chunk`); an error or
/// the end of `inner` is handed on where `inner` delivers it, and a read after `cancel()` fails
/// at once, inside `async_read_chunk`. One read at a time (the body source protocol).
///
/// The body source protocol has no cancellation, and a chunk may wait long for a slow limit:
/// `cancel()` fails the read in progress with `asio::error::operation_aborted` at once (the
/// chunk's bytes are not taken from the limit), and every read until the next `rewind()`.
///
/// Make it with `std::make_shared` (it keeps itself alive while a read runs) or
/// `make_rate_limited_body`.
template <class Executor = asio::any_io_executor>
class basic_rate_limited_body final
    : public http::body_source,
      public std::enable_shared_from_this<basic_rate_limited_body<Executor>> {
public:
    basic_rate_limited_body(std::shared_ptr<http::body_source> inner, rate_limiter limiter,
                            const Executor& ex)
        : inner_(std::move(inner)), limiter_(std::move(limiter)), strand_(asio::make_strand(ex)) {}

    std::uint64_t size() const noexcept override { return inner_->size(); }

    std::error_code rewind() override {
        cancelled_.store(false);
        return inner_->rewind();
    }

    void async_read_chunk(chunk_handler handler) override {
        if (cancelled_.load())
            return handler(asio::error::operation_aborted, {});
        inner_->async_read_chunk([self = this->shared_from_this(), h = std::move(handler)](
                                     std::error_code ec, std::span<const std::byte> chunk) mutable {
            if (ec || chunk.empty())
                return h(ec, chunk);
            asio::post(self->strand_, [self, h = std::move(h), chunk]() mutable {
                self->acquire(std::move(h), chunk);
            });
        });
    }

    /// Fails the read in progress (if it waits for the limiter) and every read until the next
    /// `rewind()` with `asio::error::operation_aborted`. Thread-safe.
    void cancel() {
        cancelled_.store(true);
        asio::post(strand_, [self = this->shared_from_this()] {
            self->signal_.emit(asio::cancellation_type::terminal);
        });
    }

private:
    // On the strand, like the slot's emission (`cancel`) and its clearing (the completion):
    // a cancellation signal is not thread-safe.
    void acquire(chunk_handler handler, std::span<const std::byte> chunk) {
        if (cancelled_.load())
            return handler(asio::error::operation_aborted, {});
        limiter_.async_acquire(
            strand_, chunk.size(),
            asio::bind_cancellation_slot(signal_.slot(),
                                         [self = this->shared_from_this(), h = std::move(handler),
                                          chunk](std::error_code ec) mutable {
                                             if (ec)
                                                 return h(ec, {});
                                             h(ec, chunk);
                                         }));
    }

    std::shared_ptr<http::body_source> inner_;
    rate_limiter limiter_;
    asio::strand<Executor> strand_;
    asio::cancellation_signal signal_; // on the strand
    std::atomic<bool> cancelled_{false};
};

using rate_limited_body = basic_rate_limited_body<>;

/// `std::make_shared<basic_rate_limited_body<Executor>>(inner, limiter, ex)`.
template <asio::execution::executor Executor>
std::shared_ptr<basic_rate_limited_body<Executor>>
make_rate_limited_body(std::shared_ptr<http::body_source> inner, rate_limiter limiter,
                       const Executor& ex) {
    return std::make_shared<basic_rate_limited_body<Executor>>(std::move(inner), std::move(limiter),
                                                               ex);
}

// --- Memory budget ---------------------------------------------------------------------------

namespace detail {
class memory_budget_state;
}

/// Bytes granted by a `memory_budget`, given back when the lease is destroyed or `reset()`
/// (which wakes the requests waiting for them). Move-only. An empty lease (default, moved
/// from, reset, or the result of a cancelled request) holds nothing.
///
/// Threading: a lease may be released on any thread (one lease object is not for concurrent
/// use). Lifetimes: holds the budget's shared state, so it stays valid when every
/// `memory_budget` handle is gone.
class memory_lease {
public:
    memory_lease() noexcept = default;
    memory_lease(memory_lease&& other) noexcept
        : state_(std::move(other.state_)), size_(std::exchange(other.size_, 0)) {}
    memory_lease& operator=(memory_lease&& other) noexcept {
        if (this != &other) {
            reset();
            state_ = std::move(other.state_);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    memory_lease(const memory_lease&) = delete;
    memory_lease& operator=(const memory_lease&) = delete;
    ~memory_lease() { reset(); }

    /// The bytes held.
    std::uint64_t size() const noexcept { return size_; }

    /// True when the lease holds a grant (of any size, even 0 bytes).
    explicit operator bool() const noexcept { return state_ != nullptr; }

    /// Gives the bytes back (nothing if empty).
    void reset() noexcept;

private:
    friend class detail::memory_budget_state;
    memory_lease(std::shared_ptr<detail::memory_budget_state> state, std::uint64_t size) noexcept
        : state_(std::move(state)), size_(size) {}

    std::shared_ptr<detail::memory_budget_state> state_;
    std::uint64_t size_ = 0;
};

namespace detail {

/// One queued `memory_budget` acquisition.
class memory_waiter_base {
public:
    enum class status { queued, granted, cancelled };

    explicit memory_waiter_base(std::uint64_t n) noexcept : bytes(n) {}
    virtual ~memory_waiter_base() = default;
    memory_waiter_base(const memory_waiter_base&) = delete;
    memory_waiter_base& operator=(const memory_waiter_base&) = delete;

    /// Posts the completion. Outside the lock (a lease given back in it would take the lock).
    virtual void complete(std::error_code ec, memory_lease lease) = 0;

    const std::uint64_t bytes;
    status state = status::queued; // under the lock
};

/// The shared state of a `memory_budget`: the count, and the queue of waiters (owned by it
/// until they are granted or cancelled). Granted and cancelled waiters are moved to a local
/// list (a splice: no allocation, since a lease gives its bytes back in a destructor) and
/// completed after the lock is released.
class memory_budget_state : public std::enable_shared_from_this<memory_budget_state> {
public:
    using waiter_list = std::list<std::shared_ptr<memory_waiter_base>>;

    explicit memory_budget_state(std::uint64_t c) noexcept : capacity(c) {}

    /// Under the lock: whether `bytes` may be granted now (FIFO aside). Above the capacity:
    /// only when nothing is held.
    bool fits(std::uint64_t bytes) const noexcept {
        return in_use == 0 || (in_use <= capacity && bytes <= capacity - in_use);
    }

    /// Under the lock: counts a grant.
    void take(std::uint64_t bytes) noexcept {
        in_use += bytes;
        high_water = std::max(high_water, in_use);
    }

    /// Under the lock: moves the waiters at the front that fit now to `granted`, counted.
    void grant_front(waiter_list& granted) noexcept {
        while (!queue.empty() && fits(queue.front()->bytes)) {
            take(queue.front()->bytes);
            queue.front()->state = memory_waiter_base::status::granted;
            granted.splice(granted.end(), queue, queue.begin());
        }
    }

    /// Completes `granted` (outside the lock).
    void complete(waiter_list& granted) {
        for (auto& w : granted)
            w->complete(std::error_code{}, memory_lease(shared_from_this(), w->bytes));
    }

    /// Gives `bytes` back and completes the waiters that fit now.
    void release(std::uint64_t bytes) noexcept {
        waiter_list granted;
        {
            std::lock_guard lock(mutex);
            in_use -= bytes;
            grant_front(granted);
        }
        complete(granted);
    }

    /// Cancels `w` if still queued; completes it, and whatever its leaving lets through.
    void cancel(const std::shared_ptr<memory_waiter_base>& w) {
        waiter_list granted;
        waiter_list cancelled;
        {
            std::lock_guard lock(mutex);
            if (w->state != memory_waiter_base::status::queued)
                return;
            w->state = memory_waiter_base::status::cancelled;
            const auto it = std::find(queue.begin(), queue.end(), w);
            const bool head = it == queue.begin();
            cancelled.splice(cancelled.end(), queue, it);
            if (head)
                grant_front(granted);
        }
        w->complete(asio::error::operation_aborted, memory_lease{});
        complete(granted);
    }

    /// Grants `bytes` now (returns the lease) or queues `make_waiter()`.
    template <class MakeWaiter>
    std::optional<memory_lease> acquire(std::uint64_t bytes, MakeWaiter make_waiter) {
        std::lock_guard lock(mutex);
        if (queue.empty() && fits(bytes)) {
            take(bytes);
            return memory_lease(shared_from_this(), bytes);
        }
        queue.push_back(make_waiter());
        return std::nullopt;
    }

    mutable std::mutex mutex;
    const std::uint64_t capacity;
    std::uint64_t in_use = 0;
    std::uint64_t high_water = 0;
    waiter_list queue; // FIFO
};

/// A queued acquisition that completes `Handler` (signature
/// `void(std::error_code, memory_lease)`).
template <class Executor, class Handler>
class memory_waiter final : public memory_waiter_base,
                            public std::enable_shared_from_this<memory_waiter<Executor, Handler>> {
    using work_type =
        decltype(asio::prefer(std::declval<asio::associated_executor_t<Handler, Executor>>(),
                              asio::execution::outstanding_work.tracked));

public:
    memory_waiter(std::shared_ptr<memory_budget_state> state, const Executor& ex,
                  std::uint64_t bytes, Handler handler)
        : memory_waiter_base(bytes), state_(std::move(state)),
          work_(asio::prefer(asio::get_associated_executor(handler, ex),
                             asio::execution::outstanding_work.tracked)),
          handler_(std::move(handler)) {}

    /// Connects the cancellation slot (before the waiter is queued).
    void connect() {
        auto slot = asio::get_associated_cancellation_slot(handler_);
        if (slot.is_connected())
            slot.template emplace<canceller>(this->weak_from_this());
    }

    void complete(std::error_code ec, memory_lease lease) override {
        asio::post(work_, [h = std::move(handler_), ec, l = std::move(lease)]() mutable {
            auto slot = asio::get_associated_cancellation_slot(h);
            if (slot.is_connected())
                slot.clear();
            std::move(h)(ec, std::move(l));
        });
    }

private:
    struct canceller {
        explicit canceller(std::weak_ptr<memory_waiter> w) noexcept : waiter(std::move(w)) {}
        std::weak_ptr<memory_waiter> waiter;
        void operator()(asio::cancellation_type type) {
            if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                         asio::cancellation_type::total)) == asio::cancellation_type::none)
                return;
            if (auto w = waiter.lock()) {
                auto state = w->state_;
                state->cancel(w);
            }
        }
    };

    std::shared_ptr<memory_budget_state> state_;
    work_type work_;
    Handler handler_;
};

} // namespace detail

inline void memory_lease::reset() noexcept {
    if (auto state = std::move(state_))
        state->release(std::exchange(size_, 0));
    size_ = 0;
}

/// A budget of bytes (buffers, parts in memory) that any number of uploads (and threads)
/// share: each asks for what it is about to allocate with `async_acquire` and holds the
/// returned `memory_lease` as long as it uses the memory.
///
/// A cheap copyable handle to shared state; every member function is thread-safe. Requests
/// are served in the order they were made (FIFO): a big request waits until its bytes are
/// free, and the requests behind it wait behind it, so it is never starved. A request larger
/// than the whole capacity is granted when nothing else is held (then `in_use()` exceeds the
/// capacity until it is released), so no request ever fails for lack of budget, and the
/// budget never deadlocks as long as every holder releases its lease without needing more.
class memory_budget {
public:
    /// A budget of `capacity` bytes (0: every request waits until nothing else is held).
    explicit memory_budget(std::uint64_t capacity)
        : state_(std::make_shared<detail::memory_budget_state>(capacity)) {}

    /// The budget, in bytes.
    std::uint64_t capacity() const noexcept { return state_->capacity; }

    /// The bytes held by leases now.
    std::uint64_t in_use() const {
        std::lock_guard lock(state_->mutex);
        return state_->in_use;
    }

    /// The largest `in_use()` ever reached (above `capacity()` only through a request larger
    /// than the capacity).
    std::uint64_t high_water() const {
        std::lock_guard lock(state_->mutex);
        return state_->high_water;
    }

    /// Acquisitions waiting now.
    std::size_t waiters() const {
        std::lock_guard lock(state_->mutex);
        return state_->queue.size();
    }

    /// Waits until `bytes` are free in the budget (see the class), and grants them.
    ///
    /// Completion signature: `void(std::error_code, memory_lease)`: success and a lease of
    /// `bytes`, or `asio::error::operation_aborted` and an empty lease when cancelled. A
    /// completion that is destroyed without being called gives its lease back.
    ///
    /// Cancellation: terminal (and partial, total) cancellation through the token's associated
    /// cancellation slot completes a waiting request with `operation_aborted`, holding
    /// nothing; the requests behind it move up (and are granted if they fit now). A request
    /// already granted completes with its lease.
    ///
    /// Threading: the handler is always called through a post to its associated executor
    /// (default `ex`; a plain callback would otherwise have no executor to run on), never
    /// inside this call or inside the `reset()` that frees the bytes. While it waits, the
    /// request keeps work on that executor.
    ///
    /// Lifetimes: the budget's state lives as long as any handle, lease or request. The
    /// handler's executor must stay valid until the request completes.
    template <asio::execution::executor Executor,
              asio::completion_token_for<void(std::error_code, memory_lease)> Token>
    auto async_acquire(const Executor& ex, std::uint64_t bytes, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, memory_lease)>(
            [state = state_](auto handler, const Executor& e, std::uint64_t n) {
                start(state, e, n, std::move(handler));
            },
            token, ex, bytes);
    }

private:
    template <class Executor, class Handler>
    static void start(const std::shared_ptr<detail::memory_budget_state>& state, const Executor& ex,
                      std::uint64_t bytes, Handler handler) {
        using waiter_type = detail::memory_waiter<Executor, Handler>;
        std::optional<Handler> immediate(std::move(handler));
        auto granted = state->acquire(bytes, [&] {
            auto w = std::make_shared<waiter_type>(state, ex, bytes, std::move(*immediate));
            immediate.reset();
            w->connect();
            return w;
        });
        if (!granted)
            return;
        auto hex = asio::get_associated_executor(*immediate, ex);
        asio::post(hex, [h = std::move(*immediate), l = std::move(*granted)]() mutable {
            std::move(h)(std::error_code{}, std::move(l));
        });
    }

    std::shared_ptr<detail::memory_budget_state> state_;
};

} // namespace ossmp
