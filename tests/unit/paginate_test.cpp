// Tests of paginate.hpp against a scripted in-memory transport: pagers and generators follow the
// markers page by page and request nothing more, refuse endless or inconsistent listings,
// surface errors after the elements before them, retry per the client's policy, refuse a second
// concurrent call, cancel cleanly; list_uploads_of_object stops early; the cleanup aborts only
// old uploads, at most `parallel` at once, and follows markers while it aborts.
#include "ossmp/paginate.hpp"

#include "support/fake_transport.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ossmp::errc;
using ossmp::service_errc;
using ossmp::test::fake_transport;

// oss-reference 6.7: 1702743657 = 2023-12-16T16:20:57Z.
const auto fixed_time = std::chrono::system_clock::time_point(std::chrono::seconds(1702743657));

using client_type = ossmp::basic_client<fake_transport, ossmp::static_credentials_provider>;

ossmp::client_options make_options() {
    ossmp::client_options o;
    o.endpoint = "https://oss-cn-hangzhou.aliyuncs.com";
    o.clock = [] {
        return fixed_time;
    };
    return o;
}

struct fixture {
    asio::io_context ctx;
    fake_transport transport{ctx};
    client_type client;

    explicit fixture(ossmp::client_options o = make_options())
        : client(transport, std::move(o), ossmp::static_credentials_provider("ak", "sk")) {}
};

ossmp::http::response make_response(unsigned status, std::string body = {}) {
    ossmp::http::response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

std::string error_body(std::string_view code) {
    std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
    s += code;
    s += "</Code><Message>msg</Message><RequestId>RID-E</RequestId><HostId>h</HostId></Error>";
    return s;
}

/// A ListParts page with the given part numbers.
ossmp::http::response parts_page(int marker, int next, bool truncated, std::vector<int> numbers) {
    std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult>"
                    "<EncodingType>url</EncodingType><Bucket>examplebucket</Bucket>"
                    "<Key>dir%2Fobj</Key><UploadId>UID</UploadId>";
    s += "<PartNumberMarker>" + std::to_string(marker) + "</PartNumberMarker>";
    s += "<NextPartNumberMarker>" + std::to_string(next) + "</NextPartNumberMarker>";
    s += "<MaxParts>2</MaxParts><IsTruncated>";
    s += truncated ? "true" : "false";
    s += "</IsTruncated>";
    for (int n : numbers)
        s += "<Part><PartNumber>" + std::to_string(n) +
             "</PartNumber><LastModified>2012-02-23T07:01:34.000Z</LastModified><ETag>\"E" +
             std::to_string(n) + "\"</ETag><Size>" + std::to_string(n * 100) + "</Size></Part>";
    s += "</ListPartsResult>";
    return make_response(200, std::move(s));
}

struct listed_upload {
    std::string key; // URL-encoded, as the server sends it
    std::string id;
    std::string initiated = "2012-02-23T04:18:23.000Z";
};

/// A ListMultipartUploads page (encoding-type=url: keys, prefixes and markers encoded).
ossmp::http::response uploads_page(std::string next_key, std::string next_id, bool truncated,
                                   std::vector<listed_upload> uploads,
                                   std::vector<std::string> prefixes = {}) {
    std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListMultipartUploadsResult>"
                    "<EncodingType>url</EncodingType><Bucket>examplebucket</Bucket>"
                    "<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>";
    s += "<NextKeyMarker>" + next_key + "</NextKeyMarker>";
    s += "<NextUploadIdMarker>" + next_id + "</NextUploadIdMarker>";
    s += "<Delimiter></Delimiter><Prefix></Prefix><MaxUploads>1000</MaxUploads><IsTruncated>";
    s += truncated ? "true" : "false";
    s += "</IsTruncated>";
    for (const auto& u : uploads)
        s += "<Upload><Key>" + u.key + "</Key><UploadId>" + u.id +
             "</UploadId><StorageClass>Standard</StorageClass><Initiated>" + u.initiated +
             "</Initiated></Upload>";
    for (const auto& p : prefixes)
        s += "<CommonPrefixes><Prefix>" + p + "</Prefix></CommonPrefixes>";
    s += "</ListMultipartUploadsResult>";
    return make_response(200, std::move(s));
}

/// The decoded value of query parameter `name` of recorded request `i`, or nullopt.
std::optional<std::string> query_of(const fake_transport& t, std::size_t i, std::string_view name) {
    auto v = t.requests().at(i).request.query_value(name);
    if (!v)
        return std::nullopt;
    return std::string(*v);
}

/// Runs `a` to completion on the fixture's context; rethrows what it threw.
template <class T>
T run_co(fixture& f, asio::awaitable<T> a) {
    std::optional<T> out;
    std::exception_ptr ex;
    asio::co_spawn(f.ctx, std::move(a), [&](std::exception_ptr e, T v) {
        ex = e;
        out = std::move(v);
    });
    f.ctx.run();
    f.ctx.restart();
    if (ex)
        std::rethrow_exception(ex);
    REQUIRE(out.has_value());
    return std::move(*out);
}

/// Every element `g` yields until the end or an error.
template <class Gen>
asio::awaitable<std::pair<std::vector<typename Gen::element_type>, std::error_code>> drain(Gen& g) {
    std::vector<typename Gen::element_type> out;
    std::error_code ec;
    for (;;) {
        auto e = co_await g.next(ec);
        if (ec || !e)
            break;
        out.push_back(std::move(*e));
    }
    co_return std::make_pair(std::move(out), ec);
}

std::vector<int> numbers_of(const std::vector<ossmp::part_info>& parts) {
    std::vector<int> v;
    for (const auto& p : parts)
        v.push_back(p.part_number);
    return v;
}

} // namespace

TEST_CASE("new errc values have their own messages", "[paginate][error]") {
    const std::error_code a = errc::operation_in_progress, b = errc::end_of_listing;
    CHECK(a.message() ==
          "another call on this pager or generator is still in progress (one call at a time)");
    CHECK(b.message() == "the listing has no more pages");
    CHECK_FALSE(ossmp::is_retryable(a));
    CHECK_FALSE(ossmp::is_retryable(b));
}

TEST_CASE("list_all_parts: three pages, markers followed, nothing requested after the last",
          "[paginate]") {
    fixture f;
    f.transport.push_response(parts_page(0, 2, true, {1, 2}));
    f.transport.push_response(parts_page(2, 4, true, {3, 4}));
    f.transport.push_response(parts_page(4, 5, false, {5}));
    f.transport.push_response(parts_page(5, 6, false, {6})); // must never be requested
    ossmp::list_parts_options o;
    o.page_size = 2;
    auto g = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID", o);
    auto [parts, ec] = run_co(f, drain(g));
    REQUIRE_FALSE(ec);
    CHECK(numbers_of(parts) == std::vector<int>{1, 2, 3, 4, 5});
    CHECK(parts[2].etag == "\"E3\"");
    CHECK(parts[4].size == 500);
    REQUIRE(f.transport.requests().size() == 3);
    CHECK(f.transport.pending() == 1);
    CHECK(g.done());
    CHECK(g.pager().done());
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(f.transport.requests()[i].request.key == "dir/obj");
        CHECK(query_of(f.transport, i, "uploadId") == "UID");
        CHECK(query_of(f.transport, i, "max-parts") == "2");
        CHECK(query_of(f.transport, i, "encoding-type") == "url");
    }
    CHECK_FALSE(query_of(f.transport, 0, "part-number-marker"));
    CHECK(query_of(f.transport, 1, "part-number-marker") == "2");
    CHECK(query_of(f.transport, 2, "part-number-marker") == "4");

    // The generator is finished: another next() sends nothing.
    auto [more, ec2] = run_co(f, drain(g));
    CHECK(more.empty());
    CHECK_FALSE(ec2);
    CHECK(f.transport.requests().size() == 3);
}

TEST_CASE("list_all_uploads: three pages, both markers, uploads and prefixes in key order, "
          "decoded keys",
          "[paginate]") {
    fixture f;
    // Page 1 ends with a common prefix; page 2 with the second upload of key "c d".
    f.transport.push_response(uploads_page("b%2F", "", true, {{"a%2Bx", "U1"}}, {"b%2F"}));
    f.transport.push_response(
        uploads_page("c%20d", "U2", true, {{"c%20d", "U1"}, {"c%20d", "U2"}}, {}));
    f.transport.push_response(uploads_page("", "", false, {{"e%25%C3%BC%0A+f", "U7"}}, {"z%2F"}));
    f.transport.push_response(uploads_page("", "", false, {})); // never requested
    ossmp::list_uploads_options o;
    o.delimiter = "/";
    o.prefix = "";
    o.page_size = 2;
    auto g = ossmp::list_all_uploads(f.client, "examplebucket", o);
    auto [entries, ec] = run_co(f, drain(g));
    REQUIRE_FALSE(ec);
    REQUIRE(entries.size() == 6);
    std::vector<std::string> keys;
    for (const auto& e : entries)
        keys.push_back(ossmp::entry_key(e));
    // '+' encoded as %2B is a plus; a bare '+' decodes to a space (Go's QueryUnescape).
    CHECK(keys == std::vector<std::string>{"a+x", "b/", "c d", "c d", "e%\xC3\xBC\n f", "z/"});
    CHECK(std::holds_alternative<ossmp::upload_info>(entries[0]));
    CHECK(std::holds_alternative<ossmp::common_prefix>(entries[1]));
    CHECK(std::get<ossmp::upload_info>(entries[3]).upload_id == "U2");
    CHECK(std::holds_alternative<ossmp::common_prefix>(entries[5]));
    REQUIRE(f.transport.requests().size() == 3);
    CHECK(f.transport.pending() == 1);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(query_of(f.transport, i, "uploads") == "");
        CHECK(query_of(f.transport, i, "encoding-type") == "url");
        CHECK(query_of(f.transport, i, "delimiter") == "/");
        CHECK(query_of(f.transport, i, "max-uploads") == "2");
    }
    CHECK_FALSE(query_of(f.transport, 0, "key-marker"));
    CHECK(query_of(f.transport, 1, "key-marker") == "b/");
    CHECK_FALSE(query_of(f.transport, 1, "upload-id-marker"));
    CHECK(query_of(f.transport, 2, "key-marker") == "c d");
    CHECK(query_of(f.transport, 2, "upload-id-marker") == "U2");
}

namespace {

/// Takes `n` parts from a fresh generator, then lets it go out of scope.
asio::awaitable<std::vector<int>> take_some(client_type& client, int n) {
    auto g = ossmp::list_all_parts(client, "examplebucket", "dir/obj", "UID");
    std::vector<int> got;
    for (int i = 0; i < n; ++i) {
        auto p = co_await g.next();
        if (!p)
            break;
        got.push_back(p->part_number);
    }
    co_return got;
}

} // namespace

TEST_CASE("a generator destroyed mid-iteration sends nothing more and leaks nothing",
          "[paginate]") {
    fixture f;
    f.transport.push_response(parts_page(0, 2, true, {1, 2}));
    f.transport.push_response(parts_page(2, 4, false, {3, 4}));
    SECTION("after the first element") {
        CHECK(run_co(f, take_some(f.client, 1)) == std::vector<int>{1});
    }
    SECTION("after the whole first page: the next page is fetched lazily, not prefetched") {
        CHECK(run_co(f, take_some(f.client, 2)) == std::vector<int>{1, 2});
    }
    CHECK(f.transport.requests().size() == 1);
    CHECK(f.transport.completed() == 1);
    CHECK(f.transport.pending() == 1);
}

TEST_CASE("an error surfaces after the elements of the pages before it", "[paginate]") {
    SECTION("next(ec): the elements of page 1, then the error; next() again retries the page") {
        fixture f;
        f.transport.push_response(parts_page(0, 2, true, {1, 2}));
        f.transport.push_response(make_response(403, error_body("AccessDenied")));
        f.transport.push_response(parts_page(2, 4, false, {3}));
        auto g = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID");
        auto [parts, ec] = run_co(f, drain(g));
        CHECK(numbers_of(parts) == std::vector<int>{1, 2});
        CHECK(ec == service_errc::access_denied);
        CHECK(g.last_diagnostics().code == "AccessDenied");
        CHECK(g.last_diagnostics().http_status == 403);
        CHECK_FALSE(g.done());
        // A failed call changes nothing: the same page is requested again.
        auto [rest, ec2] = run_co(f, drain(g));
        CHECK_FALSE(ec2);
        CHECK(numbers_of(rest) == std::vector<int>{3});
        REQUIRE(f.transport.requests().size() == 3);
        CHECK(query_of(f.transport, 1, "part-number-marker") == "2");
        CHECK(query_of(f.transport, 2, "part-number-marker") == "2");
    }
    SECTION("next() throws std::system_error after the elements before it") {
        fixture f;
        f.transport.push_response(parts_page(0, 2, true, {1, 2}));
        f.transport.push_response(make_response(404, error_body("NoSuchUpload")));
        auto g = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID");
        std::vector<int> seen;
        auto consume = [](decltype(g)& gen,
                          std::vector<int>& out) -> asio::awaitable<std::error_code> {
            try {
                while (auto p = co_await gen.next())
                    out.push_back(p->part_number);
            } catch (const std::system_error& e) {
                co_return e.code();
            }
            co_return std::error_code{};
        };
        const auto ec = run_co(f, consume(g, seen));
        CHECK(seen == std::vector<int>{1, 2});
        CHECK(ec == service_errc::no_such_upload);
    }
    SECTION("the client's retry policy retries a page: 503, then success") {
        auto o = make_options();
        o.retry.max_attempts = 3;
        o.retry.base_delay = 1ms;
        fixture f(o);
        f.transport.push_response(parts_page(0, 2, true, {1, 2}));
        f.transport.push_response(make_response(503, error_body("ServiceUnavailable")));
        f.transport.push_response(parts_page(2, 4, false, {3, 4}));
        auto g = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID");
        auto [parts, ec] = run_co(f, drain(g));
        CHECK_FALSE(ec);
        CHECK(numbers_of(parts) == std::vector<int>{1, 2, 3, 4});
        REQUIRE(f.transport.requests().size() == 3);
        CHECK(query_of(f.transport, 2, "part-number-marker") == "2");
    }
    SECTION("without a retry policy the 503 is the error") {
        fixture f;
        f.transport.push_response(parts_page(0, 2, true, {1, 2}));
        f.transport.push_response(make_response(503, error_body("ServiceUnavailable")));
        auto g = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID");
        auto [parts, ec] = run_co(f, drain(g));
        CHECK(ec == service_errc::service_unavailable);
        CHECK(numbers_of(parts) == std::vector<int>{1, 2});
        CHECK(f.transport.requests().size() == 2);
    }
    SECTION("an invalid page size fails the first next() before anything is sent") {
        fixture f;
        ossmp::list_parts_options o;
        o.page_size = 1001;
        auto g = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID", o);
        auto [parts, ec] = run_co(f, drain(g));
        CHECK(ec == errc::invalid_argument);
        CHECK(f.transport.requests().empty());
    }
}

TEST_CASE("pager: a second concurrent async_next fails cleanly, the first completes",
          "[paginate]") {
    fixture f;
    f.transport.set_delay(5ms);
    f.transport.push_response(parts_page(0, 2, true, {1, 2}));
    f.transport.push_response(parts_page(2, 3, false, {3}));
    ossmp::list_parts_params p;
    p.bucket = "examplebucket";
    p.key = "dir/obj";
    p.upload_id = "UID";
    ossmp::parts_pager pager(f.client, p);
    std::vector<std::pair<std::error_code, std::vector<int>>> done;
    auto record = [&](std::error_code ec, ossmp::list_parts_result r) {
        done.emplace_back(ec, numbers_of(r.parts));
    };
    pager.async_next(record);
    CHECK(pager.busy());
    pager.async_next(record);
    f.ctx.run();
    f.ctx.restart();
    REQUIRE(done.size() == 2);
    // The refused call completes first (posted), sending nothing; the first gets its page.
    CHECK(done[0].first == errc::operation_in_progress);
    CHECK(done[0].second.empty());
    CHECK_FALSE(done[1].first);
    CHECK(done[1].second == std::vector<int>{1, 2});
    CHECK(f.transport.requests().size() == 1);
    CHECK_FALSE(pager.busy());
    CHECK(pager.params().part_number_marker == 2);

    // The pager goes on normally, then refuses to go past the end.
    pager.async_next(record);
    f.ctx.run();
    f.ctx.restart();
    REQUIRE(done.size() == 3);
    CHECK_FALSE(done[2].first);
    CHECK(done[2].second == std::vector<int>{3});
    CHECK(pager.done());
    ossmp::diagnostics d;
    pager.async_next(d, record);
    f.ctx.run();
    REQUIRE(done.size() == 4);
    CHECK(done[3].first == errc::end_of_listing);
    CHECK(f.transport.requests().size() == 2);
}

namespace {

asio::awaitable<std::error_code> next_ec(ossmp::parts_generator<client_type>& g) {
    std::error_code ec;
    co_await g.next(ec);
    co_return ec;
}

} // namespace

TEST_CASE("generator: a second concurrent next() fails cleanly, the first completes",
          "[paginate]") {
    fixture f;
    f.transport.set_delay(5ms);
    f.transport.push_response(parts_page(0, 1, false, {1}));
    auto g = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID");
    std::vector<std::error_code> results;
    std::optional<int> first;
    auto one = [](ossmp::parts_generator<client_type>& gen,
                  std::optional<int>& out) -> asio::awaitable<std::error_code> {
        std::error_code ec;
        auto p = co_await gen.next(ec);
        if (p)
            out = p->part_number;
        co_return ec;
    };
    auto push = [&](std::exception_ptr, std::error_code ec) {
        results.push_back(ec);
    };
    asio::co_spawn(f.ctx, one(g, first), push);
    asio::co_spawn(f.ctx, next_ec(g), push);
    f.ctx.run();
    REQUIRE(results.size() == 2);
    CHECK(results[0] == errc::operation_in_progress);
    CHECK_FALSE(results[1]);
    CHECK(first == 1);
    CHECK(f.transport.requests().size() == 1);
}

TEST_CASE("listings that would never end or repeat themselves are malformed replies",
          "[paginate]") {
    fixture f;
    SECTION("parts: a truncated page that does not move the marker") {
        f.transport.push_response(parts_page(0, 2, true, {1, 2}));
        f.transport.push_response(parts_page(2, 2, true, {}));
        f.transport.push_response(parts_page(2, 2, true, {})); // never requested
        auto g = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID");
        auto [parts, ec] = run_co(f, drain(g));
        CHECK(ec == errc::bad_xml_value);
        CHECK(numbers_of(parts) == std::vector<int>{1, 2});
        CHECK(f.transport.requests().size() == 2);
        CHECK(g.pager().params().part_number_marker == 2); // unchanged
    }
    SECTION("parts: a page that repeats a part") {
        f.transport.push_response(parts_page(0, 2, true, {1, 2}));
        f.transport.push_response(parts_page(2, 4, false, {2, 3}));
        auto g = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID");
        auto [parts, ec] = run_co(f, drain(g));
        CHECK(ec == errc::bad_xml_value);
        CHECK(numbers_of(parts) == std::vector<int>{1, 2});
    }
    SECTION("parts: parts out of order within a page") {
        f.transport.push_response(parts_page(0, 3, false, {1, 3, 2}));
        auto g = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID");
        auto [parts, ec] = run_co(f, drain(g));
        CHECK(ec == errc::bad_xml_value);
        CHECK(parts.empty());
    }
    SECTION("parts: a marker below the page's last part, or at the last part number") {
        f.transport.push_response(parts_page(0, 1, true, {1, 2}));
        auto g = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID");
        CHECK(run_co(f, drain(g)).second == errc::bad_xml_value);
        f.transport.push_response(parts_page(0, 10000, true, {10000}));
        auto g2 = ossmp::list_all_parts(f.client, "examplebucket", "dir/obj", "UID");
        CHECK(run_co(f, drain(g2)).second == errc::bad_xml_value);
    }
    SECTION("uploads: a truncated page whose markers do not move") {
        f.transport.push_response(uploads_page("k", "U1", true, {{"k", "U1"}}));
        f.transport.push_response(uploads_page("k", "U1", true, {}));
        f.transport.push_response(uploads_page("k", "U1", true, {})); // never requested
        auto g = ossmp::list_all_uploads(f.client, "examplebucket");
        auto [entries, ec] = run_co(f, drain(g));
        CHECK(ec == errc::bad_xml_value);
        CHECK(entries.size() == 1);
        CHECK(f.transport.requests().size() == 2);
    }
    SECTION("uploads: a truncated page with an empty key marker would start again") {
        f.transport.push_response(uploads_page("", "U1", true, {{"k", "U1"}}));
        auto g = ossmp::list_all_uploads(f.client, "examplebucket");
        auto [entries, ec] = run_co(f, drain(g));
        CHECK(ec == errc::bad_xml_value);
        CHECK(entries.empty());
        CHECK(f.transport.requests().size() == 1);
    }
    SECTION("uploads: a page that repeats an upload of the page before") {
        f.transport.push_response(uploads_page("k", "U2", true, {{"k", "U1"}, {"k", "U2"}}));
        f.transport.push_response(uploads_page("m", "U1", false, {{"k", "U2"}, {"m", "U1"}}));
        auto g = ossmp::list_all_uploads(f.client, "examplebucket");
        auto [entries, ec] = run_co(f, drain(g));
        CHECK(ec == errc::bad_xml_value);
        CHECK(entries.size() == 2);
    }
    SECTION("uploads: a truncated page that changes the upload id marker without listing it") {
        // A server cycling through invented ids for one key would never end.
        f.transport.push_response(uploads_page("k", "U1", true, {{"k", "U1"}}));
        f.transport.push_response(uploads_page("k", "U2", true, {}));
        f.transport.push_response(uploads_page("k", "U3", true, {})); // never requested
        auto g = ossmp::list_all_uploads(f.client, "examplebucket");
        auto [entries, ec] = run_co(f, drain(g));
        CHECK(ec == errc::bad_xml_value);
        CHECK(f.transport.requests().size() == 2);
    }
    SECTION("uploads: the ids of one key need not be in lexicographic order") {
        f.transport.push_response(uploads_page("k", "B2", true, {{"k", "F1"}, {"k", "B2"}}));
        f.transport.push_response(uploads_page("", "", false, {{"k", "A3"}, {"m", "Z9"}}));
        auto g = ossmp::list_all_uploads(f.client, "examplebucket");
        auto [entries, ec] = run_co(f, drain(g));
        CHECK_FALSE(ec);
        CHECK(entries.size() == 4);
        CHECK(query_of(f.transport, 1, "upload-id-marker") == "B2");
    }
    SECTION("uploads: a key before the key marker given") {
        f.transport.push_response(uploads_page("", "", false, {{"a", "U1"}}));
        ossmp::list_uploads_options o;
        o.key_marker = "b";
        auto g = ossmp::list_all_uploads(f.client, "examplebucket", o);
        CHECK(run_co(f, drain(g)).second == errc::bad_xml_value);
        CHECK(query_of(f.transport, 0, "key-marker") == "b");
    }
}

TEST_CASE("list_uploads_of_object: exact key, stops at the first key past it", "[paginate]") {
    fixture f;
    // The key has a space, '+', '%', '/', UTF-8 and a control character.
    const std::string key = "a b+c%/\xC3\xBC\x01";
    const std::string enc = "a%20b%2Bc%25%2F%C3%BC%01";
    f.transport.push_response(uploads_page(enc, "U2", true, {{enc, "U1"}, {enc, "U2"}}));
    f.transport.push_response(
        uploads_page(enc + "x", "U9", true, {{enc, "U3"}, {enc + "x", "U9"}}));
    f.transport.push_response(uploads_page("", "", false, {{enc + "y", "U1"}})); // not requested
    auto g = ossmp::list_uploads_of_object(f.client, "examplebucket", key, 2);
    auto [uploads, ec] = run_co(f, drain(g));
    REQUIRE_FALSE(ec);
    REQUIRE(uploads.size() == 3);
    for (const auto& u : uploads)
        CHECK(u.key == key);
    CHECK(uploads[0].upload_id == "U1");
    CHECK(uploads[2].upload_id == "U3");
    REQUIRE(f.transport.requests().size() == 2);
    CHECK(f.transport.pending() == 1);
    CHECK(query_of(f.transport, 0, "prefix") == key);
    CHECK(query_of(f.transport, 0, "encoding-type") == "url");
    CHECK(query_of(f.transport, 0, "max-uploads") == "2");
    CHECK_FALSE(query_of(f.transport, 0, "delimiter"));
    CHECK(query_of(f.transport, 1, "key-marker") == key);
    CHECK(query_of(f.transport, 1, "upload-id-marker") == "U2");
    CHECK(g.done());
}

TEST_CASE("list_uploads_of_object: no further page once the key marker sorts past the key",
          "[paginate]") {
    fixture f;
    // The page ends with the last upload of "k", but the server's marker already names "k0":
    // every later upload sorts after "k".
    f.transport.push_response(uploads_page("k0", "U5", true, {{"k", "U1"}}));
    f.transport.push_response(uploads_page("", "", false, {{"k0", "U6"}})); // not requested
    auto g = ossmp::list_uploads_of_object(f.client, "examplebucket", "k");
    auto [uploads, ec] = run_co(f, drain(g));
    CHECK_FALSE(ec);
    REQUIRE(uploads.size() == 1);
    CHECK(uploads[0].upload_id == "U1");
    CHECK(f.transport.requests().size() == 1);
}

namespace {

asio::awaitable<std::error_code> first_error(ossmp::uploads_generator<client_type>& g) {
    std::error_code ec;
    for (;;) {
        auto e = co_await g.next(ec);
        if (ec || !e)
            co_return ec;
    }
}

} // namespace

TEST_CASE("generator: terminal cancellation cancels the page request in flight", "[paginate]") {
    fixture f;
    f.transport.push_response(uploads_page("k", "U1", true, {{"k", "U1"}}));
    auto g = ossmp::list_all_uploads(f.client, "examplebucket");
    // The first page arrives at once, the second request hangs until cancelled (the delay is
    // read after the responder answers).
    f.transport.set_responder([&](const ossmp::http::request&) {
        f.transport.set_delay(std::chrono::hours(1));
        return fake_transport::outcome(uploads_page("", "", false, {}));
    });
    asio::cancellation_signal cancel;
    std::optional<std::error_code> result;
    asio::co_spawn(
        f.ctx, first_error(g),
        asio::bind_cancellation_slot(cancel.slot(),
                                     [&](std::exception_ptr, std::error_code ec) { result = ec; }));
    for (int i = 0; i < 100 && f.transport.requests().size() < 2; ++i)
        f.ctx.run_one_for(10ms);
    f.ctx.run_for(20ms);
    REQUIRE(f.transport.requests().size() == 2);
    REQUIRE_FALSE(result);
    cancel.emit(asio::cancellation_type::terminal);
    const auto t0 = std::chrono::steady_clock::now();
    f.ctx.run_for(1s);
    REQUIRE(result);
    CHECK(*result == asio::error::operation_aborted);
    CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
    CHECK(f.transport.cancelled() == 1);
    CHECK_FALSE(g.pager().busy());
    CHECK_FALSE(g.done()); // the page can be asked for again
}

// ------------------------------------------------------------------------------------------------
// Cleanup
// ------------------------------------------------------------------------------------------------

namespace {

// fixed_time is 2023-12-16T16:20:57Z; with older_than = 1h the cutoff is 15:20:57.
const std::string old_time = "2023-12-16T13:00:00.000Z";
const std::string new_time = "2023-12-16T16:10:00.000Z";

std::pair<std::error_code, ossmp::cleanup_result> run_cleanup(fixture& f, ossmp::cleanup_options o,
                                                              int* calls = nullptr) {
    std::pair<std::error_code, ossmp::cleanup_result> out;
    int n = 0;
    ossmp::async_cleanup_uploads(f.client, "examplebucket", std::move(o),
                                 [&](std::error_code ec, ossmp::cleanup_result r) {
                                     ++n;
                                     out = {ec, std::move(r)};
                                 });
    f.ctx.run();
    f.ctx.restart();
    REQUIRE(n == 1);
    if (calls)
        *calls = n;
    return out;
}

/// The upload ids of the DELETE requests, in order.
std::vector<std::string> aborted_ids(const fake_transport& t) {
    std::vector<std::string> ids;
    for (const auto& r : t.requests())
        if (r.request.method == ossmp::http::verb::delete_)
            ids.emplace_back(r.request.query_value("uploadId").value_or(""));
    return ids;
}

ossmp::http::response mixed_ages_page() {
    return uploads_page("", "", false,
                        {{"a", "OLD1", old_time},
                         {"b", "NEW1", new_time},
                         {"c%20d", "OLD2", old_time},
                         {"e", "UNDATED", "yesterday"}});
}

} // namespace

TEST_CASE("cleanup: only uploads older than the threshold are aborted", "[paginate][cleanup]") {
    fixture f;
    f.transport.push_response(mixed_ages_page());
    f.transport.set_responder([](const ossmp::http::request& r) {
        CHECK(r.method == ossmp::http::verb::delete_);
        return fake_transport::outcome(make_response(204));
    });
    std::vector<std::string> reported;
    ossmp::cleanup_options o;
    o.prefix = "";
    o.older_than = 1h;
    o.on_upload = [&](const ossmp::cleanup_entry& e) {
        reported.push_back(e.upload_id + ":" + std::string(ossmp::to_string(e.action)));
    };
    auto [ec, r] = run_cleanup(f, o);
    CHECK_FALSE(ec);
    std::vector<std::string> ids = aborted_ids(f.transport);
    std::sort(ids.begin(), ids.end());
    CHECK(ids == std::vector<std::string>{"OLD1", "OLD2"});
    std::sort(reported.begin(), reported.end());
    CHECK(reported == std::vector<std::string>{"OLD1:aborted", "OLD2:aborted"});
    CHECK(r.listed == 4);
    CHECK(r.kept == 2);
    CHECK(r.aborted == 2);
    CHECK(r.failed == 0);
    CHECK(r.pages == 1);
    CHECK(r.cutoff == fixed_time - 1h);
    REQUIRE(r.uploads.size() == 2);
    for (const auto& e : r.uploads) {
        CHECK(e.action == ossmp::cleanup_action::aborted);
        CHECK(e.initiated == old_time);
        CHECK(e.initiated_time < r.cutoff);
    }
    // The key is decoded in the report and sent as the DELETE's key.
    bool saw_cd = false;
    for (const auto& req : f.transport.requests())
        if (req.request.method == ossmp::http::verb::delete_ && req.request.key == "c d")
            saw_cd = true;
    CHECK(saw_cd);
    CHECK(query_of(f.transport, 0, "encoding-type") == "url");
}

TEST_CASE("cleanup: a dry run aborts nothing and reports what it would abort",
          "[paginate][cleanup]") {
    fixture f;
    f.transport.push_response(mixed_ages_page());
    ossmp::cleanup_options o;
    o.older_than = 1h;
    o.dry_run = true;
    int callbacks = 0;
    o.on_upload = [&](const ossmp::cleanup_entry& e) {
        ++callbacks;
        CHECK(e.action == ossmp::cleanup_action::would_abort);
    };
    auto [ec, r] = run_cleanup(f, o);
    CHECK_FALSE(ec);
    CHECK(aborted_ids(f.transport).empty());
    CHECK(f.transport.requests().size() == 1);
    CHECK(r.would_abort == 2);
    CHECK(r.aborted == 0);
    CHECK(r.kept == 2);
    CHECK(callbacks == 2);
}

TEST_CASE("cleanup: NoSuchUpload on abort is gone, not failed; a failure is reported and "
          "the cleanup goes on",
          "[paginate][cleanup]") {
    fixture f;
    f.transport.push_response(uploads_page(
        "", "", false, {{"a", "GONE", old_time}, {"b", "FAIL", old_time}, {"c", "OK", old_time}}));
    f.transport.set_responder([](const ossmp::http::request& r) {
        const auto id = r.query_value("uploadId").value_or("");
        if (id == "GONE")
            return fake_transport::outcome(make_response(404, error_body("NoSuchUpload")));
        if (id == "FAIL")
            return fake_transport::outcome(make_response(403, error_body("AccessDenied")));
        return fake_transport::outcome(make_response(204));
    });
    ossmp::cleanup_options o;
    o.older_than = 1h;
    o.parallel = 1;
    auto [ec, r] = run_cleanup(f, o);
    CHECK(ec == service_errc::access_denied); // the first failed abort
    CHECK(r.gone == 1);
    CHECK(r.failed == 1);
    CHECK(r.aborted == 1);
    CHECK(aborted_ids(f.transport) == std::vector<std::string>{"GONE", "FAIL", "OK"});
    for (const auto& e : r.uploads) {
        if (e.upload_id == "GONE") {
            CHECK(e.action == ossmp::cleanup_action::gone);
            CHECK_FALSE(e.ec);
            CHECK(e.diag.code == "NoSuchUpload");
        } else if (e.upload_id == "FAIL") {
            CHECK(e.action == ossmp::cleanup_action::failed);
            CHECK(e.ec == service_errc::access_denied);
        } else {
            CHECK(e.action == ossmp::cleanup_action::aborted);
        }
    }
}

TEST_CASE("cleanup: at most `parallel` aborts at once", "[paginate][cleanup]") {
    for (unsigned parallel : {1u, 3u}) {
        fixture f;
        std::vector<listed_upload> uploads;
        for (int i = 0; i < 10; ++i)
            uploads.push_back({"k" + std::to_string(i), "U" + std::to_string(i), old_time});
        f.transport.push_response(uploads_page("", "", false, uploads));
        f.transport.set_delay(3ms);
        std::size_t max_in_flight = 0;
        // Called as each DELETE starts (the listing has completed by then).
        f.transport.set_responder([&](const ossmp::http::request&) {
            const std::size_t in_flight = f.transport.round_trips() - f.transport.completed();
            max_in_flight = std::max(max_in_flight, in_flight);
            return fake_transport::outcome(make_response(204));
        });
        ossmp::cleanup_options o;
        o.older_than = 1h;
        o.parallel = parallel;
        auto [ec, r] = run_cleanup(f, o);
        CHECK_FALSE(ec);
        CHECK(r.aborted == 10);
        CHECK(aborted_ids(f.transport).size() == 10);
        CHECK(max_in_flight == parallel); // reached, never exceeded
    }
}

TEST_CASE("cleanup: the listing continues by markers while uploads are aborted",
          "[paginate][cleanup]") {
    // A small stateful server: ListMultipartUploads by markers over what is left, DELETE
    // removes. An offset-based listing would skip uploads once earlier ones are gone.
    fixture f;
    std::map<std::pair<std::string, std::string>, std::string> store;
    for (int i = 0; i < 7; ++i)
        store[{"k" + std::to_string(i), "U" + std::to_string(i)}] = i == 3 ? new_time : old_time;
    f.transport.set_responder([&](const ossmp::http::request& r) {
        if (r.method == ossmp::http::verb::delete_) {
            const auto id = std::string(r.query_value("uploadId").value_or(""));
            if (store.erase({r.key, id}) == 0)
                return fake_transport::outcome(make_response(404, error_body("NoSuchUpload")));
            return fake_transport::outcome(make_response(204));
        }
        const std::string km(r.query_value("key-marker").value_or(""));
        const std::string um(r.query_value("upload-id-marker").value_or(""));
        const int max = std::stoi(std::string(r.query_value("max-uploads").value_or("1000")));
        std::vector<listed_upload> page;
        auto it = store.begin();
        if (!km.empty())
            it = store.upper_bound({km, um});
        for (; it != store.end() && static_cast<int>(page.size()) < max; ++it)
            page.push_back({it->first.first, it->first.second, it->second});
        const bool truncated = it != store.end();
        return fake_transport::outcome(uploads_page(
            truncated ? page.back().key : "", truncated ? page.back().id : "", truncated, page));
    });
    f.transport.set_delay(1ms);
    ossmp::cleanup_options o;
    o.older_than = 1h;
    o.parallel = 2;
    o.page_size = 2;
    auto [ec, r] = run_cleanup(f, o);
    CHECK_FALSE(ec);
    CHECK(r.aborted == 6);
    CHECK(r.kept == 1);
    CHECK(r.listed == 7);
    CHECK(r.pages == 4);
    REQUIRE(store.size() == 1);
    CHECK(store.begin()->first.second == "U3");
    // The listing requests carried the markers of the page before.
    std::vector<std::pair<std::string, std::string>> markers;
    for (const auto& req : f.transport.requests())
        if (req.request.method == ossmp::http::verb::get)
            markers.emplace_back(req.request.query_value("key-marker").value_or("-"),
                                 req.request.query_value("upload-id-marker").value_or("-"));
    CHECK(markers == std::vector<std::pair<std::string, std::string>>{
                         {"-", "-"}, {"k1", "U1"}, {"k3", "U3"}, {"k5", "U5"}});
}

TEST_CASE("cleanup: terminal cancellation stops the listing and the aborts in flight",
          "[paginate][cleanup]") {
    fixture f;
    f.transport.push_response(uploads_page(
        "c", "U3", true, {{"a", "U1", old_time}, {"b", "U2", old_time}, {"c", "U3", old_time}}));
    // The listing answers at once; the aborts hang until cancelled (the delay is read after
    // the responder answers).
    f.transport.set_responder([&](const ossmp::http::request&) {
        f.transport.set_delay(std::chrono::hours(1));
        return fake_transport::outcome(make_response(204));
    });
    ossmp::cleanup_options o;
    o.older_than = 1h;
    o.parallel = 2;
    asio::cancellation_signal cancel;
    std::optional<std::pair<std::error_code, ossmp::cleanup_result>> out;
    ossmp::async_cleanup_uploads(
        f.client, "examplebucket", o,
        asio::bind_cancellation_slot(
            cancel.slot(),
            [&](std::error_code ec, ossmp::cleanup_result r) { out.emplace(ec, std::move(r)); }));
    for (int i = 0; i < 100 && f.transport.requests().size() < 3; ++i)
        f.ctx.run_one_for(10ms);
    f.ctx.run_for(20ms);
    REQUIRE(f.transport.requests().size() == 3); // the listing and two aborts: the bound
    REQUIRE_FALSE(out);
    cancel.emit(asio::cancellation_type::terminal);
    const auto t0 = std::chrono::steady_clock::now();
    f.ctx.run_for(1s);
    REQUIRE(out.has_value());
    CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
    CHECK(out->first == asio::error::operation_aborted);
    CHECK(out->second.failed == 2);
    CHECK(out->second.aborted == 0);
    for (const auto& e : out->second.uploads)
        CHECK(e.ec == asio::error::operation_aborted);
    CHECK(f.transport.cancelled() == 2);
    CHECK(f.transport.requests().size() == 3); // no third abort, no second page
}

TEST_CASE("cleanup: a listing error ends the cleanup after the aborts already started",
          "[paginate][cleanup]") {
    fixture f;
    f.transport.push_response(
        uploads_page("b", "U2", true, {{"a", "U1", old_time}, {"b", "U2", old_time}}));
    f.transport.set_responder([](const ossmp::http::request& r) {
        if (r.method == ossmp::http::verb::delete_)
            return fake_transport::outcome(make_response(204));
        return fake_transport::outcome(make_response(403, error_body("AccessDenied")));
    });
    ossmp::cleanup_options o;
    o.older_than = 1h;
    auto [ec, r] = run_cleanup(f, o);
    CHECK(ec == service_errc::access_denied);
    CHECK(r.list_diag.code == "AccessDenied");
    CHECK(r.aborted == 2);
    CHECK(r.pages == 1);
}

TEST_CASE("cleanup: an exception of on_upload stops the cleanup with its error",
          "[paginate][cleanup]") {
    fixture f;
    f.transport.push_response(uploads_page(
        "", "", false, {{"a", "U1", old_time}, {"b", "U2", old_time}, {"c", "U3", old_time}}));
    f.transport.set_responder(
        [](const ossmp::http::request&) { return fake_transport::outcome(make_response(204)); });
    ossmp::cleanup_options o;
    o.older_than = 1h;
    o.parallel = 1;
    int calls = 0;
    o.on_upload = [&](const ossmp::cleanup_entry&) {
        ++calls;
        throw std::system_error(std::make_error_code(std::errc::io_error), "printing");
    };
    auto [ec, r] = run_cleanup(f, o);
    CHECK(ec == std::errc::io_error);
    CHECK(calls == 1);                           // never called again
    CHECK(aborted_ids(f.transport).size() == 1); // no abort started after it
    CHECK(r.aborted == 1);
}
