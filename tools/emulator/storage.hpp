// tools/emulator/storage.hpp: buckets, objects, uploads and parts, and where their bytes live.
//
// The index (every bucket, object, upload and part with its size, ETag, CRC-64, times and
// metadata) is always in memory; `storage_kind` decides where the bytes go:
//   memory  a `blob` owns the bytes in RAM. A multipart object shares its parts' blobs (no copy
//           at Complete).
//   sink    no bytes are kept at all: only sizes and checksums (benchmarks). A GET of such an
//           object answers 501 NotImplemented (documented in README.md).
//   dir     a `blob` is a file; every record also has a small text `.meta` file. Everything is
//           written to ROOT/.tmp first and renamed into place (data first, then the meta that
//           names it), so a half-written object or part is never visible, and a restart reloads
//           every completed object and every upload in progress.
//
// Threading: `storage` itself is not thread-safe: the server calls it (through `service`) only
// under one mutex. Body bytes are written through a `body_sink`, which hashes them (CRC-64
// always, MD5 when asked) as they arrive, while they are hot in cache; a sink is private to its
// request and shares nothing with the storage (its temp file name comes from `make_sink`, under
// the lock), so sinks of different connections are filled in parallel, outside the lock. A
// `blob` is immutable once made and shared by `shared_ptr`: a GET streaming it on one thread
// keeps it (and its file) alive while another thread replaces or removes its record, which only
// `doom`s it (atomic flag; the file is unlinked by the last owner).
#pragma once

#include "config.hpp"

#include "ossmp/crc64.hpp"
#include "ossmp/crypto.hpp"
#include "ossmp/uri.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ossmp::emulator {

using clock_type = std::chrono::system_clock;
using metadata_list = std::vector<std::pair<std::string, std::string>>;

/// Bytes in RAM from `std::malloc`/`std::realloc` (a body grows with `realloc`, which moves
/// the pages of a large block with mremap instead of copying them), freed with `std::free`.
struct free_deleter {
    void operator()(char* p) const noexcept { std::free(p); }
};
using ram_bytes = std::unique_ptr<char[], free_deleter>;

/// The bytes of one part or one simple object: in RAM (`bytes`) or in a file (`path`).
/// A dir-storage blob whose record was replaced or removed is `doomed`: its file is unlinked
/// when the last reference (e.g. a GET still streaming it) goes away.
class blob {
public:
    blob() = default;
    blob(const blob&) = delete;
    blob& operator=(const blob&) = delete;
    ~blob() {
        if (doomed_.load(std::memory_order_relaxed) && !path_.empty())
            ::unlink(path_.c_str());
    }

    static std::shared_ptr<blob> in_memory(ram_bytes bytes, std::uint64_t size) {
        auto b = std::make_shared<blob>();
        b->bytes_ = std::move(bytes);
        b->size_ = size;
        return b;
    }
    static std::shared_ptr<blob> in_file(std::string path, std::uint64_t size) {
        auto b = std::make_shared<blob>();
        b->path_ = std::move(path);
        b->size_ = size;
        return b;
    }

    std::uint64_t size() const noexcept { return size_; }
    bool is_file() const noexcept { return !path_.empty(); }
    /// RAM bytes (empty view for a file blob).
    std::string_view bytes() const noexcept {
        return bytes_ ? std::string_view(bytes_.get(), size_) : std::string_view();
    }
    const std::string& path() const noexcept { return path_; }
    /// Marks the blob's file for removal when the last reference goes (any thread).
    void doom() noexcept { doomed_.store(true, std::memory_order_relaxed); }

private:
    ram_bytes bytes_;
    std::uint64_t size_ = 0;
    std::string path_;
    std::atomic<bool> doomed_{false}; // ordered before ~blob by the shared_ptr count
};

/// One uploaded part.
struct part_record {
    int number = 0;
    std::uint64_t size = 0;
    std::string etag; ///< quoted, e.g. "\"BCE8F3D48247C5D555BB5697BF277B35\""
    std::uint64_t crc64 = 0;
    clock_type::time_point last_modified;
    std::shared_ptr<blob> data; ///< null for sink storage
    std::string data_name;      ///< dir storage: data file name inside the upload dir
};

/// One multipart upload in progress.
struct upload_record {
    std::string key;
    std::string upload_id;
    clock_type::time_point initiated;
    std::string content_type;
    metadata_list metadata; ///< x-oss-meta-* (lower-case names without the prefix)
    bool forbid_overwrite = false;
    std::map<int, part_record> parts;
};

/// One completed object.
struct object_record {
    std::string key;
    std::uint64_t size = 0;
    std::string etag; ///< quoted
    std::uint64_t crc64 = 0;
    clock_type::time_point last_modified;
    std::string content_type;
    metadata_list metadata;
    std::string object_type = "Normal";          ///< "Normal" or "Multipart"
    std::vector<std::shared_ptr<blob>> segments; ///< concatenated, the object's bytes
    std::string data_name;                       ///< dir storage: data file name
    bool has_data() const noexcept { return !segments.empty() || size == 0; }
};

/// A bucket: objects by key, uploads by (key, upload id), both in byte order (listing order).
struct bucket_record {
    std::string name;
    std::map<std::string, object_record> objects;
    std::map<std::pair<std::string, std::string>, upload_record> uploads;
};

/// Receives a request body: hands out buffers to read the socket into (`prepare`/`commit`:
/// one copy, socket to buffer), hashes the bytes as they are committed, and keeps them in RAM,
/// writes them to a file, or drops them.
class body_sink {
public:
    enum class mode { memory, file, discard };

    /// Most bytes a memory-mode sink reserves before they arrive: a Content-Length is only a
    /// claim, so a larger body grows (doubling, never past `expected`) as its bytes come in.
    /// 8 MiB holds the usual part in one block; a client that declares 5 GiB and sends nothing
    /// costs 8 MiB of untouched address space, not 5 GiB.
    static constexpr std::size_t reserve_max = 8 * 1024 * 1024;

    /// `expected` is the Content-Length when known (0 for chunked); `with_md5` also computes MD5.
    /// Memory mode reserves at most `reserve_max` of it up front.
    body_sink(mode m, std::uint64_t expected, bool with_md5, int fd = -1, std::string path = {})
        : mode_(m), expected_(expected), fd_(fd), path_(std::move(path)) {
        if (with_md5)
            md5_.emplace();
        if (mode_ == mode::memory) {
            if (expected > 0)
                grow(std::min<std::uint64_t>(expected, reserve_max));
        } else {
            // A full-size buffer is reused from this thread's spare slot.
            scratch_size_ = static_cast<std::size_t>(
                std::clamp<std::uint64_t>(expected ? expected : scratch_max, 4096, scratch_max));
            if (scratch_size_ == scratch_max && spare_scratch())
                scratch_ = std::move(spare_scratch());
            else
                scratch_ = make_scratch(scratch_size_);
        }
    }
    body_sink(const body_sink&) = delete;
    body_sink& operator=(const body_sink&) = delete;
    ~body_sink() {
        if (scratch_ && scratch_size_ == scratch_max && !spare_scratch())
            spare_scratch() = std::move(scratch_); // for the next body on this thread
        if (fd_ >= 0)
            ::close(fd_);
        if (!path_.empty())
            ::unlink(path_.c_str());
    }

    /// A writable buffer for up to `n` (> 0) bytes; its size may be smaller, never 0.
    std::span<char> prepare(std::size_t n) {
        if (n == 0)
            n = 1;
        if (mode_ == mode::memory) {
            if (size_ == capacity_) {
                // Grows with what arrived (not with `n`, which may be the whole declared rest).
                auto cap = std::max<std::uint64_t>(capacity_ * 2, 64 * 1024);
                if (expected_ > size_)
                    cap = std::min(cap, expected_);
                grow(cap);
            }
            auto room = static_cast<std::size_t>(std::min<std::uint64_t>(n, capacity_ - size_));
            return {bytes_.get() + size_, room};
        }
        // Discard reads at most 64 KiB per call: the copy out of the socket and the CRC-64
        // then stay in cache. Measured with 4 connections of 8 MiB parts on 2 shared cores,
        // sink phases alternating with raw ones (as emulator_bench does): 0.175 s of emulator
        // CPU per GB with 64 KiB reads against 0.21 with 256 KiB and 0.22 with 1 MiB (16, 32,
        // 128 KiB: 0.18-0.22). File mode uses the whole buffer (a write(2) per 64 KiB costs
        // more; not measured).
        const std::size_t limit = mode_ == mode::discard ? discard_read_max : scratch_size_;
        return {scratch_.get(), std::min({n, limit, scratch_size_})};
    }

    /// The first `n` bytes of the last prepared buffer now hold body data.
    void commit(std::size_t n) {
        if (n == 0)
            return;
        const char* p = mode_ == mode::memory ? bytes_.get() + size_ : scratch_.get();
        take(std::string_view(p, n));
    }

    /// Takes `bytes` that are already in memory (those that arrived together with the header
    /// section, or a chunked body's data): copied in only when the body is kept in RAM; hashed
    /// (and written to the file) in place otherwise.
    void write(std::string_view bytes) {
        if (mode_ != mode::memory) {
            take(bytes);
            return;
        }
        while (!bytes.empty()) {
            auto buf = prepare(bytes.size());
            std::memcpy(buf.data(), bytes.data(), buf.size());
            commit(buf.size());
            bytes.remove_prefix(buf.size());
        }
    }

    std::uint64_t size() const noexcept { return size_; }
    std::uint64_t crc64() const noexcept { return crc_; }
    bool has_md5() const noexcept { return md5_.has_value() || md5_done_.has_value(); }
    /// MD5 of everything committed (finishes the hash: call once all bytes are in).
    crypto::md5_digest md5() {
        if (!md5_done_ && md5_) {
            md5_done_ = md5_->finish();
            md5_.reset();
        }
        return md5_done_.value_or(crypto::md5_digest{});
    }
    std::error_code write_error() const noexcept { return write_error_; }
    mode sink_mode() const noexcept { return mode_; }

    /// The RAM bytes received so far (memory mode), e.g. a Complete XML body.
    std::string_view view() const noexcept {
        return mode_ == mode::memory && bytes_ ? std::string_view(bytes_.get(), size_)
                                               : std::string_view();
    }

    /// Takes the bytes as a blob: memory mode only (file blobs are made by the storage).
    std::shared_ptr<blob> take_memory_blob() {
        if (mode_ != mode::memory)
            return nullptr;
        if (!bytes_ || capacity_ > size_)
            grow(std::max<std::uint64_t>(size_, 1)); // no slack kept (a chunked body doubled)
        auto b = blob::in_memory(std::move(bytes_), size_);
        capacity_ = size_ = 0;
        return b;
    }

    /// File mode: closes the file and gives up its temp path (the storage renames it).
    std::string release_file() {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
        return std::exchange(path_, {});
    }

private:
    // Hashes `chunk`, counts it and, in file mode, writes it out. Memory mode: `chunk` is the
    // next `chunk.size()` bytes of `bytes_` (committed in place).
    void take(std::string_view chunk) {
        crc_ = ossmp::crc64(chunk, crc_);
        if (md5_)
            md5_->update(chunk);
        size_ += chunk.size();
        if (mode_ == mode::file && !write_error_) {
            while (!chunk.empty()) {
                auto w = ::write(fd_, chunk.data(), chunk.size());
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0) {
                    write_error_ = std::error_code(errno ? errno : EIO, std::generic_category());
                    break;
                }
                chunk.remove_prefix(static_cast<std::size_t>(w));
            }
        }
    }

    static constexpr std::size_t scratch_max = 256 * 1024; // file / discard read buffer
    // Page-aligned: the kernel's copy out of the socket ran measurably slower into the
    // 256 KiB block malloc hands out (page + 16 bytes): 0.19 against 0.17 s of emulator CPU
    // per GB in the measurement above.
    static constexpr std::size_t scratch_align = 4096;
    struct scratch_free {
        void operator()(char* p) const noexcept {
            ::operator delete[](p, std::align_val_t{scratch_align});
        }
    };
    using scratch_ptr = std::unique_ptr<char[], scratch_free>;
    static scratch_ptr make_scratch(std::size_t n) {
        return scratch_ptr(
            static_cast<char*>(::operator new[](n, std::align_val_t{scratch_align})));
    }
    static constexpr std::size_t discard_read_max = 64 * 1024; // bytes per read in discard mode

    // One spare full-size scratch buffer per thread (no locking: each thread has its own), so a
    // keep-alive stream of part uploads does not allocate (and page in) 256 KiB per request.
    static scratch_ptr& spare_scratch() noexcept {
        thread_local scratch_ptr spare;
        return spare;
    }

    // Resizes the memory-mode block to `cap` bytes (>= size_), keeping its contents.
    void grow(std::uint64_t cap) {
        if (static_cast<std::size_t>(cap) != cap)
            throw std::bad_alloc();
        void* fresh = std::realloc(bytes_.get(), static_cast<std::size_t>(cap));
        if (!fresh)
            throw std::bad_alloc();
        (void)bytes_.release();
        bytes_.reset(static_cast<char*>(fresh));
        capacity_ = cap;
    }

    mode mode_;
    std::uint64_t expected_ = 0; // the declared length (0: unknown)
    ram_bytes bytes_;            // memory mode
    std::uint64_t capacity_ = 0;
    scratch_ptr scratch_; // file / discard mode
    std::size_t scratch_size_ = 0;
    std::uint64_t size_ = 0;
    std::uint64_t crc_ = 0;
    std::optional<crypto::md5_hasher> md5_;
    std::optional<crypto::md5_digest> md5_done_;
    int fd_ = -1;
    std::string path_;
    std::error_code write_error_;
};

namespace detail {

inline std::int64_t to_unix_ms(clock_type::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline clock_type::time_point from_unix_ms(std::int64_t ms) {
    return clock_type::time_point(
        std::chrono::duration_cast<clock_type::duration>(std::chrono::milliseconds(ms)));
}

// The small text format of .meta files: one `name value` per line, value percent-encoded.
class meta_writer {
public:
    void add(std::string_view name, std::string_view value) {
        text_.append(name);
        text_ += ' ';
        uri::encode_to(text_, value, false);
        text_ += '\n';
    }
    void add(std::string_view name, std::uint64_t v) { add(name, std::to_string(v)); }
    const std::string& text() const noexcept { return text_; }

private:
    std::string text_;
};

inline std::vector<std::pair<std::string, std::string>> read_meta(const std::string& path) {
    std::vector<std::pair<std::string, std::string>> out;
    std::ifstream in(path, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
        auto sp = line.find(' ');
        if (sp == std::string::npos)
            continue;
        auto v = uri::decode(std::string_view(line).substr(sp + 1), false);
        if (!v)
            return {};
        out.emplace_back(line.substr(0, sp), std::move(*v));
    }
    return out;
}

inline std::string_view meta_get(const std::vector<std::pair<std::string, std::string>>& m,
                                 std::string_view name) {
    for (const auto& [n, v] : m)
        if (n == name)
            return v;
    return {};
}

inline std::optional<std::uint64_t>
meta_u64(const std::vector<std::pair<std::string, std::string>>& m, std::string_view name) {
    std::uint64_t v = 0;
    auto s = meta_get(m, name);
    if (!ossmp::emulator::detail::parse_u64(s, v))
        return std::nullopt;
    return v;
}

} // namespace detail

/// The emulator's state: all buckets and their contents (see the file comment).
class storage {
public:
    /// Creates the storage; for `dir` it creates ROOT, clears ROOT/.tmp and loads what is there.
    /// Errors (unwritable directory) are returned by `open`, not thrown.
    storage(storage_kind kind = storage_kind::memory, std::string root = {})
        : kind_(kind), root_(std::move(root)) {
        std::random_device rd;
        rng_.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    }

    /// Opens the storage: creates the given buckets (and, for dir storage, loads existing ones).
    std::error_code open(const std::vector<std::string>& buckets) {
        if (kind_ == storage_kind::dir) {
            std::error_code ec;
            std::filesystem::create_directories(root_ + "/.tmp", ec);
            if (ec)
                return ec;
            for (auto& e : std::filesystem::directory_iterator(root_ + "/.tmp", ec))
                std::filesystem::remove_all(e.path(), ec);
            if (auto lec = load(); lec)
                return lec;
        }
        for (const auto& b : buckets)
            if (auto ec = create_bucket(b); ec)
                return ec;
        return {};
    }

    /// Makes upload ids and file names deterministic (fuzzing, tests); ids also depend on the
    /// `now` passed to `new_upload_id`.
    void seed(std::uint64_t s) {
        rng_.seed(s);
        last_id_ns_ = 0;
        counter_ = 0;
    }

    storage_kind kind() const noexcept { return kind_; }
    const std::string& root() const noexcept { return root_; }

    /// Creates a bucket if it does not exist.
    std::error_code create_bucket(const std::string& name) {
        if (buckets_.count(name))
            return {};
        if (kind_ == storage_kind::dir) {
            std::error_code ec;
            std::filesystem::create_directories(bucket_dir(name) + "/objects", ec);
            if (!ec)
                std::filesystem::create_directories(bucket_dir(name) + "/uploads", ec);
            if (ec)
                return ec;
        }
        buckets_[name].name = name;
        return {};
    }

    bucket_record* find_bucket(std::string_view name) {
        auto it = buckets_.find(std::string(name));
        return it == buckets_.end() ? nullptr : &it->second;
    }

    /// A fresh upload id: 32 upper-case hex, time-ordered (ids of one key sort by initiation).
    std::string new_upload_id(clock_type::time_point now) {
        auto ns = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
        if (ns <= last_id_ns_)
            ns = last_id_ns_ + 1;
        last_id_ns_ = ns;
        char buf[33];
        std::snprintf(buf, sizeof buf, "%016llX%016llX", static_cast<unsigned long long>(ns),
                      static_cast<unsigned long long>(rng_()));
        return buf;
    }

    /// A body sink for a request body that will become a part or an object.
    std::unique_ptr<body_sink> make_sink(std::uint64_t expected, bool need_md5) {
        switch (kind_) {
        case storage_kind::memory:
            return std::make_unique<body_sink>(body_sink::mode::memory, expected, true);
        case storage_kind::sink:
            return std::make_unique<body_sink>(body_sink::mode::discard, expected, need_md5);
        case storage_kind::dir: {
            auto path = root_ + "/.tmp/" + unique_name() + ".body";
            int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0) // the write error surfaces at commit time
                return std::make_unique<body_sink>(body_sink::mode::discard, expected, true);
            return std::make_unique<body_sink>(body_sink::mode::file, expected, true, fd, path);
        }
        }
        return nullptr;
    }

    /// A sink that keeps the bytes in RAM whatever the storage (XML bodies).
    static std::unique_ptr<body_sink> make_memory_sink(std::uint64_t expected) {
        return std::make_unique<body_sink>(body_sink::mode::memory, expected, false);
    }
    /// A sink that only hashes (faulted requests, drained bodies).
    static std::unique_ptr<body_sink> make_discard_sink(std::uint64_t expected, bool md5) {
        return std::make_unique<body_sink>(body_sink::mode::discard, expected, md5);
    }

    /// Registers a new upload (persisted for dir storage).
    std::error_code add_upload(bucket_record& b, upload_record u) {
        if (kind_ == storage_kind::dir) {
            auto dir = upload_dir(b.name, u.upload_id);
            std::error_code ec;
            std::filesystem::create_directories(dir, ec);
            if (ec)
                return ec;
            if (auto wec = write_meta(dir + "/upload.meta", upload_meta(u)); wec)
                return wec;
        }
        auto k = std::make_pair(u.key, u.upload_id);
        b.uploads.emplace(std::move(k), std::move(u));
        return {};
    }

    upload_record* find_upload(bucket_record& b, const std::string& key, const std::string& id) {
        auto it = b.uploads.find(std::make_pair(key, id));
        return it == b.uploads.end() ? nullptr : &it->second;
    }

    /// Stores (or replaces) a part whose bytes are in `sink` (all of it received).
    std::error_code put_part(bucket_record& b, upload_record& u, part_record p, body_sink& sink) {
        if (auto ec = sink.write_error(); ec)
            return ec;
        if (kind_ == storage_kind::memory) {
            p.data = sink.take_memory_blob();
        } else if (kind_ == storage_kind::dir) {
            auto dir = upload_dir(b.name, u.upload_id);
            p.data_name = "part-" + std::to_string(p.number) + "." + unique_name() + ".data";
            auto final_path = dir + "/" + p.data_name;
            auto tmp = sink.release_file();
            if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
                auto ec = std::error_code(errno, std::generic_category());
                ::unlink(tmp.c_str());
                return ec;
            }
            p.data = blob::in_file(final_path, p.size);
            detail::meta_writer m;
            m.add("number", static_cast<std::uint64_t>(p.number));
            m.add("size", p.size);
            m.add("etag", p.etag);
            m.add("crc64", p.crc64);
            m.add("mtime", static_cast<std::uint64_t>(detail::to_unix_ms(p.last_modified)));
            m.add("data", p.data_name);
            if (auto ec = write_meta(dir + "/part-" + std::to_string(p.number) + ".meta", m); ec) {
                p.data->doom();
                return ec;
            }
        }
        auto [it, inserted] = u.parts.try_emplace(p.number);
        if (!inserted && it->second.data)
            it->second.data->doom();
        it->second = std::move(p);
        return {};
    }

    /// Removes an upload and its parts (Abort, or after Complete). With `keep_part_data` the
    /// part blobs live on (memory storage: the completed object shares them).
    void remove_upload(bucket_record& b, const std::string& key, const std::string& id,
                       bool keep_part_data = false) {
        auto it = b.uploads.find(std::make_pair(key, id));
        if (it == b.uploads.end())
            return;
        if (!keep_part_data)
            for (auto& [n, p] : it->second.parts)
                if (p.data)
                    p.data->doom();
        b.uploads.erase(it); // part blobs die here (parts are never streamed out)
        if (kind_ == storage_kind::dir) {
            std::error_code ec;
            std::filesystem::remove(upload_dir(b.name, id) + "/upload.meta", ec);
            std::filesystem::remove_all(upload_dir(b.name, id), ec);
        }
    }

    /// Stores (or replaces) a simple object whose bytes are in `sink`.
    std::error_code put_object(bucket_record& b, object_record o, body_sink& sink) {
        if (auto ec = sink.write_error(); ec)
            return ec;
        if (kind_ == storage_kind::memory) {
            o.segments.push_back(sink.take_memory_blob());
        } else if (kind_ == storage_kind::dir) {
            o.data_name = object_name(o.key) + "." + unique_name() + ".data";
            auto final_path = bucket_dir(b.name) + "/objects/" + o.data_name;
            auto tmp = sink.release_file();
            if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
                auto ec = std::error_code(errno, std::generic_category());
                ::unlink(tmp.c_str());
                return ec;
            }
            o.segments.push_back(blob::in_file(final_path, o.size));
        }
        return commit_object(b, std::move(o));
    }

    /// Builds the object of a completed upload from `parts` (in order) and removes the upload.
    std::error_code complete_upload(bucket_record& b, upload_record& u,
                                    const std::vector<const part_record*>& parts, object_record o) {
        if (kind_ == storage_kind::memory) {
            for (const auto* p : parts)
                o.segments.push_back(p->data);
        } else if (kind_ == storage_kind::dir) {
            o.data_name = object_name(o.key) + "." + unique_name() + ".data";
            auto tmp = root_ + "/.tmp/" + o.data_name;
            if (auto ec = concatenate(parts, tmp); ec)
                return ec;
            auto final_path = bucket_dir(b.name) + "/objects/" + o.data_name;
            if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
                auto ec = std::error_code(errno, std::generic_category());
                ::unlink(tmp.c_str());
                return ec;
            }
            o.segments.push_back(blob::in_file(final_path, o.size));
        }
        auto key = u.key;
        auto id = u.upload_id;
        if (auto ec = commit_object(b, std::move(o)); ec)
            return ec;
        // Memory: the object shares the part blobs, so they must not be doomed (they are not
        // files anyway). Dir: the parts were copied, their files go with the upload.
        remove_upload(b, key, id, kind_ == storage_kind::memory);
        return {};
    }

    /// Removes an object; false if there was none.
    bool remove_object(bucket_record& b, const std::string& key) {
        auto it = b.objects.find(key);
        if (it == b.objects.end())
            return false;
        for (auto& s : it->second.segments)
            s->doom();
        if (kind_ == storage_kind::dir)
            ::unlink((bucket_dir(b.name) + "/objects/" + object_name(key) + ".meta").c_str());
        b.objects.erase(it);
        return true;
    }

private:
    std::error_code commit_object(bucket_record& b, object_record o) {
        if (kind_ == storage_kind::dir) {
            detail::meta_writer m;
            m.add("key", o.key);
            m.add("size", o.size);
            m.add("etag", o.etag);
            m.add("crc64", o.crc64);
            m.add("mtime", static_cast<std::uint64_t>(detail::to_unix_ms(o.last_modified)));
            m.add("content-type", o.content_type);
            m.add("object-type", o.object_type);
            m.add("data", o.data_name);
            for (const auto& [n, v] : o.metadata)
                m.add("meta", n + "=" + v);
            auto path = bucket_dir(b.name) + "/objects/" + object_name(o.key) + ".meta";
            if (auto ec = write_meta(path, m); ec) {
                for (auto& s : o.segments)
                    s->doom();
                return ec;
            }
        }
        auto [it, inserted] = b.objects.try_emplace(o.key);
        if (!inserted)
            for (auto& s : it->second.segments)
                s->doom();
        it->second = std::move(o);
        return {};
    }

    std::error_code concatenate(const std::vector<const part_record*>& parts,
                                const std::string& out_path) {
        int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
            return {errno, std::generic_category()};
        std::error_code ec;
        for (const auto* p : parts) {
            int in = ::open(p->data->path().c_str(), O_RDONLY | O_CLOEXEC);
            if (in < 0) {
                ec = {errno, std::generic_category()};
                break;
            }
            std::uint64_t left = p->size;
            while (left > 0 && !ec) {
                auto n = ::copy_file_range(
                    in, nullptr, out, nullptr,
                    static_cast<std::size_t>(std::min<std::uint64_t>(left, std::uint64_t(1) << 30)),
                    0);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL))
                    n = copy_plain(in, out, left);
                if (n <= 0) {
                    ec = {n < 0 ? errno : EIO, std::generic_category()};
                    break;
                }
                left -= static_cast<std::uint64_t>(n);
            }
            ::close(in);
            if (ec)
                break;
        }
        ::close(out);
        if (ec)
            ::unlink(out_path.c_str());
        return ec;
    }

    static ssize_t copy_plain(int in, int out, std::uint64_t left) {
        char buf[64 * 1024];
        auto n =
            ::read(in, buf, static_cast<std::size_t>(std::min<std::uint64_t>(left, sizeof buf)));
        if (n <= 0)
            return n;
        ssize_t done = 0;
        while (done < n) {
            auto w = ::write(out, buf + done, static_cast<std::size_t>(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return -1;
            done += w;
        }
        return n;
    }

    std::error_code write_meta(const std::string& path, const detail::meta_writer& m) {
        auto tmp = root_ + "/.tmp/" + unique_name() + ".meta";
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            out << m.text();
            out.flush();
            if (!out)
                return std::make_error_code(std::errc::io_error);
        }
        if (::rename(tmp.c_str(), path.c_str()) != 0) {
            auto ec = std::error_code(errno, std::generic_category());
            ::unlink(tmp.c_str());
            return ec;
        }
        return {};
    }

    static detail::meta_writer upload_meta(const upload_record& u) {
        detail::meta_writer m;
        m.add("key", u.key);
        m.add("upload-id", u.upload_id);
        m.add("initiated", static_cast<std::uint64_t>(detail::to_unix_ms(u.initiated)));
        m.add("content-type", u.content_type);
        m.add("forbid-overwrite", u.forbid_overwrite ? "true" : "false");
        for (const auto& [n, v] : u.metadata)
            m.add("meta", n + "=" + v);
        return m;
    }

    static void read_metadata_lines(const std::vector<std::pair<std::string, std::string>>& m,
                                    metadata_list& out) {
        for (const auto& [n, v] : m)
            if (n == "meta") {
                auto eq = v.find('=');
                if (eq != std::string::npos)
                    out.emplace_back(v.substr(0, eq), v.substr(eq + 1));
            }
    }

    // Reloads every bucket directory: objects with their data files, uploads with their parts.
    // Data files that no meta names (left by a crash between the two renames) are removed.
    std::error_code load() {
        namespace fs = std::filesystem;
        std::error_code ec;
        for (auto& bdir : fs::directory_iterator(root_, ec)) {
            auto name = bdir.path().filename().string();
            if (!bdir.is_directory() || name.starts_with("."))
                continue;
            auto& b = buckets_[name];
            b.name = name;
            fs::create_directories(bdir.path() / "objects", ec);
            fs::create_directories(bdir.path() / "uploads", ec);
            std::vector<std::string> referenced;
            for (auto& f : fs::directory_iterator(bdir.path() / "objects", ec)) {
                if (f.path().extension() != ".meta")
                    continue;
                auto m = detail::read_meta(f.path().string());
                object_record o;
                o.key = std::string(detail::meta_get(m, "key"));
                auto size = detail::meta_u64(m, "size");
                auto crc = detail::meta_u64(m, "crc64");
                auto mtime = detail::meta_u64(m, "mtime");
                o.data_name = std::string(detail::meta_get(m, "data"));
                auto data_path = (bdir.path() / "objects" / o.data_name).string();
                std::error_code sec;
                if (o.key.empty() || !size || !crc || !mtime || o.data_name.empty() ||
                    fs::file_size(data_path, sec) != *size || sec)
                    continue;
                o.size = *size;
                o.crc64 = *crc;
                o.last_modified = detail::from_unix_ms(static_cast<std::int64_t>(*mtime));
                o.etag = std::string(detail::meta_get(m, "etag"));
                o.content_type = std::string(detail::meta_get(m, "content-type"));
                o.object_type = std::string(detail::meta_get(m, "object-type"));
                read_metadata_lines(m, o.metadata);
                o.segments.push_back(blob::in_file(data_path, o.size));
                referenced.push_back(o.data_name);
                b.objects[o.key] = std::move(o);
            }
            for (auto& f : fs::directory_iterator(bdir.path() / "objects", ec))
                if (f.path().extension() == ".data" &&
                    std::find(referenced.begin(), referenced.end(), f.path().filename().string()) ==
                        referenced.end())
                    fs::remove(f.path(), ec);
            for (auto& udir : fs::directory_iterator(bdir.path() / "uploads", ec))
                load_upload(b, udir.path());
        }
        return {};
    }

    void load_upload(bucket_record& b, const std::filesystem::path& dir) {
        namespace fs = std::filesystem;
        std::error_code ec;
        auto m = detail::read_meta((dir / "upload.meta").string());
        upload_record u;
        u.key = std::string(detail::meta_get(m, "key"));
        u.upload_id = std::string(detail::meta_get(m, "upload-id"));
        auto initiated = detail::meta_u64(m, "initiated");
        if (u.key.empty() || u.upload_id.empty() || !initiated) {
            fs::remove_all(dir, ec); // never completed its creation, or finished/aborted
            return;
        }
        u.initiated = detail::from_unix_ms(static_cast<std::int64_t>(*initiated));
        u.content_type = std::string(detail::meta_get(m, "content-type"));
        u.forbid_overwrite = detail::meta_get(m, "forbid-overwrite") == "true";
        read_metadata_lines(m, u.metadata);
        std::vector<std::string> referenced;
        for (auto& f : fs::directory_iterator(dir, ec)) {
            auto fname = f.path().filename().string();
            if (!fname.starts_with("part-") || f.path().extension() != ".meta")
                continue;
            auto pm = detail::read_meta(f.path().string());
            part_record p;
            auto number = detail::meta_u64(pm, "number");
            auto size = detail::meta_u64(pm, "size");
            auto crc = detail::meta_u64(pm, "crc64");
            auto mtime = detail::meta_u64(pm, "mtime");
            p.data_name = std::string(detail::meta_get(pm, "data"));
            auto data_path = (dir / p.data_name).string();
            std::error_code sec;
            if (!number || *number < 1 || *number > 10000 || !size || !crc || !mtime ||
                p.data_name.empty() || fs::file_size(data_path, sec) != *size || sec)
                continue;
            p.number = static_cast<int>(*number);
            p.size = *size;
            p.crc64 = *crc;
            p.last_modified = detail::from_unix_ms(static_cast<std::int64_t>(*mtime));
            p.etag = std::string(detail::meta_get(pm, "etag"));
            p.data = blob::in_file(data_path, p.size);
            referenced.push_back(p.data_name);
            u.parts[p.number] = std::move(p);
        }
        for (auto& f : fs::directory_iterator(dir, ec))
            if (f.path().extension() == ".data" &&
                std::find(referenced.begin(), referenced.end(), f.path().filename().string()) ==
                    referenced.end())
                fs::remove(f.path(), ec);
        auto k = std::make_pair(u.key, u.upload_id);
        b.uploads.emplace(std::move(k), std::move(u));
    }

    std::string bucket_dir(const std::string& bucket) const { return root_ + "/" + bucket; }
    std::string upload_dir(const std::string& bucket, const std::string& id) const {
        return root_ + "/" + bucket + "/uploads/" + id;
    }
    // Keys can be 1023 bytes of anything: the file name is a hash of the key (the key itself
    // is inside the .meta file).
    static std::string object_name(const std::string& key) {
        return crypto::hex_lower(crypto::sha256(key));
    }
    std::string unique_name() {
        char buf[24];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng_()));
        return std::string(buf) + std::to_string(++counter_);
    }

    storage_kind kind_;
    std::string root_;
    std::map<std::string, bucket_record> buckets_;
    std::mt19937_64 rng_;
    std::uint64_t counter_ = 0;
    std::uint64_t last_id_ns_ = 0;
};

} // namespace ossmp::emulator
