// Tests of ossmp/responses.hpp: every response parser on the recorded responses of
// oss-reference sections 2 and 5, and on malformed variants.
#include "ossmp/responses.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using ossmp::errc;
using ossmp::service_errc;
namespace http = ossmp::http;
using header_list = std::initializer_list<std::pair<std::string_view, std::string_view>>;

http::response make_response(unsigned status, std::string body, header_list headers = {}) {
    http::response r;
    r.status = status;
    r.body = std::move(body);
    for (const auto& [n, v] : headers)
        r.headers.add(n, v);
    return r;
}

// Replaces the first occurrence of `from` (which must occur) by `to`.
std::string replace(std::string s, std::string_view from, std::string_view to) {
    auto pos = s.find(from);
    REQUIRE(pos != std::string::npos);
    s.replace(pos, from.size(), to);
    return s;
}

std::chrono::system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s,
                                          int ms = 0) {
    using namespace std::chrono;
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} +
           milliseconds{ms};
}

using extra_list = std::vector<std::pair<std::string, std::string>>;

// --- Recorded bodies (oss-reference section numbers) --------------------------------------------

// 2.1, OSS2 unittests/test_multipart.py test_init.
const std::string initiate_body = R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult>
  <Bucket>ming-oss-share</Bucket>
  <Key>uosvelpvgjwtxaciqtxoplnx</Key>
  <UploadId>97BD544A65DB46F9A8735C93917A960F</UploadId>
</InitiateMultipartUploadResult>
)";

// 2.1 with encoding-type=url: EncodingType first, Key encoded.
const std::string initiate_url_body = R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult>
  <EncodingType>url</EncodingType>
  <Bucket>bucket</Bucket>
  <Key>demo%2Fgp-%0C%0A%0B</Key>
  <UploadId>D4E111D4EA834F3ABCE4877B2779****</UploadId>
</InitiateMultipartUploadResult>
)";

// 2.3, OSS2 unittests/test_multipart.py test_complete.
const std::string complete_body = R"(<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult>
  <Location>http://ming-oss-share.oss-cn-hangzhou.aliyuncs.com/pasncdoyuvuvuiyewfsobdwn</Location>
  <Bucket>ming-oss-share</Bucket>
  <Key>pasncdoyuvuvuiyewfsobdwn</Key>
  <ETag>"1C787C506EABFB9B45EAAA8DB039F4B2-2"</ETag>
</CompleteMultipartUploadResult>
)";

// 2.3 with encoding-type=url (GO2 mock): Location is not encoded, Key is.
const std::string complete_url_body = R"(<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult>
  <EncodingType>url</EncodingType>
  <Location>http://oss-example.oss-cn-hangzhou.aliyuncs.com/multipart.data</Location>
  <Bucket>oss-example</Bucket>
  <Key>demo%2Fmultipart.data</Key>
  <ETag>"097DE458AD02B5F89F9D0530231876B4-3"</ETag>
</CompleteMultipartUploadResult>
)";

// 2.5, GO2 mock.
const std::string list_parts_body = R"(<ListPartsResult>
  <EncodingType>url</EncodingType>
  <Bucket>bucket</Bucket>
  <Key>demo%2Fgp-%0C%0A%0B</Key>
  <UploadId>D4E111D4EA834F3ABCE4877B2779****</UploadId>
  <StorageClass>Standard</StorageClass>
  <PartNumberMarker>0</PartNumberMarker>
  <NextPartNumberMarker>1</NextPartNumberMarker>
  <MaxParts>1000</MaxParts>
  <IsTruncated>false</IsTruncated>
  <Part>
    <PartNumber>1</PartNumber>
    <LastModified>2023-11-22T05:42:34.000Z</LastModified>
    <ETag>"CF3F46D505093571E916FCDD4967****"</ETag>
    <HashCrc64ecma>12066172435287683848</HashCrc64ecma>
    <Size>96316</Size>
  </Part>
</ListPartsResult>
)";

// 2.6, GO2 mock.
const std::string list_uploads_body = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult>
    <Bucket>oss-example</Bucket>
    <KeyMarker></KeyMarker>
    <UploadIdMarker></UploadIdMarker>
    <NextKeyMarker>oss.avi</NextKeyMarker>
    <NextUploadIdMarker>0004B99B8E707874FC2D692FA5D77D3F</NextUploadIdMarker>
    <Delimiter></Delimiter>
    <Prefix></Prefix>
    <MaxUploads>1000</MaxUploads>
    <IsTruncated>false</IsTruncated>
    <Upload>
        <Key>multipart.data</Key>
        <UploadId>0004B999EF518A1FE585B0C9360DC4C8</UploadId>
        <Initiated>2012-02-23T04:18:23.000Z</Initiated>
    </Upload>
</ListMultipartUploadsResult>
)";

// 2.6, the empty-list form (OSS2 unittests/test_iterator.py test_upload_iterator_empty): every
// marker element present and empty, plus EncodingType.
const std::string list_uploads_empty_body = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult>
  <EncodingType>url</EncodingType>
  <Bucket>ming-oss-share</Bucket>
  <KeyMarker></KeyMarker>
  <UploadIdMarker></UploadIdMarker>
  <NextKeyMarker></NextKeyMarker>
  <NextUploadIdMarker></NextUploadIdMarker>
  <Delimiter></Delimiter>
  <Prefix></Prefix>
  <MaxUploads>1000</MaxUploads>
  <IsTruncated>false</IsTruncated>
</ListMultipartUploadsResult>
)";

// 5.1, DOC 0042-00000216 via GO2 mock.
const std::string error_body = R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>InvalidArgument</Code>
  <Message>Should not speficy both complete all header and http body.</Message>
  <RequestId>655D9598CA31DC313626****</RequestId>
  <HostId>demo-walker-6961.oss-cn-hangzhou.aliyuncs.com</HostId>
  <ArgumentName>x-oss-complete-all</ArgumentName>
  <ArgumentValue>yes</ArgumentValue>
  <EC>0042-00000216</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0042-00000216</RecommendDoc>
</Error>
)";

// 5.2, DOC 0002-00000040.
const std::string signature_error_body = R"(<Error>
  <Code>SignatureDoesNotMatch</Code>
  <Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message>
  <RequestId>646DCB189AE2D1333018****</RequestId>
  <HostId>bucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <OSSAccessKeyId>LTAI5tMw7e8zyBazfpSS****</OSSAccessKeyId>
  <SignatureProvided>tPN3MChhuKk2XixolQLonoJW****</SignatureProvided>
  <StringToSign>PUT\n\n\nTue, 23 May 2023 15:24:55 GMT\n/bucket/?acl</StringToSign>
  <StringToSignBytes>50 55 54 0A 0A 0A ...</StringToSignBytes>
  <EC>0002-00000040</EC>
</Error>
)";

// base64 of a NoSuchKey <Error> document (with declaration, indented), as a HEAD 404 carries it
// in x-oss-err (oss-reference 1.3). Encoded independently with `base64 -w0`.
constexpr std::string_view head_404_err =
    "PD94bWwgdmVyc2lvbj0iMS4wIiBlbmNvZGluZz0iVVRGLTgiPz4KPEVycm9yPgogIDxDb2RlPk5vU3VjaEtleTwvQ29k"
    "ZT4KICA8TWVzc2FnZT5UaGUgc3BlY2lmaWVkIGtleSBkb2VzIG5vdCBleGlzdC48L01lc3NhZ2U+CiAgPFJlcXVlc3RJ"
    "ZD41QzNEOTE3NUI2RkMyMDEyOTNBRDQ4OTA8L1JlcXVlc3RJZD4KICA8SG9zdElkPm9zcy1leGFtcGxlLm9zcy1jbi1o"
    "YW5nemhvdS5hbGl5dW5jcy5jb208L0hvc3RJZD4KICA8S2V5Pm11bHRpcGFydC5kYXRhPC9LZXk+CiAgPEVDPjAwMjYt"
    "MDAwMDAwMDE8L0VDPgo8L0Vycm9yPgo=";

const std::string billion_laughs = R"(<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
)";

const std::string html_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                             "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n";

// The malformed variants every XML parser must refuse, each with its own errc, built from a
// valid `body` whose root element is `root`.
struct variant {
    std::string what;
    std::string body;
    std::error_code expected;
};

std::vector<variant> common_variants(const std::string& body, std::string_view root) {
    const std::string open = "<" + std::string(root) + ">";
    std::vector<variant> v;
    v.push_back({"truncated", body.substr(0, body.size() / 2), errc::malformed_xml});
    v.push_back({"truncated before the root ends",
                 body.substr(0, body.rfind("</" + std::string(root))), errc::malformed_xml});
    v.push_back({"empty body", "", errc::malformed_xml});
    v.push_back({"HTML from a proxy", html_502, errc::malformed_xml});
    v.push_back({"JSON", R"({"Bucket":"b","Key":"k"})", errc::malformed_xml});
    v.push_back({"billion laughs",
                 billion_laughs + "<" + std::string(root) + ">&lol9;</" + std::string(root) + ">",
                 errc::malformed_xml});
    v.push_back({"external entity",
                 "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" +
                     replace(body, open, open + "<Key>&x;</Key>"),
                 errc::malformed_xml});
    v.push_back({"wrong root", "<SomethingElse><Bucket>b</Bucket></SomethingElse>",
                 errc::unexpected_xml_root});
    v.push_back(
        {"over-size", body + std::string(ossmp::xml::default_max_size, ' '), errc::xml_too_large});
    return v;
}

} // namespace

// --- ETags -------------------------------------------------------------------------------------

TEST_CASE("etag_unquoted and etag_equal", "[responses]") {
    CHECK(ossmp::etag_unquoted("\"DF1F9DE8F39BDE03716AC8D425589A5A\"") ==
          "DF1F9DE8F39BDE03716AC8D425589A5A");
    CHECK(ossmp::etag_unquoted("DF1F") == "DF1F");
    CHECK(ossmp::etag_unquoted("\"") == "\"");
    CHECK(ossmp::etag_unquoted("\"\"") == "");
    CHECK(ossmp::etag_unquoted("") == "");
    CHECK(ossmp::etag_equal("\"1C787C506EABFB9B45EAAA8DB039F4B2-2\"",
                            "1c787c506eabfb9b45eaaa8db039f4b2-2"));
    CHECK(ossmp::etag_equal("\"AB\"", "\"ab\""));
    CHECK_FALSE(ossmp::etag_equal("\"AB\"", "\"AC\""));
    CHECK_FALSE(ossmp::etag_equal("\"AB\"", "AB-1"));
}

// --- Errors ------------------------------------------------------------------------------------

TEST_CASE("parse_error: the 5.1 body fills every diagnostics field", "[responses]") {
    auto r = make_response(400, error_body,
                           {{"Content-Type", "application/xml"},
                            {"x-oss-request-id", "HEADER-REQUEST-ID"},
                            {"x-oss-ec", "HEADER-EC"}});
    ossmp::diagnostics diag;
    diag.code = "stale";
    auto ec = ossmp::parse_error(r, diag);
    CHECK(ec == service_errc::invalid_argument);
    CHECK(diag.http_status == 400);
    CHECK(diag.code == "InvalidArgument");
    CHECK(diag.message == "Should not speficy both complete all header and http body.");
    CHECK(diag.request_id == "655D9598CA31DC313626****"); // the body wins over the header
    CHECK(diag.host_id == "demo-walker-6961.oss-cn-hangzhou.aliyuncs.com");
    CHECK(diag.ec == "0042-00000216");
    CHECK(diag.extra ==
          extra_list{{"ArgumentName", "x-oss-complete-all"},
                     {"ArgumentValue", "yes"},
                     {"RecommendDoc", "https://api.aliyun.com/troubleshoot?q=0042-00000216"}});
    CHECK(diag.field("ArgumentValue") == "yes");
}

TEST_CASE("parse_error: the 5.2 SignatureDoesNotMatch sample", "[responses]") {
    auto r = make_response(403, signature_error_body);
    ossmp::diagnostics diag;
    CHECK(ossmp::parse_error(r, diag) == service_errc::signature_does_not_match);
    CHECK(diag.http_status == 403);
    CHECK(diag.code == "SignatureDoesNotMatch");
    CHECK(diag.message == "The request signature we calculated does not match the signature you "
                          "provided. Check your key and signing method.");
    CHECK(diag.request_id == "646DCB189AE2D1333018****");
    CHECK(diag.host_id == "bucket.oss-cn-hangzhou.aliyuncs.com");
    CHECK(diag.ec == "0002-00000040");
    CHECK(diag.extra ==
          extra_list{{"OSSAccessKeyId", "LTAI5tMw7e8zyBazfpSS****"},
                     {"SignatureProvided", "tPN3MChhuKk2XixolQLonoJW****"},
                     {"StringToSign", R"(PUT\n\n\nTue, 23 May 2023 15:24:55 GMT\n/bucket/?acl)"},
                     {"StringToSignBytes", "50 55 54 0A 0A 0A ..."}});
}

TEST_CASE("parse_error: namespaced root, header fallbacks", "[responses]") {
    auto r = make_response(
        404,
        "<Error xmlns=\"http://doc.oss-cn-hangzhou.aliyuncs.com\"><Code>NoSuchUpload</Code>"
        "<Message>The specified upload does not exist. The upload ID may be invalid, or the upload "
        "may have been aborted or completed.</Message>"
        "<UploadId>0004B9895DBBB6EC98E36</UploadId><HostId>b.oss-cn-hangzhou.aliyuncs.com</HostId>"
        "</Error>",
        {{"x-oss-request-id", "566B6BEF6078C0E44874A4AD"}, {"x-oss-ec", "0017-00000244"}});
    ossmp::diagnostics diag;
    CHECK(ossmp::parse_error(r, diag) == service_errc::no_such_upload);
    CHECK(diag.code == "NoSuchUpload");
    CHECK(diag.message.substr(0, 36) == "The specified upload does not exist.");
    CHECK(diag.request_id == "566B6BEF6078C0E44874A4AD"); // from the header
    CHECK(diag.ec == "0017-00000244");                    // from the header
    CHECK(diag.host_id == "b.oss-cn-hangzhou.aliyuncs.com");
    CHECK(diag.extra == extra_list{{"UploadId", "0004B9895DBBB6EC98E36"}});
}

TEST_CASE("parse_error: x-oss-err carries the error of a body-less HEAD 404", "[responses]") {
    auto r = make_response(404, "",
                           {{"x-oss-request-id", "5C3D9175B6FC201293AD4890"},
                            {"x-oss-ec", "0026-00000001"},
                            {"x-oss-err", head_404_err}});
    ossmp::diagnostics diag;
    CHECK(ossmp::parse_error(r, diag) == service_errc::no_such_key);
    CHECK(diag.http_status == 404);
    CHECK(diag.code == "NoSuchKey");
    CHECK(diag.message == "The specified key does not exist.");
    CHECK(diag.request_id == "5C3D9175B6FC201293AD4890");
    CHECK(diag.host_id == "oss-example.oss-cn-hangzhou.aliyuncs.com");
    CHECK(diag.ec == "0026-00000001");
    CHECK(diag.extra == extra_list{{"Key", "multipart.data"}});

    // The same through the HeadObject parser.
    ossmp::object_meta meta;
    meta.etag = "untouched";
    ossmp::diagnostics diag2;
    CHECK(ossmp::parse_head_object(r, meta, diag2) == service_errc::no_such_key);
    CHECK(diag2.code == "NoSuchKey");
    CHECK(meta.etag == "untouched");
}

TEST_CASE("parse_error: bodies that are not an Error document", "[responses]") {
    ossmp::diagnostics diag;

    SECTION("HTML from a proxy: status fallback, one-line snippet") {
        auto r = make_response(502, html_502, {{"x-oss-request-id", "RID"}});
        CHECK(ossmp::parse_error(r, diag) == service_errc::internal_error);
        CHECK(diag.http_status == 502);
        CHECK(diag.code.empty());
        CHECK(diag.message == "<html>  <head><title>502 Bad Gateway</title></head>  <body>  "
                              "<center><h1>502 Bad Gateway</h1></center>  </body>  ");
        CHECK(diag.request_id == "RID");
        CHECK(diag.extra.empty());
    }
    SECTION("JSON") {
        auto r = make_response(503, R"({"Error":{"Code":"SlowDown"}})", {{"x-oss-ec", "EC-1"}});
        CHECK(ossmp::parse_error(r, diag) == service_errc::service_unavailable);
        CHECK(diag.message == R"({"Error":{"Code":"SlowDown"}})");
        CHECK(diag.ec == "EC-1");
    }
    SECTION("truncated Error XML") {
        auto r = make_response(404, "<Error><Code>NoSuchKey</Code>");
        CHECK(ossmp::parse_error(r, diag) == service_errc::unknown);
        CHECK(diag.code.empty());
        CHECK(diag.message == "<Error><Code>NoSuchKey</Code>");
    }
    SECTION("well-formed but not <Error>") {
        auto r = make_response(429, "<html><body>Too many</body></html>");
        CHECK(ossmp::parse_error(r, diag) == service_errc::too_many_requests);
        CHECK(diag.message == "<html><body>Too many</body></html>");
    }
    SECTION("DOCTYPE in an error body is not expanded") {
        auto r = make_response(500, billion_laughs + "<Error><Code>&lol9;</Code></Error>");
        CHECK(ossmp::parse_error(r, diag) == service_errc::internal_error);
        CHECK(diag.code.empty());
        CHECK(diag.message.size() == ossmp::detail::resp::max_snippet + 3);
        CHECK(diag.message.substr(0, 22) == "<?xml version=\"1.0\"?> ");
        CHECK(diag.message.substr(diag.message.size() - 3) == "...");
    }
    SECTION("no body, no x-oss-err") {
        auto r = make_response(403, "", {{"x-oss-request-id", "R2"}, {"x-oss-ec", "0003-1"}});
        CHECK(ossmp::parse_error(r, diag) == service_errc::unknown);
        CHECK(diag.code.empty());
        CHECK(diag.message.empty());
        CHECK(diag.request_id == "R2");
        CHECK(diag.ec == "0003-1");
    }
    SECTION("x-oss-err that is not base64") {
        auto r = make_response(404, "", {{"x-oss-err", "!!not base64!!"}});
        CHECK(ossmp::parse_error(r, diag) == service_errc::unknown);
        CHECK(diag.code.empty());
        CHECK(diag.message.empty());
    }
    SECTION("x-oss-err that decodes to garbage") {
        auto r = make_response(500, "", {{"x-oss-err", "aGVsbG8="}}); // "hello"
        CHECK(ossmp::parse_error(r, diag) == service_errc::internal_error);
        CHECK(diag.message == "hello");
    }
    SECTION("an unknown Code keeps its string") {
        auto r = make_response(409, "<Error><Code>BrandNewCode</Code><Message>m</Message></Error>");
        CHECK(ossmp::parse_error(r, diag) == service_errc::unknown);
        CHECK(diag.code == "BrandNewCode");
        CHECK(diag.message == "m");
    }
    SECTION("an unknown Code on a 503 falls back to the status") {
        auto r = make_response(503, "<Error><Code>Overloaded</Code></Error>");
        CHECK(ossmp::parse_error(r, diag) == service_errc::service_unavailable);
        CHECK(diag.code == "Overloaded");
    }
    SECTION("a repeated known element goes to extra") {
        auto r = make_response(400, "<Error><Code>InvalidPart</Code><Code>Other</Code></Error>");
        CHECK(ossmp::parse_error(r, diag) == service_errc::invalid_part);
        CHECK(diag.code == "InvalidPart");
        CHECK(diag.extra == extra_list{{"Code", "Other"}});
    }
    SECTION("an over-size body is cut to a snippet") {
        std::string body = "<Error><Code>InternalError</Code></Error>";
        body.append(ossmp::xml::default_max_size, '\n');
        auto r = make_response(500, body);
        CHECK(ossmp::parse_error(r, diag) == service_errc::internal_error);
        CHECK(diag.code.empty());
        CHECK(diag.message.size() == ossmp::detail::resp::max_snippet + 3);
    }
}

// --- InitiateMultipartUpload -------------------------------------------------------------------

TEST_CASE("parse_initiate: recorded response (2.1)", "[responses]") {
    auto r = make_response(200, initiate_body,
                           {{"Server", "AliyunOSS"},
                            {"Content-Type", "application/xml"},
                            {"x-oss-request-id", "566B6BEB1BA604C27DD43805"}});
    ossmp::initiate_result out;
    ossmp::diagnostics diag;
    diag.code = "stale";
    REQUIRE_FALSE(ossmp::parse_initiate(r, out, diag));
    CHECK(out.bucket == "ming-oss-share");
    CHECK(out.key == "uosvelpvgjwtxaciqtxoplnx");
    CHECK(out.upload_id == "97BD544A65DB46F9A8735C93917A960F");
    CHECK(out.encoding_type.empty());
    CHECK(out.request_id == "566B6BEB1BA604C27DD43805");
    CHECK(diag.http_status == 200);
    CHECK(diag.request_id == "566B6BEB1BA604C27DD43805");
    CHECK(diag.code.empty());
}

TEST_CASE("parse_initiate: encoding-type=url decodes Key, not UploadId", "[responses]") {
    auto r = make_response(200, initiate_url_body);
    ossmp::initiate_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_initiate(r, out, diag));
    CHECK(out.encoding_type == "url");
    CHECK(out.bucket == "bucket");
    CHECK(out.key == "demo/gp-\x0C\x0A\x0B");
    CHECK(out.upload_id == "D4E111D4EA834F3ABCE4877B2779****");

    // '+' is a space in encoded values; an UploadId is never decoded.
    auto r2 =
        make_response(200, replace(replace(initiate_url_body, "demo%2Fgp-%0C%0A%0B", "a+b%2B"),
                                   "D4E111D4EA834F3ABCE4877B2779****", "ID%2F+"));
    REQUIRE_FALSE(ossmp::parse_initiate(r2, out, diag));
    CHECK(out.key == "a b+");
    CHECK(out.upload_id == "ID%2F+");

    // Without EncodingType nothing is decoded.
    auto r3 = make_response(200, replace(initiate_body, "uosvelpvgjwtxaciqtxoplnx", "a%2Fb+c"));
    REQUIRE_FALSE(ossmp::parse_initiate(r3, out, diag));
    CHECK(out.key == "a%2Fb+c");
}

TEST_CASE("parse_initiate: namespaced root (old OSS samples)", "[responses]") {
    auto r = make_response(200, replace(initiate_body, "<InitiateMultipartUploadResult>",
                                        "<InitiateMultipartUploadResult "
                                        "xmlns=\"http://doc.oss-cn-hangzhou.aliyuncs.com\">"));
    ossmp::initiate_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_initiate(r, out, diag));
    CHECK(out.upload_id == "97BD544A65DB46F9A8735C93917A960F");
}

TEST_CASE("parse_initiate: unknown elements are skipped", "[responses]") {
    auto r = make_response(200, replace(initiate_body, "<Bucket>",
                                        "<FutureField><Nested>x</Nested></FutureField><Bucket>"));
    ossmp::initiate_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_initiate(r, out, diag));
    CHECK(out.bucket == "ming-oss-share");
}

TEST_CASE("parse_initiate: malformed responses", "[responses]") {
    auto variants = common_variants(initiate_body, "InitiateMultipartUploadResult");
    variants.push_back(
        {"missing UploadId",
         replace(initiate_body, "<UploadId>97BD544A65DB46F9A8735C93917A960F</UploadId>", ""),
         errc::missing_xml_element});
    variants.push_back({"missing Bucket",
                        replace(initiate_body, "<Bucket>ming-oss-share</Bucket>", ""),
                        errc::missing_xml_element});
    variants.push_back({"missing Key",
                        replace(initiate_body, "<Key>uosvelpvgjwtxaciqtxoplnx</Key>", ""),
                        errc::missing_xml_element});
    variants.push_back(
        {"Key nested one level too deep",
         replace(replace(initiate_body, "<Key>", "<Wrapper><Key>"), "</Key>", "</Key></Wrapper>"),
         errc::missing_xml_element});
    variants.push_back({"bad escape in an encoded Key",
                        replace(initiate_url_body, "demo%2Fgp-%0C%0A%0B", "demo%2"),
                        errc::bad_xml_value});
    variants.push_back({"non-hex escape", replace(initiate_url_body, "demo%2Fgp-%0C%0A%0B", "%zz"),
                        errc::bad_xml_value});
    for (const auto& v : variants) {
        INFO(v.what);
        ossmp::initiate_result out;
        out.upload_id = "untouched";
        ossmp::diagnostics diag;
        CHECK(ossmp::parse_initiate(make_response(200, v.body), out, diag) == v.expected);
        CHECK(out.upload_id == "untouched");
        CHECK(diag.http_status == 200);
    }
}

TEST_CASE("parse_initiate: non-2xx goes to parse_error", "[responses]") {
    auto r =
        make_response(404, "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not "
                           "exist.</Message><BucketName>nope</BucketName><EC>0015-00000101</EC>"
                           "</Error>");
    ossmp::initiate_result out;
    ossmp::diagnostics diag;
    CHECK(ossmp::parse_initiate(r, out, diag) == service_errc::no_such_bucket);
    CHECK(diag.http_status == 404);
    CHECK(diag.ec == "0015-00000101");
    CHECK(diag.extra == extra_list{{"BucketName", "nope"}});
}

// --- UploadPart --------------------------------------------------------------------------------

TEST_CASE("parse_upload_part: recorded headers (2.2)", "[responses]") {
    auto r = make_response(200, "",
                           {{"Server", "AliyunOSS"},
                            {"Date", "Sat, 12 Dec 2015 00:35:59 GMT"},
                            {"Content-Length", "0"},
                            {"Connection", "keep-alive"},
                            {"x-oss-request-id", "566B6BEF6078C0E44874A4AD"},
                            {"x-oss-hash-crc64ecma", "6571598172666981661"},
                            {"Content-MD5", "vOjz1IJHxdVVu1aXvyd7NQ=="},
                            {"ETag", "\"DF1F9DE8F39BDE03716AC8D425589A5A\""}});
    ossmp::upload_part_result out;
    out.part_number = 7;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_upload_part(r, out, diag));
    CHECK(out.part_number == 7); // kept: the response does not carry it
    CHECK(out.etag == "\"DF1F9DE8F39BDE03716AC8D425589A5A\"");
    CHECK(out.crc64 == std::optional<std::uint64_t>(6571598172666981661u));
    CHECK(out.content_md5 == "vOjz1IJHxdVVu1aXvyd7NQ==");
    CHECK(out.request_id == "566B6BEF6078C0E44874A4AD");
    CHECK(diag.http_status == 200);
    CHECK(diag.request_id == "566B6BEF6078C0E44874A4AD");
}

TEST_CASE("parse_upload_part: optional headers and header edge cases", "[responses]") {
    ossmp::upload_part_result out;
    ossmp::diagnostics diag;
    // Header names are case-insensitive; CRC of the empty part is 0; no Content-MD5.
    auto r = make_response(
        200, "", {{"etag", "\"D41D8CD98F00B204E9800998ECF8427E\""}, {"X-OSS-HASH-CRC64ECMA", "0"}});
    REQUIRE_FALSE(ossmp::parse_upload_part(r, out, diag));
    CHECK(out.etag == "\"D41D8CD98F00B204E9800998ECF8427E\"");
    CHECK(out.crc64 == std::optional<std::uint64_t>(0));
    CHECK(out.content_md5.empty());
    CHECK(out.request_id.empty());

    auto r2 = make_response(200, "",
                            {{"ETag", "\"AB\""}, {"x-oss-hash-crc64ecma", "18446744073709551615"}});
    REQUIRE_FALSE(ossmp::parse_upload_part(r2, out, diag));
    CHECK(out.crc64 == std::optional<std::uint64_t>(18446744073709551615u));

    auto r3 = make_response(200, "", {{"ETag", "\"AB\""}});
    REQUIRE_FALSE(ossmp::parse_upload_part(r3, out, diag));
    CHECK_FALSE(out.crc64.has_value());
}

TEST_CASE("parse_upload_part: malformed responses", "[responses]") {
    struct hv {
        const char* what;
        header_list headers;
        std::error_code expected;
    };
    const hv cases[] = {
        {"no ETag", {{"x-oss-hash-crc64ecma", "1"}}, errc::missing_header},
        {"empty ETag", {{"ETag", ""}}, errc::bad_header_value},
        {"CRC with letters",
         {{"ETag", "\"A\""}, {"x-oss-hash-crc64ecma", "12a"}},
         errc::bad_header_value},
        {"negative CRC",
         {{"ETag", "\"A\""}, {"x-oss-hash-crc64ecma", "-1"}},
         errc::bad_header_value},
        {"CRC overflow",
         {{"ETag", "\"A\""}, {"x-oss-hash-crc64ecma", "18446744073709551616"}},
         errc::bad_header_value},
        {"empty CRC", {{"ETag", "\"A\""}, {"x-oss-hash-crc64ecma", ""}}, errc::bad_header_value},
        {"hex CRC", {{"ETag", "\"A\""}, {"x-oss-hash-crc64ecma", "0x5B"}}, errc::bad_header_value},
        {"plus CRC", {{"ETag", "\"A\""}, {"x-oss-hash-crc64ecma", "+1"}}, errc::bad_header_value},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        ossmp::upload_part_result out;
        out.etag = "untouched";
        ossmp::diagnostics diag;
        CHECK(ossmp::parse_upload_part(make_response(200, "", c.headers), out, diag) == c.expected);
        CHECK(out.etag == "untouched");
    }
}

TEST_CASE("parse_upload_part: service errors", "[responses]") {
    auto r = make_response(
        404,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>NoSuchUpload</Code>\n  "
        "<Message>The specified upload does not exist. The upload ID may be invalid, or the upload "
        "may have been aborted or completed.</Message>\n  "
        "<RequestId>5C3D8D2A0ACA54D87B43C048</RequestId>\n"
        "  <HostId>b.oss-cn-hangzhou.aliyuncs.com</HostId>\n  "
        "<UploadId>97BD544A65DB46F9A8735C93917A960F</UploadId>\n"
        "  <EC>0017-00000244</EC>\n</Error>\n");
    ossmp::upload_part_result out;
    ossmp::diagnostics diag;
    CHECK(ossmp::parse_upload_part(r, out, diag) == service_errc::no_such_upload);
    CHECK(diag.request_id == "5C3D8D2A0ACA54D87B43C048");
    CHECK(diag.ec == "0017-00000244");
    CHECK(diag.field("UploadId") == "97BD544A65DB46F9A8735C93917A960F");

    auto r2 = make_response(409, "<Error><Code>PartAlreadyExist</Code><Message>For sequential "
                                 "multipart upload, you can't overwrite uploaded parts.</Message>"
                                 "<EC>0042-00000108</EC></Error>");
    CHECK(ossmp::parse_upload_part(r2, out, diag) == service_errc::part_already_exist);
    CHECK(diag.http_status == 409);
}

// --- CompleteMultipartUpload -------------------------------------------------------------------

TEST_CASE("parse_complete: recorded response (2.3)", "[responses]") {
    auto r = make_response(200, complete_body,
                           {{"Server", "AliyunOSS"},
                            {"Content-Type", "application/xml"},
                            {"x-oss-request-id", "566B6C0A05200A20B174994F"},
                            {"ETag", "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\""}});
    ossmp::complete_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_complete(r, out, diag));
    CHECK(out.location ==
          "http://ming-oss-share.oss-cn-hangzhou.aliyuncs.com/pasncdoyuvuvuiyewfsobdwn");
    CHECK(out.bucket == "ming-oss-share");
    CHECK(out.key == "pasncdoyuvuvuiyewfsobdwn");
    CHECK(out.etag == "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\"");
    CHECK_FALSE(out.crc64.has_value());
    CHECK(out.version_id.empty());
    CHECK(out.request_id == "566B6C0A05200A20B174994F");
    CHECK(out.encoding_type.empty());
    CHECK(out.callback_body.empty());
    CHECK(diag.request_id == "566B6C0A05200A20B174994F");
}

TEST_CASE("parse_complete: encoding-type=url, CRC-64 and version headers", "[responses]") {
    auto r = make_response(
        200, complete_url_body,
        {{"x-oss-hash-crc64ecma", "13570749449290420744"},
         {"x-oss-version-id", "CAEQNhiBgMDJgZCA0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFkMjM2"},
         {"ETag", "\"OTHER\""}});
    ossmp::complete_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_complete(r, out, diag));
    CHECK(out.encoding_type == "url");
    CHECK(out.location == "http://oss-example.oss-cn-hangzhou.aliyuncs.com/multipart.data");
    CHECK(out.bucket == "oss-example");
    CHECK(out.key == "demo/multipart.data");
    CHECK(out.etag == "\"097DE458AD02B5F89F9D0530231876B4-3\""); // the XML element wins
    CHECK(out.crc64 == std::optional<std::uint64_t>(13570749449290420744u));
    CHECK(out.version_id == "CAEQNhiBgMDJgZCA0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFkMjM2");

    // Location is never decoded.
    auto r2 = make_response(200, replace(complete_url_body, "/multipart.data</Location>",
                                         "/demo%2Fmultipart.data</Location>"));
    REQUIRE_FALSE(ossmp::parse_complete(r2, out, diag));
    CHECK(out.location == "http://oss-example.oss-cn-hangzhou.aliyuncs.com/demo%2Fmultipart.data");
}

TEST_CASE("parse_complete: ETag falls back to the header", "[responses]") {
    auto r = make_response(
        200, replace(complete_body, "<ETag>\"1C787C506EABFB9B45EAAA8DB039F4B2-2\"</ETag>", ""),
        {{"ETag", "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\""}});
    ossmp::complete_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_complete(r, out, diag));
    CHECK(out.etag == "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\"");
    CHECK(out.bucket == "ming-oss-share");
}

TEST_CASE("parse_complete: with a callback the body is kept raw", "[responses]") {
    auto r = make_response(200, R"({"Status":"OK"})",
                           {{"Content-Type", "application/json"},
                            {"ETag", "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\""},
                            {"x-oss-hash-crc64ecma", "13570749449290420744"},
                            {"x-oss-request-id", "RID"}});
    ossmp::complete_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_complete(r, out, diag, true));
    CHECK(out.callback_body == R"({"Status":"OK"})");
    CHECK(out.etag == "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\"");
    CHECK(out.crc64 == std::optional<std::uint64_t>(13570749449290420744u));
    CHECK(out.bucket.empty());
    CHECK(out.request_id == "RID");
    // Without the flag the same body is malformed XML.
    CHECK(ossmp::parse_complete(r, out, diag) == errc::malformed_xml);
    // With the flag a non-2xx is still an error.
    auto e = make_response(400, "<Error><Code>InvalidPart</Code></Error>");
    CHECK(ossmp::parse_complete(e, out, diag, true) == service_errc::invalid_part);
}

TEST_CASE("parse_complete: a failed callback (203) is a completed upload", "[responses]") {
    const std::string body = "<Error><Code>CallbackFailed</Code><Message>Response body is not "
                             "valid json format.</Message><RequestId>R203</RequestId></Error>";
    auto r = make_response(203, body,
                           {{"ETag", "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\""},
                            {"x-oss-hash-crc64ecma", "13570749449290420744"}});
    ossmp::complete_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_complete(r, out, diag, true));
    CHECK(out.callback_body == body);
    CHECK(out.etag == "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\"");
    CHECK(out.crc64 == std::optional<std::uint64_t>(13570749449290420744u));
    CHECK(out.request_id == "R203");
    CHECK(diag.http_status == 203);
    CHECK(diag.code == "CallbackFailed");
    CHECK(diag.message == "Response body is not valid json format.");
}

TEST_CASE("parse_complete: an <Error> body under 200 is an error", "[responses]") {
    auto r = make_response(200, "<Error><Code>InternalError</Code><Message>We encountered an "
                                "internal error. Please try again.</Message></Error>");
    ossmp::complete_result out;
    ossmp::diagnostics diag;
    CHECK(ossmp::parse_complete(r, out, diag) == service_errc::internal_error);
    CHECK(diag.http_status == 200);
    CHECK(diag.code == "InternalError");
}

TEST_CASE("parse_complete: malformed responses", "[responses]") {
    auto variants = common_variants(complete_body, "CompleteMultipartUploadResult");
    variants.push_back({"bad escape in an encoded Key",
                        replace(complete_url_body, "demo%2Fmultipart.data", "demo%"),
                        errc::bad_xml_value});
    for (const auto& v : variants) {
        INFO(v.what);
        ossmp::complete_result out;
        out.etag = "untouched";
        ossmp::diagnostics diag;
        CHECK(ossmp::parse_complete(make_response(200, v.body), out, diag) == v.expected);
        CHECK(out.etag == "untouched");
    }
    ossmp::complete_result out;
    ossmp::diagnostics diag;
    CHECK(ossmp::parse_complete(make_response(200, complete_body, {{"x-oss-hash-crc64ecma", "1x"}}),
                                out, diag) == errc::bad_header_value);
    CHECK(ossmp::parse_complete(make_response(200, "{}", {{"x-oss-hash-crc64ecma", "-5"}}), out,
                                diag, true) == errc::bad_header_value);
}

TEST_CASE("parse_complete: the service errors of 5.2", "[responses]") {
    struct c {
        unsigned status;
        const char* code;
        service_errc expected;
    };
    const c cases[] = {
        {400, "InvalidPart", service_errc::invalid_part},
        {400, "InvalidPartOrder", service_errc::invalid_part_order},
        {400, "EntityTooSmall", service_errc::entity_too_small},
        {400, "MalformedXML", service_errc::malformed_xml},
        {409, "FileAlreadyExists", service_errc::file_already_exists},
        {404, "NoSuchUpload", service_errc::no_such_upload},
        {403, "RequestTimeTooSkewed", service_errc::request_time_too_skewed},
    };
    for (const auto& e : cases) {
        INFO(e.code);
        ossmp::complete_result out;
        ossmp::diagnostics diag;
        auto r = make_response(e.status, std::string("<Error><Code>") + e.code + "</Code></Error>");
        CHECK(ossmp::parse_complete(r, out, diag) == e.expected);
        CHECK(diag.code == e.code);
        CHECK(diag.http_status == e.status);
    }
}

// --- AbortMultipartUpload ----------------------------------------------------------------------

TEST_CASE("parse_abort: 204 and NoSuchUpload", "[responses]") {
    ossmp::diagnostics diag;
    CHECK_FALSE(ossmp::parse_abort(make_response(204, "", {{"x-oss-request-id", "R"}}), diag));
    CHECK(diag.http_status == 204);
    CHECK(diag.request_id == "R");
    CHECK(ossmp::parse_abort(make_response(404, "<Error><Code>NoSuchUpload</Code></Error>"),
                             diag) == service_errc::no_such_upload);
}

// --- ListParts ---------------------------------------------------------------------------------

TEST_CASE("parse_list_parts: GO2 mock (2.5) with encoding-type=url", "[responses]") {
    auto r = make_response(200, list_parts_body, {{"x-oss-request-id", "RID-LP"}});
    ossmp::list_parts_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_list_parts(r, out, diag));
    CHECK(out.encoding_type == "url");
    CHECK(out.bucket == "bucket");
    CHECK(out.key == "demo/gp-\x0C\x0A\x0B");
    CHECK(out.upload_id == "D4E111D4EA834F3ABCE4877B2779****");
    CHECK(out.storage_class == "Standard");
    CHECK(out.part_number_marker == 0);
    CHECK(out.next_part_number_marker == 1);
    CHECK(out.max_parts == 1000);
    CHECK_FALSE(out.is_truncated);
    REQUIRE(out.parts.size() == 1);
    const auto& p = out.parts[0];
    CHECK(p.part_number == 1);
    CHECK(p.last_modified == "2023-11-22T05:42:34.000Z");
    CHECK(p.last_modified_time == std::optional(utc(2023, 11, 22, 5, 42, 34)));
    CHECK(p.etag == "\"CF3F46D505093571E916FCDD4967****\"");
    CHECK(p.crc64 == std::optional<std::uint64_t>(12066172435287683848u));
    CHECK(p.size == 96316);
    CHECK(diag.request_id == "RID-LP");
}

TEST_CASE("parse_list_parts: namespaced root", "[responses]") {
    auto r = make_response(200, replace(list_parts_body, "<ListPartsResult>",
                                        "<ListPartsResult "
                                        "xmlns=\"http://doc.oss-cn-hangzhou.aliyuncs.com\">"));
    ossmp::list_parts_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_list_parts(r, out, diag));
    CHECK(out.key == "demo/gp-\x0C\x0A\x0B");
    REQUIRE(out.parts.size() == 1);
    CHECK(out.parts[0].size == 96316);
}

TEST_CASE("parse_list_parts: optional fields and lenient markers", "[responses]") {
    const std::string body =
        "<ListPartsResult><Bucket>b</Bucket><Key>a%2Fb</Key>"
        "<UploadId>U</UploadId><PartNumberMarker></PartNumberMarker>"
        "<IsTruncated>true</IsTruncated>"
        "<Part><PartNumber>10000</PartNumber><ETag>\"E\"</ETag>"
        "<HashCrc64ecma></HashCrc64ecma><Size>0</Size>"
        "<LastModified>yesterday</LastModified></Part>"
        "<Part><Size>5368709120</Size><ETag>e2</ETag><PartNumber>3</PartNumber>"
        "</Part></ListPartsResult>";
    ossmp::list_parts_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_list_parts(make_response(200, body), out, diag));
    CHECK(out.key == "a%2Fb"); // no EncodingType: not decoded
    CHECK(out.storage_class.empty());
    CHECK(out.part_number_marker == 0);
    CHECK(out.next_part_number_marker == 0);
    CHECK(out.max_parts == 0);
    CHECK(out.is_truncated);
    REQUIRE(out.parts.size() == 2);
    CHECK(out.parts[0].part_number == 10000);
    CHECK_FALSE(out.parts[0].crc64.has_value());
    CHECK(out.parts[0].size == 0);
    CHECK(out.parts[0].last_modified == "yesterday");
    CHECK_FALSE(out.parts[0].last_modified_time.has_value());
    CHECK(out.parts[1].part_number == 3); // any child order
    CHECK(out.parts[1].etag == "e2");
    CHECK(out.parts[1].size == 5368709120u);
    CHECK(out.parts[1].last_modified.empty());

    // The empty listing.
    const std::string empty =
        "<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>U</UploadId>"
        "<PartNumberMarker>0</PartNumberMarker>"
        "<NextPartNumberMarker>0</NextPartNumberMarker>"
        "<MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>"
        "</ListPartsResult>";
    REQUIRE_FALSE(ossmp::parse_list_parts(make_response(200, empty), out, diag));
    CHECK(out.parts.empty());
    CHECK(out.max_parts == 1000);
}

TEST_CASE("parse_list_parts: malformed responses", "[responses]") {
    auto variants = common_variants(list_parts_body, "ListPartsResult");
    auto part_number = [&](std::string_view v) {
        return replace(list_parts_body, "<PartNumber>1</PartNumber>",
                       "<PartNumber>" + std::string(v) + "</PartNumber>");
    };
    variants.push_back({"PartNumber 1x", part_number("1x"), errc::bad_xml_number});
    variants.push_back({"PartNumber -1", part_number("-1"), errc::bad_xml_number});
    variants.push_back(
        {"PartNumber huge", part_number("99999999999999999999"), errc::bad_xml_number});
    variants.push_back({"PartNumber 0", part_number("0"), errc::bad_xml_number});
    variants.push_back({"PartNumber 10001", part_number("10001"), errc::bad_xml_number});
    variants.push_back({"PartNumber empty", part_number(""), errc::bad_xml_number});
    variants.push_back({"PartNumber with spaces", part_number(" 1 "), errc::bad_xml_number});
    variants.push_back(
        {"Size overflow",
         replace(list_parts_body, "<Size>96316</Size>", "<Size>18446744073709551616</Size>"),
         errc::bad_xml_number});
    variants.push_back({"Size negative",
                        replace(list_parts_body, "<Size>96316</Size>", "<Size>-1</Size>"),
                        errc::bad_xml_number});
    variants.push_back({"HashCrc64ecma bad",
                        replace(list_parts_body, "12066172435287683848", "0x1234"),
                        errc::bad_xml_number});
    variants.push_back({"MaxParts bad",
                        replace(list_parts_body, "<MaxParts>1000<", "<MaxParts>1k<"),
                        errc::bad_xml_number});
    variants.push_back(
        {"NextPartNumberMarker out of range",
         replace(list_parts_body, "<NextPartNumberMarker>1<", "<NextPartNumberMarker>10001<"),
         errc::bad_xml_number});
    variants.push_back({"IsTruncated maybe",
                        replace(list_parts_body, "<IsTruncated>false<", "<IsTruncated>maybe<"),
                        errc::bad_xml_value});
    variants.push_back({"IsTruncated True",
                        replace(list_parts_body, "<IsTruncated>false<", "<IsTruncated>True<"),
                        errc::bad_xml_value});
    variants.push_back({"missing IsTruncated",
                        replace(list_parts_body, "<IsTruncated>false</IsTruncated>", ""),
                        errc::missing_xml_element});
    variants.push_back({"Part without Size", replace(list_parts_body, "<Size>96316</Size>", ""),
                        errc::missing_xml_element});
    variants.push_back(
        {"Part without ETag",
         replace(list_parts_body, "<ETag>\"CF3F46D505093571E916FCDD4967****\"</ETag>", ""),
         errc::missing_xml_element});
    variants.push_back({"Part without PartNumber",
                        replace(list_parts_body, "<PartNumber>1</PartNumber>", ""),
                        errc::missing_xml_element});
    variants.push_back(
        {"bad escape in Key", replace(list_parts_body, "%0B", "%0G"), errc::bad_xml_value});
    for (const auto& v : variants) {
        INFO(v.what);
        ossmp::list_parts_result out;
        out.bucket = "untouched";
        ossmp::diagnostics diag;
        CHECK(ossmp::parse_list_parts(make_response(200, v.body), out, diag) == v.expected);
        CHECK(out.bucket == "untouched");
        CHECK(out.parts.empty());
    }
}

TEST_CASE("parse_list_parts: a 1,000-part document", "[responses]") {
    std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult>\n"
                       "  <Bucket>bucket</Bucket>\n  <Key>big.bin</Key>\n"
                       "  <UploadId>97BD544A65DB46F9A8735C93917A960F</UploadId>\n"
                       "  <StorageClass>Standard</StorageClass>\n"
                       "  <PartNumberMarker>0</PartNumberMarker>\n"
                       "  <NextPartNumberMarker>1000</NextPartNumberMarker>\n"
                       "  <MaxParts>1000</MaxParts>\n  <IsTruncated>true</IsTruncated>\n";
    for (int i = 1; i <= 1000; ++i) {
        char etag[40];
        std::snprintf(etag, sizeof etag, "\"%032X\"", static_cast<unsigned>(i * 2654435761u));
        body += "  <Part>\n    <PartNumber>" + std::to_string(i) +
                "</PartNumber>\n    <LastModified>2023-11-22T05:42:34.000Z</LastModified>\n"
                "    <ETag>" +
                etag + "</ETag>\n    <HashCrc64ecma>" +
                std::to_string(std::uint64_t(i) * 18446744073709551ull) +
                "</HashCrc64ecma>\n    <Size>" + std::to_string(8388608 + i) +
                "</Size>\n  </Part>\n";
    }
    body += "</ListPartsResult>\n";
    ossmp::list_parts_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_list_parts(make_response(200, body), out, diag));
    CHECK(out.is_truncated);
    CHECK(out.next_part_number_marker == 1000);
    REQUIRE(out.parts.size() == 1000);
    CHECK(out.parts.front().part_number == 1);
    CHECK(out.parts.front().etag == "\"0000000000000000000000009E3779B1\"");
    CHECK(out.parts.front().crc64 == std::optional<std::uint64_t>(18446744073709551u));
    CHECK(out.parts.front().size == 8388609);
    CHECK(out.parts.back().part_number == 1000);
    CHECK(out.parts.back().etag == "\"00000000000000000000000008B35B68\"");
    CHECK(out.parts.back().crc64 == std::optional<std::uint64_t>(18446744073709551000u));
    CHECK(out.parts.back().size == 8389608);
    CHECK(out.parts.back().last_modified_time == std::optional(utc(2023, 11, 22, 5, 42, 34)));
    for (int i = 0; i < 1000; ++i)
        REQUIRE(out.parts[i].part_number == i + 1);
}

// --- ListMultipartUploads ----------------------------------------------------------------------

TEST_CASE("parse_list_uploads: GO2 mock (2.6)", "[responses]") {
    auto r = make_response(200, list_uploads_body, {{"x-oss-request-id", "RID-LU"}});
    ossmp::list_uploads_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_list_uploads(r, out, diag));
    CHECK(out.bucket == "oss-example");
    CHECK(out.key_marker.empty());
    CHECK(out.upload_id_marker.empty());
    CHECK(out.next_key_marker == "oss.avi");
    CHECK(out.next_upload_id_marker == "0004B99B8E707874FC2D692FA5D77D3F");
    CHECK(out.delimiter.empty());
    CHECK(out.prefix.empty());
    CHECK(out.max_uploads == 1000);
    CHECK_FALSE(out.is_truncated);
    CHECK(out.encoding_type.empty());
    CHECK(out.common_prefixes.empty());
    REQUIRE(out.uploads.size() == 1);
    CHECK(out.uploads[0].key == "multipart.data");
    CHECK(out.uploads[0].upload_id == "0004B999EF518A1FE585B0C9360DC4C8");
    CHECK(out.uploads[0].storage_class.empty());
    CHECK(out.uploads[0].initiated == "2012-02-23T04:18:23.000Z");
    CHECK(out.uploads[0].initiated_time == std::optional(utc(2012, 2, 23, 4, 18, 23)));
    CHECK(diag.request_id == "RID-LU");
}

TEST_CASE("parse_list_uploads: the empty-list form", "[responses]") {
    ossmp::list_uploads_result out;
    out.uploads.emplace_back();
    ossmp::diagnostics diag;
    REQUIRE_FALSE(
        ossmp::parse_list_uploads(make_response(200, list_uploads_empty_body), out, diag));
    CHECK(out.encoding_type == "url");
    CHECK(out.bucket == "ming-oss-share");
    CHECK(out.key_marker.empty());
    CHECK(out.upload_id_marker.empty());
    CHECK(out.next_key_marker.empty());
    CHECK(out.next_upload_id_marker.empty());
    CHECK(out.delimiter.empty());
    CHECK(out.prefix.empty());
    CHECK(out.max_uploads == 1000);
    CHECK_FALSE(out.is_truncated);
    CHECK(out.uploads.empty());
    CHECK(out.common_prefixes.empty());
}

TEST_CASE("parse_list_uploads: encoding-type=url, common prefixes, truncation", "[responses]") {
    const std::string body = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult>
  <EncodingType>url</EncodingType>
  <Bucket>bucket</Bucket>
  <KeyMarker>photos%2F2023+a.jpg</KeyMarker>
  <UploadIdMarker>ID%2F1</UploadIdMarker>
  <NextKeyMarker>photos%2Fz%2Bz.jpg</NextKeyMarker>
  <NextUploadIdMarker>ID%2F2</NextUploadIdMarker>
  <Delimiter>%2F</Delimiter>
  <Prefix>photos%2F</Prefix>
  <MaxUploads>2</MaxUploads>
  <IsTruncated>true</IsTruncated>
  <Upload>
    <Key>photos%2Fa%20b.jpg</Key>
    <UploadId>0004B999EF518A1FE585B0C9360DC4C8</UploadId>
    <StorageClass>IA</StorageClass>
    <Initiated>2012-02-23T04:18:23.123Z</Initiated>
  </Upload>
  <Upload>
    <Key>photos%2Fz%2Bz.jpg</Key>
    <UploadId>ID%2F2</UploadId>
    <Initiated>2012-02-23T04:18:24.000Z</Initiated>
  </Upload>
  <CommonPrefixes>
    <Prefix>photos%2F2023%2F</Prefix>
  </CommonPrefixes>
  <CommonPrefixes>
    <Prefix>photos%2Fnew+year%2F</Prefix>
  </CommonPrefixes>
</ListMultipartUploadsResult>
)";
    ossmp::list_uploads_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_list_uploads(make_response(200, body), out, diag));
    CHECK(out.key_marker == "photos/2023 a.jpg");
    CHECK(out.upload_id_marker == "ID%2F1"); // never decoded
    CHECK(out.next_key_marker == "photos/z+z.jpg");
    CHECK(out.next_upload_id_marker == "ID%2F2");
    CHECK(out.delimiter == "/");
    CHECK(out.prefix == "photos/");
    CHECK(out.max_uploads == 2);
    CHECK(out.is_truncated);
    REQUIRE(out.uploads.size() == 2);
    CHECK(out.uploads[0].key == "photos/a b.jpg");
    CHECK(out.uploads[0].upload_id == "0004B999EF518A1FE585B0C9360DC4C8");
    CHECK(out.uploads[0].storage_class == "IA");
    CHECK(out.uploads[0].initiated_time == std::optional(utc(2012, 2, 23, 4, 18, 23, 123)));
    CHECK(out.uploads[1].key == "photos/z+z.jpg");
    CHECK(out.uploads[1].upload_id == "ID%2F2");
    CHECK(out.common_prefixes == std::vector<std::string>{"photos/2023/", "photos/new year/"});
}

TEST_CASE("parse_list_uploads: malformed responses", "[responses]") {
    auto variants = common_variants(list_uploads_body, "ListMultipartUploadsResult");
    variants.push_back(
        {"Upload without UploadId",
         replace(list_uploads_body, "<UploadId>0004B999EF518A1FE585B0C9360DC4C8</UploadId>", ""),
         errc::missing_xml_element});
    variants.push_back({"Upload without Key",
                        replace(list_uploads_body, "<Key>multipart.data</Key>", ""),
                        errc::missing_xml_element});
    variants.push_back({"missing IsTruncated",
                        replace(list_uploads_body, "<IsTruncated>false</IsTruncated>", ""),
                        errc::missing_xml_element});
    variants.push_back({"IsTruncated maybe",
                        replace(list_uploads_body, "<IsTruncated>false<", "<IsTruncated>maybe<"),
                        errc::bad_xml_value});
    variants.push_back({"MaxUploads 1x",
                        replace(list_uploads_body, "<MaxUploads>1000<", "<MaxUploads>1x<"),
                        errc::bad_xml_number});
    variants.push_back({"MaxUploads -1",
                        replace(list_uploads_body, "<MaxUploads>1000<", "<MaxUploads>-1<"),
                        errc::bad_xml_number});
    variants.push_back(
        {"MaxUploads huge",
         replace(list_uploads_body, "<MaxUploads>1000<", "<MaxUploads>99999999999999999999<"),
         errc::bad_xml_number});
    const std::string url_body =
        replace(list_uploads_body, "<Bucket>", "<EncodingType>url</EncodingType><Bucket>");
    variants.push_back({"bad escape in Upload/Key",
                        replace(url_body, "multipart.data", "multipart%.data"),
                        errc::bad_xml_value});
    variants.push_back({"bad escape in NextKeyMarker", replace(url_body, "oss.avi", "oss%A"),
                        errc::bad_xml_value});
    variants.push_back({"bad escape in CommonPrefixes/Prefix",
                        replace(url_body, "</Upload>",
                                "</Upload><CommonPrefixes><Prefix>a%</Prefix></CommonPrefixes>"),
                        errc::bad_xml_value});
    for (const auto& v : variants) {
        INFO(v.what);
        ossmp::list_uploads_result out;
        out.bucket = "untouched";
        ossmp::diagnostics diag;
        CHECK(ossmp::parse_list_uploads(make_response(200, v.body), out, diag) == v.expected);
        CHECK(out.bucket == "untouched");
    }
    // The same bodies decode fine without EncodingType (escapes are then plain text).
    ossmp::list_uploads_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_list_uploads(
        make_response(200, replace(list_uploads_body, "multipart.data", "multipart%.data")), out,
        diag));
    CHECK(out.uploads.at(0).key == "multipart%.data");
}

TEST_CASE("parse_list_uploads and parse_list_parts: service errors", "[responses]") {
    ossmp::diagnostics diag;
    ossmp::list_uploads_result lu;
    CHECK(ossmp::parse_list_uploads(make_response(403, "<Error><Code>AccessDenied</Code></Error>"),
                                    lu, diag) == service_errc::access_denied);
    ossmp::list_parts_result lp;
    CHECK(ossmp::parse_list_parts(make_response(404, "<Error><Code>NoSuchUpload</Code></Error>"),
                                  lp, diag) == service_errc::no_such_upload);
    CHECK(ossmp::parse_list_parts(make_response(500, ""), lp, diag) ==
          service_errc::internal_error);
}

// --- PutObject, HeadObject, GetObject, DeleteObject --------------------------------------------

TEST_CASE("parse_put_object", "[responses]") {
    ossmp::put_object_result out;
    ossmp::diagnostics diag;
    auto r = make_response(200, "",
                           {{"ETag", "\"BCE8F3D48247C5D555BB5697BF277B35\""},
                            {"x-oss-hash-crc64ecma", "6571598172666981661"},
                            {"x-oss-version-id", "V1"},
                            {"x-oss-request-id", "RID"}});
    REQUIRE_FALSE(ossmp::parse_put_object(r, out, diag));
    CHECK(out.etag == "\"BCE8F3D48247C5D555BB5697BF277B35\"");
    CHECK(out.crc64 == std::optional<std::uint64_t>(6571598172666981661u));
    CHECK(out.version_id == "V1");
    CHECK(out.request_id == "RID");

    struct hv {
        const char* what;
        header_list headers;
        std::error_code expected;
    };
    const hv cases[] = {
        {"no ETag", {{"x-oss-request-id", "R"}}, errc::missing_header},
        {"empty ETag", {{"ETag", "  "}}, errc::bad_header_value},
        {"CRC with a space",
         {{"ETag", "\"A\""}, {"x-oss-hash-crc64ecma", "1 2"}},
         errc::bad_header_value},
        {"negative CRC",
         {{"ETag", "\"A\""}, {"x-oss-hash-crc64ecma", "-1"}},
         errc::bad_header_value},
        {"CRC overflow",
         {{"ETag", "\"A\""}, {"x-oss-hash-crc64ecma", "99999999999999999999"}},
         errc::bad_header_value},
        {"CRC not a number",
         {{"ETag", "\"A\""}, {"x-oss-hash-crc64ecma", "abc"}},
         errc::bad_header_value},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        out.etag = "untouched";
        CHECK(ossmp::parse_put_object(make_response(200, "", c.headers), out, diag) == c.expected);
        CHECK(out.etag == "untouched");
    }
    CHECK(
        ossmp::parse_put_object(make_response(409, "<Error><Code>FileAlreadyExists</Code></Error>"),
                                out, diag) == service_errc::file_already_exists);
}

TEST_CASE("parse_head_object: every header", "[responses]") {
    auto r = make_response(200, "",
                           {{"Server", "AliyunOSS"},
                            {"Content-Type", "application/octet-stream"},
                            {"Content-Length", "344606"},
                            {"ETag", "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\""},
                            {"Last-Modified", "Sat, 12 Dec 2015 00:36:10 GMT"},
                            {"x-oss-hash-crc64ecma", "13570749449290420744"},
                            {"x-oss-object-type", "Multipart"},
                            {"x-oss-storage-class", "Standard"},
                            {"x-oss-version-id", "CAEQ"},
                            {"x-oss-meta-Author", "alice"},
                            {"x-oss-request-id", "566B6C0A05200A20B174994F"},
                            {"X-OSS-META-empty", ""},
                            {"x-oss-meta-", "no name: not metadata"},
                            {"x-oss-metadata", "not metadata either"}});
    ossmp::object_meta out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_head_object(r, out, diag));
    CHECK(out.size == 344606);
    CHECK(out.content_length == 344606);
    CHECK(out.etag == "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\"");
    CHECK(out.content_type == "application/octet-stream");
    CHECK(out.last_modified == "Sat, 12 Dec 2015 00:36:10 GMT");
    CHECK(out.last_modified_time == std::optional(utc(2015, 12, 12, 0, 36, 10)));
    CHECK(out.crc64 == std::optional<std::uint64_t>(13570749449290420744u));
    CHECK(out.object_type == "Multipart");
    CHECK(out.storage_class == "Standard");
    CHECK(out.version_id == "CAEQ");
    CHECK(out.user_metadata == extra_list{{"author", "alice"}, {"empty", ""}});
    CHECK(out.request_id == "566B6C0A05200A20B174994F");
    CHECK(diag.request_id == "566B6C0A05200A20B174994F");

    // Minimal: only Content-Length.
    REQUIRE_FALSE(
        ossmp::parse_head_object(make_response(200, "", {{"Content-Length", "0"}}), out, diag));
    CHECK(out.size == 0);
    CHECK(out.etag.empty());
    CHECK_FALSE(out.crc64.has_value());
    CHECK_FALSE(out.last_modified_time.has_value());
    CHECK(out.user_metadata.empty());
}

TEST_CASE("parse_head_object: malformed headers", "[responses]") {
    struct hv {
        const char* what;
        header_list headers;
        std::error_code expected;
    };
    const hv cases[] = {
        {"no Content-Length", {{"ETag", "\"A\""}}, errc::missing_header},
        {"Content-Length 12a", {{"Content-Length", "12a"}}, errc::bad_header_value},
        {"Content-Length -1", {{"Content-Length", "-1"}}, errc::bad_header_value},
        {"Content-Length empty", {{"Content-Length", ""}}, errc::bad_header_value},
        {"Content-Length overflow",
         {{"Content-Length", "18446744073709551616"}},
         errc::bad_header_value},
        {"bad CRC",
         {{"Content-Length", "1"}, {"x-oss-hash-crc64ecma", "abc"}},
         errc::bad_header_value},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        ossmp::object_meta out;
        out.etag = "untouched";
        ossmp::diagnostics diag;
        CHECK(ossmp::parse_head_object(make_response(200, "", c.headers), out, diag) == c.expected);
        CHECK(out.etag == "untouched");
    }
}

TEST_CASE("parse_get_object: whole and partial responses", "[responses]") {
    ossmp::object_meta out;
    ossmp::diagnostics diag;
    auto whole = make_response(200, "upload part 1",
                               {{"Content-Length", "13"},
                                {"ETag", "\"BCE8F3D48247C5D555BB5697BF277B35\""},
                                {"x-oss-hash-crc64ecma", "6571598172666981661"},
                                {"x-oss-object-type", "Normal"}});
    REQUIRE_FALSE(ossmp::parse_get_object(whole, out, diag));
    CHECK(out.size == 13);
    CHECK(out.content_length == 13);
    CHECK(out.object_type == "Normal");
    CHECK(out.crc64 == std::optional<std::uint64_t>(6571598172666981661u));

    auto partial =
        make_response(206, "part", {{"Content-Length", "4"}, {"Content-Range", "bytes 7-10/13"}});
    REQUIRE_FALSE(ossmp::parse_get_object(partial, out, diag));
    CHECK(out.size == 13);
    CHECK(out.content_length == 4);
    CHECK(diag.http_status == 206);

    out.etag = "untouched";
    CHECK(ossmp::parse_get_object(make_response(206, "x", {{"Content-Length", "1"}}), out, diag) ==
          errc::missing_header);
    for (std::string_view bad : {"bytes 7-10/*", "bytes 10-7/13", "bytes 7-13/13", "items 0-1/2",
                                 "bytes 7-10", "bytes -10/13", "bytes 7-x/13", "bytes 1/2-3"}) {
        INFO(bad);
        auto r = make_response(206, "x", {{"Content-Length", "4"}, {"Content-Range", bad}});
        CHECK(ossmp::parse_get_object(r, out, diag) == errc::bad_header_value);
    }
    CHECK(out.etag == "untouched");
    CHECK(ossmp::parse_get_object(make_response(416, "<Error><Code>InvalidRange</Code></Error>"),
                                  out, diag) == service_errc::invalid_range);
}

TEST_CASE("parse_delete_object", "[responses]") {
    ossmp::delete_object_result out;
    ossmp::diagnostics diag;
    REQUIRE_FALSE(ossmp::parse_delete_object(make_response(204, "",
                                                           {{"x-oss-version-id", "V2"},
                                                            {"x-oss-delete-marker", "true"},
                                                            {"x-oss-request-id", "R"}}),
                                             out, diag));
    CHECK(out.version_id == "V2");
    CHECK(out.delete_marker);
    CHECK(out.request_id == "R");
    CHECK(diag.http_status == 204);

    REQUIRE_FALSE(ossmp::parse_delete_object(make_response(204, ""), out, diag));
    CHECK(out.version_id.empty());
    CHECK_FALSE(out.delete_marker);

    for (std::string_view bad : {"yes", "TRUE", "1", "", "true false"}) {
        INFO(bad);
        out.version_id = "untouched";
        CHECK(ossmp::parse_delete_object(make_response(204, "", {{"x-oss-delete-marker", bad}}),
                                         out, diag) == errc::bad_header_value);
        CHECK(out.version_id == "untouched");
    }
    CHECK(ossmp::parse_delete_object(make_response(403, "<Error><Code>AccessDenied</Code></Error>"),
                                     out, diag) == service_errc::access_denied);
}
