// ossmp/responses.hpp: one parser per OSS response (oss-reference sections 1.3, 1.4, 2, 5).
//
// Every parser has the same shape:
//
//     std::error_code parse_X(const http::response& response, X_result& out, diagnostics& diag);
//
// - A non-2xx status goes to `parse_error`, whose service error is returned.
// - A 2xx response fills `diag` with the status and request id only (the Error fields cleared).
// - On success `out` is replaced; on any error `out` is left unchanged.
// - The body is untrusted: size-capped, DOCTYPE-free, strictly checked XML (see `xml.hpp`).
//   Unknown elements are skipped (OSS adds fields); required ones missing give
//   `errc::missing_xml_element`, a wrong root `errc::unexpected_xml_root`, bad numbers
//   `errc::bad_xml_number`, bad booleans or URL escapes `errc::bad_xml_value`.
// - With `<EncodingType>url</EncodingType>` the URL-encoded elements are decoded with
//   `uri::decode(s, true)` (`+` is a space, as Go's QueryUnescape); upload ids and locations
//   never are.
#pragma once

#include "ossmp/crypto.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/error.hpp"
#include "ossmp/http/chars.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/model.hpp"
#include "ossmp/time.hpp"
#include "ossmp/uri.hpp"
#include "ossmp/xml.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ossmp {

/// The ETag without one pair of surrounding double quotes ("\"AB\"" -> "AB"); unquoted input is
/// returned as is. The view refers to `etag`'s characters.
inline std::string_view etag_unquoted(std::string_view etag) noexcept {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
        return etag.substr(1, etag.size() - 2);
    return etag;
}

/// True when two ETags name the same content: quotes stripped, hex compared
/// case-insensitively (servers and SDKs differ in quoting and case, oss-reference 11 and 12).
inline bool etag_equal(std::string_view a, std::string_view b) noexcept {
    return http::iequals(etag_unquoted(a), etag_unquoted(b));
}

namespace detail::resp {

/// Part numbers run 1..10000 (oss-reference 3); markers 0..10000.
inline constexpr int max_part_number = 10000; // UploadPart limit

/// Longest body excerpt copied into `diagnostics::message` for a non-XML error body.
inline constexpr std::size_t max_snippet = 256; // ossmp's choice: enough to recognise a page

// A printable one-line excerpt of an unparseable body: control bytes become spaces (no log
// injection through CR/LF), cut at max_snippet with "..." appended.
inline std::string snippet(std::string_view body) {
    const bool cut = body.size() > max_snippet;
    std::string s(body.substr(0, max_snippet));
    for (auto& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = ' ';
    if (cut)
        s += "...";
    return s;
}

inline void begin_success(const http::response& r, diagnostics& diag) {
    diag.clear();
    diag.http_status = r.status;
    diag.request_id = std::string(r.headers.get("x-oss-request-id"));
}

using http::trim_ows;

// Strict unsigned decimal header value (x-oss-hash-crc64ecma, Content-Length): digits only,
// surrounding optional whitespace (RFC 9110 OWS) ignored, no overflow.
inline std::error_code header_u64(std::string_view value, std::uint64_t& out) noexcept {
    if (xml::parse_number(trim_ows(value), out))
        return make_error_code(errc::bad_header_value);
    return {};
}

inline std::error_code optional_crc64_header(const http::response& r,
                                             std::optional<std::uint64_t>& out) noexcept {
    out.reset();
    if (auto v = r.headers.find("x-oss-hash-crc64ecma")) {
        std::uint64_t crc = 0;
        if (auto ec = header_u64(*v, crc))
            return ec;
        out = crc;
    }
    return {};
}

// ETag header: required and non-empty.
inline std::error_code required_etag_header(const http::response& r, std::string& out) {
    auto v = r.headers.find("ETag");
    if (!v)
        return make_error_code(errc::missing_header);
    auto t = trim_ows(*v);
    if (t.empty())
        return make_error_code(errc::bad_header_value);
    out.assign(t);
    return {};
}

inline bool is_url_encoding(std::string_view encoding_type) noexcept {
    return http::iequals(encoding_type, "url");
}

// Decodes `s` in place when `url` is set.
inline std::error_code url_decode_in_place(bool url, std::string& s) {
    if (!url)
        return {};
    auto d = uri::decode(s, true);
    if (!d)
        return make_error_code(errc::bad_xml_value);
    s = std::move(*d);
    return {};
}

// A marker element: empty text means "no marker" (0).
inline std::error_code marker_number(std::string_view s, int& out) noexcept {
    if (s.empty()) {
        out = 0;
        return {};
    }
    return xml::parse_number(s, out, 0, max_part_number);
}

} // namespace detail::resp

/// Reads a non-2xx response into `diag` and returns its service error code:
/// `make_error_code(service_errc_for(status, Code))`.
///
/// `diag` receives the status, `Code`, `Message`, `RequestId`, `HostId`, `EC`, and every other
/// child of `<Error>` in `extra` (document order; a repeated known element also goes there).
/// `RequestId` falls back to the `x-oss-request-id` header and `EC` to `x-oss-ec`. An empty body
/// (HEAD) is replaced by the base64-decoded `x-oss-err` header; a 3xx status fills `location`
/// from the `Location` header. A body that is not an `<Error>`
/// document (HTML from a proxy, JSON, garbage, over-size) still gives a service error chosen by
/// status (`service_errc_for(status, "")`), with a one-line excerpt of the body in `message`.
/// Meant for non-2xx responses; on a 2xx response it reads the body the same way.
inline std::error_code parse_error(const http::response& response, diagnostics& diag) {
    diag.clear();
    diag.http_status = response.status;

    std::string_view body = response.body;
    std::optional<std::string> decoded;
    if (body.empty()) {
        if (auto err = response.headers.find("x-oss-err")) {
            decoded = crypto::base64_decode(detail::resp::trim_ows(*err));
            if (decoded)
                body = *decoded;
        }
    }

    bool parsed = false;
    if (!body.empty()) {
        xml::document doc;
        if (!xml::parse(body, doc) && doc.root().name() == "Error") {
            parsed = true;
            bool have_code = false, have_message = false, have_request_id = false,
                 have_host_id = false, have_ec = false;
            auto take = [](bool& have, std::string& field, std::string_view text) {
                if (have)
                    return false;
                have = true;
                field.assign(text);
                return true;
            };
            for (xml::element c : doc.root().children()) {
                const auto name = c.name();
                const auto text = c.text();
                bool taken = false;
                if (name == "Code")
                    taken = take(have_code, diag.code, text);
                else if (name == "Message")
                    taken = take(have_message, diag.message, text);
                else if (name == "RequestId")
                    taken = take(have_request_id, diag.request_id, text);
                else if (name == "HostId")
                    taken = take(have_host_id, diag.host_id, text);
                else if (name == "EC")
                    taken = take(have_ec, diag.ec, text);
                if (!taken)
                    diag.extra.emplace_back(std::string(name), std::string(text));
            }
        }
    }
    if (!parsed && !body.empty())
        diag.message = detail::resp::snippet(body);
    if (diag.request_id.empty())
        diag.request_id = std::string(response.headers.get("x-oss-request-id"));
    if (diag.ec.empty())
        diag.ec = std::string(response.headers.get("x-oss-ec"));
    if (response.status >= 300 && response.status < 400)
        diag.location = std::string(response.headers.get("Location"));
    return make_error_code(service_errc_for(response.status, diag.code));
}

namespace detail::resp {

// Common frame of the XML parsers: status check, success diagnostics, parse, root check. An
// `<Error>` document under a 2xx status is still an error (as S3 may send on Complete).
template <class Body>
std::error_code parse_xml_body(const http::response& r, diagnostics& diag,
                               std::string_view root_name, Body&& body) {
    if (!r.ok())
        return parse_error(r, diag);
    begin_success(r, diag);
    xml::document doc;
    if (auto ec = xml::parse(r.body, doc))
        return ec;
    const xml::element root = doc.root();
    if (root.name() == "Error")
        return parse_error(r, diag);
    if (root.name() != root_name)
        return make_error_code(errc::unexpected_xml_root);
    return body(root);
}

} // namespace detail::resp

/// Parses an InitiateMultipartUpload response (oss-reference 2.1):
/// `InitiateMultipartUploadResult/{EncodingType?, Bucket, Key, UploadId}`.
/// Errors: service errors (non-2xx), XML errors, `errc::missing_xml_element` without Bucket,
/// Key or UploadId, `errc::bad_xml_value` for a malformed URL-encoded Key.
inline std::error_code parse_initiate(const http::response& response, initiate_result& out,
                                      diagnostics& diag) {
    return detail::resp::parse_xml_body(
        response, diag, "InitiateMultipartUploadResult", [&](xml::element root) {
            initiate_result r;
            bool have_bucket = false, have_key = false, have_upload_id = false;
            for (xml::element c : root.children()) {
                const auto name = c.name();
                if (name == "Bucket") {
                    r.bucket.assign(c.text());
                    have_bucket = true;
                } else if (name == "Key") {
                    r.key.assign(c.text());
                    have_key = true;
                } else if (name == "UploadId") {
                    r.upload_id.assign(c.text());
                    have_upload_id = true;
                } else if (name == "EncodingType") {
                    r.encoding_type.assign(c.text());
                }
            }
            if (!have_bucket || !have_key || !have_upload_id)
                return make_error_code(errc::missing_xml_element);
            if (auto ec = detail::resp::url_decode_in_place(
                    detail::resp::is_url_encoding(r.encoding_type), r.key))
                return ec;
            r.request_id = diag.request_id;
            out = std::move(r);
            return std::error_code();
        });
}

/// Parses an UploadPart response (headers only, oss-reference 2.2). `out.part_number` is kept
/// (the response does not carry it: set it to the request's number before or after).
/// Errors: service errors (non-2xx), `errc::missing_header` without ETag,
/// `errc::bad_header_value` for an empty ETag or an `x-oss-hash-crc64ecma` that is not a
/// decimal uint64.
inline std::error_code parse_upload_part(const http::response& response, upload_part_result& out,
                                         diagnostics& diag) {
    if (!response.ok())
        return parse_error(response, diag);
    detail::resp::begin_success(response, diag);
    upload_part_result r;
    r.part_number = out.part_number;
    if (auto ec = detail::resp::required_etag_header(response, r.etag))
        return ec;
    if (auto ec = detail::resp::optional_crc64_header(response, r.crc64))
        return ec;
    r.content_md5 = std::string(detail::resp::trim_ows(response.headers.get("Content-MD5")));
    r.request_id = diag.request_id;
    out = std::move(r);
    return {};
}

/// Parses a CompleteMultipartUpload response (oss-reference 2.3):
/// `CompleteMultipartUploadResult/{EncodingType?, Location, Bucket, Key, ETag}` plus the headers
/// `x-oss-hash-crc64ecma` (whole object), `x-oss-version-id`, `ETag`.
///
/// With `with_callback` (the request carried `x-oss-callback`) the body is the callback
/// server's reply and is kept raw in `callback_body`; the ETag then comes from the header. A
/// 203 answer means the object was stored but the callback failed (OSS `CallbackFailed`): it is
/// a success, with the Error document in `callback_body` and read into `diag` (`diag.code`).
/// Errors: service errors (non-2xx, or an `<Error>` body), XML errors, `errc::bad_xml_value`
/// for a malformed URL-encoded Key, `errc::bad_header_value` for a bad CRC-64 header.
inline std::error_code parse_complete(const http::response& response, complete_result& out,
                                      diagnostics& diag, bool with_callback = false) {
    auto headers = [&](complete_result& r) -> std::error_code {
        if (auto ec = detail::resp::optional_crc64_header(response, r.crc64))
            return ec;
        r.version_id = std::string(response.headers.get("x-oss-version-id"));
        r.request_id = diag.request_id;
        if (r.etag.empty())
            r.etag = std::string(detail::resp::trim_ows(response.headers.get("ETag")));
        return {};
    };
    if (with_callback) {
        if (!response.ok())
            return parse_error(response, diag);
        if (response.status == 203)
            (void)parse_error(response, diag); // CallbackFailed: the object is stored anyway
        else
            detail::resp::begin_success(response, diag);
        complete_result r;
        if (auto ec = headers(r))
            return ec;
        r.callback_body = response.body;
        out = std::move(r);
        return {};
    }
    return detail::resp::parse_xml_body(
        response, diag, "CompleteMultipartUploadResult", [&](xml::element root) {
            complete_result r;
            for (xml::element c : root.children()) {
                const auto name = c.name();
                if (name == "Location")
                    r.location.assign(c.text());
                else if (name == "Bucket")
                    r.bucket.assign(c.text());
                else if (name == "Key")
                    r.key.assign(c.text());
                else if (name == "ETag")
                    r.etag.assign(c.text());
                else if (name == "EncodingType")
                    r.encoding_type.assign(c.text());
            }
            if (auto ec = detail::resp::url_decode_in_place(
                    detail::resp::is_url_encoding(r.encoding_type), r.key))
                return ec;
            if (auto ec = headers(r))
                return ec;
            out = std::move(r);
            return std::error_code();
        });
}

/// Checks an AbortMultipartUpload response (204 No Content on success, oss-reference 2.4; any
/// 2xx accepted). Errors: service errors (e.g. `service_errc::no_such_upload`).
inline std::error_code parse_abort(const http::response& response, diagnostics& diag) {
    if (!response.ok())
        return parse_error(response, diag);
    detail::resp::begin_success(response, diag);
    return {};
}

namespace detail::resp {

inline std::error_code read_part(xml::element part, part_info& p) {
    bool have_number = false, have_etag = false, have_size = false;
    for (xml::element c : part.children()) {
        const auto name = c.name();
        const auto text = c.text();
        if (name == "PartNumber") {
            if (auto ec = xml::parse_number(text, p.part_number, 1, max_part_number))
                return ec;
            have_number = true;
        } else if (name == "ETag") {
            p.etag.assign(text);
            have_etag = true;
        } else if (name == "Size") {
            if (auto ec = xml::parse_number(text, p.size))
                return ec;
            have_size = true;
        } else if (name == "LastModified") {
            p.last_modified.assign(text);
            p.last_modified_time = parse_iso8601_ms(text);
        } else if (name == "HashCrc64ecma") {
            if (text.empty()) {
                p.crc64.reset();
            } else {
                std::uint64_t crc = 0;
                if (auto ec = xml::parse_number(text, crc))
                    return ec;
                p.crc64 = crc;
            }
        }
    }
    if (!have_number || !have_etag || !have_size)
        return make_error_code(errc::missing_xml_element);
    return {};
}

} // namespace detail::resp

/// Parses a ListParts response (oss-reference 2.5): `ListPartsResult/{EncodingType?, Bucket,
/// Key, UploadId, StorageClass?, PartNumberMarker, NextPartNumberMarker, MaxParts, IsTruncated,
/// Part*}`, `Part/{PartNumber, LastModified, ETag, HashCrc64ecma, Size}`.
/// Errors: service errors, XML errors, `errc::missing_xml_element` without IsTruncated or a
/// Part without PartNumber, ETag or Size; `errc::bad_xml_number` for a PartNumber outside
/// 1..10000, a marker outside 0..10000 (an empty marker is 0), a bad MaxParts, Size or
/// HashCrc64ecma (an empty HashCrc64ecma is absent); `errc::bad_xml_value` for IsTruncated other
/// than `true`/`false` or a malformed URL-encoded Key.
inline std::error_code parse_list_parts(const http::response& response, list_parts_result& out,
                                        diagnostics& diag) {
    return detail::resp::parse_xml_body(response, diag, "ListPartsResult", [&](xml::element root) {
        list_parts_result r;
        bool have_truncated = false;
        for (xml::element c : root.children()) {
            const auto name = c.name();
            const auto text = c.text();
            std::error_code ec;
            if (name == "Part") {
                ec = detail::resp::read_part(c, r.parts.emplace_back());
            } else if (name == "IsTruncated") {
                ec = xml::parse_bool(text, r.is_truncated);
                have_truncated = true;
            } else if (name == "Bucket") {
                r.bucket.assign(text);
            } else if (name == "Key") {
                r.key.assign(text);
            } else if (name == "UploadId") {
                r.upload_id.assign(text);
            } else if (name == "StorageClass") {
                r.storage_class.assign(text);
            } else if (name == "PartNumberMarker") {
                ec = detail::resp::marker_number(text, r.part_number_marker);
            } else if (name == "NextPartNumberMarker") {
                ec = detail::resp::marker_number(text, r.next_part_number_marker);
            } else if (name == "MaxParts") {
                ec = xml::parse_number(text, r.max_parts);
            } else if (name == "EncodingType") {
                r.encoding_type.assign(text);
            }
            if (ec)
                return ec;
        }
        if (!have_truncated)
            return make_error_code(errc::missing_xml_element);
        if (auto ec = detail::resp::url_decode_in_place(
                detail::resp::is_url_encoding(r.encoding_type), r.key))
            return ec;
        out = std::move(r);
        return std::error_code();
    });
}

/// Parses a ListMultipartUploads response (oss-reference 2.6):
/// `ListMultipartUploadsResult/{EncodingType?, Bucket, KeyMarker, UploadIdMarker, NextKeyMarker,
/// NextUploadIdMarker, Delimiter, Prefix, MaxUploads, IsTruncated, Upload*, CommonPrefixes*}`,
/// `Upload/{Key, UploadId, StorageClass?, Initiated}`, `CommonPrefixes/{Prefix}`.
/// With encoding type "url", Key, Prefix, Delimiter, KeyMarker, NextKeyMarker and
/// CommonPrefixes/Prefix are decoded.
/// Errors: service errors, XML errors, `errc::missing_xml_element` without IsTruncated or an
/// Upload without Key or UploadId; `errc::bad_xml_number` for a bad MaxUploads;
/// `errc::bad_xml_value` for IsTruncated other than `true`/`false` or a malformed escape.
inline std::error_code parse_list_uploads(const http::response& response, list_uploads_result& out,
                                          diagnostics& diag) {
    return detail::resp::parse_xml_body(
        response, diag, "ListMultipartUploadsResult", [&](xml::element root) {
            list_uploads_result r;
            bool have_truncated = false;
            for (xml::element c : root.children()) {
                const auto name = c.name();
                const auto text = c.text();
                std::error_code ec;
                if (name == "Upload") {
                    auto& u = r.uploads.emplace_back();
                    bool have_key = false, have_id = false;
                    for (xml::element f : c.children()) {
                        const auto fname = f.name();
                        if (fname == "Key") {
                            u.key.assign(f.text());
                            have_key = true;
                        } else if (fname == "UploadId") {
                            u.upload_id.assign(f.text());
                            have_id = true;
                        } else if (fname == "StorageClass") {
                            u.storage_class.assign(f.text());
                        } else if (fname == "Initiated") {
                            u.initiated.assign(f.text());
                            u.initiated_time = parse_iso8601_ms(f.text());
                        }
                    }
                    if (!have_key || !have_id)
                        return make_error_code(errc::missing_xml_element);
                } else if (name == "CommonPrefixes") {
                    for (xml::element f : c.children())
                        if (f.name() == "Prefix")
                            r.common_prefixes.emplace_back(f.text());
                } else if (name == "IsTruncated") {
                    ec = xml::parse_bool(text, r.is_truncated);
                    have_truncated = true;
                } else if (name == "Bucket") {
                    r.bucket.assign(text);
                } else if (name == "KeyMarker") {
                    r.key_marker.assign(text);
                } else if (name == "UploadIdMarker") {
                    r.upload_id_marker.assign(text);
                } else if (name == "NextKeyMarker") {
                    r.next_key_marker.assign(text);
                } else if (name == "NextUploadIdMarker") {
                    r.next_upload_id_marker.assign(text);
                } else if (name == "Delimiter") {
                    r.delimiter.assign(text);
                } else if (name == "Prefix") {
                    r.prefix.assign(text);
                } else if (name == "MaxUploads") {
                    ec = xml::parse_number(text, r.max_uploads);
                } else if (name == "EncodingType") {
                    r.encoding_type.assign(text);
                }
                if (ec)
                    return ec;
            }
            if (!have_truncated)
                return make_error_code(errc::missing_xml_element);
            const bool url = detail::resp::is_url_encoding(r.encoding_type);
            if (url) {
                for (std::string* s : {&r.key_marker, &r.next_key_marker, &r.delimiter, &r.prefix})
                    if (auto ec = detail::resp::url_decode_in_place(true, *s))
                        return ec;
                for (auto& u : r.uploads)
                    if (auto ec = detail::resp::url_decode_in_place(true, u.key))
                        return ec;
                for (auto& p : r.common_prefixes)
                    if (auto ec = detail::resp::url_decode_in_place(true, p))
                        return ec;
            }
            out = std::move(r);
            return std::error_code();
        });
}

/// Parses a PutObject response (headers). Errors: service errors, `errc::missing_header`
/// without ETag, `errc::bad_header_value` for an empty ETag or a bad CRC-64 header.
inline std::error_code parse_put_object(const http::response& response, put_object_result& out,
                                        diagnostics& diag) {
    if (!response.ok())
        return parse_error(response, diag);
    detail::resp::begin_success(response, diag);
    put_object_result r;
    if (auto ec = detail::resp::required_etag_header(response, r.etag))
        return ec;
    if (auto ec = detail::resp::optional_crc64_header(response, r.crc64))
        return ec;
    r.version_id = std::string(response.headers.get("x-oss-version-id"));
    r.request_id = diag.request_id;
    out = std::move(r);
    return {};
}

namespace detail::resp {

inline constexpr std::string_view user_meta_prefix = "x-oss-meta-";

// Headers shared by HeadObject and GetObject (everything but the sizes).
inline std::error_code read_object_headers(const http::response& r, object_meta& m) {
    if (auto ec = optional_crc64_header(r, m.crc64))
        return ec;
    m.etag = std::string(trim_ows(r.headers.get("ETag")));
    m.content_type = std::string(r.headers.get("Content-Type"));
    m.last_modified = std::string(r.headers.get("Last-Modified"));
    m.last_modified_time = parse_rfc1123(m.last_modified);
    m.object_type = std::string(r.headers.get("x-oss-object-type"));
    m.storage_class = std::string(r.headers.get("x-oss-storage-class"));
    m.version_id = std::string(r.headers.get("x-oss-version-id"));
    for (const auto& f : r.headers) {
        if (f.name.size() > user_meta_prefix.size() &&
            http::iequals(std::string_view(f.name).substr(0, user_meta_prefix.size()),
                          user_meta_prefix))
            m.user_metadata.emplace_back(http::to_lower(f.name.substr(user_meta_prefix.size())),
                                         f.value);
    }
    return {};
}

inline std::error_code content_length(const http::response& r, std::uint64_t& out) {
    auto v = r.headers.find("Content-Length");
    if (!v)
        return make_error_code(errc::missing_header);
    return header_u64(*v, out);
}

// "bytes FIRST-LAST/TOTAL" -> FIRST, LAST, TOTAL (strict; an unknown total '*' is refused).
inline std::error_code content_range(std::string_view v, std::uint64_t& first, std::uint64_t& last,
                                     std::uint64_t& total) {
    v = trim_ows(v);
    constexpr std::string_view unit = "bytes ";
    if (v.substr(0, unit.size()) != unit)
        return make_error_code(errc::bad_header_value);
    v.remove_prefix(unit.size());
    const auto dash = v.find('-');
    const auto slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash)
        return make_error_code(errc::bad_header_value);
    if (xml::parse_number(v.substr(0, dash), first) ||
        xml::parse_number(v.substr(dash + 1, slash - dash - 1), last) ||
        xml::parse_number(v.substr(slash + 1), total) || last < first || last >= total)
        return make_error_code(errc::bad_header_value);
    return {};
}

// "bytes FIRST-LAST/TOTAL" -> TOTAL.
inline std::error_code content_range_total(std::string_view v, std::uint64_t& total) {
    std::uint64_t first = 0, last = 0;
    return content_range(v, first, last, total);
}

} // namespace detail::resp

/// Parses a HeadObject response (headers; oss-reference 1.3): Content-Length (required: the
/// object size), ETag, Content-Type, Last-Modified, x-oss-hash-crc64ecma, x-oss-object-type,
/// x-oss-storage-class, x-oss-version-id, x-oss-meta-*.
/// A HEAD error has no body: `parse_error` reads the `x-oss-err` header instead.
/// Errors: service errors, `errc::missing_header` without Content-Length,
/// `errc::bad_header_value` for a bad Content-Length or CRC-64 header.
inline std::error_code parse_head_object(const http::response& response, object_meta& out,
                                         diagnostics& diag) {
    if (!response.ok())
        return parse_error(response, diag);
    detail::resp::begin_success(response, diag);
    object_meta m;
    if (auto ec = detail::resp::content_length(response, m.content_length))
        return ec;
    m.size = m.content_length;
    if (auto ec = detail::resp::read_object_headers(response, m))
        return ec;
    m.request_id = diag.request_id;
    out = std::move(m);
    return {};
}

/// Parses the headers of a GetObject response (the body is the caller's): the same fields as
/// `parse_head_object`; for a 206 partial response `size` is the total of `Content-Range`
/// (`bytes FIRST-LAST/TOTAL`) and `content_length` the length of the range.
/// Errors: as `parse_head_object`, plus `errc::missing_header` for a 206 without Content-Range
/// and `errc::bad_header_value` for a malformed one.
inline std::error_code parse_get_object(const http::response& response, object_meta& out,
                                        diagnostics& diag) {
    if (!response.ok())
        return parse_error(response, diag);
    detail::resp::begin_success(response, diag);
    object_meta m;
    if (auto ec = detail::resp::content_length(response, m.content_length))
        return ec;
    m.size = m.content_length;
    if (response.status == 206) {
        auto range = response.headers.find("Content-Range");
        if (!range)
            return make_error_code(errc::missing_header);
        if (auto ec = detail::resp::content_range_total(*range, m.size))
            return ec;
    }
    if (auto ec = detail::resp::read_object_headers(response, m))
        return ec;
    m.request_id = diag.request_id;
    out = std::move(m);
    return {};
}

/// Parses a DeleteObject response (204 on success; headers `x-oss-version-id`,
/// `x-oss-delete-marker`). Errors: service errors, `errc::bad_header_value` for a delete-marker
/// value other than `true`/`false`.
inline std::error_code parse_delete_object(const http::response& response,
                                           delete_object_result& out, diagnostics& diag) {
    if (!response.ok())
        return parse_error(response, diag);
    detail::resp::begin_success(response, diag);
    delete_object_result r;
    if (auto v = response.headers.find("x-oss-delete-marker")) {
        if (xml::parse_bool(detail::resp::trim_ows(*v), r.delete_marker))
            return make_error_code(errc::bad_header_value);
    }
    r.version_id = std::string(response.headers.get("x-oss-version-id"));
    r.request_id = diag.request_id;
    out = std::move(r);
    return {};
}

} // namespace ossmp
