// ossmp/ops/initiate.hpp: InitiateMultipartUpload (`POST /KEY?uploads`, oss-reference 2.1).
#pragma once

#include "ossmp/client.hpp"
#include "ossmp/detail/asio.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/model.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/responses.hpp"
#include "ossmp/transport.hpp"

#include <system_error>
#include <utility>

namespace ossmp {

/// Starts a multipart upload of `params.key` in `params.bucket` and completes with its upload
/// id (`initiate_result::upload_id`).
///
/// Completion signature: `void(std::error_code, initiate_result)`. Errors: validation errors of
/// `make_initiate_request` (bad bucket, key or header; nothing is sent), client errors
/// (`errc::invalid_endpoint`, `errc::missing_credentials`, `errc::missing_region`), transport
/// errors, service errors (`service_errc` from the response's Code; `diag` has the details) and
/// response errors of `parse_initiate`.
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot is
/// forwarded to the transport; the operation then completes with `asio::error::operation_aborted`
/// (whether OSS created the upload is then unknown: list uploads to clean up).
///
/// Lifetimes: `params` is copied into the request before this function returns. `client` must
/// outlive the operation; `diag` (when given) too: it is written just before completion.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, initiate_result)> Token>
auto async_initiate_upload(basic_client<Transport, Credentials>& client,
                           const initiate_params& params, diagnostics& diag, Token&& token) {
    http::request req;
    const std::error_code ec = make_initiate_request(params, req);
    return detail::async_call<initiate_result>(
        client, std::move(req), ec, round_trip_options{}, &diag,
        [](const http::response& r, initiate_result& out, diagnostics& d) {
            return parse_initiate(r, out, d);
        },
        std::forward<Token>(token));
}

/// `async_initiate_upload` without caller-visible diagnostics (the operation keeps its own).
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, initiate_result)> Token>
auto async_initiate_upload(basic_client<Transport, Credentials>& client,
                           const initiate_params& params, Token&& token) {
    http::request req;
    const std::error_code ec = make_initiate_request(params, req);
    return detail::async_call<initiate_result>(
        client, std::move(req), ec, round_trip_options{}, nullptr,
        [](const http::response& r, initiate_result& out, diagnostics& d) {
            return parse_initiate(r, out, d);
        },
        std::forward<Token>(token));
}

} // namespace ossmp
