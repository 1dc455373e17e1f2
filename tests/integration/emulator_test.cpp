// Integration tests of ossmp-emulator over real loopback sockets: the main multipart flows,
// every error Code, V1/V4 authentication, addressing styles, HTTP framing.
#include "emulator_test_helpers.hpp"

#include <catch2/catch.hpp>

using namespace ossmp;
using namespace ossmp::test;
using namespace ossmp::test::emulator_test;

TEST_CASE("emulator prints its address and stops on SIGTERM", "[emulator]") {
    emulator_process emu(default_args());
    CHECK(emu.first_line() ==
          "ossmp-emulator listening on http://127.0.0.1:" + std::to_string(emu.port()));
    CHECK(emu.port() != 0);
    int status = emu.stop();
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("emulator refuses to start without credentials", "[emulator]") {
    ::unsetenv("OSS_ACCESS_KEY_ID");
    ::unsetenv("OSS_ACCESS_KEY_SECRET");
    CHECK_THROWS_AS(emulator_process({"--bucket", "demo"}, std::chrono::seconds(5)),
                    std::runtime_error);
}

TEST_CASE("emulator multipart upload, V4, path style", "[emulator]") {
    emulator_process emu(default_args());
    emulator_client c(emu.port(), v4_options());
    uploader up{c, "demo", "dir/big file+1.bin"};
    auto id = up.initiate();
    REQUIRE(id.size() == 32);

    const auto p1 = random_bytes(100 * 1024, 1);
    const auto p2 = random_bytes(150 * 1024, 2);
    const auto p3 = random_bytes(1000, 3);
    // Out of order, as parallel clients do.
    auto r2 = up.part(id, 2, p2);
    auto r1 = up.part(id, 1, p1, crypto::base64_encode(crypto::md5(p1)));
    auto r3 = up.part(id, 3, p3);
    for (auto* r : {&r1, &r2, &r3}) {
        REQUIRE(r->status == 200);
        check_common_headers(*r);
        CHECK(r->body.empty());
    }
    CHECK(r1.headers.get("ETag") == quoted_md5(p1));
    CHECK(r2.headers.get("ETag") == quoted_md5(p2));
    CHECK(r1.headers.get("Content-MD5") == crypto::base64_encode(crypto::md5(p1)));
    CHECK(r1.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(p1)));
    CHECK(r3.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(p3)));

    // ListParts: ascending, every field.
    auto lp = c.send(make(http::verb::get, "demo", up.key, {{"uploadId", id}}));
    REQUIRE(lp.status == 200);
    CHECK(lp.headers.get("Content-Type") == "application/xml");
    CHECK(count_of(lp.body, "<Part>") == 3);
    CHECK(xml_text(lp.body, "Key") == up.key);
    CHECK(xml_text(lp.body, "NextPartNumberMarker") == "3");
    CHECK(xml_text(lp.body, "IsTruncated") == "false");
    CHECK(xml_text(lp.body, "ETag") == quoted_md5(p1));
    CHECK(xml_text(lp.body, "HashCrc64ecma") == crc64_to_string(crc64(p1)));
    CHECK(xml_text(lp.body, "Size") == "102400");
    CHECK(lp.body.find("<PartNumber>1</PartNumber>") < lp.body.find("<PartNumber>2</PartNumber>"));

    // Complete with the GO2 form (&#34; quotes), lower-case ETag for part 3.
    std::string lower3 = crypto::hex_lower(crypto::md5(p3));
    auto body = complete_body({{1, "&#34;" + crypto::hex_upper(crypto::md5(p1)) + "&#34;"},
                               {2, quoted_md5(p2)},
                               {3, lower3}});
    auto rc = up.complete(id, body);
    INFO(rc.body);
    REQUIRE(rc.status == 200);
    const std::string concat = crypto::hex_upper(crypto::md5(p1)) +
                               crypto::hex_upper(crypto::md5(p2)) +
                               crypto::hex_upper(crypto::md5(p3));
    const std::string expected_etag = "\"" + crypto::hex_upper(crypto::md5(concat)) + "-3\"";
    CHECK(rc.headers.get("ETag") == expected_etag);
    CHECK(xml_text(rc.body, "ETag") == expected_etag);
    CHECK(xml_text(rc.body, "Bucket") == "demo");
    CHECK(xml_text(rc.body, "Key") == up.key);
    CHECK(xml_text(rc.body, "Location") ==
          "http://demo.oss-cn-hangzhou.aliyuncs.com/dir/big%20file%2B1.bin");
    const std::string whole = p1 + p2 + p3;
    CHECK(rc.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(whole)));

    // The upload is gone.
    auto gone = c.send(make(http::verb::get, "demo", up.key, {{"uploadId", id}}));
    check_error(gone, 404, "NoSuchUpload");
    CHECK(xml_text(gone.body, "UploadId") == id);

    // GET returns the bytes, HEAD the metadata.
    auto g = c.send(make(http::verb::get, "demo", up.key));
    REQUIRE(g.status == 200);
    CHECK(g.body == whole);
    CHECK(g.headers.get("ETag") == expected_etag);
    CHECK(g.headers.get("x-oss-object-type") == "Multipart");
    CHECK(g.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(whole)));
    auto h = c.send(make(http::verb::head, "demo", up.key));
    REQUIRE(h.status == 200);
    CHECK(h.body.empty());
    CHECK(h.headers.get("Content-Length") == std::to_string(whole.size()));
    CHECK(h.headers.get("ETag") == expected_etag);
}

TEST_CASE("emulator multipart upload, V1, virtual-hosted, complete-all", "[emulator]") {
    emulator_process emu(default_args());
    emulator_client c(emu.port(), v1_options(raw_client_options::style::virtual_hosted));
    uploader up{c, "other", "k"};
    http::fields meta;
    meta.add("Content-Type", "text/plain");
    meta.add("x-oss-meta-Color", "blue");
    auto id = up.initiate(meta);
    const auto p1 = random_bytes(200 * 1024, 4);
    const auto p2 = std::string("tail");
    REQUIRE(up.part(id, 1, p1).status == 200);
    REQUIRE(up.part(id, 2, p2).status == 200);
    http::fields all;
    all.add("x-oss-complete-all", "yes");
    auto rc = up.complete(id, "", all);
    INFO(rc.body);
    REQUIRE(rc.status == 200);
    CHECK(rc.headers.get("x-oss-hash-crc64ecma") ==
          crc64_to_string(crc64_combine(crc64(p1), crc64(p2), p2.size())));
    auto h = c.send(make(http::verb::head, "other", "k"));
    CHECK(h.headers.get("Content-Type") == "text/plain");
    CHECK(h.headers.get("x-oss-meta-color") == "blue");
    CHECK(h.headers.get("Content-Length") == std::to_string(p1.size() + 4));
}

TEST_CASE("emulator V1 with x-oss-date and no Date (ali-oss), uploads=", "[emulator]") {
    emulator_process emu(default_args());
    emulator_client c(emu.port(), v1_options());
    // Build the request as ali-oss does: x-oss-date (RFC 1123), no Date, `?uploads=`.
    auto r = make(http::verb::post, "demo", "dir/obj.bin", {{"uploads", ""}});
    r.headers.add("Content-Type", "application/octet-stream");
    r.host = "127.0.0.1:" + std::to_string(emu.port());
    r.path = "/demo/dir/obj.bin";
    auto date = format_rfc1123(std::chrono::system_clock::now());
    r.headers.add("x-oss-date", date);
    auto sts = v1_string_to_sign("POST", "demo", "dir/obj.bin", r.query, r.headers);
    CHECK(sts.find(date + "\nx-oss-date:" + date + "\n/demo/dir/obj.bin?uploads") !=
          std::string::npos);
    r.headers.add("Authorization", v1_authorization(ak, v1_signature(sk, sts)));
    std::string raw = "POST /demo/dir/obj.bin?uploads= HTTP/1.1\r\nHost: " + r.host + "\r\n";
    for (const auto& f : r.headers)
        raw += f.name + ": " + f.value + "\r\n";
    raw += "Content-Length: 0\r\n\r\n";
    auto resp = c.round_trip(raw);
    INFO(resp.body);
    CHECK(resp.status == 200);
    CHECK(xml_text(resp.body, "Key") == "dir/obj.bin");
}

TEST_CASE("emulator simple objects: put, get, range, head, delete", "[emulator]") {
    emulator_process emu(default_args());
    emulator_client c(emu.port(), v4_options());
    const auto data = random_bytes(5000, 7);
    auto put = make(http::verb::put, "demo", "obj");
    put.set_body_view(data);
    put.headers.add("Content-MD5", crypto::base64_encode(crypto::md5(data)));
    auto pr = c.send(std::move(put));
    REQUIRE(pr.status == 200);
    check_common_headers(pr);
    CHECK(pr.headers.get("ETag") == quoted_md5(data));
    CHECK(pr.headers.get("x-oss-hash-crc64ecma") == crc64_to_string(crc64(data)));
    CHECK(pr.headers.get("Content-MD5") == crypto::base64_encode(crypto::md5(data)));

    auto g = c.send(make(http::verb::get, "demo", "obj"));
    REQUIRE(g.status == 200);
    CHECK(g.body == data);
    CHECK(g.headers.get("x-oss-object-type") == "Normal");
    CHECK(g.headers.get("Content-Type") == "application/octet-stream");

    auto rg = make(http::verb::get, "demo", "obj");
    rg.headers.add("Range", "bytes=10-19");
    auto rr = c.send(std::move(rg));
    CHECK(rr.status == 206);
    CHECK(rr.body == data.substr(10, 10));
    CHECK(rr.headers.get("Content-Range") == "bytes 10-19/5000");
    auto rg2 = make(http::verb::get, "demo", "obj");
    rg2.headers.add("Range", "bytes=-5");
    CHECK(c.send(std::move(rg2)).body == data.substr(4995));
    auto rg3 = make(http::verb::get, "demo", "obj");
    rg3.headers.add("Range", "bytes=6000-");
    check_error(c.send(std::move(rg3)), 416, "InvalidRange");

    auto d = c.send(make(http::verb::delete_, "demo", "obj"));
    CHECK(d.status == 204);
    CHECK(d.body.empty());
    CHECK(c.send(make(http::verb::delete_, "demo", "obj")).status == 204); // idempotent
    check_error(c.send(make(http::verb::get, "demo", "obj")), 404, "NoSuchKey");
    // HEAD errors have no body: the XML is base64 in x-oss-err.
    auto h = c.send(make(http::verb::head, "demo", "obj"));
    CHECK(h.status == 404);
    CHECK(h.body.empty());
    auto decoded = crypto::base64_decode(h.headers.get("x-oss-err"));
    REQUIRE(decoded);
    CHECK(xml_text(*decoded, "Code") == "NoSuchKey");
    CHECK(h.headers.get("x-oss-ec") == "0026-00000001");
}

TEST_CASE("emulator error codes of the multipart operations", "[emulator]") {
    emulator_process emu(default_args());
    emulator_client c(emu.port(), v4_options());
    uploader up{c, "demo", "errors.bin"};
    auto id = up.initiate();
    const auto small = random_bytes(1000, 9);
    const auto big = random_bytes(100 * 1024, 10);

    SECTION("NoSuchBucket") {
        auto r = c.send(make(http::verb::post, "nobucket", "k", {{"uploads", ""}}));
        check_error(r, 404, "NoSuchBucket");
        CHECK(xml_text(r.body, "BucketName") == "nobucket");
        CHECK(xml_text(r.body, "EC") == "0015-00000101");
        CHECK(xml_text(r.body, "RecommendDoc") ==
              "https://api.aliyun.com/troubleshoot?q=0015-00000101");
        CHECK(r.headers.get("x-oss-ec") == "0015-00000101");
    }
    SECTION("NoSuchUpload on UploadPart, Abort twice, other key") {
        check_error(up.part("00000000000000000000000000000000", 1, small), 404, "NoSuchUpload");
        uploader other{c, "demo", "another-key"};
        check_error(other.part(id, 1, small), 404, "NoSuchUpload");
        auto a1 = c.send(make(http::verb::delete_, "demo", up.key, {{"uploadId", id}}));
        CHECK(a1.status == 204);
        CHECK(a1.body.empty());
        auto a2 = c.send(make(http::verb::delete_, "demo", up.key, {{"uploadId", id}}));
        check_error(a2, 404, "NoSuchUpload");
    }
    SECTION("InvalidArgument for part numbers") {
        for (std::string n : {"0", "10001", "abc", "-1", ""}) {
            auto r = c.send(
                make(http::verb::put, "demo", up.key, {{"partNumber", n}, {"uploadId", id}}));
            check_error(r, 400, "InvalidArgument");
            CHECK(xml_text(r.body, "EC") == "0017-00000220");
            CHECK(xml_text(r.body, "ArgumentValue") == n);
        }
        CHECK(up.part(id, 10000, small).status == 200);
    }
    SECTION("InvalidDigest") {
        auto r = up.part(id, 1, small, crypto::base64_encode(crypto::md5("other")));
        check_error(r, 400, "InvalidDigest");
        check_error(up.part(id, 1, small, "not base64!"), 400, "InvalidDigest");
        // The part was not stored.
        auto lp = c.send(make(http::verb::get, "demo", up.key, {{"uploadId", id}}));
        CHECK(count_of(lp.body, "<Part>") == 0);
    }
    SECTION("InvalidPart: unknown part or wrong ETag") {
        REQUIRE(up.part(id, 1, big).status == 200);
        check_error(up.complete(id, complete_body({{1, quoted_md5(big)}, {2, quoted_md5(small)}})),
                    400, "InvalidPart");
        check_error(up.complete(id, complete_body({{1, quoted_md5("x")}})), 400, "InvalidPart");
    }
    SECTION("InvalidPartOrder") {
        REQUIRE(up.part(id, 1, big).status == 200);
        REQUIRE(up.part(id, 2, small).status == 200);
        check_error(up.complete(id, complete_body({{2, quoted_md5(small)}, {1, quoted_md5(big)}})),
                    400, "InvalidPartOrder");
        check_error(up.complete(id, complete_body({{1, quoted_md5(big)}, {1, quoted_md5(big)}})),
                    400, "InvalidPartOrder");
    }
    SECTION("EntityTooSmall: non-last part under 100 KiB, last may be small") {
        REQUIRE(up.part(id, 1, small).status == 200);
        REQUIRE(up.part(id, 2, small).status == 200);
        auto r = up.complete(id, complete_body({{1, quoted_md5(small)}, {2, quoted_md5(small)}}));
        check_error(r, 400, "EntityTooSmall");
        CHECK(xml_text(r.body, "EC") == "0042-00000213");
        // A single small part (the last) is fine; the upload is still alive after the error.
        auto ok = up.complete(id, complete_body({{2, quoted_md5(small)}}));
        CHECK(ok.status == 200);
    }
    SECTION("MalformedXML") {
        check_error(up.complete(id, "<CompleteMultipartUpload><Part>"), 400, "MalformedXML");
        check_error(up.complete(id, "<Other/>"), 400, "MalformedXML");
        check_error(up.complete(id, "<CompleteMultipartUpload></CompleteMultipartUpload>"), 400,
                    "MalformedXML");
        check_error(up.complete(id, complete_body({{1, ""}}).replace(33, 1, "x")), 400,
                    "MalformedXML");
    }
    SECTION("complete-all with a body") {
        http::fields all;
        all.add("x-oss-complete-all", "yes");
        auto r = up.complete(id, complete_body({{1, quoted_md5(big)}}), all);
        check_error(r, 400, "InvalidArgument");
        CHECK(xml_text(r.body, "Message") ==
              "Should not speficy both complete all header and http body.");
        CHECK(xml_text(r.body, "ArgumentName") == "x-oss-complete-all");
        CHECK(xml_text(r.body, "EC") == "0042-00000216");
    }
    SECTION("FileAlreadyExists with x-oss-forbid-overwrite") {
        auto put = make(http::verb::put, "demo", up.key);
        put.set_body("exists");
        REQUIRE(c.send(std::move(put)).status == 200);
        REQUIRE(up.part(id, 1, small).status == 200);
        http::fields f;
        f.add("x-oss-forbid-overwrite", "true");
        check_error(up.complete(id, complete_body({{1, quoted_md5(small)}}), f), 409,
                    "FileAlreadyExists");
        auto put2 = make(http::verb::put, "demo", up.key);
        put2.headers.add("x-oss-forbid-overwrite", "true");
        put2.set_body("again");
        check_error(c.send(std::move(put2)), 409, "FileAlreadyExists");
        // Without the header it overwrites.
        CHECK(up.complete(id, complete_body({{1, quoted_md5(small)}})).status == 200);
    }
    SECTION("Complete bodies of every client flavour") {
        REQUIRE(up.part(id, 1, big).status == 200);
        REQUIRE(up.part(id, 2, small).status == 200);
        const auto e1 = crypto::hex_upper(crypto::md5(big));
        const auto e2 = crypto::hex_upper(crypto::md5(small));
        // Each leaf section completes with its own body (Catch attributes assertions to the
        // innermost section that is running).
        const auto complete_with = [&](const std::string& body) {
            auto r = up.complete(id, body);
            INFO(r.body);
            CHECK(r.status == 200);
        };
        std::string body;
        SECTION("python: single-quoted declaration, literal quotes") {
            body = "<?xml version='1.0' encoding='utf-8'?>\n" +
                   complete_body({{1, "\"" + e1 + "\""}, {2, "\"" + e2 + "\""}});
            complete_with(body);
        }
        SECTION("&quot; and whitespace") {
            body = "<CompleteMultipartUpload>\n  <Part>\n    <PartNumber> 1 </PartNumber>\n"
                   "    <ETag>&quot;" +
                   e1 +
                   "&quot;</ETag>\n  </Part>\n  <Part><PartNumber>2"
                   "</PartNumber><ETag>" +
                   e2 + "</ETag></Part>\n</CompleteMultipartUpload>\n";
            complete_with(body);
        }
    }
}

TEST_CASE("emulator limits: 10000 parts, part number bounds, body caps", "[emulator]") {
    emulator_process emu(default_args());
    emulator_client c(emu.port(), v4_options());
    uploader up{c, "demo", "limits"};
    auto id = up.initiate();
    // EntityTooLarge is decided from Content-Length, before the body: raw request.
    auto r = make(http::verb::put, "demo", "limits", {{"partNumber", "1"}, {"uploadId", id}});
    c.prepare(r);
    std::string head = http::serialize_head(r);
    head.replace(head.find("Content-Length: 0"), 17, "Content-Length: 6442450944");
    head.insert(head.size() - 2, "Expect: 100-continue\r\n");
    auto resp = c.round_trip(head);
    check_error(resp, 400, "EntityTooLarge");

    // MissingContentLength: a PUT with neither Content-Length nor chunked.
    emulator_client c2(emu.port(), v4_options());
    auto r2 = make(http::verb::put, "demo", "nolen");
    c2.prepare(r2);
    std::string h2 = http::serialize_head(r2);
    h2.erase(h2.find("Content-Length: 0\r\n"), 19);
    check_error(c2.round_trip(h2), 411, "MissingContentLength");
}

TEST_CASE("emulator authentication", "[emulator]") {
    emulator_process emu(default_args({"--credentials", "STSKEY:STSSECRET:tok3n"}));

    SECTION("SignatureDoesNotMatch: wrong secret (V4, V1)") {
        auto o = v4_options();
        o.creds.access_key_secret = "wrong";
        emulator_client c(emu.port(), o);
        auto r = c.send(make(http::verb::post, "demo", "k", {{"uploads", ""}}));
        check_error(r, 403, "SignatureDoesNotMatch");
        CHECK(xml_text(r.body, "OSSAccessKeyId") == ak);
        CHECK(xml_text(r.body, "EC") == "0002-00000201");
        auto sts = xml_text(r.body, "StringToSign");
        CHECK(sts.starts_with("OSS4-HMAC-SHA256\n"));
        CHECK(xml_text(r.body, "StringToSignBytes").starts_with("4F 53 53 34 2D"));
        auto o1 = v1_options();
        o1.creds.access_key_secret = "wrong";
        emulator_client c1(emu.port(), o1);
        auto r1 = c1.send(make(http::verb::get, "demo", "k"));
        check_error(r1, 403, "SignatureDoesNotMatch");
        CHECK(xml_text(r1.body, "EC") == "0002-00000040");
    }
    SECTION("SignatureDoesNotMatch: tampered signed header or query") {
        emulator_client c(emu.port(), v4_options());
        auto r = make(http::verb::put, "demo", "k");
        r.headers.add("x-oss-meta-a", "1");
        r.set_body("x");
        c.prepare(r);
        r.headers.set("x-oss-meta-a", "2");
        check_error(c.send_prepared(r), 403, "SignatureDoesNotMatch");
        auto q = make(http::verb::get, "demo", "k", {{"uploadId", "A"}});
        c.prepare(q);
        q.query[0].value = "B";
        check_error(c.send_prepared(q), 403, "SignatureDoesNotMatch");
        emulator_client c1(emu.port(), v1_options());
        auto r1 = make(http::verb::put, "demo", "k");
        r1.headers.add("Content-Type", "text/plain");
        r1.set_body("x");
        c1.prepare(r1);
        r1.headers.set("Content-Type", "text/html");
        check_error(c1.send_prepared(r1), 403, "SignatureDoesNotMatch");
    }
    SECTION("wrong region / product scope") {
        auto o = v4_options();
        o.signing.region = "cn-beijing";
        emulator_client c(emu.port(), o);
        check_error(c.send(make(http::verb::get, "demo", "k")), 403, "SignatureDoesNotMatch");
        auto o2 = v4_options();
        o2.signing.region = "oss-cn-hangzhou"; // stripped by the signer, as ali-oss does
        emulator_client c2(emu.port(), o2);
        CHECK(c2.send(make(http::verb::get, "demo", "k")).status == 404);
    }
    SECTION("V4 AdditionalHeaders (host and a custom header) are verified") {
        auto o = v4_options();
        o.signing.additional_headers = {"host", "x-custom"};
        emulator_client c(emu.port(), o);
        auto r = make(http::verb::get, "demo", "k");
        r.headers.add("X-Custom", "v1");
        c.prepare(r);
        CHECK(r.headers.get("Authorization").find("AdditionalHeaders=host;x-custom,") !=
              std::string::npos);
        CHECK(c.send_prepared(r).status == 404); // signature accepted: the key is missing
        r.headers.set("X-Custom", "v2");
        check_error(c.send_prepared(r), 403, "SignatureDoesNotMatch");
    }
    SECTION("InvalidAccessKeyId") {
        auto o = v4_options();
        o.creds.access_key_id = "NOPE";
        emulator_client c(emu.port(), o);
        auto r = c.send(make(http::verb::get, "demo", "k"));
        check_error(r, 403, "InvalidAccessKeyId");
        CHECK(xml_text(r.body, "OSSAccessKeyId") == "NOPE");
        o.signing.version = signature_version::v1;
        emulator_client c1(emu.port(), o);
        check_error(c1.send(make(http::verb::get, "demo", "k")), 403, "InvalidAccessKeyId");
    }
    SECTION("RequestTimeTooSkewed (both directions, V4 and V1)") {
        for (auto version : {signature_version::v4, signature_version::v1}) {
            for (auto delta : {std::chrono::minutes(-16), std::chrono::minutes(16)}) {
                auto o = v4_options();
                o.signing.version = version;
                emulator_client c(emu.port(), o);
                auto r = make(http::verb::get, "demo", "k");
                c.prepare(r, std::chrono::system_clock::now() + delta);
                auto resp = c.send_prepared(r);
                check_error(resp, 403, "RequestTimeTooSkewed");
                CHECK(parse_iso8601_ms(xml_text(resp.body, "ServerTime")).has_value());
            }
        }
        // 14 minutes is within the default 900 s.
        emulator_client c(emu.port(), v4_options());
        auto r = make(http::verb::get, "demo", "k");
        c.prepare(r, std::chrono::system_clock::now() - std::chrono::minutes(14));
        CHECK(c.send_prepared(r).status == 404);
    }
    SECTION("STS token") {
        auto o = v4_options();
        o.creds = {"STSKEY", "STSSECRET", "tok3n"};
        emulator_client c(emu.port(), o);
        CHECK(c.send(make(http::verb::get, "demo", "k")).status == 404);
        o.creds.security_token = "other";
        emulator_client bad(emu.port(), o);
        check_error(bad.send(make(http::verb::get, "demo", "k")), 403, "InvalidSecurityToken");
        o.creds.security_token.clear();
        emulator_client none(emu.port(), o);
        check_error(none.send(make(http::verb::get, "demo", "k")), 403, "InvalidSecurityToken");
    }
    SECTION("anonymous rejected") {
        raw_client_options o;
        emulator_client c(emu.port(), o);
        check_error(c.send(make(http::verb::get, "demo", "k")), 403, "AccessDenied");
    }
    SECTION("malformed Authorization") {
        emulator_client c(emu.port(), v4_options());
        auto r = make(http::verb::get, "demo", "k");
        c.prepare(r);
        r.headers.set("Authorization", "OSS4-HMAC-SHA256 Credential=x");
        check_error(c.send_prepared(r), 400, "InvalidArgument");
    }
}

TEST_CASE("emulator anonymous mode", "[emulator]") {
    emulator_process emu({"--allow-anonymous", "--bucket", "demo"});
    emulator_client c(emu.port(), raw_client_options{});
    auto put = make(http::verb::put, "demo", "a");
    put.set_body("x");
    CHECK(c.send(std::move(put)).status == 200);
}

TEST_CASE("emulator listings: pagination, prefix, delimiter, encoding-type=url", "[emulator]") {
    emulator_process emu(default_args());
    emulator_client c(emu.port(), v4_options());

    SECTION("ListParts markers") {
        uploader up{c, "demo", "lp"};
        auto id = up.initiate();
        for (int n : {1, 2, 5, 7, 9})
            REQUIRE(up.part(id, n, std::to_string(n)).status == 200);
        auto page = [&](std::string marker, std::string max) {
            std::vector<http::query_param> q{{"uploadId", id}, {"max-parts", max}};
            if (!marker.empty())
                q.push_back({"part-number-marker", marker});
            return c.send(make(http::verb::get, "demo", "lp", q));
        };
        auto p1 = page("", "2");
        CHECK(xml_text(p1.body, "IsTruncated") == "true");
        CHECK(xml_text(p1.body, "NextPartNumberMarker") == "2");
        CHECK(xml_text(p1.body, "MaxParts") == "2");
        CHECK(count_of(p1.body, "<Part>") == 2);
        auto p2 = page("2", "2");
        CHECK(xml_text(p2.body, "PartNumberMarker") == "2");
        CHECK(xml_text(p2.body, "PartNumber") == "5");
        CHECK(xml_text(p2.body, "NextPartNumberMarker") == "7");
        CHECK(xml_text(p2.body, "IsTruncated") == "true");
        auto p3 = page("7", "2");
        CHECK(count_of(p3.body, "<Part>") == 1);
        CHECK(xml_text(p3.body, "IsTruncated") == "false");
        CHECK(xml_text(p3.body, "NextPartNumberMarker") == "9");
        check_error(page("", "1001"), 400, "InvalidArgument");
        check_error(page("", "x"), 400, "InvalidArgument");
        // ali-oss order: max-parts first; OSS2's empty marker.
        auto p4 =
            c.send(make(http::verb::get, "demo", "lp",
                        {{"max-parts", "1000"}, {"part-number-marker", ""}, {"uploadId", id}}));
        CHECK(count_of(p4.body, "<Part>") == 5);
    }
    SECTION("ListMultipartUploads") {
        std::vector<std::pair<std::string, std::string>> ids;
        for (std::string k : {"a/1", "a/2", "b", "a/1", "c d+e/f", "a/x/y"}) {
            uploader up{c, "demo", k};
            ids.emplace_back(k, up.initiate());
        }
        auto list = [&](std::vector<http::query_param> q) {
            q.insert(q.begin(), http::query_param{"uploads", ""});
            auto r = c.send(make(http::verb::get, "demo", "", q));
            REQUIRE(r.status == 200);
            return r.body;
        };
        auto all = list({});
        CHECK(count_of(all, "<Upload>") == 6);
        CHECK(xml_text(all, "IsTruncated") == "false");
        CHECK(all.find("<EncodingType>") == std::string::npos);
        // Same key twice: ordered by upload id (= initiation order).
        auto first_a1 = all.find(ids[0].second);
        auto second_a1 = all.find(ids[3].second);
        CHECK(first_a1 < second_a1);

        auto pre = list({{"prefix", "a/"}});
        CHECK(count_of(pre, "<Upload>") == 4);
        CHECK(xml_text(pre, "Prefix") == "a/");

        auto delim = list({{"delimiter", "/"}});
        CHECK(count_of(delim, "<Upload>") == 1);         // "b"
        CHECK(count_of(delim, "<CommonPrefixes>") == 2); // "a/", "c d+e/"
        CHECK(delim.find("<Prefix>a/</Prefix>") != std::string::npos);

        auto delim2 = list({{"prefix", "a/"}, {"delimiter", "/"}});
        CHECK(count_of(delim2, "<Upload>") == 3);
        CHECK(delim2.find("<CommonPrefixes>\n    <Prefix>a/x/</Prefix>") != std::string::npos);

        auto enc = list({{"prefix", "c d"}, {"encoding-type", "url"}});
        CHECK(xml_text(enc, "EncodingType") == "url");
        CHECK(xml_text(enc, "Key") == "c%20d%2Be%2Ff");
        CHECK(xml_text(enc, "Prefix") == "c%20d");

        // Pagination with max-uploads and both markers.
        auto p1 = list({{"max-uploads", "2"}});
        CHECK(count_of(p1, "<Upload>") == 2);
        CHECK(xml_text(p1, "IsTruncated") == "true");
        CHECK(xml_text(p1, "NextKeyMarker") == "a/1");
        CHECK(xml_text(p1, "NextUploadIdMarker") == ids[3].second);
        auto p2 = list(
            {{"max-uploads", "2"}, {"key-marker", "a/1"}, {"upload-id-marker", ids[3].second}});
        CHECK(xml_text(p2, "KeyMarker") == "a/1");
        CHECK(xml_text(p2, "Key") == "a/2");
        CHECK(xml_text(p2, "NextKeyMarker") == "a/x/y");
        auto p3 = list(
            {{"max-uploads", "2"}, {"key-marker", "a/x/y"}, {"upload-id-marker", ids[5].second}});
        CHECK(count_of(p3, "<Upload>") == 2);
        CHECK(xml_text(p3, "IsTruncated") == "false");
        // key-marker alone skips every upload of that key; upload-id-marker alone is ignored.
        auto km = list({{"key-marker", "a/1"}});
        CHECK(count_of(km, "<Upload>") == 4);
        auto im = list({{"upload-id-marker", ids[0].second}});
        CHECK(count_of(im, "<Upload>") == 6);
        CHECK(xml_text(im, "UploadIdMarker") == "");
        // Delimited pages: a common prefix counts once and is not repeated.
        auto d1 = list({{"delimiter", "/"}, {"max-uploads", "1"}});
        CHECK(d1.find("<Prefix>a/</Prefix>") != std::string::npos);
        CHECK(xml_text(d1, "NextKeyMarker") == "a/");
        auto d2 = list({{"delimiter", "/"}, {"max-uploads", "1"}, {"key-marker", "a/"}});
        CHECK(xml_text(d2, "Key") == "b");
    }
    SECTION("encoding-type=url on Initiate, ListParts, Complete") {
        uploader up{c, "demo", "dir/a b+c"};
        auto r = c.send(
            make(http::verb::post, "demo", up.key, {{"uploads", ""}, {"encoding-type", "url"}}));
        CHECK(xml_text(r.body, "EncodingType") == "url");
        CHECK(xml_text(r.body, "Key") == "dir%2Fa%20b%2Bc");
        auto id = xml_text(r.body, "UploadId");
        REQUIRE(up.part(id, 1, "x").status == 200);
        auto lp = c.send(
            make(http::verb::get, "demo", up.key, {{"uploadId", id}, {"encoding-type", "url"}}));
        CHECK(xml_text(lp.body, "Key") == "dir%2Fa%20b%2Bc");
        auto cr =
            make(http::verb::post, "demo", up.key, {{"uploadId", id}, {"encoding-type", "url"}});
        cr.set_body(complete_body({{1, quoted_md5("x")}}));
        auto cp = c.send(std::move(cr));
        CHECK(xml_text(cp.body, "Key") == "dir%2Fa%20b%2Bc");
        CHECK(xml_text(cp.body, "Location") ==
              "http://demo.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc");
    }
}

TEST_CASE("emulator HTTP: chunked, 100-continue, keep-alive, pipelining, malformed", "[emulator]") {
    emulator_process emu(default_args({"--header-timeout", "1"}));
    emulator_client c(emu.port(), v4_options());

    SECTION("chunked body") {
        auto r = make(http::verb::put, "demo", "chunked");
        c.prepare(r);
        std::string head = http::serialize_head(r);
        head.replace(head.find("Content-Length: 0"), 17, "Transfer-Encoding: chunked");
        head += "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
        auto resp = c.round_trip(head);
        REQUIRE(resp.status == 200);
        CHECK(resp.headers.get("ETag") == quoted_md5("hello world"));
        CHECK(c.send(make(http::verb::get, "demo", "chunked")).body == "hello world");
    }
    SECTION("keep-alive and pipelining") {
        auto a = make(http::verb::put, "demo", "p1");
        a.set_body("one");
        c.prepare(a);
        auto b = make(http::verb::get, "demo", "p1");
        c.prepare(b);
        std::string both = http::serialize_head(a) + "one" + http::serialize_head(b);
        REQUIRE(c.write_all(both));
        std::error_code ec;
        auto r1 = c.read_response(false, ec);
        REQUIRE_FALSE(ec);
        auto r2 = c.read_response(false, ec);
        REQUIRE_FALSE(ec);
        CHECK(r1.status == 200);
        CHECK(r2.body == "one");
        CHECK(r2.headers.get("Connection") == "keep-alive");
        CHECK(c.connected());
    }
    SECTION("malformed HTTP gets a 400 and a close") {
        auto r = c.round_trip("GARBAGE\r\n\r\n");
        check_error(r, 400, "BadRequest");
        CHECK(r.headers.get("Connection") == "close");
        c.disconnect();
        auto r2 = c.round_trip(
            "GET /demo/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
        check_error(r2, 400, "BadRequest");
        c.disconnect();
        auto r3 = c.round_trip("GET /demo/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
        check_error(r3, 400, "InvalidURI");
    }
    SECTION("slowloris: an unfinished header section is cut after --header-timeout") {
        REQUIRE(c.write_all("GET /demo/k HTTP/1.1\r\nHost: x\r\n"));
        auto start = std::chrono::steady_clock::now();
        CHECK(c.wait_closed(std::chrono::seconds(5)));
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
    }
    SECTION("unknown method, service level") {
        auto r = c.round_trip("PATCH /demo/k HTTP/1.1\r\nHost: x\r\n\r\n");
        check_error(r, 405, "MethodNotAllowed");
    }
}

TEST_CASE("emulator Expect: 100-continue interim response", "[emulator]") {
    emulator_process emu(default_args());
    emulator_client c(emu.port(), v4_options());
    auto r = make(http::verb::put, "demo", "expect");
    r.set_body("body!");
    c.prepare(r);
    std::string head = http::serialize_head(r);
    head.insert(head.size() - 2, "Expect: 100-continue\r\n");
    REQUIRE(c.write_all(head));
    // The interim response comes before any body byte is sent.
    CHECK(c.read_some(std::chrono::seconds(5)) == "HTTP/1.1 100 Continue\r\n\r\n");
    std::error_code ec;
    REQUIRE(c.write_all("body!"));
    auto resp = c.read_response(false, ec);
    REQUIRE_FALSE(ec);
    CHECK(resp.status == 200);
    CHECK(resp.headers.get("ETag") == quoted_md5("body!"));

    // A refused request with Expect gets its error before any body, then a close.
    auto bad = make(http::verb::put, "nobucket", "k");
    bad.set_body("zzz");
    c.prepare(bad);
    std::string bh = http::serialize_head(bad);
    bh.insert(bh.size() - 2, "Expect: 100-continue\r\n");
    auto br = c.round_trip(bh);
    check_error(br, 404, "NoSuchBucket");
    CHECK(br.headers.get("Connection") == "close");
}

TEST_CASE("emulator serves many concurrent connections", "[emulator]") {
    emulator_process emu(default_args());
    constexpr int n = 32;
    std::vector<std::thread> threads;
    std::vector<int> ok(n, 0);
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            emulator_client c(emu.port(), v4_options());
            auto key = "c" + std::to_string(i);
            auto data = random_bytes(20000 + static_cast<std::size_t>(i), static_cast<unsigned>(i));
            for (int round = 0; round < 5; ++round) {
                auto put = make(http::verb::put, "demo", key);
                put.set_body_view(data);
                if (c.send(std::move(put)).status != 200)
                    return;
                if (c.send(make(http::verb::get, "demo", key)).body != data)
                    return;
            }
            ok[static_cast<std::size_t>(i)] = 1;
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(std::count(ok.begin(), ok.end(), 1) == n);
}

TEST_CASE("emulator virtual-hosted Host of another domain uses the first label", "[emulator]") {
    emulator_process emu(default_args());
    auto o = v4_options(raw_client_options::style::virtual_hosted);
    o.domain = "example.test:1234";
    emulator_client c(emu.port(), o);
    auto put = make(http::verb::put, "demo", "vh");
    put.set_body("v");
    CHECK(c.send(std::move(put)).status == 200);
    emulator_client p(emu.port(), v4_options());
    CHECK(p.send(make(http::verb::get, "demo", "vh")).body == "v");
}

TEST_CASE("emulator: Host names the bucket and the path starts with it (ali-oss sldEnable)",
          "[emulator]") {
    emulator_process emu(default_args());
    for (auto version : {signature_version::v1, signature_version::v4}) {
        auto o = v4_options();
        o.signing.version = version;
        emulator_client c(emu.port(), o);
        // Path-style path, virtual-hosted Host: the path-style reading authenticates.
        auto put = make(http::verb::put, "demo", "k1");
        put.set_body("path");
        c.prepare(put);
        put.host = "demo.oss-cn-hangzhou.aliyuncs.com";
        CHECK(c.send_prepared(put).status == 200);
        auto list = make(http::verb::get, "demo", "", {{"uploads", ""}});
        c.prepare(list);
        list.host = "demo.oss-cn-hangzhou.aliyuncs.com";
        CHECK(c.send_prepared(list).status == 200);
        // A real virtual-hosted request for key "demo/k2" keeps its meaning.
        emulator_client vh(emu.port(), [&] {
            auto v = o;
            v.addressing = raw_client_options::style::virtual_hosted;
            return v;
        }());
        auto put2 = make(http::verb::put, "demo", "demo/k2");
        put2.set_body("virtual");
        CHECK(vh.send(std::move(put2)).status == 200);
    }
    emulator_client c(emu.port(), v4_options());
    CHECK(c.send(make(http::verb::get, "demo", "k1")).body == "path");
    CHECK(c.send(make(http::verb::get, "demo", "demo/k2")).body == "virtual");
    check_error(c.send(make(http::verb::get, "demo", "k2")), 404, "NoSuchKey");
}
