// tools/cli/listing.hpp: the commands that walk listings page by page, on ossmp/paginate.hpp:
// `mpu list-parts` and `mpu list-uploads` (every page, printed as it arrives, `--max` stops
// early) and `cleanup` (`ossmp::async_cleanup_uploads`). Each takes the `program` (its client
// and printer) and the parsed arguments, like `program`'s own commands.
#pragma once

#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"

#include "ossmp/diagnostics.hpp"
#include "ossmp/error.hpp"
#include "ossmp/paginate.hpp"
#include "ossmp/time.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

namespace ossmp_cli {

/// The longest `--older-than`: 100 years (36,500 days) keeps every cutoff far from overflow.
inline constexpr std::uint64_t max_duration_seconds = 36500ull * 86400;

/// A DURATION: digits and one unit, s, m, h or d ("90s", "90m", "24h", "7d"); nothing else (no
/// sign, no spaces, no fractions, no combined units like 1h30m), at most 36500d.
inline std::chrono::seconds parse_duration(std::string_view s, std::string_view what) {
    std::uint64_t unit = 0;
    if (!s.empty()) {
        switch (s.back()) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            break;
        }
    }
    const std::string_view digits = s.substr(0, s.empty() ? 0 : s.size() - 1);
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (unit == 0 || digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        v > max_duration_seconds / unit)
        throw usage_error{std::string(what) +
                          " takes a duration: digits and one unit s, m, h or d (90s, 90m, 24h, "
                          "7d; at most 36500d), got '" +
                          std::string(s) + "'"};
    return std::chrono::seconds(static_cast<std::int64_t>(v * unit));
}

/// `--max` and `--page-size` of a listing.
struct listing_limits {
    std::optional<std::uint64_t> max; ///< entries to print at most
    int page_size = 0;                ///< entries per request; 0: the server's default (1000)
};

/// --max N (at least 1) and --page-size N (1..1000). Without --page-size, a --max below 1000
/// is also the page size, so that no more is fetched than printed.
inline listing_limits limits_of(const command_args& a) {
    listing_limits l;
    if (a.max) {
        const auto n = parse_number(*a.max, "--max");
        if (n < 1)
            throw usage_error{"--max must be at least 1, got '" + *a.max + "'"};
        l.max = n;
    }
    if (a.page_size) {
        const auto n = parse_number(*a.page_size, "--page-size");
        if (n < 1 || n > static_cast<std::uint64_t>(ossmp::max_list_uploads))
            throw usage_error{"--page-size must be 1..1000, got '" + *a.page_size + "'"};
        l.page_size = static_cast<int>(n);
    } else if (l.max && *l.max < static_cast<std::uint64_t>(ossmp::max_list_uploads)) {
        l.page_size = static_cast<int>(*l.max);
    }
    return l;
}

/// Prints every element of `listing` with `print`, page by page: stdout is flushed once a
/// page's elements are out, before the next page is requested. Stops after `max` elements
/// without requesting anything more. An error (cancellation included) throws `op_failure`
/// after the elements of the pages before it.
template <class Generator, class Print>
asio::awaitable<void> print_listing(Generator& listing, std::string_view what,
                                    std::optional<std::uint64_t> max, const printer& out,
                                    Print print) {
    // A Ctrl-C ends the listing through `ec` below (exit 130), never as an exception thrown
    // by the next co_await; one that came while a page was being printed is seen here.
    co_await asio::this_coro::throw_if_cancelled(false);
    std::uint64_t printed = 0;
    for (;;) {
        if (max && printed == *max) {
            if (!listing.done())
                out.note("stopped after " + std::to_string(*max) + " (--max); more may follow");
            break;
        }
        std::error_code ec;
        const auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) {
            std::cout.flush();
            program::check(what, asio::error::operation_aborted, listing.last_diagnostics());
        }
        auto element = co_await listing.next(ec);
        if (ec) {
            std::cout.flush();
            program::check(what, ec, listing.last_diagnostics());
        }
        if (!element)
            break;
        print(*element);
        ++printed;
        if (listing.buffered() == 0)
            std::cout.flush();
    }
    std::cout.flush();
}

/// `mpu list-parts oss://B/K UPLOAD_ID`: every part (number, size, ETag, CRC-64, last
/// modified), one row each, across all pages.
inline asio::awaitable<int> mpu_list_parts(program& prog, const command_args& a) {
    const auto url = parse_url(a.positional.at(0), true);
    const auto limits = limits_of(a);
    ossmp::list_parts_options o;
    o.page_size = limits.page_size;
    auto parts = ossmp::list_all_parts(prog.client(), url.bucket, url.key, a.positional.at(1), o);
    const printer& out = prog.out();
    auto print = [&out](const ossmp::part_info& part) {
        out.row(json{{"part_number", part.part_number},
                     {"size", part.size},
                     {"etag", part.etag},
                     {"crc64", part.crc64 ? ossmp::crc64_to_string(*part.crc64) : ""},
                     {"last_modified", part.last_modified}});
    };
    co_await print_listing(parts, "ListParts", limits.max, out, print);
    co_return exit_ok;
}

/// `mpu list-uploads oss://B[/PREFIX]`: every in-progress upload (key, upload id, initiated),
/// one row each, across all pages; with --delimiter the common prefixes are rows of their own
/// (text: `PREFIX<tab>(common prefix)`; JSON: {"prefix": ...}); with --key only that object's
/// uploads.
inline asio::awaitable<int> mpu_list_uploads(program& prog, const command_args& a) {
    const auto url = parse_url(a.positional.at(0), false);
    const auto limits = limits_of(a);
    if (a.delimiter && a.delimiter->empty())
        throw usage_error{"--delimiter needs a non-empty string, e.g. /"};
    const printer& out = prog.out();
    auto print_upload = [&out](const ossmp::upload_info& u) {
        out.row(json{{"key", u.key}, {"upload_id", u.upload_id}, {"initiated", u.initiated}});
    };
    if (a.key) {
        if (a.key->empty())
            throw usage_error{"--key needs an object key"};
        if (!url.key.empty())
            throw usage_error{"--key lists one object's uploads: give oss://BUCKET without a "
                              "PREFIX"};
        if (a.delimiter)
            throw usage_error{"--key and --delimiter exclude each other"};
        auto uploads =
            ossmp::list_uploads_of_object(prog.client(), url.bucket, *a.key, limits.page_size);
        co_await print_listing(uploads, "ListMultipartUploads", limits.max, out, print_upload);
        co_return exit_ok;
    }
    ossmp::list_uploads_options o;
    o.prefix = url.key;
    o.delimiter = a.delimiter.value_or("");
    o.page_size = limits.page_size;
    auto entries = ossmp::list_all_uploads(prog.client(), url.bucket, std::move(o));
    auto print = [&out, &print_upload](const ossmp::upload_entry& e) {
        if (const auto* u = std::get_if<ossmp::upload_info>(&e)) {
            print_upload(*u);
            return;
        }
        const std::string& prefix = std::get<ossmp::common_prefix>(e).prefix;
        if (out.json_mode())
            out.row(json{{"prefix", prefix}});
        else
            std::cout << terminal_safe(prefix) << "\t(common prefix)\n";
    };
    co_await print_listing(entries, "ListMultipartUploads", limits.max, out, print);
    co_return exit_ok;
}

/// `cleanup oss://B[/PREFIX] --older-than DURATION [--dry-run] [--parallel N]`: aborts the
/// uploads initiated before now - DURATION (a dry run only lists them). One row per upload
/// acted on as its action is known (action, key, upload id, initiated; a failure adds its
/// reason), then a summary. Exit 0 when every abort succeeded (an upload already gone counts
/// as success), 1 when one failed or the listing did, 130 when interrupted (the aborts in
/// flight are cancelled; the summary says what was done).
inline asio::awaitable<int> cleanup(program& prog, const command_args& a) {
    const auto url = parse_url(a.positional.at(0), false);
    if (!a.older_than)
        throw usage_error{"cleanup needs --older-than DURATION (e.g. 7d)"};
    const auto age = parse_duration(*a.older_than, "--older-than");
    const auto parallel = parse_number(a.parallel, "--parallel");
    if (parallel < 1 || parallel > 64)
        throw usage_error{"--parallel must be 1..64, got '" + a.parallel + "'"};
    ossmp::cleanup_options o;
    o.prefix = url.key;
    o.older_than = age;
    o.dry_run = a.dry_run;
    o.parallel = static_cast<unsigned>(parallel);
    o.page_size = limits_of(a).page_size;
    const printer& out = prog.out();
    o.on_upload = [&out](const ossmp::cleanup_entry& e) {
        json row{{"action", std::string(ossmp::to_string(e.action))},
                 {"key", e.key},
                 {"upload_id", e.upload_id},
                 {"initiated", e.initiated}};
        if (e.action == ossmp::cleanup_action::failed) {
            const auto& d = e.diag;
            if (out.json_mode()) {
                row["error"] = e.ec.message();
                if (d.http_status != 0) {
                    row["http_status"] = d.http_status;
                    row["code"] = d.code;
                    row["request_id"] = d.request_id;
                }
            } else {
                row["error"] =
                    d.http_status != 0 ? e.ec.message() + ": " + d.to_string() : e.ec.message();
            }
        }
        out.row(row);
        std::cout.flush();
    };
    auto [ec, r] = co_await ossmp::async_cleanup_uploads(prog.client(), url.bucket, std::move(o),
                                                         aex::as_tuple(asio::use_awaitable));

    const bool interrupted = ec == asio::error::operation_aborted;
    std::error_code first_abort_error;
    for (const auto& e : r.uploads)
        if (e.action == ossmp::cleanup_action::failed && !first_abort_error)
            first_abort_error = e.ec;
    const bool listing_failed = ec && !interrupted && ec != first_abort_error;
    const std::string cutoff = ossmp::format_iso8601_ms(r.cutoff);
    if (out.json_mode()) {
        out.row(json{{"summary", true},
                     {"dry_run", a.dry_run},
                     {"older_than", *a.older_than},
                     {"cutoff", cutoff},
                     {"listed", r.listed},
                     {"kept", r.kept},
                     {"would_abort", r.would_abort},
                     {"aborted", r.aborted},
                     {"gone", r.gone},
                     {"failed", r.failed},
                     {"complete", !interrupted && !listing_failed}});
    } else {
        std::string line = a.dry_run
                               ? "dry run: " + std::to_string(r.would_abort) + " would be aborted"
                               : std::to_string(r.aborted) + " aborted, " + std::to_string(r.gone) +
                                     " already gone, " + std::to_string(r.failed) + " failed";
        line += ", " + std::to_string(r.kept) + " kept (" + std::to_string(r.listed) +
                " listed; older than " + *a.older_than + " means initiated before " + cutoff + ")";
        if (interrupted)
            line += "; interrupted";
        else if (listing_failed)
            line += "; the listing failed";
        std::cout << line << "\n";
    }
    std::cout.flush();
    if (interrupted)
        throw op_failure{"cleanup", ec, {}};
    if (listing_failed)
        throw op_failure{"ListMultipartUploads", ec, r.list_diag};
    if (r.failed > 0) {
        if (!out.json_mode())
            std::cerr << "ossmp: " << r.failed << " abort" << (r.failed == 1 ? "" : "s")
                      << " failed (the rows marked failed)\n";
        co_return exit_failure;
    }
    co_return exit_ok;
}

} // namespace ossmp_cli
