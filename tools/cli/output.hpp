// tools/cli/output.hpp: what the CLI prints. Records are nlohmann::ordered_json objects: JSON
// mode prints each as one line, text mode as "name: value" lines or a tab-separated row. Text
// that came from a server never reaches the terminal raw (`terminal_safe`).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

namespace ossmp_cli {

using json = nlohmann::ordered_json;

/// `s` made safe to print on a terminal: C0 control characters (CR, ESC, ... and also tab and
/// newline, which would break a line or a row), DEL, the C1 controls (U+0080..U+009F) and
/// bytes that are not UTF-8 become `\xNN` (one per byte); everything else is kept.
inline std::string terminal_safe(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto escape = [&out](unsigned char c) {
        char buf[5];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
    };
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                escape(c);
            else
                out += static_cast<char>(c);
            ++i;
            continue;
        }
        // A UTF-8 sequence: its length from the lead byte, then continuation bytes, no overlong
        // forms, no surrogates, at most U+10FFFF.
        const std::size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                                : c >= 0xe0 && c <= 0xef ? 3
                                : c >= 0xf0 && c <= 0xf4 ? 4
                                                         : 0;
        std::uint32_t cp = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
        bool ok = len != 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            ok = (cc & 0xc0) == 0x80;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (ok)
            ok = (len != 3 || (cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff))) &&
                 (len != 4 || (cp >= 0x10000 && cp <= 0x10ffff)) && !(cp >= 0x80 && cp <= 0x9f);
        if (!ok) {
            escape(c);
            ++i;
            continue;
        }
        out.append(s.substr(i, len));
        i += len;
    }
    return out;
}

/// One JSON line; invalid UTF-8 from a server becomes U+FFFD instead of an exception.
inline std::string json_line(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

/// A field value as text mode shows it.
inline std::string text_value(const json& v) {
    if (v.is_string())
        return terminal_safe(v.get_ref<const std::string&>());
    return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Prints records to stdout in the chosen mode.
class printer {
public:
    explicit printer(bool json_mode) : json_(json_mode) {}
    bool json_mode() const noexcept { return json_; }

    /// Text: one "name: value" line per field.
    void fields(const json& record) const {
        if (json_) {
            std::cout << json_line(record);
            return;
        }
        std::string out;
        for (const auto& [name, value] : record.items())
            out += name + ": " + text_value(value) + "\n";
        std::cout << out;
    }

    /// Text: the values on one tab-separated line.
    void row(const json& record) const {
        if (json_) {
            std::cout << json_line(record);
            return;
        }
        std::string out;
        bool first = true;
        for (const auto& [name, value] : record.items()) {
            if (!first)
                out += '\t';
            first = false;
            out += text_value(value);
        }
        std::cout << out << "\n";
    }

    /// Information for the user on stderr (none in JSON mode: the record on stdout says it).
    void note(std::string_view message) const {
        if (!json_)
            std::cerr << "ossmp: " << message << "\n";
    }

    /// A note for the user on stderr (JSON mode: {"warning": ...}).
    void warn(std::string_view message) const {
        if (json_)
            std::cerr << json_line(json{{"warning", message}});
        else
            std::cerr << "ossmp: warning: " << message << "\n";
    }

private:
    bool json_;
};

} // namespace ossmp_cli
