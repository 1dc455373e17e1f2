// tools/emulator/config.hpp: the emulator's configuration and its command-line parser.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ossmp::emulator {

/// One access key the emulator accepts (`--credentials AK:SK[:TOKEN]`). With a non-empty
/// `security_token` (STS), requests signed with this key must carry `x-oss-security-token`
/// equal to it.
struct access_key {
    std::string id;
    std::string secret;
    std::string security_token;
};

/// Where objects and parts live (`--storage`).
enum class storage_kind {
    memory, ///< everything in RAM; lost on exit
    sink,   ///< sizes and checksums only; bodies are CRC-64'd and discarded (benchmarks)
    dir,    ///< files under a directory; survives restarts
};

/// Most I/O threads `--threads` accepts (an upper bound, not a recommendation).
inline constexpr unsigned max_threads = 64;
/// Largest `--max-connections` accepted (each connection needs a file descriptor or two).
inline constexpr std::uint64_t max_max_connections = 1'000'000;

/// The default of `--threads`: `std::thread::hardware_concurrency()` clamped to 1..8 (0, "not
/// known", gives 1).
inline unsigned default_threads() noexcept {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1u : (n > 8 ? 8u : n);
}

/// Everything the emulator is told at start. Defaults are the documented command-line defaults.
struct config {
    std::string listen_host = "127.0.0.1"; ///< --listen HOST part
    std::uint16_t listen_port = 9000;      ///< --listen PORT part (0 picks a free port)
    storage_kind storage = storage_kind::memory;
    std::string storage_path;                            ///< for storage_kind::dir
    std::vector<std::string> buckets;                    ///< buckets that exist at start
    std::vector<access_key> credentials;                 ///< keys accepted
    bool allow_anonymous = false;                        ///< accept unsigned requests
    std::string region = "cn-hangzhou";                  ///< V4 scope region
    std::string domain = "oss-cn-hangzhou.aliyuncs.com"; ///< virtual-hosted base domain
    std::string tls_cert;                                ///< PEM certificate chain (TLS when set)
    std::string tls_key;                                 ///< PEM private key
    std::string faults;                                  ///< fault-injection SPEC (see faults.hpp)
    std::uint64_t faults_seed = 1;                       ///< seed of the `%P` fault draws
    std::chrono::seconds max_skew{900}; ///< allowed |request time - server time|; 15 min as OSS
    /// Slowloris guard: a whole header section, counted from the accept for a connection's first
    /// request (TLS handshake included), from its first byte for a later one.
    std::chrono::seconds header_timeout{20};
    std::chrono::seconds idle_timeout{60}; ///< keep-alive connection idle limit between requests
    /// Body read: most time without progress; a refused request's body (drained so the
    /// client reads the answer) gets this long in all.
    std::chrono::seconds body_timeout{60};
    /// Largest accepted request body: 5 GiB (PutObject / UploadPart limit) + 1 MiB margin.
    std::uint64_t max_body_size = 5ull * 1024 * 1024 * 1024 + 1024 * 1024;
    /// --max-connections: concurrent connections. At the cap a new connection is closed at
    /// once, unless a keep-alive connection idle between requests is closed to make room.
    std::size_t max_connections = 4096;
    unsigned threads = default_threads(); ///< --threads: I/O threads running the io_context
    /// --request-log FILE: one line per answered request (see README.md), appended.
    std::string request_log;
    /// --allow-test-headers: honour the test-only request headers (`x-ossmp-test-initiated` on
    /// InitiateMultipartUpload). Never on by default: a real OSS has no such thing.
    bool allow_test_headers = false;

    bool tls() const noexcept { return !tls_cert.empty(); }
};

/// The usage text printed for `--help` and after a command-line error.
inline constexpr std::string_view usage_text =
    "usage: ossmp-emulator [--listen HOST:PORT] [--storage memory|sink|dir:PATH]\n"
    "                      [--bucket NAME]... [--credentials AK:SK[:TOKEN]]... "
    "[--allow-anonymous]\n"
    "                      [--region R] [--domain D] [--tls-cert PEM --tls-key PEM]\n"
    "                      [--faults SPEC] [--faults-seed N] [--max-skew SECONDS]\n"
    "                      [--header-timeout SECONDS] [--idle-timeout SECONDS]\n"
    "                      [--body-timeout SECONDS] [--max-connections N]\n"
    "                      [--threads N]   (I/O threads, 1..64; default: CPUs, at most 8)\n"
    "                      [--request-log FILE] [--allow-test-headers] [--version]\n"
    "  --header-timeout: a connection's header section must be complete this long after its\n"
    "                    accept (first request) or first byte (later ones); default 20\n"
    "  --idle-timeout:   a keep-alive connection waiting for its next request; default 60\n"
    "  --body-timeout:   a body making no progress (a refused request's body: in all); 60\n"
    "  --max-connections: concurrent connections (1..1000000, default 4096); at the cap a new\n"
    "                    one is closed at once unless an idle keep-alive one can go instead\n"
    "  --request-log:    append `OPERATION STATUS BUCKET KEY UPLOAD-ID PART` per answered\n"
    "                    request (KEY percent-encoded, - for none)\n"
    "  --allow-test-headers: tests only: InitiateMultipartUpload honours\n"
    "                    `x-ossmp-test-initiated: UNIX-SECONDS` as the upload's initiation time\n"
    "                    (ignored without this flag)\n";

namespace detail {

inline bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty() || s.size() > 20)
        return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

// "HOST:PORT", "[v6]:PORT" or ":PORT".
inline bool parse_listen(std::string_view s, std::string& host, std::uint16_t& port) {
    std::string_view h;
    std::string_view p;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
            return false;
        h = s.substr(1, close - 1);
        p = s.substr(close + 2);
    } else {
        auto colon = s.rfind(':');
        if (colon == std::string_view::npos)
            return false;
        h = s.substr(0, colon);
        p = s.substr(colon + 1);
    }
    std::uint64_t v = 0;
    if (!parse_u64(p, v) || v > 65535)
        return false;
    host = h.empty() ? std::string("127.0.0.1") : std::string(h);
    port = static_cast<std::uint16_t>(v);
    return true;
}

} // namespace detail

/// Parses the command line (argv[1..]) into `out`, starting from `out`'s current values.
/// Credentials default to OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET (+ OSS_SESSION_TOKEN) when
/// no `--credentials` is given; the bucket list defaults to {"demo"}. Returns an empty string on
/// success, "help" for --help, "version" for --version, else a one-line error message. With no
/// credentials at all and no --allow-anonymous it fails ("refuses to start").
inline std::string parse_command_line(int argc, const char* const* argv, config& out) {
    bool explicit_buckets = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::string_view value;
        bool has_inline = false;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_inline = true;
        }
        auto need_value = [&]() -> bool {
            if (has_inline)
                return true;
            if (i + 1 >= argc)
                return false;
            value = argv[++i];
            return true;
        };
        auto seconds = [&](std::chrono::seconds& dst) -> std::string {
            std::uint64_t v = 0;
            if (!need_value() || !detail::parse_u64(value, v) || v > 86400 * 365)
                return std::string(arg) + " needs a number of seconds";
            dst = std::chrono::seconds(static_cast<long long>(v));
            return {};
        };
        if (arg == "--help" || arg == "-h")
            return "help";
        if (arg == "--version")
            return "version";
        if (arg == "--allow-anonymous") {
            out.allow_anonymous = true;
        } else if (arg == "--allow-test-headers") {
            out.allow_test_headers = true;
        } else if (arg == "--listen") {
            if (!need_value() || !detail::parse_listen(value, out.listen_host, out.listen_port))
                return "--listen needs HOST:PORT";
        } else if (arg == "--storage") {
            if (!need_value())
                return "--storage needs memory, sink or dir:PATH";
            if (value == "memory") {
                out.storage = storage_kind::memory;
            } else if (value == "sink") {
                out.storage = storage_kind::sink;
            } else if (value.starts_with("dir:") && value.size() > 4) {
                out.storage = storage_kind::dir;
                out.storage_path = std::string(value.substr(4));
            } else {
                return "--storage needs memory, sink or dir:PATH";
            }
        } else if (arg == "--bucket") {
            if (!need_value() || value.empty())
                return "--bucket needs a name";
            if (!explicit_buckets)
                out.buckets.clear();
            explicit_buckets = true;
            out.buckets.emplace_back(value);
        } else if (arg == "--credentials") {
            if (!need_value())
                return "--credentials needs AK:SK[:TOKEN]";
            auto c1 = value.find(':');
            if (c1 == std::string_view::npos || c1 == 0 || c1 + 1 >= value.size())
                return "--credentials needs AK:SK[:TOKEN]";
            access_key k;
            k.id = std::string(value.substr(0, c1));
            auto rest = value.substr(c1 + 1);
            auto c2 = rest.find(':');
            k.secret = std::string(rest.substr(0, c2));
            if (c2 != std::string_view::npos)
                k.security_token = std::string(rest.substr(c2 + 1));
            if (k.secret.empty())
                return "--credentials needs AK:SK[:TOKEN]";
            out.credentials.push_back(std::move(k));
        } else if (arg == "--region") {
            if (!need_value() || value.empty())
                return "--region needs a region id";
            out.region = std::string(value);
            if (out.region.starts_with("oss-"))
                out.region.erase(0, 4); // scope regions are bare (oss-reference 1.1)
        } else if (arg == "--domain") {
            if (!need_value() || value.empty())
                return "--domain needs a host name";
            out.domain = std::string(value);
        } else if (arg == "--tls-cert") {
            if (!need_value() || value.empty())
                return "--tls-cert needs a PEM file";
            out.tls_cert = std::string(value);
        } else if (arg == "--tls-key") {
            if (!need_value() || value.empty())
                return "--tls-key needs a PEM file";
            out.tls_key = std::string(value);
        } else if (arg == "--faults") {
            if (!need_value())
                return "--faults needs a SPEC";
            out.faults = std::string(value);
        } else if (arg == "--request-log") {
            if (!need_value() || value.empty())
                return "--request-log needs a FILE";
            out.request_log = std::string(value);
        } else if (arg == "--faults-seed") {
            if (!need_value() || !detail::parse_u64(value, out.faults_seed))
                return "--faults-seed needs a number";
        } else if (arg == "--max-skew") {
            if (auto e = seconds(out.max_skew); !e.empty())
                return e;
        } else if (arg == "--header-timeout") {
            if (auto e = seconds(out.header_timeout); !e.empty())
                return e;
        } else if (arg == "--idle-timeout") {
            if (auto e = seconds(out.idle_timeout); !e.empty())
                return e;
        } else if (arg == "--body-timeout") {
            if (auto e = seconds(out.body_timeout); !e.empty())
                return e;
        } else if (arg == "--max-connections") {
            std::uint64_t v = 0;
            if (!need_value() || !detail::parse_u64(value, v) || v < 1 || v > max_max_connections)
                return "--max-connections needs a number from 1 to 1000000";
            out.max_connections = static_cast<std::size_t>(v);
        } else if (arg == "--threads") {
            std::uint64_t v = 0;
            if (!need_value() || !detail::parse_u64(value, v) || v < 1 || v > max_threads)
                return "--threads needs a number from 1 to 64";
            out.threads = static_cast<unsigned>(v);
        } else {
            return "unknown argument: " + std::string(arg);
        }
    }
    if (!explicit_buckets && out.buckets.empty())
        out.buckets.emplace_back("demo");
    if (out.tls_cert.empty() != out.tls_key.empty())
        return "--tls-cert and --tls-key go together";
    if (out.credentials.empty()) {
        const char* id = std::getenv("OSS_ACCESS_KEY_ID");
        const char* secret = std::getenv("OSS_ACCESS_KEY_SECRET");
        if (id && *id && secret && *secret) {
            access_key k{id, secret, {}};
            if (const char* token = std::getenv("OSS_SESSION_TOKEN"))
                k.security_token = token;
            out.credentials.push_back(std::move(k));
        }
    }
    if (out.credentials.empty() && !out.allow_anonymous)
        return "no credentials: pass --credentials AK:SK, set OSS_ACCESS_KEY_ID and "
               "OSS_ACCESS_KEY_SECRET, or pass --allow-anonymous";
    return {};
}

} // namespace ossmp::emulator
