// ossmp/ops/put_object.hpp: PutObject (`PUT /KEY`): a whole object of at most 5 GiB in one
// request, with the same CRC-64 check and optional Content-MD5 as UploadPart.
#pragma once

#include "ossmp/client.hpp"
#include "ossmp/detail/asio.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/error.hpp"
#include "ossmp/model.hpp"
#include "ossmp/ops/upload_part.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/responses.hpp"
#include "ossmp/transport.hpp"

#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

namespace ossmp {

namespace detail {

struct put_object_parser {
    data_check check;

    std::error_code operator()(const http::response& r, put_object_result& out,
                               diagnostics& d) const {
        if (auto ec = parse_put_object(r, out, d))
            return ec;
        return check(out.crc64);
    }
};

template <class Client, class Token>
auto start_put_object(Client& client, const put_object_params& params,
                      const put_object_options& options, diagnostics* diag, Token&& token) {
    http::request req;
    data_check check;
    const std::error_code ec = build_data_request(
        params, options,
        [](const put_object_params& p, http::request& r) { return make_put_object_request(p, r); },
        req, check);
    return async_call<put_object_result>(client, std::move(req), ec, round_trip_options{}, diag,
                                         put_object_parser{std::move(check)},
                                         std::forward<Token>(token));
}

} // namespace detail

/// Uploads a whole object in one request and completes with its ETag and CRC-64.
///
/// Integrity: as UploadPart, the CRC-64 of the bytes sent is compared with the response's
/// `x-oss-hash-crc64ecma` (`errc::crc_mismatch` when they differ; the object was then written
/// with other bytes than ours and should be rewritten or deleted); `options.content_md5`
/// sends `Content-MD5`.
///
/// Completion signature: `void(std::error_code, put_object_result)`. Errors: validation errors of
/// `make_put_object_request` (nothing is sent), client errors, transport errors, service errors
/// (`diag` has the details), response errors of `parse_put_object`, `errc::crc_mismatch`.
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot is
/// forwarded to the transport; completes with `asio::error::operation_aborted`.
///
/// Streaming: `params.source` streams the object as for `async_upload_part` (CRC-64 computed
/// on the chunks sent, `errc::source_changed` for a source that ends early or runs long).
///
/// Lifetimes: `params` is copied before this function returns EXCEPT the bytes `params.data`
/// views, which must stay alive and unchanged until completion (a `source` is shared and kept
/// alive by the operation). `client` and `diag` (when given) must outlive the operation.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, put_object_result)> Token>
auto async_put_object(basic_client<Transport, Credentials>& client, const put_object_params& params,
                      const put_object_options& options, diagnostics& diag, Token&& token) {
    return detail::start_put_object(client, params, options, &diag, std::forward<Token>(token));
}

/// `async_put_object` with default options (CRC-64 computed and verified, no Content-MD5).
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, put_object_result)> Token>
auto async_put_object(basic_client<Transport, Credentials>& client, const put_object_params& params,
                      diagnostics& diag, Token&& token) {
    return detail::start_put_object(client, params, put_object_options{}, &diag,
                                    std::forward<Token>(token));
}

/// `async_put_object` without caller-visible diagnostics.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, put_object_result)> Token>
auto async_put_object(basic_client<Transport, Credentials>& client, const put_object_params& params,
                      const put_object_options& options, Token&& token) {
    return detail::start_put_object(client, params, options, nullptr, std::forward<Token>(token));
}

/// `async_put_object` with default options and without caller-visible diagnostics.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, put_object_result)> Token>
auto async_put_object(basic_client<Transport, Credentials>& client, const put_object_params& params,
                      Token&& token) {
    return detail::start_put_object(client, params, put_object_options{}, nullptr,
                                    std::forward<Token>(token));
}

} // namespace ossmp
