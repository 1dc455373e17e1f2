// examples/compiled_transport.hpp: `ossmp::asio_transport` behind a seam that is compiled once
// (in compiled_transport.cpp), for the examples' build time.
//
// Why: `ossmp::asio_transport` is header-only, so every translation unit that sends requests
// through it compiles its round trip's engine (connection pool, TLS, HTTP parser, timers) again
// (once per translation unit: the transport erases the caller's handler type in front of the
// engine). Behind this seam the engine is compiled once, in one .cpp file; the examples'
// translation units see only a small token-generic front. A program with many translation
// units can do the same; a program with one does not need it.
//
// It models `ossmp::transport` exactly as `asio_transport` does (any completion token, several
// round trips at once, terminal cancellation through the handler's slot), because it forwards
// to one.
#pragma once

#include "ossmp/detail/asio.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/transport.hpp"
#include "ossmp/transport/asio_transport_options.hpp"

#include <memory>
#include <system_error>
#include <utility>

namespace ossmp {
template <class Executor>
class basic_asio_transport;
}

namespace example {

/// An `ossmp::asio_transport` whose round trips are compiled once (see the file comment).
///
/// `async_round_trip(request, options, token)`: completion signature
/// `void(std::error_code, ossmp::http::response)`, errors as `asio_transport::async_round_trip`.
/// The handler runs through its associated executor (default: the transport's).
/// Cancellation: terminal cancellation through the token's associated slot stops the round trip
/// and completes with `asio::error::operation_aborted`.
/// Lifetimes: as `asio_transport` (the request body view stays valid until completion; the
/// transport outlives its round trips). Not copyable or movable.
class compiled_transport {
public:
    using executor_type = asio::any_io_executor;

    /// A transport on `ex` with `options` (throws `std::system_error` as `asio_transport`).
    compiled_transport(const executor_type& ex, const ossmp::asio_transport_options& options);
    ~compiled_transport();
    compiled_transport(const compiled_transport&) = delete;
    compiled_transport& operator=(const compiled_transport&) = delete;

    executor_type get_executor() const noexcept { return executor_; }

    template <asio::completion_token_for<void(std::error_code, ossmp::http::response)> Token>
    auto async_round_trip(ossmp::http::request request, const ossmp::round_trip_options& opt,
                          Token&& token) {
        return asio::async_compose<Token, void(std::error_code, ossmp::http::response)>(
            round_trip_op{this, std::move(request), opt}, token, executor_);
    }

    /// The completion the compiled part calls, once.
    struct completion {
        virtual ~completion() = default;
        virtual void operator()(std::error_code ec, ossmp::http::response res) = 0;
    };

private:
    template <class Self>
    struct completion_of final : completion {
        explicit completion_of(Self&& s) : self(std::move(s)) {}
        void operator()(std::error_code ec, ossmp::http::response res) override {
            self(ec, std::move(res));
        }
        Self self;
    };

    struct round_trip_op {
        compiled_transport* transport;
        ossmp::http::request request;
        ossmp::round_trip_options options;
        bool started = false;

        template <class Self>
        void operator()(Self& self, std::error_code ec = {}, ossmp::http::response res = {}) {
            if (started) {
                self.complete(ec, std::move(res));
                return;
            }
            started = true;
            // Everything `start` needs is taken out of `self` before `self` is moved away.
            compiled_transport* t = transport;
            ossmp::http::request req = std::move(request);
            ossmp::round_trip_options opt = options;
            auto slot = self.get_cancellation_state().slot();
            asio::any_io_executor ex = asio::get_associated_executor(self, t->executor_);
            auto done = std::make_unique<completion_of<Self>>(std::move(self));
            t->start(std::move(req), opt, slot, std::move(ex), std::move(done));
        }
    };

    /// Starts the round trip (compiled once): `done` is called through `ex` with the
    /// transport's outcome; `slot` carries the caller's cancellation.
    void start(ossmp::http::request request, const ossmp::round_trip_options& options,
               asio::cancellation_slot slot, asio::any_io_executor ex,
               std::unique_ptr<completion> done);

    executor_type executor_;
    std::unique_ptr<ossmp::basic_asio_transport<asio::any_io_executor>> impl_;
};

} // namespace example
