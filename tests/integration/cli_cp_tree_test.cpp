// `ossmp cp -r DIR oss://BUCKET/PREFIX/` against ossmp-emulator over real sockets: a tree of
// small, empty, multipart and oddly named files becomes PREFIX/relative/path (each read back
// byte for byte); links, pipes and loops are skipped (or links followed when asked); a file that
// cannot be uploaded fails alone (exit 1, the others complete); Ctrl-C keeps the uploads with
// their checkpoints and the same command resumes them; what cp -r refuses; one progress bar.
#include "support/cli_process.hpp"
#include "support/emulator_process.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using ossmp::test::cat;
using ossmp::test::cli_globals;
using ossmp::test::cli_process;
using ossmp::test::json_field;
using ossmp::test::lines_of;
using ossmp::test::pattern;
using ossmp::test::read_file;
using ossmp::test::run_cli;
using ossmp::test::temp_dir;
using ossmp::test::write_file;

constexpr std::string_view bucket = "tree-bucket";

// Credentials for the emulator, and a state directory of the test's own for the checkpoints.
struct env_guard {
    temp_dir state;
    env_guard() {
        ::setenv("XDG_STATE_HOME", state.path().c_str(), 1);
        ::setenv("OSS_ACCESS_KEY_ID", "tree-ak", 1);
        ::setenv("OSS_ACCESS_KEY_SECRET", "tree-secret", 1);
        ::unsetenv("OSS_SESSION_TOKEN");
        ::unsetenv("OSS_ENDPOINT");
        ::unsetenv("OSS_REGION");
    }
};

std::vector<std::string> emulator_args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"--bucket",      std::string(bucket),
                               "--credentials", "tree-ak:tree-secret",
                               "--region",      "cn-hangzhou"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

std::string url(std::string_view key) {
    return "oss://" + std::string(bucket) + "/" + std::string(key);
}

// The uploads in progress in the bucket (one line each).
std::vector<std::string> uploads(const std::vector<std::string>& g) {
    temp_dir dir;
    auto r = run_cli(dir, cat(g, {"mpu", "list-uploads", "oss://" + std::string(bucket)}));
    REQUIRE(r.exit_code == 0);
    return lines_of(r.out);
}

// The object's bytes, read back with `ossmp get`.
std::string object(const std::vector<std::string>& g, const std::string& key) {
    temp_dir dir;
    const auto back = dir.file("back");
    auto r = run_cli(dir, cat(g, {"get", url(key), back}));
    INFO(key << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    return read_file(back);
}

// cp -r's JSON lines by status: file (as listed) -> the line.
std::map<std::string, std::string> by_status(const std::string& out, std::string_view status) {
    std::map<std::string, std::string> m;
    for (const auto& line : lines_of(out))
        if (json_field(line, "status") == status)
            m[json_field(line, "file")] = line;
    return m;
}

// A number field of a JSON line, as text ("" when absent).
std::string number(std::string_view line, std::string_view name) {
    const std::string pat = "\"" + std::string(name) + "\":";
    const auto pos = line.find(pat);
    if (pos == std::string_view::npos)
        return {};
    const auto start = pos + pat.size();
    const auto end = line.find_first_not_of("0123456789", start);
    return std::string(line.substr(start, end - start));
}

std::string summary(const std::string& out) {
    for (const auto& line : lines_of(out))
        if (line.find("\"summary\":true") != std::string::npos)
            return line;
    return {};
}

} // namespace

TEST_CASE("cp -r: every regular file becomes PREFIX/relative/path, read back byte for byte",
          "[cli][cp][tree][integration]") {
    env_guard env;
    temp_dir dir;
    ossmp::test::emulator_process emu(emulator_args());
    const auto g = cli_globals(emu.port());
    const std::string root = dir.file("tree");
    for (const char* d : {"", "/a", "/a/b", "/dir x", "/empty-dir"})
        REQUIRE(::mkdir((root + d).c_str(), 0700) == 0);
    const std::map<std::string, std::string> files{
        {"top.txt", pattern(1000, 1)},
        {"a/b/deep.bin", pattern(3u << 20, 2) + "tail"}, // 4 parts of 1 MiB
        {"a/empty", ""},
        {"dir x/é + 100%.txt", pattern(5000, 3)},
        {"a/b/two.bin", pattern((1u << 20) + 1, 4)}, // 2 parts
    };
    for (const auto& [rel, bytes] : files)
        write_file(root + "/" + rel, bytes);
    // Not uploaded: a link to a file, a link to a directory above (a loop when followed), a
    // dangling link and a pipe.
    REQUIRE(::symlink((root + "/top.txt").c_str(), (root + "/a/link.txt").c_str()) == 0);
    REQUIRE(::symlink(root.c_str(), (root + "/a/b/up").c_str()) == 0);
    REQUIRE(::symlink("/nonexistent/x", (root + "/dangling").c_str()) == 0);
    REQUIRE(::mkfifo((root + "/pipe").c_str(), 0600) == 0);

    auto r =
        run_cli(dir, cat(g, {"--json", "cp", "-r", root, url("pre"), "--jobs", "3", "--part-size",
                             "1M", "--parallel", "2", "--memory-budget", "3M"}));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const auto uploaded = by_status(r.out, "uploaded");
    CHECK(uploaded.size() == files.size());
    for (const auto& [rel, bytes] : files) {
        INFO(rel);
        const auto it = uploaded.find(root + "/" + rel);
        REQUIRE(it != uploaded.end());
        CHECK(json_field(it->second, "key") == "pre/" + rel);
        CHECK(it->second.find("\"verified\":true") != std::string::npos);
        CHECK(object(g, "pre/" + rel) == bytes);
    }
    CHECK(number(uploaded.at(root + "/a/b/deep.bin"), "parts") == "4");
    CHECK(number(uploaded.at(root + "/top.txt"), "parts") == "0"); // one PutObject
    const auto skipped = by_status(r.out, "skipped");
    CHECK(skipped.size() == 4);
    CHECK(skipped.count(root + "/a/link.txt"));
    CHECK(skipped.count(root + "/a/b/up"));
    CHECK(skipped.count(root + "/dangling"));
    CHECK(json_field(skipped.at(root + "/pipe"), "reason") == "a pipe");
    const auto s = summary(r.out);
    CHECK(number(s, "uploaded") == "5");
    CHECK(number(s, "failed") == "0");
    CHECK(number(s, "skipped") == "4");
    CHECK(uploads(g).empty());
    // Every upload ended: no checkpoint is left.
    CHECK(ossmp::test::list_dir(env.state.file("ossmp")).empty());

    // --follow-symlinks: the link to a file is uploaded (as its own name); the link back up is
    // a loop and is skipped; the dangling link is skipped. Text output: a line per file, then
    // the summary.
    auto f = run_cli(dir, cat(g, {"cp", "-r", root + "/", url("follow/"), "--follow-symlinks"}));
    INFO(f.out << f.err);
    REQUIRE(f.exit_code == 0);
    CHECK(object(g, "follow/a/link.txt") == files.at("top.txt"));
    CHECK(f.err.find("a/b/up: a link to a directory that contains it (a loop)") !=
          std::string::npos);
    CHECK(f.out.find("upload: " + root + "/a/link.txt -> " + url("follow/a/link.txt")) !=
          std::string::npos);
    CHECK(f.out.find("6 of 6 files uploaded") != std::string::npos);
    CHECK(f.out.find("0 failed") != std::string::npos);

    // A prefix-less destination: keys are the relative paths.
    auto b = run_cli(dir, cat(g, {"cp", "-r", root + "/a/b", url("")}));
    INFO(b.err);
    REQUIRE(b.exit_code == 0);
    CHECK(object(g, "two.bin") == files.at("a/b/two.bin"));
}

TEST_CASE("cp -r: a file that cannot be uploaded fails alone, the others complete (exit 1)",
          "[cli][cp][tree][integration]") {
    env_guard env;
    temp_dir dir;
    ossmp::test::emulator_process emu(emulator_args());
    const auto g = cli_globals(emu.port());
    const std::string root = dir.file("tree");
    REQUIRE(::mkdir(root.c_str(), 0700) == 0);
    write_file(root + "/good-1", pattern(2000, 5));
    write_file(root + "/bad-\xff.bin", pattern(2000, 6)); // not UTF-8: no key can name it
    write_file(root + "/good-2", pattern(3000, 7));
    auto r = run_cli(dir, cat(g, {"--json", "cp", "-r", root, url("p"), "--jobs", "1"}));
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(by_status(r.out, "uploaded").size() == 2);
    const auto failed = by_status(r.out, "failed");
    REQUIRE(failed.size() == 1);
    CHECK(failed.begin()->second.find("cannot name an object after it") != std::string::npos);
    CHECK(number(summary(r.out), "failed") == "1");
    CHECK(object(g, "p/good-1") == pattern(2000, 5));
    CHECK(object(g, "p/good-2") == pattern(3000, 7));

    // Text: the failure on stderr with the file's name, the summary says it.
    auto t = run_cli(dir, cat(g, {"cp", "-r", root, url("t")}));
    CHECK(t.exit_code == 1);
    CHECK(t.err.find("cannot name an object after it") != std::string::npos);
    CHECK(t.out.find("2 of 3 files uploaded") != std::string::npos);
    CHECK(t.out.find("1 failed") != std::string::npos);
}

TEST_CASE("cp -r: Ctrl-C keeps the uploads with their checkpoints; the same command resumes",
          "[cli][cp][tree][integration]") {
    env_guard env;
    temp_dir dir;
    ossmp::test::emulator_process emu(emulator_args());
    const auto g = cli_globals(emu.port());
    const std::string root = dir.file("tree");
    REQUIRE(::mkdir(root.c_str(), 0700) == 0);
    const std::string one = pattern(4u << 20, 8), two = pattern((3u << 20) + 7, 9);
    write_file(root + "/one", one);
    write_file(root + "/two", two);
    // 7 MiB at 1 MiB/s, one part of each file at a time: several seconds in all.
    const std::vector<std::string> command =
        cat(g, {"cp", "-r", root, url("r/"), "--part-size", "1M", "--jobs", "2", "--parallel", "1",
                "--rate-limit", "1M/s"});
    {
        cli_process p(dir, command);
        // Interrupt once each of the two uploads holds a part.
        bool started = false;
        for (int i = 0; i < 200 && !started; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            const auto ups = uploads(g);
            started = ups.size() == 2;
            for (const auto& line : ups) {
                const auto tab = line.find('\t');
                const auto id = line.substr(tab + 1, line.find('\t', tab + 1) - tab - 1);
                temp_dir tmp;
                started = started && !lines_of(run_cli(tmp, cat(g, {"mpu", "list-parts",
                                                                    url(line.substr(0, tab)), id}))
                                                   .out)
                                          .empty();
            }
        }
        REQUIRE(started);
        p.signal(SIGINT);
        auto r = p.wait(std::chrono::seconds(20));
        INFO(r.out << r.err);
        CHECK(r.exit_code == 130);
        CHECK(r.err.find("kept with their checkpoints") != std::string::npos);
        CHECK(r.out.find("2 interrupted") != std::string::npos);
    }
    CHECK(uploads(g).size() == 2);
    CHECK(ossmp::test::list_dir(env.state.file("ossmp")).size() == 2);

    auto r = run_cli(dir, command);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    // Both files resumed: each line says how many of its parts were already there.
    CHECK(r.out.find("/one -> " + url("r/one")) != std::string::npos);
    CHECK(lines_of(r.out).size() == 3);
    for (const auto& line : lines_of(r.out))
        if (line.starts_with("upload: "))
            CHECK(line.find("parts reused") != std::string::npos);
    CHECK(r.out.find("2 of 2 files uploaded") != std::string::npos);
    CHECK(object(g, "r/one") == one);
    CHECK(object(g, "r/two") == two);
    CHECK(uploads(g).empty());
    CHECK(ossmp::test::list_dir(env.state.file("ossmp")).empty());
}

TEST_CASE("cp -r: what it refuses, before sending anything", "[cli][cp][tree][integration]") {
    env_guard env;
    temp_dir dir;
    ossmp::test::emulator_process emu(emulator_args());
    const auto g = cli_globals(emu.port());
    const std::string root = dir.file("tree");
    REQUIRE(::mkdir(root.c_str(), 0700) == 0);
    write_file(root + "/f", "x");
    struct refused {
        std::vector<std::string> args;
        std::string says;
    };
    for (const auto& c : std::vector<refused>{
             {{"cp", "-r", root + "/f", url("k/")}, "Not a directory"},
             {{"cp", "-r", root + "/none", url("k/")}, "No such file"},
             {{"cp", "-r", root, url("k/"), "--checkpoint", dir.file("c")}, "--checkpoint"},
             {{"cp", "-r", root, url("k/"), "--jobs", "0"}, "--jobs"},
             {{"cp", "-r", root, url("k/"), "--jobs", "65"}, "--jobs"},
             {{"cp", "-r", root, url("k/"), "--memory-budget", "10K"}, "--memory-budget"},
             {{"cp", "-r", root, url("/k/")}, "cannot start with '/'"},
             {{"cp", "-r", url("k/"), root}, "downloading a prefix"},
             {{"cp", "-r", "-", url("k/")}, "not stdin"},
             {{"cp", root + "/f", url("k"), "--jobs", "2"}, "go with -r"},
             {{"cp", root + "/f", url("k"), "--follow-symlinks"}, "go with -r"},
         }) {
        INFO(c.args[1] << " " << c.args[2]);
        auto r = run_cli(dir, cat(g, c.args));
        CHECK(r.exit_code == 2);
        CHECK(r.err.find(c.says) != std::string::npos);
    }
    CHECK(uploads(g).empty());
}

TEST_CASE("cp -r --progress: one bar for the whole tree", "[cli][cp][tree][integration]") {
    env_guard env;
    temp_dir dir;
    ossmp::test::emulator_process emu(emulator_args());
    const auto g = cli_globals(emu.port());
    const std::string root = dir.file("tree");
    REQUIRE(::mkdir(root.c_str(), 0700) == 0);
    for (int i = 0; i < 5; ++i)
        write_file(root + "/f" + std::to_string(i), pattern(300000, static_cast<unsigned>(i)));
    auto r = run_cli(dir, cat(g, {"cp", "-r", root, url("bar/"), "--progress"}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto lines = lines_of(r.err);
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back().find("100%") != std::string::npos);
    CHECK(lines.back().find("files 5/5") != std::string::npos);
    // One bar: no line of a single file's parts.
    CHECK(r.err.find("parts ") == std::string::npos);
}
