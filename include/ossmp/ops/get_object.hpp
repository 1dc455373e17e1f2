// ossmp/ops/get_object.hpp: GetObject (`GET /KEY`), streamed to a caller sink, with the
// whole-object CRC-64 check.
#pragma once

#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/detail/asio.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/error.hpp"
#include "ossmp/model.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/responses.hpp"
#include "ossmp/transport.hpp"

#include <concepts>
#include <cstdint>
#include <memory>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace ossmp {

/// Result of GetObject: the object's metadata and what was received.
struct get_object_result {
    object_meta meta;         ///< response headers (`meta.size` is the whole object's size)
    std::uint64_t bytes = 0;  ///< body bytes handed to the sink
    std::uint64_t crc64 = 0;  ///< CRC-64 of those bytes
    bool crc_checked = false; ///< true when `crc64` was compared with the server's (and matched)
};

/// A GetObject body sink: called with consecutive chunks of the body (2xx responses only), in
/// order, never concurrently. Either `void(std::string_view)` or
/// `void(std::string_view, std::error_code&)`; setting the error code aborts the transfer and
/// completes the operation with it (e.g. a failed write to disk).
template <class Sink>
concept body_sink = std::move_constructible<std::decay_t<Sink>> &&
    (std::invocable<std::decay_t<Sink>&, std::string_view> ||
     std::invocable<std::decay_t<Sink>&, std::string_view, std::error_code&>);

namespace detail {

template <class Sink>
struct get_object_state {
    Sink sink;
    crc64_state crc;
};

template <class Sink>
struct get_object_parser {
    std::shared_ptr<get_object_state<Sink>> state;
    bool whole_object = true;

    std::error_code operator()(const http::response& r, get_object_result& out,
                               diagnostics& d) const {
        get_object_result res;
        if (auto ec = parse_get_object(r, res.meta, d))
            return ec;
        res.bytes = state->crc.size();
        res.crc64 = state->crc.value();
        // A 200 answer is the whole object, even if a range was asked for and ignored.
        const bool whole = r.status == 200 || (whole_object && r.status != 206);
        if (whole && res.meta.crc64) {
            if (*res.meta.crc64 != res.crc64 || res.bytes != res.meta.content_length) {
                out = std::move(res);
                return errc::crc_mismatch;
            }
            res.crc_checked = true;
        }
        out = std::move(res);
        return {};
    }
};

template <class Client, class Sink, class Token>
auto start_get_object(Client& client, const get_object_params& params, Sink&& sink,
                      diagnostics* diag, Token&& token) {
    using sink_type = std::decay_t<Sink>;
    http::request req;
    const std::error_code ec = make_get_object_request(params, req);
    auto state = std::make_shared<get_object_state<sink_type>>(
        get_object_state<sink_type>{std::forward<Sink>(sink), crc64_state{}});
    round_trip_options opt;
    opt.body_sink = [state](std::string_view bytes, std::error_code& sink_ec) {
        state->crc.update(bytes);
        if constexpr (std::invocable<sink_type&, std::string_view, std::error_code&>)
            state->sink(bytes, sink_ec);
        else
            state->sink(bytes);
    };
    return async_call<get_object_result>(
        client, std::move(req), ec, std::move(opt), diag,
        get_object_parser<sink_type>{std::move(state), !params.range_first.has_value()},
        std::forward<Token>(token));
}

} // namespace detail

/// Reads an object (or the byte range `params.range_first..range_last`) and streams its body
/// to `sink` as it arrives; nothing of the body is stored by ossmp.
///
/// Integrity: when the response is the whole object (status 200) and carries
/// `x-oss-hash-crc64ecma`, the CRC-64 of the bytes received is compared with it at the end;
/// a difference (or a byte count other than Content-Length) completes with
/// `errc::crc_mismatch`, after the sink has seen every byte: the caller must then discard what
/// it wrote. A 206 partial response is not checked (the header is the whole object's).
///
/// Completion signature: `void(std::error_code, get_object_result)`. Errors: validation errors of
/// `make_get_object_request` (nothing is sent), client errors, transport errors (a truncated
/// body is `errc::unexpected_eof`), the sink's error, service errors (`service_errc::no_such_key`,
/// ...; `diag` has the details), response errors of `parse_get_object`, `errc::crc_mismatch`.
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot is
/// forwarded to the transport (the connection is closed) and completes with
/// `asio::error::operation_aborted`; the sink may have received part of the body.
///
/// Lifetimes: `params` is copied and `sink` moved (or copied) into the operation before this
/// function returns; the sink is destroyed after completion. `client` and `diag` (when given)
/// must outlive the operation.
template <transport Transport, class Credentials, body_sink Sink,
          asio::completion_token_for<void(std::error_code, get_object_result)> Token>
auto async_get_object(basic_client<Transport, Credentials>& client, const get_object_params& params,
                      Sink&& sink, diagnostics& diag, Token&& token) {
    return detail::start_get_object(client, params, std::forward<Sink>(sink), &diag,
                                    std::forward<Token>(token));
}

/// `async_get_object` without caller-visible diagnostics.
template <transport Transport, class Credentials, body_sink Sink,
          asio::completion_token_for<void(std::error_code, get_object_result)> Token>
auto async_get_object(basic_client<Transport, Credentials>& client, const get_object_params& params,
                      Sink&& sink, Token&& token) {
    return detail::start_get_object(client, params, std::forward<Sink>(sink), nullptr,
                                    std::forward<Token>(token));
}

} // namespace ossmp
