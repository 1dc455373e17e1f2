// ossmp/file_body.hpp: `file_body`, a request body streamed from a byte range of a file by
// positional reads of chunks that never wait for the disk on an I/O thread.
#pragma once

#include "ossmp/detail/asio.hpp"
#include "ossmp/error.hpp"
#include "ossmp/http/body_source.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace ossmp {

/// The executor file reads run on by default: a process-wide pool of two threads, made on
/// first use and joined at exit. Reads are blocking `pread` calls: on a slow disk they wait
/// there, never on a thread that runs an io_context.
inline asio::thread_pool::executor_type default_file_executor() {
    static asio::thread_pool pool(2);
    return pool.get_executor();
}

namespace detail {

/// A process-wide free list of chunk buffers. A file body takes one at its first read and gives
/// it back when it is destroyed, so that the parts of an upload do not each allocate, zero and
/// fault in a fresh buffer (measured: 14% of an upload's CPU was `memset` of new 1 MiB chunk
/// buffers, with page faults under it). Keeps at most `max_idle` idle buffers. Thread-safe.
class chunk_buffer_pool {
public:
    using buffer = std::unique_ptr<std::byte[]>;
    static constexpr std::size_t max_idle = 16;

    /// The pool (never destroyed: bodies may outlive static destruction in detached work).
    static chunk_buffer_pool& instance() {
        static chunk_buffer_pool* pool = new chunk_buffer_pool;
        return *pool;
    }
    /// A buffer of `size` bytes, not initialised. Throws `std::bad_alloc`.
    buffer take(std::size_t size) {
        {
            std::lock_guard lock(mutex_);
            for (auto it = idle_.begin(); it != idle_.end(); ++it)
                if (it->second == size) {
                    buffer b = std::move(it->first);
                    idle_.erase(it);
                    return b;
                }
        }
        return std::make_unique_for_overwrite<std::byte[]>(size);
    }
    /// Gives back a buffer of `size` bytes (freed when the pool is full).
    void give(buffer b, std::size_t size) noexcept {
        std::lock_guard lock(mutex_);
        if (b && idle_.size() < max_idle) // capacity reserved: never allocates
            idle_.emplace_back(std::move(b), size);
    }

private:
    chunk_buffer_pool() { idle_.reserve(max_idle); }
    std::mutex mutex_;
    std::vector<std::pair<buffer, std::size_t>> idle_;
};

} // namespace detail

/// Settings of a `file_body`.
struct file_body_options {
    /// Bytes read per chunk (one buffer of this size per body). 1 MiB was measured as the best
    /// trade-off between syscalls and keeping a chunk in cache between the read, the CRC-64 and
    /// the socket copy (shared/design.md, section 4).
    std::size_t chunk_size = 1 << 20;
    /// Read a chunk that is already in the page cache at once, on the calling (I/O) thread,
    /// with `preadv2(RWF_NOWAIT)`, which never waits for the disk: it fails with EAGAIN
    /// instead, and then the chunk is read on the reader executor as usual. Saves two thread
    /// hops per chunk for a cached file (measured: see benchmarks/README.md, upload_bench).
    bool cached_reads_inline = true;
};

/// A request body of `length` bytes of a file from `offset`, read in chunks: a chunk the page
/// cache holds is read at once (`preadv2(RWF_NOWAIT)`, see `cached_reads_inline`); any other
/// with `pread` on `Executor` (default: `default_file_executor()`), so that a slow disk never
/// blocks a thread that runs an io_context. Models `http::body_source`.
///
/// Every pass (`rewind`, then chunks) reads the file again, so a retry sends the file's bytes
/// as they are then. A file that ends before `offset + length` completes a read with
/// `errc::source_changed`; a read error with its errno. The CRC-64 of what was sent is the
/// operation's business (`async_upload_part` computes it on the chunks).
///
/// Make it with `std::make_shared` (it keeps itself alive while a read runs). The descriptor
/// is duplicated: the caller may close its own at once. Memory: one chunk buffer, taken from a
/// process-wide pool at the first read and given back when the body is destroyed.
template <class Executor = asio::thread_pool::executor_type>
class basic_file_body final : public http::body_source,
                              public std::enable_shared_from_this<basic_file_body<Executor>> {
public:
    /// Throws `std::system_error` when `fd` cannot be duplicated.
    basic_file_body(int fd, std::uint64_t offset, std::uint64_t length, Executor reader,
                    file_body_options options = {})
        : fd_(::fcntl(fd, F_DUPFD_CLOEXEC, 0)), offset_(offset), length_(length),
          reader_(std::move(reader)),
          buffer_size_(static_cast<std::size_t>(std::min<std::uint64_t>(
              std::max<std::size_t>(options.chunk_size, 1), std::max<std::uint64_t>(length, 1)))),
          inline_reads_(options.cached_reads_inline) {
        if (fd_ < 0)
            throw std::system_error(errno, std::generic_category(), "file_body: dup");
    }
    basic_file_body(const basic_file_body&) = delete;
    basic_file_body& operator=(const basic_file_body&) = delete;
    ~basic_file_body() override {
        ::close(fd_);
        detail::chunk_buffer_pool::instance().give(std::move(buffer_), buffer_size_);
    }

    std::uint64_t size() const noexcept override { return length_; }

    std::error_code rewind() override {
        position_ = 0;
        prefilled_ = 0;
        return {};
    }

    /// Reads the next chunk and calls `handler` with it: at once when the chunk is in the page
    /// cache (`file_body_options::cached_reads_inline`), else on the reader executor.
    void async_read_chunk(chunk_handler handler) override {
        if (position_ >= length_) {
            handler(std::error_code{}, std::span<const std::byte>{});
            return;
        }
        if (auto chunk = read_cached()) {
            handler(std::error_code{}, *chunk);
            return;
        }
        asio::post(reader_, [self = this->shared_from_this(), h = std::move(handler)]() mutable {
            self->read(std::move(h));
        });
    }

private:
    bool take_buffer() noexcept {
        if (!buffer_) {
            try {
                buffer_ = detail::chunk_buffer_pool::instance().take(buffer_size_);
            } catch (const std::bad_alloc&) {
                return false;
            }
        }
        return true;
    }

    /// The next chunk when the page cache has all of it (a read that cannot wait for the disk),
    /// else nothing (EAGAIN, a short read, a kernel or file system without RWF_NOWAIT: the
    /// reader executor reads the chunk, from its start).
    std::optional<std::span<const std::byte>> read_cached() noexcept {
#ifdef RWF_NOWAIT
        if (!inline_reads_ || !take_buffer())
            return std::nullopt;
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer_size_, length_ - position_));
        iovec iov{buffer_.get(), n};
        const ssize_t r =
            ::preadv2(fd_, &iov, 1, static_cast<off_t>(offset_ + position_), RWF_NOWAIT);
        if (r == static_cast<ssize_t>(n)) {
            position_ += n;
            return std::span<const std::byte>(buffer_.get(), n);
        }
        if (r > 0) // the cached beginning: the reader goes on from there
            prefilled_ = static_cast<std::size_t>(r);
        else if (r < 0 && (errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSYS))
            inline_reads_ = false; // not supported here: do not ask again
#endif
        return std::nullopt;
    }

    void read(chunk_handler handler) {
        if (!take_buffer())
            return handler(std::make_error_code(std::errc::not_enough_memory), {});
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer_size_, length_ - position_));
        std::size_t done = std::exchange(prefilled_, std::size_t{0});
        while (done < n) {
            const ssize_t r = ::pread(fd_, buffer_.get() + done, n - done,
                                      static_cast<off_t>(offset_ + position_ + done));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return handler(std::error_code(errno, std::generic_category()), {});
            if (r == 0) // the file is shorter than it was: never send a short body
                return handler(make_error_code(errc::source_changed), {});
            done += static_cast<std::size_t>(r);
        }
        position_ += n;
        handler(std::error_code{}, std::span<const std::byte>(buffer_.get(), n));
    }

    int fd_;
    std::uint64_t offset_;
    std::uint64_t length_;
    Executor reader_;
    std::size_t buffer_size_;
    bool inline_reads_;
    std::size_t prefilled_ = 0; // bytes of the next chunk already read by `read_cached`
    detail::chunk_buffer_pool::buffer buffer_; // from the pool at the first read
    std::uint64_t position_ = 0;
};

using file_body = basic_file_body<>;

/// `std::make_shared<file_body>(fd, offset, length, default_file_executor(), options)`.
inline std::shared_ptr<file_body> make_file_body(int fd, std::uint64_t offset, std::uint64_t length,
                                                 file_body_options options = {}) {
    return std::make_shared<file_body>(fd, offset, length, default_file_executor(), options);
}

} // namespace ossmp
