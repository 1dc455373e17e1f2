// examples/compiled_transport.cpp: the one place where the examples instantiate
// `ossmp::asio_transport`'s round trip (see compiled_transport.hpp).
#include "compiled_transport.hpp"

#include "ossmp/transport/asio_transport.hpp"

namespace example {

compiled_transport::compiled_transport(const executor_type& ex,
                                       const ossmp::asio_transport_options& options)
    : executor_(ex), impl_(std::make_unique<ossmp::asio_transport>(ex, options)) {}

compiled_transport::~compiled_transport() = default;

void compiled_transport::start(ossmp::http::request request,
                               const ossmp::round_trip_options& options,
                               asio::cancellation_slot slot, asio::any_io_executor ex,
                               std::unique_ptr<completion> done) {
    // One handler type for every round trip: a shared_ptr because Asio handlers are moved,
    // and the completion is called once, through the caller's executor `ex`.
    std::shared_ptr<completion> finish(std::move(done));
    impl_->async_round_trip(
        std::move(request), options,
        asio::bind_cancellation_slot(
            slot, asio::bind_executor(std::move(ex),
                                      [finish](std::error_code ec, ossmp::http::response res) {
                                          (*finish)(ec, std::move(res));
                                      })));
}

} // namespace example
