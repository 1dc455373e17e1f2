// Listings across pages and the stale-upload cleanup, against ossmp-emulator over real sockets:
// the library's pagers and generators (include/ossmp/paginate.hpp) and the CLI built on them
// (`ossmp mpu list-parts`, `ossmp mpu list-uploads`, `ossmp cleanup`). 2,500 parts listed
// 1,000 per page (the emulator's markers exactly as OSS sends them); 1,205 uploads of keys with
// spaces, `+`, `%` and UTF-8 listed whole, by prefix, by key and with a delimiter; uploads made
// old with the emulator's test-only `x-ossmp-test-initiated` header (--allow-test-headers)
// cleaned up, dry-run and for real, through the library and the CLI. The request log of the
// emulator counts the requests each listing made.
#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/upload_part.hpp"
#include "ossmp/paginate.hpp"
#include "ossmp/transport/asio_transport.hpp"

#include "support/cli_process.hpp"
#include "support/emulator_process.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ossmp::test::cat;
using ossmp::test::cli_globals;
using ossmp::test::cli_process;
using ossmp::test::json_field;
using ossmp::test::lines_of;
using ossmp::test::read_file;
using ossmp::test::run_cli;
using ossmp::test::temp_dir;
namespace aex = asio::experimental;

using client_type = ossmp::basic_client<ossmp::asio_transport, ossmp::static_credentials_provider>;

constexpr std::string_view bucket = "page-bucket";
constexpr std::string_view ak = "page-ak";
constexpr std::string_view sk = "page-secret";

// The three keys of the uploads listing: spaces, `+`, `%` and UTF-8; two under prefixes, one
// at the top level that sorts between them ("dir one/" < "dir top ..." < "dir+two/", as bytes).
const std::string key_a = "dir one/a b+c%20d.bin";
const std::string key_top = "dir top \xc3\xa9\xe2\x9c\x93.bin"; // "dir top é✓.bin"
const std::string key_b = "dir+two/100% sure+.dat";

// Credentials of the CLI runs.
struct env_guard {
    env_guard() {
        ::setenv("OSS_ACCESS_KEY_ID", std::string(ak).c_str(), 1);
        ::setenv("OSS_ACCESS_KEY_SECRET", std::string(sk).c_str(), 1);
        ::unsetenv("OSS_SESSION_TOKEN");
        ::unsetenv("OSS_ENDPOINT");
        ::unsetenv("OSS_REGION");
    }
};

std::vector<std::string> emulator_args(const std::string& request_log, bool test_headers = true,
                                       std::vector<std::string> extra = {}) {
    std::vector<std::string> a{
        "--bucket", std::string(bucket), "--credentials", std::string(ak) + ":" + std::string(sk),
        "--region", "cn-hangzhou",       "--request-log", request_log};
    if (test_headers)
        a.push_back("--allow-test-headers");
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

/// Requests of operation `op` ("ListParts", "ListUploads", "Abort", ...) in the request log.
std::size_t requests(const std::string& log, std::string_view op) {
    std::size_t n = 0;
    for (const auto& line : lines_of(read_file(log)))
        n += line.starts_with(std::string(op) + " ");
    return n;
}

/// Lines of `s` that are not empty.
std::vector<std::string> rows(const std::string& s) {
    std::vector<std::string> out;
    for (auto& l : lines_of(s))
        if (!l.empty())
            out.push_back(std::move(l));
    return out;
}

/// The tab-separated fields of a text row.
std::vector<std::string> fields(const std::string& row) {
    std::vector<std::string> out(1);
    for (char c : row) {
        if (c == '\t')
            out.emplace_back();
        else
            out.back() += c;
    }
    return out;
}

/// One client on one asio_transport (8 connections) talking to one emulator.
struct rig {
    asio::io_context ctx{1};
    ossmp::asio_transport transport;
    client_type client;

    static ossmp::asio_transport_options transport_options() {
        ossmp::asio_transport_options o;
        o.connect_timeout = 5s;
        o.stall_timeout = 20s;
        o.max_connections_per_host = 8;
        return o;
    }
    static ossmp::client_options client_options(std::uint16_t port) {
        ossmp::client_options o;
        o.endpoint = "http://127.0.0.1:" + std::to_string(port);
        o.region = "cn-hangzhou";
        o.style = ossmp::addressing_style::path;
        return o;
    }
    explicit rig(std::uint16_t port)
        : transport(ctx, transport_options()),
          client(transport, client_options(port),
                 ossmp::static_credentials_provider(std::string(ak), std::string(sk))) {}

    /// Runs `a` to its end; rethrows what it threw.
    template <class T>
    T run(asio::awaitable<T> a) {
        std::optional<T> result;
        std::exception_ptr failure;
        asio::co_spawn(ctx, std::move(a), [&](std::exception_ptr e, T v) {
            failure = e;
            if (!e)
                result = std::move(v);
        });
        ctx.restart();
        ctx.run();
        if (failure)
            std::rethrow_exception(failure);
        return std::move(*result);
    }

    /// Runs `workers` copies of `make()` at once to their ends; rethrows the first failure.
    template <class Make>
    void run_workers(unsigned workers, Make make) {
        std::exception_ptr failure;
        for (unsigned w = 0; w < workers; ++w)
            asio::co_spawn(ctx, make(), [&failure](std::exception_ptr e) {
                if (e && !failure)
                    failure = e;
            });
        ctx.restart();
        ctx.run();
        if (failure)
            std::rethrow_exception(failure);
    }
};

// --- Building the state ---------------------------------------------------------------------

struct upload_spec {
    std::string key;
    std::optional<std::int64_t> initiated; ///< unix seconds for x-ossmp-test-initiated
};

asio::awaitable<void> initiate_worker(client_type& c, const std::vector<upload_spec>& specs,
                                      std::vector<std::string>& ids, std::size_t& next) {
    while (next < specs.size()) {
        const std::size_t i = next++;
        ossmp::initiate_params p;
        p.bucket = std::string(bucket);
        p.key = specs[i].key;
        p.encoding_type_url = true; // a key with control characters comes back encoded
        if (specs[i].initiated)
            p.extra_headers.add("x-ossmp-test-initiated", std::to_string(*specs[i].initiated));
        ossmp::diagnostics d;
        auto [ec, r] =
            co_await ossmp::async_initiate_upload(c, p, d, aex::as_tuple(asio::use_awaitable));
        if (ec)
            throw std::system_error(ec, "InitiateMultipartUpload " + d.to_string());
        ids[i] = r.upload_id;
    }
}

/// Initiates an upload per spec, 8 at once; their upload ids in the order of `specs`.
std::vector<std::string> initiate_all(rig& r, const std::vector<upload_spec>& specs) {
    std::vector<std::string> ids(specs.size());
    std::size_t next = 0;
    r.run_workers(8, [&] { return initiate_worker(r.client, specs, ids, next); });
    return ids;
}

asio::awaitable<void> part_worker(client_type& c, const std::string& key,
                                  const std::string& upload_id,
                                  const std::vector<std::string>& bodies, std::size_t& next) {
    while (next < bodies.size()) {
        const std::size_t i = next++;
        ossmp::upload_part_params p;
        p.bucket = std::string(bucket);
        p.key = key;
        p.upload_id = upload_id;
        p.part_number = static_cast<int>(i) + 1;
        p.data = std::as_bytes(std::span<const char>(bodies[i].data(), bodies[i].size()));
        const ossmp::upload_part_options o;
        ossmp::diagnostics d;
        auto [ec, r] =
            co_await ossmp::async_upload_part(c, p, o, d, aex::as_tuple(asio::use_awaitable));
        if (ec)
            throw std::system_error(ec, "UploadPart " + d.to_string());
    }
}

// --- Listing through the library -------------------------------------------------------------

asio::awaitable<std::vector<ossmp::part_info>> all_parts(client_type& c, std::string key,
                                                         std::string upload_id, int page_size) {
    ossmp::list_parts_options o;
    o.page_size = page_size;
    auto listing =
        ossmp::list_all_parts(c, std::string(bucket), std::move(key), std::move(upload_id), o);
    std::vector<ossmp::part_info> out;
    while (auto part = co_await listing.next())
        out.push_back(std::move(*part));
    co_return out;
}

asio::awaitable<std::vector<ossmp::list_parts_result>> part_pages(client_type& c,
                                                                  ossmp::list_parts_params p) {
    ossmp::parts_pager pager(c, std::move(p));
    std::vector<ossmp::list_parts_result> pages;
    while (!pager.done()) {
        auto page = co_await pager.async_next(asio::use_awaitable);
        pages.push_back(std::move(page));
    }
    co_return pages;
}

asio::awaitable<std::vector<ossmp::list_uploads_result>>
upload_pages(client_type& c, ossmp::list_uploads_params p) {
    ossmp::uploads_pager pager(c, std::move(p));
    std::vector<ossmp::list_uploads_result> pages;
    while (!pager.done()) {
        auto page = co_await pager.async_next(asio::use_awaitable);
        pages.push_back(std::move(page));
    }
    co_return pages;
}

/// An entry as text: "U key id" for an upload, "P prefix" for a common prefix.
std::string entry_text(const ossmp::upload_entry& e) {
    if (const auto* u = std::get_if<ossmp::upload_info>(&e))
        return "U " + u->key + " " + u->upload_id;
    return "P " + std::get<ossmp::common_prefix>(e).prefix;
}

asio::awaitable<std::vector<std::string>> all_uploads(client_type& c,
                                                      ossmp::list_uploads_options o) {
    auto listing = ossmp::list_all_uploads(c, std::string(bucket), std::move(o));
    std::vector<std::string> out;
    while (auto e = co_await listing.next())
        out.push_back(entry_text(*e));
    co_return out;
}

asio::awaitable<std::vector<std::string>> uploads_of(client_type& c, std::string key,
                                                     int page_size) {
    auto listing = ossmp::list_uploads_of_object(c, std::string(bucket), std::move(key), page_size);
    std::vector<std::string> out;
    while (auto u = co_await listing.next())
        out.push_back("U " + u->key + " " + u->upload_id);
    co_return out;
}

asio::awaitable<std::pair<std::error_code, ossmp::cleanup_result>>
cleanup(client_type& c, ossmp::cleanup_options o) {
    auto [ec, r] = co_await ossmp::async_cleanup_uploads(c, std::string(bucket), std::move(o),
                                                         aex::as_tuple(asio::use_awaitable));
    co_return std::make_pair(ec, std::move(r));
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// --- Tests -----------------------------------------------------------------------------------

TEST_CASE("pagination: 2,500 parts listed 1,000 per page, in order, in 3 requests",
          "[pagination][integration]") {
    env_guard env;
    temp_dir dir;
    const std::string log = dir.file("requests.log");
    ossmp::test::emulator_process emu(emulator_args(log));
    rig r(emu.port());
    const std::string key = "parts/many parts+%.bin";
    const std::string id = initiate_all(r, {upload_spec{key, {}}}).at(0);

    // Tiny parts: OSS checks part sizes only at Complete, so ListParts lists what was sent.
    constexpr std::size_t count = 2500;
    std::vector<std::string> bodies(count);
    for (std::size_t i = 0; i < count; ++i)
        bodies[i] = "part " + std::to_string(i + 1) + std::string(i % 7, '+');
    std::size_t next = 0;
    r.run_workers(8, [&] { return part_worker(r.client, key, id, bodies, next); });

    SECTION("the generator lists every part in order, one request per 1,000") {
        const auto before = requests(log, "ListParts");
        const auto parts = r.run(all_parts(r.client, key, id, 1000));
        CHECK(requests(log, "ListParts") - before == 3);
        REQUIRE(parts.size() == count);
        std::size_t exact = 0;
        for (std::size_t i = 0; i < count; ++i)
            exact += parts[i].part_number == static_cast<int>(i + 1) &&
                     parts[i].size == bodies[i].size() && parts[i].crc64 &&
                     *parts[i].crc64 == ossmp::crc64(bodies[i]);
        CHECK(exact == count);
        // The server's default page (no max-parts) is 1,000 too.
        const auto before_default = requests(log, "ListParts");
        CHECK(r.run(all_parts(r.client, key, id, 0)).size() == count);
        CHECK(requests(log, "ListParts") - before_default == 3);
    }

    SECTION("the emulator's markers are OSS's: NextPartNumberMarker is the last part listed") {
        ossmp::list_parts_params p;
        p.bucket = std::string(bucket);
        p.key = key;
        p.upload_id = id;
        p.max_parts = 1000;
        const auto pages = r.run(part_pages(r.client, p));
        REQUIRE(pages.size() == 3);
        CHECK(pages[0].part_number_marker == 0);
        CHECK(pages[0].max_parts == 1000);
        CHECK(pages[0].parts.size() == 1000);
        CHECK(pages[0].is_truncated);
        CHECK(pages[0].next_part_number_marker == 1000);
        CHECK(pages[1].part_number_marker == 1000);
        CHECK(pages[1].parts.size() == 1000);
        CHECK(pages[1].parts.front().part_number == 1001);
        CHECK(pages[1].is_truncated);
        CHECK(pages[1].next_part_number_marker == 2000);
        CHECK(pages[2].parts.size() == 500);
        CHECK_FALSE(pages[2].is_truncated);
        CHECK(pages[2].next_part_number_marker == 2500);
        CHECK(pages[2].key == key); // sent and returned URL-encoded, decoded by the op

        // Beyond 1,000 the emulator refuses, as OSS does (the library refuses before sending).
        ossmp::test::raw_client_options ro;
        ro.creds.access_key_id = std::string(ak);
        ro.creds.access_key_secret = std::string(sk);
        ro.signing.version = ossmp::signature_version::v4;
        ossmp::test::emulator_client raw(emu.port(), ro);
        ossmp::http::request too_many;
        too_many.method = ossmp::http::verb::get;
        too_many.bucket = std::string(bucket);
        too_many.key = key;
        too_many.query = {{"uploadId", id}, {"max-parts", "1001"}};
        const auto refused = raw.send(too_many);
        CHECK(refused.status == 400);
        CHECK(refused.body.find("<Code>InvalidArgument</Code>") != std::string::npos);
    }

    SECTION("ossmp mpu list-parts: every part across pages; --max stops early") {
        const auto g = cli_globals(emu.port());
        const std::string url = "oss://" + std::string(bucket) + "/" + key;
        auto before = requests(log, "ListParts");
        auto all = run_cli(dir, cat(g, {"mpu", "list-parts", url, id, "--page-size", "1000"}));
        REQUIRE(all.exit_code == 0);
        CHECK(requests(log, "ListParts") - before == 3);
        const auto lines = rows(all.out);
        REQUIRE(lines.size() == count);
        std::size_t exact = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const auto f = fields(lines[i]);
            exact += f.size() == 5 && f[0] == std::to_string(i + 1) &&
                     f[1] == std::to_string(bodies[i].size()) &&
                     f[3] == ossmp::crc64_to_string(ossmp::crc64(bodies[i]));
        }
        CHECK(exact == count);
        CHECK(all.err.find("first page") == std::string::npos); // the old one-page note is gone

        // --max 1500 with pages of 1,000: two requests, not three.
        before = requests(log, "ListParts");
        auto some = run_cli(
            dir, cat(g, {"mpu", "list-parts", url, id, "--page-size", "1000", "--max", "1500"}));
        REQUIRE(some.exit_code == 0);
        CHECK(rows(some.out).size() == 1500);
        CHECK(fields(rows(some.out).back()).at(0) == "1500");
        CHECK(requests(log, "ListParts") - before == 2);
        CHECK(some.err.find("--max") != std::string::npos); // says more may follow

        // --max 3 alone asks for a page of 3: one request. JSON: one object per line.
        before = requests(log, "ListParts");
        auto three = run_cli(dir, cat(g, {"--json", "mpu", "list-parts", url, id, "--max", "3"}));
        REQUIRE(three.exit_code == 0);
        CHECK(requests(log, "ListParts") - before == 1);
        const auto json_lines = rows(three.out);
        REQUIRE(json_lines.size() == 3);
        CHECK(json_lines[0].rfind("{\"part_number\":1,\"size\":6,", 0) == 0);
        CHECK(json_lines[2].rfind("{\"part_number\":3,", 0) == 0);
        CHECK(json_field(json_lines[1], "crc64") ==
              ossmp::crc64_to_string(ossmp::crc64(bodies[1])));

        // Usage errors: exit 2, nothing requested.
        before = requests(log, "ListParts");
        for (const char* bad : {"0", "1001", "-1", "x"})
            CHECK(run_cli(dir, cat(g, {"mpu", "list-parts", url, id, "--page-size", bad}))
                      .exit_code == 2);
        CHECK(run_cli(dir, cat(g, {"mpu", "list-parts", url, id, "--max", "0"})).exit_code == 2);
        CHECK(requests(log, "ListParts") == before);
    }
}

TEST_CASE("pagination: 1,205 uploads of odd keys listed whole, by prefix, by key, with a "
          "delimiter",
          "[pagination][integration]") {
    env_guard env;
    temp_dir dir;
    const std::string log = dir.file("requests.log");
    ossmp::test::emulator_process emu(emulator_args(log));
    rig r(emu.port());
    std::vector<upload_spec> specs;
    for (int i = 0; i < 400; ++i)
        specs.push_back({key_a, {}});
    for (int i = 0; i < 405; ++i)
        specs.push_back({key_top, {}});
    for (int i = 0; i < 400; ++i)
        specs.push_back({key_b, {}});
    const auto ids = initiate_all(r, specs);
    REQUIRE(ids.size() == 1205);

    // What every listing must give: keys in byte order, the uploads of a key by upload id
    // (the emulator's ids are time-ordered: initiation order).
    std::vector<std::pair<std::string, std::string>> sorted;
    for (std::size_t i = 0; i < specs.size(); ++i)
        sorted.emplace_back(specs[i].key, ids[i]);
    std::sort(sorted.begin(), sorted.end());
    auto expected = [&](std::string_view only_key) {
        std::vector<std::string> out;
        for (const auto& [k, id] : sorted)
            if (only_key.empty() || k == only_key)
                out.push_back("U " + k + " " + id);
        return out;
    };
    const auto all = expected("");
    REQUIRE(std::set<std::string>(all.begin(), all.end()).size() == 1205);

    SECTION("everything, with the default page and with pages of 500") {
        auto before = requests(log, "ListUploads");
        CHECK(r.run(all_uploads(r.client, {})) == all);
        CHECK(requests(log, "ListUploads") - before == 2);
        ossmp::list_uploads_options o;
        o.page_size = 500;
        before = requests(log, "ListUploads");
        CHECK(r.run(all_uploads(r.client, o)) == all);
        CHECK(requests(log, "ListUploads") - before == 3);
    }

    SECTION("the emulator's markers are OSS's: the last upload listed") {
        ossmp::list_uploads_params p;
        p.bucket = std::string(bucket);
        p.max_uploads = 1000;
        const auto pages = r.run(upload_pages(r.client, p));
        REQUIRE(pages.size() == 2);
        REQUIRE(pages[0].uploads.size() == 1000);
        CHECK(pages[0].is_truncated);
        CHECK(pages[0].max_uploads == 1000);
        CHECK(pages[0].next_key_marker == pages[0].uploads.back().key); // decoded: odd bytes
        CHECK(pages[0].next_upload_id_marker == pages[0].uploads.back().upload_id);
        CHECK(pages[0].next_key_marker == key_b); // 400 + 405 + the first 195 of key_b
        CHECK(pages[1].key_marker == key_b);
        CHECK(pages[1].upload_id_marker == pages[0].uploads.back().upload_id);
        CHECK(pages[1].uploads.size() == 205);
        CHECK_FALSE(pages[1].is_truncated);
        CHECK(pages[1].next_key_marker == key_b);
        CHECK(pages[1].next_upload_id_marker == pages[1].uploads.back().upload_id);
    }

    SECTION("by prefix") {
        ossmp::list_uploads_options o;
        o.prefix = "dir one/";
        CHECK(r.run(all_uploads(r.client, o)) == expected(key_a));
        o.prefix = "dir+two/"; // a '+' in the query must not become a space
        o.page_size = 150;
        const auto before = requests(log, "ListUploads");
        CHECK(r.run(all_uploads(r.client, o)) == expected(key_b));
        CHECK(requests(log, "ListUploads") - before == 3);
        o.prefix = "dir top \xc3\xa9";
        CHECK(r.run(all_uploads(r.client, o)) == expected(key_top));
        o.prefix = "dir two/";
        CHECK(r.run(all_uploads(r.client, o)).empty());
    }

    SECTION("by key (list_uploads_of_object)") {
        for (const auto& k : {key_a, key_top, key_b}) {
            INFO(k);
            CHECK(r.run(uploads_of(r.client, k, 0)) == expected(k));
        }
        const auto before = requests(log, "ListUploads");
        CHECK(r.run(uploads_of(r.client, key_top, 100)) == expected(key_top));
        CHECK(requests(log, "ListUploads") - before == 5);              // 405 uploads, 100 a page
        CHECK(r.run(uploads_of(r.client, "dir one/a b+c", 0)).empty()); // a prefix of a key
    }

    SECTION("with a delimiter: prefixes and top-level keys merged in key order") {
        std::vector<std::string> rolled{"P dir one/"};
        const auto top = expected(key_top);
        rolled.insert(rolled.end(), top.begin(), top.end());
        rolled.push_back("P dir+two/");
        ossmp::list_uploads_options o;
        o.delimiter = "/";
        auto before = requests(log, "ListUploads");
        CHECK(r.run(all_uploads(r.client, o)) == rolled);
        CHECK(requests(log, "ListUploads") - before == 1);
        // One entry a page: a page that ends with a prefix continues after all of its keys.
        o.page_size = 1;
        before = requests(log, "ListUploads");
        CHECK(r.run(all_uploads(r.client, o)) == rolled);
        CHECK(requests(log, "ListUploads") - before == rolled.size());
        // Within a prefix, a deeper delimiter rolls nothing up.
        o.prefix = "dir one/";
        o.page_size = 0;
        CHECK(r.run(all_uploads(r.client, o)) == expected(key_a));
    }

    SECTION("ossmp mpu list-uploads: all, --key, --delimiter, --max, --json") {
        const auto g = cli_globals(emu.port());
        const std::string b = "oss://" + std::string(bucket);
        auto text_of = [](const std::string& out) {
            std::vector<std::string> got;
            for (const auto& line : rows(out)) {
                const auto f = fields(line);
                got.push_back(f.size() == 3 ? "U " + f[0] + " " + f[1] : "? " + line);
            }
            return got;
        };
        auto before = requests(log, "ListUploads");
        auto everything = run_cli(dir, cat(g, {"mpu", "list-uploads", b}));
        REQUIRE(everything.exit_code == 0);
        CHECK(text_of(everything.out) == all);
        CHECK(requests(log, "ListUploads") - before == 2);
        CHECK(everything.err.empty());

        auto one = run_cli(dir, cat(g, {"mpu", "list-uploads", b, "--key", key_top}));
        REQUIRE(one.exit_code == 0);
        CHECK(text_of(one.out) == expected(key_top));

        auto prefixed = run_cli(dir, cat(g, {"mpu", "list-uploads", b + "/dir+two/"}));
        REQUIRE(prefixed.exit_code == 0);
        CHECK(text_of(prefixed.out) == expected(key_b));

        auto rolled = run_cli(dir, cat(g, {"mpu", "list-uploads", b, "--delimiter", "/"}));
        REQUIRE(rolled.exit_code == 0);
        const auto rolled_rows = rows(rolled.out);
        REQUIRE(rolled_rows.size() == 407);
        CHECK(rolled_rows.front() == "dir one/\t(common prefix)");
        CHECK(rolled_rows.back() == "dir+two/\t(common prefix)");
        CHECK(fields(rolled_rows[1]).at(0) == key_top);

        auto rolled_json =
            run_cli(dir, cat(g, {"--json", "mpu", "list-uploads", b, "--delimiter", "/"}));
        REQUIRE(rolled_json.exit_code == 0);
        const auto json_rows = rows(rolled_json.out);
        REQUIRE(json_rows.size() == 407);
        CHECK(json_rows.front() == "{\"prefix\":\"dir one/\"}");
        CHECK(json_rows.back() == "{\"prefix\":\"dir+two/\"}");
        CHECK(json_field(json_rows[1], "key") == key_top);
        CHECK(json_field(json_rows[1], "upload_id") ==
              expected(key_top).front().substr(2 + key_top.size() + 1));

        before = requests(log, "ListUploads");
        auto ten = run_cli(dir, cat(g, {"mpu", "list-uploads", b, "--max", "10"}));
        REQUIRE(ten.exit_code == 0);
        CHECK(text_of(ten.out) == std::vector<std::string>(all.begin(), all.begin() + 10));
        CHECK(requests(log, "ListUploads") - before == 1);

        before = requests(log, "ListUploads");
        auto past_page = run_cli(
            dir, cat(g, {"mpu", "list-uploads", b, "--max", "1001", "--page-size", "1000"}));
        REQUIRE(past_page.exit_code == 0);
        CHECK(text_of(past_page.out) == std::vector<std::string>(all.begin(), all.begin() + 1001));
        CHECK(requests(log, "ListUploads") - before == 2);

        // --key with a prefix or a delimiter is a usage error.
        CHECK(run_cli(dir, cat(g, {"mpu", "list-uploads", b + "/dir", "--key", key_a})).exit_code ==
              2);
        CHECK(run_cli(dir, cat(g, {"mpu", "list-uploads", b, "--key", key_a, "--delimiter", "/"}))
                  .exit_code == 2);
    }
}

TEST_CASE("pagination: x-ossmp-test-initiated is honoured only with --allow-test-headers",
          "[pagination][integration]") {
    temp_dir dir;
    const std::string log = dir.file("requests.log");
    const std::int64_t ten_days_ago = unix_now() - 10 * 86400;
    const std::string old_key = "old/one";
    auto initiated_of = [&](bool flag) {
        ossmp::test::emulator_process emu(emulator_args(log, flag));
        rig r(emu.port());
        initiate_all(r, {upload_spec{old_key, ten_days_ago}});
        const auto listed = r.run(uploads_of(r.client, old_key, 0));
        REQUIRE(listed.size() == 1);
        ossmp::list_uploads_params p;
        p.bucket = std::string(bucket);
        const auto pages = r.run(upload_pages(r.client, p));
        REQUIRE(pages.size() == 1);
        REQUIRE(pages[0].uploads.size() == 1);
        REQUIRE(pages[0].uploads[0].initiated_time);
        return *pages[0].uploads[0].initiated_time;
    };
    const auto with_flag = initiated_of(true);
    CHECK(with_flag == std::chrono::system_clock::time_point(std::chrono::seconds(ten_days_ago)));
    const auto without = initiated_of(false);
    CHECK(without > std::chrono::system_clock::now() - 5min); // ignored: the real time

    // With the flag a malformed value is refused (400 InvalidArgument), never silently ignored.
    ossmp::test::emulator_process emu(emulator_args(log, true));
    ossmp::test::raw_client_options ro;
    ro.creds.access_key_id = std::string(ak);
    ro.creds.access_key_secret = std::string(sk);
    ossmp::test::emulator_client raw(emu.port(), ro);
    for (const char* bad : {"yesterday", "-5", "1e9", "99999999999"}) {
        ossmp::http::request init;
        init.method = ossmp::http::verb::post;
        init.bucket = std::string(bucket);
        init.key = "k";
        init.query = {{"uploads", ""}};
        init.headers.add("x-ossmp-test-initiated", bad);
        const auto reply = raw.send(init);
        INFO(bad);
        CHECK(reply.status == 400);
        CHECK(reply.body.find("<Code>InvalidArgument</Code>") != std::string::npos);
    }
}

/// The bucket of the cleanup tests: 5 uploads 10 days old (one key with an ESC), 3 an hour
/// old, 2 new; returns the old ones as "key id".
struct cleanup_fixture {
    std::vector<upload_spec> specs;
    std::vector<std::string> ids;
    std::set<std::string> old_uploads, young_uploads;

    explicit cleanup_fixture(rig& r) {
        const auto now = unix_now();
        for (const char* k : {"old/a", "old/b c", "old/\xc3\xa9+%", "tmp/x"})
            specs.push_back({k, now - 10 * 86400});
        specs.push_back({"old/esc\x1b[31mred", now - 10 * 86400});
        for (const char* k : {"old/a", "young/b", "young/c"})
            specs.push_back({k, now - 3600});
        specs.push_back({"new/a", {}});
        specs.push_back({"old/a", {}});
        ids = initiate_all(r, specs);
        for (std::size_t i = 0; i < specs.size(); ++i)
            (i < 5 ? old_uploads : young_uploads).insert(specs[i].key + " " + ids[i]);
    }
};

/// The uploads in the bucket as "key id".
std::set<std::string> remaining(rig& r) {
    std::set<std::string> out;
    for (const auto& e : r.run(all_uploads(r.client, {})))
        out.insert(e.substr(2));
    return out;
}

TEST_CASE("pagination: async_cleanup_uploads aborts exactly the uploads older than the cutoff",
          "[pagination][integration]") {
    temp_dir dir;
    const std::string log = dir.file("requests.log");
    ossmp::test::emulator_process emu(emulator_args(log));
    rig r(emu.port());
    cleanup_fixture f(r);
    std::set<std::string> everything = f.old_uploads;
    everything.insert(f.young_uploads.begin(), f.young_uploads.end());
    REQUIRE(remaining(r) == everything);

    std::set<std::string> reported;
    ossmp::cleanup_options o;
    o.older_than = 7 * 24h;
    o.page_size = 2; // 5 pages: the aborts run while the listing goes on
    o.parallel = 3;
    o.on_upload = [&reported](const ossmp::cleanup_entry& e) {
        reported.insert(std::string(ossmp::to_string(e.action)) + " " + e.key + " " + e.upload_id);
    };
    auto with_action = [&](std::string_view action) {
        std::set<std::string> out;
        for (const auto& u : f.old_uploads)
            out.insert(std::string(action) + " " + u);
        return out;
    };

    SECTION("a dry run reports them and aborts none") {
        o.dry_run = true;
        auto [ec, res] = r.run(cleanup(r.client, o));
        CHECK_FALSE(ec);
        CHECK(res.would_abort == 5);
        CHECK(res.aborted == 0);
        CHECK(res.listed == 10);
        CHECK(res.kept == 5);
        CHECK(res.pages == 5);
        CHECK(reported == with_action("would_abort"));
        CHECK(requests(log, "Abort") == 0);
        CHECK(remaining(r) == everything);
    }

    SECTION("for real: the old ones are aborted, the others stay") {
        auto [ec, res] = r.run(cleanup(r.client, o));
        CHECK_FALSE(ec);
        CHECK(res.aborted == 5);
        CHECK(res.failed == 0);
        CHECK(res.kept == 5);
        CHECK(reported == with_action("aborted"));
        CHECK(requests(log, "Abort") == 5);
        CHECK(remaining(r) == f.young_uploads);
        // A second run finds nothing old.
        reported.clear();
        auto [ec2, res2] = r.run(cleanup(r.client, o));
        CHECK_FALSE(ec2);
        CHECK(res2.aborted + res2.would_abort + res2.gone + res2.failed == 0);
        CHECK(reported.empty());
    }

    SECTION("a prefix limits it") {
        o.prefix = "tmp/";
        auto [ec, res] = r.run(cleanup(r.client, o));
        CHECK_FALSE(ec);
        CHECK(res.aborted == 1);
        CHECK(res.listed == 1);
        auto left = everything;
        for (const auto& u : f.old_uploads)
            if (u.starts_with("tmp/"))
                left.erase(u);
        CHECK(remaining(r) == left);
    }

    SECTION("a shorter age takes the hour-old ones too, never the new ones") {
        o.older_than = 30min;
        auto [ec, res] = r.run(cleanup(r.client, o));
        CHECK_FALSE(ec);
        CHECK(res.aborted == 8);
        std::set<std::string> new_ones;
        for (std::size_t i = 8; i < f.specs.size(); ++i)
            new_ones.insert(f.specs[i].key + " " + f.ids[i]);
        CHECK(remaining(r) == new_ones);
    }
}

TEST_CASE("pagination: ossmp cleanup prints one line per upload and a summary",
          "[pagination][integration]") {
    env_guard env;
    temp_dir dir;
    const std::string log = dir.file("requests.log");
    ossmp::test::emulator_process emu(emulator_args(log));
    rig r(emu.port());
    cleanup_fixture f(r);
    const auto g = cli_globals(emu.port());
    const std::string b = "oss://" + std::string(bucket);
    std::set<std::string> everything = f.old_uploads;
    everything.insert(f.young_uploads.begin(), f.young_uploads.end());
    // "key id" -> the escaped form the text output shows.
    auto escaped = [](std::string s) {
        const auto at = s.find('\x1b');
        return at == std::string::npos ? s : s.replace(at, 1, "\\x1b");
    };

    SECTION("text: a dry run, then the cleanup") {
        auto dry = run_cli(dir, cat(g, {"cleanup", b, "--older-than", "7d", "--dry-run"}));
        REQUIRE(dry.exit_code == 0);
        auto lines = rows(dry.out);
        REQUIRE(lines.size() == 6);
        std::set<std::string> listed;
        for (std::size_t i = 0; i < 5; ++i) {
            const auto fl = fields(lines[i]);
            REQUIRE(fl.size() == 4);
            CHECK(fl[0] == "would_abort");
            CHECK(fl[3].size() == 24); // Initiated: 2012-02-23T04:18:23.000Z
            listed.insert(fl[1] + " " + fl[2]);
        }
        std::set<std::string> want;
        for (const auto& u : f.old_uploads)
            want.insert(escaped(u));
        CHECK(listed == want); // the ESC of a key is printed as \x1b, never raw
        CHECK(dry.out.find('\x1b') == std::string::npos);
        CHECK(lines[5].rfind("dry run: 5 would be aborted, 5 kept (10 listed; older than 7d", 0) ==
              0);
        CHECK(requests(log, "Abort") == 0);
        CHECK(remaining(r) == everything);

        auto real = run_cli(dir, cat(g, {"cleanup", b, "--older-than", "7d", "--parallel", "2"}));
        REQUIRE(real.exit_code == 0);
        lines = rows(real.out);
        REQUIRE(lines.size() == 6);
        listed.clear();
        for (std::size_t i = 0; i < 5; ++i) {
            const auto fl = fields(lines[i]);
            REQUIRE(fl.size() == 4);
            CHECK(fl[0] == "aborted");
            listed.insert(fl[1] + " " + fl[2]);
        }
        CHECK(listed == want);
        CHECK(lines[5].rfind("5 aborted, 0 already gone, 0 failed, 5 kept (10 listed;", 0) == 0);
        CHECK(requests(log, "Abort") == 5);
        CHECK(remaining(r) == f.young_uploads);
    }

    SECTION("JSON: one object per upload with its action, then the summary") {
        auto real = run_cli(dir, cat(g, {"--json", "cleanup", b + "/old/", "--older-than", "30m",
                                         "--page-size", "1"}));
        REQUIRE(real.exit_code == 0);
        const auto lines = rows(real.out);
        // Under old/: the 4 ten-day-old ones and the hour-old old/a; not the new old/a.
        REQUIRE(lines.size() == 6);
        std::set<std::string> listed;
        for (std::size_t i = 0; i < 5; ++i) {
            CHECK(lines[i].rfind("{\"action\":\"aborted\",\"key\":", 0) == 0);
            listed.insert(json_field(lines[i], "key") + " " + json_field(lines[i], "upload_id"));
        }
        std::set<std::string> want;
        for (std::size_t i = 0; i < 6; ++i) {
            if (!f.specs[i].key.starts_with("old/"))
                continue;
            // json_field keeps the escape's text without its backslash: \u001b -> u001b.
            std::string key = f.specs[i].key;
            if (const auto at = key.find('\x1b'); at != std::string::npos)
                key.replace(at, 1, "u001b");
            want.insert(key + " " + f.ids[i]);
        }
        CHECK(listed == want);
        // The hour-old "old/a" (spec 5) was aborted, the ten-day-old "tmp/x" was not (prefix).
        CHECK(listed.count("old/a " + f.ids[5]) == 1);
        CHECK(real.out.find("\\u001b") != std::string::npos); // the ESC, exact in JSON
        CHECK(lines[5].rfind("{\"summary\":true,\"dry_run\":false,\"older_than\":\"30m\",", 0) ==
              0);
        CHECK(lines[5].find("\"listed\":6,\"kept\":1,\"would_abort\":0,\"aborted\":5,\"gone\":0,"
                            "\"failed\":0,\"complete\":true}") != std::string::npos);
        CHECK(requests(log, "Abort") == 5);
    }

    SECTION("bad DURATION or parallelism: exit 2, nothing sent") {
        const auto before = requests(log, "ListUploads");
        for (const char* bad : {"7", "7w", "1h30m", "-1d", "d", "7 d", "", "7D", "1.5h", "+7d",
                                "99999999999999999999d", "36501d"}) {
            auto res = run_cli(dir, cat(g, {"cleanup", b, "--older-than", bad}));
            INFO("'" << bad << "': " << res.err);
            CHECK(res.exit_code == 2);
            CHECK(res.err.find("--older-than") != std::string::npos);
        }
        CHECK(run_cli(dir, cat(g, {"cleanup", b})).exit_code == 2); // --older-than is required
        CHECK(run_cli(dir, cat(g, {"cleanup", b, "--older-than", "1d", "--parallel", "0"}))
                  .exit_code == 2);
        CHECK(requests(log, "ListUploads") == before);
        CHECK(remaining(r) == everything);
        auto help = run_cli(dir, {"cleanup", "--help"});
        CHECK(help.exit_code == 0);
        CHECK(help.out.find("Usage: ossmp cleanup ") != std::string::npos);
        CHECK(help.out.find("--older-than") != std::string::npos);
    }
}

TEST_CASE("pagination: ossmp cleanup exits 1 when an abort fails, 130 on Ctrl-C",
          "[pagination][integration]") {
    env_guard env;
    temp_dir dir;
    const std::string log = dir.file("requests.log");
    const std::string b = "oss://" + std::string(bucket);

    SECTION("a failed abort: its row says why, the others are aborted, exit 1") {
        ossmp::test::emulator_process emu(emulator_args(log, true, {"--faults", "Abort@2=500"}));
        rig r(emu.port());
        cleanup_fixture f(r);
        auto res = run_cli(dir, cat(cli_globals(emu.port()),
                                    {"cleanup", b, "--older-than", "7d", "--parallel", "1"}));
        CHECK(res.exit_code == 1);
        const auto lines = rows(res.out);
        REQUIRE(lines.size() == 6);
        std::size_t aborted = 0, failed = 0;
        for (std::size_t i = 0; i < 5; ++i) {
            const auto fl = fields(lines[i]);
            aborted += fl.at(0) == "aborted";
            if (fl.at(0) == "failed") {
                ++failed;
                REQUIRE(fl.size() == 5);
                CHECK(fl[4].find("InternalError") != std::string::npos);
            }
        }
        CHECK(aborted == 4);
        CHECK(failed == 1);
        CHECK(lines[5].rfind("4 aborted, 0 already gone, 1 failed, 5 kept", 0) == 0);
        CHECK(res.err.find("1 abort failed") != std::string::npos);
        CHECK(remaining(r).size() == 6);
    }

    SECTION("Ctrl-C while the aborts hang: exit 130, with the summary") {
        ossmp::test::emulator_process emu(emulator_args(log, true, {"--faults", "Abort=stall=30"}));
        rig r(emu.port());
        cleanup_fixture f(r);
        cli_process p(dir, cat(cli_globals(emu.port()), {"cleanup", b, "--older-than", "7d"}));
        // Wait until the aborts are in flight (the listing is done and logged).
        for (int i = 0; i < 200 && requests(log, "ListUploads") == 0; ++i)
            std::this_thread::sleep_for(20ms);
        std::this_thread::sleep_for(300ms);
        const auto start = std::chrono::steady_clock::now();
        p.signal(SIGINT);
        auto res = p.wait(std::chrono::seconds(20));
        CHECK(res.exit_code == 130);
        CHECK(std::chrono::steady_clock::now() - start < 10s);
        const auto lines = rows(res.out);
        REQUIRE_FALSE(lines.empty());
        CHECK(lines.back().find("0 aborted, 0 already gone, ") == 0);
        CHECK(lines.back().find("; interrupted") != std::string::npos);
        CHECK(res.err.find("interrupted") != std::string::npos);
        CHECK(remaining(r).size() == 10); // the stalled aborts did nothing
    }
}

} // namespace
