// async_upload on an io_context run by 4 threads against ossmp-emulator over real sockets:
// a file, a memory span and a pipe uploaded at once through one client (the uploads' strands,
// the transport's connection strands, the file reader pool and the stream's reader all
// interleave), then an upload cancelled from another strand while its parts are in flight.
// Each object is read back (HeadObject: size and CRC-64). The ThreadSanitizer stage of
// scripts/test runs this file with the transport's and the emulator's thread tests.
#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/ops/head_object.hpp"
#include "ossmp/transport/asio_transport.hpp"
#include "ossmp/upload.hpp"

#include "support/emulator_process.hpp"
#include "support/test_bytes.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using client_type = ossmp::basic_client<ossmp::asio_transport, ossmp::static_credentials_provider>;
using ossmp::test::bytes_of;
using ossmp::test::pattern;

constexpr const char* bucket = "threads-bucket";

// One client on an io_context run by 4 threads (started by `run`, joined by `join`).
struct rig {
    asio::io_context ctx{4};
    ossmp::asio_transport transport;
    client_type client;
    std::vector<std::thread> threads;

    explicit rig(std::uint16_t port)
        : transport(ctx, transport_options(port)),
          client(transport, client_options(port), ossmp::static_credentials_provider("ak", "sk")) {}
    ~rig() { join(); }

    static ossmp::asio_transport_options transport_options(std::uint16_t) {
        ossmp::asio_transport_options o;
        o.connect_timeout = 5s;
        o.stall_timeout = 20s;
        return o;
    }
    static ossmp::client_options client_options(std::uint16_t port) {
        ossmp::client_options o;
        o.endpoint = "http://127.0.0.1:" + std::to_string(port);
        o.region = "cn-hangzhou";
        o.style = ossmp::addressing_style::path;
        return o;
    }
    void run() {
        for (int i = 0; i < 4; ++i)
            threads.emplace_back([this] { ctx.run(); });
    }
    void join() {
        for (auto& t : threads)
            t.join();
        threads.clear();
    }
};

ossmp::upload_params object(const std::string& key) {
    ossmp::upload_params p;
    p.bucket = bucket;
    p.key = key;
    return p;
}

ossmp::upload_options options() {
    ossmp::upload_options o;
    o.part_size = 256 * 1024;
    o.parallel = 4;
    return o;
}

struct finished {
    std::error_code ec;
    ossmp::upload_result result;
};

// What HeadObject says of `key` (run on its own io_context thread-free: the rig has ended).
ossmp::object_meta head(client_type& c, asio::io_context& ctx, const std::string& key) {
    ossmp::head_object_params p;
    p.bucket = bucket;
    p.key = key;
    auto f = ossmp::async_head_object(c, p, asio::use_future);
    ctx.restart();
    ctx.run();
    return f.get();
}

} // namespace

TEST_CASE("async_upload on 4 threads: a file, a span and a pipe at once",
          "[upload][threads][integration]") {
    ossmp::test::emulator_process emu({"--bucket", bucket, "--credentials", "ak:sk", "--region",
                                       "cn-hangzhou", "--threads", "2"});
    const std::string a = pattern(5u << 20, 31), b = pattern((3u << 20) + 77, 32),
                      c = pattern((4u << 20) + 5, 33);
    char path[] = "/tmp/ossmp-upload-threads-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, a.data(), a.size()) == static_cast<ssize_t>(a.size()));
    ::close(fd);

    rig r(emu.port());
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    asio::posix::stream_descriptor in(r.ctx, pipe_fds[0]);
    std::thread writer([&] {
        std::size_t done = 0;
        while (done < c.size()) {
            const ssize_t n = ::write(pipe_fds[1], c.data() + done, c.size() - done);
            if (n <= 0)
                break;
            done += static_cast<std::size_t>(n);
        }
        ::close(pipe_fds[1]);
    });

    finished from_file, from_span, from_pipe;
    std::atomic<int> calls{0};
    auto done = [&calls](finished& out) {
        return [&out, &calls](std::error_code ec, ossmp::upload_result res) {
            out.ec = ec;
            out.result = std::move(res);
            ++calls;
        };
    };
    ossmp::async_upload(r.client, ossmp::file_source::open(path), object("file"), options(),
                        done(from_file));
    ossmp::async_upload(r.client, ossmp::memory_source(bytes_of(b)), object("span"), options(),
                        done(from_span));
    ossmp::async_upload(r.client, ossmp::stream_source(in), object("pipe"), options(),
                        done(from_pipe));
    r.run();
    r.join();
    writer.join();
    ::unlink(path);
    REQUIRE(calls == 3);
    for (auto* f : {&from_file, &from_span, &from_pipe}) {
        CHECK_FALSE(f->ec);
        CHECK(f->result.verified);
    }
    CHECK(from_file.result.crc64 == ossmp::crc64(a));
    CHECK(from_span.result.crc64 == ossmp::crc64(b));
    CHECK(from_pipe.result.crc64 == ossmp::crc64(c));
    CHECK(from_pipe.result.size == c.size());
    CHECK(from_file.result.parts == 20);
    for (const auto& [key, bytes] :
         {std::pair<std::string, const std::string*>{"file", &a}, {"span", &b}, {"pipe", &c}}) {
        const auto meta = head(r.client, r.ctx, key);
        CHECK(meta.size == bytes->size());
        REQUIRE(meta.crc64);
        CHECK(*meta.crc64 == ossmp::crc64(*bytes));
    }
}

TEST_CASE("async_upload on 4 threads: cancelled from another strand while parts fly",
          "[upload][threads][integration]") {
    // Every part stalls for 2 s: the cancellation certainly finds parts in flight.
    ossmp::test::emulator_process emu({"--bucket", bucket, "--credentials", "ak:sk", "--region",
                                       "cn-hangzhou", "--faults", "UploadPart=stall=2"});
    const std::string a = pattern(3u << 20, 34);
    rig r(emu.port());
    auto strand = asio::make_strand(r.ctx);
    asio::cancellation_signal cancel;
    finished out;
    std::atomic<int> calls{0};
    std::promise<void> started;
    asio::post(strand, [&] {
        ossmp::async_upload(
            r.client, ossmp::memory_source(bytes_of(a)), object("cancelled"), options(),
            asio::bind_cancellation_slot(
                cancel.slot(),
                asio::bind_executor(strand, [&](std::error_code ec, ossmp::upload_result res) {
                    out.ec = ec;
                    out.result = std::move(res);
                    ++calls;
                })));
        started.set_value();
    });
    r.run();
    started.get_future().wait();
    std::this_thread::sleep_for(500ms);
    // The signal belongs to the strand the operation was started on: emit it there.
    asio::post(strand, [&] { cancel.emit(asio::cancellation_type::terminal); });
    r.join();
    REQUIRE(calls == 1);
    CHECK(out.ec == asio::error::operation_aborted);
    CHECK(out.result.aborted);
    CHECK_FALSE(out.result.upload_id.empty());
}
