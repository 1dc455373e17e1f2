#include "ossmp/diagnostics.hpp"
#include "ossmp/error.hpp"
#include "ossmp/uri.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <system_error>
#include <vector>

TEST_CASE("service codes round-trip through their strings", "[error]") {
    for (const auto& e : ossmp::detail::service_codes) {
        CHECK(ossmp::service_errc_from_code(e.code) == e.value);
        CHECK(ossmp::service_code_string(e.value) == e.code);
        std::error_code ec = e.value;
        CHECK(ec.message() == std::string(e.code));
        CHECK(ec.category().name() == std::string("oss"));
    }
    CHECK(ossmp::service_errc_from_code("NoSuchThing") == ossmp::service_errc::unknown);
    CHECK(ossmp::service_errc_from_code("nosuchupload") == ossmp::service_errc::unknown);
}

TEST_CASE("status fallback and retryability", "[error]") {
    using ossmp::service_errc;
    CHECK(ossmp::service_errc_for(503, "") == service_errc::service_unavailable);
    CHECK(ossmp::service_errc_for(502, "Weird") == service_errc::internal_error);
    CHECK(ossmp::service_errc_for(404, "NoSuchKey") == service_errc::no_such_key);
    CHECK(ossmp::service_errc_for(400, "Weird") == service_errc::unknown);
    CHECK(ossmp::is_retryable(service_errc::internal_error));
    CHECK(ossmp::is_retryable(service_errc::slow_down));
    CHECK(ossmp::is_retryable(service_errc::request_time_too_skewed));
    CHECK_FALSE(ossmp::is_retryable(service_errc::no_such_upload));
    CHECK_FALSE(ossmp::is_retryable(service_errc::signature_does_not_match));
    CHECK(ossmp::is_retryable(ossmp::errc::crc_mismatch));
    CHECK(ossmp::is_retryable(ossmp::errc::unexpected_eof));
    CHECK_FALSE(ossmp::is_retryable(ossmp::errc::invalid_part_number));
    CHECK(ossmp::is_retryable(std::make_error_code(std::errc::connection_reset)));
    CHECK_FALSE(ossmp::is_retryable(std::make_error_code(std::errc::operation_canceled)));
    CHECK_FALSE(ossmp::is_retryable(std::error_code{}));
}

TEST_CASE("every errc has its own message", "[error]") {
    std::error_code a = ossmp::errc::empty_key, b = ossmp::errc::key_too_long;
    CHECK(a != b);
    CHECK(a.message() != b.message());
    CHECK(a.category().name() == std::string("ossmp"));
    std::error_code unknown(9999, ossmp::errc_category());
    CHECK(unknown.message() == "unknown ossmp error");
}

TEST_CASE("errc messages name the rule or the cause", "[error]") {
    using ossmp::errc;
    auto msg = [](errc e) {
        return std::error_code(e).message();
    };
    // The rule validate_bucket_name implements, stated where users read it.
    CHECK(msg(errc::invalid_bucket_name) ==
          "invalid bucket name: it must be 3-63 characters of a-z, 0-9 and '-', not starting or "
          "ending with '-'");
    CHECK(msg(errc::tls_untrusted_certificate) ==
          "TLS certificate not trusted (unknown CA or self-signed)");
    CHECK(msg(errc::tls_hostname_mismatch) == "TLS certificate does not match the host name");
    CHECK(msg(errc::tls_certificate_expired) == "TLS certificate expired or not yet valid");
    CHECK(msg(errc::transfer_too_slow) == "transfer too slow (below the low-speed limit)");
    CHECK(msg(errc::size_mismatch) == "body size differs from the expected or announced size");
    CHECK(msg(errc::timeout) == "timed out");
    // Every value has a message of its own.
    std::vector<errc> all{errc::timeout,
                          errc::upload_aborted,
                          errc::transfer_too_slow,
                          errc::not_resumable,
                          errc::tls_untrusted_certificate,
                          errc::tls_hostname_mismatch,
                          errc::tls_certificate_expired,
                          errc::size_mismatch,
                          errc::crc_mismatch,
                          errc::unexpected_eof,
                          errc::body_too_large};
    for (std::size_t i = 0; i < all.size(); ++i)
        for (std::size_t j = i + 1; j < all.size(); ++j)
            CHECK(msg(all[i]) != msg(all[j]));
    for (auto e : all)
        CHECK(msg(e) != "unknown ossmp error");
}

TEST_CASE("retryability of timeouts, slow transfers, size mismatches and TLS failures", "[error]") {
    using ossmp::errc;
    CHECK(ossmp::is_retryable(errc::timeout));
    CHECK(ossmp::is_retryable(errc::transfer_too_slow));
    CHECK(ossmp::is_retryable(errc::size_mismatch));
    // Certificates are fixed by configuration, not by trying again.
    CHECK_FALSE(ossmp::is_retryable(errc::tls_untrusted_certificate));
    CHECK_FALSE(ossmp::is_retryable(errc::tls_hostname_mismatch));
    CHECK_FALSE(ossmp::is_retryable(errc::tls_certificate_expired));
    CHECK_FALSE(ossmp::is_retryable(errc::invalid_bucket_name));
}

TEST_CASE("diagnostics summary line", "[error]") {
    ossmp::diagnostics d;
    d.http_status = 404;
    d.code = "NoSuchUpload";
    d.message = "gone";
    d.request_id = "ABC";
    d.ec = "0017-00000244";
    d.extra.emplace_back("UploadId", "U1");
    CHECK(d.to_string() == "NoSuchUpload (HTTP 404): gone [RequestId=ABC, EC=0017-00000244]");
    CHECK(d.field("UploadId") == "U1");
    CHECK(d.field("Nope").empty());
}

TEST_CASE("percent-encoding", "[uri]") {
    using ossmp::uri::encode;
    CHECK(encode("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~") ==
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~");
    CHECK(
        encode("`!@#$%^&*()+={}[]:;'\\|<>,?/ \"") ==
        "%60%21%40%23%24%25%5E%26%2A%28%29%2B%3D%7B%7D%5B%5D%3A%3B%27%5C%7C%3C%3E%2C%3F%2F%20%22");
    CHECK(ossmp::uri::encode_path("`!@#$%^&*()+={}[]:;'\\|<>,?/ \"") ==
          "%60%21%40%23%24%25%5E%26%2A%28%29%2B%3D%7B%7D%5B%5D%3A%3B%27%5C%7C%3C%3E%2C%3F/%20%22");
    CHECK(encode("hello world!") == "hello%20world%21");
    CHECK(ossmp::uri::encode_path("123/+%/abc.txt") == "123/%2B%25/abc.txt");
    CHECK(ossmp::uri::encode_path("a b+c~\xC3\xA9.bin") == "a%20b%2Bc~%C3%A9.bin");
}

TEST_CASE("percent-decoding and query parsing", "[uri]") {
    CHECK(*ossmp::uri::decode("demo%2Fgp-%0C%0A%0B") == "demo/gp-\x0c\n\x0b");
    CHECK(*ossmp::uri::decode("a+b", true) == "a b");
    CHECK(*ossmp::uri::decode("a+b", false) == "a+b");
    CHECK(*ossmp::uri::decode("%e9%C3") == "\xe9\xc3");
    CHECK_FALSE(ossmp::uri::decode("%").has_value());
    CHECK_FALSE(ossmp::uri::decode("%4").has_value());
    CHECK_FALSE(ossmp::uri::decode("ab%G1").has_value());
    auto q = ossmp::uri::parse_query("uploads=&max-parts=1000&&prefix=a%20b&x");
    REQUIRE(q);
    REQUIRE(q->size() == 4);
    CHECK((*q)[0].name == "uploads");
    CHECK((*q)[0].value.empty());
    CHECK((*q)[2].value == "a b");
    CHECK((*q)[3].name == "x");
    CHECK_FALSE(ossmp::uri::parse_query("a=%zz").has_value());
    std::vector<ossmp::http::query_param> params{{"uploads", ""}, {"prefix", "a b/c"}};
    CHECK(ossmp::uri::encode_query(params) == "uploads&prefix=a%20b%2Fc");
    auto t = ossmp::uri::split_target("/bucket/a%20b%2Bc?uploadId=U&partNumber=3");
    REQUIRE(t);
    CHECK(t->path == "/bucket/a b+c");
    REQUIRE(t->query.size() == 2);
    CHECK(t->query[1].value == "3");
}

TEST_CASE("header fields are case-insensitive and ordered", "[http]") {
    ossmp::http::fields f;
    f.add("Content-Type", "a");
    f.add("x-oss-meta-A", "1");
    f.add("content-type", "b");
    CHECK(f.count("CONTENT-TYPE") == 2);
    CHECK(f.get("Content-type") == "a");
    f.set("CONTENT-TYPE", "c");
    CHECK(f.count("content-type") == 1);
    CHECK(f.begin()->value == "c");
    CHECK(f.erase("X-OSS-META-a") == 1);
    CHECK_FALSE(f.find("x-oss-meta-a"));
    CHECK(f.get("missing").empty());
}
