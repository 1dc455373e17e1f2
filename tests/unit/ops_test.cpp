// Tests of basic_client and the ten operations of ops/*.hpp against a scripted in-memory
// transport: exact request bytes (oss-reference 6.7 and 7.2 signatures end to end), every
// completion-token flavour, cancellation, validation, service errors, integrity checks and the
// clock-skew correction.
#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/http/serializer.hpp"
#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/complete.hpp"
#include "ossmp/ops/delete_object.hpp"
#include "ossmp/ops/get_object.hpp"
#include "ossmp/ops/head_object.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/list_multipart_uploads.hpp"
#include "ossmp/ops/list_parts.hpp"
#include "ossmp/ops/put_object.hpp"
#include "ossmp/ops/upload_part.hpp"

#include "support/fake_transport.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ossmp::errc;
using ossmp::service_errc;
using ossmp::test::fake_transport;

constexpr std::string_view bucket = "examplebucket";
constexpr std::string_view key = "multipart.data";
constexpr std::string_view uid = "0004B9895DBBB6EC9";
constexpr std::string_view host_line = "Host: examplebucket.oss-cn-hangzhou.aliyuncs.com\r\n";
constexpr std::string_view ua_line = "User-Agent: ossmp/0.1.0\r\n";
constexpr std::string_view date_lines = "Date: Sat, 16 Dec 2023 16:20:57 GMT\r\n"
                                        "x-oss-date: 20231216T162057Z\r\n"
                                        "x-oss-content-sha256: UNSIGNED-PAYLOAD\r\n";
constexpr std::string_view v4_auth_prefix = "Authorization: OSS4-HMAC-SHA256 "
                                            "Credential=ak/20231216/cn-hangzhou/oss/"
                                            "aliyun_v4_request,Signature=";
// oss-reference 6.7: 1702743657 = 2023-12-16T16:20:57Z.
const auto fixed_time = std::chrono::system_clock::time_point(std::chrono::seconds(1702743657));

using client_type = ossmp::basic_client<fake_transport, ossmp::static_credentials_provider>;

ossmp::client_options make_options(ossmp::signature_version v = ossmp::signature_version::v4) {
    ossmp::client_options o;
    o.endpoint = "https://oss-cn-hangzhou.aliyuncs.com";
    o.signature = v;
    o.clock = [] {
        return fixed_time;
    };
    return o;
}

struct fixture {
    asio::io_context ctx;
    fake_transport transport{ctx};
    client_type client;

    explicit fixture(ossmp::client_options o = make_options(), std::string token = {})
        : client(transport, std::move(o),
                 ossmp::static_credentials_provider("ak", "sk", std::move(token))) {}
};

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

ossmp::http::response make_response(unsigned status, std::string body = {},
                                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    ossmp::http::response r;
    r.status = status;
    r.body = std::move(body);
    for (auto& [n, v] : headers)
        r.headers.add(n, v);
    return r;
}

std::string error_body(std::string_view code, std::string_view extra = {}) {
    std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
    s += code;
    s += "</Code><Message>msg</Message><RequestId>RID-1</RequestId><HostId>h.example</HostId>";
    s += extra;
    s += "<EC>0042-00000001</EC></Error>";
    return s;
}

// Canned successful responses, one per operation.
ossmp::http::response initiate_ok() {
    return make_response(200,
                         "<InitiateMultipartUploadResult><Bucket>examplebucket</Bucket>"
                         "<Key>multipart.data</Key><UploadId>0004B9895DBBB6EC9</UploadId>"
                         "</InitiateMultipartUploadResult>",
                         {{"x-oss-request-id", "RID-I"}});
}
ossmp::http::response upload_part_ok(std::uint64_t crc) {
    return make_response(200, {},
                         {{"ETag", "\"7265F4D211B56873A381D321F586E4A9\""},
                          {"x-oss-hash-crc64ecma", std::to_string(crc)},
                          {"x-oss-request-id", "RID-U"}});
}
ossmp::http::response complete_ok() {
    return make_response(200,
                         "<CompleteMultipartUploadResult><Location>http://examplebucket.oss-cn-"
                         "hangzhou.aliyuncs.com/multipart.data</Location><Bucket>examplebucket"
                         "</Bucket><Key>multipart.data</Key><ETag>\"B864DB6A936D376F9F8D3ED3BBE"
                         "540DD-3\"</ETag></CompleteMultipartUploadResult>",
                         {{"x-oss-hash-crc64ecma", "12345"}, {"x-oss-request-id", "RID-C"}});
}
ossmp::http::response list_parts_ok() {
    return make_response(
        200, "<ListPartsResult><Bucket>examplebucket</Bucket><Key>multipart.data</Key>"
             "<UploadId>0004B9895DBBB6EC9</UploadId><PartNumberMarker></PartNumberMarker>"
             "<NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>1000</MaxParts>"
             "<IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber>"
             "<LastModified>2012-02-23T07:01:34.000Z</LastModified><ETag>\"AA\"</ETag>"
             "<HashCrc64ecma>7</HashCrc64ecma><Size>102400</Size></Part><Part><PartNumber>2"
             "</PartNumber><LastModified>2012-02-23T07:01:12.000Z</LastModified><ETag>\"BB\"</ETag>"
             "<Size>1</Size></Part></ListPartsResult>");
}
ossmp::http::response list_uploads_ok() {
    return make_response(
        200, "<ListMultipartUploadsResult><Bucket>examplebucket</Bucket><KeyMarker></KeyMarker>"
             "<UploadIdMarker></UploadIdMarker><NextKeyMarker>b</NextKeyMarker>"
             "<NextUploadIdMarker>U2</NextUploadIdMarker><Delimiter>%2F</Delimiter><Prefix>"
             "</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>true</IsTruncated><Upload><Key>"
             "a%20b</Key><UploadId>U1</UploadId><Initiated>2012-02-23T04:18:23.000Z</Initiated>"
             "</Upload><Upload><Key>b</Key><UploadId>U2</UploadId><Initiated>2012-02-23T04:18:24"
             ".000Z</Initiated></Upload><CommonPrefixes><Prefix>d%2F</Prefix></CommonPrefixes>"
             "<EncodingType>url</EncodingType></ListMultipartUploadsResult>");
}
ossmp::http::response object_headers(unsigned status, std::string body, std::uint64_t crc) {
    const auto size = body.size();
    return make_response(status, std::move(body),
                         {{"Content-Length", std::to_string(size)},
                          {"ETag", "\"E1\""},
                          {"Content-Type", "text/plain"},
                          {"x-oss-hash-crc64ecma", std::to_string(crc)},
                          {"x-oss-object-type", "Multipart"},
                          {"x-oss-meta-Color", "blue"},
                          {"x-oss-request-id", "RID-O"}});
}

// --- Request builders for the 6.7 / 7.2 vectors ---------------------------------------------

ossmp::initiate_params initiate_p() {
    ossmp::initiate_params p;
    p.bucket = bucket;
    p.key = key;
    return p;
}
ossmp::upload_part_params upload_part_p(int n, std::span<const std::byte> data = {}) {
    ossmp::upload_part_params p;
    p.bucket = bucket;
    p.key = key;
    p.upload_id = uid;
    p.part_number = n;
    p.data = data;
    return p;
}
ossmp::complete_params complete_p() {
    ossmp::complete_params p;
    p.bucket = bucket;
    p.key = key;
    p.upload_id = uid;
    p.parts = {{2, "\"BB\""}, {1, "AA"}};
    return p;
}
ossmp::abort_params abort_p() {
    ossmp::abort_params p;
    p.bucket = bucket;
    p.key = key;
    p.upload_id = uid;
    return p;
}
ossmp::list_parts_params list_parts_p() {
    ossmp::list_parts_params p;
    p.bucket = bucket;
    p.key = key;
    p.upload_id = uid;
    p.max_parts = 1000;
    p.part_number_marker = 5;
    return p;
}
ossmp::list_uploads_params list_uploads_p() {
    ossmp::list_uploads_params p;
    p.bucket = bucket;
    p.delimiter = "/";
    p.max_uploads = 1000;
    p.prefix = "a b";
    return p;
}

// Runs one operation with a callback and returns what it completed with.
template <class Result, class Start>
std::pair<std::error_code, Result> run_cb(fixture& f, Start start) {
    std::pair<std::error_code, Result> out;
    int calls = 0;
    start([&](std::error_code ec, Result r) {
        ++calls;
        out = {ec, std::move(r)};
    });
    f.ctx.run();
    f.ctx.restart();
    REQUIRE(calls == 1);
    return out;
}

std::string head_of(const fake_transport::recorded_request& r) {
    return ossmp::http::serialize_head(r.request);
}

std::string auth_of(const fake_transport::recorded_request& r) {
    return std::string(r.request.headers.get("Authorization"));
}

} // namespace

// ------------------------------------------------------------------------------------------------
// Exact request bytes and oss-reference 6.7 signatures, end to end
// ------------------------------------------------------------------------------------------------

TEST_CASE("initiate: exact request bytes and the 6.7 V4 signature", "[ops]") {
    fixture f;
    f.transport.push_response(initiate_ok());
    auto [ec, r] = run_cb<ossmp::initiate_result>(
        f, [&](auto h) { ossmp::async_initiate_upload(f.client, initiate_p(), h); });
    REQUIRE_FALSE(ec);
    CHECK(r.upload_id == uid);
    CHECK(r.request_id == "RID-I");
    REQUIRE(f.transport.requests().size() == 1);
    CHECK(head_of(f.transport.requests()[0]) ==
          std::string("POST /multipart.data?uploads HTTP/1.1\r\n") + std::string(host_line) +
              "Content-Type: application/octet-stream\r\n" + std::string(ua_line) +
              std::string(date_lines) + std::string(v4_auth_prefix) +
              "05dd0c400168b4111ac08d71d9352650347883956dfd27a047bba9793a2d5d6d\r\n"
              "Content-Length: 0\r\n\r\n");
    CHECK(f.transport.requests()[0].body.empty());
}

TEST_CASE("upload_part: exact request bytes, Content-MD5 computed, 6.7 signature", "[ops]") {
    fixture f;
    f.transport.push_response(upload_part_ok(0)); // CRC-64 of no bytes is 0
    ossmp::upload_part_options o;
    o.content_md5 = true;
    auto [ec, r] = run_cb<ossmp::upload_part_result>(
        f, [&](auto h) { ossmp::async_upload_part(f.client, upload_part_p(1), o, h); });
    REQUIRE_FALSE(ec);
    CHECK(r.part_number == 1);
    CHECK(r.etag == "\"7265F4D211B56873A381D321F586E4A9\"");
    CHECK(r.crc64 == std::uint64_t{0});
    REQUIRE(f.transport.requests().size() == 1);
    CHECK(head_of(f.transport.requests()[0]) ==
          std::string("PUT /multipart.data?partNumber=1&uploadId=0004B9895DBBB6EC9 HTTP/1.1\r\n") +
              std::string(host_line) + "Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==\r\n" +
              std::string(ua_line) + std::string(date_lines) + std::string(v4_auth_prefix) +
              "251e77a5f1428566c5f82f2da65291fb28ac8ad548b03a97fea59fa8f494af03\r\n"
              "Content-Length: 0\r\n\r\n");
}

TEST_CASE("upload_part: body sent as a view, STS token and escaped key vectors", "[ops]") {
    SECTION("STS token") {
        fixture f(make_options(), "token");
        f.transport.push_response(upload_part_ok(0));
        auto [ec, r] = run_cb<ossmp::upload_part_result>(
            f, [&](auto h) { ossmp::async_upload_part(f.client, upload_part_p(2), h); });
        REQUIRE_FALSE(ec);
        const auto& rec = f.transport.requests().at(0);
        CHECK(head_of(rec).find("\r\nx-oss-security-token: token\r\n") != std::string::npos);
        CHECK(auth_of(rec) ==
              std::string(v4_auth_prefix.substr(15)) +
                  "6b64ddb153b27ea11960e0515c1687f199f8b0f7bfd35e083f1b16e6c44f1929");
    }
    SECTION("key dir/a b+c~.txt") {
        fixture f;
        f.transport.push_response(upload_part_ok(0));
        auto p = upload_part_p(1);
        p.key = "dir/a b+c~.txt";
        auto [ec, r] = run_cb<ossmp::upload_part_result>(
            f, [&](auto h) { ossmp::async_upload_part(f.client, p, h); });
        REQUIRE_FALSE(ec);
        const auto& rec = f.transport.requests().at(0);
        CHECK(head_of(rec).rfind("PUT /dir/a%20b%2Bc~.txt?partNumber=1&uploadId=0004B9895DBBB6EC9 "
                                 "HTTP/1.1\r\n",
                                 0) == 0);
        CHECK(auth_of(rec) ==
              std::string(v4_auth_prefix.substr(15)) +
                  "b1fda93ede87ca84e00ae51cbb80c64755246d18cdb1ff90ac853d17291a6510");
    }
    SECTION("part bytes are sent without a copy") {
        fixture f;
        const std::string data(1000, 'x');
        f.transport.push_response(upload_part_ok(ossmp::crc64(data)));
        auto [ec, r] = run_cb<ossmp::upload_part_result>(f, [&](auto h) {
            ossmp::async_upload_part(f.client, upload_part_p(3, bytes_of(data)), h);
        });
        REQUIRE_FALSE(ec);
        const auto& rec = f.transport.requests().at(0);
        CHECK(rec.body_was_view);
        CHECK(rec.body == data);
        CHECK(head_of(rec).find("Content-Length: 1000\r\n") != std::string::npos);
    }
}

TEST_CASE("complete: exact request bytes (sorted body) and 6.7 signatures", "[ops]") {
    SECTION("part list") {
        fixture f;
        f.transport.push_response(complete_ok());
        auto [ec, r] = run_cb<ossmp::complete_result>(
            f, [&](auto h) { ossmp::async_complete_upload(f.client, complete_p(), h); });
        REQUIRE_FALSE(ec);
        CHECK(r.etag == "\"B864DB6A936D376F9F8D3ED3BBE540DD-3\"");
        CHECK(r.crc64 == std::uint64_t{12345});
        const auto& rec = f.transport.requests().at(0);
        const std::string body = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"
                                 "\"AA\"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>\"BB\""
                                 "</ETag></Part></CompleteMultipartUpload>";
        CHECK(head_of(rec) ==
              std::string("POST /multipart.data?uploadId=0004B9895DBBB6EC9 HTTP/1.1\r\n") +
                  std::string(host_line) + "Content-Type: application/xml\r\n" +
                  std::string(ua_line) + std::string(date_lines) + std::string(v4_auth_prefix) +
                  "3e63aa494e839a16bfc02509cfd9e9b58dcb016c570d059a15076ac3125fb847\r\n"
                  "Content-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n");
        CHECK(rec.body == body);
    }
    SECTION("complete all") {
        fixture f;
        f.transport.push_response(complete_ok());
        auto p = complete_p();
        p.parts.clear();
        p.complete_all = true;
        p.forbid_overwrite = true;
        auto [ec, r] = run_cb<ossmp::complete_result>(
            f, [&](auto h) { ossmp::async_complete_upload(f.client, p, h); });
        REQUIRE_FALSE(ec);
        const auto& rec = f.transport.requests().at(0);
        CHECK(head_of(rec) ==
              std::string("POST /multipart.data?uploadId=0004B9895DBBB6EC9 HTTP/1.1\r\n") +
                  std::string(host_line) +
                  "x-oss-complete-all: yes\r\nx-oss-forbid-overwrite: true\r\n" +
                  std::string(ua_line) + std::string(date_lines) + std::string(v4_auth_prefix) +
                  "9921d8cf89d17308ee3f0f6ed6be61b888dcbdccc10fa1e6940498aa9a4a07fd\r\n"
                  "Content-Length: 0\r\n\r\n");
    }
    SECTION("expected whole-object CRC-64 differs") {
        fixture f;
        f.transport.push_response(complete_ok());
        ossmp::complete_options o;
        o.expected_crc64 = 54321;
        auto [ec, r] = run_cb<ossmp::complete_result>(
            f, [&](auto h) { ossmp::async_complete_upload(f.client, complete_p(), o, h); });
        CHECK(ec == errc::crc_mismatch);
        CHECK(r.crc64 == std::uint64_t{12345});
    }
    SECTION("expected whole-object CRC-64 matches") {
        fixture f;
        f.transport.push_response(complete_ok());
        ossmp::complete_options o;
        o.expected_crc64 = 12345;
        auto [ec, r] = run_cb<ossmp::complete_result>(
            f, [&](auto h) { ossmp::async_complete_upload(f.client, complete_p(), o, h); });
        CHECK_FALSE(ec);
    }
}

TEST_CASE("abort, list_parts, list_uploads: exact request bytes and 6.7 signatures", "[ops]") {
    SECTION("abort") {
        fixture f;
        f.transport.push_response(make_response(204, {}, {{"x-oss-request-id", "RID-A"}}));
        auto [ec, r] = run_cb<ossmp::abort_result>(
            f, [&](auto h) { ossmp::async_abort_upload(f.client, abort_p(), h); });
        REQUIRE_FALSE(ec);
        CHECK(r.request_id == "RID-A");
        CHECK(head_of(f.transport.requests().at(0)) ==
              std::string("DELETE /multipart.data?uploadId=0004B9895DBBB6EC9 HTTP/1.1\r\n") +
                  std::string(host_line) + std::string(ua_line) + std::string(date_lines) +
                  std::string(v4_auth_prefix) +
                  "50534825451d908ab8c621659eaad2f4a1daa56051bd28692c496af02c6f00a5\r\n\r\n");
    }
    SECTION("list_parts") {
        fixture f;
        f.transport.push_response(list_parts_ok());
        auto [ec, r] = run_cb<ossmp::list_parts_result>(
            f, [&](auto h) { ossmp::async_list_parts(f.client, list_parts_p(), h); });
        REQUIRE_FALSE(ec);
        REQUIRE(r.parts.size() == 2);
        CHECK(r.parts[0].size == 102400);
        CHECK(r.parts[0].crc64 == std::uint64_t{7});
        CHECK(r.parts[1].etag == "\"BB\"");
        CHECK(r.next_part_number_marker == 2);
        CHECK(head_of(f.transport.requests().at(0)) ==
              std::string("GET /multipart.data?uploadId=0004B9895DBBB6EC9&max-parts=1000&part-"
                          "number-marker=5&encoding-type=url HTTP/1.1\r\n") +
                  std::string(host_line) + std::string(ua_line) + std::string(date_lines) +
                  std::string(v4_auth_prefix) +
                  "a30d6320642b89228d62e81eaff7eb4ce62d60d27e94b113c4a65d3051850662\r\n\r\n");
    }
    SECTION("list_uploads") {
        fixture f;
        f.transport.push_response(list_uploads_ok());
        auto [ec, r] = run_cb<ossmp::list_uploads_result>(
            f, [&](auto h) { ossmp::async_list_uploads(f.client, list_uploads_p(), h); });
        REQUIRE_FALSE(ec);
        REQUIRE(r.uploads.size() == 2);
        CHECK(r.uploads[0].key == "a b");
        CHECK(r.common_prefixes == std::vector<std::string>{"d/"});
        CHECK(r.is_truncated);
        CHECK(head_of(f.transport.requests().at(0)) ==
              std::string("GET /?uploads&delimiter=%2F&max-uploads=1000&prefix=a%20b&encoding-"
                          "type=url HTTP/1.1\r\n") +
                  std::string(host_line) + std::string(ua_line) + std::string(date_lines) +
                  std::string(v4_auth_prefix) +
                  "474a0e9eadae3d3f59e787aa9243d1a00d7cacb296eb5c80efe84d0cd03854ed\r\n\r\n");
    }
}

TEST_CASE("V1 signatures of the multipart calls match oss-reference 7.2", "[ops]") {
    fixture f(make_options(ossmp::signature_version::v1));
    f.transport.push_response(initiate_ok());
    f.transport.push_response(upload_part_ok(0));
    f.transport.push_response(complete_ok());
    f.transport.push_response(make_response(204));
    f.transport.push_response(list_parts_ok());
    f.transport.push_response(list_uploads_ok());
    ossmp::upload_part_options md5;
    md5.content_md5 = true;
    auto cp = complete_p();
    cp.encoding_type_url = true;
    run_cb<ossmp::initiate_result>(
        f, [&](auto h) { ossmp::async_initiate_upload(f.client, initiate_p(), h); });
    run_cb<ossmp::upload_part_result>(
        f, [&](auto h) { ossmp::async_upload_part(f.client, upload_part_p(1), md5, h); });
    run_cb<ossmp::complete_result>(f,
                                   [&](auto h) { ossmp::async_complete_upload(f.client, cp, h); });
    run_cb<ossmp::abort_result>(f,
                                [&](auto h) { ossmp::async_abort_upload(f.client, abort_p(), h); });
    run_cb<ossmp::list_parts_result>(
        f, [&](auto h) { ossmp::async_list_parts(f.client, list_parts_p(), h); });
    run_cb<ossmp::list_uploads_result>(
        f, [&](auto h) { ossmp::async_list_uploads(f.client, list_uploads_p(), h); });
    const auto& reqs = f.transport.requests();
    REQUIRE(reqs.size() == 6);
    CHECK(auth_of(reqs[0]) == "OSS ak:2eYaNFqniXghCsklHDlBcUJGbT0=");
    CHECK(auth_of(reqs[1]) == "OSS ak:dUHdeIpEVeydiO7SXmHc423/xio=");
    CHECK(auth_of(reqs[2]) == "OSS ak:wz9YKG544YeLi1EAKjItUE+GOk8=");
    CHECK(auth_of(reqs[3]) == "OSS ak:7YkaTZCFiEil67IDLDJUyYJl3M4=");
    CHECK(auth_of(reqs[4]) == "OSS ak:mW09jo3nBCF8Sdy4XOa+Yqol+sg=");
    CHECK(auth_of(reqs[5]) == "OSS ak:UCubrUHsY35rjDPFNZoTXfcqk6M=");
    // V1 sends no V4 headers.
    CHECK(head_of(reqs[0]) ==
          std::string("POST /multipart.data?uploads HTTP/1.1\r\n") + std::string(host_line) +
              "Content-Type: application/octet-stream\r\n" + std::string(ua_line) +
              "Date: Sat, 16 Dec 2023 16:20:57 GMT\r\n"
              "Authorization: OSS ak:2eYaNFqniXghCsklHDlBcUJGbT0=\r\n"
              "Content-Length: 0\r\n\r\n");
}

TEST_CASE("path-style addressing and default headers", "[ops]") {
    auto o = make_options();
    o.style = ossmp::addressing_style::path;
    o.user_agent.clear();
    o.default_headers.add("X-Trace", "t1");
    fixture f(o);
    f.transport.push_response(make_response(204));
    run_cb<ossmp::abort_result>(f,
                                [&](auto h) { ossmp::async_abort_upload(f.client, abort_p(), h); });
    const std::string head = head_of(f.transport.requests().at(0));
    CHECK(head.rfind("DELETE /examplebucket/multipart.data?uploadId=0004B9895DBBB6EC9 HTTP/1.1\r\n"
                     "Host: oss-cn-hangzhou.aliyuncs.com\r\nX-Trace: t1\r\nDate: ",
                     0) == 0);
    CHECK(head.find("User-Agent") == std::string::npos);
    // The signature does not depend on the addressing style (canonical URI is /bucket/key).
    CHECK(auth_of(f.transport.requests().at(0)) ==
          std::string(v4_auth_prefix.substr(15)) +
              "50534825451d908ab8c621659eaad2f4a1daa56051bd28692c496af02c6f00a5");
}

TEST_CASE("put, get, head, delete object: requests and results", "[ops]") {
    const std::string data = "hello, object";
    const std::uint64_t crc = ossmp::crc64(data);
    SECTION("put_object") {
        fixture f;
        f.transport.push_response(make_response(200, {},
                                                {{"ETag", "\"P1\""},
                                                 {"x-oss-hash-crc64ecma", std::to_string(crc)},
                                                 {"x-oss-version-id", "v1"}}));
        ossmp::put_object_params p;
        p.bucket = bucket;
        p.key = "obj.txt";
        p.data = bytes_of(data);
        p.content_type = "text/plain";
        ossmp::put_object_options o;
        o.content_md5 = true;
        auto [ec, r] = run_cb<ossmp::put_object_result>(
            f, [&](auto h) { ossmp::async_put_object(f.client, p, o, h); });
        REQUIRE_FALSE(ec);
        CHECK(r.etag == "\"P1\"");
        CHECK(r.version_id == "v1");
        const auto& rec = f.transport.requests().at(0);
        CHECK(head_of(rec).rfind("PUT /obj.txt HTTP/1.1\r\n" + std::string(host_line) +
                                     "Content-Type: text/plain\r\nContent-MD5: " +
                                     ossmp::crypto::base64_encode(ossmp::crypto::md5(data)) +
                                     "\r\n",
                                 0) == 0);
        CHECK(rec.body == data);
        CHECK(rec.body_was_view);
    }
    SECTION("get_object streams to the sink and checks the CRC-64") {
        fixture f;
        f.transport.push_response(object_headers(200, data, crc));
        std::string got;
        std::vector<std::size_t> chunks;
        auto [ec, r] = run_cb<ossmp::get_object_result>(f, [&](auto h) {
            ossmp::get_object_params p;
            p.bucket = bucket;
            p.key = "obj.txt";
            ossmp::async_get_object(
                f.client, p,
                [&](std::string_view b) {
                    got += b;
                    chunks.push_back(b.size());
                },
                h);
        });
        REQUIRE_FALSE(ec);
        CHECK(got == data);
        CHECK(chunks == std::vector<std::size_t>{data.size()});
        CHECK(f.transport.requests().at(0).had_body_sink);
        CHECK(r.bytes == data.size());
        CHECK(r.crc64 == crc);
        CHECK(r.crc_checked);
        CHECK(r.meta.size == data.size());
        CHECK(r.meta.etag == "\"E1\"");
        CHECK(r.meta.object_type == "Multipart");
        CHECK(head_of(f.transport.requests().at(0)) ==
              "GET /obj.txt HTTP/1.1\r\n" + std::string(host_line) + std::string(ua_line) +
                  std::string(date_lines) + std::string(v4_auth_prefix) +
                  auth_of(f.transport.requests().at(0)).substr(v4_auth_prefix.size() - 15) +
                  "\r\n\r\n");
    }
    SECTION("get_object: a range is sent and a 206 is not CRC-checked") {
        fixture f;
        auto res = object_headers(206, data.substr(2, 3), crc);
        res.headers.add("Content-Range", "bytes 2-4/13");
        f.transport.push_response(res);
        std::string got;
        auto [ec, r] = run_cb<ossmp::get_object_result>(f, [&](auto h) {
            ossmp::get_object_params p;
            p.bucket = bucket;
            p.key = "obj.txt";
            p.range_first = 2;
            p.range_last = 4;
            ossmp::async_get_object(
                f.client, p, [&](std::string_view b) { got += b; }, h);
        });
        REQUIRE_FALSE(ec);
        CHECK(got == "llo");
        CHECK(r.meta.size == 13);
        CHECK_FALSE(r.crc_checked);
        CHECK(head_of(f.transport.requests().at(0)).find("\r\nRange: bytes=2-4\r\n") !=
              std::string::npos);
    }
    SECTION("get_object: CRC-64 mismatch") {
        fixture f;
        f.transport.push_response(object_headers(200, data, crc ^ 1));
        auto [ec, r] = run_cb<ossmp::get_object_result>(f, [&](auto h) {
            ossmp::get_object_params p;
            p.bucket = bucket;
            p.key = "obj.txt";
            ossmp::async_get_object(
                f.client, p, [](std::string_view) {}, h);
        });
        CHECK(ec == errc::crc_mismatch);
        CHECK(r.crc64 == crc);
        CHECK(r.meta.crc64 == (crc ^ 1));
    }
    SECTION("get_object: the sink's error aborts the transfer") {
        fixture f;
        f.transport.push_response(object_headers(200, data, crc));
        int calls = 0;
        auto [ec, r] = run_cb<ossmp::get_object_result>(f, [&](auto h) {
            ossmp::get_object_params p;
            p.bucket = bucket;
            p.key = "obj.txt";
            ossmp::async_get_object(
                f.client, p,
                [&](std::string_view, std::error_code& sec) {
                    if (++calls == 1)
                        sec = std::make_error_code(std::errc::no_space_on_device);
                },
                h);
        });
        CHECK(ec == std::errc::no_space_on_device);
        CHECK(calls == 1);
    }
    SECTION("get_object: expected_size and the announced size bound the body") {
        // data is 13 bytes; the fake hands the body to the sink in pieces of 4.
        auto get = [&](ossmp::http::response res, std::optional<std::uint64_t> expected,
                       std::string& got) {
            fixture f;
            f.transport.set_sink_piece_size(4);
            f.transport.push_response(std::move(res));
            return run_cb<ossmp::get_object_result>(f, [&](auto h) {
                ossmp::get_object_params p;
                p.bucket = bucket;
                p.key = "obj.txt";
                p.expected_size = expected;
                ossmp::async_get_object(
                    f.client, p, [&](std::string_view b) { got += b; }, h);
            });
        };
        std::string got;
        // Content-Length and expected_size agree.
        auto [ok, r] = get(object_headers(200, data, crc), data.size(), got);
        REQUIRE_FALSE(ok);
        CHECK(got == data);
        CHECK(r.crc_checked);
        // They disagree: refused before the body.
        got.clear();
        auto [other, r2] = get(object_headers(200, data, crc), 12, got);
        CHECK(other == errc::size_mismatch);
        CHECK(got.empty());
        // Chunked (no Content-Length), longer than expected: stopped at the crossing piece.
        auto chunked = object_headers(200, data, crc);
        chunked.headers.erase("Content-Length");
        chunked.headers.add("Transfer-Encoding", "chunked");
        got.clear();
        auto [longer, r3] = get(chunked, 10, got);
        CHECK(longer == errc::size_mismatch);
        CHECK(got == data.substr(0, 8)); // "0123"+"4567" fit in 10, the next 4 would not
        // Chunked, shorter than expected: fails at its end.
        got.clear();
        auto [shorter, r4] = get(chunked, 14, got);
        CHECK(shorter == errc::size_mismatch);
        CHECK(got == data);
        // Chunked, exactly expected: accepted, its length is what was received.
        got.clear();
        auto [exact, r5] = get(chunked, 13, got);
        REQUIRE_FALSE(exact);
        CHECK(r5.meta.content_length == 13);
        CHECK(r5.crc_checked);
        // Chunked without expected_size: accepted as well (the CRC-64 still checks it).
        got.clear();
        auto [unbounded, r6] = get(chunked, std::nullopt, got);
        REQUIRE_FALSE(unbounded);
        CHECK(got == data);
        // A 206 whose Content-Length is not its Content-Range span.
        auto partial = object_headers(206, data.substr(2, 3), crc);
        partial.headers.add("Content-Range", "bytes 2-5/13");
        got.clear();
        auto [lying, r7] = get(partial, std::nullopt, got);
        CHECK(lying == errc::size_mismatch);
        CHECK(got.empty());
        // A chunked 206 longer than its span; a 206 of another object size.
        auto partial_chunked = object_headers(206, data, crc);
        partial_chunked.headers.erase("Content-Length");
        partial_chunked.headers.add("Transfer-Encoding", "chunked");
        partial_chunked.headers.add("Content-Range", "bytes 0-5/13");
        got.clear();
        auto [over_span, r8] = get(partial_chunked, std::nullopt, got);
        CHECK(over_span == errc::size_mismatch);
        CHECK(got == data.substr(0, 4));
        partial.headers.set("Content-Range", "bytes 2-4/13");
        got.clear();
        auto [other_object, r9] = get(partial, 14, got);
        CHECK(other_object == errc::size_mismatch);
        CHECK(got.empty());
        got.clear();
        auto [same_object, r10] = get(partial, 13, got);
        REQUIRE_FALSE(same_object);
        CHECK(got == "llo");
    }
    SECTION("head_object") {
        fixture f;
        auto res = object_headers(200, {}, crc);
        res.headers.set("Content-Length", "13");
        f.transport.push_response(res);
        auto [ec, r] = run_cb<ossmp::object_meta>(f, [&](auto h) {
            ossmp::head_object_params p;
            p.bucket = bucket;
            p.key = "obj.txt";
            ossmp::async_head_object(f.client, p, h);
        });
        REQUIRE_FALSE(ec);
        CHECK(r.size == 13);
        CHECK(r.crc64 == crc);
        REQUIRE(r.user_metadata.size() == 1);
        CHECK(r.user_metadata[0] == std::pair<std::string, std::string>{"color", "blue"});
        CHECK(head_of(f.transport.requests().at(0)).rfind("HEAD /obj.txt HTTP/1.1\r\n", 0) == 0);
    }
    SECTION("delete_object") {
        fixture f;
        f.transport.push_response(make_response(204, {}, {{"x-oss-delete-marker", "true"}}));
        auto [ec, r] = run_cb<ossmp::delete_object_result>(f, [&](auto h) {
            ossmp::delete_object_params p;
            p.bucket = bucket;
            p.key = "obj.txt";
            ossmp::async_delete_object(f.client, p, h);
        });
        REQUIRE_FALSE(ec);
        CHECK(r.delete_marker);
        CHECK(head_of(f.transport.requests().at(0)).rfind("DELETE /obj.txt HTTP/1.1\r\n", 0) == 0);
    }
}

// ------------------------------------------------------------------------------------------------
// Every operation through every completion-token flavour
// ------------------------------------------------------------------------------------------------

namespace {

// One operation as the flavour tests see it: how to start it with any token, the canned
// response that makes it succeed, and a check of its result.
template <class Result, class Start, class Check>
void every_flavour(const char* name, Start start, std::function<ossmp::http::response()> canned,
                   Check check) {
    INFO("operation " << name);
    SECTION(std::string(name) + ": callback") {
        fixture f;
        f.transport.push_response(canned());
        int calls = 0;
        start(f.client, [&](std::error_code ec, Result r) {
            ++calls;
            CHECK_FALSE(ec);
            check(r);
        });
        CHECK(calls == 0); // never inline
        f.ctx.run();
        CHECK(calls == 1);
        CHECK(f.transport.requests().size() == 1);
    }
    SECTION(std::string(name) + ": use_awaitable") {
        fixture f;
        f.transport.push_response(canned());
        bool done = false;
        asio::co_spawn(
            f.ctx,
            [&]() -> asio::awaitable<void> {
                Result r = co_await start(f.client, asio::use_awaitable);
                check(r);
                done = true;
            },
            asio::detached);
        f.ctx.run();
        CHECK(done);
    }
    SECTION(std::string(name) + ": deferred") {
        fixture f;
        f.transport.push_response(canned());
        auto op = start(f.client, asio::experimental::deferred);
        f.ctx.poll();
        f.ctx.restart();
        CHECK(f.transport.requests().empty()); // nothing happens until the deferred op runs
        int calls = 0;
        std::move(op)([&](std::error_code ec, Result r) {
            ++calls;
            CHECK_FALSE(ec);
            check(r);
        });
        f.ctx.run();
        CHECK(calls == 1);
        CHECK(f.transport.requests().size() == 1);
    }
    SECTION(std::string(name) + ": use_future") {
        fixture f;
        f.transport.push_response(canned());
        std::future<Result> fut = start(f.client, asio::use_future);
        f.ctx.run();
        REQUIRE(fut.wait_for(0s) == std::future_status::ready);
        check(fut.get());
    }
    SECTION(std::string(name) + ": as_tuple(use_awaitable)") {
        fixture f;
        f.transport.push_response(canned());
        bool done = false;
        asio::co_spawn(
            f.ctx,
            [&]() -> asio::awaitable<void> {
                auto [ec, r] =
                    co_await start(f.client, asio::experimental::as_tuple(asio::use_awaitable));
                CHECK_FALSE(ec);
                check(r);
                done = true;
            },
            asio::detached);
        f.ctx.run();
        CHECK(done);
    }
    SECTION(std::string(name) + ": bind_cancellation_slot, cancelled mid-flight") {
        fixture f;
        f.transport.push_response(canned());
        f.transport.set_delay(std::chrono::hours(1)); // in flight until cancelled
        asio::cancellation_signal signal;
        int calls = 0;
        std::error_code got;
        start(f.client,
              asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, Result) {
                  ++calls;
                  got = ec;
              }));
        f.ctx.poll();
        CHECK(calls == 0);
        CHECK(f.transport.requests().size() == 1);
        CHECK(f.transport.completed() == 0);
        signal.emit(asio::cancellation_type::terminal);
        f.ctx.run();
        CHECK(calls == 1);
        CHECK(got == asio::error::operation_aborted);
        CHECK(f.transport.completed() == 1);
        CHECK(f.transport.cancelled() == 1);
    }
    SECTION(std::string(name) + ": use_awaitable propagates a service error as an exception") {
        fixture f;
        f.transport.push_response(make_response(404, error_body("NoSuchUpload")));
        std::error_code got;
        asio::co_spawn(
            f.ctx,
            [&]() -> asio::awaitable<void> {
                try {
                    (void)co_await start(f.client, asio::use_awaitable);
                } catch (const std::system_error& e) {
                    got = e.code();
                }
            },
            asio::detached);
        f.ctx.run();
        CHECK(got == service_errc::no_such_upload);
    }
}

const std::string object_data = "0123456789";

} // namespace

TEST_CASE("every operation works with every completion token", "[ops]") {
    every_flavour<ossmp::initiate_result>(
        "initiate",
        [](auto& c, auto&& token) {
            return ossmp::async_initiate_upload(c, initiate_p(),
                                                std::forward<decltype(token)>(token));
        },
        initiate_ok, [](const ossmp::initiate_result& r) { CHECK(r.upload_id == uid); });
    every_flavour<ossmp::upload_part_result>(
        "upload_part",
        [](auto& c, auto&& token) {
            return ossmp::async_upload_part(c, upload_part_p(1, bytes_of(object_data)),
                                            std::forward<decltype(token)>(token));
        },
        [] { return upload_part_ok(ossmp::crc64(object_data)); },
        [](const ossmp::upload_part_result& r) {
            CHECK(r.part_number == 1);
            CHECK(r.crc64 == ossmp::crc64(object_data));
        });
    every_flavour<ossmp::complete_result>(
        "complete",
        [](auto& c, auto&& token) {
            return ossmp::async_complete_upload(c, complete_p(),
                                                std::forward<decltype(token)>(token));
        },
        complete_ok, [](const ossmp::complete_result& r) { CHECK(r.key == key); });
    every_flavour<ossmp::abort_result>(
        "abort",
        [](auto& c, auto&& token) {
            return ossmp::async_abort_upload(c, abort_p(), std::forward<decltype(token)>(token));
        },
        [] {
            return make_response(204, {}, {{"x-oss-request-id", "RID-A"}});
        },
        [](const ossmp::abort_result& r) { CHECK(r.request_id == "RID-A"); });
    every_flavour<ossmp::list_parts_result>(
        "list_parts",
        [](auto& c, auto&& token) {
            return ossmp::async_list_parts(c, list_parts_p(), std::forward<decltype(token)>(token));
        },
        list_parts_ok, [](const ossmp::list_parts_result& r) { CHECK(r.parts.size() == 2); });
    every_flavour<ossmp::list_uploads_result>(
        "list_uploads",
        [](auto& c, auto&& token) {
            return ossmp::async_list_uploads(c, list_uploads_p(),
                                             std::forward<decltype(token)>(token));
        },
        list_uploads_ok, [](const ossmp::list_uploads_result& r) { CHECK(r.uploads.size() == 2); });
    every_flavour<ossmp::put_object_result>(
        "put_object",
        [](auto& c, auto&& token) {
            ossmp::put_object_params p;
            p.bucket = bucket;
            p.key = "o";
            p.data = bytes_of(object_data);
            return ossmp::async_put_object(c, p, std::forward<decltype(token)>(token));
        },
        [] {
            return make_response(
                200, {},
                {{"ETag", "\"P\""},
                 {"x-oss-hash-crc64ecma", std::to_string(ossmp::crc64(object_data))}});
        },
        [](const ossmp::put_object_result& r) { CHECK(r.etag == "\"P\""); });
    every_flavour<ossmp::get_object_result>(
        "get_object",
        [](auto& c, auto&& token) {
            ossmp::get_object_params p;
            p.bucket = bucket;
            p.key = "o";
            return ossmp::async_get_object(
                c, p, [](std::string_view) {}, std::forward<decltype(token)>(token));
        },
        [] { return object_headers(200, object_data, ossmp::crc64(object_data)); },
        [](const ossmp::get_object_result& r) {
            CHECK(r.bytes == object_data.size());
            CHECK(r.crc_checked);
        });
    every_flavour<ossmp::object_meta>(
        "head_object",
        [](auto& c, auto&& token) {
            ossmp::head_object_params p;
            p.bucket = bucket;
            p.key = "o";
            return ossmp::async_head_object(c, p, std::forward<decltype(token)>(token));
        },
        [] {
            auto r = object_headers(200, {}, 1);
            r.headers.set("Content-Length", "10");
            return r;
        },
        [](const ossmp::object_meta& m) { CHECK(m.size == 10); });
    every_flavour<ossmp::delete_object_result>(
        "delete_object",
        [](auto& c, auto&& token) {
            ossmp::delete_object_params p;
            p.bucket = bucket;
            p.key = "o";
            return ossmp::async_delete_object(c, p, std::forward<decltype(token)>(token));
        },
        [] {
            return make_response(204, {}, {{"x-oss-request-id", "RID-D"}});
        },
        [](const ossmp::delete_object_result& r) { CHECK(r.request_id == "RID-D"); });
}

// ------------------------------------------------------------------------------------------------
// Validation, service errors, transport errors
// ------------------------------------------------------------------------------------------------

namespace {

// Starts an operation with invalid arguments and checks: the error, no request sent, and the
// handler not called inline.
template <class Result, class Start>
void rejects_before_sending(Start start, std::error_code expected) {
    fixture f;
    int calls = 0;
    std::error_code got;
    ossmp::diagnostics diag;
    diag.code = "stale";
    start(f.client, diag, [&](std::error_code ec, Result) {
        ++calls;
        got = ec;
    });
    CHECK(calls == 0);
    f.ctx.run();
    CHECK(calls == 1);
    CHECK(got == expected);
    CHECK(f.transport.requests().empty());
    CHECK(diag.code.empty());
    CHECK(diag.http_status == 0);
}

} // namespace

TEST_CASE("validation errors complete without sending anything, never inline", "[ops]") {
    rejects_before_sending<ossmp::initiate_result>(
        [](auto& c, auto& d, auto h) {
            auto p = initiate_p();
            p.bucket = "Bad_Bucket";
            ossmp::async_initiate_upload(c, p, d, h);
        },
        errc::invalid_bucket_name);
    rejects_before_sending<ossmp::upload_part_result>(
        [](auto& c, auto& d, auto h) { ossmp::async_upload_part(c, upload_part_p(0), d, h); },
        errc::invalid_part_number);
    rejects_before_sending<ossmp::upload_part_result>(
        [](auto& c, auto& d, auto h) {
            ossmp::async_upload_part(c, upload_part_p(10001), ossmp::upload_part_options{}, d, h);
        },
        errc::invalid_part_number);
    rejects_before_sending<ossmp::complete_result>(
        [](auto& c, auto& d, auto h) {
            auto p = complete_p();
            p.parts.clear();
            ossmp::async_complete_upload(c, p, d, h);
        },
        errc::empty_part_list);
    rejects_before_sending<ossmp::abort_result>(
        [](auto& c, auto& d, auto h) {
            auto p = abort_p();
            p.upload_id.clear();
            ossmp::async_abort_upload(c, p, d, h);
        },
        errc::empty_upload_id);
    rejects_before_sending<ossmp::list_parts_result>(
        [](auto& c, auto& d, auto h) {
            auto p = list_parts_p();
            p.max_parts = 1001;
            ossmp::async_list_parts(c, p, d, h);
        },
        errc::invalid_argument);
    rejects_before_sending<ossmp::list_uploads_result>(
        [](auto& c, auto& d, auto h) {
            auto p = list_uploads_p();
            p.bucket = "ab";
            ossmp::async_list_uploads(c, p, d, h);
        },
        errc::invalid_bucket_name);
    rejects_before_sending<ossmp::put_object_result>(
        [](auto& c, auto& d, auto h) {
            ossmp::put_object_params p;
            p.bucket = bucket;
            ossmp::async_put_object(c, p, d, h);
        },
        errc::empty_key);
    rejects_before_sending<ossmp::get_object_result>(
        [](auto& c, auto& d, auto h) {
            ossmp::get_object_params p;
            p.bucket = bucket;
            p.key = "k";
            p.range_first = 5;
            p.range_last = 4;
            ossmp::async_get_object(
                c, p, [](std::string_view) {}, d, h);
        },
        errc::invalid_range);
    rejects_before_sending<ossmp::object_meta>(
        [](auto& c, auto& d, auto h) {
            ossmp::head_object_params p;
            p.bucket = bucket;
            p.key = "/abs";
            ossmp::async_head_object(c, p, d, h);
        },
        errc::invalid_key);
    rejects_before_sending<ossmp::delete_object_result>(
        [](auto& c, auto& d, auto h) {
            ossmp::delete_object_params p;
            p.bucket = bucket;
            p.key = std::string(1024, 'k');
            ossmp::async_delete_object(c, p, d, h);
        },
        errc::key_too_long);
}

TEST_CASE("client configuration errors complete without sending anything", "[ops]") {
    SECTION("invalid endpoint") {
        auto o = make_options();
        o.endpoint = "ftp://example.com";
        fixture f(o);
        CHECK(f.client.init_error() == errc::invalid_endpoint);
        auto [ec, r] = run_cb<ossmp::abort_result>(
            f, [&](auto h) { ossmp::async_abort_upload(f.client, abort_p(), h); });
        CHECK(ec == errc::invalid_endpoint);
        CHECK(f.transport.requests().empty());
    }
    SECTION("V4 without a region") {
        auto o = make_options();
        o.endpoint = "http://127.0.0.1:9000";
        fixture f(o);
        auto [ec, r] = run_cb<ossmp::abort_result>(
            f, [&](auto h) { ossmp::async_abort_upload(f.client, abort_p(), h); });
        CHECK(ec == errc::missing_region);
        CHECK(f.transport.requests().empty());
    }
    SECTION("missing credentials") {
        asio::io_context ctx;
        fake_transport t(ctx);
        ossmp::basic_client<fake_transport> c(t, make_options(), ossmp::any_credentials_provider{});
        int calls = 0;
        ossmp::async_abort_upload(c, abort_p(), [&](std::error_code ec, ossmp::abort_result) {
            ++calls;
            CHECK(ec == errc::missing_credentials);
        });
        ctx.run();
        CHECK(calls == 1);
        CHECK(t.requests().empty());
    }
}

TEST_CASE("service errors map to codes and fill diagnostics", "[ops]") {
    SECTION("complete with a wrong ETag: InvalidPart") {
        fixture f;
        f.transport.push_response(
            make_response(400, error_body("InvalidPart", "<UploadId>0004B9895DBBB6EC9</UploadId>"),
                          {{"x-oss-request-id", "RID-HDR"}}));
        ossmp::diagnostics diag;
        auto [ec, r] = run_cb<ossmp::complete_result>(
            f, [&](auto h) { ossmp::async_complete_upload(f.client, complete_p(), diag, h); });
        CHECK(ec == service_errc::invalid_part);
        CHECK(diag.http_status == 400);
        CHECK(diag.code == "InvalidPart");
        CHECK(diag.message == "msg");
        CHECK(diag.request_id == "RID-1");
        CHECK(diag.host_id == "h.example");
        CHECK(diag.ec == "0042-00000001");
        CHECK(diag.field("UploadId") == uid);
        CHECK(r.etag.empty());
    }
    SECTION("upload_part: NoSuchUpload") {
        fixture f;
        f.transport.push_response(make_response(404, error_body("NoSuchUpload")));
        ossmp::diagnostics diag;
        auto [ec, r] = run_cb<ossmp::upload_part_result>(
            f, [&](auto h) { ossmp::async_upload_part(f.client, upload_part_p(1), diag, h); });
        CHECK(ec == service_errc::no_such_upload);
        CHECK(diag.to_string() ==
              "NoSuchUpload (HTTP 404): msg [RequestId=RID-1, EC=0042-00000001]");
    }
    SECTION("head_object: the code comes from x-oss-err") {
        fixture f;
        f.transport.push_response(
            make_response(404, {},
                          {{"x-oss-err", ossmp::crypto::base64_encode(error_body("NoSuchKey"))},
                           {"x-oss-request-id", "RID-H"}}));
        ossmp::diagnostics diag;
        auto [ec, r] = run_cb<ossmp::object_meta>(f, [&](auto h) {
            ossmp::head_object_params p;
            p.bucket = bucket;
            p.key = "missing";
            ossmp::async_head_object(f.client, p, diag, h);
        });
        CHECK(ec == service_errc::no_such_key);
        CHECK(diag.code == "NoSuchKey");
    }
    SECTION("get_object: an error body is parsed, not streamed to the sink") {
        fixture f;
        f.transport.push_response(make_response(403, error_body("AccessDenied")));
        bool sink_called = false;
        ossmp::diagnostics diag;
        auto [ec, r] = run_cb<ossmp::get_object_result>(f, [&](auto h) {
            ossmp::get_object_params p;
            p.bucket = bucket;
            p.key = "k";
            ossmp::async_get_object(
                f.client, p, [&](std::string_view) { sink_called = true; }, diag, h);
        });
        CHECK(ec == service_errc::access_denied);
        CHECK_FALSE(sink_called);
        CHECK(diag.code == "AccessDenied");
    }
    SECTION("a 503 without a body") {
        fixture f;
        f.transport.push_response(make_response(503));
        ossmp::diagnostics diag;
        auto [ec, r] = run_cb<ossmp::list_parts_result>(
            f, [&](auto h) { ossmp::async_list_parts(f.client, list_parts_p(), diag, h); });
        CHECK(ec == service_errc::service_unavailable);
        CHECK(ossmp::is_retryable(ec));
        CHECK(diag.http_status == 503);
    }
    SECTION("success fills the status and request id") {
        fixture f;
        f.transport.push_response(initiate_ok());
        ossmp::diagnostics diag;
        diag.code = "stale";
        run_cb<ossmp::initiate_result>(
            f, [&](auto h) { ossmp::async_initiate_upload(f.client, initiate_p(), diag, h); });
        CHECK(diag.http_status == 200);
        CHECK(diag.request_id == "RID-I");
        CHECK(diag.code.empty());
    }
}

TEST_CASE("transport errors are passed through", "[ops]") {
    fixture f;
    f.transport.push_error(ossmp::make_error_code(errc::unexpected_eof));
    ossmp::diagnostics diag;
    auto [ec, r] = run_cb<ossmp::initiate_result>(
        f, [&](auto h) { ossmp::async_initiate_upload(f.client, initiate_p(), diag, h); });
    CHECK(ec == errc::unexpected_eof);
    CHECK(diag.http_status == 0);
    CHECK(f.transport.requests().size() == 1);
}

TEST_CASE("upload_part and put_object verify the CRC-64 of the bytes sent", "[ops]") {
    const std::string data(300, 'd');
    const std::uint64_t crc = ossmp::crc64(data);
    SECTION("server CRC differs from the computed one") {
        fixture f;
        f.transport.push_response(upload_part_ok(crc + 1));
        auto [ec, r] = run_cb<ossmp::upload_part_result>(f, [&](auto h) {
            ossmp::async_upload_part(f.client, upload_part_p(1, bytes_of(data)), h);
        });
        CHECK(ec == errc::crc_mismatch);
        CHECK(ossmp::is_retryable(ec));
        CHECK(r.crc64 == crc + 1); // the result holds what the server said
    }
    SECTION("caller-provided CRC is used instead of computing one") {
        fixture f;
        f.transport.push_response(upload_part_ok(crc));
        ossmp::upload_part_options o;
        o.crc64 = crc ^ 0xff;
        auto [ec, r] = run_cb<ossmp::upload_part_result>(f, [&](auto h) {
            ossmp::async_upload_part(f.client, upload_part_p(1, bytes_of(data)), o, h);
        });
        CHECK(ec == errc::crc_mismatch);
    }
    SECTION("verification can be switched off") {
        fixture f;
        f.transport.push_response(upload_part_ok(crc + 1));
        ossmp::upload_part_options o;
        o.verify_crc64 = false;
        auto [ec, r] = run_cb<ossmp::upload_part_result>(f, [&](auto h) {
            ossmp::async_upload_part(f.client, upload_part_p(1, bytes_of(data)), o, h);
        });
        CHECK_FALSE(ec);
    }
    SECTION("no CRC header: nothing to compare") {
        fixture f;
        f.transport.push_response(make_response(200, {}, {{"ETag", "\"E\""}}));
        auto [ec, r] = run_cb<ossmp::upload_part_result>(f, [&](auto h) {
            ossmp::async_upload_part(f.client, upload_part_p(1, bytes_of(data)), h);
        });
        CHECK_FALSE(ec);
        CHECK_FALSE(r.crc64.has_value());
    }
    SECTION("put_object") {
        fixture f;
        f.transport.push_response(make_response(
            200, {}, {{"ETag", "\"E\""}, {"x-oss-hash-crc64ecma", std::to_string(crc ^ 2)}}));
        ossmp::put_object_params p;
        p.bucket = bucket;
        p.key = "k";
        p.data = bytes_of(data);
        auto [ec, r] = run_cb<ossmp::put_object_result>(
            f, [&](auto h) { ossmp::async_put_object(f.client, p, h); });
        CHECK(ec == errc::crc_mismatch);
    }
}

TEST_CASE("RequestTimeTooSkewed corrects the clock offset", "[ops]") {
    const auto server_time = fixed_time + 1000s;
    const std::string server_date = ossmp::format_rfc1123(server_time);
    SECTION("from the Date header, without retry") {
        auto o = make_options();
        o.retry_on_clock_skew = false;
        fixture f(o);
        f.transport.push_response(
            make_response(403, error_body("RequestTimeTooSkewed"), {{"Date", server_date}}));
        auto [ec, r] = run_cb<ossmp::abort_result>(
            f, [&](auto h) { ossmp::async_abort_upload(f.client, abort_p(), h); });
        CHECK(ec == service_errc::request_time_too_skewed);
        CHECK(f.client.clock_offset() == 1000s);
        CHECK(f.client.now() == server_time);
        CHECK(f.transport.requests().size() == 1);
    }
    SECTION("from ServerTime, then the request is re-signed and sent again") {
        fixture f;
        f.transport.push_response(
            make_response(403, error_body("RequestTimeTooSkewed",
                                          "<RequestTime>2023-12-16T16:20:57.000Z</RequestTime>"
                                          "<ServerTime>2023-12-16T16:37:37.000Z</ServerTime>")));
        f.transport.push_response(make_response(204));
        auto [ec, r] = run_cb<ossmp::abort_result>(
            f, [&](auto h) { ossmp::async_abort_upload(f.client, abort_p(), h); });
        CHECK_FALSE(ec);
        CHECK(f.client.clock_offset() == 1000s);
        REQUIRE(f.transport.requests().size() == 2);
        const auto& second = f.transport.requests()[1].request;
        CHECK(second.headers.get("x-oss-date") == "20231216T163737Z");
        CHECK(second.headers.get("Date") == server_date);
        CHECK(second.headers.count("Authorization") == 1);
        CHECK(second.headers.get("Authorization") !=
              f.transport.requests()[0].request.headers.get("Authorization"));
    }
    SECTION("a second skew error is not retried again") {
        fixture f;
        f.transport.push_response(
            make_response(403, error_body("RequestTimeTooSkewed"), {{"Date", server_date}}));
        f.transport.push_response(
            make_response(403, error_body("RequestTimeTooSkewed"),
                          {{"Date", ossmp::format_rfc1123(server_time + 500s)}}));
        auto [ec, r] = run_cb<ossmp::abort_result>(
            f, [&](auto h) { ossmp::async_abort_upload(f.client, abort_p(), h); });
        CHECK(ec == service_errc::request_time_too_skewed);
        CHECK(f.transport.requests().size() == 2);
        CHECK(f.client.clock_offset() == 1500s);
    }
}

TEST_CASE("retry_policy: which errors, how many attempts, full-jitter backoff", "[ops][retry]") {
    ossmp::retry_policy p = ossmp::retry_policy::standard();
    CHECK(p.max_attempts == 4);
    CHECK(p.retryable(make_error_code(service_errc::service_unavailable)));
    CHECK(p.retryable(make_error_code(errc::timeout)));
    CHECK(p.retryable(make_error_code(errc::crc_mismatch)));
    CHECK_FALSE(p.retryable(make_error_code(service_errc::access_denied)));
    CHECK_FALSE(p.retryable(asio::error::operation_aborted));
    CHECK_FALSE(p.retryable(std::error_code{}));
    // Asio's own system category (standalone Asio 1.22): a reset connection is retryable.
    CHECK(p.retryable(asio::error::connection_reset));
    CHECK(p.retryable(asio::error::broken_pipe));
    CHECK(p.retryable(asio::error::connection_refused));

    const auto busy = make_error_code(service_errc::service_unavailable);
    CHECK(p.allows(1, busy, 0ms, 0ms));
    CHECK(p.allows(3, busy, 0ms, 0ms));
    CHECK_FALSE(p.allows(4, busy, 0ms, 0ms));
    p.deadline = 1000ms;
    CHECK(p.allows(1, busy, 900ms, 100ms));
    CHECK_FALSE(p.allows(1, busy, 900ms, 101ms));

    // Ceilings 200, 400, 800, ... capped at max_delay; the delay is random * ceiling.
    p.base_delay = 200ms;
    p.max_delay = 1000ms;
    const std::uint64_t top = ~std::uint64_t{0};
    const std::uint64_t half = std::uint64_t{1} << 63;
    CHECK(p.backoff(1, 0) == 0ms);
    CHECK(p.backoff(1, half) == 100ms);
    CHECK(p.backoff(2, half) == 200ms);
    CHECK(p.backoff(3, half) == 400ms);
    CHECK(p.backoff(4, half) == 500ms); // capped at 1000
    CHECK(p.backoff(60, half) == 500ms);
    CHECK(p.backoff(1, top) == 199ms); // always below the ceiling
    CHECK(p.backoff(60, top) == 999ms);
}

TEST_CASE("client_options::retry: single operations retry retryable errors with backoff",
          "[ops][retry]") {
    auto o = make_options();
    o.retry.max_attempts = 3;
    o.retry.base_delay = 1ms;
    SECTION("503, then a reset connection, then success: one completion, three sends") {
        fixture f(o);
        f.transport.push_response(make_response(503, error_body("ServiceUnavailable")));
        f.transport.push_error(asio::error::connection_reset);
        f.transport.push_response(make_response(204));
        auto [ec, r] = run_cb<ossmp::abort_result>(
            f, [&](auto h) { ossmp::async_abort_upload(f.client, abort_p(), h); });
        CHECK_FALSE(ec);
        REQUIRE(f.transport.requests().size() == 3);
        for (const auto& req : f.transport.requests())
            CHECK(req.request.headers.count("Authorization") == 1);
    }
    SECTION("attempts run out: the last error") {
        fixture f(o);
        for (int i = 0; i < 3; ++i)
            f.transport.push_response(make_response(500, error_body("InternalError")));
        f.transport.push_response(make_response(204)); // never reached
        auto [ec, r] = run_cb<ossmp::abort_result>(
            f, [&](auto h) { ossmp::async_abort_upload(f.client, abort_p(), h); });
        CHECK(ec == service_errc::internal_error);
        CHECK(f.transport.requests().size() == 3);
    }
    SECTION("a fatal error is not retried") {
        fixture f(o);
        f.transport.push_response(make_response(403, error_body("AccessDenied")));
        f.transport.push_response(make_response(204));
        auto [ec, r] = run_cb<ossmp::abort_result>(
            f, [&](auto h) { ossmp::async_abort_upload(f.client, abort_p(), h); });
        CHECK(ec == service_errc::access_denied);
        CHECK(f.transport.requests().size() == 1);
    }
    SECTION("a CRC mismatch is retried: the bytes are sent again") {
        fixture f(o);
        const std::string data = "part bytes";
        const auto crc = ossmp::crc64(data);
        f.transport.push_response(upload_part_ok(crc ^ 1));
        f.transport.push_response(upload_part_ok(crc));
        ossmp::upload_part_params p;
        p.bucket = bucket;
        p.key = key;
        p.upload_id = uid;
        p.part_number = 1;
        p.data = bytes_of(data);
        auto [ec, r] = run_cb<ossmp::upload_part_result>(
            f, [&](auto h) { ossmp::async_upload_part(f.client, p, h); });
        CHECK_FALSE(ec);
        REQUIRE(f.transport.requests().size() == 2);
        CHECK(f.transport.requests()[1].body == data);
    }
    SECTION("GetObject (a body sink) is never retried") {
        fixture f(o);
        f.transport.push_response(make_response(503, error_body("ServiceUnavailable")));
        ossmp::get_object_params p;
        p.bucket = bucket;
        p.key = key;
        auto [ec, r] = run_cb<ossmp::get_object_result>(f, [&](auto h) {
            ossmp::async_get_object(
                f.client, p, [](std::string_view) {}, h);
        });
        CHECK(ec == service_errc::service_unavailable);
        CHECK(f.transport.requests().size() == 1);
    }
    SECTION("terminal cancellation during the backoff ends the operation at once") {
        o.retry.base_delay = 60s;
        o.retry.max_delay = 60s;
        fixture f(o);
        f.transport.push_response(make_response(503, error_body("ServiceUnavailable")));
        asio::cancellation_signal cancel;
        std::error_code result;
        bool done = false;
        ossmp::async_abort_upload(f.client, abort_p(),
                                  asio::bind_cancellation_slot(
                                      cancel.slot(), [&](std::error_code ec, ossmp::abort_result) {
                                          result = ec;
                                          done = true;
                                      }));
        // Run until the first attempt failed and the backoff timer waits, then cancel.
        for (int i = 0; i < 100 && f.transport.requests().empty(); ++i)
            f.ctx.run_one_for(10ms);
        f.ctx.run_for(20ms);
        REQUIRE_FALSE(done);
        cancel.emit(asio::cancellation_type::terminal);
        const auto t0 = std::chrono::steady_clock::now();
        f.ctx.run_for(1s);
        CHECK(done);
        CHECK(result == asio::error::operation_aborted);
        CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
        CHECK(f.transport.requests().size() == 1);
    }
}
