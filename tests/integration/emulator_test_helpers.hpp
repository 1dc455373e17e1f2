// Helpers shared by the emulator integration tests (tests/integration/emulator_*.cpp).
#pragma once

#include "support/emulator_process.hpp"

#include "ossmp/crc64.hpp"
#include "ossmp/crypto.hpp"
#include "ossmp/time.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace ossmp::test {

namespace emulator_test {

inline constexpr const char* ak = "AKIDTEST";
inline constexpr const char* sk = "SECRETTEST";

inline std::vector<std::string> default_args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a{
        "--credentials", std::string(ak) + ":" + sk, "--bucket", "demo", "--bucket", "other"};
    for (auto& e : extra)
        a.push_back(std::move(e));
    return a;
}

inline raw_client_options
v4_options(raw_client_options::style s = raw_client_options::style::path) {
    raw_client_options o;
    o.addressing = s;
    o.creds.access_key_id = ak;
    o.creds.access_key_secret = sk;
    o.signing.version = signature_version::v4;
    o.signing.region = "cn-hangzhou";
    return o;
}

inline raw_client_options
v1_options(raw_client_options::style s = raw_client_options::style::path) {
    auto o = v4_options(s);
    o.signing.version = signature_version::v1;
    return o;
}

inline http::request make(http::verb m, std::string bucket, std::string key,
                          std::vector<http::query_param> query = {}) {
    http::request r;
    r.method = m;
    r.bucket = std::move(bucket);
    r.key = std::move(key);
    r.query = std::move(query);
    return r;
}

// The text of the first <name> element (no nesting knowledge needed for these bodies).
inline std::string xml_text(const std::string& body, const std::string& name) {
    auto open = "<" + name + ">";
    auto b = body.find(open);
    if (b == std::string::npos)
        return "<missing>";
    b += open.size();
    auto e = body.find("</" + name + ">", b);
    return body.substr(b, e - b);
}

inline std::size_t count_of(const std::string& body, const std::string& what) {
    std::size_t n = 0;
    for (auto p = body.find(what); p != std::string::npos; p = body.find(what, p + 1))
        ++n;
    return n;
}

inline std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 g(seed);
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(g());
    return s;
}

inline std::string quoted_md5(std::string_view data) {
    return "\"" + crypto::hex_upper(crypto::md5(data)) + "\"";
}

struct uploader {
    emulator_client& c;
    std::string bucket = "demo";
    std::string key;

    std::string initiate(http::fields extra = {}) {
        auto r = make(http::verb::post, bucket, key, {{"uploads", ""}});
        for (const auto& f : extra)
            r.headers.add(f.name, f.value);
        auto resp = c.send(std::move(r));
        REQUIRE(resp.status == 200);
        return xml_text(resp.body, "UploadId");
    }
    http::response part(const std::string& id, int n, std::string_view data,
                        std::string content_md5 = {}) {
        auto r = make(http::verb::put, bucket, key,
                      {{"partNumber", std::to_string(n)}, {"uploadId", id}});
        r.set_body_view(data);
        if (!content_md5.empty())
            r.headers.add("Content-MD5", content_md5);
        return c.send(std::move(r));
    }
    http::response complete(const std::string& id, std::string body, http::fields extra = {}) {
        auto r = make(http::verb::post, bucket, key, {{"uploadId", id}});
        r.headers.add("Content-Type", "application/xml");
        for (const auto& f : extra)
            r.headers.add(f.name, f.value);
        r.set_body(std::move(body));
        return c.send(std::move(r));
    }
};

inline std::string complete_body(const std::vector<std::pair<int, std::string>>& parts) {
    std::string s = "<CompleteMultipartUpload>";
    for (const auto& [n, etag] : parts)
        s += "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>" + etag +
             "</ETag></Part>";
    return s + "</CompleteMultipartUpload>";
}

inline void check_common_headers(const http::response& r) {
    CHECK(r.headers.get("Server") == "AliyunOSS");
    auto id = r.headers.get("x-oss-request-id");
    REQUIRE(id.size() == 24);
    CHECK(std::all_of(id.begin(), id.end(),
                      [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }));
    // First 8 hex digits are the unix time (oss-reference 1.3).
    auto secs = std::stoull(std::string(id.substr(0, 8)), nullptr, 16);
    auto now =
        static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
    CHECK(secs + 60 >= now);
    CHECK(secs <= now + 1);
    CHECK(parse_rfc1123(r.headers.get("Date")).has_value());
}

inline void check_error(const http::response& r, unsigned status, const std::string& code) {
    INFO(r.body);
    CHECK(r.status == status);
    CHECK(r.headers.get("Content-Type") == "application/xml");
    CHECK(xml_text(r.body, "Code") == code);
    CHECK(xml_text(r.body, "RequestId") == r.headers.get("x-oss-request-id"));
    CHECK(xml_text(r.body, "Message") != "<missing>");
    CHECK(xml_text(r.body, "HostId") != "<missing>");
    CHECK(r.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"));
}

} // namespace emulator_test

} // namespace ossmp::test
