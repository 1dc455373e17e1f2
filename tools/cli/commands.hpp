// tools/cli/commands.hpp: the commands of `ossmp`, one coroutine each, on the public headers.
// Every command either prints its result and returns exit_ok, or throws (usage_error,
// cli_error, integrity_error, op_failure); main turns those into messages and exit codes.
#pragma once

#include "errors.hpp"
#include "files.hpp"
#include "output.hpp"

#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/credentials.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/error.hpp"
#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/complete.hpp"
#include "ossmp/ops/delete_object.hpp"
#include "ossmp/ops/get_object.hpp"
#include "ossmp/ops/head_object.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/list_multipart_uploads.hpp"
#include "ossmp/ops/list_parts.hpp"
#include "ossmp/ops/put_object.hpp"
#include "ossmp/ops/upload_part.hpp"
#include "ossmp/paginate.hpp"
#include "ossmp/transport/asio_transport.hpp"
#include "ossmp/upload.hpp"
#include "ossmp/validate.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace ossmp_cli {

using client_type =
    ossmp::basic_client<ossmp::asio_transport, ossmp::environment_credentials_provider>;
namespace aex = asio::experimental;

/// `oss://BUCKET/KEY` split; the key may be empty where a prefix is meant.
struct object_url {
    std::string bucket;
    std::string key;
};

/// oss://BUCKET/KEY (key required) or oss://BUCKET[/PREFIX] (key optional).
inline object_url parse_url(std::string_view s, bool key_required) {
    constexpr std::string_view scheme = "oss://";
    if (s.substr(0, scheme.size()) != scheme)
        throw usage_error{"expected oss://BUCKET/KEY, got '" + std::string(s) + "'"};
    s.remove_prefix(scheme.size());
    const auto slash = s.find('/');
    object_url u;
    u.bucket = std::string(s.substr(0, slash));
    if (slash != std::string_view::npos)
        u.key = std::string(s.substr(slash + 1));
    if (u.bucket.empty())
        throw usage_error{"missing bucket in oss://BUCKET/KEY"};
    if (key_required && u.key.empty())
        throw usage_error{"missing key in oss://BUCKET/KEY"};
    return u;
}

/// A non-negative decimal integer (no sign, no spaces, no overflow).
inline std::uint64_t parse_number(std::string_view s, std::string_view what) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty())
        throw usage_error{std::string(what) + " must be a non-negative integer, got '" +
                          std::string(s) + "'"};
    return v;
}

/// A size in bytes: digits with an optional binary suffix K, M, G or T (KiB, MiB, ...; case
/// and a trailing "B" or "iB" do not matter): "8M" is 8,388,608.
inline std::uint64_t parse_size(std::string_view s, std::string_view what) {
    std::string_view digits = s, suffix;
    const auto end = s.find_first_not_of("0123456789");
    if (end != std::string_view::npos) {
        digits = s.substr(0, end);
        suffix = s.substr(end);
    }
    std::string unit;
    for (char c : suffix)
        unit += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    if (unit.size() > 1 && unit.substr(1) == "IB")
        unit.resize(1);
    else if (unit.size() > 1 && unit.substr(1) == "B")
        unit.resize(1);
    unsigned shift = 0;
    if (unit == "K")
        shift = 10;
    else if (unit == "M")
        shift = 20;
    else if (unit == "G")
        shift = 30;
    else if (unit == "T")
        shift = 40;
    else if (!unit.empty() && unit != "B")
        throw usage_error{std::string(what) + " takes a size like 8M or 1G, got '" +
                          std::string(s) + "'"};
    const std::uint64_t v = parse_number(digits, what);
    if (shift && v > (UINT64_MAX >> shift))
        throw usage_error{std::string(what) + " is too large: '" + std::string(s) + "'"};
    return v << shift;
}

/// 1536 -> "1.5 KiB" (for people; JSON keeps bytes).
inline std::string human_size(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
    return buf;
}

inline int parse_part_number(std::string_view s, std::string_view what) {
    const auto n = parse_number(s, what);
    if (n < 1 || n > ossmp::max_parts)
        throw usage_error{std::string(what) + " must be 1..10000, got " + std::string(s)};
    return static_cast<int>(n);
}

/// What a failed operation's error says, for one line of text: the server's Code (HTTP status),
/// Message, RequestId and EC for a service error (every field terminal-safe: it came from the
/// server); else the error's message, ossmp's own explanation, and the HTTP status.
inline std::string describe_failure(const std::error_code& ec, const ossmp::diagnostics& d) {
    if (d.http_status != 0 && ec.category() == ossmp::service_category()) {
        std::string text = terminal_safe(d.to_string());
        if (d.request_id.empty())
            text += " [RequestId=]";
        return text;
    }
    std::string text = ec.message();
    if (d.http_status == 0 && !d.message.empty()) // ossmp's own explanation
        text += ": " + terminal_safe(d.message);
    if (d.http_status != 0)
        text += " (HTTP " + std::to_string(d.http_status) +
                (d.request_id.empty() ? "" : ", RequestId=" + terminal_safe(d.request_id)) + ")";
    return text;
}

/// The arguments of one command, as CLI11 parsed them (strings: numbers are checked by the
/// command, so that "-1" or "1e3" is an error rather than a wrapped value).
struct command_args {
    std::vector<std::string> positional;
    std::vector<std::string> headers; // mpu init --header
    std::vector<std::string> parts;   // mpu complete --part
    std::optional<std::string> offset, length, acl;
    bool md5 = false;
    bool all = false;
    // cp
    std::string part_size = "8M";
    std::optional<std::string> expected_size;
    std::string parallel = "4";
    bool keep_on_failure = false;
    std::optional<std::string> checkpoint; // --checkpoint FILE
    bool no_checkpoint = false;
    bool fresh = false;
    std::optional<std::string> checkpoint_every;
    std::optional<std::string> rate_limit; // --rate-limit BYTES/s
    bool progress = false;                 // --progress: show it even when stderr is not a terminal
    bool no_progress = false;              // --no-progress
    // cp -r
    bool recursive = false;
    std::optional<std::string> jobs;          // default 4
    std::optional<std::string> memory_budget; // default 256M
    bool follow_symlinks = false;
    // mpu list-parts, mpu list-uploads, cleanup (listing.hpp)
    std::optional<std::string> max;        // --max N: stop after N entries
    std::optional<std::string> page_size;  // --page-size N: 1..1000
    std::optional<std::string> key;        // list-uploads --key K
    std::optional<std::string> delimiter;  // list-uploads --delimiter D
    std::optional<std::string> older_than; // cleanup --older-than DURATION
    bool dry_run = false;                  // cleanup --dry-run
};

/// The commands, sharing one client and one printer.
class program {
public:
    program(client_type& client, printer out) : client_(client), out_(out) {}

    /// The command line as typed (shell-quoted), for the resume hint.
    void set_command_line(std::string line) { command_line_ = std::move(line); }

    /// For the commands defined outside this class (listing.hpp).
    client_type& client() noexcept { return client_; }
    const printer& out() const noexcept { return out_; }

    static void check(std::string_view what, std::error_code ec, const ossmp::diagnostics& d) {
        if (ec)
            throw op_failure{std::string(what), ec, d};
    }

    asio::awaitable<int> mpu_init(const command_args& a) {
        auto url = parse_url(a.positional.at(0), true);
        ossmp::initiate_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        add_headers(p, a.headers);
        ossmp::diagnostics d;
        auto [ec, r] = co_await ossmp::async_initiate_upload(client_, p, d,
                                                             aex::as_tuple(asio::use_awaitable));
        check("InitiateMultipartUpload", ec, d);
        if (out_.json_mode())
            out_.fields(json{{"bucket", r.bucket}, {"key", url.key}, {"upload_id", r.upload_id}});
        else
            std::cout << terminal_safe(r.upload_id) << "\n";
        co_return exit_ok;
    }

    asio::awaitable<int> mpu_put_part(const command_args& a) {
        auto url = parse_url(a.positional.at(0), true);
        const int number = parse_part_number(a.positional.at(2), "part number N");
        const std::uint64_t offset = a.offset ? parse_number(*a.offset, "--offset") : 0;
        std::optional<std::uint64_t> length;
        if (a.length)
            length = parse_number(*a.length, "--length");
        const auto src = open_source(a.positional.at(3), offset, length, ossmp::max_part_size);
        ossmp::upload_part_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        p.upload_id = a.positional.at(1);
        p.part_number = number;
        if (a.md5)
            p.content_md5 = src.content_md5(offset);
        ossmp::diagnostics d;
        auto [ec, r] = co_await upload(src, p, d);
        check("UploadPart", ec, d);
        src.check_unchanged();
        // The op compared the reply's CRC-64 with the bytes sent when there was one (a
        // mismatch is an error above); without one, nothing vouches for what the server stored.
        json rec{{"part_number", number}};
        print_upload(std::move(rec), r.etag, sent_crc64(src), src.size, r.crc64.has_value());
        co_return exit_ok;
    }

    asio::awaitable<int> mpu_complete(const command_args& a) {
        auto url = parse_url(a.positional.at(0), true);
        ossmp::complete_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        p.upload_id = a.positional.at(1);
        p.complete_all = a.all;
        if (!a.parts.empty() && p.complete_all)
            throw usage_error{"--part and --all exclude each other"};
        if (a.parts.empty() && !p.complete_all)
            throw usage_error{"give the parts (--part N:ETAG...) or --all"};
        for (const auto& s : a.parts) {
            const auto colon = s.find(':');
            if (colon == std::string::npos)
                throw usage_error{"--part needs N:ETAG, got '" + s + "'"};
            ossmp::completed_part part;
            part.part_number = parse_part_number(std::string_view(s).substr(0, colon), "--part N");
            part.etag = s.substr(colon + 1);
            p.parts.push_back(std::move(part));
        }
        if (a.acl)
            p.object_acl = *a.acl;

        // What the object must be: the listed parts' CRC-64s combined in number order, and
        // their sizes summed. ListParts must run before Complete (the upload is gone after).
        const auto listed = co_await parts_by_number(url, p.upload_id);
        std::optional<ossmp::crc64_state> expected = ossmp::crc64_state{};
        std::uint64_t size = 0;
        bool sizes_known = true;
        auto take = [&](int number) {
            auto it = listed.find(number);
            if (it == listed.end()) {
                expected.reset();
                sizes_known = false;
                return;
            }
            size += it->second.size;
            if (expected && it->second.crc64)
                expected->append(*it->second.crc64, it->second.size);
            else
                expected.reset();
        };
        if (p.complete_all) {
            for (const auto& [number, info] : listed)
                take(number);
        } else {
            std::vector<int> numbers;
            for (const auto& part : p.parts)
                numbers.push_back(part.part_number);
            std::sort(numbers.begin(), numbers.end());
            for (int n : numbers)
                take(n);
        }

        ossmp::complete_options o;
        if (expected)
            o.expected_crc64 = expected->value();
        ossmp::diagnostics d;
        auto [ec, r] = co_await ossmp::async_complete_upload(client_, p, o, d,
                                                             aex::as_tuple(asio::use_awaitable));
        check("CompleteMultipartUpload", ec, d);

        json rec{{"bucket", url.bucket}, {"key", url.key}, {"etag", r.etag}};
        bool verified = false;
        std::string why;
        if (r.crc64 && expected) {
            verified = true; // the op compared them: a difference was crc_mismatch above
            rec["crc64"] = ossmp::crc64_to_string(*r.crc64);
        } else {
            // No CRC-64 in the reply (or parts without one): HeadObject decides what it can.
            ossmp::head_object_params hp;
            hp.bucket = url.bucket;
            hp.key = url.key;
            ossmp::diagnostics hd;
            auto [hec, m] = co_await ossmp::async_head_object(client_, hp, hd,
                                                              aex::as_tuple(asio::use_awaitable));
            check("HeadObject (verifying the completed object)", hec, hd);
            if (sizes_known && m.size != size)
                throw integrity_error{"CompleteMultipartUpload",
                                      "the object is " + std::to_string(m.size) +
                                          " bytes, but its parts hold " + std::to_string(size)};
            const auto object_crc = r.crc64 ? r.crc64 : m.crc64;
            if (object_crc && expected && *object_crc != expected->value())
                throw integrity_error{
                    "CompleteMultipartUpload",
                    "CRC-64 mismatch: the object has " + ossmp::crc64_to_string(*object_crc) +
                        ", its parts make " + ossmp::crc64_to_string(expected->value())};
            verified = object_crc && expected;
            if (object_crc)
                rec["crc64"] = ossmp::crc64_to_string(*object_crc);
            else if (expected)
                rec["crc64"] = ossmp::crc64_to_string(expected->value());
            if (!verified)
                why = !object_crc    ? "the server sent no CRC-64 for the object"
                      : !sizes_known ? "some parts are not in the upload's part list"
                                     : "some parts have no CRC-64 in the part list";
            if (sizes_known)
                rec["size"] = m.size;
        }
        rec["verified"] = verified;
        if (!r.location.empty())
            rec["location"] = r.location;
        if (!r.version_id.empty())
            rec["version_id"] = r.version_id;
        out_.fields(rec);
        if (!verified)
            out_.warn("the completed object was not verified: " + why);
        co_return exit_ok;
    }

    asio::awaitable<int> mpu_abort(const command_args& a) {
        auto url = parse_url(a.positional.at(0), true);
        ossmp::abort_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        p.upload_id = a.positional.at(1);
        ossmp::diagnostics d;
        auto [ec, r] =
            co_await ossmp::async_abort_upload(client_, p, d, aex::as_tuple(asio::use_awaitable));
        check("AbortMultipartUpload", ec, d);
        if (out_.json_mode())
            out_.fields(json{{"upload_id", p.upload_id}, {"aborted", true}});
        co_return exit_ok;
    }

    asio::awaitable<int> put(const command_args& a) {
        auto url = parse_url(a.positional.at(1), true);
        const auto src =
            open_source(a.positional.at(0), 0, std::nullopt, ossmp::max_put_object_size);
        ossmp::put_object_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        ossmp::diagnostics d;
        auto [ec, r] = co_await upload(src, p, d);
        check("PutObject", ec, d);
        src.check_unchanged();
        print_upload(json::object(), r.etag, sent_crc64(src), src.size, r.crc64.has_value());
        co_return exit_ok;
    }

    asio::awaitable<int> get(const command_args& a) {
        auto url = parse_url(a.positional.at(0), true);
        const std::string& target = a.positional.at(1);
        const bool to_stdout = target == "-";
        std::optional<output_file> file;
        file_descriptor stdout_copy;
        if (to_stdout) {
            stdout_copy = file_descriptor(::dup(STDOUT_FILENO));
            if (stdout_copy.get() < 0)
                throw cli_error{"cannot use stdout: " + errno_text(errno)};
        } else {
            file.emplace(target);
        }
        std::cout.flush();
        // HeadObject first: the size the object has bounds the body (a chunked body has no
        // length of its own, and a hostile server could send one without end).
        ossmp::head_object_params hp;
        hp.bucket = url.bucket;
        hp.key = url.key;
        ossmp::diagnostics hd;
        auto [hec, meta] =
            co_await ossmp::async_head_object(client_, hp, hd, aex::as_tuple(asio::use_awaitable));
        check("HeadObject", hec, hd);
        ossmp::get_object_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        p.expected_size = meta.size;
        const int out_fd = to_stdout ? stdout_copy.get() : file->fd();
        auto sink = [out_fd](std::string_view bytes, std::error_code& ec) {
            while (!bytes.empty()) {
                const ssize_t n = ::write(out_fd, bytes.data(), bytes.size());
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0) {
                    ec = std::error_code(errno, std::generic_category());
                    return;
                }
                bytes.remove_prefix(static_cast<std::size_t>(n));
            }
        };
        ossmp::diagnostics d;
        auto [ec, r] = co_await ossmp::async_get_object(client_, p, sink, d,
                                                        aex::as_tuple(asio::use_awaitable));
        check("GetObject", ec, d); // `file` removes its temporary file on the way out
        if (file) {
            if (auto cec = file->commit())
                throw cli_error{"cannot write " + target + ": " + cec.message()};
        }
        json rec{{"size", r.bytes},
                 {"crc64", ossmp::crc64_to_string(r.crc64)},
                 {"verified", r.crc_checked}};
        if (!to_stdout)
            out_.fields(rec);
        else if (out_.json_mode()) // the object went to stdout: the summary goes to stderr
            std::cerr << json_line(rec);
        if (!r.crc_checked)
            out_.warn("the server sent no CRC-64 for the object: the download was not verified");
        co_return exit_ok;
    }

    asio::awaitable<int> stat(const command_args& a) {
        auto url = parse_url(a.positional.at(0), true);
        ossmp::head_object_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        ossmp::diagnostics d;
        auto [ec, m] =
            co_await ossmp::async_head_object(client_, p, d, aex::as_tuple(asio::use_awaitable));
        check("HeadObject", ec, d);
        json rec{{"bucket", url.bucket}, {"key", url.key}, {"size", m.size}, {"etag", m.etag}};
        rec["crc64"] = m.crc64 ? ossmp::crc64_to_string(*m.crc64) : "";
        rec["content_type"] = m.content_type;
        rec["last_modified"] = m.last_modified;
        rec["object_type"] = m.object_type;
        rec["storage_class"] = m.storage_class;
        if (!m.version_id.empty())
            rec["version_id"] = m.version_id;
        for (const auto& [name, value] : m.user_metadata)
            rec["x-oss-meta-" + name] = value;
        out_.fields(rec);
        co_return exit_ok;
    }

    asio::awaitable<int> rm(const command_args& a) {
        auto url = parse_url(a.positional.at(0), true);
        ossmp::delete_object_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        ossmp::diagnostics d;
        auto [ec, r] =
            co_await ossmp::async_delete_object(client_, p, d, aex::as_tuple(asio::use_awaitable));
        check("DeleteObject", ec, d);
        if (out_.json_mode())
            out_.fields(json{{"bucket", url.bucket}, {"key", url.key}, {"deleted", true}});
        co_return exit_ok;
    }

    /// cp FILE oss://B/K: one object from a regular file (multipart above one part, parts
    /// streamed from the file in a window of --parallel, each retried, the whole object
    /// verified); cp oss://B/K FILE: a download, as `get`.
    asio::awaitable<int> cp(const command_args& a) {
        const std::string& from = a.positional.at(0);
        const std::string& to = a.positional.at(1);
        if (a.recursive)
            co_return co_await cp_tree(a);
        const bool from_oss = from.rfind("oss://", 0) == 0, to_oss = to.rfind("oss://", 0) == 0;
        if (from_oss && to_oss)
            throw usage_error{"cp copies between a local file and OSS: one side must be a file"};
        if (from_oss)
            co_return co_await get(a);
        if (!to_oss)
            throw usage_error{"cp needs oss://BUCKET/KEY on one side"};
        if (a.jobs || a.memory_budget || a.follow_symlinks)
            throw usage_error{"--jobs, --memory-budget and --follow-symlinks go with -r (cp -r DIR "
                              "oss://BUCKET/PREFIX/)"};
        auto url = parse_url(to, true);
        ossmp::upload_options o = upload_options_of(a);
        std::optional<ossmp::file_source> file;
        std::optional<asio::posix::stream_descriptor> in;
        if (from == "-")
            file = stdin_file_source();
        else
            file = open_file_source(from);
        if (!file) {
            const int fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
            if (fd < 0)
                throw usage_error{"cannot use stdin: " + errno_text(errno)};
            // A pipe of 1 MiB instead of 64 KiB: 16 times fewer reads and wake-ups per part
            // (best effort: the system's pipe-max-size may refuse it).
            ::fcntl(fd, F_SETPIPE_SZ, 1 << 20);
            in.emplace(client_.get_executor(), fd);
        }
        if (a.expected_size && !in)
            throw usage_error{"--expected-size is for stdin (a file's size is known)"};
        if (a.no_checkpoint && (a.checkpoint || a.fresh))
            throw usage_error{"--no-checkpoint goes with neither --checkpoint nor --fresh"};
        // Resume: a file's upload keeps a checkpoint (by default in the state directory); a
        // stream has none (it cannot be read again).
        std::string checkpoint;
        if (a.checkpoint)
            checkpoint = *a.checkpoint;
        else if (!a.no_checkpoint && from != "-")
            checkpoint = default_checkpoint_path(from, client_.options().endpoint, to);
        if (checkpoint.empty() && a.fresh)
            throw usage_error{"--fresh replaces a checkpoint: there is none for stdin (give "
                              "--checkpoint FILE)"};

        ossmp::upload_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        add_headers(p, a.headers);
        if (a.expected_size)
            o.expected_size = parse_size(*a.expected_size, "--expected-size");
        o.keep_upload_on_failure = a.keep_on_failure || !checkpoint.empty();
        o.checkpoint_path = checkpoint;
        const bool tty = ::isatty(STDERR_FILENO) == 1;
        const bool show = !a.no_progress && (a.progress || tty);
        const auto start = std::chrono::steady_clock::now();
        if (show) {
            o.progress_interval = std::chrono::milliseconds(tty ? 200 : 1000);
            o.on_progress = [tty, start](const ossmp::upload_progress& pr) {
                progress_line(pr, tty, start);
            };
        }
        std::error_code ec;
        ossmp::upload_result r;
        if (file)
            std::tie(ec, r) = co_await ossmp::async_upload(client_, std::move(*file), std::move(p),
                                                           o, aex::as_tuple(asio::use_awaitable));
        else
            std::tie(ec, r) =
                co_await ossmp::async_upload(client_, ossmp::stream_source(*in), std::move(p), o,
                                             aex::as_tuple(asio::use_awaitable));
        if (show && tty)
            std::cerr << "\n";
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (r.already_complete)
            out_.note("the checkpoint's upload " + terminal_safe(r.upload_id) +
                      " was already complete (an earlier run ended before removing the "
                      "checkpoint): the object has the file's size and CRC-64, nothing was sent");
        else if (r.restarted)
            out_.warn("the checkpoint's upload no longer exists (aborted or expired): all " +
                      std::to_string(r.parts) + " parts were sent again");
        else if (r.parts_reused > 0)
            out_.note("resumed upload " + terminal_safe(r.upload_id) + ": " +
                      std::to_string(r.parts_reused) + " of " + std::to_string(r.parts) +
                      " parts (" + std::to_string(r.bytes_reused) +
                      " bytes) were already uploaded and were not sent again");
        if (ec) {
            if (!checkpoint.empty() && !r.resume_token.empty())
                out_.warn("the multipart upload " + terminal_safe(r.upload_id) +
                          " was kept with its checkpoint " + terminal_safe(checkpoint) +
                          ": resume it with `" + terminal_safe(resume_command()) +
                          "` (`ossmp mpu abort " + terminal_safe(to) + " " +
                          terminal_safe(r.upload_id) + "` removes it)");
            else if (!r.upload_id.empty() && !r.aborted)
                out_.warn("the multipart upload " + r.upload_id +
                          " was kept (its parts are billed until it is completed or aborted): "
                          "`ossmp mpu abort " +
                          to + " " + r.upload_id + "` removes it");
            else if (r.aborted)
                out_.warn("the multipart upload was aborted: nothing of it is left");
            check(r.failed_step.empty() ? std::string("upload") : r.failed_step, ec, r.diag);
        }
        json rec{{"bucket", url.bucket},
                 {"key", url.key},
                 {"size", r.size},
                 {"parts", r.parts},
                 {"parts_reused", r.parts_reused},
                 {"bytes_reused", r.bytes_reused},
                 {"part_size", r.part_size},
                 {"etag", r.etag},
                 {"crc64", ossmp::crc64_to_string(r.crc64)},
                 {"verified", r.verified},
                 {"seconds", std::round(seconds * 1000) / 1000}};
        if (!r.upload_id.empty())
            rec["upload_id"] = r.upload_id;
        if (r.already_complete)
            rec["already_complete"] = true;
        rec["bytes_per_second"] =
            seconds > 0 ? static_cast<std::uint64_t>(static_cast<double>(r.size) / seconds) : 0;
        out_.fields(rec);
        if (!r.verified)
            out_.warn("the server sent no CRC-64 for the object: it was not verified");
        co_return exit_ok;
    }

    /// cp -r DIR oss://B[/PREFIX]: every regular file under DIR becomes the object
    /// PREFIX/RELATIVE/PATH (a PREFIX without a trailing '/' gets one), uploaded as `cp` uploads
    /// one file (its own checkpoint and resume, one PutObject up to one part), up to --jobs files
    /// at once, their part memory drawn from one --memory-budget and their bytes from one
    /// --rate-limit. Symbolic links are skipped unless --follow-symlinks; so are pipes, sockets
    /// and devices. One progress bar for all of it; one line per file (stdout), a summary at
    /// the end. A file that fails does not stop the others; exit 1 when any failed.
    asio::awaitable<int> cp_tree(const command_args& a) {
        const std::string& from = a.positional.at(0);
        const std::string& to = a.positional.at(1);
        if (from.rfind("oss://", 0) == 0)
            throw usage_error{"cp -r uploads a local directory (downloading a prefix is not "
                              "supported)"};
        if (from == "-")
            throw usage_error{"cp -r uploads a directory, not stdin"};
        if (a.checkpoint)
            throw usage_error{"--checkpoint names one upload's checkpoint: cp -r keeps one per "
                              "file in the state directory (or none with --no-checkpoint)"};
        if (a.expected_size)
            throw usage_error{"--expected-size is for stdin"};
        if (a.no_checkpoint && a.fresh)
            throw usage_error{"--no-checkpoint goes with neither --checkpoint nor --fresh"};
        const auto url = parse_url(to, false);
        std::string prefix = url.key;
        if (!prefix.empty() && (prefix.front() == '/' || prefix.front() == '\\'))
            throw usage_error{"a key prefix cannot start with '/' or '\\': got '" + prefix + "'"};
        if (!prefix.empty() && prefix.back() != '/')
            prefix += '/';
        const auto jobs = parse_number(a.jobs.value_or("4"), "--jobs");
        if (jobs < 1 || jobs > 64)
            throw usage_error{"--jobs must be 1..64, got '" + *a.jobs + "'"};
        const auto budget = parse_size(a.memory_budget.value_or("256M"), "--memory-budget");
        if (budget < (1 << 20))
            throw usage_error{"--memory-budget must be at least 1M, got '" + *a.memory_budget +
                              "'"};
        ossmp::upload_options base = upload_options_of(a);
        base.budget = ossmp::memory_budget(budget);
        base.keep_upload_on_failure = a.keep_on_failure || !a.no_checkpoint;

        tree_run run;
        run.listing = list_tree(from, a.follow_symlinks);
        run.bucket = url.bucket;
        run.prefix = prefix;
        run.headers = a.headers;
        run.base = std::move(base);
        run.checkpoints = !a.no_checkpoint;
        run.follow_symlinks = a.follow_symlinks;
        run.tty = ::isatty(STDERR_FILENO) == 1;
        run.start = std::chrono::steady_clock::now();
        run.show = !a.no_progress && (a.progress || run.tty);
        run.done_bytes.assign(run.listing.files.size(), 0);
        for (const auto& f : run.listing.files)
            run.total += f.size;
        for (const auto& skip : run.listing.skipped) {
            if (skip.error)
                ++run.failed;
            if (out_.json_mode())
                out_.row(json{{"file", skip.path},
                              {"status", skip.error ? "failed" : "skipped"},
                              {"reason", skip.reason}});
            else if (skip.error)
                std::cerr << "ossmp: " << terminal_safe(skip.path) << ": " << skip.reason << "\n";
            else
                out_.note("skipped " + terminal_safe(skip.path) + ": " + skip.reason);
        }

        // The workers: each takes the next file until none is left (or the command is
        // cancelled: then each is cancelled, keeping its upload and checkpoint).
        const auto ex = co_await asio::this_coro::executor;
        const std::size_t workers = std::min<std::size_t>(jobs, run.listing.files.size());
        asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
        std::vector<std::unique_ptr<asio::cancellation_signal>> signals;
        std::vector<bool> finished(workers, false);
        std::size_t running = workers;
        std::exception_ptr worker_failure;
        for (std::size_t w = 0; w < workers; ++w) {
            signals.push_back(std::make_unique<asio::cancellation_signal>());
            asio::co_spawn(
                ex, tree_worker(run),
                asio::bind_cancellation_slot(signals.back()->slot(), [&, w](std::exception_ptr e) {
                    if (e && !worker_failure)
                        worker_failure = e;
                    finished[w] = true;
                    if (--running == 0)
                        all_done.cancel();
                }));
        }
        bool interrupted = false;
        while (running > 0) {
            co_await all_done.async_wait(aex::as_tuple(asio::use_awaitable));
            if (running > 0 && !interrupted) { // our caller cancelled the command
                interrupted = true;
                run.stopping = true;
                co_await asio::this_coro::reset_cancellation_state();
                for (std::size_t w = 0; w < workers; ++w)
                    if (!finished[w])
                        signals[w]->emit(asio::cancellation_type::terminal);
            }
        }
        if (worker_failure)
            std::rethrow_exception(worker_failure);
        run.clear_bar();
        if (run.show && !run.tty)
            std::cerr << bar_line(run.bytes_done, run.total, run.count(), false, run.start);

        // The summary.
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - run.start).count();
        const std::size_t skipped = static_cast<std::size_t>(
            std::count_if(run.listing.skipped.begin(), run.listing.skipped.end(),
                          [](const tree_skip& s) { return !s.error; }));
        const std::size_t not_started =
            run.listing.files.size() - std::min(run.listing.files.size(), run.next);
        const auto rate =
            seconds > 0 ? static_cast<std::uint64_t>(static_cast<double>(run.bytes_sent) / seconds)
                        : 0;
        if (out_.json_mode()) {
            out_.row(json{{"summary", true},
                          {"files", run.listing.files.size()},
                          {"uploaded", run.uploaded},
                          {"failed", run.failed},
                          {"interrupted", run.interrupted + not_started},
                          {"skipped", skipped},
                          {"bytes", run.bytes_uploaded},
                          {"bytes_reused", run.bytes_reused},
                          {"seconds", std::round(seconds * 1000) / 1000},
                          {"bytes_per_second", rate}});
        } else {
            std::string line =
                std::to_string(run.uploaded) + " of " + std::to_string(run.listing.files.size()) +
                " files uploaded (" + human_size(static_cast<double>(run.bytes_uploaded)) + " in " +
                seconds_text(seconds) + ", " + human_size(static_cast<double>(rate)) + "/s)";
            if (run.bytes_reused)
                line += ", " + human_size(static_cast<double>(run.bytes_reused)) +
                        " of it already uploaded by an earlier run";
            line += ", " + std::to_string(run.failed) + " failed";
            if (run.interrupted + not_started)
                line += ", " + std::to_string(run.interrupted + not_started) + " interrupted";
            line += ", " + std::to_string(skipped) + " skipped";
            std::cout << line << "\n";
        }
        if (run.kept > 0)
            out_.warn(std::to_string(run.kept) +
                      " multipart uploads were kept with their checkpoints: the same command "
                      "resumes them (`" +
                      terminal_safe(resume_command()) + "`)");
        std::cout.flush();
        if (interrupted)
            throw op_failure{"cp -r", asio::error::operation_aborted, {}};
        co_return run.failed > 0 ? exit_failure : exit_ok;
    }

private:
    /// The state of one `cp -r`, shared by its workers (all on one thread).
    struct tree_run {
        tree_listing listing;
        std::string bucket, prefix;
        std::vector<std::string> headers;
        ossmp::upload_options base;
        bool checkpoints = true;
        bool follow_symlinks = false;
        bool tty = false;
        std::chrono::steady_clock::time_point start;
        bool show = false;
        bool stopping = false;
        std::size_t next = 0; // the next file to start
        std::vector<std::uint64_t> done_bytes;
        std::uint64_t total = 0, bytes_done = 0;
        std::size_t files_done = 0, uploaded = 0, failed = 0, interrupted = 0, kept = 0;
        std::uint64_t bytes_uploaded = 0, bytes_reused = 0, bytes_sent = 0;
        std::chrono::steady_clock::time_point drawn;
        bool bar_shown = false;

        std::string count() const {
            return "files " + std::to_string(files_done) + "/" +
                   std::to_string(listing.files.size());
        }
        /// File `i` has `bytes` done (its upload's progress, or its size when it ended).
        void advance(std::size_t i, std::uint64_t bytes) {
            bytes_done = bytes_done - done_bytes[i] + bytes;
            done_bytes[i] = bytes;
            draw(false);
        }
        void draw(bool force) {
            if (!show)
                return;
            const auto now = std::chrono::steady_clock::now();
            if (!force && bar_shown && now - drawn < std::chrono::milliseconds(tty ? 200 : 1000))
                return;
            drawn = now;
            bar_shown = true;
            std::cerr << bar_line(bytes_done, total, count(), tty, start) << std::flush;
        }
        /// Removes the bar from the terminal, before a line is printed.
        void clear_bar() {
            if (show && tty && bar_shown) {
                std::cerr << "\r\x1b[K" << std::flush;
                bar_shown = false;
            }
        }
    };

    static std::string seconds_text(double seconds) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f s", seconds);
        return buf;
    }

    /// One worker of `cp -r`: uploads the next file until none is left or the command stops.
    asio::awaitable<void> tree_worker(tree_run& run) {
        while (!run.stopping && run.next < run.listing.files.size())
            co_await upload_tree_file(run, run.next++);
    }

    /// Uploads file `i` of `run`, prints its line and counts it.
    asio::awaitable<void> upload_tree_file(tree_run& run, std::size_t i) {
        const tree_file& f = run.listing.files[i];
        const std::string key = run.prefix + f.relative;
        const std::string url = "oss://" + run.bucket + "/" + key;
        std::string failure; // why it failed (empty: it did not)
        json failure_fields; // JSON: what the server said
        std::error_code ec;
        ossmp::upload_result r;
        try {
            if (const auto kec = ossmp::validate_key(key))
                throw usage_error{"cannot name an object after it (" + kec.message() + ")"};
            auto source = open_listed_file(f, run.follow_symlinks);
            ossmp::upload_options o = run.base;
            if (run.checkpoints)
                o.checkpoint_path =
                    default_checkpoint_path(f.path, client_.options().endpoint, url);
            if (run.show) {
                o.progress_interval = std::chrono::milliseconds(100);
                o.on_progress = [&run, i](const ossmp::upload_progress& pr) {
                    run.advance(i, pr.bytes_done);
                };
            }
            ossmp::upload_params p;
            p.bucket = run.bucket;
            p.key = key;
            add_headers(p, run.headers);
            std::tie(ec, r) =
                co_await ossmp::async_upload(client_, std::move(source), std::move(p), std::move(o),
                                             aex::as_tuple(asio::use_awaitable));
            if (ec) {
                const std::string step = r.failed_step.empty() ? "upload" : r.failed_step;
                const auto& d = r.diag;
                failure = step + " failed: " + describe_failure(ec, d);
                failure_fields = json{{"step", step}, {"error", ec.message()}};
                if (d.http_status != 0) {
                    failure_fields["http_status"] = d.http_status;
                    failure_fields["code"] = d.code;
                    failure_fields["request_id"] = d.request_id;
                }
                if (!d.message.empty())
                    failure_fields["message"] = d.message;
            }
        } catch (const usage_error& e) {
            failure = e.message;
        } catch (const cli_error& e) {
            failure = e.message;
        }
        ++run.files_done;
        run.advance(i, failure.empty() ? f.size : run.done_bytes[i]);
        const bool cancelled = ec == asio::error::operation_aborted && run.stopping;
        const bool kept = !r.resume_token.empty() && run.checkpoints;
        run.clear_bar();
        json rec{{"file", f.path}, {"bucket", run.bucket}, {"key", key}};
        if (failure.empty()) {
            ++run.uploaded;
            run.bytes_uploaded += r.size;
            run.bytes_reused += r.bytes_reused;
            run.bytes_sent += r.size - r.bytes_reused;
            if (out_.json_mode()) {
                rec["status"] = "uploaded";
                rec["size"] = r.size;
                rec["parts"] = r.parts;
                rec["parts_reused"] = r.parts_reused;
                rec["etag"] = r.etag;
                rec["crc64"] = ossmp::crc64_to_string(r.crc64);
                rec["verified"] = r.verified;
                out_.row(rec);
            } else {
                std::string line = "upload: " + terminal_safe(f.path) + " -> " +
                                   terminal_safe(url) + " (" +
                                   human_size(static_cast<double>(r.size));
                if (r.parts_reused)
                    line += ", " + std::to_string(r.parts_reused) + " of " +
                            std::to_string(r.parts) + " parts reused";
                std::cout << line << ")\n" << std::flush;
            }
            if (!r.verified)
                out_.warn(terminal_safe(url) +
                          ": the server sent no CRC-64 for the object: it was not verified");
        } else if (cancelled) {
            ++run.interrupted;
            if (kept)
                ++run.kept;
            if (out_.json_mode()) {
                rec["status"] = "interrupted";
                if (!r.upload_id.empty())
                    rec["upload_id"] = r.upload_id;
                out_.row(rec);
            }
        } else {
            ++run.failed;
            if (kept)
                ++run.kept;
            if (out_.json_mode()) {
                rec["status"] = "failed";
                rec["reason"] = failure;
                for (const auto& [name, value] : failure_fields.items())
                    rec[name] = value;
                if (!r.upload_id.empty())
                    rec["upload_id"] = r.upload_id;
                out_.row(rec);
            } else {
                std::cerr << "ossmp: " << terminal_safe(f.path) << ": " << failure << "\n";
            }
            if (!kept && !r.upload_id.empty() && !r.aborted)
                out_.warn("the multipart upload " + terminal_safe(r.upload_id) +
                          " was kept (its parts are billed until it is completed or aborted): "
                          "`ossmp mpu abort " +
                          terminal_safe(url) + " " + terminal_safe(r.upload_id) + "` removes it");
        }
        run.draw(true);
    }

    /// The upload options that `cp` and `cp -r` share: part size, window, MD5, complete-all,
    /// rate limit, checkpoint frequency, --fresh.
    static ossmp::upload_options upload_options_of(const command_args& a) {
        ossmp::upload_options o;
        const std::uint64_t part_size = parse_size(a.part_size, "--part-size");
        if (part_size < ossmp::min_part_size || part_size > ossmp::max_part_size)
            throw usage_error{"--part-size must be 100K..5G, got '" + a.part_size + "'"};
        const auto parallel = parse_number(a.parallel, "--parallel");
        if (parallel < 1 || parallel > 64)
            throw usage_error{"--parallel must be 1..64, got '" + a.parallel + "'"};
        o.part_size = part_size;
        o.parallel = static_cast<unsigned>(parallel);
        o.content_md5 = a.md5;
        o.complete_all = a.all;
        o.start_fresh = a.fresh;
        if (a.rate_limit) {
            std::string_view rate = *a.rate_limit;
            if (rate.ends_with("/s"))
                rate.remove_suffix(2);
            const auto bytes_per_second = parse_size(rate, "--rate-limit");
            if (bytes_per_second == 0)
                throw usage_error{"--rate-limit must be above 0, got '" + *a.rate_limit + "'"};
            o.rate_limit = ossmp::rate_limiter(bytes_per_second);
        }
        if (a.checkpoint_every) {
            const auto every = parse_number(*a.checkpoint_every, "--checkpoint-every");
            if (every < 1 || every > ossmp::max_parts)
                throw usage_error{"--checkpoint-every must be 1..10000, got '" +
                                  *a.checkpoint_every + "'"};
            o.checkpoint_every = static_cast<unsigned>(every);
        }
        return o;
    }

    /// A file `list_tree` found, opened for its upload: it must still be the file listed (same
    /// device and inode), and without --follow-symlinks the name is not followed if it became
    /// a link.
    static ossmp::file_source open_listed_file(const tree_file& f, bool follow_symlinks) {
        file_descriptor fd(::open(f.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
                                                      (follow_symlinks ? 0 : O_NOFOLLOW)));
        if (fd.get() < 0)
            throw cli_error{"cannot open it: " + errno_text(errno)};
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0)
            throw cli_error{"cannot stat it: " + errno_text(errno)};
        if (!S_ISREG(st.st_mode) || st.st_dev != f.device || st.st_ino != f.inode)
            throw cli_error{"it was replaced after it was listed: not uploaded"};
        if (st.st_size == 0) { // files under /proc announce 0 bytes and have more
            char probe;
            if (::pread(fd.get(), &probe, 1, 0) != 0)
                throw cli_error{"it announces 0 bytes but has some (a /proc file?): not uploaded"};
        }
        return ossmp::file_source(fd.get(), {}, f.path);
    }

    /// The command that resumes this upload: the one typed, without `--fresh`.
    std::string resume_command() const {
        std::string c = command_line_;
        for (auto at = c.find(" --fresh"); at != std::string::npos; at = c.find(" --fresh")) {
            const auto end = at + 8;
            if (end != c.size() && c[end] != ' ')
                break;
            c.erase(at, 8);
        }
        return c;
    }

    /// stdin when it is a regular file (`< FILE`): its parts are read from the file; none
    /// (nullopt) when it is a pipe, socket or terminal: it is read as a stream.
    static std::optional<ossmp::file_source> stdin_file_source() {
        struct stat st {};
        if (::fstat(STDIN_FILENO, &st) != 0)
            throw usage_error{"cannot stat stdin: " + errno_text(errno)};
        if (S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode))
            throw usage_error{"stdin is " + std::string(file_kind(st.st_mode)) +
                              ": cp uploads files and streams"};
        if (!S_ISREG(st.st_mode))
            return std::nullopt;
        // The parts are read by position: only from the start of the file.
        if (::lseek(STDIN_FILENO, 0, SEEK_CUR) != 0)
            throw usage_error{"stdin is a regular file read from past its start: give its path"};
        if (st.st_size == 0) // maybe a /proc file, which announces 0 bytes: read it as a stream
            return std::nullopt;
        return ossmp::file_source(STDIN_FILENO);
    }

    /// A regular file to upload in parts. Anything else is refused (a pipe is uploaded from
    /// stdin: `cat PIPE | ossmp cp - URL`).
    static ossmp::file_source open_file_source(const std::string& path) {
        // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below); reads
        // of a regular file ignore the flag.
        file_descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
        if (fd.get() < 0)
            throw usage_error{"cannot open " + path + ": " + errno_text(errno)};
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0)
            throw usage_error{"cannot stat " + path + ": " + errno_text(errno)};
        if (!S_ISREG(st.st_mode))
            throw usage_error{path + " is " + std::string(file_kind(st.st_mode)) +
                              ": cp uploads regular files (a pipe or device: `cat " + path +
                              " | ossmp cp - URL`)"};
        if (st.st_size == 0) {
            // Files under /proc announce 0 bytes and have more: never upload them as empty.
            char probe;
            if (::pread(fd.get(), &probe, 1, 0) != 0)
                throw usage_error{path +
                                  " announces 0 bytes but has some (a /proc file?): use "
                                  "`cat " +
                                  path + " | ossmp cp - URL`"};
        }
        return ossmp::file_source(fd.get(), {}, path);
    }

    /// NAME:VALUE request headers (mpu init, cp).
    static void add_headers(ossmp::initiate_params& p, const std::vector<std::string>& headers) {
        for (const auto& h : headers) {
            const auto colon = h.find(':');
            if (colon == std::string::npos || colon == 0)
                throw usage_error{"--header needs NAME:VALUE, got '" + h + "'"};
            std::string_view value = std::string_view(h).substr(colon + 1);
            while (!value.empty() && value.front() == ' ')
                value.remove_prefix(1);
            p.extra_headers.add(h.substr(0, colon), value);
        }
    }

    /// The progress line on stderr: redrawn in place on a terminal, one line per update else.
    static void progress_line(const ossmp::upload_progress& pr, bool tty,
                              std::chrono::steady_clock::time_point start) {
        if (!pr.total_known) { // a stream: no percent, no ETA
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const double rate = seconds > 0 ? static_cast<double>(pr.bytes_done) / seconds : 0;
            std::string line = human_size(static_cast<double>(pr.bytes_done)) + "  " +
                               human_size(rate) + "/s  parts " + std::to_string(pr.parts_done);
            std::cerr << (tty ? "\r" + line + "\x1b[K" : line + "\n") << std::flush;
            return;
        }
        const std::string count =
            pr.parts ? "parts " + std::to_string(pr.parts_done) + "/" + std::to_string(pr.parts)
                     : std::string();
        std::cerr << bar_line(pr.bytes_done, pr.total, count, tty, start) << std::flush;
    }

    /// `[####      ] 45% 1.2 GiB / 2.6 GiB  80.0 MiB/s  COUNT  ETA m:ss`, ready for stderr: with
    /// a carriage return and a clear-to-end on a terminal, a newline else.
    static std::string bar_line(std::uint64_t done, std::uint64_t total, const std::string& count,
                                bool tty, std::chrono::steady_clock::time_point start) {
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
        const unsigned percent =
            total ? static_cast<unsigned>(std::min(done, total) * 100 / total) : 100;
        constexpr unsigned width = 30;
        std::string bar(width, ' ');
        for (unsigned i = 0; i < percent * width / 100; ++i)
            bar[i] = '#';
        std::string line = "[" + bar + "] " + std::to_string(percent) + "% " +
                           human_size(static_cast<double>(done)) + " / " +
                           human_size(static_cast<double>(total)) + "  " + human_size(rate) + "/s";
        if (!count.empty())
            line += "  " + count;
        if (rate > 0 && done < total) {
            const auto eta =
                static_cast<std::uint64_t>(std::ceil(static_cast<double>(total - done) / rate));
            char buf[32];
            std::snprintf(buf, sizeof buf, "  ETA %llu:%02llu",
                          static_cast<unsigned long long>(eta / 60),
                          static_cast<unsigned long long>(eta % 60));
            line += buf;
        }
        return tty ? "\r" + line + "\x1b[K" : line + "\n";
    }

    /// Sends `src` with UploadPart or PutObject (by the type of `p`): streamed from the file,
    /// or from memory (its CRC-64 computed first).
    template <class Params, class Result = std::conditional_t<
                                std::is_same_v<Params, ossmp::upload_part_params>,
                                ossmp::upload_part_result, ossmp::put_object_result>>
    asio::awaitable<std::tuple<std::error_code, Result>> upload(const upload_source& src, Params& p,
                                                                ossmp::diagnostics& d) {
        const ossmp::upload_part_options o;
        if (src.body)
            p.source = src.body;
        else
            p.data = src.bytes();
        if constexpr (std::is_same_v<Params, ossmp::upload_part_params>)
            return ossmp::async_upload_part(client_, p, o, d, aex::as_tuple(asio::use_awaitable));
        else
            return ossmp::async_put_object(client_, p, o, d, aex::as_tuple(asio::use_awaitable));
    }

    /// The CRC-64 of the bytes sent.
    static std::uint64_t sent_crc64(const upload_source& src) {
        if (src.body)
            return src.body->sent_crc64().value_or(0); // set once the upload succeeded
        return ossmp::crc64(src.data);
    }

    /// Every part of an upload (all pages, `ossmp::list_all_parts`), by number. The pager
    /// refuses a listing that repeats a part or whose marker does not move forward (a malformed
    /// reply, not a loop: `bad_xml_value`); a repeated number is refused here too.
    asio::awaitable<std::map<int, ossmp::part_info>> parts_by_number(const object_url& url,
                                                                     const std::string& upload_id) {
        std::map<int, ossmp::part_info> parts;
        auto listing = ossmp::list_all_parts(client_, url.bucket, url.key, upload_id);
        for (;;) {
            std::error_code ec;
            auto part = co_await listing.next(ec);
            check("ListParts", ec, listing.last_diagnostics());
            if (!part)
                break;
            const int number = part->part_number;
            if (!parts.emplace(number, std::move(*part)).second)
                check("ListParts", ossmp::errc::bad_xml_value, listing.last_diagnostics());
        }
        co_return parts;
    }

    /// The result of PutObject / UploadPart. Text: one line `ETAG CRC64` (scripts take the
    /// ETag with `awk '{print $1}'`), with a note when the server did not confirm the CRC-64.
    void print_upload(json rec, const std::string& etag, std::uint64_t crc, std::uint64_t size,
                      bool verified) {
        if (out_.json_mode()) {
            rec["etag"] = etag;
            rec["crc64"] = ossmp::crc64_to_string(crc);
            rec["size"] = size;
            rec["verified"] = verified;
            out_.fields(rec);
        } else {
            std::cout << terminal_safe(etag) << ' ' << ossmp::crc64_to_string(crc)
                      << (verified ? "" : " (local, not verified by the server)") << "\n";
        }
        if (!verified)
            out_.warn("the server sent no CRC-64: the bytes it stored were not verified");
    }

    client_type& client_;
    printer out_;
    std::string command_line_ = "ossmp cp ...";
};

} // namespace ossmp_cli
