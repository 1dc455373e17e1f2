// Tests for ossmp/crc64.hpp against oss-reference section 8 (check values, table entries,
// combine vectors), an independent bit-at-a-time CRC and zlib's matrix-squaring combine.
#include "ossmp/crc64.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

using ossmp::crc64;
using ossmp::crc64_combine;
using ossmp::crc64_portable;

std::span<const std::byte> as_bytes(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string random_bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(rng() & 0xFF);
    return s;
}

// Bit-at-a-time CRC-64/XZ straight from the parameters of oss-reference 8.1.
std::uint64_t crc64_bitwise(std::string_view data, std::uint64_t prev = 0) {
    std::uint64_t crc = ~prev;
    for (unsigned char b : data) {
        crc ^= b;
        for (int i = 0; i < 8; ++i)
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xC96C5795D7870F42 : crc >> 1;
    }
    return ~crc;
}

// zlib's crc32_combine widened to 64 bits, exactly as oss-reference 8.3 spells it (matrices
// squared on every call): an independent check of the polynomial-table combine.
std::uint64_t gf2_times(const std::uint64_t* mat, std::uint64_t vec) {
    std::uint64_t sum = 0;
    for (int i = 0; vec != 0; ++i, vec >>= 1) {
        if ((vec & 1) != 0)
            sum ^= mat[i];
    }
    return sum;
}

void gf2_square(std::uint64_t* square, const std::uint64_t* mat) {
    for (int n = 0; n < 64; ++n)
        square[n] = gf2_times(mat, mat[n]);
}

std::uint64_t reference_combine(std::uint64_t crc1, std::uint64_t crc2, std::uint64_t len2) {
    if (len2 == 0)
        return crc1;
    std::uint64_t even[64];
    std::uint64_t odd[64];
    odd[0] = 0xC96C5795D7870F42;
    for (int n = 1; n < 64; ++n)
        odd[n] = std::uint64_t{1} << (n - 1);
    gf2_square(even, odd);
    gf2_square(odd, even);
    for (;;) {
        gf2_square(even, odd);
        if ((len2 & 1) != 0)
            crc1 = gf2_times(even, crc1);
        len2 >>= 1;
        if (len2 == 0)
            break;
        gf2_square(odd, even);
        if ((len2 & 1) != 0)
            crc1 = gf2_times(odd, crc1);
        len2 >>= 1;
        if (len2 == 0)
            break;
    }
    return crc1 ^ crc2;
}

struct check_value {
    std::string data;
    std::uint64_t crc;
};

std::vector<check_value> section_8_2() {
    const std::string broadcast = "This is a test of the emergency broadcast system.";
    return {
        {"", 0},
        {"123456789", 0x995dc9bbdf1939fa},
        {broadcast, 0x27db187fc15bbc72},
        {"123456789" + broadcast, 0x6a7aa19fcbf48688},
        {"upload part 1", 6571598172666981661u},
        {"upload part 2", 2060813895736234537u},
        {"upload part 1upload part 2", 13570749449290420744u},
        {"12345", 0x5da746ffa5045ce9},
        {"67890", 0x573a0a56c70bc2dd},
        {"1234567890", 0xb1cb31bbb4a2b2be},
        {"a", 3675645893302102789u},
        {std::string(1024, '\0'), 14085117335336199948u},
    };
}

} // namespace

// The combine and its tables are usable at compile time.
static_assert(crc64_combine(0x995dc9bbdf1939fa, 0x27db187fc15bbc72, 49) == 0x6a7aa19fcbf48688);
static_assert(ossmp::detail::crc64_table.t[0][128] == 0xC96C5795D7870F42);

TEST_CASE("check values of oss-reference 8.2", "[crc64]") {
    for (const auto& v : section_8_2()) {
        CAPTURE(v.data.size());
        CHECK(crc64(v.data) == v.crc);
        CHECK(crc64(as_bytes(v.data)) == v.crc);
        CHECK(crc64_portable(as_bytes(v.data)) == v.crc);
        CHECK(crc64_bitwise(v.data) == v.crc);
    }
    CHECK(crc64(std::string_view{}) == 0);
    CHECK(crc64(std::span<const std::byte>{}) == 0);
    CHECK(crc64(std::string_view{}, 12345) == 12345);
    CHECK(crc64_portable(std::span<const std::byte>{}, 12345) == 12345);
}

TEST_CASE("table entries of oss-reference 8.1", "[crc64]") {
    const auto& t = ossmp::detail::crc64_table.t;
    CHECK(t[0][0] == 0);
    CHECK(t[0][1] == 0xB32E4CBE03A75F6F);
    CHECK(t[0][128] == 0xC96C5795D7870F42);
    CHECK(t[0][255] == 0xE0ADA17364673F59);
    // Slice k is the byte table advanced by k zero bytes.
    for (int i = 0; i < 256; i += 51) {
        std::string s(8, '\0');
        s[0] = static_cast<char>(i);
        // The raw register after byte i and seven zero bytes, starting from 0.
        std::uint64_t reg = 0;
        for (unsigned char b : s) {
            reg ^= b;
            for (int bit = 0; bit < 8; ++bit)
                reg = (reg & 1) != 0 ? (reg >> 1) ^ 0xC96C5795D7870F42 : reg >> 1;
        }
        CHECK(t[7][i] == reg);
    }
}

TEST_CASE("continuation: prev is a previous CRC result", "[crc64]") {
    const std::string a = "upload part 1";
    const std::string b = "upload part 2";
    CHECK(crc64(b, crc64(a)) == 13570749449290420744u);
    CHECK(crc64_portable(as_bytes(b), crc64_portable(as_bytes(a))) == 13570749449290420744u);
#if defined(OSSMP_HAS_ISAL) && OSSMP_HAS_ISAL
    // ISA-L itself follows the SDK rule (init = previous result), with no adjustment by ossmp.
    const auto* pa = reinterpret_cast<const unsigned char*>(a.data());
    const auto* pb = reinterpret_cast<const unsigned char*>(b.data());
    CHECK(::crc64_ecma_refl(0, reinterpret_cast<const unsigned char*>("123456789"), 9) ==
          11051210869376104954u);
    CHECK(::crc64_ecma_refl(::crc64_ecma_refl(0, pa, a.size()), pb, b.size()) ==
          13570749449290420744u);
    CHECK(ossmp::crc64_uses_isal());
#else
    CHECK_FALSE(ossmp::crc64_uses_isal());
#endif
    const std::string data = random_bytes(5000, 11);
    std::mt19937_64 rng(12);
    for (int i = 0; i < 200; ++i) {
        const std::size_t cut = rng() % (data.size() + 1);
        const std::string_view head(data.data(), cut);
        const std::string_view tail(data.data() + cut, data.size() - cut);
        REQUIRE(crc64(tail, crc64(head)) == crc64(data));
    }
}

TEST_CASE("crc64 equals the portable CRC for every length 0..4096", "[crc64]") {
    // Extra bytes so every length can start at offsets 0..7 (unaligned loads, head/tail paths).
    const std::string data = random_bytes(4096 + 8, 2024);
    const std::string_view all(data);
    std::mt19937_64 rng(99);
    for (std::size_t len = 0; len <= 4096; ++len) {
        const std::size_t offset = len % 8;
        const auto piece = as_bytes(all.substr(offset, len));
        const std::uint64_t prev = rng() | 1; // random and nonzero
        const std::uint64_t fast0 = crc64(piece);
        const std::uint64_t fast1 = crc64(piece, prev);
        if (fast0 != crc64_portable(piece) || fast1 != crc64_portable(piece, prev)) {
            CAPTURE(len, offset, prev);
            FAIL("crc64 and crc64_portable differ");
        }
    }
    // Both also agree with the bit-at-a-time definition on a sample of lengths.
    for (std::size_t len : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 63u, 64u, 65u, 255u, 1000u, 4096u}) {
        CAPTURE(len);
        CHECK(crc64(all.substr(3, len), 0x0123456789ABCDEF) ==
              crc64_bitwise(all.substr(3, len), 0x0123456789ABCDEF));
    }
}

TEST_CASE("combine vectors of oss-reference 8.3", "[crc64]") {
    CHECK(crc64_combine(0x995dc9bbdf1939fa, 0x27db187fc15bbc72, 49) == 0x6a7aa19fcbf48688);
    CHECK(crc64_combine(crc64("12345"), crc64("67890"), 5) == 0xb1cb31bbb4a2b2be);
    CHECK(crc64_combine(0, 0x27db187fc15bbc72, 49) == 0x27db187fc15bbc72);
    CHECK(crc64_combine(0, 12345, 1'000'000'007) == 12345);
    CHECK(crc64_combine(0x995dc9bbdf1939fa, 0, 0) == 0x995dc9bbdf1939fa);
    CHECK(crc64_combine(0x995dc9bbdf1939fa, 777, 0) == 0x995dc9bbdf1939fa);
}

TEST_CASE("whole-object CRC from the parts", "[crc64]") {
    // GO2 uploader.combineCRC: start at 0, combine the parts in part-number order.
    std::uint64_t crc = 0;
    crc = crc64_combine(crc, 6571598172666981661u, 13);
    crc = crc64_combine(crc, 2060813895736234537u, 13);
    CHECK(crc == 13570749449290420744u);

    ossmp::crc64_state object;
    object.append(crc64("upload part 1"), 13);
    object.append(crc64("upload part 2"), 13);
    CHECK(object.value() == 13570749449290420744u);
    CHECK(object.size() == 26);
    CHECK(ossmp::crc64_to_string(object.value()) == "13570749449290420744");
}

TEST_CASE("combine identity on random splits", "[crc64]") {
    const std::string data = random_bytes(1 << 16, 5);
    std::mt19937_64 rng(6);
    int checked = 0;
    for (int i = 0; i < 500; ++i) {
        // Lengths spread over 0..64 KiB, with 0 and the extremes forced.
        std::size_t total = i < 3 ? std::size_t{0} : rng() % (data.size() + 1);
        if (i == 3)
            total = data.size();
        const std::size_t cut = total == 0 ? 0 : rng() % (total + 1);
        const std::string_view whole(data.data(), total);
        const auto a = whole.substr(0, cut);
        const auto b = whole.substr(cut);
        if (crc64_combine(crc64(a), crc64(b), b.size()) != crc64(whole)) {
            CAPTURE(total, cut);
            FAIL("combine identity broken");
        }
        ++checked;
    }
    CHECK(checked == 500);
}

TEST_CASE("combine agrees with zlib's matrix method for large lengths", "[crc64]") {
    std::mt19937_64 rng(77);
    const std::uint64_t gib = std::uint64_t{1} << 30;
    std::vector<std::uint64_t> lengths = {1,
                                          2,
                                          3,
                                          49,
                                          8 * 1024 * 1024,
                                          5 * gib, // the largest part
                                          5 * gib + 1,
                                          48'800'000'000'000, // the largest object
                                          std::uint64_t{1} << 63,
                                          std::numeric_limits<std::uint64_t>::max()};
    for (int i = 0; i < 40; ++i)
        lengths.push_back(rng() >> (rng() % 64));
    for (std::uint64_t len : lengths) {
        const std::uint64_t c1 = rng();
        const std::uint64_t c2 = rng();
        CAPTURE(len);
        CHECK(crc64_combine(c1, c2, len) == reference_combine(c1, c2, len));
    }
}

TEST_CASE("combine with zero runs equals hashing the zeros", "[crc64]") {
    const std::string a = "upload part 1";
    for (std::size_t n : {1u, 2u, 7u, 8u, 100u, 1024u, 4095u, 65536u, 1048576u + 3u}) {
        const std::string zeros(n, '\0');
        CAPTURE(n);
        CHECK(crc64_combine(crc64(a), crc64(zeros), n) == crc64(a + zeros));
        CHECK(crc64_combine(crc64(a), crc64(zeros), n) == crc64(zeros, crc64(a)));
    }
}

TEST_CASE("combine over a 5 GiB run of zeros", "[crc64]") {
    // Stream the zeros for real: 5 GiB through ISA-L takes a fraction of a second; the portable
    // fallback in a debug build would take minutes, so it streams 64 MiB instead.
    const std::uint64_t total = ossmp::crc64_uses_isal() ? std::uint64_t{5} << 30 : 64u << 20;
    const std::string zeros(1 << 20, '\0');
    const std::string a = "upload part 1";
    std::uint64_t crc_zeros = 0;
    std::uint64_t crc_a_zeros = crc64(a);
    for (std::uint64_t done = 0; done < total; done += zeros.size()) {
        crc_zeros = crc64(zeros, crc_zeros);
        crc_a_zeros = crc64(zeros, crc_a_zeros);
    }
    CAPTURE(total);
    CHECK(crc64_combine(crc64(a), crc_zeros, total) == crc_a_zeros);
    CHECK(reference_combine(crc64(a), crc_zeros, total) == crc_a_zeros);
    // The CRC of n zero bytes is itself a combine of the empty CRC with the zero-operator:
    // crc(Z_n) = combine(crc(Z_k), crc(Z_(n-k)), n-k).
    CHECK(crc64_combine(crc64(zeros), crc64_combine(crc64(zeros), crc64(zeros), zeros.size()),
                        2 * zeros.size()) == crc64(zeros, crc64(zeros, crc64(zeros))));
}

TEST_CASE("crc64_state streams, appends and resumes", "[crc64]") {
    const std::string data = random_bytes(20000, 8);
    std::mt19937_64 rng(9);
    ossmp::crc64_state streamed;
    ossmp::crc64_state appended;
    std::size_t pos = 0;
    bool bytes = false;
    while (pos < data.size()) {
        const std::size_t n = std::min<std::size_t>(data.size() - pos, rng() % 1500);
        const std::string_view piece(data.data() + pos, n);
        if (bytes)
            streamed.update(as_bytes(piece));
        else
            streamed.update(piece);
        bytes = !bytes;
        ossmp::crc64_state part;
        part.update(piece);
        appended.append(part);
        pos += n;
    }
    CHECK(streamed.value() == crc64(data));
    CHECK(streamed.size() == data.size());
    CHECK(appended == streamed);

    ossmp::crc64_state resumed(crc64(std::string_view(data).substr(0, 1234)), 1234);
    resumed.update(std::string_view(data).substr(1234));
    CHECK(resumed == streamed);

    resumed.reset();
    CHECK(resumed.value() == 0);
    CHECK(resumed.size() == 0);
    resumed.update("123456789");
    CHECK(resumed.value() == 11051210869376104954u);
    resumed.append(0, 0);
    CHECK(resumed.value() == 11051210869376104954u);
    CHECK(resumed.size() == 9);
}

TEST_CASE("decimal form of x-oss-hash-crc64ecma", "[crc64]") {
    CHECK(ossmp::crc64_to_string(0) == "0");
    CHECK(ossmp::crc64_to_string(6571598172666981661u) == "6571598172666981661");
    CHECK(ossmp::crc64_to_string(std::numeric_limits<std::uint64_t>::max()) ==
          "18446744073709551615");

    CHECK(ossmp::parse_crc64("0") == std::uint64_t{0});
    CHECK(ossmp::parse_crc64("6571598172666981661") == std::uint64_t{6571598172666981661u});
    CHECK(ossmp::parse_crc64("18446744073709551615") == std::numeric_limits<std::uint64_t>::max());
    CHECK(ossmp::parse_crc64("007") == std::uint64_t{7});
    for (std::string_view bad :
         {"", "-1", "+1", " 1", "1 ", "18446744073709551616", "18446744073709551620",
          "99999999999999999999", "12a", "0x10", "1.0", "1,000"}) {
        CAPTURE(bad);
        CHECK_FALSE(ossmp::parse_crc64(bad).has_value());
    }
    CHECK_FALSE(ossmp::parse_crc64(std::string_view("1\0", 2)).has_value());
    // Round trip over random values.
    std::mt19937_64 rng(1);
    for (int i = 0; i < 1000; ++i) {
        const std::uint64_t v = rng() >> (i % 64);
        REQUIRE(ossmp::parse_crc64(ossmp::crc64_to_string(v)) == v);
    }
}
