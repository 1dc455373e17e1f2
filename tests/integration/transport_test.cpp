// asio_transport over real loopback sockets against tests/support/test_server.hpp.
#include "ossmp/transport/asio_transport.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
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

struct outcome {
    std::error_code ec;
    response res;
    int calls = 0;
};

request make_put(const std::string& host, std::string_view body) {
    request r;
    r.method = ossmp::http::verb::put;
    r.host = host;
    r.path = "/bucket/key";
    r.query.push_back({"partNumber", "1"});
    r.query.push_back({"uploadId", "U1"});
    r.headers.add("x-oss-test", "1");
    r.set_body_view(body);
    return r;
}

request make_get(const std::string& host, std::string path = "/bucket/key") {
    request r;
    r.method = ossmp::http::verb::get;
    r.host = host;
    r.path = std::move(path);
    return r;
}

std::string expected_put_bytes(const std::string& host, std::string_view body) {
    return "PUT /bucket/key?partNumber=1&uploadId=U1 HTTP/1.1\r\nHost: " + host +
           "\r\nx-oss-test: 1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           std::string(body);
}

/// Runs one round trip with a plain callback and waits for it.
outcome run_one(asio::io_context& io, asio_transport& t, request req,
                const round_trip_options& opt = {}) {
    outcome out;
    t.async_round_trip(std::move(req), opt, [&](std::error_code ec, response res) {
        out.ec = ec;
        out.res = std::move(res);
        ++out.calls;
    });
    io.restart();
    io.run_for(20s);
    return out;
}

scripted_reply ok_reply(std::string_view body = "", std::string_view headers = "") {
    scripted_reply r;
    r.bytes = http_reply(200, body, headers);
    return r;
}

std::string ca_file() {
    return ossmp::test::test_data_dir() + "/test-ca.crt";
}

/// TLS, verified against the test CA.
asio_transport_options tls_options() {
    asio_transport_options o;
    o.tls = true;
    o.ca_file = ca_file();
    return o;
}

} // namespace

TEST_CASE("plain round trip sends the exact bytes and parses the reply", "[transport]") {
    test_server server([](const received_request&) {
        return ok_reply("pong", "ETag: \"abc\"\r\nx-oss-request-id: R1\r\n");
    });
    asio::io_context io;
    asio_transport t(io);
    std::string body = "hello body";
    auto out = run_one(io, t, make_put(server.host(), body));
    REQUIRE(out.calls == 1);
    REQUIRE_FALSE(out.ec);
    CHECK(out.res.status == 200);
    CHECK(out.res.reason == "OK");
    CHECK(out.res.headers.get("ETag") == "\"abc\"");
    CHECK(out.res.headers.get("x-oss-request-id") == "R1");
    CHECK(out.res.body == "pong");
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].raw() == expected_put_bytes(server.host(), body));
}

TEST_CASE("keep-alive: two requests share one connection", "[transport]") {
    test_server server([](const received_request&) { return ok_reply("x"); });
    asio::io_context io;
    asio_transport t(io);
    auto a = run_one(io, t, make_get(server.host()));
    CHECK(t.idle_connections() == 1);
    auto b = run_one(io, t, make_get(server.host(), "/bucket/other"));
    REQUIRE_FALSE(a.ec);
    REQUIRE_FALSE(b.ec);
    CHECK(a.res.body == "x");
    CHECK(b.res.body == "x");
    CHECK(server.connections() == 1);
    CHECK(t.connections_opened() == 1);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].connection == 0);
    CHECK(reqs[1].connection == 0);
    CHECK(reqs[1].raw() == "GET /bucket/other HTTP/1.1\r\nHost: " + server.host() + "\r\n\r\n");
}

TEST_CASE("per-host limit: 8 concurrent round trips over at most 2 connections", "[transport]") {
    test_server server([](const received_request& r) {
        scripted_reply reply = ok_reply(r.body);
        reply.delay = 30ms;
        return reply;
    });
    asio::io_context io;
    asio_transport_options o;
    o.max_connections_per_host = 2;
    asio_transport t(io, o);
    std::vector<std::string> bodies;
    for (int i = 0; i < 8; ++i)
        bodies.push_back("body-" + std::to_string(i));
    std::vector<outcome> outs(8);
    for (int i = 0; i < 8; ++i)
        t.async_round_trip(make_put(server.host(), bodies[i]), round_trip_options{},
                           [&outs, i](std::error_code ec, response res) {
                               outs[i].ec = ec;
                               outs[i].res = std::move(res);
                               ++outs[i].calls;
                           });
    io.run_for(20s);
    for (int i = 0; i < 8; ++i) {
        INFO("round trip " << i);
        CHECK(outs[i].calls == 1);
        CHECK_FALSE(outs[i].ec);
        CHECK(outs[i].res.body == bodies[i]);
    }
    CHECK(server.max_concurrent() == 2);
    CHECK(server.connections() == 2);
    CHECK(t.connections_opened() == 2);
    CHECK(server.requests().size() == 8);
    CHECK(t.idle_connections() == 2);
}

TEST_CASE("Connection: close from the server makes the next request reconnect", "[transport]") {
    test_server server([](const received_request&) {
        scripted_reply r = ok_reply("bye", "Connection: close\r\n");
        r.close = true;
        return r;
    });
    asio::io_context io;
    asio_transport t(io);
    auto a = run_one(io, t, make_get(server.host()));
    CHECK(t.idle_connections() == 0);
    auto b = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(a.ec);
    REQUIRE_FALSE(b.ec);
    CHECK(b.res.body == "bye");
    CHECK(server.connections() == 2);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[1].connection == 1);
}

TEST_CASE("a pooled connection closed by the server is retried once on a fresh one",
          "[transport]") {
    // The server closes silently after each reply (no Connection: close): the transport
    // pools the connection, finds it dead on reuse, and retries on a new connection.
    test_server server([](const received_request&) {
        scripted_reply r = ok_reply("fine");
        r.close = true;
        return r;
    });
    asio::io_context io;
    asio_transport t(io);
    auto a = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(a.ec);
    std::this_thread::sleep_for(50ms); // let the FIN arrive
    auto b = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(b.ec);
    CHECK(b.res.body == "fine");
    CHECK(t.connections_opened() == 2);
    CHECK(server.requests().size() == 2);
}

TEST_CASE("stall timeout: no answer at all", "[transport]") {
    test_server server([](const received_request&) {
        scripted_reply r;
        r.hang = true;
        return r;
    });
    asio::io_context io;
    asio_transport_options o;
    o.stall_timeout = 200ms;
    asio_transport t(io, o);
    auto start = std::chrono::steady_clock::now();
    auto out = run_one(io, t, make_get(server.host()));
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(out.calls == 1);
    CHECK(out.ec == ossmp::errc::timeout);
    CHECK(elapsed >= 200ms);
    CHECK(elapsed < 5s);
    CHECK(t.idle_connections() == 0);
}

TEST_CASE("stall timeout: the body stops half way", "[transport]") {
    test_server server([](const received_request&) {
        scripted_reply r;
        r.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial";
        r.hang = true;
        return r;
    });
    asio::io_context io;
    asio_transport_options o;
    o.stall_timeout = 200ms;
    asio_transport t(io, o);
    auto out = run_one(io, t, make_get(server.host()));
    CHECK(out.calls == 1);
    CHECK(out.ec == ossmp::errc::timeout);
}

TEST_CASE("low-speed limit: a server trickling a byte every 300 ms fails quickly",
          "[transport][deadline]") {
    // The stall timeout never fires (a byte arrives every 300 ms); 100 bytes/s over 1 s does.
    test_server server([](const received_request&) {
        scripted_reply r;
        r.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        r.trickle = std::string(1000, 't');
        r.trickle_interval = 300ms;
        return r;
    });
    asio::io_context io;
    asio_transport_options o;
    o.low_speed_limit = 100;
    o.low_speed_time = 1s;
    asio_transport t(io, o);
    auto start = std::chrono::steady_clock::now();
    auto out = run_one(io, t, make_get(server.host()));
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(out.calls == 1);
    CHECK(out.ec == ossmp::errc::transfer_too_slow);
    CHECK(elapsed >= 1s);
    CHECK(elapsed < 2500ms);
    CHECK(t.idle_connections() == 0);
}

TEST_CASE("low-speed limit: a server silent for less than low_speed_time is fine",
          "[transport][deadline]") {
    test_server server([](const received_request&) {
        scripted_reply r = ok_reply(std::string(20000, 'b'));
        r.delay = 700ms; // processing, silently
        return r;
    });
    asio::io_context io;
    asio_transport_options o;
    o.low_speed_limit = 100;
    o.low_speed_time = 1s;
    asio_transport t(io, o);
    auto out = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(out.ec);
    CHECK(out.res.body.size() == 20000);
}

TEST_CASE("low-speed limit: a transfer above the limit for longer than low_speed_time is fine",
          "[transport][deadline]") {
    // Up to 500 bytes/s (a byte every 2 ms) for more than 1 s against a limit of 100 bytes/s
    // over 1 s.
    test_server server([](const received_request&) {
        scripted_reply r;
        r.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n";
        r.trickle = std::string(600, 's');
        r.trickle_interval = 2ms;
        return r;
    });
    asio::io_context io;
    asio_transport_options o;
    o.low_speed_limit = 100;
    o.low_speed_time = 1s;
    asio_transport t(io, o);
    auto start = std::chrono::steady_clock::now();
    auto out = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(out.ec);
    CHECK(out.res.body == std::string(600, 's'));
    CHECK(std::chrono::steady_clock::now() - start >= 1s); // it was judged at least once
}

TEST_CASE("request timeout: a slow but never stalled response", "[transport][deadline]") {
    // A byte every 50 ms: under the 200 ms stall timeout, low-speed rule off.
    test_server server([](const received_request&) {
        scripted_reply r;
        r.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        r.trickle = std::string(1000, 'r');
        r.trickle_interval = 50ms;
        return r;
    });
    asio::io_context io;
    asio_transport_options o;
    o.stall_timeout = 200ms;
    o.low_speed_limit = 0;
    o.request_timeout = 500ms;
    asio_transport t(io, o);
    auto start = std::chrono::steady_clock::now();
    auto out = run_one(io, t, make_get(server.host()));
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(out.calls == 1);
    CHECK(out.ec == ossmp::errc::timeout);
    CHECK(elapsed >= 500ms);
    CHECK(elapsed < 2s);
    CHECK(t.idle_connections() == 0);
}

TEST_CASE("request timeout: an endless chunked body streamed to a sink", "[transport][deadline]") {
    test_server server([](const received_request&) {
        scripted_reply r;
        r.bytes = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        r.repeat = "400\r\n" + std::string(0x400, 'e') + "\r\n";
        return r;
    });
    asio::io_context io;
    asio_transport_options o;
    o.request_timeout = 300ms;
    asio_transport t(io, o);
    round_trip_options opt;
    std::uint64_t sunk = 0;
    opt.body_sink = [&](std::string_view b, std::error_code&) {
        sunk += b.size();
    };
    auto start = std::chrono::steady_clock::now();
    auto out = run_one(io, t, make_get(server.host()), opt);
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(out.calls == 1);
    CHECK(out.ec == ossmp::errc::timeout);
    CHECK(sunk > 0);
    CHECK(elapsed >= 300ms);
    CHECK(elapsed < 2s);
}

TEST_CASE("request timeout: the wait for a connection slot is not counted",
          "[transport][deadline]") {
    test_server server([](const received_request&) {
        scripted_reply r = ok_reply("q");
        r.delay = 250ms;
        return r;
    });
    asio::io_context io;
    asio_transport_options o;
    o.max_connections_per_host = 1;
    o.request_timeout = 400ms;
    asio_transport t(io, o);
    std::vector<outcome> outs(2);
    for (auto& out : outs)
        t.async_round_trip(make_get(server.host()), round_trip_options{},
                           [&out](std::error_code ec, response res) {
                               out.ec = ec;
                               out.res = std::move(res);
                               ++out.calls;
                           });
    auto start = std::chrono::steady_clock::now();
    io.run_for(10s);
    // The second one waited ~250 ms for the slot, then took ~250 ms of its own: 500 > 400.
    CHECK(std::chrono::steady_clock::now() - start >= 500ms);
    for (auto& out : outs) {
        CHECK(out.calls == 1);
        CHECK_FALSE(out.ec);
        CHECK(out.res.body == "q");
    }
}

TEST_CASE("request timeout covers the connect phase too", "[transport][deadline]") {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io);
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(ep.protocol());
    acceptor.bind(ep);
    acceptor.listen(0);
    asio::ip::tcp::socket filler(io);
    filler.connect(acceptor.local_endpoint());
    asio_transport_options o;
    o.connect_timeout = 10s;
    o.request_timeout = 300ms;
    asio_transport t(io, o);
    auto start = std::chrono::steady_clock::now();
    auto out =
        run_one(io, t, make_get("127.0.0.1:" + std::to_string(acceptor.local_endpoint().port())));
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(out.ec == ossmp::errc::timeout);
    CHECK(elapsed >= 300ms);
    CHECK(elapsed < 3s);
}

TEST_CASE("a body never goes beyond its Content-Length, even to a sink", "[transport]") {
    test_server server([](const received_request&) {
        scripted_reply r;
        r.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA BYTES";
        return r;
    });
    asio::io_context io;
    asio_transport t(io);
    round_trip_options opt;
    std::string sunk;
    opt.body_sink = [&](std::string_view b, std::error_code&) {
        sunk.append(b);
    };
    auto out = run_one(io, t, make_get(server.host()), opt);
    REQUIRE_FALSE(out.ec);
    CHECK(sunk == "hello");
    CHECK(t.idle_connections() == 0); // the extra bytes make the connection unusable
}

TEST_CASE("on_header sees the head before the body and can refuse it", "[transport]") {
    test_server server(
        [](const received_request&) { return ok_reply("0123456789", "X-A: b\r\n"); });
    asio::io_context io;
    asio_transport t(io);
    round_trip_options opt;
    std::string sunk;
    int heads = 0;
    opt.body_sink = [&](std::string_view b, std::error_code&) {
        sunk.append(b);
    };
    opt.on_header = [&](const response& head) -> std::error_code {
        ++heads;
        CHECK(head.status == 200);
        CHECK(head.headers.get("X-A") == "b");
        CHECK(head.body.empty());
        CHECK(sunk.empty());
        return ossmp::errc::size_mismatch;
    };
    auto out = run_one(io, t, make_get(server.host()), opt);
    CHECK(out.ec == ossmp::errc::size_mismatch);
    CHECK(heads == 1);
    CHECK(sunk.empty());
    CHECK(t.idle_connections() == 0);
}

TEST_CASE("connect timeout: a listener whose backlog is full", "[transport]") {
    asio::io_context io;
    // listen(0) lets one connection queue; further SYNs are dropped, so connect() hangs.
    asio::ip::tcp::acceptor acceptor(io);
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(ep.protocol());
    acceptor.bind(ep);
    acceptor.listen(0);
    auto port = acceptor.local_endpoint().port();
    asio::ip::tcp::socket filler(io);
    filler.connect(acceptor.local_endpoint());

    asio_transport_options o;
    o.connect_timeout = 300ms;
    asio_transport t(io, o);
    auto start = std::chrono::steady_clock::now();
    auto out = run_one(io, t, make_get("127.0.0.1:" + std::to_string(port)));
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(out.calls == 1);
    CHECK(out.ec == ossmp::errc::timeout);
    CHECK(elapsed >= 300ms);
    CHECK(elapsed < 5s);
}

TEST_CASE("truncated body -> unexpected_eof", "[transport]") {
    test_server server([](const received_request&) {
        scripted_reply r;
        r.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
        r.close = true;
        return r;
    });
    asio::io_context io;
    asio_transport t(io);
    auto out = run_one(io, t, make_get(server.host()));
    CHECK(out.calls == 1);
    CHECK(out.ec == ossmp::errc::unexpected_eof);
    CHECK(t.idle_connections() == 0);
}

TEST_CASE("malformed status line -> bad_status_line", "[transport]") {
    test_server server([](const received_request&) {
        scripted_reply r;
        r.bytes = "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n";
        return r;
    });
    asio::io_context io;
    asio_transport t(io);
    auto out = run_one(io, t, make_get(server.host()));
    CHECK(out.ec == ossmp::errc::bad_status_line);
}

TEST_CASE("EOF-delimited body is complete at close; connection not pooled", "[transport]") {
    test_server server([](const received_request&) {
        scripted_reply r;
        r.bytes = "HTTP/1.1 200 OK\r\n\r\nuntil the end";
        r.close = true;
        return r;
    });
    asio::io_context io;
    asio_transport t(io);
    auto out = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(out.ec);
    CHECK(out.res.body == "until the end");
    CHECK(t.idle_connections() == 0);
}

TEST_CASE("HEAD reply with Content-Length has no body and keeps the connection", "[transport]") {
    test_server server([](const received_request& r) {
        scripted_reply reply;
        if (r.head.rfind("HEAD", 0) == 0)
            reply.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nETag: \"e\"\r\n\r\n";
        else
            reply.bytes = http_reply(200, "after");
        return reply;
    });
    asio::io_context io;
    asio_transport t(io);
    auto head = make_get(server.host());
    head.method = ossmp::http::verb::head;
    auto a = run_one(io, t, std::move(head));
    auto b = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(a.ec);
    CHECK(a.res.headers.get("Content-Length") == "12345");
    CHECK(a.res.body.empty());
    REQUIRE_FALSE(b.ec);
    CHECK(b.res.body == "after");
    CHECK(server.connections() == 1);
}

TEST_CASE("non-2xx is not a transport error and its body is stored", "[transport]") {
    const std::string xml = "<?xml version=\"1.0\"?><Error><Code>NoSuchUpload</Code></Error>";
    test_server server([&](const received_request&) {
        scripted_reply r;
        r.bytes = http_reply(404, xml, "Content-Type: application/xml\r\n", "Not Found");
        return r;
    });
    asio::io_context io;
    asio_transport t(io);
    round_trip_options opt;
    std::string sunk;
    opt.body_sink = [&](std::string_view b, std::error_code&) {
        sunk.append(b);
    };
    auto out = run_one(io, t, make_get(server.host()), opt);
    REQUIRE_FALSE(out.ec);
    CHECK(out.res.status == 404);
    CHECK(out.res.reason == "Not Found");
    CHECK(out.res.body == xml);
    CHECK(sunk.empty());
}

TEST_CASE("body sink receives a streamed 2xx body", "[transport]") {
    std::string big(700 * 1024 + 7, '\0');
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<char>('a' + i % 26);
    test_server server([&](const received_request&) {
        scripted_reply r;
        r.bytes = http_reply(200, big);
        return r;
    });
    asio::io_context io;
    asio_transport_options o;
    o.max_body_size = 1024; // the cap applies to stored bodies only
    asio_transport t(io, o);
    round_trip_options opt;
    std::string sunk;
    int pieces = 0;
    opt.body_sink = [&](std::string_view b, std::error_code&) {
        sunk.append(b);
        ++pieces;
    };
    auto out = run_one(io, t, make_get(server.host()), opt);
    REQUIRE_FALSE(out.ec);
    CHECK(out.res.body.empty());
    CHECK(sunk == big);
    CHECK(pieces > 1);
    CHECK(t.idle_connections() == 1);
}

TEST_CASE("a body sink error aborts the round trip and closes the connection", "[transport]") {
    test_server server([](const received_request&) { return ok_reply("0123456789"); });
    asio::io_context io;
    asio_transport t(io);
    round_trip_options opt;
    opt.body_sink = [](std::string_view, std::error_code& ec) {
        ec = std::make_error_code(std::errc::no_space_on_device);
    };
    auto out = run_one(io, t, make_get(server.host()), opt);
    CHECK(out.ec == std::errc::no_space_on_device);
    CHECK(t.idle_connections() == 0);
}

TEST_CASE("stored body cap -> body_too_large", "[transport]") {
    test_server server([](const received_request&) { return ok_reply(std::string(100, 'z')); });
    asio::io_context io;
    asio_transport t(io);
    round_trip_options opt;
    opt.max_body_size = 99;
    auto out = run_one(io, t, make_get(server.host()), opt);
    CHECK(out.ec == ossmp::errc::body_too_large);
    opt.max_body_size = 100;
    auto ok = run_one(io, t, make_get(server.host()), opt);
    REQUIRE_FALSE(ok.ec);
    CHECK(ok.res.body.size() == 100);
}

TEST_CASE("bad request targets fail before any byte is sent, never inline", "[transport]") {
    asio::io_context io;
    asio_transport t(io);
    for (std::string host : {"", "[::1", "h:0", "h:70000", "h:x", "a b"}) {
        INFO("host '" << host << "'");
        outcome out;
        t.async_round_trip(make_get(host), round_trip_options{}, [&](std::error_code ec, response) {
            out.ec = ec;
            ++out.calls;
        });
        CHECK(out.calls == 0); // not completed inside the initiating call
        io.restart();
        io.run();
        CHECK(out.calls == 1);
        CHECK(out.ec == ossmp::errc::invalid_endpoint);
    }
    auto bad = make_get("127.0.0.1:1");
    bad.headers.add("x-evil", "a\r\nInjected: 1");
    auto out = run_one(io, t, std::move(bad));
    CHECK(out.ec == ossmp::errc::invalid_header);
    CHECK(t.connections_opened() == 0);
}

TEST_CASE("connect_to sends a virtual-hosted name to loopback", "[transport]") {
    test_server server([](const received_request&) { return ok_reply("vh"); });
    asio::io_context io;
    asio_transport_options o;
    o.connect_to.push_back({"bucket.oss-test.example", 0, "127.0.0.1", server.port()});
    asio_transport t(io, o);
    auto out = run_one(io, t, make_get("bucket.oss-test.example"));
    REQUIRE_FALSE(out.ec);
    CHECK(out.res.body == "vh");
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].raw() == "GET /bucket/key HTTP/1.1\r\nHost: bucket.oss-test.example\r\n\r\n");
}

TEST_CASE("a name is resolved through DNS (localhost)", "[transport]") {
    test_server server([](const received_request&) { return ok_reply("dns"); });
    asio::io_context io;
    asio_transport_options o;
    o.default_port = server.port();
    asio_transport t(io, o);
    auto out = run_one(io, t, make_get("localhost"));
    if (out.ec) // localhost may resolve to ::1 first; the transport tries every address
        FAIL("round trip failed: " << out.ec.message());
    CHECK(out.res.body == "dns");
    CHECK(server.requests().at(0).head.find("Host: localhost\r\n") != std::string::npos);
}

TEST_CASE("cancellation mid-flight closes the connection and aborts", "[transport]") {
    std::atomic<int> n{0};
    test_server server([&](const received_request&) {
        scripted_reply r = ok_reply("late");
        if (n.fetch_add(1) == 0)
            r.delay = 2s;
        return r;
    });
    asio::io_context io;
    asio_transport t(io);
    // Open (and pool) one connection first, so the cancelled round trip runs on a reused one.
    auto warm = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(warm.ec);
    n = 0;

    asio::cancellation_signal signal;
    outcome out;
    t.async_round_trip(
        make_get(server.host()), round_trip_options{},
        asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, response res) {
            out.ec = ec;
            out.res = std::move(res);
            ++out.calls;
        }));
    asio::steady_timer timer(io, 100ms);
    timer.async_wait([&](std::error_code) { signal.emit(asio::cancellation_type::terminal); });
    auto start = std::chrono::steady_clock::now();
    io.restart();
    io.run_for(10s);
    CHECK(std::chrono::steady_clock::now() - start < 1500ms);
    CHECK(out.calls == 1);
    CHECK(out.ec == asio::error::operation_aborted);
    CHECK(t.idle_connections() == 0);
    auto after = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(after.ec);
    CHECK(t.connections_opened() == 2); // the cancelled connection was not reused
}

TEST_CASE("cancellation while waiting for a connection slot", "[transport]") {
    test_server server([](const received_request&) {
        scripted_reply r = ok_reply("slow");
        r.delay = 300ms;
        return r;
    });
    asio::io_context io;
    asio_transport_options o;
    o.max_connections_per_host = 1;
    asio_transport t(io, o);
    outcome first, second, third;
    auto record = [](outcome& o) {
        return [&o](std::error_code ec, response res) {
            o.ec = ec;
            o.res = std::move(res);
            ++o.calls;
        };
    };
    asio::cancellation_signal signal;
    t.async_round_trip(make_get(server.host()), round_trip_options{}, record(first));
    t.async_round_trip(make_get(server.host()), round_trip_options{},
                       asio::bind_cancellation_slot(signal.slot(), record(second)));
    t.async_round_trip(make_get(server.host()), round_trip_options{}, record(third));
    asio::steady_timer timer(io, 50ms);
    bool second_done_before_first = false;
    timer.async_wait([&](std::error_code) { signal.emit(asio::cancellation_type::terminal); });
    asio::steady_timer check_timer(io, 150ms);
    check_timer.async_wait(
        [&](std::error_code) { second_done_before_first = second.calls == 1 && first.calls == 0; });
    io.run_for(10s);
    CHECK(second_done_before_first);
    CHECK(first.calls == 1);
    CHECK_FALSE(first.ec);
    CHECK(second.calls == 1);
    CHECK(second.ec == asio::error::operation_aborted);
    CHECK(third.calls == 1); // the wake-up was not lost with the cancelled waiter
    CHECK_FALSE(third.ec);
    CHECK(server.requests().size() == 2);
    CHECK(server.connections() == 1);
}

TEST_CASE("the handler runs through its associated executor", "[transport]") {
    test_server server([](const received_request&) { return ok_reply("s"); });
    asio::io_context io;
    asio_transport t(io);
    auto strand = asio::make_strand(io);
    bool in_strand = false;
    int calls = 0;
    t.async_round_trip(make_get(server.host()), round_trip_options{},
                       asio::bind_executor(strand, [&](std::error_code ec, response) {
                           in_strand = strand.running_in_this_thread();
                           CHECK_FALSE(ec);
                           ++calls;
                       }));
    io.run_for(10s);
    CHECK(calls == 1);
    CHECK(in_strand);
}

// ---- TLS ----

TEST_CASE("TLS round trip with the test CA: exact bytes, keep-alive", "[transport][tls]") {
    test_server server([](const received_request&) { return ok_reply("secure"); }, true);
    asio::io_context io;
    asio_transport_options o;
    o.tls = true;
    o.ca_file = ca_file();
    asio_transport t(io, o);
    std::string body = "tls body";
    auto a = run_one(io, t, make_put(server.host(), body));
    REQUIRE_FALSE(a.ec);
    CHECK(a.res.body == "secure");
    auto b = run_one(io, t, make_put(server.host(), body));
    REQUIRE_FALSE(b.ec);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].raw() == expected_put_bytes(server.host(), body));
    CHECK(server.connections() == 1);
}

TEST_CASE("TLS: a body of several write batches arrives exact, twice on one connection",
          "[transport][tls]") {
    // The TLS records are gathered into sends of tls_write_batch_size (256 KiB); the last,
    // partial batch goes out with the flush before the response is read.
    test_server server([](const received_request&) { return ok_reply("got it"); }, true);
    asio::io_context io;
    asio_transport t(io, tls_options());
    std::string body(ossmp::detail::tls_write_batch_size * 4 + 12345, '\0');
    for (std::size_t i = 0; i < body.size(); ++i)
        body[i] = static_cast<char>('a' + (i * 7919) % 26);
    for (int i = 0; i < 2; ++i) {
        auto a = run_one(io, t, make_put(server.host(), body));
        REQUIRE_FALSE(a.ec);
        CHECK(a.res.body == "got it");
    }
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].raw() == expected_put_bytes(server.host(), body));
    CHECK(reqs[1].raw() == expected_put_bytes(server.host(), body));
    CHECK(server.connections() == 1);
}

TEST_CASE("TLS: a response of several read chunks arrives exact, twice on one connection",
          "[transport][tls]") {
    // The TLS stream reads the socket 17 KiB at a time and the response reader drains it into
    // its own 256 KiB buffer: bytes of the first response must neither be lost nor leak into
    // the second.
    std::string body(ossmp::detail::transport_read_buffer_size * 3 + 4321, '\0');
    for (std::size_t i = 0; i < body.size(); ++i)
        body[i] = static_cast<char>('a' + (i * 7919) % 26);
    int served = 0;
    test_server server(
        [&](const received_request&) {
            ++served;
            return ok_reply(served == 1 ? body : std::string(body.rbegin(), body.rend()));
        },
        true);
    asio::io_context io;
    asio_transport t(io, tls_options());
    auto a = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(a.ec);
    CHECK(a.res.body == body);
    auto b = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(b.ec);
    CHECK(b.res.body == std::string(body.rbegin(), body.rend()));
    CHECK(server.connections() == 1);
}

TEST_CASE("TLS: a pooled connection closed by the server is retried once on a fresh one",
          "[transport][tls]") {
    // A small request fits in one write batch: its first send is the flush. The dead pooled
    // connection shows at that send or at the read after it; either is retried once.
    test_server server(
        [](const received_request&) {
            scripted_reply r = ok_reply("fine");
            r.close = true;
            return r;
        },
        true);
    asio::io_context io;
    asio_transport t(io, tls_options());
    auto a = run_one(io, t, make_put(server.host(), "one"));
    REQUIRE_FALSE(a.ec);
    std::this_thread::sleep_for(50ms); // let the FIN arrive
    auto b = run_one(io, t, make_put(server.host(), "two"));
    REQUIRE_FALSE(b.ec);
    CHECK(b.res.body == "fine");
    CHECK(t.connections_opened() == 2);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[1].raw() == expected_put_bytes(server.host(), "two"));
}

TEST_CASE("TLS: an untrusted certificate is rejected by default -> tls_untrusted_certificate",
          "[transport][tls]") {
    test_server server([](const received_request&) { return ok_reply("no"); }, true);
    asio::io_context io;
    asio_transport_options o;
    o.tls = true;
    asio_transport t(io, o); // system trust store only
    auto out = run_one(io, t, make_get(server.host()));
    CHECK(out.calls == 1);
    CHECK(out.ec == ossmp::errc::tls_untrusted_certificate);
    CHECK(out.ec.message() == "TLS certificate not trusted (unknown CA or self-signed)");
    CHECK(server.requests().empty());

    // The wrong CA, and a name the certificate covers: still the CA that is reported.
    asio_transport_options wrong = o;
    wrong.ca_file = ossmp::test::test_data_dir() + "/other-ca.crt";
    wrong.connect_to.push_back({"localhost", 0, "127.0.0.1", server.port()});
    asio_transport t2(io, wrong);
    auto out2 = run_one(io, t2, make_get("localhost"));
    CHECK(out2.ec == ossmp::errc::tls_untrusted_certificate);
    CHECK(server.requests().empty());
    CHECK_FALSE(ossmp::is_retryable(out2.ec));
}

TEST_CASE("TLS: the right CA but a name the certificate lacks -> tls_hostname_mismatch",
          "[transport][tls]") {
    test_server server([](const received_request&) { return ok_reply("no"); }, true);
    asio::io_context io;
    asio_transport_options o;
    o.tls = true;
    o.ca_file = ca_file();
    o.connect_to.push_back({"oss.example.com", 0, "127.0.0.1", server.port()});
    // *.localhost covers one label only: a.b.localhost is not covered.
    o.connect_to.push_back({"a.b.localhost", 0, "127.0.0.1", server.port()});
    asio_transport t(io, o);
    auto out = run_one(io, t, make_get("oss.example.com"));
    CHECK(out.ec == ossmp::errc::tls_hostname_mismatch);
    CHECK(out.ec.message() == "TLS certificate does not match the host name");
    auto nested = run_one(io, t, make_get("a.b.localhost"));
    CHECK(nested.ec == ossmp::errc::tls_hostname_mismatch);
    CHECK(server.requests().empty());
}

TEST_CASE("TLS: an IP address the certificate lacks -> tls_hostname_mismatch", "[transport][tls]") {
    test_server server([](const received_request&) { return ok_reply("ip"); }, true);
    asio::io_context io;
    asio_transport_options o;
    o.tls = true;
    o.ca_file = ca_file();
    // The certificate names 127.0.0.1 and ::1, not 127.0.0.2.
    o.connect_to.push_back({"127.0.0.2", 0, "127.0.0.1", server.port()});
    asio_transport t(io, o);
    auto out = run_one(io, t, make_get("127.0.0.2:" + std::to_string(server.port())));
    CHECK(out.ec == ossmp::errc::tls_hostname_mismatch);
    auto ok = run_one(io, t, make_get(server.host())); // 127.0.0.1 is in the certificate
    REQUIRE_FALSE(ok.ec);
    CHECK(ok.res.body == "ip");
}

TEST_CASE("TLS: an expired certificate -> tls_certificate_expired", "[transport][tls]") {
    // tests/data/expired.crt: signed by the test CA for localhost and 127.0.0.1, valid in 2000.
    test_server server([](const received_request&) { return ok_reply("old"); }, true,
                       "expired.crt");
    asio::io_context io;
    asio_transport_options o;
    o.tls = true;
    o.ca_file = ca_file();
    asio_transport t(io, o);
    auto out = run_one(io, t, make_get(server.host()));
    CHECK(out.ec == ossmp::errc::tls_certificate_expired);
    CHECK(out.ec.message() == "TLS certificate expired or not yet valid");
    CHECK(server.requests().empty());
}

TEST_CASE("TLS: virtual-hosted name through connect_to matches *.oss.localhost (SNI + check)",
          "[transport][tls]") {
    test_server server([](const received_request&) { return ok_reply("vh"); }, true);
    asio::io_context io;
    asio_transport_options o;
    o.tls = true;
    o.ca_file = ca_file();
    o.connect_to.push_back({"bucket.oss.localhost", 0, "127.0.0.1", server.port()});
    asio_transport t(io, o);
    auto out = run_one(io, t, make_get("bucket.oss.localhost"));
    REQUIRE_FALSE(out.ec);
    CHECK(out.res.body == "vh");
    CHECK(server.requests().at(0).head.find("\r\nHost: bucket.oss.localhost\r\n") !=
          std::string::npos);
}

TEST_CASE("TLS: insecure_skip_verify accepts the untrusted certificate", "[transport][tls]") {
    test_server server([](const received_request&) { return ok_reply("whatever"); }, true);
    asio::io_context io;
    asio_transport_options o;
    o.tls = true;
    o.insecure_skip_verify = true;
    o.connect_to.push_back({"", 0, "127.0.0.1", server.port()});
    asio_transport t(io, o);
    auto out = run_one(io, t, make_get("not-the-cert-name.example"));
    REQUIRE_FALSE(out.ec);
    CHECK(out.res.body == "whatever");
}

TEST_CASE("TLS: caller-provided ssl::context", "[transport][tls]") {
    test_server server([](const received_request&) { return ok_reply("ctx"); }, true);
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.load_verify_file(ca_file());
    asio_transport_options o;
    o.tls = true;
    asio_transport t(io.get_executor(), ctx, o);
    auto out = run_one(io, t, make_get(server.host()));
    REQUIRE_FALSE(out.ec);
    CHECK(out.res.body == "ctx");
}

TEST_CASE("TLS: truncated body -> unexpected_eof", "[transport][tls]") {
    test_server server(
        [](const received_request&) {
            scripted_reply r;
            r.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
            r.close = true;
            return r;
        },
        true);
    asio::io_context io;
    asio_transport_options o;
    o.tls = true;
    o.ca_file = ca_file();
    asio_transport t(io, o);
    auto out = run_one(io, t, make_get(server.host()));
    CHECK(out.ec == ossmp::errc::unexpected_eof);
}

TEST_CASE("a bad CA file throws from the constructor", "[transport][tls]") {
    asio::io_context io;
    asio_transport_options o;
    o.tls = true;
    o.ca_file = "/nonexistent/ca.pem";
    CHECK_THROWS_AS(asio_transport(io, o), std::system_error);
}

// ---- completion token flavours ----

TEST_CASE("completion tokens: use_awaitable", "[transport][tokens]") {
    test_server server([](const received_request&) { return ok_reply("aw"); });
    asio::io_context io;
    asio_transport t(io);
    std::string got;
    std::error_code got_ec;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto req = make_get(server.host());
            round_trip_options opt;
            auto res = co_await t.async_round_trip(std::move(req), opt, asio::use_awaitable);
            got = res.body;
            // errors arrive as exceptions with use_awaitable
            auto bad = make_get("");
            try {
                co_await t.async_round_trip(std::move(bad), opt, asio::use_awaitable);
            } catch (const std::system_error& e) {
                got_ec = e.code();
            }
        },
        asio::detached);
    io.run_for(10s);
    CHECK(got == "aw");
    CHECK(got_ec == ossmp::errc::invalid_endpoint);
}

TEST_CASE("completion tokens: deferred", "[transport][tokens]") {
    test_server server([](const received_request&) { return ok_reply("df"); });
    asio::io_context io;
    asio_transport t(io);
    auto op = t.async_round_trip(make_get(server.host()), round_trip_options{},
                                 asio::experimental::deferred);
    CHECK(server.requests().empty()); // nothing happens until the deferred op is launched
    io.run_for(50ms);
    CHECK(server.requests().empty());
    outcome out;
    std::move(op)([&](std::error_code ec, response res) {
        out.ec = ec;
        out.res = std::move(res);
        ++out.calls;
    });
    io.restart();
    io.run_for(10s);
    CHECK(out.calls == 1);
    CHECK_FALSE(out.ec);
    CHECK(out.res.body == "df");
}

TEST_CASE("completion tokens: use_future", "[transport][tokens]") {
    test_server server([](const received_request&) { return ok_reply("fu"); });
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    std::thread runner([&] { io.run(); });
    {
        asio_transport t(io);
        auto f =
            t.async_round_trip(make_get(server.host()), round_trip_options{}, asio::use_future);
        REQUIRE(f.wait_for(10s) == std::future_status::ready);
        CHECK(f.get().body == "fu");
        auto bad = t.async_round_trip(make_get(""), round_trip_options{}, asio::use_future);
        REQUIRE(bad.wait_for(10s) == std::future_status::ready);
        CHECK_THROWS_AS(bad.get(), std::system_error);
        asio::post(io, [&] { t.close_idle(); });
        std::promise<void> flushed;
        asio::post(io, [&] { flushed.set_value(); });
        flushed.get_future().wait();
    }
    guard.reset();
    runner.join();
}

TEST_CASE("completion tokens: as_tuple", "[transport][tokens]") {
    test_server server([](const received_request&) { return ok_reply("tu"); });
    asio::io_context io;
    asio_transport t(io);
    std::string body;
    std::error_code bad_ec;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            using asio::experimental::as_tuple;
            auto req = make_get(server.host());
            round_trip_options opt;
            auto [ec, res] =
                co_await t.async_round_trip(std::move(req), opt, as_tuple(asio::use_awaitable));
            CHECK_FALSE(ec);
            body = res.body;
            auto bad = make_get("");
            auto [ec2, res2] =
                co_await t.async_round_trip(std::move(bad), opt, as_tuple(asio::use_awaitable));
            bad_ec = ec2;
        },
        asio::detached);
    io.run_for(10s);
    CHECK(body == "tu");
    CHECK(bad_ec == ossmp::errc::invalid_endpoint);
    // as_tuple over a plain callback too
    outcome out;
    t.async_round_trip(make_get(server.host()), round_trip_options{},
                       asio::experimental::as_tuple([&](std::tuple<std::error_code, response> r) {
                           out.ec = std::get<0>(r);
                           out.res = std::move(std::get<1>(r));
                           ++out.calls;
                       }));
    io.restart();
    io.run_for(10s);
    CHECK(out.calls == 1);
    CHECK(out.res.body == "tu");
}

TEST_CASE("completion tokens: awaitable cancelled through a parallel_group / slot",
          "[transport][tokens]") {
    test_server server([](const received_request&) {
        scripted_reply r = ok_reply("never");
        r.delay = 3s;
        return r;
    });
    asio::io_context io;
    asio_transport t(io);
    std::error_code got;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            asio::cancellation_signal signal;
            asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
            timer.async_wait(
                [&](std::error_code) { signal.emit(asio::cancellation_type::terminal); });
            auto req = make_get(server.host());
            round_trip_options opt;
            auto [ec, res] = co_await t.async_round_trip(
                std::move(req), opt,
                asio::bind_cancellation_slot(signal.slot(),
                                             asio::experimental::as_tuple(asio::use_awaitable)));
            got = ec;
        },
        asio::detached);
    auto start = std::chrono::steady_clock::now();
    io.run_for(10s);
    CHECK(got == asio::error::operation_aborted);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("asio_transport models the transport concept", "[transport]") {
    STATIC_REQUIRE(ossmp::transport<asio_transport>);
    STATIC_REQUIRE(ossmp::transport<ossmp::basic_asio_transport<asio::io_context::executor_type>>);
    STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<asio_transport>);
}

TEST_CASE("idle timeout: a pooled connection idle too long is not reused", "[transport]") {
    test_server server([](const received_request&) { return ok_reply("i"); });
    asio::io_context io;
    asio_transport_options o;
    o.idle_timeout = 50ms;
    asio_transport t(io, o);
    auto a = run_one(io, t, make_get(server.host()));
    auto b = run_one(io, t, make_get(server.host())); // immediately: reused
    std::this_thread::sleep_for(120ms);
    auto c = run_one(io, t, make_get(server.host())); // after idle_timeout: a new connection
    REQUIRE_FALSE(a.ec);
    REQUIRE_FALSE(b.ec);
    REQUIRE_FALSE(c.ec);
    CHECK(t.connections_opened() == 2);
    CHECK(server.connections() == 2);
}

TEST_CASE("connect timeout covers the TLS handshake", "[transport][tls]") {
    // A plain server never answers a ClientHello (it waits for an HTTP head).
    test_server server([](const received_request&) { return ok_reply("never"); });
    asio::io_context io;
    asio_transport_options o;
    o.tls = true;
    o.ca_file = ca_file();
    o.connect_timeout = 300ms;
    asio_transport t(io, o);
    auto start = std::chrono::steady_clock::now();
    auto out = run_one(io, t, make_get(server.host()));
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(out.ec == ossmp::errc::timeout);
    CHECK(elapsed >= 300ms);
    CHECK(elapsed < 5s);
}

TEST_CASE("connection refused is reported as such", "[transport]") {
    asio::io_context io;
    std::uint16_t port;
    {
        asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    } // closed: nothing listens there now
    asio_transport t(io);
    auto out = run_one(io, t, make_get("127.0.0.1:" + std::to_string(port)));
    CHECK(out.ec == asio::error::connection_refused);
}

TEST_CASE("cancellation right after initiation (while resolving a name)", "[transport]") {
    test_server server([](const received_request&) { return ok_reply("x"); });
    asio::io_context io;
    asio_transport_options o;
    o.default_port = server.port();
    asio_transport t(io, o);
    asio::cancellation_signal signal;
    outcome out;
    t.async_round_trip(
        make_get("localhost"), round_trip_options{},
        asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, response) {
            out.ec = ec;
            ++out.calls;
        }));
    signal.emit(asio::cancellation_type::terminal);
    io.run_for(10s);
    CHECK(out.calls == 1);
    CHECK(out.ec == asio::error::operation_aborted);
    CHECK(server.requests().empty());
    CHECK(t.idle_connections() == 0);
    auto after = run_one(io, t, make_get("localhost"));
    CHECK_FALSE(after.ec);
}
