// asio_transport on an io_context run by several threads: every connection has its own strand,
// the pool is shared, cancellation is bridged onto the connection's strand. Real loopback
// sockets against tests/support/test_server.hpp. (A data race shows up here as a wrong count,
// a hang or a crash; the ASan build in scripts/test runs these too.)
#include "ossmp/transport/asio_transport.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using ossmp::asio_transport;
using ossmp::asio_transport_options;
using ossmp::round_trip_options;
using ossmp::http::request;
using ossmp::http::response;
using ossmp::test::http_reply;
using ossmp::test::received_request;
using ossmp::test::scripted_reply;
using ossmp::test::test_server;

namespace {

request make_put(const std::string& host, std::string_view body) {
    request r;
    r.method = ossmp::http::verb::put;
    r.host = host;
    r.path = "/bucket/key";
    r.set_body_view(body);
    return r;
}

/// Echoes the request body, after a delay that varies with the body (so replies interleave).
scripted_reply echo(const received_request& r) {
    scripted_reply reply;
    reply.bytes = http_reply(200, r.body);
    reply.delay = std::chrono::milliseconds(r.body.size() % 7);
    return reply;
}

/// Runs `io` on `n` threads until it runs out of work (or `limit` passes).
void run_on_threads(asio::io_context& io, int n, std::chrono::seconds limit = 20s) {
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&] { io.run_for(limit); });
    for (auto& t : threads)
        t.join();
}

struct tally {
    std::mutex m;
    int calls = 0;
    int ok = 0;
    std::vector<std::string> mismatches;
    std::vector<std::error_code> errors;

    void record(std::error_code ec, const response& res, const std::string& expected) {
        std::lock_guard lock(m);
        ++calls;
        if (ec)
            errors.push_back(ec);
        else if (res.status != 200 || res.body != expected)
            mismatches.push_back(expected);
        else
            ++ok;
    }
};

} // namespace

TEST_CASE("4 I/O threads: 64 round trips over the 4 connections of one transport",
          "[transport][threads]") {
    test_server server(echo);
    asio::io_context io(4);
    asio_transport_options o;
    o.max_connections_per_host = 4;
    asio_transport t(io, o);
    std::vector<std::string> bodies;
    for (int i = 0; i < 64; ++i)
        bodies.push_back("body-" + std::to_string(i) +
                         std::string(static_cast<std::size_t>(i), 'x'));
    tally got;
    for (const auto& b : bodies)
        t.async_round_trip(
            make_put(server.host(), b), round_trip_options{},
            [&got, &b](std::error_code ec, response res) { got.record(ec, res, b); });
    run_on_threads(io, 4);
    CHECK(got.calls == 64);
    CHECK(got.ok == 64);
    CHECK(got.errors.empty());
    CHECK(got.mismatches.empty());
    CHECK(server.requests().size() == 64);
    CHECK(server.max_concurrent() == 4);
    CHECK(t.connections_opened() == 4);
    CHECK(t.idle_connections() == 4);
}

TEST_CASE("4 I/O threads: round trips started from 4 other threads share a limit of 2",
          "[transport][threads]") {
    test_server server(echo);
    asio::io_context io(4);
    auto guard = asio::make_work_guard(io);
    asio_transport_options o;
    o.max_connections_per_host = 2;
    asio_transport t(io, o);
    std::vector<std::thread> runners;
    for (int i = 0; i < 4; ++i)
        runners.emplace_back([&] { io.run_for(20s); });
    constexpr int per_thread = 25;
    std::vector<std::string> bodies;
    for (int i = 0; i < 4 * per_thread; ++i)
        bodies.push_back("from-" + std::to_string(i));
    tally got;
    std::atomic<int> remaining{4 * per_thread};
    std::vector<std::thread> starters;
    for (int s = 0; s < 4; ++s)
        starters.emplace_back([&, s] {
            for (int i = 0; i < per_thread; ++i) {
                const auto& b = bodies[static_cast<std::size_t>(s * per_thread + i)];
                t.async_round_trip(make_put(server.host(), b), round_trip_options{},
                                   [&, b](std::error_code ec, response res) {
                                       got.record(ec, res, b);
                                       if (remaining.fetch_sub(1) == 1)
                                           guard.reset();
                                   });
            }
        });
    for (auto& s : starters)
        s.join();
    for (auto& r : runners)
        r.join();
    CHECK(got.calls == 4 * per_thread);
    CHECK(got.ok == 4 * per_thread);
    CHECK(got.errors.empty());
    CHECK(server.max_concurrent() == 2);
    CHECK(t.connections_opened() == 2);
}

TEST_CASE("4 I/O threads: handlers bound to one strand run in it, one at a time",
          "[transport][threads]") {
    test_server server(echo);
    asio::io_context io(4);
    asio_transport_options o;
    o.max_connections_per_host = 4;
    asio_transport t(io, o);
    auto strand = asio::make_strand(io);
    std::atomic<int> inside{0};
    int calls = 0; // only touched inside the strand
    int outside_strand = 0;
    int overlapped = 0;
    std::vector<std::string> bodies;
    for (int i = 0; i < 32; ++i)
        bodies.push_back(std::string(static_cast<std::size_t>(i + 1), 's'));
    for (const auto& b : bodies)
        t.async_round_trip(make_put(server.host(), b), round_trip_options{},
                           asio::bind_executor(strand, [&](std::error_code ec, response res) {
                               if (inside.fetch_add(1) != 0)
                                   ++overlapped;
                               if (!strand.running_in_this_thread())
                                   ++outside_strand;
                               if (!ec && res.body == b)
                                   ++calls;
                               std::this_thread::sleep_for(1ms); // widen any overlap
                               inside.fetch_sub(1);
                           }));
    run_on_threads(io, 4);
    CHECK(calls == 32);
    CHECK(outside_strand == 0);
    CHECK(overlapped == 0);
}

TEST_CASE("4 I/O threads: a stall timeout fires on each of 4 connections", "[transport][threads]") {
    test_server server([](const received_request&) {
        scripted_reply r;
        r.hang = true;
        return r;
    });
    asio::io_context io(4);
    asio_transport_options o;
    o.max_connections_per_host = 4;
    o.stall_timeout = 200ms;
    asio_transport t(io, o);
    tally got;
    for (int i = 0; i < 4; ++i)
        t.async_round_trip(make_put(server.host(), "x"), round_trip_options{},
                           [&](std::error_code ec, response res) { got.record(ec, res, "x"); });
    auto start = std::chrono::steady_clock::now();
    run_on_threads(io, 4);
    auto elapsed = std::chrono::steady_clock::now() - start;
    REQUIRE(got.calls == 4);
    REQUIRE(got.errors.size() == 4);
    for (const auto& ec : got.errors)
        CHECK(ec == ossmp::errc::timeout);
    CHECK(elapsed >= 200ms);
    CHECK(elapsed < 5s);
    CHECK(t.idle_connections() == 0);
}

TEST_CASE("4 I/O threads: cancellation from the caller's strand, in flight and while waiting",
          "[transport][threads]") {
    // The first request on each connection hangs for 3 s; with a limit of 1 connection, the
    // second round trip waits for a slot. Both are cancelled from the caller's strand after
    // 100 ms; a third round trip (not cancelled) then gets a fresh connection and an answer.
    std::atomic<int> n{0};
    test_server server([&](const received_request& r) {
        scripted_reply reply;
        reply.bytes = http_reply(200, r.body);
        if (n.fetch_add(1) == 0)
            reply.delay = 3s;
        return reply;
    });
    asio::io_context io(4);
    asio_transport_options o;
    o.max_connections_per_host = 1;
    asio_transport t(io, o);
    auto strand = asio::make_strand(io);
    asio::cancellation_signal in_flight, waiting;
    std::error_code first_ec, second_ec, third_ec;
    std::string third_body;
    std::atomic<int> done{0};
    std::atomic<bool> third_started{false};
    auto start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration cancel_latency{};
    asio::steady_timer timer(strand, 100ms);
    asio::dispatch(strand, [&] {
        t.async_round_trip(
            make_put(server.host(), "first"), round_trip_options{},
            asio::bind_cancellation_slot(
                in_flight.slot(), asio::bind_executor(strand, [&](std::error_code ec, response) {
                    first_ec = ec;
                    cancel_latency = std::chrono::steady_clock::now() - start;
                    ++done;
                })));
        t.async_round_trip(
            make_put(server.host(), "second"), round_trip_options{},
            asio::bind_cancellation_slot(
                waiting.slot(), asio::bind_executor(strand, [&](std::error_code ec, response) {
                    second_ec = ec;
                    ++done;
                })));
        timer.async_wait([&](std::error_code) {
            // The waiting one first: cancelling the one in flight frees the slot on another
            // thread, and a waiter not yet cancelled may take it and open a connection
            // (correctly aborted a moment later, but a connection more than counted below).
            waiting.emit(asio::cancellation_type::terminal);
            in_flight.emit(asio::cancellation_type::terminal);
            third_started = true;
            t.async_round_trip(make_put(server.host(), "third"), round_trip_options{},
                               asio::bind_executor(strand, [&](std::error_code ec, response res) {
                                   third_ec = ec;
                                   third_body = res.body;
                                   ++done;
                               }));
        });
    });
    run_on_threads(io, 4);
    REQUIRE(done == 3);
    CHECK(first_ec == asio::error::operation_aborted);
    CHECK(second_ec == asio::error::operation_aborted);
    CHECK(cancel_latency < 2s);
    CHECK(third_started);
    CHECK_FALSE(third_ec);
    CHECK(third_body == "third");
    // The cancelled connection was closed, not pooled: the third round trip opened a new one.
    CHECK(t.connections_opened() == 2);
}

TEST_CASE("4 I/O threads: cancelling after completion is harmless", "[transport][threads]") {
    test_server server(echo);
    asio::io_context io(4);
    asio_transport t(io);
    auto strand = asio::make_strand(io);
    asio::cancellation_signal signal;
    std::error_code got_ec;
    std::string got_body;
    asio::dispatch(strand, [&] {
        t.async_round_trip(
            make_put(server.host(), "done"), round_trip_options{},
            asio::bind_cancellation_slot(
                signal.slot(), asio::bind_executor(strand, [&](std::error_code ec, response res) {
                    got_ec = ec;
                    got_body = res.body;
                    // The op is over; its filter is still in the slot.
                    signal.emit(asio::cancellation_type::terminal);
                })));
    });
    run_on_threads(io, 4);
    CHECK_FALSE(got_ec);
    CHECK(got_body == "done");
    CHECK(t.idle_connections() == 1);
}
