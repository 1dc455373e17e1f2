// Integration tests of ossmp-emulator against hostile clients: lying Content-Lengths. Each test
// drives the real emulator process and then shows that it still serves a normal request and
// still stops at once on SIGTERM.
//
// Catch2 assertions are not thread-safe: client threads only record what they saw, and the
// main thread checks it after joining them.
#include "emulator_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace ossmp;
using namespace ossmp::test;
using namespace ossmp::test::emulator_test;

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using steady = std::chrono::steady_clock;

// A signed request head whose Content-Length says `length` (the signature does not cover it).
std::string lying_head(emulator_client& c, http::request r, std::uint64_t length) {
    c.prepare(r);
    std::string head = http::serialize_head(r);
    const auto at = head.find("Content-Length: ");
    const std::string field = "Content-Length: " + std::to_string(length) + "\r\n";
    if (at == std::string::npos)
        head.insert(head.size() - 2, field);
    else
        head.replace(at, head.find("\r\n", at) + 2 - at, field);
    return head;
}

// A signed request head with a chunked body, followed by one chunk-size line of `chunk_hex`.
std::string huge_chunk_head(emulator_client& c, http::request r, std::string_view chunk_hex) {
    c.prepare(r);
    std::string head = http::serialize_head(r);
    const auto at = head.find("Content-Length: ");
    REQUIRE(at != std::string::npos);
    head.replace(at, head.find("\r\n", at) + 2 - at, "Transfer-Encoding: chunked\r\n");
    return head + std::string(chunk_hex) + "\r\n";
}

// One request on a fresh connection: sends `bytes`, reads until the server closes (or
// `timeout`), parses one response. `ec` is set when no complete response came.
http::response one_shot(std::uint16_t port, std::string_view bytes, milliseconds timeout,
                        std::error_code& ec) {
    emulator_client c(port, raw_client_options{});
    c.connect();
    if (!c.write_all(bytes)) {
        ec = std::make_error_code(std::errc::broken_pipe);
        return {};
    }
    std::string got;
    const auto deadline = steady::now() + timeout;
    while (true) {
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now());
        if (left.count() <= 0) {
            ec = std::make_error_code(std::errc::timed_out);
            return {};
        }
        const auto chunk = c.read_some(left);
        if (chunk.empty())
            break; // EOF, or the timeout
        got += chunk;
    }
    if (steady::now() >= deadline) {
        ec = std::make_error_code(std::errc::timed_out);
        return {};
    }
    http::response_parser p(false);
    std::string_view rest = got;
    while (!rest.empty() && !p.done() && !ec) {
        const auto n = p.feed(rest, ec);
        rest.remove_prefix(n);
        if (n == 0)
            break;
    }
    if (!ec && !p.done())
        p.finish_eof(ec);
    return ec ? http::response{} : p.release();
}

// Reads a `Vm...` line of /proc/PID/status, in KiB (0 if missing).
std::uint64_t proc_status_kib(pid_t pid, const std::string& field) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.starts_with(field + ":"))
            return std::stoull(line.substr(field.size() + 1));
    return 0;
}

// A whole multipart upload, Complete and GET, on one connection: the emulator still serves.
void check_still_serves(emulator_process& emu, const std::string& key) {
    emulator_client c(emu.port(), v4_options());
    uploader up{c, "demo", key};
    const auto id = up.initiate();
    REQUIRE(id.size() == 32);
    const auto p1 = random_bytes(100 * 1024, 11);
    const auto p2 = random_bytes(1234, 12);
    REQUIRE(up.part(id, 1, p1).status == 200);
    REQUIRE(up.part(id, 2, p2).status == 200);
    auto rc = up.complete(id, complete_body({{1, quoted_md5(p1)}, {2, quoted_md5(p2)}}));
    INFO(rc.body);
    REQUIRE(rc.status == 200);
    auto g = c.send(make(http::verb::get, "demo", key));
    REQUIRE(g.status == 200);
    CHECK(g.body == p1 + p2);
}

// SIGTERM: exit status 0, well inside main.cpp's 5 s fallback (which fires only when a
// connection is never released).
void check_stops_at_once(emulator_process& emu) {
    const auto t0 = steady::now();
    const int status = emu.stop();
    const auto took = steady::now() - t0;
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(took < seconds(2));
}

} // namespace

// Item: a body buffer used to be sized from Content-Length before the XML cap was checked; a
// Complete declaring 1 TiB threw std::bad_alloc inside the connection's coroutine, which then
// never released its slot (4096 of them and nothing was served; one made SIGTERM wait 5 s).
TEST_CASE("emulator answers 5,000 absurd Content-Lengths and keeps serving",
          "[emulator][hostile]") {
    emulator_process emu(default_args());
    emulator_client setup(emu.port(), v4_options());
    uploader up{setup, "demo", "lies"};
    const auto id = up.initiate();
    REQUIRE(id.size() == 32);

    constexpr std::uint64_t tib = 1ull << 40;
    const std::vector<std::string> lies = {
        // CompleteMultipartUpload: 1 TiB, and 100 MiB (over the 16 MiB XML cap, under 5 GiB).
        lying_head(setup, make(http::verb::post, "demo", "lies", {{"uploadId", id}}), tib),
        lying_head(setup, make(http::verb::post, "demo", "lies", {{"uploadId", id}}), 100ull << 20),
        // ListParts and InitiateMultipartUpload with a body they have no use for.
        lying_head(setup, make(http::verb::get, "demo", "lies", {{"uploadId", id}}), tib),
        lying_head(setup, make(http::verb::post, "demo", "other", {{"uploads", ""}}), tib),
        // PutObject and UploadPart over 5 GiB.
        lying_head(setup, make(http::verb::put, "demo", "big"), (5ull << 30) + 1),
        lying_head(setup,
                   make(http::verb::put, "demo", "lies", {{"partNumber", "1"}, {"uploadId", id}}),
                   tib),
        // Complete with a chunked body whose first chunk claims 256 TiB.
        huge_chunk_head(setup, make(http::verb::post, "demo", "lies", {{"uploadId", id}}),
                        "1000000000000"),
    };

    constexpr int total = 5000;
    constexpr int workers = 4;
    std::atomic<int> next{0};
    std::atomic<int> answered{0};
    std::mutex failures_mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    const auto t0 = steady::now();
    for (int w = 0; w < workers; ++w) {
        threads.emplace_back([&] {
            for (int i = next++; i < total; i = next++) {
                const auto& bytes = lies[static_cast<std::size_t>(i) % lies.size()];
                std::error_code ec;
                auto r = one_shot(emu.port(), bytes, seconds(5), ec);
                std::string what;
                if (ec)
                    what = "no reply: " + ec.message();
                else if (r.status != 400 || xml_text(r.body, "Code") != "EntityTooLarge" ||
                         r.headers.get("Connection") != "close")
                    what = std::to_string(r.status) + " " + xml_text(r.body, "Code");
                if (what.empty()) {
                    ++answered;
                    continue;
                }
                std::lock_guard lock(failures_mutex);
                failures.push_back("request " + std::to_string(i) + " (kind " +
                                   std::to_string(i % lies.size()) + "): " + what);
                next = total; // stop every worker: one failure says enough
                return;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    const auto took = std::chrono::duration_cast<milliseconds>(steady::now() - t0);
    INFO("5,000 lying requests took " << took.count() << " ms");
    for (const auto& f : failures)
        FAIL_CHECK(f);
    CHECK(answered.load() == total);

    check_still_serves(emu, "after-lies");
    check_stops_at_once(emu);
}

// A declared length is a claim: memory storage reserves at most 8 MiB for a body before its
// bytes arrive (it used to reserve all of it, up to 5 GiB per request).
TEST_CASE("emulator reserves no memory for body bytes that have not arrived",
          "[emulator][hostile]") {
    emulator_process emu(default_args());
    emulator_client setup(emu.port(), v4_options());
    uploader up{setup, "demo", "claims"};
    const auto id = up.initiate();
    const std::uint64_t five_gib = 5ull << 30;
    const std::string put = lying_head(setup, make(http::verb::put, "demo", "claim"), five_gib);
    const std::string part = lying_head(
        setup, make(http::verb::put, "demo", "claims", {{"partNumber", "1"}, {"uploadId", id}}),
        five_gib);

    std::this_thread::sleep_for(milliseconds(100));
    const auto vm_before = proc_status_kib(emu.pid(), "VmSize");
    constexpr int n = 32;
    std::vector<std::unique_ptr<emulator_client>> clients;
    for (int i = 0; i < n; ++i) {
        clients.push_back(std::make_unique<emulator_client>(emu.port(), v4_options()));
        REQUIRE(clients.back()->write_all((i % 2 ? put : part) + "x"));
    }
    std::this_thread::sleep_for(milliseconds(300)); // every header section parsed
    const auto vm_during = proc_status_kib(emu.pid(), "VmSize");
    INFO("VmSize before " << vm_before << " KiB, with " << n << " 5 GiB claims " << vm_during
                          << " KiB");
    // 32 x 5 GiB = 160 GiB when the claims are believed; 32 x 8 MiB = 256 MiB otherwise.
    CHECK(vm_during < vm_before + 2 * 1024 * 1024);
    clients.clear(); // the client hangs up: nothing is stored
    auto lp = setup.send(make(http::verb::get, "demo", "claims", {{"uploadId", id}}));
    CHECK(count_of(lp.body, "<Part>") == 0);
    check_still_serves(emu, "after-claims");
    check_stops_at_once(emu);
}
