// tests/support/cli_process.hpp: runs the `ossmp` CLI as a child process for integration
// tests: arguments, optional stdin bytes (through a pipe), captured stdout and stderr, exit
// code; a temporary directory; small file and text helpers.
#pragma once

#include "support/test_bytes.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ossmp::test {

/// $OSSMP_BINARY_DIR/tools/cli/ossmp.
inline std::string cli_binary() {
    const char* dir = std::getenv("OSSMP_BINARY_DIR");
    if (!dir || !*dir)
        throw std::runtime_error("OSSMP_BINARY_DIR is not set (run the tests through ctest/meson)");
    return std::string(dir) + "/tools/cli/ossmp";
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, std::string_view data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

/// A fresh temporary directory, removed (with its files) at the end.
class temp_dir {
public:
    temp_dir() {
        std::string t = "/tmp/ossmp-cli-test-XXXXXX";
        if (!::mkdtemp(t.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = t;
    }
    ~temp_dir() {
        const std::string cmd = "rm -rf '" + path_ + "'";
        [[maybe_unused]] int rc = std::system(cmd.c_str());
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const noexcept { return path_; }
    std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

private:
    std::string path_;
};

/// The names in a directory (without . and ..), sorted.
inline std::vector<std::string> list_dir(const std::string& dir) {
    std::vector<std::string> out;
    const std::string cmd = "ls -A '" + dir + "'";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p)
        return out;
    char line[4096];
    while (std::fgets(line, sizeof line, p)) {
        std::string s(line);
        if (!s.empty() && s.back() == '\n')
            s.pop_back();
        out.push_back(s);
    }
    ::pclose(p);
    return out;
}

struct cli_result {
    int exit_code = -1; ///< exit status, or -signal when killed by one
    std::string out;
    std::string err;
    /// The CLI's peak resident memory, when measured (`run_cli_measured`), else 0. Measured by
    /// GNU time from a process of its own: the rusage of a child forked from this (large,
    /// sanitised) test process would count the parent's pages copied by fork before exec.
    long max_rss_kib = 0;
};

/// A running CLI process (see `run_cli` for the one-shot form). Its stdout and stderr go to
/// files in `dir` ("stdout", "stderr"); `stdin_data`, when set, is written to its stdin through
/// a pipe by a thread (so a large input cannot dead-lock), else stdin is /dev/null.
class cli_process {
public:
    cli_process(const temp_dir& dir, const std::vector<std::string>& args,
                std::optional<std::string> stdin_data = std::nullopt, bool measure_rss = false,
                int stdin_fd = -1)
        : out_path_(dir.file("stdout")), err_path_(dir.file("stderr")),
          rss_path_(measure_rss ? dir.file("peak-rss") : std::string()) {
        std::vector<std::string> argv_s;
        if (measure_rss)
            argv_s = {"/usr/bin/time", "-f", "%M", "-o", rss_path_};
        argv_s.push_back(cli_binary());
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_s)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        int in[2] = {-1, -1};
        if (stdin_data && ::pipe(in) != 0)
            throw std::runtime_error("pipe failed");
        pid_ = ::fork();
        if (pid_ < 0)
            throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            const int o = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            const int e = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            const int i = stdin_fd >= 0 ? stdin_fd
                          : stdin_data  ? in[0]
                                        : ::open("/dev/null", O_RDONLY);
            if (o < 0 || e < 0 || i < 0)
                ::_exit(126);
            ::dup2(o, 1);
            ::dup2(e, 2);
            ::dup2(i, 0);
            if (stdin_data)
                ::close(in[1]);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        if (stdin_data) {
            ::close(in[0]);
            writer_ = std::thread([fd = in[1], data = std::move(*stdin_data)] {
                std::size_t done = 0;
                while (done < data.size()) {
                    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
                    if (n <= 0)
                        break; // the child closed its end
                    done += static_cast<std::size_t>(n);
                }
                ::close(fd);
            });
        }
    }
    cli_process(const cli_process&) = delete;
    cli_process& operator=(const cli_process&) = delete;
    ~cli_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (writer_.joinable())
            writer_.join();
    }

    pid_t pid() const noexcept { return pid_; }
    /// Sends `sig` while the process is ours (never after `wait`/`try_reap`: kill(-1, ...)
    /// would signal every process we may signal).
    void signal(int sig) {
        if (pid_ > 0)
            ::kill(pid_, sig);
    }

    /// Non-blocking: true, with the raw wait status, once the process has ended (it is then
    /// reaped, and `wait` must not be called); false while it runs.
    bool try_reap(int& status) {
        if (pid_ <= 0 || ::waitpid(pid_, &status, WNOHANG) != pid_)
            return false;
        pid_ = -1;
        if (writer_.joinable())
            writer_.join();
        return true;
    }

    /// Waits for the exit (at most `deadline`: then the process is killed, the test fails and
    /// the exit code is -SIGKILL) and collects the output.
    cli_result wait(std::chrono::seconds deadline = std::chrono::seconds(120)) {
        int status = 0;
        const auto end = std::chrono::steady_clock::now() + deadline;
        bool killed = false;
        struct rusage usage {};
        while (::wait4(pid_, &status, WNOHANG, &usage) == 0) {
            if (std::chrono::steady_clock::now() > end) {
                ::kill(pid_, SIGKILL);
                ::wait4(pid_, &status, 0, &usage);
                killed = true;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        pid_ = -1;
        CHECK_FALSE(killed); // the CLI ran past the test's deadline
        if (writer_.joinable())
            writer_.join();
        cli_result r;
        r.exit_code = WIFEXITED(status)     ? WEXITSTATUS(status)
                      : WIFSIGNALED(status) ? -WTERMSIG(status)
                                            : -1000;
        if (!rss_path_.empty()) {
            const std::string rss = read_file(rss_path_);
            r.max_rss_kib = rss.empty() ? 0 : std::atol(rss.c_str());
            REQUIRE(r.max_rss_kib > 0); // GNU time wrote its figure
        }
        r.out = read_file(out_path_);
        r.err = read_file(err_path_);
        return r;
    }

private:
    std::string out_path_, err_path_, rss_path_;
    pid_t pid_ = -1;
    std::thread writer_;
};

/// Runs the CLI with `args` to its end (see cli_process).
inline cli_result run_cli(const temp_dir& dir, const std::vector<std::string>& args,
                          std::optional<std::string> stdin_data = std::nullopt) {
    cli_process p(dir, args, std::move(stdin_data));
    return p.wait();
}

/// Runs the CLI with `args` to its end under GNU time, so that `max_rss_kib` is its own peak.
inline cli_result run_cli_measured(const temp_dir& dir, const std::vector<std::string>& args,
                                   std::optional<std::string> stdin_data = std::nullopt) {
    cli_process p(dir, args, std::move(stdin_data), true);
    return p.wait();
}

/// The string value of `"name":"..."` in a one-line JSON object ("" when absent).
inline std::string json_field(std::string_view line, std::string_view name) {
    const std::string pat = "\"" + std::string(name) + "\":\"";
    auto pos = line.find(pat);
    if (pos == std::string_view::npos)
        return {};
    std::string out;
    for (pos += pat.size(); pos < line.size() && line[pos] != '"'; ++pos) {
        if (line[pos] == '\\' && pos + 1 < line.size())
            ++pos;
        out += line[pos];
    }
    return out;
}

inline std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);)
        out.push_back(l);
    return out;
}

/// The CLI's global options for an emulator on 127.0.0.1:`port` (path style, cn-hangzhou).
inline std::vector<std::string> cli_globals(std::uint16_t port) {
    return {"--endpoint", "http://127.0.0.1:" + std::to_string(port), "--path-style", "--region",
            "cn-hangzhou"};
}

inline std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace ossmp::test
