// Sans-io tests of the emulator core (tools/emulator/*.hpp): command line, fault specs, and the
// request handling run without sockets against the vectors of shared/oss-reference.md.
#include "../../tools/emulator/handler.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

using namespace ossmp;
using namespace ossmp::emulator;

namespace {

config parse(std::vector<const char*> args, std::string* error = nullptr) {
    args.insert(args.begin(), "ossmp-emulator");
    config c;
    auto e = parse_command_line(static_cast<int>(args.size()), args.data(), c);
    if (error)
        *error = e;
    else
        REQUIRE(e.empty());
    return c;
}

http::incoming_request req(std::string method, std::string target, std::string host,
                           std::vector<std::pair<std::string, std::string>> headers = {},
                           std::string body = {}) {
    http::incoming_request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers.add("Host", host);
    for (auto& [n, v] : headers)
        r.headers.add(n, v);
    if (!body.empty())
        r.headers.add("Content-Length", std::to_string(body.size()));
    r.body = std::move(body);
    return r;
}

const clock_type::time_point t_2023 = clock_type::time_point(std::chrono::seconds(1702743657));

std::string text(const std::string& body, const std::string& name) {
    auto b = body.find("<" + name + ">");
    if (b == std::string::npos)
        return "<missing>";
    b += name.size() + 2;
    return body.substr(b, body.find("</" + name + ">", b) - b);
}

} // namespace

TEST_CASE("emulator command line", "[emulator][core]") {
    ::unsetenv("OSS_ACCESS_KEY_ID");
    ::unsetenv("OSS_ACCESS_KEY_SECRET");
    ::unsetenv("OSS_SESSION_TOKEN");
    SECTION("defaults") {
        auto c = parse({"--allow-anonymous"});
        CHECK(c.listen_host == "127.0.0.1");
        CHECK(c.listen_port == 9000);
        CHECK(c.storage == storage_kind::memory);
        CHECK(c.buckets == std::vector<std::string>{"demo"});
        CHECK(c.region == "cn-hangzhou");
        CHECK(c.domain == "oss-cn-hangzhou.aliyuncs.com");
        CHECK(c.max_skew == std::chrono::seconds(900));
        CHECK(c.header_timeout == std::chrono::seconds(20));
        CHECK(c.idle_timeout == std::chrono::seconds(60));
        CHECK(c.body_timeout == std::chrono::seconds(60));
        CHECK(c.max_connections == 4096);
        CHECK_FALSE(c.tls());
    }
    SECTION("every flag") {
        auto c = parse({"--listen",
                        "[::1]:0",
                        "--storage",
                        "dir:/tmp/x",
                        "--bucket",
                        "a1b",
                        "--bucket=c2d",
                        "--credentials",
                        "AK:SK",
                        "--credentials",
                        "S:T:TOK",
                        "--region",
                        "oss-cn-beijing",
                        "--domain",
                        "example.test",
                        "--tls-cert",
                        "c.pem",
                        "--tls-key",
                        "k.pem",
                        "--faults",
                        "Put@1=500",
                        "--faults-seed",
                        "42",
                        "--max-skew",
                        "60",
                        "--header-timeout",
                        "3",
                        "--idle-timeout",
                        "4",
                        "--body-timeout",
                        "5",
                        "--max-connections=64"});
        CHECK(c.listen_host == "::1");
        CHECK(c.listen_port == 0);
        CHECK(c.storage == storage_kind::dir);
        CHECK(c.storage_path == "/tmp/x");
        CHECK(c.buckets == std::vector<std::string>{"a1b", "c2d"});
        REQUIRE(c.credentials.size() == 2);
        CHECK(c.credentials[1].id == "S");
        CHECK(c.credentials[1].secret == "T");
        CHECK(c.credentials[1].security_token == "TOK");
        CHECK(c.region == "cn-beijing");
        CHECK(c.domain == "example.test");
        CHECK(c.tls());
        CHECK(c.faults == "Put@1=500");
        CHECK(c.faults_seed == 42);
        CHECK(c.max_skew == std::chrono::seconds(60));
        CHECK(c.header_timeout == std::chrono::seconds(3));
        CHECK(c.idle_timeout == std::chrono::seconds(4));
        CHECK(c.body_timeout == std::chrono::seconds(5));
        CHECK(c.max_connections == 64);
    }
    SECTION("credentials from the environment") {
        ::setenv("OSS_ACCESS_KEY_ID", "envak", 1);
        ::setenv("OSS_ACCESS_KEY_SECRET", "envsk", 1);
        auto c = parse({});
        REQUIRE(c.credentials.size() == 1);
        CHECK(c.credentials[0].id == "envak");
        CHECK(c.credentials[0].secret == "envsk");
        ::unsetenv("OSS_ACCESS_KEY_ID");
        ::unsetenv("OSS_ACCESS_KEY_SECRET");
    }
    SECTION("errors") {
        std::string e;
        parse({}, &e);
        CHECK(e.starts_with("no credentials"));
        for (auto bad : std::vector<std::vector<const char*>>{{"--listen", "nope"},
                                                              {"--listen", "h:70000"},
                                                              {"--storage", "disk"},
                                                              {"--storage", "dir:"},
                                                              {"--credentials", "AKONLY"},
                                                              {"--credentials", ":SK"},
                                                              {"--tls-cert", "c.pem"},
                                                              {"--max-skew", "-1"},
                                                              {"--faults-seed", "x"},
                                                              {"--max-connections", "0"},
                                                              {"--max-connections", "1000001"},
                                                              {"--max-connections"},
                                                              {"--body-timeout", "x"},
                                                              {"--bogus"},
                                                              {"--bucket"}}) {
            bad.push_back("--allow-anonymous");
            parse(bad, &e);
            CHECK_FALSE(e.empty());
        }
        parse({"--help"}, &e);
        CHECK(e == "help");
    }
}

TEST_CASE("emulator fault specs", "[emulator][core]") {
    fault_injector f;
    CHECK(f.parse("UploadPart@2=reset, Complete=500,*%12.5=stall=3,Get@1=truncate", 1).empty());
    REQUIRE(f.rules().size() == 4);
    CHECK(f.rules()[0].nth == 2);
    CHECK(f.rules()[1].nth == 0);
    CHECK(f.rules()[2].percent == 12.5);
    CHECK(f.rules()[2].decision.stall_seconds == 3);
    for (auto bad : {"UploadPart", "Nope=500", "Put@0=500", "Put@x=500", "Put%101=500", "Put%=500",
                     "Put=stall=", "Put=stall=99999", "Put=boom", "=500"})
        CHECK_FALSE(f.parse(bad, 1).empty());

    CHECK(f.parse("UploadPart@2=503,Put=skew", 1).empty());
    CHECK_FALSE(f.decide(operation::upload_part));
    CHECK(f.decide(operation::upload_part).action == fault_action::http_503);
    CHECK_FALSE(f.decide(operation::upload_part));
    CHECK(f.decide(operation::put).action == fault_action::skew);
    CHECK(f.decide(operation::put).action == fault_action::skew);
    CHECK_FALSE(f.decide(operation::get));
    CHECK(f.parse("Head=throw", 1).empty());
    CHECK(f.decide(operation::head).action == fault_action::throw_);

    // %P: reproducible for a seed, roughly P percent.
    auto draw = [](std::uint64_t seed) {
        fault_injector g;
        REQUIRE(g.parse("*%25=500", seed).empty());
        std::string s;
        for (int i = 0; i < 400; ++i)
            s += g.decide(operation::get) ? '1' : '0';
        return s;
    };
    auto a = draw(3);
    CHECK(a == draw(3));
    CHECK(a != draw(4));
    auto n = std::count(a.begin(), a.end(), '1');
    CHECK(n > 60);
    CHECK(n < 140);
}

TEST_CASE("emulator verifies the reference's V4 and V1 vectors", "[emulator][core]") {
    config cfg;
    cfg.credentials.push_back({"ak", "sk", ""});
    cfg.credentials.push_back({"AKIDEXAMPLE", "SECRETEXAMPLE", ""});
    storage store;
    REQUIRE_FALSE(store.open({"examplebucket", "testbucket"}));
    service svc(cfg, store);

    SECTION("6.7 Initiate, V4, virtual-hosted") {
        auto r =
            req("POST", "/multipart.data?uploads", "examplebucket.oss-cn-hangzhou.aliyuncs.com",
                {{"Content-Type", "application/octet-stream"},
                 {"x-oss-date", "20231216T162057Z"},
                 {"Date", "Sat, 16 Dec 2023 16:20:57 GMT"},
                 {"x-oss-content-sha256", "UNSIGNED-PAYLOAD"},
                 {"Authorization",
                  "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
                  "Signature=05dd0c400168b4111ac08d71d9352650347883956dfd27a047bba9793a2d5d6d"}});
        auto rep = svc.handle(r, t_2023);
        INFO(rep.msg.body);
        CHECK(rep.msg.status == 200);
        CHECK(text(rep.msg.body, "Bucket") == "examplebucket");
        // One character off -> SignatureDoesNotMatch with the canonical request.
        r.headers.set("Content-Type", "application/octet-streaM");
        auto bad = svc.handle(r, t_2023);
        CHECK(bad.msg.status == 403);
        CHECK(text(bad.msg.body, "Code") == "SignatureDoesNotMatch");
        CHECK(text(bad.msg.body, "CanonicalRequest")
                  .starts_with("POST\n/examplebucket/multipart.data\nuploads\n"));
        // 20 minutes later the same request is too skewed.
        auto late = svc.handle(r, t_2023 + std::chrono::minutes(20));
        CHECK(text(late.msg.body, "Code") == "RequestTimeTooSkewed");
        CHECK(text(late.msg.body, "RequestTime") == "2023-12-16T16:20:57.000Z");
    }
    SECTION("6.7 ListMultipartUploads, V4, path style, canonical URI /examplebucket/") {
        auto r = req(
            "GET",
            "/examplebucket/?uploads&delimiter=%2F&max-uploads=1000&prefix=a%20b&encoding-type=url",
            "127.0.0.1:9000",
            {{"x-oss-date", "20231216T162057Z"},
             {"x-oss-content-sha256", "UNSIGNED-PAYLOAD"},
             {"Authorization",
              "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
              "Signature=474a0e9eadae3d3f59e787aa9243d1a00d7cacb296eb5c80efe84d0cd03854ed"}});
        auto rep = svc.handle(r, t_2023);
        INFO(rep.msg.body);
        CHECK(rep.msg.status == 200);
        CHECK(text(rep.msg.body, "Prefix") == "a%20b");
        CHECK(text(rep.msg.body, "Delimiter") == "%2F");
    }
    SECTION("7.2 Initiate and UploadPart, V1") {
        auto r =
            req("POST", "/multipart.data?uploads", "examplebucket.oss-cn-hangzhou.aliyuncs.com",
                {{"Content-Type", "application/octet-stream"},
                 {"Date", "Sat, 16 Dec 2023 16:20:57 GMT"},
                 {"Authorization", "OSS ak:2eYaNFqniXghCsklHDlBcUJGbT0="}});
        CHECK(svc.handle(r, t_2023).msg.status == 200);
        // UploadPart of an unknown upload: authentication passes, then NoSuchUpload.
        auto p = req("PUT", "/multipart.data?partNumber=1&uploadId=0004B9895DBBB6EC9",
                     "examplebucket.oss-cn-hangzhou.aliyuncs.com",
                     {{"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
                      {"Date", "Sat, 16 Dec 2023 16:20:57 GMT"},
                      {"Content-Length", "0"},
                      {"Authorization", "OSS ak:dUHdeIpEVeydiO7SXmHc423/xio="}});
        auto rep = svc.handle(p, t_2023);
        CHECK(rep.msg.status == 404);
        CHECK(text(rep.msg.body, "Code") == "NoSuchUpload");
        CHECK(text(rep.msg.body, "UploadId") == "0004B9895DBBB6EC9");
    }
    SECTION("12: ali-oss V1 with x-oss-date only, and V4 UploadPart") {
        auto now = clock_type::time_point(std::chrono::seconds(1795586133)); // 2026-11-25T05:55:33Z
        auto r = req("POST", "/testbucket/dir/obj.bin?uploads=", "127.0.0.1:9000",
                     {{"content-type", "application/octet-stream"},
                      {"x-oss-date", "Wed, 25 Nov 2026 05:55:33 GMT"},
                      {"authorization", "OSS AKIDEXAMPLE:f3W0PnH4neH1WA6otlqg3VuYlts="}});
        auto rep = svc.handle(r, now);
        INFO(rep.msg.body);
        CHECK(rep.msg.status == 200);
        auto p = req(
            "PUT", "/dir/obj.bin?partNumber=1&uploadId=81C78A548D3A46C58E2576A8FC48EED0",
            "testbucket.oss-cn-hangzhou.aliyuncs.com",
            {{"x-oss-date", "20261125T055535Z"},
             {"x-oss-content-sha256", "UNSIGNED-PAYLOAD"},
             {"Content-Length", "0"},
             {"authorization",
              "OSS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/cn-hangzhou/oss/aliyun_v4_request,"
              "Signature=7f60657d2079aa8382f0a040d32a52e2df376989d70df07b24368f7ff6d2f86a"}});
        auto prep = svc.handle(p, now);
        INFO(prep.msg.body);
        CHECK(text(prep.msg.body, "Code") == "NoSuchUpload"); // signature accepted
    }
}

TEST_CASE("emulator multipart ETag matches the recorded OSS response", "[emulator][core]") {
    // oss-reference section 4: parts 4DE8...8EFA and AF94...063B complete to
    // "1C787C506EABFB9B45EAAA8DB039F4B2-2".
    config cfg;
    cfg.allow_anonymous = true;
    storage store(storage_kind::sink);
    REQUIRE_FALSE(store.open({"demo"}));
    service svc(cfg, store);
    auto init = svc.handle(req("POST", "/demo/k?uploads", "127.0.0.1"), t_2023);
    auto id = text(init.msg.body, "UploadId");
    auto* b = store.find_bucket("demo");
    auto* u = store.find_upload(*b, "k", id);
    REQUIRE(u);
    u->parts[1] =
        part_record{1, 200 * 1024, "\"4DE8075FB607DF4D13FBC480EA488EFA\"", 1, t_2023, nullptr, {}};
    u->parts[2] =
        part_record{2, 1000, "\"AF947EC157726CEA88ED83B3C989063B\"", 2, t_2023, nullptr, {}};
    std::string body =
        "<CompleteMultipartUpload><Part><PartNumber>1</"
        "PartNumber><ETag>\"4DE8075FB607DF4D13FBC480EA488EFA\"</ETag></Part>"
        "<Part><PartNumber>2</PartNumber><ETag>\"af947ec157726cea88ed83b3c989063b\"</ETag></Part></"
        "CompleteMultipartUpload>";
    auto rep = svc.handle(req("POST", "/demo/k?uploadId=" + id, "127.0.0.1", {}, body), t_2023);
    INFO(rep.msg.body);
    CHECK(rep.msg.headers.get("ETag") == "\"1C787C506EABFB9B45EAAA8DB039F4B2-2\"");
    CHECK(rep.msg.headers.get("x-oss-hash-crc64ecma") ==
          crc64_to_string(crc64_combine(1, 2, 1000)));
}

TEST_CASE("emulator error body and request id, exact", "[emulator][core]") {
    config cfg;
    cfg.allow_anonymous = true;
    storage store;
    REQUIRE_FALSE(store.open({"demo"}));
    service svc(cfg, store);
    svc.seed(5);
    auto rep =
        svc.handle(req("DELETE", "/k?uploadId=NOPE", "demo.oss-cn-hangzhou.aliyuncs.com"), t_2023);
    auto id = std::string(rep.msg.headers.get("x-oss-request-id"));
    REQUIRE(id.size() == 24);
    CHECK(id.substr(0, 8) == "657DCE69"); // 1702743657
    CHECK(rep.msg.status == 404);
    CHECK(rep.msg.headers.get("Date") == "Sat, 16 Dec 2023 16:20:57 GMT");
    CHECK(rep.msg.headers.get("x-oss-ec") == "0042-00000002");
    CHECK(rep.msg.body ==
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<Error>\n"
          "  <Code>NoSuchUpload</Code>\n"
          "  <Message>The specified upload does not exist. The upload ID may be invalid, or the "
          "upload may have been aborted or completed.</Message>\n"
          "  <RequestId>" +
              id +
              "</RequestId>\n"
              "  <HostId>demo.oss-cn-hangzhou.aliyuncs.com</HostId>\n"
              "  <UploadId>NOPE</UploadId>\n"
              "  <EC>0042-00000002</EC>\n"
              "  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0042-00000002</RecommendDoc>\n"
              "</Error>\n");

    // XML text escaping of keys (without encoding-type) keeps quotes literal.
    auto init = svc.handle(req("POST", "/demo/a%3Cb%26%22c?uploads", "127.0.0.1"), t_2023);
    CHECK(init.msg.body.find("<Key>a&lt;b&amp;\"c</Key>") != std::string::npos);
}
