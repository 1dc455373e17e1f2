// ossmp/ops/list_multipart_uploads.hpp: ListMultipartUploads (`GET /?uploads`, oss-reference 2.6).
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

/// Lists one page of the in-progress multipart uploads of a bucket (filtered by prefix,
/// grouped by delimiter). Continue with `key_marker = result.next_key_marker` and
/// `upload_id_marker = result.next_upload_id_marker` while `result.is_truncated`.
///
/// Completion signature: `void(std::error_code, list_uploads_result)`. Errors: validation errors of
/// `make_list_uploads_request` (nothing is sent), client errors (`errc::invalid_endpoint`,
/// `errc::missing_credentials`, `errc::missing_region`), transport errors, service errors
/// (`service_errc` from the response's Code; `diag` has the details) and response errors of
/// `parse_list_uploads`.
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot is
/// forwarded to the transport; the operation then completes with `asio::error::operation_aborted`.
///
/// Lifetimes: `params` is copied into the request before this function returns. `client` must
/// outlive the operation; `diag` (when given) too: it is written just before completion.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, list_uploads_result)> Token>
auto async_list_uploads(basic_client<Transport, Credentials>& client,
                        const list_uploads_params& params, diagnostics& diag, Token&& token) {
    http::request req;
    const std::error_code ec = make_list_uploads_request(params, req);
    return detail::async_call<list_uploads_result>(
        client, std::move(req), ec, round_trip_options{}, &diag,
        [](const http::response& r, list_uploads_result& out, diagnostics& d) {
            return parse_list_uploads(r, out, d);
        },
        std::forward<Token>(token));
}

/// `async_list_uploads` without caller-visible diagnostics (the operation keeps its own).
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, list_uploads_result)> Token>
auto async_list_uploads(basic_client<Transport, Credentials>& client,
                        const list_uploads_params& params, Token&& token) {
    http::request req;
    const std::error_code ec = make_list_uploads_request(params, req);
    return detail::async_call<list_uploads_result>(
        client, std::move(req), ec, round_trip_options{}, nullptr,
        [](const http::response& r, list_uploads_result& out, diagnostics& d) {
            return parse_list_uploads(r, out, d);
        },
        std::forward<Token>(token));
}

} // namespace ossmp
