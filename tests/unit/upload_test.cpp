// async_upload against the scripted transport playing a small OSS: a 7-part upload, the n-th
// round trip failing (retryable and fatal) for every n, cancellation at every round trip, the
// window bound, progress, the lost Complete reply, a Complete without CRC-64 (HEAD decides), an
// empty complete-all object, single PutObjects, and every completion token.
#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/upload.hpp"

#include "support/fake_oss.hpp"
#include "support/fake_transport.hpp"
#include "support/test_bytes.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ossmp::errc;
using ossmp::service_errc;
using ossmp::test::bytes_of;
using ossmp::test::fake_transport;
using ossmp::test::pattern;
using namespace ossmp::test::upload;

// An async read stream over a string: each read hands out at most `chunk` bytes (posted);
// `fail_at` makes the read that reaches that offset fail, `hang_at` makes it wait until it is
// cancelled (through its cancellation slot, as Asio's descriptors do).
class scripted_stream {
public:
    using executor_type = asio::any_io_executor;

    scripted_stream(executor_type ex, std::string data, std::size_t chunk)
        : ex_(std::move(ex)), data_(std::move(data)), chunk_(chunk) {}

    executor_type get_executor() const { return ex_; }

    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [self = this](auto handler, MutableBufferSequence b) {
                self->start(std::move(handler), b);
            },
            token, buffers);
    }

    std::size_t pos = 0;            // bytes handed out
    std::size_t fail_at = SIZE_MAX; // offset whose read fails
    std::size_t hang_at = SIZE_MAX; // offset whose read waits for cancellation
    bool hanging = false;
    int cancelled = 0;

private:
    template <class Handler, class Buffers>
    void start(Handler handler, const Buffers& b) {
        auto ex = asio::get_associated_executor(handler, ex_);
        if (pos >= hang_at) {
            auto h = std::make_shared<Handler>(std::move(handler));
            auto slot = asio::get_associated_cancellation_slot(*h);
            hanging = true;
            if (slot.is_connected())
                slot.assign([this, h, ex, slot](asio::cancellation_type) mutable {
                    hanging = false;
                    ++cancelled;
                    asio::post(ex, [h, slot]() mutable {
                        slot.clear();
                        (*h)(asio::error::operation_aborted, std::size_t{0});
                    });
                });
            return;
        }
        std::error_code ec;
        std::size_t n = 0;
        if (pos >= fail_at) {
            ec = asio::error::connection_reset;
        } else if (pos >= data_.size()) {
            ec = asio::error::eof;
        } else {
            auto dst = *asio::buffer_sequence_begin(b);
            n = std::min({dst.size(), chunk_, data_.size() - pos, fail_at - pos});
            std::memcpy(dst.data(), data_.data() + pos, n);
            pos += n;
        }
        asio::post(ex, [h = std::move(handler), ec, n]() mutable { h(ec, n); });
    }

    executor_type ex_;
    std::string data_;
    std::size_t chunk_;
};

outcome run_stream_upload(fixture& f, scripted_stream& in, ossmp::upload_options o) {
    return run_source_upload(f, ossmp::stream_source(in), std::move(o));
}

} // namespace

TEST_CASE("async_upload: 7 parts, a window of 3, the object verified", "[upload]") {
    fixture f;
    f.transport.set_delay(2ms); // round trips overlap
    std::vector<std::uint64_t> seen;
    auto o = fast_options();
    o.progress_interval = 0ms;
    o.on_progress = [&](const ossmp::upload_progress& p) {
        seen.push_back(p.bytes_done);
    };
    auto r = run_upload(f, seven, o);
    REQUIRE(r.calls == 1);
    CHECK_FALSE(r.ec);
    CHECK(r.result.parts == 7);
    CHECK(r.result.part_size == part);
    CHECK(r.result.size == seven.size());
    CHECK(r.result.crc64 == ossmp::crc64(seven));
    CHECK(r.result.verified);
    CHECK(r.result.upload_id == "UP");
    CHECK(r.result.etag == "\"W-7\"");
    REQUIRE(f.oss.object);
    CHECK(*f.oss.object == seven);
    CHECK(f.oss.max_in_flight <= 3);
    CHECK(f.oss.max_in_flight >= 2);
    REQUIRE_FALSE(seen.empty());
    CHECK(std::is_sorted(seen.begin(), seen.end()));
    CHECK(seen.back() == seven.size());
}

TEST_CASE("async_upload: the n-th round trip fails, for every n", "[upload]") {
    // Round trips without failures: Initiate, 7 parts, Complete = 9.
    for (std::size_t n = 1; n <= 9; ++n) {
        DYNAMIC_SECTION("a retryable failure at round trip " << n) {
            fixture f;
            f.transport.fail_nth(n, make_error_code(errc::timeout));
            auto o = fast_options();
            std::vector<std::uint64_t> seen;
            o.progress_interval = 0ms;
            o.on_progress = [&](const ossmp::upload_progress& p) {
                seen.push_back(p.bytes_done);
            };
            auto r = run_upload(f, seven, o);
            REQUIRE(r.calls == 1);
            CHECK_FALSE(r.ec);
            CHECK(std::is_sorted(seen.begin(), seen.end())); // never back under retries
            REQUIRE_FALSE(seen.empty());
            CHECK(seen.back() == seven.size());
            REQUIRE(f.oss.object);
            CHECK(*f.oss.object == seven);
            CHECK(r.result.verified);
            CHECK(f.oss.aborts == 0);
        }
        DYNAMIC_SECTION("a fatal failure at round trip " << n) {
            fixture f;
            f.transport.fail_nth(n, make_error_code(service_errc::access_denied));
            auto r = run_upload(f, seven, fast_options());
            REQUIRE(r.calls == 1);
            CHECK(r.ec == service_errc::access_denied);
            CHECK_FALSE(r.result.failed_step.empty());
            CHECK_FALSE(f.oss.object);
            if (n == 1) { // Initiate failed: nothing to abort
                CHECK(f.oss.aborts == 0);
                CHECK(r.result.upload_id.empty());
            } else {
                CHECK(f.oss.aborts == 1);
                CHECK(r.result.aborted);
                CHECK_FALSE(f.oss.upload_alive);
            }
        }
    }
}

TEST_CASE("async_upload: terminal cancellation at every round trip aborts once", "[upload]") {
    for (std::size_t k = 1; k <= 8; ++k) {
        DYNAMIC_SECTION("cancelled once " << k << " round trips have started") {
            fixture f;
            f.transport.set_delay(1ms);
            asio::cancellation_signal cancel;
            outcome out;
            ossmp::async_upload(f.client, ossmp::memory_source(bytes_of(seven)), object_params(),
                                fast_options(),
                                asio::bind_cancellation_slot(
                                    cancel.slot(), [&](std::error_code ec, ossmp::upload_result r) {
                                        ++out.calls;
                                        out.ec = ec;
                                        out.result = std::move(r);
                                    }));
            bool emitted = false;
            for (int i = 0; i < 10000 && out.calls == 0; ++i) {
                f.ctx.run_one_for(50ms);
                if (!emitted && f.transport.round_trips() >= k) {
                    cancel.emit(asio::cancellation_type::terminal);
                    emitted = true;
                }
            }
            f.ctx.run(); // whatever is left (the abort)
            REQUIRE(out.calls == 1);
            CHECK(out.ec == asio::error::operation_aborted);
            CHECK_FALSE(f.oss.object);
            if (out.result.upload_id.empty()) {
                // Cancelled during Initiate: the client never learnt the upload's id (an
                // orphan for the cleanup to find, as with any lost Initiate reply).
                CHECK(k == 1);
            } else {
                CHECK(out.result.aborted);
                CHECK_FALSE(f.oss.upload_alive);
            }
        }
    }
}

TEST_CASE("async_upload: Complete's reply lost, its retry says NoSuchUpload: HEAD decides",
          "[upload]") {
    fixture f;
    // The first Complete is round trip 9: the object is made, then its reply is lost.
    f.transport.set_responder([&](const http::request& r) -> fake_transport::outcome {
        auto out = f.oss(r);
        if (r.method == http::verb::post && r.query_value("uploadId") && f.oss.completes == 1)
            return make_error_code(errc::unexpected_eof);
        return out;
    });
    auto r = run_upload(f, seven, fast_options());
    REQUIRE(r.calls == 1);
    CHECK_FALSE(r.ec);
    CHECK(r.result.verified);
    CHECK(f.oss.completes == 2);
    CHECK(f.oss.heads == 1);
}

TEST_CASE("async_upload: without a CRC-64 in Complete's reply, HeadObject verifies", "[upload]") {
    SECTION("the right object") {
        fixture f;
        f.oss.complete_sends_crc = false;
        auto r = run_upload(f, seven, fast_options());
        CHECK_FALSE(r.ec);
        CHECK(r.result.verified);
        CHECK(f.oss.heads == 1);
    }
    SECTION("an empty object for complete-all is caught") {
        fixture f;
        f.oss.complete_sends_crc = false;
        f.oss.complete_all_builds_empty = true;
        auto o = fast_options();
        o.complete_all = true;
        auto r = run_upload(f, seven, o);
        CHECK(r.ec == errc::size_mismatch);
        CHECK_FALSE(r.result.verified);
        CHECK(r.result.failed_step.find("HeadObject") != std::string::npos);
    }
    SECTION("a wrong CRC-64 in Complete's reply is final") {
        fixture f;
        f.transport.set_responder([&](const http::request& r) -> fake_transport::outcome {
            auto out = f.oss(r);
            if (r.method == http::verb::post && r.query_value("uploadId")) {
                auto& res = std::get<http::response>(out);
                res.headers.set("x-oss-hash-crc64ecma", "12345");
            }
            return out;
        });
        auto r = run_upload(f, seven, fast_options());
        CHECK(r.ec == errc::crc_mismatch);
        CHECK(f.oss.completes == 1);
    }
}

TEST_CASE("async_upload: small objects go in one PutObject", "[upload]") {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, part - 1, part}) {
        DYNAMIC_SECTION(size << " bytes") {
            fixture f;
            const std::string data = pattern(size, 3);
            auto r = run_upload(f, data, fast_options());
            CHECK_FALSE(r.ec);
            CHECK(r.result.parts == 0);
            CHECK(r.result.verified);
            CHECK(f.oss.puts == 1);
            CHECK(f.oss.inits == 0);
            REQUIRE(f.oss.object);
            CHECK(*f.oss.object == data);
        }
    }
    SECTION("one byte over one part is a multipart upload of 2 parts") {
        fixture f;
        const std::string data = pattern(part + 1, 4);
        auto r = run_upload(f, data, fast_options());
        CHECK_FALSE(r.ec);
        CHECK(r.result.parts == 2);
        CHECK(*f.oss.object == data);
    }
}

TEST_CASE("async_upload: use_awaitable, use_future and deferred", "[upload]") {
    fixture f;
    std::error_code ec1;
    ossmp::upload_result r1;
    asio::co_spawn(
        f.ctx,
        [&]() -> asio::awaitable<void> {
            std::tie(ec1, r1) = co_await ossmp::async_upload(
                f.client, ossmp::memory_source(bytes_of(seven)), object_params(), fast_options(),
                asio::experimental::as_tuple(asio::use_awaitable));
        },
        asio::detached);
    f.ctx.run();
    f.ctx.restart();
    CHECK_FALSE(ec1);
    CHECK(r1.verified);

    auto fut = ossmp::async_upload(f.client, ossmp::memory_source(bytes_of(seven)), object_params(),
                                   fast_options(), asio::use_future);
    f.ctx.run();
    f.ctx.restart();
    CHECK(fut.get().verified);

    auto op = ossmp::async_upload(f.client, ossmp::memory_source(bytes_of(seven)), object_params(),
                                  fast_options(), asio::experimental::deferred);
    int calls = 0;
    std::move(op)([&](std::error_code ec, ossmp::upload_result) {
        ++calls;
        CHECK_FALSE(ec);
    });
    f.ctx.run();
    CHECK(calls == 1);
}

TEST_CASE("async_upload: a file source streams its parts from the file", "[upload]") {
    char path[] = "/tmp/ossmp-upload-test-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, seven.data(), seven.size()) == static_cast<ssize_t>(seven.size()));
    auto source = ossmp::file_source::open(path);
    ::close(fd);
    SECTION("the object is the file") {
        fixture f;
        auto o = fast_options();
        o.content_md5 = true;
        std::error_code ec;
        ossmp::upload_result r;
        ossmp::async_upload(f.client, source, object_params(), o,
                            [&](std::error_code e, ossmp::upload_result res) {
                                ec = e;
                                r = std::move(res);
                            });
        f.ctx.run();
        CHECK_FALSE(ec);
        CHECK(r.verified);
        CHECK(r.parts == 7);
        REQUIRE(f.oss.object);
        CHECK(*f.oss.object == seven);
        for (const auto& rec : f.transport.requests())
            if (rec.request.query_value("partNumber")) {
                CHECK(rec.body_was_source); // streamed, not copied into memory first
                CHECK(rec.request.headers.contains("Content-MD5"));
            }
    }
    SECTION("a file that shrinks fails the upload and aborts it") {
        REQUIRE(::truncate(path, static_cast<off_t>(3 * part)) == 0);
        fixture f;
        std::error_code ec;
        ossmp::upload_result r;
        ossmp::async_upload(f.client, source, object_params(), fast_options(),
                            [&](std::error_code e, ossmp::upload_result res) {
                                ec = e;
                                r = std::move(res);
                            });
        f.ctx.run();
        CHECK(ec == errc::source_changed);
        CHECK(r.failed_step.rfind("UploadPart", 0) == 0);
        CHECK(r.aborted);
        CHECK_FALSE(f.oss.object);
        CHECK(source.changed());
    }
    ::unlink(path);
}

TEST_CASE("async_upload: a stream of unknown length, read whole part by part", "[upload][stream]") {
    for (std::size_t size :
         {std::size_t{0}, std::size_t{1}, part - 1, part, part + 1, 7 * part + part / 2}) {
        DYNAMIC_SECTION(size << " bytes") {
            fixture f;
            f.transport.set_delay(1ms); // parts overlap
            const std::string data = pattern(size, 9);
            scripted_stream in(f.ctx.get_executor(), data, 37 * 1024);
            // Bytes read from the stream but not yet answered never exceed W+1 parts.
            std::size_t answered = 0, most_unanswered = 0;
            f.transport.set_responder([&](const http::request& r) -> fake_transport::outcome {
                most_unanswered = std::max(most_unanswered, in.pos - answered);
                auto out = f.oss(r);
                if (r.query_value("partNumber"))
                    answered += r.body().size();
                return out;
            });
            std::vector<ossmp::upload_progress> seen;
            auto o = fast_options();
            o.progress_interval = 0ms;
            o.on_progress = [&](const ossmp::upload_progress& p) {
                seen.push_back(p);
            };
            auto r = run_stream_upload(f, in, o);
            REQUIRE(r.calls == 1);
            CHECK_FALSE(r.ec);
            REQUIRE(f.oss.object);
            CHECK(*f.oss.object == data);
            CHECK(r.result.size == size);
            CHECK(r.result.crc64 == ossmp::crc64(data));
            CHECK(r.result.verified);
            CHECK(in.pos == size);
            if (size < part) { // the stream ended within the first part: one PutObject
                CHECK(f.oss.puts == 1);
                CHECK(f.oss.inits == 0);
                CHECK(r.result.parts == 0);
            } else {
                CHECK(f.oss.inits == 1);
                CHECK(r.result.parts == (size + part - 1) / part);
                CHECK(r.result.part_size == part);
                CHECK(f.oss.max_in_flight <= 3);
                CHECK(most_unanswered <= 4 * part); // (W+1) part buffers
            }
            REQUIRE_FALSE(seen.empty());
            for (std::size_t i = 0; i + 1 < seen.size(); ++i) {
                CHECK(seen[i].bytes_done <= seen[i + 1].bytes_done);
                CHECK_FALSE(seen[i].total_known); // a stream's size is known at its end only
            }
            CHECK(seen.back().total_known);
            CHECK(seen.back().total == size);
            CHECK(seen.back().bytes_done == size);
        }
    }
}

TEST_CASE("async_upload: a stream part is retried from its buffer", "[upload][stream]") {
    for (std::size_t n : {std::size_t{2}, std::size_t{4}, std::size_t{6}}) {
        DYNAMIC_SECTION("round trip " << n << " fails once") {
            fixture f;
            const std::string data = pattern(5 * part + 17, 10);
            scripted_stream in(f.ctx.get_executor(), data, 64 * 1024);
            f.transport.fail_nth(n, make_error_code(errc::timeout));
            auto r = run_stream_upload(f, in, fast_options());
            REQUIRE(r.calls == 1);
            CHECK_FALSE(r.ec);
            REQUIRE(f.oss.object);
            CHECK(*f.oss.object == data);
            CHECK(r.result.parts == 6);
            CHECK(f.transport.round_trips() == 9); // Initiate, 6 parts + 1 retry, Complete
        }
    }
}

TEST_CASE("async_upload: a stream that fails to read fails the upload and aborts it",
          "[upload][stream]") {
    fixture f;
    const std::string data = pattern(6 * part, 11);
    scripted_stream in(f.ctx.get_executor(), data, 50 * 1024);
    in.fail_at = 3 * part + 1000;
    auto r = run_stream_upload(f, in, fast_options());
    REQUIRE(r.calls == 1);
    CHECK(r.ec == asio::error::connection_reset);
    CHECK(r.result.failed_step == "reading the source");
    CHECK(r.result.aborted);
    CHECK(f.oss.aborts == 1);
    CHECK_FALSE(f.oss.object);
    CHECK_FALSE(f.oss.upload_alive);
    SECTION("in the first part: nothing was started") {
        fixture g;
        scripted_stream first(g.ctx.get_executor(), data, 50 * 1024);
        first.fail_at = 1000;
        auto r1 = run_stream_upload(g, first, fast_options());
        CHECK(r1.ec == asio::error::connection_reset);
        CHECK(g.transport.round_trips() == 0);
    }
}

TEST_CASE("async_upload: cancelling a stream upload cancels the read in progress",
          "[upload][stream]") {
    for (std::size_t hang : {std::size_t{1000}, 2 * part + 5, 5 * part}) {
        DYNAMIC_SECTION("the stream stops giving bytes at " << hang) {
            fixture f;
            const std::string data = pattern(8 * part, 12);
            scripted_stream in(f.ctx.get_executor(), data, 40 * 1024);
            in.hang_at = hang;
            asio::cancellation_signal cancel;
            outcome out;
            ossmp::async_upload(f.client, ossmp::stream_source(in), object_params(), fast_options(),
                                asio::bind_cancellation_slot(
                                    cancel.slot(), [&](std::error_code ec, ossmp::upload_result r) {
                                        ++out.calls;
                                        out.ec = ec;
                                        out.result = std::move(r);
                                    }));
            // Run until the stream hangs and every part before it was answered.
            for (int i = 0; i < 100000 &&
                            !(in.hanging && f.transport.round_trips() == f.transport.completed());
                 ++i)
                f.ctx.run_one_for(20ms);
            REQUIRE(in.hanging);
            cancel.emit(asio::cancellation_type::terminal);
            f.ctx.run();
            REQUIRE(out.calls == 1);
            CHECK(out.ec == asio::error::operation_aborted);
            CHECK(in.cancelled == 1);
            CHECK_FALSE(in.hanging);
            CHECK_FALSE(f.oss.object);
            if (hang < part) {
                CHECK(f.transport.round_trips() == 0);
            } else {
                CHECK(out.result.aborted);
                CHECK_FALSE(f.oss.upload_alive);
            }
        }
    }
}

namespace {
// A source of `total` bytes whose every part is (a prefix of) the same block: 10,000 parts
// without 1 GB of memory.
struct repeating_source {
    std::uint64_t total;
    const std::string* block;
    std::uint64_t size() const { return total; }
    ossmp::part_body part(std::uint64_t, std::uint64_t length) const {
        return ossmp::part_body{bytes_of(std::string_view(*block).substr(0, length)), nullptr};
    }
};
} // namespace

TEST_CASE("async_upload: exactly 10,000 parts, and one byte more", "[upload][sizing]") {
    constexpr std::uint64_t min_part = 100 * 1024;
    const std::string block = pattern(min_part + 4096, 13);
    for (const std::uint64_t total : {10000 * min_part, 10000 * min_part + 1}) {
        DYNAMIC_SECTION(total << " bytes") {
            // 100 KiB fits 10,000 parts exactly; one byte more needs the next 4 KiB multiple.
            const std::uint64_t part_size = total == 10000 * min_part ? min_part : min_part + 4096;
            const std::uint64_t parts = ossmp::part_count(total, part_size);
            fixture f;
            std::map<int, std::pair<std::uint64_t, std::uint64_t>> received; // size, CRC-64
            std::size_t listed = 0, most_in_flight = 0;
            bool in_order = true;
            f.transport.set_responder([&](const http::request& r) -> fake_transport::outcome {
                most_in_flight =
                    std::max(most_in_flight, f.transport.round_trips() - f.transport.completed());
                if (r.method == http::verb::post && r.query_value("uploads"))
                    return reply(200, "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k"
                                      "</Key><UploadId>UP</UploadId>"
                                      "</InitiateMultipartUploadResult>");
                if (r.method == http::verb::put && r.query_value("partNumber")) {
                    const int n = std::stoi(std::string(*r.query_value("partNumber")));
                    const auto crc = ossmp::crc64(r.body());
                    received[n] = {r.body().size(), crc};
                    return reply(200, {},
                                 {{"ETag", "\"E" + std::to_string(n) + "\""},
                                  {"x-oss-hash-crc64ecma", std::to_string(crc)}});
                }
                if (r.method == http::verb::post && r.query_value("uploadId")) {
                    // The part list: every number once, ascending.
                    const std::string_view body = r.body();
                    int previous = 0;
                    for (auto pos = body.find("<PartNumber>"); pos != std::string_view::npos;
                         pos = body.find("<PartNumber>", pos + 1)) {
                        const int n = std::atoi(std::string(body.substr(pos + 12, 6)).c_str());
                        in_order = in_order && n == previous + 1;
                        previous = n;
                        ++listed;
                    }
                    ossmp::crc64_state whole;
                    for (const auto& [n, p] : received)
                        whole.append(p.second, p.first);
                    return reply(200,
                                 "<CompleteMultipartUploadResult><Location>l</Location><Bucket>b"
                                 "</Bucket><Key>k</Key><ETag>\"W\"</ETag>"
                                 "</CompleteMultipartUploadResult>",
                                 {{"ETag", "\"W\""},
                                  {"x-oss-hash-crc64ecma", std::to_string(whole.value())}});
                }
                return reply(400);
            });
            auto o = fast_options();
            o.part_size = min_part;
            o.parallel = 8;
            std::error_code ec;
            ossmp::upload_result res;
            ossmp::async_upload(f.client, repeating_source{total, &block}, object_params(), o,
                                [&](std::error_code e, ossmp::upload_result r) {
                                    ec = e;
                                    res = std::move(r);
                                });
            f.ctx.run();
            CHECK_FALSE(ec);
            CHECK(res.verified);
            CHECK(res.part_size == part_size);
            CHECK(res.parts == parts);
            CHECK(received.size() == parts);
            CHECK(listed == parts);
            CHECK(in_order);
            CHECK(most_in_flight <= 8);
            CHECK(res.size == total);
            std::uint64_t sum = 0;
            for (const auto& [n, p] : received)
                sum += p.first;
            CHECK(sum == total);
            CHECK(received.rbegin()->second.first == total - (parts - 1) * part_size);
        }
    }
}
