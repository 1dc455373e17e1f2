// libFuzzer target for the incremental HTTP/1.1 parser (response and request modes).
//
// The input is fed twice, as a response and as a request, split into two chunks at a position
// derived from the first byte, then byte by byte; pipelined messages are parsed until the input
// is used up, and EOF is signalled at the end. Besides sanitizer findings it checks the
// parser's own promises: progress on every call, sticky errors, identical outcomes whatever
// the split, a body that never exceeds its cap, and stored bodies equal to what a sink sees.
#include "ossmp/http/parser.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

constexpr std::uint64_t body_limit = 4096;

void require(bool ok) {
    if (!ok)
        std::abort();
}

// Parses every message of `chunks` in order; returns a summary of all outcomes.
template <bool IsRequest>
std::string run(const std::vector<std::string_view>& chunks, bool head, bool sink) {
    ossmp::http::basic_parser<IsRequest> p;
    std::string summary;
    std::string sunk;
    const auto configure = [&] {
        if constexpr (!IsRequest)
            p.set_head_request(head);
        p.set_body_limit(body_limit);
        p.set_header_limit(1024);
        p.set_max_headers(20);
        if (sink)
            p.set_body_sink([&sunk](std::string_view d, std::error_code&) { sunk.append(d); });
    };
    configure();
    const auto finish_message = [&] {
        auto m = p.release();
        require(m.body.size() <= body_limit && sunk.size() <= body_limit);
        summary += "msg " + std::to_string(m.headers.size()) + " " +
                   std::to_string(sink ? sunk.size() : m.body.size()) + " " +
                   (sink ? sunk : m.body) + (p.keep_alive() ? " ka\n" : " close\n");
        sunk.clear();
        p.reset();
        configure();
    };
    std::error_code ec;
    for (auto c : chunks) {
        while (!c.empty()) {
            const auto n = p.feed(c, ec);
            require(n <= c.size());
            if (ec) {
                std::error_code again;
                require(p.feed(c, again) == 0 && again == ec);
                return summary + "error " + ec.message() + "\n";
            }
            require(n > 0 || p.done());
            c.remove_prefix(n);
            if (p.done())
                finish_message();
        }
    }
    p.finish_eof(ec);
    if (!ec && p.done())
        finish_message();
    return summary + (ec ? "eof " + ec.message() : std::string("clean")) + "\n";
}

template <bool IsRequest>
void check(std::string_view input, std::size_t split, bool head) {
    const auto whole = run<IsRequest>({input}, head, false);
    const auto two = run<IsRequest>({input.substr(0, split), input.substr(split)}, head, false);
    const auto sunk = run<IsRequest>({input.substr(0, split), input.substr(split)}, head, true);
    // Errors may be detected at different points (different bodies before them), but a clean
    // parse must not depend on how the bytes were cut, nor on whether a sink is used.
    if (whole.find("error") == std::string::npos && two.find("error") == std::string::npos)
        require(whole == two);
    require((whole.find("error") == std::string::npos) == (two.find("error") == std::string::npos));
    require(two == sunk);
    if (input.size() <= 512) {
        std::vector<std::string_view> bytes;
        for (std::size_t i = 0; i < input.size(); ++i)
            bytes.push_back(input.substr(i, 1));
        const auto byte_by_byte = run<IsRequest>(bytes, head, false);
        require((byte_by_byte.find("error") == std::string::npos) ==
                (whole.find("error") == std::string::npos));
        if (whole.find("error") == std::string::npos)
            require(byte_by_byte == whole);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t split =
        size == 0 ? 0 : (static_cast<std::size_t>(data[0]) * 7919) % (size + 1);
    const bool head = size > 0 && (data[0] & 1) != 0;
    check<false>(input, split, head);
    check<true>(input, split, false);
    return 0;
}
