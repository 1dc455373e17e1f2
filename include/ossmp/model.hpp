// ossmp/model.hpp: what the OSS operations return (result types).
//
// Plain aggregates filled by the parsers of `responses.hpp` (oss-reference section 2). Strings
// are kept as the server sent them, with two exceptions: with `encoding-type=url` the URL-encoded
// elements (keys, prefixes, delimiters, key markers) are decoded, and user metadata names lose
// their `x-oss-meta-` prefix. ETags keep their quotes (compare them with `etag_equal`).
// Request parameter types live in `requests.hpp`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ossmp {

/// Result of InitiateMultipartUpload (`InitiateMultipartUploadResult`, oss-reference 2.1).
struct initiate_result {
    std::string bucket;        ///< `Bucket`
    std::string key;           ///< `Key`, decoded when `encoding_type` is "url"
    std::string upload_id;     ///< `UploadId` (opaque, never decoded)
    std::string encoding_type; ///< `EncodingType` as sent ("url"), empty when absent
    std::string request_id;    ///< `x-oss-request-id` header
};

/// Result of UploadPart (response headers only, oss-reference 2.2).
struct upload_part_result {
    int part_number = 0; ///< the request's part number (the response does not carry it)
    std::string etag;    ///< `ETag` header as sent, quotes included: "\"DF1F...9A5A\""
    std::optional<std::uint64_t> crc64; ///< `x-oss-hash-crc64ecma`, when sent
    std::string content_md5;            ///< `Content-MD5` header (base64), empty when absent
    std::string request_id;             ///< `x-oss-request-id` header
};

/// Result of CompleteMultipartUpload (oss-reference 2.3): body fields from the XML, the rest
/// from headers. With a callback (`x-oss-callback`) the body is the callback server's reply,
/// not XML: it is kept in `callback_body` and the XML fields stay empty.
struct complete_result {
    std::string location; ///< `Location` (never decoded)
    std::string bucket;   ///< `Bucket`
    std::string key;      ///< `Key`, decoded when `encoding_type` is "url"
    std::string etag;     ///< `ETag` element as sent (quotes included); the header when absent
    std::optional<std::uint64_t> crc64; ///< `x-oss-hash-crc64ecma` header: whole-object CRC-64
    std::string version_id;             ///< `x-oss-version-id` header (versioned buckets)
    std::string request_id;             ///< `x-oss-request-id` header
    std::string encoding_type;          ///< `EncodingType` as sent, empty when absent
    std::string callback_body;          ///< raw body when the request carried a callback
};

/// One part of a ListParts result (`Part`, oss-reference 2.5).
struct part_info {
    int part_number = 0;       ///< `PartNumber`, 1..10000
    std::string last_modified; ///< `LastModified` as sent: "2023-11-22T05:42:34.000Z"
    /// `last_modified` parsed (UTC); nullopt when it is not in the ISO 8601 form OSS uses.
    std::optional<std::chrono::system_clock::time_point> last_modified_time;
    std::string etag;                   ///< `ETag` as sent, quotes included
    std::optional<std::uint64_t> crc64; ///< `HashCrc64ecma`, when present and non-empty
    std::uint64_t size = 0;             ///< `Size` in bytes
};

/// Result of ListParts (`ListPartsResult`, oss-reference 2.5). Paginate with
/// `part_number_marker = next_part_number_marker` while `is_truncated`.
struct list_parts_result {
    std::string bucket;              ///< `Bucket`
    std::string key;                 ///< `Key`, decoded when `encoding_type` is "url"
    std::string upload_id;           ///< `UploadId`
    std::string storage_class;       ///< `StorageClass`, empty when absent
    int part_number_marker = 0;      ///< `PartNumberMarker` (0 when absent or empty)
    int next_part_number_marker = 0; ///< `NextPartNumberMarker` (0 when absent or empty)
    int max_parts = 0;               ///< `MaxParts` (0 when absent)
    bool is_truncated = false;       ///< `IsTruncated`
    std::vector<part_info> parts;    ///< `Part` elements in document order
    std::string encoding_type;       ///< `EncodingType` as sent, empty when absent
};

/// One in-progress upload of a ListMultipartUploads result (`Upload`, oss-reference 2.6).
struct upload_info {
    std::string key;           ///< `Key`, decoded when the listing's encoding type is "url"
    std::string upload_id;     ///< `UploadId`
    std::string storage_class; ///< `StorageClass`, empty when absent
    std::string initiated;     ///< `Initiated` as sent: "2012-02-23T04:18:23.000Z"
    /// `initiated` parsed (UTC); nullopt when it is not in the ISO 8601 form OSS uses.
    std::optional<std::chrono::system_clock::time_point> initiated_time;
};

/// Result of ListMultipartUploads (`ListMultipartUploadsResult`, oss-reference 2.6).
/// Paginate with `key_marker = next_key_marker`, `upload_id_marker = next_upload_id_marker`
/// while `is_truncated`.
struct list_uploads_result {
    std::string bucket;                       ///< `Bucket`
    std::string key_marker;                   ///< `KeyMarker` (decoded with "url")
    std::string upload_id_marker;             ///< `UploadIdMarker`
    std::string next_key_marker;              ///< `NextKeyMarker` (decoded with "url")
    std::string next_upload_id_marker;        ///< `NextUploadIdMarker` (never decoded)
    std::string delimiter;                    ///< `Delimiter` (decoded with "url")
    std::string prefix;                       ///< `Prefix` (decoded with "url")
    int max_uploads = 0;                      ///< `MaxUploads` (0 when absent)
    bool is_truncated = false;                ///< `IsTruncated`
    std::vector<upload_info> uploads;         ///< `Upload` elements in document order
    std::vector<std::string> common_prefixes; ///< `CommonPrefixes/Prefix` (decoded with "url")
    std::string encoding_type;                ///< `EncodingType` as sent, empty when absent
};

/// An object's metadata, from the headers of HeadObject or GetObject.
struct object_meta {
    /// Size of the whole object: `Content-Length`, or for a 206 partial GetObject the total
    /// after the '/' of `Content-Range`.
    std::uint64_t size = 0;
    std::uint64_t content_length = 0; ///< `Content-Length`: bytes in this response's body
    std::string etag;                 ///< `ETag` as sent, quotes included
    std::string content_type;         ///< `Content-Type`
    std::string last_modified;        ///< `Last-Modified` as sent (RFC 1123 date)
    /// `last_modified` parsed (UTC); nullopt when it is not an RFC 1123 date.
    std::optional<std::chrono::system_clock::time_point> last_modified_time;
    std::optional<std::uint64_t> crc64; ///< `x-oss-hash-crc64ecma`, when sent
    std::string object_type;            ///< `x-oss-object-type`: Normal, Multipart, Appendable...
    std::string storage_class;          ///< `x-oss-storage-class`
    std::string version_id;             ///< `x-oss-version-id`
    /// `x-oss-meta-*` headers in wire order: name lower-cased without the prefix, value as sent.
    std::vector<std::pair<std::string, std::string>> user_metadata;
    std::string request_id; ///< `x-oss-request-id` header
};

/// Result of PutObject (response headers).
struct put_object_result {
    std::string etag;                   ///< `ETag` header as sent, quotes included
    std::optional<std::uint64_t> crc64; ///< `x-oss-hash-crc64ecma`, when sent
    std::string version_id;             ///< `x-oss-version-id`
    std::string request_id;             ///< `x-oss-request-id` header
};

/// Result of DeleteObject (response headers).
struct delete_object_result {
    std::string version_id;     ///< `x-oss-version-id`
    bool delete_marker = false; ///< `x-oss-delete-marker: true`
    std::string request_id;     ///< `x-oss-request-id` header
};

} // namespace ossmp
