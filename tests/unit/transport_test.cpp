// Sans-io helpers of asio_transport (host:port parsing, connect-to rules, TLS verify results)
// and the scripted fake transport of tests/support.
#include "ossmp/detail/transport_connection.hpp"
#include "ossmp/detail/transport_target.hpp"
#include "support/fake_transport.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using ossmp::connect_to_rule;
using ossmp::detail::apply_connect_to;
using ossmp::detail::parse_host_port;
using ossmp::detail::transport_host_port;
using ossmp::http::request;
using ossmp::http::response;
using ossmp::test::fake_transport;

TEST_CASE("parse_host_port splits request.host", "[transport]") {
    transport_host_port hp;
    REQUIRE_FALSE(parse_host_port("bucket.oss-cn-hangzhou.aliyuncs.com", 443, hp));
    CHECK(hp.host == "bucket.oss-cn-hangzhou.aliyuncs.com");
    CHECK(hp.port == 443);
    REQUIRE_FALSE(parse_host_port("Example.COM:8080", 80, hp));
    CHECK(hp.host == "example.com");
    CHECK(hp.port == 8080);
    REQUIRE_FALSE(parse_host_port("127.0.0.1:65535", 80, hp));
    CHECK(hp.host == "127.0.0.1");
    CHECK(hp.port == 65535);
    REQUIRE_FALSE(parse_host_port("[::1]:9000", 80, hp));
    CHECK(hp.host == "::1");
    CHECK(hp.port == 9000);
    REQUIRE_FALSE(parse_host_port("[fe80::1]", 80, hp));
    CHECK(hp.host == "fe80::1");
    CHECK(hp.port == 80);
    for (const char* bad : {"", ":80", "h:", "h:0", "h:65536", "h:8x", "[::1", "[::1]x",
                            "[::1]:", "::1", "a b", "user@h", "h/x"}) {
        INFO(bad);
        CHECK(parse_host_port(bad, 80, hp) == ossmp::errc::invalid_endpoint);
    }
    CHECK(parse_host_port("h", 0, hp) == ossmp::errc::invalid_endpoint); // no port at all
}

TEST_CASE("apply_connect_to follows curl's --connect-to rules", "[transport]") {
    std::vector<connect_to_rule> rules{
        {"a.example", 443, "127.0.0.1", 9443},
        {"b.example", 0, "", 8080},
        {"", 80, "[::1]", 0},
    };
    auto to = apply_connect_to(rules, {"a.example", 443});
    CHECK(to.host == "127.0.0.1");
    CHECK(to.port == 9443);
    to = apply_connect_to(rules, {"a.example", 444}); // port mismatch: no rule matches
    CHECK(to.host == "a.example");
    CHECK(to.port == 444);
    to = apply_connect_to(rules, {"b.example", 1234}); // any port, keep host
    CHECK(to.host == "b.example");
    CHECK(to.port == 8080);
    to = apply_connect_to(rules, {"A.EXAMPLE", 80}); // case-insensitive miss on port; any host
    CHECK(to.host == "::1");
    CHECK(to.port == 80);
    to = apply_connect_to({}, {"c.example", 1});
    CHECK(to.host == "c.example");
    CHECK(to.port == 1);
}

namespace {
request put_request(std::string_view body) {
    request r;
    r.method = ossmp::http::verb::put;
    r.host = "b.example";
    r.path = "/k";
    r.set_body_view(body);
    return r;
}
} // namespace

TEST_CASE("fake_transport: scripted responses, errors, fail_nth, recording", "[transport]") {
    asio::io_context io;
    fake_transport t(io);
    t.push_response(200, "one", {{"ETag", "\"e1\""}});
    t.push_error(asio::error::connection_reset);
    t.push_response(404, "<Error/>");
    t.fail_nth(2, ossmp::errc::timeout);

    std::vector<std::pair<std::error_code, response>> got;
    auto record = [&](std::error_code ec, response r) {
        got.emplace_back(ec, std::move(r));
    };
    {
        std::string body = "part bytes";
        t.async_round_trip(put_request(body), ossmp::round_trip_options{}, record);
        body = "overwritten"; // the fake copied the bytes at initiation
    }
    t.async_round_trip(put_request("x"), ossmp::round_trip_options{}, record);
    t.async_round_trip(put_request(""), ossmp::round_trip_options{}, record);
    t.async_round_trip(put_request(""), ossmp::round_trip_options{}, record);
    t.async_round_trip(put_request(""), ossmp::round_trip_options{}, record); // queue empty
    CHECK(got.empty()); // never completes inside the initiating call
    io.run();
    REQUIRE(got.size() == 5);
    CHECK_FALSE(got[0].first);
    CHECK(got[0].second.status == 200);
    CHECK(got[0].second.body == "one");
    CHECK(got[0].second.headers.get("etag") == "\"e1\"");
    CHECK(got[1].first == ossmp::errc::timeout);          // fail_nth(2)
    CHECK(got[2].first == asio::error::connection_reset); // queued error
    CHECK_FALSE(got[3].first);
    CHECK(got[3].second.status == 404);
    CHECK(got[3].second.body == "<Error/>");
    CHECK(got[4].first == ossmp::errc::invalid_argument); // nothing scripted
    REQUIRE(t.requests().size() == 5);
    CHECK(t.requests()[0].body == "part bytes");
    CHECK(t.requests()[0].body_was_view);
    CHECK(t.requests()[0].request.body() == "part bytes");
    CHECK(t.requests()[0].request.method == ossmp::http::verb::put);
    CHECK(t.completed() == 5);
}

TEST_CASE("fake_transport: responder, body sink, cancellation", "[transport]") {
    asio::io_context io;
    fake_transport t(io);
    t.set_responder([](const request& r) -> fake_transport::outcome {
        response res;
        res.status = 200;
        res.body = "echo:" + std::string(r.path);
        return res;
    });
    ossmp::round_trip_options opt;
    std::string sunk;
    opt.body_sink = [&](std::string_view b, std::error_code&) {
        sunk.append(b);
    };
    response out;
    t.async_round_trip(put_request(""), opt, [&](std::error_code ec, response r) {
        CHECK_FALSE(ec);
        out = std::move(r);
    });
    io.run();
    CHECK(sunk == "echo:/k");
    CHECK(out.body.empty());
    CHECK(t.requests().at(0).had_body_sink);

    t.set_delay(std::chrono::hours(1));
    asio::cancellation_signal signal;
    std::error_code cancelled_ec;
    int calls = 0;
    t.async_round_trip(
        put_request(""), ossmp::round_trip_options{},
        asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, response) {
            cancelled_ec = ec;
            ++calls;
        }));
    asio::post(io, [&] { signal.emit(asio::cancellation_type::terminal); });
    io.restart();
    io.run();
    CHECK(calls == 1);
    CHECK(cancelled_ec == asio::error::operation_aborted);
    CHECK(t.cancelled() == 1);
}

TEST_CASE("fake_transport: on_header first, then the body in pieces", "[transport]") {
    asio::io_context io;
    fake_transport t(io);
    t.set_sink_piece_size(4);
    t.push_response(200, "0123456789", {{"X-A", "b"}});
    t.push_response(200, "0123456789");
    ossmp::round_trip_options opt;
    std::vector<std::string> pieces;
    bool refuse = false;
    opt.on_header = [&](const response& head) -> std::error_code {
        CHECK(head.body.empty());
        CHECK(pieces.empty());
        return refuse ? std::error_code(ossmp::errc::size_mismatch) : std::error_code{};
    };
    opt.body_sink = [&](std::string_view b, std::error_code&) {
        pieces.emplace_back(b);
    };
    std::error_code got;
    t.async_round_trip(put_request(""), opt, [&](std::error_code ec, response) { got = ec; });
    io.run();
    CHECK_FALSE(got);
    CHECK(pieces == std::vector<std::string>{"0123", "4567", "89"});
    pieces.clear();
    refuse = true;
    t.async_round_trip(put_request(""), opt, [&](std::error_code ec, response) { got = ec; });
    io.restart();
    io.run();
    CHECK(got == ossmp::errc::size_mismatch);
    CHECK(pieces.empty());
}

TEST_CASE("tls_verify_error names the certificate problem", "[transport][tls]") {
    using ossmp::errc;
    using ossmp::detail::tls_verify_error;
    CHECK_FALSE(tls_verify_error(X509_V_OK));
    for (long v :
         {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
          X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
          X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_CERT_UNTRUSTED,
          X509_V_ERR_CERT_REJECTED}) {
        INFO(X509_verify_cert_error_string(v));
        CHECK(tls_verify_error(v) == errc::tls_untrusted_certificate);
    }
    CHECK(tls_verify_error(X509_V_ERR_HOSTNAME_MISMATCH) == errc::tls_hostname_mismatch);
    CHECK(tls_verify_error(X509_V_ERR_IP_ADDRESS_MISMATCH) == errc::tls_hostname_mismatch);
    CHECK(tls_verify_error(X509_V_ERR_CERT_HAS_EXPIRED) == errc::tls_certificate_expired);
    CHECK(tls_verify_error(X509_V_ERR_CERT_NOT_YET_VALID) == errc::tls_certificate_expired);
    // Rarer failures keep OpenSSL's own "certificate verify failed".
    CHECK_FALSE(tls_verify_error(X509_V_ERR_CERT_REVOKED));
    CHECK_FALSE(tls_verify_error(X509_V_ERR_INVALID_PURPOSE));
}

TEST_CASE("transport_pool: the idle sweep closes the old connections and keeps the others",
          "[transport][pool]") {
    // Regression: the sweep used std::remove_if and then closed the elements past the new end,
    // which remove_if leaves moved-from (null) when a kept connection followed a removed one: a
    // SIGSEGV after idle_timeout (30 s) in a long upload with a connection left idle.
    using pool_type = ossmp::detail::transport_pool<asio::any_io_executor>;
    using ossmp::detail::transport_acquire;
    asio::io_context io;
    ossmp::asio_transport_options options;
    options.max_connections_per_host = 4;
    options.idle_timeout = std::chrono::seconds(30);
    pool_type pool(io.get_executor(), options);
    const std::string key = "http://127.0.0.1:9";

    std::vector<std::shared_ptr<pool_type::connection_type>> made;
    for (int i = 0; i < 4; ++i) {
        std::shared_ptr<pool_type::connection_type> c;
        REQUIRE(pool.acquire(key, c) == transport_acquire::open);
        c = pool.make_connection(key);
        c->socket.open(asio::ip::tcp::v4()); // open, never connected: enough for the pool
        made.push_back(c);
    }
    std::shared_ptr<pool_type::connection_type> none;
    CHECK(pool.acquire(key, none) == transport_acquire::full);
    for (auto& c : made)
        pool.release(key, c);
    REQUIRE(pool.idle_connections() == 4);
    // Idle in this order: old, fresh, old, fresh.
    made[0]->idle_since -= std::chrono::hours(1);
    made[2]->idle_since -= std::chrono::hours(1);

    std::shared_ptr<pool_type::connection_type> got;
    REQUIRE(pool.acquire(key, got) == transport_acquire::reused);
    CHECK((got == made[1] || got == made[3]));
    CHECK(pool.idle_connections() == 1);
    CHECK_FALSE(made[0]->socket.is_open());
    CHECK_FALSE(made[2]->socket.is_open());
    CHECK(made[1]->socket.is_open());
    CHECK(made[3]->socket.is_open());
    // The two closed ones freed their slots: two new connections may be opened, not three.
    std::shared_ptr<pool_type::connection_type> more;
    CHECK(pool.acquire(key, more) == transport_acquire::reused); // the other fresh one
    CHECK(pool.acquire(key, more) == transport_acquire::open);
    CHECK(pool.acquire(key, more) == transport_acquire::open);
    CHECK(pool.acquire(key, more) == transport_acquire::full);
}
