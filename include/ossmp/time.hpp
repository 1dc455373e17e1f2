// ossmp/time.hpp: the three time formats OSS uses (oss-reference sections 1.2, 1.4, 6.1).
//
//   RFC 1123 (HTTP `Date`)             "Sat, 16 Dec 2023 16:20:57 GMT"
//   ISO 8601 basic (V4 `x-oss-date`)   "20231216T162057Z"
//   ISO 8601 with ms (XML timestamps)  "2012-02-23T04:18:23.000Z"
//
// Formatting and parsing are pure arithmetic on the proleptic Gregorian calendar, always in
// UTC: no locale, no `strftime`/`strptime`, no `gmtime`/`timegm`, no global state, so every
// function is thread-safe and usable from a sans-io core.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ossmp {

namespace detail {

// Broken-down UTC time; `weekday` is 0 for Sunday.
struct civil_time {
    std::int64_t year = 1970;
    unsigned month = 1;
    unsigned day = 1;
    unsigned hour = 0;
    unsigned minute = 0;
    unsigned second = 0;
    unsigned millisecond = 0;
    unsigned weekday = 4;
};

// Days since 1970-01-01 of a proleptic Gregorian date (the era arithmetic of the well-known
// "days from civil" algorithm: eras of 400 years = 146097 days, years start on March 1st so
// that the leap day is the last day of the year).
inline constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);                // [0, 399]
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; // [0, 365]
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The inverse of days_from_civil.
inline constexpr void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m,
                                      unsigned& d) noexcept {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);                   // [0, 146096]
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; // [0, 399]
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               // [0, 365]
    const unsigned mp = (5 * doy + 2) / 153;                                    // [0, 11]
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

inline constexpr bool is_leap_year(std::int64_t y) noexcept {
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

inline constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
    constexpr unsigned table[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29u : table[m - 1];
}

inline constexpr std::string_view weekday_names[] = {"Sun", "Mon", "Tue", "Wed",
                                                     "Thu", "Fri", "Sat"};
inline constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Formatting covers years 0000..9999 (four digits); a time outside is clamped to that range.
inline constexpr std::int64_t min_formattable_seconds = -62167219200; // 0000-01-01T00:00:00Z
inline constexpr std::int64_t max_formattable_seconds = 253402300799; // 9999-12-31T23:59:59Z

inline civil_time to_civil(std::chrono::system_clock::time_point tp) noexcept {
    using namespace std::chrono;
    const auto ms_total = floor<milliseconds>(tp).time_since_epoch().count();
    std::int64_t secs = ms_total >= 0 ? ms_total / 1000 : -((-ms_total + 999) / 1000);
    auto ms = static_cast<unsigned>(ms_total - secs * 1000);
    if (secs < min_formattable_seconds) {
        secs = min_formattable_seconds;
        ms = 0;
    } else if (secs > max_formattable_seconds) {
        secs = max_formattable_seconds;
        ms = 999;
    }
    std::int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    const auto sod = static_cast<unsigned>(secs - days * 86400);
    civil_time c;
    civil_from_days(days, c.year, c.month, c.day);
    c.hour = sod / 3600;
    c.minute = sod / 60 % 60;
    c.second = sod % 60;
    c.millisecond = ms;
    // 1970-01-01 was a Thursday (4).
    c.weekday = static_cast<unsigned>(((days % 7) + 11) % 7);
    return c;
}

inline char* put_digits(char* p, std::uint64_t v, int width) noexcept {
    for (int i = width - 1; i >= 0; --i) {
        p[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

inline char* put_text(char* p, std::string_view s) noexcept {
    for (char c : s)
        *p++ = c;
    return p;
}

/// Sizes of the fixed-width formats.
inline constexpr std::size_t rfc1123_size = 29;       // "Sat, 16 Dec 2023 16:20:57 GMT"
inline constexpr std::size_t iso8601_basic_size = 16; // "20231216T162057Z"
inline constexpr std::size_t iso8601_ms_size = 24;    // "2012-02-23T04:18:23.000Z"

// Writes exactly rfc1123_size chars at p.
inline char* write_rfc1123(char* p, std::chrono::system_clock::time_point tp) noexcept {
    const civil_time c = to_civil(tp);
    p = put_text(p, weekday_names[c.weekday]);
    p = put_text(p, ", ");
    p = put_digits(p, c.day, 2);
    *p++ = ' ';
    p = put_text(p, month_names[c.month - 1]);
    *p++ = ' ';
    p = put_digits(p, static_cast<std::uint64_t>(c.year), 4);
    *p++ = ' ';
    p = put_digits(p, c.hour, 2);
    *p++ = ':';
    p = put_digits(p, c.minute, 2);
    *p++ = ':';
    p = put_digits(p, c.second, 2);
    return put_text(p, " GMT");
}

// Writes exactly iso8601_basic_size chars at p.
inline char* write_iso8601_basic(char* p, std::chrono::system_clock::time_point tp) noexcept {
    const civil_time c = to_civil(tp);
    p = put_digits(p, static_cast<std::uint64_t>(c.year), 4);
    p = put_digits(p, c.month, 2);
    p = put_digits(p, c.day, 2);
    *p++ = 'T';
    p = put_digits(p, c.hour, 2);
    p = put_digits(p, c.minute, 2);
    p = put_digits(p, c.second, 2);
    *p++ = 'Z';
    return p;
}

// Writes exactly iso8601_ms_size chars at p.
inline char* write_iso8601_ms(char* p, std::chrono::system_clock::time_point tp) noexcept {
    const civil_time c = to_civil(tp);
    p = put_digits(p, static_cast<std::uint64_t>(c.year), 4);
    *p++ = '-';
    p = put_digits(p, c.month, 2);
    *p++ = '-';
    p = put_digits(p, c.day, 2);
    *p++ = 'T';
    p = put_digits(p, c.hour, 2);
    *p++ = ':';
    p = put_digits(p, c.minute, 2);
    *p++ = ':';
    p = put_digits(p, c.second, 2);
    *p++ = '.';
    p = put_digits(p, c.millisecond, 3);
    *p++ = 'Z';
    return p;
}

// Reads exactly n decimal digits; false if any is not a digit.
inline constexpr bool read_digits(std::string_view s, std::size_t pos, std::size_t n,
                                  unsigned& out) noexcept {
    unsigned v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    out = v;
    return true;
}

// Validates the broken-down fields and converts them to a time_point; nullopt when a field
// is out of range (month 13, Feb 30, hour 24, second 60, ...) or the instant does not fit
// system_clock.
inline std::optional<std::chrono::system_clock::time_point>
from_civil(unsigned year, unsigned month, unsigned day, unsigned hour, unsigned minute,
           unsigned second, std::chrono::nanoseconds fraction) noexcept {
    using namespace std::chrono;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 59)
        return std::nullopt;
    const std::int64_t secs = days_from_civil(year, month, day) * 86400 +
                              static_cast<std::int64_t>(hour) * 3600 +
                              static_cast<std::int64_t>(minute) * 60 + second;
    using sys_dur = system_clock::duration;
    const auto max_secs = duration_cast<seconds>(sys_dur::max()).count() - 1;
    const auto min_secs = duration_cast<seconds>(sys_dur::min()).count() + 1;
    if (secs > max_secs || secs < min_secs)
        return std::nullopt;
    return system_clock::time_point(duration_cast<sys_dur>(seconds(secs)) +
                                    duration_cast<sys_dur>(fraction));
}

} // namespace detail

/// Formats `tp` (UTC, truncated to whole seconds) as an RFC 1123 HTTP date, the form of the
/// `Date` header: "Sat, 16 Dec 2023 16:20:57 GMT". English names regardless of locale.
inline std::string format_rfc1123(std::chrono::system_clock::time_point tp) {
    std::string out(detail::rfc1123_size, '\0');
    detail::write_rfc1123(out.data(), tp);
    return out;
}

/// Formats `tp` (UTC, truncated to whole seconds) as ISO 8601 basic, the form of the V4
/// `x-oss-date` header: "20231216T162057Z". Its first 8 characters are the V4 scope date.
inline std::string format_iso8601_basic(std::chrono::system_clock::time_point tp) {
    std::string out(detail::iso8601_basic_size, '\0');
    detail::write_iso8601_basic(out.data(), tp);
    return out;
}

/// Formats `tp` (UTC, truncated to milliseconds) as ISO 8601 extended with milliseconds, the
/// form of XML timestamps (`Initiated`, `LastModified`): "2012-02-23T04:18:23.000Z".
inline std::string format_iso8601_ms(std::chrono::system_clock::time_point tp) {
    std::string out(detail::iso8601_ms_size, '\0');
    detail::write_iso8601_ms(out.data(), tp);
    return out;
}

/// Parses exactly the RFC 1123 form `format_rfc1123` writes ("Sat, 16 Dec 2023 16:20:57 GMT"):
/// 29 characters, English day and month names with their exact capitalisation, two-digit day,
/// four-digit year, zone literally "GMT", and a day name that matches the date. Anything else
/// (other HTTP date forms, leading/trailing spaces, Feb 30, 24:00:00, leap second 60, a date
/// that system_clock cannot represent) gives nullopt. Never throws.
inline std::optional<std::chrono::system_clock::time_point>
parse_rfc1123(std::string_view s) noexcept {
    if (s.size() != detail::rfc1123_size || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT")
        return std::nullopt;
    unsigned weekday = 7;
    for (unsigned i = 0; i < 7; ++i)
        if (s.substr(0, 3) == detail::weekday_names[i])
            weekday = i;
    unsigned month = 0;
    for (unsigned i = 0; i < 12; ++i)
        if (s.substr(8, 3) == detail::month_names[i])
            month = i + 1;
    unsigned day = 0, year = 0, hour = 0, minute = 0, second = 0;
    if (weekday == 7 || month == 0 || !detail::read_digits(s, 5, 2, day) ||
        !detail::read_digits(s, 12, 4, year) || !detail::read_digits(s, 17, 2, hour) ||
        !detail::read_digits(s, 20, 2, minute) || !detail::read_digits(s, 23, 2, second))
        return std::nullopt;
    auto tp = detail::from_civil(year, month, day, hour, minute, second, {});
    if (!tp)
        return std::nullopt;
    const std::int64_t days = detail::days_from_civil(year, month, day);
    if (static_cast<unsigned>(((days % 7) + 11) % 7) != weekday)
        return std::nullopt;
    return tp;
}

/// Parses exactly the ISO 8601 basic form `format_iso8601_basic` writes ("20231216T162057Z"):
/// 16 characters, upper-case 'T' and 'Z', every field in range. Anything else gives nullopt.
inline std::optional<std::chrono::system_clock::time_point>
parse_iso8601_basic(std::string_view s) noexcept {
    if (s.size() != detail::iso8601_basic_size || s[8] != 'T' || s[15] != 'Z')
        return std::nullopt;
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!detail::read_digits(s, 0, 4, year) || !detail::read_digits(s, 4, 2, month) ||
        !detail::read_digits(s, 6, 2, day) || !detail::read_digits(s, 9, 2, hour) ||
        !detail::read_digits(s, 11, 2, minute) || !detail::read_digits(s, 13, 2, second))
        return std::nullopt;
    return detail::from_civil(year, month, day, hour, minute, second, {});
}

/// Parses the ISO 8601 extended UTC form of XML timestamps: "YYYY-MM-DDTHH:MM:SS[.f]Z" where the
/// optional fraction has 1 to 9 digits (OSS writes exactly 3: "2012-02-23T04:18:23.000Z";
/// digits beyond system_clock's precision are truncated). Upper-case 'T' and 'Z' only, no
/// offsets other than 'Z', every field in range. Anything else gives nullopt.
inline std::optional<std::chrono::system_clock::time_point>
parse_iso8601_ms(std::string_view s) noexcept {
    constexpr std::size_t base = 19; // "YYYY-MM-DDTHH:MM:SS"
    if (s.size() < base + 1 || s.back() != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':')
        return std::nullopt;
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!detail::read_digits(s, 0, 4, year) || !detail::read_digits(s, 5, 2, month) ||
        !detail::read_digits(s, 8, 2, day) || !detail::read_digits(s, 11, 2, hour) ||
        !detail::read_digits(s, 14, 2, minute) || !detail::read_digits(s, 17, 2, second))
        return std::nullopt;
    std::int64_t nanos = 0;
    const std::size_t frac_len = s.size() - base - 1; // between "SS" and "Z"
    if (frac_len != 0) {
        if (s[base] != '.' || frac_len < 2 || frac_len > 10)
            return std::nullopt;
        std::int64_t scale = 100000000;
        for (std::size_t i = base + 1; i < s.size() - 1; ++i, scale /= 10) {
            const char c = s[i];
            if (c < '0' || c > '9')
                return std::nullopt;
            nanos += (c - '0') * scale;
        }
    }
    return detail::from_civil(year, month, day, hour, minute, second,
                              std::chrono::nanoseconds(nanos));
}

} // namespace ossmp
