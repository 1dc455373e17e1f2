// ossmp/http/chars.hpp: HTTP/1.1 character classes (RFC 9110 section 5.6, RFC 9112).
//
// Shared by the serializer (what may be written) and the parser (what is accepted), so that
// ossmp never writes a header it would itself refuse to read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace ossmp::http {

namespace detail {

enum : std::uint8_t {
    cc_tchar = 1,       // token character: ALPHA DIGIT and !#$%&'*+-.^_`|~
    cc_field_char = 2,  // field-vchar / SP / HTAB: VCHAR, obs-text (0x80-0xFF), SP, HTAB
    cc_ows = 4,         // SP / HTAB
    cc_hexdig = 8,      // 0-9 A-F a-f
    cc_digit = 16,      // 0-9
    cc_target_char = 32 // request-target bytes: VCHAR and obs-text (no SP, no CTL, no DEL)
};

inline constexpr std::array<std::uint8_t, 256> make_char_table() noexcept {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c) {
        std::uint8_t v = 0;
        const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        const bool digit = c >= '0' && c <= '9';
        const bool vchar = c >= 0x21 && c <= 0x7E;
        constexpr std::string_view tchar_punct = "!#$%&'*+-.^_`|~";
        if (alpha || digit || tchar_punct.find(static_cast<char>(c)) != std::string_view::npos)
            v |= cc_tchar;
        if (vchar || c >= 0x80 || c == ' ' || c == '\t')
            v |= cc_field_char;
        if (c == ' ' || c == '\t')
            v |= cc_ows;
        if (digit || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'))
            v |= cc_hexdig;
        if (digit)
            v |= cc_digit;
        if (vchar || c >= 0x80)
            v |= cc_target_char;
        t[static_cast<std::size_t>(c)] = v;
    }
    return t;
}

inline constexpr std::array<std::uint8_t, 256> char_table = make_char_table();

inline constexpr bool has_class(char c, std::uint8_t cls) noexcept {
    return (char_table[static_cast<unsigned char>(c)] & cls) != 0;
}

} // namespace detail

/// True for a token character (RFC 9110 `tchar`): letters, digits and ``!#$%&'*+-.^_`|~``.
inline constexpr bool is_tchar(char c) noexcept {
    return detail::has_class(c, detail::cc_tchar);
}

/// True when `s` is a non-empty token (a valid header name or method).
inline constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty())
        return false;
    for (char c : s)
        if (!is_tchar(c))
            return false;
    return true;
}

/// True when every byte of `s` may appear in a header value on the wire: visible ASCII,
/// obs-text (0x80-0xFF), SP and HTAB. CR, LF, NUL, the other control characters and DEL are
/// refused (they would allow header injection or are rejected by strict parsers). An empty
/// value is valid.
inline constexpr bool is_field_value(std::string_view s) noexcept {
    std::size_t i = 0;
    if (!std::is_constant_evaluated()) {
        // Eight bytes at a time: a word passes when none of its bytes is below 0x20 (HTAB
        // aside, which falls back to the byte loop) or equal to 0x7F. Header values are most
        // of the header bytes a parser sees.
        constexpr std::uint64_t ones = 0x0101010101010101ull;
        constexpr std::uint64_t highs = 0x8080808080808080ull;
        for (; i + 8 <= s.size(); i += 8) {
            std::uint64_t w;
            std::memcpy(&w, s.data() + i, 8);
            const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
            const std::uint64_t x = w ^ (ones * 0x7F);
            const std::uint64_t is_del = (x - ones) & ~x & highs;
            if ((below_space | is_del) != 0)
                break;
        }
    }
    for (; i < s.size(); ++i)
        if (!detail::has_class(s[i], detail::cc_field_char))
            return false;
    return true;
}

/// True for SP and HTAB (optional whitespace, `OWS`).
inline constexpr bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

/// `s` without leading and trailing SP / HTAB.
inline constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back()))
        s.remove_suffix(1);
    return s;
}

} // namespace ossmp::http
