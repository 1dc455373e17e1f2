// tools/emulator/auth.hpp: server-side verification of V1 and V4 header signatures.
//
// The same canonicalisation as the client's signer (ossmp/signer.hpp), run on the request as
// received (oss-reference 6.8, 7 and 12): bucket and key decoded from the addressing, every
// decoded query parameter, the received headers. Checks, in order: Authorization syntax,
// access key id, date header present and well-formed, clock skew (--max-skew), V4 scope
// (date, region, product), V4 payload hash, STS token, then the signature (constant time).
#pragma once

#include "config.hpp"
#include "xml_out.hpp"

#include "ossmp/crypto.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/signer.hpp"
#include "ossmp/time.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ossmp::emulator {

/// What the verifier needs of a request: decoded bucket/key/query and the received headers.
struct auth_request {
    std::string_view method;
    std::string_view bucket;
    std::string_view key;
    const std::vector<http::query_param>& query;
    const http::fields& headers;
};

/// 403 RequestTimeTooSkewed with RequestTime / ServerTime (as the CPP2 mock of oss-reference 5.2).
inline oss_error skewed(std::chrono::system_clock::time_point request_time,
                        std::chrono::system_clock::time_point now) {
    return {
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        "",
        {{"RequestTime", format_iso8601_ms(request_time)}, {"ServerTime", format_iso8601_ms(now)}}};
}

namespace detail {

inline const access_key* find_key(const config& cfg, std::string_view id) {
    for (const auto& k : cfg.credentials)
        if (k.id == id)
            return &k;
    return nullptr;
}

inline oss_error invalid_access_key(std::string_view id) {
    return {403,
            "InvalidAccessKeyId",
            "The OSS Access Key Id you provided does not exist in our records.",
            "0002-00000902",
            {{"OSSAccessKeyId", std::string(id)}}};
}

inline oss_error bad_authorization(std::string_view value) {
    return {400,
            "InvalidArgument",
            "Authorization header is invalid.",
            "0002-00000001",
            {{"ArgumentName", "Authorization"}, {"ArgumentValue", std::string(value)}}};
}

inline oss_error signature_mismatch(std::string_view ak, std::string_view provided,
                                    std::string_view string_to_sign, std::string_view ec,
                                    std::string_view canonical_request = {}) {
    oss_error e{403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
                std::string(ec),
                {{"OSSAccessKeyId", std::string(ak)},
                 {"SignatureProvided", std::string(provided)},
                 {"StringToSign", std::string(string_to_sign)},
                 {"StringToSignBytes", string_to_sign_bytes(string_to_sign)}}};
    if (!canonical_request.empty())
        e.extra.emplace_back("CanonicalRequest", std::string(canonical_request));
    return e;
}

inline std::optional<oss_error> check_skew(const config& cfg,
                                           std::chrono::system_clock::time_point t,
                                           std::chrono::system_clock::time_point now) {
    auto diff = t > now ? t - now : now - t;
    if (diff > cfg.max_skew)
        return skewed(t, now);
    return std::nullopt;
}

// STS: a key configured with a token requires exactly that token; a key without one refuses
// any token.
inline std::optional<oss_error> check_token(const access_key& k, const http::fields& h) {
    auto sent = h.find("x-oss-security-token");
    if (k.security_token.empty() && !sent)
        return std::nullopt;
    if (sent && crypto::constant_time_equal(*sent, k.security_token))
        return std::nullopt;
    return oss_error{403,
                     "InvalidSecurityToken",
                     "The security token you provided is invalid.",
                     "0002-00000901",
                     {}};
}

} // namespace detail

/// Verifies the request's Authorization header (or admits an anonymous request when the config
/// allows it). Returns nullopt when the request may proceed, else the OSS error to answer.
inline std::optional<oss_error> authenticate(const config& cfg, const auth_request& r,
                                             std::chrono::system_clock::time_point now) {
    auto auth = r.headers.find("Authorization");
    if (!auth) {
        for (const auto& q : r.query)
            if (q.name == "OSSAccessKeyId" || q.name == "x-oss-signature" || q.name == "Signature")
                return oss_error{
                    403,
                    "AccessDenied",
                    "Presigned (query-string) authentication is not supported by this emulator.",
                    "",
                    {}};
        if (cfg.allow_anonymous)
            return std::nullopt;
        return oss_error{403,
                         "AccessDenied",
                         "You have no right to access this object because of bucket acl.",
                         "0003-00000001",
                         {}};
    }

    if (auth->starts_with("OSS4-HMAC-SHA256")) {
        auto parts = parse_v4_authorization(*auth);
        if (!parts)
            return detail::bad_authorization(*auth);
        const auto* key = detail::find_key(cfg, parts->access_key_id);
        if (!key)
            return detail::invalid_access_key(parts->access_key_id);
        auto xdate = r.headers.find("x-oss-date");
        if (!xdate)
            return oss_error{403,
                             "AccessDenied",
                             "Missing x-oss-date header for V4 signature.",
                             "0002-00000503",
                             {}};
        auto t = parse_iso8601_basic(*xdate);
        if (!t)
            return oss_error{403,
                             "AccessDenied",
                             "Invalid x-oss-date header: " + std::string(*xdate),
                             "0002-00000502",
                             {}};
        if (auto e = detail::check_skew(cfg, *t, now); e)
            return e;
        if (auto sha = r.headers.find("x-oss-content-sha256"); sha && *sha != unsigned_payload)
            return oss_error{
                400,
                "InvalidArgument",
                "x-oss-content-sha256 must be UNSIGNED-PAYLOAD.",
                "0002-00000214",
                {{"ArgumentName", "x-oss-content-sha256"}, {"ArgumentValue", std::string(*sha)}}};
        auto canonical = v4_canonical_request(r.method, r.bucket, r.key, r.query, r.headers,
                                              parts->additional_headers);
        auto string_to_sign = v4_string_to_sign(*xdate, parts->scope(), canonical);
        if (parts->date != xdate->substr(0, 8) || parts->region != cfg.region ||
            parts->product != default_product) {
            auto e = detail::signature_mismatch(parts->access_key_id, parts->signature,
                                                string_to_sign, "0002-00000201", canonical);
            e.message = "Invalid signing scope " + parts->scope() + ": expected date " +
                        std::string(xdate->substr(0, 8)) + ", region " + cfg.region +
                        ", product oss.";
            return e;
        }
        if (auto e = detail::check_token(*key, r.headers); e)
            return e;
        auto expected =
            v4_signature(v4_signing_key(key->secret, parts->date, parts->region, parts->product),
                         string_to_sign);
        if (!crypto::constant_time_equal(expected, parts->signature))
            return detail::signature_mismatch(parts->access_key_id, parts->signature,
                                              string_to_sign, "0002-00000201", canonical);
        return std::nullopt;
    }

    auto parts = parse_v1_authorization(*auth);
    if (!parts)
        return detail::bad_authorization(*auth);
    const auto* key = detail::find_key(cfg, parts->access_key_id);
    if (!key)
        return detail::invalid_access_key(parts->access_key_id);
    auto date = r.headers.find("x-oss-date");
    if (!date)
        date = r.headers.find("Date");
    if (!date)
        return oss_error{
            403, "AccessDenied", "Missing Date or x-oss-date header.", "0002-00000503", {}};
    auto t = parse_rfc1123(*date);
    if (!t)
        return oss_error{
            403, "AccessDenied", "Invalid Date header: " + std::string(*date), "0002-00000502", {}};
    if (auto e = detail::check_skew(cfg, *t, now); e)
        return e;
    if (auto e = detail::check_token(*key, r.headers); e)
        return e;
    auto string_to_sign = v1_string_to_sign(r.method, r.bucket, r.key, r.query, r.headers);
    auto expected = v1_signature(key->secret, string_to_sign);
    if (!crypto::constant_time_equal(expected, parts->signature))
        return detail::signature_mismatch(parts->access_key_id, parts->signature, string_to_sign,
                                          "0002-00000040");
    return std::nullopt;
}

} // namespace ossmp::emulator
