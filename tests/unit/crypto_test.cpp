// Tests for ossmp/crypto.hpp: published vectors (RFC 1321, FIPS 180 examples, RFC 2202,
// RFC 4231, RFC 4648) and the MD5 table of oss-reference section 2.2.
#include "ossmp/crypto.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace ossmp::crypto;

std::string bytes_of(std::initializer_list<int> values) {
    std::string s;
    for (int v : values)
        s.push_back(static_cast<char>(v));
    return s;
}

std::string random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(rng() & 0xFF);
    return s;
}

std::span<const std::byte> as_bytes(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

} // namespace

TEST_CASE("MD5 of the UploadPart table and RFC 1321", "[crypto]") {
    // oss-reference 2.2: ETag is upper hex, Content-MD5 is base64.
    CHECK(hex_upper(md5("upload part 1")) == "BCE8F3D48247C5D555BB5697BF277B35");
    CHECK(base64_encode(md5("upload part 1")) == "vOjz1IJHxdVVu1aXvyd7NQ==");
    CHECK(hex_upper(md5("upload part 2")) == "F811B746EB3E256F97CB3A190D528353");
    CHECK(base64_encode(md5("upload part 2")) == "+BG3Rus+JW+XyzoZDVKDUw==");
    CHECK(hex_upper(md5("")) == "D41D8CD98F00B204E9800998ECF8427E");
    CHECK(base64_encode(md5("")) == "1B2M2Y8AsgTpgAmY7PhCfg==");
    CHECK(hex_upper(md5(std::string_view{})) == "D41D8CD98F00B204E9800998ECF8427E");
    // RFC 1321 appendix A.5.
    CHECK(hex_lower(md5("a")) == "0cc175b9c0f1b6a831c399e269772661");
    CHECK(hex_lower(md5("abc")) == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(hex_lower(md5("message digest")) == "f96b697d7cb7938d525a2f31aaf161d0");
    CHECK(hex_lower(md5("12345678901234567890123456789012345678901234567890123456789012345678901"
                        "234567890")) == "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("SHA-1 and SHA-256 known answers", "[crypto]") {
    CHECK(hex_lower(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(hex_lower(sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(hex_lower(sha256("")) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(hex_lower(sha256("abc")) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hex_lower(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(hex_lower(sha256(std::string(1000000, 'a'))) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("HMAC-SHA256 RFC 4231 test cases", "[crypto]") {
    const std::string key_aa_131(131, '\xaa');
    CHECK(hex_lower(hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(hex_lower(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(hex_lower(hmac_sha256(std::string(20, '\xaa'), std::string(50, '\xdd'))) ==
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    CHECK(hex_lower(hmac_sha256(bytes_of({1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                                          14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25}),
                                std::string(50, '\xcd'))) ==
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    // Test case 5 publishes only the first 128 bits.
    CHECK(hex_lower(hmac_sha256(std::string(20, '\x0c'), "Test With Truncation")).substr(0, 32) ==
          "a3b6167473100ee06e0c796c2955552b");
    CHECK(hex_lower(
              hmac_sha256(key_aa_131, "Test Using Larger Than Block-Size Key - Hash Key First")) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    CHECK(hex_lower(hmac_sha256(
              key_aa_131, "This is a test using a larger than block-size key and a larger than "
                          "block-size data. The key needs to be hashed before being used by the "
                          "HMAC algorithm.")) ==
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    // Empty key and empty message are valid HMAC inputs.
    CHECK(hex_lower(hmac_sha256("", "")) ==
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    CHECK(hex_lower(hmac_sha256(std::string_view{}, std::string_view{})) ==
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("HMAC-SHA1 RFC 2202 test cases", "[crypto]") {
    const std::string key_aa_80(80, '\xaa');
    CHECK(hex_lower(hmac_sha1(std::string(20, '\x0b'), "Hi There")) ==
          "b617318655057264e28bc0b6fb378c8ef146be00");
    CHECK(hex_lower(hmac_sha1("Jefe", "what do ya want for nothing?")) ==
          "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    CHECK(hex_lower(hmac_sha1(std::string(20, '\xaa'), std::string(50, '\xdd'))) ==
          "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
    CHECK(hex_lower(hmac_sha1(bytes_of({1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                                        14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25}),
                              std::string(50, '\xcd'))) ==
          "4c9007f4026250c6bc8414f9bf50c86c2d7235da");
    CHECK(hex_lower(hmac_sha1(std::string(20, '\x0c'), "Test With Truncation")) ==
          "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04");
    CHECK(hex_lower(hmac_sha1(key_aa_80, "Test Using Larger Than Block-Size Key - Hash Key "
                                         "First")) == "aa4ae5e15272d00e95705637ce8a3b55ed402112");
    CHECK(hex_lower(hmac_sha1(key_aa_80, "Test Using Larger Than Block-Size Key and Larger Than "
                                         "One Block-Size Data")) ==
          "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
    CHECK(hex_lower(hmac_sha1("", "")) == "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

TEST_CASE("HMAC calls are independent of each other", "[crypto]") {
    // The implementation duplicates a keyless prototype per call: a key must not leak into the
    // next call, and interleaving the two digests must not matter.
    const auto a = hmac_sha256("key-one", "data");
    CHECK(hex_lower(hmac_sha1("Jefe", "what do ya want for nothing?")) ==
          "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    const auto b = hmac_sha256("key-two", "data");
    CHECK(a != b);
    CHECK(hmac_sha256("key-one", "data") == a);
    CHECK(hex_lower(hmac_sha256("", "")) ==
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("streaming hashers equal the one-shot functions", "[crypto]") {
    const std::string data = random_bytes(10000, 42);
    std::mt19937 rng(7);
    for (int round = 0; round < 20; ++round) {
        md5_hasher m;
        sha256_hasher s;
        std::size_t pos = 0;
        bool use_bytes = false;
        while (pos < data.size()) {
            const std::size_t n = std::min<std::size_t>(data.size() - pos, rng() % 700);
            const std::string_view piece(data.data() + pos, n); // n may be 0
            if (use_bytes) {
                m.update(as_bytes(piece));
                s.update(as_bytes(piece));
            } else {
                m.update(piece);
                s.update(piece);
            }
            use_bytes = !use_bytes;
            pos += n;
        }
        REQUIRE(m.finish() == md5(data));
        REQUIRE(s.finish() == sha256(data));
    }
}

TEST_CASE("hashers reset after finish and are movable", "[crypto]") {
    md5_hasher m;
    CHECK(hex_upper(m.finish()) == "D41D8CD98F00B204E9800998ECF8427E");
    m.update("upload part ");
    m.update(std::string_view{});
    m.update("1");
    CHECK(hex_upper(m.finish()) == "BCE8F3D48247C5D555BB5697BF277B35");
    // finish() reset the state: the next digest covers only the new bytes.
    m.update("upload part 2");
    md5_hasher moved = std::move(m);
    CHECK(hex_upper(moved.finish()) == "F811B746EB3E256F97CB3A190D528353");

    sha256_hasher s1;
    s1.update("ab");
    sha256_hasher s2;
    s2.update("zz");
    s2 = std::move(s1); // s2 now continues the "ab" state
    s2.update("c");
    CHECK(hex_lower(s2.finish()) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hex_lower(s2.finish()) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("hex encodings", "[crypto]") {
    const std::array<std::uint8_t, 5> bytes{0x00, 0x0f, 0xa5, 0xf0, 0xff};
    CHECK(hex_lower(bytes) == "000fa5f0ff");
    CHECK(hex_upper(bytes) == "000FA5F0FF");
    CHECK(hex_lower(std::span<const std::uint8_t>{}) == "");
    const std::vector<std::uint8_t> v{0xde, 0xad, 0xbe, 0xef};
    CHECK(hex_upper(v) == "DEADBEEF");
}

TEST_CASE("base64 RFC 4648 vectors", "[crypto]") {
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        CAPTURE(plain);
        CHECK(base64_encode(plain) == encoded);
        const auto decoded = base64_decode(encoded);
        REQUIRE(decoded.has_value());
        CHECK(*decoded == plain);
    }
    // The span overload and all 256 byte values (the alphabet's '+' and '/').
    std::array<std::uint8_t, 3> high{0xfb, 0xff, 0xbf};
    CHECK(base64_encode(high) == "+/+/");
    std::string all;
    for (int i = 0; i < 256; ++i)
        all.push_back(static_cast<char>(i));
    const auto round = base64_decode(base64_encode(all));
    REQUIRE(round.has_value());
    CHECK(*round == all);
}

TEST_CASE("base64 round trips for every length up to 100", "[crypto]") {
    const std::string data = random_bytes(100, 3);
    for (std::size_t n = 0; n <= data.size(); ++n) {
        const std::string_view plain(data.data(), n);
        const std::string encoded = base64_encode(plain);
        CHECK(encoded.size() == (n + 2) / 3 * 4);
        const auto decoded = base64_decode(encoded);
        REQUIRE(decoded.has_value());
        CHECK(*decoded == plain);
    }
}

TEST_CASE("malformed base64 is rejected", "[crypto]") {
    const std::string_view bad[] = {
        "Zg",                      // missing padding
        "Zg=",                     // length not a multiple of 4
        "Zm9vY",                   // length not a multiple of 4
        "Zm9v\n",                  // line break
        " Zm9v",                   // whitespace
        "Zm 9v",                   // inner whitespace
        "Zm9-",                    // URL-safe alphabet is not accepted
        "Zm9_",                    // URL-safe alphabet is not accepted
        "Zg=a",                    // data after padding
        "Z===",                    // three padding characters
        "====",                    // only padding
        "=Zm9",                    // padding first
        "Zm=v",                    // padding in the middle
        "Zg==Zg==",                // padding before the end
        "Zh==",                    // non-zero unused bits (canonical is Zg==)
        "Zm9=",                    // non-zero unused bits (canonical is Zm8=)
        "vOjz1IJHxdVVu1aXvyd7NQ=", // truncated Content-MD5
        std::string_view("Zm\0v", 4),
    };
    for (auto text : bad) {
        CAPTURE(text);
        CHECK_FALSE(base64_decode(text).has_value());
    }
    const auto empty = base64_decode("");
    REQUIRE(empty.has_value());
    CHECK(empty->empty());
}

TEST_CASE("constant_time_equal", "[crypto]") {
    CHECK(constant_time_equal("", ""));
    CHECK(constant_time_equal("abc", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("abc", "ab"));
    CHECK_FALSE(constant_time_equal("", "a"));
    CHECK_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
    CHECK(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
}
