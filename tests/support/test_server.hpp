// tests/support/test_server.hpp: a tiny scripted HTTP/1.1 server over real loopback sockets,
// plain or TLS, for transport tests. It runs its own io_context on its own thread.
//
// Every request (head up to the empty line + Content-Length body, read with a deliberately
// independent minimal parser) is recorded with the index of the connection it came on, and the
// handler decides the reply: exact bytes to write, an optional delay, bytes trickled one at a
// time, bytes repeated forever (an endless body), close afterwards, or hang (never answer /
// stop mid-reply).
#pragma once

#include "ossmp/detail/asio.hpp"
#include "ossmp/http/message.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ossmp::test {

/// One request as the server received it.
struct received_request {
    std::string head;           ///< request line + fields + empty line, exactly as received
    std::string body;           ///< Content-Length bytes after the head
    std::size_t connection = 0; ///< 0-based index of the accepted connection
    std::string raw() const { return head + body; }
};

/// What the server does with one request.
struct scripted_reply {
    std::string bytes;                  ///< written as-is (may be a partial response)
    bool close = false;                 ///< close the connection after writing
    bool hang = false;                  ///< after writing `bytes`, never send or read again
    std::chrono::milliseconds delay{0}; ///< wait this long before writing
    /// After `bytes`: written one byte at a time, `trickle_interval` apart (a slow server).
    std::string trickle;
    std::chrono::milliseconds trickle_interval{0};
    /// After `trickle`: written again and again until the client goes away (an endless body).
    std::string repeat;
};

/// `HTTP/1.1 <status> <reason>` with Content-Length and the given extra header lines
/// (each "Name: value\r\n").
inline std::string http_reply(unsigned status, std::string_view body,
                              std::string_view extra_headers = "", std::string_view reason = "OK") {
    std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    r += extra_headers;
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    r += body;
    return r;
}

/// The directory of the test certificates (env OSSMP_TEST_DATA, else the source tree).
inline std::string test_data_dir() {
    if (const char* d = std::getenv("OSSMP_TEST_DATA"); d && *d)
        return d;
    std::string here = __FILE__; // .../tests/support/test_server.hpp
    auto slash = here.rfind('/');
    here.resize(slash == std::string::npos ? 0 : slash);
    slash = here.rfind('/');
    here.resize(slash == std::string::npos ? 0 : slash);
    return here + "/data";
}

/// The scripted server. Listens on 127.0.0.1 (port chosen by the kernel).
class test_server {
public:
    using handler_type = std::function<scripted_reply(const received_request&)>;

    /// Plain HTTP when `tls` is false; else TLS with tests/data/server.key and the certificate
    /// `certificate` of tests/data (default server.crt; expired.crt has the same key).
    explicit test_server(handler_type handler, bool tls = false,
                         const std::string& certificate = "server.crt")
        : handler_(std::move(handler)), io_(std::make_unique<asio::io_context>(1)),
          acceptor_(std::in_place, *io_), tls_(tls) {
        if (tls_) {
            ssl_.emplace(asio::ssl::context::tls_server);
            ssl_->use_certificate_chain_file(test_data_dir() + "/" + certificate);
            ssl_->use_private_key_file(test_data_dir() + "/server.key", asio::ssl::context::pem);
        }
        asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
        acceptor_->open(ep.protocol());
        acceptor_->set_option(asio::socket_base::reuse_address(true));
        acceptor_->bind(ep);
        acceptor_->listen();
        port_ = acceptor_->local_endpoint().port();
        asio::co_spawn(*io_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { io_->run(); });
    }

    test_server(const test_server&) = delete;
    test_server& operator=(const test_server&) = delete;

    ~test_server() {
        io_->stop();
        thread_.join();
        acceptor_.reset();
        io_.reset(); // destroys pending coroutines (and their sockets) before the rest
    }

    std::uint16_t port() const noexcept { return port_; }
    /// "127.0.0.1:<port>", usable as `request.host`.
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

    /// Every request received so far, in arrival order.
    std::vector<received_request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    /// Connections accepted so far (TLS: including failed handshakes).
    std::size_t connections() const noexcept { return accepted_.load(); }
    /// The largest number of connections open at the same time.
    std::size_t max_concurrent() const noexcept { return max_open_.load(); }
    /// Connections whose TLS handshake failed.
    std::size_t failed_handshakes() const noexcept { return failed_handshakes_.load(); }

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] =
                co_await acceptor_->async_accept(asio::experimental::as_tuple(asio::use_awaitable));
            if (ec)
                co_return;
            std::size_t index = accepted_.fetch_add(1);
            asio::co_spawn(acceptor_->get_executor(), serve(std::move(socket), index),
                           asio::detached);
        }
    }

    struct open_counter {
        explicit open_counter(test_server& s) : s_(s) {
            auto now = s_.open_.fetch_add(1) + 1;
            auto prev = s_.max_open_.load();
            while (now > prev && !s_.max_open_.compare_exchange_weak(prev, now)) {
            }
        }
        ~open_counter() { s_.open_.fetch_sub(1); }
        test_server& s_;
    };

    asio::awaitable<void> serve(asio::ip::tcp::socket socket, std::size_t index) {
        open_counter counter(*this);
        if (tls_) {
            asio::ssl::stream<asio::ip::tcp::socket> stream(std::move(socket), *ssl_);
            auto [ec] = co_await stream.async_handshake(
                asio::ssl::stream_base::server, asio::experimental::as_tuple(asio::use_awaitable));
            if (ec) {
                failed_handshakes_.fetch_add(1);
                co_return;
            }
            co_await serve_stream(stream, index);
        } else {
            co_await serve_stream(socket, index);
        }
    }

    static std::optional<std::size_t> content_length(std::string_view head) {
        std::size_t pos = 0;
        while (pos < head.size()) {
            auto eol = head.find("\r\n", pos);
            if (eol == std::string_view::npos)
                break;
            auto line = head.substr(pos, eol - pos);
            pos = eol + 2;
            auto colon = line.find(':');
            if (colon == std::string_view::npos)
                continue;
            if (ossmp::http::iequals(line.substr(0, colon), "content-length")) {
                auto v = line.substr(colon + 1);
                while (!v.empty() && v.front() == ' ')
                    v.remove_prefix(1);
                return static_cast<std::size_t>(std::stoull(std::string(v)));
            }
        }
        return std::nullopt;
    }

    template <class Stream>
    asio::awaitable<void> serve_stream(Stream& stream, std::size_t index) {
        using asio::experimental::as_tuple;
        std::string buffer;
        std::vector<char> chunk(64 * 1024);
        for (;;) {
            // Head.
            std::size_t end;
            while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
                auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk),
                                                               as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                buffer.append(chunk.data(), n);
            }
            received_request req;
            req.connection = index;
            req.head = buffer.substr(0, end + 4);
            buffer.erase(0, end + 4);
            std::size_t length = content_length(req.head).value_or(0);
            while (buffer.size() < length) {
                auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk),
                                                               as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                buffer.append(chunk.data(), n);
            }
            req.body = buffer.substr(0, length);
            buffer.erase(0, length);
            scripted_reply reply = handler_(req);
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(std::move(req));
            }
            if (reply.delay.count() > 0) {
                asio::steady_timer timer(co_await asio::this_coro::executor, reply.delay);
                co_await timer.async_wait(as_tuple(asio::use_awaitable));
            }
            if (!reply.bytes.empty()) {
                auto [ec, n] = co_await asio::async_write(stream, asio::buffer(reply.bytes),
                                                          as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
            }
            for (char c : reply.trickle) {
                asio::steady_timer timer(co_await asio::this_coro::executor,
                                         reply.trickle_interval);
                co_await timer.async_wait(as_tuple(asio::use_awaitable));
                auto [ec, n] = co_await asio::async_write(stream, asio::buffer(&c, 1),
                                                          as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
            }
            while (!reply.repeat.empty()) {
                auto [ec, n] = co_await asio::async_write(stream, asio::buffer(reply.repeat),
                                                          as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
            }
            if (reply.hang) {
                asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
                co_await timer.async_wait(as_tuple(asio::use_awaitable));
                co_return;
            }
            if (reply.close)
                co_return; // the socket closes when the coroutine frame goes away
        }
    }

    handler_type handler_;
    std::unique_ptr<asio::io_context> io_;
    std::optional<asio::ip::tcp::acceptor> acceptor_;
    bool tls_;
    std::optional<asio::ssl::context> ssl_;
    std::uint16_t port_ = 0;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<received_request> requests_;
    std::atomic<std::size_t> accepted_{0};
    std::atomic<std::size_t> open_{0};
    std::atomic<std::size_t> max_open_{0};
    std::atomic<std::size_t> failed_handshakes_{0};
};

} // namespace ossmp::test
