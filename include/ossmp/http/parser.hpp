// ossmp/http/parser.hpp: an incremental (sans-io) HTTP/1.1 parser for responses and requests.
//
// The parser is fed whatever bytes arrived, in chunks of any size; it never reads or writes a
// socket. The client parses responses with `response_parser`; the emulator parses requests
// with `request_parser` (the same code: `basic_parser<IsRequest>`).
//
// Typical loop (client side):
//
//     http::response_parser p;
//     p.set_head_request(req.method == http::verb::head);
//     while (!p.done()) {
//         if (buffer.empty()) { read some bytes into buffer; on EOF: p.finish_eof(ec); break; }
//         std::size_t n = p.feed(buffer, ec);
//         if (ec) break;
//         buffer.consume(n);
//         if (p.header_done() && !sink_installed) { look at p.get().status, maybe set_body_sink }
//         if (p.got_continue() && !body_sent) { send the request body }
//     }
//
// What is accepted (RFC 9112, strictly):
// - CRLF line endings everywhere; a bare LF or CR is an error (no leniency).
// - Start lines: `HTTP/1.x SP 3DIGIT [SP reason]` (status 100..599, reason may be empty or
//   absent) and `method SP target SP HTTP/1.x` (method a token; target starts with '/' or is
//   `*`; visible ASCII or obs-text only). Versions other than 1.0 and 1.1: `bad_version`.
//   A request may be preceded by empty lines (RFC 9112 section 2.2); a response may not.
// - Fields: `name: value`, name a token (no space before the colon), value trimmed of SP/HTAB
//   and free of control characters and DEL. Obsolete line folding is an error.
// - Framing: `Transfer-Encoding: chunked` (the only coding; anything else, or chunked twice, is
//   `bad_transfer_encoding`), else `Content-Length` (digits only, identical duplicates and
//   identical list elements allowed, else `bad_content_length`), both at once is
//   `bad_transfer_encoding`. A response with neither reads its body until EOF (`finish_eof`); a
//   request with neither has no body. Responses to HEAD, 1xx, 204 and 304 never have a body.
//   Chunk extensions are validated and ignored; trailer fields are validated and appended to
//   the headers, except framing fields (Content-Length, Transfer-Encoding, Host, Connection,
//   Trailer, which are dropped).
// - Interim responses (1xx other than 101) are skipped: after one, the parser starts over for
//   the final response (`got_continue()` turns true after a 100).
#pragma once

#include "ossmp/error.hpp"
#include "ossmp/http/chars.hpp"
#include "ossmp/http/message.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace ossmp::http {

/// Default cap on the header section (start line, fields, final CRLF), and separately on a
/// trailer section: 64 KiB (same order as common servers' 8-64 KiB limits).
inline constexpr std::size_t default_header_limit = 64 * 1024;
/// Default cap on the number of header fields (trailers included).
inline constexpr std::size_t default_max_headers = 200;
/// Default cap on the body (de-chunked bytes), whether stored or given to a sink: 64 MiB.
inline constexpr std::uint64_t default_body_limit = 64ull * 1024 * 1024;
/// Longest accepted chunk-size line, extensions included (no real peer comes near it).
inline constexpr std::size_t max_chunk_line_size = 4096;

/// Receives body bytes as they arrive (already de-chunked), in order, possibly in many small
/// pieces. Setting the `std::error_code&` argument stops the parser with that error (it is
/// returned by this and every later `feed`). The view is valid only during the call.
using body_sink = std::function<void(std::string_view, std::error_code&)>;

/// An incremental HTTP/1.1 parser: `basic_parser<false>` (alias `response_parser`) parses a
/// response into an `http::response`, `basic_parser<true>` (alias `request_parser`) a request
/// into an `http::incoming_request`. See the top of this header for what it accepts.
///
/// Errors are `ossmp::errc` values (or what a body sink reported); after an error every
/// `feed` returns 0 with the same error until `reset()`. No exception is thrown for any input
/// (only `std::bad_alloc`, and whatever a body sink throws, can escape). Memory is bounded by
/// the caps: the header section, one chunk-size line and the stored body (without a sink).
/// Not thread-safe; one parser per connection, reused with `reset()`.
template <bool IsRequest>
class basic_parser {
public:
    /// `http::incoming_request` for requests, `http::response` for responses.
    using message_type = std::conditional_t<IsRequest, incoming_request, response>;

    basic_parser() { msg_.headers.reserve(16); }

    /// A response parser for the reply to a HEAD request when `head_request` is true (no
    /// body, whatever Content-Length says).
    explicit basic_parser(bool head_request) requires(!IsRequest) : basic_parser() {
        head_request_ = head_request;
    }

    /// Consumes bytes of the message from `bytes` and returns how many it consumed.
    ///
    /// It stops early, leaving the rest with the caller, at three points: (1) when the header
    /// section is complete (`header_done()` turns true: look at the status or headers, install
    /// a body sink or a body limit, then feed the rest), (2) after an interim 1xx response
    /// (check `got_continue()`), (3) when the message is complete (`done()`; later bytes are a
    /// pipelined next message: call `reset()` and feed them). Otherwise it consumes all of
    /// `bytes`, buffering an incomplete line internally. Returns 0 once `done()`.
    ///
    /// `ec` is cleared on entry; on a malformed message it is set to an `ossmp::errc` and the
    /// return value counts the bytes consumed before the error. After an error every call
    /// returns 0 and sets `ec` to the same error.
    std::size_t feed(std::string_view bytes, std::error_code& ec) {
        ec = {};
        if (ec_) {
            ec = ec_;
            return 0;
        }
        const std::size_t total = bytes.size();
        bool stop = false;
        while (!bytes.empty() && !stop && !ec_) {
            switch (state_) {
            case state::start:
                on_start(bytes);
                break;
            case state::start_cr:
                on_start_cr(bytes);
                break;
            case state::head:
                stop = on_head(bytes);
                break;
            case state::body_length:
            case state::chunk_data:
                stop = on_body_data(bytes);
                break;
            case state::body_eof:
                on_body_eof(bytes);
                break;
            case state::chunk_size:
                on_chunk_size(bytes);
                break;
            case state::chunk_cr:
                on_chunk_crlf(bytes, '\r', state::chunk_lf);
                break;
            case state::chunk_lf:
                on_chunk_crlf(bytes, '\n', state::chunk_size);
                break;
            case state::trailer:
                stop = on_trailer(bytes);
                break;
            case state::done:
                stop = true;
                break;
            }
        }
        ec = ec_;
        return total - bytes.size();
    }

    /// Tells the parser that the connection was closed (no more bytes will come). Completes a
    /// response whose body is delimited by EOF (`done()` turns true, `ec` cleared). Does
    /// nothing (`ec` cleared) when the message is already done. Otherwise the message is
    /// truncated: `ec` = `errc::unexpected_eof` (or the earlier error), and the parser stays
    /// in that error state. A server uses `started()` to tell a clean close between requests
    /// from a truncated request.
    void finish_eof(std::error_code& ec) {
        ec = {};
        if (!ec_) {
            if (state_ == state::done)
                return;
            if (state_ == state::body_eof) {
                state_ = state::done;
                return;
            }
            ec_ = errc::unexpected_eof;
        }
        ec = ec_;
    }

    /// True once the start line and header fields of the (final) message are parsed: the
    /// status, headers, `keep_alive()`, `content_length()` and `chunked()` are then valid.
    bool header_done() const noexcept { return header_done_; }
    /// True once the whole message is parsed (body and trailers included).
    bool done() const noexcept { return state_ == state::done; }
    /// True when at least one byte of a message (other than leading empty lines) was consumed.
    bool started() const noexcept { return started_; }
    /// True after an interim `100 Continue` response was parsed and skipped (response parser).
    bool got_continue() const noexcept { return got_continue_; }
    /// The error that stopped the parser, or none.
    std::error_code error() const noexcept { return ec_; }

    /// Whether the connection may carry another message after this one (valid once
    /// `header_done()`): HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with
    /// `Connection: keep-alive` (and no `close`); never for a body delimited by EOF, for a
    /// 101 response, for an HTTP/1.0 message with Transfer-Encoding, or after an error.
    bool keep_alive() const noexcept { return header_done_ && keep_alive_ && !ec_; }

    /// The Content-Length value when the message has one (also for HEAD replies and 204/304,
    /// where it describes a body that is not sent).
    std::optional<std::uint64_t> content_length() const noexcept {
        return has_content_length_ ? std::optional<std::uint64_t>(content_length_) : std::nullopt;
    }
    /// True when the message uses the chunked transfer coding.
    bool chunked() const noexcept { return chunked_; }
    /// Body bytes received so far (de-chunked), whether stored or given to a sink.
    std::uint64_t body_bytes() const noexcept { return body_bytes_; }

    /// The message parsed so far. Fields are complete once `header_done()`, the body once
    /// `done()` (empty when a sink took the bytes).
    message_type& get() noexcept { return msg_; }
    /// The message parsed so far (see the non-const overload).
    const message_type& get() const noexcept { return msg_; }
    /// Moves the message out; call `reset()` before parsing another one.
    message_type release() { return std::move(msg_); }

    /// Marks the response as the reply to a HEAD request: it has no body whatever its
    /// Content-Length or Transfer-Encoding say. Set it before feeding; `reset()` clears it.
    void set_head_request(bool head_request) noexcept requires(!IsRequest) {
        head_request_ = head_request;
    }

    /// Streams the body to `sink` instead of appending it to `get().body`. May be set before
    /// feeding or once `header_done()` (after the feed that completed the header, before the
    /// next one). An empty function restores storing. `reset()` clears it.
    void set_body_sink(body_sink sink) { sink_ = std::move(sink); }

    /// Cap on the header section (and separately on a trailer section) in bytes; exceeding it
    /// is `errc::header_too_large`. Kept by `reset()`.
    void set_header_limit(std::size_t bytes) noexcept { header_limit_ = bytes; }
    /// Cap on the number of header and trailer fields; exceeding it is
    /// `errc::too_many_headers`. Kept by `reset()`.
    void set_max_headers(std::size_t count) noexcept { max_headers_ = count; }
    /// Cap on the body in bytes (stored or streamed to a sink); exceeding it is
    /// `errc::body_too_large`, reported as soon as it is certain: for a Content-Length body
    /// when its first byte arrives (check `content_length()` after `header_done()` to refuse
    /// earlier), for a chunked body at the chunk-size line that crosses it. Can be changed once
    /// `header_done()` (before the next feed), e.g. raised for an UploadPart request streamed
    /// to a sink. Kept by `reset()`. Use the maximum `std::uint64_t` for no cap.
    void set_body_limit(std::uint64_t bytes) noexcept { body_limit_ = bytes; }

    /// Prepares for the next message on the same connection: clears the message, the parse
    /// state, the error, the HEAD flag, `got_continue()` and the body sink; keeps the limits.
    void reset() {
        const auto header_limit = header_limit_;
        const auto max_headers = max_headers_;
        const auto body_limit = body_limit_;
        *this = basic_parser();
        header_limit_ = header_limit;
        max_headers_ = max_headers;
        body_limit_ = body_limit;
    }

private:
    enum class state {
        start,       // before the first byte of a message
        start_cr,    // request: saw the CR of a leading empty line
        head,        // start line and fields, line by line
        body_length, // Content-Length body
        body_eof,    // response body until EOF
        chunk_size,  // chunk-size [chunk-ext] CRLF
        chunk_data,  // chunk bytes
        chunk_cr,    // CR after chunk data
        chunk_lf,    // LF after chunk data
        trailer,     // trailer fields up to the empty line
        done,
    };

    void fail(errc e) {
        if (!ec_)
            ec_ = e;
    }

    // Takes one CRLF-terminated line from `in` into `line` (without the CRLF). A line split
    // across feeds is collected in `line_buf_`. `used` counts the bytes of the section so far,
    // capped by `limit` (`too_long`); a line without its CR is `bare_lf`. Returns false when
    // more bytes are needed or on error.
    bool take_line(std::string_view& in, std::string_view& line, std::size_t& used,
                   std::size_t limit, errc too_long, errc bare_lf) {
        const char* nl = static_cast<const char*>(std::memchr(in.data(), '\n', in.size()));
        const std::size_t n = nl ? static_cast<std::size_t>(nl - in.data()) + 1 : in.size();
        if (used > limit || n > limit - used) {
            fail(too_long);
            return false;
        }
        used += n;
        if (!nl) {
            line_buf_.append(in.data(), n);
            in.remove_prefix(n);
            return false;
        }
        if (line_buf_.empty()) {
            line = in.substr(0, n - 1);
        } else {
            line_buf_.append(in.data(), n - 1);
            line = line_buf_;
        }
        in.remove_prefix(n);
        if (line.empty() || line.back() != '\r') {
            fail(bare_lf);
            return false;
        }
        line.remove_suffix(1);
        return true;
    }

    void on_start(std::string_view& in) {
        if constexpr (IsRequest) {
            // RFC 9112 section 2.2: ignore at least one empty line before a request-line.
            if (in.front() == '\r' || in.front() == '\n') {
                if (in.front() == '\n' || head_bytes_ >= header_limit_) {
                    fail(in.front() == '\n' ? errc::bad_request_line : errc::header_too_large);
                    return;
                }
                ++head_bytes_;
                in.remove_prefix(1);
                state_ = state::start_cr;
                return;
            }
        }
        started_ = true;
        state_ = state::head;
    }

    void on_start_cr(std::string_view& in) {
        if (in.front() != '\n' || head_bytes_ >= header_limit_) {
            fail(in.front() != '\n' ? errc::bad_request_line : errc::header_too_large);
            return;
        }
        ++head_bytes_;
        in.remove_prefix(1);
        state_ = state::start;
    }

    // Returns true when feed must stop (header complete or interim response skipped).
    bool on_head(std::string_view& in) {
        if constexpr (!IsRequest) {
            // Refuse a peer that does not speak HTTP as soon as its first bytes show it,
            // instead of buffering up to the header cap waiting for a line end.
            constexpr std::string_view prefix = "HTTP/";
            const std::size_t have = line_buf_.size(); // bytes of the line seen in earlier feeds
            if (!start_line_done_ && have < prefix.size()) {
                const auto n = std::min(prefix.size() - have, in.size());
                if (in.substr(0, n) != prefix.substr(have, n)) {
                    fail(errc::bad_status_line);
                    return false;
                }
            }
        }
        std::string_view line;
        const errc bare_lf = !start_line_done_ ? start_line_error() : errc::bad_header;
        if (!take_line(in, line, head_bytes_, header_limit_, errc::header_too_large, bare_lf))
            return false;
        bool stop = false;
        if (!start_line_done_) {
            parse_start_line(line);
            start_line_done_ = true;
        } else if (line.empty()) {
            stop = true;
            on_header_complete();
        } else {
            parse_field(line, false);
        }
        line_buf_.clear();
        return stop;
    }

    static constexpr errc start_line_error() noexcept {
        return IsRequest ? errc::bad_request_line : errc::bad_status_line;
    }

    // "HTTP/1.1" -> 1, "HTTP/1.0" -> 0; otherwise bad_version when it looks like an HTTP
    // version at all, else the start-line error.
    bool parse_version(std::string_view v) {
        if (v == "HTTP/1.1") {
            msg_.version_minor = 1;
            return true;
        }
        if (v == "HTTP/1.0") {
            msg_.version_minor = 0;
            return true;
        }
        const bool looks_like_version =
            v.starts_with("HTTP/") && v.find(' ') == std::string_view::npos;
        fail(looks_like_version ? errc::bad_version : start_line_error());
        return false;
    }

    void parse_start_line(std::string_view line) {
        if constexpr (IsRequest) {
            const auto sp1 = line.find(' ');
            if (sp1 == std::string_view::npos) {
                fail(errc::bad_request_line);
                return;
            }
            const auto sp2 = line.find(' ', sp1 + 1);
            const auto method = line.substr(0, sp1);
            const auto target = line.substr(
                sp1 + 1, sp2 == std::string_view::npos ? std::string_view::npos : sp2 - sp1 - 1);
            if (sp2 == std::string_view::npos || !is_token(method) || target.empty() ||
                (target.front() != '/' && target != "*")) {
                fail(errc::bad_request_line);
                return;
            }
            for (char c : target) {
                if (!detail::has_class(c, detail::cc_target_char)) {
                    fail(errc::bad_request_line);
                    return;
                }
            }
            if (!parse_version(line.substr(sp2 + 1)))
                return;
            msg_.method.assign(method);
            msg_.target.assign(target);
        } else {
            const auto sp = line.find(' ');
            if (!line.starts_with("HTTP/")) {
                fail(errc::bad_status_line);
                return;
            }
            if (!parse_version(line.substr(0, sp)))
                return;
            if (sp == std::string_view::npos) {
                fail(errc::bad_status_line);
                return;
            }
            std::string_view rest = line.substr(sp + 1);
            if (rest.size() < 3 || rest[0] < '1' || rest[0] > '5' ||
                !detail::has_class(rest[1], detail::cc_digit) ||
                !detail::has_class(rest[2], detail::cc_digit) ||
                (rest.size() > 3 && rest[3] != ' ')) {
                fail(errc::bad_status_line);
                return;
            }
            const auto reason = rest.size() > 3 ? rest.substr(4) : std::string_view{};
            if (!is_field_value(reason)) {
                fail(errc::bad_status_line);
                return;
            }
            msg_.status = static_cast<unsigned>((rest[0] - '0') * 100 + (rest[1] - '0') * 10 +
                                                (rest[2] - '0'));
            msg_.reason.assign(reason);
        }
    }

    static bool name_is(std::string_view name, std::string_view lower) noexcept {
        return name.size() == lower.size() && iequals(name, lower);
    }

    // One field line (no CRLF). Trailer fields are validated the same way; framing fields
    // among them are dropped instead of interpreted.
    void parse_field(std::string_view line, bool trailer) {
        if (is_ows(line.front())) { // obs-fold (RFC 9112 section 5.2): rejected
            fail(errc::bad_header);
            return;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            fail(errc::bad_header);
            return;
        }
        const auto name = line.substr(0, colon);
        const auto value = trim_ows(line.substr(colon + 1));
        if (!is_token(name) || !is_field_value(value)) {
            fail(errc::bad_header);
            return;
        }
        if (++field_count_ > max_headers_) {
            fail(errc::too_many_headers);
            return;
        }
        if (trailer) {
            if (name_is(name, "content-length") || name_is(name, "transfer-encoding") ||
                name_is(name, "host") || name_is(name, "connection") || name_is(name, "trailer"))
                return;
        } else if (name_is(name, "content-length")) {
            on_content_length(value);
        } else if (name_is(name, "transfer-encoding")) {
            on_transfer_encoding(value);
        } else if (name_is(name, "connection")) {
            on_connection(value);
        }
        if (!ec_)
            msg_.headers.add(name, value);
    }

    // Calls f(element) for each comma-separated element, trimmed of OWS (empty ones included).
    template <class F>
    static void for_each_element(std::string_view v, F&& f) {
        while (true) {
            const auto comma = v.find(',');
            f(trim_ows(v.substr(0, comma)));
            if (comma == std::string_view::npos)
                return;
            v.remove_prefix(comma + 1);
        }
    }

    void on_content_length(std::string_view value) {
        for_each_element(value, [&](std::string_view e) {
            if (ec_)
                return;
            if (e.empty()) {
                fail(errc::bad_content_length);
                return;
            }
            std::uint64_t n = 0;
            for (char c : e) {
                const auto digit = static_cast<std::uint64_t>(c - '0');
                if (!detail::has_class(c, detail::cc_digit) ||
                    n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
                    fail(errc::bad_content_length);
                    return;
                }
                n = n * 10 + digit;
            }
            if (has_content_length_ && n != content_length_) {
                fail(errc::bad_content_length);
                return;
            }
            has_content_length_ = true;
            content_length_ = n;
        });
    }

    void on_transfer_encoding(std::string_view value) {
        // Only `chunked`, once: ossmp decodes no other coding, and chunked must be last.
        for_each_element(value, [&](std::string_view e) {
            if (ec_)
                return;
            if (chunked_ || !iequals(e, "chunked")) {
                fail(errc::bad_transfer_encoding);
                return;
            }
            chunked_ = true;
        });
    }

    void on_connection(std::string_view value) {
        for_each_element(value, [&](std::string_view e) {
            if (iequals(e, "close"))
                connection_close_ = true;
            else if (iequals(e, "keep-alive"))
                connection_keep_alive_ = true;
        });
    }

    void on_header_complete() {
        if (chunked_ && has_content_length_) {
            fail(errc::bad_transfer_encoding); // RFC 9112 section 6.3: smuggling vector
            return;
        }
        keep_alive_ = msg_.version_minor == 1 ? !connection_close_
                                              : connection_keep_alive_ && !connection_close_;
        if (chunked_ && msg_.version_minor == 0)
            keep_alive_ = false; // RFC 9112 section 6.1: faulty framing, close afterwards
        bool has_body = true;
        if constexpr (!IsRequest) {
            const unsigned status = msg_.status;
            if (status / 100 == 1 && status != 101) {
                // Interim response: forget it and parse the final one.
                const bool got_continue = got_continue_ || status == 100;
                const bool head_request = head_request_;
                const auto header_limit = header_limit_;
                const auto max_headers = max_headers_;
                const auto body_limit = body_limit_;
                auto sink = std::move(sink_);
                *this = basic_parser();
                got_continue_ = got_continue;
                head_request_ = head_request;
                header_limit_ = header_limit;
                max_headers_ = max_headers;
                body_limit_ = body_limit;
                sink_ = std::move(sink);
                return;
            }
            if (status == 101)
                keep_alive_ = false;
            has_body = !(head_request_ || status / 100 == 1 || status == 204 || status == 304);
        }
        header_done_ = true;
        if (!has_body) {
            state_ = state::done;
        } else if (chunked_) {
            state_ = state::chunk_size;
        } else if (has_content_length_) {
            // The cap is checked against Content-Length when the first body byte arrives, so
            // that the caller can still raise it (or install a sink) after header_done().
            remaining_ = content_length_;
            state_ = remaining_ == 0 ? state::done : state::body_length;
        } else if (IsRequest) {
            state_ = state::done;
        } else {
            keep_alive_ = false;
            state_ = state::body_eof;
        }
    }

    // True when `n` more body bytes would exceed the cap.
    bool over_body_limit(std::uint64_t n) const noexcept {
        return body_bytes_ > body_limit_ || n > body_limit_ - body_bytes_;
    }

    void deliver(std::string_view data) {
        body_bytes_ += data.size();
        if (sink_) {
            std::error_code sink_ec;
            sink_(data, sink_ec);
            if (sink_ec && !ec_)
                ec_ = sink_ec;
        } else {
            msg_.body.append(data);
        }
    }

    // Content-Length body or chunk data: bulk copy. Returns true when the message is done.
    bool on_body_data(std::string_view& in) {
        if (state_ == state::body_length && body_bytes_ == 0) {
            if (over_body_limit(content_length_)) {
                fail(errc::body_too_large);
                return false;
            }
            // Reserve once for bulk appends, but never more than the default cap up front:
            // a raised cap must not turn a lying Content-Length into a huge allocation.
            if (!sink_)
                msg_.body.reserve(static_cast<std::size_t>(
                    std::min<std::uint64_t>(content_length_, default_body_limit)));
        }
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(in.size())));
        const auto data = in.substr(0, n);
        in.remove_prefix(n);
        remaining_ -= n;
        deliver(data);
        if (ec_ || remaining_ != 0)
            return false;
        if (state_ == state::chunk_data) {
            state_ = state::chunk_cr;
            return false;
        }
        state_ = state::done;
        return true;
    }

    void on_body_eof(std::string_view& in) {
        if (over_body_limit(in.size())) {
            fail(errc::body_too_large);
            return;
        }
        const auto data = in;
        in = {};
        deliver(data);
    }

    void on_chunk_size(std::string_view& in) {
        std::string_view line;
        if (!take_line(in, line, chunk_line_bytes_, max_chunk_line_size, errc::bad_chunk,
                       errc::bad_chunk))
            return;
        chunk_line_bytes_ = 0;
        std::uint64_t size = 0;
        std::size_t i = 0;
        for (; i < line.size() && detail::has_class(line[i], detail::cc_hexdig); ++i) {
            if (size > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
                fail(errc::bad_chunk);
                break;
            }
            const char c = line[i];
            const int digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
            size = (size << 4) | static_cast<std::uint64_t>(digit);
        }
        if (!ec_ && (i == 0 || !valid_chunk_ext(line.substr(i))))
            fail(errc::bad_chunk);
        line_buf_.clear();
        if (ec_)
            return;
        if (size == 0) {
            state_ = state::trailer;
            return;
        }
        if (over_body_limit(size)) {
            fail(errc::body_too_large);
            return;
        }
        remaining_ = size;
        state_ = state::chunk_data;
    }

    // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
    static bool valid_chunk_ext(std::string_view s) noexcept {
        std::size_t i = 0;
        const auto skip_ws = [&] {
            while (i < s.size() && is_ows(s[i]))
                ++i;
        };
        const auto token = [&] {
            const auto begin = i;
            while (i < s.size() && is_tchar(s[i]))
                ++i;
            return i > begin;
        };
        while (true) {
            skip_ws();
            if (i == s.size())
                return i == 0; // trailing whitespace without an extension is not allowed
            if (s[i] != ';')
                return false;
            ++i;
            skip_ws();
            if (!token())
                return false;
            const auto after_name = i;
            skip_ws();
            if (i < s.size() && s[i] == '=') {
                ++i;
                skip_ws();
                if (i < s.size() && s[i] == '"') {
                    ++i;
                    bool closed = false;
                    while (i < s.size()) {
                        const char c = s[i];
                        if (c == '"') {
                            ++i;
                            closed = true;
                            break;
                        }
                        if (c == '\\') {
                            ++i;
                            if (i == s.size() || !detail::has_class(s[i], detail::cc_field_char))
                                return false;
                        } else if (!detail::has_class(c, detail::cc_field_char)) {
                            return false;
                        }
                        ++i;
                    }
                    if (!closed)
                        return false;
                } else if (!token()) {
                    return false;
                }
            } else {
                i = after_name;
            }
            if (i == s.size())
                return true;
        }
    }

    void on_chunk_crlf(std::string_view& in, char expected, state next) {
        if (in.front() != expected) {
            fail(errc::bad_chunk);
            return;
        }
        in.remove_prefix(1);
        state_ = next;
    }

    // Returns true when the message is done.
    bool on_trailer(std::string_view& in) {
        std::string_view line;
        if (!take_line(in, line, trailer_bytes_, header_limit_, errc::header_too_large,
                       errc::bad_header))
            return false;
        bool stop = false;
        if (line.empty()) {
            state_ = state::done;
            stop = true;
        } else {
            parse_field(line, true);
        }
        line_buf_.clear();
        return stop;
    }

    message_type msg_;
    state state_ = state::start;
    std::error_code ec_;
    std::string line_buf_;
    body_sink sink_;

    std::size_t header_limit_ = default_header_limit;
    std::size_t max_headers_ = default_max_headers;
    std::uint64_t body_limit_ = default_body_limit;

    std::size_t head_bytes_ = 0;
    std::size_t trailer_bytes_ = 0;
    std::size_t chunk_line_bytes_ = 0;
    std::size_t field_count_ = 0;
    std::uint64_t content_length_ = 0;
    std::uint64_t remaining_ = 0;
    std::uint64_t body_bytes_ = 0;

    bool head_request_ = false;
    bool started_ = false;
    bool start_line_done_ = false;
    bool header_done_ = false;
    bool got_continue_ = false;
    bool has_content_length_ = false;
    bool chunked_ = false;
    bool connection_close_ = false;
    bool connection_keep_alive_ = false;
    bool keep_alive_ = false;
};

/// Parses responses (client side).
using response_parser = basic_parser<false>;
/// Parses requests (server side, the emulator).
using request_parser = basic_parser<true>;

} // namespace ossmp::http
