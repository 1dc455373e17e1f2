// tools/emulator/xml_out.hpp: writes the XML bodies the emulator answers with.
#pragma once

#include "ossmp/crypto.hpp"
#include "ossmp/xml.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ossmp::emulator {

/// Appends OSS-style XML: the declaration line, then one element per line, two-space indent
/// (as in the recorded OSS responses of oss-reference section 2). Text is XML-escaped.
class xml_builder {
public:
    xml_builder() { out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"; }

    /// Opens `<name>` on its own line.
    xml_builder& open(std::string_view name) {
        indent();
        out_ += '<';
        out_ += name;
        out_ += ">\n";
        ++depth_;
        return *this;
    }
    /// Closes `</name>`.
    xml_builder& close(std::string_view name) {
        --depth_;
        indent();
        out_ += "</";
        out_ += name;
        out_ += ">\n";
        return *this;
    }
    /// `<name>escaped text</name>` on one line.
    xml_builder& leaf(std::string_view name, std::string_view text) {
        indent();
        out_ += '<';
        out_ += name;
        out_ += '>';
        escape_text(out_, text);
        out_ += "</";
        out_ += name;
        out_ += ">\n";
        return *this;
    }
    xml_builder& leaf(std::string_view name, std::uint64_t v) {
        return leaf(name, std::to_string(v));
    }
    xml_builder& leaf_bool(std::string_view name, bool v) {
        return leaf(name, v ? std::string_view("true") : std::string_view("false"));
    }
    /// The document (the builder is left empty).
    std::string take() { return std::move(out_); }
    void reserve(std::size_t n) { out_.reserve(n); }

    /// Escapes character data: `&`, `<`, `>` only. Quotes stay literal, as OSS writes them
    /// (`<ETag>"..."</ETag>`, oss-reference 1.4).
    static void escape_text(std::string& out, std::string_view s) {
        for (char c : s) {
            switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            default:
                out += c;
            }
        }
    }

private:
    void indent() { out_.append(static_cast<std::size_t>(depth_) * 2, ' '); }
    std::string out_;
    int depth_ = 0;
};

/// An OSS error: HTTP status, `Code`, `Message`, optional `EC` and the per-error extra
/// elements (ArgumentName, UploadId, StringToSign, ...), in the order they are written.
struct oss_error {
    unsigned status = 500;
    std::string code;
    std::string message;
    std::string ec;
    std::vector<std::pair<std::string, std::string>> extra;
};

/// The `<Error>` body of oss-reference 5.1: Code, Message, RequestId, HostId, the extras, EC
/// and RecommendDoc (the last two only when the EC is known).
inline std::string error_body(const oss_error& e, std::string_view request_id,
                              std::string_view host_id) {
    xml_builder x;
    x.open("Error");
    x.leaf("Code", e.code);
    x.leaf("Message", e.message);
    x.leaf("RequestId", request_id);
    x.leaf("HostId", host_id);
    for (const auto& [n, v] : e.extra)
        x.leaf(n, v);
    if (!e.ec.empty()) {
        x.leaf("EC", e.ec);
        x.leaf("RecommendDoc", "https://api.aliyun.com/troubleshoot?q=" + e.ec);
    }
    x.close("Error");
    return x.take();
}

/// "StringToSignBytes": space-separated upper-case hex of each byte (oss-reference 5.1).
inline std::string string_to_sign_bytes(std::string_view s) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        if (!out.empty())
            out += ' ';
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

} // namespace ossmp::emulator
