// The `ossmp` CLI against ossmp-emulator: the "Must show" scenario (a 3-part object of
// 100 KiB, 100 KiB and 1 byte uploaded, listed, completed and read back byte-identical with V4
// and V1, path-style and virtual-hosted through --connect-to; a wrong ETag exits 1 naming
// InvalidPart), plus exit codes, --help on every command and secrets never printed.
#include "support/cli_process.hpp"
#include "support/emulator_process.hpp"

#include "ossmp/version.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using ossmp::test::cat;
using ossmp::test::json_field;
using ossmp::test::lines_of;
using ossmp::test::pattern;
using ossmp::test::read_file;
using ossmp::test::temp_dir;
using ossmp::test::write_file;

constexpr std::string_view secret = "cli-test-secret-0123456789"; // must never be printed
constexpr std::string_view bucket = "cli-bucket";

// Runs the CLI; whatever happened, the secret was never printed.
ossmp::test::cli_result run_checked(const temp_dir& dir, const std::vector<std::string>& args,
                                    std::optional<std::string> stdin_data = std::nullopt) {
    auto r = ossmp::test::run_cli(dir, args, std::move(stdin_data));
    CHECK(r.out.find(secret) == std::string::npos);
    CHECK(r.err.find(secret) == std::string::npos);
    return r;
}

struct cli_env {
    cli_env() {
        ::setenv("OSS_ACCESS_KEY_ID", "cli-ak", 1);
        ::setenv("OSS_ACCESS_KEY_SECRET", std::string(secret).c_str(), 1);
        ::unsetenv("OSS_SESSION_TOKEN");
        ::unsetenv("OSS_ENDPOINT");
        ::unsetenv("OSS_REGION");
    }
};

std::vector<std::string> emulator_args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a{
        "--bucket", std::string(bucket), "--credentials", "cli-ak:" + std::string(secret),
        "--region", "cn-hangzhou",       "--domain",      "oss.localhost"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

// Global options for a configuration.
std::vector<std::string> globals_for(std::uint16_t port, bool v1, bool virtual_hosted) {
    std::vector<std::string> g;
    if (virtual_hosted) {
        g = {"--endpoint",
             "http://oss.localhost:" + std::to_string(port),
             "--connect-to",
             "oss.localhost:127.0.0.1:" + std::to_string(port),
             "--connect-to",
             std::string(bucket) + ".oss.localhost:127.0.0.1:" + std::to_string(port)};
    } else {
        g = {"--endpoint", "http://127.0.0.1:" + std::to_string(port), "--path-style"};
    }
    g.push_back("--region");
    g.push_back("cn-hangzhou");
    g.push_back("--sign");
    g.push_back(v1 ? "v1" : "v4");
    return g;
}

void must_show_scenario(bool v1, bool virtual_hosted) {
    cli_env env;
    temp_dir dir;
    ossmp::test::emulator_process emu(emulator_args());
    const auto g = globals_for(emu.port(), v1, virtual_hosted);
    const std::string key = std::string("must show/") + (v1 ? "v1" : "v4") +
                            (virtual_hosted ? "-vhost" : "-path") + "+obj.bin";
    const std::string url = "oss://" + std::string(bucket) + "/" + key;
    const std::string whole = pattern(100 * 1024, 1) + pattern(100 * 1024, 2) + "!";
    const std::string src = dir.file("source.bin");
    write_file(src, whole);

    // init prints the upload id.
    auto init =
        run_checked(dir, cat(g, {"mpu", "init", url, "--header", "Content-Type: text/x-cli"}));
    REQUIRE(init.exit_code == 0);
    INFO(init.err);
    const std::string upload_id = lines_of(init.out).at(0);
    REQUIRE_FALSE(upload_id.empty());

    // Three parts from one file: 100 KiB, 100 KiB, 1 byte.
    const std::vector<std::pair<std::string, std::string>> ranges = {
        {"0", "102400"}, {"102400", "102400"}, {"204800", "1"}};
    std::vector<std::string> etags;
    for (int n = 1; n <= 3; ++n) {
        std::vector<std::string> args{"mpu",
                                      "put-part",
                                      url,
                                      upload_id,
                                      std::to_string(n),
                                      src,
                                      "--offset",
                                      ranges[n - 1].first,
                                      "--length",
                                      ranges[n - 1].second};
        if (n == 2)
            args.push_back("--md5");
        // Part 1 in text mode (one line `ETAG CRC64`, as scripts/demo parses it), the others
        // with --json.
        const bool json = n != 1;
        auto part = run_checked(dir, cat(json ? cat({"--json"}, g) : g, args));
        INFO(part.err);
        REQUIRE(part.exit_code == 0);
        const auto l = lines_of(part.out);
        REQUIRE(l.size() == 1);
        if (json) {
            etags.push_back(json_field(l[0], "etag"));
            CHECK_FALSE(json_field(l[0], "crc64").empty());
        } else {
            const auto space = l[0].find(' ');
            REQUIRE(space != std::string::npos);
            etags.push_back(l[0].substr(0, space));
            CHECK(l[0].substr(space + 1).find_first_not_of("0123456789") == std::string::npos);
        }
        CHECK(etags.back().size() == 34); // "32 hex digits" with the quotes
    }

    // list-parts: three rows (number, size, ETag, CRC-64, date).
    auto parts = run_checked(dir, cat(g, {"mpu", "list-parts", url, upload_id}));
    REQUIRE(parts.exit_code == 0);
    const auto rows = lines_of(parts.out);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].rfind("1\t102400\t" + etags[0] + "\t", 0) == 0);
    CHECK(rows[1].rfind("2\t102400\t" + etags[1] + "\t", 0) == 0);
    CHECK(rows[2].rfind("3\t1\t" + etags[2] + "\t", 0) == 0);

    // list-uploads with the key as prefix shows the upload.
    auto uploads = run_checked(
        dir, cat(cat({"--json"}, g),
                 {"mpu", "list-uploads", "oss://" + std::string(bucket) + "/" + key.substr(0, 9)}));
    REQUIRE(uploads.exit_code == 0);
    CHECK(uploads.out.find("\"upload_id\":\"" + upload_id + "\"") != std::string::npos);

    // A complete with a wrong ETag fails with exit 1 naming InvalidPart (and RequestId, EC).
    auto wrong = run_checked(
        dir, cat(g, {"mpu", "complete", url, upload_id, "--part", "1:" + etags[0], "--part",
                     "2:\"00000000000000000000000000000000\"", "--part", "3:" + etags[2]}));
    CHECK(wrong.exit_code == 1);
    CHECK(wrong.err.find("InvalidPart") != std::string::npos);
    CHECK(wrong.err.find("RequestId=") != std::string::npos);
    CHECK(wrong.err.find("EC=") != std::string::npos);

    // The right complete (parts in any order).
    auto done =
        run_checked(dir, cat(g, {"mpu", "complete", url, upload_id, "--part", "3:" + etags[2],
                                 "--part", "1:" + etags[0], "--part", "2:" + etags[1]}));
    INFO(done.err);
    REQUIRE(done.exit_code == 0);
    CHECK(done.out.find("etag: ") != std::string::npos);

    // Read back byte-identical, to a file and to stdout.
    const std::string back = dir.file("back.bin");
    auto get = run_checked(dir, cat(g, {"get", url, back}));
    INFO(get.err);
    REQUIRE(get.exit_code == 0);
    CHECK(read_file(back) == whole);
    CHECK(get.out.find("verified: true") != std::string::npos);
    auto get_stdout = run_checked(dir, cat(g, {"get", url, "-"}));
    REQUIRE(get_stdout.exit_code == 0);
    CHECK(get_stdout.out == whole);

    // stat shows the size and the Content-Type given at init.
    auto st = run_checked(dir, cat(cat({"--json"}, g), {"stat", url}));
    REQUIRE(st.exit_code == 0);
    CHECK(st.out.find("\"size\":204801") != std::string::npos);
    CHECK(json_field(st.out, "content_type") == "text/x-cli");

    // The upload is gone after complete.
    auto after = run_checked(dir, cat(g, {"mpu", "list-parts", url, upload_id}));
    CHECK(after.exit_code == 1);
    CHECK(after.err.find("NoSuchUpload") != std::string::npos);

    // put / rm / stat of a removed object.
    auto put = run_checked(dir, cat(g, {"put", src, url + ".copy"}));
    REQUIRE(put.exit_code == 0);
    auto rm = run_checked(dir, cat(g, {"rm", url + ".copy"}));
    CHECK(rm.exit_code == 0);
    auto gone = run_checked(dir, cat(g, {"stat", url + ".copy"}));
    CHECK(gone.exit_code == 1);
    CHECK(gone.err.find("NoSuchKey") != std::string::npos);

    // abort of a new upload, then complete --all of an aborted upload fails.
    auto init2 = run_checked(dir, cat(g, {"mpu", "init", url}));
    REQUIRE(init2.exit_code == 0);
    const std::string upload2 = lines_of(init2.out).at(0);
    CHECK(run_checked(dir, cat(g, {"mpu", "abort", url, upload2})).exit_code == 0);
    auto aborted = run_checked(dir, cat(g, {"mpu", "complete", url, upload2, "--all"}));
    CHECK(aborted.exit_code == 1);
    CHECK(aborted.err.find("NoSuchUpload") != std::string::npos);
}

} // namespace

TEST_CASE("cli: must-show scenario, V4, path-style", "[cli][integration]") {
    must_show_scenario(false, false);
}

TEST_CASE("cli: must-show scenario, V4, virtual-hosted through --connect-to",
          "[cli][integration]") {
    must_show_scenario(false, true);
}

TEST_CASE("cli: must-show scenario, V1, path-style", "[cli][integration]") {
    must_show_scenario(true, false);
}

TEST_CASE("cli: must-show scenario, V1, virtual-hosted through --connect-to",
          "[cli][integration]") {
    must_show_scenario(true, true);
}

TEST_CASE("cli: ossmp --version and ossmp-emulator --version name the library's version",
          "[cli][integration]") {
    cli_env env;
    temp_dir dir;
    const std::string expected = std::string(ossmp::version_string) + "\n";
    auto r = run_checked(dir, {"--version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "ossmp " + expected);
    const std::string cmd = "'" + ossmp::test::emulator_binary() + "' --version";
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    char buf[256];
    while (std::fgets(buf, sizeof buf, p))
        out += buf;
    CHECK(::pclose(p) == 0);
    CHECK(out == "ossmp-emulator " + expected);
}

TEST_CASE("cli: --help on every command, usage errors exit 2", "[cli][integration]") {
    cli_env env;
    temp_dir dir;
    auto top = run_checked(dir, {"--help"});
    CHECK(top.exit_code == 0);
    CHECK(top.out.find("Usage: ossmp") != std::string::npos);
    CHECK(top.out.find("OSS_ACCESS_KEY_SECRET") != std::string::npos); // the name, not the value
    for (std::vector<std::string> cmd : {std::vector<std::string>{"mpu", "init"},
                                         {"mpu", "put-part"},
                                         {"mpu", "complete"},
                                         {"mpu", "abort"},
                                         {"mpu", "list-parts"},
                                         {"mpu", "list-uploads"},
                                         {"put"},
                                         {"get"},
                                         {"stat"},
                                         {"rm"}}) {
        cmd.push_back("--help");
        auto r = run_checked(dir, cmd);
        INFO(cmd[0] << " " << cmd[1]);
        CHECK(r.exit_code == 0);
        std::string name = cmd[0];
        if (cmd.size() == 3)
            name += " " + cmd[1];
        CHECK(r.out.find("Usage: ossmp " + name + " ") != std::string::npos);
    }
    const std::vector<std::string> ep{"--endpoint", "http://127.0.0.1:9", "--region", "r"};
    CHECK(run_checked(dir, {}).exit_code == 2);                               // no command
    CHECK(run_checked(dir, cat(ep, {"frobnicate"})).exit_code == 2);          // unknown command
    CHECK(run_checked(dir, {"--bogus", "stat", "oss://b/k"}).exit_code == 2); // unknown option
    CHECK(run_checked(dir, cat(ep, {"stat"})).exit_code == 2);                // missing argument
    CHECK(run_checked(dir, cat(ep, {"stat", "s3://b/k"})).exit_code == 2);    // not oss://
    CHECK(run_checked(dir, cat(ep, {"mpu", "complete", "oss://b/k", "u"})).exit_code == 2);
    CHECK(run_checked(dir, cat(ep, {"--sign", "v2", "stat", "oss://b/k"})).exit_code == 2);
    CHECK(run_checked(dir, {"stat", "oss://bucket/k"}).exit_code == 2); // no endpoint
    auto bad_bucket = run_checked(dir, cat(ep, {"stat", "oss://B_ad/k"}));
    CHECK(bad_bucket.exit_code == 2);
    CHECK(bad_bucket.err.find("invalid bucket name") != std::string::npos);
    auto bad_part =
        run_checked(dir, cat(ep, {"mpu", "put-part", "oss://bucket/k", "u", "0", "/dev/null"}));
    CHECK(bad_part.exit_code == 2);
    // A network error is exit 1 (nothing listens on port 9 of loopback).
    auto refused = run_checked(dir, cat(ep, {"stat", "oss://bucket/k"}));
    CHECK(refused.exit_code == 1);
    // --json errors are JSON too.
    auto json_err = run_checked(dir, cat(cat({"--json"}, ep), {"stat"}));
    CHECK(json_err.exit_code == 2);
    CHECK(json_err.err.rfind("{\"error\":", 0) == 0);
}

TEST_CASE("cli: a CRC-64 mismatch is an integrity error, exit 3", "[cli][integration]") {
    cli_env env;
    temp_dir dir;
    ossmp::test::emulator_process emu(
        emulator_args({"--faults", "UploadPart=bad-crc,Get=bad-crc"}));
    const auto g = globals_for(emu.port(), false, false);
    const std::string url = "oss://" + std::string(bucket) + "/crc";
    const std::string src = dir.file("src");
    write_file(src, pattern(1000, 3));
    auto init = run_checked(dir, cat(g, {"mpu", "init", url}));
    REQUIRE(init.exit_code == 0);
    auto part =
        run_checked(dir, cat(g, {"mpu", "put-part", url, lines_of(init.out).at(0), "1", src}));
    CHECK(part.exit_code == 3);
    CHECK(part.err.find("CRC-64 mismatch") != std::string::npos);
    REQUIRE(run_checked(dir, cat(g, {"put", src, url})).exit_code == 0);
    const std::string back = dir.file("back");
    auto get = run_checked(dir, cat(g, {"get", url, back}));
    CHECK(get.exit_code == 3);
    CHECK(::access(back.c_str(), F_OK) != 0); // nothing left behind
    CHECK(ossmp::test::list_dir(dir.path()) ==
          std::vector<std::string>{"src", "stderr", "stdout"}); // no temporary file either
}
