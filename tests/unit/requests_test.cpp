#include "ossmp/requests.hpp"
#include "ossmp/uri.hpp"

#include <catch2/catch.hpp>

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace {

using ossmp::errc;
using ossmp::http::verb;
using pairs = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view bucket = "examplebucket";
constexpr std::string_view key = "multipart.data";
constexpr std::string_view uid = "0004B9895DBBB6EC9";

pairs headers_of(const ossmp::http::request& r) {
    pairs out;
    for (const auto& f : r.headers)
        out.emplace_back(f.name, f.value);
    return out;
}

pairs query_of(const ossmp::http::request& r) {
    pairs out;
    for (const auto& q : r.query)
        out.emplace_back(q.name, q.value);
    return out;
}

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// A request whose every field differs from what a builder makes, to show that a failing builder
// leaves its output alone.
ossmp::http::request sentinel() {
    ossmp::http::request r;
    r.method = verb::head;
    r.bucket = "sentinel-bucket";
    r.key = "sentinel-key";
    r.query.push_back({"sentinel", "1"});
    r.headers.add("X-Sentinel", "1");
    r.host = "sentinel.example";
    r.path = "/sentinel";
    r.set_body(std::string("sentinel body"));
    return r;
}

bool is_sentinel(const ossmp::http::request& r) {
    return r.method == verb::head && r.bucket == "sentinel-bucket" && r.key == "sentinel-key" &&
           query_of(r) == pairs{{"sentinel", "1"}} && headers_of(r) == pairs{{"X-Sentinel", "1"}} &&
           r.host == "sentinel.example" && r.path == "/sentinel" && r.body() == "sentinel body" &&
           !r.body_is_view();
}

// A fresh request, as every successful builder leaves it before its own fields.
void check_untargeted(const ossmp::http::request& r) {
    CHECK(r.host.empty());
    CHECK(r.path == "/");
    CHECK_FALSE(r.headers.contains("Host"));
    CHECK_FALSE(r.headers.contains("Content-Length"));
    CHECK_FALSE(r.headers.contains("Authorization"));
    CHECK_FALSE(r.headers.contains("Date"));
}

// Reserves `size` bytes of address space without memory behind it, so that a span of more than
// 5 GiB refers to a valid range; the builders only look at its size.
class reserved_range {
public:
    explicit reserved_range(std::size_t size) : size_(size) {
        void* p =
            ::mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        data_ = p == MAP_FAILED ? nullptr : static_cast<const std::byte*>(p);
    }
    ~reserved_range() {
        if (data_)
            ::munmap(const_cast<std::byte*>(data_), size_);
    }
    reserved_range(const reserved_range&) = delete;
    reserved_range& operator=(const reserved_range&) = delete;
    std::span<const std::byte> span() const { return {data_, size_}; }
    bool ok() const { return data_ != nullptr; }

private:
    std::size_t size_;
    const std::byte* data_ = nullptr;
};

constexpr std::uint64_t gib = 1024ull * 1024 * 1024;

} // namespace

#if defined(__SANITIZE_ADDRESS__)
#define REQUESTS_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REQUESTS_TEST_SANITIZED 1
#endif
#endif

TEST_CASE("InitiateMultipartUpload, minimal (oss-reference 6.7 row 1)", "[requests]") {
    ossmp::initiate_params p;
    p.bucket = bucket;
    p.key = key;
    auto r = sentinel();
    REQUIRE_FALSE(ossmp::make_initiate_request(p, r));
    CHECK(r.method == verb::post);
    CHECK(r.bucket == bucket);
    CHECK(r.key == key);
    CHECK(query_of(r) == pairs{{"uploads", ""}});
    CHECK(ossmp::uri::encode_query(r.query) == "uploads");
    CHECK(headers_of(r) == pairs{{"Content-Type", "application/octet-stream"}});
    CHECK(r.body().empty());
    CHECK_FALSE(r.body_is_view());
    check_untargeted(r);
}

TEST_CASE("InitiateMultipartUpload, every header", "[requests]") {
    ossmp::initiate_params p;
    p.bucket = bucket;
    p.key = "dir/a b+c~.txt";
    p.content_type = "text/plain";
    p.cache_control = "no-cache";
    p.content_disposition = "attachment; filename=\"a.txt\"";
    p.content_encoding = "gzip";
    p.expires = "Wed, 21 Oct 2015 07:28:00 GMT";
    p.forbid_overwrite = true;
    p.server_side_encryption = "KMS";
    p.server_side_data_encryption = "SM4";
    p.server_side_encryption_key_id = "key-1";
    p.storage_class = "IA";
    p.tagging = "TagA=B&TagC=D";
    p.request_payer = "requester";
    p.user_metadata = {{"Author", "alice"}, {"magic", "abracadabra"}};
    p.extra_headers.add("X-Custom", "1");
    p.extra_headers.add("x-oss-meta-extra", "e");
    p.encoding_type_url = true;
    ossmp::http::request r;
    REQUIRE_FALSE(ossmp::make_initiate_request(p, r));
    CHECK(r.method == verb::post);
    CHECK(r.key == "dir/a b+c~.txt");
    CHECK(query_of(r) == pairs{{"uploads", ""}, {"encoding-type", "url"}});
    CHECK(ossmp::uri::encode_query(r.query) == "uploads&encoding-type=url");
    CHECK(headers_of(r) == pairs{
                               {"Content-Type", "text/plain"},
                               {"Cache-Control", "no-cache"},
                               {"Content-Disposition", "attachment; filename=\"a.txt\""},
                               {"Content-Encoding", "gzip"},
                               {"Expires", "Wed, 21 Oct 2015 07:28:00 GMT"},
                               {"x-oss-forbid-overwrite", "true"},
                               {"x-oss-server-side-encryption", "KMS"},
                               {"x-oss-server-side-data-encryption", "SM4"},
                               {"x-oss-server-side-encryption-key-id", "key-1"},
                               {"x-oss-storage-class", "IA"},
                               {"x-oss-tagging", "TagA=B&TagC=D"},
                               {"x-oss-request-payer", "requester"},
                               {"x-oss-meta-author", "alice"},
                               {"x-oss-meta-magic", "abracadabra"},
                               {"X-Custom", "1"},
                               {"x-oss-meta-extra", "e"},
                           });
    CHECK(r.body().empty());

    p.forbid_overwrite = false;
    REQUIRE_FALSE(ossmp::make_initiate_request(p, r));
    CHECK(r.headers.get("x-oss-forbid-overwrite") == "false");
}

TEST_CASE("Initiate: extra headers and metadata replace same-named headers", "[requests]") {
    ossmp::initiate_params p;
    p.bucket = bucket;
    p.key = key;
    p.cache_control = "no-cache";
    p.user_metadata = {{"A", "1"}, {"a", "2"}};
    p.extra_headers.add("content-type", "image/png");
    p.extra_headers.add("X-Last", "x");
    ossmp::http::request r;
    REQUIRE_FALSE(ossmp::make_initiate_request(p, r));
    CHECK(headers_of(r) == pairs{
                               {"Content-Type", "image/png"},
                               {"Cache-Control", "no-cache"},
                               {"x-oss-meta-a", "2"},
                               {"X-Last", "x"},
                           });
}

TEST_CASE("Initiate: header validation", "[requests]") {
    auto base = [] {
        ossmp::initiate_params p;
        p.bucket = bucket;
        p.key = key;
        return p;
    };
    auto run = [](const ossmp::initiate_params& p) {
        auto r = sentinel();
        auto ec = ossmp::make_initiate_request(p, r);
        CHECK(is_sentinel(r) == static_cast<bool>(ec)); // replaced only on success
        return ec;
    };
    {
        auto p = base();
        p.content_type = "text/plain\r\nX-Injected: 1";
        CHECK(run(p) == errc::invalid_header);
    }
    {
        auto p = base();
        p.tagging = "a\r\nb";
        CHECK(run(p) == errc::invalid_header);
    }
    {
        auto p = base();
        p.user_metadata = {{"ok", "a\r\nb"}};
        CHECK(run(p) == errc::invalid_header);
    }
    {
        auto p = base();
        p.user_metadata = {{"bad name", "v"}};
        CHECK(run(p) == errc::invalid_header);
    }
    {
        auto p = base();
        p.user_metadata = {{"", "v"}};
        CHECK(run(p) == errc::invalid_header);
    }
    {
        auto p = base();
        p.extra_headers.add("X-Ok", "a\nb");
        CHECK(run(p) == errc::invalid_header);
    }
    {
        auto p = base();
        p.extra_headers.add("", "v");
        CHECK(run(p) == errc::invalid_header);
    }
    for (const char* framing : {"Content-Length", "transfer-encoding", "HOST"}) {
        auto p = base();
        p.extra_headers.add(framing, "1");
        CHECK(run(p) == errc::invalid_header);
    }
}

TEST_CASE("UploadPart (oss-reference 6.7 row 2)", "[requests]") {
    const std::string data = "upload part 1";
    ossmp::upload_part_params p;
    p.bucket = bucket;
    p.key = key;
    p.upload_id = uid;
    p.part_number = 1;
    p.data = bytes_of(data);
    p.content_md5 = "vOjz1IJHxdVVu1aXvyd7NQ==";
    auto r = sentinel();
    REQUIRE_FALSE(ossmp::make_upload_part_request(p, r));
    CHECK(r.method == verb::put);
    CHECK(r.bucket == bucket);
    CHECK(r.key == key);
    CHECK(query_of(r) == pairs{{"partNumber", "1"}, {"uploadId", std::string(uid)}});
    CHECK(ossmp::uri::encode_query(r.query) == "partNumber=1&uploadId=0004B9895DBBB6EC9");
    CHECK(headers_of(r) == pairs{{"Content-MD5", "vOjz1IJHxdVVu1aXvyd7NQ=="}});
    // The body is a view of the caller's bytes: same address, no copy.
    CHECK(r.body_is_view());
    CHECK(r.body() == "upload part 1");
    CHECK(static_cast<const void*>(r.body().data()) == static_cast<const void*>(data.data()));
    check_untargeted(r);

    p.part_number = 10000;
    p.content_md5.clear();
    p.traffic_limit = 819200;
    p.request_payer = "requester";
    REQUIRE_FALSE(ossmp::make_upload_part_request(p, r));
    CHECK(ossmp::uri::encode_query(r.query) == "partNumber=10000&uploadId=0004B9895DBBB6EC9");
    CHECK(headers_of(r) ==
          pairs{{"x-oss-traffic-limit", "819200"}, {"x-oss-request-payer", "requester"}});

    // An empty part (a last part may be 0 bytes) is a valid, empty view.
    p.data = {};
    p.traffic_limit.reset();
    p.request_payer.clear();
    REQUIRE_FALSE(ossmp::make_upload_part_request(p, r));
    CHECK(r.body_is_view());
    CHECK(r.body().empty());
    CHECK(headers_of(r).empty());
}

TEST_CASE("UploadPart validation", "[requests]") {
    const std::string data = "x";
    auto base = [&] {
        ossmp::upload_part_params p;
        p.bucket = bucket;
        p.key = key;
        p.upload_id = uid;
        p.part_number = 1;
        p.data = bytes_of(data);
        return p;
    };
    auto run = [](const ossmp::upload_part_params& p) {
        auto r = sentinel();
        auto ec = ossmp::make_upload_part_request(p, r);
        CHECK(is_sentinel(r) == static_cast<bool>(ec)); // replaced only on success
        return ec;
    };
    auto with = [&](auto change) {
        auto p = base();
        change(p);
        return run(p);
    };
    using P = ossmp::upload_part_params;
    CHECK(with([](P& p) { p.bucket = "ab"; }) == errc::invalid_bucket_name);
    CHECK(with([](P& p) { p.key.clear(); }) == errc::empty_key);
    CHECK(with([](P& p) { p.upload_id.clear(); }) == errc::empty_upload_id);
    CHECK(with([](P& p) { p.part_number = 0; }) == errc::invalid_part_number);
    CHECK(with([](P& p) { p.part_number = 10001; }) == errc::invalid_part_number);
    CHECK(with([](P& p) { p.content_md5 = "not base64"; }) == errc::invalid_header);
    CHECK(with([](P& p) { p.content_md5 = "vOjz1IJHxdVVu1aXvyd7NQ="; }) == errc::invalid_header);
    CHECK(with([](P& p) { p.content_md5 = "vOjz1IJHxdVVu1aXvyd7N\n=="; }) == errc::invalid_header);
    CHECK(with([](P& p) { p.traffic_limit = 245759; }) == errc::invalid_argument);
    CHECK(with([](P& p) { p.traffic_limit = 838860801; }) == errc::invalid_argument);
    CHECK_FALSE(with([](P& p) { p.traffic_limit = 245760; }));
    CHECK_FALSE(with([](P& p) { p.traffic_limit = 838860800; }));
    CHECK(with([](P& p) { p.request_payer = "a\r\nb"; }) == errc::invalid_header);

    reserved_range big(5 * gib + 1);
    REQUIRE(big.ok());
    CHECK(with([&](P& p) { p.data = big.span(); }) == errc::part_too_large);
    CHECK_FALSE(with([&](P& p) { p.data = big.span().first(5 * gib); }));
}

TEST_CASE("CompleteMultipartUpload: unsorted parts give the sorted exact body", "[requests]") {
    ossmp::complete_params p;
    p.bucket = bucket;
    p.key = key;
    p.upload_id = uid;
    p.parts = {
        {3, "\"3349DC700140D7F86A0784842780****\""},
        {1, "8EFDA8BE206636A695359836FE0A****"}, // no quotes: they are added
        {2, "\"8C315065167132444177411FDA14****\""},
    };
    const std::string expected_body =
        "<CompleteMultipartUpload>"
        "<Part><PartNumber>1</PartNumber><ETag>\"8EFDA8BE206636A695359836FE0A****\"</ETag></Part>"
        "<Part><PartNumber>2</PartNumber><ETag>\"8C315065167132444177411FDA14****\"</ETag></Part>"
        "<Part><PartNumber>3</PartNumber><ETag>\"3349DC700140D7F86A0784842780****\"</ETag></Part>"
        "</CompleteMultipartUpload>";
    auto r = sentinel();
    REQUIRE_FALSE(ossmp::make_complete_request(p, r));
    CHECK(r.method == verb::post);
    CHECK(r.bucket == bucket);
    CHECK(r.key == key);
    CHECK(query_of(r) == pairs{{"uploadId", std::string(uid)}});
    CHECK(ossmp::uri::encode_query(r.query) == "uploadId=0004B9895DBBB6EC9");
    CHECK(headers_of(r) == pairs{{"Content-Type", "application/xml"}});
    CHECK(r.body() == expected_body);
    CHECK(r.body().size() == 309);
    CHECK_FALSE(r.body_is_view());
    check_untargeted(r);
    // The caller's list is not reordered.
    CHECK(p.parts[0].part_number == 3);

    // With Content-MD5 of the body, every optional header and encoding-type=url.
    p.send_content_md5 = true;
    p.encoding_type_url = true;
    p.object_acl = "private";
    p.forbid_overwrite = true;
    p.callback = "eyJjYWxsYmFja1VybCI6IjEifQ==";
    p.callback_var = "eyJ4OmEiOiIxIn0=";
    p.request_payer = "requester";
    REQUIRE_FALSE(ossmp::make_complete_request(p, r));
    CHECK(ossmp::uri::encode_query(r.query) == "uploadId=0004B9895DBBB6EC9&encoding-type=url");
    CHECK(headers_of(r) == pairs{
                               {"Content-Type", "application/xml"},
                               {"Content-MD5", "bJ8YAgSBOsYAQhoZgu/ZYg=="},
                               {"x-oss-object-acl", "private"},
                               {"x-oss-forbid-overwrite", "true"},
                               {"x-oss-callback", "eyJjYWxsYmFja1VybCI6IjEifQ=="},
                               {"x-oss-callback-var", "eyJ4OmEiOiIxIn0="},
                               {"x-oss-request-payer", "requester"},
                           });
    CHECK(r.body() == expected_body);
}

TEST_CASE("Complete body: ETag quoting and escaping", "[requests]") {
    std::string body;
    const std::vector<ossmp::completed_part> quoted = {{1, "\"ABC\""}};
    const std::vector<ossmp::completed_part> bare = {{1, "ABC"}};
    const std::string expected =
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"ABC\"</ETag></Part>"
        "</CompleteMultipartUpload>";
    REQUIRE_FALSE(ossmp::make_complete_body(quoted, body));
    CHECK(body == expected);
    REQUIRE_FALSE(ossmp::make_complete_body(bare, body));
    CHECK(body == expected);

    const std::vector<ossmp::completed_part> odd = {{2, "a&b<c>'d"}, {1, "\"x\"y\""}};
    REQUIRE_FALSE(ossmp::make_complete_body(odd, body));
    CHECK(body == "<CompleteMultipartUpload>"
                  "<Part><PartNumber>1</PartNumber><ETag>\"x&quot;y\"</ETag></Part>"
                  "<Part><PartNumber>2</PartNumber><ETag>\"a&amp;b&lt;c&gt;&apos;d\"</ETag></Part>"
                  "</CompleteMultipartUpload>");

    // A lone quote is not a quoted ETag: it is escaped and quotes are added around it.
    const std::vector<ossmp::completed_part> lone = {{1, "\"AB"}};
    REQUIRE_FALSE(ossmp::make_complete_body(lone, body));
    CHECK(body == "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
                  "<ETag>\"&quot;AB\"</ETag></Part></CompleteMultipartUpload>");

    // Failures write nothing.
    body = "untouched";
    const std::vector<ossmp::completed_part> empty_etag = {{1, ""}};
    const std::vector<ossmp::completed_part> empty_quoted = {{1, "\"\""}};
    CHECK(ossmp::make_complete_body(empty_etag, body) == errc::invalid_argument);
    CHECK(ossmp::make_complete_body(empty_quoted, body) == errc::invalid_argument);
    CHECK(ossmp::make_complete_body({}, body) == errc::empty_part_list);
    CHECK(body == "untouched");
}

TEST_CASE("CompleteMultipartUpload with x-oss-complete-all (6.7 row 4)", "[requests]") {
    ossmp::complete_params p;
    p.bucket = bucket;
    p.key = key;
    p.upload_id = uid;
    p.complete_all = true;
    p.forbid_overwrite = true;
    p.send_content_md5 = true; // ignored: there is no body
    auto r = sentinel();
    REQUIRE_FALSE(ossmp::make_complete_request(p, r));
    CHECK(r.method == verb::post);
    CHECK(ossmp::uri::encode_query(r.query) == "uploadId=0004B9895DBBB6EC9");
    CHECK(headers_of(r) ==
          pairs{{"x-oss-complete-all", "yes"}, {"x-oss-forbid-overwrite", "true"}});
    CHECK(r.body().empty());
    CHECK_FALSE(r.body_is_view());

    p.parts = {{1, "\"A\""}};
    r = sentinel();
    CHECK(ossmp::make_complete_request(p, r) == errc::invalid_argument);
    CHECK(is_sentinel(r));
}

TEST_CASE("CompleteMultipartUpload validation", "[requests]") {
    auto base = [] {
        ossmp::complete_params p;
        p.bucket = bucket;
        p.key = key;
        p.upload_id = uid;
        p.parts = {{1, "\"A\""}, {2, "\"B\""}};
        return p;
    };
    auto with = [&](auto change) {
        auto p = base();
        change(p);
        auto r = sentinel();
        auto ec = ossmp::make_complete_request(p, r);
        CHECK(is_sentinel(r) == static_cast<bool>(ec)); // replaced only on success
        return ec;
    };
    using P = ossmp::complete_params;
    CHECK(with([](P& p) { p.bucket = "-abc"; }) == errc::invalid_bucket_name);
    CHECK(with([](P& p) { p.key = "\\k"; }) == errc::invalid_key);
    CHECK(with([](P& p) { p.upload_id.clear(); }) == errc::empty_upload_id);
    CHECK(with([](P& p) { p.parts.clear(); }) == errc::empty_part_list);
    CHECK(with([](P& p) { p.parts.push_back({2, "\"C\""}); }) == errc::duplicate_part_number);
    CHECK(with([](P& p) { p.parts.push_back({0, "\"C\""}); }) == errc::invalid_part_number);
    CHECK(with([](P& p) { p.parts.push_back({10001, "\"C\""}); }) == errc::invalid_part_number);
    CHECK(with([](P& p) { p.parts.push_back({3, ""}); }) == errc::invalid_argument);
    CHECK(with([](P& p) {
              p.parts.clear();
              for (int i = 1; i <= 10001; ++i)
                  p.parts.push_back({i, "\"E\""});
          }) == errc::too_many_parts);
    CHECK(with([](P& p) { p.object_acl = "private\r\nX: 1"; }) == errc::invalid_header);
    CHECK(with([](P& p) { p.callback = std::string("a\0b", 3); }) == errc::invalid_header);
}

TEST_CASE("Complete body of 10,000 parts", "[requests]") {
    // Reverse order, so the builder has to sort; ETags as OSS returns them.
    std::vector<ossmp::completed_part> parts;
    parts.reserve(10000);
    for (int n = 10000; n >= 1; --n)
        parts.push_back({n, "\"DF1F9DE8F39BDE03716AC8D425589A5A\""});
    std::string body;
    REQUIRE_FALSE(ossmp::make_complete_body(parts, body));
    // Per part: 18 + digits + 20 + 32 + 15 bytes; digits total 9 + 180 + 2700 + 36000 + 5.
    const std::size_t digits = 9 * 1 + 90 * 2 + 900 * 3 + 9000 * 4 + 1 * 5;
    CHECK(body.size() == 25 + 26 + 10000 * (18 + 20 + 32 + 15) + digits);
    CHECK(body.rfind("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>", 0) == 0);
    CHECK(body.find("<PartNumber>9999</PartNumber>") < body.find("<PartNumber>10000</PartNumber>"));
    // The last part is 10000, followed only by the closing tag.
    CHECK(body.size() - body.rfind("<Part><PartNumber>10000</PartNumber>") ==
          std::string_view("<Part><PartNumber>10000</PartNumber><ETag>\""
                           "DF1F9DE8F39BDE03716AC8D425589A5A\"</ETag></Part>"
                           "</CompleteMultipartUpload>")
              .size());

    // The 2 ms budget for this request is a benchmark figure (benchmarks/micro_bench.cpp),
    // not a timed test; here only the request itself is checked.
    ossmp::complete_params p;
    p.bucket = bucket;
    p.key = key;
    p.upload_id = uid;
    p.parts = std::move(parts);
    ossmp::http::request r;
    REQUIRE_FALSE(ossmp::make_complete_request(p, r));
    CHECK(r.body() == body);
}

TEST_CASE("AbortMultipartUpload (6.7 row 5)", "[requests]") {
    ossmp::abort_params p;
    p.bucket = bucket;
    p.key = key;
    p.upload_id = uid;
    auto r = sentinel();
    REQUIRE_FALSE(ossmp::make_abort_request(p, r));
    CHECK(r.method == verb::delete_);
    CHECK(r.bucket == bucket);
    CHECK(r.key == key);
    CHECK(query_of(r) == pairs{{"uploadId", std::string(uid)}});
    CHECK(ossmp::uri::encode_query(r.query) == "uploadId=0004B9895DBBB6EC9");
    CHECK(headers_of(r).empty());
    CHECK(r.body().empty());
    check_untargeted(r);

    p.request_payer = "requester";
    REQUIRE_FALSE(ossmp::make_abort_request(p, r));
    CHECK(headers_of(r) == pairs{{"x-oss-request-payer", "requester"}});

    p.upload_id.clear();
    r = sentinel();
    CHECK(ossmp::make_abort_request(p, r) == errc::empty_upload_id);
    CHECK(is_sentinel(r));
}

TEST_CASE("ListParts (6.7 row 6)", "[requests]") {
    ossmp::list_parts_params p;
    p.bucket = bucket;
    p.key = key;
    p.upload_id = uid;
    p.max_parts = 1000;
    p.part_number_marker = 5;
    auto r = sentinel();
    REQUIRE_FALSE(ossmp::make_list_parts_request(p, r));
    CHECK(r.method == verb::get);
    CHECK(r.bucket == bucket);
    CHECK(r.key == key);
    CHECK(query_of(r) == pairs{{"uploadId", std::string(uid)},
                               {"max-parts", "1000"},
                               {"part-number-marker", "5"},
                               {"encoding-type", "url"}});
    CHECK(ossmp::uri::encode_query(r.query) ==
          "uploadId=0004B9895DBBB6EC9&max-parts=1000&part-number-marker=5&encoding-type=url");
    CHECK(headers_of(r).empty());
    CHECK(r.body().empty());
    check_untargeted(r);

    // Defaults: only the upload id and encoding-type=url.
    ossmp::list_parts_params d;
    d.bucket = bucket;
    d.key = key;
    d.upload_id = uid;
    REQUIRE_FALSE(ossmp::make_list_parts_request(d, r));
    CHECK(ossmp::uri::encode_query(r.query) == "uploadId=0004B9895DBBB6EC9&encoding-type=url");
    d.encoding_type_url = false;
    d.part_number_marker = 0;
    REQUIRE_FALSE(ossmp::make_list_parts_request(d, r));
    CHECK(ossmp::uri::encode_query(r.query) == "uploadId=0004B9895DBBB6EC9&part-number-marker=0");

    auto with = [&](auto change) {
        auto q = p;
        change(q);
        auto out = sentinel();
        auto ec = ossmp::make_list_parts_request(q, out);
        CHECK(is_sentinel(out) == static_cast<bool>(ec)); // replaced only on success
        return ec;
    };
    using P = ossmp::list_parts_params;
    CHECK(with([](P& q) { q.max_parts = 0; }) == errc::invalid_argument);
    CHECK(with([](P& q) { q.max_parts = 1001; }) == errc::invalid_argument);
    CHECK_FALSE(with([](P& q) { q.max_parts = 1; }));
    CHECK(with([](P& q) { q.part_number_marker = -1; }) == errc::invalid_argument);
    CHECK(with([](P& q) { q.part_number_marker = 10001; }) == errc::invalid_argument);
    CHECK(with([](P& q) { q.upload_id.clear(); }) == errc::empty_upload_id);
    CHECK(with([](P& q) { q.key = std::string(1024, 'k'); }) == errc::key_too_long);
}

TEST_CASE("ListMultipartUploads (6.7 row 7)", "[requests]") {
    ossmp::list_uploads_params p;
    p.bucket = bucket;
    p.delimiter = "/";
    p.max_uploads = 1000;
    p.prefix = "a b";
    auto r = sentinel();
    REQUIRE_FALSE(ossmp::make_list_uploads_request(p, r));
    CHECK(r.method == verb::get);
    CHECK(r.bucket == bucket);
    CHECK(r.key.empty());
    CHECK(query_of(r) == pairs{{"uploads", ""},
                               {"delimiter", "/"},
                               {"max-uploads", "1000"},
                               {"prefix", "a b"},
                               {"encoding-type", "url"}});
    CHECK(ossmp::uri::encode_query(r.query) ==
          "uploads&delimiter=%2F&max-uploads=1000&prefix=a%20b&encoding-type=url");
    CHECK(headers_of(r).empty());
    CHECK(r.body().empty());
    check_untargeted(r);

    // Every parameter, in the documented order.
    p.key_marker = "dir/k";
    p.upload_id_marker = "UID2";
    p.max_uploads = 5;
    p.encoding_type_url = false;
    p.request_payer = "requester";
    REQUIRE_FALSE(ossmp::make_list_uploads_request(p, r));
    CHECK(query_of(r) == pairs{{"uploads", ""},
                               {"delimiter", "/"},
                               {"key-marker", "dir/k"},
                               {"max-uploads", "5"},
                               {"prefix", "a b"},
                               {"upload-id-marker", "UID2"}});
    CHECK(headers_of(r) == pairs{{"x-oss-request-payer", "requester"}});

    // Nothing set: just the sub-resource and encoding-type.
    ossmp::list_uploads_params d;
    d.bucket = bucket;
    REQUIRE_FALSE(ossmp::make_list_uploads_request(d, r));
    CHECK(ossmp::uri::encode_query(r.query) == "uploads&encoding-type=url");

    auto with = [&](auto change) {
        auto q = d;
        change(q);
        auto out = sentinel();
        auto ec = ossmp::make_list_uploads_request(q, out);
        CHECK(is_sentinel(out) == static_cast<bool>(ec)); // replaced only on success
        return ec;
    };
    using P = ossmp::list_uploads_params;
    CHECK(with([](P& q) { q.max_uploads = 0; }) == errc::invalid_argument);
    CHECK(with([](P& q) { q.max_uploads = 1001; }) == errc::invalid_argument);
    CHECK(with([](P& q) { q.bucket = "ABC"; }) == errc::invalid_bucket_name);
    CHECK(with([](P& q) { q.request_payer = "x\ny"; }) == errc::invalid_header);
}

TEST_CASE("PutObject", "[requests]") {
    const std::string data = "hello";
    ossmp::put_object_params p;
    p.bucket = bucket;
    p.key = "dir/obj.bin";
    p.data = bytes_of(data);
    auto r = sentinel();
    REQUIRE_FALSE(ossmp::make_put_object_request(p, r));
    CHECK(r.method == verb::put);
    CHECK(r.bucket == bucket);
    CHECK(r.key == "dir/obj.bin");
    CHECK(r.query.empty());
    CHECK(headers_of(r) == pairs{{"Content-Type", "application/octet-stream"}});
    CHECK(r.body_is_view());
    CHECK(static_cast<const void*>(r.body().data()) == static_cast<const void*>(data.data()));
    CHECK(r.body() == "hello");
    check_untargeted(r);

    p.content_type = "text/plain";
    p.content_md5 = "XUFAKrxLKna5cZ2REBfFkg=="; // MD5("hello")
    p.cache_control = "max-age=60";
    p.content_disposition = "inline";
    p.content_encoding = "identity";
    p.expires = "Thu, 01 Dec 1994 16:00:00 GMT";
    p.forbid_overwrite = false;
    p.storage_class = "Standard";
    p.tagging = "k=v";
    p.object_acl = "public-read";
    p.user_metadata = {{"Magic", "abracadabra"}};
    p.extra_headers.add("x-oss-request-payer", "requester");
    REQUIRE_FALSE(ossmp::make_put_object_request(p, r));
    CHECK(headers_of(r) == pairs{
                               {"Content-Type", "text/plain"},
                               {"Content-MD5", "XUFAKrxLKna5cZ2REBfFkg=="},
                               {"Cache-Control", "max-age=60"},
                               {"Content-Disposition", "inline"},
                               {"Content-Encoding", "identity"},
                               {"Expires", "Thu, 01 Dec 1994 16:00:00 GMT"},
                               {"x-oss-forbid-overwrite", "false"},
                               {"x-oss-object-acl", "public-read"},
                               {"x-oss-storage-class", "Standard"},
                               {"x-oss-tagging", "k=v"},
                               {"x-oss-meta-magic", "abracadabra"},
                               {"x-oss-request-payer", "requester"},
                           });

    auto with = [&](auto change) {
        auto q = p;
        change(q);
        auto out = sentinel();
        auto ec = ossmp::make_put_object_request(q, out);
        CHECK(is_sentinel(out) == static_cast<bool>(ec)); // replaced only on success
        return ec;
    };
    using P = ossmp::put_object_params;
    CHECK(with([](P& q) { q.key = "/abs"; }) == errc::invalid_key);
    CHECK(with([](P& q) { q.content_md5 = "XUFAKrxLKna5cZ2REBfFkg"; }) == errc::invalid_header);
    CHECK(with([](P& q) { q.expires = "a\r\nb"; }) == errc::invalid_header);
    CHECK(with([](P& q) { q.extra_headers.add("Content-Length", "0"); }) == errc::invalid_header);
    reserved_range big(5 * gib + 1);
    REQUIRE(big.ok());
    CHECK(with([&](P& q) { q.data = big.span(); }) == errc::invalid_argument);
    CHECK_FALSE(with([&](P& q) { q.data = big.span().first(5 * gib); }));
}

TEST_CASE("GetObject ranges", "[requests]") {
    ossmp::get_object_params p;
    p.bucket = bucket;
    p.key = key;
    auto r = sentinel();
    REQUIRE_FALSE(ossmp::make_get_object_request(p, r));
    CHECK(r.method == verb::get);
    CHECK(r.bucket == bucket);
    CHECK(r.key == key);
    CHECK(r.query.empty());
    CHECK(headers_of(r).empty());
    CHECK(r.body().empty());
    check_untargeted(r);

    p.range_first = 0;
    p.range_last = 99;
    REQUIRE_FALSE(ossmp::make_get_object_request(p, r));
    CHECK(headers_of(r) == pairs{{"Range", "bytes=0-99"}});
    p.range_first = 5;
    p.range_last = 5;
    REQUIRE_FALSE(ossmp::make_get_object_request(p, r));
    CHECK(headers_of(r) == pairs{{"Range", "bytes=5-5"}});
    p.range_first = 18446744073709551614ull;
    p.range_last.reset();
    REQUIRE_FALSE(ossmp::make_get_object_request(p, r));
    CHECK(headers_of(r) == pairs{{"Range", "bytes=18446744073709551614-"}});

    p.range_first = 10;
    p.range_last = 9;
    r = sentinel();
    CHECK(ossmp::make_get_object_request(p, r) == errc::invalid_range);
    CHECK(is_sentinel(r));
    p.range_first.reset();
    CHECK(ossmp::make_get_object_request(p, r) == errc::invalid_range);
    CHECK(is_sentinel(r));
}

TEST_CASE("HeadObject and DeleteObject", "[requests]") {
    ossmp::head_object_params h;
    h.bucket = bucket;
    h.key = key;
    auto r = sentinel();
    REQUIRE_FALSE(ossmp::make_head_object_request(h, r));
    CHECK(r.method == verb::head);
    CHECK(r.bucket == bucket);
    CHECK(r.key == key);
    CHECK(r.query.empty());
    CHECK(headers_of(r).empty());
    CHECK(r.body().empty());
    check_untargeted(r);

    ossmp::delete_object_params d;
    d.bucket = bucket;
    d.key = key;
    r = sentinel();
    REQUIRE_FALSE(ossmp::make_delete_object_request(d, r));
    CHECK(r.method == verb::delete_);
    CHECK(r.bucket == bucket);
    CHECK(r.key == key);
    CHECK(r.query.empty());
    CHECK(headers_of(r).empty());
    CHECK(r.body().empty());
    check_untargeted(r);

    h.key = "";
    d.bucket = "ab";
    r = sentinel();
    CHECK(ossmp::make_head_object_request(h, r) == errc::empty_key);
    CHECK(ossmp::make_delete_object_request(d, r) == errc::invalid_bucket_name);
    CHECK(is_sentinel(r));
}

TEST_CASE("every builder rejects bad input with a distinct error before building", "[requests]") {
    const std::string data(100, 'x');
    auto part = [&](std::function<void(ossmp::upload_part_params&)> change) {
        ossmp::upload_part_params p;
        p.bucket = bucket;
        p.key = key;
        p.upload_id = uid;
        p.part_number = 1;
        p.data = bytes_of(data);
        change(p);
        auto r = sentinel();
        auto ec = ossmp::make_upload_part_request(p, r);
        CHECK(is_sentinel(r) == static_cast<bool>(ec)); // replaced only on success
        return ec;
    };
    auto complete = [&](std::vector<ossmp::completed_part> parts) {
        ossmp::complete_params p;
        p.bucket = bucket;
        p.key = key;
        p.upload_id = uid;
        p.parts = std::move(parts);
        auto r = sentinel();
        auto ec = ossmp::make_complete_request(p, r);
        CHECK(is_sentinel(r) == static_cast<bool>(ec)); // replaced only on success
        return ec;
    };
    using P = ossmp::upload_part_params;
    std::vector<ossmp::completed_part> too_many;
    for (int i = 1; i <= 10001; ++i)
        too_many.push_back({i, "\"E\""});

    const std::vector<std::pair<std::error_code, errc>> cases = {
        {part([](P& p) { p.key.clear(); }), errc::empty_key},
        {part([](P& p) { p.key = std::string(1024, 'k'); }), errc::key_too_long},
        {part([](P& p) { p.key = "/k"; }), errc::invalid_key},
        {part([](P& p) { p.bucket = "ab"; }), errc::invalid_bucket_name},
        {part([](P& p) { p.part_number = 0; }), errc::invalid_part_number},
        {part([](P& p) { p.upload_id.clear(); }), errc::empty_upload_id},
        {part([](P& p) { p.request_payer = "a\r\nb"; }), errc::invalid_header},
        {complete({}), errc::empty_part_list},
        {complete({{1, "\"A\""}, {1, "\"B\""}}), errc::duplicate_part_number},
        {complete(too_many), errc::too_many_parts},
    };
    std::set<int> seen;
    for (const auto& [ec, want] : cases) {
        CHECK(ec == want);
        seen.insert(ec.value());
    }
    CHECK(seen.size() == cases.size());
    // And the invalid-UTF-8 key is the same error as a leading slash, through every builder.
    auto r = sentinel();
    ossmp::initiate_params i;
    i.bucket = bucket;
    i.key = "bad\xC3";
    CHECK(ossmp::make_initiate_request(i, r) == errc::invalid_key);
    ossmp::abort_params a{std::string(bucket), "bad\xC3", std::string(uid), ""};
    CHECK(ossmp::make_abort_request(a, r) == errc::invalid_key);
    ossmp::list_parts_params l;
    l.bucket = bucket;
    l.key = "bad\xC3";
    l.upload_id = uid;
    CHECK(ossmp::make_list_parts_request(l, r) == errc::invalid_key);
    ossmp::get_object_params g{std::string(bucket), "bad\xC3", {}, {}, {}};
    CHECK(ossmp::make_get_object_request(g, r) == errc::invalid_key);
    CHECK(is_sentinel(r));
}
