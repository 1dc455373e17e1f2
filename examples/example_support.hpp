// examples/example_support.hpp: what every example shares, so that each one shows only its own
// API calls: the settings from the environment, the client, error printing, and a `run` that
// drives one coroutine on an io_context and turns its result into the exit status.
//
// Environment (see examples/README.md):
//   OSS_ENDPOINT           http://127.0.0.1:9000 (the emulator's default) or https://oss-...
//   OSS_ACCESS_KEY_ID      \ read by ossmp::environment_credentials_provider on every request
//   OSS_ACCESS_KEY_SECRET  /  (OSS_SESSION_TOKEN too, for STS keys)
//   OSS_REGION             cn-hangzhou; empty: derived from an oss-REGION.aliyuncs.com endpoint
//   OSS_BUCKET             demo
//   OSS_PATH_STYLE=1       path-style addressing (/BUCKET/KEY) for a host name endpoint; an IP
//                          endpoint (the emulator) is always path-style
//   OSS_SIGN=v1            V1 signatures instead of V4
//   OSS_KEY_PREFIX         prefix of every key an example writes (default "examples/")
//
// Not part of the library: an example's own helpers.
#pragma once

#include "compiled_transport.hpp"

#include "ossmp/client.hpp"
#include "ossmp/credentials.hpp"
#include "ossmp/detail/asio.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/endpoint.hpp"
#include "ossmp/transport/asio_transport_options.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace example {

/// `name`'s value, or `fallback` when it is unset or empty.
inline std::string env(const char* name, const char* fallback = "") {
    const char* v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? std::string(v) : std::string(fallback);
}

/// Where the examples send their requests, from the environment.
struct settings {
    std::string endpoint = env("OSS_ENDPOINT", "http://127.0.0.1:9000");
    std::string region = env("OSS_REGION");
    std::string bucket = env("OSS_BUCKET", "demo");
    std::string key_prefix = env("OSS_KEY_PREFIX", "examples/");
    bool path_style = env("OSS_PATH_STYLE") == "1";
    bool sign_v1 = env("OSS_SIGN") == "v1" || env("OSS_SIGN") == "V1";

    /// `key_prefix` + `name`: every key an example writes lives under the prefix.
    std::string key(const std::string& name) const { return key_prefix + name; }
};

/// Transport settings for `s.endpoint`: TLS for https (certificates verified), its port.
inline ossmp::asio_transport_options transport_options(const settings& s) {
    ossmp::asio_transport_options t;
    ossmp::endpoint ep;
    if (!ossmp::parse_endpoint(s.endpoint, ep)) {
        t.tls = ep.secure();
        t.default_port = ep.port;
    }
    t.request_timeout = std::chrono::seconds(60); // examples are small: fail rather than hang
    return t;
}

/// Client settings for `s`.
inline ossmp::client_options client_options(const settings& s) {
    ossmp::client_options c;
    c.endpoint = s.endpoint;
    c.region = s.region;
    c.style =
        s.path_style ? ossmp::addressing_style::path : ossmp::addressing_style::virtual_hosted;
    c.signature = s.sign_v1 ? ossmp::signature_version::v1 : ossmp::signature_version::v4;
    return c;
}

/// The client type of the examples: the Asio transport (compiled once, see
/// compiled_transport.hpp; your program can use `ossmp::asio_transport` directly, as
/// credentials_from_env.cpp does), keys from the environment.
using client_type =
    ossmp::basic_client<compiled_transport, ossmp::environment_credentials_provider>;

/// One io_context, its transport and a client, made from the environment.
/// Lifetimes: the members refer to each other; not copyable or movable.
struct session {
    settings config;
    asio::io_context ctx{1};
    compiled_transport transport{ctx.get_executor(), transport_options(config)};
    client_type client{transport, client_options(config), {}};
};

/// Prints "STEP failed: MESSAGE" and, when the server answered, its Code, status, Message and
/// RequestId, to stderr. Returns 1 (the exit status of a failed example).
inline int fail(const std::string& step, std::error_code ec,
                const ossmp::diagnostics* diag = nullptr) {
    std::fprintf(stderr, "%s failed: %s\n", step.c_str(), ec.message().c_str());
    if (diag != nullptr && diag->http_status != 0)
        std::fprintf(stderr, "  server said: %s\n", diag->to_string().c_str());
    return 1;
}

/// Runs the coroutine `main_coro` (an `asio::awaitable<int>`) on `ctx` until it and all the
/// work it started are done. Returns its value, or 1 when it threw (the exception is printed).
inline int run(asio::io_context& ctx, asio::awaitable<int> main_coro) {
    int status = 1;
    asio::co_spawn(ctx, std::move(main_coro), [&status](std::exception_ptr e, int rc) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::fprintf(stderr, "exception: %s\n", x.what());
            }
            return;
        }
        status = rc;
    });
    ctx.run();
    std::fflush(stdout);
    return status;
}

/// `run` on the session's io_context.
inline int run(session& s, asio::awaitable<int> main_coro) {
    return run(s.ctx, std::move(main_coro));
}

/// `size` bytes of deterministic pseudo-random data (the same `seed` gives the same bytes).
inline std::vector<std::byte> sample_bytes(std::size_t size, std::uint64_t seed = 1) {
    std::vector<std::byte> out(size);
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (auto& b : out) {
        x ^= x << 13; // xorshift64
        x ^= x >> 7;
        x ^= x << 17;
        b = static_cast<std::byte>(x >> 56);
    }
    return out;
}

/// The file an example uploads: `argv[1]` when given, else a sample file of `size` bytes in
/// `$TMPDIR` (or /tmp) named `ossmp-example-NAME.bin`, written unless it is already there with
/// that size (so that a second run sees the same file). Throws when it cannot write it.
inline std::string input_file(int argc, char** argv, const std::string& name, std::size_t size) {
    if (argc > 1)
        return argv[1];
    const std::string path = env("TMPDIR", "/tmp") + "/ossmp-example-" + name + ".bin";
    if (std::ifstream in(path, std::ios::binary | std::ios::ate);
        in && static_cast<std::size_t>(in.tellg()) == size)
        return path;
    const auto bytes = sample_bytes(size);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(size));
    if (!out.flush())
        throw std::runtime_error("cannot write " + path);
    return path;
}

/// A token that makes `co_await` give `(error_code, result)` instead of throwing.
inline constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

} // namespace example
