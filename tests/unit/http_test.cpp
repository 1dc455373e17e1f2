// Tests of the HTTP/1.1 serializer and the incremental parser (sans-io).
#include "ossmp/http/chars.hpp"
#include "ossmp/http/parser.hpp"
#include "ossmp/http/serializer.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace http = ossmp::http;
using ossmp::errc;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

struct parse_options {
    bool head_request = false;
    bool use_sink = false;
    bool eof_after = false; // call finish_eof once every byte has been fed
    std::optional<std::uint64_t> body_limit;
    std::optional<std::size_t> header_limit;
    std::optional<std::size_t> max_headers;
};

template <bool IsRequest>
struct parse_result {
    typename http::basic_parser<IsRequest>::message_type msg;
    std::error_code ec;
    std::size_t consumed = 0;
    bool header_done = false;
    bool done = false;
    bool keep_alive = false;
    bool got_continue = false;
    bool stalled = false;     // feed returned 0 without done() or an error
    bool sticky_error = true; // after an error, feed returns 0 with the same error
    std::optional<std::uint64_t> content_length;
    std::uint64_t body_bytes = 0;
    std::string sunk;
};

template <bool IsRequest>
void configure(http::basic_parser<IsRequest>& p, const parse_options& opt) {
    if constexpr (!IsRequest)
        p.set_head_request(opt.head_request);
    if (opt.body_limit)
        p.set_body_limit(*opt.body_limit);
    if (opt.header_limit)
        p.set_header_limit(*opt.header_limit);
    if (opt.max_headers)
        p.set_max_headers(*opt.max_headers);
}

// Feeds `chunks` in order, calling feed again whenever it stops early, until the message is
// done or fails.
template <bool IsRequest>
parse_result<IsRequest> parse_chunks(const std::vector<std::string_view>& chunks,
                                     const parse_options& opt) {
    http::basic_parser<IsRequest> p;
    configure(p, opt);
    parse_result<IsRequest> r;
    if (opt.use_sink)
        p.set_body_sink([&r](std::string_view d, std::error_code&) { r.sunk.append(d); });
    for (auto c : chunks) {
        while (!c.empty() && !p.done() && !r.ec) {
            const auto n = p.feed(c, r.ec);
            r.consumed += n;
            c.remove_prefix(n);
            if (n == 0 && !r.ec && !p.done()) {
                r.stalled = true;
                break;
            }
        }
        if (p.done() || r.ec || r.stalled)
            break;
    }
    if (!r.ec && !p.done() && opt.eof_after)
        p.finish_eof(r.ec);
    if (r.ec) {
        std::error_code again;
        r.sticky_error =
            p.feed("HTTP/1.1 200 OK\r\n\r\n", again) == 0 && again == r.ec && p.error() == r.ec;
    }
    r.header_done = p.header_done();
    r.done = p.done();
    r.keep_alive = p.keep_alive();
    r.got_continue = p.got_continue();
    r.content_length = p.content_length();
    r.body_bytes = p.body_bytes();
    r.msg = p.release();
    return r;
}

// Every observable field, for comparing one way of feeding with another.
// For a failed parse only the error and the flags: where exactly an error is detected (and so
// how much was consumed or stored before it) may depend on how the bytes were split.
template <bool IsRequest>
std::string describe(const parse_result<IsRequest>& r) {
    std::ostringstream s;
    if (r.ec) {
        s << "ec=" << r.ec.message() << " done=" << r.done << " keep_alive=" << r.keep_alive
          << " stalled=" << r.stalled << " sticky=" << r.sticky_error;
        return s.str();
    }
    s << "ec=" << r.ec.message() << " consumed=" << r.consumed << " header_done=" << r.header_done
      << " done=" << r.done << " keep_alive=" << r.keep_alive << " continue=" << r.got_continue
      << " stalled=" << r.stalled << " sticky=" << r.sticky_error
      << " cl=" << (r.content_length ? std::to_string(*r.content_length) : "none")
      << " body_bytes=" << r.body_bytes << "\n";
    if constexpr (IsRequest)
        s << r.msg.method << " " << r.msg.target;
    else
        s << r.msg.status << " [" << r.msg.reason << "]";
    s << " 1." << r.msg.version_minor << "\n";
    for (const auto& f : r.msg.headers)
        s << "[" << f.name << "]=[" << f.value << "]\n";
    s << "body=[" << r.msg.body << "]\nsunk=[" << r.sunk << "]";
    return s.str();
}

// Parses `raw` whole, split in two at every `stride`-th position, and byte by byte; every way
// must give the same result as the whole-buffer parse, which is returned for field checks.
template <bool IsRequest>
parse_result<IsRequest> parse_every_split(std::string_view raw, const parse_options& opt = {},
                                          std::size_t stride = 1) {
    auto whole = parse_chunks<IsRequest>({raw}, opt);
    const auto expected = describe(whole);
    std::size_t mismatches = 0;
    std::string first_mismatch;
    const auto compare = [&](const parse_result<IsRequest>& r, const std::string& how) {
        auto d = describe(r);
        if (d != expected && mismatches++ == 0)
            first_mismatch = how + ":\n" + d;
    };
    for (std::size_t i = 0; i <= raw.size(); i += stride)
        compare(parse_chunks<IsRequest>({raw.substr(0, i), raw.substr(i)}, opt),
                "split at " + std::to_string(i));
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < raw.size(); ++i)
        bytes.push_back(raw.substr(i, 1));
    compare(parse_chunks<IsRequest>(bytes, opt), "byte by byte");
    INFO("expected:\n" << expected << "\nfirst mismatch, " << first_mismatch);
    CHECK(mismatches == 0);
    return whole;
}

// The same, in store mode and in sink mode; returns the store-mode result after checking
// that the sink saw exactly the body the store mode kept.
template <bool IsRequest>
parse_result<IsRequest> parse_both_modes(std::string_view raw, parse_options opt = {}) {
    opt.use_sink = false;
    auto stored = parse_every_split<IsRequest>(raw, opt);
    opt.use_sink = true;
    auto sunk = parse_every_split<IsRequest>(raw, opt);
    CHECK(sunk.msg.body.empty());
    CHECK(sunk.sunk == stored.msg.body);
    CHECK(sunk.ec == stored.ec);
    CHECK(sunk.consumed == stored.consumed);
    return stored;
}

using header_list = std::vector<std::pair<std::string, std::string>>;

header_list headers_of(const http::fields& f) {
    header_list out;
    for (const auto& x : f)
        out.emplace_back(x.name, x.value);
    return out;
}

std::error_code response_error(std::string_view raw, parse_options opt = {},
                               std::size_t stride = 1) {
    auto r = parse_every_split<false>(raw, opt, stride);
    CHECK_FALSE(r.done);
    CHECK(r.sticky_error);
    return r.ec;
}

std::error_code request_error(std::string_view raw, parse_options opt = {},
                              std::size_t stride = 1) {
    auto r = parse_every_split<true>(raw, opt, stride);
    CHECK_FALSE(r.done);
    CHECK(r.sticky_error);
    return r.ec;
}

const std::string complete_xml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<CompleteMultipartUploadResult>\n"
    "  <Location>http://ming-oss-share.oss-cn-hangzhou.aliyuncs.com/pasncdoyuvuvuiyewfsobdwn"
    "</Location>\n"
    "  <Bucket>ming-oss-share</Bucket>\n"
    "  <Key>pasncdoyuvuvuiyewfsobdwn</Key>\n"
    "  <ETag>\"1C787C506EABFB9B45EAAA8DB039F4B2-2\"</ETag>\n"
    "</CompleteMultipartUploadResult>\n";

// oss-reference 2.2, the recorded UploadPart reply (CRC of "upload part 1").
const std::string upload_part_reply = "HTTP/1.1 200 OK\r\n"
                                      "Server: AliyunOSS\r\n"
                                      "Date: Sat, 12 Dec 2015 00:35:59 GMT\r\n"
                                      "Content-Length: 0\r\n"
                                      "Connection: keep-alive\r\n"
                                      "x-oss-request-id: 566B6BEF6078C0E44874A4AD\r\n"
                                      "x-oss-hash-crc64ecma: 6571598172666981661\r\n"
                                      "ETag: \"DF1F9DE8F39BDE03716AC8D425589A5A\"\r\n"
                                      "\r\n";

const std::string next_response = "HTTP/1.1 204 No Content\r\n\r\n";

} // namespace

// ---------------------------------------------------------------------------------------------
// Responses

TEST_CASE("parser: UploadPart reply, and the next response stays with the caller", "[http]") {
    const auto raw = upload_part_reply + next_response;
    auto r = parse_both_modes<false>(raw);
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.header_done);
    CHECK(r.consumed == upload_part_reply.size());
    CHECK(r.consumed == 247);
    CHECK(r.msg.status == 200);
    CHECK(r.msg.reason == "OK");
    CHECK(r.msg.version_minor == 1);
    CHECK(headers_of(r.msg.headers) ==
          header_list{{"Server", "AliyunOSS"},
                      {"Date", "Sat, 12 Dec 2015 00:35:59 GMT"},
                      {"Content-Length", "0"},
                      {"Connection", "keep-alive"},
                      {"x-oss-request-id", "566B6BEF6078C0E44874A4AD"},
                      {"x-oss-hash-crc64ecma", "6571598172666981661"},
                      {"ETag", "\"DF1F9DE8F39BDE03716AC8D425589A5A\""}});
    CHECK(r.msg.headers.get("etag") == "\"DF1F9DE8F39BDE03716AC8D425589A5A\"");
    CHECK(r.msg.body.empty());
    CHECK(r.keep_alive);
    CHECK(r.content_length == std::optional<std::uint64_t>(0));
    CHECK(r.body_bytes == 0);
    CHECK_FALSE(r.got_continue);
}

TEST_CASE("parser: Complete reply with an XML body and Content-Length", "[http]") {
    REQUIRE(complete_xml.size() == 327);
    const auto head = "HTTP/1.1 200 OK\r\n"
                      "Server: AliyunOSS\r\n"
                      "Content-Type: application/xml\r\n"
                      "Content-Length: 327\r\n"
                      "Connection: keep-alive\r\n"
                      "x-oss-request-id: 566B6C0A05200A20B174994F\r\n"
                      "x-oss-hash-crc64ecma: 2060813895736234537\r\n"
                      "ETag: \"1C787C506EABFB9B45EAAA8DB039F4B2-2\"\r\n"
                      "\r\n"s;
    const auto raw = head + complete_xml + next_response;
    auto r = parse_both_modes<false>(raw);
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.consumed == head.size() + 327);
    CHECK(r.msg.status == 200);
    CHECK(headers_of(r.msg.headers) ==
          header_list{{"Server", "AliyunOSS"},
                      {"Content-Type", "application/xml"},
                      {"Content-Length", "327"},
                      {"Connection", "keep-alive"},
                      {"x-oss-request-id", "566B6C0A05200A20B174994F"},
                      {"x-oss-hash-crc64ecma", "2060813895736234537"},
                      {"ETag", "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\""}});
    CHECK(r.msg.body == complete_xml);
    CHECK(r.body_bytes == 327);
    CHECK(r.content_length == std::optional<std::uint64_t>(327));
    CHECK(r.keep_alive);
}

TEST_CASE("parser: recorded Complete reply without Content-Length reads until EOF", "[http]") {
    const auto head = "HTTP/1.1 200 OK\r\n"
                      "Server: AliyunOSS\r\n"
                      "Content-Type: application/xml\r\n"
                      "x-oss-request-id: 566B6C0A05200A20B174994F\r\n"
                      "ETag: \"1C787C506EABFB9B45EAAA8DB039F4B2-2\"\r\n"
                      "\r\n"s;
    const auto raw = head + complete_xml;
    parse_options opt;
    opt.eof_after = true;
    auto r = parse_both_modes<false>(raw, opt);
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.consumed == raw.size());
    CHECK(r.msg.status == 200);
    CHECK(headers_of(r.msg.headers) ==
          header_list{{"Server", "AliyunOSS"},
                      {"Content-Type", "application/xml"},
                      {"x-oss-request-id", "566B6C0A05200A20B174994F"},
                      {"ETag", "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\""}});
    CHECK(r.msg.body == complete_xml);
    CHECK_FALSE(r.keep_alive);
    CHECK_FALSE(r.content_length);

    SECTION("without EOF the message is not done") {
        opt.eof_after = false;
        auto open = parse_every_split<false>(raw, opt);
        CHECK_FALSE(open.ec);
        CHECK(open.header_done);
        CHECK_FALSE(open.done);
        CHECK(open.msg.body == complete_xml);
    }
    SECTION("an EOF body may be empty") {
        auto empty = parse_every_split<false>(head, opt);
        CHECK_FALSE(empty.ec);
        CHECK(empty.done);
        CHECK(empty.msg.body.empty());
    }
}

TEST_CASE("parser: chunked response with extensions and trailers", "[http]") {
    const auto raw = "HTTP/1.1 200 OK\r\n"
                     "Content-Type: application/octet-stream\r\n"
                     "Transfer-Encoding: chunked\r\n"
                     "Trailer: x-oss-hash-crc64ecma\r\n"
                     "\r\n"
                     "5;name=value\r\n"
                     "hello\r\n"
                     "0007 ; ext ; q = \"a \\\"b\\\" c\"\r\n"
                     ", world\r\n"
                     "A\r\n"
                     "0123456789\r\n"
                     "a;x;y=tok\r\n"
                     "abcdefghij\r\n"
                     "000;end=1\r\n"
                     "x-oss-hash-crc64ecma: 123\r\n"
                     "Content-Length: 99\r\n"
                     "X-Empty:\r\n"
                     "\r\n"s;
    auto r = parse_both_modes<false>(raw + next_response);
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.consumed == raw.size());
    CHECK(r.msg.status == 200);
    CHECK(r.msg.body == "hello, world0123456789abcdefghij");
    CHECK(r.body_bytes == 32);
    // Trailers are appended to the headers; the framing field among them is dropped.
    CHECK(headers_of(r.msg.headers) == header_list{{"Content-Type", "application/octet-stream"},
                                                   {"Transfer-Encoding", "chunked"},
                                                   {"Trailer", "x-oss-hash-crc64ecma"},
                                                   {"x-oss-hash-crc64ecma", "123"},
                                                   {"X-Empty", ""}});
    CHECK_FALSE(r.content_length);
    CHECK(r.keep_alive);
}

TEST_CASE("parser: chunked response without trailers, in upper-case hex", "[http]") {
    const auto raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
                     "1F\r\n0123456789abcdefghijklmnopqrstu\r\n0\r\n\r\n"s;
    auto r = parse_both_modes<false>(raw + next_response);
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.consumed == raw.size());
    CHECK(r.msg.body == "0123456789abcdefghijklmnopqrstu");
}

TEST_CASE("parser: HEAD reply has no body whatever Content-Length says", "[http]") {
    const auto raw = "HTTP/1.1 200 OK\r\n"
                     "Content-Length: 12345\r\n"
                     "ETag: \"DF1F9DE8F39BDE03716AC8D425589A5A\"\r\n"
                     "x-oss-hash-crc64ecma: 0\r\n"
                     "\r\n"s;
    parse_options opt;
    opt.head_request = true;
    auto r = parse_both_modes<false>(raw + next_response, opt);
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.consumed == raw.size());
    CHECK(r.msg.status == 200);
    CHECK(r.content_length == std::optional<std::uint64_t>(12345));
    CHECK(r.msg.body.empty());
    CHECK(r.keep_alive);
    CHECK(headers_of(r.msg.headers) == header_list{{"Content-Length", "12345"},
                                                   {"ETag", "\"DF1F9DE8F39BDE03716AC8D425589A5A\""},
                                                   {"x-oss-hash-crc64ecma", "0"}});

    SECTION("the constructor flag works the same") {
        http::response_parser p(true);
        std::error_code ec;
        CHECK(p.feed(raw + next_response, ec) == raw.size());
        CHECK_FALSE(ec);
        CHECK(p.done());
    }
    SECTION("without the flag the same bytes wait for 12345 body bytes") {
        auto open = parse_every_split<false>(raw, {});
        CHECK_FALSE(open.done);
        CHECK(open.header_done);
    }
}

TEST_CASE("parser: 204 and 304 have no body", "[http]") {
    // oss-reference 2.4: AbortMultipartUpload answers 204 with Content-Length: 0.
    const auto abort_reply = "HTTP/1.1 204 No Content\r\n"
                             "Server: AliyunOSS\r\n"
                             "Content-Length: 0\r\n"
                             "Connection: keep-alive\r\n"
                             "x-oss-request-id: 566B6C0A05200A20B174994F\r\n"
                             "\r\n"s;
    auto r = parse_both_modes<false>(abort_reply + upload_part_reply);
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.consumed == abort_reply.size());
    CHECK(r.msg.status == 204);
    CHECK(r.msg.reason == "No Content");
    CHECK(r.msg.headers.size() == 4);
    CHECK(r.keep_alive);

    const auto not_modified = "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n"s;
    auto m = parse_both_modes<false>(not_modified + "ignored body?");
    CHECK_FALSE(m.ec);
    CHECK(m.done);
    CHECK(m.consumed == not_modified.size());
    CHECK(m.msg.status == 304);
    CHECK(m.msg.body.empty());

    const auto bare_204 = "HTTP/1.1 204 \r\n\r\n"s;
    auto b = parse_both_modes<false>(bare_204 + "HTTP/1.1 200 OK\r\n");
    CHECK(b.done);
    CHECK(b.consumed == bare_204.size());
    CHECK(b.msg.reason.empty());
}

TEST_CASE("parser: 100 Continue is skipped and reported, then the final response", "[http]") {
    const auto raw = "HTTP/1.1 100 Continue\r\n\r\n"
                     "HTTP/1.1 200 OK\r\n"
                     "Content-Length: 0\r\n"
                     "ETag: \"BCE8F3D48247C5D555BB5697BF277B35\"\r\n"
                     "\r\n"s;
    auto r = parse_both_modes<false>(raw + next_response);
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.got_continue);
    CHECK(r.consumed == raw.size());
    CHECK(r.msg.status == 200);
    CHECK(r.msg.reason == "OK");
    CHECK(headers_of(r.msg.headers) ==
          header_list{{"Content-Length", "0"}, {"ETag", "\"BCE8F3D48247C5D555BB5697BF277B35\""}});

    SECTION("feed stops right after the interim response") {
        http::response_parser p;
        std::error_code ec;
        CHECK(p.feed(raw, ec) == 25);
        CHECK_FALSE(ec);
        CHECK(p.got_continue());
        CHECK_FALSE(p.header_done());
        CHECK_FALSE(p.done());
        CHECK(p.feed(std::string_view(raw).substr(25), ec) == raw.size() - 25);
        CHECK(p.done());
        CHECK(p.get().status == 200);
    }
    SECTION("other 1xx responses are skipped without got_continue") {
        const auto hints = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                           "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno"s;
        auto h = parse_both_modes<false>(hints);
        CHECK(h.done);
        CHECK_FALSE(h.got_continue);
        CHECK(h.msg.status == 404);
        CHECK(h.msg.body == "no");
        CHECK(headers_of(h.msg.headers) == header_list{{"Content-Length", "2"}});
    }
    SECTION("EOF right after 100 Continue is a truncated response") {
        parse_options opt;
        opt.eof_after = true;
        auto t = parse_every_split<false>("HTTP/1.1 100 Continue\r\n\r\n", opt);
        CHECK(t.ec == errc::unexpected_eof);
        CHECK(t.got_continue);
    }
}

TEST_CASE("parser: keep-alive rules of HTTP/1.0 and HTTP/1.1", "[http]") {
    const auto raw10 = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc"s;
    auto r = parse_both_modes<false>(raw10);
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.msg.version_minor == 0);
    CHECK(r.msg.body == "abc");
    CHECK_FALSE(r.keep_alive);

    auto ka = parse_both_modes<false>(
        "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 3\r\n\r\nabc");
    CHECK(ka.done);
    CHECK(ka.msg.version_minor == 0);
    CHECK(ka.keep_alive);

    auto close11 = parse_both_modes<false>(
        "HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\nContent-Length: 0\r\n\r\n");
    CHECK(close11.done);
    CHECK_FALSE(close11.keep_alive);

    parse_options opt;
    opt.eof_after = true;
    auto eof10 = parse_both_modes<false>("HTTP/1.0 200 OK\r\n\r\nuntil the end", opt);
    CHECK(eof10.done);
    CHECK(eof10.msg.body == "until the end");
    CHECK_FALSE(eof10.keep_alive);
}

TEST_CASE("parser: a body sink can be installed once the header is parsed", "[http]") {
    const auto raw = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"s;
    http::response_parser p;
    std::error_code ec;
    auto n = p.feed(raw, ec);
    REQUIRE_FALSE(ec);
    CHECK(n == raw.size() - 11); // stops at the end of the header
    CHECK(p.header_done());
    CHECK_FALSE(p.done());
    std::vector<std::string> pieces;
    p.set_body_sink([&](std::string_view d, std::error_code&) { pieces.emplace_back(d); });
    CHECK(p.feed(std::string_view(raw).substr(n, 5), ec) == 5);
    CHECK(p.feed(std::string_view(raw).substr(n + 5), ec) == 6);
    CHECK_FALSE(ec);
    CHECK(p.done());
    CHECK(pieces == std::vector<std::string>{"hello", " world"});
    CHECK(p.get().body.empty());
    CHECK(p.body_bytes() == 11);
}

TEST_CASE("parser: a sink never gets more than Content-Length, however the bytes arrive",
          "[http]") {
    // The caller's sink has no cap of its own (the transport lifts the stored-body cap for
    // sinks): Content-Length framing alone must stop the body, in every split of the input,
    // with the bytes after it left to the caller (a pipelined or garbage tail).
    const auto raw = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello worldEXTRA BYTES"s;
    for (std::size_t split = 1; split < raw.size(); ++split) {
        INFO("split at " << split);
        http::response_parser p;
        p.set_body_limit(std::numeric_limits<std::uint64_t>::max());
        std::string sunk;
        p.set_body_sink([&](std::string_view d, std::error_code&) { sunk.append(d); });
        std::error_code ec;
        std::size_t consumed = 0;
        for (std::string_view piece :
             {std::string_view(raw).substr(0, split), std::string_view(raw).substr(split)}) {
            while (!piece.empty() && !p.done() && !ec) {
                auto n = p.feed(piece, ec);
                consumed += n;
                piece.remove_prefix(n);
            }
        }
        CHECK_FALSE(ec);
        CHECK(p.done());
        CHECK(sunk == "hello world");
        CHECK(p.body_bytes() == 11);
        CHECK(consumed == raw.size() - std::string_view("EXTRA BYTES").size());
    }
}

TEST_CASE("parser: a sink error stops the parser with that error", "[http]") {
    const auto raw = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"s;
    http::response_parser p;
    p.set_body_sink([](std::string_view, std::error_code& ec) { ec = errc::crc_mismatch; });
    std::error_code ec;
    auto n = p.feed(raw, ec);
    REQUIRE_FALSE(ec);
    CHECK(p.feed(std::string_view(raw).substr(n), ec) == 11);
    CHECK(ec == errc::crc_mismatch);
    CHECK_FALSE(p.done());
    CHECK_FALSE(p.keep_alive());
    CHECK(p.feed("x", ec) == 0);
    CHECK(ec == errc::crc_mismatch);
    p.finish_eof(ec);
    CHECK(ec == errc::crc_mismatch);
}

TEST_CASE("parser: the body limit can be raised after the header", "[http]") {
    const auto raw = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789"s;
    http::response_parser p;
    p.set_body_limit(10);
    std::error_code ec;
    auto n = p.feed(raw, ec);
    REQUIRE_FALSE(ec);
    REQUIRE(p.header_done());
    CHECK(p.content_length() == std::optional<std::uint64_t>(20));
    p.set_body_limit(20);
    CHECK(p.feed(std::string_view(raw).substr(n), ec) == 20);
    CHECK_FALSE(ec);
    CHECK(p.done());
    CHECK(p.get().body == "01234567890123456789");
}

TEST_CASE("parser: reset keeps the limits and clears the rest", "[http]") {
    http::response_parser p;
    p.set_max_headers(1);
    p.set_head_request(true);
    std::error_code ec;
    p.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", ec);
    CHECK(p.done());
    p.reset();
    CHECK_FALSE(p.done());
    CHECK_FALSE(p.header_done());
    CHECK_FALSE(p.started());
    CHECK(p.get().headers.empty());
    const auto raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"s;
    auto n = p.feed(raw, ec);
    n += p.feed(std::string_view(raw).substr(n), ec);
    CHECK(n == raw.size()); // the HEAD flag was cleared: the body is read
    CHECK(p.get().body == "hello");
    p.reset();
    p.feed("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", ec);
    CHECK(ec == errc::too_many_headers); // the limit was kept
    p.reset();
    CHECK_FALSE(p.error());
}

// ---------------------------------------------------------------------------------------------
// Requests

TEST_CASE("parser: UploadPart request with a body", "[http]") {
    const auto head =
        "PUT /dir/obj.bin?partNumber=1&uploadId=81C78A548D3A46C58E2576A8FC48EED0 HTTP/1.1\r\n"
        "Host: testbucket.oss-cn-hangzhou.aliyuncs.com\r\n"
        "x-oss-date: 20261125T055535Z\r\n"
        "x-oss-content-sha256: UNSIGNED-PAYLOAD\r\n"
        "Authorization: OSS4-HMAC-SHA256 "
        "Credential=AKIDEXAMPLE/20261125/cn-hangzhou/oss/aliyun_v4_request,"
        "Signature=7f60657d2079aa8382f0a040d32a52e2df376989d70df07b24368f7ff6d2f86a\r\n"
        "Content-Length: 13\r\n"
        "\r\n"s;
    auto r = parse_both_modes<true>(head + "upload part 1" + "GET / HTTP/1.1\r\n\r\n");
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.consumed == head.size() + 13);
    CHECK(r.msg.method == "PUT");
    CHECK(r.msg.target == "/dir/obj.bin?partNumber=1&uploadId=81C78A548D3A46C58E2576A8FC48EED0");
    CHECK(r.msg.version_minor == 1);
    CHECK(
        headers_of(r.msg.headers) ==
        header_list{{"Host", "testbucket.oss-cn-hangzhou.aliyuncs.com"},
                    {"x-oss-date", "20261125T055535Z"},
                    {"x-oss-content-sha256", "UNSIGNED-PAYLOAD"},
                    {"Authorization",
                     "OSS4-HMAC-SHA256 "
                     "Credential=AKIDEXAMPLE/20261125/cn-hangzhou/oss/aliyun_v4_request,"
                     "Signature=7f60657d2079aa8382f0a040d32a52e2df376989d70df07b24368f7ff6d2f86a"},
                    {"Content-Length", "13"}});
    CHECK(r.msg.body == "upload part 1");
    CHECK(r.keep_alive);
    CHECK(r.content_length == std::optional<std::uint64_t>(13));
}

TEST_CASE("parser: chunked PUT request (as the C++ SDK sends parts)", "[http]") {
    const auto raw = "PUT /obj?partNumber=2&uploadId=U HTTP/1.1\r\n"
                     "Host: b.oss-cn-hangzhou.aliyuncs.com\r\n"
                     "Transfer-Encoding: chunked\r\n"
                     "\r\n"
                     "d\r\nupload part 2\r\n"
                     "0\r\n"
                     "\r\n"s;
    auto r = parse_both_modes<true>(raw + "PUT /next HTTP/1.1\r\n");
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.consumed == raw.size());
    CHECK(r.msg.method == "PUT");
    CHECK(r.msg.target == "/obj?partNumber=2&uploadId=U");
    CHECK(r.msg.body == "upload part 2");
    CHECK(headers_of(r.msg.headers) == header_list{{"Host", "b.oss-cn-hangzhou.aliyuncs.com"},
                                                   {"Transfer-Encoding", "chunked"}});
    CHECK_FALSE(r.content_length);
    CHECK(r.keep_alive);
}

TEST_CASE("parser: GET request without a body", "[http]") {
    const auto raw = "GET /?uploads&max-uploads=1000 HTTP/1.1\r\n"
                     "Host: testbucket.oss-cn-hangzhou.aliyuncs.com\r\n"
                     "Connection: close\r\n"
                     "\r\n"s;
    auto r = parse_both_modes<true>(raw + "POST / HTTP/1.1\r\n");
    CHECK_FALSE(r.ec);
    CHECK(r.done);
    CHECK(r.consumed == raw.size());
    CHECK(r.msg.method == "GET");
    CHECK(r.msg.target == "/?uploads&max-uploads=1000");
    CHECK(r.msg.headers.size() == 2);
    CHECK(r.msg.body.empty());
    CHECK_FALSE(r.keep_alive);

    auto star = parse_both_modes<true>("\r\n\r\nOPTIONS * HTTP/1.0\r\n\r\n");
    CHECK(star.done);
    CHECK(star.msg.method == "OPTIONS");
    CHECK(star.msg.target == "*");
    CHECK(star.msg.version_minor == 0);
    CHECK_FALSE(star.keep_alive);
}

TEST_CASE("parser: two pipelined requests in one buffer, split anywhere", "[http]") {
    const auto first = "PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"s;
    const auto second = "\r\nGET /b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"s;
    const auto raw = first + second;

    // Feeds `chunks` through one parser, resetting it after each message.
    const auto parse_pipeline = [](const std::vector<std::string_view>& chunks) {
        std::vector<std::string> out;
        http::request_parser p;
        std::error_code ec;
        for (auto c : chunks) {
            while (!c.empty()) {
                auto n = p.feed(c, ec);
                if (ec)
                    return std::vector<std::string>{"error " + ec.message()};
                if (n == 0 && !p.done())
                    return std::vector<std::string>{"stalled"};
                c.remove_prefix(n);
                if (p.done()) {
                    auto m = p.release();
                    out.push_back(m.method + " " + m.target + " " + m.body + " " +
                                  std::string(m.headers.get("host")));
                    p.reset();
                }
            }
        }
        p.finish_eof(ec);
        out.push_back(p.started() ? "truncated" : "clean close");
        return out;
    };
    const std::vector<std::string> expected{"PUT /a abc h", "GET /b?x=1  h", "clean close"};
    CHECK(parse_pipeline({raw}) == expected);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i <= raw.size(); ++i) {
        std::string_view v(raw);
        if (parse_pipeline({v.substr(0, i), v.substr(i)}) != expected)
            ++mismatches;
        for (std::size_t j = i; j <= raw.size(); j += 7)
            if (parse_pipeline({v.substr(0, i), v.substr(i, j - i), v.substr(j)}) != expected)
                ++mismatches;
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < raw.size(); ++i)
        bytes.push_back(std::string_view(raw).substr(i, 1));
    CHECK(parse_pipeline(bytes) == expected);
    CHECK(mismatches == 0);
}

TEST_CASE("parser: request body cap defaults to 64 MiB", "[http]") {
    http::request_parser p;
    std::error_code ec;
    const auto raw = "PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 67108865\r\n\r\nx"s;
    auto n = p.feed(raw, ec);
    REQUIRE_FALSE(ec);
    CHECK(p.header_done());
    CHECK(p.content_length() == std::optional<std::uint64_t>(67108865));
    CHECK(p.feed(std::string_view(raw).substr(n), ec) == 0);
    CHECK(ec == errc::body_too_large);

    http::request_parser ok;
    const auto at_cap = "PUT /big HTTP/1.1\r\nContent-Length: 67108864\r\n\r\nx"s;
    n = ok.feed(at_cap, ec);
    CHECK(ok.feed(std::string_view(at_cap).substr(n), ec) == 1);
    CHECK_FALSE(ec);
    CHECK(ok.body_bytes() == 1);
}

// ---------------------------------------------------------------------------------------------
// Malformed input: each gives its own error in every split.

TEST_CASE("parser: malformed status lines", "[http]") {
    CHECK(response_error("HTTX/1.1 200 OK\r\n\r\n") == errc::bad_status_line);
    CHECK(response_error("HTTP/1.1 20 OK\r\n\r\n") == errc::bad_status_line);
    CHECK(response_error("HTTP/1.1 2000 OK\r\n\r\n") == errc::bad_status_line);
    CHECK(response_error("HTTP/1.1 200OK\r\n\r\n") == errc::bad_status_line);
    CHECK(response_error("HTTP/1.1  200 OK\r\n\r\n") == errc::bad_status_line);
    CHECK(response_error("HTTP/1.1 600 Weird\r\n\r\n") == errc::bad_status_line);
    CHECK(response_error("HTTP/1.1 099 Low\r\n\r\n") == errc::bad_status_line);
    CHECK(response_error("HTTP/1.1\r\n\r\n") == errc::bad_status_line);
    CHECK(response_error("HTTP/1.1 200 O\x01K\r\n\r\n") == errc::bad_status_line);
    CHECK(response_error("\r\nHTTP/1.1 200 OK\r\n\r\n") == errc::bad_status_line);
    CHECK(response_error("HTTP/1.1 200 OK\n\n") == errc::bad_status_line);
    CHECK(response_error("hello") == errc::bad_status_line);
}

TEST_CASE("parser: unsupported versions", "[http]") {
    CHECK(response_error("HTTP/1.2 200 OK\r\n\r\n") == errc::bad_version);
    CHECK(response_error("HTTP/2 200\r\n\r\n") == errc::bad_version);
    CHECK(response_error("HTTP/0.9 200 OK\r\n\r\n") == errc::bad_version);
    CHECK(request_error("GET / HTTP/3.0\r\n\r\n") == errc::bad_version);
    CHECK(request_error("GET / HTTP/1.10\r\n\r\n") == errc::bad_version);
}

TEST_CASE("parser: malformed header lines", "[http]") {
    const std::string ok = "HTTP/1.1 200 OK\r\n";
    CHECK(response_error(ok + "NoColon\r\n\r\n") == errc::bad_header);
    CHECK(response_error(ok + "Content-Length : 0\r\n\r\n") == errc::bad_header);
    CHECK(response_error(ok + ": value\r\n\r\n") == errc::bad_header);
    CHECK(response_error(ok + "Bad(Name): v\r\n\r\n") == errc::bad_header);
    CHECK(response_error(ok + "X-A: a\r\n b\r\n\r\n") == errc::bad_header);  // obs-fold
    CHECK(response_error(ok + "X-A: a\r\n\tb\r\n\r\n") == errc::bad_header); // obs-fold
    CHECK(response_error(ok + "X-A: a\0b\r\n\r\n"s) == errc::bad_header);    // NUL
    CHECK(response_error(ok + "X-A: a\rb\r\n\r\n") == errc::bad_header);     // bare CR
    CHECK(response_error(ok + "X-A: a\x7f\r\n\r\n") == errc::bad_header);    // DEL
    CHECK(response_error(ok + "Server: x\n\r\n") == errc::bad_header);       // bare LF
    CHECK(response_error(ok + "Server: x\r\n\n") == errc::bad_header);       // bare LF
    CHECK(request_error("GET / HTTP/1.1\r\nHo st: h\r\n\r\n") == errc::bad_header);
}

TEST_CASE("parser: bad Content-Length", "[http]") {
    const std::string ok = "HTTP/1.1 200 OK\r\n";
    CHECK(response_error(ok + "Content-Length: 12a\r\n\r\n") == errc::bad_content_length);
    CHECK(response_error(ok + "Content-Length: -1\r\n\r\n") == errc::bad_content_length);
    CHECK(response_error(ok + "Content-Length: +1\r\n\r\n") == errc::bad_content_length);
    CHECK(response_error(ok + "Content-Length:\r\n\r\n") == errc::bad_content_length);
    CHECK(response_error(ok + "Content-Length: 1 2\r\n\r\n") == errc::bad_content_length);
    CHECK(response_error(ok + "Content-Length: 0x10\r\n\r\n") == errc::bad_content_length);
    CHECK(response_error(ok + "Content-Length: 18446744073709551616\r\n\r\n") ==
          errc::bad_content_length);
    CHECK(response_error(ok + "Content-Length: 99999999999999999999999\r\n\r\n") ==
          errc::bad_content_length);
    CHECK(response_error(ok + "Content-Length: 5\r\ncontent-length: 6\r\n\r\n") ==
          errc::bad_content_length);
    CHECK(response_error(ok + "Content-Length: 5, 6\r\n\r\n") == errc::bad_content_length);
    CHECK(response_error(ok + "Content-Length: 5,\r\n\r\n") == errc::bad_content_length);
    CHECK(request_error("PUT / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n") ==
          errc::bad_content_length);

    // Identical duplicates are the same length.
    auto dup = parse_every_split<false>(ok + "Content-Length: 3\r\nContent-Length: 003\r\n"
                                             "Content-Length: 3, 3\r\n\r\nabc");
    CHECK_FALSE(dup.ec);
    CHECK(dup.done);
    CHECK(dup.msg.body == "abc");
    // The largest value that fits is accepted (and then capped as a body).
    auto max = parse_every_split<false>(ok + "Content-Length: 18446744073709551615\r\n\r\n");
    CHECK_FALSE(max.ec);
    CHECK(max.content_length == std::optional<std::uint64_t>(18446744073709551615ull));
}

TEST_CASE("parser: bad Transfer-Encoding and CL+TE", "[http]") {
    const std::string ok = "HTTP/1.1 200 OK\r\n";
    CHECK(response_error(ok + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") ==
          errc::bad_transfer_encoding);
    CHECK(response_error(ok + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n") ==
          errc::bad_transfer_encoding);
    CHECK(response_error(ok + "Transfer-Encoding: gzip\r\n\r\n") == errc::bad_transfer_encoding);
    CHECK(response_error(ok + "Transfer-Encoding: gzip, chunked\r\n\r\n") ==
          errc::bad_transfer_encoding);
    CHECK(response_error(ok + "Transfer-Encoding: chunked, chunked\r\n\r\n") ==
          errc::bad_transfer_encoding);
    CHECK(response_error(ok + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") ==
          errc::bad_transfer_encoding);
    CHECK(response_error(ok + "Transfer-Encoding:\r\n\r\n") == errc::bad_transfer_encoding);
    CHECK(request_error("PUT / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n") ==
          errc::bad_transfer_encoding);
}

TEST_CASE("parser: bad chunks", "[http]") {
    const std::string ok = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK(response_error(ok + "zz\r\nhello\r\n0\r\n\r\n") == errc::bad_chunk);
    CHECK(response_error(ok + "\r\nhello\r\n0\r\n\r\n") == errc::bad_chunk);
    CHECK(response_error(ok + "-5\r\nhello\r\n0\r\n\r\n") == errc::bad_chunk);
    CHECK(response_error(ok + "5 \r\nhello\r\n0\r\n\r\n") == errc::bad_chunk);
    CHECK(response_error(ok + "5;\r\nhello\r\n0\r\n\r\n") == errc::bad_chunk);
    CHECK(response_error(ok + "5;a=\"open\r\nhello\r\n0\r\n\r\n") == errc::bad_chunk);
    CHECK(response_error(ok + "5;a=\r\nhello\r\n0\r\n\r\n") == errc::bad_chunk);
    CHECK(response_error(ok + "5\nhello\r\n0\r\n\r\n") == errc::bad_chunk);
    CHECK(response_error(ok + "10000000000000000\r\n") == errc::bad_chunk); // 2^64
    CHECK(response_error(ok + "5\r\nhelloX\r\n0\r\n\r\n") == errc::bad_chunk);
    CHECK(response_error(ok + "5\r\nhello\n0\r\n\r\n") == errc::bad_chunk);
    CHECK(response_error(ok + "5\r\nhello\r0\r\n\r\n") == errc::bad_chunk);
    CHECK(response_error(ok + "5;" + std::string(5000, 'x') + "\r\n", {}, 97) == errc::bad_chunk);
    CHECK(response_error(ok + "0\r\nbad trailer\r\n\r\n") == errc::bad_header);
    CHECK(response_error(ok + "0\r\n\n") == errc::bad_header);
    CHECK(request_error("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n") ==
          errc::bad_chunk);
}

TEST_CASE("parser: size caps", "[http]") {
    const std::string ok = "HTTP/1.1 200 OK\r\n";
    SECTION("header section too large (default 64 KiB)") {
        const auto big = ok + "X-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n";
        CHECK(response_error(big, {}, 4099) == errc::header_too_large);
        // Just under the cap is fine.
        const auto fits =
            ok + "X-Big: " + std::string(64 * 1024 - ok.size() - 11, 'a') + "\r\n\r\n";
        REQUIRE(fits.size() == 64 * 1024);
        auto r = parse_every_split<false>(fits, {}, 4099);
        CHECK(r.header_done); // no Content-Length: the body would run until EOF
        CHECK_FALSE(r.ec);
        // One byte more is too much.
        CHECK(response_error(fits.substr(0, fits.size() - 4) + "a\r\n\r\n", {}, 4099) ==
              errc::header_too_large);
    }
    SECTION("configured header cap, also for trailers and leading empty lines") {
        parse_options opt;
        opt.header_limit = 50;
        CHECK(response_error(ok + "Server: 0123456789012345678901\r\n\r\n", opt) ==
              errc::header_too_large); // 51 bytes
        auto fits = parse_every_split<false>(ok + "Server: 01234567890123456789\r\n\r\n", opt);
        CHECK(fits.header_done);                                             // 49 bytes
        const auto chunked = ok + "Transfer-Encoding: chunked\r\n\r\n0\r\n"; // head: 47 bytes
        CHECK(response_error(chunked + "X: " + std::string(60, 'a') + "\r\n\r\n", opt) ==
              errc::header_too_large);
        auto trailer_fits =
            parse_every_split<false>(chunked + "X: " + std::string(40, 'a') + "\r\n\r\n", opt);
        CHECK(trailer_fits.done);
        CHECK(trailer_fits.msg.headers.get("x") == std::string(40, 'a'));
        CHECK(request_error("\r\r\nGET / HTTP/1.1\r\n\r\n") == errc::bad_request_line);
        std::string many_crlf;
        for (int i = 0; i < 26; ++i) // 52 bytes of empty lines
            many_crlf += "\r\n";
        CHECK(request_error(many_crlf + "GET / HTTP/1.1\r\n\r\n", opt) == errc::header_too_large);
    }
    SECTION("too many headers") {
        std::string h200 = ok;
        for (int i = 0; i < 200; ++i)
            h200 += "X-H" + std::to_string(i) + ": v\r\n";
        auto r = parse_every_split<false>(h200 + "\r\n", {}, 53);
        CHECK(r.header_done);
        CHECK(r.msg.headers.size() == 200);
        CHECK(response_error(h200 + "X-One-More: v\r\n\r\n", {}, 53) == errc::too_many_headers);
        parse_options opt;
        opt.max_headers = 2;
        CHECK(response_error(ok + "Transfer-Encoding: chunked\r\nA: 1\r\n\r\n0\r\nB: 2\r\n\r\n",
                             opt) == errc::too_many_headers);
    }
    SECTION("body too large") {
        parse_options opt;
        opt.body_limit = 10;
        CHECK(response_error(ok + "Content-Length: 11\r\n\r\n01234567890", opt) ==
              errc::body_too_large);
        CHECK(response_error(ok + "Transfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n6\r\n", opt) ==
              errc::body_too_large);
        CHECK(response_error(ok + "\r\n01234567890", opt) == errc::body_too_large);
        CHECK(request_error("PUT / HTTP/1.1\r\nContent-Length: 11\r\n\r\n01234567890", opt) ==
              errc::body_too_large);
        auto exact = parse_every_split<false>(ok + "Content-Length: 10\r\n\r\n0123456789", opt);
        CHECK(exact.done);
        CHECK(exact.msg.body == "0123456789");
    }
}

TEST_CASE("parser: truncated messages give unexpected_eof", "[http]") {
    parse_options opt;
    opt.eof_after = true;
    const std::string ok = "HTTP/1.1 200 OK\r\n";
    CHECK(response_error(ok + "Content-Length: 10\r\n\r\nabc", opt) == errc::unexpected_eof);
    CHECK(response_error(ok + "Content-Length: 10\r\n", opt) == errc::unexpected_eof);
    CHECK(response_error("HTTP/1.1 2", opt) == errc::unexpected_eof);
    CHECK(response_error(ok + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", opt) ==
          errc::unexpected_eof);
    CHECK(response_error(ok + "Transfer-Encoding: chunked\r\n\r\n0\r\n", opt) ==
          errc::unexpected_eof);
    CHECK(request_error("PUT / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab", opt) ==
          errc::unexpected_eof);

    http::response_parser nothing;
    std::error_code ec;
    nothing.finish_eof(ec);
    CHECK(ec == errc::unexpected_eof);
    CHECK_FALSE(nothing.started());

    http::request_parser idle;
    idle.feed("\r\n", ec);
    CHECK_FALSE(ec);
    idle.finish_eof(ec);
    CHECK(ec == errc::unexpected_eof);
    CHECK_FALSE(idle.started()); // a clean close between requests

    http::response_parser done;
    done.feed(upload_part_reply, ec);
    REQUIRE(done.done());
    done.finish_eof(ec);
    CHECK_FALSE(ec);
    CHECK(done.done());
}

TEST_CASE("parser: malformed request lines", "[http]") {
    CHECK(request_error("GET  / HTTP/1.1\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("GET foo HTTP/1.1\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("G(T / HTTP/1.1\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("GET /a b HTTP/1.1\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("GET / HTTP/1.1 \r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("GET / FTP/1.0\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("GET /\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("GET\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error(" GET / HTTP/1.1\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("GET /\x01 HTTP/1.1\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("GET http://h/ HTTP/1.1\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("\nGET / HTTP/1.1\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("\rGET / HTTP/1.1\r\n\r\n") == errc::bad_request_line);
    CHECK(request_error("GET / HTTP/1.1\n\n") == errc::bad_request_line);
}

TEST_CASE("parser: headers of the UploadPart reply parse in well under 2 us", "[.][http_perf]") {
    // Hidden (run with "[http_perf]"): meaningful only in an optimised build.
    constexpr int rounds = 20000;
    std::error_code ec;
    const auto start = std::chrono::steady_clock::now();
    std::size_t total = 0;
    for (int i = 0; i < rounds; ++i) {
        http::response_parser p;
        total += p.feed(upload_part_reply, ec);
    }
    const auto ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
        rounds;
    WARN("UploadPart reply header parse: " << ns << " ns per message");
    CHECK(total == rounds * upload_part_reply.size());
    CHECK(ns <= 2000);
}

// ---------------------------------------------------------------------------------------------
// Serializer

namespace {

http::request upload_part_request(std::string_view data) {
    http::request r;
    r.method = http::verb::put;
    r.bucket = "testbucket";
    r.key = "dir/obj.bin";
    r.host = "testbucket.oss-cn-hangzhou.aliyuncs.com";
    r.path = "/dir/obj.bin";
    r.query = {{"partNumber", "1"}, {"uploadId", "81C78A548D3A46C58E2576A8FC48EED0"}};
    r.headers.add("Content-MD5", "vOjz1IJHxdVVu1aXvyd7NQ==");
    r.headers.add("x-oss-date", "20261125T055535Z");
    r.headers.add("x-oss-content-sha256", "UNSIGNED-PAYLOAD");
    r.headers.add("x-oss-security-token", "STS.secret-token-value");
    r.headers.add("Authorization",
                  "OSS4-HMAC-SHA256 "
                  "Credential=AKIDEXAMPLE/20261125/cn-hangzhou/oss/aliyun_v4_request,"
                  "Signature=7f60657d2079aa8382f0a040d32a52e2df376989d70df07b24368f7ff6d2f86a");
    r.set_body_view(data);
    return r;
}

} // namespace

TEST_CASE("serializer: PUT with a body view writes the head only", "[http]") {
    const std::string data = "upload part 1";
    const auto r = upload_part_request(data);
    REQUIRE_FALSE(http::validate_for_wire(r));
    const auto head = http::serialize_head(r);
    CHECK(head ==
          "PUT /dir/obj.bin?partNumber=1&uploadId=81C78A548D3A46C58E2576A8FC48EED0 HTTP/1.1\r\n"
          "Host: testbucket.oss-cn-hangzhou.aliyuncs.com\r\n"
          "Content-MD5: vOjz1IJHxdVVu1aXvyd7NQ==\r\n"
          "x-oss-date: 20261125T055535Z\r\n"
          "x-oss-content-sha256: UNSIGNED-PAYLOAD\r\n"
          "x-oss-security-token: STS.secret-token-value\r\n"
          "Authorization: OSS4-HMAC-SHA256 "
          "Credential=AKIDEXAMPLE/20261125/cn-hangzhou/oss/aliyun_v4_request,"
          "Signature=7f60657d2079aa8382f0a040d32a52e2df376989d70df07b24368f7ff6d2f86a\r\n"
          "Content-Length: 13\r\n"
          "\r\n");
    CHECK(r.body().data() == data.data()); // not copied
    std::error_code ec;
    CHECK(http::serialize_head(r, ec) == head);
    CHECK_FALSE(ec);

    // What the serializer writes, the parser reads back.
    auto parsed = parse_every_split<true>(head + data);
    CHECK(parsed.done);
    CHECK(parsed.msg.method == "PUT");
    CHECK(parsed.msg.target ==
          "/dir/obj.bin?partNumber=1&uploadId=81C78A548D3A46C58E2576A8FC48EED0");
    CHECK(parsed.msg.body == data);
    CHECK(parsed.msg.headers.size() == 7);
    CHECK(parsed.msg.headers.get("x-oss-content-sha256") == "UNSIGNED-PAYLOAD");
}

TEST_CASE("serializer: POST with an owned body, and with none", "[http]") {
    http::request r;
    r.method = http::verb::post;
    r.host = "b.oss-cn-hangzhou.aliyuncs.com";
    r.path = "/obj";
    r.query = {{"uploadId", "97BD544A65DB46F9A8735C93917A960F"}};
    r.headers.add("Content-Type", "application/xml");
    r.set_body(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"
        "\"BCE8F3D48247C5D555BB5697BF277B35\"</ETag></Part><Part><PartNumber>2</PartNumber>"
        "<ETag>\"F811B746EB3E256F97CB3A190D528353\"</ETag></Part></CompleteMultipartUpload>");
    REQUIRE(r.body().size() == 223);
    CHECK(http::serialize_head(r) ==
          "POST /obj?uploadId=97BD544A65DB46F9A8735C93917A960F HTTP/1.1\r\n"
          "Host: b.oss-cn-hangzhou.aliyuncs.com\r\n"
          "Content-Type: application/xml\r\n"
          "Content-Length: 223\r\n"
          "\r\n");

    http::request init;
    init.method = http::verb::post;
    init.host = "b.oss-cn-hangzhou.aliyuncs.com";
    init.path = "/dir/a%20b";
    init.query = {{"uploads", ""}, {"encoding-type", "url"}};
    init.headers.add("Content-Type", "application/octet-stream");
    CHECK(http::serialize_head(init) == "POST /dir/a%20b?uploads&encoding-type=url HTTP/1.1\r\n"
                                        "Host: b.oss-cn-hangzhou.aliyuncs.com\r\n"
                                        "Content-Type: application/octet-stream\r\n"
                                        "Content-Length: 0\r\n"
                                        "\r\n");
}

TEST_CASE("serializer: GET, HEAD and DELETE with queries", "[http]") {
    http::request r;
    r.host = "b.oss-cn-hangzhou.aliyuncs.com:8080";
    r.path = "/obj";
    r.query = {{"uploadId", "U"}, {"partNumber", "1"}};
    CHECK(http::serialize_head(r) == "GET /obj?uploadId=U&partNumber=1 HTTP/1.1\r\n"
                                     "Host: b.oss-cn-hangzhou.aliyuncs.com:8080\r\n"
                                     "\r\n");

    http::request list;
    list.host = "b.oss-cn-hangzhou.aliyuncs.com";
    list.query = {{"uploads", ""}};
    CHECK(http::serialize_head(list) == "GET /?uploads HTTP/1.1\r\n"
                                        "Host: b.oss-cn-hangzhou.aliyuncs.com\r\n"
                                        "\r\n");
    list.query = {
        {"uploads", ""}, {"delimiter", "/"}, {"prefix", "a b+c"}, {"max-uploads", "1000"}};
    CHECK(http::serialize_head(list) ==
          "GET /?uploads&delimiter=%2F&prefix=a%20b%2Bc&max-uploads=1000 HTTP/1.1\r\n"
          "Host: b.oss-cn-hangzhou.aliyuncs.com\r\n"
          "\r\n");

    http::request del;
    del.method = http::verb::delete_;
    del.host = "h";
    del.path = "/k";
    del.query = {{"uploadId", "U"}};
    CHECK(http::serialize_head(del) == "DELETE /k?uploadId=U HTTP/1.1\r\nHost: h\r\n\r\n");

    http::request head;
    head.method = http::verb::head;
    head.host = "h";
    head.path = "/k";
    CHECK(http::serialize_head(head) == "HEAD /k HTTP/1.1\r\nHost: h\r\n\r\n");

    http::request get_with_body;
    get_with_body.host = "h";
    get_with_body.set_body("x");
    CHECK(http::serialize_head(get_with_body) ==
          "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n");
}

TEST_CASE("serializer: header injection and framing fields are rejected", "[http]") {
    const auto with_header = [](std::string name, std::string value) {
        http::request r;
        r.method = http::verb::put;
        r.host = "h";
        r.path = "/k";
        r.headers.add("x-oss-meta-a", "fine\tvalue");
        r.headers.add(name, value);
        return r;
    };
    CHECK_FALSE(http::validate_for_wire(with_header("x-oss-meta-b", "")));
    CHECK_FALSE(http::validate_for_wire(with_header("x-oss-meta-b", "caf\xC3\xA9")));
    CHECK(http::validate_for_wire(with_header("X-A", "a\r\nX-Evil: 1")) == errc::invalid_header);
    CHECK(http::validate_for_wire(with_header("X-A", "a\nb")) == errc::invalid_header);
    CHECK(http::validate_for_wire(with_header("X-A", "a\rb")) == errc::invalid_header);
    CHECK(http::validate_for_wire(with_header("X-A", "a\0b"s)) == errc::invalid_header);
    CHECK(http::validate_for_wire(with_header("X-A\r\nX-Evil", "1")) == errc::invalid_header);
    CHECK(http::validate_for_wire(with_header("X A", "1")) == errc::invalid_header);
    CHECK(http::validate_for_wire(with_header("X-A:", "1")) == errc::invalid_header);
    CHECK(http::validate_for_wire(with_header("", "1")) == errc::invalid_header);
    CHECK(http::validate_for_wire(with_header("host", "evil")) == errc::invalid_header);
    CHECK(http::validate_for_wire(with_header("Content-Length", "5")) == errc::invalid_header);
    CHECK(http::validate_for_wire(with_header("transfer-encoding", "chunked")) ==
          errc::invalid_header);

    auto bad_host = with_header("X-A", "1");
    bad_host.host = "h\r\nX-Evil: 1";
    CHECK(http::validate_for_wire(bad_host) == errc::invalid_header);
    bad_host.host = "";
    CHECK(http::validate_for_wire(bad_host) == errc::invalid_header);

    auto bad_path = with_header("X-A", "1");
    for (auto p : {"k", "", "/a b", "/a?b", "/a#b", "/a\r\n"}) {
        bad_path.path = p;
        INFO(p);
        CHECK(http::validate_for_wire(bad_path) == errc::invalid_argument);
    }

    std::error_code ec;
    CHECK(http::serialize_head(with_header("X-A", "a\r\nX-Evil: 1"), ec).empty());
    CHECK(ec == errc::invalid_header);
    CHECK(http::serialize_head(with_header("X-A", "ok"), ec) ==
          "PUT /k HTTP/1.1\r\nHost: h\r\nx-oss-meta-a: fine\tvalue\r\nX-A: ok\r\n"
          "Content-Length: 0\r\n\r\n");
    CHECK_FALSE(ec);
}

TEST_CASE("serializer: responses", "[http]") {
    http::response r;
    r.status = 200;
    r.headers.add("Server", "AliyunOSS");
    r.headers.add("x-oss-request-id", "566B6BEF6078C0E44874A4AD");
    r.body = "abc";
    REQUIRE_FALSE(http::validate_for_wire(r));
    CHECK(http::serialize_head(r) == "HTTP/1.1 200 OK\r\n"
                                     "Server: AliyunOSS\r\n"
                                     "x-oss-request-id: 566B6BEF6078C0E44874A4AD\r\n"
                                     "Content-Length: 3\r\n"
                                     "\r\n");
    CHECK(http::serialize(r) == http::serialize_head(r) + "abc");
    CHECK(http::serialize_head(r, http::content_length_policy::omit) ==
          "HTTP/1.1 200 OK\r\n"
          "Server: AliyunOSS\r\n"
          "x-oss-request-id: 566B6BEF6078C0E44874A4AD\r\n"
          "\r\n");

    // The wire form parses back to the same response.
    auto parsed = parse_every_split<false>(http::serialize(r));
    CHECK(parsed.done);
    CHECK(parsed.msg.status == 200);
    CHECK(parsed.msg.reason == "OK");
    CHECK(parsed.msg.body == "abc");
    CHECK(headers_of(parsed.msg.headers) ==
          header_list{{"Server", "AliyunOSS"},
                      {"x-oss-request-id", "566B6BEF6078C0E44874A4AD"},
                      {"Content-Length", "3"}});

    http::response no_content;
    no_content.status = 204;
    no_content.body = "ignored";
    CHECK(http::serialize(no_content) == "HTTP/1.1 204 No Content\r\n\r\n");

    http::response head_reply; // a HEAD reply states the object's length itself
    head_reply.status = 200;
    head_reply.headers.add("Content-Length", "12345");
    CHECK(http::serialize(head_reply) == "HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n");

    http::response chunked;
    chunked.status = 200;
    chunked.headers.add("Transfer-Encoding", "chunked");
    chunked.body = "3\r\nabc\r\n0\r\n\r\n";
    CHECK(http::serialize(chunked) ==
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");

    http::response error;
    error.status = 404;
    error.version_minor = 0;
    error.reason = "Nope";
    CHECK(http::serialize(error) == "HTTP/1.0 404 Nope\r\nContent-Length: 0\r\n\r\n");

    http::response unknown;
    unknown.status = 599;
    CHECK(http::serialize_head(unknown) == "HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n");
    CHECK(http::serialize_head(http::response{100, "", 1, {}, ""}) ==
          "HTTP/1.1 100 Continue\r\n\r\n");

    CHECK(http::reason_phrase(503) == "Service Unavailable");
    CHECK(http::reason_phrase(299).empty());

    http::response bad = r;
    bad.status = 99;
    CHECK(http::validate_for_wire(bad) == errc::invalid_argument);
    bad = r;
    bad.version_minor = 2;
    CHECK(http::validate_for_wire(bad) == errc::invalid_argument);
    bad = r;
    bad.reason = "OK\r\nX-Evil: 1";
    CHECK(http::validate_for_wire(bad) == errc::invalid_header);
    bad = r;
    bad.headers.add("X-A", "1\n2");
    CHECK(http::validate_for_wire(bad) == errc::invalid_header);
}

TEST_CASE("dump: shows the request but never a secret", "[http]") {
    const std::string data = "upload part 1";
    auto r = upload_part_request(data);
    const auto d = http::dump(r);
    CHECK(d == "PUT /dir/obj.bin?partNumber=1&uploadId=81C78A548D3A46C58E2576A8FC48EED0 HTTP/1.1\n"
               "Host: testbucket.oss-cn-hangzhou.aliyuncs.com\n"
               "Content-MD5: vOjz1IJHxdVVu1aXvyd7NQ==\n"
               "x-oss-date: 20261125T055535Z\n"
               "x-oss-content-sha256: UNSIGNED-PAYLOAD\n"
               "x-oss-security-token: <redacted>\n"
               "Authorization: OSS4-HMAC-SHA256 "
               "Credential=AKIDEXAMPLE/20261125/cn-hangzhou/oss/aliyun_v4_request,"
               "Signature=<redacted>\n"
               "Content-Length: 13\n"
               "\n"
               "<13 bytes>\n");
    CHECK(d.find("7f60657d") == std::string::npos);
    CHECK(d.find("secret-token") == std::string::npos);
    CHECK(d.find("upload part 1") == std::string::npos);

    const auto auth_of = [](std::string value) {
        http::request q;
        q.host = "h";
        q.headers.add("authorization", value);
        return http::dump(q);
    };
    CHECK(auth_of("OSS AKIDEXAMPLE:f3W0PnH4neH1WA6otlqg3VuYlts=") ==
          "GET / HTTP/1.1\nHost: h\nauthorization: OSS AKIDEXAMPLE:<redacted>\n\n<0 bytes>\n");
    // OSS2 puts AdditionalHeaders after the signature, with spaces.
    CHECK(auth_of("OSS4-HMAC-SHA256 Credential=AK/20231216/cn-hangzhou/oss/aliyun_v4_request, "
                  "Signature=abcdef, AdditionalHeaders=host") ==
          "GET / HTTP/1.1\nHost: h\nauthorization: OSS4-HMAC-SHA256 "
          "Credential=AK/20231216/cn-hangzhou/oss/aliyun_v4_request, Signature=<redacted>, "
          "AdditionalHeaders=host\n\n<0 bytes>\n");
    CHECK(auth_of("Bearer abc.def") ==
          "GET / HTTP/1.1\nHost: h\nauthorization: Bearer <redacted>\n\n<0 bytes>\n");
    CHECK(auth_of("OSS nocolon") ==
          "GET / HTTP/1.1\nHost: h\nauthorization: OSS <redacted>\n\n<0 bytes>\n");

    http::request presigned;
    presigned.host = "h";
    presigned.path = "/k";
    presigned.query = {{"OSSAccessKeyId", "AK"},
                       {"Expires", "1700000000"},
                       {"Signature", "sig/+="},
                       {"security-token", "tok"}};
    presigned.headers.add("X-Odd", "a\r\nb");
    presigned.set_body("<x/>");
    CHECK(http::dump(presigned) ==
          "GET /k?OSSAccessKeyId=AK&Expires=1700000000&Signature=<redacted>&security-token="
          "<redacted> HTTP/1.1\nHost: h\nX-Odd: a\\x0D\\x0Ab\nContent-Length: 4\n\n<4 bytes>\n");
}

TEST_CASE("chars: tokens, field values, OWS", "[http]") {
    CHECK(http::is_token("x-oss-meta-A_b.c~!#$%&'*+^`|"));
    CHECK_FALSE(http::is_token(""));
    CHECK_FALSE(http::is_token("a b"));
    CHECK_FALSE(http::is_token("a:b"));
    CHECK_FALSE(http::is_token("a\"b"));
    CHECK_FALSE(http::is_token("caf\xC3\xA9"));
    CHECK(http::is_field_value(""));
    CHECK(http::is_field_value("a b\tc \xFF"));
    CHECK_FALSE(http::is_field_value("a\x7f"));
    CHECK_FALSE(http::is_field_value("a\x1f"));
    CHECK_FALSE(http::is_field_value("\0"sv));
    // Long values take the eight-bytes-at-a-time path: a bad byte is found at any position.
    const std::string long_value(40, 'v');
    std::size_t missed = 0, false_alarms = 0;
    for (std::size_t pos = 0; pos < long_value.size(); ++pos) {
        for (char bad : {'\0', '\x01', '\x1f', '\r', '\n', '\x7f'}) {
            auto v = long_value;
            v[pos] = bad;
            missed += http::is_field_value(v) ? 1 : 0;
        }
        for (char good : {'\t', ' ', '~', '!', '\x80', '\xff'}) {
            auto v = long_value;
            v[pos] = good;
            false_alarms += http::is_field_value(v) ? 0 : 1;
        }
    }
    CHECK(missed == 0);
    CHECK(false_alarms == 0);
    CHECK(http::trim_ows(" \t a b \t") == "a b");
    CHECK(http::trim_ows(" \t ").empty());
}
