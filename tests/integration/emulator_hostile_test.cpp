// Integration tests of ossmp-emulator against hostile clients: lying Content-Lengths, silent and
// half-open connections, the connection cap (and idle keep-alive connections at it), silent TLS
// clients, dripped bodies, exhausted descriptors, memory per connection, exceptions. Each test
// drives the real emulator process and then shows that it still serves a normal request and
// still stops at once on SIGTERM.
//
// Catch2 assertions are not thread-safe: client threads only record what they saw, and the
// main thread checks it after joining them.
#include "emulator_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
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

// Built with AddressSanitizer (as the emulator beside it then is): its quarantine holds freed
// memory back from reuse, and its runtime needs descriptors of its own (UBSan's vptr check
// opens a pipe), so two tests below check less there.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized_build = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized_build = true;
#else
constexpr bool sanitized_build = false;
#endif
#else
constexpr bool sanitized_build = false;
#endif

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

// A bare loopback TCP connection (no HTTP client logic), for clients that misbehave.
class raw_socket {
public:
    explicit raw_socket(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0)
            throw std::system_error(errno, std::generic_category(), "socket");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            const int e = errno;
            ::close(fd_);
            throw std::system_error(e, std::generic_category(), "connect");
        }
    }
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;
    ~raw_socket() { ::close(fd_); }

    int fd() const noexcept { return fd_; }
    /// Sends what it can; false when the server already closed.
    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    /// True when the server closed the connection (EOF or reset) by `deadline`; whatever it
    /// sent before (a TLS session ticket, say) is read and dropped.
    bool closed_by(steady::time_point deadline) {
        while (true) {
            const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now());
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0))) <= 0)
                return false;
            char buf[4096];
            if (::recv(fd_, buf, sizeof buf, 0) <= 0)
                return true;
        }
    }

private:
    int fd_ = -1;
};

std::string test_data_dir() {
    const char* d = std::getenv("OSSMP_TEST_DATA");
    return d && *d ? std::string(d) : std::string("tests/data");
}

std::vector<std::string> tls_args(std::vector<std::string> extra) {
    auto a = default_args({"--tls-cert", test_data_dir() + "/server.crt", "--tls-key",
                           test_data_dir() + "/server.key"});
    for (auto& e : extra)
        a.push_back(std::move(e));
    return a;
}

// A blocking TLS client on a raw_socket (certificate not verified: only the timing matters).
class tls_client {
public:
    explicit tls_client(std::uint16_t port)
        : sock_(port), ctx_(SSL_CTX_new(TLS_client_method())), ssl_(SSL_new(ctx_.get())) {
        SSL_set_fd(ssl_.get(), sock_.fd());
    }
    bool handshake() { return SSL_connect(ssl_.get()) == 1; }
    bool write(std::string_view bytes) {
        return SSL_write(ssl_.get(), bytes.data(), static_cast<int>(bytes.size())) ==
               static_cast<int>(bytes.size());
    }
    /// Reads one response (the server keeps the connection open); `ec` on failure.
    http::response read_response(std::error_code& ec) {
        http::response_parser p(false);
        std::string pending;
        while (!p.done()) {
            if (pending.empty()) {
                char buf[16384];
                const int n = SSL_read(ssl_.get(), buf, sizeof buf);
                if (n <= 0) {
                    ec = std::make_error_code(std::errc::connection_aborted);
                    return {};
                }
                pending.append(buf, static_cast<std::size_t>(n));
            }
            pending.erase(0, p.feed(pending, ec));
            if (ec)
                return {};
        }
        return p.release();
    }
    raw_socket& socket() noexcept { return sock_; }

private:
    struct free_ctx {
        void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
    };
    struct free_ssl {
        void operator()(SSL* s) const noexcept { SSL_free(s); }
    };
    raw_socket sock_;
    std::unique_ptr<SSL_CTX, free_ctx> ctx_;
    std::unique_ptr<SSL, free_ssl> ssl_;
};

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::istringstream rest(all.substr(all.rfind(')') + 2)); // after "pid (comm) "
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) { // fields 14 and 15 (1-based)
        if (i == 14)
            utime = std::stoull(field);
        if (i == 15)
            stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
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

// Whatever the cause, an exception in a connection's coroutine ends that connection and
// releases it (slot, watchdog, socket): `--faults Head=throw` throws one after the head of
// every HeadObject. With 2 slots, 20 of them in a row must leave the emulator serving, and
// SIGTERM must not wait for connections that were never released.
TEST_CASE("emulator releases a connection whose coroutine threw", "[emulator][hostile]") {
    emulator_process emu(default_args({"--max-connections", "2", "--faults", "Head=throw"}));
    emulator_client signer(emu.port(), v4_options());
    auto head = make(http::verb::head, "demo", "k");
    signer.prepare(head);
    const std::string bytes = http::serialize_head(head);
    int closed = 0;
    for (int i = 0; i < 20; ++i) {
        raw_socket s(emu.port());
        s.send(bytes);
        closed += s.closed_by(steady::now() + milliseconds(1000)) ? 1 : 0;
    }
    CHECK(closed == 20);
    check_still_serves(emu, "after-throws");
    check_stops_at_once(emu);
}

// Item: a connection that sent nothing used to get the 60 s idle timeout (header_timeout was
// armed only by the first header byte), so 4096 silent connections from anyone shut everyone
// out for a minute. The cap is now a flag, and header_timeout runs from the accept.
TEST_CASE("emulator closes silent and half-open connections after --header-timeout, and "
          "refuses connections over --max-connections",
          "[emulator][hostile]") {
    emulator_process emu(default_args({"--header-timeout", "1", "--max-connections", "64"}));
    const auto t0 = steady::now();
    std::vector<std::unique_ptr<raw_socket>> held;
    for (int i = 0; i < 64; ++i) {
        held.push_back(std::make_unique<raw_socket>(emu.port()));
        if (i % 6 == 0) // some send half a header section, the rest nothing at all
            REQUIRE(held.back()->send("PUT /demo/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    }
    std::this_thread::sleep_for(milliseconds(300)); // every one accepted and counted

    // The 65th is closed at once, whatever it sends.
    {
        emulator_client c(emu.port(), v4_options());
        auto r = make(http::verb::get, "demo", "", {{"uploads", ""}});
        c.prepare(r);
        raw_socket extra(emu.port());
        extra.send(http::serialize_head(r));
        CHECK(extra.closed_by(steady::now() + milliseconds(500)));
    }
    // Every held one is closed by the server at header_timeout after its accept.
    std::size_t closed = 0;
    for (auto& h : held)
        closed += h->closed_by(t0 + seconds(1) + milliseconds(1500)) ? 1 : 0;
    CHECK(closed == held.size());
    INFO("closed after " << std::chrono::duration_cast<milliseconds>(steady::now() - t0).count()
                         << " ms");
    CHECK(steady::now() - t0 < milliseconds(2500));
    held.clear();

    check_still_serves(emu, "after-silence");
    check_stops_at_once(emu);
}

TEST_CASE("emulator --help documents --max-connections and --body-timeout", "[emulator][hostile]") {
    const std::string cmd = emulator_binary() + " --help";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
    REQUIRE(pipe);
    std::string out;
    char buf[4096];
    while (auto n = std::fread(buf, 1, sizeof buf, pipe.get()))
        out.append(buf, n);
    CHECK(out.find("--max-connections N") != std::string::npos);
    CHECK(out.find("--body-timeout SECONDS") != std::string::npos);
    CHECK(out.find("--header-timeout SECONDS") != std::string::npos);
}

// The TLS handshake and the first header section share header_timeout from the accept: a TLS
// client that connects and sends nothing, stops halfway through its handshake, or finishes it
// and then sends nothing (which used to get the 60 s idle timeout) is closed then.
TEST_CASE("emulator bounds TLS handshakes and silent TLS clients by --header-timeout",
          "[emulator][hostile][tls]") {
    emulator_process emu(tls_args({"--header-timeout", "1"}));
    const auto t0 = steady::now();
    raw_socket silent(emu.port());
    raw_socket half_hello(emu.port());
    // A TLS record header and the start of a ClientHello that never ends.
    REQUIRE(half_hello.send(std::string_view("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)));
    tls_client quiet(emu.port());
    REQUIRE(quiet.handshake());
    tls_client half_head(emu.port());
    REQUIRE(half_head.handshake());
    REQUIRE(half_head.write("GET /demo/k HTTP/1.1\r\nHost: 127.0.0.1\r\n"));

    const auto by = t0 + seconds(1) + milliseconds(1500);
    CHECK(silent.closed_by(by));
    CHECK(half_hello.closed_by(by));
    CHECK(quiet.socket().closed_by(by));
    CHECK(half_head.socket().closed_by(by));
    CHECK(steady::now() - t0 < milliseconds(2500));

    // A TLS client that does its part is served (and kept alive).
    tls_client good(emu.port());
    REQUIRE(good.handshake());
    emulator_client signer(emu.port(), v4_options());
    for (int i = 0; i < 2; ++i) {
        auto r = make(http::verb::get, "demo", "", {{"uploads", ""}});
        signer.prepare(r);
        REQUIRE(good.write(http::serialize_head(r)));
        std::error_code ec;
        auto resp = good.read_response(ec);
        REQUIRE_FALSE(ec);
        CHECK(resp.status == 200);
    }
    check_stops_at_once(emu);
}

// At the cap, a keep-alive connection idle between requests is closed to make room for a new
// one (the one idle longest); connections in the middle of a request are never taken.
TEST_CASE("emulator at --max-connections closes the longest-idle keep-alive connection for a "
          "new one",
          "[emulator][hostile]") {
    emulator_process emu(default_args({"--max-connections", "4"}));
    std::vector<std::unique_ptr<emulator_client>> idle;
    for (int i = 0; i < 4; ++i) {
        idle.push_back(std::make_unique<emulator_client>(emu.port(), v4_options()));
        REQUIRE(idle.back()->send(make(http::verb::get, "demo", "", {{"uploads", ""}})).status ==
                200);
        std::this_thread::sleep_for(milliseconds(20)); // distinct idle times
    }
    // A fifth client is served: idle[0] makes room.
    emulator_client fifth(emu.port(), v4_options());
    auto r = fifth.send(make(http::verb::get, "demo", "", {{"uploads", ""}}));
    CHECK(r.status == 200);
    CHECK(idle[0]->wait_closed(milliseconds(1000)));
    for (std::size_t i = 1; i < idle.size(); ++i)
        CHECK_FALSE(idle[i]->wait_closed(milliseconds(50)));

    // Four connections in the middle of a header section are not idle: a new one is refused.
    emulator_process emu2(default_args({"--max-connections", "4"}));
    std::vector<std::unique_ptr<raw_socket>> busy;
    for (int i = 0; i < 4; ++i) {
        busy.push_back(std::make_unique<raw_socket>(emu2.port()));
        REQUIRE(busy.back()->send("GET /demo/k HTTP/1.1\r\n"));
    }
    std::this_thread::sleep_for(milliseconds(200));
    raw_socket refused(emu2.port());
    CHECK(refused.closed_by(steady::now() + milliseconds(500)));
    for (auto& b : busy)
        CHECK_FALSE(b->closed_by(steady::now() + milliseconds(20)));
    busy.clear();
    check_still_serves(emu2, "after-busy");
    check_stops_at_once(emu);
    check_stops_at_once(emu2);
}

// The body of a request refused before it (here: no Authorization) is drained so the client
// can read the answer, but within --body-timeout in all: dripping it used to keep the
// connection (and a slot) for as long as a byte came every minute, with no credentials.
// An accepted request keeps the per-progress rule: a slow but steady body is taken.
TEST_CASE("emulator drains a refused body within --body-timeout in all", "[emulator][hostile]") {
    emulator_process emu(default_args({"--body-timeout", "1"}));
    // Refused, small body: drained and answered.
    {
        emulator_client c(emu.port(), raw_client_options{});
        auto r = make(http::verb::put, "demo", "anon");
        r.set_body(std::string(1000, 'a'));
        check_error(c.send(std::move(r)), 403, "AccessDenied");
    }
    // Refused, 1 GiB declared, one byte every 250 ms: closed about 1 s after its header.
    {
        raw_socket drip(emu.port());
        REQUIRE(drip.send("PUT /demo/anon HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                          "1073741824\r\n\r\n"));
        const auto t0 = steady::now();
        bool closed = false;
        while (!closed && steady::now() - t0 < seconds(5)) {
            drip.send("x");
            closed = drip.closed_by(steady::now() + milliseconds(250));
        }
        CHECK(closed);
        INFO("closed after " << std::chrono::duration_cast<milliseconds>(steady::now() - t0).count()
                             << " ms");
        CHECK(steady::now() - t0 < milliseconds(2500));
    }
    // Accepted (signed), 8 bytes at one per 250 ms (2 s in all, more than --body-timeout).
    {
        emulator_client c(emu.port(), v4_options());
        auto r = make(http::verb::put, "demo", "slow");
        const std::string body = "slow, on";
        r.set_body(body);
        c.prepare(r);
        REQUIRE(c.write_all(http::serialize_head(r)));
        for (char ch : body) {
            std::this_thread::sleep_for(milliseconds(250));
            REQUIRE(c.write_all(std::string_view(&ch, 1)));
        }
        std::error_code ec;
        auto resp = c.read_response(false, ec);
        REQUIRE_FALSE(ec);
        CHECK(resp.status == 200);
        CHECK(resp.headers.get("ETag") == quoted_md5(body));
    }
    check_stops_at_once(emu);
}

// With no descriptor left, accept fails at once and the connection stays queued: the acceptor
// used to retry at once, spinning a CPU for as long as the descriptors stayed taken.
TEST_CASE("emulator out of file descriptors waits instead of spinning", "[emulator][hostile]") {
    if (sanitized_build) {
        // The sanitizer runtime in the emulator needs a pipe for its own checks, and it gets no
        // descriptor here: it reports a false "invalid vptr" and aborts.
        SUCCEED("skipped under AddressSanitizer");
        return;
    }
    emulator_process emu(default_args({"--max-connections", "1000"}), seconds(20), 64);
    std::vector<std::unique_ptr<raw_socket>> held;
    for (int i = 0; i < 100; ++i) // about 50 take the descriptors left, the rest wait
        held.push_back(std::make_unique<raw_socket>(emu.port()));
    std::this_thread::sleep_for(milliseconds(300));
    const double cpu0 = cpu_seconds(emu.pid());
    std::this_thread::sleep_for(milliseconds(1000));
    const double cpu = cpu_seconds(emu.pid()) - cpu0;
    INFO("emulator CPU over 1 s with descriptors exhausted: " << cpu << " s");
    CHECK(cpu < 0.3);
    held.clear(); // descriptors come back: the queued connections and new ones are served
    check_still_serves(emu, "after-emfile");
    check_stops_at_once(emu);
}

// Connections keep nothing once closed, and an idle one holds a small buffer: 1,000 silent
// connections cost the emulator a few MiB (64 KiB each, zero-filled, before: about 70 MiB),
// and opening them again after they closed does not grow it.
TEST_CASE("emulator memory per idle connection is small and reused after close",
          "[emulator][hostile]") {
    emulator_process emu(default_args({"--threads", "2"}));
    std::this_thread::sleep_for(milliseconds(200));
    const auto rss0 = proc_status_kib(emu.pid(), "VmRSS");
    std::uint64_t rss_open[2] = {0, 0};
    for (int round = 0; round < 2; ++round) {
        std::vector<std::unique_ptr<raw_socket>> held;
        for (int i = 0; i < 1000; ++i)
            held.push_back(std::make_unique<raw_socket>(emu.port()));
        std::this_thread::sleep_for(milliseconds(500));
        rss_open[round] = proc_status_kib(emu.pid(), "VmRSS");
        held.clear();
        std::this_thread::sleep_for(milliseconds(500));
    }
    INFO("VmRSS at start " << rss0 << " KiB, 1,000 connections open " << rss_open[0]
                           << " KiB, again after they closed " << rss_open[1] << " KiB");
    CHECK(rss_open[0] < rss0 + 32 * 1024);
    if (!sanitized_build) // ASan's quarantine keeps freed memory from being reused at once
        CHECK(rss_open[1] < rss_open[0] + 4 * 1024);
    check_still_serves(emu, "after-many");
    check_stops_at_once(emu);
}
