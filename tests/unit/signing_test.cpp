// Tests of time.hpp and signer.hpp: every published and derived vector of oss-reference
// sections 6.5, 6.6, 6.7, 7.1, 7.2 and 12, plus the parsing and canonicalisation rules.
#include "ossmp/signer.hpp"
#include "ossmp/time.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace {

using ossmp::http::query_param;
using sys_clock = std::chrono::system_clock;

sys_clock::time_point at(std::int64_t unix_seconds) {
    return sys_clock::time_point(std::chrono::seconds(unix_seconds));
}

std::string hex(const ossmp::v4_key& k) {
    return ossmp::crypto::hex_lower(k);
}

// oss-reference §6.5 common inputs.
std::vector<query_param> vector_query() {
    return {{"param1", "value1"}, {"+param1", "value3"}, {"|param1", "value4"},
            {"+param2", ""},      {"|param2", ""},       {"param2", ""}};
}

ossmp::http::request vector_request() {
    ossmp::http::request r;
    r.method = ossmp::http::verb::put;
    r.bucket = "bucket";
    r.key = "1234+-/123/1.txt";
    r.query = vector_query();
    r.headers.add("x-oss-head1", "value");
    r.headers.add("abc", "value");
    r.headers.add("ZAbc", "value");
    r.headers.add("XYZ", "value");
    r.headers.add("content-type", "text/plain");
    r.headers.add("x-oss-content-sha256", "UNSIGNED-PAYLOAD");
    return r;
}

ossmp::sign_options v4_options(std::string region = "cn-hangzhou") {
    ossmp::sign_options o;
    o.region = std::move(region);
    return o;
}

ossmp::sign_options v1_options() {
    ossmp::sign_options o;
    o.version = ossmp::signature_version::v1;
    return o;
}

const ossmp::credentials ak_sk{"ak", "sk", ""};

constexpr std::string_view v4_prefix_20231216 =
    "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=";

std::string sha256_hex(std::string_view s) {
    return ossmp::crypto::hex_lower(ossmp::crypto::sha256(s));
}

} // namespace

// ------------------------------------------------------------------------------------------
// time.hpp
// ------------------------------------------------------------------------------------------

TEST_CASE("time formats of a known instant", "[time]") {
    const auto t = at(1702743657);
    CHECK(ossmp::format_rfc1123(t) == "Sat, 16 Dec 2023 16:20:57 GMT");
    CHECK(ossmp::format_iso8601_basic(t) == "20231216T162057Z");
    CHECK(ossmp::format_iso8601_ms(t) == "2023-12-16T16:20:57.000Z");
    CHECK(ossmp::format_iso8601_ms(at(1329970703)) == "2012-02-23T04:18:23.000Z");
    CHECK(ossmp::format_iso8601_ms(at(1329970703) + std::chrono::milliseconds(123) +
                                   std::chrono::microseconds(999)) == "2012-02-23T04:18:23.123Z");
    // Sub-second parts are truncated, not rounded.
    CHECK(ossmp::format_rfc1123(t + std::chrono::milliseconds(999)) ==
          "Sat, 16 Dec 2023 16:20:57 GMT");
    CHECK(ossmp::format_rfc1123(at(0)) == "Thu, 01 Jan 1970 00:00:00 GMT");
    CHECK(ossmp::format_rfc1123(at(-1)) == "Wed, 31 Dec 1969 23:59:59 GMT");
    CHECK(ossmp::format_iso8601_ms(at(0) - std::chrono::milliseconds(1)) ==
          "1969-12-31T23:59:59.999Z");
    CHECK(ossmp::format_rfc1123(at(1709164800)) == "Thu, 29 Feb 2024 00:00:00 GMT");
    CHECK(ossmp::format_iso8601_basic(at(951782400)) == "20000229T000000Z");
    CHECK(ossmp::format_rfc1123(at(1672223261)) == "Wed, 28 Dec 2022 10:27:41 GMT");
    CHECK(ossmp::format_iso8601_basic(at(1795586135)) == "20261125T055535Z");
    // Before 1900 and far future (system_clock covers 1677..2262 with nanoseconds).
    CHECK(ossmp::format_iso8601_basic(at(-2208988800)) == "19000101T000000Z");
    CHECK(ossmp::format_rfc1123(at(7258118400)) == "Wed, 01 Jan 2200 00:00:00 GMT");
}

TEST_CASE("time formats round-trip through their parsers", "[time]") {
    // About 4000 instants spread over 1901..2199, hitting every month, weekday, hour.
    for (std::int64_t s = -2208988800 + 86399; s < 7258118400; s += 2'246'417) {
        const auto t = at(s);
        INFO(s);
        REQUIRE(ossmp::parse_rfc1123(ossmp::format_rfc1123(t)) == t);
        REQUIRE(ossmp::parse_iso8601_basic(ossmp::format_iso8601_basic(t)) == t);
        const auto tm = t + std::chrono::milliseconds(s % 1000 < 0 ? -(s % 1000) : s % 1000);
        REQUIRE(ossmp::parse_iso8601_ms(ossmp::format_iso8601_ms(tm)) == tm);
    }
    CHECK(ossmp::parse_rfc1123("Sat, 16 Dec 2023 16:20:57 GMT") == at(1702743657));
    CHECK(ossmp::parse_iso8601_basic("20231216T162057Z") == at(1702743657));
    CHECK(ossmp::parse_iso8601_ms("2012-02-23T04:18:23.000Z") == at(1329970703));
    CHECK(ossmp::parse_iso8601_ms("2012-02-23T04:18:23Z") == at(1329970703));
    CHECK(ossmp::parse_iso8601_ms("2012-02-23T04:18:23.5Z") ==
          at(1329970703) + std::chrono::milliseconds(500));
    CHECK(ossmp::parse_iso8601_ms("2012-02-23T04:18:23.123456789Z") ==
          at(1329970703) +
              std::chrono::duration_cast<sys_clock::duration>(std::chrono::nanoseconds(123456789)));
    CHECK(ossmp::parse_rfc1123("Tue, 29 Feb 2000 12:00:00 GMT") == at(951825600));
    CHECK(ossmp::parse_iso8601_basic("19691231T235959Z") == at(-1));
}

TEST_CASE("time parsers reject malformed input", "[time]") {
    const char* bad_rfc1123[] = {
        "",
        "Sat, 16 Dec 2023 16:20:57",       // no zone
        "Sat, 16 Dec 2023 16:20:57 UTC",   // zone must be GMT
        "Sun, 16 Dec 2023 16:20:57 GMT",   // wrong weekday
        "sat, 16 Dec 2023 16:20:57 GMT",   // case
        "Sat, 16 dec 2023 16:20:57 GMT",   // case
        "Sat, 6 Dec 2023 16:20:57 GMT",    // one-digit day
        " Sat, 16 Dec 2023 16:20:57 GMT",  // leading space
        "Sat, 16 Dec 2023 16:20:57 GMT ",  // trailing space
        "Sat,16 Dec 2023 16:20:57 GMT ",   // missing space
        "Sat, 16 Dex 2023 16:20:57 GMT",   // bad month
        "Fri, 30 Feb 2024 00:00:00 GMT",   // no Feb 30
        "Thu, 29 Feb 2023 00:00:00 GMT",   // not a leap year
        "Sat, 16 Dec 2023 24:00:00 GMT",   // hour 24
        "Sat, 16 Dec 2023 16:60:00 GMT",   // minute 60
        "Sat, 16 Dec 2023 16:20:60 GMT",   // leap second
        "Sat, 16 Dec 2023 16-20-57 GMT",   // separators
        "Sat, 16 Dec 2O23 16:20:57 GMT",   // letter O
        "Saturday, 16-Dec-23 16:20:57 GMT" // RFC 850 form
    };
    for (const char* s : bad_rfc1123) {
        INFO(s);
        CHECK_FALSE(ossmp::parse_rfc1123(s).has_value());
    }
    const char* bad_basic[] = {
        "",
        "20231216T162057",      // no Z
        "20231216t162057Z",     // lower-case t
        "20231216T162057z",     // lower-case z
        "2023121T162057Z",      // short
        "20231216T1620570Z",    // long
        "20231316T162057Z",     // month 13
        "20231200T162057Z",     // day 0
        "20231216T246057Z",     // hour 24
        "2023-12-16T16:20:57Z", // extended form
        "20231216T16205 Z",     // space
    };
    for (const char* s : bad_basic) {
        INFO(s);
        CHECK_FALSE(ossmp::parse_iso8601_basic(s).has_value());
    }
    const char* bad_ms[] = {
        "",
        "2012-02-23T04:18:23.000",         // no Z
        "2012-02-23T04:18:23.Z",           // empty fraction
        "2012-02-23T04:18:23.1234567890Z", // 10 digits
        "2012-02-23T04:18:23.00aZ",        // non-digit
        "2012-02-23 04:18:23.000Z",        // space instead of T
        "2012-02-23T04:18:23.000+08:00",   // offset
        "2012-02-23T04:18:23,000Z",        // comma
        "2012-02-30T04:18:23.000Z",        // Feb 30
        "1900-02-29T00:00:00.000Z",        // 1900 is not a leap year
        "2012-2-23T04:18:23.000Z",         // one-digit month
        "20120223T041823.000Z",            // basic form
        "2012-02-23T04:18:23.000ZZ",       // trailing
    };
    for (const char* s : bad_ms) {
        INFO(s);
        CHECK_FALSE(ossmp::parse_iso8601_ms(s).has_value());
    }
    CHECK(ossmp::parse_iso8601_ms("2000-02-29T00:00:00.000Z").has_value());
    if constexpr (std::is_same_v<sys_clock::duration, std::chrono::nanoseconds>) {
        // Beyond what a nanosecond system_clock can hold (2262-04-11): rejected, not wrapped.
        CHECK_FALSE(ossmp::parse_iso8601_ms("2300-01-01T00:00:00.000Z").has_value());
        CHECK_FALSE(ossmp::parse_iso8601_basic("16000101T000000Z").has_value());
        CHECK_FALSE(ossmp::parse_rfc1123("Fri, 31 Dec 9999 23:59:59 GMT").has_value());
    }
}

// ------------------------------------------------------------------------------------------
// V4 published vectors (§6.5)
// ------------------------------------------------------------------------------------------

TEST_CASE("V4 H1: canonical request, string to sign, key, Authorization", "[signer]") {
    auto r = vector_request();
    REQUIRE_FALSE(ossmp::sign(r, ak_sk, v4_options(), at(1702743657)));
    CHECK(r.headers.get("x-oss-date") == "20231216T162057Z");
    CHECK(r.headers.get("Date") == "Sat, 16 Dec 2023 16:20:57 GMT");
    CHECK(r.headers.get("x-oss-content-sha256") == "UNSIGNED-PAYLOAD");
    CHECK_FALSE(r.headers.contains("x-oss-security-token"));

    const std::string canonical =
        ossmp::v4_canonical_request("PUT", r.bucket, r.key, r.query, r.headers);
    CHECK(canonical ==
          "PUT\n"
          "/bucket/1234%2B-/123/1.txt\n"
          "%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\n"
          "content-type:text/plain\n"
          "x-oss-content-sha256:UNSIGNED-PAYLOAD\n"
          "x-oss-date:20231216T162057Z\n"
          "x-oss-head1:value\n"
          "\n"
          "\n"
          "UNSIGNED-PAYLOAD");
    const std::string scope = ossmp::v4_scope("20231216", "cn-hangzhou", "oss");
    CHECK(scope == "20231216/cn-hangzhou/oss/aliyun_v4_request");
    const std::string sts = ossmp::v4_string_to_sign("20231216T162057Z", scope, canonical);
    CHECK(sts == "OSS4-HMAC-SHA256\n"
                 "20231216T162057Z\n"
                 "20231216/cn-hangzhou/oss/aliyun_v4_request\n"
                 "f4613657f1b108998e8dbd10a1aa5da621dc2c6e02c9ddec0f163664848704c4");
    const auto key = ossmp::v4_signing_key("sk", "20231216", "cn-hangzhou", "oss");
    CHECK(hex(key) == "b412a03b134ebddd720f5167b5de6db66620ebb3b01cff4d49e3ccb09f8de97f");
    const std::string sig = ossmp::v4_signature(key, sts);
    CHECK(sig == "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe");
    const std::string expected =
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
        "Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe";
    CHECK(ossmp::v4_authorization("ak", scope, "", sig) == expected);
    CHECK(r.headers.get("Authorization") == expected);
}

TEST_CASE("V4 H2: STS token", "[signer]") {
    auto r = vector_request();
    const ossmp::credentials sts_creds{"ak", "sk", "token"};
    REQUIRE_FALSE(ossmp::sign(r, sts_creds, v4_options(), at(1702784856)));
    CHECK(r.headers.get("x-oss-security-token") == "token");
    CHECK(r.headers.get("x-oss-date") == "20231217T034736Z");
    const std::string canonical =
        ossmp::v4_canonical_request("PUT", r.bucket, r.key, r.query, r.headers);
    CHECK(canonical.find("x-oss-head1:value\nx-oss-security-token:token\n\n\n") !=
          std::string::npos);
    CHECK(sha256_hex(canonical) ==
          "69494678fb11579d4ee12996e2796d9e2ba43c34aa4c723c4aec018f3d6b86b8");
    CHECK(hex(ossmp::v4_signing_key("sk", "20231217", "cn-hangzhou")) ==
          "0e11d77e422d3484e84ee6b628fdf2a85f3788e1a597f23116b477efb407e94e");
    CHECK(r.headers.get("Authorization") ==
          "OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/aliyun_v4_request,"
          "Signature=b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea");
}

TEST_CASE("V4 H3: additional headers, normalised", "[signer]") {
    const std::string expected =
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
        "AdditionalHeaders=abc;zabc,"
        "Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f";
    const std::vector<std::vector<std::string>> lists = {
        {"ZAbc", "abc"},
        {"x-oss-no-exist", "ZAbc", "x-oss-head1", "abc"},
        {"abc", "ZABC", "zabc", "content-type", "not-there"}};
    for (const auto& list : lists) {
        auto r = vector_request();
        auto o = v4_options();
        o.additional_headers = list;
        REQUIRE_FALSE(ossmp::sign(r, ak_sk, o, at(1702747512)));
        CHECK(r.headers.get("Authorization") == expected);
        CHECK(ossmp::v4_additional_headers(list, r.headers) == "abc;zabc");
        const auto normalized = ossmp::v4_normalize_additional_headers(list, r.headers);
        CHECK(normalized == std::vector<std::string>{"abc", "zabc"});
        const std::string canonical =
            ossmp::v4_canonical_request("PUT", r.bucket, r.key, r.query, r.headers, normalized);
        CHECK(canonical ==
              "PUT\n"
              "/bucket/1234%2B-/123/1.txt\n"
              "%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\n"
              "abc:value\n"
              "content-type:text/plain\n"
              "x-oss-content-sha256:UNSIGNED-PAYLOAD\n"
              "x-oss-date:20231216T172512Z\n"
              "x-oss-head1:value\n"
              "zabc:value\n"
              "\n"
              "abc;zabc\n"
              "UNSIGNED-PAYLOAD");
        CHECK(sha256_hex(canonical) ==
              "16b86004ed2cc3406dd7a13081bd940ef6a5ad49e508da2d4fdf84e8a5dd2145");
    }
}

TEST_CASE("V4 H4: CloudBox product", "[signer]") {
    auto r = vector_request();
    auto o = v4_options("cb-123");
    o.product = "oss-cloudbox";
    REQUIRE_FALSE(ossmp::sign(r, ak_sk, o, at(1702743657)));
    CHECK(r.headers.get("Authorization") ==
          "OSS4-HMAC-SHA256 Credential=ak/20231216/cb-123/oss-cloudbox/aliyun_v4_request,"
          "Signature=94ce1f12c17d148ea681030275a94449d3357f5b5b21133996eec80af3e08a43");
}

TEST_CASE("V4 H5: lower-casing, header order, stale x-oss-date replaced", "[signer]") {
    ossmp::http::request r;
    r.method = ossmp::http::verb::put;
    r.bucket = "bucket";
    r.key = "1234+-/123/1.txt";
    r.query = vector_query();
    r.headers.add("x-oss-meta-zzz", "value1");
    r.headers.add("x-oss-meta-aaa", "value2");
    r.headers.add("x-oss-meta-123", "value3");
    r.headers.add("x-oss-meta-abc123", "value4");
    r.headers.add("x-oss-meta-abc-123", "value5");
    r.headers.add("x-oss-meta-abc_123", "value6");
    r.headers.add("x-oss-meta-ABC", "value7");
    r.headers.add("content-type", "application/json");
    r.headers.add("content-md5", "md5hash");
    r.headers.add("x-oss-date", "20250814T080624Z");
    r.headers.add("x-oss-content-sha256", "UNSIGNED-PAYLOAD");
    REQUIRE_FALSE(ossmp::sign(r, ak_sk, v4_options(), at(1702743657)));
    CHECK(r.headers.count("x-oss-date") == 1);
    CHECK(r.headers.get("x-oss-date") == "20231216T162057Z");
    const std::string canonical =
        ossmp::v4_canonical_request("PUT", r.bucket, r.key, r.query, r.headers);
    const std::string headers_block = "content-md5:md5hash\n"
                                      "content-type:application/json\n"
                                      "x-oss-content-sha256:UNSIGNED-PAYLOAD\n"
                                      "x-oss-date:20231216T162057Z\n"
                                      "x-oss-meta-123:value3\n"
                                      "x-oss-meta-aaa:value2\n"
                                      "x-oss-meta-abc:value7\n"
                                      "x-oss-meta-abc-123:value5\n"
                                      "x-oss-meta-abc123:value4\n"
                                      "x-oss-meta-abc_123:value6\n"
                                      "x-oss-meta-zzz:value1\n";
    CHECK(canonical.find("param2\n" + headers_block + "\n\nUNSIGNED-PAYLOAD") != std::string::npos);
    CHECK(sha256_hex(canonical) ==
          "39c9e8e87f2dcc0eb6302147c21d0e94ed6a2fa792da6c885cee1e854def5f88");
    CHECK(r.headers.get("Authorization") == std::string(v4_prefix_20231216) +
                                                "3e9a6ebd7789767059589cc62116d9e4ebc4787e11b937f1"
                                                "683d0f344cf2693e");
}

// ------------------------------------------------------------------------------------------
// V4 query-auth vectors (§6.6), through the building blocks: the canonical query holds every
// parameter, x-oss-credential's '/' is encoded, no x-oss-date header is involved.
// ------------------------------------------------------------------------------------------

namespace {

std::string presign_v4_signature(std::int64_t unix_time, std::string_view expires,
                                 std::string_view token, std::vector<std::string> additional,
                                 std::string_view region = "cn-hangzhou",
                                 std::string_view product = "oss") {
    ossmp::http::fields headers;
    headers.add("x-oss-head1", "value");
    headers.add("abc", "value");
    headers.add("ZAbc", "value");
    headers.add("XYZ", "value");
    headers.add("content-type", "application/octet-stream");
    const std::string iso = ossmp::format_iso8601_basic(at(unix_time));
    const std::string scope = ossmp::v4_scope(iso.substr(0, 8), region, product);
    auto query = vector_query();
    query.push_back({"x-oss-signature-version", "OSS4-HMAC-SHA256"});
    query.push_back({"x-oss-date", iso});
    query.push_back({"x-oss-expires", std::string(expires)});
    query.push_back({"x-oss-credential", "ak/" + scope});
    if (!token.empty())
        query.push_back({"x-oss-security-token", std::string(token)});
    const std::string line = ossmp::v4_additional_headers(additional, headers);
    if (!line.empty())
        query.push_back({"x-oss-additional-headers", line});
    const std::string canonical = ossmp::v4_canonical_request("PUT", "bucket", "1234+-/123/1.txt",
                                                              query, headers, additional);
    return ossmp::v4_signature(ossmp::v4_signing_key("sk", iso.substr(0, 8), region, product),
                               ossmp::v4_string_to_sign(iso, scope, canonical));
}

} // namespace

TEST_CASE("V4 query vectors Q1-Q4 and CloudBox through the building blocks", "[signer]") {
    // Q1's canonical query, exactly.
    auto query = vector_query();
    query.push_back({"x-oss-signature-version", "OSS4-HMAC-SHA256"});
    query.push_back({"x-oss-date", "20231217T025437Z"});
    query.push_back({"x-oss-expires", "599"});
    query.push_back({"x-oss-credential", "ak/20231217/cn-hangzhou/oss/aliyun_v4_request"});
    CHECK(ossmp::v4_canonical_query(query) ==
          "%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2&"
          "x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&"
          "x-oss-date=20231217T025437Z&x-oss-expires=599&"
          "x-oss-signature-version=OSS4-HMAC-SHA256");

    CHECK(presign_v4_signature(1702781677, "599", "", {}) ==
          "a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe");
    CHECK(presign_v4_signature(1702785388, "599", "token", {}) ==
          "3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5");
    CHECK(presign_v4_signature(1702783809, "599", "", {"ZAbc", "abc"}) ==
          "6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7");
    CHECK(presign_v4_signature(1702781677, "432000", "", {}) ==
          "31029123dc7732d2d2cfd4006ea4fdb6cf86da6478f813e2bf8f87877c7b9fec");
    CHECK(presign_v4_signature(1702781677, "599", "", {"ZAbc", "abc"}, "cb-123", "oss-cloudbox") ==
          "07284191b9b4978ac3520cd39ee2dea2747eda454089359371ff463a6c7ba20f");
    CHECK(presign_v4_signature(1702783809, "599", "", {"ZAbc", "abc"}, "cb-123", "oss-cloudbox") ==
          "16782cc8a7a554523db055eb804b508522e7e370073108ad88ee2f47496701dd");
}

// ------------------------------------------------------------------------------------------
// V4 derived multipart vectors (§6.7)
// ------------------------------------------------------------------------------------------

namespace {

struct multipart_row {
    const char* name;
    ossmp::http::verb method;
    std::string key;
    std::vector<query_param> query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string token;
    const char* canonical_query;
    const char* signature;
};

std::vector<multipart_row> v4_multipart_rows() {
    using ossmp::http::verb;
    const std::string uid = "0004B9895DBBB6EC9";
    return {
        {"Initiate",
         verb::post,
         "multipart.data",
         {{"uploads", ""}},
         {{"Content-Type", "application/octet-stream"}},
         "",
         "uploads",
         "05dd0c400168b4111ac08d71d9352650347883956dfd27a047bba9793a2d5d6d"},
        {"UploadPart",
         verb::put,
         "multipart.data",
         {{"partNumber", "1"}, {"uploadId", uid}},
         {{"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="}},
         "",
         "partNumber=1&uploadId=0004B9895DBBB6EC9",
         "251e77a5f1428566c5f82f2da65291fb28ac8ad548b03a97fea59fa8f494af03"},
        {"Complete",
         verb::post,
         "multipart.data",
         {{"uploadId", uid}},
         {{"Content-Type", "application/xml"}},
         "",
         "uploadId=0004B9895DBBB6EC9",
         "3e63aa494e839a16bfc02509cfd9e9b58dcb016c570d059a15076ac3125fb847"},
        {"Complete (all)",
         verb::post,
         "multipart.data",
         {{"uploadId", uid}},
         {{"x-oss-complete-all", "yes"}, {"x-oss-forbid-overwrite", "true"}},
         "",
         "uploadId=0004B9895DBBB6EC9",
         "9921d8cf89d17308ee3f0f6ed6be61b888dcbdccc10fa1e6940498aa9a4a07fd"},
        {"Abort",
         verb::delete_,
         "multipart.data",
         {{"uploadId", uid}},
         {},
         "",
         "uploadId=0004B9895DBBB6EC9",
         "50534825451d908ab8c621659eaad2f4a1daa56051bd28692c496af02c6f00a5"},
        {"ListParts",
         verb::get,
         "multipart.data",
         {{"uploadId", uid},
          {"max-parts", "1000"},
          {"part-number-marker", "5"},
          {"encoding-type", "url"}},
         {},
         "",
         "encoding-type=url&max-parts=1000&part-number-marker=5&uploadId=0004B9895DBBB6EC9",
         "a30d6320642b89228d62e81eaff7eb4ce62d60d27e94b113c4a65d3051850662"},
        {"ListMultipartUploads",
         verb::get,
         "",
         {{"uploads", ""},
          {"delimiter", "/"},
          {"max-uploads", "1000"},
          {"prefix", "a b"},
          {"encoding-type", "url"}},
         {},
         "",
         "delimiter=%2F&encoding-type=url&max-uploads=1000&prefix=a%20b&uploads",
         "474a0e9eadae3d3f59e787aa9243d1a00d7cacb296eb5c80efe84d0cd03854ed"},
        {"UploadPart + STS",
         verb::put,
         "multipart.data",
         {{"partNumber", "2"}, {"uploadId", uid}},
         {},
         "token",
         "partNumber=2&uploadId=0004B9895DBBB6EC9",
         "6b64ddb153b27ea11960e0515c1687f199f8b0f7bfd35e083f1b16e6c44f1929"},
        {"UploadPart, escaped key",
         verb::put,
         "dir/a b+c~.txt",
         {{"partNumber", "1"}, {"uploadId", uid}},
         {},
         "",
         "partNumber=1&uploadId=0004B9895DBBB6EC9",
         "b1fda93ede87ca84e00ae51cbb80c64755246d18cdb1ff90ac853d17291a6510"},
    };
}

ossmp::http::request make_request(const multipart_row& row) {
    ossmp::http::request r;
    r.method = row.method;
    r.bucket = "examplebucket";
    r.key = row.key;
    r.query = row.query;
    for (const auto& [n, v] : row.headers)
        r.headers.add(n, v);
    r.host = "examplebucket.oss-cn-hangzhou.aliyuncs.com";
    return r;
}

} // namespace

TEST_CASE("V4 multipart vectors (all nine rows of 6.7)", "[signer]") {
    ossmp::v4_key_cache cache;
    for (const auto& row : v4_multipart_rows()) {
        INFO(row.name);
        const ossmp::credentials creds{"ak", "sk", row.token};
        auto r = make_request(row);
        REQUIRE_FALSE(ossmp::sign(r, creds, v4_options(), at(1702743657)));
        CHECK(ossmp::v4_canonical_query(r.query) == row.canonical_query);
        CHECK(r.headers.get("Authorization") == std::string(v4_prefix_20231216) + row.signature);
        CHECK(r.headers.get("Date") == "Sat, 16 Dec 2023 16:20:57 GMT");
        CHECK(r.headers.get("x-oss-security-token") == row.token);

        // The cached key gives the same result.
        auto r2 = make_request(row);
        REQUIRE_FALSE(ossmp::sign(r2, creds, v4_options(), at(1702743657), cache));
        CHECK(r2.headers.get("Authorization") == r.headers.get("Authorization"));
    }
    CHECK(ossmp::v4_canonical_uri("examplebucket", "") == "/examplebucket/");
    CHECK(ossmp::v4_canonical_uri("examplebucket", "dir/a b+c~.txt") ==
          "/examplebucket/dir/a%20b%2Bc~.txt");
    CHECK(ossmp::v4_canonical_uri("", "") == "/");
}

TEST_CASE("V4 Initiate canonical request of 6.7, exactly", "[signer]") {
    auto r = make_request(v4_multipart_rows().front());
    REQUIRE_FALSE(ossmp::sign(r, ak_sk, v4_options(), at(1702743657)));
    const std::string canonical =
        ossmp::v4_canonical_request("POST", r.bucket, r.key, r.query, r.headers);
    CHECK(canonical == "POST\n"
                       "/examplebucket/multipart.data\n"
                       "uploads\n"
                       "content-type:application/octet-stream\n"
                       "x-oss-content-sha256:UNSIGNED-PAYLOAD\n"
                       "x-oss-date:20231216T162057Z\n"
                       "\n"
                       "\n"
                       "UNSIGNED-PAYLOAD");
    CHECK(sha256_hex(canonical) ==
          "3424b3a6b87938260b0f1e04adc98fa9fc95636cf44dbf1270d26c9fe0f36476");
}

TEST_CASE("V4 canonical query: uploads vs uploads=, and order independence", "[signer]") {
    const auto bare = ossmp::uri::parse_query("uploads");
    const auto with_eq = ossmp::uri::parse_query("uploads=");
    REQUIRE(bare);
    REQUIRE(with_eq);
    CHECK(ossmp::v4_canonical_query(*bare) == "uploads");
    CHECK(ossmp::v4_canonical_query(*with_eq) == "uploads");

    const auto a = ossmp::uri::parse_query("max-parts=1000&uploadId=ABC");
    const auto b = ossmp::uri::parse_query("uploadId=ABC&max-parts=1000");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(ossmp::v4_canonical_query(*a) == "max-parts=1000&uploadId=ABC");
    CHECK(ossmp::v4_canonical_query(*b) == "max-parts=1000&uploadId=ABC");

    // Every permutation of the §6.5 query signs identically.
    auto q = vector_query();
    std::sort(q.begin(), q.end(),
              [](const query_param& x, const query_param& y) { return x.name < y.name; });
    std::string first;
    int permutations = 0;
    do {
        auto r = vector_request();
        r.query = q;
        REQUIRE_FALSE(ossmp::sign(r, ak_sk, v4_options(), at(1702743657)));
        if (first.empty())
            first = r.headers.get("Authorization");
        CHECK(r.headers.get("Authorization") == first);
        ++permutations;
    } while (
        std::next_permutation(q.begin(), q.end(), [](const query_param& x, const query_param& y) {
            return x.name < y.name;
        }));
    CHECK(permutations == 720);
    CHECK(first == std::string(v4_prefix_20231216) +
                       "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe");

    // Duplicate names sort by value; values needing escapes are escaped.
    const std::vector<query_param> dup = {{"k", "b"}, {"k", "a"}, {"a/b", "x y+z"}};
    CHECK(ossmp::v4_canonical_query(dup) == "a%2Fb=x%20y%2Bz&k=a&k=b");
    CHECK(ossmp::v4_canonical_query({}) == "");
}

TEST_CASE("V4 canonical headers: trimming, joining, case", "[signer]") {
    ossmp::http::fields h;
    h.add("X-OSS-Meta-B", "  two\t");
    h.add("x-oss-meta-a", "one");
    h.add("X-Oss-Meta-A", "uno");
    h.add("Content-Type", "text/plain");
    h.add("Date", "not signed");
    h.add("User-Agent", "not signed either");
    h.add("x-oss-content-sha256", "UNSIGNED-PAYLOAD");
    CHECK(ossmp::v4_canonical_request("GET", "b", "k", {}, h) ==
          "GET\n/b/k\n\n"
          "content-type:text/plain\n"
          "x-oss-content-sha256:UNSIGNED-PAYLOAD\n"
          "x-oss-meta-a:one,uno\n"
          "x-oss-meta-b:two\n"
          "\n\n"
          "UNSIGNED-PAYLOAD");
    // Without x-oss-content-sha256 the payload line is still UNSIGNED-PAYLOAD.
    ossmp::http::fields none;
    CHECK(ossmp::v4_canonical_request("DELETE", "", "", {}, none) ==
          "DELETE\n/\n\n\n\nUNSIGNED-PAYLOAD");
    // A listed additional header that is present is signed under its lower-case name.
    const std::vector<std::string> add = {"User-Agent", "Date"};
    CHECK(ossmp::v4_additional_headers(add, h) == "date;user-agent");
    CHECK(ossmp::v4_canonical_request("GET", "b", "k", {}, h, add) ==
          "GET\n/b/k\n\n"
          "content-type:text/plain\n"
          "date:not signed\n"
          "user-agent:not signed either\n"
          "x-oss-content-sha256:UNSIGNED-PAYLOAD\n"
          "x-oss-meta-a:one,uno\n"
          "x-oss-meta-b:two\n"
          "\n"
          "date;user-agent\n"
          "UNSIGNED-PAYLOAD");
}

TEST_CASE("V4 server side keeps every listed additional header (OSS2 style)", "[signer]") {
    // OSS2 signs AdditionalHeaders names even when the request lacks them, and writes them
    // after the Signature item. A server must reproduce its canonical request exactly.
    auto r = vector_request();
    r.headers.add("x-oss-date", "20231216T172512Z");
    const std::vector<std::string> oss2_list = {"abc", "userdefine"};
    const std::string canonical =
        ossmp::v4_canonical_request("PUT", r.bucket, r.key, r.query, r.headers, oss2_list);
    CHECK(canonical.find("\nabc:value\ncontent-type:text/plain\n") != std::string::npos);
    CHECK(canonical.find("userdefine:") == std::string::npos);
    CHECK(canonical.ends_with("value\n\nabc;userdefine\nUNSIGNED-PAYLOAD"));
    const std::string scope = ossmp::v4_scope("20231216", "cn-hangzhou");
    const std::string sig =
        ossmp::v4_signature(ossmp::v4_signing_key("sk", "20231216", "cn-hangzhou"),
                            ossmp::v4_string_to_sign("20231216T172512Z", scope, canonical));
    const std::string authorization = "OSS4-HMAC-SHA256 Credential=ak/" + scope +
                                      ", Signature=" + sig + ", AdditionalHeaders=userdefine;abc";
    const auto auth = ossmp::parse_v4_authorization(authorization);
    REQUIRE(auth);
    CHECK(auth->additional_headers == std::vector<std::string>{"userdefine", "abc"});
    const auto expected =
        ossmp::v4_expected_signature("sk", *auth, "PUT", r.bucket, r.key, r.query, r.headers);
    CHECK(expected.canonical_request == canonical);
    CHECK(expected.signature == sig);
    // A client normalises the same list: the absent name is dropped.
    CHECK(ossmp::v4_additional_headers(oss2_list, r.headers) == "abc");
}

TEST_CASE("V4 signing of Host through AdditionalHeaders uses request.host", "[signer]") {
    ossmp::http::request r;
    r.method = ossmp::http::verb::get;
    r.bucket = "examplebucket";
    r.key = "k";
    r.host = "examplebucket.oss-cn-hangzhou.aliyuncs.com";
    auto o = v4_options();
    o.additional_headers = {"host"};
    REQUIRE_FALSE(ossmp::sign(r, ak_sk, o, at(1702743657)));
    const auto auth = ossmp::parse_v4_authorization(r.headers.get("Authorization"));
    REQUIRE(auth);
    CHECK(auth->additional_headers == std::vector<std::string>{"host"});

    // A server sees Host among the headers and recomputes the same signature.
    ossmp::http::fields received = r.headers;
    received.add("Host", r.host);
    const auto expected =
        ossmp::v4_expected_signature("sk", *auth, "GET", r.bucket, r.key, r.query, received);
    CHECK(expected.canonical_request.find("\nhost:examplebucket.oss-cn-hangzhou.aliyuncs.com\n") !=
          std::string::npos);
    CHECK(expected.signature == auth->signature);
}

// ------------------------------------------------------------------------------------------
// Authorization parsing and server-side recomputation
// ------------------------------------------------------------------------------------------

TEST_CASE("parse_v4_authorization: any order, optional spaces", "[signer]") {
    const std::string sig = "4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f";
    const std::string forms[] = {
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
        "AdditionalHeaders=abc;zabc,Signature=" +
            sig,
        // DOC English page: comma and space.
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request, "
        "AdditionalHeaders=abc;zabc, Signature=" +
            sig,
        // OSS2: AdditionalHeaders after Signature.
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request, "
        "Signature=" +
            sig + ", AdditionalHeaders=abc;zabc",
        "OSS4-HMAC-SHA256 Signature=" + sig +
            " ,  AdditionalHeaders=abc;zabc,"
            "Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request",
    };
    for (const auto& f : forms) {
        INFO(f);
        const auto p = ossmp::parse_v4_authorization(f);
        REQUIRE(p);
        CHECK(p->access_key_id == "ak");
        CHECK(p->date == "20231216");
        CHECK(p->region == "cn-hangzhou");
        CHECK(p->product == "oss");
        CHECK(p->additional_headers == std::vector<std::string>{"abc", "zabc"});
        CHECK(p->signature == sig);
        CHECK(p->scope() == "20231216/cn-hangzhou/oss/aliyun_v4_request");
    }
    const auto plain = ossmp::parse_v4_authorization(
        "OSS4-HMAC-SHA256 Credential=STS.NUabc/20231216/cb-123/oss-cloudbox/aliyun_v4_request,"
        "Signature=" +
        sig);
    REQUIRE(plain);
    CHECK(plain->access_key_id == "STS.NUabc");
    CHECK(plain->region == "cb-123");
    CHECK(plain->product == "oss-cloudbox");
    CHECK(plain->additional_headers.empty());

    const std::string cred = "Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request";
    const std::string bad[] = {
        "",
        "OSS4-HMAC-SHA256",
        "OSS4-HMAC-SHA256 ",
        "OSS ak:abc=",
        "OSS4-HMAC-SHA1 " + cred + ",Signature=" + sig,
        "oss4-hmac-sha256 " + cred + ",Signature=" + sig,
        "OSS4-HMAC-SHA256 " + cred,                                             // no Signature
        "OSS4-HMAC-SHA256 Signature=" + sig,                                    // no Credential
        "OSS4-HMAC-SHA256 " + cred + ",Signature=" + sig + ",Signature=" + sig, // duplicate
        "OSS4-HMAC-SHA256 " + cred + ",Signature=" + sig + ",Foo=bar",          // unknown item
        "OSS4-HMAC-SHA256 " + cred + ",Signature=" + sig + ",",                 // empty item
        "OSS4-HMAC-SHA256 " + cred + ",Signature=" + sig.substr(1),             // 63 hex
        "OSS4-HMAC-SHA256 " + cred + ",Signature=" + sig.substr(1) + "G",       // not hex
        "OSS4-HMAC-SHA256 " + cred + ",Signature=" + sig.substr(1) + "A",       // upper case
        "OSS4-HMAC-SHA256 " + cred + ",AdditionalHeaders=a;;b,Signature=" + sig,
        "OSS4-HMAC-SHA256 Credential=ak/2023121/cn-hangzhou/oss/aliyun_v4_request,Signature=" + sig,
        "OSS4-HMAC-SHA256 Credential=ak/2023121x/cn-hangzhou/oss/aliyun_v4_request,Signature=" +
            sig,
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v3_request,Signature=" +
            sig,
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/aliyun_v4_request,Signature=" + sig,
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request/x,"
        "Signature=" +
            sig,
        "OSS4-HMAC-SHA256 Credential=/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=" + sig,
        "OSS4-HMAC-SHA256 Credential=ak/20231216//oss/aliyun_v4_request,Signature=" + sig,
    };
    for (const auto& b : bad) {
        INFO(b);
        CHECK_FALSE(ossmp::parse_v4_authorization(b).has_value());
    }
}

TEST_CASE("server-side V4 recomputation matches what sign produced", "[signer]") {
    for (const auto& row : v4_multipart_rows()) {
        INFO(row.name);
        const ossmp::credentials creds{"ak", "sk", row.token};
        auto r = make_request(row);
        auto o = v4_options("oss-cn-hangzhou"); // normalised to cn-hangzhou
        REQUIRE_FALSE(ossmp::sign(r, creds, o, at(1702743657)));
        CHECK(r.headers.get("Authorization") == std::string(v4_prefix_20231216) + row.signature);

        // What the server receives: the wire query re-parsed, Host among the headers.
        const auto query = ossmp::uri::parse_query(ossmp::uri::encode_query(r.query));
        REQUIRE(query);
        ossmp::http::fields received = r.headers;
        received.add("Host", r.host);
        const auto auth = ossmp::parse_v4_authorization(received.get("Authorization"));
        REQUIRE(auth);
        const std::string method(ossmp::http::to_string(r.method));
        const auto expected =
            ossmp::v4_expected_signature("sk", *auth, method, r.bucket, r.key, *query, received);
        CHECK(ossmp::crypto::constant_time_equal(expected.signature, auth->signature));
        CHECK(expected.string_to_sign.substr(0, 34) == "OSS4-HMAC-SHA256\n20231216T162057Z\n");

        // Tampering with a signed header, the key or the secret changes the signature.
        ossmp::http::fields tampered = received;
        tampered.set("x-oss-date", "20231216T162058Z");
        CHECK(ossmp::v4_expected_signature("sk", *auth, method, r.bucket, r.key, *query, tampered)
                  .signature != auth->signature);
        CHECK(ossmp::v4_expected_signature("sk", *auth, method, r.bucket, r.key + "x", *query,
                                           received)
                  .signature != auth->signature);
        CHECK(ossmp::v4_expected_signature("sk2", *auth, method, r.bucket, r.key, *query, received)
                  .signature != auth->signature);
        // Unsigned headers may change freely.
        ossmp::http::fields extra = received;
        extra.set("Date", "Sun, 17 Dec 2023 00:00:00 GMT");
        extra.add("User-Agent", "test");
        CHECK(ossmp::v4_expected_signature("sk", *auth, method, r.bucket, r.key, *query, extra)
                  .signature == auth->signature);
    }
}

// ------------------------------------------------------------------------------------------
// V1 (§7.1, §7.2)
// ------------------------------------------------------------------------------------------

TEST_CASE("V1 published header vectors (7.1)", "[signer]") {
    const std::string date = "Wed, 28 Dec 2022 10:27:41 GMT";
    ossmp::http::fields put_headers;
    put_headers.add("Content-MD5", "eB5eJF1ptWaXm4bijSPyxw==");
    put_headers.add("Content-Type", "text/html");
    put_headers.add("x-oss-meta-magic", "abracadabra");
    put_headers.add("x-oss-meta-author", "alice");
    put_headers.add("x-oss-date", date);
    put_headers.add("Date", date);
    put_headers.add("User-Agent", "unsigned");

    const std::string sts1 =
        ossmp::v1_string_to_sign("PUT", "examplebucket", "nelson", {}, put_headers);
    CHECK(sts1 == "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\n"
                  "x-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\n"
                  "x-oss-meta-magic:abracadabra\n/examplebucket/nelson");
    CHECK(ossmp::v1_authorization("ak", ossmp::v1_signature("sk", sts1)) ==
          "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=");

    const std::vector<query_param> acl = {{"acl", ""}};
    const std::string sts2 =
        ossmp::v1_string_to_sign("PUT", "examplebucket", "nelson", acl, put_headers);
    CHECK(sts2.substr(sts2.size() - 26) == "\n/examplebucket/nelson?acl");
    CHECK(ossmp::v1_signature("sk", sts2) == "/afkugFbmWDQ967j1vr6zygBLQk=");

    ossmp::http::fields get_headers;
    get_headers.add("x-oss-date", date);
    get_headers.add("Date", date);
    const std::vector<query_param> rg = {{"resourceGroup", ""}, {"non-resousce", "null"}};
    const std::string sts3 = ossmp::v1_string_to_sign("GET", "examplebucket", "", rg, get_headers);
    CHECK(sts3 == "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\n"
                  "x-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/?resourceGroup");
    CHECK(ossmp::v1_signature("sk", sts3) == "vkQmfuUDyi1uDi3bKt67oemssIs=");

    const std::vector<query_param> rg_acl = {{"resourceGroup", ""}, {"acl", ""}};
    const std::string sts4 =
        ossmp::v1_string_to_sign("GET", "examplebucket", "", rg_acl, get_headers);
    CHECK(sts4 == "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\n"
                  "x-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/?acl&resourceGroup");
    CHECK(ossmp::v1_signature("sk", sts4) == "x3E5TgOvl/i7PN618s5mEvpJDYk=");

    // The same four through sign(), at the vectors' time.
    auto r = ossmp::http::request{};
    r.method = ossmp::http::verb::put;
    r.bucket = "examplebucket";
    r.key = "nelson";
    r.headers = put_headers;
    r.headers.set("x-oss-date", "stale");
    const auto t = ossmp::parse_rfc1123(date);
    REQUIRE(t);
    REQUIRE_FALSE(ossmp::sign(r, ak_sk, v1_options(), *t));
    CHECK(r.headers.get("x-oss-date") == date);
    CHECK(r.headers.get("Authorization") == "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=");
    r.query = acl;
    REQUIRE_FALSE(ossmp::sign(r, ak_sk, v1_options(), *t));
    CHECK(r.headers.get("Authorization") == "OSS ak:/afkugFbmWDQ967j1vr6zygBLQk=");
    r = ossmp::http::request{};
    r.bucket = "examplebucket";
    r.headers = get_headers;
    r.query = rg;
    REQUIRE_FALSE(ossmp::sign(r, ak_sk, v1_options(), *t));
    CHECK(r.headers.get("Authorization") == "OSS ak:vkQmfuUDyi1uDi3bKt67oemssIs=");
    r.query = rg_acl;
    REQUIRE_FALSE(ossmp::sign(r, ak_sk, v1_options(), *t));
    CHECK(r.headers.get("Authorization") == "OSS ak:x3E5TgOvl/i7PN618s5mEvpJDYk=");
}

TEST_CASE("V1 presign vectors (7.1) through the string to sign", "[signer]") {
    const ossmp::http::fields none;
    const std::vector<query_param> version = {{"versionId", "versionId"}};
    const std::string sts1 =
        ossmp::v1_string_to_sign("GET", "bucket", "key", version, none, "1699807420");
    CHECK(sts1 == "GET\n\n\n1699807420\n/bucket/key?versionId=versionId");
    CHECK(ossmp::v1_signature("sk", sts1) == "dcLTea+Yh9ApirQ8o8dOPqtvJXQ=");

    const std::vector<query_param> token = {{"versionId", "versionId"},
                                            {"security-token", "token"}};
    const std::string sts2 =
        ossmp::v1_string_to_sign("GET", "bucket", "key+123", token, none, "1699808204");
    CHECK(sts2 == "GET\n\n\n1699808204\n/bucket/key+123?security-token=token&versionId=versionId");
    CHECK(ossmp::v1_signature("sk", sts2) == "jzKYRrM5y6Br0dRFPaTGOsbrDhY=");

    // CPP2: decoded sub-resource values, unsigned parameters and headers.
    ossmp::http::fields headers;
    headers.add("x-oss-head1", "value");
    headers.add("abc", "value");
    headers.add("ZAbc", "value");
    headers.add("XYZ", "value");
    headers.add("content-type", "application/octet-stream");
    const auto wire = ossmp::uri::parse_query(
        "param1=value1&%2Bparam1=value3&%7Cparam1=value4&%2Bparam2&%7Cparam2&param2&"
        "response-content-disposition=attachment%3B%20filename%3Dexample.txt&"
        "security-token=token&versionId=versionId");
    REQUIRE(wire);
    const std::string sts3 =
        ossmp::v1_string_to_sign("GET", "bucket", "key", *wire, headers, "1699808204");
    CHECK(sts3 == "GET\n\napplication/octet-stream\n1699808204\nx-oss-head1:value\n"
                  "/bucket/key?response-content-disposition=attachment; filename=example.txt&"
                  "security-token=token&versionId=versionId");
    CHECK(ossmp::v1_signature("sk", sts3) == "VmWfLWfxbR3MSFvUx5+nyQhCa3g=");

    const auto wire4 = ossmp::uri::parse_query(
        "versionId=versionId&security-token=attachment%3B%20%2Ffile%2Fname%3D%3Dexample.txt%2B%2B");
    REQUIRE(wire4);
    const std::string sts4 =
        ossmp::v1_string_to_sign("GET", "bucket", "key+123", *wire4, none, "1699808204");
    CHECK(sts4 == "GET\n\n\n1699808204\n/bucket/key+123?"
                  "security-token=attachment; /file/name==example.txt++&versionId=versionId");
    CHECK(ossmp::v1_signature("sk", sts4) == "su58IVk06Q73DHwcMsXft/RTZ98=");
}

TEST_CASE("V1 multipart vectors (all six rows of 7.2)", "[signer]") {
    using ossmp::http::verb;
    struct row {
        const char* name;
        verb method;
        std::string key;
        std::vector<query_param> query;
        std::vector<std::pair<std::string, std::string>> headers;
        const char* string_to_sign;
        const char* authorization;
    };
    const std::string uid = "0004B9895DBBB6EC9";
    const row rows[] = {
        {"Initiate",
         verb::post,
         "multipart.data",
         {{"uploads", ""}},
         {{"Content-Type", "application/octet-stream"}},
         "POST\n\napplication/octet-stream\nSat, 16 Dec 2023 16:20:57 GMT\n"
         "/examplebucket/multipart.data?uploads",
         "OSS ak:2eYaNFqniXghCsklHDlBcUJGbT0="},
        {"UploadPart",
         verb::put,
         "multipart.data",
         {{"partNumber", "1"}, {"uploadId", uid}},
         {{"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="}},
         "PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\n\nSat, 16 Dec 2023 16:20:57 GMT\n"
         "/examplebucket/multipart.data?partNumber=1&uploadId=0004B9895DBBB6EC9",
         "OSS ak:dUHdeIpEVeydiO7SXmHc423/xio="},
        {"Complete",
         verb::post,
         "multipart.data",
         {{"uploadId", uid}, {"encoding-type", "url"}},
         {{"Content-Type", "application/xml"}},
         "POST\n\napplication/xml\nSat, 16 Dec 2023 16:20:57 GMT\n"
         "/examplebucket/multipart.data?uploadId=0004B9895DBBB6EC9",
         "OSS ak:wz9YKG544YeLi1EAKjItUE+GOk8="},
        {"Abort",
         verb::delete_,
         "multipart.data",
         {{"uploadId", uid}},
         {},
         "DELETE\n\n\nSat, 16 Dec 2023 16:20:57 GMT\n"
         "/examplebucket/multipart.data?uploadId=0004B9895DBBB6EC9",
         "OSS ak:7YkaTZCFiEil67IDLDJUyYJl3M4="},
        {"ListParts",
         verb::get,
         "multipart.data",
         {{"uploadId", uid}, {"max-parts", "1000"}, {"part-number-marker", "5"}},
         {},
         "GET\n\n\nSat, 16 Dec 2023 16:20:57 GMT\n"
         "/examplebucket/multipart.data?uploadId=0004B9895DBBB6EC9",
         "OSS ak:mW09jo3nBCF8Sdy4XOa+Yqol+sg="},
        {"ListMultipartUploads",
         verb::get,
         "",
         {{"uploads", ""}, {"delimiter", "/"}, {"max-uploads", "1000"}, {"prefix", "a b"}},
         {},
         "GET\n\n\nSat, 16 Dec 2023 16:20:57 GMT\n/examplebucket/?uploads",
         "OSS ak:UCubrUHsY35rjDPFNZoTXfcqk6M="},
    };
    for (const auto& row : rows) {
        INFO(row.name);
        ossmp::http::request r;
        r.method = row.method;
        r.bucket = "examplebucket";
        r.key = row.key;
        r.query = row.query;
        for (const auto& [n, v] : row.headers)
            r.headers.add(n, v);
        REQUIRE_FALSE(ossmp::sign(r, ak_sk, v1_options(), at(1702743657)));
        CHECK(r.headers.get("Date") == "Sat, 16 Dec 2023 16:20:57 GMT");
        CHECK_FALSE(r.headers.contains("x-oss-date"));
        CHECK_FALSE(r.headers.contains("x-oss-content-sha256"));
        const std::string method(ossmp::http::to_string(r.method));
        CHECK(ossmp::v1_string_to_sign(method, r.bucket, r.key, r.query, r.headers) ==
              row.string_to_sign);
        CHECK(r.headers.get("Authorization") == row.authorization);

        // Server side.
        const auto auth = ossmp::parse_v1_authorization(r.headers.get("Authorization"));
        REQUIRE(auth);
        CHECK(auth->access_key_id == "ak");
        const auto expected =
            ossmp::v1_expected_signature("sk", method, r.bucket, r.key, r.query, r.headers);
        CHECK(expected.string_to_sign == row.string_to_sign);
        CHECK(ossmp::crypto::constant_time_equal(expected.signature, auth->signature));
    }
}

TEST_CASE("V1 sub-resource whitelist and canonical resource", "[signer]") {
    for (const char* name :
         {"uploads", "uploadId", "partNumber", "security-token", "acl", "versionId",
          "response-content-type", "resourceGroup", "symlink", "x-oss-process", "x-oss-anything"})
        CHECK(ossmp::v1_is_sub_resource(name));
    for (const char* name :
         {"max-parts", "part-number-marker", "max-uploads", "key-marker", "upload-id-marker",
          "prefix", "delimiter", "encoding-type", "Uploads", "uploadid", "param1", ""})
        CHECK_FALSE(ossmp::v1_is_sub_resource(name));
    const std::vector<query_param> q = {{"uploadId", "X"}, {"partNumber", "2"}, {"prefix", "p"}};
    CHECK(ossmp::v1_canonical_resource("b", "dir/key+ é", q) ==
          "/b/dir/key+ é?partNumber=2&uploadId=X");
    CHECK(ossmp::v1_canonical_resource("", "", {}) == "/");
    CHECK(ossmp::v1_canonical_resource("b", "", {}) == "/b/");
    // Date line: x-oss-date wins over Date; empty when neither.
    ossmp::http::fields h;
    h.add("Date", "D");
    CHECK(ossmp::v1_string_to_sign("GET", "b", "k", {}, h) == "GET\n\n\nD\n/b/k");
    h.add("X-OSS-Date", "X");
    CHECK(ossmp::v1_string_to_sign("GET", "b", "k", {}, h) == "GET\n\n\nX\nx-oss-date:X\n/b/k");
    CHECK(ossmp::v1_string_to_sign("GET", "b", "k", {}, {}) == "GET\n\n\n\n/b/k");
}

TEST_CASE("parse_v1_authorization", "[signer]") {
    const auto p = ossmp::parse_v1_authorization("OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=");
    REQUIRE(p);
    CHECK(p->access_key_id == "ak");
    CHECK(p->signature == "kSHKmLxlyEAKtZPkJhG9bZb5k7M=");
    const auto sts = ossmp::parse_v1_authorization("OSS STS.NU:abc:def=");
    REQUIRE(sts);
    CHECK(sts->access_key_id == "STS.NU:abc");
    CHECK(sts->signature == "def=");
    for (const char* bad : {"", "OSS", "OSS ", "OSS ak", "OSS :sig", "OSS ak:", "OSSak:sig",
                            "oss ak:sig", "OSS  ak:sig", "OSS ak :sig", "OSS ak:si g",
                            "OSS4-HMAC-SHA256 Credential=a/b/c/d/e,Signature=x"}) {
        INFO(bad);
        CHECK_FALSE(ossmp::parse_v1_authorization(bad).has_value());
    }
}

// ------------------------------------------------------------------------------------------
// ali-oss vectors (§12)
// ------------------------------------------------------------------------------------------

TEST_CASE("ali-oss vectors (section 12)", "[signer]") {
    const ossmp::credentials creds{"AKIDEXAMPLE", "SECRETEXAMPLE", ""};

    SECTION("V1 Initiate with x-oss-date and no Date") {
        ossmp::http::fields h;
        h.add("content-type", "application/octet-stream");
        h.add("x-oss-date", "Wed, 25 Nov 2026 05:55:33 GMT");
        const auto q = ossmp::uri::parse_query("uploads=");
        REQUIRE(q);
        const std::string sts =
            ossmp::v1_string_to_sign("POST", "testbucket", "dir/obj.bin", *q, h);
        CHECK(sts == "POST\n\napplication/octet-stream\nWed, 25 Nov 2026 05:55:33 GMT\n"
                     "x-oss-date:Wed, 25 Nov 2026 05:55:33 GMT\n/testbucket/dir/obj.bin?uploads");
        CHECK(ossmp::v1_authorization("AKIDEXAMPLE", ossmp::v1_signature("SECRETEXAMPLE", sts)) ==
              "OSS AKIDEXAMPLE:f3W0PnH4neH1WA6otlqg3VuYlts=");

        // sign() adds a Date with the same value and refreshes x-oss-date: same signature.
        ossmp::http::request r;
        r.method = ossmp::http::verb::post;
        r.bucket = "testbucket";
        r.key = "dir/obj.bin";
        r.query = *q;
        r.headers = h;
        REQUIRE_FALSE(ossmp::sign(r, creds, v1_options(), at(1795586133)));
        CHECK(r.headers.get("Authorization") == "OSS AKIDEXAMPLE:f3W0PnH4neH1WA6otlqg3VuYlts=");
    }

    SECTION("V4 UploadPart") {
        ossmp::http::request r;
        r.method = ossmp::http::verb::put;
        r.bucket = "testbucket";
        r.key = "dir/obj.bin";
        r.query = {{"partNumber", "1"}, {"uploadId", "81C78A548D3A46C58E2576A8FC48EED0"}};
        REQUIRE_FALSE(ossmp::sign(r, creds, v4_options("oss-cn-hangzhou"), at(1795586135)));
        CHECK(r.headers.get("x-oss-date") == "20261125T055535Z");
        CHECK(r.headers.get("Authorization") ==
              "OSS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/cn-hangzhou/oss/aliyun_v4_request,"
              "Signature=7f60657d2079aa8382f0a040d32a52e2df376989d70df07b24368f7ff6d2f86a");
    }

    SECTION("V4 ListParts with a key needing escapes") {
        ossmp::http::request r;
        r.method = ossmp::http::verb::get;
        r.bucket = "testbucket";
        r.key = "dir/a b+c~\xC3\xA9.bin";
        r.query = {{"max-parts", "1000"}, {"uploadId", "ABC"}};
        REQUIRE_FALSE(ossmp::sign(r, creds, v4_options(), at(1795586135)));
        CHECK(ossmp::v4_canonical_uri(r.bucket, r.key) == "/testbucket/dir/a%20b%2Bc~%C3%A9.bin");
        CHECK(r.headers.get("Authorization") ==
              "OSS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/cn-hangzhou/oss/aliyun_v4_request,"
              "Signature=734aa630da37442b0c9db2bcf4e02e6fb45a5ef9425c4de5fce488ad0ca195c7");
    }
}

// ------------------------------------------------------------------------------------------
// sign(): errors, re-signing, key cache
// ------------------------------------------------------------------------------------------

TEST_CASE("sign reports configuration errors and leaves the request alone", "[signer]") {
    auto r = vector_request();
    const auto before = r.headers.size();
    CHECK(ossmp::sign(r, ak_sk, v4_options(""), at(1702743657)) == ossmp::errc::missing_region);
    CHECK(ossmp::sign(r, ak_sk, v4_options("oss-"), at(1702743657)) == ossmp::errc::missing_region);
    CHECK(ossmp::sign(r, {"", "sk", ""}, v4_options(), at(1702743657)) ==
          ossmp::errc::missing_credentials);
    CHECK(ossmp::sign(r, {"ak", "", ""}, v4_options(), at(1702743657)) ==
          ossmp::errc::missing_credentials);
    CHECK(ossmp::sign(r, {"", "", "token"}, v1_options(), at(1702743657)) ==
          ossmp::errc::missing_credentials);
    auto no_product = v4_options();
    no_product.product.clear();
    CHECK(ossmp::sign(r, ak_sk, no_product, at(1702743657)) == ossmp::errc::invalid_argument);
    // Nothing that could break the Authorization syntax or inject a header.
    auto cloudbox = v4_options("cb/123");
    CHECK(ossmp::sign(r, ak_sk, cloudbox, at(1702743657)) == ossmp::errc::invalid_argument);
    cloudbox = v4_options("cb-123");
    cloudbox.product = "oss,cloudbox";
    CHECK(ossmp::sign(r, ak_sk, cloudbox, at(1702743657)) == ossmp::errc::invalid_argument);
    CHECK(ossmp::sign(r, {"a/k", "sk", ""}, v4_options(), at(1702743657)) ==
          ossmp::errc::invalid_argument);
    CHECK(ossmp::sign(r, {"ak\r\nX-Evil: 1", "sk", ""}, v1_options(), at(1702743657)) ==
          ossmp::errc::invalid_argument);
    CHECK(ossmp::sign(r, {"ak", "sk", "tok\r\nX-Evil: 1"}, v4_options(), at(1702743657)) ==
          ossmp::errc::invalid_header);
    CHECK(ossmp::sign(r, {"ak", "sk", "tok\n"}, v1_options(), at(1702743657)) ==
          ossmp::errc::invalid_header);
    CHECK(r.headers.size() == before);
    CHECK_FALSE(r.headers.contains("Authorization"));
    CHECK_FALSE(r.headers.contains("Date"));
    // Real id shapes pass.
    auto sts_ok = vector_request();
    CHECK_FALSE(
        ossmp::sign(sts_ok, {"STS.NUx-y_Z9", "sk", "CAIS+/=token"}, v4_options(), at(1702743657)));
    // V1 needs no region.
    CHECK_FALSE(ossmp::sign(r, ak_sk, v1_options(), at(1702743657)));
    CHECK(r.headers.contains("Authorization"));
}

TEST_CASE("re-signing a request replaces every signing header", "[signer]") {
    const auto row = v4_multipart_rows()[7]; // UploadPart + STS
    auto r = make_request(row);
    const ossmp::credentials sts_creds{"ak", "sk", "token"};
    REQUIRE_FALSE(ossmp::sign(r, sts_creds, v4_options(), at(1702000000)));
    REQUIRE_FALSE(ossmp::sign(r, sts_creds, v4_options(), at(1702743657)));
    CHECK(r.headers.count("Authorization") == 1);
    CHECK(r.headers.count("Date") == 1);
    CHECK(r.headers.count("x-oss-date") == 1);
    CHECK(r.headers.get("Authorization") == std::string(v4_prefix_20231216) + row.signature);
    // Switching to plain keys removes the stale token header.
    REQUIRE_FALSE(ossmp::sign(r, ak_sk, v4_options(), at(1702743657)));
    CHECK_FALSE(r.headers.contains("x-oss-security-token"));
    CHECK(r.headers.get("Authorization") != std::string(v4_prefix_20231216) + row.signature);
}

TEST_CASE("v4_key_cache returns the chain's key and follows its inputs", "[signer]") {
    ossmp::v4_key_cache cache;
    CHECK(hex(cache.get("sk", "20231216", "cn-hangzhou")) ==
          "b412a03b134ebddd720f5167b5de6db66620ebb3b01cff4d49e3ccb09f8de97f");
    CHECK(hex(cache.get("sk", "20231216", "cn-hangzhou")) ==
          "b412a03b134ebddd720f5167b5de6db66620ebb3b01cff4d49e3ccb09f8de97f");
    CHECK(hex(cache.get("sk", "20231217", "cn-hangzhou")) ==
          "0e11d77e422d3484e84ee6b628fdf2a85f3788e1a597f23116b477efb407e94e");
    CHECK(cache.get("sk2", "20231217", "cn-hangzhou") !=
          ossmp::v4_signing_key("sk", "20231217", "cn-hangzhou"));
    CHECK(cache.get("sk", "20231217", "cn-beijing") ==
          ossmp::v4_signing_key("sk", "20231217", "cn-beijing"));
    CHECK(cache.get("sk", "20231217", "cn-beijing", "oss-cloudbox") ==
          ossmp::v4_signing_key("sk", "20231217", "cn-beijing", "oss-cloudbox"));
}

TEST_CASE("many query parameters and headers still canonicalise in order", "[signer]") {
    // Beyond the on-stack capacity and the insertion-sort threshold.
    std::vector<query_param> q;
    ossmp::http::fields h;
    for (int i = 99; i >= 0; --i) {
        const std::string n = std::to_string(i);
        q.push_back({"p" + std::string(i < 10 ? "0" : "") + n, n});
        h.add("x-oss-meta-" + std::string(i < 10 ? "0" : "") + n, n);
    }
    const std::string canonical = ossmp::v4_canonical_request("GET", "b", "k", q, h);
    CHECK(canonical.find("\np00=0&p01=1&p02=2&") != std::string::npos);
    CHECK(canonical.find("&p98=98&p99=99\nx-oss-meta-00:0\nx-oss-meta-01:1\n") !=
          std::string::npos);
    CHECK(canonical.find("x-oss-meta-99:99\n\n\nUNSIGNED-PAYLOAD") != std::string::npos);
}
