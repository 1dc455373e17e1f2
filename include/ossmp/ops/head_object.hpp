// ossmp/ops/head_object.hpp: HeadObject (`HEAD /KEY`): an object's metadata.
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

/// Reads an object's metadata (size, ETag, CRC-64, type, user metadata) without its body.
/// A missing object fails with `service_errc::no_such_key` (the code comes from the
/// `x-oss-err` header, since a HEAD response has no body).
///
/// Completion signature: `void(std::error_code, object_meta)`. Errors: validation errors of
/// `make_head_object_request` (nothing is sent), client errors (`errc::invalid_endpoint`,
/// `errc::missing_credentials`, `errc::missing_region`), transport errors, service errors
/// (`service_errc` from the response's Code; `diag` has the details) and response errors of
/// `parse_head_object`.
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot is
/// forwarded to the transport; the operation then completes with `asio::error::operation_aborted`.
///
/// Lifetimes: `params` is copied into the request before this function returns. `client` must
/// outlive the operation; `diag` (when given) too: it is written just before completion.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, object_meta)> Token>
auto async_head_object(basic_client<Transport, Credentials>& client,
                       const head_object_params& params, diagnostics& diag, Token&& token) {
    http::request req;
    const std::error_code ec = make_head_object_request(params, req);
    return detail::async_call<object_meta>(
        client, std::move(req), ec, round_trip_options{}, &diag,
        [](const http::response& r, object_meta& out, diagnostics& d) {
            return parse_head_object(r, out, d);
        },
        std::forward<Token>(token));
}

/// `async_head_object` without caller-visible diagnostics (the operation keeps its own).
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, object_meta)> Token>
auto async_head_object(basic_client<Transport, Credentials>& client,
                       const head_object_params& params, Token&& token) {
    http::request req;
    const std::error_code ec = make_head_object_request(params, req);
    return detail::async_call<object_meta>(
        client, std::move(req), ec, round_trip_options{}, nullptr,
        [](const http::response& r, object_meta& out, diagnostics& d) {
            return parse_head_object(r, out, d);
        },
        std::forward<Token>(token));
}

} // namespace ossmp
