#include "ossmp/validate.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <system_error>
#include <vector>

namespace {

using ossmp::errc;

constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t mib = 1024 * kib;
constexpr std::uint64_t gib = 1024 * mib;

struct numbered {
    int part_number;
};

} // namespace

TEST_CASE("limits carry the documented OSS values", "[validate]") {
    STATIC_REQUIRE(ossmp::min_part_size == 102400);
    STATIC_REQUIRE(ossmp::max_part_size == 5368709120ull);
    STATIC_REQUIRE(ossmp::max_parts == 10000);
    STATIC_REQUIRE(ossmp::max_key_size == 1023);
    STATIC_REQUIRE(ossmp::max_list_parts == 1000);
    STATIC_REQUIRE(ossmp::max_list_uploads == 1000);
    STATIC_REQUIRE(ossmp::max_put_object_size == 5368709120ull);
    STATIC_REQUIRE(ossmp::max_object_size == 53687091200000ull);
}

TEST_CASE("bucket names", "[validate]") {
    CHECK_FALSE(ossmp::validate_bucket_name("abc"));
    CHECK_FALSE(ossmp::validate_bucket_name("examplebucket"));
    CHECK_FALSE(ossmp::validate_bucket_name("a-1-b"));
    CHECK_FALSE(ossmp::validate_bucket_name("123"));
    CHECK_FALSE(ossmp::validate_bucket_name(std::string(63, 'a')));

    CHECK(ossmp::validate_bucket_name("ab") == errc::invalid_bucket_name);
    CHECK(ossmp::validate_bucket_name("") == errc::invalid_bucket_name);
    CHECK(ossmp::validate_bucket_name(std::string(64, 'a')) == errc::invalid_bucket_name);
    CHECK(ossmp::validate_bucket_name("-abc") == errc::invalid_bucket_name);
    CHECK(ossmp::validate_bucket_name("abc-") == errc::invalid_bucket_name);
    CHECK(ossmp::validate_bucket_name("ABC") == errc::invalid_bucket_name);
    CHECK(ossmp::validate_bucket_name("a_bc") == errc::invalid_bucket_name);
    CHECK(ossmp::validate_bucket_name("a.bc") == errc::invalid_bucket_name);
    CHECK(ossmp::validate_bucket_name("ab c") == errc::invalid_bucket_name);
}

TEST_CASE("object keys", "[validate]") {
    CHECK_FALSE(ossmp::validate_key("a"));
    CHECK_FALSE(ossmp::validate_key("multipart.data"));
    CHECK_FALSE(ossmp::validate_key("dir/a b+c~.txt"));
    CHECK_FALSE(ossmp::validate_key("dir/a b+c~\xC3\xA9.bin")); // é
    CHECK_FALSE(ossmp::validate_key("\xF0\x9F\x98\x80"));       // U+1F600, 4 bytes
    CHECK_FALSE(ossmp::validate_key("a/"));
    CHECK_FALSE(ossmp::validate_key(std::string(1023, 'k')));

    CHECK(ossmp::validate_key("") == errc::empty_key);
    CHECK(ossmp::validate_key(std::string(1024, 'k')) == errc::key_too_long);
    // Length is counted in bytes: 512 two-byte characters are 1024 bytes.
    std::string wide;
    for (int i = 0; i < 512; ++i)
        wide += "\xC3\xA9";
    CHECK(ossmp::validate_key(wide) == errc::key_too_long);
    CHECK(ossmp::validate_key("/abc") == errc::invalid_key);
    CHECK(ossmp::validate_key("\\abc") == errc::invalid_key);
    CHECK(ossmp::validate_key("abc\xFF") == errc::invalid_key);
    CHECK(ossmp::validate_key("\xC3") == errc::invalid_key); // truncated
}

TEST_CASE("UTF-8 well-formedness", "[validate]") {
    CHECK(ossmp::is_valid_utf8(""));
    CHECK(ossmp::is_valid_utf8("plain ascii"));
    CHECK(ossmp::is_valid_utf8("\xC2\x80"));                 // U+0080, smallest 2-byte
    CHECK(ossmp::is_valid_utf8("\xDF\xBF"));                 // U+07FF
    CHECK(ossmp::is_valid_utf8("\xE0\xA0\x80"));             // U+0800, smallest 3-byte
    CHECK(ossmp::is_valid_utf8("\xED\x9F\xBF"));             // U+D7FF, below the surrogates
    CHECK(ossmp::is_valid_utf8("\xEE\x80\x80"));             // U+E000, above the surrogates
    CHECK(ossmp::is_valid_utf8("\xEF\xBF\xBF"));             // U+FFFF
    CHECK(ossmp::is_valid_utf8("\xF0\x90\x80\x80"));         // U+10000, smallest 4-byte
    CHECK(ossmp::is_valid_utf8("\xF4\x8F\xBF\xBF"));         // U+10FFFF, the largest
    CHECK(ossmp::is_valid_utf8("\xE4\xB8\xAD\xE6\x96\x87")); // 中文

    CHECK_FALSE(ossmp::is_valid_utf8("\x80"));             // lone continuation byte
    CHECK_FALSE(ossmp::is_valid_utf8("\xC0\xAF"));         // overlong '/'
    CHECK_FALSE(ossmp::is_valid_utf8("\xC1\xBF"));         // overlong
    CHECK_FALSE(ossmp::is_valid_utf8("\xE0\x80\xAF"));     // overlong 3-byte '/'
    CHECK_FALSE(ossmp::is_valid_utf8("\xE0\x9F\xBF"));     // overlong U+07FF
    CHECK_FALSE(ossmp::is_valid_utf8("\xED\xA0\x80"));     // U+D800, a surrogate
    CHECK_FALSE(ossmp::is_valid_utf8("\xED\xBF\xBF"));     // U+DFFF, a surrogate
    CHECK_FALSE(ossmp::is_valid_utf8("\xF0\x80\x80\xAF")); // overlong 4-byte
    CHECK_FALSE(ossmp::is_valid_utf8("\xF0\x8F\xBF\xBF")); // overlong U+FFFF
    CHECK_FALSE(ossmp::is_valid_utf8("\xF4\x90\x80\x80")); // U+110000
    CHECK_FALSE(ossmp::is_valid_utf8("\xF5\x80\x80\x80")); // lead byte above F4
    CHECK_FALSE(ossmp::is_valid_utf8("\xFF"));
    CHECK_FALSE(ossmp::is_valid_utf8("\xE4\xB8"));     // truncated 3-byte
    CHECK_FALSE(ossmp::is_valid_utf8("\xE4\x41\xAD")); // bad continuation
    CHECK_FALSE(ossmp::is_valid_utf8("\xF0\x9F\x98")); // truncated 4-byte
    CHECK_FALSE(ossmp::is_valid_utf8("a\xC3"));        // truncated at the end
}

TEST_CASE("part numbers", "[validate]") {
    CHECK_FALSE(ossmp::validate_part_number(1));
    CHECK_FALSE(ossmp::validate_part_number(5000));
    CHECK_FALSE(ossmp::validate_part_number(10000));
    CHECK(ossmp::validate_part_number(0) == errc::invalid_part_number);
    CHECK(ossmp::validate_part_number(-1) == errc::invalid_part_number);
    CHECK(ossmp::validate_part_number(10001) == errc::invalid_part_number);
    // No wrap-around through int: 2^32 + 1 is not part 1.
    CHECK(ossmp::validate_part_number(4294967297ll) == errc::invalid_part_number);
}

TEST_CASE("part sizes", "[validate]") {
    CHECK_FALSE(ossmp::validate_part_size(100 * kib, false));
    CHECK(ossmp::validate_part_size(100 * kib - 1, false) == errc::part_too_small);
    CHECK_FALSE(ossmp::validate_part_size(100 * kib - 1, true));
    CHECK_FALSE(ossmp::validate_part_size(0, true));
    CHECK(ossmp::validate_part_size(0, false) == errc::part_too_small);
    CHECK_FALSE(ossmp::validate_part_size(5 * gib, false));
    CHECK_FALSE(ossmp::validate_part_size(5 * gib, true));
    CHECK(ossmp::validate_part_size(5 * gib + 1, false) == errc::part_too_large);
    CHECK(ossmp::validate_part_size(5 * gib + 1, true) == errc::part_too_large);
}

TEST_CASE("upload ids", "[validate]") {
    CHECK_FALSE(ossmp::validate_upload_id("0004B9895DBBB6EC9"));
    CHECK(ossmp::validate_upload_id("") == errc::empty_upload_id);
}

TEST_CASE("part lists", "[validate]") {
    CHECK_FALSE(ossmp::validate_part_list(std::vector<int>{1}));
    CHECK_FALSE(ossmp::validate_part_list(std::vector<int>{3, 1, 2}));
    CHECK_FALSE(ossmp::validate_part_list(std::vector<int>{1, 10000})); // gaps are allowed
    CHECK_FALSE(ossmp::validate_part_list(std::array<numbered, 2>{{{2}, {1}}}));

    CHECK(ossmp::validate_part_list(std::vector<int>{}) == errc::empty_part_list);
    CHECK(ossmp::validate_part_list(std::vector<numbered>{}) == errc::empty_part_list);
    CHECK(ossmp::validate_part_list(std::vector<int>{1, 2, 1}) == errc::duplicate_part_number);
    CHECK(ossmp::validate_part_list(std::vector<numbered>{{7}, {7}}) ==
          errc::duplicate_part_number);
    CHECK(ossmp::validate_part_list(std::vector<int>{1, 0}) == errc::invalid_part_number);
    CHECK(ossmp::validate_part_list(std::vector<int>{10001}) == errc::invalid_part_number);
    CHECK(ossmp::validate_part_list(std::vector<int>{-3}) == errc::invalid_part_number);
    // The first problem in list order wins.
    CHECK(ossmp::validate_part_list(std::vector<int>{2, 2, 0}) == errc::duplicate_part_number);
    CHECK(ossmp::validate_part_list(std::vector<int>{0, 2, 2}) == errc::invalid_part_number);

    std::vector<int> all(10000);
    for (int i = 0; i < 10000; ++i)
        all[static_cast<std::size_t>(i)] = 10000 - i;
    CHECK_FALSE(ossmp::validate_part_list(all));
    all.push_back(1);
    CHECK(ossmp::validate_part_list(all) == errc::too_many_parts);
}

TEST_CASE("headers", "[validate]") {
    CHECK_FALSE(ossmp::validate_header("Content-Type", "application/xml"));
    CHECK_FALSE(ossmp::validate_header("x-oss-meta-author", "alice"));
    CHECK_FALSE(ossmp::validate_header("X-Custom", ""));
    CHECK_FALSE(ossmp::validate_header("x-oss-meta-a", "tab\tinside, spaces  and \xC3\xA9"));
    CHECK_FALSE(ossmp::validate_header("!#$%&'*+-.^_`|~09AZaz", "v"));

    CHECK(ossmp::validate_header("", "v") == errc::invalid_header);
    CHECK(ossmp::validate_header("x-oss-meta-a", "a\r\nb") == errc::invalid_header);
    CHECK(ossmp::validate_header("x-oss-meta-a", "a\rb") == errc::invalid_header);
    CHECK(ossmp::validate_header("x-oss-meta-a", "a\nb") == errc::invalid_header);
    CHECK(ossmp::validate_header("x-oss-meta-a", std::string("a\0b", 3)) == errc::invalid_header);
    CHECK(ossmp::validate_header("x-oss-meta-a", "a\x7F") == errc::invalid_header);
    CHECK(ossmp::validate_header("x-oss-meta-a", "a\x01") == errc::invalid_header);
    CHECK(ossmp::validate_header("a\r\nb", "v") == errc::invalid_header);
    CHECK(ossmp::validate_header("Bad Name", "v") == errc::invalid_header);
    CHECK(ossmp::validate_header("Bad:Name", "v") == errc::invalid_header);
    CHECK(ossmp::validate_header("x-\xC3\xA9", "v") == errc::invalid_header);
}

TEST_CASE("every validation failure has its own error code", "[validate]") {
    const std::vector<std::error_code> codes = {
        ossmp::validate_key(""),
        ossmp::validate_key(std::string(1024, 'k')),
        ossmp::validate_key("/k"),
        ossmp::validate_bucket_name("ab"),
        ossmp::validate_part_number(0),
        ossmp::validate_part_size(100 * kib - 1, false),
        ossmp::validate_part_size(5 * gib + 1, true),
        ossmp::validate_upload_id(""),
        ossmp::validate_part_list(std::vector<int>{}),
        ossmp::validate_part_list(std::vector<int>{1, 1}),
        ossmp::validate_part_list(std::vector<int>(10001, 1)),
        ossmp::validate_header("x", "a\r\nb"),
    };
    std::set<int> values;
    for (const auto& ec : codes) {
        CHECK(ec.category() == ossmp::errc_category());
        values.insert(ec.value());
    }
    CHECK(values.size() == codes.size());
}

TEST_CASE("choose_part_size picks the smallest fitting 4 KiB multiple", "[validate]") {
    using ossmp::choose_part_size;
    // Small files: the preferred size (the object is one part).
    CHECK(choose_part_size(1 * mib, 8 * mib) == 8 * mib);
    CHECK(choose_part_size(0, 8 * mib) == 8 * mib);
    // No preference, or one under the minimum: 100 KiB.
    CHECK(choose_part_size(1 * mib, 0) == 100 * kib);
    CHECK(choose_part_size(1 * mib, 50 * kib) == 100 * kib);
    // A preference that is not a 4 KiB multiple is rounded up.
    CHECK(choose_part_size(1 * mib, 10'000'000) == 10'002'432);
    CHECK(choose_part_size(1 * mib, 100 * kib + 1) == 100 * kib + 4096);

    // 100 GiB with 8 MiB preferred: 8 MiB would need 12,800 parts. ceil(100 GiB / 10000) =
    // 10,737,419, rounded up to 4 KiB = 10,739,712 (2622 * 4096), giving 9,998 parts.
    const std::uint64_t s100 = choose_part_size(100 * gib, 8 * mib);
    CHECK(s100 == 10'739'712);
    CHECK(ossmp::part_count(100 * gib, s100) == 9998);
    CHECK(ossmp::part_count(100 * gib, s100 - 4096) > 10000); // the smallest that fits
    // 100 GiB with 64 MiB preferred: the preference already fits.
    CHECK(choose_part_size(100 * gib, 64 * mib) == 64 * mib);

    // Exact boundaries: 10,000 parts of exactly the preferred size fit; one byte more does not.
    CHECK(choose_part_size(10000 * 8 * mib, 8 * mib) == 8 * mib);
    CHECK(ossmp::part_count(10000 * 8 * mib, 8 * mib) == 10000);
    CHECK(choose_part_size(10000 * 8 * mib + 1, 8 * mib) == 8 * mib + 4096);
    CHECK(choose_part_size(10000 * 100 * kib, 0) == 100 * kib);
    CHECK(choose_part_size(10000 * 100 * kib + 1, 0) == 100 * kib + 4096);

    // 48.8 TiB, the largest multipart object: 10,000 parts of 5 GiB.
    CHECK(choose_part_size(ossmp::max_object_size, 8 * mib) == 5 * gib);
    CHECK(ossmp::part_count(ossmp::max_object_size, 5 * gib) == 10000);
    // Just below: still 5 GiB (4 KiB rounding of ceil(total/10000) reaches it).
    CHECK(choose_part_size(ossmp::max_object_size - 1, 0) == 5 * gib);
    // 48.8 TiB minus 10,000 pages: the next lower 4 KiB multiple.
    CHECK(choose_part_size(ossmp::max_object_size - 10000 * 4096, 0) == 5 * gib - 4096);
    // Beyond it no size fits: capped at 5 GiB and the count shows the overflow.
    CHECK(choose_part_size(ossmp::max_object_size + 1, 0) == 5 * gib);
    CHECK(ossmp::part_count(ossmp::max_object_size + 1, 5 * gib) == 10001);
    // Preferences above the cap, and extreme inputs, neither overflow nor exceed it.
    CHECK(choose_part_size(1 * mib, 6 * gib) == 5 * gib);
    CHECK(choose_part_size(UINT64_MAX, UINT64_MAX) == 5 * gib);
    CHECK(choose_part_size(0, UINT64_MAX - 1) == 5 * gib);
}

TEST_CASE("choose_part_size invariants over a sweep", "[validate]") {
    const std::uint64_t totals[] = {0,           1,         100 * kib,      10 * mib,
                                    1 * gib,     100 * gib, 1000 * gib + 7, 10 * 1024 * gib,
                                    40'000 * gib};
    const std::uint64_t prefs[] = {0, 1, 100 * kib, 6 * mib, 8 * mib + 5, 1 * gib};
    for (auto total : totals) {
        for (auto pref : prefs) {
            const auto s = ossmp::choose_part_size(total, pref);
            INFO("total " << total << " preferred " << pref << " -> " << s);
            CHECK(s % 4096 == 0);
            CHECK(s >= ossmp::min_part_size);
            CHECK(s <= ossmp::max_part_size);
            CHECK(s >= pref);
            CHECK(ossmp::part_count(total, s) <= 10000);
            // Minimality: one page less either breaks a bound or the part count.
            const auto smaller = s - 4096;
            CHECK((smaller < pref || smaller < ossmp::min_part_size ||
                   ossmp::part_count(total, smaller) > 10000));
        }
    }
}

TEST_CASE("part_count", "[validate]") {
    CHECK(ossmp::part_count(0, 100) == 0);
    CHECK(ossmp::part_count(1, 100) == 1);
    CHECK(ossmp::part_count(100, 100) == 1);
    CHECK(ossmp::part_count(101, 100) == 2);
    CHECK(ossmp::part_count(5, 0) == 0);
    CHECK(ossmp::part_count(UINT64_MAX, 1) == UINT64_MAX);
}

TEST_CASE("stream_part_size: flat, then doubling up to 5 GiB", "[validate]") {
    using ossmp::stream_part_size;
    // No expectation: 8,192 parts (64 GiB) of the preferred size, then doubling every 100.
    CHECK(stream_part_size(1, 8 * mib) == 8 * mib);
    CHECK(stream_part_size(8192, 8 * mib) == 8 * mib);
    CHECK(stream_part_size(8193, 8 * mib) == 16 * mib);
    CHECK(stream_part_size(8292, 8 * mib) == 16 * mib);
    CHECK(stream_part_size(8293, 8 * mib) == 32 * mib);
    CHECK(stream_part_size(8993, 8 * mib) == 4096 * mib);
    CHECK(stream_part_size(9092, 8 * mib) == 4096 * mib);
    CHECK(stream_part_size(9093, 8 * mib) == 5 * gib); // 8 GiB, capped
    CHECK(stream_part_size(10000, 8 * mib) == 5 * gib);
    // Outside 1..10,000: no part.
    CHECK(stream_part_size(0, 8 * mib) == 0);
    CHECK(stream_part_size(10001, 8 * mib) == 0);
    // The preferred size is rounded and bounded as choose_part_size does.
    CHECK(stream_part_size(1, 50 * kib) == 100 * kib);
    CHECK(stream_part_size(1, 10'000'000) == 10'002'432);
    CHECK(stream_part_size(1, 6 * gib) == 5 * gib);

    auto reach = [](std::uint64_t preferred, std::uint64_t expected) {
        std::uint64_t sum = 0, previous = 0;
        bool valid = true; // never shrinks, 4 KiB multiples, at most 5 GiB
        for (int n = 1; n <= ossmp::max_parts; ++n) {
            const std::uint64_t s = stream_part_size(n, preferred, expected);
            valid = valid && s >= previous && s % 4096 == 0 && s <= ossmp::max_part_size;
            previous = s;
            sum += s;
        }
        CHECK(valid);
        return sum;
    };
    // 10,000 parts from 8 MiB carry 5.3 TiB (exactly 48.8 TiB needs every part at 5 GiB).
    const std::uint64_t doubling_levels = 2 + 4 + 8 + 16 + 32 + 64 + 128 + 256 + 512;
    CHECK(reach(8 * mib, 0) == 8192 * 8 * mib + 100 * 8 * mib * doubling_levels + 908 * 5 * gib);
    CHECK(reach(8 * mib, 0) > 5 * 1024 * gib);
    // A larger preferred size moves the flat region with it: 256 GiB in 32 MiB parts.
    CHECK(stream_part_size(8192, 32 * mib) == 32 * mib);
    CHECK(stream_part_size(8193, 32 * mib) == 64 * mib);
    // An expected size keeps the parts flat up to it: 80 GiB = 10,240 parts of 8 MiB would be
    // too many, so 80 GiB starts at choose_part_size's 8,593,408 bytes (9,996 parts).
    CHECK(stream_part_size(1, 8 * mib, 80 * gib) == ossmp::choose_part_size(80 * gib, 8 * mib));
    CHECK(stream_part_size(9996, 8 * mib, 80 * gib) == stream_part_size(1, 8 * mib, 80 * gib));
    CHECK(stream_part_size(9997, 8 * mib, 80 * gib) == 2 * stream_part_size(1, 8 * mib, 80 * gib));
    // An expectation below the flat region changes nothing.
    CHECK(stream_part_size(8193, 8 * mib, 1 * gib) == 16 * mib);
    // A 1 TiB expectation starts with choose_part_size's answer for it.
    CHECK(stream_part_size(1, 8 * mib, 1024 * gib) == ossmp::choose_part_size(1024 * gib, 8 * mib));
    // Expecting 48 TiB: parts of 4.9 GiB from the first, the whole 48 TiB within 10,000 parts.
    CHECK(reach(8 * mib, 48 * 1024 * gib) >= 48 * 1024 * gib);
}

TEST_CASE("determine_part_size is choose_part_size under oss2's name", "[validate]") {
    using ossmp::determine_part_size;
    // No preference: the smallest size that fits, at least 100 KiB.
    CHECK(determine_part_size(1 * mib) == 100 * kib);
    CHECK(determine_part_size(0) == 100 * kib);
    CHECK(determine_part_size(100 * gib) == ossmp::choose_part_size(100 * gib, 0));
    // The preferred size is kept when it fits, raised to 4 KiB multiples, capped at 5 GiB.
    CHECK(determine_part_size(1 * gib, 8 * mib) == 8 * mib);
    CHECK(determine_part_size(1 * mib, 10'000'000) == 10'002'432);
    CHECK(determine_part_size(1 * mib, 6 * gib) == 5 * gib);
    // Unlike oss2 it neither doubles nor shrinks to the total: 10,000 parts of the smallest
    // fitting size (oss2 would give 16 MiB here, and 1 MiB for the 1 MiB object below).
    CHECK(determine_part_size(100'000 * mib, 8 * mib) == 10 * mib);
    CHECK(determine_part_size(1 * mib, 8 * mib) == 8 * mib);
    // Always the same answer as choose_part_size, in constant expressions too.
    static_assert(determine_part_size(48 * 1024 * gib, 8 * mib) ==
                  ossmp::choose_part_size(48 * 1024 * gib, 8 * mib));
    for (std::uint64_t total : {std::uint64_t{0}, 1 * kib, 999 * mib, 80 * gib, 49 * 1024 * gib,
                                ossmp::max_object_size + 1})
        for (std::uint64_t preferred : {std::uint64_t{0}, 1 * mib, 8 * mib, 6 * gib})
            CHECK(determine_part_size(total, preferred) ==
                  ossmp::choose_part_size(total, preferred));
}
