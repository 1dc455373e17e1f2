// ossmp: raw OSS multipart and object commands, built only on ossmp's public headers.
//
//   ossmp [GLOBAL OPTIONS] COMMAND ...      (ossmp --help, ossmp COMMAND --help)
//
// Exit codes: 0 ok, 1 service, network or local I/O error, 2 usage error, 3 integrity error,
// 130 interrupted (SIGINT/SIGTERM; what was being written is removed). Credentials come from
// OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN and are never printed.
//
// Files: main.cpp (the command line and the run), commands.hpp (one coroutine per command),
// listing.hpp (the listings and cleanup), files.hpp (reading sources, writing downloads),
// output.hpp (text and JSON), errors.hpp.
#include "commands.hpp"
#include "errors.hpp"
#include "listing.hpp"
#include "output.hpp"

#include "ossmp/credentials.hpp"
#include "ossmp/endpoint.hpp"
#include "ossmp/error.hpp"
#include "ossmp/transport/asio_transport.hpp"
#include "ossmp/version.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <pthread.h>
#include <signal.h>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ossmp_cli {
namespace {

// --- Global options ----------------------------------------------------------------------------

struct globals {
    std::string endpoint;
    std::string region;
    bool path_style = false;
    std::string sign = "v4";
    std::vector<std::string> connect_to;
    std::string ca_file;
    bool insecure = false;
    bool json = false;
    std::string connect_timeout = "10";
    std::optional<std::string> timeout; // default: per command, see `request_timeout_for`
    std::string speed_limit = "1024";
    std::string speed_time = "30";
};

/// The per-request deadline when --timeout is not given: none for the commands that move an
/// object's bytes (their length depends on the object and the link; the low-speed rule bounds
/// a transfer that crawls), 5 minutes for the others.
std::chrono::milliseconds request_timeout_for(const CLI::App* command) {
    const auto& name = command->get_name();
    if (name == "put" || name == "get" || name == "put-part" || name == "cp")
        return std::chrono::milliseconds(0);
    return std::chrono::minutes(5);
}

std::uint16_t parse_port(std::string_view s) {
    const auto v = parse_number(s, "port");
    if (v == 0 || v > 65535)
        throw usage_error{"port out of range: " + std::string(s)};
    return static_cast<std::uint16_t>(v);
}

// HOST:ADDR:PORT (curl's HOST:PORT:ADDR:PORT is accepted too). ADDR may be [v6].
ossmp::connect_to_rule parse_connect_to(std::string_view s) {
    std::vector<std::string> parts;
    std::string cur;
    bool in_brackets = false;
    for (char c : s) {
        if (c == '[')
            in_brackets = true;
        else if (c == ']')
            in_brackets = false;
        if (c == ':' && !in_brackets) {
            parts.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    parts.push_back(cur);
    auto strip = [](std::string a) {
        if (a.size() >= 2 && a.front() == '[' && a.back() == ']')
            a = a.substr(1, a.size() - 2);
        return a;
    };
    ossmp::connect_to_rule r;
    if (parts.size() == 3) {
        r.host = parts[0];
        r.address = strip(parts[1]);
        r.new_port = parts[2].empty() ? 0 : parse_port(parts[2]);
    } else if (parts.size() == 4) {
        r.host = parts[0];
        r.port = parts[1].empty() ? 0 : parse_port(parts[1]);
        r.address = strip(parts[2]);
        r.new_port = parts[3].empty() ? 0 : parse_port(parts[3]);
    } else {
        throw usage_error{"--connect-to needs HOST:ADDR:PORT, got '" + std::string(s) + "'"};
    }
    return r;
}

/// Seconds as a duration: a non-negative decimal ("10", "0.5"), at most a day.
std::chrono::milliseconds parse_seconds(std::string_view s, std::string_view what) {
    double v = -1;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !std::isfinite(v) || v < 0 ||
        v > 86400)
        throw usage_error{std::string(what) + " takes seconds (0..86400), got '" + std::string(s) +
                          "'"};
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(v * 1000)));
}

// --- Reporting ---------------------------------------------------------------------------------

bool is_integrity_error(const std::error_code& ec) {
    return ec == ossmp::errc::crc_mismatch || ec == ossmp::errc::md5_mismatch ||
           ec == ossmp::errc::size_mismatch || ec == ossmp::service_errc::invalid_digest;
}

// Validation and configuration errors of the library are usage errors.
bool is_usage_error(const std::error_code& ec) {
    return ec.category() == ossmp::errc_category() && ec.value() < 100;
}

/// argv as a shell would need it typed again (single quotes where needed).
std::string shell_quoted(int argc, char** argv) {
    std::string line;
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i)
            line += ' ';
        const bool plain = !arg.empty() && arg.find_first_not_of(
                                               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                                               "XYZ0123456789-_./:=@%+,") == std::string_view::npos;
        if (plain) {
            line += arg;
            continue;
        }
        line += '\'';
        for (char c : arg) {
            if (c == '\'')
                line += "'\\''";
            else
                line += c;
        }
        line += '\'';
    }
    return line;
}

int report(const printer& out, const op_failure& f, bool interrupted) {
    const int code = interrupted                ? exit_interrupted
                     : is_integrity_error(f.ec) ? exit_integrity
                     : is_usage_error(f.ec)     ? exit_usage
                                                : exit_failure;
    std::string hint;
    if (interrupted)
        hint = "interrupted by a signal";
    else if (f.ec == ossmp::errc::missing_credentials)
        hint = "set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET";
    else if (f.ec == ossmp::errc::missing_region)
        hint = "give --region or set OSS_REGION";
    else if (f.ec == ossmp::errc::checkpoint_mismatch || f.ec == ossmp::errc::checkpoint_corrupt)
        hint = "--fresh starts over, replacing the checkpoint and aborting its upload";
    const auto& d = f.diag;
    // A redirect (OSS answers 301 PermanentRedirect when the bucket is in another region):
    // say where to, from the Location header or the error's <Endpoint>.
    std::string redirect;
    if (d.http_status >= 300 && d.http_status < 400) {
        if (!d.location.empty())
            redirect = "the server redirects to " + d.location;
        else if (!d.field("Endpoint").empty())
            redirect = "the bucket is served by endpoint " + std::string(d.field("Endpoint"));
        else
            redirect = "the server answered with a redirect but named no Location";
        redirect += "; ossmp does not follow redirects: use that endpoint";
    }
    if (out.json_mode()) {
        json r{
            {"error", f.ec.message()}, {"operation", f.what}, {"category", f.ec.category().name()}};
        if (d.http_status != 0) {
            r["http_status"] = d.http_status;
            r["code"] = d.code;
            r["message"] = d.message;
            r["request_id"] = d.request_id;
            r["ec"] = d.ec;
            if (!d.location.empty())
                r["location"] = d.location;
        } else if (!d.message.empty())
            r["message"] = d.message;
        if (!redirect.empty())
            r["redirect"] = redirect;
        if (!hint.empty())
            r["hint"] = hint;
        r["exit_code"] = code;
        std::cerr << json_line(r);
        return code;
    }
    // Cancelled by the signal: nothing failed, say what happened (not "cancelled failed:
    // Operation aborted").
    if (interrupted && f.ec == asio::error::operation_aborted) {
        std::cerr << "ossmp: " << f.what << ": " << hint << "\n";
        return code;
    }
    std::string line = "ossmp: " + f.what + " failed: " + describe_failure(f.ec, d);
    if (!redirect.empty())
        line += " (" + terminal_safe(redirect) + ")";
    if (!hint.empty())
        line += " (" + hint + ")";
    std::cerr << line << "\n";
    return code;
}

int report_message(const printer& out, std::string_view category, const std::string& message,
                   int code) {
    if (out.json_mode())
        std::cerr << json_line(
            json{{"error", message}, {"category", category}, {"exit_code", code}});
    else
        std::cerr << "ossmp: " << message << "\n";
    return code;
}

// --- The command line --------------------------------------------------------------------------

constexpr std::string_view footer =
    "Credentials: $OSS_ACCESS_KEY_ID, $OSS_ACCESS_KEY_SECRET, $OSS_SESSION_TOKEN (never "
    "printed).\n"
    "Exit codes: 0 ok, 1 service, network or local error, 2 usage error, 3 integrity error\n"
    "(CRC-64 or size mismatch), 130 interrupted.";

/// A command: a member of `program` or a free function taking it (listing.hpp).
using handler_fn = std::function<asio::awaitable<int>(program&, const command_args&)>;

struct command_def {
    CLI::App* app;
    handler_fn fn;
    std::shared_ptr<std::vector<std::string>> positional; // one slot per positional
};

/// Builds the CLI11 application: global options into `g`, command arguments into `a`.
std::vector<command_def> define(CLI::App& app, globals& g, command_args& a) {
    app.description("ossmp: Alibaba Cloud OSS multipart and object commands");
    app.footer(std::string(footer));
    app.require_subcommand(1);
    app.get_formatter()->column_width(34);
    app.option_defaults()->always_capture_default(false);
    app.add_option("--endpoint", g.endpoint,
                   "OSS endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com")
        ->envname("OSS_ENDPOINT")
        ->type_name("URL");
    app.add_option("--region", g.region, "region for V4 signing (default: from the endpoint)")
        ->envname("OSS_REGION")
        ->type_name("R");
    app.add_flag("--path-style", g.path_style,
                 "address buckets as /BUCKET/KEY (default: virtual-hosted)");
    app.add_option("--sign", g.sign, "signature version: v4 (default) or v1")->type_name("v4|v1");
    app.add_option("--connect-to", g.connect_to,
                   "connect to ADDR:PORT for HOST (empty HOST: any); repeatable")
        ->type_name("HOST:ADDR:PORT")
        ->expected(1)
        ->take_all();
    app.add_option("--ca-file", g.ca_file, "also trust the CA certificates in this PEM file")
        ->type_name("FILE");
    app.add_flag("--insecure", g.insecure, "do not verify TLS certificates (tests only; warns)");
    app.add_flag("--json", g.json, "print one JSON object per output line");
    app.add_option("--connect-timeout", g.connect_timeout,
                   "seconds for resolve + connect + TLS handshake (default 10; 0 = none)")
        ->type_name("S");
    app.add_option("--timeout", g.timeout,
                   "seconds one request may take in all (default: 300, none for cp, put, "
                   "put-part and get; 0 = none)")
        ->type_name("S");
    app.add_option("--speed-limit", g.speed_limit,
                   "abort a request that moves fewer than B bytes/s for --speed-time seconds "
                   "(default 1024; 0 = off)")
        ->type_name("B");
    app.add_option("--speed-time", g.speed_time, "the window of --speed-limit (default 30)")
        ->type_name("S");

    std::vector<command_def> out;
    struct arg {
        const char* name;
        const char* help;
    };
    // `summary` is the line in the parent's list; `details` opens the command's own --help.
    auto command = [&](CLI::App* parent, std::string name, std::string summary, std::string details,
                       handler_fn fn, std::vector<arg> positionals) {
        auto* c = parent->add_subcommand(std::move(name), std::move(summary));
        c->footer(details + "\n\n" + std::string(footer));
        c->fallthrough(); // global options may also follow the command
        auto slots = std::make_shared<std::vector<std::string>>(positionals.size());
        for (std::size_t i = 0; i < positionals.size(); ++i)
            c->add_option(positionals[i].name, (*slots)[i], positionals[i].help)
                ->required()
                ->type_name("");
        out.push_back({c, fn, std::move(slots)});
        return c;
    };
    const arg url{"URL", "oss://BUCKET/KEY"};
    const arg upload_id{"UPLOAD_ID", "the id `mpu init` printed"};
    auto* mpu = app.add_subcommand("mpu", "raw multipart upload calls (ossmp mpu --help)");
    mpu->require_subcommand(1);
    mpu->fallthrough();

    auto* init = command(mpu, "init", "start a multipart upload, print its upload id",
                         "Starts a multipart upload of oss://BUCKET/KEY and prints its upload id.",
                         &program::mpu_init, {url});
    init->add_option("--header", a.headers,
                     "add a request header (Content-Type, x-oss-meta-*, x-oss-storage-class, ...)")
        ->type_name("NAME:VALUE")
        ->expected(1)
        ->take_all();
    auto* put_part = command(
        mpu, "put-part", "upload one part from a file, print `ETAG CRC64`",
        "Uploads bytes O..O+L-1 of FILE (default: all of it) as part N and prints `ETAG "
        "CRC64`.\nFILE is a regular file or a pipe (- is stdin); the bytes sent are the "
        "bytes read, to the\nend of the file. The CRC-64 the server returns is checked "
        "against them (exit 3 on a\nmismatch); without one, the line says `(local, not "
        "verified by the server)`.",
        &program::mpu_put_part,
        {url, upload_id, {"N", "part number, 1..10000"}, {"FILE", "the source, - for stdin"}});
    put_part->add_option("--offset", a.offset, "first byte of FILE to send")->type_name("O");
    put_part->add_option("--length", a.length, "number of bytes to send")->type_name("L");
    put_part->add_flag("--md5", a.md5, "also send Content-MD5");
    auto* complete = command(
        mpu, "complete", "complete an upload from a part list or --all",
        "Completes the upload from the listed parts (any order) or, with --all, from every "
        "uploaded\npart. The parts are listed first (ListParts, every page): the object's CRC-64 "
        "must equal\ntheir combined CRC-64, and without a CRC-64 in the reply HeadObject's size "
        "and CRC-64\nmust match them (exit 3 on a mismatch). What could not be checked is said "
        "(verified: false).",
        &program::mpu_complete, {url, upload_id});
    complete->add_option("--part", a.parts, "a part and the ETag UploadPart returned; repeatable")
        ->type_name("N:ETAG")
        ->expected(1)
        ->take_all();
    complete->add_flag("--all", a.all, "complete with every uploaded part (x-oss-complete-all)");
    complete->add_option("--acl", a.acl, "object ACL: private, public-read, ...")->type_name("ACL");
    command(mpu, "abort", "abort an upload and delete its parts",
            "Aborts the upload and deletes its parts.", &program::mpu_abort, {url, upload_id});
    auto listing_options = [&](CLI::App* c) {
        c->add_option("--max", a.max, "print at most N entries (no further page is requested)")
            ->type_name("N");
        c->add_option("--page-size", a.page_size,
                      "entries per request, 1..1000 (default 1000, or --max when below it)")
            ->type_name("N");
    };
    auto* list_parts = command(
        mpu, "list-parts", "list an upload's parts (every page)",
        "Lists the upload's parts, every page of them, printing each page as it arrives: "
        "number,\nsize, ETag, CRC-64, last modified (--json: one object per part). --max N stops "
        "after N\nparts without requesting more.",
        &mpu_list_parts, {url, upload_id});
    listing_options(list_parts);
    auto* list_uploads = command(
        mpu, "list-uploads", "list in-progress uploads (every page)",
        "Lists the bucket's in-progress uploads whose key starts with PREFIX, every page of "
        "them,\nprinting each page as it arrives: key, upload id, initiated (--json: one object "
        "per\nupload). --key K lists only the uploads of the object K. --delimiter D rolls the "
        "keys\nwith D after the prefix up into common prefixes, listed in key order as rows of "
        "their\nown: `PREFIX<tab>(common prefix)` (--json: {\"prefix\": ...}); each counts as "
        "one entry\nfor --max.",
        &mpu_list_uploads, {{"URL", "oss://BUCKET[/PREFIX]"}});
    listing_options(list_uploads);
    list_uploads->add_option("--key", a.key, "only the uploads of this object key")->type_name("K");
    list_uploads->add_option("--delimiter", a.delimiter, "roll keys up into common prefixes at D")
        ->type_name("D");
    auto* cp = command(
        &app, "cp", "upload a file (multipart, parallel, verified) or download an object",
        "cp FILE oss://BUCKET/KEY uploads a regular file as one object: one PutObject up to one "
        "part,\nelse a multipart upload with --parallel parts in flight, each streamed from the "
        "file and\nretried on network errors, and the object's CRC-64 checked against its parts' "
        "(exit 3 on a\nmismatch). A file's upload keeps a checkpoint (in $XDG_STATE_HOME/ossmp or\n"
        "~/.local/state/ossmp): on failure or Ctrl-C (exit 130) the multipart upload is kept, "
        "and\nthe same command resumes it, sending only the parts the server does not hold "
        "with the\nsame CRC-64 (--fresh starts over; with --no-checkpoint a failed upload is "
        "aborted unless\n--keep-on-failure). A progress bar goes to stderr when it is a "
        "terminal.\n"
        "cp - oss://BUCKET/KEY uploads stdin (a pipe: parts read whole into --parallel + 1 "
        "buffers;\nparts grow after 8,192 of them, or after --expected-size; without it a stream "
        "can\nreach 5.3 TiB at --part-size 8M).\n"
        "cp oss://BUCKET/KEY FILE downloads, as `ossmp get`.\n"
        "cp -r DIR oss://BUCKET/PREFIX/ uploads every regular file under DIR as "
        "PREFIX/RELATIVE/PATH,\n--jobs files at once under one --memory-budget (and one "
        "--rate-limit), each as cp uploads a\nfile (resumable the same way); symbolic links are "
        "skipped unless --follow-symlinks, pipes,\nsockets and devices always. One line per file, "
        "a summary; exit 1 if any file failed.",
        &program::cp,
        {{"SRC", "FILE, DIR (-r), - (stdin) or oss://BUCKET/KEY"},
         {"DST", "oss://BUCKET/KEY, oss://BUCKET/PREFIX/ (-r) or FILE"}});
    cp->add_option("--part-size", a.part_size,
                   "preferred part size, 100K..5G (default 8M; raised to fit 10,000 parts)")
        ->type_name("SIZE");
    cp->add_option("--expected-size", a.expected_size,
                   "for stdin: the size it is expected to have (parts are sized for it)")
        ->type_name("SIZE");
    cp->add_option("--parallel", a.parallel, "parts in flight, 1..64 (default 4)")->type_name("N");
    cp->add_flag("--md5", a.md5, "also send each part's Content-MD5");
    cp->add_flag("--complete-all", a.all,
                 "complete with x-oss-complete-all instead of a part list");
    cp->add_flag("--keep-on-failure", a.keep_on_failure,
                 "on failure keep the multipart upload (and its parts) instead of aborting it");
    cp->add_option("--checkpoint", a.checkpoint,
                   "keep the upload's checkpoint in FILE (resumed when it is there)")
        ->type_name("FILE");
    cp->add_flag("--no-checkpoint", a.no_checkpoint,
                 "keep no checkpoint (a failed upload is aborted unless --keep-on-failure)");
    cp->add_option("--rate-limit", a.rate_limit,
                   "send at most this many bytes per second (K, M, G suffixes; e.g. 32M/s)")
        ->type_name("RATE");
    cp->add_option("--checkpoint-every", a.checkpoint_every,
                   "write the checkpoint after every N parts at least (default 64; and every "
                   "second)")
        ->type_name("N");
    cp->add_flag("--fresh", a.fresh,
                 "do not resume: replace the checkpoint and abort the upload it records");
    cp->add_option("--header", a.headers,
                   "add a header to the object (Content-Type, x-oss-meta-*, ...); repeatable")
        ->type_name("NAME:VALUE")
        ->expected(1)
        ->take_all();
    cp->add_flag("-r,--recursive", a.recursive,
                 "upload every regular file under the directory SRC to oss://BUCKET/PREFIX/");
    cp->add_option("--jobs", a.jobs, "with -r: files uploaded at once, 1..64 (default 4)")
        ->type_name("N");
    cp->add_option("--memory-budget", a.memory_budget,
                   "with -r: the part memory of all files at once (default 256M)")
        ->type_name("SIZE");
    cp->add_flag("--follow-symlinks", a.follow_symlinks,
                 "with -r: follow symbolic links (default: skip them)");
    cp->add_flag("--progress", a.progress, "show progress even when stderr is not a terminal");
    cp->add_flag("--no-progress", a.no_progress, "never show progress");
    auto* cleanup_cmd = command(
        &app, "cleanup", "abort in-progress uploads older than a duration",
        "Aborts the bucket's in-progress uploads (whose key starts with PREFIX) initiated more "
        "than\nDURATION ago (by the server's clock as the client learnt it), --parallel at once, "
        "while the\nlisting goes on; --dry-run only lists them. One line per upload acted on: "
        "action\n(aborted; gone: completed or aborted by someone else meanwhile; failed; "
        "would_abort),\nkey, upload id, initiated (a failure adds its reason); then a summary "
        "(--json: one\nobject per upload with \"action\", then {\"summary\": true, ...}). Exit 0 "
        "when every abort\nsucceeded (gone counts as success), 1 when one failed; Ctrl-C stops "
        "it (exit 130).",
        &cleanup, {{"URL", "oss://BUCKET[/PREFIX]"}});
    cleanup_cmd
        ->add_option("--older-than", a.older_than,
                     "abort uploads initiated longer ago than this: digits and one unit s, m, h "
                     "or d (90s, 90m, 24h, 7d)")
        ->type_name("DURATION")
        ->required();
    cleanup_cmd->add_flag("--dry-run", a.dry_run, "list what would be aborted, abort nothing");
    cleanup_cmd->add_option("--parallel", a.parallel, "aborts at once, 1..64 (default 4)")
        ->type_name("N");
    cleanup_cmd->add_option("--page-size", a.page_size, "uploads per listing request, 1..1000")
        ->type_name("N");
    command(&app, "put", "upload a file in one request, print `ETAG CRC64`",
            "Uploads FILE (a regular file or a pipe, - for stdin; at most 5 GiB) with one "
            "PutObject and\nprints `ETAG CRC64`. The bytes sent are the bytes read, to the end "
            "of the file; devices and\ndirectories are refused. The CRC-64 is checked (exit 3 "
            "on a mismatch).",
            &program::put, {{"FILE", "the source, - for stdin"}, url});
    command(&app, "get", "download an object to a file or stdout",
            "Downloads the object to FILE, or to stdout with -. FILE is written through a new "
            "temporary\nfile in its directory (created exclusively, under an unpredictable name) "
            "and replaced only\nwhen the whole object arrived and its CRC-64 matched (exit 3 on "
            "a mismatch); on any\nfailure or interruption FILE is left as it was. The size "
            "HeadObject reports bounds the body\n(a body of another size is an integrity error, "
            "exit 3).",
            &program::get, {url, {"FILE", "the destination, - for stdout"}});
    command(&app, "stat", "show an object's metadata",
            "Prints the object's size, ETag, CRC-64, type, dates and user metadata.",
            &program::stat, {url});
    command(&app, "rm", "delete an object", "Deletes the object.", &program::rm, {url});
    return out;
}

int run(int argc, char** argv) {
    globals g;
    command_args a;
    CLI::App app{"", "ossmp"};
    app.set_version_flag("--version", "ossmp " + std::string(ossmp::version_string));
    const auto commands = define(app, g, a);
    // Known before parsing, so that even a usage error is reported as JSON.
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--json")
            g.json = true;
    printer out(g.json);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::string where = "ossmp";
        for (const CLI::App* c = &app; c && !c->get_subcommands().empty();) {
            c = c->get_subcommands().front();
            where += " " + c->get_name();
        }
        return report_message(out, "usage", std::string(e.what()) + " (see `" + where + " --help`)",
                              exit_usage);
    }

    const command_def* chosen = nullptr;
    for (const auto& c : commands)
        if (c.app->parsed())
            chosen = &c;
    try {
        if (!chosen)
            throw usage_error{"missing command (see ossmp --help)"};
        a.positional = *chosen->positional;
        // Configuration.
        if (g.endpoint.empty())
            throw usage_error{"no endpoint: give --endpoint URL or set OSS_ENDPOINT"};
        ossmp::endpoint ep;
        if (ossmp::parse_endpoint(g.endpoint, ep))
            throw usage_error{"invalid endpoint '" + g.endpoint + "'"};
        if (g.sign != "v4" && g.sign != "V4" && g.sign != "v1" && g.sign != "V1")
            throw usage_error{"--sign takes v4 or v1, got '" + g.sign + "'"};
        ossmp::asio_transport_options topt;
        topt.tls = ep.secure();
        topt.default_port = ep.port;
        topt.ca_file = g.ca_file;
        topt.insecure_skip_verify = g.insecure;
        for (const auto& rule : g.connect_to)
            topt.connect_to.push_back(parse_connect_to(rule));
        topt.connect_timeout = parse_seconds(g.connect_timeout, "--connect-timeout");
        topt.request_timeout =
            g.timeout ? parse_seconds(*g.timeout, "--timeout") : request_timeout_for(chosen->app);
        topt.low_speed_limit = parse_number(g.speed_limit, "--speed-limit");
        topt.low_speed_time = parse_seconds(g.speed_time, "--speed-time");
        if (topt.low_speed_limit == 0)
            topt.low_speed_time = std::chrono::milliseconds(0);
        if (g.insecure)
            out.warn("--insecure: TLS certificates and host names are NOT verified; anyone on "
                     "the path can read and change this traffic");

        asio::io_context ctx(1);
        std::optional<ossmp::asio_transport> transport;
        try {
            transport.emplace(ctx, topt);
        } catch (const std::system_error& e) {
            throw usage_error{"--ca-file " + g.ca_file + ": " + e.what()};
        }
        ossmp::client_options copt;
        copt.endpoint = g.endpoint;
        copt.region = g.region;
        copt.style =
            g.path_style ? ossmp::addressing_style::path : ossmp::addressing_style::virtual_hosted;
        copt.signature = (g.sign == "v1" || g.sign == "V1") ? ossmp::signature_version::v1
                                                            : ossmp::signature_version::v4;
        client_type client(*transport, copt, ossmp::environment_credentials_provider{});
        program prog(client, out);
        prog.set_command_line(shell_quoted(argc, argv));

        // SIGINT / SIGTERM cancel the running operation (terminal cancellation): the command
        // unwinds, removing what it was writing, and the process exits 130.
        asio::signal_set signals(ctx, SIGINT, SIGTERM);
        asio::cancellation_signal cancel;
        bool interrupted = false;
        signals.async_wait([&](std::error_code ec, int) {
            if (ec)
                return;
            interrupted = true;
            cancel.emit(asio::cancellation_type::terminal);
        });

        int code = exit_failure;
        std::exception_ptr failure;
        asio::co_spawn(
            ctx, chosen->fn(prog, a),
            asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, int c) {
                failure = e;
                code = c;
                // The command is over and its outcome decided: a Ctrl-C from now on must not
                // turn that outcome into death by SIGINT once `signals` is destroyed (which
                // restores the default action). Blocked, a late signal stays pending until the
                // process exits. Asio's pool threads run with every signal blocked, so this
                // thread is the only one a signal can reach.
                sigset_t late;
                sigemptyset(&late);
                sigaddset(&late, SIGINT);
                sigaddset(&late, SIGTERM);
                ::pthread_sigmask(SIG_BLOCK, &late, nullptr);
                std::error_code ignored;
                signals.cancel(ignored);
            }));
        ctx.run();
        std::cout.flush();
        if (failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const op_failure& f) {
                return report(out, f, interrupted);
            }
        }
        return code;
    } catch (const usage_error& e) {
        return report_message(out, "usage", e.message, exit_usage);
    } catch (const cli_error& e) {
        return report_message(out, "local", e.message, exit_failure);
    } catch (const integrity_error& e) {
        return report_message(out, "integrity", e.what + " failed: " + e.message, exit_integrity);
    }
}

} // namespace
} // namespace ossmp_cli

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return ossmp_cli::run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "ossmp: " << e.what() << "\n";
        return ossmp_cli::exit_failure;
    }
}
