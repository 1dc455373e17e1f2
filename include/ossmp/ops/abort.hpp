// ossmp/ops/abort.hpp: AbortMultipartUpload (`DELETE /KEY?uploadId=UID`, oss-reference 2.4).
#pragma once

#include "ossmp/client.hpp"
#include "ossmp/detail/asio.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/responses.hpp"
#include "ossmp/transport.hpp"

#include <string>
#include <system_error>
#include <utility>

namespace ossmp {

/// Result of AbortMultipartUpload (204 No Content: only headers).
struct abort_result {
    std::string request_id; ///< `x-oss-request-id` header
};

namespace detail {
inline std::error_code parse_abort_result(const http::response& r, abort_result& out,
                                          diagnostics& d) {
    if (auto ec = parse_abort(r, d))
        return ec;
    out.request_id = d.request_id;
    return {};
}
} // namespace detail

/// Aborts a multipart upload: OSS deletes its parts. Aborting an upload that no longer exists
/// fails with `service_errc::no_such_upload`.
///
/// Completion signature: `void(std::error_code, abort_result)` (every ossmp operation carries a
/// result, see client.hpp). Errors: validation errors of `make_abort_request` (nothing is sent),
/// client errors, transport errors, service errors (`diag` has the details).
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot is
/// forwarded to the transport and completes the operation with `asio::error::operation_aborted`
/// (the upload may or may not have been aborted).
///
/// Lifetimes: `params` is copied before this function returns; `client` and `diag` (when given)
/// must outlive the operation.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, abort_result)> Token>
auto async_abort_upload(basic_client<Transport, Credentials>& client, const abort_params& params,
                        diagnostics& diag, Token&& token) {
    http::request req;
    const std::error_code ec = make_abort_request(params, req);
    return detail::async_call<abort_result>(client, std::move(req), ec, round_trip_options{}, &diag,
                                            &detail::parse_abort_result,
                                            std::forward<Token>(token));
}

/// `async_abort_upload` without caller-visible diagnostics.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, abort_result)> Token>
auto async_abort_upload(basic_client<Transport, Credentials>& client, const abort_params& params,
                        Token&& token) {
    http::request req;
    const std::error_code ec = make_abort_request(params, req);
    return detail::async_call<abort_result>(client, std::move(req), ec, round_trip_options{},
                                            nullptr, &detail::parse_abort_result,
                                            std::forward<Token>(token));
}

} // namespace ossmp
