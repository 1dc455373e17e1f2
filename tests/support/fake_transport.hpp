// tests/support/fake_transport.hpp: a scripted model of the `ossmp::transport` concept.
//
// Round trips are answered, in order, from a queue of canned responses or errors (or by a
// responder function when the queue is empty; a round trip with a body source is answered once
// its body has been drained); any round trip can be made to fail by number (`fail_nth`). Every
// request is recorded with a copy of its body bytes. Completions go through `asio::post`-like
// asynchrony (a timer with an optional delay, never inline), honour terminal cancellation
// through the handler's cancellation slot, and run on the handler's
// associated executor. Single-threaded: use it from one thread running its executor.
#pragma once

#include "ossmp/detail/asio.hpp"
#include "ossmp/error.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/transport.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace ossmp::test {

/// A scripted transport for unit tests. Must outlive its round trips.
class fake_transport {
public:
    using executor_type = asio::any_io_executor;
    /// What one round trip returns: a response or an error.
    using outcome = std::variant<http::response, std::error_code>;
    /// Answers a round trip when the queue is empty.
    using responder_type = std::function<outcome(const http::request&)>;

    /// One request as the fake received it; `body` is a copy of the bytes (the request's own
    /// body view, if any, is not valid after the round trip completes: use `body`).
    struct recorded_request {
        http::request request;
        std::string body;
        bool body_was_view = false;   ///< the request carried a non-owning body view
        bool body_was_source = false; ///< the body came from a body source (drained into `body`)
        bool had_body_sink = false;
        std::size_t max_body_size = 0;
    };

    explicit fake_transport(executor_type ex) : ex_(std::move(ex)) {}
    template <class ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, asio::execution_context&>
    explicit fake_transport(ExecutionContext& ctx) : ex_(ctx.get_executor()) {}

    fake_transport(const fake_transport&) = delete;
    fake_transport& operator=(const fake_transport&) = delete;

    executor_type get_executor() const noexcept { return ex_; }

    /// Queues a response for the next unanswered round trip.
    void push_response(http::response r) { queue_.emplace_back(std::move(r)); }
    /// Queues `status` with `body` and the given headers.
    void push_response(unsigned status, std::string body = {},
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
        http::response r;
        r.status = status;
        r.reason = status < 300 ? "OK" : "Error";
        for (auto& [name, value] : headers)
            r.headers.add(name, value);
        r.body = std::move(body);
        push_response(std::move(r));
    }
    /// Queues an error for the next unanswered round trip.
    void push_error(std::error_code ec) { queue_.emplace_back(ec); }
    /// The n-th round trip (1-based, counting every round trip ever started) fails with `ec`
    /// instead of taking from the queue (the queue is not consumed by it).
    void fail_nth(std::size_t n, std::error_code ec) { failures_[n] = ec; }
    /// Answers round trips when the queue is empty (default: errc::invalid_argument, so a
    /// test that forgot to script a reply fails loudly).
    void set_responder(responder_type f) { responder_ = std::move(f); }
    /// Delays every completion by `d` (0: completes as soon as the executor runs it). A
    /// delayed round trip can be cancelled mid-flight.
    void set_delay(std::chrono::milliseconds d) { delay_ = d; }
    /// Gives a 2xx body to `opt.body_sink` in pieces of at most `n` bytes (0, the default:
    /// in one piece), as a real transport does when the body arrives in several reads.
    void set_sink_piece_size(std::size_t n) { piece_size_ = n; }

    /// Every request received, in order.
    const std::vector<recorded_request>& requests() const noexcept { return requests_; }
    /// Number of round trips started.
    std::size_t round_trips() const noexcept { return requests_.size(); }
    /// Number of round trips that completed (any outcome, cancellation included).
    std::size_t completed() const noexcept { return completed_; }
    /// Number of round trips completed with operation_aborted by cancellation.
    std::size_t cancelled() const noexcept { return cancelled_; }
    /// Responses still queued.
    std::size_t pending() const noexcept { return queue_.size(); }

    /// Records the request and completes with the scripted outcome. Completion signature
    /// `void(std::error_code, http::response)`. `opt.on_header` is shown the response without
    /// its body first (its error becomes the round trip's error); then, for a 2xx response
    /// and `opt.body_sink`, the body is given to the sink (an error it sets becomes the round
    /// trip's error and stops the pieces) and the response's body is left empty, like a real
    /// transport.
    template <asio::completion_token_for<void(std::error_code, http::response)> Token>
    auto async_round_trip(http::request req, const round_trip_options& opt, Token&& token) {
        recorded_request rec;
        rec.body = std::string(req.body());
        rec.body_was_view = req.body_is_view();
        rec.body_was_source = req.source() != nullptr;
        auto source = req.source();
        rec.had_body_sink = static_cast<bool>(opt.body_sink);
        rec.max_body_size = opt.max_body_size;
        rec.request = std::move(req);
        rec.request.set_body(rec.body); // never keep the caller's view
        requests_.push_back(std::move(rec));
        // A streamed body is answered once it has been drained, so that the responder sees
        // the bytes (the n of fail_nth stays the order in which round trips started).
        const std::size_t index = requests_.size() - 1;
        outcome result = source ? outcome(std::error_code()) : next_outcome(index);
        return asio::async_compose<Token, void(std::error_code, http::response)>(
            op{this, std::move(result), opt.body_sink, opt.on_header,
               std::make_unique<timer_type>(ex_, delay_), std::move(source), index},
            token, ex_);
    }

    /// `async_round_trip` with default options.
    template <asio::completion_token_for<void(std::error_code, http::response)> Token>
    auto async_round_trip(http::request req, Token&& token) {
        return async_round_trip(std::move(req), round_trip_options{}, std::forward<Token>(token));
    }

private:
    using timer_type = asio::steady_timer;

    struct op {
        fake_transport* self_;
        outcome result;
        std::function<void(std::string_view, std::error_code&)> sink;
        std::function<std::error_code(const http::response&)> on_header;
        std::unique_ptr<timer_type> timer;
        std::shared_ptr<http::body_source> source; // drained (as a transport would) first
        std::size_t index = 0;                     // of the recorded request
        enum class phase { start, draining, waiting } at = phase::start;
        std::uint64_t drained = 0;

        /// A chunk of the body source arrived (on the fake's executor).
        template <class Self>
        void operator()(Self& self, std::error_code ec, std::span<const std::byte> chunk) {
            if (!ec && (chunk.empty() || chunk.size() > source->size() - drained))
                ec = errc::source_changed; // as asio_transport
            if (!ec) {
                self_->requests_[index].body.append(reinterpret_cast<const char*>(chunk.data()),
                                                    chunk.size());
                drained += chunk.size();
            }
            (*this)(self, ec);
        }

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}) {
            if (at == phase::start && source) {
                at = phase::draining;
                ec = source->rewind();
            } else if (at == phase::start) {
                at = phase::waiting;
                timer->async_wait(std::move(self));
                return;
            }
            if (at == phase::draining) {
                if (ec) {
                    result = ec; // the body could not be sent: the round trip fails with it
                } else if (drained == source->size()) {
                    // The record keeps the bytes, not the source; now the answer is chosen.
                    self_->requests_[index].request.set_body(self_->requests_[index].body);
                    result = self_->next_outcome(index);
                }
                if (ec || drained == source->size()) {
                    at = phase::waiting;
                    timer->async_wait(std::move(self));
                    return;
                }
                // The next chunk; the source may answer from any thread: back through a post
                // (the chunk stays valid until the next read).
                auto ex = self_->ex_;
                source->async_read_chunk([self = std::move(self),
                                          ex](std::error_code e,
                                              std::span<const std::byte> chunk) mutable {
                    asio::post(ex,
                               [self = std::move(self), e, chunk]() mutable { self(e, chunk); });
                });
                return;
            }
            ++self_->completed_;
            bool was_cancelled =
                (self.get_cancellation_state().cancelled() & asio::cancellation_type::terminal) !=
                asio::cancellation_type::none;
            if (was_cancelled || ec == asio::error::operation_aborted) {
                ++self_->cancelled_;
                return self.complete(asio::error::operation_aborted, http::response{});
            }
            if (auto* e = std::get_if<std::error_code>(&result))
                return self.complete(*e, http::response{});
            auto& res = std::get<http::response>(result);
            if (on_header) {
                http::response head = res;
                head.body.clear();
                if (auto hec = on_header(head))
                    return self.complete(hec, http::response{});
            }
            if (sink && res.ok()) {
                std::error_code sink_ec;
                std::string_view rest = res.body;
                const std::size_t piece = self_->piece_size_ ? self_->piece_size_ : rest.size();
                do {
                    sink(rest.substr(0, piece), sink_ec);
                    rest.remove_prefix(std::min(piece, rest.size()));
                } while (!rest.empty() && !sink_ec);
                res.body.clear();
                if (sink_ec)
                    return self.complete(sink_ec, http::response{});
            }
            self.complete(std::error_code{}, std::move(res));
        }
    };

    /// The answer to the round trip recorded at `index` (fail_nth counts from 1).
    outcome next_outcome(std::size_t index) {
        if (auto it = failures_.find(index + 1); it != failures_.end())
            return it->second;
        if (!queue_.empty()) {
            outcome o = std::move(queue_.front());
            queue_.pop_front();
            return o;
        }
        if (responder_)
            return responder_(requests_[index].request);
        return std::error_code(errc::invalid_argument);
    }

    executor_type ex_;
    std::deque<outcome> queue_;
    std::map<std::size_t, std::error_code> failures_;
    responder_type responder_;
    std::chrono::milliseconds delay_{0};
    std::size_t piece_size_ = 0;
    std::vector<recorded_request> requests_;
    std::size_t completed_ = 0;
    std::size_t cancelled_ = 0;
};

static_assert(check_transport<fake_transport>());

} // namespace ossmp::test
