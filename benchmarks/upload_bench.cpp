// upload_bench: `ossmp::async_upload` of a page-cached file to `ossmp-emulator --storage sink`,
// next to the least a client doing the same work can do, measured in the same run.
//
//   upload_bench [--size SIZE] [--rounds N] [--quick] [--emulator PATH] [--emulator-threads N]
//                [--only KEY,KEY...]
//
// SIZE takes K, M, G suffixes (binary); default 2G, 3 rounds. --quick: a 512 MiB file, 2 rounds
// (a smoke run of about 17 s). PATH defaults to ../tools/emulator/ossmp-emulator relative to
// this program; the emulator runs with --threads 4 unless told (as emulator_bench's target
// line). --only runs the named measurements (keys: raw, raw-crc, ceiling-w1, upload-w1, ...,
// ceiling-32m, upload-32m, memory-32m, ceiling-big, upload-big, memory-w4, stream-w4, rate), e.g.
// to profile one of them with `perf record -g`.
//
// Every transfer runs in a child process of its own (forked before the parent allocates
// anything large), which reports through a pipe: its wall time and its CPU (user + system of
// all its threads, getrusage RUSAGE_SELF) over the timed window, and the parent takes its peak
// RSS from wait4 (ru_maxrss; it includes the few MiB the parent had at fork, printed in the
// header). The file is written under /tmp (mkstemp), flushed to disk (so no writeback runs
// during the timing) and read once (page-cached, and its CRC-64 taken) before any timing; it is
// removed at the end. Transfers:
//   (a) raw loopback TCP: W = 4 connections, each on its own thread, sending the file's 8 MiB
//       parts read by pread in 1 MiB chunks, no HTTP, to a reader process that reads 64 KiB at a
//       time and drops the bytes; and the same with CRC-64 on both ends (information).
//   (b) the same-work client ceiling: the same loop with HTTP, to the emulator: Initiate (one
//       plain request), then each part's UploadPart head built and V4-signed ONCE in advance
//       (ossmp's request builder, signer and serializer), W connections each on its own thread,
//       each part read by pread in 1 MiB chunks, CRC-64'd and written, then the reply read
//       (status must be 200, x-oss-hash-crc64ecma must equal the part's CRC-64), then Complete
//       (its CRC-64 must be the file's). Timed from the first part to Complete's reply.
//   (c) the uploader: `async_upload(client, file_source::open(path), ...)`, 8 MiB parts, W = 4,
//       on an io_context run by one thread per core; timed from the call to its completion
//       (Initiate and Complete included). It must complete without error, with
//       `result.verified`, the file's size and the file's CRC-64. Targets: >= 0.9x (b),
//       <= 0.35 client CPU-s/GiB, peak RSS <= 64 MiB.
//   (d) the uploader at W = 1, 2, 8 (8 MiB parts) and with 1 GiB parts at W = 4 (half the file
//       when it is smaller than 2 GiB), each against a ceiling run with the same W and parts
//       (ratio and CPU: information; peak RSS <= 64 MiB is a target for every file source), and
//       a `memory_source` (the whole file read into the child's memory and read once more
//       before the timer: in this VM the first read of freshly filled memory ran at 0.6 GB/s;
//       RSS bound: the file's size + 24 MiB; ratio against (b)), and a `stream_source` on a
//       pipe that a writer process fills from the file (`cat FILE | ossmp cp - URL`; RSS
//       bound: (W+1) x part + 24 MiB); and 32 MiB parts at W = 4 from the file and from
//       memory, against a ceiling with 32 MiB parts.
//   (e) the rate limit, once after the rounds: 64 MiB (or the whole file when smaller) from
//       memory with `upload_options::rate_limit` at half that per second (32 MiB/s). Target:
//       2 s +/- 15% (key `rate`).
// Rounds alternate: in each round every ceiling runs next to its uploader (in odd rounds the
// ceiling first, in even rounds the uploader first); the table gives each figure's median over
// the rounds (and the best), the per-round figures are printed as they come.
//   (t) TLS: the uploader lines from the file at W = 1, 2, 4, 8 (8 MiB) and W = 4 (32 MiB) and
//       from memory at W = 4 (8 and 32 MiB) again, over HTTPS to a second emulator process
//       (the same, with --tls-cert/--tls-key: tests/data's server.crt for 127.0.0.1, which the
//       client verifies against test-ca.crt), each against its HTTP line of the same round.
//       Target: the file line at W = 4, 8 MiB >= 0.6x of (c). --certs DIR names another
//       folder with server.crt, server.key and test-ca.crt; --no-tls leaves these lines out.
// With OSSMP_BENCH_ROWS=FILE in the environment every line of the final table is also appended
// to FILE as a tab-separated row (bench_rows.hpp; scripts/bench collects them).
#include "bench_rows.hpp"
#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/credentials.hpp"
#include "ossmp/endpoint.hpp"
#include "ossmp/http/body_source.hpp"
#include "ossmp/http/parser.hpp"
#include "ossmp/http/serializer.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/signer.hpp"
#include "ossmp/transport/asio_transport.hpp"
#include "ossmp/upload.hpp"
#include "ossmp/validate.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h> // getloadavg, mkstemp
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr double gib = 1024.0 * 1024.0 * 1024.0;
constexpr double mib = 1024.0 * 1024.0;
constexpr std::uint64_t default_part_size = 8ull << 20; // the uploader's default
constexpr std::uint64_t big_part_size = 1ull << 30;     // the "1 GiB part size"
constexpr std::size_t chunk_size = 1 << 20;             // file_body's default chunk
constexpr std::size_t raw_read_size = 64 * 1024;        // emulator_bench's fastest reader
constexpr unsigned default_parallel = 4;                // W of the target line
constexpr double target_ratio = 0.9;                    // issue: >= 0.9x of (b)
constexpr double target_tls_ratio = 0.6;                // issue 14: TLS >= 0.6x of HTTP (c)
constexpr double target_cpu_per_gib = 0.35;             // issue: client CPU-s/GiB
constexpr double target_rss_mib = 64;                   // issue: file source, any part size
constexpr double memory_source_extra_mib = 24;          // issue: memory source bound
constexpr unsigned child_alarm_seconds = 600;           // a hung transfer fails, not hangs
const char* const bucket = "bench";
const char* const access_key = "bench-ak";
const char* const secret_key = "bench-sk";

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

// --- Small system helpers ------------------------------------------------------------------------

double seconds_of(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

/// CPU seconds (user + system) of the whole calling process so far, all threads.
double process_cpu() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return seconds_of(ru.ru_utime) + seconds_of(ru.ru_stime);
}

/// Resident set size of the calling process now, in MiB (/proc/self/statm).
double current_rss_mib() {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        std::fclose(f);
    }
    return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / mib;
}

/// A page-aligned buffer of its own mapping, so that freeing it gives the pages back at once
/// (a malloc'ed 1 MiB block may stay in the parent's heap and be counted in every child's RSS).
class page_buffer {
public:
    explicit page_buffer(std::size_t size) : size_(size) {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            die("mmap");
        data_ = static_cast<char*>(p);
    }
    page_buffer(const page_buffer&) = delete;
    page_buffer& operator=(const page_buffer&) = delete;
    ~page_buffer() { ::munmap(data_, size_); }
    char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    char* data_ = nullptr;
    std::size_t size_ = 0;
};

/// Reads exactly `n` bytes at `offset` (false on an error or a short file).
bool pread_all(int fd, char* out, std::size_t n, std::uint64_t offset) {
    std::size_t done = 0;
    while (done < n) {
        const ssize_t r = ::pread(fd, out + done, n - done, static_cast<off_t>(offset + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        done += static_cast<std::size_t>(r);
    }
    return true;
}

bool write_all(int fd, const char* data, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

int connect_to(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// --- The test file -------------------------------------------------------------------------------

std::string g_file_path; // removed at exit and on SIGINT/SIGTERM

void remove_file_on_signal(int sig) {
    if (!g_file_path.empty())
        ::unlink(g_file_path.c_str());
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

/// Creates the test file (xorshift bytes: incompressible), flushes it to disk, then reads it
/// once (page-cached) and returns its CRC-64.
std::uint64_t make_test_file(std::uint64_t size) {
    std::string templ = "/tmp/ossmp-upload-bench-XXXXXX";
    const int fd = ::mkstemp(templ.data());
    if (fd < 0)
        die("mkstemp");
    g_file_path = templ;
    // Removed however the parent ends (children end with _Exit and run no atexit handler).
    std::atexit([] {
        if (!g_file_path.empty())
            ::unlink(g_file_path.c_str());
    });
    ::signal(SIGINT, remove_file_on_signal);
    ::signal(SIGTERM, remove_file_on_signal);
    page_buffer buf(chunk_size);
    std::uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (std::uint64_t written = 0; written < size;) {
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size, size - written));
        auto* words = reinterpret_cast<std::uint64_t*>(buf.data());
        for (std::size_t i = 0; i < chunk_size / 8; ++i) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            words[i] = x;
        }
        if (!write_all(fd, buf.data(), n))
            die("write test file");
        written += n;
    }
    if (::fdatasync(fd) != 0)
        die("fdatasync");
    std::uint64_t crc = 0;
    for (std::uint64_t off = 0; off < size;) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size, size - off));
        if (!pread_all(fd, buf.data(), n, off))
            die("read test file");
        crc = ossmp::crc64(std::string_view(buf.data(), n), crc);
        off += n;
    }
    ::close(fd);
    return crc;
}

// --- Children ------------------------------------------------------------------------------------

/// What a child reports through its pipe (plain bytes), plus what the parent adds.
struct report {
    bool ok = false;
    bool verified = false; ///< the server vouched for the bytes (CRC-64s answered and equal)
    double seconds = 0;    ///< the timed window
    double cpu = 0;        ///< the child's CPU seconds in the timed window
    std::uint64_t bytes = 0;
    unsigned parts = 0;
    char message[400] = {};
    double max_rss_mib = 0; ///< set by the parent (wait4)

    double bytes_per_second() const {
        return seconds > 0 ? static_cast<double>(bytes) / seconds : 0;
    }
    double cpu_per_gib() const { return bytes > 0 ? cpu / (static_cast<double>(bytes) / gib) : 0; }
    void fail(const std::string& what) {
        ok = false;
        std::snprintf(message, sizeof message, "%s", what.c_str());
    }
};

/// Runs `body()` (returning a `report`) in a forked child and returns its report with the
/// child's peak RSS. The child ends with _Exit (no atexit handlers or static destructors of the
/// parent's state run twice).
template <class Body>
report run_in_child(Body body) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
        die("pipe");
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        ::close(p[0]);
        ::alarm(child_alarm_seconds);
        report r;
        try {
            r = body();
        } catch (const std::exception& e) {
            r.fail(std::string("exception: ") + e.what());
        }
        write_all(p[1], reinterpret_cast<const char*>(&r), sizeof r);
        std::_Exit(0);
    }
    ::close(p[1]);
    report r;
    std::size_t got = 0;
    while (got < sizeof r) {
        const ssize_t n = ::read(p[0], reinterpret_cast<char*>(&r) + got, sizeof r - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    ::close(p[0]);
    int status = 0;
    rusage ru{};
    if (::wait4(pid, &status, 0, &ru) != pid)
        die("wait4");
    if (got != sizeof r) {
        r = report{};
        r.fail("the child died without a report (status " + std::to_string(status) + ")");
    }
    r.max_rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0; // KiB on Linux
    return r;
}

// --- Raw receivers -------------------------------------------------------------------------------

/// A loopback listener in a process of its own whose reader threads (one per accepted
/// connection, `connections` of them) read 64 KiB at a time and drop the bytes (with `crc`:
/// CRC-64 them), and close at EOF.
class raw_receiver {
public:
    raw_receiver(unsigned connections, bool crc) {
        const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(lfd, 64) != 0)
            die("bind/listen");
        socklen_t len = sizeof a;
        ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        std::fflush(stdout);
        pid_ = ::fork();
        if (pid_ < 0)
            die("fork");
        if (pid_ == 0) {
            ::alarm(child_alarm_seconds);
            std::vector<std::thread> readers;
            for (unsigned i = 0; i < connections; ++i) {
                const int fd = ::accept(lfd, nullptr, nullptr);
                if (fd < 0)
                    std::_Exit(1);
                readers.emplace_back([fd, crc] {
                    page_buffer buf(raw_read_size);
                    std::uint64_t sum = 0;
                    ssize_t n;
                    while ((n = ::read(fd, buf.data(), buf.size())) > 0)
                        if (crc)
                            sum = ossmp::crc64(
                                std::string_view(buf.data(), static_cast<std::size_t>(n)), sum);
                    static std::atomic<std::uint64_t> keep{0};
                    keep ^= sum; // the CRC is not optimised away
                    ::close(fd);
                });
            }
            for (auto& t : readers)
                t.join();
            std::_Exit(0);
        }
        ::close(lfd);
    }
    raw_receiver(const raw_receiver&) = delete;
    raw_receiver& operator=(const raw_receiver&) = delete;
    ~raw_receiver() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    /// Waits for the receiver to end (after its senders closed).
    void join() {
        if (pid_ > 0)
            ::waitpid(std::exchange(pid_, -1), nullptr, 0);
    }

    std::uint16_t port = 0;

private:
    pid_t pid_ = -1;
};

// --- The emulator --------------------------------------------------------------------------------

struct emulator_process {
    pid_t pid = -1;
    std::uint16_t port = 0;
    int stdout_fd = -1; // kept open (it prints one line only) so that it never gets SIGPIPE
};

/// `cert_dir` non-empty: HTTPS with DIR/server.crt and DIR/server.key.
emulator_process start_emulator(const std::string& path, const std::string& threads,
                                const std::string& cert_dir = {}) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
        die("pipe");
    std::fflush(stdout);
    const pid_t pid = ::fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        ::dup2(p[1], 1);
        const std::string creds = std::string(access_key) + ":" + secret_key;
        const std::string cert = cert_dir + "/server.crt", key = cert_dir + "/server.key";
        std::vector<const char*> args = {
            path.c_str(), "--listen",      "127.0.0.1:0", "--storage", "sink",         "--bucket",
            bucket,       "--credentials", creds.c_str(), "--threads", threads.c_str()};
        if (!cert_dir.empty()) {
            for (const char* a : {"--tls-cert", cert.c_str(), "--tls-key", key.c_str()})
                args.push_back(a);
        }
        args.push_back(nullptr);
        ::execv(path.c_str(), const_cast<char* const*>(args.data()));
        std::perror(("exec " + path).c_str());
        std::_Exit(127);
    }
    ::close(p[1]);
    std::string line;
    char c;
    while (::read(p[0], &c, 1) == 1 && c != '\n')
        line.push_back(c);
    const std::string prefix = std::string("ossmp-emulator listening on ") +
                               (cert_dir.empty() ? "http" : "https") + "://127.0.0.1:";
    if (line.rfind(prefix, 0) != 0) {
        std::fprintf(stderr, "the emulator did not start (%s): '%s'\n", path.c_str(), line.c_str());
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        std::exit(1);
    }
    return {pid, static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size()))), p[0]};
}

void stop_emulator(emulator_process& e) {
    ::kill(e.pid, SIGTERM);
    ::waitpid(e.pid, nullptr, 0);
    ::close(e.stdout_fd);
}

// --- One measurement -----------------------------------------------------------------------------

/// What is sent and how.
struct job {
    std::string path;                            ///< the test file
    std::uint64_t size = 0;                      ///< its size
    std::uint64_t crc64 = 0;                     ///< its CRC-64
    std::uint64_t part_size = default_part_size; ///< preferred (as the uploader takes it)
    unsigned parallel = default_parallel;
    std::uint16_t port = 0; ///< the emulator's
    std::string key;        ///< object key
    std::uint64_t rate = 0; ///< a rate limit for the uploader, bytes/s (0: none)
    bool tls = false;       ///< the uploader over HTTPS (port: the TLS emulator's)
    std::string ca_file;    ///< the CA that signed the TLS emulator's certificate
};

enum class raw_mode { plain, crc, http };

/// A body of known size that is never read: lets the request builder, signer and serializer
/// produce a real UploadPart head (with Content-Length) for bytes sent by other means.
class sized_body final : public ossmp::http::body_source {
public:
    explicit sized_body(std::uint64_t n) : n_(n) {}
    std::uint64_t size() const noexcept override { return n_; }
    std::error_code rewind() override { return {}; }
    void async_read_chunk(chunk_handler h) override { h(std::error_code{}, {}); }

private:
    std::uint64_t n_;
};

/// One keep-alive HTTP connection of the ceiling client (blocking; one thread uses it).
struct http_connection {
    int fd = -1;
    std::string pending; // bytes read past the previous reply

    /// Reads one whole reply (status line, headers, body if any).
    bool read_reply(ossmp::http::response& out, std::string& error) {
        ossmp::http::response_parser parser;
        std::error_code ec;
        char buf[16384];
        while (!parser.done()) {
            if (pending.empty()) {
                const ssize_t n = ::read(fd, buf, sizeof buf);
                if (n <= 0) {
                    error = "the connection closed before a whole reply";
                    return false;
                }
                pending.assign(buf, static_cast<std::size_t>(n));
            }
            const std::size_t used = parser.feed(pending, ec);
            if (ec) {
                error = "bad reply: " + ec.message();
                return false;
            }
            pending.erase(0, used);
        }
        out = parser.release();
        return true;
    }
};

/// Addresses and signs `req` (V4, as the client does) and returns its head.
std::string signed_head(ossmp::http::request& req, const ossmp::endpoint& ep,
                        ossmp::v4_key_cache& cache) {
    ep.apply(req);
    ossmp::sign_options so;
    so.region = "cn-hangzhou";
    const ossmp::credentials creds{access_key, secret_key, ""};
    if (auto ec = ossmp::sign(req, creds, so, std::chrono::system_clock::now(), cache))
        throw std::system_error(ec, "sign");
    return ossmp::http::serialize_head(req);
}

/// (a) and (b): the minimal client. With `raw_mode::http` it talks to the emulator as
/// described at the top of this file; else it sends the same bytes with no HTTP to `port` (a
/// raw receiver), with `raw_mode::crc` also CRC-64ing each chunk. Runs in a child.
/// Sends a small request (signed now) on `c` and reads its reply.
bool send_request(http_connection& c, ossmp::http::request& req, const ossmp::endpoint& ep,
                  ossmp::v4_key_cache& cache, ossmp::http::response& res, std::string& error) {
    const std::string head = signed_head(req, ep, cache);
    if (!write_all(c.fd, head.data(), head.size()) ||
        !write_all(c.fd, reinterpret_cast<const char*>(req.body().data()), req.body().size())) {
        error = "write failed";
        return false;
    }
    return c.read_reply(res, error);
}

report raw_client(const job& j, raw_mode mode, std::uint16_t port) {
    report r;
    const std::uint64_t part_size = ossmp::choose_part_size(j.size, j.part_size);
    const auto parts = static_cast<unsigned>(ossmp::part_count(j.size, part_size));
    const int fd = ::open(j.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r.fail("open " + j.path + ": " + std::strerror(errno));
        return r;
    }
    std::vector<http_connection> conns(j.parallel);
    for (auto& c : conns)
        if ((c.fd = connect_to(port)) < 0) {
            r.fail(std::string("connect: ") + std::strerror(errno));
            return r;
        }

    // In advance (not timed): Initiate, and every part's signed head.
    ossmp::endpoint ep;
    ossmp::parse_endpoint("http://127.0.0.1:" + std::to_string(port), ep);
    ossmp::v4_key_cache cache;
    std::string upload_id;
    std::vector<std::string> heads;
    if (mode == raw_mode::http) {
        ossmp::initiate_params ip;
        ip.bucket = bucket;
        ip.key = j.key;
        ossmp::http::request req;
        if (auto ec = ossmp::make_initiate_request(ip, req)) {
            r.fail("initiate request: " + ec.message());
            return r;
        }
        ossmp::http::response res;
        std::string error;
        if (!send_request(conns[0], req, ep, cache, res, error)) {
            r.fail("Initiate: " + error);
            return r;
        }
        const auto b = res.body.find("<UploadId>"), e = res.body.find("</UploadId>");
        if (res.status != 200 || b == std::string::npos || e == std::string::npos) {
            r.fail("Initiate answered " + std::to_string(res.status) + ": " + res.body);
            return r;
        }
        upload_id = res.body.substr(b + 10, e - b - 10);
        heads.resize(parts);
        for (unsigned i = 0; i < parts; ++i) {
            ossmp::upload_part_params pp;
            pp.bucket = bucket;
            pp.key = j.key;
            pp.upload_id = upload_id;
            pp.part_number = static_cast<int>(i + 1);
            pp.source = std::make_shared<sized_body>(
                std::min<std::uint64_t>(part_size, j.size - std::uint64_t{i} * part_size));
            ossmp::http::request preq;
            if (auto ec = ossmp::make_upload_part_request(pp, preq)) {
                r.fail("UploadPart request: " + ec.message());
                return r;
            }
            heads[i] = signed_head(preq, ep, cache);
        }
    }
    std::vector<std::uint64_t> part_crc(parts);
    std::vector<std::string> etags(parts);
    std::atomic<unsigned> next{0};
    std::atomic<bool> failed{false};
    std::atomic<bool> all_crcs_answered{true};
    std::vector<std::string> errors(j.parallel);

    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = process_cpu();
    std::vector<std::thread> threads;
    for (unsigned w = 0; w < j.parallel; ++w)
        threads.emplace_back([&, w] {
            http_connection& c = conns[w];
            page_buffer buf(chunk_size);
            auto fail = [&](std::string what) {
                errors[w] = std::move(what);
                failed = true;
            };
            for (;;) {
                const unsigned i = next++;
                if (failed || i >= parts)
                    break;
                const std::uint64_t offset = std::uint64_t{i} * part_size;
                const std::uint64_t length = std::min(part_size, j.size - offset);
                if (mode == raw_mode::http && !write_all(c.fd, heads[i].data(), heads[i].size()))
                    return fail("write head: " + std::string(std::strerror(errno)));
                std::uint64_t crc = 0;
                for (std::uint64_t done = 0; done < length;) {
                    const auto n = static_cast<std::size_t>(
                        std::min<std::uint64_t>(chunk_size, length - done));
                    if (!pread_all(fd, buf.data(), n, offset + done))
                        return fail("pread");
                    if (mode != raw_mode::plain)
                        crc = ossmp::crc64(std::string_view(buf.data(), n), crc);
                    if (!write_all(c.fd, buf.data(), n))
                        return fail("write: " + std::string(std::strerror(errno)));
                    done += n;
                }
                part_crc[i] = crc;
                if (mode != raw_mode::http)
                    continue;
                ossmp::http::response res;
                std::string error;
                if (!c.read_reply(res, error))
                    return fail("UploadPart " + std::to_string(i + 1) + ": " + error);
                if (res.status != 200)
                    return fail("UploadPart " + std::to_string(i + 1) + " answered " +
                                std::to_string(res.status) + ": " + res.body);
                if (!res.headers.contains("x-oss-hash-crc64ecma"))
                    all_crcs_answered = false;
                else if (ossmp::parse_crc64(res.headers.get("x-oss-hash-crc64ecma")) != crc)
                    return fail("UploadPart " + std::to_string(i + 1) + ": CRC-64 mismatch");
                etags[i] = std::string(res.headers.get("ETag"));
            }
            if (mode != raw_mode::http) { // until the receiver has read every byte
                ::shutdown(c.fd, SHUT_WR);
                char drain[256];
                while (::read(c.fd, drain, sizeof drain) > 0) {
                }
            }
        });
    for (auto& t : threads)
        t.join();
    for (const auto& e : errors)
        if (!e.empty()) {
            r.fail(e);
            return r;
        }
    ossmp::crc64_state whole;
    for (unsigned i = 0; i < parts; ++i)
        whole.append(part_crc[i], std::min(part_size, j.size - std::uint64_t{i} * part_size));
    bool verified = all_crcs_answered.load();
    if (mode == raw_mode::http) {
        ossmp::complete_params cp;
        cp.bucket = bucket;
        cp.key = j.key;
        cp.upload_id = upload_id;
        for (unsigned i = 0; i < parts; ++i)
            cp.parts.push_back(ossmp::completed_part{static_cast<int>(i + 1), etags[i]});
        ossmp::http::request req;
        if (auto ec = ossmp::make_complete_request(cp, req)) {
            r.fail("Complete request: " + ec.message());
            return r;
        }
        ossmp::http::response res;
        std::string error;
        if (!send_request(conns[0], req, ep, cache, res, error)) {
            r.fail("Complete: " + error);
            return r;
        }
        if (res.status != 200) {
            r.fail("Complete answered " + std::to_string(res.status) + ": " + res.body);
            return r;
        }
        if (!res.headers.contains("x-oss-hash-crc64ecma"))
            verified = false;
        else if (ossmp::parse_crc64(res.headers.get("x-oss-hash-crc64ecma")) != whole.value()) {
            r.fail("Complete: the object's CRC-64 is not the parts' combined CRC-64");
            return r;
        }
    }
    const double cpu1 = process_cpu();
    const auto t1 = std::chrono::steady_clock::now();
    if (mode != raw_mode::plain && whole.value() != j.crc64) {
        r.fail("the parts' combined CRC-64 is not the file's");
        return r;
    }
    r.ok = true;
    r.verified = mode == raw_mode::http ? verified : true;
    r.seconds = std::chrono::duration<double>(t1 - t0).count();
    r.cpu = cpu1 - cpu0;
    r.bytes = j.size;
    r.parts = parts;
    for (auto& c : conns)
        ::close(c.fd);
    ::close(fd);
    return r;
}

using client_type = ossmp::basic_client<ossmp::asio_transport, ossmp::static_credentials_provider>;

enum class source_kind { file, memory, stream };

/// (c) and (d): `ossmp::async_upload` of the file (or of the file read into memory first, or
/// of a pipe that a writer process fills from the file, as `cat FILE | ossmp cp - URL`), on an
/// io_context run by one thread per core. Runs in a child.
report uploader(const job& j, source_kind from) {
    const bool from_memory = from == source_kind::memory;
    report r;
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    asio::io_context ctx(static_cast<int>(threads));
    ossmp::asio_transport_options topt;
    topt.max_connections_per_host = std::max<std::size_t>(j.parallel, 1);
    topt.tls = j.tls;
    topt.ca_file = j.ca_file; // verified as any HTTPS endpoint (the test CA; IP in the cert)
    ossmp::asio_transport transport(ctx, topt);
    ossmp::client_options copt;
    copt.endpoint = (j.tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(j.port);
    copt.region = "cn-hangzhou";
    copt.style = ossmp::addressing_style::path;
    client_type client(transport, copt, ossmp::static_credentials_provider(access_key, secret_key));
    ossmp::upload_params params;
    params.bucket = bucket;
    params.key = j.key;
    ossmp::upload_options options;
    options.part_size = j.part_size;
    options.parallel = j.parallel;
    if (j.rate > 0)
        options.rate_limit = ossmp::rate_limiter(j.rate);

    std::unique_ptr<std::byte[]> memory;
    std::unique_ptr<asio::posix::stream_descriptor> pipe_in;
    pid_t writer = -1;
    std::error_code result_ec;
    ossmp::upload_result result;
    std::chrono::steady_clock::time_point t0, t1;
    double cpu0 = 0, cpu1 = 0;
    auto done = [&](std::error_code ec, ossmp::upload_result res) {
        cpu1 = process_cpu();
        t1 = std::chrono::steady_clock::now();
        result_ec = ec;
        result = std::move(res);
        ctx.stop();
    };
    if (from_memory) { // before the timer: the caller holds the bytes
        memory = std::make_unique_for_overwrite<std::byte[]>(static_cast<std::size_t>(j.size));
        const int fd = ::open(j.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || !pread_all(fd, reinterpret_cast<char*>(memory.get()),
                                 static_cast<std::size_t>(j.size), 0)) {
            r.fail("reading the file into memory failed");
            return r;
        }
        ::close(fd);
        // One pass over the bytes before the timer: in this VM the first read of freshly
        // filled memory ran at 0.6-0.7 GB/s (later passes at 25 GB/s), a cost of the machine,
        // not of the uploader; a caller that holds its data in memory has touched it.
        static std::atomic<std::uint64_t> warm{0};
        warm ^= ossmp::crc64(
            std::span<const std::byte>(memory.get(), static_cast<std::size_t>(j.size)));
        ossmp::memory_source source(
            std::span<const std::byte>(memory.get(), static_cast<std::size_t>(j.size)));
        t0 = std::chrono::steady_clock::now();
        cpu0 = process_cpu();
        ossmp::async_upload(client, source, params, options, done);
    } else if (from == source_kind::stream) {
        // The writer: a process of its own (its CPU is not the uploader's), 1 MiB preads
        // written into the pipe (default pipe size, as a shell pipeline has).
        int pfd[2];
        if (::pipe2(pfd, O_CLOEXEC) != 0) {
            r.fail("pipe failed");
            return r;
        }
        writer = ::fork();
        if (writer < 0) {
            r.fail("fork failed");
            return r;
        }
        if (writer == 0) {
            ::close(pfd[0]);
            const int fd = ::open(j.path.c_str(), O_RDONLY | O_CLOEXEC);
            std::vector<char> chunk(1 << 20);
            for (std::uint64_t off = 0; fd >= 0 && off < j.size; off += chunk.size()) {
                const auto n =
                    static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), j.size - off));
                if (!pread_all(fd, chunk.data(), n, off) || !write_all(pfd[1], chunk.data(), n))
                    std::_Exit(1);
            }
            std::_Exit(fd >= 0 ? 0 : 1);
        }
        ::close(pfd[1]);
        pipe_in = std::make_unique<asio::posix::stream_descriptor>(ctx, pfd[0]);
        t0 = std::chrono::steady_clock::now();
        cpu0 = process_cpu();
        ossmp::async_upload(client, ossmp::stream_source(*pipe_in), params, options, done);
    } else {
        auto source = ossmp::file_source::open(j.path);
        t0 = std::chrono::steady_clock::now();
        cpu0 = process_cpu();
        ossmp::async_upload(client, std::move(source), params, options, done);
    }
    std::vector<std::thread> runners;
    for (unsigned i = 0; i < threads; ++i)
        runners.emplace_back([&ctx] { ctx.run(); });
    for (auto& t : runners)
        t.join();
    if (writer > 0) {
        int status = 0;
        ::waitpid(writer, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            r.fail("the pipe's writer failed");
            return r;
        }
    }

    if (result_ec) {
        r.fail("async_upload: " + result_ec.message() + " at " + result.failed_step + " (" +
               result.diag.code + " " + result.diag.message + ")");
        return r;
    }
    if (result.size != j.size || result.crc64 != j.crc64) {
        r.fail("async_upload reported " + std::to_string(result.size) + " bytes with CRC-64 " +
               std::to_string(result.crc64) + "; the file has " + std::to_string(j.size) +
               " bytes with CRC-64 " + std::to_string(j.crc64));
        return r;
    }
    r.ok = true;
    r.verified = result.verified;
    r.seconds = std::chrono::duration<double>(t1 - t0).count();
    r.cpu = cpu1 - cpu0;
    r.bytes = result.size;
    r.parts = result.parts;
    return r;
}

// --- The plan and the table ----------------------------------------------------------------------

enum class kind { raw, raw_crc, ceiling, upload, memory, stream };

struct measurement {
    std::string key;   ///< for --only
    std::string label; ///< for the table
    kind what;
    unsigned parallel;
    std::uint64_t part_size;
    int limit = -1; ///< index of the measurement it is compared with
    std::vector<report> rounds;
    bool selected = true;
    bool tls = false; ///< an uploader over HTTPS (limit: the same uploader over HTTP)
};

double median(std::vector<double> v) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

template <class F>
std::vector<double> each(const measurement& m, F f) {
    std::vector<double> out;
    for (const auto& r : m.rounds)
        if (r.ok)
            out.push_back(f(r));
    return out;
}

double median_rate(const measurement& m) {
    return median(each(m, [](const report& r) { return r.bytes_per_second(); }));
}
double best_rate(const measurement& m) {
    auto v = each(m, [](const report& r) { return r.bytes_per_second(); });
    return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

bool all_ok(const measurement& m) {
    return !m.rounds.empty() &&
           std::all_of(m.rounds.begin(), m.rounds.end(), [](const report& r) { return r.ok; });
}
bool all_verified(const measurement& m) {
    return std::all_of(m.rounds.begin(), m.rounds.end(),
                       [](const report& r) { return r.ok && r.verified; });
}

/// One table line: "figure  vs limit  ratio  target  ok/MISS" (`target` "-": information).
void line(const std::string& name, double value, const char* unit, double limit, const char* target,
          bool pass, bool& all_pass) {
    char fig[32], lim[32], ratio[16];
    std::snprintf(fig, sizeof fig, "%.3f %s", value, unit);
    if (limit > 0) {
        std::snprintf(lim, sizeof lim, "%.3f %s", limit, unit);
        std::snprintf(ratio, sizeof ratio, "%.3fx", value / limit);
    } else {
        std::snprintf(lim, sizeof lim, "-");
        std::snprintf(ratio, sizeof ratio, "-");
    }
    const bool info = target[0] == '-';
    std::printf("%-46s %15s %15s %8s  %-10s %s\n", name.c_str(), fig, lim, ratio, target,
                info ? "info" : (pass ? "ok" : "MISS"));
    // The machine-readable copy: a sub-line ("    client CPU") is named after its figure.
    static std::string parent;
    std::string row_name = name;
    if (!name.empty() && name[0] != ' ') {
        parent = name.substr(0, name.find(" [best"));
        row_name = parent;
    } else {
        row_name = parent + ": " + name.substr(name.find_first_not_of(' '));
    }
    ossmp_bench::row("upload", row_name, value, unit, limit, target, pass);
    if (!info && !pass)
        all_pass = false;
}

std::uint64_t parse_size(const std::string& s) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    double mult = 1;
    if (end && *end) {
        switch (*end) {
        case 'k':
        case 'K':
            mult = 1024;
            break;
        case 'm':
        case 'M':
            mult = mib;
            break;
        case 'g':
        case 'G':
            mult = gib;
            break;
        default:
            std::fprintf(stderr, "bad size '%s'\n", s.c_str());
            std::exit(2);
        }
    }
    if (!(v > 0)) {
        std::fprintf(stderr, "bad size '%s'\n", s.c_str());
        std::exit(2);
    }
    return static_cast<std::uint64_t>(v * mult);
}

void usage() {
    std::printf("usage: upload_bench [--size SIZE] [--rounds N] [--quick] [--emulator PATH]\n"
                "                    [--emulator-threads N] [--only KEY,KEY...]\n"
                "                    [--certs DIR | --no-tls]\n");
}

} // namespace

int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    std::uint64_t size = 2ull << 30;
    int rounds = 3;
    bool size_given = false, rounds_given = false;
    std::string emulator_path =
        (std::filesystem::path(argv[0]).parent_path() / "../tools/emulator/ossmp-emulator")
            .string();
    std::string emulator_threads = "4";
    std::string only;
    bool quick = false;
    // The test certificates (tests/data: server.crt for 127.0.0.1, signed by test-ca.crt).
    std::string cert_dir =
        (std::filesystem::path(__FILE__).parent_path() / "../tests/data").lexically_normal();
    bool with_tls = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage();
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--size") {
            size = parse_size(value());
            size_given = true;
        } else if (a == "--rounds") {
            rounds = std::atoi(value().c_str());
            rounds_given = true;
        } else if (a == "--quick") {
            quick = true;
        } else if (a == "--emulator") {
            emulator_path = value();
        } else if (a == "--emulator-threads") {
            emulator_threads = value();
        } else if (a == "--only") {
            only = "," + value() + ",";
        } else if (a == "--certs") {
            cert_dir = value();
        } else if (a == "--no-tls") {
            with_tls = false;
        } else if (a == "--help" || a == "-h") {
            usage();
            return 0;
        } else {
            usage();
            return 2;
        }
    }
    if (quick) {
        if (!size_given)
            size = 512ull << 20;
        if (!rounds_given)
            rounds = 2;
    }
    if (rounds < 1 || rounds > 50 || size < 32ull << 20) {
        std::fprintf(stderr, "need 1..50 rounds and a size of at least 32M\n");
        return 2;
    }
    // The "1 GiB part" line: 1 GiB, or half the file when it is smaller than 2 GiB (so that it
    // stays a multipart upload of at least two parts).
    const std::uint64_t big = std::min<std::uint64_t>(big_part_size, size / 2 / (1 << 20) << 20);
    const std::string big_label = std::to_string(big >> 20) + " MiB";

    std::vector<measurement> plan;
    auto add = [&plan](std::string key, std::string label, kind k, unsigned w, std::uint64_t ps,
                       int limit) {
        plan.push_back(measurement{std::move(key), std::move(label), k, w, ps, limit, {}, true});
        return static_cast<int>(plan.size() - 1);
    };
    const int raw = add("raw", "(a) raw loopback TCP, W=4", kind::raw, 4, default_part_size, -1);
    add("raw-crc", "(a) raw + CRC-64 both ends, W=4", kind::raw_crc, 4, default_part_size, raw);
    // Pairs, in the order they run in a round.
    std::vector<std::vector<int>> groups;
    const int c4 =
        add("ceiling-w4", "(b) ceiling W=4, 8 MiB parts", kind::ceiling, 4, default_part_size, raw);
    const int u4 =
        add("upload-w4", "(c) uploader file W=4, 8 MiB", kind::upload, 4, default_part_size, c4);
    const int m4 =
        add("memory-w4", "(d) uploader memory W=4, 8 MiB", kind::memory, 4, default_part_size, c4);
    const int s4 =
        add("stream-w4", "(d) uploader pipe W=4, 8 MiB", kind::stream, 4, default_part_size, c4);
    // The TLS twin of an HTTP uploader line: the same transfer to the TLS emulator, in the same
    // group (so it runs next to its HTTP line), against the HTTP line of the same round.
    auto tls_twin = [&](int http, std::vector<int>& group) {
        if (!with_tls)
            return -1;
        const measurement m = plan[static_cast<std::size_t>(http)];
        const int t = add(m.key + "-tls", m.label + ", TLS", m.what, m.parallel, m.part_size, http);
        plan.back().tls = true;
        group.push_back(t);
        return t;
    };
    groups.push_back({c4, u4, m4, s4});
    const int u4_tls = tls_twin(u4, groups.back());
    tls_twin(m4, groups.back());
    for (unsigned w : {1u, 2u, 8u}) {
        const std::string ws = std::to_string(w);
        const int c = add("ceiling-w" + ws, "(b) ceiling W=" + ws + ", 8 MiB parts", kind::ceiling,
                          w, default_part_size, raw);
        const int u = add("upload-w" + ws, "(d) uploader file W=" + ws + ", 8 MiB", kind::upload, w,
                          default_part_size, c);
        groups.push_back({c, u});
        tls_twin(u, groups.back());
    }
    // 32 MiB parts at W = 4, from the file and from memory, against a ceiling with 32 MiB parts.
    const std::uint64_t p32 = 32ull << 20;
    const int c32 = add("ceiling-32m", "(b) ceiling W=4, 32 MiB parts", kind::ceiling, 4, p32, raw);
    const int u32 = add("upload-32m", "(d) uploader file W=4, 32 MiB", kind::upload, 4, p32, c32);
    const int m32 = add("memory-32m", "(d) uploader memory W=4, 32 MiB", kind::memory, 4, p32, c32);
    groups.push_back({c32, u32, m32});
    tls_twin(u32, groups.back());
    tls_twin(m32, groups.back());
    if (big != p32) { // a small --size makes the "big" parts 32 MiB: measured above
        const int cb = add("ceiling-big", "(b) ceiling W=4, " + big_label + " parts", kind::ceiling,
                           4, big, raw);
        const int ub =
            add("upload-big", "(d) uploader file W=4, " + big_label, kind::upload, 4, big, cb);
        groups.push_back({cb, ub});
    }
    if (!only.empty())
        for (auto& m : plan)
            m.selected = only.find("," + m.key + ",") != std::string::npos;

    double load[3] = {0, 0, 0};
    if (::getloadavg(load, 3) < 0)
        load[0] = -1;
    std::printf("upload_bench: %.0f MiB file, %d round%s, %u cores, load average %.2f\n",
                static_cast<double>(size) / mib, rounds, rounds == 1 ? "" : "s",
                std::thread::hardware_concurrency(), load[0]);
    std::fflush(stdout);
    const auto start = std::chrono::steady_clock::now();
    const std::uint64_t crc = make_test_file(size);
    std::printf("test file %s written, flushed and read once (CRC-64 %llu) in %.1f s\n",
                g_file_path.c_str(), static_cast<unsigned long long>(crc),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    emulator_process emu = start_emulator(emulator_path, emulator_threads);
    emulator_process tls_emu;
    if (with_tls && !std::filesystem::exists(cert_dir + "/server.crt")) {
        std::fprintf(stderr, "%s/server.crt not found (give --certs DIR or --no-tls)\n",
                     cert_dir.c_str());
        return 2;
    }
    if (with_tls)
        tls_emu = start_emulator(emulator_path, emulator_threads, cert_dir);
    std::printf("emulator: %s --storage sink --threads %s (port %u); parent RSS at fork %.1f MiB "
                "(counted in every child's peak RSS)\n",
                emulator_path.c_str(), emulator_threads.c_str(), emu.port, current_rss_mib());
    if (with_tls)
        std::printf("TLS emulator: the same with --tls-cert/--tls-key from %s (port %u)\n",
                    cert_dir.c_str(), tls_emu.port);

    job base;
    base.path = g_file_path;
    base.size = size;
    base.crc64 = crc;
    base.port = emu.port;
    unsigned serial = 0;
    auto run = [&](measurement& m) {
        if (!m.selected)
            return;
        job j = base;
        j.parallel = m.parallel;
        j.part_size = m.part_size;
        j.key = "upload-bench/" + m.key + "-" + std::to_string(++serial);
        if (m.tls) {
            j.tls = true;
            j.port = tls_emu.port;
            j.ca_file = cert_dir + "/test-ca.crt";
        }
        report r;
        switch (m.what) {
        case kind::raw:
        case kind::raw_crc: {
            raw_receiver rx(m.parallel, m.what == kind::raw_crc);
            const auto mode = m.what == kind::raw ? raw_mode::plain : raw_mode::crc;
            r = run_in_child([&] { return raw_client(j, mode, rx.port); });
            rx.join();
            break;
        }
        case kind::ceiling:
            r = run_in_child([&] { return raw_client(j, raw_mode::http, j.port); });
            break;
        case kind::upload:
            r = run_in_child([&] { return uploader(j, source_kind::file); });
            break;
        case kind::memory:
            r = run_in_child([&] { return uploader(j, source_kind::memory); });
            break;
        case kind::stream:
            r = run_in_child([&] { return uploader(j, source_kind::stream); });
            break;
        }
        m.rounds.push_back(r);
        if (!r.ok)
            std::printf("    %-12s FAILED: %s\n", m.key.c_str(), r.message);
        else
            std::printf("    %-12s %7.3f GB/s  %6.3f CPU-s/GiB  peak RSS %7.1f MiB  %u parts%s\n",
                        m.key.c_str(), r.bytes_per_second() / 1e9, r.cpu_per_gib(), r.max_rss_mib,
                        r.parts, r.verified ? "" : "  NOT VERIFIED by the server");
        std::fflush(stdout);
    };

    for (int round = 1; round <= rounds; ++round) {
        std::printf("round %d\n", round);
        run(plan[0]);
        run(plan[1]);
        for (const auto& g : groups) {
            if (round % 2 == 1) {
                for (int i : g)
                    run(plan[static_cast<std::size_t>(i)]);
            } else { // the uploaders first, then the ceiling
                for (std::size_t k = 1; k < g.size(); ++k)
                    run(plan[static_cast<std::size_t>(g[k])]);
                run(plan[static_cast<std::size_t>(g[0])]);
            }
        }
    }
    // The rate limit: 64 MiB (or the whole file when smaller) from memory at a limit that
    // should take 2 s: the first 100 ms of it come from the full bucket, so 1.9 s is exact.
    report rate_report;
    const std::uint64_t rate_size = std::min<std::uint64_t>(size, 64 * mib);
    const std::uint64_t rate = rate_size / 2;
    const bool rate_selected = only.empty() || only.find(",rate,") != std::string::npos;
    if (rate_selected) {
        job j = base;
        j.size = rate_size;
        j.rate = rate;
        j.key = "upload-bench/rate";
        std::string head(static_cast<std::size_t>(rate_size), '\0');
        const int fd = ::open(g_file_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || !pread_all(fd, head.data(), head.size(), 0)) {
            std::printf("reading the test file failed\n");
            return 1;
        }
        ::close(fd);
        j.crc64 = ossmp::crc64(head);
        std::printf("rate limit\n");
        rate_report = run_in_child([&] { return uploader(j, source_kind::memory); });
        if (rate_report.ok)
            std::printf("    %-12s %7.3f s for %.0f MiB at %.1f MiB/s\n", "rate",
                        rate_report.seconds, static_cast<double>(rate_size) / mib,
                        static_cast<double>(rate) / mib);
        else
            std::printf("    %-12s FAILED: %s\n", "rate", rate_report.message);
    }
    stop_emulator(emu);
    if (with_tls)
        stop_emulator(tls_emu);
    ::unlink(g_file_path.c_str());

    // Per-round ratios of the target line (each uploader against the ceiling of its round).
    std::printf("\nper-round ratios to their ceiling:");
    for (const auto& m : plan) {
        if (m.what != kind::upload && m.what != kind::memory && m.what != kind::stream)
            continue;
        const auto& lim = plan[static_cast<std::size_t>(m.limit)];
        if (!m.selected || !lim.selected)
            continue;
        std::printf("\n  %-12s", m.key.c_str());
        for (std::size_t i = 0; i < m.rounds.size() && i < lim.rounds.size(); ++i)
            if (m.rounds[i].ok && lim.rounds[i].ok)
                std::printf(" %.3fx",
                            m.rounds[i].bytes_per_second() / lim.rounds[i].bytes_per_second());
    }
    std::printf("\n\nmedians over %d round%s (best throughput in brackets); GB = 1e9 bytes\n",
                rounds, rounds == 1 ? "" : "s");
    std::printf("%-46s %15s %15s %8s  %-10s %s\n", "figure", "value", "vs limit", "ratio", "target",
                "ok/MISS");
    bool pass = true, failures = false;
    for (const auto& m : plan) {
        if (!m.selected)
            continue;
        if (!all_ok(m)) {
            std::printf("%-46s FAILED (see above)\n", m.label.c_str());
            failures = true;
            continue;
        }
        const measurement* lim = m.limit >= 0 && plan[static_cast<std::size_t>(m.limit)].selected &&
                                         all_ok(plan[static_cast<std::size_t>(m.limit)])
                                     ? &plan[static_cast<std::size_t>(m.limit)]
                                     : nullptr;
        const double rate = median_rate(m) / 1e9;
        const double lim_rate = lim ? median_rate(*lim) / 1e9 : 0;
        const double cpu = median(each(m, [](const report& r) { return r.cpu_per_gib(); }));
        const double rss = median(each(m, [](const report& r) { return r.max_rss_mib; }));
        const double max_rss = [&] {
            auto v = each(m, [](const report& r) { return r.max_rss_mib; });
            return *std::max_element(v.begin(), v.end());
        }();
        char best[48];
        std::snprintf(best, sizeof best, " [best %.3f]", best_rate(m) / 1e9);
        const bool target_line = &m == &plan[static_cast<std::size_t>(u4)];
        // The TLS twin of (c): >= 0.6x of (c) in the same run.
        const bool tls_target_line = u4_tls >= 0 && &m == &plan[static_cast<std::size_t>(u4_tls)];
        if (m.what == kind::upload || m.what == kind::memory || m.what == kind::stream) {
            line(m.label + best, rate, "GB/s", lim_rate,
                 lim_rate > 0 && target_line       ? ">= 0.9x"
                 : lim_rate > 0 && tls_target_line ? ">= 0.6x"
                                                   : "-",
                 lim_rate > 0 &&
                     rate / lim_rate >= (tls_target_line ? target_tls_ratio : target_ratio),
                 pass);
            line("    client CPU", cpu, "s/GiB", target_line ? target_cpu_per_gib : 0,
                 target_line ? "<= 0.35" : "-", cpu <= target_cpu_per_gib, pass);
            // memory: the caller's bytes + 24 MiB; stream: (W+1) part buffers + 24 MiB.
            const double bound =
                m.what == kind::memory ? static_cast<double>(size) / mib + memory_source_extra_mib
                : m.what == kind::stream
                    ? static_cast<double>(m.parallel + 1) * static_cast<double>(m.part_size) / mib +
                          memory_source_extra_mib
                    : target_rss_mib;
            char target[32];
            std::snprintf(target, sizeof target, "<= %.0f", bound);
            line("    peak RSS (worst round)", max_rss, "MiB", bound, target, max_rss <= bound,
                 pass);
            if (!all_verified(m)) {
                std::printf("    NOT VERIFIED: the server did not vouch for the object in some "
                            "round (result.verified false)\n");
                pass = false;
            }
        } else {
            line(m.label + best, rate, "GB/s", lim_rate, "-", true, pass);
            line("    client CPU", cpu, "s/GiB", 0, "-", true, pass);
            line("    peak RSS", rss, "MiB", 0, "-", true, pass);
            if (m.what == kind::ceiling && !all_verified(m))
                std::printf("    NOT VERIFIED: the emulator sent no CRC-64 for some part or "
                            "for Complete\n");
        }
    }
    if (rate_selected) {
        // Target: 2 s +/- 15% (what `upload_options::rate_limit` promises, within a timer's
        // and a chunk's granularity).
        char label[96];
        std::snprintf(label, sizeof label, "(e) %.0f MiB from memory at %.1f MiB/s",
                      static_cast<double>(rate_size) / mib, static_cast<double>(rate) / mib);
        if (!rate_report.ok) {
            std::printf("%-46s FAILED (see above)\n", label);
            failures = true;
        } else {
            line(label, rate_report.seconds, "s", 2.0, "2 +/- 15%",
                 rate_report.seconds >= 1.7 && rate_report.seconds <= 2.3, pass);
        }
    }
    std::printf("overall: %s; %.0f s\n",
                failures ? "FAILED transfers" : (pass ? "every target met" : "targets MISSED"),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return failures ? 1 : 0;
}
