// tests/unit/ops_fake_transport.hpp: a scripted in-memory transport for the operation tests.
//
// Each round trip records the request (a copy, its serialized head and a copy of its body,
// plus where the body bytes lived, to prove they were not copied) and completes, through a
// post to the handler's executor, with the next scripted step: a response or an error. A 2xx
// response is fed to `round_trip_options::body_sink` in chunks when one is set (as the real
// transport streams GetObject). With nothing scripted the round trip stays in flight until it
// is cancelled through the handler's cancellation slot (then: operation_aborted).
#pragma once

#include "ossmp/detail/asio.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/http/serializer.hpp"
#include "ossmp/transport.hpp"

#include <algorithm>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace ossmp::test {

class ops_fake_transport {
public:
    using executor_type = asio::any_io_executor;

    /// What one round trip received.
    struct recorded {
        http::request request;           ///< the request as given (a copy; the body is a view)
        std::string head;                ///< `http::serialize_head(request)`
        std::string body;                ///< a copy of the body bytes
        const char* body_data = nullptr; ///< where the body bytes lived
        bool body_was_view = false;      ///< the request viewed its body instead of owning it
    };

    explicit ops_fake_transport(asio::io_context& ctx) : ex_(ctx.get_executor()) {}

    executor_type get_executor() const { return ex_; }

    /// Scripts the next round trip to complete with this response.
    void push(http::response r) { script_.push_back(step{{}, std::move(r)}); }
    /// Scripts the next round trip to fail with this error.
    void push_error(std::error_code ec) { script_.push_back(step{ec, {}}); }
    /// Size of the chunks handed to a body sink (default: the whole body at once).
    void set_sink_chunk(std::size_t n) { chunk_ = n; }

    const std::vector<recorded>& requests() const noexcept { return requests_; }
    /// Round trips started and not yet completed.
    int in_flight() const noexcept { return *in_flight_; }

    template <class Token>
    auto async_round_trip(http::request req, const round_trip_options& opt, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, http::response)>(
            [this](auto handler, http::request r, round_trip_options o) {
                start(std::move(handler), std::move(r), std::move(o));
            },
            token, std::move(req), opt);
    }

private:
    struct step {
        std::error_code ec;
        http::response response;
    };

    template <class Handler>
    void start(Handler handler, http::request req, round_trip_options opt) {
        recorded rec;
        rec.head = http::serialize_head(req);
        rec.body = std::string(req.body());
        rec.body_data = req.body().data();
        rec.body_was_view = req.body_is_view();
        rec.request = std::move(req);
        requests_.push_back(std::move(rec));
        ++*in_flight_;
        auto ex = asio::get_associated_executor(handler, ex_);
        auto in_flight = in_flight_;

        if (script_.empty()) {
            // Stays in flight until cancelled.
            auto slot = asio::get_associated_cancellation_slot(handler);
            auto held = std::make_shared<std::optional<Handler>>(std::move(handler));
            if (slot.is_connected()) {
                slot.assign([held, ex, in_flight](asio::cancellation_type type) {
                    if ((type & asio::cancellation_type::terminal) ==
                            asio::cancellation_type::none ||
                        !held->has_value())
                        return;
                    auto h = std::move(**held);
                    held->reset();
                    asio::post(ex, [h = std::move(h), in_flight]() mutable {
                        --*in_flight;
                        h(asio::error::operation_aborted, http::response{});
                    });
                });
            }
            held_.push_back(held); // keeps an uncancellable one alive until the fake dies
            return;
        }

        step s = std::move(script_.front());
        script_.pop_front();
        const std::size_t chunk = chunk_;
        asio::post(ex, [handler = std::move(handler), s = std::move(s), opt = std::move(opt), chunk,
                        in_flight]() mutable {
            --*in_flight;
            if (!s.ec && s.response.ok() && opt.body_sink) {
                std::string body = std::move(s.response.body);
                s.response.body.clear();
                std::string_view rest = body;
                std::error_code sink_ec;
                while (!rest.empty() && !sink_ec) {
                    const std::size_t n = chunk == 0 ? rest.size() : std::min(chunk, rest.size());
                    opt.body_sink(rest.substr(0, n), sink_ec);
                    rest.remove_prefix(n);
                }
                if (sink_ec) {
                    handler(sink_ec, http::response{});
                    return;
                }
            }
            handler(s.ec, std::move(s.response));
        });
    }

    executor_type ex_;
    std::deque<step> script_;
    std::vector<recorded> requests_;
    std::size_t chunk_ = 0;
    std::shared_ptr<int> in_flight_ = std::make_shared<int>(0);
    std::vector<std::shared_ptr<void>> held_;
};

static_assert(check_transport<ops_fake_transport>());

} // namespace ossmp::test
