// ossmp/requests.hpp: the parameters of every API call and one request builder per call.
//
// A builder turns parameters into an `http::request` (oss-reference sections 2.1-2.6 and 6.7):
// it fills `method`, `bucket`, `key`, `query` (decoded, in wire order), `headers` and the body.
// It leaves `host` and `path` to the endpoint layer, Date/Authorization to the signer and
// Content-Length to the serializer. Shape of every builder:
//
//     std::error_code make_X_request(const X_params& params, http::request& out);
//
// Validation (validate.hpp) runs on every argument and on every user-supplied header before
// anything is produced: on error `out` is left untouched and the error is an `ossmp::errc`.
// On success `out` is replaced by a fresh request (`host` empty, `path` "/").
//
// Headers are written only for fields that are set (non-empty string, engaged optional), in
// the order documented on each builder. User metadata names get the `x-oss-meta-` prefix and
// are lower-cased. Extra headers come last; an extra header (or metadata entry) whose name is
// already present replaces it in place (`http::fields::set`), so the request never carries a
// name twice.
#pragma once

#include "ossmp/crypto.hpp"
#include "ossmp/error.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/validate.hpp"
#include "ossmp/xml.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ossmp {

/// Content-Type sent by Initiate and PutObject when none is given (GO2's fallback).
inline constexpr std::string_view default_content_type = "application/octet-stream";
/// Bounds of `x-oss-traffic-limit` in bit/s (oss-reference 2.2, DOC UploadPart).
inline constexpr std::uint64_t min_traffic_limit = 245760;    // UploadPart limit (30 KB/s)
inline constexpr std::uint64_t max_traffic_limit = 838860800; // UploadPart limit (100 MB/s)

/// User metadata: (name without the `x-oss-meta-` prefix, value) pairs.
using user_metadata_list = std::vector<std::pair<std::string, std::string>>;

// --- Parameter types ----------------------------------------------------------------------------

/// InitiateMultipartUpload (`POST /KEY?uploads`, oss-reference 2.1). The object's metadata,
/// Content-Type, storage class and encryption are fixed here, not at Complete.
struct initiate_params {
    std::string bucket;
    std::string key;
    std::string content_type;                  ///< "" sends `default_content_type`
    std::string cache_control;                 ///< Cache-Control of the object
    std::string content_disposition;           ///< Content-Disposition of the object
    std::string content_encoding;              ///< Content-Encoding of the object
    std::string expires;                       ///< Expires of the object (HTTP date)
    std::optional<bool> forbid_overwrite;      ///< x-oss-forbid-overwrite: true|false
    std::string server_side_encryption;        ///< AES256 | KMS | SM4
    std::string server_side_data_encryption;   ///< e.g. SM4 with KMS
    std::string server_side_encryption_key_id; ///< KMS key id
    std::string storage_class;                 ///< Standard | IA | Archive | ...
    std::string tagging;                       ///< `TagA=B&TagC=D`
    std::string request_payer;                 ///< "requester" for requester-pays buckets
    user_metadata_list user_metadata;          ///< names without the `x-oss-meta-` prefix
    http::fields extra_headers;                ///< written last; validated like every other header
    bool encoding_type_url = false; ///< adds `encoding-type=url` (Key comes back encoded)
};

/// UploadPart (`PUT /KEY?partNumber=N&uploadId=UID`, oss-reference 2.2).
/// Lifetime: `data` is viewed, not copied; it must outlive every use of the built request.
struct upload_part_params {
    std::string bucket;
    std::string key;
    std::string upload_id;
    int part_number = 0;             ///< 1..10000
    std::span<const std::byte> data; ///< the part bytes, at most 5 GiB
    /// Instead of `data` (which must then be empty): the part streamed from this source (a
    /// file range, ...), at most 5 GiB; the request shares it.
    std::shared_ptr<http::body_source> source;
    std::string content_md5;                    ///< base64 MD5 of the bytes; "" = not sent
    std::optional<std::uint64_t> traffic_limit; ///< bit/s, 245760..838860800
    std::string request_payer;                  ///< x-oss-request-payer; "" = not sent
};

/// One uploaded part as Complete lists it.
struct completed_part {
    int part_number = 0; ///< 1..10000
    std::string etag;    ///< as UploadPart returned it, with or without the surrounding quotes
};

/// CompleteMultipartUpload (`POST /KEY?uploadId=UID`, oss-reference 2.3). Either an explicit
/// part list (any order; the builder sorts) or `complete_all` (OSS lists the parts itself).
struct complete_params {
    std::string bucket;
    std::string key;
    std::string upload_id;
    std::vector<completed_part> parts;    ///< must be empty with `complete_all`
    bool complete_all = false;            ///< x-oss-complete-all: yes, no body
    std::string object_acl;               ///< x-oss-object-acl
    std::optional<bool> forbid_overwrite; ///< x-oss-forbid-overwrite: true|false
    std::string callback;                 ///< x-oss-callback (base64 JSON)
    std::string callback_var;             ///< x-oss-callback-var (base64 JSON)
    bool encoding_type_url = false;       ///< adds `encoding-type=url`
    bool send_content_md5 = false; ///< adds Content-MD5 of the XML body (not with complete_all)
    std::string request_payer;     ///< x-oss-request-payer; "" = not sent
};

/// AbortMultipartUpload (`DELETE /KEY?uploadId=UID`, oss-reference 2.4).
struct abort_params {
    std::string bucket;
    std::string key;
    std::string upload_id;
    std::string request_payer; ///< x-oss-request-payer; "" = not sent
};

/// ListParts (`GET /KEY?uploadId=UID`, oss-reference 2.5): one page of parts.
struct list_parts_params {
    std::string bucket;
    std::string key;
    std::string upload_id;
    std::optional<int> max_parts;          ///< 1..1000; unset = server default (1000)
    std::optional<int> part_number_marker; ///< list parts numbered above this; 0..10000
    bool encoding_type_url = true;         ///< adds `encoding-type=url`
    std::string request_payer;             ///< x-oss-request-payer; "" = not sent
};

/// ListMultipartUploads (`GET /?uploads`, bucket level, oss-reference 2.6): one page of
/// in-progress uploads. Empty strings are not sent.
struct list_uploads_params {
    std::string bucket;
    std::string prefix;             ///< only keys starting with this
    std::string delimiter;          ///< group keys by this into common prefixes
    std::string key_marker;         ///< list after this key
    std::string upload_id_marker;   ///< with key_marker: list after this upload of that key
    std::optional<int> max_uploads; ///< 1..1000; unset = server default (1000)
    bool encoding_type_url = true;  ///< adds `encoding-type=url`
    std::string request_payer;      ///< x-oss-request-payer; "" = not sent
};

/// PutObject (`PUT /KEY`): a whole object of at most 5 GiB in one request.
/// Lifetime: `data` is viewed, not copied; it must outlive every use of the built request.
struct put_object_params {
    std::string bucket;
    std::string key;
    std::span<const std::byte> data; ///< the object bytes, at most `max_put_object_size`
    /// Instead of `data` (which must then be empty): the object streamed from this source.
    std::shared_ptr<http::body_source> source;
    std::string content_type; ///< "" sends `default_content_type`
    std::string cache_control;
    std::string content_disposition;
    std::string content_encoding;
    std::string expires;
    std::optional<bool> forbid_overwrite; ///< x-oss-forbid-overwrite: true|false
    std::string storage_class;            ///< x-oss-storage-class
    std::string tagging;                  ///< x-oss-tagging
    std::string object_acl;               ///< x-oss-object-acl
    user_metadata_list user_metadata;     ///< names without the `x-oss-meta-` prefix
    http::fields extra_headers;           ///< written last
    std::string content_md5;              ///< base64 MD5 of `data`; "" = not sent
};

/// GetObject (`GET /KEY`), whole object or a byte range (inclusive bounds, RFC 9110).
struct get_object_params {
    std::string bucket;
    std::string key;
    std::optional<std::uint64_t> range_first; ///< first byte; unset = whole object
    std::optional<std::uint64_t> range_last;  ///< last byte (inclusive); unset = to the end
    /// The size the caller expects the object to have (e.g. `content_length` of a prior
    /// HeadObject); unset = no expectation. Not sent: `async_get_object` checks the response
    /// against it (a 200 body must be exactly this long, a 206 must name it as the total of
    /// its Content-Range) and fails with `errc::size_mismatch` otherwise, before any byte
    /// beyond it reaches the sink.
    std::optional<std::uint64_t> expected_size;
};

/// HeadObject (`HEAD /KEY`): the object's metadata.
struct head_object_params {
    std::string bucket;
    std::string key;
};

/// DeleteObject (`DELETE /KEY`).
struct delete_object_params {
    std::string bucket;
    std::string key;
};

// --- Helpers ------------------------------------------------------------------------------------

namespace detail::reqs {

// Writes headers in order, validating each; after the first error it writes nothing more and
// keeps that error.
class header_writer {
public:
    explicit header_writer(http::fields& f) noexcept : fields_(f) {}

    header_writer& add(std::string_view name, std::string_view value) {
        if (!ec_) {
            ec_ = validate_header(name, value);
            if (!ec_)
                fields_.add(name, value);
        }
        return *this;
    }
    header_writer& add_if_set(std::string_view name, std::string_view value) {
        if (!value.empty())
            add(name, value);
        return *this;
    }
    header_writer& add_if_set(std::string_view name, const std::optional<bool>& value) {
        if (value)
            add(name, *value ? "true" : "false");
        return *this;
    }
    header_writer& user_metadata(const user_metadata_list& meta) {
        for (const auto& [name, value] : meta) {
            if (ec_)
                break;
            if (name.empty()) { // "x-oss-meta-" alone names nothing
                ec_ = errc::invalid_header;
                break;
            }
            std::string full = "x-oss-meta-";
            full += http::to_lower(name);
            set(full, value);
        }
        return *this;
    }
    header_writer& extra(const http::fields& extra) {
        for (const auto& f : extra) {
            if (ec_)
                break;
            // Framing belongs to the serializer: a user Content-Length, Transfer-Encoding or
            // Host could desynchronise the connection.
            if (http::iequals(f.name, "Content-Length") ||
                http::iequals(f.name, "Transfer-Encoding") || http::iequals(f.name, "Host")) {
                ec_ = errc::invalid_header;
                break;
            }
            set(f.name, f.value);
        }
        return *this;
    }
    std::error_code error() const noexcept { return ec_; }

private:
    void set(std::string_view name, std::string_view value) {
        ec_ = validate_header(name, value);
        if (!ec_)
            fields_.set(name, value);
    }

    http::fields& fields_;
    std::error_code ec_;
};

inline std::error_code validate_object(std::string_view bucket, std::string_view key) {
    if (auto ec = validate_bucket_name(bucket))
        return ec;
    return validate_key(key);
}

// Content-MD5 is base64 of a 16-byte digest: 22 base64 characters and "==".
inline std::error_code validate_content_md5(std::string_view v) noexcept {
    if (v.empty())
        return {};
    if (v.size() != 24 || v[22] != '=' || v[23] != '=')
        return errc::invalid_header;
    for (char c : v.substr(0, 22))
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return errc::invalid_header;
    return {};
}

template <class Int>
std::string to_decimal(Int v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

// The text between the quotes of an ETag, or the whole ETag when it is not quoted.
inline std::string_view etag_inner(std::string_view etag) noexcept {
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
        return etag.substr(1, etag.size() - 2);
    return etag;
}

} // namespace detail::reqs

// --- Builders -----------------------------------------------------------------------------------

/// Builds the CompleteMultipartUpload XML body for `parts` (any order) into `out`:
/// `<CompleteMultipartUpload><Part><PartNumber>N</PartNumber><ETag>"E"</ETag></Part>...`
/// `</CompleteMultipartUpload>`, parts sorted by number, no XML declaration, no whitespace.
/// Each ETag is written between literal double quotes (added when the given ETag has none);
/// its inner text is XML-escaped.
/// Errors (nothing written): those of `validate_part_list`; an empty ETag (or `""`) ->
/// `errc::invalid_argument`.
inline std::error_code make_complete_body(std::span<const completed_part> parts, std::string& out) {
    if (auto ec = validate_part_list(parts))
        return ec;
    // The numbers are unique and within 1..10000 (validated above): put each part at its
    // number instead of sorting; O(n + highest number), no comparisons.
    int highest = 0;
    std::size_t etag_bytes = 0;
    for (const auto& p : parts) {
        if (detail::reqs::etag_inner(p.etag).empty())
            return errc::invalid_argument;
        highest = std::max(highest, p.part_number);
        etag_bytes += p.etag.size() + 2; // + quotes when they are added
    }
    std::vector<const completed_part*> by_number(static_cast<std::size_t>(highest) + 1);
    for (const auto& p : parts)
        by_number[static_cast<std::size_t>(p.part_number)] = &p;

    static constexpr std::string_view open = "<CompleteMultipartUpload>";
    static constexpr std::string_view close = "</CompleteMultipartUpload>";
    static constexpr std::string_view part_open = "<Part><PartNumber>";
    static constexpr std::string_view etag_open = "</PartNumber><ETag>\"";
    static constexpr std::string_view part_close = "\"</ETag></Part>";
    std::string body;
    body.reserve(open.size() + close.size() + etag_bytes +
                 parts.size() * (part_open.size() + 5 + etag_open.size() + part_close.size()));
    body.append(open);
    char num[8];
    for (const auto* p : by_number) {
        if (!p)
            continue;
        body.append(part_open);
        auto r = std::to_chars(num, num + sizeof num, p->part_number);
        body.append(num, r.ptr);
        body.append(etag_open);
        xml_escape_to(body, detail::reqs::etag_inner(p->etag));
        body.append(part_close);
    }
    body.append(close);
    out = std::move(body);
    return {};
}

/// InitiateMultipartUpload: `POST /KEY?uploads[&encoding-type=url]`, empty body.
/// Headers, in order, when set: Content-Type (always; `default_content_type` when empty),
/// Cache-Control, Content-Disposition, Content-Encoding, Expires, x-oss-forbid-overwrite,
/// x-oss-server-side-encryption, x-oss-server-side-data-encryption,
/// x-oss-server-side-encryption-key-id, x-oss-storage-class, x-oss-tagging,
/// x-oss-request-payer, x-oss-meta-<lower-cased name>..., extra headers.
/// Errors: bucket and key checks; `errc::invalid_header` for a header that fails
/// `validate_header`, an empty metadata name, or an extra Content-Length/Transfer-Encoding/Host.
inline std::error_code make_initiate_request(const initiate_params& p, http::request& out) {
    if (auto ec = detail::reqs::validate_object(p.bucket, p.key))
        return ec;
    http::request r;
    r.method = http::verb::post;
    r.bucket = p.bucket;
    r.key = p.key;
    r.query.push_back(http::query_param{"uploads", ""});
    if (p.encoding_type_url)
        r.query.push_back(http::query_param{"encoding-type", "url"});
    detail::reqs::header_writer h(r.headers);
    h.add("Content-Type", p.content_type.empty() ? default_content_type : p.content_type)
        .add_if_set("Cache-Control", p.cache_control)
        .add_if_set("Content-Disposition", p.content_disposition)
        .add_if_set("Content-Encoding", p.content_encoding)
        .add_if_set("Expires", p.expires)
        .add_if_set("x-oss-forbid-overwrite", p.forbid_overwrite)
        .add_if_set("x-oss-server-side-encryption", p.server_side_encryption)
        .add_if_set("x-oss-server-side-data-encryption", p.server_side_data_encryption)
        .add_if_set("x-oss-server-side-encryption-key-id", p.server_side_encryption_key_id)
        .add_if_set("x-oss-storage-class", p.storage_class)
        .add_if_set("x-oss-tagging", p.tagging)
        .add_if_set("x-oss-request-payer", p.request_payer)
        .user_metadata(p.user_metadata)
        .extra(p.extra_headers);
    if (auto ec = h.error())
        return ec;
    out = std::move(r);
    return {};
}

/// UploadPart: `PUT /KEY?partNumber=N&uploadId=UID` (this order), body = a view of `data`
/// (no copy; the bytes must outlive the request's use).
/// Headers, in order, when set: Content-MD5, x-oss-traffic-limit, x-oss-request-payer.
/// Errors, in this order: bucket, key, `errc::empty_upload_id`, `errc::invalid_part_number`,
/// `errc::invalid_argument` (both `data` and `source`), `errc::part_too_large` (over 5 GiB; the 100
/// KiB minimum needs to know which part is last and is the caller's check, see
/// `validate_part_size`), `errc::invalid_header` (a Content-MD5 that is not base64 of 16 bytes, or
/// a bad header), `errc::invalid_argument` (traffic limit outside 245760..838860800).
inline std::error_code make_upload_part_request(const upload_part_params& p, http::request& out) {
    if (auto ec = detail::reqs::validate_object(p.bucket, p.key))
        return ec;
    if (auto ec = validate_upload_id(p.upload_id))
        return ec;
    if (auto ec = validate_part_number(p.part_number))
        return ec;
    if (p.source && !p.data.empty())
        return errc::invalid_argument;
    if ((p.source ? p.source->size() : p.data.size()) > max_part_size)
        return errc::part_too_large;
    if (auto ec = detail::reqs::validate_content_md5(p.content_md5))
        return ec;
    if (p.traffic_limit &&
        (*p.traffic_limit < min_traffic_limit || *p.traffic_limit > max_traffic_limit))
        return errc::invalid_argument;
    http::request r;
    r.method = http::verb::put;
    r.bucket = p.bucket;
    r.key = p.key;
    r.query.push_back(http::query_param{"partNumber", detail::reqs::to_decimal(p.part_number)});
    r.query.push_back(http::query_param{"uploadId", p.upload_id});
    detail::reqs::header_writer h(r.headers);
    h.add_if_set("Content-MD5", p.content_md5);
    if (p.traffic_limit)
        h.add("x-oss-traffic-limit", detail::reqs::to_decimal(*p.traffic_limit));
    h.add_if_set("x-oss-request-payer", p.request_payer);
    if (auto ec = h.error())
        return ec;
    if (p.source)
        r.set_body_source(p.source);
    else
        r.set_body_view(p.data);
    out = std::move(r);
    return {};
}

/// CompleteMultipartUpload: `POST /KEY?uploadId=UID[&encoding-type=url]`.
/// With a part list: body from `make_complete_body` (sorted), headers Content-Type:
/// application/xml, then Content-MD5 of the body when `send_content_md5`.
/// With `complete_all`: header `x-oss-complete-all: yes` and no body at all.
/// Then, when set: x-oss-object-acl, x-oss-forbid-overwrite, x-oss-callback,
/// x-oss-callback-var, x-oss-request-payer.
/// Errors: bucket, key, `errc::empty_upload_id`; with `complete_all`, a non-empty part list ->
/// `errc::invalid_argument` (OSS rejects a body with the header); else the errors of
/// `make_complete_body`; `errc::invalid_header` for a header that fails `validate_header`.
/// Cost: a 10,000-part body takes two allocations (the body, an index by part number) and well
/// under 2 ms in an optimised build.
inline std::error_code make_complete_request(const complete_params& p, http::request& out) {
    if (auto ec = detail::reqs::validate_object(p.bucket, p.key))
        return ec;
    if (auto ec = validate_upload_id(p.upload_id))
        return ec;
    std::string body;
    if (p.complete_all) {
        if (!p.parts.empty())
            return errc::invalid_argument;
    } else if (auto ec = make_complete_body(p.parts, body)) {
        return ec;
    }
    http::request r;
    r.method = http::verb::post;
    r.bucket = p.bucket;
    r.key = p.key;
    r.query.push_back(http::query_param{"uploadId", p.upload_id});
    if (p.encoding_type_url)
        r.query.push_back(http::query_param{"encoding-type", "url"});
    detail::reqs::header_writer h(r.headers);
    if (p.complete_all) {
        h.add("x-oss-complete-all", "yes");
    } else {
        h.add("Content-Type", "application/xml");
        if (p.send_content_md5)
            h.add("Content-MD5", crypto::base64_encode(crypto::md5(body)));
    }
    h.add_if_set("x-oss-object-acl", p.object_acl)
        .add_if_set("x-oss-forbid-overwrite", p.forbid_overwrite)
        .add_if_set("x-oss-callback", p.callback)
        .add_if_set("x-oss-callback-var", p.callback_var)
        .add_if_set("x-oss-request-payer", p.request_payer);
    if (auto ec = h.error())
        return ec;
    if (!p.complete_all)
        r.set_body(std::move(body));
    out = std::move(r);
    return {};
}

/// AbortMultipartUpload: `DELETE /KEY?uploadId=UID`, no body; header x-oss-request-payer when
/// set. Errors: bucket, key, `errc::empty_upload_id`, `errc::invalid_header`.
inline std::error_code make_abort_request(const abort_params& p, http::request& out) {
    if (auto ec = detail::reqs::validate_object(p.bucket, p.key))
        return ec;
    if (auto ec = validate_upload_id(p.upload_id))
        return ec;
    http::request r;
    r.method = http::verb::delete_;
    r.bucket = p.bucket;
    r.key = p.key;
    r.query.push_back(http::query_param{"uploadId", p.upload_id});
    detail::reqs::header_writer h(r.headers);
    h.add_if_set("x-oss-request-payer", p.request_payer);
    if (auto ec = h.error())
        return ec;
    out = std::move(r);
    return {};
}

/// ListParts: `GET /KEY?uploadId=UID[&max-parts=N][&part-number-marker=M][&encoding-type=url]`
/// (this order), no body; header x-oss-request-payer when set.
/// Errors: bucket, key, `errc::empty_upload_id`; `errc::invalid_argument` for max_parts outside
/// 1..1000 or part_number_marker outside 0..10000; `errc::invalid_header`.
inline std::error_code make_list_parts_request(const list_parts_params& p, http::request& out) {
    if (auto ec = detail::reqs::validate_object(p.bucket, p.key))
        return ec;
    if (auto ec = validate_upload_id(p.upload_id))
        return ec;
    if (p.max_parts && (*p.max_parts < 1 || *p.max_parts > max_list_parts))
        return errc::invalid_argument;
    if (p.part_number_marker && (*p.part_number_marker < 0 || *p.part_number_marker > max_parts))
        return errc::invalid_argument;
    http::request r;
    r.method = http::verb::get;
    r.bucket = p.bucket;
    r.key = p.key;
    r.query.push_back(http::query_param{"uploadId", p.upload_id});
    if (p.max_parts)
        r.query.push_back(http::query_param{"max-parts", detail::reqs::to_decimal(*p.max_parts)});
    if (p.part_number_marker)
        r.query.push_back(http::query_param{"part-number-marker",
                                            detail::reqs::to_decimal(*p.part_number_marker)});
    if (p.encoding_type_url)
        r.query.push_back(http::query_param{"encoding-type", "url"});
    detail::reqs::header_writer h(r.headers);
    h.add_if_set("x-oss-request-payer", p.request_payer);
    if (auto ec = h.error())
        return ec;
    out = std::move(r);
    return {};
}

/// ListMultipartUploads: `GET /?uploads` at bucket level (`key` empty), then each set
/// parameter in the order delimiter, key-marker, max-uploads, prefix, upload-id-marker, then
/// encoding-type=url. No body; header x-oss-request-payer when set.
/// Errors: bucket check; `errc::invalid_argument` for max_uploads outside 1..1000;
/// `errc::invalid_header`.
inline std::error_code make_list_uploads_request(const list_uploads_params& p, http::request& out) {
    if (auto ec = validate_bucket_name(p.bucket))
        return ec;
    if (p.max_uploads && (*p.max_uploads < 1 || *p.max_uploads > max_list_uploads))
        return errc::invalid_argument;
    http::request r;
    r.method = http::verb::get;
    r.bucket = p.bucket;
    r.query.push_back(http::query_param{"uploads", ""});
    if (!p.delimiter.empty())
        r.query.push_back(http::query_param{"delimiter", p.delimiter});
    if (!p.key_marker.empty())
        r.query.push_back(http::query_param{"key-marker", p.key_marker});
    if (p.max_uploads)
        r.query.push_back(
            http::query_param{"max-uploads", detail::reqs::to_decimal(*p.max_uploads)});
    if (!p.prefix.empty())
        r.query.push_back(http::query_param{"prefix", p.prefix});
    if (!p.upload_id_marker.empty())
        r.query.push_back(http::query_param{"upload-id-marker", p.upload_id_marker});
    if (p.encoding_type_url)
        r.query.push_back(http::query_param{"encoding-type", "url"});
    detail::reqs::header_writer h(r.headers);
    h.add_if_set("x-oss-request-payer", p.request_payer);
    if (auto ec = h.error())
        return ec;
    out = std::move(r);
    return {};
}

/// PutObject: `PUT /KEY`, body = a view of `data` (no copy; the bytes must outlive the
/// request's use). Headers, in order, when set: Content-Type (always; `default_content_type`
/// when empty), Content-MD5, Cache-Control, Content-Disposition, Content-Encoding, Expires,
/// x-oss-forbid-overwrite, x-oss-object-acl, x-oss-storage-class, x-oss-tagging,
/// x-oss-meta-<lower-cased name>..., extra headers.
/// Errors: bucket, key; `errc::invalid_argument` for data over `max_put_object_size` or both
/// `data` and `source`;
/// `errc::invalid_header` (bad Content-MD5, bad header, empty metadata name, extra
/// Content-Length/Transfer-Encoding/Host).
inline std::error_code make_put_object_request(const put_object_params& p, http::request& out) {
    if (auto ec = detail::reqs::validate_object(p.bucket, p.key))
        return ec;
    // Not part_too_large: this is an object, not a part. The caller should have chosen a
    // multipart upload; the argument (the single-request path) is what is wrong.
    if ((p.source && !p.data.empty()) ||
        (p.source ? p.source->size() : p.data.size()) > max_put_object_size)
        return errc::invalid_argument;
    if (auto ec = detail::reqs::validate_content_md5(p.content_md5))
        return ec;
    http::request r;
    r.method = http::verb::put;
    r.bucket = p.bucket;
    r.key = p.key;
    detail::reqs::header_writer h(r.headers);
    h.add("Content-Type", p.content_type.empty() ? default_content_type : p.content_type)
        .add_if_set("Content-MD5", p.content_md5)
        .add_if_set("Cache-Control", p.cache_control)
        .add_if_set("Content-Disposition", p.content_disposition)
        .add_if_set("Content-Encoding", p.content_encoding)
        .add_if_set("Expires", p.expires)
        .add_if_set("x-oss-forbid-overwrite", p.forbid_overwrite)
        .add_if_set("x-oss-object-acl", p.object_acl)
        .add_if_set("x-oss-storage-class", p.storage_class)
        .add_if_set("x-oss-tagging", p.tagging)
        .user_metadata(p.user_metadata)
        .extra(p.extra_headers);
    if (auto ec = h.error())
        return ec;
    if (p.source)
        r.set_body_source(p.source);
    else
        r.set_body_view(p.data);
    out = std::move(r);
    return {};
}

/// GetObject: `GET /KEY`, no body; `Range: bytes=first-last` when both bounds are set,
/// `bytes=first-` when only `range_first` is.
/// Errors: bucket, key; `errc::invalid_range` for `range_last < range_first` or a
/// `range_last` without `range_first` (suffix ranges are not offered).
inline std::error_code make_get_object_request(const get_object_params& p, http::request& out) {
    if (auto ec = detail::reqs::validate_object(p.bucket, p.key))
        return ec;
    if (p.range_last && (!p.range_first || *p.range_last < *p.range_first))
        return errc::invalid_range;
    http::request r;
    r.method = http::verb::get;
    r.bucket = p.bucket;
    r.key = p.key;
    if (p.range_first) {
        std::string range = "bytes=";
        range += detail::reqs::to_decimal(*p.range_first);
        range += '-';
        if (p.range_last)
            range += detail::reqs::to_decimal(*p.range_last);
        r.headers.add("Range", range);
    }
    out = std::move(r);
    return {};
}

/// HeadObject: `HEAD /KEY`, no headers, no body. Errors: bucket, key.
inline std::error_code make_head_object_request(const head_object_params& p, http::request& out) {
    if (auto ec = detail::reqs::validate_object(p.bucket, p.key))
        return ec;
    http::request r;
    r.method = http::verb::head;
    r.bucket = p.bucket;
    r.key = p.key;
    out = std::move(r);
    return {};
}

/// DeleteObject: `DELETE /KEY`, no headers, no body. Errors: bucket, key.
inline std::error_code make_delete_object_request(const delete_object_params& p,
                                                  http::request& out) {
    if (auto ec = detail::reqs::validate_object(p.bucket, p.key))
        return ec;
    http::request r;
    r.method = http::verb::delete_;
    r.bucket = p.bucket;
    r.key = p.key;
    out = std::move(r);
    return {};
}

} // namespace ossmp
