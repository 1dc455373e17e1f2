// emulator_bench: how fast `ossmp-emulator --storage sink` takes bytes, next to raw loopback
// TCP measured in the same run, and how many small PutObject requests per second it answers.
//
//   emulator_bench [--quick] [PATH/TO/ossmp-emulator]   (default: ../tools/emulator/
//                                              ossmp-emulator relative to this program)
//
// --quick: a smoke run of about 3 s (4 cycles of 0.1 s slices, only the target run, 0.5 s of
// small PutObjects). With OSSMP_BENCH_ROWS=FILE in the environment the figures are also
// appended to FILE as tab-separated rows (bench_rows.hpp; scripts/bench collects them).
//
// Ingest is measured by alternation: 4 client threads keep three sets of keep-alive
// connections open at once and switch between them every 0.25 s, so each receiver is measured
// in many short slices interleaved with the others (this machine's loopback swings by 25% from
// one second to the next; figures taken seconds apart were too noisy to compare). Receivers:
//   raw           a reader thread per connection that reads 64 KiB at a time into a page-aligned
//                 buffer and drops the bytes: the limit. (64 KiB reads were the fastest reader
//                 here: 6.6-6.9 GB/s against 6.0 with 256 KiB and 5.6 with 1 MiB.)
//   raw + CRC-64  the same readers, also computing CRC-64 of what they read: the least work a
//                 sink that checks bodies can do (information).
//   sink          the emulator: each client sends 8 MiB UploadPart requests (signed V4, head and
//                 body in one writev), the emulator parses, authenticates, CRC-64s and drops each
//                 body, and answers. Target: sink >= 0.9x raw.
// The raw receivers run in processes of their own, like the emulator. Every receiver's CPU time
// is measured too (each process's rusage), as seconds per GB received: the receiving side's
// cost per byte, which on a machine shared by client and server comes out of the client's
// share (loopback packet processing is counted wherever the kernel happens to run it).
//
// Runs: (1) client and receivers sharing all CPUs, emulator `--threads 4` (as many receiving
// threads as the raw limit has): the target line; (2) the same with the emulator's default
// `--threads` (information); (3) with the client pinned to the first half of the CPUs and the
// receivers to the other half (information, needs 2+ CPUs): each side then has its own cores and
// the ratio shows whether the receiver or the sender is the limit. Then small PutObject: 1 KiB
// requests over 4 keep-alive connections, one in flight per connection, signed per request,
// requests/s (information). Bounded: about 40 s.
#include "bench_rows.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/credentials.hpp"
#include "ossmp/crypto.hpp"
#include "ossmp/endpoint.hpp"
#include "ossmp/http/parser.hpp"
#include "ossmp/http/serializer.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/signer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t part_size = 8 * 1024 * 1024;
constexpr int connections = 4;
// Not constants: --quick makes them smaller.
double slice_seconds = 0.25;
int cycles = 12; // raw, raw + CRC, sink: 12 x 3 slices = 9 s per run
constexpr std::size_t raw_read_size = 64 * 1024;
// Chunked bodies: 64 KiB chunks (libcurl's default upload buffer size).
constexpr std::size_t chunk_size = 64 * 1024;
double storage_seconds = 2.0;
double small_put_seconds = 3.0;

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

/// CPUs the calling thread may run on.
std::vector<int> allowed_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (::sched_getaffinity(0, sizeof set, &set) == 0)
        for (int i = 0; i < CPU_SETSIZE; ++i)
            if (CPU_ISSET(i, &set))
                cpus.push_back(i);
    return cpus;
}

/// Restricts the calling thread (and what it forks afterwards) to `cpus`; no-op when empty.
void pin_to(const std::vector<int>& cpus) {
    if (cpus.empty())
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cpus)
        CPU_SET(c, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0)
        die("sched_setaffinity");
}

double seconds(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

/// Waits for child `pid` (`what` names it in the error) to exit 0; returns its CPU seconds
/// (user + system).
double reap(pid_t pid, const char* what) {
    int st = 0;
    rusage ru{};
    if (::wait4(pid, &st, 0, &ru) != pid)
        die("wait4");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        std::fprintf(stderr, "%s did not exit cleanly (status %d)\n", what, st);
        std::exit(1);
    }
    return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

int connect_to(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        die("connect");
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void write_all(int fd, std::span<iovec> iov) {
    std::size_t i = 0;
    while (i < iov.size()) {
        ssize_t n = ::writev(fd, iov.data() + i, static_cast<int>(iov.size() - i));
        if (n < 0)
            die("writev");
        auto left = static_cast<std::size_t>(n);
        while (i < iov.size() && left >= iov[i].iov_len) {
            left -= iov[i].iov_len;
            ++i;
        }
        if (i < iov.size()) {
            iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + left;
            iov[i].iov_len -= left;
        }
    }
}

/// Reads `fd` until EOF in blocks of `raw_read_size` (page-aligned), with `crc` also CRC-64ing.
void read_and_drop(int fd, bool crc) {
    constexpr std::align_val_t align{4096};
    std::unique_ptr<char[], void (*)(char*)> buf(
        static_cast<char*>(::operator new[](raw_read_size, align)),
        [](char* p) { ::operator delete[](p, std::align_val_t{4096}); });
    std::uint64_t sum = 0;
    ssize_t n;
    while ((n = ::read(fd, buf.get(), raw_read_size)) > 0)
        if (crc)
            sum = ossmp::crc64(std::string_view(buf.get(), static_cast<std::size_t>(n)), sum);
    static std::atomic<std::uint64_t> sink_for_crc{0};
    sink_for_crc ^= sum; // keeps the CRC from being optimised away
    ::close(fd);
}

/// The raw limit: a loopback listener that accepts `connections` connections and gives each a
/// reader thread that reads and drops, with `crc` also CRC-64ing. Like the emulator, it runs in
/// a process of its own (forked; on `cpus` when not empty), and its CPU time is that process's.
class raw_receiver {
public:
    raw_receiver(bool crc, const std::vector<int>& cpus) {
        int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(lfd, 16) != 0)
            die("bind/listen");
        socklen_t len = sizeof a;
        ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        pid_ = ::fork();
        if (pid_ < 0)
            die("fork");
        if (pid_ == 0) {
            pin_to(cpus);
            std::vector<std::thread> readers;
            for (int i = 0; i < connections; ++i) {
                int fd = ::accept(lfd, nullptr, nullptr);
                if (fd < 0)
                    std::_Exit(1);
                readers.emplace_back([fd, crc] { read_and_drop(fd, crc); });
            }
            for (auto& t : readers)
                t.join();
            std::_Exit(0);
        }
        ::close(lfd);
    }
    raw_receiver(const raw_receiver&) = delete;
    raw_receiver& operator=(const raw_receiver&) = delete;
    ~raw_receiver() { // only reached without `join` on an error path: do not leave it running
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    /// Waits for the receiver to finish (call after the clients closed their connections) and
    /// returns its CPU seconds (user + system).
    double join() { return pid_ > 0 ? reap(std::exchange(pid_, -1), "raw receiver") : 0; }

    std::uint16_t port = 0;

private:
    pid_t pid_ = -1;
};

struct emulator {
    pid_t pid = -1;
    std::uint16_t port = 0;
};

/// Starts `ossmp-emulator --storage STORAGE` (default sink) on port 0 (`threads`: its
/// --threads value, null for the default; on `cpus` when not empty) and reads the port from its
/// first line.
emulator start_emulator(const std::string& path, const char* threads, const std::vector<int>& cpus,
                        const std::string& storage = "sink") {
    int pipefd[2];
    if (::pipe(pipefd) != 0)
        die("pipe");
    pid_t pid = ::fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        pin_to(cpus);
        ::dup2(pipefd[1], 1);
        ::close(pipefd[0]);
        std::vector<const char*> args{path.c_str(), "--listen",      "127.0.0.1:0",
                                      "--storage",  storage.c_str(), "--bucket",
                                      "bench",      "--credentials", "bench-ak:bench-sk"};
        if (threads) {
            args.push_back("--threads");
            args.push_back(threads);
        }
        args.push_back(nullptr);
        ::execv(path.c_str(), const_cast<char* const*>(args.data()));
        std::perror("exec ossmp-emulator");
        std::_Exit(127);
    }
    ::close(pipefd[1]);
    std::string line;
    char c;
    while (::read(pipefd[0], &c, 1) == 1 && c != '\n')
        line.push_back(c);
    // Keep draining its stdout: a closed pipe would kill it with SIGPIPE on its next line.
    std::thread([fd = pipefd[0]] {
        char buf[4096];
        while (::read(fd, buf, sizeof buf) > 0) {
        }
        ::close(fd);
    }).detach();
    const std::string prefix = "ossmp-emulator listening on http://127.0.0.1:";
    if (line.rfind(prefix, 0) != 0) {
        std::fprintf(stderr, "emulator did not start: '%s'\n", line.c_str());
        std::exit(1);
    }
    return {pid, static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())))};
}

/// Stops the emulator (SIGTERM) and returns its CPU seconds (user + system).
double stop_emulator(const emulator& emu) {
    ::kill(emu.pid, SIGTERM);
    return reap(emu.pid, "emulator");
}

/// One keep-alive client connection that sends signed requests and reads the replies.
class client_connection {
public:
    explicit client_connection(std::uint16_t port) : fd_(connect_to(port)) {
        ossmp::parse_endpoint("http://127.0.0.1:" + std::to_string(port), endpoint_);
        so_.region = "cn-hangzhou";
    }
    ~client_connection() { ::close(fd_); }

    /// Sends `req` (built, not yet addressed or signed) and waits for the whole reply. With
    /// `chunked`, the body goes with `Transfer-Encoding: chunked` in chunks of `chunk_size`
    /// bytes (as a client streaming a body of unknown length sends it) instead of a
    /// Content-Length.
    ossmp::http::response send(ossmp::http::request& req, bool chunked = false) {
        endpoint_.apply(req);
        if (ossmp::sign(req, creds_, so_, std::chrono::system_clock::now(), cache_))
            die("sign");
        std::string head = ossmp::http::serialize_head(req);
        const auto body = req.body();
        if (!chunked) {
            iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                            {const_cast<char*>(body.data()), body.size()}};
            write_all(fd_, std::span<iovec>(iov, body.empty() ? 1 : 2));
        } else {
            const std::string length = "Content-Length: " + std::to_string(body.size()) + "\r\n";
            const auto at = head.find(length);
            if (at == std::string::npos)
                die("no Content-Length to replace");
            head.replace(at, length.size(), "Transfer-Encoding: chunked\r\n");
            // Head, then (size line, data, CRLF) per chunk, then the last chunk: one writev
            // per 256 chunks.
            char size_line[32];
            const int size_len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk_size);
            std::vector<iovec> iov{{const_cast<char*>(head.data()), head.size()}};
            for (std::size_t off = 0; off < body.size(); off += chunk_size) {
                const std::size_t n = std::min(chunk_size, body.size() - off);
                if (n != chunk_size)
                    die("the body is not a whole number of chunks");
                iov.push_back({size_line, static_cast<std::size_t>(size_len)});
                iov.push_back({const_cast<char*>(body.data() + off), n});
                iov.push_back({const_cast<char*>("\r\n"), 2});
                if (iov.size() >= 3 * 256) {
                    write_all(fd_, std::span<iovec>(iov));
                    iov.clear();
                }
            }
            iov.push_back({const_cast<char*>("0\r\n\r\n"), 5});
            write_all(fd_, std::span<iovec>(iov));
        }
        ossmp::http::response_parser parser;
        std::error_code ec;
        while (!parser.done()) {
            if (pending_.empty()) {
                char buf[16384];
                ssize_t n = ::read(fd_, buf, sizeof buf);
                if (n <= 0)
                    die("read reply");
                pending_.assign(buf, static_cast<std::size_t>(n));
            }
            // feed() stops after the header section and at the end of the message.
            auto used = parser.feed(pending_, ec);
            if (ec) {
                std::fprintf(stderr, "bad reply: %s\n", ec.message().c_str());
                std::exit(1);
            }
            pending_.erase(0, used);
        }
        return parser.release();
    }

private:
    int fd_;
    std::string pending_;
    ossmp::endpoint endpoint_;
    ossmp::credentials creds_{"bench-ak", "bench-sk", ""};
    ossmp::sign_options so_;
    ossmp::v4_key_cache cache_;
};

void print(const char* name, double value, const char* unit, const char* target, bool pass) {
    std::printf("%-44s %12.3f %-6s target %-8s %s\n", name, value, unit, target,
                target[0] == '-' ? "INFO" : (pass ? "PASS" : "MISS"));
    std::fflush(stdout);
}

/// Threads of process `pid` (/proc/PID/task entries; 0 if unreadable).
std::size_t thread_count(pid_t pid) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it =
             std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

/// Initiates one upload on the emulator and returns its id (a plain search of the XML reply:
/// the XML parsers are measured by micro_bench).
std::string initiate(std::uint16_t port) {
    client_connection c(port);
    ossmp::initiate_params p;
    p.bucket = "bench";
    p.key = "big.bin";
    ossmp::http::request req;
    if (ossmp::make_initiate_request(p, req))
        die("initiate params");
    const auto res = c.send(req);
    const std::string& xml = res.body;
    auto b = xml.find("<UploadId>"), e = xml.find("</UploadId>");
    if (res.status != 200 || b == std::string::npos || e == std::string::npos) {
        std::fprintf(stderr, "initiate failed: %s\n", xml.c_str());
        std::exit(1);
    }
    return xml.substr(b + 10, e - b - 10);
}

enum receiver_kind { raw = 0, raw_crc = 1, sink = 2, kinds = 3 };

/// What one alternating run measured, per receiver.
struct ingest_figures {
    std::array<double, kinds> gbps{};       ///< bytes / time of that receiver's slices
    std::array<double, kinds> cpu_per_gb{}; ///< receiver CPU seconds per GB received
    double min_cycle_ratio = 0;             ///< sink/raw of single cycles (the spread)
    double max_cycle_ratio = 0;
    std::size_t emulator_threads = 0; ///< threads of the emulator process
    bool failed = false;              ///< an UploadPart did not answer 200
};

/// One alternating run: raw, raw + CRC-64 and the emulator as receivers, `cycles` x 3 slices.
/// With `pinned`, the client threads run on `client_cpus`, the receivers on `receiver_cpus`.
ingest_figures alternate(const std::string& path, const char* threads, const std::string& body,
                         const std::vector<int>& client_cpus,
                         const std::vector<int>& receiver_cpus) {
    ingest_figures out;
    raw_receiver plain(false, receiver_cpus), with_crc(true, receiver_cpus);
    const emulator emu = start_emulator(path, threads, receiver_cpus);
    const std::string upload_id = initiate(emu.port);

    std::atomic<int> phase{raw}; // -1: stop
    std::array<std::atomic<std::uint64_t>, kinds> bytes{};
    std::atomic<int> next_part{1};
    std::atomic<bool> bad{false};
    std::vector<std::thread> clients;
    for (int i = 0; i < connections; ++i)
        clients.emplace_back([&] {
            pin_to(client_cpus);
            const int fds[2] = {connect_to(plain.port), connect_to(with_crc.port)};
            client_connection c(emu.port);
            for (int ph; (ph = phase.load()) >= 0;) {
                if (ph != sink) {
                    iovec iov{const_cast<char*>(body.data()), body.size()};
                    write_all(fds[ph], std::span<iovec>(&iov, 1));
                } else {
                    ossmp::upload_part_params p;
                    p.bucket = "bench";
                    p.key = "big.bin";
                    p.upload_id = upload_id;
                    p.part_number = (next_part++ % 10000) + 1;
                    p.data = std::as_bytes(std::span<const char>(body.data(), body.size()));
                    ossmp::http::request req;
                    ossmp::make_upload_part_request(p, req);
                    if (c.send(req).status != 200)
                        bad = true;
                }
                // Counted for the receiver it went to, whichever slice it finished in: a
                // send that straddles a switch lands in its own receiver's total.
                bytes[ph] += body.size();
            }
            ::close(fds[0]);
            ::close(fds[1]);
        });

    std::array<double, kinds> time{};
    std::array<std::uint64_t, kinds> seen{};
    std::vector<double> cycle_ratios;
    std::array<double, kinds> cycle_rate{};
    for (int cycle = 0; cycle < cycles; ++cycle) {
        for (int ph = 0; ph < kinds; ++ph) {
            phase = ph;
            const auto t0 = std::chrono::steady_clock::now();
            std::this_thread::sleep_for(std::chrono::duration<double>(slice_seconds));
            const double d =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            time[ph] += d;
            const std::uint64_t now = bytes[ph].load();
            cycle_rate[ph] = static_cast<double>(now - seen[ph]) / d;
            seen[ph] = now;
        }
        if (cycle > 0 && cycle_rate[raw] > 0) // the first cycle warms the connections up
            cycle_ratios.push_back(cycle_rate[sink] / cycle_rate[raw]);
    }
    out.emulator_threads = thread_count(emu.pid);
    phase = -1;
    for (auto& t : clients)
        t.join();
    const std::array<double, kinds> cpu = {plain.join(), with_crc.join(), stop_emulator(emu)};
    for (int k = 0; k < kinds; ++k) {
        const double gb = static_cast<double>(bytes[k].load()) / 1e9;
        out.gbps[k] = gb / time[k];
        out.cpu_per_gb[k] = gb > 0 ? cpu[k] / gb : 0;
    }
    std::sort(cycle_ratios.begin(), cycle_ratios.end());
    if (!cycle_ratios.empty()) {
        out.min_cycle_ratio = cycle_ratios.front();
        out.max_cycle_ratio = cycle_ratios.back();
    }
    out.failed = bad.load();
    return out;
}

/// Runs `send_one(connection)` again and again on `connections` threads, each with a keep-alive
/// connection of its own to `port`, for `seconds`; returns the seconds they ran.
template <class SendOne>
double send_for(std::uint16_t port, double seconds, SendOne send_one) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < connections; ++i)
        threads.emplace_back([&] {
            client_connection c(port);
            while (!stop.load(std::memory_order_relaxed))
                send_one(c);
        });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : threads)
        t.join();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// 1 KiB PutObject requests/s over `connections` keep-alive connections (emulator --threads 4).
double small_puts_per_s(const std::string& path, bool& failed) {
    const emulator emu = start_emulator(path, "4", {});
    const std::string small(1024, 's');
    std::atomic<std::uint64_t> count{0};
    std::atomic<int> next_key{0};
    const double secs = send_for(emu.port, small_put_seconds, [&](client_connection& c) {
        ossmp::put_object_params p;
        p.bucket = "bench";
        p.key = "small/" + std::to_string(next_key++ % 1000);
        p.data = std::as_bytes(std::span<const char>(small.data(), small.size()));
        ossmp::http::request req;
        ossmp::make_put_object_request(p, req);
        if (c.send(req).status != 200)
            failed = true;
        ++count;
    });
    stop_emulator(emu);
    return static_cast<double>(count.load()) / secs;
}

/// What `storage_run` measured.
struct storage_figures {
    double gbps = 0;
    double cpu_per_gb = 0; ///< the emulator's CPU seconds per GB received
    bool failed = false;
};

/// One storage, one body framing: 8 MiB UploadParts over `connections` keep-alive connections
/// for `storage_seconds`, part numbers 1..8 again and again (memory storage keeps at most 8
/// parts, dir storage overwrites 8 files).
storage_figures storage_run(const std::string& path, const std::string& storage, bool chunked,
                            const std::string& body) {
    const emulator emu = start_emulator(path, "4", {}, storage);
    const std::string upload_id = initiate(emu.port);
    std::atomic<bool> bad{false};
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<int> next_part{0};
    const double secs = send_for(emu.port, storage_seconds, [&](client_connection& c) {
        ossmp::upload_part_params p;
        p.bucket = "bench";
        p.key = "big.bin";
        p.upload_id = upload_id;
        p.part_number = next_part++ % 8 + 1;
        p.data = std::as_bytes(std::span<const char>(body.data(), body.size()));
        ossmp::http::request req;
        ossmp::make_upload_part_request(p, req);
        if (c.send(req, chunked).status != 200)
            bad = true;
        bytes += body.size();
    });
    const double cpu = stop_emulator(emu);
    const double gb = static_cast<double>(bytes.load()) / 1e9;
    return {gb / secs, gb > 0 ? cpu / gb : 0, bad.load()};
}

/// CPU seconds per GB of `work(body)` repeated over 1 GiB of 8 MiB bodies (this thread's CPU).
template <class Work>
double cost_per_gb(const std::string& body, Work work) {
    const int rounds = 128;
    timespec a{}, b{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (int i = 0; i < rounds; ++i)
        work();
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    const double secs =
        static_cast<double>(b.tv_sec - a.tv_sec) + static_cast<double>(b.tv_nsec - a.tv_nsec) / 1e9;
    return secs / (static_cast<double>(body.size()) * rounds / 1e9);
}

void report(const char* run, const ingest_figures& f, bool with_target) {
    const std::string r = run;
    ossmp_bench::row("emulator", r + ": raw loopback TCP", f.gbps[raw], "GB/s", 0, "-", true);
    ossmp_bench::row("emulator", r + ": raw + CRC-64", f.gbps[raw_crc], "GB/s", f.gbps[raw], "-",
                     true);
    ossmp_bench::row("emulator", r + ": sink UploadPart", f.gbps[sink], "GB/s", f.gbps[raw],
                     with_target ? ">= 0.9x" : "-", f.gbps[sink] / f.gbps[raw] >= 0.9);
    ossmp_bench::row("emulator", r + ": emulator CPU per GB", f.cpu_per_gb[sink], "s/GB",
                     f.cpu_per_gb[raw_crc], "-", true);
    std::printf("%s (emulator process threads: %zu; single cycles sink/raw %.3f-%.3fx)\n", run,
                f.emulator_threads, f.min_cycle_ratio, f.max_cycle_ratio);
    print("  raw loopback TCP (4 conn, 8 MiB writes)", f.gbps[raw], "GB/s", "-", true);
    print("  raw + CRC-64 (least work of a sink)", f.gbps[raw_crc], "GB/s", "-", true);
    print("  sink UploadPart (4 conn, 8 MiB parts)", f.gbps[sink], "GB/s", "-", true);
    print("  sink / raw", f.gbps[sink] / f.gbps[raw], "x", with_target ? ">= 0.9" : "-",
          f.gbps[sink] / f.gbps[raw] >= 0.9);
    print("  sink / (raw + CRC-64)", f.gbps[sink] / f.gbps[raw_crc], "x", "-", true);
    print("  receiver CPU per GB: raw", f.cpu_per_gb[raw], "s", "-", true);
    print("  receiver CPU per GB: raw + CRC-64", f.cpu_per_gb[raw_crc], "s", "-", true);
    print("  receiver CPU per GB: emulator", f.cpu_per_gb[sink], "s", "-", true);
}

} // namespace

int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    bool quick = false;
    int argi = 1;
    if (argc > argi && std::string_view(argv[argi]) == "--quick") {
        quick = true;
        ++argi;
        slice_seconds = 0.1;
        cycles = 4;
        small_put_seconds = 0.5;
        storage_seconds = 0.3;
    }
    std::string path =
        argc > argi
            ? argv[argi]
            : (std::filesystem::path(argv[0]).parent_path() / "../tools/emulator/ossmp-emulator")
                  .string();
    const std::string body(part_size, 'x');
    bool failed = false;

    const auto shared4 = alternate(path, "4", body, {}, {});
    report("shared CPUs, emulator --threads 4", shared4, true);
    failed = shared4.failed;
    if (!quick) {
        const auto shared_default = alternate(path, nullptr, body, {}, {});
        report("shared CPUs, emulator default --threads", shared_default, false);
        failed = failed || shared_default.failed;
    }

    const std::vector<int> cpus = allowed_cpus();
    if (quick) {
        std::printf("separate CPUs: skipped (--quick)\n");
    } else if (cpus.size() >= 2) {
        const auto half = static_cast<std::ptrdiff_t>(cpus.size() / 2);
        const std::vector<int> client_cpus(cpus.begin(), cpus.begin() + half);
        const std::vector<int> receiver_cpus(cpus.begin() + half, cpus.end());
        const auto pinned = alternate(path, "4", body, client_cpus, receiver_cpus);
        report("client and receivers on separate CPUs, emulator --threads 4", pinned, false);
        failed = failed || pinned.failed;
    } else {
        std::printf("separate CPUs: skipped (one CPU allowed)\n");
    }

    // Storage and body framing: what memory and dir: storage add to the sink, with bodies sent
    // with a Content-Length and chunked. Memory and dir storage compute every body's MD5 (a
    // part's ETag, as OSS's) and keep the bytes (memory: the buffer the socket was read into;
    // a chunked body's data is copied there out of the read buffer). Target: memory storage
    // with chunked bodies costs at most the sink (Content-Length) + MD5 + two copies of every
    // byte, i.e. chunked framing costs about a copy, not a doubling of buffers.
    std::string to(body.size(), '\0');
    const double copy = cost_per_gb(body, [&] {
        std::memcpy(to.data(), body.data(), body.size());
        asm volatile("" : : "r"(to.data()) : "memory");
    });
    const double md5 = cost_per_gb(body, [&] {
        auto d = ossmp::crypto::md5(body);
        asm volatile("" : : "r"(d.data()) : "memory");
    });
    print("one memcpy of 8 MiB, CPU per GB", copy, "s", "-", true);
    print("MD5 of 8 MiB, CPU per GB", md5, "s", "-", true);
    ossmp_bench::row("emulator", "one memcpy of 8 MiB: CPU per GB", copy, "s/GB", 0, "-", true);
    ossmp_bench::row("emulator", "MD5 of 8 MiB: CPU per GB", md5, "s/GB", 0, "-", true);
    namespace fs = std::filesystem;
    const fs::path dir =
        fs::temp_directory_path() / ("ossmp-emulator-bench-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    struct variant {
        const char* name;
        std::string storage;
        bool chunked;
    };
    const variant variants[] = {{"sink, Content-Length", "sink", false},
                                {"sink, chunked", "sink", true},
                                {"memory, Content-Length", "memory", false},
                                {"memory, chunked", "memory", true},
                                {"dir, Content-Length", "dir:" + dir.string(), false},
                                {"dir, chunked", "dir:" + dir.string(), true}};
    double sink_cl = 0;
    for (const auto& v : variants) {
        const storage_figures f = storage_run(path, v.storage, v.chunked, body);
        failed = failed || f.failed;
        const std::string name = std::string("storage ") + v.name;
        if (sink_cl == 0)
            sink_cl = f.cpu_per_gb;
        const bool judged = v.storage == "memory" && v.chunked;
        const double limit = sink_cl + md5 + 2 * copy;
        print((name + ": emulator CPU per GB").c_str(), f.cpu_per_gb, "s",
              judged ? "<= sink+MD5+2 copies" : "-", f.cpu_per_gb <= limit);
        ossmp_bench::row("emulator", name + ", 4 conn, 8 MiB parts", f.gbps, "GB/s", 0, "-", true);
        ossmp_bench::row("emulator", name + ": emulator CPU per GB", f.cpu_per_gb, "s/GB",
                         judged ? limit : 0, judged ? "<= 1x" : "-",
                         !judged || f.cpu_per_gb <= limit);
    }
    std::error_code ignored;
    fs::remove_all(dir, ignored);

    const double puts = small_puts_per_s(path, failed);
    print("small PutObject 1 KiB (4 conn, --threads 4)", puts, "req/s", "-", true);
    ossmp_bench::row("emulator", "small PutObject 1 KiB (4 conn, --threads 4)", puts, "req/s", 0,
                     "-", true);
    if (failed) {
        std::fprintf(stderr, "some requests failed\n");
        return 1;
    }
    return 0;
}
