// Integration tests of ossmp-emulator's `dir:` and `sink` storage and of fault injection.
#include "emulator_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

using namespace ossmp;
using namespace ossmp::test;
using namespace ossmp::test::emulator_test;

namespace {

struct temp_dir {
    std::string path;
    temp_dir() {
        char tmpl[] = "/tmp/ossmp-emulator-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

std::size_t files_in(const std::string& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
        n += e.is_regular_file() ? 1 : 0;
    return n;
}

} // namespace

TEST_CASE("emulator dir storage survives a restart", "[emulator][storage]") {
    temp_dir dir;
    const auto args = default_args({"--storage", "dir:" + dir.path});
    const auto simple = random_bytes(3000, 21);
    const auto p1 = random_bytes(100 * 1024, 22);
    const auto p2 = random_bytes(777, 23);
    const std::string key = "dir/ü name+1";
    std::string in_progress;
    std::string done_etag;
    {
        emulator_process emu(args);
        emulator_client c(emu.port(), v4_options());
        auto put = make(http::verb::put, "demo", "simple");
        put.headers.add("Content-Type", "text/plain");
        put.headers.add("x-oss-meta-owner", "me");
        put.set_body_view(simple);
        REQUIRE(c.send(std::move(put)).status == 200);

        uploader done{c, "demo", "done"};
        auto id = done.initiate();
        REQUIRE(done.part(id, 1, p1).status == 200);
        REQUIRE(done.part(id, 2, p2).status == 200);
        auto rc = done.complete(id, complete_body({{1, quoted_md5(p1)}, {2, quoted_md5(p2)}}));
        REQUIRE(rc.status == 200);
        done_etag = std::string(rc.headers.get("ETag"));

        uploader up{c, "demo", key};
        in_progress = up.initiate();
        REQUIRE(up.part(in_progress, 2, p2).status == 200);
        REQUIRE(up.part(in_progress, 1, random_bytes(10, 1)).status == 200);
        REQUIRE(up.part(in_progress, 1, p1).status == 200); // overwrite: old file goes
        // Overwriting an object replaces its file.
        auto put2 = make(http::verb::put, "demo", "simple");
        put2.headers.add("Content-Type", "text/plain");
        put2.headers.add("x-oss-meta-owner", "me");
        put2.set_body_view(simple);
        REQUIRE(c.send(std::move(put2)).status == 200);
        CHECK(emu.stop() == 0);
    }
    // objects: 2 x (.meta + .data); upload: upload.meta + 2 x (.meta + .data)
    CHECK(files_in(dir.path + "/demo/objects") == 4);
    CHECK(files_in(dir.path + "/demo/uploads") == 5);
    CHECK(files_in(dir.path + "/.tmp") == 0);

    emulator_process emu(args);
    emulator_client c(emu.port(), v4_options());
    auto g = c.send(make(http::verb::get, "demo", "simple"));
    REQUIRE(g.status == 200);
    CHECK(g.body == simple);
    CHECK(g.headers.get("Content-Type") == "text/plain");
    CHECK(g.headers.get("x-oss-meta-owner") == "me");
    CHECK(g.headers.get("ETag") == quoted_md5(simple));
    auto d = c.send(make(http::verb::get, "demo", "done"));
    CHECK(d.body == p1 + p2);
    CHECK(d.headers.get("ETag") == done_etag);
    CHECK(d.headers.get("x-oss-object-type") == "Multipart");

    auto lu = c.send(make(http::verb::get, "demo", "", {{"uploads", ""}}));
    CHECK(xml_text(lu.body, "UploadId") == in_progress);
    auto lp = c.send(make(http::verb::get, "demo", key, {{"uploadId", in_progress}}));
    CHECK(count_of(lp.body, "<Part>") == 2);
    CHECK(xml_text(lp.body, "ETag") == quoted_md5(p1));
    uploader up{c, "demo", key};
    auto rc = up.complete(in_progress, complete_body({{1, quoted_md5(p1)}, {2, quoted_md5(p2)}}));
    REQUIRE(rc.status == 200);
    CHECK(c.send(make(http::verb::get, "demo", key)).body == p1 + p2);
    CHECK(files_in(dir.path + "/demo/uploads") == 0);
    CHECK(c.send(make(http::verb::delete_, "demo", "simple")).status == 204);
    CHECK(files_in(dir.path + "/demo/objects") == 4); // done + key
}

TEST_CASE("emulator dir storage never exposes a half-written object", "[emulator][storage]") {
    temp_dir dir;
    emulator_process emu(
        default_args({"--storage", "dir:" + dir.path, "--faults", "Put@2=reset-mid"}));
    emulator_client c(emu.port(), v4_options());
    const auto first = random_bytes(1000, 1);
    auto put = make(http::verb::put, "demo", "obj");
    put.set_body_view(first);
    REQUIRE(c.send(std::move(put)).status == 200);
    const auto second = random_bytes(4 * 1024 * 1024, 2);
    auto put2 = make(http::verb::put, "demo", "obj");
    put2.set_body_view(second);
    c.prepare(put2);
    emulator_client raw(emu.port(), v4_options());
    std::string head = http::serialize_head(put2);
    bool wrote = raw.write_all(head) && raw.write_all(second);
    (void)wrote; // the server resets halfway: the write may fail
    CHECK(raw.wait_closed(std::chrono::seconds(5)));
    auto g = c.send(make(http::verb::get, "demo", "obj"));
    CHECK(g.body == first);
    CHECK(files_in(dir.path + "/.tmp") == 0);
}

TEST_CASE("emulator sink storage keeps sizes and checksums only", "[emulator][storage]") {
    emulator_process emu(default_args({"--storage", "sink"}));
    emulator_client c(emu.port(), v4_options());
    const auto data = random_bytes(300 * 1024, 5);
    auto put = make(http::verb::put, "demo", "s");
    put.set_body_view(data);
    auto pr = c.send(std::move(put));
    REQUIRE(pr.status == 200);
    CHECK(pr.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(data)));
    // The ETag is the documented stand-in, not the MD5 (no MD5 is computed).
    auto etag = std::string(pr.headers.get("ETag"));
    CHECK(etag.size() == 34);
    CHECK(etag != quoted_md5(data));
    CHECK_FALSE(pr.headers.contains("Content-MD5"));
    // With Content-MD5 the MD5 is computed, checked and used.
    auto put2 = make(http::verb::put, "demo", "s2");
    put2.set_body_view(data);
    put2.headers.add("Content-MD5", crypto::base64_encode(crypto::md5(data)));
    auto pr2 = c.send(std::move(put2));
    CHECK(pr2.headers.get("ETag") == quoted_md5(data));
    auto put3 = make(http::verb::put, "demo", "s3");
    put3.set_body_view(data);
    put3.headers.add("Content-MD5", crypto::base64_encode(crypto::md5("x")));
    check_error(c.send(std::move(put3)), 400, "InvalidDigest");

    auto h = c.send(make(http::verb::head, "demo", "s"));
    CHECK(h.status == 200);
    CHECK(h.headers.get("Content-Length") == std::to_string(data.size()));
    CHECK(h.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(data)));
    check_error(c.send(make(http::verb::get, "demo", "s")), 501, "NotImplemented");

    uploader up{c, "demo", "mp"};
    auto id = up.initiate();
    auto r1 = up.part(id, 1, data);
    auto r2 = up.part(id, 2, "end");
    auto rc = up.complete(id, complete_body({{1, std::string(r1.headers.get("ETag"))},
                                             {2, std::string(r2.headers.get("ETag"))}}));
    REQUIRE(rc.status == 200);
    CHECK(rc.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(data + "end")));
    CHECK(rc.headers.get("ETag").ends_with("-2\""));
}

// A client that hangs up halfway through a body (sent after the header section, so the
// emulator is reading it straight from the socket) leaves nothing behind in any storage: no
// part, no object, no temp file, and the emulator keeps serving.
TEST_CASE("emulator stores nothing when the client hangs up halfway through a body",
          "[emulator][storage]") {
    temp_dir dir;
    const std::string storage = GENERATE(as<std::string>{}, "memory", "sink", "dir");
    INFO("storage " << storage);
    emulator_process emu(
        default_args({"--storage", storage == "dir" ? "dir:" + dir.path : storage}));
    emulator_client c(emu.port(), v4_options());
    uploader up{c, "demo", "cut"};
    const std::string id = up.initiate();
    const auto body = random_bytes(4 * 1024 * 1024, 31);
    const std::string_view half(body.data(), body.size() / 2);

    auto part = make(http::verb::put, "demo", "cut", {{"partNumber", "1"}, {"uploadId", id}});
    part.set_body_view(body);
    auto put = make(http::verb::put, "demo", "cut-object");
    put.set_body_view(body);
    for (auto* req : {&part, &put}) {
        emulator_client cut(emu.port(), v4_options());
        cut.prepare(*req);
        REQUIRE(cut.write_all(http::serialize_head(*req)));
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // head parsed first
        REQUIRE(cut.write_all(half));
        cut.disconnect();
    }

    auto lp = c.send(make(http::verb::get, "demo", "cut", {{"uploadId", id}}));
    REQUIRE(lp.status == 200);
    CHECK(count_of(lp.body, "<Part>") == 0);
    check_error(c.send(make(http::verb::get, "demo", "cut-object")), 404, "NoSuchKey");
    if (storage == "dir") { // the emulator drops the temp files once it sees the hang-up
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (files_in(dir.path + "/.tmp") != 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        CHECK(files_in(dir.path + "/.tmp") == 0);
    }
    // Still serving: the same part uploads whole.
    CHECK(up.part(id, 1, body).headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(body)));
}

TEST_CASE("emulator fault injection", "[emulator][faults]") {
    SECTION("@N answers 500 once and stores nothing") {
        emulator_process emu(default_args({"--faults", "UploadPart@2=500,Abort@1=503"}));
        emulator_client c(emu.port(), v4_options());
        uploader up{c, "demo", "f"};
        auto id = up.initiate();
        CHECK(up.part(id, 1, "a").status == 200);
        check_error(up.part(id, 2, "b"), 500, "InternalError");
        CHECK(up.part(id, 3, "c").status == 200);
        auto lp = c.send(make(http::verb::get, "demo", "f", {{"uploadId", id}}));
        CHECK(count_of(lp.body, "<Part>") == 2);
        CHECK(lp.body.find("<PartNumber>2</PartNumber>") == std::string::npos);
        check_error(c.send(make(http::verb::delete_, "demo", "f", {{"uploadId", id}})), 503,
                    "ServiceUnavailable");
        CHECK(c.send(make(http::verb::get, "demo", "f", {{"uploadId", id}})).status == 200);
        CHECK(c.send(make(http::verb::delete_, "demo", "f", {{"uploadId", id}})).status == 204);
    }
    SECTION("slowdown, skew on any operation") {
        emulator_process emu(default_args({"--faults", "*@1=slowdown,Head@1=skew"}));
        emulator_client c(emu.port(), v4_options());
        check_error(c.send(make(http::verb::get, "demo", "x")), 503, "SlowDown");
        auto h = c.send(make(http::verb::head, "demo", "x"));
        CHECK(h.status == 403);
        auto xml = crypto::base64_decode(h.headers.get("x-oss-err"));
        REQUIRE(xml);
        CHECK(xml_text(*xml, "Code") == "RequestTimeTooSkewed");
        CHECK(c.send(make(http::verb::head, "demo", "x")).status == 404);
    }
    SECTION("reset closes before replying, state unchanged") {
        emulator_process emu(default_args({"--faults", "Put@1=reset"}));
        emulator_client c(emu.port(), v4_options());
        auto put = make(http::verb::put, "demo", "r");
        put.set_body("data");
        c.prepare(put);
        REQUIRE(c.write_all(http::serialize_head(put) + "data"));
        std::error_code ec;
        (void)c.read_response(false, ec);
        CHECK(ec);
        check_error(c.send(make(http::verb::get, "demo", "r")), 404, "NoSuchKey");
    }
    SECTION("bad-crc stores the part and lies about it") {
        emulator_process emu(default_args({"--faults", "UploadPart@1=bad-crc"}));
        emulator_client c(emu.port(), v4_options());
        uploader up{c, "demo", "b"};
        auto id = up.initiate();
        auto r = up.part(id, 1, "hello");
        REQUIRE(r.status == 200);
        CHECK(r.headers.get("x-oss-hash-crc64ecma") != crc64_to_string(crc64("hello")));
        auto lp = c.send(make(http::verb::get, "demo", "b", {{"uploadId", id}}));
        CHECK(xml_text(lp.body, "HashCrc64ecma") == crc64_to_string(crc64("hello")));
    }
    SECTION("truncate cuts the response and changes nothing") {
        emulator_process emu(default_args({"--faults", "Get@1=truncate,Put@2=truncate"}));
        emulator_client c(emu.port(), v4_options());
        const auto data = random_bytes(10000, 3);
        auto put = make(http::verb::put, "demo", "t");
        put.set_body_view(data);
        REQUIRE(c.send(std::move(put)).status == 200);
        auto g = make(http::verb::get, "demo", "t");
        c.prepare(g);
        REQUIRE(c.write_all(http::serialize_head(g)));
        std::error_code ec;
        (void)c.read_response(false, ec);
        CHECK(ec == make_error_code(errc::unexpected_eof));
        c.disconnect();
        auto put2 = make(http::verb::put, "demo", "t");
        put2.set_body("replaced?");
        c.prepare(put2);
        REQUIRE(c.write_all(http::serialize_head(put2) + "replaced?"));
        (void)c.read_response(false, ec);
        CHECK(ec);
        c.disconnect();
        CHECK(c.send(make(http::verb::get, "demo", "t")).body == data);
    }
    SECTION("stall answers nothing, then closes") {
        emulator_process emu(default_args({"--faults", "Get@1=stall=1"}));
        emulator_client c(emu.port(), v4_options());
        auto g = make(http::verb::get, "demo", "t");
        c.prepare(g);
        REQUIRE(c.write_all(http::serialize_head(g)));
        auto start = std::chrono::steady_clock::now();
        CHECK(c.read_some(std::chrono::milliseconds(500)).empty());
        CHECK(c.wait_closed(std::chrono::seconds(5)));
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(900));
    }
    SECTION("%P is seeded and reproducible") {
        auto pattern = [](std::string seed) {
            emulator_process emu(default_args({"--faults", "Get%50=500", "--faults-seed", seed}));
            emulator_client c(emu.port(), v4_options());
            std::string p;
            for (int i = 0; i < 40; ++i)
                p += c.send(make(http::verb::get, "demo", "x")).status == 500 ? '1' : '0';
            return p;
        };
        auto a = pattern("7");
        CHECK(a == pattern("7"));
        auto ones = std::count(a.begin(), a.end(), '1');
        CHECK(ones >= 8);
        CHECK(ones <= 32);
        CHECK(a != pattern("8"));
    }
    SECTION("a bad spec refuses to start") {
        CHECK_THROWS(
            emulator_process(default_args({"--faults", "Bogus@1=500"}), std::chrono::seconds(5)));
        CHECK_THROWS(
            emulator_process(default_args({"--faults", "Put@0=500"}), std::chrono::seconds(5)));
        CHECK_THROWS(
            emulator_process(default_args({"--faults", "Put=explode"}), std::chrono::seconds(5)));
    }
}
