// GetObject against a scripted hostile server (tests/support/test_server.hpp): the body never
// goes beyond the size the caller expects or the response announces, whatever the framing.
#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/ops/get_object.hpp"
#include "ossmp/transport/asio_transport.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

using namespace std::chrono_literals;
using ossmp::errc;
using ossmp::test::received_request;
using ossmp::test::scripted_reply;
using ossmp::test::test_server;

namespace {

/// "400\r\n" + 1 KiB + "\r\n": one chunk of an endless chunked body.
std::string kib_chunk() {
    return "400\r\n" + std::string(1024, 'c') + "\r\n";
}

/// A chunked body made of `n` bytes ('c') in chunks of at most 1 KiB, with the last chunk.
std::string chunked_body(std::size_t n) {
    std::string out;
    while (n > 0) {
        std::size_t k = n < 1024 ? n : 1024;
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", k);
        out += size;
        out += std::string(k, 'c');
        out += "\r\n";
        n -= k;
    }
    return out + "0\r\n\r\n";
}

scripted_reply reply_with(std::string bytes) {
    scripted_reply r;
    r.bytes = std::move(bytes);
    return r;
}

struct get_outcome {
    std::error_code ec;
    ossmp::get_object_result result;
    std::uint64_t sunk = 0; ///< bytes the caller's sink saw
    int calls = 0;
};

/// One GetObject of bucket/key against `server`, with the given expectation and range.
get_outcome get(const test_server& server, std::optional<std::uint64_t> expected_size,
                std::optional<std::uint64_t> range_first = std::nullopt,
                std::optional<std::uint64_t> range_last = std::nullopt) {
    asio::io_context io;
    ossmp::asio_transport transport(io);
    ossmp::client_options co;
    co.endpoint = "http://" + server.host();
    co.region = "cn-hangzhou";
    ossmp::basic_client<ossmp::asio_transport, ossmp::static_credentials_provider> client(
        transport, co, ossmp::static_credentials_provider("ak", "sk"));
    ossmp::get_object_params p;
    p.bucket = "bucket";
    p.key = "key";
    p.expected_size = expected_size;
    p.range_first = range_first;
    p.range_last = range_last;
    get_outcome out;
    ossmp::async_get_object(
        client, p, [&](std::string_view b) { out.sunk += b.size(); },
        [&](std::error_code ec, ossmp::get_object_result r) {
            out.ec = ec;
            out.result = std::move(r);
            ++out.calls;
        });
    io.run_for(10s);
    return out;
}

} // namespace

TEST_CASE("GetObject: an endless chunked body stops at expected_size", "[get_object][size]") {
    test_server server([](const received_request&) {
        scripted_reply r = reply_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        r.repeat = kib_chunk();
        return r;
    });
    auto start = std::chrono::steady_clock::now();
    auto out = get(server, 5000);
    CHECK(std::chrono::steady_clock::now() - start < 3s);
    CHECK(out.calls == 1);
    CHECK(out.ec == errc::size_mismatch);
    CHECK(out.sunk <= 5000);
    CHECK(out.sunk >= 4096); // the whole chunks before the one that crosses 5000
}

TEST_CASE("GetObject: a chunked body of exactly expected_size succeeds (CRC-64 checked)",
          "[get_object][size]") {
    const std::uint64_t crc = ossmp::crc64(std::string(5000, 'c'));
    test_server server([&](const received_request&) {
        return reply_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                          "x-oss-hash-crc64ecma: " +
                          std::to_string(crc) + "\r\n\r\n" + chunked_body(5000));
    });
    auto out = get(server, 5000);
    REQUIRE_FALSE(out.ec);
    CHECK(out.sunk == 5000);
    CHECK(out.result.bytes == 5000);
    CHECK(out.result.meta.content_length == 5000);
    CHECK(out.result.meta.size == 5000);
    CHECK(out.result.crc_checked);
}

TEST_CASE("GetObject: a chunked body shorter than expected_size fails", "[get_object][size]") {
    test_server server([](const received_request&) {
        return reply_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                          chunked_body(4999));
    });
    auto out = get(server, 5000);
    CHECK(out.ec == errc::size_mismatch);
    CHECK(out.sunk == 4999);
}

TEST_CASE("GetObject: a Content-Length other than expected_size fails before the body",
          "[get_object][size]") {
    test_server server([](const received_request&) {
        return reply_with(ossmp::test::http_reply(200, std::string(6000, 'x')));
    });
    auto out = get(server, 5000);
    CHECK(out.ec == errc::size_mismatch);
    CHECK(out.sunk == 0);
    auto smaller = get(server, 7000);
    CHECK(smaller.ec == errc::size_mismatch);
    CHECK(smaller.sunk == 0);
    auto right = get(server, 6000);
    REQUIRE_FALSE(right.ec);
    CHECK(right.sunk == 6000);
}

TEST_CASE("GetObject: a 206 chunked body never exceeds its Content-Range", "[get_object][size]") {
    // No expected_size: the announced span alone caps the body.
    test_server server([](const received_request&) {
        scripted_reply r = reply_with("HTTP/1.1 206 Partial Content\r\nTransfer-Encoding: "
                                      "chunked\r\nContent-Range: bytes 0-2999/100000\r\n\r\n");
        r.repeat = kib_chunk();
        return r;
    });
    auto out = get(server, std::nullopt, 0, 2999);
    CHECK(out.ec == errc::size_mismatch);
    CHECK(out.sunk <= 3000);
}

TEST_CASE("GetObject: a 206 chunked body of its Content-Range succeeds", "[get_object][size]") {
    test_server server([](const received_request&) {
        return reply_with("HTTP/1.1 206 Partial Content\r\nTransfer-Encoding: chunked\r\n"
                          "Content-Range: bytes 10-2009/100000\r\n\r\n" +
                          chunked_body(2000));
    });
    auto out = get(server, 100000, 10, 2009);
    REQUIRE_FALSE(out.ec);
    CHECK(out.sunk == 2000);
    CHECK(out.result.meta.content_length == 2000);
    CHECK(out.result.meta.size == 100000);
}

TEST_CASE("GetObject: a 206 that contradicts itself or expected_size fails before the body",
          "[get_object][size]") {
    std::string reply;
    test_server server([&](const received_request&) { return reply_with(reply); });
    // Content-Length 20 against a 10-byte Content-Range.
    reply = "HTTP/1.1 206 Partial Content\r\nContent-Length: 20\r\nContent-Range: bytes "
            "0-9/100\r\n\r\n" +
            std::string(20, 'p');
    auto lying = get(server, std::nullopt, 0, 9);
    CHECK(lying.ec == errc::size_mismatch);
    CHECK(lying.sunk == 0);
    // A consistent 206 of an object of 100 bytes when 99 were expected.
    reply = "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nContent-Range: bytes "
            "0-9/100\r\n\r\n" +
            std::string(10, 'p');
    auto other_object = get(server, 99, 0, 9);
    CHECK(other_object.ec == errc::size_mismatch);
    CHECK(other_object.sunk == 0);
    auto fine = get(server, 100, 0, 9);
    REQUIRE_FALSE(fine.ec);
    CHECK(fine.sunk == 10);
}

TEST_CASE("GetObject: a 200 answer to a range request is checked against expected_size",
          "[get_object][size]") {
    // The server ignored the range and sends the whole object (what OSS does for a range it
    // cannot serve): it must be the expected size.
    test_server server([](const received_request&) {
        scripted_reply r = reply_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        r.repeat = kib_chunk();
        return r;
    });
    auto out = get(server, 3000, 0, 9);
    CHECK(out.ec == errc::size_mismatch);
    CHECK(out.sunk <= 3000);
}
