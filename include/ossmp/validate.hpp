// ossmp/validate.hpp: argument checks that run before any byte is sent, the OSS limits they
// enforce, and the part-size choice of the uploader.
//
// Every check returns an empty std::error_code when the argument is acceptable and otherwise a
// distinct `ossmp::errc` value; nothing here throws or allocates. Limits come from
// oss-reference.md sections 1.1 (names) and 3 (limits and defaults).
#pragma once

#include "ossmp/error.hpp"

#include <bitset>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace ossmp {

// --- Limits -----------------------------------------------------------------------------------

/// Smallest size of every part but the last (UploadPart/CompleteMultipartUpload limit; GO2
/// `MinPartSize = 100*1024`; checked by OSS only at Complete).
inline constexpr std::uint64_t min_part_size = 100 * 1024; // UploadPart limit
/// Largest size of any part (UploadPart limit; GO2 `MaxPartSize = 5*1024^3`).
inline constexpr std::uint64_t max_part_size = 5ull * 1024 * 1024 * 1024; // UploadPart limit
/// Highest part number and most parts per upload (GO2 `MaxUploadParts = 10000`).
inline constexpr int max_parts = 10000; // UploadPart limit
/// Longest object key in bytes (DOC: keys are 1..1023 bytes of UTF-8).
inline constexpr std::size_t max_key_size = 1023; // object naming rules
/// Shortest and longest bucket name (GO2 `oss/validation.go`).
inline constexpr std::size_t min_bucket_name_size = 3;  // bucket naming rules
inline constexpr std::size_t max_bucket_name_size = 63; // bucket naming rules
/// Largest (and default) `max-parts` of one ListParts page.
inline constexpr int max_list_parts = 1000; // ListParts limit
/// Largest (and default) `max-uploads` of one ListMultipartUploads page.
inline constexpr int max_list_uploads = 1000; // ListMultipartUploads limit
/// Largest object a single PutObject may carry (DOC: simple upload is limited to 5 GB).
inline constexpr std::uint64_t max_put_object_size = 5ull * 1024 * 1024 * 1024; // PutObject limit
/// Largest object a multipart upload can produce: 10,000 parts of 5 GiB (about 48.8 TiB).
inline constexpr std::uint64_t max_object_size = max_part_size * max_parts; // derived limit
/// `choose_part_size` returns multiples of this (page-friendly buffers; 100 KiB is one too).
inline constexpr std::uint64_t part_size_alignment = 4096; // ossmp choice

// --- Character-level predicates -----------------------------------------------------------------

/// True when `c` is an RFC 9110 `tchar` (the characters of a header field name).
inline constexpr bool is_token_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

/// True when `s` is a non-empty RFC 9110 token (a valid header field name).
inline constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty())
        return false;
    for (char c : s)
        if (!is_token_char(c))
            return false;
    return true;
}

/// True when `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates
/// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence. The empty string is valid.
inline constexpr bool is_valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    const std::size_t n = s.size();
    auto byte = [&](std::size_t k) {
        return static_cast<unsigned char>(s[k]);
    };
    auto in = [](unsigned char c, unsigned char lo, unsigned char hi) {
        return c >= lo && c <= hi;
    };
    while (i < n) {
        const unsigned char c = byte(i);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
        if (in(c, 0xC2, 0xDF)) {
            len = 2;
        } else if (c == 0xE0) {
            len = 3;
            lo = 0xA0; // no overlong 3-byte forms
        } else if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) {
            len = 3;
        } else if (c == 0xED) {
            len = 3;
            hi = 0x9F; // no surrogates
        } else if (c == 0xF0) {
            len = 4;
            lo = 0x90; // no overlong 4-byte forms
        } else if (in(c, 0xF1, 0xF3)) {
            len = 4;
        } else if (c == 0xF4) {
            len = 4;
            hi = 0x8F; // nothing above U+10FFFF
        } else {
            return false; // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
        }
        if (n - i < len || !in(byte(i + 1), lo, hi))
            return false;
        for (std::size_t k = 2; k < len; ++k)
            if (!in(byte(i + k), 0x80, 0xBF))
                return false;
        i += len;
    }
    return true;
}

// --- Argument checks ----------------------------------------------------------------------------

/// Checks a bucket name: 3..63 characters of `[a-z0-9-]`, not starting or ending with '-'
/// (oss-reference 1.1, GO2 `oss/validation.go`).
/// Errors: `errc::invalid_bucket_name`.
inline std::error_code validate_bucket_name(std::string_view bucket) noexcept {
    if (bucket.size() < min_bucket_name_size || bucket.size() > max_bucket_name_size ||
        bucket.front() == '-' || bucket.back() == '-')
        return errc::invalid_bucket_name;
    for (char c : bucket)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return errc::invalid_bucket_name;
    return {};
}

/// Checks an object key: 1..1023 bytes of UTF-8 that do not start with '/' or '\\'
/// (oss-reference 1.1, DOC object naming rules). Checked in this order:
/// empty -> `errc::empty_key`; longer than `max_key_size` bytes -> `errc::key_too_long`;
/// leading '/' or '\\', or not well-formed UTF-8 -> `errc::invalid_key`.
inline std::error_code validate_key(std::string_view key) noexcept {
    if (key.empty())
        return errc::empty_key;
    if (key.size() > max_key_size)
        return errc::key_too_long;
    if (key.front() == '/' || key.front() == '\\' || !is_valid_utf8(key))
        return errc::invalid_key;
    return {};
}

/// Checks a part number: 1..10000 (oss-reference 3).
/// Errors: `errc::invalid_part_number`.
inline std::error_code validate_part_number(std::int64_t part_number) noexcept {
    if (part_number < 1 || part_number > max_parts)
        return errc::invalid_part_number;
    return {};
}

/// Checks the size of one part (oss-reference 3): no part may exceed `max_part_size`
/// (`errc::part_too_large`, checked first); every part but the last must be at least
/// `min_part_size` (`errc::part_too_small`). The last part may be of any size up to 5 GiB, even 0.
inline std::error_code validate_part_size(std::uint64_t size, bool is_last) noexcept {
    if (size > max_part_size)
        return errc::part_too_large;
    if (!is_last && size < min_part_size)
        return errc::part_too_small;
    return {};
}

/// Checks an upload id. Upload ids are opaque; only the empty id is rejected.
/// Errors: `errc::empty_upload_id`.
inline std::error_code validate_upload_id(std::string_view upload_id) noexcept {
    if (upload_id.empty())
        return errc::empty_upload_id;
    return {};
}

/// Checks a user-supplied header: the name must be a non-empty RFC 9110 token; the value must
/// not contain control characters (CR, LF, NUL or any other byte below 0x20 except HTAB, or
/// DEL), which keeps a value from ending the header line early (header injection). Bytes >= 0x80
/// are allowed (obs-text, e.g. UTF-8 metadata).
/// Errors: `errc::invalid_header`.
inline std::error_code validate_header(std::string_view name, std::string_view value) noexcept {
    if (!is_token(name))
        return errc::invalid_header;
    for (char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return errc::invalid_header;
    }
    return {};
}

namespace detail::validation {

template <class T>
concept has_part_number_member = requires(const T& t) {
    { t.part_number } -> std::convertible_to<std::int64_t>;
};

template <class T>
concept part_number_like = std::integral<T> || has_part_number_member<T>;

template <class T>
constexpr std::int64_t part_number_of(const T& t) noexcept {
    if constexpr (std::integral<T>)
        return static_cast<std::int64_t>(t);
    else
        return static_cast<std::int64_t>(t.part_number);
}

} // namespace detail::validation

/// Checks the part list of a CompleteMultipartUpload (oss-reference 2.3, 3). `parts` is a sized
/// range whose elements are part numbers (integers) or objects with a `part_number` member
/// (`completed_part`, `part_info`); order does not matter (the builder sorts).
/// Checked in this order: empty -> `errc::empty_part_list`; more than `max_parts` elements ->
/// `errc::too_many_parts`; then, for the first offending element in list order, a number outside
/// 1..10000 -> `errc::invalid_part_number`, or a number already seen ->
/// `errc::duplicate_part_number`. Part sizes and ETags are not checked here.
template <std::ranges::sized_range Range>
requires detail::validation::part_number_like<std::ranges::range_value_t<Range>> std::error_code
validate_part_list(const Range& parts)
noexcept {
    const auto count = std::ranges::size(parts);
    if (count == 0)
        return errc::empty_part_list;
    if (count > static_cast<std::size_t>(max_parts))
        return errc::too_many_parts;
    std::bitset<max_parts + 1> seen; // 1.25 KiB on the stack, no allocation
    for (const auto& p : parts) {
        const std::int64_t n = detail::validation::part_number_of(p);
        if (auto ec = validate_part_number(n))
            return ec;
        if (seen.test(static_cast<std::size_t>(n)))
            return errc::duplicate_part_number;
        seen.set(static_cast<std::size_t>(n));
    }
    return {};
}

// --- Part-size choice ---------------------------------------------------------------------------

/// Chooses the part size of a multipart upload of `total` bytes.
///
/// The result is the smallest size that is at least `preferred`, at least `min_part_size`
/// (100 KiB) and large enough to keep the part count at or below `max_parts` (10,000), rounded
/// up to a multiple of `part_size_alignment` (4 KiB), and capped at `max_part_size` (5 GiB).
/// Unlike OSS2 (which doubles) or GO2 (which adds the base size) it takes the exact smallest
/// such size, so parts stay as small as the caller asked for whenever possible.
///
/// `preferred = 0` means "no preference" (the minimum that fits). The result may exceed `total`
/// (a small object is one part, or a single PutObject). When `total > max_object_size` (about
/// 48.8 TiB) no part size fits: the result is then `max_part_size` and
/// `part_count(total, result)` exceeds `max_parts`, which the caller must reject
/// (`errc::too_many_parts`). Never fails, never overflows.
inline constexpr std::uint64_t choose_part_size(std::uint64_t total,
                                                std::uint64_t preferred) noexcept {
    // ceil(total / max_parts) without overflow.
    const std::uint64_t needed = total / max_parts + (total % max_parts != 0 ? 1u : 0u);
    std::uint64_t size = preferred;
    if (size < min_part_size)
        size = min_part_size;
    if (size < needed)
        size = needed;
    if (size >= max_part_size) // also keeps the rounding below from overflowing
        return max_part_size;
    size = (size + part_size_alignment - 1) / part_size_alignment * part_size_alignment;
    return size; // max_part_size is a multiple of the alignment, so size <= max_part_size
}

/// The part size of a multipart upload of `total` bytes, under the name the OSS Python SDK
/// (oss2) gives this step: `determine_part_size(total_size, preferred_size)`. Exactly
/// `choose_part_size(total, preferred)` (see it for the rule); `preferred = 0`, the default,
/// means "no preference": the smallest size that fits, at least `min_part_size` (100 KiB).
///
/// Differences from oss2, for readers of its guide: oss2 doubles the preferred size until
/// the parts fit and returns `total` itself when it is below the preferred size; this takes
/// the smallest 4 KiB multiple that fits (never more than 5 GiB) and may exceed `total` (one
/// part, or a single PutObject). Pure arithmetic: no I/O, never fails, never overflows;
/// usable in constant expressions.
inline constexpr std::uint64_t determine_part_size(std::uint64_t total,
                                                   std::uint64_t preferred = 0) noexcept {
    return choose_part_size(total, preferred);
}

/// Parts of the preferred size a stream of unknown length sends before its parts grow: 64 GiB
/// in 8 MiB parts, so that the streams people pipe (backups, dumps) keep flat parts and flat
/// memory throughout.
inline constexpr int stream_flat_parts = 8192; // ossmp choice
/// After the flat parts, a stream's part size doubles every this many parts.
inline constexpr int stream_doubling_parts = 100; // ossmp choice

/// The size of part `number` (1-based) of a stream whose length is not known in advance.
///
/// The first part size is `choose_part_size(expected, preferred)` (`expected` = 0: not known),
/// kept for the first max(`stream_flat_parts`, ceil(expected / first)) parts, so that a stream
/// up to its expected size (or up to 8,192 parts) has flat parts and flat memory; after that the
/// size doubles every `stream_doubling_parts` parts, up to `max_part_size`. With the default 8
/// MiB and no expectation: 64 GiB in 8 MiB parts (40 MiB of buffers at W = 4), 100 GiB reached
/// in parts of 256 MiB, and 10,000 parts carry 5.3 TiB. Larger streams, up to `max_object_size`
/// (48.8 TiB, which needs every part at 5 GiB), need `expected` (an expected size of 48 TiB
/// starts at 4.9 GiB parts). Returns 0 for `number` outside 1..`max_parts`.
inline constexpr std::uint64_t stream_part_size(int number, std::uint64_t preferred,
                                                std::uint64_t expected = 0) noexcept {
    if (number < 1 || number > max_parts)
        return 0;
    const std::uint64_t first = choose_part_size(expected, preferred);
    const std::uint64_t expected_parts = expected / first + (expected % first != 0 ? 1u : 0u);
    const std::uint64_t flat =
        expected_parts > std::uint64_t{stream_flat_parts} ? expected_parts : stream_flat_parts;
    if (static_cast<std::uint64_t>(number) <= flat)
        return first;
    const std::uint64_t doublings =
        (static_cast<std::uint64_t>(number) - flat + stream_doubling_parts - 1) /
        stream_doubling_parts;
    std::uint64_t size = first;
    for (std::uint64_t i = 0; i < doublings && size < max_part_size; ++i)
        size *= 2;
    return size < max_part_size ? size : max_part_size;
}

/// The number of parts `total` bytes make with parts of `part_size` bytes: ceil(total /
/// part_size), 0 for `total == 0`, and 0 when `part_size == 0` (no valid split).
inline constexpr std::uint64_t part_count(std::uint64_t total, std::uint64_t part_size) noexcept {
    if (part_size == 0)
        return 0;
    return total / part_size + (total % part_size != 0 ? 1u : 0u);
}

} // namespace ossmp
