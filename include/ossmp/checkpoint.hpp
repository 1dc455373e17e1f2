// ossmp/checkpoint.hpp: what an interrupted multipart upload needs to be resumed (the
// checkpoint, also given out as a resume token), its text form with a self-checksum, and the
// atomic file it is kept in.
//
// Sans-io except for the three file functions at the end (plain POSIX calls: the uploader
// runs them on the file executor). Nothing secret is ever written: the initiate parameters are
// kept as a SHA-256 digest of the headers they produce, and no credential is involved.
//
// The text form, one `name value` line each, strings percent-encoded (so no value holds a space
// or a line break), in this order:
//
//   ossmp-checkpoint 1
//   source file                      kind: file | memory | source
//   path /data/big.iso               informative (a renamed file is still the same file)
//   size 134217728
//   mtime 1764660000.123456789       seconds.nanoseconds
//   device 2049
//   inode 1835010
//   bucket examplebucket
//   key dir/big.iso
//   params-sha256 <64 hex>           the InitiateMultipartUpload headers' digest
//   part-size 8388608
//   upload-id 0004B9895DBBB6EC9
//   parts 2
//   part 1 8388608 5178283844429390318 %22DF1F...9A5A%22     number size crc64 etag
//   part 2 8388608 ...
//   sha256 <64 hex of every byte above this line>
//
// A file that is truncated anywhere, has any bit flipped, or is not a checkpoint fails the
// checksum or the strict parse (`errc::checkpoint_corrupt`) and is never trusted.
#pragma once

#include "ossmp/crypto.hpp"
#include "ossmp/error.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/uri.hpp"
#include "ossmp/validate.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ossmp {

/// What a checkpoint binds an upload to: the identity of its source.
struct source_identity {
    std::string kind = "source"; ///< "file", "memory", or "source" (any other part_source)
    std::string path;            ///< a file's path when known (informative, not compared)
    std::uint64_t size = 0;
    std::int64_t mtime_sec = 0; ///< a file's modification time
    std::uint32_t mtime_nsec = 0;
    std::uint64_t device = 0, inode = 0; ///< a file's st_dev and st_ino
};

/// One part the server acknowledged: number, size, the CRC-64 of the bytes sent, the ETag.
struct checkpoint_part {
    int number = 0;
    std::uint64_t size = 0;
    std::uint64_t crc64 = 0;
    std::string etag; ///< as the server sent it, quotes included
};

/// A multipart upload in progress, as a checkpoint file or resume token holds it.
struct upload_checkpoint {
    source_identity source;
    std::string bucket;
    std::string key;
    std::string params_sha256; ///< `initiate_params_digest` of the upload's parameters
    std::uint64_t part_size = 0;
    std::string upload_id;
    std::vector<checkpoint_part> parts; ///< ascending part numbers
};

/// A checkpoint is at most this long (10,000 parts need about 1.3 MB); a longer file is
/// refused unread.
inline constexpr std::size_t max_checkpoint_bytes = 4u << 20;

/// The SHA-256 (hex) of the headers InitiateMultipartUpload sends for `p` (bucket and key
/// excluded), sorted by lower-cased name so that the digest does not depend on the order the
/// library writes them in. Empty when `p` does not make a valid request.
inline std::string initiate_params_digest(const initiate_params& p) {
    http::request r;
    if (make_initiate_request(p, r))
        return {};
    std::vector<std::string> lines;
    for (const auto& f : r.headers) {
        std::string name = f.name;
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
            return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        });
        lines.push_back(name + ":" + f.value);
    }
    for (const auto& q : r.query)
        lines.push_back("?" + q.name + "=" + q.value);
    std::sort(lines.begin(), lines.end());
    std::string all;
    for (const auto& l : lines) {
        all += uri::encode(l);
        all += '\n';
    }
    return crypto::hex_lower(crypto::sha256(all));
}

namespace detail::ckpt {

inline void number_line(std::string& out, std::string_view name, std::uint64_t v) {
    out += name;
    out += ' ';
    out += std::to_string(v);
    out += '\n';
}

inline void text_line(std::string& out, std::string_view name, std::string_view v) {
    out += name;
    out += ' ';
    uri::encode_to(out, v, true);
    out += '\n';
}

/// A strict reader of the text form: every call consumes one expected line or fails.
class reader {
public:
    explicit reader(std::string_view text) : rest_(text) {}

    bool at_end() const { return rest_.empty(); }

    /// The value of the next line, which must be `name value`.
    std::optional<std::string_view> value(std::string_view name) {
        const auto nl = rest_.find('\n');
        if (nl == std::string_view::npos)
            return std::nullopt;
        std::string_view line = rest_.substr(0, nl);
        if (line.size() <= name.size() || line.substr(0, name.size()) != name ||
            line[name.size()] != ' ')
            return std::nullopt;
        rest_.remove_prefix(nl + 1);
        return line.substr(name.size() + 1);
    }

    /// Peeks whether the next line starts with `name `.
    bool next_is(std::string_view name) const {
        return rest_.size() > name.size() && rest_.substr(0, name.size()) == name &&
               rest_[name.size()] == ' ';
    }

private:
    std::string_view rest_;
};

/// A decimal number of the type's range: digits only, no sign (unless signed), no spaces.
template <class T>
bool to_number(std::string_view s, T& out) {
    if (s.empty() || s[0] == '+' || (s.size() > 1 && s[0] == '0'))
        return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

inline bool decode_text(std::string_view s, std::string& out) {
    auto d = uri::decode(s);
    if (!d || uri::encode(*d, true) != s) // one spelling only
        return false;
    out = std::move(*d);
    return true;
}

/// A path's directory ("." when it has none) and last component.
inline std::pair<std::string, std::string> split_path(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

inline bool is_lower_hex(std::string_view s, std::size_t n) {
    return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

} // namespace detail::ckpt

/// The text form of `c` (see the top of this file), ending with its own SHA-256.
inline std::string serialize_checkpoint(const upload_checkpoint& c) {
    using namespace detail::ckpt;
    std::string out = "ossmp-checkpoint 1\n";
    text_line(out, "source", c.source.kind);
    text_line(out, "path", c.source.path);
    number_line(out, "size", c.source.size);
    out += "mtime ";
    out += std::to_string(c.source.mtime_sec);
    out += '.';
    const std::string nsec = std::to_string(c.source.mtime_nsec);
    out.append(9 - std::min<std::size_t>(9, nsec.size()), '0');
    out += nsec;
    out += '\n';
    number_line(out, "device", c.source.device);
    number_line(out, "inode", c.source.inode);
    text_line(out, "bucket", c.bucket);
    text_line(out, "key", c.key);
    out += "params-sha256 " + c.params_sha256 + "\n";
    number_line(out, "part-size", c.part_size);
    text_line(out, "upload-id", c.upload_id);
    number_line(out, "parts", c.parts.size());
    for (const auto& p : c.parts) {
        out += "part " + std::to_string(p.number) + " " + std::to_string(p.size) + " " +
               std::to_string(p.crc64) + " ";
        uri::encode_to(out, p.etag, true);
        out += '\n';
    }
    out += "sha256 " + crypto::hex_lower(crypto::sha256(out)) + "\n";
    return out;
}

/// Parses the text form into `out`. `errc::checkpoint_corrupt` when the checksum does not match
/// (truncated, altered, not a checkpoint), a line does not parse, or the content is impossible
/// (parts out of order or of the wrong size, more than 10,000 parts, an invalid bucket or key, an
/// empty upload id). `out` is only written on success.
inline std::error_code parse_checkpoint(std::string_view text, upload_checkpoint& out) {
    using namespace detail::ckpt;
    const std::error_code corrupt = make_error_code(errc::checkpoint_corrupt);
    if (text.size() > max_checkpoint_bytes || text.size() < 72 || text.back() != '\n')
        return corrupt;
    // The checksum line: the last one, exactly "sha256 " + 64 lower-case hex digits.
    const std::size_t sum_at = text.size() - 72;
    if (sum_at > 0 && text[sum_at - 1] != '\n')
        return corrupt;
    const std::string_view sum_line = text.substr(sum_at, 71);
    if (sum_line.substr(0, 7) != "sha256 " || !is_lower_hex(sum_line.substr(7), 64))
        return corrupt;
    const std::string_view body = text.substr(0, sum_at);
    if (crypto::hex_lower(crypto::sha256(body)) != sum_line.substr(7))
        return corrupt;

    reader r(body);
    upload_checkpoint c;
    std::uint64_t count = 0;
    std::string_view mtime;
    auto text_of = [&r](std::string_view name, std::string& v) {
        auto s = r.value(name);
        return s && decode_text(*s, v);
    };
    auto number_of = [&r](std::string_view name, auto& v) {
        auto s = r.value(name);
        return s && to_number(*s, v);
    };
    auto version = r.value("ossmp-checkpoint");
    if (!version || *version != "1")
        return corrupt;
    if (!text_of("source", c.source.kind) || !text_of("path", c.source.path) ||
        !number_of("size", c.source.size))
        return corrupt;
    if (auto m = r.value("mtime"))
        mtime = *m;
    else
        return corrupt;
    const auto dot = mtime.find('.');
    if (dot == std::string_view::npos || mtime.size() - dot - 1 != 9 ||
        !to_number(mtime.substr(0, dot), c.source.mtime_sec))
        return corrupt;
    {
        std::string_view ns = mtime.substr(dot + 1);
        while (ns.size() > 1 && ns.front() == '0')
            ns.remove_prefix(1);
        if (!to_number(ns, c.source.mtime_nsec) || c.source.mtime_nsec > 999'999'999)
            return corrupt;
    }
    if (!number_of("device", c.source.device) || !number_of("inode", c.source.inode) ||
        !text_of("bucket", c.bucket) || !text_of("key", c.key))
        return corrupt;
    auto digest = r.value("params-sha256");
    if (!digest || !is_lower_hex(*digest, 64))
        return corrupt;
    c.params_sha256 = std::string(*digest);
    if (!number_of("part-size", c.part_size) || !text_of("upload-id", c.upload_id) ||
        !number_of("parts", count))
        return corrupt;
    if (c.source.kind != "file" && c.source.kind != "memory" && c.source.kind != "source")
        return corrupt;
    if (validate_bucket_name(c.bucket) || validate_key(c.key) || c.upload_id.empty())
        return corrupt;
    if (c.part_size == 0 || c.part_size > max_part_size || c.source.size <= c.part_size)
        return corrupt;
    const std::uint64_t total_parts = (c.source.size + c.part_size - 1) / c.part_size;
    if (total_parts > static_cast<std::uint64_t>(max_parts) || count > total_parts)
        return corrupt;
    for (std::uint64_t i = 0; i < count; ++i) {
        auto line = r.value("part");
        if (!line)
            return corrupt;
        checkpoint_part p;
        std::string_view f[4];
        std::string_view rest = *line;
        for (int k = 0; k < 3; ++k) {
            const auto sp = rest.find(' ');
            if (sp == std::string_view::npos)
                return corrupt;
            f[k] = rest.substr(0, sp);
            rest.remove_prefix(sp + 1);
        }
        f[3] = rest;
        if (!to_number(f[0], p.number) || !to_number(f[1], p.size) || !to_number(f[2], p.crc64) ||
            !decode_text(f[3], p.etag) || p.etag.empty())
            return corrupt;
        if (p.number < 1 || static_cast<std::uint64_t>(p.number) > total_parts ||
            (!c.parts.empty() && p.number <= c.parts.back().number))
            return corrupt;
        const std::uint64_t offset = static_cast<std::uint64_t>(p.number - 1) * c.part_size;
        if (p.size != std::min(c.part_size, c.source.size - offset))
            return corrupt;
        c.parts.push_back(std::move(p));
    }
    if (!r.at_end())
        return corrupt;
    out = std::move(c);
    return {};
}

/// Why checkpoint `c` is not for this upload (source `id`, `bucket`/`key`, parameters digest
/// `params_sha256`), in a few words; empty when it is. The path is not compared (a renamed file
/// is the same file); size, modification time, device and inode are.
inline std::string checkpoint_mismatch_reason(const upload_checkpoint& c, const source_identity& id,
                                              std::string_view bucket, std::string_view key,
                                              std::string_view params_sha256) {
    if (c.bucket != bucket || c.key != key)
        return "it is for oss://" + c.bucket + "/" + c.key;
    if (c.source.kind != id.kind)
        return "it is for a source of another kind (" + c.source.kind + ")";
    if (c.source.size != id.size)
        return "the source's size changed (" + std::to_string(c.source.size) + " -> " +
               std::to_string(id.size) + " bytes)";
    if (c.source.mtime_sec != id.mtime_sec || c.source.mtime_nsec != id.mtime_nsec)
        return "the source's modification time changed";
    if (c.source.device != id.device || c.source.inode != id.inode)
        return "it is for another file (device/inode differ)";
    if (c.params_sha256 != params_sha256)
        return "the object's headers (content type, metadata, ...) differ";
    return {};
}

// --- The checkpoint file -------------------------------------------------------------------------

/// Writes `contents` to `path` atomically: a new file in the same directory under an
/// unpredictable name (O_EXCL, O_NOFOLLOW, mode 0600), written, fsync'ed, renamed over `path`
/// (which replaces a link there instead of following it), then the directory fsync'ed. On
/// failure `path` is untouched and the temporary file removed. Blocking: call it where a
/// blocking call may run (the uploader runs it on the file executor).
inline std::error_code write_checkpoint_file(const std::string& path, std::string_view contents) {
    const auto [dir, base] = detail::ckpt::split_path(path);
    if (base.empty())
        return std::make_error_code(std::errc::is_a_directory);
    auto sys = [] {
        return std::error_code(errno, std::generic_category());
    };
    std::string tmp;
    int fd = -1;
    for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
        unsigned char random[12];
        if (::getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random))
            return sys();
        tmp = dir + "/." + base + ".tmp-" +
              crypto::hex_lower(std::span<const std::uint8_t>(random, sizeof random));
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return sys();
    }
    if (fd < 0)
        return std::make_error_code(std::errc::file_exists);
    std::error_code ec;
    for (std::size_t done = 0; done < contents.size();) {
        const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ec = n < 0 ? sys() : std::make_error_code(std::errc::io_error);
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (!ec && ::fsync(fd) != 0)
        ec = sys();
    if (::close(fd) != 0 && !ec)
        ec = sys();
    if (!ec && ::rename(tmp.c_str(), path.c_str()) != 0)
        ec = sys();
    if (ec) {
        ::unlink(tmp.c_str());
        return ec;
    }
    // The rename is durable once the directory is.
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return {};
}

/// Reads the checkpoint file at `path` into `contents` (not followed when it is a link; a
/// FIFO is not waited for). Errors: `std::errc::no_such_file_or_directory` when there is none;
/// `errc::checkpoint_corrupt` when it is a link, not a regular file, or longer than
/// `max_checkpoint_bytes`; other system errors.
inline std::error_code read_checkpoint_file(const std::string& path, std::string& contents) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno == ELOOP ? make_error_code(errc::checkpoint_corrupt)
                              : std::error_code(errno, std::generic_category());
    std::error_code ec;
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        ec = std::error_code(errno, std::generic_category());
    else if (!S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) > max_checkpoint_bytes)
        ec = make_error_code(errc::checkpoint_corrupt);
    std::string data;
    if (!ec) {
        data.resize(static_cast<std::size_t>(st.st_size) + 1);
        std::size_t got = 0;
        for (;;) {
            const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                ec = std::error_code(errno, std::generic_category());
                break;
            }
            got += static_cast<std::size_t>(n);
            if (n == 0 || got == data.size()) {
                if (got > max_checkpoint_bytes)
                    ec = make_error_code(errc::checkpoint_corrupt);
                else if (n != 0) // grew while read: read on
                    data.resize(std::min(data.size() * 2, max_checkpoint_bytes + 1));
                if (n == 0 || ec)
                    break;
            }
        }
        data.resize(got);
    }
    ::close(fd);
    if (!ec)
        contents = std::move(data);
    return ec;
}

/// Removes the checkpoint file at `path` (the link itself, if it is one), and the temporary
/// files that writes of it interrupted by a crash left beside it (`.NAME.tmp-*`), and makes
/// that durable. No error when there is none.
inline std::error_code remove_checkpoint_file(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return std::error_code(errno, std::generic_category());
    const auto [dir, base] = detail::ckpt::split_path(path);
    const std::string stale = "." + base + ".tmp-";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return {};
    if (DIR* d = ::fdopendir(::fcntl(dfd, F_DUPFD_CLOEXEC, 0))) {
        while (const dirent* e = ::readdir(d))
            if (std::string_view(e->d_name).starts_with(stale))
                ::unlinkat(dfd, e->d_name, 0); // a name in this directory: never followed
        ::closedir(d);
    }
    ::fsync(dfd);
    ::close(dfd);
    return {};
}

} // namespace ossmp
