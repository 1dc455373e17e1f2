// ossmp/signer.hpp: OSS request signatures V4 (`OSS4-HMAC-SHA256`, the default) and V1
// (`OSS AccessKeyId:Signature`, HMAC-SHA1), header authentication, STS tokens
// (oss-reference sections 6, 7 and 12).
//
// Two levels:
// - Pure building blocks on decoded pieces (method, bucket, key, decoded query parameters,
//   header fields), shared by the client and by a server that verifies what it received:
//   `v4_canonical_request`, `v4_string_to_sign`, `v4_signing_key`, `v4_signature`,
//   `v4_authorization`, `parse_v4_authorization`, `v1_string_to_sign`, `v1_signature`,
//   `parse_v1_authorization`, and the one-call recomputations `v4_expected_signature` /
//   `v1_expected_signature` for servers.
// - `sign(request, credentials, options, now)`: adds Date, x-oss-date, x-oss-content-sha256,
//   x-oss-security-token and Authorization to an `http::request`.
//
// Nothing here throws for bad input: invalid configuration is an `std::error_code`, a malformed
// Authorization is `std::nullopt`. The only exceptions are environmental ones from crypto.hpp
// (std::bad_alloc, or std::runtime_error when OpenSSL cannot provide an algorithm).
#pragma once

#include "ossmp/credentials.hpp"
#include "ossmp/crypto.hpp"
#include "ossmp/endpoint.hpp"
#include "ossmp/error.hpp"
#include "ossmp/http/chars.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/time.hpp"
#include "ossmp/uri.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ossmp {

/// Which signature algorithm `sign` uses.
enum class signature_version {
    v1, ///< `OSS AK:base64(HMAC-SHA1)`; the OSS2 / C++ SDK v1 default
    v4, ///< `OSS4-HMAC-SHA256`; the GO2 / PY2 default and ossmp's
};

/// The V4 algorithm name, first token of the Authorization header and of the string to sign.
inline constexpr std::string_view v4_algorithm = "OSS4-HMAC-SHA256"; // oss-reference §6.3
/// The last element of a V4 scope and of the signing-key chain.
inline constexpr std::string_view v4_scope_terminator = "aliyun_v4_request"; // §6.3
/// Prepended to the AccessKey secret to make the first HMAC key of the chain.
inline constexpr std::string_view v4_secret_prefix = "aliyun_v4"; // §6.3
/// The only value OSS accepts for `x-oss-content-sha256` (DOC 0002-00000214).
inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD"; // §6.1
/// The default product in V4 scopes (CloudBox uses "oss-cloudbox").
inline constexpr std::string_view default_product = "oss"; // GO2 DefaultProduct

/// A V4 signing key (kSigning of §6.3): 32 bytes, valid for one (secret, day, region, product).
using v4_key = std::array<std::uint8_t, 32>;

namespace detail {

// The HTTP layer's character helpers (one definition of OWS and of ASCII lower-casing).
using http::trim_ows;
inline constexpr char lower_ascii(char c) noexcept {
    return http::detail::ascii_lower(c);
}

inline constexpr bool istarts_with(std::string_view s, std::string_view lower_prefix) noexcept {
    return s.size() >= lower_prefix.size() &&
           http::iequals(s.substr(0, lower_prefix.size()), lower_prefix);
}

// Byte order of the lower-cased names, which is how SDKs sort lower-cased header names.
inline constexpr int icompare(std::string_view a, std::string_view b) noexcept {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto ca = static_cast<unsigned char>(lower_ascii(a[i]));
        const auto cb = static_cast<unsigned char>(lower_ascii(b[i]));
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

inline void append_lower(std::string& out, std::string_view s) {
    for (char c : s)
        out.push_back(lower_ascii(c));
}

inline constexpr bool all_unreserved(std::string_view s) noexcept {
    for (unsigned char c : s)
        if (!uri::is_unreserved(c))
            return false;
    return true;
}

// A fixed-capacity array on the stack for the usual handful of headers or query parameters,
// falling back to the heap for more: canonicalisation then allocates nothing in the common case.
template <class T, std::size_t N>
class scratch_array {
public:
    explicit scratch_array(std::size_t capacity) {
        if (capacity > N) {
            heap_.resize(capacity);
            data_ = heap_.data();
        } else {
            data_ = local_.data();
        }
    }
    scratch_array(const scratch_array&) = delete;
    scratch_array& operator=(const scratch_array&) = delete;

    void push_back(const T& v) noexcept { data_[size_++] = v; }
    T* begin() noexcept { return data_; }
    T* end() noexcept { return data_ + size_; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    std::size_t size() const noexcept { return size_; }

private:
    std::array<T, N> local_{};
    std::vector<T> heap_;
    T* data_ = nullptr;
    std::size_t size_ = 0;
};

// Stable sort without allocation for the small inputs signing sees (insertion sort), falling
// back to std::stable_sort so that a hostile request with thousands of parameters stays
// O(n log n) on a server.
template <class T, class Less>
void small_stable_sort(T* first, T* last, Less less) {
    if (last - first > 32) {
        std::stable_sort(first, last, less);
        return;
    }
    for (T* i = first + (first != last ? 1 : 0); i < last; ++i) {
        T v = *i;
        T* j = i;
        for (; j > first && less(v, *(j - 1)); --j)
            *j = *(j - 1);
        *j = v;
    }
}

struct name_value {
    std::string_view name;
    std::string_view value;
};

inline std::string_view bytes_view(const v4_key& k) noexcept {
    return {reinterpret_cast<const char*>(k.data()), k.size()};
}

template <std::size_t N>
void append_hex_lower(std::string& out, const std::array<std::uint8_t, N>& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    const std::size_t at = out.size();
    out.resize(at + 2 * N);
    char* p = out.data() + at;
    for (std::uint8_t b : bytes) {
        *p++ = digits[b >> 4];
        *p++ = digits[b & 15];
    }
}

// --- V4 -----------------------------------------------------------------------------------

// Signed whatever AdditionalHeaders says: x-oss-*, content-type, content-md5 (§6.2).
inline constexpr bool v4_default_signed(std::string_view name) noexcept {
    return istarts_with(name, "x-oss-") || http::iequals(name, "content-type") ||
           http::iequals(name, "content-md5");
}

// The AdditionalHeaders list as SDKs normalise it (GO2 getCommonAdditionalHeaders): names
// compared case-insensitively, default-signed names and names absent from the request dropped,
// duplicates dropped, sorted by lower-cased name. The views point into `names`. `host_value`
// (when non-empty) stands for a Host header the fields do not carry (http::request keeps the
// Host in its own member).
template <std::size_t N>
void v4_select_additional(std::span<const std::string> names, const http::fields& headers,
                          std::string_view host_value, scratch_array<std::string_view, N>& out) {
    for (const auto& n : names) {
        if (n.empty() || v4_default_signed(n))
            continue;
        if (!headers.contains(n) && !(http::iequals(n, "host") && !host_value.empty()))
            continue;
        bool dup = false;
        for (auto kept : out)
            dup = dup || http::iequals(kept, n);
        if (!dup)
            out.push_back(n);
    }
    small_stable_sort(out.begin(), out.end(),
                      [](std::string_view a, std::string_view b) { return icompare(a, b) < 0; });
}

// The AdditionalHeaders list as a server takes it from an Authorization header: every name,
// sorted by lower-cased name, nothing dropped (OSS2 lists names the request does not carry and
// signs them in the AdditionalHeaders line all the same).
template <std::size_t N>
void v4_sorted_names(std::span<const std::string> names, scratch_array<std::string_view, N>& out) {
    for (const auto& n : names)
        if (!n.empty())
            out.push_back(n);
    small_stable_sort(out.begin(), out.end(),
                      [](std::string_view a, std::string_view b) { return icompare(a, b) < 0; });
}

template <std::size_t N>
void v4_append_additional_line(std::string& out, scratch_array<std::string_view, N>& names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i != 0)
            out.push_back(';');
        append_lower(out, names[i]);
    }
}

inline void v4_append_canonical_uri(std::string& out, std::string_view bucket,
                                    std::string_view key) {
    out.push_back('/');
    if (bucket.empty())
        return;
    uri::encode_to(out, bucket, true);
    out.push_back('/');
    uri::encode_to(out, key, true);
}

inline void v4_append_canonical_query(std::string& out,
                                      const std::vector<http::query_param>& query) {
    // Names and values that need escaping are escaped once into `escaped`, reserved up front so
    // that views into it stay valid; the rest are used in place.
    std::size_t need = 0;
    for (const auto& q : query) {
        need += all_unreserved(q.name) ? 0 : 3 * q.name.size();
        need += all_unreserved(q.value) ? 0 : 3 * q.value.size();
    }
    std::string escaped;
    escaped.reserve(need);
    auto view_of = [&](const std::string& s) -> std::string_view {
        if (all_unreserved(s))
            return s;
        const std::size_t start = escaped.size();
        uri::encode_to(escaped, s, false);
        return std::string_view(escaped).substr(start);
    };
    scratch_array<name_value, 16> items(query.size());
    for (const auto& q : query) {
        const std::string_view n = view_of(q.name);
        const std::string_view v = view_of(q.value);
        items.push_back({n, v});
    }
    small_stable_sort(items.begin(), items.end(), [](const name_value& a, const name_value& b) {
        return a.name != b.name ? a.name < b.name : a.value < b.value;
    });
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i != 0)
            out.push_back('&');
        out.append(items[i].name);
        if (!items[i].value.empty()) {
            out.push_back('=');
            out.append(items[i].value);
        }
    }
}

// Appends "name:value\n" for each signed header: lower-cased names in byte order, values
// trimmed, several fields of one name joined with ',' in wire order (GO2).
template <std::size_t N>
void v4_append_canonical_headers(std::string& out, const http::fields& headers,
                                 scratch_array<std::string_view, N>& additional,
                                 std::string_view host_value) {
    scratch_array<name_value, 24> items(headers.size() + 1);
    bool have_host = false;
    for (const auto& f : headers) {
        bool take = v4_default_signed(f.name);
        for (std::size_t i = 0; !take && i < additional.size(); ++i)
            take = http::iequals(f.name, additional[i]);
        if (take) {
            items.push_back({f.name, trim_ows(f.value)});
            have_host = have_host || http::iequals(f.name, "host");
        }
    }
    if (!have_host && !host_value.empty())
        for (std::size_t i = 0; i < additional.size(); ++i)
            if (http::iequals(additional[i], "host"))
                items.push_back({"host", host_value});
    small_stable_sort(items.begin(), items.end(), [](const name_value& a, const name_value& b) {
        return icompare(a.name, b.name) < 0;
    });
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i != 0 && http::iequals(items[i].name, items[i - 1].name)) {
            out.back() = ','; // replace the previous line's '\n'
        } else {
            append_lower(out, items[i].name);
            out.push_back(':');
        }
        out.append(items[i].value);
        out.push_back('\n');
    }
}

template <std::size_t N>
void v4_append_canonical_request(std::string& out, std::string_view method, std::string_view bucket,
                                 std::string_view key, const std::vector<http::query_param>& query,
                                 const http::fields& headers,
                                 scratch_array<std::string_view, N>& additional,
                                 std::string_view host_value) {
    out.append(method);
    out.push_back('\n');
    v4_append_canonical_uri(out, bucket, key);
    out.push_back('\n');
    v4_append_canonical_query(out, query);
    out.push_back('\n');
    v4_append_canonical_headers(out, headers, additional, host_value);
    out.push_back('\n');
    v4_append_additional_line(out, additional);
    out.push_back('\n');
    const auto payload = headers.find("x-oss-content-sha256");
    out.append(payload ? trim_ows(*payload) : unsigned_payload);
}

inline void v4_append_scope(std::string& out, std::string_view date, std::string_view region,
                            std::string_view product) {
    out.append(date).append("/").append(region).append("/").append(product).append("/");
    out.append(v4_scope_terminator);
}

inline void v4_append_string_to_sign(std::string& out, std::string_view iso_datetime,
                                     std::string_view scope, std::string_view canonical_request) {
    out.append(v4_algorithm);
    out.push_back('\n');
    out.append(iso_datetime);
    out.push_back('\n');
    out.append(scope);
    out.push_back('\n');
    append_hex_lower(out, crypto::sha256(canonical_request));
}

// --- V1 -----------------------------------------------------------------------------------

// Query parameters that are part of the V1 CanonicalizedResource: the union of GO2
// `requiredSignedParametersMap` (oss/signer/v1.go) and OSS2 `_subresource_key_set`
// (oss2/auth.py), byte-sorted for binary search. GO2 also signs every `x-oss-*` parameter.
inline constexpr std::string_view v1_sub_resources[] = {
    "acl",
    "append",
    "asyncFetch",
    "bucketInfo",
    "callback",
    "callback-var",
    "cloudboxes",
    "cname",
    "comp",
    "continuation-token",
    "cors",
    "delete",
    "encryption",
    "endTime",
    "group",
    "inventory",
    "inventoryId",
    "lifecycle",
    "link",
    "live",
    "location",
    "logging",
    "metaQuery",
    "objectInfo",
    "objectMeta",
    "partNumber",
    "policy",
    "position",
    "qos",
    "qosInfo",
    "referer",
    "regionList",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "requestPayment",
    "resourceGroup",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "security-token",
    "sequential",
    "startTime",
    "stat",
    "status",
    "symlink",
    "tagging",
    "transferAcceleration",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "vod",
    "website",
    "worm",
    "wormExtend",
    "wormId",
};
static_assert(std::is_sorted(std::begin(v1_sub_resources), std::end(v1_sub_resources)));

} // namespace detail

/// True when the query parameter `name` is a V1 sub-resource (part of the CanonicalizedResource,
/// §7): the union of GO2's and OSS2's lists (uploads, uploadId, partNumber, security-token, acl,
/// versionId, response-*, ...) plus every `x-oss-*` parameter (GO2). Case-sensitive.
inline bool v1_is_sub_resource(std::string_view name) noexcept {
    return name.substr(0, 6) == "x-oss-" ||
           std::binary_search(std::begin(detail::v1_sub_resources),
                              std::end(detail::v1_sub_resources), name);
}

namespace detail {

inline void v1_append_canonical_resource(std::string& out, std::string_view bucket,
                                         std::string_view key,
                                         const std::vector<http::query_param>& query) {
    out.push_back('/');
    if (!bucket.empty()) {
        out.append(bucket);
        out.push_back('/');
        out.append(key);
    }
    scratch_array<name_value, 8> items(query.size());
    for (const auto& q : query)
        if (v1_is_sub_resource(q.name))
            items.push_back({q.name, q.value});
    small_stable_sort(items.begin(), items.end(), [](const name_value& a, const name_value& b) {
        return a.name != b.name ? a.name < b.name : a.value < b.value;
    });
    for (std::size_t i = 0; i < items.size(); ++i) {
        out.push_back(i == 0 ? '?' : '&');
        out.append(items[i].name);
        if (!items[i].value.empty()) {
            out.push_back('=');
            out.append(items[i].value);
        }
    }
}

inline void v1_append_string_to_sign(std::string& out, std::string_view method,
                                     std::string_view bucket, std::string_view key,
                                     const std::vector<http::query_param>& query,
                                     const http::fields& headers, std::string_view date_line) {
    out.append(method);
    out.push_back('\n');
    out.append(trim_ows(headers.get("Content-MD5")));
    out.push_back('\n');
    out.append(trim_ows(headers.get("Content-Type")));
    out.push_back('\n');
    out.append(date_line);
    out.push_back('\n');
    scratch_array<name_value, 16> items(headers.size());
    for (const auto& f : headers)
        if (istarts_with(f.name, "x-oss-"))
            items.push_back({f.name, trim_ows(f.value)});
    small_stable_sort(items.begin(), items.end(), [](const name_value& a, const name_value& b) {
        return icompare(a.name, b.name) < 0;
    });
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i != 0 && http::iequals(items[i].name, items[i - 1].name)) {
            out.back() = ',';
        } else {
            append_lower(out, items[i].name);
            out.push_back(':');
        }
        out.append(items[i].value);
        out.push_back('\n');
    }
    v1_append_canonical_resource(out, bucket, key, query);
}

} // namespace detail

// ===========================================================================================
// Signature V4 building blocks
// ===========================================================================================

/// The V4 CanonicalURI (§6.2): `/bucket/key` percent-encoded (every byte except
/// `A-Za-z0-9-_.~/` becomes `%XX`), `/bucket/` for bucket-level requests, `/` without a
/// bucket. Always the bucket+key form, whatever the addressing style on the wire.
inline std::string v4_canonical_uri(std::string_view bucket, std::string_view key) {
    std::string out;
    detail::v4_append_canonical_uri(out, bucket, key);
    return out;
}

/// The V4 CanonicalQueryString (§6.2) of decoded parameters: every parameter, name and value
/// RFC 3986-encoded, sorted by encoded name (then value), an empty value written as the bare
/// name (so `uploads` and `uploads=` are the same), joined with `&`. Order-independent.
inline std::string v4_canonical_query(const std::vector<http::query_param>& query) {
    std::string out;
    detail::v4_append_canonical_query(out, query);
    return out;
}

/// A client's AdditionalHeaders list normalised as GO2 does (§6.2, §6.4): the names of
/// `additional_headers` that are present in `headers` and not signed by default (`x-oss-*`,
/// `content-type`, `content-md5`), lower-cased, de-duplicated, sorted.
/// E.g. {"x-oss-no-exist", "ZAbc", "x-oss-head1", "abc"} -> {"abc", "zabc"}.
inline std::vector<std::string>
v4_normalize_additional_headers(std::span<const std::string> additional_headers,
                                const http::fields& headers) {
    detail::scratch_array<std::string_view, 8> names(additional_headers.size());
    detail::v4_select_additional(additional_headers, headers, {}, names);
    std::vector<std::string> out;
    out.reserve(names.size());
    for (auto n : names)
        out.push_back(http::to_lower(n));
    return out;
}

/// The AdditionalHeaders line of a normalised list (`v4_normalize_additional_headers`): the
/// names joined with `;`, "" when none remain. E.g. {"x-oss-no-exist", "ZAbc", "x-oss-head1",
/// "abc"} -> "abc;zabc". This is what `v4_authorization` and `sign` write.
inline std::string v4_additional_headers(std::span<const std::string> additional_headers,
                                         const http::fields& headers) {
    detail::scratch_array<std::string_view, 8> names(additional_headers.size());
    detail::v4_select_additional(additional_headers, headers, {}, names);
    std::string out;
    detail::v4_append_additional_line(out, names);
    return out;
}

/// The V4 canonical request (§6.2) of a request given as decoded pieces:
/// ```
/// METHOD\n CanonicalURI\n CanonicalQuery\n CanonicalHeaders\n AdditionalHeaders\n Payload
/// ```
/// - `method` as sent ("PUT"); `bucket`, `key` decoded (empty for bucket/service level);
/// - `query`: every decoded parameter of the request (order irrelevant);
/// - `headers`: the request's fields; signed are `x-oss-*`, `content-type`, `content-md5` and
///   those named in `additional_headers` (case-insensitive); header values are trimmed, several
///   fields of one name are joined with `,`;
/// - `additional_headers` is the AdditionalHeaders list exactly as signed: a server passes the
///   list parsed from Authorization; a client passes an already normalised list (see
///   `v4_additional_headers`; `sign` does this). The line is these names lower-cased and
///   sorted, none dropped (OSS2 signs names the request does not carry);
/// - the payload line is the value of `x-oss-content-sha256`, or `UNSIGNED-PAYLOAD`.
inline std::string v4_canonical_request(std::string_view method, std::string_view bucket,
                                        std::string_view key,
                                        const std::vector<http::query_param>& query,
                                        const http::fields& headers,
                                        std::span<const std::string> additional_headers = {}) {
    detail::scratch_array<std::string_view, 8> names(additional_headers.size());
    detail::v4_sorted_names(additional_headers, names);
    std::string out;
    out.reserve(256);
    detail::v4_append_canonical_request(out, method, bucket, key, query, headers, names, {});
    return out;
}

/// The V4 scope: `yyyymmdd/region/product/aliyun_v4_request` (§6.3). `region` is used as
/// given (normalise it with `normalize_region` first).
inline std::string v4_scope(std::string_view yyyymmdd, std::string_view region,
                            std::string_view product = default_product) {
    std::string out;
    detail::v4_append_scope(out, yyyymmdd, region, product);
    return out;
}

/// The V4 string to sign (§6.3):
/// `OSS4-HMAC-SHA256\n<iso_datetime>\n<scope>\n<hex(SHA256(canonical_request))>`, where
/// `iso_datetime` is the `x-oss-date` value ("20231216T162057Z").
inline std::string v4_string_to_sign(std::string_view iso_datetime, std::string_view scope,
                                     std::string_view canonical_request) {
    std::string out;
    out.reserve(v4_algorithm.size() + iso_datetime.size() + scope.size() + 67);
    detail::v4_append_string_to_sign(out, iso_datetime, scope, canonical_request);
    return out;
}

/// The V4 signing key (§6.3): HMAC-SHA256 chain over `yyyymmdd`, `region`, `product` and
/// `aliyun_v4_request`, starting from the key `"aliyun_v4" + secret`.
inline v4_key v4_signing_key(std::string_view access_key_secret, std::string_view yyyymmdd,
                             std::string_view region, std::string_view product = default_product) {
    std::string first_key;
    first_key.reserve(v4_secret_prefix.size() + access_key_secret.size());
    first_key.append(v4_secret_prefix).append(access_key_secret);
    const v4_key k_date = crypto::hmac_sha256(first_key, yyyymmdd);
    const v4_key k_region = crypto::hmac_sha256(detail::bytes_view(k_date), region);
    const v4_key k_product = crypto::hmac_sha256(detail::bytes_view(k_region), product);
    return crypto::hmac_sha256(detail::bytes_view(k_product), v4_scope_terminator);
}

/// The V4 signature: lower-case hex of HMAC-SHA256(signing_key, string_to_sign), 64 chars.
inline std::string v4_signature(const v4_key& signing_key, std::string_view string_to_sign) {
    std::string out;
    out.reserve(64);
    detail::append_hex_lower(out,
                             crypto::hmac_sha256(detail::bytes_view(signing_key), string_to_sign));
    return out;
}

/// The V4 Authorization header value (§6.4, GO2/PY2 form, no spaces):
/// `OSS4-HMAC-SHA256 Credential=<ak>/<scope>[,AdditionalHeaders=<line>],Signature=<sig>`;
/// the AdditionalHeaders item only when `additional_headers_line` is non-empty.
inline std::string v4_authorization(std::string_view access_key_id, std::string_view scope,
                                    std::string_view additional_headers_line,
                                    std::string_view signature) {
    std::string out;
    out.reserve(v4_algorithm.size() + access_key_id.size() + scope.size() +
                additional_headers_line.size() + signature.size() + 48);
    out.append(v4_algorithm).append(" Credential=").append(access_key_id).append("/");
    out.append(scope);
    if (!additional_headers_line.empty())
        out.append(",AdditionalHeaders=").append(additional_headers_line);
    out.append(",Signature=").append(signature);
    return out;
}

/// The parts of a V4 Authorization header.
struct v4_authorization_parts {
    std::string access_key_id;
    std::string date;                            ///< yyyymmdd of the scope
    std::string region;                          ///< as written in the scope
    std::string product;                         ///< "oss" (or "oss-cloudbox")
    std::vector<std::string> additional_headers; ///< as listed, in order (may be empty)
    std::string signature;                       ///< 64 lower-case hex chars

    /// The scope these parts name: `date/region/product/aliyun_v4_request`.
    std::string scope() const { return v4_scope(date, region, product); }
};

/// Parses a V4 Authorization value: `OSS4-HMAC-SHA256 ` followed by comma-separated
/// `Name=value` items in ANY order with optional spaces around commas (GO2/PY2 write
/// `Credential=..,AdditionalHeaders=..,Signature=..`, OSS2 `Credential=.., Signature=..,
/// AdditionalHeaders=..`). Requires `Credential=AK/yyyymmdd/region/product/aliyun_v4_request`
/// (8-digit date, non-empty parts) and `Signature=` 64 lower-case hex digits; `AdditionalHeaders`
/// is optional (`;`-separated names). Returns nullopt for a missing, duplicated, unknown or
/// malformed item.
inline std::optional<v4_authorization_parts> parse_v4_authorization(std::string_view value) {
    if (value.size() <= v4_algorithm.size() ||
        value.substr(0, v4_algorithm.size()) != v4_algorithm || value[v4_algorithm.size()] != ' ')
        return std::nullopt;
    std::string_view rest = value.substr(v4_algorithm.size() + 1);
    v4_authorization_parts out;
    bool have_credential = false, have_signature = false, have_additional = false;
    while (true) {
        const auto comma = rest.find(',');
        const std::string_view item = detail::trim_ows(rest.substr(0, comma));
        const auto eq = item.find('=');
        if (eq == std::string_view::npos)
            return std::nullopt;
        const std::string_view name = item.substr(0, eq);
        const std::string_view v = item.substr(eq + 1);
        if (name == "Credential") {
            if (have_credential)
                return std::nullopt;
            have_credential = true;
            std::string_view parts[5];
            std::string_view c = v;
            for (int i = 0; i < 5; ++i) {
                const auto slash = c.find('/');
                if ((slash == std::string_view::npos) != (i == 4))
                    return std::nullopt;
                parts[i] = c.substr(0, slash);
                if (parts[i].empty())
                    return std::nullopt;
                c = slash == std::string_view::npos ? std::string_view{} : c.substr(slash + 1);
            }
            if (parts[1].size() != 8 ||
                parts[1].find_first_not_of("0123456789") != std::string_view::npos ||
                parts[4] != v4_scope_terminator)
                return std::nullopt;
            out.access_key_id = parts[0];
            out.date = parts[1];
            out.region = parts[2];
            out.product = parts[3];
        } else if (name == "Signature") {
            if (have_signature || v.size() != 64 ||
                v.find_first_not_of("0123456789abcdef") != std::string_view::npos)
                return std::nullopt;
            have_signature = true;
            out.signature = v;
        } else if (name == "AdditionalHeaders") {
            if (have_additional)
                return std::nullopt;
            have_additional = true;
            std::string_view list = v;
            while (!list.empty()) {
                const auto semi = list.find(';');
                const std::string_view h = list.substr(0, semi);
                if (h.empty())
                    return std::nullopt;
                out.additional_headers.emplace_back(h);
                list = semi == std::string_view::npos ? std::string_view{} : list.substr(semi + 1);
            }
        } else {
            return std::nullopt;
        }
        if (comma == std::string_view::npos)
            break;
        rest.remove_prefix(comma + 1);
    }
    if (!have_credential || !have_signature)
        return std::nullopt;
    return out;
}

// ===========================================================================================
// Signature V1 building blocks
// ===========================================================================================

/// The V1 CanonicalizedResource (§7): `/bucket/key` (raw, NOT percent-encoded), `/bucket/`
/// for bucket-level and `/` for service-level requests, then `?` and the sub-resources among
/// the decoded `query` (see `v1_is_sub_resource`) sorted by name, as decoded `name=value` or
/// bare `name` when the value is empty, joined with `&`.
inline std::string v1_canonical_resource(std::string_view bucket, std::string_view key,
                                         const std::vector<http::query_param>& query) {
    std::string out;
    detail::v1_append_canonical_resource(out, bucket, key, query);
    return out;
}

/// The V1 string to sign (§7) with an explicit Date line (the `Expires` timestamp for
/// presigned URLs):
/// `METHOD\nContent-MD5\nContent-Type\n<date_line>\n<x-oss-* headers><CanonicalizedResource>`,
/// where the `x-oss-*` headers are `lower-name:trimmed-value\n` sorted by name (several fields
/// of one name joined with `,`).
inline std::string v1_string_to_sign(std::string_view method, std::string_view bucket,
                                     std::string_view key,
                                     const std::vector<http::query_param>& query,
                                     const http::fields& headers, std::string_view date_line) {
    std::string out;
    out.reserve(192);
    detail::v1_append_string_to_sign(out, method, bucket, key, query, headers, date_line);
    return out;
}

/// The V1 string to sign of a header-authenticated request: as the overload above, with the
/// Date line taken from the `x-oss-date` header when present (ali-oss sends no `Date`, OSS2 and
/// PY2 prefer `x-oss-date`; §12), else from the `Date` header.
inline std::string v1_string_to_sign(std::string_view method, std::string_view bucket,
                                     std::string_view key,
                                     const std::vector<http::query_param>& query,
                                     const http::fields& headers) {
    const auto oss_date = headers.find("x-oss-date");
    return v1_string_to_sign(method, bucket, key, query, headers,
                             oss_date ? *oss_date : headers.get("Date"));
}

/// The V1 signature: base64(HMAC-SHA1(secret, string_to_sign)), 28 characters.
inline std::string v1_signature(std::string_view access_key_secret,
                                std::string_view string_to_sign) {
    return crypto::base64_encode(crypto::hmac_sha1(access_key_secret, string_to_sign));
}

/// The V1 Authorization header value: `OSS <access_key_id>:<signature>`.
inline std::string v1_authorization(std::string_view access_key_id, std::string_view signature) {
    std::string out;
    out.reserve(5 + access_key_id.size() + signature.size());
    out.append("OSS ").append(access_key_id).append(":").append(signature);
    return out;
}

/// The parts of a V1 Authorization header.
struct v1_authorization_parts {
    std::string access_key_id;
    std::string signature; ///< base64 as sent
};

/// Parses `OSS <access_key_id>:<signature>` (exactly one space, both parts non-empty, no
/// spaces inside, split at the last ':'). Returns nullopt for anything else, including the
/// V4 form.
inline std::optional<v1_authorization_parts> parse_v1_authorization(std::string_view value) {
    constexpr std::string_view prefix = "OSS ";
    if (value.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    value.remove_prefix(prefix.size());
    const auto colon = value.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size() ||
        value.find_first_of(" \t") != std::string_view::npos)
        return std::nullopt;
    return v1_authorization_parts{std::string(value.substr(0, colon)),
                                  std::string(value.substr(colon + 1))};
}

// ===========================================================================================
// Server-side recomputation
// ===========================================================================================

/// What a server computes to check a received signature; `string_to_sign` and
/// `canonical_request` go into a SignatureDoesNotMatch body to help debugging.
struct expected_signature {
    std::string canonical_request; ///< V4 only ("" for V1)
    std::string string_to_sign;
    std::string signature; ///< compare with `crypto::constant_time_equal`
};

/// Recomputes the V4 signature of a received request (§6.8 step 4) from its decoded pieces and
/// its parsed Authorization: the canonical request with `auth.additional_headers`, the string to
/// sign with the request's `x-oss-date` and `auth.scope()`, the signing key of `secret` for
/// `auth.date`/`auth.region`/`auth.product`. Checking the scope date against `x-oss-date`, the
/// region, the product, the clock skew and the payload header is the caller's job (§6.8).
inline expected_signature
v4_expected_signature(std::string_view access_key_secret, const v4_authorization_parts& auth,
                      std::string_view method, std::string_view bucket, std::string_view key,
                      const std::vector<http::query_param>& query, const http::fields& headers) {
    expected_signature out;
    out.canonical_request =
        v4_canonical_request(method, bucket, key, query, headers, auth.additional_headers);
    out.string_to_sign =
        v4_string_to_sign(headers.get("x-oss-date"), auth.scope(), out.canonical_request);
    out.signature =
        v4_signature(v4_signing_key(access_key_secret, auth.date, auth.region, auth.product),
                     out.string_to_sign);
    return out;
}

/// Recomputes the V1 signature of a received header-authenticated request (Date line from
/// `x-oss-date` if present, else `Date`).
inline expected_signature v1_expected_signature(std::string_view access_key_secret,
                                                std::string_view method, std::string_view bucket,
                                                std::string_view key,
                                                const std::vector<http::query_param>& query,
                                                const http::fields& headers) {
    expected_signature out;
    out.string_to_sign = v1_string_to_sign(method, bucket, key, query, headers);
    out.signature = v1_signature(access_key_secret, out.string_to_sign);
    return out;
}

// ===========================================================================================
// High level: sign an http::request
// ===========================================================================================

/// Caches the last V4 signing key, so that signing many requests with the same credentials on
/// the same day skips four of the five HMACs.
///
/// Owned by the caller (typically one per client); thread-safe (a mutex guards the single
/// entry), not copyable or movable. It keeps a copy of the secret it was last used with, for
/// as long as it lives.
class v4_key_cache {
public:
    v4_key_cache() = default;
    v4_key_cache(const v4_key_cache&) = delete;
    v4_key_cache& operator=(const v4_key_cache&) = delete;

    /// `v4_signing_key(secret, yyyymmdd, region, product)`, computed at most once per distinct
    /// argument set in a row.
    v4_key get(std::string_view access_key_secret, std::string_view yyyymmdd,
               std::string_view region, std::string_view product = default_product) {
        {
            std::lock_guard lock(mutex_);
            if (valid_ && date_ == yyyymmdd && region_ == region && product_ == product &&
                secret_ == access_key_secret)
                return key_;
        }
        const v4_key key = v4_signing_key(access_key_secret, yyyymmdd, region, product);
        std::lock_guard lock(mutex_);
        secret_.assign(access_key_secret);
        date_.assign(yyyymmdd);
        region_.assign(region);
        product_.assign(product);
        key_ = key;
        valid_ = true;
        return key;
    }

private:
    std::mutex mutex_;
    bool valid_ = false;
    std::string secret_;
    std::string date_;
    std::string region_;
    std::string product_;
    v4_key key_{};
};

/// How `sign` signs.
struct sign_options {
    signature_version version = signature_version::v4;
    /// V4 scope region, e.g. "cn-hangzhou"; a leading "oss-" is stripped (`normalize_region`).
    /// Required for V4, unused by V1.
    std::string region;
    /// V4 scope product: "oss", or "oss-cloudbox" with a CloudBox id as region.
    std::string product = std::string(default_product);
    /// Extra header names to sign with V4 (§6.2 AdditionalHeaders). Names are normalised as
    /// `v4_additional_headers` says; "host" signs `request.host` (so apply the endpoint first).
    std::vector<std::string> additional_headers;
};

namespace detail {

// Characters allowed in AccessKey ids and in scope elements (region, product): enough for
// every real id ("LTAI5t...", "STS.NU...", "cn-hangzhou", "cb-123", "oss-cloudbox"), nothing
// that could end a header or an Authorization item.
inline constexpr bool scope_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

inline std::error_code sign_impl(http::request& req, const credentials& creds,
                                 const sign_options& opts,
                                 std::chrono::system_clock::time_point now, v4_key_cache* cache) {
    if (!creds.has_keys())
        return errc::missing_credentials;
    // The id and the token are written into headers: no bytes that could break the header
    // (CR/LF injection) or the Authorization syntax.
    for (char c : creds.access_key_id)
        if (!scope_char(c) && c != '+' && c != '=')
            return errc::invalid_argument;
    for (char c : creds.security_token)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            return errc::invalid_header;
    const std::string_view region = normalize_region(opts.region);
    if (opts.version == signature_version::v4) {
        if (region.empty())
            return errc::missing_region;
        if (opts.product.empty())
            return errc::invalid_argument;
        for (char c : region)
            if (!scope_char(c))
                return errc::invalid_argument;
        for (char c : opts.product)
            if (!scope_char(c))
                return errc::invalid_argument;
    }

    char date_buf[rfc1123_size];
    write_rfc1123(date_buf, now);
    const std::string_view http_date(date_buf, sizeof date_buf);
    req.headers.set("Date", http_date);
    if (creds.security_token.empty())
        req.headers.erase("x-oss-security-token");
    else
        req.headers.set("x-oss-security-token", creds.security_token);
    const std::string_view method = http::to_string(req.method);

    if (opts.version == signature_version::v1) {
        // A caller-set x-oss-date would take the Date line's place (§12): keep it fresh.
        if (req.headers.contains("x-oss-date"))
            req.headers.set("x-oss-date", http_date);
        std::string sts;
        sts.reserve(192);
        v1_append_string_to_sign(sts, method, req.bucket, req.key, req.query, req.headers,
                                 http_date);
        const std::string signature = v1_signature(creds.access_key_secret, sts);
        std::string auth;
        auth.reserve(5 + creds.access_key_id.size() + signature.size());
        auth.append("OSS ").append(creds.access_key_id).append(":").append(signature);
        req.headers.set("Authorization", auth);
        return {};
    }

    char iso_buf[iso8601_basic_size];
    write_iso8601_basic(iso_buf, now);
    const std::string_view iso(iso_buf, sizeof iso_buf);
    const std::string_view day = iso.substr(0, 8);
    req.headers.set("x-oss-date", iso);
    req.headers.set("x-oss-content-sha256", unsigned_payload);

    scratch_array<std::string_view, 8> additional(opts.additional_headers.size());
    v4_select_additional(opts.additional_headers, req.headers, req.host, additional);

    std::string canonical;
    canonical.reserve(384);
    v4_append_canonical_request(canonical, method, req.bucket, req.key, req.query, req.headers,
                                additional, req.host);
    std::string scope;
    scope.reserve(64);
    v4_append_scope(scope, day, region, opts.product);
    std::string sts;
    sts.reserve(v4_algorithm.size() + iso.size() + scope.size() + 67);
    v4_append_string_to_sign(sts, iso, scope, canonical);

    const v4_key key = cache != nullptr
                           ? cache->get(creds.access_key_secret, day, region, opts.product)
                           : v4_signing_key(creds.access_key_secret, day, region, opts.product);
    const auto mac = crypto::hmac_sha256(bytes_view(key), sts);

    // Reuse `canonical` for the Authorization value.
    std::string& auth = canonical;
    auth.clear();
    auth.append(v4_algorithm).append(" Credential=").append(creds.access_key_id).append("/");
    auth.append(scope);
    if (additional.size() != 0) {
        auth.append(",AdditionalHeaders=");
        v4_append_additional_line(auth, additional);
    }
    auth.append(",Signature=");
    append_hex_lower(auth, mac);
    req.headers.set("Authorization", auth);
    return {};
}

} // namespace detail

/// Signs `req` for header authentication at time `now` (UTC; pass the corrected clock).
///
/// Uses `req.method`, `req.bucket`, `req.key` (the V4 canonical URI is `/bucket/key` whatever
/// the addressing style), `req.query` and `req.headers`, and sets, replacing earlier values so
/// that re-signing a retried request is correct:
/// - `Date` (RFC 1123) always (GO2 and PY2 send it with V4 too, unsigned there);
/// - `x-oss-security-token` when `creds.security_token` is non-empty (removed otherwise);
/// - V4: `x-oss-date` (ISO 8601 basic, overwriting a stale one), `x-oss-content-sha256:
///   UNSIGNED-PAYLOAD`, and `Authorization: OSS4-HMAC-SHA256 Credential=...,Signature=...`;
/// - V1: `Authorization: OSS ak:signature` (the Date line is `Date`; an `x-oss-date` header the
///   caller added is refreshed to the same RFC 1123 value, since it would replace the Date line).
/// Sign last: any later change to a signed header or the query invalidates the signature.
///
/// Errors (the request is then left unchanged): `errc::missing_credentials` when the AccessKey
/// id or secret is empty; `errc::missing_region` for V4 without a region;
/// `errc::invalid_argument` for V4 with an empty product, a region or product with characters
/// outside `[A-Za-z0-9._-]`, or an AccessKey id with characters outside `[A-Za-z0-9._+=-]`;
/// `errc::invalid_header` for a security token containing control characters (CR, LF, ...).
inline std::error_code sign(http::request& req, const credentials& creds, const sign_options& opts,
                            std::chrono::system_clock::time_point now) {
    return detail::sign_impl(req, creds, opts, now, nullptr);
}

/// As `sign` above, taking the V4 signing key from `cache` (computed only when the secret,
/// day, region or product changes). Same result, fewer HMACs.
inline std::error_code sign(http::request& req, const credentials& creds, const sign_options& opts,
                            std::chrono::system_clock::time_point now, v4_key_cache& cache) {
    return detail::sign_impl(req, creds, opts, now, &cache);
}

} // namespace ossmp
