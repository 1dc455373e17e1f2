// ossmp/error.hpp: the two error enums of ossmp and their categories.
//
// Every completion in ossmp starts with a std::error_code. Its value comes from one of:
//   - ossmp::errc          client-side failures (validation, malformed XML/HTTP, integrity),
//   - ossmp::service_errc  the OSS `Code` string of a non-2xx response body,
//   - asio / std            I/O, TLS, timeouts, cancellation (operation_aborted).
// `is_retryable(ec)` says whether repeating the same request may succeed.
#pragma once

#include <cerrno>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace ossmp {

/// Client-side error conditions. Values are stable; 0 is never used.
enum class errc {
    // Validation before any byte is sent.
    invalid_argument = 1,  ///< generic bad parameter
    empty_key,             ///< object key is empty
    key_too_long,          ///< object key longer than 1023 bytes
    invalid_key,           ///< object key starts with '/' or '\\', or is not valid UTF-8
    invalid_bucket_name,   ///< bucket not 3..63 chars of [a-z0-9-] without leading/trailing '-'
    invalid_part_number,   ///< part number outside 1..10000
    part_too_small,        ///< non-last part smaller than 100 KiB
    part_too_large,        ///< part larger than 5 GiB
    empty_part_list,       ///< CompleteMultipartUpload with no parts
    duplicate_part_number, ///< the same part number twice in a part list
    too_many_parts,        ///< more than 10,000 parts
    empty_upload_id,       ///< upload id is empty
    invalid_endpoint,      ///< endpoint URL cannot be parsed
    missing_region,        ///< V4 signing without a region
    missing_credentials,   ///< no access key id / secret
    invalid_range,         ///< bad byte range for GetObject
    invalid_header,        ///< user-supplied header name or value contains CR/LF or is empty

    // Malformed server output (XML).
    malformed_xml = 100, ///< not well-formed XML, or not XML at all
    xml_too_large,       ///< document exceeds the parser's size cap
    unexpected_xml_root, ///< well-formed but the root element is not the expected one
    missing_xml_element, ///< a required element is absent
    bad_xml_number,      ///< a numeric element does not parse, or is out of range
    bad_xml_value,       ///< an element has a value outside its domain (e.g. IsTruncated=maybe)

    // Malformed HTTP.
    bad_status_line = 200, ///< response status line does not parse
    bad_request_line,      ///< request line does not parse
    bad_version,           ///< not HTTP/1.0 or HTTP/1.1
    bad_header,            ///< header line does not parse
    header_too_large,      ///< header section exceeds the cap
    too_many_headers,      ///< header count exceeds the cap
    bad_content_length,    ///< Content-Length missing, duplicated inconsistently or not a number
    bad_transfer_encoding, ///< unsupported or malformed Transfer-Encoding
    bad_chunk,             ///< chunk size line or chunk terminator malformed
    body_too_large,        ///< body exceeds the cap
    unexpected_eof,        ///< connection closed before the message ended (truncated body)
    missing_header,        ///< a header the protocol requires is absent (e.g. ETag)
    bad_header_value,      ///< a header the protocol requires has a value that does not parse

    // Integrity.
    crc_mismatch = 300,  ///< x-oss-hash-crc64ecma differs from the CRC-64 of the bytes
    md5_mismatch,        ///< returned ETag / Content-MD5 differs from the MD5 of the bytes
    source_changed,      ///< a file changed while it was being uploaded (size or mtime)
    checkpoint_mismatch, ///< a checkpoint belongs to another file, object or part size
    checkpoint_corrupt,  ///< a checkpoint fails its self-checksum or does not parse
    /// a body's size differs from the size expected by the caller or announced by the response
    /// (GetObject: `get_object_params::expected_size`, Content-Length, Content-Range)
    size_mismatch,

    // Other.
    timeout = 400,     ///< connect, stall or request timeout (asio_transport_options)
    upload_aborted,    ///< the upload was aborted after an earlier failure
    transfer_too_slow, ///< under asio_transport_options::low_speed_limit for low_speed_time
    not_resumable, ///< a checkpoint or resume token given for a stream (it cannot be read again)
    /// a pager or list generator was asked for the next page while its previous call is still
    /// running (one call at a time); the running call is not disturbed
    operation_in_progress,
    end_of_listing, ///< a pager was asked for a page after its last one (`done()` was true)

    // TLS certificate verification (the handshake failed; OpenSSL's verify result says why).
    tls_untrusted_certificate = 500, ///< unknown CA, self-signed, or an incomplete chain
    tls_hostname_mismatch,           ///< the certificate names neither the host nor the IP
    tls_certificate_expired,         ///< a certificate of the chain expired or is not yet valid
};

/// The server's `Code` strings (oss-reference section 5.2 and common codes). `unknown` is a
/// Code ossmp does not know; the raw string is always in `diagnostics::code`.
enum class service_errc {
    unknown = 1,
    no_such_upload,
    invalid_part,
    invalid_part_order,
    entity_too_small,
    entity_too_large,
    invalid_argument,
    malformed_xml,
    invalid_digest,
    file_already_exists,
    part_already_exist,
    part_not_sequential,
    no_such_bucket,
    no_such_key,
    access_denied,
    signature_does_not_match,
    invalid_access_key_id,
    request_time_too_skewed,
    request_timeout,
    internal_error,
    service_unavailable,
    slow_down,
    user_disable,
    missing_content_length,
    invalid_bucket_name,
    invalid_object_name,
    bad_request,
    method_not_allowed,
    not_implemented,
    precondition_failed,
    invalid_range,
    security_token_expired,
    invalid_security_token,
    too_many_requests,
};

namespace detail {

class errc_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "ossmp"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::invalid_argument:
            return "invalid argument";
        case errc::empty_key:
            return "object key is empty";
        case errc::key_too_long:
            return "object key is longer than 1023 bytes";
        case errc::invalid_key:
            return "object key starts with '/' or '\\' or is not UTF-8";
        case errc::invalid_bucket_name:
            return "invalid bucket name: it must be 3-63 characters of a-z, 0-9 and '-', not "
                   "starting or ending with '-'";
        case errc::invalid_part_number:
            return "part number outside 1..10000";
        case errc::part_too_small:
            return "part smaller than 100 KiB (only the last may be)";
        case errc::part_too_large:
            return "part larger than 5 GiB";
        case errc::empty_part_list:
            return "part list is empty";
        case errc::duplicate_part_number:
            return "duplicate part number in part list";
        case errc::too_many_parts:
            return "more than 10000 parts";
        case errc::empty_upload_id:
            return "upload id is empty";
        case errc::invalid_endpoint:
            return "invalid endpoint";
        case errc::missing_region:
            return "V4 signing needs a region";
        case errc::missing_credentials:
            return "no credentials";
        case errc::invalid_range:
            return "invalid byte range";
        case errc::invalid_header:
            return "invalid header name or value";
        case errc::malformed_xml:
            return "malformed XML in response";
        case errc::xml_too_large:
            return "XML document exceeds the size cap";
        case errc::unexpected_xml_root:
            return "unexpected XML root element";
        case errc::missing_xml_element:
            return "required XML element missing";
        case errc::bad_xml_number:
            return "XML element is not a valid number";
        case errc::bad_xml_value:
            return "XML element has an invalid value";
        case errc::bad_status_line:
            return "malformed HTTP status line";
        case errc::bad_request_line:
            return "malformed HTTP request line";
        case errc::bad_version:
            return "unsupported HTTP version";
        case errc::bad_header:
            return "malformed HTTP header";
        case errc::header_too_large:
            return "HTTP header section too large";
        case errc::too_many_headers:
            return "too many HTTP headers";
        case errc::bad_content_length:
            return "invalid Content-Length";
        case errc::bad_transfer_encoding:
            return "invalid Transfer-Encoding";
        case errc::bad_chunk:
            return "malformed chunked body";
        case errc::body_too_large:
            return "HTTP body too large";
        case errc::unexpected_eof:
            return "connection closed before the message ended";
        case errc::missing_header:
            return "required response header missing";
        case errc::bad_header_value:
            return "response header has an invalid value";
        case errc::crc_mismatch:
            return "CRC-64 mismatch";
        case errc::md5_mismatch:
            return "MD5 mismatch";
        case errc::source_changed:
            return "source changed during upload";
        case errc::checkpoint_mismatch:
            return "checkpoint belongs to another upload";
        case errc::checkpoint_corrupt:
            return "checkpoint is corrupt";
        case errc::size_mismatch:
            return "body size differs from the expected or announced size";
        case errc::timeout:
            return "timed out";
        case errc::upload_aborted:
            return "upload aborted";
        case errc::transfer_too_slow:
            return "transfer too slow (below the low-speed limit)";
        case errc::not_resumable:
            return "a stream cannot be resumed (it cannot be read again): no checkpoint or resume "
                   "token for it";
        case errc::operation_in_progress:
            return "another call on this pager or generator is still in progress (one call at a "
                   "time)";
        case errc::end_of_listing:
            return "the listing has no more pages";
        case errc::tls_untrusted_certificate:
            return "TLS certificate not trusted (unknown CA or self-signed)";
        case errc::tls_hostname_mismatch:
            return "TLS certificate does not match the host name";
        case errc::tls_certificate_expired:
            return "TLS certificate expired or not yet valid";
        }
        return "unknown ossmp error";
    }
};

struct service_code_entry {
    service_errc value;
    std::string_view code;
};

// Code strings as OSS spells them.
inline constexpr service_code_entry service_codes[] = {
    {service_errc::no_such_upload, "NoSuchUpload"},
    {service_errc::invalid_part, "InvalidPart"},
    {service_errc::invalid_part_order, "InvalidPartOrder"},
    {service_errc::entity_too_small, "EntityTooSmall"},
    {service_errc::entity_too_large, "EntityTooLarge"},
    {service_errc::invalid_argument, "InvalidArgument"},
    {service_errc::malformed_xml, "MalformedXML"},
    {service_errc::invalid_digest, "InvalidDigest"},
    {service_errc::file_already_exists, "FileAlreadyExists"},
    {service_errc::part_already_exist, "PartAlreadyExist"},
    {service_errc::part_not_sequential, "PartNotSequential"},
    {service_errc::no_such_bucket, "NoSuchBucket"},
    {service_errc::no_such_key, "NoSuchKey"},
    {service_errc::access_denied, "AccessDenied"},
    {service_errc::signature_does_not_match, "SignatureDoesNotMatch"},
    {service_errc::invalid_access_key_id, "InvalidAccessKeyId"},
    {service_errc::request_time_too_skewed, "RequestTimeTooSkewed"},
    {service_errc::request_timeout, "RequestTimeout"},
    {service_errc::internal_error, "InternalError"},
    {service_errc::service_unavailable, "ServiceUnavailable"},
    {service_errc::slow_down, "SlowDown"},
    {service_errc::user_disable, "UserDisable"},
    {service_errc::missing_content_length, "MissingContentLength"},
    {service_errc::invalid_bucket_name, "InvalidBucketName"},
    {service_errc::invalid_object_name, "InvalidObjectName"},
    {service_errc::bad_request, "BadRequest"},
    {service_errc::method_not_allowed, "MethodNotAllowed"},
    {service_errc::not_implemented, "NotImplemented"},
    {service_errc::precondition_failed, "PreconditionFailed"},
    {service_errc::invalid_range, "InvalidRange"},
    {service_errc::security_token_expired, "SecurityTokenExpired"},
    {service_errc::invalid_security_token, "InvalidSecurityToken"},
    {service_errc::too_many_requests, "TooManyRequests"},
};

class service_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "oss"; }
    std::string message(int ev) const override {
        for (const auto& e : service_codes)
            if (static_cast<int>(e.value) == ev)
                return std::string(e.code);
        return "unknown OSS error code";
    }
};

} // namespace detail

/// The category of `errc` values ("ossmp").
inline const std::error_category& errc_category() noexcept {
    static const detail::errc_category_impl cat;
    return cat;
}

/// The category of `service_errc` values ("oss").
inline const std::error_category& service_category() noexcept {
    static const detail::service_category_impl cat;
    return cat;
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), errc_category()};
}

inline std::error_code make_error_code(service_errc e) noexcept {
    return {static_cast<int>(e), service_category()};
}

/// Maps an OSS `Code` string to its enum (exact, case-sensitive, as OSS spells it).
/// Unknown strings give `service_errc::unknown`.
inline service_errc service_errc_from_code(std::string_view code) noexcept {
    for (const auto& e : detail::service_codes)
        if (e.code == code)
            return e.value;
    return service_errc::unknown;
}

/// Maps an enum back to the OSS `Code` string; "" for `unknown`.
inline std::string_view service_code_string(service_errc e) noexcept {
    for (const auto& entry : detail::service_codes)
        if (entry.value == e)
            return entry.code;
    return {};
}

/// Picks the service error for a response whose body names no known Code: the Code if known,
/// else a status-derived fallback so that `is_retryable` stays a function of the code alone
/// (500 -> internal_error, 503 -> service_unavailable, 408 -> request_timeout,
/// 429 -> too_many_requests, any other 5xx -> internal_error, else unknown).
inline service_errc service_errc_for(unsigned status, std::string_view code) noexcept {
    auto e = service_errc_from_code(code);
    if (e != service_errc::unknown)
        return e;
    switch (status) {
    case 408:
        return service_errc::request_timeout;
    case 429:
        return service_errc::too_many_requests;
    case 503:
        return service_errc::service_unavailable;
    default:
        return status >= 500 ? service_errc::internal_error : service_errc::unknown;
    }
}

/// True when repeating the same request may succeed: 5xx-class service codes, request
/// timeouts, throttling, clock skew (after the clock is corrected), CRC mismatches, body size
/// mismatches (a transfer that delivered other than it announced, like a CRC mismatch),
/// timeouts, transfers below the low-speed limit (a congested path or a bad server of a pool)
/// and connection-level failures (reset, refused, broken pipe, EOF / truncated response).
/// Cancellation (operation_aborted), validation errors and TLS certificate failures
/// (`tls_untrusted_certificate`, `tls_hostname_mismatch`, `tls_certificate_expired`: fixed by
/// configuration, not by waiting) are never retryable.
inline bool is_retryable(const std::error_code& ec) noexcept {
    if (!ec)
        return false;
    if (ec.category() == service_category()) {
        switch (static_cast<service_errc>(ec.value())) {
        case service_errc::internal_error:
        case service_errc::service_unavailable:
        case service_errc::slow_down:
        case service_errc::request_timeout:
        case service_errc::request_time_too_skewed:
        case service_errc::bad_request:
        case service_errc::too_many_requests:
            return true;
        default:
            return false;
        }
    }
    if (ec.category() == errc_category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::crc_mismatch:
        case errc::md5_mismatch:
        case errc::unexpected_eof:
        case errc::size_mismatch:
        case errc::timeout:
        case errc::transfer_too_slow:
            return true;
        default:
            return false;
        }
    }
    // System categories: connection-level failures, by errno value. Standalone Asio 1.22 has
    // a system category of its own ("asio.system") whose codes do not compare equal to
    // std::errc conditions, so the value is checked directly (this header stays Asio-free).
    if (ec.category() == std::system_category() || ec.category() == std::generic_category() ||
        std::string_view(ec.category().name()) == "asio.system") {
        switch (ec.value()) {
        case ECONNRESET:
        case ECONNREFUSED:
        case ECONNABORTED:
        case EPIPE:
        case ETIMEDOUT:
        case ENETUNREACH:
        case EHOSTUNREACH:
        case ENETRESET:
        case ENOTCONN:
            return true;
        default:
            return false;
        }
    }
    // asio::error::eof (misc category) and ssl stream truncation are handled by the transport,
    // which maps them to errc::unexpected_eof before they reach callers.
    return false;
}

namespace detail {

/// The error code that an exception caught in an operation stands for: ENOMEM for
/// `std::bad_alloc` (a buffer that cannot be had), a `std::system_error`'s code, else
/// `errc::invalid_argument` (a callback of the caller's that threw something else).
inline std::error_code error_of(std::exception_ptr e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const std::bad_alloc&) {
        return std::make_error_code(std::errc::not_enough_memory);
    } catch (const std::system_error& x) {
        return x.code();
    } catch (...) {
        return make_error_code(errc::invalid_argument);
    }
}

} // namespace detail

} // namespace ossmp

template <>
struct std::is_error_code_enum<ossmp::errc> : std::true_type {};
template <>
struct std::is_error_code_enum<ossmp::service_errc> : std::true_type {};
