// tools/cli/files.hpp: the CLI's local files. Opening an upload source so that the bytes sent
// are exactly the bytes the source has (never a size assumed from fstat), and writing a
// download through an exclusively created temporary file that is renamed into place only after
// the object was verified.
#pragma once

#include "errors.hpp"

#include "ossmp/crypto.hpp"
#include "ossmp/file_body.hpp"
#include "ossmp/ops/upload_part.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ossmp_cli {

/// An owned file descriptor.
class file_descriptor {
public:
    explicit file_descriptor(int fd = -1) noexcept : fd_(fd) {}
    file_descriptor(file_descriptor&& o) noexcept : fd_(o.release()) {}
    file_descriptor& operator=(file_descriptor&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = o.release();
        }
        return *this;
    }
    ~file_descriptor() { close(); }
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    /// Closes now; returns the errno of a failed close (0 on success or when not open).
    int close() noexcept {
        if (fd_ < 0)
            return 0;
        const int rc = ::close(std::exchange(fd_, -1));
        return rc == 0 ? 0 : errno;
    }

private:
    int fd_;
};

inline std::string errno_text(int e) {
    return std::strerror(e);
}

/// What kind of file a path is, for messages.
inline std::string_view file_kind(mode_t mode) {
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISFIFO(mode))
        return "a pipe";
    if (S_ISSOCK(mode))
        return "a socket";
    return "a regular file";
}

/// An upload's bytes: a regular file that announces its size is streamed from the file in
/// chunks (`body`: memory does not depend on its size); anything else (a pipe, stdin, a /proc
/// file that announces 0 bytes) is read to its end into `data` first.
struct upload_source {
    std::string path;
    std::string data;                        // the bytes, when read into memory
    std::shared_ptr<ossmp::crc64_body> body; // the streamed file range, else null
    std::uint64_t size = 0;                  // bytes to send
    file_descriptor fd;                      // the open file (streamed case)
    struct stat before {};                   // its state when opened (streamed case)

    std::span<const std::byte> bytes() const {
        return std::as_bytes(std::span<const char>(data.data(), data.size()));
    }

    /// After the upload: a streamed file must be as it was when opened (same size, same
    /// mtime), else what was sent may mix two versions of it (`cli_error`, exit 1).
    void check_unchanged() const {
        if (!body)
            return;
        struct stat after {};
        if (::fstat(fd.get(), &after) != 0)
            throw cli_error{"cannot stat " + path + ": " + errno_text(errno)};
        if (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
            after.st_mtim.tv_nsec != before.st_mtim.tv_nsec)
            throw cli_error{path + " changed while it was uploaded: the object may hold a mix of "
                                   "its old and new bytes; upload it again"};
    }

    /// The base64 Content-MD5 of the bytes (a first pass over a streamed file).
    std::string content_md5(std::uint64_t offset) const {
        ossmp::crypto::md5_hasher md5;
        if (!body) {
            md5.update(data);
        } else {
            std::vector<char> buffer(1 << 20);
            std::uint64_t done = 0;
            while (done < size) {
                const auto n =
                    static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size - done));
                const ssize_t r =
                    ::pread(fd.get(), buffer.data(), n, static_cast<off_t>(offset + done));
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    throw cli_error{"cannot read " + path + ": " +
                                    (r < 0 ? errno_text(errno) : "it ended early")};
                md5.update(std::string_view(buffer.data(), static_cast<std::size_t>(r)));
                done += static_cast<std::size_t>(r);
            }
        }
        const auto digest = md5.finish();
        return ossmp::crypto::base64_encode(
            std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
    }
};

/// Opens the bytes `offset .. offset + length` of `path` (length unset: to the end) for an
/// upload of at most `cap` bytes.
///
/// The bytes sent are the bytes the source really has:
///  - a regular file whose `st_size` is not 0 is streamed (the range must lie inside it; the
///    file must not change until `check_unchanged`, and a file that shrinks under the read
///    fails the request with `errc::source_changed`);
///  - a regular file that announces 0 bytes (files under /proc), a pipe or a socket (`put
///    <(cmd) ...`; `-` is stdin, whatever it is) is read to its end into memory; an offset
///    cannot be applied to a pipe (usage error);
///  - a directory or a device is refused with a usage error (a device has no end of file that
///    means "the data ends here": /dev/zero never ends, a disk's st_size is 0).
/// With `length` set, a source that ends before `offset + length` is a usage error, never a
/// short upload. More than `cap` bytes is a usage error (one request carries at most 5 GiB).
inline upload_source open_source(const std::string& path, std::uint64_t offset,
                                 std::optional<std::uint64_t> length, std::uint64_t cap) {
    upload_source src;
    src.path = path;
    const bool from_stdin = path == "-";
    file_descriptor fd(from_stdin ? ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)
                                  : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0)
        throw usage_error{"cannot open " + (from_stdin ? std::string("stdin") : path) + ": " +
                          errno_text(errno)};
    struct stat before {};
    if (::fstat(fd.get(), &before) != 0)
        throw usage_error{"cannot stat " + path + ": " + errno_text(errno)};
    const bool regular = S_ISREG(before.st_mode);
    const bool stream = S_ISFIFO(before.st_mode) || S_ISSOCK(before.st_mode);
    if (!regular && !stream)
        throw usage_error{path + " is " + std::string(file_kind(before.st_mode)) +
                          ": ossmp uploads regular files and pipes"};
    if (length && *length > cap)
        throw usage_error{"--length " + std::to_string(*length) + " is over the " +
                          std::to_string(cap) + "-byte limit of one request"};
    const auto announced = static_cast<std::uint64_t>(before.st_size);
    if (regular && announced != 0) {
        if (offset > announced)
            throw usage_error{"--offset " + std::to_string(offset) + " is past the end of " + path +
                              " (" + std::to_string(announced) + " bytes)"};
        if (length && *length > announced - offset)
            throw usage_error{path + " ends after " + std::to_string(announced) +
                              " bytes, before --offset + --length (" +
                              std::to_string(offset + *length) + ")"};
        src.size = length ? *length : announced - offset;
        if (src.size > cap)
            throw usage_error{path + " has more than " + std::to_string(cap) +
                              " bytes, the limit of one request (use multipart: ossmp mpu)"};
        src.body =
            std::make_shared<ossmp::crc64_body>(ossmp::make_file_body(fd.get(), offset, src.size));
        src.fd = std::move(fd);
        src.before = before;
        return src;
    }
    if (regular && offset != 0 && ::lseek(fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
        throw usage_error{"cannot seek in " + path + ": " + errno_text(errno)};
    if (!regular && offset != 0)
        throw usage_error{"--offset needs a seekable file, and " + path + " is " +
                          std::string(file_kind(before.st_mode))};

    const std::uint64_t want = length ? *length : cap + 1; // one past the cap detects excess
    std::string& data = src.data;
    constexpr std::size_t chunk = 1 << 20;
    while (data.size() < want) {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(chunk, want - data.size()));
        const std::size_t old = data.size();
        data.resize(old + n);
        const ssize_t r = ::read(fd.get(), data.data() + old, n);
        if (r < 0) {
            data.resize(old);
            if (errno == EINTR)
                continue;
            throw cli_error{"cannot read " + path + ": " + errno_text(errno)};
        }
        data.resize(old + static_cast<std::size_t>(r));
        if (r == 0)
            break;
    }
    if (data.size() > cap)
        throw usage_error{path + " has more than " + std::to_string(cap) +
                          " bytes, the limit of one request (use multipart: ossmp mpu)"};
    if (length && data.size() != *length)
        throw usage_error{path + " ended after " + std::to_string(offset + data.size()) +
                          " bytes, before --offset + --length (" +
                          std::to_string(offset + *length) + ")"};
    src.size = data.size();
    return src;
}

/// A download's destination: a temporary file created exclusively (O_EXCL, so never through a
/// link someone planted) under an unpredictable name in the target's directory, renamed over
/// the target by `commit()` only. Destroying it uncommitted removes the temporary file, so
/// every failure path (error, exception, cancellation by a signal) leaves the target as it was
/// and no temporary file behind.
class output_file {
public:
    /// Creates the temporary file next to `target`. Usage error when the target is a directory
    /// or its directory cannot take a new file.
    explicit output_file(std::string target) : target_(std::move(target)) {
        struct stat st {};
        if (::stat(target_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            throw usage_error{target_ + " is a directory"};
        const auto slash = target_.rfind('/');
        dir_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : target_.substr(0, slash));
        const std::string base = slash == std::string::npos ? target_ : target_.substr(slash + 1);
        if (base.empty() || base == "." || base == "..")
            throw usage_error{"'" + target_ + "' does not name a file"};
        std::string name =
            (slash == std::string::npos ? std::string() : target_.substr(0, slash + 1)) + "." +
            base + ".ossmp-XXXXXX";
        // mkostemp: O_CREAT | O_EXCL, mode 0600, name from a random suffix, retried on clashes.
        const int fd = ::mkostemp(name.data(), O_CLOEXEC);
        if (fd < 0)
            throw usage_error{"cannot create a file in " + dir_ + ": " + errno_text(errno)};
        fd_ = file_descriptor(fd);
        temp_ = std::move(name);
    }
    output_file(const output_file&) = delete;
    output_file& operator=(const output_file&) = delete;
    ~output_file() {
        if (!temp_.empty())
            ::unlink(temp_.c_str());
    }

    int fd() const noexcept { return fd_.get(); }
    const std::string& temp_path() const noexcept { return temp_; }

    /// Flushes the data, gives the file the mode a newly created file gets (0666 less the
    /// umask), renames it over the target and syncs the directory. On failure the temporary
    /// file is removed and the error returned.
    std::error_code commit() {
        const mode_t mask = ::umask(0);
        ::umask(mask);
        std::error_code ec;
        auto fail = [&](int e) {
            ec = std::error_code(e, std::generic_category());
        };
        if (::fchmod(fd_.get(), 0666 & ~mask) != 0)
            fail(errno);
        else if (::fsync(fd_.get()) != 0)
            fail(errno);
        else if (int e = fd_.close(); e != 0)
            fail(e);
        else if (::rename(temp_.c_str(), target_.c_str()) != 0)
            fail(errno);
        if (ec)
            return ec; // the destructor removes the temporary file
        temp_.clear();
        file_descriptor dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (dir.get() >= 0)
            ::fsync(dir.get()); // best effort: the rename is done either way
        return {};
    }

private:
    std::string target_;
    std::string dir_;
    std::string temp_;
    file_descriptor fd_;
};

/// `mkdir -p` of an absolute path; created directories get mode 0700.
inline void make_directories(const std::string& path) {
    for (std::size_t at = 1; at <= path.size(); ++at) {
        if (at != path.size() && path[at] != '/')
            continue;
        const std::string prefix = path.substr(0, at);
        if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
            throw cli_error{"cannot create " + prefix + ": " + errno_text(errno)};
    }
}

/// The directory `cp` keeps its checkpoints in: `$XDG_STATE_HOME/ossmp` (an absolute
/// XDG_STATE_HOME), else `$HOME/.local/state/ossmp`, created with mode 0700. Refused unless it
/// is a real directory (not a link) of this user that nobody else may write to: another local
/// user must not be able to plant or swap a checkpoint.
inline std::string checkpoint_directory() {
    std::string base;
    const char* state = std::getenv("XDG_STATE_HOME");
    const char* home = std::getenv("HOME");
    if (state && state[0] == '/')
        base = state;
    else if (home && home[0] == '/')
        base = std::string(home) + "/.local/state";
    else
        throw cli_error{"no directory for the checkpoint (set XDG_STATE_HOME or HOME), give "
                        "--checkpoint FILE, or --no-checkpoint"};
    while (base.size() > 1 && base.back() == '/')
        base.pop_back();
    const std::string dir = base + "/ossmp";
    make_directories(dir);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0)
        throw cli_error{"cannot stat " + dir + ": " + errno_text(errno)};
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0)
        throw cli_error{"the checkpoint directory " + dir +
                        " is a link, another user's, or writable by others: refusing to keep "
                        "checkpoints there (give --checkpoint FILE or --no-checkpoint)"};
    return dir;
}

/// The default checkpoint of an upload of `source` (made absolute and resolved) to
/// `destination` at `endpoint`: one file per (file, object) pair, named by a hash of both.
inline std::string default_checkpoint_path(const std::string& source, const std::string& endpoint,
                                           const std::string& destination) {
    char* real = ::realpath(source.c_str(), nullptr);
    if (!real)
        throw cli_error{"cannot resolve " + source + ": " + errno_text(errno)};
    const std::string resolved = real;
    std::free(real);
    const std::string id = resolved + "\n" + endpoint + "\n" + destination;
    return checkpoint_directory() + "/" +
           ossmp::crypto::hex_lower(ossmp::crypto::sha256(id)).substr(0, 32) + ".ckpt";
}

// --- Directory trees (cp -r) -------------------------------------------------------------------

/// One regular file found under a directory tree.
struct tree_file {
    std::string path;     ///< as it can be opened: the root as given, then the names below it
    std::string relative; ///< below the root, components joined by '/'
    std::uint64_t size = 0;
    dev_t device = 0; ///< identity when listed: the file opened later must be this one
    ino_t inode = 0;
};

/// Something under the tree that is not uploaded, and why.
struct tree_skip {
    std::string path;
    std::string reason;
    bool error = false; ///< true: could not be read (counts as a failure), false: not a file
};

struct tree_listing {
    std::vector<tree_file> files; ///< sorted by `relative` (byte order)
    std::vector<tree_skip> skipped;
};

/// Every regular file under the directory `root`, without following symbolic links below it
/// unless `follow_symlinks` (`root` itself may be one). With `follow_symlinks`, a link to a
/// directory that contains it (a loop) and a dangling link are skipped. Pipes, sockets and
/// devices are skipped; a directory that cannot be read is listed as an error and the walk goes
/// on. Directories are opened relative to their parent's descriptor (O_NOFOLLOW when links are
/// not followed), so a directory swapped for a link while the walk runs is not entered.
/// Throws usage_error when `root` is not a readable directory.
inline tree_listing list_tree(const std::string& root, bool follow_symlinks) {
    tree_listing out;
    file_descriptor top(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY));
    if (top.get() < 0)
        throw usage_error{"cannot open the directory " + root + ": " + errno_text(errno)};
    struct stat st {};
    if (::fstat(top.get(), &st) != 0)
        throw usage_error{"cannot stat " + root + ": " + errno_text(errno)};
    std::string base = root;
    while (base.size() > 1 && base.back() == '/')
        base.pop_back();
    // The directories being walked (device, inode), to find loops through followed links.
    std::vector<std::pair<dev_t, ino_t>> ancestors;
    auto walk = [&](auto& self, file_descriptor dir_fd, const std::string& path,
                    const std::string& relative) -> void {
        const int listing_fd = ::dup(dir_fd.get());
        DIR* dir = listing_fd < 0 ? nullptr : ::fdopendir(listing_fd);
        if (!dir) {
            const int e = errno;
            if (listing_fd >= 0)
                ::close(listing_fd);
            out.skipped.push_back({path, "cannot read the directory: " + errno_text(e), true});
            return;
        }
        std::vector<std::string> names;
        errno = 0;
        while (const dirent* d = ::readdir(dir)) {
            const std::string_view name = d->d_name;
            if (name != "." && name != "..")
                names.emplace_back(name);
            errno = 0;
        }
        const int read_error = errno;
        ::closedir(dir);
        if (read_error)
            out.skipped.push_back(
                {path, "cannot read the whole directory: " + errno_text(read_error), true});
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            const std::string child = (path == "/" ? path : path + "/") + name;
            const std::string child_relative = relative.empty() ? name : relative + "/" + name;
            struct stat cst {};
            if (::fstatat(dir_fd.get(), name.c_str(), &cst, AT_SYMLINK_NOFOLLOW) != 0) {
                out.skipped.push_back({child, "cannot stat: " + errno_text(errno), true});
                continue;
            }
            if (S_ISLNK(cst.st_mode)) {
                if (!follow_symlinks) {
                    out.skipped.push_back(
                        {child, "a symbolic link (--follow-symlinks follows links)", false});
                    continue;
                }
                if (::fstatat(dir_fd.get(), name.c_str(), &cst, 0) != 0) {
                    out.skipped.push_back(
                        {child, "a symbolic link to nothing: " + errno_text(errno), false});
                    continue;
                }
            }
            if (S_ISREG(cst.st_mode)) {
                out.files.push_back({child, child_relative, static_cast<std::uint64_t>(cst.st_size),
                                     cst.st_dev, cst.st_ino});
            } else if (S_ISDIR(cst.st_mode)) {
                const std::pair<dev_t, ino_t> id{cst.st_dev, cst.st_ino};
                if (std::find(ancestors.begin(), ancestors.end(), id) != ancestors.end()) {
                    out.skipped.push_back(
                        {child, "a link to a directory that contains it (a loop)", false});
                    continue;
                }
                file_descriptor sub(::openat(dir_fd.get(), name.c_str(),
                                             O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY |
                                                 (follow_symlinks ? 0 : O_NOFOLLOW)));
                struct stat sst {};
                if (sub.get() < 0 || ::fstat(sub.get(), &sst) != 0) {
                    out.skipped.push_back(
                        {child, "cannot open the directory: " + errno_text(errno), true});
                    continue;
                }
                if (sst.st_dev != cst.st_dev || sst.st_ino != cst.st_ino) {
                    out.skipped.push_back({child, "changed while it was listed", true});
                    continue;
                }
                ancestors.push_back(id);
                self(self, std::move(sub), child, child_relative);
                ancestors.pop_back();
            } else {
                out.skipped.push_back({child, std::string(file_kind(cst.st_mode)), false});
            }
        }
    };
    ancestors.emplace_back(st.st_dev, st.st_ino);
    walk(walk, std::move(top), base, "");
    std::sort(out.files.begin(), out.files.end(),
              [](const tree_file& a, const tree_file& b) { return a.relative < b.relative; });
    return out;
}

} // namespace ossmp_cli
