// `ossmp cp` resuming against ossmp-emulator with directory storage: the crash harness (the
// CLI SIGKILLed at random moments 20 times in a row, each run resuming the last; the object
// whole, no part recorded done ever sent again per the emulator's request log, the checkpoint
// gone), the emulator killed and restarted mid-upload, Ctrl-C keeping the upload with the
// command that resumes it, a changed file refused and --fresh, and a state directory that is
// not private refused.
#include "support/cli_process.hpp"
#include "support/emulator_process.hpp"

#include "ossmp/checkpoint.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using ossmp::test::cat;
using ossmp::test::cli_globals;
using ossmp::test::cli_process;
using ossmp::test::lines_of;
using ossmp::test::list_dir;
using ossmp::test::random_bytes;
using ossmp::test::read_file;
using ossmp::test::run_cli;
using ossmp::test::temp_dir;
using ossmp::test::write_file;
using namespace std::chrono_literals;

constexpr std::string_view bucket = "resume-bucket";

// Credentials for the emulator, and a state directory of the test's own for the checkpoints.
struct env_guard {
    temp_dir state;
    env_guard() {
        ::setenv("XDG_STATE_HOME", state.path().c_str(), 1);
        ::setenv("OSS_ACCESS_KEY_ID", "rs-ak", 1);
        ::setenv("OSS_ACCESS_KEY_SECRET", "rs-secret", 1);
        ::unsetenv("OSS_SESSION_TOKEN");
        ::unsetenv("OSS_ENDPOINT");
        ::unsetenv("OSS_REGION");
    }
    std::string checkpoint_dir() const { return state.file("ossmp"); }
    // The checkpoint files (not the temporary files of a write that was killed).
    std::vector<std::string> checkpoints() const {
        std::vector<std::string> out;
        for (auto& f : list_dir(checkpoint_dir()))
            if (!f.empty() && f[0] != '.')
                out.push_back(checkpoint_dir() + "/" + f);
        return out;
    }
};

std::vector<std::string> emulator_args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"--bucket",        std::string(bucket), "--credentials",
                               "rs-ak:rs-secret", "--region",          "cn-hangzhou"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

std::string url(std::string_view key) {
    return "oss://" + std::string(bucket) + "/" + std::string(key);
}

std::vector<std::string> uploads(const std::vector<std::string>& g) {
    temp_dir dir;
    auto r = run_cli(dir, cat(g, {"mpu", "list-uploads", "oss://" + std::string(bucket)}));
    REQUIRE(r.exit_code == 0);
    return lines_of(r.out);
}

// One line of the emulator's request log: OPERATION STATUS BUCKET KEY UPLOAD-ID PART.
struct log_line {
    std::string op, status, bucket, key, upload_id, part;
};

std::vector<log_line> parse_log(const std::string& text) {
    std::vector<log_line> out;
    for (const auto& l : lines_of(text)) {
        std::istringstream in(l);
        log_line x;
        in >> x.op >> x.status >> x.bucket >> x.key >> x.upload_id >> x.part;
        REQUIRE(!x.part.empty()); // six fields
        out.push_back(x);
    }
    return out;
}

std::size_t stored_parts(const std::string& log_path) {
    std::size_t n = 0;
    for (const auto& l : parse_log(read_file(log_path)))
        n += l.op == "UploadPart" && l.status == "200";
    return n;
}

ossmp::upload_checkpoint parse(const std::string& path) {
    ossmp::upload_checkpoint c;
    const auto text = read_file(path);
    INFO(path);
    REQUIRE_FALSE(ossmp::parse_checkpoint(text, c)); // never damaged, even by SIGKILL
    return c;
}

// Interrupts `p` (SIGINT) once its upload is listed and has run a little; its result.
ossmp::test::cli_result interrupt_once_started(cli_process& p, const std::vector<std::string>& g) {
    bool started = false;
    for (int i = 0; i < 200 && !started; ++i) {
        std::this_thread::sleep_for(50ms);
        started = !uploads(g).empty();
    }
    REQUIRE(started);
    std::this_thread::sleep_for(300ms);
    p.signal(SIGINT);
    return p.wait(20s);
}

std::string backticked(const std::string& s, std::string_view after) {
    const auto at = s.find(after);
    if (at == std::string::npos)
        return {};
    const auto open = s.find('`', at);
    const auto close = s.find('`', open + 1);
    if (open == std::string::npos || close == std::string::npos)
        return {};
    return s.substr(open + 1, close - open - 1);
}

} // namespace

TEST_CASE("cp resume: SIGKILLed at random moments 20 times in a row, the object is whole",
          "[cli][resume][integration][crash]") {
    env_guard env;
    temp_dir dir;
    const char* mib_env = std::getenv("OSSMP_CRASH_HARNESS_MIB"); // 512 in benchmark mode
    const std::size_t mib = mib_env ? std::strtoul(mib_env, nullptr, 10) : 128;
    const std::string storage = dir.file("storage");
    REQUIRE(::mkdir(storage.c_str(), 0700) == 0);
    const std::string log = dir.file("requests.log");
    ossmp::test::emulator_process emu(
        emulator_args({"--storage", "dir:" + storage, "--request-log", log}));
    const auto g = cli_globals(emu.port());
    const std::string data = random_bytes(mib << 20, 11);
    const std::string src = dir.file("src");
    write_file(src, data);
    // Parts of 1 MiB, 2 in flight; the checkpoint written after every part, so that the
    // checkpoints the kills leave behind record many parts. At 32 MiB/s a part takes about
    // 60 ms, so the moment of a kill does not depend on how fast the build is (under ASan, on
    // a loaded machine, unthrottled runs sent a dozen parts between the poll and the kill).
    const auto args =
        cat(g, {"--json", "cp", src, url("crash/obj"), "--part-size", "1M", "--parallel", "2",
                "--checkpoint-every", "1", "--no-progress", "--rate-limit", "32M"});

    std::random_device rd;
    const unsigned seed = rd();
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    // After each kill: the log's length, and the parts the checkpoint recorded as done.
    struct snapshot {
        std::size_t log_lines;
        std::string upload_id;
        std::set<int> recorded;
    };
    std::vector<snapshot> snapshots;
    int kills = 0;
    bool finished = false;
    // A kill can land after the upload was completed and its checkpoint removed, before the
    // process exited: nothing records the upload as done then, and the final run uploads the
    // whole file again (correctly: the object might have changed since).
    bool completed_before_kill = false;
    for (int run = 0; run < 20 && !finished; ++run) {
        const std::size_t before = stored_parts(log);
        cli_process p(dir, args);
        // A random moment: after 0..5 more parts were stored (0: during start-up, Initiate, the
        // listing or the check of the parts already there), plus 0..3 ms.
        const std::size_t more = std::uniform_int_distribution<std::size_t>(0, 5)(rng);
        const auto give_up = std::chrono::steady_clock::now() + 60s;
        while (stored_parts(log) < before + more && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(
            std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(rng)));
        p.signal(SIGKILL);
        auto r = p.wait(60s);
        if (r.exit_code == 0) { // it finished first
            finished = true;
            break;
        }
        INFO(r.err);
        REQUIRE(r.exit_code == -SIGKILL);
        ++kills;
        const auto files = env.checkpoints();
        REQUIRE(files.size() <= 1);
        snapshot s{parse_log(read_file(log)).size(), {}, {}};
        if (!files.empty()) {
            const auto c = parse(files[0]);
            s.upload_id = c.upload_id;
            for (const auto& part : c.parts)
                s.recorded.insert(part.number);
        }
        snapshots.push_back(std::move(s));
        bool completed = false;
        for (const auto& l : parse_log(read_file(log)))
            completed |= l.op == "Complete" && l.status == "200";
        if (completed && files.empty()) { // (with the checkpoint left, the next run finds
            completed_before_kill = true; // the object complete and sends nothing)
            break;
        }
    }
    CHECK(kills >= 15); // most runs were killed mid-way (not finished first)

    auto last = run_cli(dir, args);
    INFO(last.err);
    REQUIRE(last.exit_code == 0);
    CHECK(last.out.find("\"verified\":true") != std::string::npos);
    CHECK(env.checkpoints().empty()); // gone after success
    CHECK(uploads(g).empty());
    const auto back = dir.file("back");
    REQUIRE(run_cli(dir, cat(g, {"get", url("crash/obj"), back})).exit_code == 0);
    CHECK(read_file(back) == data);

    // No part the checkpoint recorded as done was ever sent again.
    const auto lines = parse_log(read_file(log));
    std::size_t recorded_total = 0, resent = 0;
    for (const auto& s : snapshots) {
        recorded_total += s.recorded.size();
        for (std::size_t i = s.log_lines; i < lines.size(); ++i) {
            const auto& l = lines[i];
            if (l.op == "UploadPart" && l.upload_id == s.upload_id &&
                s.recorded.count(std::stoi(l.part)))
                ++resent;
        }
    }
    CHECK(resent == 0);
    CHECK(recorded_total > 0); // the check above had something to check
    // What the kills cost: at most the parts in flight (2) per kill were stored twice (and the
    // whole file again when a kill came after the upload was complete, see above).
    const std::size_t parts = mib;
    INFO("completed before a kill: " << completed_before_kill);
    CHECK(stored_parts(log) <=
          parts * (completed_before_kill ? 2 : 1) + 2 * static_cast<std::size_t>(kills));
}

TEST_CASE("cp resume: the emulator killed and restarted mid-upload, then a resume completes",
          "[cli][resume][integration]") {
    env_guard env;
    temp_dir dir;
    const std::string storage = dir.file("storage");
    REQUIRE(::mkdir(storage.c_str(), 0700) == 0);
    const std::string log = dir.file("requests.log");
    const std::string data = random_bytes(24u << 20, 5);
    const std::string src = dir.file("src");
    write_file(src, data);
    const std::string ckpt = dir.file("upload.ckpt");
    auto args_for = [&](std::uint16_t port) {
        return cat(cli_globals(port), {"--json", "--timeout", "5", "cp", src, url("restart"),
                                       "--part-size", "1M", "--checkpoint", ckpt});
    };
    std::size_t stored_before = 0;
    {
        ossmp::test::emulator_process emu(
            emulator_args({"--storage", "dir:" + storage, "--request-log", log}));
        cli_process p(dir, args_for(emu.port()));
        const auto give_up = std::chrono::steady_clock::now() + 60s;
        while (stored_parts(log) < 6 && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(1ms);
        ::kill(emu.pid(), SIGKILL);
        emu.stop();
        stored_before = stored_parts(log);
        REQUIRE(stored_before >= 6);
        REQUIRE(stored_before < 24);
        // The client retries against nothing until it gives up (exit 1) or Ctrl-C ends it
        // (exit 130; which comes first depends on the build's speed): the upload is kept.
        std::this_thread::sleep_for(200ms);
        p.signal(SIGINT);
        auto r = p.wait(60s);
        INFO(r.err);
        CHECK((r.exit_code == 130 || r.exit_code == 1));
        CHECK(r.err.find("resume it with") != std::string::npos);
    }
    REQUIRE(::access(ckpt.c_str(), F_OK) == 0);
    const auto c = parse(ckpt);
    // The same directory, a new process (and port): the upload and its parts are still there.
    ossmp::test::emulator_process emu(emulator_args({"--storage", "dir:" + storage}));
    auto r = run_cli(dir, args_for(emu.port()));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("\"verified\":true") != std::string::npos);
    CHECK(r.out.find("\"upload_id\":\"" + c.upload_id + "\"") != std::string::npos);
    CHECK(ossmp::test::json_field(r.out, "upload_id") == c.upload_id);
    // Every part logged before the kill was reused (each was stored when logged); a part
    // stored just before the kill may have missed its log line: at most the 4 in flight.
    const auto at = r.out.find("\"parts_reused\":");
    REQUIRE(at != std::string::npos);
    const auto reused = std::stoul(r.out.substr(at + 15));
    CHECK(reused >= stored_before);
    CHECK(reused <= stored_before + 4);
    CHECK(::access(ckpt.c_str(), F_OK) != 0);
    const auto back = dir.file("back");
    REQUIRE(run_cli(dir, cat(cli_globals(emu.port()), {"get", url("restart"), back})).exit_code ==
            0);
    CHECK(read_file(back) == data);
}

TEST_CASE("cp resume: Ctrl-C keeps the upload and prints the command that resumes it",
          "[cli][resume][integration]") {
    env_guard env;
    temp_dir dir;
    // Part 3 stalls: the upload is certainly in flight when the signal comes.
    ossmp::test::emulator_process emu(emulator_args({"--faults", "UploadPart@3=stall=30"}));
    const auto g = cli_globals(emu.port());
    const std::string data = random_bytes(6u << 20, 9);
    const std::string src = dir.file("my file");
    write_file(src, data);
    const auto args =
        cat(g, {"cp", src, url("int"), "--part-size", "1M", "--parallel", "2", "--fresh"});
    cli_process p(dir, args);
    auto r = interrupt_once_started(p, g);
    INFO(r.err);
    CHECK(r.exit_code == 130);
    REQUIRE(env.checkpoints().size() == 1);
    CHECK(uploads(g).size() == 1); // kept
    // The command is the one typed, quoted for a shell, without --fresh.
    const std::string command = backticked(r.err, "resume it with");
    std::string expected = ossmp::test::cli_binary();
    for (const auto& a : args)
        if (a != "--fresh")
            expected += " " + (a == src ? "'" + a + "'" : a);
    CHECK(command == expected);

    // Running it again (the stall is spent) resumes, and says how many parts it reused.
    auto again = run_cli(dir, cat(g, {"cp", src, url("int"), "--part-size", "1M", "--parallel", "2",
                                      "--no-progress"}));
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.err.find("ossmp: resumed upload ") != std::string::npos);
    CHECK(again.err.find("parts (") != std::string::npos);
    CHECK(again.err.find("were already uploaded and were not sent again") != std::string::npos);
    CHECK(env.checkpoints().empty());
    CHECK(uploads(g).empty());
}

// Killed after Complete but before the checkpoint's removal (the crash harness hits this
// window now and then): the next run finds the upload gone and the object complete with the
// file's bytes, says so, and sends nothing. Before the fix it uploaded everything again.
TEST_CASE("cp resume: an upload completed before its checkpoint was removed is not sent again",
          "[cli][resume][integration]") {
    env_guard env;
    temp_dir dir;
    const std::string log = dir.file("requests.log");
    ossmp::test::emulator_process emu(
        emulator_args({"--faults", "UploadPart@3=stall=30", "--request-log", log}));
    const auto g = cli_globals(emu.port());
    const std::string data = random_bytes(4u << 20, 11);
    const std::string src = dir.file("src");
    write_file(src, data);
    const std::string ckpt = dir.file("up.ckpt");
    const auto args = cat(g, {"--json", "cp", src, url("done"), "--part-size", "1M", "--checkpoint",
                              ckpt, "--no-progress"});
    cli_process p(dir, args);
    REQUIRE(interrupt_once_started(p, g).exit_code == 130);
    const std::string saved = read_file(ckpt);
    REQUIRE(run_cli(dir, args).exit_code == 0); // completes, removes the checkpoint
    REQUIRE(::access(ckpt.c_str(), F_OK) != 0);
    write_file(ckpt, saved); // as if killed between Complete and the removal
    const auto before = parse_log(read_file(log)).size();

    // In text mode (JSON mode prints no notes; the JSON object carries the same fields).
    auto r = run_cli(dir, cat(g, {"cp", src, url("done"), "--part-size", "1M", "--checkpoint", ckpt,
                                  "--no-progress"}));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("was already complete") != std::string::npos);
    CHECK(r.out.find("already_complete: true\n") != std::string::npos);
    CHECK(r.out.find("verified: true\n") != std::string::npos);
    CHECK(r.out.find("parts_reused: 4\n") != std::string::npos);
    CHECK(::access(ckpt.c_str(), F_OK) != 0);
    // After the old upload's listing (NoSuchUpload): one HeadObject, nothing else.
    const auto lines = parse_log(read_file(log));
    std::vector<std::string> ops;
    for (std::size_t i = before; i < lines.size(); ++i)
        ops.push_back(lines[i].op + " " + lines[i].status);
    CHECK(ops == std::vector<std::string>{"ListParts 404", "Head 200"});
    // And the object is the file.
    REQUIRE(run_cli(dir, cat(g, {"get", url("done"), dir.file("back")})).exit_code == 0);
    CHECK(read_file(dir.file("back")) == data);
}

TEST_CASE("cp resume: a changed file's checkpoint is refused; --fresh starts over",
          "[cli][resume][integration]") {
    env_guard env;
    temp_dir dir;
    ossmp::test::emulator_process emu(emulator_args({"--faults", "UploadPart@3=stall=30"}));
    const auto g = cli_globals(emu.port());
    const std::string src = dir.file("src");
    write_file(src, random_bytes(5u << 20, 3));
    const auto args = cat(g, {"cp", src, url("changed"), "--part-size", "1M", "--parallel", "2"});
    {
        cli_process p(dir, args);
        auto first = interrupt_once_started(p, g);
        REQUIRE(first.exit_code == 130);
        CHECK(first.err.find("resume it with") != std::string::npos);
    }
    REQUIRE(uploads(g).size() == 1);

    write_file(src, random_bytes((5u << 20) + 1, 4));
    auto refused = run_cli(dir, args);
    INFO(refused.err);
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("is not for this upload: the source's size changed") !=
          std::string::npos);
    CHECK(refused.err.find("--fresh") != std::string::npos);
    CHECK(uploads(g).size() == 1);

    auto fresh = run_cli(dir, cat(args, {"--fresh", "--json"}));
    INFO(fresh.err);
    REQUIRE(fresh.exit_code == 0);
    CHECK(uploads(g).empty()); // the old upload was aborted, the new one completed
    CHECK(env.checkpoints().empty());
}

TEST_CASE("cp resume: a state directory another user could write to is refused",
          "[cli][resume][integration]") {
    env_guard env;
    temp_dir dir;
    ossmp::test::emulator_process emu(emulator_args());
    const auto g = cli_globals(emu.port());
    const std::string src = dir.file("src");
    write_file(src, random_bytes(3u << 20, 1));
    const auto args = cat(g, {"cp", src, url("private"), "--part-size", "1M"});
    REQUIRE(::mkdir(env.checkpoint_dir().c_str(), 0700) == 0);
    SECTION("writable by others") {
        REQUIRE(::chmod(env.checkpoint_dir().c_str(), 0777) == 0);
    }
    SECTION("a link to elsewhere") {
        REQUIRE(::rmdir(env.checkpoint_dir().c_str()) == 0);
        REQUIRE(::symlink(dir.path().c_str(), env.checkpoint_dir().c_str()) == 0);
    }
    auto r = run_cli(dir, args);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("refusing to keep checkpoints there") != std::string::npos);
    CHECK(uploads(g).empty()); // nothing was started
    // Without a checkpoint it goes ahead.
    CHECK(run_cli(dir, cat(args, {"--no-checkpoint"})).exit_code == 0);
}
