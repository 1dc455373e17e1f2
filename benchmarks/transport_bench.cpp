// transport_bench: throughput and client CPU of asio_transport sending 8 MiB UploadPart-like
// PUTs over 1, 2 and 4 keep-alive connections to a local discard server, printed beside two
// limits measured in the same run:
//   (a) raw loopback TCP: blocking sockets, no HTTP, no CRC;
//   (b) raw sockets doing the unavoidable work: the sender CRC-64s each part before sending it,
//       the receiver reads and CRC-64s what it gets.
// The discard server runs in this process on its own threads (one per connection, blocking
// reads with a 1 MiB buffer). Client CPU is the sending threads' own user+system time
// (getrusage RUSAGE_THREAD), so the server's work is not counted.
//
// Each transport figure is ONE asio_transport on one io_context run by min(connections, cores)
// threads (the transport is safe on a multi-threaded io_context: a strand per connection); the
// 4-connection line is the target. The same 4 connections on a single I/O thread are printed
// too (information): one thread doing the CRC-64 and the kernel copy of every byte is
// CPU-bound at roughly 0.8-0.9x of (b) here.
// Targets (issue "Speed"): asio_transport with 4 connections >= 0.9x (b); client CPU <= 0.3 s
// per GiB. Usage: transport_bench [seconds-per-measurement, default 1.0]; 3 interleaved
// rounds, each figure's best round is reported. Whole run about 20 s (< 60 s). With
// OSSMP_BENCH_ROWS=FILE in the environment the best-round figures are also appended to FILE as
// tab-separated rows (bench_rows.hpp; scripts/bench collects them).
#include "bench_rows.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/transport/asio_transport.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdlib.h> // getloadavg
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::size_t part_size = 8 * 1024 * 1024;      // 8 MiB UploadParts (the issue)
constexpr std::size_t source_size = 8 * part_size;      // parts cycle through 64 MiB
constexpr std::size_t server_buffer_size = 1024 * 1024; // "reading with a big buffer"
constexpr double gib = 1024.0 * 1024.0 * 1024.0;

double thread_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string_view part_view(const std::vector<char>& source, std::size_t n) {
    std::size_t offset = (n % (source_size / part_size)) * part_size;
    return {source.data() + offset, part_size};
}

/// The discard server. Mode raw: read and drop (optionally CRC). Mode http: parse request
/// heads, read Content-Length bodies (CRC-64 them), answer 200 with x-oss-hash-crc64ecma.
class discard_server {
public:
    discard_server(bool http, bool crc) : http_(http), crc_(crc) {
        asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        accept_thread_ = std::thread([this] { accept_loop(); });
    }
    ~discard_server() {
        stop_ = true;
        // Wake the blocking accept with one throwaway connection.
        try {
            asio::ip::tcp::socket s(io_);
            s.connect(acceptor_.local_endpoint());
        } catch (...) {
        }
        accept_thread_.join();
        for (auto& t : threads_)
            t.join();
    }
    std::uint16_t port() const { return port_; }
    std::uint64_t bytes() const { return bytes_.load(); }

private:
    void accept_loop() {
        for (;;) {
            auto s = std::make_shared<asio::ip::tcp::socket>(io_);
            std::error_code ec;
            acceptor_.accept(*s, ec);
            if (ec || stop_)
                return;
            threads_.emplace_back([this, s] { serve(*s); });
        }
    }

    void serve(asio::ip::tcp::socket& s) {
        std::vector<char> buf(server_buffer_size);
        std::error_code ec;
        if (!http_) {
            for (;;) {
                auto n = s.read_some(asio::buffer(buf), ec);
                if (ec)
                    return;
                if (crc_)
                    sink_crc_ ^= ossmp::crc64(std::string_view(buf.data(), n));
                bytes_ += n;
            }
        }
        std::string head;
        for (;;) {
            std::size_t end;
            while ((end = head.find("\r\n\r\n")) == std::string::npos) {
                auto n = s.read_some(asio::buffer(buf), ec);
                if (ec)
                    return;
                head.append(buf.data(), n);
            }
            std::size_t length = 0;
            auto cl = head.find("Content-Length: ");
            if (cl != std::string::npos && cl < end)
                length = std::strtoull(head.c_str() + cl + 16, nullptr, 10);
            std::string_view extra(head.data() + end + 4, head.size() - end - 4);
            std::uint64_t crc = 0;
            std::size_t got = std::min(extra.size(), length);
            crc = ossmp::crc64(extra.substr(0, got), crc);
            std::string rest(extra.substr(got));
            while (got < length) {
                auto n =
                    s.read_some(asio::buffer(buf.data(), std::min(buf.size(), length - got)), ec);
                if (ec)
                    return;
                crc = ossmp::crc64(std::string_view(buf.data(), n), crc);
                got += n;
            }
            bytes_ += length;
            head = std::move(rest);
            std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nx-oss-hash-crc64ecma: " +
                                std::to_string(crc) + "\r\n\r\n";
            asio::write(s, asio::buffer(reply), ec);
            if (ec)
                return;
        }
    }

    bool http_;
    bool crc_;
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> bytes_{0};
    std::atomic<std::uint64_t> sink_crc_{0};
    std::thread accept_thread_;
    std::vector<std::thread> threads_;
};

struct figure {
    double bytes_per_second = 0;
    double cpu_seconds_per_gib = 0;
};

/// (a) / (b): `connections` blocking sender threads; with `crc`, each part is CRC-64'd first.
figure raw_send(const std::vector<char>& source, int connections, bool crc, double seconds) {
    discard_server server(false, crc);
    std::atomic<std::uint64_t> sent{0};
    std::atomic<bool> go{false};
    std::mutex m;
    double cpu = 0;
    std::vector<std::thread> senders;
    clock_type::time_point deadline; // written before `go`, read after it
    for (int c = 0; c < connections; ++c) {
        senders.emplace_back([&, c] {
            asio::io_context io;
            asio::ip::tcp::socket s(io);
            s.connect({asio::ip::make_address("127.0.0.1"), server.port()});
            s.set_option(asio::ip::tcp::no_delay(true));
            while (!go)
                std::this_thread::yield();
            double cpu0 = thread_cpu_seconds();
            std::uint64_t volatile sink = 0;
            for (std::size_t n = static_cast<std::size_t>(c); clock_type::now() < deadline;
                 n += static_cast<std::size_t>(connections)) {
                auto part = part_view(source, n);
                if (crc)
                    sink = sink ^ ossmp::crc64(part);
                asio::write(s, asio::buffer(part.data(), part.size()));
                sent += part.size();
            }
            double used = thread_cpu_seconds() - cpu0;
            std::lock_guard lock(m);
            cpu += used;
        });
    }
    auto start = clock_type::now();
    deadline = start + std::chrono::duration_cast<clock_type::duration>(
                           std::chrono::duration<double>(seconds));
    go = true;
    for (auto& t : senders)
        t.join();
    double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    figure f;
    f.bytes_per_second = static_cast<double>(sent.load()) / elapsed;
    f.cpu_seconds_per_gib = cpu / (static_cast<double>(sent.load()) / gib);
    return f;
}

/// One asio_transport with `connections` keep-alive connections (and that many round trips in
/// flight) on one io_context run by `io_threads` threads. Each part is CRC-64'd on an I/O
/// thread right before it is sent, and checked against the server's reply. Client CPU is the
/// I/O threads' own time.
figure transport_send(const std::vector<char>& source, int connections, int io_threads,
                      double seconds, bool& crc_ok) {
    discard_server server(true, true);
    asio::io_context io(io_threads);
    ossmp::asio_transport_options o;
    o.max_connections_per_host = static_cast<std::size_t>(connections);
    ossmp::asio_transport transport(io, o);
    const std::string host = "127.0.0.1:" + std::to_string(server.port());

    // Warm up: open the connections (not timed).
    for (int c = 0; c < connections; ++c) {
        ossmp::http::request r;
        r.method = ossmp::http::verb::put;
        r.host = host;
        r.path = "/warm";
        transport.async_round_trip(std::move(r), ossmp::round_trip_options{},
                                   [](std::error_code, ossmp::http::response) {});
    }
    io.run();
    io.restart();

    std::atomic<std::size_t> next{0};
    std::atomic<std::uint64_t> sent{0};
    std::atomic<bool> crc_match{true};
    std::atomic<bool> failed{false};
    std::mutex m;
    std::error_code first_error;
    double cpu = 0;
    clock_type::time_point deadline;
    std::function<void()> start = [&] {
        if (clock_type::now() >= deadline || failed.load())
            return;
        std::size_t n = next.fetch_add(1);
        auto part = part_view(source, n);
        std::uint64_t crc = ossmp::crc64(part);
        ossmp::http::request r;
        r.method = ossmp::http::verb::put;
        r.host = host;
        r.path = "/bench/object";
        r.query.push_back({"partNumber", std::to_string(n % 10000 + 1)});
        r.query.push_back({"uploadId", "bench"});
        r.set_body_view(part);
        transport.async_round_trip(
            std::move(r), ossmp::round_trip_options{},
            [&, crc, size = part.size()](std::error_code ec, ossmp::http::response res) {
                if (ec || res.status != 200) {
                    std::lock_guard lock(m);
                    if (!first_error)
                        first_error = ec ? ec : make_error_code(ossmp::errc::bad_status_line);
                    failed = true;
                    return;
                }
                if (res.headers.get("x-oss-hash-crc64ecma") != std::to_string(crc))
                    crc_match = false;
                sent += size;
                start();
            });
    };
    auto t0 = clock_type::now();
    deadline = t0 + std::chrono::duration_cast<clock_type::duration>(
                        std::chrono::duration<double>(seconds));
    for (int c = 0; c < connections; ++c)
        asio::post(io, start); // the first parts are CRC'd on the I/O threads too
    std::vector<std::thread> threads;
    for (int i = 0; i < io_threads; ++i)
        threads.emplace_back([&] {
            double cpu0 = thread_cpu_seconds();
            io.run();
            double used = thread_cpu_seconds() - cpu0;
            std::lock_guard lock(m);
            cpu += used;
        });
    for (auto& t : threads)
        t.join();
    double elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
    if (first_error)
        std::printf("  error: %s\n", first_error.message().c_str());
    crc_ok = crc_match.load();
    if (transport.connections_opened() != static_cast<std::size_t>(connections))
        std::printf("  note: %zu connections opened (expected %d)\n",
                    transport.connections_opened(), connections);
    figure f;
    f.bytes_per_second = static_cast<double>(sent.load()) / elapsed;
    f.cpu_seconds_per_gib = cpu / (static_cast<double>(sent.load()) / gib);
    return f;
}

const char* verdict(bool pass) {
    return pass ? "PASS" : "MISS";
}

} // namespace

int main(int argc, char** argv) {
    // Shared 2-core machines are noisy: measure in interleaved rounds and keep each figure's
    // best round (the least disturbed one); per-round ratios are printed too.
    double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
    if (seconds <= 0 || seconds > 5)
        seconds = 1.0;
    constexpr int rounds = 3;
    std::vector<char> source(source_size);
    std::uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (auto& c : source) { // xorshift: incompressible, not all zeros
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x);
    }
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;
    std::printf("transport_bench: 8 MiB parts, %d rounds of %.1f s per figure, loopback, "
                "load average %.2f\n",
                rounds, seconds, load[0]);
    // I/O threads per figure: one per connection, at most one per core. The 4-connection
    // target line therefore runs one transport on 2 threads on this 2-core machine; the same
    // 4 connections on a single thread are printed as information.
    const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    const int counts[] = {1, 2, 4};
    int threads_for[3];
    for (int i = 0; i < 3; ++i)
        threads_for[i] = std::min(counts[i], cores);
    figure best_raw, best_work, best_t[3], best_t1;
    bool crc_ok = true;
    auto keep = [](figure& best, const figure& f) {
        if (f.bytes_per_second > best.bytes_per_second)
            best = f;
    };
    for (int r = 0; r < rounds; ++r) {
        auto raw = raw_send(source, 4, false, seconds);
        auto work = raw_send(source, 4, true, seconds);
        keep(best_raw, raw);
        keep(best_work, work);
        std::printf("round %d: (a) %7.1f MB/s  (b) %7.1f MB/s", r + 1, raw.bytes_per_second / 1e6,
                    work.bytes_per_second / 1e6);
        for (int i = 0; i < 3; ++i) {
            bool ok = true;
            auto t = transport_send(source, counts[i], threads_for[i], seconds, ok);
            crc_ok = crc_ok && ok;
            keep(best_t[i], t);
            std::printf("  %dc/%dt %7.1f MB/s (%.2fx b)", counts[i], threads_for[i],
                        t.bytes_per_second / 1e6, t.bytes_per_second / work.bytes_per_second);
        }
        bool ok = true;
        auto t1 = transport_send(source, 4, 1, seconds, ok);
        crc_ok = crc_ok && ok;
        keep(best_t1, t1);
        std::printf("  4c/1t %7.1f MB/s (%.2fx b)\n", t1.bytes_per_second / 1e6,
                    t1.bytes_per_second / work.bytes_per_second);
    }
    std::printf("best rounds:\n");
    std::printf(
        "(a) raw loopback TCP, 4 connections:            %8.1f MB/s  client CPU %.3f s/GiB\n",
        best_raw.bytes_per_second / 1e6, best_raw.cpu_seconds_per_gib);
    std::printf("(b) raw sockets + CRC-64 both ends, 4 conns:    %8.1f MB/s  client CPU %.3f s/GiB"
                "  (%.2fx of a)\n",
                best_work.bytes_per_second / 1e6, best_work.cpu_seconds_per_gib,
                best_work.bytes_per_second / best_raw.bytes_per_second);
    bool all_pass = crc_ok;
    const double mbps_raw = best_raw.bytes_per_second / 1e6;
    const double mbps_work = best_work.bytes_per_second / 1e6;
    ossmp_bench::row("transport", "(a) raw loopback TCP, 4 connections", mbps_raw, "MB/s", 0, "-",
                     true);
    ossmp_bench::row("transport", "(b) raw sockets + CRC-64 both ends, 4 connections", mbps_work,
                     "MB/s", mbps_raw, "-", true);
    for (int i = 0; i < 3; ++i) {
        const auto& t = best_t[i];
        int c = counts[i];
        double ratio = t.bytes_per_second / best_work.bytes_per_second;
        std::printf("asio_transport, %d connection%s, %d I/O thread%s:  %8.1f MB/s  = %.2fx of (b)",
                    c, c == 1 ? " " : "s", threads_for[i], threads_for[i] == 1 ? " " : "s",
                    t.bytes_per_second / 1e6, ratio);
        if (c == 4) {
            bool pass = ratio >= 0.9;
            all_pass = all_pass && pass;
            std::printf("  [target >= 0.90x: %s]", verdict(pass));
        }
        char name[96];
        std::snprintf(name, sizeof name, "asio_transport, %d connection%s, %d I/O thread%s", c,
                      c == 1 ? "" : "s", threads_for[i], threads_for[i] == 1 ? "" : "s");
        ossmp_bench::row("transport", name, t.bytes_per_second / 1e6, "MB/s", mbps_work,
                         c == 4 ? ">= 0.9x" : "-", ratio >= 0.9);
        ossmp_bench::row("transport", std::string(name) + ": client CPU", t.cpu_seconds_per_gib,
                         "s/GiB", c == 4 ? 0.3 : 0, c == 4 ? "<= 0.3" : "-",
                         t.cpu_seconds_per_gib <= 0.3);
        std::printf("\n    client CPU %.3f s/GiB", t.cpu_seconds_per_gib);
        if (c == 4) {
            bool pass = t.cpu_seconds_per_gib <= 0.3;
            all_pass = all_pass && pass;
            std::printf("  [target <= 0.300: %s]", verdict(pass));
        }
        std::printf("\n");
    }
    std::printf("asio_transport, 4 connections, 1 I/O thread:   %8.1f MB/s  = %.2fx of (b)  "
                "client CPU %.3f s/GiB  (information: one thread is CPU-bound)\n",
                best_t1.bytes_per_second / 1e6,
                best_t1.bytes_per_second / best_work.bytes_per_second, best_t1.cpu_seconds_per_gib);
    ossmp_bench::row("transport", "asio_transport, 4 connections, 1 I/O thread",
                     best_t1.bytes_per_second / 1e6, "MB/s", mbps_work, "-", true);
    if (!crc_ok)
        std::printf("CRC-64 MISMATCH between client and server\n");
    std::printf("overall: %s\n", verdict(all_pass));
    return crc_ok ? 0 : 1; // a missed target is not a failure; a wrong CRC-64 is
}
