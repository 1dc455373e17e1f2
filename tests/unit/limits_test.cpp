// Shared limits (limits.hpp): the token bucket's arithmetic on a fake clock; the rate limiter and
// the memory budget on io_contexts (immediate grants posted, FIFO order, cancellation, set_rate
// waking a sleeper, many acquirers on 4 threads); `span_body` and `rate_limited_body` (the inner
// bytes exactly, rewind, cancel, errors).
#include "ossmp/file_body.hpp"
#include "ossmp/limits.hpp"

#include "support/test_bytes.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ossmp::memory_budget;
using ossmp::memory_lease;
using ossmp::rate_limiter;
using ossmp::token_bucket;
using ossmp::test::bytes_of;
using ossmp::test::pattern;
using steady = std::chrono::steady_clock;

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;
const token_bucket::time_point t0{}; // the fake clock's origin
const std::optional<std::error_code> success(std::error_code{});
const std::optional<std::error_code> aborted(asio::error::operation_aborted);

// The time `bytes` take at `rate` bytes/s, in nanoseconds, rounded up (as the bucket rounds).
std::chrono::nanoseconds time_for(std::uint64_t bytes, std::uint64_t rate) {
    return std::chrono::nanoseconds((bytes * 1'000'000'000 + rate - 1) / rate);
}

// Runs `ctx` until `done()` (false when `limit` passed first).
template <class Done>
bool run_until(asio::io_context& ctx, Done done, steady::duration limit = 10s) {
    const auto deadline = steady::now() + limit;
    while (!done()) {
        if (steady::now() >= deadline)
            return false;
        if (ctx.stopped())
            ctx.restart();
        ctx.run_one_for(10ms);
    }
    return true;
}

// --- token_bucket (fake clock) -------------------------------------------------------------------

// Takes `count` requests of `bytes`, waiting (on the fake clock) exactly as long as the bucket says
// whenever it refuses; returns the time of the last grant. Every take after a wait must be granted.
token_bucket::time_point take_all(token_bucket& b, token_bucket::time_point now, int count,
                                  std::uint64_t bytes, int* waits = nullptr) {
    for (int i = 0; i < count; ++i) {
        const auto wait = b.take(bytes, now);
        if (wait > token_bucket::duration::zero()) {
            if (waits)
                ++*waits;
            now += wait;
            REQUIRE(b.take(bytes, now) == token_bucket::duration::zero());
        }
    }
    return now;
}

TEST_CASE("token_bucket: a steady rate over many takes", "[limits]") {
    SECTION("64 MiB at 32 MiB/s in 1 MiB takes, burst 4 MiB: 2 s minus the burst's 125 ms") {
        token_bucket b(32 * MiB, t0, 4 * MiB);
        REQUIRE(b.rate() == 32 * MiB);
        REQUIRE(b.burst() == 4 * MiB);
        int waits = 0;
        const auto end = take_all(b, t0, 64, MiB, &waits);
        REQUIRE(end - t0 == 1875ms);
        REQUIRE(waits == 60); // the first 4 MiB were the initial burst
        REQUIRE(b.available(end) == 0);
    }
    SECTION("the default burst (rate / 10): exact to the nanosecond, no rounding drift") {
        token_bucket b(32 * MiB, t0);
        REQUIRE(b.burst() == 32 * MiB / 10);
        const auto end = take_all(b, t0, 64, MiB);
        REQUIRE(end - t0 == time_for(64 * MiB - 32 * MiB / 10, 32 * MiB));
    }
    SECTION("a rate that does not divide a second: 1001 takes of 1 byte at 3 bytes/s") {
        token_bucket b(3, t0, 1);
        const auto end = take_all(b, t0, 1001, 1);
        // 333.333333334 s: the fractions carry (rounding every wait up would add 666 ns).
        REQUIRE(end - t0 == time_for(1000, 3));
    }
    SECTION("the default burst has a floor of 256 KiB") {
        REQUIRE(token_bucket(KiB, t0).burst() == 256 * KiB);
        REQUIRE(token_bucket::default_burst(0) == 256 * KiB);
        REQUIRE(token_bucket::default_burst(100 * MiB) == 10 * MiB);
    }
}

TEST_CASE("token_bucket: the burst caps what idle time earns", "[limits]") {
    token_bucket b(MiB, t0, MiB);
    REQUIRE(b.available(t0) == static_cast<std::int64_t>(MiB)); // starts full
    REQUIRE(b.take(MiB, t0) == token_bucket::duration::zero());
    REQUIRE(b.available(t0) == 0);
    const auto later = t0 + 10s;
    REQUIRE(b.available(later) == static_cast<std::int64_t>(MiB)); // not 10 MiB
    REQUIRE(b.take(512 * KiB, later) == token_bucket::duration::zero());
    REQUIRE(b.take(512 * KiB, later) == token_bucket::duration::zero());
    const auto wait = b.take(1, later);
    // 954 ns, less the fraction of a nanosecond's worth a full bucket keeps (see balance_at).
    REQUIRE(wait <= time_for(1, MiB));
    REQUIRE(wait >= time_for(1, MiB) - 1ns);
    REQUIRE(b.available(later) == 0); // a refused take takes nothing
    REQUIRE(b.take(1, later + wait) == token_bucket::duration::zero());

    SECTION("a time earlier than one seen counts as that time") {
        REQUIRE(b.take(1, t0) == time_for(1, MiB));
        REQUIRE(b.available(t0) == 0);
    }
}

TEST_CASE("token_bucket: a request larger than the burst", "[limits]") {
    token_bucket b(MiB, t0, 256 * KiB);
    REQUIRE(b.take(4 * MiB, t0) == token_bucket::duration::zero()); // a full bucket serves it
    REQUIRE(b.available(t0) ==
            static_cast<std::int64_t>(256 * KiB) - 4 * static_cast<std::int64_t>(MiB));
    // The debt comes first: the next byte waits for it, the next big request for a full bucket.
    REQUIRE(b.take(1, t0) == time_for(4 * MiB - 256 * KiB + 1, MiB));
    REQUIRE(b.take(4 * MiB, t0) == 4s);
    SECTION("the long-run rate: 10 x 4 MiB at 1 MiB/s take 36 s") {
        const auto end = take_all(b, t0 + 4s, 9, 4 * MiB);
        REQUIRE(end - t0 == 36s); // after the first, each waits 4 s for a full bucket
        REQUIRE(b.available(end) ==
                static_cast<std::int64_t>(256 * KiB) - 4 * static_cast<std::int64_t>(MiB));
    }
}

TEST_CASE("token_bucket: set_rate", "[limits]") {
    SECTION("a lower rate gets no stale burst") {
        token_bucket b(100 * MiB, t0); // default burst: 10 MiB
        REQUIRE(b.available(t0 + 1s) == static_cast<std::int64_t>(10 * MiB));
        b.set_rate(MiB, t0 + 1s);
        REQUIRE(b.rate() == MiB);
        REQUIRE(b.burst() == 256 * KiB); // follows the rate
        REQUIRE(b.available(t0 + 1s) == static_cast<std::int64_t>(256 * KiB));
        REQUIRE(b.take(256 * KiB, t0 + 1s) == token_bucket::duration::zero());
        REQUIRE(b.take(1, t0 + 1s) == time_for(1, MiB));
    }
    SECTION("time before the change counts at the old rate, after it at the new one") {
        token_bucket b(MiB, t0, MiB);
        REQUIRE(b.take(MiB, t0) == token_bucket::duration::zero());
        b.set_rate(2 * MiB, t0 + 500ms);
        REQUIRE(b.burst() == MiB); // an explicit burst stays
        REQUIRE(b.available(t0 + 500ms) == static_cast<std::int64_t>(512 * KiB));
        REQUIRE(b.available(t0 + 750ms) == static_cast<std::int64_t>(MiB));
        // At +600 ms: 512 KiB + 0.1 s x 2 MiB/s; 1 MiB needs 0.3 MiB more: 150 ms.
        REQUIRE(b.take(MiB, t0 + 600ms) == 150ms);
    }
    SECTION("a debt is kept and paid at the new rate") {
        token_bucket b(MiB, t0, 256 * KiB);
        REQUIRE(b.take(4 * MiB, t0) == token_bucket::duration::zero());
        b.set_rate(4 * MiB, t0);
        REQUIRE(b.available(t0) ==
                static_cast<std::int64_t>(256 * KiB) - 4 * static_cast<std::int64_t>(MiB));
        REQUIRE(b.take(1, t0) == time_for(4 * MiB - 256 * KiB + 1, 4 * MiB));
        b.set_rate(MiB, t0); // lowering it again forgives nothing either
        REQUIRE(b.take(1, t0) == time_for(4 * MiB - 256 * KiB + 1, MiB));
    }
    SECTION("rate 0 is unlimited; a rate after it starts with a full bucket") {
        token_bucket b(MiB, t0, MiB);
        REQUIRE(b.take(MiB, t0) == token_bucket::duration::zero());
        b.set_rate(0, t0);
        for (int i = 0; i < 1000; ++i)
            REQUIRE(b.take(1024 * MiB, t0) == token_bucket::duration::zero());
        REQUIRE(b.available(t0) == std::numeric_limits<std::int64_t>::max());
        b.set_rate(MiB, t0 + 1ms);
        REQUIRE(b.available(t0 + 1ms) == static_cast<std::int64_t>(MiB));
        REQUIRE(b.take(MiB, t0 + 1ms) == token_bucket::duration::zero());
        REQUIRE(b.take(1, t0 + 1ms) > token_bucket::duration::zero());
    }
}

TEST_CASE("token_bucket: rate 0 from the start, and zero-byte takes", "[limits]") {
    token_bucket unlimited(0, t0);
    for (int i = 0; i < 100; ++i)
        REQUIRE(unlimited.take(std::uint64_t{1} << 40, t0) == token_bucket::duration::zero());
    token_bucket b(1, t0, 1);
    REQUIRE(b.take(1000, t0) == token_bucket::duration::zero()); // in debt by 999 bytes
    REQUIRE(b.take(0, t0) == token_bucket::duration::zero());
    REQUIRE(b.take(1, t0) == 1000s);
}

// --- rate_limiter --------------------------------------------------------------------------------

TEST_CASE("rate_limiter: a grant available at once is posted, never inline", "[limits]") {
    asio::io_context ctx;
    auto strand = asio::make_strand(ctx);
    for (std::uint64_t rate : {std::uint64_t{0}, MiB}) {
        rate_limiter lim(rate);
        REQUIRE(lim.rate() == rate);
        int calls = 0;
        bool on_strand = false;
        std::error_code got = asio::error::fault;
        lim.async_acquire(ctx.get_executor(), 1000,
                          asio::bind_executor(strand, [&](std::error_code ec) {
                              ++calls;
                              got = ec;
                              on_strand = strand.running_in_this_thread();
                          }));
        REQUIRE(calls == 0);
        ctx.restart();
        ctx.run();
        REQUIRE(calls == 1);
        REQUIRE_FALSE(got);
        REQUIRE(on_strand); // the handler's associated executor
    }
}

TEST_CASE("rate_limiter: waiters are served in order; a big one is not overtaken", "[limits]") {
    const auto start = steady::now();
    rate_limiter lim(10 * MiB, MiB);
    asio::io_context ctx;
    std::string order;
    std::vector<std::error_code> errors;
    auto acquire = [&](char name, std::uint64_t bytes) {
        lim.async_acquire(ctx.get_executor(), bytes, [&, name](std::error_code ec) {
            order += name;
            errors.push_back(ec);
        });
    };
    acquire('A', MiB);     // the burst: at once
    acquire('B', 2 * MiB); // above the burst: waits for a full bucket (100 ms)
    acquire('C', KiB);     // would fit long before B: waits behind it
    acquire('D', KiB);
    REQUIRE(lim.waiters() == 3);
    REQUIRE(run_until(ctx, [&] { return order.size() == 4; }));
    REQUIRE(order == "ABCD");
    for (auto& ec : errors)
        REQUIRE_FALSE(ec);
    REQUIRE(lim.waiters() == 0);
    // B waited for 1 MiB, C for B's debt (1 MiB) and 1 KiB: at least 200 ms at 10 MiB/s.
    const auto elapsed = steady::now() - start;
    REQUIRE(elapsed >= 200ms);
    REQUIRE(elapsed < 10s);
}

TEST_CASE("rate_limiter: cancelling a waiter", "[limits]") {
    rate_limiter lim(100, 100); // 100 bytes/s
    asio::io_context ctx;
    std::string order;
    std::array<std::optional<std::error_code>, 4> result;
    std::array<asio::cancellation_signal, 4> signals;
    auto acquire = [&](int i, std::uint64_t bytes) {
        lim.async_acquire(
            ctx.get_executor(), bytes,
            asio::bind_cancellation_slot(signals[i].slot(), [&, i](std::error_code ec) {
                order += static_cast<char>('A' + i);
                result[i] = ec;
            }));
    };
    acquire(0, 100); // A: the whole bucket
    acquire(1, 100); // B: waits 1 s
    acquire(2, 1);   // C: behind B
    acquire(3, 1);   // D: behind C
    REQUIRE(run_until(ctx, [&] { return result[0].has_value(); }));
    REQUIRE(lim.waiters() == 3);

    // C (not the head) is cancelled at once; B and D are unaffected.
    auto cancelled_at = steady::now();
    signals[2].emit(asio::cancellation_type::terminal);
    REQUIRE(run_until(ctx, [&] { return result[2].has_value(); }));
    REQUIRE(steady::now() - cancelled_at < 500ms);
    REQUIRE(result[2] == aborted);
    REQUIRE_FALSE(result[1].has_value());
    REQUIRE(lim.waiters() == 2);

    // B (the head, sleeping) is cancelled: it takes nothing, so D (1 byte) goes within 10 ms of A's
    // grant, not after B's 100 bytes (another second).
    cancelled_at = steady::now();
    signals[1].emit(asio::cancellation_type::terminal);
    REQUIRE(run_until(ctx, [&] { return result[3].has_value(); }));
    REQUIRE(steady::now() - cancelled_at < 500ms);
    REQUIRE(result[1] == aborted);
    REQUIRE(result[3] == success);
    REQUIRE(order == "ACBD");
    REQUIRE(lim.waiters() == 0);
    REQUIRE(lim.available() >= -1); // only D's byte; B's 100 were never taken
    ctx.restart();
    ctx.run_for(1s);
    REQUIRE(ctx.stopped()); // out of work: no waiter left behind
}

TEST_CASE("rate_limiter: cancelling with use_awaitable and a timer (parallel_group)", "[limits]") {
    rate_limiter lim(100, 100);
    asio::io_context ctx;
    std::optional<std::error_code> first, second;
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            co_await lim.async_acquire(ex, 100, asio::use_awaitable);
            asio::steady_timer timer(ex, 20ms);
            auto group = asio::experimental::make_parallel_group(
                lim.async_acquire(ex, 100, asio::experimental::deferred),
                timer.async_wait(asio::experimental::deferred));
            auto [which, ec1, ec2] =
                co_await group.async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
            first = ec1;
            (void)which;
            (void)ec2;
            auto [ec3] = co_await lim.async_acquire(
                ex, 1, asio::experimental::as_tuple(asio::use_awaitable));
            second = ec3;
        },
        asio::detached);
    const auto start = steady::now();
    ctx.run();
    REQUIRE(first == aborted);
    REQUIRE(second == success);
    REQUIRE(steady::now() - start < 700ms); // not the 1 s the cancelled 100 bytes would cost
}

TEST_CASE("rate_limiter: set_rate wakes a sleeping waiter", "[limits]") {
    rate_limiter lim(10, 100); // 10 bytes/s
    asio::io_context ctx;
    std::array<std::optional<std::error_code>, 3> result;
    for (int i = 0; i < 3; ++i)
        lim.async_acquire(ctx.get_executor(), 100, [&, i](std::error_code ec) { result[i] = ec; });
    REQUIRE(run_until(ctx, [&] { return result[0].has_value(); }));
    ctx.run_for(50ms);
    REQUIRE_FALSE(result[1].has_value()); // sleeps for 10 s at the old rate

    SECTION("a higher rate") {
        lim.set_rate(MiB);
        REQUIRE(lim.rate() == MiB);
        const auto start = steady::now();
        REQUIRE(run_until(
            ctx, [&] { return result[2].has_value(); }, 5s));
        REQUIRE(steady::now() - start < 2s);
    }
    SECTION("unlimited: everything queued goes") {
        lim.set_rate(0);
        REQUIRE(run_until(
            ctx, [&] { return result[2].has_value(); }, 5s));
    }
    REQUIRE(result[1] == success);
    REQUIRE(result[2] == success);
}

TEST_CASE("rate_limiter: waiters on strands of different io_contexts share one queue", "[limits]") {
    rate_limiter lim(10 * MiB, 256 * KiB);
    asio::io_context a, b;
    std::string order;
    std::mutex m;
    auto note = [&](char c) {
        std::lock_guard lock(m);
        order += c;
    };
    lim.async_acquire(a.get_executor(), 256 * KiB, [&](std::error_code) { note('1'); });
    lim.async_acquire(asio::make_strand(b), 256 * KiB, [&](std::error_code) { note('2'); });
    lim.async_acquire(a.get_executor(), 256 * KiB, [&](std::error_code) { note('3'); });
    lim.async_acquire(asio::make_strand(b), 256 * KiB, [&](std::error_code) { note('4'); });
    std::thread tb([&] { b.run(); });
    a.run();
    tb.join();
    REQUIRE(order == "1234");
}

struct rate_counters {
    std::atomic<std::uint64_t> asked{0};
    std::atomic<std::uint64_t> granted{0};
    std::atomic<std::uint64_t> aborted{0};
    std::atomic<int> completions{0};
    std::atomic<int> failures{0};
    std::atomic<int> finished{0};
};

asio::awaitable<void> rate_user(rate_limiter lim, unsigned seed, int rounds, bool race,
                                std::shared_ptr<rate_counters> c) {
    auto ex = co_await asio::this_coro::executor;
    std::minstd_rand rng(seed);
    std::uniform_int_distribution<std::uint64_t> size(1, 64 * KiB);
    std::uniform_int_distribution<int> micros(0, 2000);
    for (int i = 0; i < rounds; ++i) {
        const std::uint64_t n = size(rng);
        c->asked += n;
        std::error_code ec;
        if (race && i % 2 == 0) { // against a timer: either may win
            asio::steady_timer timer(ex, std::chrono::microseconds(micros(rng)));
            auto group = asio::experimental::make_parallel_group(
                lim.async_acquire(ex, n, asio::experimental::deferred),
                timer.async_wait(asio::experimental::deferred));
            auto [which, e, te] =
                co_await group.async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
            (void)which;
            (void)te;
            ec = e;
        } else {
            auto [e] = co_await lim.async_acquire(
                ex, n, asio::experimental::as_tuple(asio::use_awaitable));
            ec = e;
        }
        ++c->completions;
        if (!ec)
            c->granted += n;
        else if (ec == asio::error::operation_aborted)
            c->aborted += n;
        else
            ++c->failures;
    }
    ++c->finished;
}

TEST_CASE("rate_limiter: many acquirers on 4 threads", "[limits]") {
    constexpr int users = 64;
    constexpr int rounds = 16;
    constexpr std::uint64_t high = 64 * MiB;
    const bool race = GENERATE(false, true);
    CAPTURE(race);
    const auto start = steady::now();
    rate_limiter lim(high);
    asio::io_context ctx;
    auto c = std::make_shared<rate_counters>();
    for (int u = 0; u < users; ++u)
        asio::co_spawn(asio::make_strand(ctx),
                       rate_user(lim, static_cast<unsigned>(u) + (race ? 1000u : 0u), rounds,
                                 race && u % 2 == 0, c),
                       [c](std::exception_ptr e) {
                           if (e)
                               ++c->failures;
                       });
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&ctx] { ctx.run(); });
    // The rate changes under the waiters' feet (and from another thread).
    while (c->finished.load() < users && steady::now() - start < 60s) {
        lim.set_rate(high / 2);
        std::this_thread::sleep_for(20ms);
        lim.set_rate(high);
        std::this_thread::sleep_for(20ms);
    }
    if (c->finished.load() < users)
        ctx.stop(); // failed: do not hang
    for (auto& t : threads)
        t.join();
    const auto elapsed = steady::now() - start;

    REQUIRE(c->finished == users);
    REQUIRE(c->failures == 0);
    REQUIRE(c->completions == users * rounds);
    REQUIRE(c->granted + c->aborted == c->asked);
    if (!race)
        REQUIRE(c->granted == c->asked);
    REQUIRE(lim.waiters() == 0);
    // Never faster than the highest rate allows after its burst (timers never fire early).
    const auto burst = token_bucket::default_burst(high);
    const auto least = time_for(c->granted > burst ? c->granted - burst : 0, high);
    const auto granted = c->granted.load();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
    CAPTURE(granted, ms);
    REQUIRE(elapsed >= least);
    REQUIRE(elapsed < 60s);
}

// --- span_body and rate_limited_body -------------------------------------------------------------

// Reads one chunk (the handler may run on any thread).
std::pair<std::error_code, std::string> read_chunk(ossmp::http::body_source& source) {
    auto p = std::make_shared<std::promise<std::pair<std::error_code, std::string>>>();
    auto f = p->get_future();
    source.async_read_chunk([p](std::error_code ec, std::span<const std::byte> chunk) {
        p->set_value({ec, std::string(reinterpret_cast<const char*>(chunk.data()), chunk.size())});
    });
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    return f.get();
}

// Reads a whole pass (after a rewind); the sizes of the chunks in `sizes`.
std::pair<std::error_code, std::string> drain(ossmp::http::body_source& source,
                                              std::vector<std::size_t>* sizes = nullptr) {
    REQUIRE_FALSE(source.rewind());
    std::string out;
    for (;;) {
        auto [ec, chunk] = read_chunk(source);
        if (ec || chunk.empty())
            return {ec, out};
        if (sizes)
            sizes->push_back(chunk.size());
        out += chunk;
    }
}

TEST_CASE("span_body: chunks of a span, and rewind", "[limits]") {
    const std::string data = pattern(600 * KiB + 5, 7);
    ossmp::span_body body(bytes_of(data));
    REQUIRE(body.size() == data.size());
    std::vector<std::size_t> sizes;
    auto [ec, out] = drain(body, &sizes);
    REQUIRE_FALSE(ec);
    REQUIRE(out == data);
    REQUIRE(sizes == std::vector<std::size_t>{256 * KiB, 256 * KiB, 88 * KiB + 5});
    REQUIRE(read_chunk(body).second.empty()); // stays at its end
    // A partial pass, then a rewind: from byte 0 again.
    REQUIRE_FALSE(body.rewind());
    REQUIRE(read_chunk(body).second == data.substr(0, 256 * KiB));
    REQUIRE(drain(body).second == data);

    ossmp::span_body small(bytes_of(data), 1000);
    sizes.clear();
    REQUIRE(drain(small, &sizes).second == data);
    REQUIRE(sizes.size() == (data.size() + 999) / 1000);

    ossmp::span_body empty(std::span<const std::byte>{});
    REQUIRE(empty.size() == 0);
    REQUIRE(drain(empty).second.empty());
}

// An io_context run by a thread of its own for as long as the object lives. A failed test may
// leave work behind: then it is stopped after 5 s rather than hanging.
struct io_thread {
    asio::io_context ctx;
    asio::executor_work_guard<asio::io_context::executor_type> work{ctx.get_executor()};
    std::promise<void> ran;
    std::thread thread{[this] {
        ctx.run();
        ran.set_value();
    }};
    ~io_thread() {
        work.reset();
        if (ran.get_future().wait_for(5s) != std::future_status::ready)
            ctx.stop();
        thread.join();
    }
};

TEST_CASE("rate_limited_body: the inner bytes, exactly, and rewind", "[limits]") {
    io_thread io;
    const std::string data = pattern(3 * MiB + 123, 11);
    // 1 byte/s and a 16 MiB bucket: every byte is paid from the initial burst, so the balance
    // afterwards tells how many bytes went through the limiter.
    rate_limiter lim(1, 16 * MiB);
    auto body = ossmp::make_rate_limited_body(std::make_shared<ossmp::span_body>(bytes_of(data)),
                                              lim, io.ctx.get_executor());
    REQUIRE(body->size() == data.size());
    std::vector<std::size_t> sizes;
    auto [ec, out] = drain(*body, &sizes);
    REQUIRE_FALSE(ec);
    REQUIRE(out == data);
    REQUIRE(sizes.size() == 13); // 12 x 256 KiB + 123 bytes
    // A partial pass, then a rewind.
    REQUIRE_FALSE(body->rewind());
    REQUIRE(read_chunk(*body).second == data.substr(0, 256 * KiB));
    auto [ec2, out2] = drain(*body);
    REQUIRE_FALSE(ec2);
    REQUIRE(out2 == data);
    const auto sent = static_cast<std::int64_t>(2 * data.size() + 256 * KiB);
    const auto left = lim.available();
    CAPTURE(left);
    REQUIRE(left >= static_cast<std::int64_t>(16 * MiB) - sent);
    REQUIRE(left <= static_cast<std::int64_t>(16 * MiB) - sent + 60); // a minute of refill
}

using ossmp::test::temp_file;

TEST_CASE("rate_limited_body over a file body (chunks from other threads)", "[limits]") {
    io_thread io;
    const std::string data = pattern(5 * MiB + 77, 12);
    temp_file file(data);
    rate_limiter lim(256 * MiB);
    ossmp::file_body_options o;
    o.cached_reads_inline = false; // every chunk from the reader thread
    auto body = ossmp::make_rate_limited_body(ossmp::make_file_body(file.fd, 0, data.size(), o),
                                              lim, asio::any_io_executor(io.ctx.get_executor()));
    for (int pass = 0; pass < 2; ++pass) {
        auto [ec, out] = drain(*body);
        REQUIRE_FALSE(ec);
        REQUIRE(out == data);
    }
}

TEST_CASE("rate_limited_body: cancel() ends a read that waits for the limit", "[limits]") {
    io_thread io;
    const std::string data = pattern(MiB, 13);
    rate_limiter lim(1, 256 * KiB); // 1 byte/s: only the first chunk gets through
    auto body = ossmp::make_rate_limited_body(std::make_shared<ossmp::span_body>(bytes_of(data)),
                                              lim, io.ctx.get_executor());
    REQUIRE_FALSE(body->rewind());
    REQUIRE(read_chunk(*body).second == data.substr(0, 256 * KiB));

    std::promise<std::error_code> p;
    auto f = p.get_future();
    body->async_read_chunk([&p](std::error_code ec, std::span<const std::byte> chunk) {
        if (!ec && chunk.empty())
            ec = asio::error::eof;
        p.set_value(ec);
    });
    REQUIRE(f.wait_for(100ms) == std::future_status::timeout);
    REQUIRE(lim.waiters() == 1);
    body->cancel();
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    REQUIRE(f.get() == asio::error::operation_aborted);
    REQUIRE(lim.waiters() == 0);
    REQUIRE(lim.available() >= 0); // the cancelled chunk took nothing
    // Every read fails until the next rewind, then a pass works again.
    REQUIRE(read_chunk(*body).first == asio::error::operation_aborted);
    lim.set_rate(0);
    auto [ec, out] = drain(*body);
    REQUIRE_FALSE(ec);
    REQUIRE(out == data);
}

// A source whose second chunk fails.
class failing_source final : public ossmp::http::body_source {
public:
    std::uint64_t size() const noexcept override { return 2000; }
    std::error_code rewind() override {
        reads_ = 0;
        return {};
    }
    void async_read_chunk(chunk_handler h) override {
        if (reads_++ == 0)
            return h(std::error_code{}, std::as_bytes(std::span<const char>(bytes_, 1000)));
        h(std::make_error_code(std::errc::io_error), {});
    }

private:
    char bytes_[1000] = {};
    int reads_ = 0;
};

TEST_CASE("rate_limited_body hands on the inner source's errors", "[limits]") {
    io_thread io;
    rate_limiter lim(MiB);
    auto body = ossmp::make_rate_limited_body(std::make_shared<failing_source>(), lim,
                                              io.ctx.get_executor());
    auto [ec, out] = drain(*body);
    REQUIRE(ec == std::errc::io_error);
    REQUIRE(out.size() == 1000);
}

// --- memory_budget -------------------------------------------------------------------------------

// Runs the handlers that are ready (an io_context that ran out of work needs a restart).
void poll(asio::io_context& ctx) {
    ctx.restart();
    ctx.poll();
}

struct lease_slot {
    std::optional<std::error_code> ec;
    memory_lease lease;
    bool done() const { return ec.has_value(); }
};

// Starts an acquisition that stores its outcome in `out` and appends `name` to `order`.
template <class Executor>
void acquire(memory_budget& mb, const Executor& ex, std::uint64_t bytes, lease_slot& out,
             std::string& order, char name, asio::cancellation_slot slot = {}) {
    mb.async_acquire(ex, bytes,
                     asio::bind_cancellation_slot(
                         slot, [&out, &order, name](std::error_code ec, memory_lease l) {
                             out.ec = ec;
                             out.lease = std::move(l);
                             order += name;
                         }));
}

TEST_CASE("memory_budget: grants are posted; FIFO; a big request waits and is not overtaken",
          "[limits]") {
    asio::io_context ctx;
    memory_budget mb(100);
    REQUIRE(mb.capacity() == 100);
    std::string order;
    lease_slot a, b, c;
    acquire(mb, ctx.get_executor(), 60, a, order, 'A');
    REQUIRE_FALSE(a.done()); // never inline
    REQUIRE(mb.in_use() == 60);
    acquire(mb, ctx.get_executor(), 50, b, order, 'B'); // 110 > 100: waits
    acquire(mb, ctx.get_executor(), 10, c, order, 'C'); // would fit: waits behind B
    poll(ctx);
    REQUIRE(order == "A");
    REQUIRE_FALSE(*a.ec);
    REQUIRE(a.lease.size() == 60);
    REQUIRE(mb.waiters() == 2);

    a.lease.reset();
    REQUIRE(order == "A"); // posted, not inside reset()
    poll(ctx);
    REQUIRE(order == "ABC");
    REQUIRE(b.lease.size() == 50);
    REQUIRE(c.lease.size() == 10);
    REQUIRE(mb.in_use() == 60);
    REQUIRE(mb.high_water() == 60);
    b.lease.reset();
    c.lease = memory_lease{}; // move-assignment gives the old bytes back
    REQUIRE(mb.in_use() == 0);
    REQUIRE_FALSE(c.lease);
}

TEST_CASE("memory_budget: in_use and high_water count what is held together", "[limits]") {
    asio::io_context ctx;
    memory_budget mb(100);
    std::string order;
    lease_slot a, b, c;
    acquire(mb, ctx.get_executor(), 30, a, order, 'A');
    acquire(mb, ctx.get_executor(), 40, b, order, 'B');
    poll(ctx);
    REQUIRE(mb.in_use() == 70);
    REQUIRE(mb.high_water() == 70);
    a.lease.reset();
    a.lease.reset(); // twice: nothing more
    REQUIRE(mb.in_use() == 40);
    acquire(mb, ctx.get_executor(), 20, c, order, 'C');
    poll(ctx);
    REQUIRE(order == "ABC");
    REQUIRE(mb.in_use() == 60);
    REQUIRE(mb.high_water() == 70); // the maximum so far
    b.lease.reset();
    c.lease.reset();
    REQUIRE(mb.in_use() == 0);
    REQUIRE(mb.high_water() == 70);
}

TEST_CASE("memory_budget: a request above the capacity", "[limits]") {
    asio::io_context ctx;
    memory_budget mb(100);
    std::string order;
    lease_slot big, small;
    acquire(mb, ctx.get_executor(), 150, big, order, 'X'); // nothing held: granted
    acquire(mb, ctx.get_executor(), 1, small, order, 'y');
    poll(ctx);
    REQUIRE(order == "X");
    REQUIRE(mb.in_use() == 150);
    REQUIRE(mb.high_water() == 150);
    big.lease.reset();
    poll(ctx);
    REQUIRE(order == "Xy");

    // Something is held: the big one waits until nothing is.
    lease_slot big2;
    acquire(mb, ctx.get_executor(), 150, big2, order, 'Z');
    poll(ctx);
    REQUIRE_FALSE(big2.done());
    small.lease.reset();
    poll(ctx);
    REQUIRE(order == "XyZ");
    REQUIRE(big2.lease.size() == 150);
}

TEST_CASE("memory_budget: cancellation", "[limits]") {
    asio::io_context ctx;
    memory_budget mb(100);
    std::string order;
    lease_slot a, b, c, d;
    asio::cancellation_signal sb, sd;
    acquire(mb, ctx.get_executor(), 90, a, order, 'A');
    acquire(mb, ctx.get_executor(), 50, b, order, 'B', sb.slot());
    acquire(mb, ctx.get_executor(), 5, c, order, 'C');
    poll(ctx);
    REQUIRE(order == "A");

    // The head leaves: it holds nothing, and C (which fits) moves up and is granted.
    sb.emit(asio::cancellation_type::terminal);
    poll(ctx);
    REQUIRE(order == "ABC");
    REQUIRE(*b.ec == asio::error::operation_aborted);
    REQUIRE_FALSE(b.lease);
    REQUIRE(b.lease.size() == 0);
    REQUIRE_FALSE(*c.ec);
    REQUIRE(mb.in_use() == 95);

    // A request granted before the cancellation arrives completes with its lease.
    acquire(mb, ctx.get_executor(), 20, d, order, 'D', sd.slot());
    poll(ctx);
    REQUIRE(mb.waiters() == 1);
    a.lease.reset(); // grants D (posted)
    sd.emit(asio::cancellation_type::terminal);
    poll(ctx);
    REQUIRE(order == "ABCD");
    REQUIRE_FALSE(*d.ec);
    REQUIRE(d.lease.size() == 20);
    REQUIRE(mb.in_use() == 25);
}

TEST_CASE("memory_budget: a lease released on another thread wakes a waiter", "[limits]") {
    asio::io_context ctx;
    memory_budget mb(100);
    std::string order;
    lease_slot a, b;
    acquire(mb, ctx.get_executor(), 100, a, order, 'A');
    poll(ctx);
    REQUIRE(a.lease);
    std::atomic<bool> b_done{false};
    mb.async_acquire(ctx.get_executor(), 10, [&](std::error_code ec, memory_lease l) {
        b.ec = ec;
        b.lease = std::move(l);
        b_done = true;
    });
    ctx.restart();
    std::thread io([&] { ctx.run(); }); // returns once B completed (B keeps it busy until then)
    std::this_thread::sleep_for(30ms);
    const bool early = b_done.load();
    std::thread releaser([&] { a.lease.reset(); });
    releaser.join();
    const auto deadline = steady::now() + 5s;
    while (!b_done.load() && steady::now() < deadline)
        std::this_thread::sleep_for(1ms);
    if (!b_done.load())
        ctx.stop(); // failed: do not hang
    io.join();
    REQUIRE_FALSE(early);
    REQUIRE(b_done.load());
    REQUIRE(b.ec == success);
    REQUIRE(mb.in_use() == 10);
}

TEST_CASE("memory_budget: a lease outlives the budget handle", "[limits]") {
    asio::io_context ctx;
    std::string order;
    lease_slot a, b;
    {
        memory_budget mb(100);
        acquire(mb, ctx.get_executor(), 100, a, order, 'A');
        acquire(mb, ctx.get_executor(), 10, b, order, 'B');
        memory_budget copy = mb; // copies share the state
        REQUIRE(copy.in_use() == 100);
    }
    poll(ctx);
    REQUIRE(order == "A");
    a.lease.reset(); // the handle is gone; the waiter is still served
    poll(ctx);
    REQUIRE(order == "AB");
    REQUIRE(b.lease.size() == 10);
    memory_lease moved = std::move(b.lease);
    REQUIRE_FALSE(b.lease);
    REQUIRE(moved.size() == 10);
    moved.reset();
    REQUIRE_FALSE(moved);
}

TEST_CASE("memory_budget: an undelivered completion gives its lease back", "[limits]") {
    memory_budget mb(100);
    {
        asio::io_context ctx;
        mb.async_acquire(ctx.get_executor(), 40, [](std::error_code, memory_lease) {});
        REQUIRE(mb.in_use() == 40);
    } // destroyed with the completion queued
    REQUIRE(mb.in_use() == 0);
}

struct budget_counters {
    std::atomic<int> grants{0};
    std::atomic<int> aborts{0};
    std::atomic<int> failures{0};
    std::atomic<int> over{0}; // in_use() seen above the capacity
    std::atomic<int> finished{0};
};

asio::awaitable<void> budget_user(memory_budget mb, unsigned seed, int rounds,
                                  std::shared_ptr<budget_counters> c) {
    auto ex = co_await asio::this_coro::executor;
    std::minstd_rand rng(seed);
    std::uniform_int_distribution<std::uint64_t> size(1, mb.capacity());
    std::uniform_int_distribution<int> micros(0, 300);
    asio::steady_timer timer(ex);
    for (int i = 0; i < rounds; ++i) {
        const std::uint64_t n = size(rng);
        std::error_code ec;
        memory_lease lease;
        if (i % 4 == 3) { // against a timer: the acquisition may be cancelled
            asio::steady_timer limit(ex, std::chrono::microseconds(micros(rng)));
            auto group = asio::experimental::make_parallel_group(
                mb.async_acquire(ex, n, asio::experimental::deferred),
                limit.async_wait(asio::experimental::deferred));
            auto [which, e, l, te] =
                co_await group.async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
            (void)which;
            (void)te;
            ec = e;
            lease = std::move(l);
        } else {
            auto [e, l] =
                co_await mb.async_acquire(ex, n, asio::experimental::as_tuple(asio::use_awaitable));
            ec = e;
            lease = std::move(l);
        }
        if (ec == asio::error::operation_aborted) {
            ++c->aborts;
            if (lease)
                ++c->failures;
            continue;
        }
        if (ec || lease.size() != n)
            ++c->failures;
        ++c->grants;
        if (mb.in_use() > mb.capacity())
            ++c->over;
        timer.expires_after(std::chrono::microseconds(micros(rng)));
        co_await timer.async_wait(asio::use_awaitable);
        if (rng() % 2)
            lease.reset(); // else by the destructor
    }
    ++c->finished;
}

TEST_CASE("memory_budget: 200 coroutines on 4 threads", "[limits]") {
    constexpr int users = 200;
    constexpr int rounds = 10;
    memory_budget mb(MiB);
    asio::io_context ctx;
    auto c = std::make_shared<budget_counters>();
    for (int u = 0; u < users; ++u)
        asio::co_spawn(asio::make_strand(ctx), budget_user(mb, static_cast<unsigned>(u), rounds, c),
                       [c](std::exception_ptr e) {
                           if (e)
                               ++c->failures;
                       });
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&ctx] { ctx.run(); });
    const auto deadline = steady::now() + 60s;
    while (c->finished.load() < users && steady::now() < deadline)
        std::this_thread::sleep_for(5ms);
    if (c->finished.load() < users)
        ctx.stop(); // failed: do not hang
    for (auto& t : threads)
        t.join();
    REQUIRE(c->finished == users);
    REQUIRE(c->failures == 0);
    REQUIRE(c->over == 0);
    REQUIRE(c->grants + c->aborts == users * rounds);
    REQUIRE(mb.in_use() == 0);
    REQUIRE(mb.waiters() == 0);
    REQUIRE(mb.high_water() <= mb.capacity());
    REQUIRE(mb.high_water() > mb.capacity() / 2); // they did overlap
    CAPTURE(c->aborts.load());
}

} // namespace
