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
#include <optional>
#include <string>
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

/// From the head of a GetObject response: how long its body must be (`size`, unset when
/// nothing says), or the error that refuses it before any body byte reaches the sink. A 206
/// body is the span of its Content-Range (which must agree with Content-Length, and whose
/// total must be `expected`); any other 2xx body is `expected` (which Content-Length must
/// agree with), else Content-Length. Non-2xx responses are left to the error parser.
inline std::error_code get_object_body_size(const http::response& head,
                                            std::optional<std::uint64_t> expected,
                                            std::optional<std::uint64_t>& size) {
    size.reset();
    if (!head.ok())
        return {};
    std::optional<std::uint64_t> length;
    if (auto v = head.headers.find("Content-Length")) {
        std::uint64_t n = 0;
        if (auto ec = resp::header_u64(*v, n))
            return ec;
        length = n;
    }
    if (head.status == 206) {
        auto range = head.headers.find("Content-Range");
        if (!range)
            return errc::missing_header;
        std::uint64_t first = 0, last = 0, total = 0;
        if (auto ec = resp::content_range(*range, first, last, total))
            return ec;
        const std::uint64_t span = last - first + 1;
        if ((length && *length != span) || (expected && total != *expected))
            return errc::size_mismatch;
        size = span;
        return {};
    }
    if (expected && length && *length != *expected)
        return errc::size_mismatch;
    size = expected ? expected : length;
    return {};
}

template <class Sink>
struct get_object_state {
    Sink sink;
    crc64_state crc;
    std::optional<std::uint64_t> size; ///< what the body must be (from the head), if known
};

template <class Sink>
struct get_object_parser {
    std::shared_ptr<get_object_state<Sink>> state;
    bool whole_object = true;

    std::error_code operator()(const http::response& r, get_object_result& out,
                               diagnostics& d) const {
        get_object_result res;
        // A 2xx body that ended short of the size it had to have (a longer one was stopped
        // by the sink wrapper already).
        if (r.ok() && state->size && state->crc.size() != *state->size)
            return errc::size_mismatch;
        // A chunked body (or one whose length was just checked) needs no Content-Length:
        // its length is what was received.
        const http::response* head = &r;
        http::response with_length;
        if (r.ok() && !r.headers.find("Content-Length") &&
            (r.headers.find("Transfer-Encoding") || state->size)) {
            with_length = r;
            with_length.headers.add("Content-Length", std::to_string(state->crc.size()));
            head = &with_length;
        }
        if (auto ec = parse_get_object(*head, res.meta, d))
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
        get_object_state<sink_type>{std::forward<Sink>(sink), crc64_state{}, std::nullopt});
    round_trip_options opt;
    opt.on_header = [state, expected = params.expected_size](const http::response& head) {
        return get_object_body_size(head, expected, state->size);
    };
    opt.body_sink = [state](std::string_view bytes, std::error_code& sink_ec) {
        // Never past the size the body must have: the piece that would cross it (and all
        // that follows) is refused before the caller's sink sees any of it.
        if (state->size && bytes.size() > *state->size - state->crc.size()) {
            sink_ec = errc::size_mismatch;
            return;
        }
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
/// Sizes: the body never goes beyond the size the response announces or the caller expects,
/// whatever its framing (Content-Length, chunked, or until EOF), so a hostile or broken
/// server cannot make the sink write without end. That size is, for a 206 answer, the span
/// of its `Content-Range` (`bytes FIRST-LAST/TOTAL`: LAST - FIRST + 1); for any other 2xx
/// answer `params.expected_size` when set, else Content-Length (a chunked 200 answer without
/// `expected_size` has no size: set `expected_size` to bound it). When the head contradicts
/// itself or the expectation (a Content-Length other than the Content-Range span or than
/// `expected_size`, a Content-Range total other than `expected_size`), the operation fails
/// with `errc::size_mismatch` before any body byte reaches the sink; a body that would go
/// beyond the size fails with `errc::size_mismatch` as soon as the piece that crosses it
/// arrives (that piece is not given to the sink, so the sink sees at most the size); a
/// body that ends short fails with `errc::size_mismatch` at its end (a Content-Length body
/// cut short by the connection is `errc::unexpected_eof`). A chunked 2xx answer is accepted
/// (`meta.content_length` is then the number of bytes received). `size_mismatch` is
/// retryable (`is_retryable`); after it the caller must discard what the sink wrote.
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
/// ...; `diag` has the details), response errors of `parse_get_object`, `errc::size_mismatch`,
/// `errc::crc_mismatch`. On error the result is value-initialised, except for
/// `errc::crc_mismatch` (the metadata, byte count and CRC-64 received).
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
