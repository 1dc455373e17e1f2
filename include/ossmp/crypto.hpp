// ossmp/crypto.hpp: the hashes, MACs and encodings OSS needs (oss-reference sections 2.2, 6, 7).
//
// MD5 (ETag, Content-MD5), SHA-1 / HMAC-SHA1 (signature V1), SHA-256 / HMAC-SHA256 (signature
// V4), lower/upper-case hex, base64 (RFC 4648, standard alphabet, padded, no line breaks) and a
// constant-time comparison for signatures.
//
// Hashes and MACs use OpenSSL 3 EVP with explicitly fetched algorithms only (no deprecated
// MD5_* / HMAC_CTX calls). None of these functions fail for any input, including empty views.
// They throw only when OpenSSL itself cannot work: std::bad_alloc when it cannot allocate, and
// std::runtime_error when an algorithm is unavailable (e.g. MD5 under a FIPS-only provider
// configuration). All functions are thread-safe.
#pragma once

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace ossmp::crypto {

/// MD5 digest, 16 bytes (ETag and Content-MD5 of a part).
using md5_digest = std::array<std::uint8_t, 16>;
/// SHA-1 digest, 20 bytes (signature V1).
using sha1_digest = std::array<std::uint8_t, 20>;
/// SHA-256 digest, 32 bytes (signature V4, payload hash).
using sha256_digest = std::array<std::uint8_t, 32>;

} // namespace ossmp::crypto

namespace ossmp::detail {

// Errors from OpenSSL are environmental (out of memory, algorithm not provided), never caused
// by the caller's bytes, so they are exceptions rather than error codes.
[[noreturn]] inline void crypto_throw_openssl_error(const char* what) {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code != 0 && ERR_GET_REASON(code) == ERR_R_MALLOC_FAILURE)
        throw std::bad_alloc();
    std::string message = "ossmp::crypto: ";
    message += what;
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        message += ": ";
        message += buf;
    }
    throw std::runtime_error(message);
}

// OpenSSL 3 re-fetches the algorithm on every init that is given EVP_md5() and friends; fetching
// once and keeping the method is the documented fast path (crypto(7), "Performance"). The
// methods are never freed: they stay reachable until exit.
inline const EVP_MD* crypto_fetch_digest(const char* name) {
    EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
    if (md == nullptr)
        crypto_throw_openssl_error(name);
    return md;
}

inline const EVP_MD* crypto_evp_md5() {
    static const EVP_MD* const md = crypto_fetch_digest("MD5");
    return md;
}

inline const EVP_MD* crypto_evp_sha1() {
    static const EVP_MD* const md = crypto_fetch_digest("SHA1");
    return md;
}

inline const EVP_MD* crypto_evp_sha256() {
    static const EVP_MD* const md = crypto_fetch_digest("SHA256");
    return md;
}

template <std::size_t N>
std::array<std::uint8_t, N> crypto_evp_digest(const EVP_MD* md, const void* data,
                                              std::size_t size) {
    std::array<std::uint8_t, N> out{};
    unsigned int len = 0;
    if (EVP_Digest(data, size, out.data(), &len, md, nullptr) != 1 || len != N)
        crypto_throw_openssl_error("EVP_Digest");
    return out;
}

struct crypto_evp_mac_ctx_deleter {
    void operator()(EVP_MAC_CTX* ctx) const noexcept { EVP_MAC_CTX_free(ctx); }
};

// One HMAC context per digest with the digest already set and no key: each call duplicates it
// and sets the key, so the digest name is looked up once per process, not once per call
// (signature V4 computes five HMACs per request). The prototype is only read after its
// initialisation, which is safe from several threads.
inline EVP_MAC_CTX* crypto_make_hmac_prototype(const char* digest_name) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr)
        crypto_throw_openssl_error("HMAC");
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); // the context keeps its own reference
    if (ctx == nullptr)
        throw std::bad_alloc();
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest_name), 0),
        OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        crypto_throw_openssl_error(digest_name);
    }
    return ctx;
}

template <std::size_t N>
std::array<std::uint8_t, N> crypto_evp_hmac(const EVP_MAC_CTX* prototype, std::string_view key,
                                            std::string_view data) {
    std::unique_ptr<EVP_MAC_CTX, crypto_evp_mac_ctx_deleter> ctx(
        EVP_MAC_CTX_dup(const_cast<EVP_MAC_CTX*>(prototype)));
    if (!ctx)
        throw std::bad_alloc();
    // A null key means "keep the previous key" to OpenSSL; an empty key is a valid HMAC key.
    static constexpr unsigned char no_key[1] = {0};
    const auto* key_bytes =
        key.empty() ? no_key : reinterpret_cast<const unsigned char*>(key.data());
    if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), nullptr) != 1)
        crypto_throw_openssl_error("EVP_MAC_init");
    if (!data.empty() &&
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) != 1)
        crypto_throw_openssl_error("EVP_MAC_update");
    std::array<std::uint8_t, N> out{};
    std::size_t len = 0;
    if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != N)
        crypto_throw_openssl_error("EVP_MAC_final");
    return out;
}

inline const EVP_MAC_CTX* crypto_hmac_sha1_prototype() {
    static const EVP_MAC_CTX* const ctx = crypto_make_hmac_prototype("SHA1");
    return ctx;
}

inline const EVP_MAC_CTX* crypto_hmac_sha256_prototype() {
    static const EVP_MAC_CTX* const ctx = crypto_make_hmac_prototype("SHA256");
    return ctx;
}

// RAII over EVP_MD_CTX, shared by the streaming hashers.
template <std::size_t N>
class crypto_evp_hasher {
public:
    explicit crypto_evp_hasher(const EVP_MD* md) : md_(md), ctx_(EVP_MD_CTX_new()) {
        if (ctx_ == nullptr)
            throw std::bad_alloc();
        if (EVP_DigestInit_ex2(ctx_, md_, nullptr) != 1) {
            EVP_MD_CTX_free(ctx_);
            crypto_throw_openssl_error("EVP_DigestInit_ex2");
        }
    }
    crypto_evp_hasher(crypto_evp_hasher&& other) noexcept
        : md_(other.md_), ctx_(std::exchange(other.ctx_, nullptr)) {}
    crypto_evp_hasher& operator=(crypto_evp_hasher&& other) noexcept {
        std::swap(md_, other.md_);
        std::swap(ctx_, other.ctx_);
        return *this;
    }
    crypto_evp_hasher(const crypto_evp_hasher&) = delete;
    crypto_evp_hasher& operator=(const crypto_evp_hasher&) = delete;
    ~crypto_evp_hasher() { EVP_MD_CTX_free(ctx_); }

    void update(const void* data, std::size_t size) {
        if (size != 0 && EVP_DigestUpdate(ctx_, data, size) != 1)
            crypto_throw_openssl_error("EVP_DigestUpdate");
    }

    std::array<std::uint8_t, N> finish() {
        std::array<std::uint8_t, N> out{};
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(ctx_, out.data(), &len) != 1 || len != N)
            crypto_throw_openssl_error("EVP_DigestFinal_ex");
        if (EVP_DigestInit_ex2(ctx_, md_, nullptr) != 1)
            crypto_throw_openssl_error("EVP_DigestInit_ex2");
        return out;
    }

private:
    const EVP_MD* md_;
    EVP_MD_CTX* ctx_;
};

inline std::string crypto_hex(std::span<const std::uint8_t> bytes, const char* digits) {
    std::string out(bytes.size() * 2, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    return out;
}

inline constexpr char crypto_base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for alphabet characters, -1 for everything else (including '=').
inline constexpr std::array<std::int8_t, 256> crypto_base64_values = [] {
    std::array<std::int8_t, 256> values{};
    for (auto& v : values)
        v = -1;
    for (int i = 0; i < 64; ++i)
        values[static_cast<unsigned char>(crypto_base64_alphabet[i])] = static_cast<std::int8_t>(i);
    return values;
}();

inline std::string crypto_base64_encode(const unsigned char* p, std::size_t n) {
    std::string out;
    out.reserve((n + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        const std::uint32_t v =
            (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
        out.push_back(crypto_base64_alphabet[v >> 18]);
        out.push_back(crypto_base64_alphabet[(v >> 12) & 63]);
        out.push_back(crypto_base64_alphabet[(v >> 6) & 63]);
        out.push_back(crypto_base64_alphabet[v & 63]);
    }
    if (n - i == 1) {
        const std::uint32_t v = std::uint32_t{p[i]} << 16;
        out.push_back(crypto_base64_alphabet[v >> 18]);
        out.push_back(crypto_base64_alphabet[(v >> 12) & 63]);
        out.append("==");
    } else if (n - i == 2) {
        const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8);
        out.push_back(crypto_base64_alphabet[v >> 18]);
        out.push_back(crypto_base64_alphabet[(v >> 12) & 63]);
        out.push_back(crypto_base64_alphabet[(v >> 6) & 63]);
        out.push_back('=');
    }
    return out;
}

} // namespace ossmp::detail

namespace ossmp::crypto {

/// MD5 of `data` (may be empty). Throws only if OpenSSL fails (see the file comment).
inline md5_digest md5(std::string_view data) {
    return detail::crypto_evp_digest<16>(detail::crypto_evp_md5(), data.data(), data.size());
}

/// SHA-1 of `data` (may be empty). Throws only if OpenSSL fails.
inline sha1_digest sha1(std::string_view data) {
    return detail::crypto_evp_digest<20>(detail::crypto_evp_sha1(), data.data(), data.size());
}

/// SHA-256 of `data` (may be empty). Throws only if OpenSSL fails.
inline sha256_digest sha256(std::string_view data) {
    return detail::crypto_evp_digest<32>(detail::crypto_evp_sha256(), data.data(), data.size());
}

/// HMAC-SHA1 (RFC 2104) of `data` under `key`; either may be empty, keys of any length are
/// accepted (longer than 64 bytes: hashed first, as the RFC says). Throws only if OpenSSL fails.
inline sha1_digest hmac_sha1(std::string_view key, std::string_view data) {
    return detail::crypto_evp_hmac<20>(detail::crypto_hmac_sha1_prototype(), key, data);
}

/// HMAC-SHA256 (RFC 2104) of `data` under `key`; either may be empty, keys of any length are
/// accepted. Throws only if OpenSSL fails.
inline sha256_digest hmac_sha256(std::string_view key, std::string_view data) {
    return detail::crypto_evp_hmac<32>(detail::crypto_hmac_sha256_prototype(), key, data);
}

/// Streaming MD5 over an EVP_MD_CTX it owns. Movable, not copyable; a moved-from hasher may only
/// be assigned to or destroyed. `finish()` returns the digest of everything given to `update`
/// since construction (or the previous `finish`) and resets the hasher to the empty state, so it
/// can be reused. The constructor throws std::bad_alloc / std::runtime_error if OpenSSL fails.
class md5_hasher {
public:
    md5_hasher() : impl_(detail::crypto_evp_md5()) {}

    /// Feeds `data` (may be empty). The bytes are consumed before return.
    void update(std::string_view data) { impl_.update(data.data(), data.size()); }
    /// Feeds `data` (may be empty). The bytes are consumed before return.
    void update(std::span<const std::byte> data) { impl_.update(data.data(), data.size()); }
    /// The digest so far; resets the hasher.
    md5_digest finish() { return impl_.finish(); }

private:
    detail::crypto_evp_hasher<16> impl_;
};

/// Streaming SHA-256; same contract as `md5_hasher`.
class sha256_hasher {
public:
    sha256_hasher() : impl_(detail::crypto_evp_sha256()) {}

    /// Feeds `data` (may be empty). The bytes are consumed before return.
    void update(std::string_view data) { impl_.update(data.data(), data.size()); }
    /// Feeds `data` (may be empty). The bytes are consumed before return.
    void update(std::span<const std::byte> data) { impl_.update(data.data(), data.size()); }
    /// The digest so far; resets the hasher.
    sha256_digest finish() { return impl_.finish(); }

private:
    detail::crypto_evp_hasher<32> impl_;
};

/// Lower-case hex of `bytes`, two characters per byte (signature V4). Digests (std::array)
/// convert to the span implicitly: `hex_lower(sha256(s))`.
inline std::string hex_lower(std::span<const std::uint8_t> bytes) {
    return detail::crypto_hex(bytes, "0123456789abcdef");
}

/// Upper-case hex of `bytes` (the ETag form of an MD5: `"BCE8F3D4..."`).
inline std::string hex_upper(std::span<const std::uint8_t> bytes) {
    return detail::crypto_hex(bytes, "0123456789ABCDEF");
}

/// Base64 (RFC 4648 section 4: standard alphabet, '=' padding, no line breaks) of `bytes`.
inline std::string base64_encode(std::span<const std::uint8_t> bytes) {
    return detail::crypto_base64_encode(bytes.data(), bytes.size());
}

/// Base64 of the bytes of `bytes` (a std::string used as a byte buffer).
inline std::string base64_encode(std::string_view bytes) {
    return detail::crypto_base64_encode(reinterpret_cast<const unsigned char*>(bytes.data()),
                                        bytes.size());
}

/// Strict base64 decoding (RFC 4648 section 4). Returns nullopt unless `text` is canonical:
/// length a multiple of 4, only alphabet characters, '=' only as one or two final padding
/// characters, and zero unused bits before the padding (so each byte string has exactly one
/// accepted encoding). No whitespace or line breaks are accepted. "" decodes to "".
inline std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0)
        return std::nullopt;
    std::size_t pad = 0;
    if (!text.empty() && text.back() == '=')
        pad = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    const std::size_t body = text.size() - pad; // characters that must be in the alphabet
    std::uint32_t acc = 0;
    for (std::size_t i = 0; i < body; ++i) {
        const int v = detail::crypto_base64_values[static_cast<unsigned char>(text[i])];
        if (v < 0)
            return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        if (i % 4 == 3) {
            out.push_back(static_cast<char>(acc >> 16));
            out.push_back(static_cast<char>((acc >> 8) & 0xFF));
            out.push_back(static_cast<char>(acc & 0xFF));
            acc = 0;
        }
    }
    if (pad == 2) { // two characters = 12 bits carry one byte; the low 4 bits must be zero
        if ((acc & 0x0F) != 0)
            return std::nullopt;
        out.push_back(static_cast<char>(acc >> 4));
    } else if (pad == 1) { // three characters = 18 bits carry two bytes; the low 2 bits zero
        if ((acc & 0x03) != 0)
            return std::nullopt;
        out.push_back(static_cast<char>(acc >> 10));
        out.push_back(static_cast<char>((acc >> 2) & 0xFF));
    }
    return out;
}

/// True when `a` and `b` hold the same bytes. For equal lengths the time does not depend on
/// where they differ (CRYPTO_memcmp); only the lengths may leak. Use it to compare signatures.
inline bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace ossmp::crypto
