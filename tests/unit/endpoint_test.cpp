// Tests of endpoint.hpp: URL parsing, regions, addressing styles (oss-reference section 1.1).
#include "ossmp/endpoint.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

ossmp::endpoint parsed(std::string_view url,
                       ossmp::addressing_style style = ossmp::addressing_style::virtual_hosted) {
    ossmp::endpoint ep;
    ep.style = style;
    const auto ec = ossmp::parse_endpoint(url, ep);
    INFO(url);
    REQUIRE_FALSE(ec);
    return ep;
}

ossmp::http::request object_request(std::string bucket, std::string key) {
    ossmp::http::request r;
    r.bucket = std::move(bucket);
    r.key = std::move(key);
    return r;
}

} // namespace

TEST_CASE("parse_endpoint: scheme, host, port, kind", "[endpoint]") {
    auto ep = parsed("https://oss-cn-hangzhou.aliyuncs.com");
    CHECK(ep.scheme == "https");
    CHECK(ep.host == "oss-cn-hangzhou.aliyuncs.com");
    CHECK(ep.port == 443);
    CHECK(ep.kind == ossmp::host_kind::name);
    CHECK(ep.secure());
    CHECK(ep.authority() == "oss-cn-hangzhou.aliyuncs.com");

    ep = parsed("http://127.0.0.1:9000");
    CHECK(ep.scheme == "http");
    CHECK(ep.host == "127.0.0.1");
    CHECK(ep.port == 9000);
    CHECK(ep.kind == ossmp::host_kind::ipv4);
    CHECK_FALSE(ep.secure());
    CHECK(ep.authority() == "127.0.0.1:9000");

    ep = parsed("oss-cn-hangzhou.aliyuncs.com"); // bare host -> https
    CHECK(ep.scheme == "https");
    CHECK(ep.port == 443);
    CHECK(ep.host == "oss-cn-hangzhou.aliyuncs.com");

    ep = parsed("localhost:9000");
    CHECK(ep.scheme == "https");
    CHECK(ep.host == "localhost");
    CHECK(ep.port == 9000);

    ep = parsed("HTTP://OSS-CN-Hangzhou.AliyunCS.com/");
    CHECK(ep.scheme == "http");
    CHECK(ep.host == "oss-cn-hangzhou.aliyuncs.com");
    CHECK(ep.port == 80);

    ep = parsed("http://[::1]:9000");
    CHECK(ep.host == "::1");
    CHECK(ep.kind == ossmp::host_kind::ipv6);
    CHECK(ep.authority() == "[::1]:9000");

    ep = parsed("https://[2001:DB8::8:800:200C:417A]");
    CHECK(ep.host == "2001:db8::8:800:200c:417a");
    CHECK(ep.authority() == "[2001:db8::8:800:200c:417a]");
    CHECK(parsed("https://[::ffff:192.0.2.1]").kind == ossmp::host_kind::ipv6);
    CHECK(parsed("https://[1:2:3:4:5:6:7:8]").kind == ossmp::host_kind::ipv6);
    CHECK(parsed("https://[1:2:3:4:5:6:192.0.2.1]").kind == ossmp::host_kind::ipv6);
    CHECK(parsed("https://[::]").kind == ossmp::host_kind::ipv6);

    // Default ports are not written in Host; non-default ones are.
    CHECK(parsed("https://h.example:443").authority() == "h.example");
    CHECK(parsed("http://h.example:80").authority() == "h.example");
    CHECK(parsed("https://h.example:80").authority() == "h.example:80");
    CHECK(parsed("http://h.example:443").authority() == "h.example:443");
    CHECK(parsed("https://h.example:65535").port == 65535);
    CHECK(parsed("https://my_host-1.internal").host == "my_host-1.internal");
}

TEST_CASE("parse_endpoint rejects invalid URLs and leaves the endpoint alone", "[endpoint]") {
    const char* bad[] = {
        "",
        "https://",
        "ftp://oss.example.com",
        "https//oss.example.com",
        "://oss.example.com",
        "https://oss.example.com:0",
        "https://oss.example.com:65536",
        "https://oss.example.com:123456",
        "https://oss.example.com:",
        "https://oss.example.com:8a",
        "https://oss.example.com:-1",
        "https://oss.example.com/path",
        "https://oss.example.com//",
        "https://oss.example.com?x=1",
        "https://oss.example.com#frag",
        "https://user@oss.example.com",
        "https://user:pw@oss.example.com",
        "https://a..b",
        "https://.example.com",
        "https://example.com.",
        "https://ho st",
        "https://h\xC3\xA9st",
        "https://999.1.1.1",
        "https://1.2.3",
        "https://1.2.3.4.5",
        "https://01.2.3.4",
        "https://[::1",
        "https://[::1]x",
        "https://[::1]:",
        "https://[1::2::3]",
        "https://[:::1]",
        "https://[1:2:3:4:5:6:7:8:9]",
        "https://[1:2:3:4:5:6:7]",
        "https://[12345::1]",
        "https://[fe80::1%25eth0]",
        "https://[g::1]",
        "https://[]",
        "https://::1",
        "https://a:1:2",
        " https://oss.example.com",
        "https://oss.example.com ",
    };
    for (const char* url : bad) {
        INFO(url);
        ossmp::endpoint ep;
        ep.host = "untouched";
        CHECK(ossmp::parse_endpoint(url, ep) == ossmp::errc::invalid_endpoint);
        CHECK(ep.host == "untouched");
        CHECK(ep.scheme == "https");
        CHECK(ep.port == 443);
    }
}

TEST_CASE("regions and regional endpoints", "[endpoint]") {
    using ossmp::endpoint_access;
    CHECK(ossmp::normalize_region("oss-cn-hangzhou") == "cn-hangzhou");
    CHECK(ossmp::normalize_region("cn-hangzhou") == "cn-hangzhou");
    CHECK(ossmp::normalize_region("oss-") == "");
    CHECK(ossmp::normalize_region("") == "");
    CHECK(ossmp::normalize_region("oss-oss-x") == "oss-x"); // one prefix only

    CHECK(ossmp::endpoint_for_region("cn-hangzhou") == "oss-cn-hangzhou.aliyuncs.com");
    CHECK(ossmp::endpoint_for_region("oss-cn-hangzhou") == "oss-cn-hangzhou.aliyuncs.com");
    CHECK(ossmp::endpoint_for_region("cn-hangzhou", endpoint_access::internal) ==
          "oss-cn-hangzhou-internal.aliyuncs.com");
    CHECK(ossmp::endpoint_for_region("cn-hangzhou", endpoint_access::dual_stack) ==
          "cn-hangzhou.oss.aliyuncs.com");
    CHECK(ossmp::endpoint_for_region("cn-hangzhou", endpoint_access::accelerate) ==
          "oss-accelerate.aliyuncs.com");
    CHECK(ossmp::endpoint_for_region("", endpoint_access::accelerate_overseas) ==
          "oss-accelerate-overseas.aliyuncs.com");
    CHECK(ossmp::endpoint_for_region("") == "");
    CHECK(ossmp::endpoint_for_region("oss-") == "");
    CHECK(ossmp::endpoint_for_region("cn hangzhou") == "");
    CHECK(ossmp::endpoint_for_region("cn-hangzhou.evil.com/") == "");
    CHECK(ossmp::endpoint_for_region("CN-HANGZHOU") == "");

    CHECK(ossmp::region_from_endpoint_host("oss-cn-hangzhou.aliyuncs.com") == "cn-hangzhou");
    CHECK(ossmp::region_from_endpoint_host("OSS-CN-HANGZHOU.ALIYUNCS.COM") == "cn-hangzhou");
    CHECK(ossmp::region_from_endpoint_host("oss-cn-hangzhou-internal.aliyuncs.com") ==
          "cn-hangzhou");
    CHECK(ossmp::region_from_endpoint_host("cn-hangzhou.oss.aliyuncs.com") == "cn-hangzhou");
    CHECK(ossmp::region_from_endpoint_host("oss-accelerate.aliyuncs.com") == "");
    CHECK(ossmp::region_from_endpoint_host("oss-accelerate-overseas.aliyuncs.com") == "");
    CHECK(ossmp::region_from_endpoint_host("127.0.0.1") == "");
    CHECK(ossmp::region_from_endpoint_host("static.example.com") == "");
    CHECK(ossmp::region_from_endpoint_host("ecs.aliyuncs.com") == "");
    CHECK(ossmp::region_from_endpoint_host(".aliyuncs.com") == "");
    // Round trip over the three regional kinds.
    for (auto access :
         {endpoint_access::public_internet, endpoint_access::internal, endpoint_access::dual_stack})
        CHECK(ossmp::region_from_endpoint_host(
                  ossmp::endpoint_for_region("ap-southeast-1", access)) == "ap-southeast-1");
}

TEST_CASE("apply: virtual-hosted style (section 1.1 examples)", "[endpoint]") {
    const auto ep = parsed("https://oss-cn-hangzhou.aliyuncs.com");
    CHECK(ep.effective_style() == ossmp::addressing_style::virtual_hosted);
    auto r = object_request("bucket", "123/+%/abc.txt");
    ep.apply(r);
    CHECK(r.host == "bucket.oss-cn-hangzhou.aliyuncs.com");
    CHECK(r.path == "/123/%2B%25/abc.txt");
    CHECK(ep.url(r) == "https://bucket.oss-cn-hangzhou.aliyuncs.com/123/%2B%25/abc.txt");

    // Applying again (e.g. on retry) gives the same strings, not accumulated ones.
    ep.apply(r);
    CHECK(r.host == "bucket.oss-cn-hangzhou.aliyuncs.com");
    CHECK(r.path == "/123/%2B%25/abc.txt");

    auto bucket_level = object_request("bucket", "");
    bucket_level.query = {{"uploads", ""}};
    ep.apply(bucket_level);
    CHECK(bucket_level.host == "bucket.oss-cn-hangzhou.aliyuncs.com");
    CHECK(bucket_level.path == "/");
    CHECK(ep.url(bucket_level) == "https://bucket.oss-cn-hangzhou.aliyuncs.com/?uploads");

    auto service = object_request("", "");
    ep.apply(service);
    CHECK(service.host == "oss-cn-hangzhou.aliyuncs.com");
    CHECK(service.path == "/");
    CHECK(ep.url(service) == "https://oss-cn-hangzhou.aliyuncs.com/");

    auto utf8 = object_request("bucket", "dir/a b+c~\xC3\xA9.bin");
    ep.apply(utf8);
    CHECK(utf8.path == "/dir/a%20b%2Bc~%C3%A9.bin");

    // A non-default port goes into Host after the bucket label.
    const auto ported = parsed("https://oss.example.com:8443");
    auto p = object_request("bucket", "k");
    ported.apply(p);
    CHECK(p.host == "bucket.oss.example.com:8443");
    CHECK(p.path == "/k");
}

TEST_CASE("apply: path style (section 1.1 example)", "[endpoint]") {
    const auto ep = parsed("https://oss-cn-hangzhou.aliyuncs.com", ossmp::addressing_style::path);
    auto r = object_request("my-bucket", "my-key+123");
    r.query = {{"key", "value"}};
    ep.apply(r);
    CHECK(r.host == "oss-cn-hangzhou.aliyuncs.com");
    CHECK(r.path == "/my-bucket/my-key%2B123");
    CHECK(ep.url(r) == "https://oss-cn-hangzhou.aliyuncs.com/my-bucket/my-key%2B123?key=value");

    auto bucket_level = object_request("my-bucket", "");
    ep.apply(bucket_level);
    CHECK(bucket_level.host == "oss-cn-hangzhou.aliyuncs.com");
    CHECK(bucket_level.path == "/my-bucket/");

    auto service = object_request("", "");
    ep.apply(service);
    CHECK(service.path == "/");
}

TEST_CASE("apply: CNAME style", "[endpoint]") {
    const auto ep = parsed("https://static.example.com", ossmp::addressing_style::cname);
    auto r = object_request("bucket", "dir/file name.txt");
    ep.apply(r);
    CHECK(r.host == "static.example.com");
    CHECK(r.path == "/dir/file%20name.txt");
    auto bucket_level = object_request("bucket", "");
    ep.apply(bucket_level);
    CHECK(bucket_level.host == "static.example.com");
    CHECK(bucket_level.path == "/");
}

TEST_CASE("apply: IP endpoints are always path-style", "[endpoint]") {
    for (auto style : {ossmp::addressing_style::virtual_hosted, ossmp::addressing_style::path,
                       ossmp::addressing_style::cname}) {
        const auto v4 = parsed("http://127.0.0.1:9000", style);
        CHECK(v4.is_ip());
        CHECK(v4.effective_style() == ossmp::addressing_style::path);
        auto r = object_request("bucket", "a/b+c");
        v4.apply(r);
        CHECK(r.host == "127.0.0.1:9000");
        CHECK(r.path == "/bucket/a/b%2Bc");
        CHECK(v4.url(r) == "http://127.0.0.1:9000/bucket/a/b%2Bc");

        const auto v6 = parsed("http://[::1]:9000", style);
        auto r6 = object_request("bucket", "");
        v6.apply(r6);
        CHECK(r6.host == "[::1]:9000");
        CHECK(r6.path == "/bucket/");

        const auto v4_default_port = parsed("https://10.0.0.1", style);
        auto r4 = object_request("bucket", "k");
        v4_default_port.apply(r4);
        CHECK(r4.host == "10.0.0.1");
    }
    // A name that merely looks numeric-ish is not an IP.
    const auto name = parsed("http://127.0.0.1.nip.io:9000");
    CHECK_FALSE(name.is_ip());
    auto r = object_request("bucket", "k");
    name.apply(r);
    CHECK(r.host == "bucket.127.0.0.1.nip.io:9000");
}
