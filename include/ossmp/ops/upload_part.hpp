// ossmp/ops/upload_part.hpp: UploadPart (`PUT /KEY?partNumber=N&uploadId=UID`, oss-reference
// 2.2), with the CRC-64 check of the bytes sent and optional Content-MD5.
#pragma once

#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/crypto.hpp"
#include "ossmp/detail/asio.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/error.hpp"
#include "ossmp/model.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/responses.hpp"
#include "ossmp/transport.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

namespace ossmp {

/// Integrity settings of UploadPart and PutObject.
struct upload_part_options {
    /// The CRC-64 (ECMA, OSS's) of the data, when the caller already has it (the uploader
    /// computes it once, right after reading the part). Unset: computed before sending, on the
    /// thread that starts the operation (for `data`), or on the chunks as they are sent (for a
    /// `source`; when set for a source, the bytes sent must have this CRC-64, else
    /// `errc::source_changed`).
    std::optional<std::uint64_t> crc64;
    /// Send `Content-MD5` (base64 of `crypto::md5` of the data, computed before sending) so
    /// that OSS rejects corrupted bytes with `InvalidDigest`. Ignored when the params already
    /// carry a Content-MD5. Not available for a `source` (the MD5 would need a pass over the
    /// bytes before the headers): give `params.content_md5` instead (`errc::invalid_argument`).
    bool content_md5 = false;
    /// Compare the response's `x-oss-hash-crc64ecma` (when sent) with the CRC-64 of the data
    /// and complete with `errc::crc_mismatch` when they differ.
    bool verify_crc64 = true;
};

/// Integrity settings of PutObject (the same as UploadPart's).
using put_object_options = upload_part_options;

/// A body source that computes the CRC-64 of every pass over another as the transport pulls
/// its chunks (on whatever thread the inner source answers on: right after the bytes were
/// read, while they are hot in cache), so the CRC covers exactly the bytes sent.
///
/// UploadPart and PutObject wrap a `source` in one (a source that already is a `crc64_body`
/// is used as it is), so a caller who wants the CRC-64 of what was sent (e.g. to print it when
/// the server sent none) passes one and reads `sent_crc64()` after completion. Make it with
/// `std::make_shared`.
class crc64_body final : public http::body_source, public std::enable_shared_from_this<crc64_body> {
public:
    explicit crc64_body(std::shared_ptr<http::body_source> inner) : inner_(std::move(inner)) {}

    std::uint64_t size() const noexcept override { return inner_->size(); }
    std::error_code rewind() override {
        pass_.reset();
        return inner_->rewind();
    }
    void async_read_chunk(chunk_handler handler) override {
        inner_->async_read_chunk([self = shared_from_this(), h = std::move(handler)](
                                     std::error_code ec, std::span<const std::byte> chunk) mutable {
            if (!ec)
                self->pass_.update(chunk);
            h(ec, chunk);
        });
    }
    /// The CRC-64 of the last pass, when it covered the whole body.
    std::optional<std::uint64_t> sent_crc64() const noexcept {
        if (pass_.size() != inner_->size())
            return std::nullopt;
        return pass_.value();
    }

private:
    std::shared_ptr<http::body_source> inner_;
    crc64_state pass_;
};

namespace detail {

inline std::string_view bytes_as_chars(std::span<const std::byte> data) noexcept {
    return std::string_view(reinterpret_cast<const char*>(data.data()), data.size());
}

/// What the response of an UploadPart/PutObject-like call must match.
struct data_check {
    std::optional<std::uint64_t> expected; ///< the CRC-64 of in-memory data
    std::shared_ptr<crc64_body> streamed;  ///< for a source: the CRC of what was sent
    std::optional<std::uint64_t> promised; ///< for a source: the caller's CRC-64, if any

    /// Checks the reply's CRC-64 (`reply`, when sent).
    std::error_code operator()(const std::optional<std::uint64_t>& reply) const {
        std::optional<std::uint64_t> sent = expected;
        if (streamed) {
            sent = streamed->sent_crc64();
            if (!sent) // the transport completed without taking the whole body: never trust it
                return errc::source_changed;
            if (promised && *promised != *sent)
                return errc::source_changed;
        }
        if (sent && reply && *reply != *sent)
            return errc::crc_mismatch;
        return {};
    }
};

// Builds the request of an UploadPart/PutObject-like call, adding Content-MD5 when asked, and
// the CRC check the response must pass.
template <class Params, class Make>
std::error_code build_data_request(const Params& params, const upload_part_options& options,
                                   Make make, http::request& req, data_check& check) {
    if (params.source) {
        if (options.content_md5 && params.content_md5.empty())
            return errc::invalid_argument;
        Params p = params;
        if (options.verify_crc64) {
            check.streamed = std::dynamic_pointer_cast<crc64_body>(params.source);
            if (!check.streamed)
                check.streamed = std::make_shared<crc64_body>(params.source);
            check.promised = options.crc64;
            p.source = check.streamed;
        }
        return make(p, req);
    }
    std::error_code ec;
    if (options.content_md5 && params.content_md5.empty()) {
        Params p = params; // strings only: the data is a view
        p.content_md5 = crypto::base64_encode(crypto::md5(bytes_as_chars(params.data)));
        ec = make(p, req);
    } else {
        ec = make(params, req);
    }
    if (!ec && options.verify_crc64)
        check.expected = options.crc64 ? *options.crc64 : crc64(params.data);
    return ec;
}

struct upload_part_parser {
    int part_number = 0;
    data_check check;

    std::error_code operator()(const http::response& r, upload_part_result& out,
                               diagnostics& d) const {
        out.part_number = part_number;
        if (auto ec = parse_upload_part(r, out, d))
            return ec;
        return check(out.crc64);
    }
};

template <class Client, class Token>
auto start_upload_part(Client& client, const upload_part_params& params,
                       const upload_part_options& options, diagnostics* diag, Token&& token) {
    http::request req;
    data_check check;
    const std::error_code ec = build_data_request(
        params, options,
        [](const upload_part_params& p, http::request& r) {
            return make_upload_part_request(p, r);
        },
        req, check);
    return async_call<upload_part_result>(client, std::move(req), ec, round_trip_options{}, diag,
                                          upload_part_parser{params.part_number, std::move(check)},
                                          std::forward<Token>(token));
}

} // namespace detail

/// Uploads one part of a multipart upload and completes with its ETag
/// (`upload_part_result::etag`, to be passed to Complete) and the server's CRC-64.
///
/// Integrity: the CRC-64 of the bytes sent (`options.crc64`, else computed here) is compared
/// with the response's `x-oss-hash-crc64ecma`; a difference completes with
/// `errc::crc_mismatch` (retryable; the result then holds what the server returned). With
/// `options.content_md5` the request carries `Content-MD5`.
///
/// Completion signature: `void(std::error_code, upload_part_result)`. Errors: validation errors
/// of `make_upload_part_request` (bad bucket, key, upload id, part number 0 or above 10000,
/// data above 5 GiB; nothing is sent), client errors, transport errors, service errors
/// (`service_errc::no_such_upload`, `invalid_digest`, ...; `diag` has the details), response
/// errors of `parse_upload_part`, `errc::crc_mismatch`.
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot is
/// forwarded to the transport (its connection is closed); the operation then completes with
/// `asio::error::operation_aborted`.
///
/// Streaming: with `params.source` (a `file_body`, ...) the part is pulled chunk by chunk
/// while it is sent, so memory does not depend on the part size; its CRC-64 is computed on the
/// chunks as they go out and compared with the reply's; a body that ends early or runs long,
/// or bytes whose CRC-64 is not `options.crc64` when that is given, complete with
/// `errc::source_changed`. A retry (`client_options::retry`) rewinds the source.
///
/// Lifetimes: everything in `params` is copied before this function returns EXCEPT the bytes
/// `params.data` views: they are sent without a copy and must stay alive and unchanged until
/// the completion handler runs (a `source` is shared, and kept alive by the operation).
/// `client` and `diag` (when given) must outlive the operation.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, upload_part_result)> Token>
auto async_upload_part(basic_client<Transport, Credentials>& client,
                       const upload_part_params& params, const upload_part_options& options,
                       diagnostics& diag, Token&& token) {
    return detail::start_upload_part(client, params, options, &diag, std::forward<Token>(token));
}

/// `async_upload_part` with default options (CRC-64 computed and verified, no Content-MD5).
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, upload_part_result)> Token>
auto async_upload_part(basic_client<Transport, Credentials>& client,
                       const upload_part_params& params, diagnostics& diag, Token&& token) {
    return detail::start_upload_part(client, params, upload_part_options{}, &diag,
                                     std::forward<Token>(token));
}

/// `async_upload_part` without caller-visible diagnostics.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, upload_part_result)> Token>
auto async_upload_part(basic_client<Transport, Credentials>& client,
                       const upload_part_params& params, const upload_part_options& options,
                       Token&& token) {
    return detail::start_upload_part(client, params, options, nullptr, std::forward<Token>(token));
}

/// `async_upload_part` with default options and without caller-visible diagnostics.
template <transport Transport, class Credentials,
          asio::completion_token_for<void(std::error_code, upload_part_result)> Token>
auto async_upload_part(basic_client<Transport, Credentials>& client,
                       const upload_part_params& params, Token&& token) {
    return detail::start_upload_part(client, params, upload_part_options{}, nullptr,
                                     std::forward<Token>(token));
}

} // namespace ossmp
