// tests/support/emulator_process.hpp: starts `ossmp-emulator` for a test, and a tiny blocking
// HTTP client to talk to it.
//
// `emulator_process` runs `$OSSMP_BINARY_DIR/tools/emulator/ossmp-emulator --listen
// 127.0.0.1:0 <args>`, reads the first stdout line ("ossmp-emulator listening on
// http://HOST:PORT") to learn the address, and sends SIGTERM (then waits) in its destructor.
// `emulator_client` speaks HTTP/1.1 over one blocking loopback socket (kept alive, reopened
// when the server closed it) with the project's serializer, response parser and signer.
#pragma once

#include "ossmp/credentials.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/http/parser.hpp"
#include "ossmp/http/serializer.hpp"
#include "ossmp/signer.hpp"
#include "ossmp/uri.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace ossmp::test {

/// Path of the emulator binary: $OSSMP_BINARY_DIR/tools/emulator/ossmp-emulator.
inline std::string emulator_binary() {
    const char* dir = std::getenv("OSSMP_BINARY_DIR");
    if (!dir || !*dir)
        throw std::runtime_error("OSSMP_BINARY_DIR is not set (run the tests through ctest/meson)");
    return std::string(dir) + "/tools/emulator/ossmp-emulator";
}

/// A running emulator (see the file comment). Not copyable or movable.
class emulator_process {
public:
    /// Starts the emulator on 127.0.0.1:0 with `args` appended; throws std::runtime_error if it
    /// does not print its address within `timeout`. A non-zero `max_open_files` sets the
    /// process's RLIMIT_NOFILE (soft and hard) to it.
    explicit emulator_process(std::vector<std::string> args,
                              std::chrono::milliseconds timeout = std::chrono::seconds(20),
                              unsigned max_open_files = 0) {
        int out[2];
        if (::pipe(out) != 0)
            throw std::system_error(errno, std::generic_category(), "pipe");
        std::vector<std::string> argv_s{emulator_binary(), "--listen", "127.0.0.1:0"};
        for (auto& a : args)
            argv_s.push_back(std::move(a));
        std::vector<char*> argv;
        for (auto& a : argv_s)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ < 0)
            throw std::system_error(errno, std::generic_category(), "fork");
        if (pid_ == 0) {
            if (max_open_files != 0) {
                rlimit limit{max_open_files, max_open_files};
                ::setrlimit(RLIMIT_NOFILE, &limit);
            }
            ::dup2(out[1], 1);
            ::close(out[0]);
            ::close(out[1]);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        fd_ = out[0];
        std::string line;
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (line.find('\n') == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{fd_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
                break;
            char c[256];
            auto n = ::read(fd_, c, sizeof c);
            if (n <= 0)
                break;
            line.append(c, static_cast<std::size_t>(n));
        }
        constexpr std::string_view prefix = "ossmp-emulator listening on ";
        auto nl = line.find('\n');
        if (nl == std::string::npos || !line.starts_with(prefix)) {
            stop();
            throw std::runtime_error("emulator did not start: '" + line + "'");
        }
        first_line_ = line.substr(0, nl);
        url_ = first_line_.substr(prefix.size());
        auto colon = url_.rfind(':');
        port_ = static_cast<std::uint16_t>(std::stoi(url_.substr(colon + 1)));
    }
    emulator_process(const emulator_process&) = delete;
    emulator_process& operator=(const emulator_process&) = delete;
    ~emulator_process() { stop(); }

    /// Sends SIGTERM and waits; returns the exit status as waitpid reports it (or -1).
    int stop() {
        int status = -1;
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
        }
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
        return status;
    }

    const std::string& first_line() const noexcept { return first_line_; }
    const std::string& url() const noexcept { return url_; }
    std::uint16_t port() const noexcept { return port_; }
    pid_t pid() const noexcept { return pid_; }

private:
    pid_t pid_ = -1;
    int fd_ = -1;
    std::string first_line_;
    std::string url_;
    std::uint16_t port_ = 0;
};

/// How `emulator_client` addresses and signs.
struct raw_client_options {
    enum class style { path, virtual_hosted };
    style addressing = style::path;
    std::string domain = "oss-cn-hangzhou.aliyuncs.com"; ///< for virtual-hosted Host headers
    credentials creds;                                   ///< empty id: anonymous (no signing)
    sign_options signing;                                ///< version and region
};

/// A blocking HTTP/1.1 client over one loopback connection (see the file comment).
class emulator_client {
public:
    emulator_client(std::uint16_t port, raw_client_options opts)
        : port_(port), opts_(std::move(opts)) {
        if (opts_.signing.region.empty())
            opts_.signing.region = "cn-hangzhou";
    }
    emulator_client(const emulator_client&) = delete;
    emulator_client& operator=(const emulator_client&) = delete;
    ~emulator_client() { disconnect(); }

    raw_client_options& options() noexcept { return opts_; }

    /// Fills host/path for the addressing style, signs (unless anonymous) at `now`.
    void
    prepare(http::request& r,
            std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const {
        if (opts_.addressing == raw_client_options::style::path) {
            r.host = "127.0.0.1:" + std::to_string(port_);
            r.path = "/" + r.bucket + "/" + uri::encode_path(r.key);
        } else {
            r.host = r.bucket + "." + opts_.domain;
            r.path = "/" + uri::encode_path(r.key);
        }
        if (!opts_.creds.access_key_id.empty()) {
            auto ec = sign(r, opts_.creds, opts_.signing, now);
            if (ec)
                throw std::system_error(ec, "sign");
        }
    }

    /// Prepares, sends and reads the response of `r`.
    http::response send(http::request r) {
        prepare(r);
        return send_prepared(r);
    }

    /// Sends an already prepared request.
    http::response send_prepared(const http::request& r) {
        std::string bytes = http::serialize_head(r);
        bytes.append(r.body());
        return round_trip(bytes, r.method == http::verb::head);
    }

    /// Sends raw bytes and reads one response (`head`: the request was a HEAD).
    http::response round_trip(std::string_view bytes, bool head = false) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (fd_ < 0)
                connect();
            if (!write_all(bytes)) {
                disconnect();
                continue;
            }
            std::error_code ec;
            auto resp = read_response(head, ec);
            if (!ec)
                return resp;
            if (ec == make_error_code(errc::unexpected_eof) && !got_any_ && attempt == 0) {
                disconnect(); // the server closed an idle keep-alive connection: retry once
                continue;
            }
            throw std::system_error(ec, "read response");
        }
        throw std::runtime_error("cannot send request");
    }

    /// Writes bytes without reading (for Expect / slow-sender tests).
    bool write_all(std::string_view bytes) {
        if (fd_ < 0)
            connect();
        while (!bytes.empty()) {
            auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    /// Reads one response from the connection; `ec` set on EOF / parse errors / timeout.
    http::response read_response(bool head, std::error_code& ec) {
        http::response_parser p(head);
        p.set_body_limit(std::uint64_t(1) << 34);
        got_any_ = false;
        while (!p.done()) {
            if (pending_.empty()) {
                char buf[65536];
                auto n = ::recv(fd_, buf, sizeof buf, 0);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0) {
                    p.finish_eof(ec);
                    disconnect();
                    if (ec)
                        return {};
                    break;
                }
                got_any_ = true;
                pending_.append(buf, static_cast<std::size_t>(n));
            }
            auto used = p.feed(pending_, ec);
            pending_.erase(0, used);
            if (ec) {
                disconnect();
                return {};
            }
        }
        auto resp = p.release();
        if (!p.keep_alive() && fd_ >= 0 && http::iequals(resp.headers.get("Connection"), "close"))
            disconnect();
        return resp;
    }

    /// True if the server closed the connection (EOF or reset) within `timeout`.
    bool wait_closed(std::chrono::milliseconds timeout) {
        if (fd_ < 0)
            return true;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
            return false;
        char c;
        auto n = ::recv(fd_, &c, 1, MSG_PEEK);
        return n <= 0;
    }

    /// Reads whatever arrives within `timeout` (raw bytes, not parsed); "" on timeout/EOF.
    std::string read_some(std::chrono::milliseconds timeout) {
        if (fd_ < 0)
            return {};
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
            return {};
        char buf[4096];
        auto n = ::recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }

    void connect() {
        disconnect();
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0)
            throw std::system_error(errno, std::generic_category(), "socket");
        timeval tv{30, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port_);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            auto e = errno;
            disconnect();
            throw std::system_error(e, std::generic_category(), "connect");
        }
        pending_.clear();
    }

    void disconnect() {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
        pending_.clear();
    }

    bool connected() const noexcept { return fd_ >= 0; }

private:
    std::uint16_t port_;
    raw_client_options opts_;
    int fd_ = -1;
    std::string pending_;
    bool got_any_ = false;
};

} // namespace ossmp::test
