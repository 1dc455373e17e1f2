// ossmp/crc64.hpp: the CRC-64 OSS returns in `x-oss-hash-crc64ecma` (oss-reference section 8).
//
// CRC-64/XZ: reflected polynomial 0xC96C5795D7870F42 (ECMA-182), init and xorout all ones.
// `prev` arguments are previous CRC *results*, as in every OSS SDK, so a CRC can be continued:
// crc64(b, crc64(a)) == crc64(a || b). `crc64_combine` joins two CRCs computed independently
// (the whole-object CRC from the part CRCs).
//
// `crc64()` uses Intel ISA-L's `crc64_ecma_refl` when the build defines OSSMP_HAS_ISAL (about
// 60 GB/s in cache on AVX-512 machines); `crc64_portable()` (slicing-by-8) is always there.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#if defined(OSSMP_HAS_ISAL) && OSSMP_HAS_ISAL
#include <isa-l/crc64.h>
#define OSSMP_DETAIL_CRC64_ISAL 1
#else
#define OSSMP_DETAIL_CRC64_ISAL 0
#endif

namespace ossmp::detail {

/// Reflected ECMA-182 polynomial (oss-reference 8.1; Go's crc64.ECMA).
inline constexpr std::uint64_t crc64_poly_reflected = 0xC96C5795D7870F42;

// Slicing-by-8 tables: t[0] is the classic byte table (t[0][i] = CRC register after shifting
// byte i through eight zero bits); t[k][i] advances t[k-1][i] by one more zero byte, so eight
// input bytes are folded with eight lookups.
struct crc64_tables {
    std::uint64_t t[8][256];
};

inline constexpr crc64_tables make_crc64_tables() noexcept {
    crc64_tables tables{};
    for (std::uint64_t i = 0; i < 256; ++i) {
        std::uint64_t c = i;
        for (int bit = 0; bit < 8; ++bit)
            c = (c & 1) != 0 ? (c >> 1) ^ crc64_poly_reflected : c >> 1;
        tables.t[0][i] = c;
    }
    for (int k = 1; k < 8; ++k) {
        for (int i = 0; i < 256; ++i) {
            const std::uint64_t c = tables.t[k - 1][i];
            tables.t[k][i] = (c >> 8) ^ tables.t[0][c & 0xFF];
        }
    }
    return tables;
}

inline constexpr crc64_tables crc64_table = make_crc64_tables();

// Arithmetic on polynomials mod P in the reflected representation: bit 63 is x^0, bit 0 is
// x^63. Appending n zero bytes to a message multiplies its (pre-xorout) CRC by x^(8n) mod P,
// and because init == xorout the same holds for final CRC values:
//   CRC(A||B) = CRC(A) * x^(8|B|) mod P  ^  CRC(B)
// (zlib's crc32_combine). zlib builds the operator x^(8n) from 64x64 GF(2) matrices; measured
// here, even with the 64 matrices precomputed that costs about 1.5 us for a random 64-bit
// length (one 64-row product per set bit). Instead x^(8n) is computed by left-to-right
// exponentiation in 3-bit windows with two constant 16 KiB tables (one 8th power, one
// multiplication by x^(8d), each eight independent lookups like a slicing-by-8 step), and the
// operator is applied to CRC(A) with a single general product. A random 64-bit length takes
// 22 windows; an 8 MiB part takes 8.

inline constexpr std::uint64_t crc64_x0 = std::uint64_t{1} << 63; // the polynomial 1

/// a * x mod P.
inline constexpr std::uint64_t crc64_mulx(std::uint64_t a) noexcept {
    return (a >> 1) ^ (crc64_poly_reflected & (std::uint64_t{0} - (a & 1)));
}

/// a * x^8 mod P: one table step of the CRC with a zero input byte.
inline constexpr std::uint64_t crc64_mulx8(std::uint64_t a) noexcept {
    return (a >> 8) ^ crc64_table.t[0][a & 0xFF];
}

// pow8.t[j][v]: the 8th power mod P of the polynomial whose byte j (bits 8j..8j+7) is v and
// whose other bytes are zero. Raising to a power of two is GF(2)-linear (Frobenius), so the 8th
// power of any a is the XOR of its eight bytes' entries: (sum a_i x^i)^8 = sum a_i x^(8i).
inline constexpr crc64_tables crc64_pow8_table = [] {
    std::uint64_t basis[64]{}; // basis[i] = (x^i)^8 = x^(8i) mod P
    basis[0] = crc64_x0;
    for (int i = 1; i < 64; ++i)
        basis[i] = crc64_mulx8(basis[i - 1]);
    crc64_tables tables{};
    for (int j = 0; j < 8; ++j) {
        for (int v = 1; v < 256; ++v) {
            // Bit 8j+low of the register is the term x^(63-8j-low).
            const int low = std::countr_zero(static_cast<unsigned>(v));
            tables.t[j][v] = tables.t[j][v & (v - 1)] ^ basis[63 - 8 * j - low];
        }
    }
    return tables;
}();

/// a^8 mod P.
inline constexpr std::uint64_t crc64_pow8(std::uint64_t a) noexcept {
    const auto& t = crc64_pow8_table.t;
    return t[0][a & 0xFF] ^ t[1][(a >> 8) & 0xFF] ^ t[2][(a >> 16) & 0xFF] ^
           t[3][(a >> 24) & 0xFF] ^ t[4][(a >> 32) & 0xFF] ^ t[5][(a >> 40) & 0xFF] ^
           t[6][(a >> 48) & 0xFF] ^ t[7][a >> 56];
}

/// a * x^(8d) mod P for d in 0..7: d zero bytes folded at once with the slicing tables,
/// (a >> 8d) ^ t[d-1][byte 0] ^ ... ^ t[0][byte d-1]. Branch-free: d is unpredictable.
inline constexpr std::uint64_t crc64_mul_x8d(std::uint64_t a, unsigned d) noexcept {
    const auto& t = crc64_table.t;
    std::uint64_t r = a >> (8 * d);
    for (unsigned i = 0; i < 7; ++i) {
        const std::uint64_t use = std::uint64_t{0} - std::uint64_t{i < d};
        r ^= t[(d - 1 - i) & 7][(a >> (8 * i)) & 0xFF] & use;
    }
    return r;
}

/// x^(8n) mod P: the operator that appends `n` zero bytes. Left-to-right over n in 3-bit
/// windows: op = op^8 * x^(8d) per window d, i.e. two table steps per three bits of n.
inline constexpr std::uint64_t crc64_zeros_operator(std::uint64_t n) noexcept {
    if (n == 0)
        return crc64_x0;
    const int width = std::bit_width(n);
    int shift = width - ((width - 1) % 3 + 1); // the top window holds 1..3 bits
    std::uint64_t op = crc64_mul_x8d(crc64_x0, static_cast<unsigned>(n >> shift));
    while (shift > 0) {
        shift -= 3;
        op = crc64_mul_x8d(crc64_pow8(op), static_cast<unsigned>((n >> shift) & 7));
    }
    return op;
}

// r * x^4 mod P for the low nibble of r: t4[v] = v shifted through four zero bits.
inline constexpr std::array<std::uint64_t, 16> crc64_nibble_table = [] {
    std::array<std::uint64_t, 16> table{};
    for (std::uint64_t v = 0; v < 16; ++v) {
        std::uint64_t c = v;
        for (int bit = 0; bit < 4; ++bit)
            c = crc64_mulx(c);
        table[v] = c;
    }
    return table;
}();

/// a * b mod P: Horner's rule over a's sixteen nibbles, highest degree (bits 0..3) first.
inline constexpr std::uint64_t crc64_multmodp(std::uint64_t a, std::uint64_t b) noexcept {
    // multiples[v] = (nibble v as a polynomial of degree <= 3) * b; nibble bit t is x^(3-t).
    std::array<std::uint64_t, 16> multiples{};
    const std::uint64_t bx1 = crc64_mulx(b);
    const std::uint64_t bx2 = crc64_mulx(bx1);
    const std::uint64_t bx3 = crc64_mulx(bx2);
    const std::uint64_t by_bit[4] = {bx3, bx2, bx1, b};
    for (int v = 1; v < 16; ++v)
        multiples[static_cast<std::size_t>(v)] = multiples[static_cast<std::size_t>(v & (v - 1))] ^
                                                 by_bit[std::countr_zero(static_cast<unsigned>(v))];
    std::uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 4)
        r = (r >> 4) ^ crc64_nibble_table[r & 15] ^ multiples[(a >> shift) & 15];
    return r;
}

inline std::uint64_t crc64_load_le(const unsigned char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    if constexpr (std::endian::native == std::endian::big)
        w = __builtin_bswap64(w);
    return w;
}

/// Slicing-by-8 over the raw register (no init/xorout handling).
inline std::uint64_t crc64_update_portable(std::uint64_t crc, const unsigned char* p,
                                           std::size_t n) noexcept {
    const auto& t = crc64_table.t;
    for (; n >= 8; n -= 8, p += 8) {
        crc ^= crc64_load_le(p);
        crc = t[7][crc & 0xFF] ^ t[6][(crc >> 8) & 0xFF] ^ t[5][(crc >> 16) & 0xFF] ^
              t[4][(crc >> 24) & 0xFF] ^ t[3][(crc >> 32) & 0xFF] ^ t[2][(crc >> 40) & 0xFF] ^
              t[1][(crc >> 48) & 0xFF] ^ t[0][crc >> 56];
    }
    for (; n != 0; --n, ++p)
        crc = t[0][(crc ^ *p) & 0xFF] ^ (crc >> 8);
    return crc;
}

inline std::uint64_t crc64_bytes(const void* data, std::size_t size, std::uint64_t prev) noexcept {
#if OSSMP_DETAIL_CRC64_ISAL
    return ::crc64_ecma_refl(prev, static_cast<const unsigned char*>(data), size);
#else
    return ~crc64_update_portable(~prev, static_cast<const unsigned char*>(data), size);
#endif
}

} // namespace ossmp::detail

namespace ossmp {

/// Portable CRC-64 (slicing-by-8), always available; same result as `crc64`. `prev` is the CRC
/// of the bytes before `data` (0 for none). Empty `data` returns `prev`.
inline std::uint64_t crc64_portable(std::span<const std::byte> data,
                                    std::uint64_t prev = 0) noexcept {
    return ~detail::crc64_update_portable(
        ~prev, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

/// CRC-64 as OSS computes it (CRC-64/XZ), continuing from `prev`, the CRC of the bytes before
/// `data` (0 for none): crc64(b, crc64(a)) == crc64(a || b). Empty `data` returns `prev`.
/// Uses ISA-L when the build has it (see `crc64_uses_isal`).
inline std::uint64_t crc64(std::span<const std::byte> data, std::uint64_t prev = 0) noexcept {
    return detail::crc64_bytes(data.data(), data.size(), prev);
}

/// CRC-64 of the bytes of `data`; see the span overload.
inline std::uint64_t crc64(std::string_view data, std::uint64_t prev = 0) noexcept {
    return detail::crc64_bytes(data.data(), data.size(), prev);
}

/// CRC(A || B) from crc1 = CRC(A), crc2 = CRC(B) and len2 = |B| in bytes (oss-reference 8.3).
/// `len2 == 0` returns crc1; `crc1 == 0` (A empty) returns crc2. Cost: about bit_width(len2)/3
/// pairs of table steps plus one polynomial product, no per-call table building: ~130 ns for
/// an 8 MiB part and under 300 ns for any 64-bit length on this machine, so it can run once
/// per part. Also usable in constant expressions.
inline constexpr std::uint64_t crc64_combine(std::uint64_t crc1, std::uint64_t crc2,
                                             std::uint64_t len2) noexcept {
    if (len2 == 0)
        return crc1;
    return detail::crc64_multmodp(detail::crc64_zeros_operator(len2), crc1) ^ crc2;
}

/// True when `crc64()` runs on Intel ISA-L (the build defined OSSMP_HAS_ISAL), false when it
/// runs the portable slicing-by-8 code.
inline constexpr bool crc64_uses_isal() noexcept {
    return OSSMP_DETAIL_CRC64_ISAL != 0;
}

/// The decimal form sent in `x-oss-hash-crc64ecma` (unsigned, no leading zeros; 0 is "0").
inline std::string crc64_to_string(std::uint64_t crc) {
    return std::to_string(crc);
}

/// Strict parse of an `x-oss-hash-crc64ecma` value: one or more ASCII digits and nothing else
/// (no sign, space, or hex), value at most UINT64_MAX. Leading zeros are accepted ("007" is 7).
/// Returns nullopt otherwise, including for "".
inline std::optional<std::uint64_t> parse_crc64(std::string_view text) noexcept {
    if (text.empty())
        return std::nullopt;
    std::uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

/// Incremental CRC-64 that also tracks the number of bytes seen, so states can be combined.
/// A default-constructed state is the CRC of nothing (value 0, size 0). Plain value type.
class crc64_state {
public:
    /// The empty state.
    constexpr crc64_state() noexcept = default;
    /// Resumes from `crc`, the CRC of `size` bytes already seen (e.g. from a checkpoint).
    constexpr crc64_state(std::uint64_t crc, std::uint64_t size) noexcept
        : crc_(crc), size_(size) {}

    /// Feeds `data` (may be empty).
    void update(std::span<const std::byte> data) noexcept {
        crc_ = crc64(data, crc_);
        size_ += data.size();
    }
    /// Feeds the bytes of `data` (may be empty).
    void update(std::string_view data) noexcept {
        crc_ = crc64(data, crc_);
        size_ += data.size();
    }
    /// Appends a block known only by its CRC and size (a part hashed elsewhere), with
    /// `crc64_combine`. Appending parts in part-number order gives the whole-object CRC.
    constexpr void append(std::uint64_t crc, std::uint64_t size) noexcept {
        crc_ = crc64_combine(crc_, crc, size);
        size_ += size;
    }
    /// Appends another state's bytes.
    constexpr void append(const crc64_state& other) noexcept { append(other.crc_, other.size_); }

    /// The CRC-64 of every byte seen so far.
    constexpr std::uint64_t value() const noexcept { return crc_; }
    /// The number of bytes seen so far.
    constexpr std::uint64_t size() const noexcept { return size_; }
    /// Back to the empty state.
    constexpr void reset() noexcept { *this = crc64_state{}; }

    friend constexpr bool operator==(const crc64_state&, const crc64_state&) = default;

private:
    std::uint64_t crc_ = 0;
    std::uint64_t size_ = 0;
};

} // namespace ossmp
