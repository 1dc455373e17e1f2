// async_upload drawing from shared limits, against the scripted transport's small OSS: a
// memory budget narrows the window (never above it; one part larger than the budget still
// goes), a stream's part buffers are drawn from it, and a rate limit slows the upload down and
// does not hold up its cancellation.
#include "ossmp/limits.hpp"
#include "ossmp/upload.hpp"

#include "support/fake_oss.hpp"
#include "support/fake_transport.hpp"
#include "support/test_bytes.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

namespace {

using ossmp::test::bytes_of;
using ossmp::test::pattern;
using namespace ossmp::test::upload;

TEST_CASE("limits: a memory budget narrows the window, never above it", "[upload][limits]") {
    fixture f;
    f.transport.set_delay(2ms);
    SECTION("two parts' worth") {
        ossmp::memory_budget budget(2 * part);
        auto o = fast_options(); // W = 3
        o.budget = budget;
        auto r = run_upload(f, seven, o);
        REQUIRE_FALSE(r.ec);
        CHECK(f.oss.object == seven);
        CHECK(f.oss.max_in_flight == 2);
        CHECK(budget.high_water() == 2 * part);
        CHECK(budget.in_use() == 0);
    }
    SECTION("less than one part: one at a time, still done") {
        ossmp::memory_budget budget(part / 2);
        auto o = fast_options();
        o.budget = budget;
        auto r = run_upload(f, seven, o);
        REQUIRE_FALSE(r.ec);
        CHECK(f.oss.object == seven);
        CHECK(f.oss.max_in_flight == 1);
        CHECK(budget.high_water() == part);
        CHECK(budget.in_use() == 0);
    }
}

TEST_CASE("limits: single-PutObject uploads draw their body from the memory budget",
          "[upload][limits]") {
    fixture f;
    f.transport.set_delay(2ms);
    const std::string small = pattern(60 * 1024, 3); // one PutObject each
    ossmp::memory_budget budget(100 * 1024);         // room for one body at a time
    auto o = fast_options();
    o.budget = budget; // shared: every copy draws from the same budget
    int done = 0;
    for (int i = 0; i < 3; ++i)
        ossmp::async_upload(f.client, ossmp::memory_source(bytes_of(small)), object_params(), o,
                            [&](std::error_code ec, ossmp::upload_result r) {
                                CHECK_FALSE(ec);
                                CHECK(r.parts == 0);
                                ++done;
                            });
    f.ctx.run();
    REQUIRE(done == 3);
    CHECK(f.oss.puts == 3);
    CHECK(f.oss.object == small);
    CHECK(f.oss.max_in_flight == 1);
    CHECK(budget.high_water() == small.size());
    CHECK(budget.in_use() == 0);
}

TEST_CASE("limits: a stream's part buffers come from the memory budget", "[upload][limits]") {
    fixture f;
    f.transport.set_delay(2ms);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    asio::posix::stream_descriptor in(f.ctx, fds[0]);
    std::thread writer([fd = fds[1]] {
        std::size_t done = 0;
        while (done < seven.size()) {
            const auto n = ::write(fd, seven.data() + done, seven.size() - done);
            if (n <= 0)
                break;
            done += static_cast<std::size_t>(n);
        }
        ::close(fd);
    });
    ossmp::memory_budget budget(2 * part);
    auto o = fast_options(); // W + 1 = 4 buffers without a budget
    o.budget = budget;
    auto r = run_source_upload(f, ossmp::stream_source(in), o);
    writer.join();
    REQUIRE_FALSE(r.ec);
    CHECK(f.oss.object == seven);
    CHECK(budget.high_water() == 2 * part);
    CHECK(budget.in_use() == 0);
}

TEST_CASE("limits: a rate limit slows the upload; cancelling does not wait for it",
          "[upload][limits]") {
    fixture f;
    SECTION("every byte drawn from the limit") {
        ossmp::rate_limiter limit(2 << 20); // 2 MiB/s, a bucket of 256 KiB
        auto o = fast_options();
        o.rate_limit = limit;
        const auto start = std::chrono::steady_clock::now();
        auto r = run_upload(f, seven, o);
        const auto took = std::chrono::steady_clock::now() - start;
        REQUIRE_FALSE(r.ec);
        CHECK(f.oss.object == seven);
        CHECK(r.result.verified);
        // At least (size - bucket) / rate: a lower bound, whatever the machine's load.
        const double least = static_cast<double>(seven.size() - limit.burst()) / (2 << 20);
        CHECK(std::chrono::duration<double>(took).count() >= least * 0.99);
        CHECK(limit.available() < 0.1 * (2 << 20)); // spent
    }
    SECTION("a part waiting for a slow limit is cancelled at once") {
        ossmp::rate_limiter limit(10 << 10); // 10 KiB/s: about a minute for the object
        auto o = fast_options();
        o.rate_limit = limit;
        asio::cancellation_signal cancel;
        outcome out;
        ossmp::async_upload(f.client, ossmp::memory_source(bytes_of(seven)), object_params(), o,
                            asio::bind_cancellation_slot(
                                cancel.slot(), [&](std::error_code ec, ossmp::upload_result res) {
                                    ++out.calls;
                                    out.ec = ec;
                                    out.result = std::move(res);
                                }));
        asio::steady_timer timer(f.ctx, 200ms);
        timer.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
        const auto start = std::chrono::steady_clock::now();
        f.ctx.run();
        const auto took = std::chrono::steady_clock::now() - start;
        REQUIRE(out.calls == 1);
        CHECK(out.ec == asio::error::operation_aborted);
        CHECK(out.result.aborted);
        CHECK(took < 10s); // not the minute the limit would take
    }
}

} // namespace

TEST_CASE("allocate_part_memory: 2 MiB-aligned from 2 MiB up, every byte writable",
          "[upload][memory]") {
    // Stream part buffers of 2 MiB and more start on a 2 MiB boundary, so that all of their
    // whole 2 MiB pages can be transparent huge pages; smaller ones are plain allocations.
    constexpr std::size_t huge = std::size_t{2} << 20;
    for (std::size_t size : {huge, std::size_t{8} << 20, std::size_t{8'593'408}}) {
        auto m = ossmp::detail::allocate_part_memory(size);
        REQUIRE(m);
        CHECK(reinterpret_cast<std::uintptr_t>(m.get()) % huge == 0);
        m[0] = std::byte{1};
        m[size - 1] = std::byte{2};
        CHECK(m[size - 1] == std::byte{2});
    }
    auto small = ossmp::detail::allocate_part_memory(100 * 1024);
    REQUIRE(small);
    small[100 * 1024 - 1] = std::byte{3};
    CHECK(small[100 * 1024 - 1] == std::byte{3});
}
