// The ten operations over real sockets (asio_transport) against ossmp-emulator: plain and TLS,
// V4 and V1, path-style and virtual-hosted (through connect_to), and an untrusted certificate
// rejected by default.
#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/file_body.hpp"
#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/complete.hpp"
#include "ossmp/ops/delete_object.hpp"
#include "ossmp/ops/get_object.hpp"
#include "ossmp/ops/head_object.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/list_multipart_uploads.hpp"
#include "ossmp/ops/list_parts.hpp"
#include "ossmp/ops/put_object.hpp"
#include "ossmp/ops/upload_part.hpp"
#include "ossmp/transport/asio_transport.hpp"

#include "support/emulator_process.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using ossmp::errc;
using ossmp::service_errc;
namespace aex = asio::experimental;

constexpr std::string_view test_bucket = "ops-bucket";

std::string data_dir() {
    const char* d = std::getenv("OSSMP_TEST_DATA");
    return d && *d ? std::string(d) : std::string("tests/data");
}

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string pattern(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& c : s) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    return s;
}

struct setup {
    bool tls = false;
    bool virtual_hosted = false;
    ossmp::signature_version sig = ossmp::signature_version::v4;
};

std::vector<std::string> emulator_args(const setup& s) {
    std::vector<std::string> a{
        "--bucket", std::string(test_bucket), "--credentials", "ak:sk", "--region", "cn-hangzhou",
        "--domain", "oss.localhost"};
    if (s.tls) {
        a.push_back("--tls-cert");
        a.push_back(data_dir() + "/server.crt");
        a.push_back("--tls-key");
        a.push_back(data_dir() + "/server.key");
    }
    return a;
}

// One client on one asio_transport talking to one emulator.
struct rig {
    asio::io_context ctx;
    ossmp::asio_transport transport;
    ossmp::basic_client<ossmp::asio_transport, ossmp::static_credentials_provider> client;

    static ossmp::asio_transport_options transport_options(const setup& s, std::uint16_t port,
                                                           bool trust_test_ca) {
        ossmp::asio_transport_options o;
        o.tls = s.tls;
        if (trust_test_ca)
            o.ca_file = data_dir() + "/test-ca.crt";
        // Every host (bucket.oss.localhost, oss.localhost, localhost) goes to the emulator.
        o.connect_to.push_back(ossmp::connect_to_rule{"", 0, "127.0.0.1", port});
        o.connect_timeout = std::chrono::seconds(5);
        o.stall_timeout = std::chrono::seconds(10);
        return o;
    }
    static ossmp::client_options client_options(const setup& s, std::uint16_t port) {
        ossmp::client_options o;
        o.endpoint = std::string(s.tls ? "https://" : "http://") +
                     (s.virtual_hosted ? "oss.localhost:" : "localhost:") + std::to_string(port);
        o.region = "cn-hangzhou";
        o.style = s.virtual_hosted ? ossmp::addressing_style::virtual_hosted
                                   : ossmp::addressing_style::path;
        o.signature = s.sig;
        return o;
    }

    rig(const setup& s, std::uint16_t port, bool trust_test_ca = true,
        std::chrono::seconds clock_error = std::chrono::seconds(0))
        : transport(ctx, transport_options(s, port, trust_test_ca)),
          client(transport, with_clock(client_options(s, port), clock_error),
                 ossmp::static_credentials_provider("ak", "sk")) {}

    static ossmp::client_options with_clock(ossmp::client_options o, std::chrono::seconds error) {
        if (error.count() != 0)
            o.clock = [error] {
                return std::chrono::system_clock::now() + error;
            };
        return o;
    }

    // Runs a coroutine to completion on the rig's io_context; rethrows its exception.
    template <class F>
    void run(F f) {
        std::exception_ptr failure;
        bool done = false;
        asio::co_spawn(ctx, std::move(f), [&](std::exception_ptr e) {
            failure = e;
            done = true;
        });
        ctx.run();
        ctx.restart();
        REQUIRE(done);
        if (failure)
            std::rethrow_exception(failure);
    }
};

// The whole multipart life cycle plus the single-request calls, with exact checks at each step.
asio::awaitable<void> life_cycle(rig& r, std::string key) {
    auto& c = r.client;
    const std::string part1 = pattern(100 * 1024, 1);
    const std::string part2 = pattern(100 * 1024, 2);
    const std::string part3 = "z";
    const std::string whole = part1 + part2 + part3;

    // Initiate.
    ossmp::initiate_params ip;
    ip.bucket = test_bucket;
    ip.key = key;
    ip.content_type = "application/x-test";
    const ossmp::initiate_result init =
        co_await ossmp::async_initiate_upload(c, ip, asio::use_awaitable);
    CHECK(init.bucket == test_bucket);
    CHECK(init.key == key);
    REQUIRE_FALSE(init.upload_id.empty());

    // Three parts; the last one with Content-MD5 and a caller-provided CRC-64.
    std::vector<ossmp::completed_part> done;
    ossmp::crc64_state whole_crc;
    const std::string* parts[] = {&part1, &part2, &part3};
    for (int n = 1; n <= 3; ++n) {
        ossmp::upload_part_params pp;
        pp.bucket = test_bucket;
        pp.key = key;
        pp.upload_id = init.upload_id;
        pp.part_number = n;
        pp.data = bytes_of(*parts[n - 1]);
        ossmp::upload_part_options po;
        po.content_md5 = n == 3;
        if (n == 3)
            po.crc64 = ossmp::crc64(*parts[n - 1]);
        ossmp::diagnostics diag;
        auto [ec, res] =
            co_await ossmp::async_upload_part(c, pp, po, diag, aex::as_tuple(asio::use_awaitable));
        REQUIRE_FALSE(ec);
        CHECK(diag.http_status == 200);
        CHECK(res.part_number == n);
        REQUIRE(res.crc64.has_value());
        CHECK(*res.crc64 == ossmp::crc64(*parts[n - 1]));
        done.push_back({n, res.etag});
        whole_crc.update(*parts[n - 1]);
    }

    // ListParts: the three parts, with sizes and CRCs.
    ossmp::list_parts_params lp;
    lp.bucket = test_bucket;
    lp.key = key;
    lp.upload_id = init.upload_id;
    const ossmp::list_parts_result listed =
        co_await ossmp::async_list_parts(c, lp, asio::use_awaitable);
    REQUIRE(listed.parts.size() == 3);
    CHECK_FALSE(listed.is_truncated);
    for (int i = 0; i < 3; ++i) {
        CHECK(listed.parts[i].part_number == i + 1);
        CHECK(listed.parts[i].size == parts[i]->size());
        CHECK(ossmp::etag_equal(listed.parts[i].etag, done[i].etag));
        if (listed.parts[i].crc64)
            CHECK(*listed.parts[i].crc64 == ossmp::crc64(*parts[i]));
    }

    // ListMultipartUploads with the key as prefix: our upload is there.
    ossmp::list_uploads_params lu;
    lu.bucket = test_bucket;
    lu.prefix = key;
    const ossmp::list_uploads_result uploads =
        co_await ossmp::async_list_uploads(c, lu, asio::use_awaitable);
    bool found = false;
    for (const auto& u : uploads.uploads)
        found = found || (u.key == key && u.upload_id == init.upload_id);
    CHECK(found);

    // Complete, checking the whole-object CRC-64.
    ossmp::complete_params cp;
    cp.bucket = test_bucket;
    cp.key = key;
    cp.upload_id = init.upload_id;
    cp.parts = {done[2], done[0], done[1]}; // any order: the builder sorts
    ossmp::complete_options co;
    co.expected_crc64 = whole_crc.value();
    const ossmp::complete_result completed =
        co_await ossmp::async_complete_upload(c, cp, co, asio::use_awaitable);
    CHECK(completed.key == key);
    CHECK_FALSE(completed.etag.empty());
    if (completed.crc64)
        CHECK(*completed.crc64 == ossmp::crc64(whole));

    // HeadObject and GetObject read it back byte-identical.
    ossmp::head_object_params hp;
    hp.bucket = test_bucket;
    hp.key = key;
    const ossmp::object_meta meta = co_await ossmp::async_head_object(c, hp, asio::use_awaitable);
    CHECK(meta.size == whole.size());
    CHECK(meta.content_type == "application/x-test");
    ossmp::get_object_params gp;
    gp.bucket = test_bucket;
    gp.key = key;
    std::string got;
    const ossmp::get_object_result read = co_await ossmp::async_get_object(
        c, gp, [&got](std::string_view b) { got += b; }, asio::use_awaitable);
    CHECK(got.size() == whole.size());
    CHECK(got == whole);
    CHECK(read.bytes == whole.size());
    CHECK(read.crc64 == ossmp::crc64(whole));
    // A range.
    gp.range_first = 102400 - 2;
    gp.range_last = 102400 + 1;
    std::string range;
    const ossmp::get_object_result ranged = co_await ossmp::async_get_object(
        c, gp, [&range](std::string_view b) { range += b; }, asio::use_awaitable);
    CHECK(range == whole.substr(102400 - 2, 4));
    CHECK(ranged.meta.size == whole.size());
    CHECK_FALSE(ranged.crc_checked);

    // A second upload: Complete with a wrong ETag fails with InvalidPart; abort it; a second
    // abort finds no such upload.
    const ossmp::initiate_result second =
        co_await ossmp::async_initiate_upload(c, ip, asio::use_awaitable);
    ossmp::upload_part_params pp;
    pp.bucket = test_bucket;
    pp.key = key;
    pp.upload_id = second.upload_id;
    pp.part_number = 1;
    pp.data = bytes_of(part3);
    (void)co_await ossmp::async_upload_part(c, pp, asio::use_awaitable);
    cp.upload_id = second.upload_id;
    cp.parts = {{1, "\"0123456789ABCDEF0123456789ABCDEF\""}};
    ossmp::diagnostics diag;
    auto [cec, cres] =
        co_await ossmp::async_complete_upload(c, cp, diag, aex::as_tuple(asio::use_awaitable));
    CHECK(cec == service_errc::invalid_part);
    CHECK(diag.code == "InvalidPart");
    CHECK(diag.http_status == 400);
    CHECK_FALSE(diag.request_id.empty());
    ossmp::abort_params ap;
    ap.bucket = test_bucket;
    ap.key = key;
    ap.upload_id = second.upload_id;
    auto [aec, ares] =
        co_await ossmp::async_abort_upload(c, ap, aex::as_tuple(asio::use_awaitable));
    CHECK_FALSE(aec);
    auto [aec2, ares2] =
        co_await ossmp::async_abort_upload(c, ap, diag, aex::as_tuple(asio::use_awaitable));
    CHECK(aec2 == service_errc::no_such_upload);
    CHECK(diag.code == "NoSuchUpload");

    // PutObject, then DeleteObject; HEAD afterwards: NoSuchKey (from x-oss-err).
    ossmp::put_object_params put;
    put.bucket = test_bucket;
    put.key = key + ".small";
    put.data = bytes_of(part1);
    ossmp::put_object_options popt;
    popt.content_md5 = true;
    const ossmp::put_object_result put_res =
        co_await ossmp::async_put_object(c, put, popt, asio::use_awaitable);
    CHECK_FALSE(put_res.etag.empty());
    ossmp::delete_object_params dp;
    dp.bucket = test_bucket;
    dp.key = put.key;
    (void)co_await ossmp::async_delete_object(c, dp, asio::use_awaitable);
    hp.key = put.key;
    auto [hec, hres] =
        co_await ossmp::async_head_object(c, hp, diag, aex::as_tuple(asio::use_awaitable));
    CHECK(hec == service_errc::no_such_key);
}

void run_life_cycle(const setup& s, const std::string& key) {
    ossmp::test::emulator_process emu(emulator_args(s));
    rig r(s, emu.port());
    r.run([&r, key]() { return life_cycle(r, key); });
}

} // namespace

TEST_CASE("operations over plain HTTP, V4, path-style", "[ops][integration]") {
    run_life_cycle(setup{false, false, ossmp::signature_version::v4}, "dir/v4 path+key.bin");
}

TEST_CASE("operations over plain HTTP, V1, virtual-hosted through connect_to",
          "[ops][integration]") {
    run_life_cycle(setup{false, true, ossmp::signature_version::v1}, "v1/vhost~key.bin");
}

TEST_CASE("operations over TLS with the test CA, V4, virtual-hosted", "[ops][integration]") {
    run_life_cycle(setup{true, true, ossmp::signature_version::v4}, "tls/object");
}

TEST_CASE("operations over TLS, V1, path-style", "[ops][integration]") {
    run_life_cycle(setup{true, false, ossmp::signature_version::v1}, "tls-v1/object");
}

TEST_CASE("an untrusted certificate is rejected by default; nothing reaches the server",
          "[ops][integration]") {
    const setup s{true, false, ossmp::signature_version::v4};
    ossmp::test::emulator_process emu(emulator_args(s));
    rig r(s, emu.port(), /*trust_test_ca=*/false);
    std::error_code got;
    r.run([&]() -> asio::awaitable<void> {
        ossmp::initiate_params ip;
        ip.bucket = test_bucket;
        ip.key = "never";
        auto [ec, res] =
            co_await ossmp::async_initiate_upload(r.client, ip, aex::as_tuple(asio::use_awaitable));
        got = ec;
    });
    CHECK(got == errc::tls_untrusted_certificate);
}

TEST_CASE("cancelling an operation over a real socket completes with operation_aborted",
          "[ops][integration]") {
    // A GetObject cancelled right after it started (while connecting / waiting).
    const setup s{false, false, ossmp::signature_version::v4};
    ossmp::test::emulator_process emu(emulator_args(s));
    rig r(s, emu.port());
    const std::string body = pattern(1000, 7);
    r.run([&]() -> asio::awaitable<void> {
        ossmp::put_object_params put;
        put.bucket = test_bucket;
        put.key = "cancel-me";
        put.data = bytes_of(body);
        (void)co_await ossmp::async_put_object(r.client, put, asio::use_awaitable);
    });
    asio::cancellation_signal signal;
    std::error_code got;
    int calls = 0;
    ossmp::get_object_params gp;
    gp.bucket = test_bucket;
    gp.key = "cancel-me";
    ossmp::async_get_object(
        r.client, gp, [](std::string_view) {},
        asio::bind_cancellation_slot(signal.slot(),
                                     [&](std::error_code ec, ossmp::get_object_result) {
                                         ++calls;
                                         got = ec;
                                     }));
    // Cancel before the response can have been read: right after the request is started.
    asio::post(r.ctx, [&] { signal.emit(asio::cancellation_type::terminal); });
    r.ctx.run();
    CHECK(calls == 1);
    CHECK(got == asio::error::operation_aborted);
}

TEST_CASE("a client clock one hour late is corrected from RequestTimeTooSkewed",
          "[ops][integration]") {
    const setup s{false, false, ossmp::signature_version::v4};
    ossmp::test::emulator_process emu(emulator_args(s));
    rig r(s, emu.port(), true, std::chrono::seconds(-3600));
    r.run([&]() -> asio::awaitable<void> {
        ossmp::initiate_params ip;
        ip.bucket = test_bucket;
        ip.key = "skewed";
        // The first attempt is rejected (15 min allowed); the client learns the offset from
        // ServerTime, re-signs and succeeds on the second attempt.
        auto [ec, res] =
            co_await ossmp::async_initiate_upload(r.client, ip, aex::as_tuple(asio::use_awaitable));
        CHECK_FALSE(ec);
        CHECK_FALSE(res.upload_id.empty());
    });
    const auto off = r.client.clock_offset();
    CHECK(off >= std::chrono::seconds(3590));
    CHECK(off <= std::chrono::seconds(3610));
}

namespace {

// 24 UploadParts in flight at once from one client whose io_context runs on 4 threads, then
// Complete and a byte-exact GET: the transport's strands, the pool and the client's shared
// state (clock offset, signing-key cache) under real concurrency.
void concurrent_parts_on_four_threads(const setup& s) {
    ossmp::test::emulator_process emu(emulator_args(s));
    rig r(s, emu.port());
    const std::string key = s.tls ? "threads-tls" : "threads-plain";
    std::string upload_id;
    r.run([&]() -> asio::awaitable<void> {
        ossmp::initiate_params ip;
        ip.bucket = test_bucket;
        ip.key = key;
        upload_id =
            (co_await ossmp::async_initiate_upload(r.client, ip, asio::use_awaitable)).upload_id;
    });
    REQUIRE_FALSE(upload_id.empty());

    constexpr int part_count = 24;
    std::vector<std::string> parts;
    for (int n = 1; n <= part_count; ++n)
        parts.push_back(
            pattern(100 * 1024 + static_cast<std::size_t>(n) * 1000, static_cast<unsigned>(n)));
    std::mutex m;
    std::vector<ossmp::completed_part> done;
    std::vector<std::error_code> errors;
    int crc_mismatches = 0;
    auto guard = asio::make_work_guard(r.ctx);
    std::atomic<int> remaining{part_count};
    for (int n = 1; n <= part_count; ++n) {
        ossmp::upload_part_params pp;
        pp.bucket = test_bucket;
        pp.key = key;
        pp.upload_id = upload_id;
        pp.part_number = n;
        pp.data = bytes_of(parts[static_cast<std::size_t>(n - 1)]);
        ossmp::async_upload_part(
            r.client, pp, [&, n](std::error_code ec, ossmp::upload_part_result res) {
                {
                    std::lock_guard lock(m);
                    if (ec)
                        errors.push_back(ec);
                    else
                        done.push_back({n, res.etag});
                    if (!res.crc64 ||
                        *res.crc64 != ossmp::crc64(parts[static_cast<std::size_t>(n - 1)]))
                        ++crc_mismatches;
                }
                if (remaining.fetch_sub(1) == 1)
                    guard.reset();
            });
    }
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] { r.ctx.run_for(std::chrono::seconds(60)); });
    for (auto& t : threads)
        t.join();
    r.ctx.restart();
    CHECK(errors.empty());
    CHECK(crc_mismatches == 0);
    REQUIRE(done.size() == static_cast<std::size_t>(part_count));

    std::string whole;
    for (const auto& p : parts)
        whole += p;
    r.run([&]() -> asio::awaitable<void> {
        ossmp::complete_params cp;
        cp.bucket = test_bucket;
        cp.key = key;
        cp.upload_id = upload_id;
        cp.parts = done; // completion order; the builder sorts
        ossmp::complete_options co;
        co.expected_crc64 = ossmp::crc64(whole);
        (void)co_await ossmp::async_complete_upload(r.client, cp, co, asio::use_awaitable);
        ossmp::get_object_params gp;
        gp.bucket = test_bucket;
        gp.key = key;
        std::string got;
        (void)co_await ossmp::async_get_object(
            r.client, gp, [&got](std::string_view b) { got += b; }, asio::use_awaitable);
        CHECK(got.size() == whole.size());
        CHECK(got == whole);
    });
    CHECK(r.transport.connections_opened() <= r.transport.options().max_connections_per_host);
}

} // namespace

TEST_CASE("one client on 4 I/O threads: 24 parts in flight, plain HTTP",
          "[ops][integration][threads]") {
    concurrent_parts_on_four_threads(setup{false, false, ossmp::signature_version::v4});
}

TEST_CASE("one client on 4 I/O threads: 24 parts in flight, TLS, virtual-hosted",
          "[ops][integration][threads]") {
    concurrent_parts_on_four_threads(setup{true, true, ossmp::signature_version::v4});
}

namespace {

// PutObject and UploadPart streamed from a file range (file_body, chunks read off the I/O
// thread) through asio_transport: the object reads back byte-identical; a body whose file
// shrank is refused with source_changed and leaves nothing behind; the connection is not
// reused after a body cut short.
void streamed_bodies(const setup& s) {
    ossmp::test::emulator_process emu(emulator_args(s));
    rig r(s, emu.port());
    const std::string data = pattern(9 * 1024 * 1024 + 17, 21);
    char name[] = "/tmp/ossmp-stream-test-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    const std::string key = "streamed/object";
    r.run([&]() -> asio::awaitable<void> {
        ossmp::put_object_params p;
        p.bucket = test_bucket;
        p.key = key;
        ossmp::file_body_options fo;
        fo.chunk_size = 256 * 1024;
        p.source = ossmp::make_file_body(fd, 0, data.size(), fo);
        auto [ec, put] =
            co_await ossmp::async_put_object(r.client, p, aex::as_tuple(asio::use_awaitable));
        CHECK_FALSE(ec);
        CHECK(put.crc64 == ossmp::crc64(data));

        std::string back;
        ossmp::get_object_params g;
        g.bucket = test_bucket;
        g.key = key;
        auto [gec, got] = co_await ossmp::async_get_object(
            r.client, g, [&](std::string_view b) { back += b; },
            aex::as_tuple(asio::use_awaitable));
        CHECK_FALSE(gec);
        CHECK(back == data);

        // A part streamed from a range in the middle of the file.
        ossmp::initiate_params ip;
        ip.bucket = test_bucket;
        ip.key = key + ".mpu";
        auto [iec, init] =
            co_await ossmp::async_initiate_upload(r.client, ip, aex::as_tuple(asio::use_awaitable));
        REQUIRE_FALSE(iec);
        ossmp::upload_part_params up;
        up.bucket = test_bucket;
        up.key = ip.key;
        up.upload_id = init.upload_id;
        up.part_number = 1;
        up.source = ossmp::make_file_body(fd, 12345, 3 * 1024 * 1024);
        auto [uec, part] =
            co_await ossmp::async_upload_part(r.client, up, aex::as_tuple(asio::use_awaitable));
        CHECK_FALSE(uec);
        CHECK(part.crc64 == ossmp::crc64(std::string_view(data).substr(12345, 3 * 1024 * 1024)));

        // A body announced longer than the file: refused mid-body, nothing stored.
        ossmp::put_object_params bad;
        bad.bucket = test_bucket;
        bad.key = key + ".short";
        bad.source = ossmp::make_file_body(fd, data.size() - 1000, 5000);
        auto [bec, br] =
            co_await ossmp::async_put_object(r.client, bad, aex::as_tuple(asio::use_awaitable));
        CHECK(bec == errc::source_changed);
        ossmp::head_object_params hp;
        hp.bucket = test_bucket;
        hp.key = bad.key;
        auto [hec, meta] =
            co_await ossmp::async_head_object(r.client, hp, aex::as_tuple(asio::use_awaitable));
        CHECK(hec == service_errc::no_such_key);
    });
    ::close(fd);
    ::unlink(name);
}

} // namespace

TEST_CASE("streamed bodies from a file range, plain HTTP", "[ops][integration][body]") {
    streamed_bodies(setup{false, false, ossmp::signature_version::v4});
}

TEST_CASE("streamed bodies from a file range, TLS", "[ops][integration][body]") {
    streamed_bodies(setup{true, true, ossmp::signature_version::v4});
}
