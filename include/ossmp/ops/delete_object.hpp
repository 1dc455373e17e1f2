// ossmp/ops/delete_object.hpp: DeleteObject (`DELETE /KEY`).
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

/// Deletes an object. OSS answers 204 also when the object did not exist.
///
/// Completion signature: `void(std::error_code, delete_object_result)`. Errors: validation errors
/// of `make_delete_object_request` (nothing is sent), client errors (`errc::invalid_endpoint`,
/// `errc::missing_credentials`, `errc::missing_region`), transport errors, service errors
/// (`service_errc` from the response's Code; `diag` has the details) and response errors of
/// `parse_delete_object`.
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot is
/// forwarded to the transport; the operation then completes with `asio::error::operation_aborted`.
///
/// Lifetimes: `params` is copied into the request before this function returns. `client` must
/// outlive the operation; `diag` (when given) too: it is written just before completion.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, delete_object_result)> Token>
auto async_delete_object(basic_client<Transport, Credentials>& client,
                         const delete_object_params& params, diagnostics& diag, Token&& token) {
    http::request req;
    const std::error_code ec = make_delete_object_request(params, req);
    return detail::async_call<delete_object_result>(
        client, std::move(req), ec, round_trip_options{}, &diag,
        [](const http::response& r, delete_object_result& out, diagnostics& d) {
            return parse_delete_object(r, out, d);
        },
        std::forward<Token>(token));
}

/// `async_delete_object` without caller-visible diagnostics (the operation keeps its own).
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, delete_object_result)> Token>
auto async_delete_object(basic_client<Transport, Credentials>& client,
                         const delete_object_params& params, Token&& token) {
    http::request req;
    const std::error_code ec = make_delete_object_request(params, req);
    return detail::async_call<delete_object_result>(
        client, std::move(req), ec, round_trip_options{}, nullptr,
        [](const http::response& r, delete_object_result& out, diagnostics& d) {
            return parse_delete_object(r, out, d);
        },
        std::forward<Token>(token));
}

} // namespace ossmp
