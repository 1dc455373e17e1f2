// Integration tests of ossmp-emulator serving on several threads (`--threads`): many client
// threads with real sockets at once, and SIGTERM with connections open.
//
// Catch2 assertions are not thread-safe: the client threads only record what they saw, and the
// main thread checks it after joining them.
#include "emulator_test_helpers.hpp"

#include "../../tools/emulator/config.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace ossmp;
using namespace ossmp::test;
using namespace ossmp::test::emulator_test;

namespace {

struct scratch_dir {
    std::string path;
    scratch_dir() {
        char tmpl[] = "/tmp/ossmp-emulator-threads-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

std::size_t regular_files_in(const std::string& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
        n += e.is_regular_file() ? 1 : 0;
    return n;
}

ossmp::emulator::config parse_args(std::vector<const char*> args, std::string& error) {
    args.insert(args.begin(), "ossmp-emulator");
    args.push_back("--allow-anonymous");
    ossmp::emulator::config c;
    error = ossmp::emulator::parse_command_line(static_cast<int>(args.size()), args.data(), c);
    return c;
}

// The <Part> blocks of a ListParts body, by part number: (Size, ETag, HashCrc64ecma).
struct listed_part {
    std::string size;
    std::string etag;
    std::string crc;
};
std::map<int, listed_part> listed_parts(const std::string& body) {
    std::map<int, listed_part> out;
    for (auto b = body.find("<Part>"); b != std::string::npos; b = body.find("<Part>", b + 1)) {
        auto e = body.find("</Part>", b);
        auto block = body.substr(b, e - b);
        out[std::stoi(xml_text(block, "PartNumber"))] = {
            xml_text(block, "Size"), xml_text(block, "ETag"), xml_text(block, "HashCrc64ecma")};
    }
    return out;
}

constexpr int client_threads = 8;
constexpr int parts_per_thread = 3;
constexpr int part_count = client_threads * parts_per_thread;

// Part n (1-based) of the shared upload: >= 100 KiB except the last, sizes all different.
std::string part_bytes(int n) {
    const std::size_t size =
        n == part_count ? 777 : 100 * 1024 + static_cast<std::size_t>(n) * 1237;
    return random_bytes(size, 1000u + static_cast<unsigned>(n));
}

// What one client thread saw (checked by the main thread).
struct thread_log {
    std::map<int, http::response> parts;       // UploadPart replies by part number
    std::vector<std::string> failures;         // anything unexpected, described
    std::vector<std::string> shared_get_etags; // ETags of GETs of the contended key
};

// 8 threads, one connection each: the parts of ONE upload (interleaved part numbers), and
// PutObject / GetObject / DeleteObject of keys of their own, and overwrites and reads of one
// contended key. Then ListParts / Complete / GET of the whole, checked exactly.
void hammer(emulator_process& emu) {
    emulator_client main_client(emu.port(), v4_options());
    uploader up{main_client, "demo", "threads/big.bin"};
    const std::string id = up.initiate();
    REQUIRE(id.size() == 32);

    std::vector<std::string> parts(part_count + 1);
    for (int n = 1; n <= part_count; ++n)
        parts[static_cast<std::size_t>(n)] = part_bytes(n);
    // Versions of the contended key "threads/shared": one per thread, each 64 KiB + i.
    std::vector<std::string> versions;
    std::map<std::string, std::string> version_by_etag;
    for (int t = 0; t < client_threads; ++t) {
        versions.push_back(random_bytes(64 * 1024 + static_cast<std::size_t>(t), 500u + t));
        version_by_etag[quoted_md5(versions.back())] = versions.back();
    }
    {
        auto first = make(http::verb::put, "demo", "threads/shared");
        first.set_body_view(versions[0]);
        REQUIRE(main_client.send(std::move(first)).status == 200);
    }

    std::vector<thread_log> logs(client_threads);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < client_threads; ++t) {
        threads.emplace_back([&, t] {
            thread_log& log = logs[static_cast<std::size_t>(t)];
            try {
                emulator_client c(emu.port(), v4_options());
                c.connect();
                ++ready;
                while (ready.load() < client_threads) // start together
                    std::this_thread::yield();
                uploader u{c, "demo", "threads/big.bin"};
                for (int j = 0; j < parts_per_thread; ++j) {
                    const int n = 1 + t + j * client_threads;
                    log.parts[n] = u.part(id, n, parts[static_cast<std::size_t>(n)]);

                    // A key of this thread's own: put, read back, delete, read again.
                    const auto own_key =
                        "threads/own-" + std::to_string(t) + "-" + std::to_string(j);
                    const auto own = random_bytes(20000 + static_cast<std::size_t>(t * 10 + j),
                                                  static_cast<unsigned>(t * 10 + j));
                    auto put = make(http::verb::put, "demo", own_key);
                    put.set_body_view(own);
                    auto pr = c.send(std::move(put));
                    if (pr.status != 200 || pr.headers.get("ETag") != quoted_md5(own) ||
                        pr.headers.get("x-oss-hash-crc64ecma") != crc64_to_string(crc64(own)))
                        log.failures.push_back("put " + own_key);
                    auto g = c.send(make(http::verb::get, "demo", own_key));
                    if (g.status != 200 || g.body != own)
                        log.failures.push_back("get " + own_key);
                    if (c.send(make(http::verb::delete_, "demo", own_key)).status != 204)
                        log.failures.push_back("delete " + own_key);
                    if (c.send(make(http::verb::get, "demo", own_key)).status != 404)
                        log.failures.push_back("get after delete " + own_key);

                    // The contended key: overwrite it with this thread's version, read it.
                    auto sp = make(http::verb::put, "demo", "threads/shared");
                    sp.set_body_view(versions[static_cast<std::size_t>(t)]);
                    if (c.send(std::move(sp)).status != 200)
                        log.failures.push_back("put shared");
                    auto sg = c.send(make(http::verb::get, "demo", "threads/shared"));
                    auto it = version_by_etag.find(std::string(sg.headers.get("ETag")));
                    if (sg.status != 200 || it == version_by_etag.end() || sg.body != it->second)
                        log.failures.push_back("get shared: status " + std::to_string(sg.status));
                    log.shared_get_etags.emplace_back(sg.headers.get("ETag"));
                }
            } catch (const std::exception& e) {
                log.failures.push_back(std::string("exception: ") + e.what());
            }
        });
    }
    for (auto& th : threads)
        th.join();

    for (int t = 0; t < client_threads; ++t) {
        const auto& log = logs[static_cast<std::size_t>(t)];
        INFO("client thread " << t);
        for (const auto& f : log.failures)
            FAIL_CHECK(f);
        CHECK(log.failures.empty());
        CHECK(log.parts.size() == static_cast<std::size_t>(parts_per_thread));
        CHECK(log.shared_get_etags.size() == static_cast<std::size_t>(parts_per_thread));
        for (const auto& [n, r] : log.parts) {
            INFO("part " << n);
            const auto& data = parts[static_cast<std::size_t>(n)];
            CHECK(r.status == 200);
            CHECK(r.headers.get("ETag") == quoted_md5(data));
            CHECK(r.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(data)));
        }
    }

    // ListParts: every part, exact size / ETag / CRC-64.
    auto lp = main_client.send(make(http::verb::get, "demo", up.key, {{"uploadId", id}}));
    REQUIRE(lp.status == 200);
    CHECK(count_of(lp.body, "<Part>") == static_cast<std::size_t>(part_count));
    auto listed = listed_parts(lp.body);
    REQUIRE(listed.size() == static_cast<std::size_t>(part_count));
    std::string all;
    std::string etag_concat;
    std::vector<std::pair<int, std::string>> complete_list;
    for (int n = 1; n <= part_count; ++n) {
        const auto& data = parts[static_cast<std::size_t>(n)];
        INFO("listed part " << n);
        REQUIRE(listed.count(n) == 1);
        CHECK(listed[n].size == std::to_string(data.size()));
        CHECK(listed[n].etag == quoted_md5(data));
        CHECK(listed[n].crc == crc64_to_string(crc64(data)));
        all += data;
        etag_concat += crypto::hex_upper(crypto::md5(data));
        complete_list.emplace_back(n, quoted_md5(data));
    }

    auto rc = up.complete(id, complete_body(complete_list));
    REQUIRE(rc.status == 200);
    const std::string expected_etag = "\"" + crypto::hex_upper(crypto::md5(etag_concat)) + "-" +
                                      std::to_string(part_count) + "\"";
    CHECK(xml_text(rc.body, "ETag") == expected_etag);
    CHECK(rc.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(all)));

    auto g = main_client.send(make(http::verb::get, "demo", up.key));
    REQUIRE(g.status == 200);
    CHECK(g.body.size() == all.size());
    CHECK(g.body == all);
    CHECK(g.headers.get("ETag") == expected_etag);
    CHECK(g.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(all)));
    CHECK(g.headers.get("x-oss-object-type") == "Multipart");

    // The contended key holds exactly one of the versions, whole.
    auto sg = main_client.send(make(http::verb::get, "demo", "threads/shared"));
    REQUIRE(sg.status == 200);
    REQUIRE(version_by_etag.count(std::string(sg.headers.get("ETag"))) == 1);
    CHECK(sg.body == version_by_etag[std::string(sg.headers.get("ETag"))]);
    // The own keys are all gone; the upload is gone.
    auto lu = main_client.send(make(http::verb::get, "demo", "", {{"uploads", ""}}));
    CHECK(count_of(lu.body, "<Upload>") == 0);
}

} // namespace

TEST_CASE("emulator --threads on the command line", "[emulator][threads]") {
    std::string error;
    CHECK(parse_args({"--threads", "4"}, error).threads == 4);
    CHECK(error.empty());
    CHECK(parse_args({"--threads=1"}, error).threads == 1);
    CHECK(error.empty());
    CHECK(parse_args({"--threads", "64"}, error).threads == 64);
    CHECK(error.empty());
    const auto d = parse_args({}, error).threads;
    CHECK(error.empty());
    CHECK(d == ossmp::emulator::default_threads());
    CHECK(d >= 1);
    CHECK(d <= 8);
    const unsigned hw = std::thread::hardware_concurrency();
    CHECK(d == (hw == 0 ? 1u : std::min(hw, 8u)));
    for (const char* bad : {"0", "65", "-1", "x", ""}) {
        INFO(bad);
        parse_args({"--threads", bad}, error);
        CHECK(error == "--threads needs a number from 1 to 64");
    }
    parse_args({"--threads"}, error);
    CHECK(error == "--threads needs a number from 1 to 64");
    CHECK(ossmp::emulator::usage_text.find("--threads N") != std::string_view::npos);
}

TEST_CASE("emulator with 4 threads serves 8 client threads at once", "[emulator][threads]") {
    SECTION("memory storage") {
        emulator_process emu(default_args({"--threads", "4"}));
        hammer(emu);
        int status = emu.stop();
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    SECTION("dir storage") {
        scratch_dir dir;
        emulator_process emu(default_args({"--threads", "4", "--storage", "dir:" + dir.path}));
        hammer(emu);
        int status = emu.stop();
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        // Replaced versions of the contended key and the deleted keys left no file behind:
        // two objects (big + shared), each a .meta and a .data; no upload; nothing in .tmp.
        CHECK(regular_files_in(dir.path + "/demo/objects") == 4);
        CHECK(regular_files_in(dir.path + "/demo/uploads") == 0);
        CHECK(regular_files_in(dir.path + "/.tmp") == 0);
    }
}

TEST_CASE("emulator with 4 threads exits 0 promptly on SIGTERM with connections open",
          "[emulator][threads]") {
    scratch_dir dir;
    emulator_process emu(default_args(
        {"--threads", "4", "--storage", "dir:" + dir.path, "--faults", "Head@1=stall=60"}));
    const auto big = random_bytes(8 * 1024 * 1024, 77);
    const auto p1 = random_bytes(100 * 1024, 78);
    std::string id;
    {
        emulator_client c(emu.port(), v4_options());
        auto put = make(http::verb::put, "demo", "big");
        put.set_body_view(big);
        REQUIRE(c.send(std::move(put)).status == 200);
        uploader up{c, "demo", "up"};
        id = up.initiate();
        REQUIRE(up.part(id, 1, p1).status == 200);
    }

    // 1: idle keep-alive connection (one request done).
    emulator_client idle(emu.port(), v4_options());
    REQUIRE(idle.send(make(http::verb::get, "demo", "", {{"uploads", ""}})).status == 200);
    // 2: half a header section.
    emulator_client half_head(emu.port(), v4_options());
    REQUIRE(half_head.write_all("PUT /demo/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    // 3: half a part body (part 2 of the upload).
    emulator_client half_body(emu.port(), v4_options());
    {
        auto r = make(http::verb::put, "demo", "up", {{"partNumber", "2"}, {"uploadId", id}});
        const auto body = random_bytes(1024 * 1024, 79);
        r.set_body_view(body);
        half_body.prepare(r);
        REQUIRE(half_body.write_all(http::serialize_head(r)));
        REQUIRE(half_body.write_all(std::string_view(body).substr(0, body.size() / 2)));
    }
    // 4: a GET of 8 MiB that the client never reads (the server blocks in its write).
    emulator_client stuck_get(emu.port(), v4_options());
    {
        auto r = make(http::verb::get, "demo", "big");
        stuck_get.prepare(r);
        REQUIRE(stuck_get.write_all(http::serialize_head(r)));
    }
    // 5: a HEAD stalled by the fault injector for 60 s.
    emulator_client stalled(emu.port(), v4_options());
    {
        auto r = make(http::verb::head, "demo", "big");
        stalled.prepare(r);
        REQUIRE(stalled.write_all(http::serialize_head(r)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300)); // let the server take them in
    CHECK(stalled.read_some(std::chrono::milliseconds(50)).empty());

    const auto t0 = std::chrono::steady_clock::now();
    int status = emu.stop();
    const auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    // The drain finishes on its own (main.cpp's 5 s io.stop() fallback never fires).
    CHECK(took < std::chrono::seconds(3));
    CHECK(idle.wait_closed(std::chrono::seconds(1)));
    CHECK(half_head.wait_closed(std::chrono::seconds(1)));
    CHECK(half_body.wait_closed(std::chrono::seconds(1)));
    CHECK(stalled.wait_closed(std::chrono::seconds(1)));
    // Nothing half-written is left, and what was stored is intact after a restart.
    CHECK(regular_files_in(dir.path + "/.tmp") == 0);

    emulator_process again(default_args({"--threads", "2", "--storage", "dir:" + dir.path}));
    emulator_client c(again.port(), v4_options());
    auto g = c.send(make(http::verb::get, "demo", "big"));
    REQUIRE(g.status == 200);
    CHECK(g.body == big);
    auto lp = c.send(make(http::verb::get, "demo", "up", {{"uploadId", id}}));
    REQUIRE(lp.status == 200);
    CHECK(count_of(lp.body, "<Part>") == 1);
    CHECK(xml_text(lp.body, "ETag") == quoted_md5(p1));
}

// The sink reads at most 64 KiB per call and takes up to 16 reads in a row of bytes already
// in the socket before it goes back to the io_context: with one I/O thread and three 3 MiB
// bodies (48+ reads each) streaming at once, reads straight from the socket, the burst limit
// and waits in the io_context interleave across the connections. Each part must still be
// counted and hashed exactly.
TEST_CASE("emulator sink on one thread takes three large bodies at once", "[emulator][threads]") {
    emulator_process emu(default_args({"--threads", "1", "--storage", "sink"}));
    emulator_client main_client(emu.port(), v4_options());
    uploader up{main_client, "demo", "sink/big.bin"};
    const std::string id = up.initiate();
    REQUIRE(id.size() == 32);

    constexpr int streams = 3;
    std::vector<std::string> parts;
    for (int n = 1; n <= streams; ++n)
        parts.push_back(random_bytes(3 * 1024 * 1024 + static_cast<std::size_t>(n) * 4099,
                                     7000u + static_cast<unsigned>(n)));
    std::vector<http::response> replies(streams);
    std::vector<std::string> failures(streams);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < streams; ++t)
        threads.emplace_back([&, t] {
            try {
                emulator_client c(emu.port(), v4_options());
                c.connect();
                ++ready;
                while (ready.load() < streams) // start together
                    std::this_thread::yield();
                uploader u{c, "demo", "sink/big.bin"};
                replies[static_cast<std::size_t>(t)] =
                    u.part(id, t + 1, parts[static_cast<std::size_t>(t)]);
            } catch (const std::exception& e) {
                failures[static_cast<std::size_t>(t)] = e.what();
            }
        });
    for (auto& th : threads)
        th.join();

    std::string all;
    std::vector<std::pair<int, std::string>> complete_list;
    for (int t = 0; t < streams; ++t) {
        INFO("part " << t + 1);
        const auto& data = parts[static_cast<std::size_t>(t)];
        const auto& r = replies[static_cast<std::size_t>(t)];
        CHECK(failures[static_cast<std::size_t>(t)].empty());
        REQUIRE(r.status == 200);
        CHECK(r.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(data)));
        complete_list.emplace_back(t + 1, std::string(r.headers.get("ETag")));
        all += data;
    }
    auto lp = main_client.send(make(http::verb::get, "demo", up.key, {{"uploadId", id}}));
    REQUIRE(lp.status == 200);
    auto listed = listed_parts(lp.body);
    REQUIRE(listed.size() == static_cast<std::size_t>(streams));
    for (int n = 1; n <= streams; ++n) {
        INFO("listed part " << n);
        const auto& data = parts[static_cast<std::size_t>(n - 1)];
        CHECK(listed[n].size == std::to_string(data.size()));
        CHECK(listed[n].crc == crc64_to_string(crc64(data)));
    }
    auto rc = up.complete(id, complete_body(complete_list));
    REQUIRE(rc.status == 200);
    CHECK(rc.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(all)));
    auto h = main_client.send(make(http::verb::head, "demo", up.key));
    CHECK(h.headers.get("Content-Length") == std::to_string(all.size()));
}
