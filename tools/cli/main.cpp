// ossmp: raw OSS multipart and object commands, built only on ossmp's public headers.
//
//   ossmp [GLOBAL OPTIONS] COMMAND ...      (ossmp --help, ossmp COMMAND --help)
//
// Exit codes: 0 ok, 1 service or network error, 2 usage error, 3 integrity error.
// Credentials come from OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN and are
// never printed.
#include "ossmp/client.hpp" // also brings Asio (io_context, co_spawn, awaitable)
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
#include "ossmp/transport/asio_transport.hpp"
#include "ossmp/validate.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace {

// --- Exit codes --------------------------------------------------------------------------------

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;   // service or network error
constexpr int exit_usage = 2;     // bad command line or configuration
constexpr int exit_integrity = 3; // CRC-64 / MD5 mismatch

struct usage_error {
    std::string message;
};

// --- Output --------------------------------------------------------------------------------------

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    for (unsigned char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out;
}

// One output record: text mode prints "name: value" lines (or a tab-separated row), JSON mode
// one object per line. Values are strings or numbers.
class record {
public:
    record& str(std::string_view name, std::string_view value) {
        fields_.push_back({std::string(name), std::string(value), true});
        return *this;
    }
    record& num(std::string_view name, std::uint64_t value) {
        fields_.push_back({std::string(name), std::to_string(value), false});
        return *this;
    }
    record& boolean(std::string_view name, bool value) {
        fields_.push_back({std::string(name), value ? "true" : "false", false});
        return *this;
    }

    std::string json() const {
        std::string out = "{";
        for (std::size_t i = 0; i < fields_.size(); ++i) {
            if (i)
                out += ',';
            out += '"' + json_escape(fields_[i].name) + "\":";
            out += fields_[i].quoted ? '"' + json_escape(fields_[i].value) + '"' : fields_[i].value;
        }
        return out + "}";
    }
    std::string lines() const {
        std::string out;
        for (const auto& f : fields_)
            out += f.name + ": " + f.value + "\n";
        return out;
    }
    std::string row() const {
        std::string out;
        for (std::size_t i = 0; i < fields_.size(); ++i) {
            if (i)
                out += '\t';
            out += fields_[i].value;
        }
        return out + "\n";
    }

private:
    struct field {
        std::string name;
        std::string value;
        bool quoted;
    };
    std::vector<field> fields_;
};

// --- Global options --------------------------------------------------------------------------

struct globals {
    std::string endpoint;
    std::string region;
    bool path_style = false;
    ossmp::signature_version sign = ossmp::signature_version::v4;
    std::vector<ossmp::connect_to_rule> connect_to;
    std::string ca_file;
    bool insecure = false;
    bool json = false;
};

constexpr std::string_view main_usage =
    "usage: ossmp [GLOBAL OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  mpu init oss://B/K [--header NAME:VALUE]...       start a multipart upload, print its id\n"
    "  mpu put-part oss://B/K UPLOAD_ID N FILE [--offset O] [--length L] [--md5]\n"
    "                                                    upload part N, print `ETAG CRC64`\n"
    "  mpu complete oss://B/K UPLOAD_ID (--part N:ETAG... | --all) [--acl ACL]\n"
    "  mpu abort oss://B/K UPLOAD_ID\n"
    "  mpu list-parts oss://B/K UPLOAD_ID                one page of parts\n"
    "  mpu list-uploads oss://B[/PREFIX]                 one page of in-progress uploads\n"
    "  put FILE oss://B/K                                upload a file in one request\n"
    "  get oss://B/K FILE|-                              download to a file or stdout\n"
    "  stat oss://B/K                                    show an object's metadata\n"
    "  rm oss://B/K                                      delete an object\n"
    "\n"
    "Global options (before the command):\n"
    "  --endpoint URL          OSS endpoint (else $OSS_ENDPOINT), e.g.\n"
    "                          https://oss-cn-hangzhou.aliyuncs.com\n"
    "  --region R              region for V4 signing (else $OSS_REGION, else from the endpoint)\n"
    "  --path-style            address buckets as /BUCKET/KEY (default: virtual-hosted)\n"
    "  --sign v4|v1            signature version (default v4)\n"
    "  --connect-to HOST:ADDR:PORT\n"
    "                          connect to ADDR:PORT for HOST (empty HOST: any); repeatable\n"
    "  --ca-file F             also trust the CA certificates in PEM file F\n"
    "  --insecure              do not verify TLS certificates (tests only)\n"
    "  --json                  print one JSON object per output line\n"
    "  --help                  this text; `ossmp COMMAND --help` for a command\n"
    "\n"
    "Credentials: $OSS_ACCESS_KEY_ID, $OSS_ACCESS_KEY_SECRET, $OSS_SESSION_TOKEN (never printed).\n"
    "Exit codes: 0 ok, 1 service or network error, 2 usage error, 3 integrity error.\n";

const std::map<std::string, std::string_view, std::less<>> command_usage = {
    {"mpu init", "usage: ossmp mpu init oss://BUCKET/KEY [--header NAME:VALUE]...\n"
                 "Starts a multipart upload and prints its upload id. --header adds a header to\n"
                 "the request (Content-Type, x-oss-meta-*, x-oss-storage-class, ...).\n"},
    {"mpu put-part",
     "usage: ossmp mpu put-part oss://BUCKET/KEY UPLOAD_ID N FILE [--offset O] [--length L] "
     "[--md5]\n"
     "Uploads bytes O..O+L-1 of FILE (default: from 0 to the end) as part N (1..10000) and\n"
     "prints `ETAG CRC64` (one line). The CRC-64 returned by OSS is checked against the\n"
     "bytes sent (exit 3 on mismatch). --md5 also sends Content-MD5.\n"},
    {"mpu complete",
     "usage: ossmp mpu complete oss://BUCKET/KEY UPLOAD_ID (--part N:ETAG... | --all) "
     "[--acl ACL]\n"
     "Completes the upload from the listed parts (any order) or, with --all, from every part\n"
     "uploaded. --acl sets the object ACL (private, public-read, ...).\n"},
    {"mpu abort", "usage: ossmp mpu abort oss://BUCKET/KEY UPLOAD_ID\n"
                  "Aborts the upload and deletes its parts.\n"},
    {"mpu list-parts", "usage: ossmp mpu list-parts oss://BUCKET/KEY UPLOAD_ID\n"
                       "Lists one page (up to 1000) of the upload's parts: number, size, ETag,\n"
                       "CRC-64, last modified.\n"},
    {"mpu list-uploads", "usage: ossmp mpu list-uploads oss://BUCKET[/PREFIX]\n"
                         "Lists one page (up to 1000) of the bucket's in-progress uploads whose\n"
                         "key starts with PREFIX: key, upload id, initiated.\n"},
    {"put", "usage: ossmp put FILE oss://BUCKET/KEY\n"
            "Uploads FILE (at most 5 GiB) with one PutObject and prints `ETAG CRC64`;\n"
            "the CRC-64 is checked (exit 3 on mismatch).\n"},
    {"get", "usage: ossmp get oss://BUCKET/KEY FILE|-\n"
            "Downloads the object to FILE (written to FILE.ossmp-part, renamed when complete\n"
            "and verified) or to stdout with '-'. The CRC-64 is checked (exit 3 on mismatch).\n"},
    {"stat", "usage: ossmp stat oss://BUCKET/KEY\n"
             "Prints the object's size, ETag, CRC-64, type, dates and user metadata.\n"},
    {"rm", "usage: ossmp rm oss://BUCKET/KEY\nDeletes the object.\n"},
};

// --- Parsing helpers ---------------------------------------------------------------------------

struct object_url {
    std::string bucket;
    std::string key;
};

// oss://BUCKET/KEY (key required) or oss://BUCKET[/PREFIX] (key optional).
object_url parse_url(std::string_view s, bool key_required) {
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

std::uint64_t parse_number(std::string_view s, std::string_view what) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty())
        throw usage_error{std::string(what) + " must be a non-negative integer, got '" +
                          std::string(s) + "'"};
    return v;
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

// A command's arguments: positionals and options (each option's values in order).
struct command_args {
    std::vector<std::string> positional;
    std::map<std::string, std::vector<std::string>, std::less<>> options;
    bool help = false;

    bool has(std::string_view name) const { return options.find(name) != options.end(); }
    std::optional<std::string> single(std::string_view name) const {
        auto it = options.find(name);
        if (it == options.end())
            return std::nullopt;
        if (it->second.size() != 1)
            throw usage_error{std::string(name) + " given more than once"};
        return it->second.front();
    }
};

// `flags`: options without a value; `valued`: options with one value (repeatable).
command_args parse_command_args(std::span<char*> args, std::vector<std::string_view> flags,
                                std::vector<std::string_view> valued) {
    command_args out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (a == "--help" || a == "-h") {
            out.help = true;
            continue;
        }
        if (a.size() > 2 && a.substr(0, 2) == "--") {
            std::string name(a);
            std::optional<std::string> value;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name.resize(eq);
            }
            if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
                if (value)
                    throw usage_error{name + " takes no value"};
                out.options[name].push_back("");
            } else if (std::find(valued.begin(), valued.end(), name) != valued.end()) {
                if (!value) {
                    if (i + 1 >= args.size())
                        throw usage_error{name + " needs a value"};
                    value = args[++i];
                }
                out.options[name].push_back(*value);
            } else {
                throw usage_error{"unknown option " + name};
            }
            continue;
        }
        out.positional.emplace_back(a);
    }
    return out;
}

void expect_positionals(const command_args& a, std::size_t n) {
    if (a.positional.size() != n)
        throw usage_error{"expected " + std::to_string(n) + " argument" + (n == 1 ? "" : "s") +
                          ", got " + std::to_string(a.positional.size())};
}

// --- Files -----------------------------------------------------------------------------------

class file_descriptor {
public:
    explicit file_descriptor(int fd = -1) noexcept : fd_(fd) {}
    file_descriptor(const file_descriptor&) = delete;
    file_descriptor& operator=(const file_descriptor&) = delete;
    ~file_descriptor() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_;
};

// Reads `length` bytes at `offset` of `path` (length unset: to the end of the file).
std::string read_file_range(const std::string& path, std::uint64_t offset,
                            std::optional<std::uint64_t> length) {
    file_descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        throw usage_error{"cannot open " + path + ": " + std::strerror(errno)};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw usage_error{"cannot stat " + path + ": " + std::strerror(errno)};
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (offset > size)
        throw usage_error{"--offset " + std::to_string(offset) + " is past the end of " + path +
                          " (" + std::to_string(size) + " bytes)"};
    const std::uint64_t n = length ? *length : size - offset;
    if (n > size - offset)
        throw usage_error{"--offset + --length go past the end of " + path + " (" +
                          std::to_string(size) + " bytes)"};
    if (n > ossmp::max_part_size)
        throw usage_error{"at most 5 GiB can be sent in one request"};
    std::string data(static_cast<std::size_t>(n), '\0');
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t r = ::pread(fd.get(), data.data() + done, data.size() - done,
                                  static_cast<off_t>(offset + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            throw usage_error{"cannot read " + path + ": " +
                              (r < 0 ? std::strerror(errno) : "unexpected end of file")};
        done += static_cast<std::size_t>(r);
    }
    return data;
}

std::span<const std::byte> bytes_of(const std::string& s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// --- The program -------------------------------------------------------------------------------

using client_type =
    ossmp::basic_client<ossmp::asio_transport, ossmp::environment_credentials_provider>;
namespace aex = asio::experimental;

// Carries a failed operation's outcome up to main.
struct op_failure {
    std::string what; // the command step, e.g. "UploadPart"
    std::error_code ec;
    ossmp::diagnostics diag;
};

class program {
public:
    program(globals g, client_type& client) : g_(std::move(g)), client_(client) {}

    void print(const record& r, bool row = false) {
        std::cout << (g_.json ? r.json() + "\n" : (row ? r.row() : r.lines()));
    }

    static void check(std::string_view what, std::error_code ec, const ossmp::diagnostics& d) {
        if (ec)
            throw op_failure{std::string(what), ec, d};
    }

    asio::awaitable<int> mpu_init(const command_args& a) {
        expect_positionals(a, 1);
        auto url = parse_url(a.positional[0], true);
        ossmp::initiate_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        if (auto it = a.options.find("--header"); it != a.options.end()) {
            for (const auto& h : it->second) {
                const auto colon = h.find(':');
                if (colon == std::string::npos || colon == 0)
                    throw usage_error{"--header needs NAME:VALUE, got '" + h + "'"};
                std::string_view value = std::string_view(h).substr(colon + 1);
                while (!value.empty() && value.front() == ' ')
                    value.remove_prefix(1);
                p.extra_headers.add(h.substr(0, colon), value);
            }
        }
        ossmp::diagnostics d;
        auto [ec, r] = co_await ossmp::async_initiate_upload(client_, p, d,
                                                             aex::as_tuple(asio::use_awaitable));
        check("InitiateMultipartUpload", ec, d);
        if (g_.json)
            print(
                record().str("bucket", r.bucket).str("key", url.key).str("upload_id", r.upload_id));
        else
            std::cout << r.upload_id << "\n";
        co_return exit_ok;
    }

    asio::awaitable<int> mpu_put_part(const command_args& a) {
        expect_positionals(a, 4);
        auto url = parse_url(a.positional[0], true);
        const auto number = parse_number(a.positional[2], "part number N");
        if (number < 1 || number > ossmp::max_parts)
            throw usage_error{"part number must be 1..10000"};
        std::uint64_t offset = 0;
        if (auto o = a.single("--offset"))
            offset = parse_number(*o, "--offset");
        std::optional<std::uint64_t> length;
        if (auto l = a.single("--length"))
            length = parse_number(*l, "--length");
        const std::string data = read_file_range(a.positional[3], offset, length);
        ossmp::upload_part_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        p.upload_id = a.positional[1];
        p.part_number = static_cast<int>(number);
        p.data = bytes_of(data);
        ossmp::upload_part_options o;
        o.crc64 = ossmp::crc64(data);
        o.content_md5 = a.has("--md5");
        ossmp::diagnostics d;
        auto [ec, r] =
            co_await ossmp::async_upload_part(client_, p, o, d, aex::as_tuple(asio::use_awaitable));
        check("UploadPart", ec, d);
        // Text: one line `ETAG CRC64` (scripts take the ETag with `awk '{print $1}'`).
        if (g_.json)
            print(record()
                      .num("part_number", number)
                      .str("etag", r.etag)
                      .str("crc64", ossmp::crc64_to_string(*o.crc64))
                      .num("size", data.size()));
        else
            std::cout << r.etag << ' ' << ossmp::crc64_to_string(*o.crc64) << "\n";
        co_return exit_ok;
    }

    asio::awaitable<int> mpu_complete(const command_args& a) {
        expect_positionals(a, 2);
        auto url = parse_url(a.positional[0], true);
        ossmp::complete_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        p.upload_id = a.positional[1];
        p.complete_all = a.has("--all");
        if (auto it = a.options.find("--part"); it != a.options.end()) {
            if (p.complete_all)
                throw usage_error{"--part and --all exclude each other"};
            for (const auto& s : it->second) {
                const auto colon = s.find(':');
                if (colon == std::string::npos)
                    throw usage_error{"--part needs N:ETAG, got '" + s + "'"};
                const auto n = parse_number(std::string_view(s).substr(0, colon), "--part N");
                if (n > ossmp::max_parts)
                    throw usage_error{"part number must be 1..10000"};
                p.parts.push_back({static_cast<int>(n), s.substr(colon + 1)});
            }
        } else if (!p.complete_all) {
            throw usage_error{"give the parts (--part N:ETAG...) or --all"};
        }
        if (auto acl = a.single("--acl"))
            p.object_acl = *acl;
        ossmp::diagnostics d;
        auto [ec, r] = co_await ossmp::async_complete_upload(client_, p, d,
                                                             aex::as_tuple(asio::use_awaitable));
        check("CompleteMultipartUpload", ec, d);
        record rec;
        rec.str("bucket", url.bucket).str("key", url.key).str("etag", r.etag);
        if (r.crc64)
            rec.str("crc64", ossmp::crc64_to_string(*r.crc64));
        if (!r.location.empty())
            rec.str("location", r.location);
        if (!r.version_id.empty())
            rec.str("version_id", r.version_id);
        print(rec);
        co_return exit_ok;
    }

    asio::awaitable<int> mpu_abort(const command_args& a) {
        expect_positionals(a, 2);
        auto url = parse_url(a.positional[0], true);
        ossmp::abort_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        p.upload_id = a.positional[1];
        ossmp::diagnostics d;
        auto [ec, r] =
            co_await ossmp::async_abort_upload(client_, p, d, aex::as_tuple(asio::use_awaitable));
        check("AbortMultipartUpload", ec, d);
        if (g_.json)
            print(record().str("upload_id", p.upload_id).boolean("aborted", true));
        co_return exit_ok;
    }

    asio::awaitable<int> mpu_list_parts(const command_args& a) {
        expect_positionals(a, 2);
        auto url = parse_url(a.positional[0], true);
        ossmp::list_parts_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        p.upload_id = a.positional[1];
        ossmp::diagnostics d;
        auto [ec, r] =
            co_await ossmp::async_list_parts(client_, p, d, aex::as_tuple(asio::use_awaitable));
        check("ListParts", ec, d);
        for (const auto& part : r.parts) {
            record rec;
            rec.num("part_number", static_cast<std::uint64_t>(part.part_number))
                .num("size", part.size)
                .str("etag", part.etag)
                .str("crc64", part.crc64 ? ossmp::crc64_to_string(*part.crc64) : "")
                .str("last_modified", part.last_modified);
            print(rec, true);
        }
        if (r.is_truncated)
            std::cerr << "ossmp: more parts follow (only the first page is listed)\n";
        co_return exit_ok;
    }

    asio::awaitable<int> mpu_list_uploads(const command_args& a) {
        expect_positionals(a, 1);
        auto url = parse_url(a.positional[0], false);
        ossmp::list_uploads_params p;
        p.bucket = url.bucket;
        p.prefix = url.key;
        ossmp::diagnostics d;
        auto [ec, r] =
            co_await ossmp::async_list_uploads(client_, p, d, aex::as_tuple(asio::use_awaitable));
        check("ListMultipartUploads", ec, d);
        for (const auto& u : r.uploads)
            print(record()
                      .str("key", u.key)
                      .str("upload_id", u.upload_id)
                      .str("initiated", u.initiated),
                  true);
        if (r.is_truncated)
            std::cerr << "ossmp: more uploads follow (only the first page is listed)\n";
        co_return exit_ok;
    }

    asio::awaitable<int> put(const command_args& a) {
        expect_positionals(a, 2);
        auto url = parse_url(a.positional[1], true);
        const std::string data = read_file_range(a.positional[0], 0, std::nullopt);
        ossmp::put_object_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        p.data = bytes_of(data);
        ossmp::put_object_options o;
        o.crc64 = ossmp::crc64(data);
        ossmp::diagnostics d;
        auto [ec, r] =
            co_await ossmp::async_put_object(client_, p, o, d, aex::as_tuple(asio::use_awaitable));
        check("PutObject", ec, d);
        if (g_.json)
            print(record()
                      .str("etag", r.etag)
                      .str("crc64", ossmp::crc64_to_string(*o.crc64))
                      .num("size", data.size()));
        else
            std::cout << r.etag << ' ' << ossmp::crc64_to_string(*o.crc64) << "\n";
        co_return exit_ok;
    }

    asio::awaitable<int> get(const command_args& a) {
        expect_positionals(a, 2);
        auto url = parse_url(a.positional[0], true);
        const std::string& target = a.positional[1];
        const bool to_stdout = target == "-";
        const std::string temp = target + ".ossmp-part";
        file_descriptor fd(
            to_stdout ? ::dup(STDOUT_FILENO)
                      : ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (fd.get() < 0)
            throw usage_error{"cannot open " + (to_stdout ? std::string("stdout") : temp) + ": " +
                              std::strerror(errno)};
        std::cout.flush();
        ossmp::get_object_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        const int out_fd = fd.get();
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
        if (!to_stdout) {
            if (!ec && ::fsync(out_fd) != 0)
                ec = std::error_code(errno, std::generic_category());
            ::close(fd.release());
            if (!ec && ::rename(temp.c_str(), target.c_str()) != 0)
                ec = std::error_code(errno, std::generic_category());
            if (ec)
                ::unlink(temp.c_str());
        }
        check("GetObject", ec, d);
        record rec;
        rec.num("size", r.bytes).str("crc64", ossmp::crc64_to_string(r.crc64));
        rec.boolean("crc_checked", r.crc_checked);
        if (to_stdout) {
            if (g_.json) // the object went to stdout: the summary goes to stderr
                std::cerr << rec.json() << "\n";
        } else {
            print(rec);
        }
        co_return exit_ok;
    }

    asio::awaitable<int> stat(const command_args& a) {
        expect_positionals(a, 1);
        auto url = parse_url(a.positional[0], true);
        ossmp::head_object_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        ossmp::diagnostics d;
        auto [ec, m] =
            co_await ossmp::async_head_object(client_, p, d, aex::as_tuple(asio::use_awaitable));
        check("HeadObject", ec, d);
        record rec;
        rec.str("bucket", url.bucket).str("key", url.key).num("size", m.size).str("etag", m.etag);
        rec.str("crc64", m.crc64 ? ossmp::crc64_to_string(*m.crc64) : "");
        rec.str("content_type", m.content_type).str("last_modified", m.last_modified);
        rec.str("object_type", m.object_type).str("storage_class", m.storage_class);
        if (!m.version_id.empty())
            rec.str("version_id", m.version_id);
        for (const auto& [name, value] : m.user_metadata)
            rec.str("x-oss-meta-" + name, value);
        print(rec);
        co_return exit_ok;
    }

    asio::awaitable<int> rm(const command_args& a) {
        expect_positionals(a, 1);
        auto url = parse_url(a.positional[0], true);
        ossmp::delete_object_params p;
        p.bucket = url.bucket;
        p.key = url.key;
        ossmp::diagnostics d;
        auto [ec, r] =
            co_await ossmp::async_delete_object(client_, p, d, aex::as_tuple(asio::use_awaitable));
        check("DeleteObject", ec, d);
        if (g_.json)
            print(record().str("bucket", url.bucket).str("key", url.key).boolean("deleted", true));
        co_return exit_ok;
    }

private:
    globals g_;
    client_type& client_;
};

bool is_integrity_error(const std::error_code& ec) {
    return ec == ossmp::errc::crc_mismatch || ec == ossmp::errc::md5_mismatch ||
           ec == ossmp::service_errc::invalid_digest;
}

// Validation and configuration errors of the library are usage errors.
bool is_usage_error(const std::error_code& ec) {
    return ec.category() == ossmp::errc_category() && ec.value() < 100;
}

int report(const globals& g, const op_failure& f) {
    const int code = is_integrity_error(f.ec) ? exit_integrity
                     : is_usage_error(f.ec)   ? exit_usage
                                              : exit_failure;
    std::string hint;
    if (f.ec == ossmp::errc::missing_credentials)
        hint = "set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET";
    else if (f.ec == ossmp::errc::missing_region)
        hint = "give --region or set OSS_REGION";
    if (g.json) {
        record r;
        r.str("error", f.ec.message())
            .str("operation", f.what)
            .str("category", f.ec.category().name());
        if (f.diag.http_status != 0) {
            r.num("http_status", f.diag.http_status).str("code", f.diag.code);
            r.str("message", f.diag.message).str("request_id", f.diag.request_id);
            r.str("ec", f.diag.ec);
        }
        if (!hint.empty())
            r.str("hint", hint);
        std::cerr << r.json() << "\n";
    } else {
        std::cerr << "ossmp: " << f.what << " failed: ";
        if (f.diag.http_status != 0 && f.ec.category() == ossmp::service_category()) {
            // Code (HTTP status): Message [RequestId=..., EC=...]
            std::cerr << f.diag.to_string();
            if (f.diag.request_id.empty())
                std::cerr << " [RequestId=]";
        } else {
            std::cerr << f.ec.message();
            if (f.diag.http_status != 0)
                std::cerr << " (HTTP " << f.diag.http_status
                          << (f.diag.request_id.empty() ? "" : ", RequestId=" + f.diag.request_id)
                          << ")";
        }
        if (!hint.empty())
            std::cerr << " (" << hint << ")";
        std::cerr << "\n";
    }
    return code;
}

int usage(const globals& g, std::string_view message, std::string_view text) {
    if (g.json)
        std::cerr << record().str("error", message).str("category", "usage").json() << "\n";
    else
        std::cerr << "ossmp: " << message << "\n" << text;
    return exit_usage;
}

int run(int argc, char** argv) {
    globals g;
    std::string_view current_usage = main_usage; // printed after a usage error
    std::span<char*> args(argv + 1, static_cast<std::size_t>(argc > 0 ? argc - 1 : 0));
    std::size_t i = 0;
    try {
        // Global options.
        for (; i < args.size(); ++i) {
            std::string_view a = args[i];
            if (a.size() < 2 || a.substr(0, 2) != "--")
                break;
            std::string name(a);
            std::optional<std::string> value;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name.resize(eq);
            }
            auto need = [&]() -> std::string {
                if (value)
                    return *value;
                if (i + 1 >= args.size())
                    throw usage_error{name + " needs a value"};
                return args[++i];
            };
            if (name == "--help" || name == "-h") {
                std::cout << main_usage;
                return exit_ok;
            } else if (name == "--endpoint") {
                g.endpoint = need();
            } else if (name == "--region") {
                g.region = need();
            } else if (name == "--path-style") {
                g.path_style = true;
            } else if (name == "--sign") {
                const auto v = need();
                if (v == "v4" || v == "V4")
                    g.sign = ossmp::signature_version::v4;
                else if (v == "v1" || v == "V1")
                    g.sign = ossmp::signature_version::v1;
                else
                    throw usage_error{"--sign takes v4 or v1"};
            } else if (name == "--connect-to") {
                g.connect_to.push_back(parse_connect_to(need()));
            } else if (name == "--ca-file") {
                g.ca_file = need();
            } else if (name == "--insecure") {
                g.insecure = true;
            } else if (name == "--json") {
                g.json = true;
            } else {
                throw usage_error{"unknown global option " + name};
            }
        }
        if (i >= args.size())
            throw usage_error{"missing command"};

        // The command.
        std::string command = args[i++];
        if (command == "mpu") {
            if (i >= args.size())
                throw usage_error{"missing mpu subcommand (init, put-part, complete, abort, "
                                  "list-parts, list-uploads)"};
            std::string_view sub = args[i++];
            if (sub == "--help" || sub == "-h") {
                for (const auto& [name, text] : command_usage)
                    if (name.rfind("mpu ", 0) == 0)
                        std::cout << text;
                return exit_ok;
            }
            command += " ";
            command += sub;
        }
        const auto usage_it = command_usage.find(command);
        if (usage_it == command_usage.end())
            throw usage_error{"unknown command '" + command + "'"};
        current_usage = usage_it->second;

        std::vector<std::string_view> flags, valued;
        if (command == "mpu init")
            valued = {"--header"};
        else if (command == "mpu put-part")
            flags = {"--md5"}, valued = {"--offset", "--length"};
        else if (command == "mpu complete")
            flags = {"--all"}, valued = {"--part", "--acl"};
        command_args cargs = [&] {
            try {
                return parse_command_args(args.subspan(i), flags, valued);
            } catch (const usage_error& e) {
                throw usage_error{command + ": " + e.message};
            }
        }();
        if (cargs.help) {
            std::cout << usage_it->second;
            return exit_ok;
        }

        // Configuration.
        if (g.endpoint.empty())
            if (const char* e = std::getenv("OSS_ENDPOINT"); e && *e)
                g.endpoint = e;
        if (g.region.empty())
            if (const char* r = std::getenv("OSS_REGION"); r && *r)
                g.region = r;
        if (g.endpoint.empty())
            throw usage_error{"no endpoint: give --endpoint URL or set OSS_ENDPOINT"};
        ossmp::endpoint ep;
        if (ossmp::parse_endpoint(g.endpoint, ep))
            throw usage_error{"invalid endpoint '" + g.endpoint + "'"};

        asio::io_context ctx(1);
        ossmp::asio_transport_options topt;
        topt.tls = ep.secure();
        topt.default_port = ep.port;
        topt.ca_file = g.ca_file;
        topt.insecure_skip_verify = g.insecure;
        topt.connect_to = g.connect_to;
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
        copt.signature = g.sign;
        client_type client(*transport, copt, ossmp::environment_credentials_provider{});
        program prog(g, client);

        using handler_fn = asio::awaitable<int> (program::*)(const command_args&);
        static const std::map<std::string, handler_fn, std::less<>> handlers = {
            {"mpu init", &program::mpu_init},
            {"mpu put-part", &program::mpu_put_part},
            {"mpu complete", &program::mpu_complete},
            {"mpu abort", &program::mpu_abort},
            {"mpu list-parts", &program::mpu_list_parts},
            {"mpu list-uploads", &program::mpu_list_uploads},
            {"put", &program::put},
            {"get", &program::get},
            {"stat", &program::stat},
            {"rm", &program::rm},
        };
        const handler_fn fn = handlers.at(command);

        int code = exit_failure;
        std::exception_ptr failure;
        asio::co_spawn(
            ctx, [&]() { return (prog.*fn)(cargs); },
            [&](std::exception_ptr e, int c) {
                failure = e;
                code = c;
            });
        ctx.run();
        if (failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const op_failure& f) {
                std::cout.flush();
                return report(g, f);
            } catch (const usage_error& e) {
                throw usage_error{command + ": " + e.message};
            }
        }
        std::cout.flush();
        return code;
    } catch (const usage_error& e) {
        return usage(g, e.message, current_usage);
    }
}

} // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "ossmp: " << e.what() << "\n";
        return exit_failure;
    }
}
