// Streamed request bodies: `file_body` (a file range read in chunks off the I/O thread), the
// CRC-64 of what was sent (`crc64_body`), and UploadPart / PutObject with a `source` through the
// scripted transport: the bytes, the CRC check, sources that end early or run long, a changed
// source, and a retry that rewinds.
#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/file_body.hpp"
#include "ossmp/http/serializer.hpp"
#include "ossmp/ops/put_object.hpp"
#include "ossmp/ops/upload_part.hpp"

#include "support/fake_transport.hpp"
#include "support/test_bytes.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ossmp::errc;
using ossmp::test::fake_transport;
using ossmp::test::pattern;
using client_type = ossmp::basic_client<fake_transport, ossmp::static_credentials_provider>;

using ossmp::test::temp_file;

// Reads a whole pass of `source` synchronously (the handler may run on another thread).
std::pair<std::error_code, std::string> drain(ossmp::http::body_source& source) {
    std::string out;
    REQUIRE_FALSE(source.rewind());
    for (;;) {
        std::promise<std::pair<std::error_code, std::string>> p;
        auto f = p.get_future();
        source.async_read_chunk([&p](std::error_code ec, std::span<const std::byte> chunk) {
            p.set_value(
                {ec, std::string(reinterpret_cast<const char*>(chunk.data()), chunk.size())});
        });
        auto [ec, chunk] = f.get();
        if (ec)
            return {ec, out};
        if (chunk.empty())
            return {ec, out};
        out += chunk;
    }
}

// A body source over a string, answering inline or from a thread of its own; `lie` makes it
// deliver that many bytes fewer (negative: more) than it announces.
class string_source final : public ossmp::http::body_source {
public:
    explicit string_source(std::string data, std::size_t chunk = 1000, bool threaded = false,
                           long lie = 0)
        : data_(std::move(data)), chunk_(chunk), threaded_(threaded), lie_(lie) {}
    std::uint64_t size() const noexcept override { return data_.size(); }
    std::error_code rewind() override {
        ++passes;
        pos_ = 0;
        return {};
    }
    void async_read_chunk(chunk_handler h) override {
        const auto end = static_cast<std::size_t>(static_cast<long>(data_.size()) - lie_);
        const std::size_t n = pos_ >= end ? 0 : std::min(chunk_, end - pos_);
        auto bytes = std::as_bytes(std::span<const char>(data_.data() + pos_ % data_.size(), n));
        pos_ += n;
        if (!threaded_)
            return h(std::error_code{}, bytes);
        std::thread([h = std::move(h), bytes]() mutable { h(std::error_code{}, bytes); }).detach();
    }
    int passes = 0;

private:
    std::string data_;
    std::size_t chunk_;
    bool threaded_;
    long lie_;
    std::size_t pos_ = 0;
};

ossmp::client_options options() {
    ossmp::client_options o;
    o.endpoint = "https://oss-cn-hangzhou.aliyuncs.com";
    return o;
}

struct fixture {
    asio::io_context ctx;
    fake_transport transport{ctx};
    client_type client;
    explicit fixture(ossmp::client_options o = options())
        : client(transport, std::move(o), ossmp::static_credentials_provider("ak", "sk")) {}
};

ossmp::http::response part_ok(std::optional<std::uint64_t> crc) {
    ossmp::http::response r;
    r.status = 200;
    r.headers.add("ETag", "\"0123456789ABCDEF0123456789ABCDEF\"");
    if (crc)
        r.headers.add("x-oss-hash-crc64ecma", std::to_string(*crc));
    return r;
}

template <class Result, class Start>
std::pair<std::error_code, Result> run(fixture& f, Start start) {
    std::pair<std::error_code, Result> out;
    int calls = 0;
    start([&](std::error_code ec, Result r) {
        ++calls;
        out = {ec, std::move(r)};
    });
    f.ctx.run();
    f.ctx.restart();
    REQUIRE(calls == 1);
    return out;
}

ossmp::upload_part_params part_params(std::shared_ptr<ossmp::http::body_source> source) {
    ossmp::upload_part_params p;
    p.bucket = "bucket";
    p.key = "key";
    p.upload_id = "U";
    p.part_number = 7;
    p.source = std::move(source);
    return p;
}

} // namespace

TEST_CASE("file_body reads its range in chunks, off the calling thread", "[body]") {
    const std::string data = pattern(3 * 1024 * 1024 + 123, 1);
    temp_file file(data);
    ossmp::file_body_options o;
    o.chunk_size = 256 * 1024;
    auto whole = std::make_shared<ossmp::file_body>(file.fd, 0, data.size(),
                                                    ossmp::default_file_executor(), o);
    auto [ec, all] = drain(*whole);
    CHECK_FALSE(ec);
    CHECK(all == data);
    auto again = drain(*whole); // a second pass reads it all again
    CHECK(again.second == data);

    auto range = ossmp::make_file_body(file.fd, 1000, 2 * 1024 * 1024 + 5, o);
    CHECK(range->size() == 2 * 1024 * 1024 + 5);
    CHECK(drain(*range).second == data.substr(1000, 2 * 1024 * 1024 + 5));

    auto empty = ossmp::make_file_body(file.fd, 10, 0);
    CHECK(drain(*empty).second.empty());

    // The file shrinks under the body: an error, never a short body.
    auto beyond = ossmp::make_file_body(file.fd, data.size() - 10, 20);
    auto [short_ec, got] = drain(*beyond);
    CHECK(short_ec == errc::source_changed);
    CHECK(got.empty()); // the one chunk could not be filled

    // The descriptor was duplicated: closing the caller's does not matter.
    const int fd = ::dup(file.fd);
    auto owned = ossmp::make_file_body(fd, 0, 100);
    ::close(fd);
    CHECK(drain(*owned).second == data.substr(0, 100));
}

TEST_CASE("crc64_body: the CRC-64 of the last whole pass", "[body]") {
    const std::string data = pattern(10000, 2);
    auto body = std::make_shared<ossmp::crc64_body>(std::make_shared<string_source>(data, 777));
    CHECK_FALSE(body->sent_crc64());
    drain(*body);
    CHECK(body->sent_crc64() == ossmp::crc64(data));
    REQUIRE_FALSE(body->rewind());
    CHECK_FALSE(body->sent_crc64()); // a new pass has begun
}

TEST_CASE("UploadPart and PutObject stream a source and check the CRC-64 of what was sent",
          "[body][ops]") {
    const std::string data = pattern(250 * 1000 + 3, 3);
    const auto crc = ossmp::crc64(data);
    for (bool threaded : {false, true}) {
        INFO("threaded source: " << threaded);
        SECTION(std::string("the bytes and a matching reply ") + (threaded ? "(thread)" : "")) {
            fixture f;
            f.transport.push_response(part_ok(crc));
            auto source = std::make_shared<string_source>(data, 4096, threaded);
            auto [ec, r] = run<ossmp::upload_part_result>(
                f, [&](auto h) { ossmp::async_upload_part(f.client, part_params(source), h); });
            CHECK_FALSE(ec);
            REQUIRE(f.transport.requests().size() == 1);
            const auto& rec = f.transport.requests()[0];
            CHECK(rec.body_was_source);
            CHECK(rec.body == data);
            CHECK(ossmp::http::serialize_head(rec.request).find("Content-Length: 250003\r\n") !=
                  std::string::npos);
        }
    }
    SECTION("a reply with another CRC-64 is crc_mismatch") {
        fixture f;
        f.transport.push_response(part_ok(crc ^ 1));
        auto [ec, r] = run<ossmp::upload_part_result>(f, [&](auto h) {
            ossmp::async_upload_part(f.client, part_params(std::make_shared<string_source>(data)),
                                     h);
        });
        CHECK(ec == errc::crc_mismatch);
    }
    SECTION("a source that ends early or runs long fails the round trip") {
        for (long lie : {1L, -1L}) {
            fixture f;
            f.transport.push_response(part_ok(crc));
            auto [ec, r] = run<ossmp::upload_part_result>(f, [&](auto h) {
                ossmp::async_upload_part(
                    f.client, part_params(std::make_shared<string_source>(data, 1000, false, lie)),
                    h);
            });
            CHECK(ec == errc::source_changed);
        }
    }
    SECTION("bytes other than the promised CRC-64 say so") {
        fixture f;
        f.transport.push_response(part_ok(crc));
        ossmp::upload_part_options o;
        o.crc64 = crc ^ 2; // what the caller computed earlier: the source changed since
        auto [ec, r] = run<ossmp::upload_part_result>(f, [&](auto h) {
            ossmp::async_upload_part(f.client, part_params(std::make_shared<string_source>(data)),
                                     o, h);
        });
        CHECK(ec == errc::source_changed);
    }
    SECTION("Content-MD5 cannot be computed from a source: given, or refused") {
        fixture f;
        ossmp::upload_part_options o;
        o.content_md5 = true;
        auto [ec, r] = run<ossmp::upload_part_result>(f, [&](auto h) {
            ossmp::async_upload_part(f.client, part_params(std::make_shared<string_source>(data)),
                                     o, h);
        });
        CHECK(ec == errc::invalid_argument);
        CHECK(f.transport.requests().empty());
    }
    SECTION("data and a source together are refused") {
        fixture f;
        auto p = part_params(std::make_shared<string_source>(data));
        p.data = std::as_bytes(std::span<const char>(data.data(), 10));
        auto [ec, r] = run<ossmp::upload_part_result>(
            f, [&](auto h) { ossmp::async_upload_part(f.client, p, h); });
        CHECK(ec == errc::invalid_argument);
    }
    SECTION("a retry rewinds the source and sends every byte again") {
        auto o = options();
        o.retry.max_attempts = 2;
        o.retry.base_delay = 1ms;
        fixture f(o);
        ossmp::http::response busy;
        busy.status = 503;
        f.transport.push_response(busy);
        f.transport.push_response(part_ok(crc));
        auto source = std::make_shared<string_source>(data, 3000, true);
        ossmp::put_object_params p;
        p.bucket = "bucket";
        p.key = "key";
        p.source = source;
        auto [ec, r] = run<ossmp::put_object_result>(
            f, [&](auto h) { ossmp::async_put_object(f.client, p, h); });
        CHECK_FALSE(ec);
        REQUIRE(f.transport.requests().size() == 2);
        CHECK(f.transport.requests()[0].body == data);
        CHECK(f.transport.requests()[1].body == data);
        CHECK(source->passes == 2);
    }
    SECTION("a caller's crc64_body is used as it is and tells what was sent") {
        fixture f;
        f.transport.push_response(part_ok(std::nullopt)); // the server sent no CRC-64
        auto body = std::make_shared<ossmp::crc64_body>(std::make_shared<string_source>(data));
        auto [ec, r] = run<ossmp::upload_part_result>(
            f, [&](auto h) { ossmp::async_upload_part(f.client, part_params(body), h); });
        CHECK_FALSE(ec);
        CHECK_FALSE(r.crc64);
        CHECK(body->sent_crc64() == crc);
    }
}

namespace {
// One chunk read: whether the handler ran inside async_read_chunk, on which thread, and what.
struct one_chunk {
    bool at_once = false;
    std::thread::id thread;
    std::error_code ec;
    std::string bytes;
};
one_chunk read_one(ossmp::http::body_source& source) {
    one_chunk out;
    std::promise<void> done;
    source.async_read_chunk([&](std::error_code ec, std::span<const std::byte> chunk) {
        out.thread = std::this_thread::get_id();
        out.ec = ec;
        out.bytes.assign(reinterpret_cast<const char*>(chunk.data()), chunk.size());
        done.set_value();
    });
    done.get_future().wait();
    // This thread waits above once the call has returned: a handler that ran on it ran inside
    // async_read_chunk.
    out.at_once = out.thread == std::this_thread::get_id();
    return out;
}
} // namespace

TEST_CASE("file_body: a chunk the page cache holds is read at once, any other on the reader",
          "[body]") {
    const std::string data = pattern(3 * 256 * 1024 + 7, 5);
    temp_file file(data); // just written: in the page cache
    ossmp::file_body_options o;
    o.chunk_size = 256 * 1024;
    SECTION("cached: at once, on the calling thread") {
        auto body = ossmp::make_file_body(file.fd, 0, data.size(), o);
        REQUIRE_FALSE(body->rewind());
        auto c = read_one(*body);
#ifdef RWF_NOWAIT
        CHECK(c.at_once);
#endif
        CHECK_FALSE(c.ec);
        CHECK(c.bytes == data.substr(0, 256 * 1024));
        CHECK(drain(*body).second == data); // and whole passes are right
    }
    SECTION("not cached: on the reader executor, the bytes right") {
        REQUIRE(::fsync(file.fd) == 0);
        REQUIRE(::posix_fadvise(file.fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
        auto body = ossmp::make_file_body(file.fd, 0, data.size(), o);
        REQUIRE_FALSE(body->rewind());
        auto c = read_one(*body);
        CHECK_FALSE(c.at_once); // RWF_NOWAIT said EAGAIN: never a wait for the disk here
        CHECK(c.bytes == data.substr(0, 256 * 1024));
    }
    SECTION("turned off: always on the reader executor") {
        o.cached_reads_inline = false;
        auto body = ossmp::make_file_body(file.fd, 0, data.size(), o);
        REQUIRE_FALSE(body->rewind());
        auto c = read_one(*body);
        CHECK_FALSE(c.at_once);
        CHECK(c.bytes == data.substr(0, 256 * 1024));
        CHECK(drain(*body).second == data);
    }
}

TEST_CASE("file_body chunk buffers come back to a pool", "[body]") {
    // A part used to allocate (and zero) a new chunk buffer; now bodies reuse them.
    auto& pool = ossmp::detail::chunk_buffer_pool::instance();
    constexpr std::size_t odd_size = 123 * 4096 + 1; // a size no other body uses
    auto b = pool.take(odd_size);
    const std::byte* address = b.get();
    pool.give(std::move(b), odd_size);
    auto again = pool.take(odd_size);
    CHECK(again.get() == address);
    pool.give(std::move(again), odd_size);

    const std::string data = pattern(odd_size * 2, 6);
    temp_file file(data);
    ossmp::file_body_options o;
    o.chunk_size = odd_size;
    const std::byte* first_chunk = nullptr;
    for (int i = 0; i < 3; ++i) { // three parts one after the other: one buffer
        auto body = ossmp::make_file_body(file.fd, 0, data.size(), o);
        REQUIRE_FALSE(body->rewind());
        const std::byte* seen = nullptr;
        std::error_code error;
        std::promise<void> done;
        body->async_read_chunk([&](std::error_code ec, std::span<const std::byte> chunk) {
            error = ec;
            seen = chunk.data();
            done.set_value();
        });
        done.get_future().wait();
        CHECK_FALSE(error);
        if (i == 0)
            first_chunk = seen;
        CHECK(seen == first_chunk);
        while (body.use_count() > 1) // a reader thread may still hold it for a moment
            std::this_thread::yield();
    }
    CHECK(first_chunk == address);
}
