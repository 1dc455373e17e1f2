// ossmp/ops/complete.hpp: CompleteMultipartUpload (`POST /KEY?uploadId=UID`, oss-reference
// 2.3), with an explicit part list or complete-all.
#pragma once

#include "ossmp/client.hpp"
#include "ossmp/detail/asio.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/error.hpp"
#include "ossmp/model.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/responses.hpp"
#include "ossmp/transport.hpp"

#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

namespace ossmp {

/// Integrity settings of CompleteMultipartUpload.
struct complete_options {
    /// The CRC-64 of the whole object the parts make (`crc64_state::append` of the parts in
    /// number order). When set and the response carries `x-oss-hash-crc64ecma`, a difference
    /// completes with `errc::crc_mismatch` (the object exists but holds other bytes).
    std::optional<std::uint64_t> expected_crc64;
};

namespace detail {

struct complete_parser {
    bool with_callback = false;
    std::optional<std::uint64_t> expected_crc;

    std::error_code operator()(const http::response& r, complete_result& out,
                               diagnostics& d) const {
        if (auto ec = parse_complete(r, out, d, with_callback))
            return ec;
        if (expected_crc && out.crc64 && *out.crc64 != *expected_crc)
            return errc::crc_mismatch;
        return {};
    }
};

template <class Client, class Token>
auto start_complete(Client& client, const complete_params& params, const complete_options& options,
                    diagnostics* diag, Token&& token) {
    http::request req;
    const std::error_code ec = make_complete_request(params, req);
    return async_call<complete_result>(
        client, std::move(req), ec, round_trip_options{}, diag,
        complete_parser{!params.callback.empty(), options.expected_crc64},
        std::forward<Token>(token));
}

} // namespace detail

/// Completes a multipart upload: OSS assembles the listed parts (sorted by number by the
/// builder) or, with `params.complete_all`, every uploaded part, into the object.
///
/// Completion signature: `void(std::error_code, complete_result)`. Errors: validation errors of
/// `make_complete_request` (empty, duplicate or out-of-range part numbers, more than 10,000
/// parts, an empty ETag, a part list together with complete_all; nothing is sent), client
/// errors, transport errors, service errors (`service_errc::invalid_part` for a wrong ETag,
/// `invalid_part_order`, `entity_too_small`, `no_such_upload`, ...; `diag` has the details),
/// response errors of `parse_complete` (an `<Error>` body under 200 is a service error),
/// `errc::crc_mismatch` against `options.expected_crc64`.
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot is
/// forwarded to the transport and completes with `asio::error::operation_aborted`; whether
/// the object was created is then unknown (ListParts / HeadObject tell).
///
/// Lifetimes: `params` (the part list too) is copied into the request body before this
/// function returns. `client` and `diag` (when given) must outlive the operation.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, complete_result)> Token>
auto async_complete_upload(basic_client<Transport, Credentials>& client,
                           const complete_params& params, const complete_options& options,
                           diagnostics& diag, Token&& token) {
    return detail::start_complete(client, params, options, &diag, std::forward<Token>(token));
}

/// `async_complete_upload` without an expected CRC-64.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, complete_result)> Token>
auto async_complete_upload(basic_client<Transport, Credentials>& client,
                           const complete_params& params, diagnostics& diag, Token&& token) {
    return detail::start_complete(client, params, complete_options{}, &diag,
                                  std::forward<Token>(token));
}

/// `async_complete_upload` without caller-visible diagnostics.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, complete_result)> Token>
auto async_complete_upload(basic_client<Transport, Credentials>& client,
                           const complete_params& params, const complete_options& options,
                           Token&& token) {
    return detail::start_complete(client, params, options, nullptr, std::forward<Token>(token));
}

/// `async_complete_upload` without an expected CRC-64 and without caller-visible diagnostics.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, complete_result)> Token>
auto async_complete_upload(basic_client<Transport, Credentials>& client,
                           const complete_params& params, Token&& token) {
    return detail::start_complete(client, params, complete_options{}, nullptr,
                                  std::forward<Token>(token));
}

} // namespace ossmp
