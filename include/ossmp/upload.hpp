// ossmp/upload.hpp: `async_upload`, one call that turns a file or a memory span into one OSS
// object: a single PutObject below one part, else a multipart upload with a bounded window of
// parts in flight, retries, and the whole object verified against its parts.
//
// Composite layer: built on ops/*.hpp only. The algorithm is an `asio::awaitable` coroutine
// (the window, first-error-wins, the abort that the caller's cancellation cannot reach, and
// the verification read like the plan they implement); `async_upload` starts it with
// `co_spawn` inside `async_initiate`, so it takes any completion token like every operation.
#pragma once

#include "ossmp/checkpoint.hpp"
#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/crypto.hpp"
#include "ossmp/detail/asio.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/error.hpp"
#include "ossmp/file_body.hpp"
#include "ossmp/http/body_source.hpp"
#include "ossmp/limits.hpp"
#include "ossmp/model.hpp"
#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/complete.hpp"
#include "ossmp/ops/head_object.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/list_parts.hpp"
#include "ossmp/ops/put_object.hpp"
#include "ossmp/ops/upload_part.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/retry.hpp"
#include "ossmp/validate.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace ossmp {

// --- Part sources --------------------------------------------------------------------------------

/// The body of one part: a view of bytes the caller holds (zero copy), or a streamed source.
struct part_body {
    std::span<const std::byte> data;
    std::shared_ptr<http::body_source> source;
};

/// A source of known size that can hand out any byte range as a part body, any number of
/// times (a retry asks again): `s.size()` and `s.part(offset, length)`.
template <class S>
concept part_source = requires(S& s, std::uint64_t offset, std::uint64_t length) {
    { s.size() } -> std::convertible_to<std::uint64_t>;
    { s.part(offset, length) } -> std::convertible_to<part_body>;
};

/// Bytes the caller owns: parts are views (no buffer, no copy). The bytes must stay alive and
/// unchanged until the upload completes.
class memory_source {
public:
    explicit memory_source(std::span<const std::byte> data) noexcept : data_(data) {}
    std::uint64_t size() const noexcept { return data_.size(); }
    part_body part(std::uint64_t offset, std::uint64_t length) const {
        return part_body{
            data_.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(length)),
            nullptr};
    }
    /// What a part counts against a `memory_budget`: its length (the bytes on their way; the
    /// upload itself allocates nothing for them).
    std::uint64_t part_memory(std::uint64_t length) const noexcept { return length; }
    /// What a checkpoint binds to: the size (the bytes themselves are checked by CRC-64 when
    /// an upload of them is resumed).
    source_identity identity() const {
        source_identity id;
        id.kind = "memory";
        id.size = data_.size();
        return id;
    }

private:
    std::span<const std::byte> data_;
};

/// A regular file: each part is streamed from the file by `pread` of chunks on the file
/// executor (`file_body`), so memory is one chunk buffer per part in flight, whatever the part
/// size. The size is taken when the source is made; a file that shrinks fails the part that
/// finds it shorter (`errc::source_changed`); `changed()` tells whether size or mtime moved.
class file_source {
public:
    /// Uses `fd` (duplicated: the caller may close its own). Throws `std::system_error` when
    /// it cannot be duplicated or stat'ed, `std::invalid_argument` when it is not a regular
    /// file (a pipe has no size: buffer it, or use a stream source).
    /// `path` is only recorded (in `identity()`, for a checkpoint).
    explicit file_source(int fd, file_body_options options = {}, std::string path = {})
        : fd_(std::make_shared<owned_fd>(::fcntl(fd, F_DUPFD_CLOEXEC, 0))), options_(options),
          path_(std::move(path)) {
        if (fd_->fd < 0)
            throw std::system_error(errno, std::generic_category(), "file_source: dup");
        if (::fstat(fd_->fd, &stat_) != 0)
            throw std::system_error(errno, std::generic_category(), "file_source: fstat");
        if (!S_ISREG(stat_.st_mode))
            throw std::invalid_argument("file_source: not a regular file");
    }
    /// Opens `path` read-only (following links: it is only read).
    static file_source open(const std::string& path, file_body_options options = {}) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            throw std::system_error(errno, std::generic_category(), "open " + path);
        try {
            file_source s(fd, options, path);
            ::close(fd);
            return s;
        } catch (...) {
            ::close(fd);
            throw;
        }
    }

    std::uint64_t size() const noexcept { return static_cast<std::uint64_t>(stat_.st_size); }
    part_body part(std::uint64_t offset, std::uint64_t length) const {
        return part_body{{},
                         std::make_shared<file_body>(fd_->fd, offset, length,
                                                     default_file_executor(), options_)};
    }
    /// True when the file's size or modification time differs from when the source was made.
    bool changed() const {
        struct stat now {};
        if (::fstat(fd_->fd, &now) != 0)
            return true;
        return now.st_size != stat_.st_size || now.st_mtim.tv_sec != stat_.st_mtim.tv_sec ||
               now.st_mtim.tv_nsec != stat_.st_mtim.tv_nsec;
    }
    int native_handle() const noexcept { return fd_->fd; }
    /// What a part counts against a `memory_budget`: its chunk buffer (a part is streamed from
    /// the file through one).
    std::uint64_t part_memory(std::uint64_t length) const noexcept {
        return std::min<std::uint64_t>(length, options_.chunk_size);
    }
    /// What a checkpoint binds to: path (informative), size, modification time, device and
    /// inode, as they were when the source was made.
    source_identity identity() const {
        source_identity id;
        id.kind = "file";
        id.path = path_;
        id.size = size();
        id.mtime_sec = static_cast<std::int64_t>(stat_.st_mtim.tv_sec);
        id.mtime_nsec = static_cast<std::uint32_t>(stat_.st_mtim.tv_nsec);
        id.device = static_cast<std::uint64_t>(stat_.st_dev);
        id.inode = static_cast<std::uint64_t>(stat_.st_ino);
        return id;
    }

private:
    struct owned_fd {
        explicit owned_fd(int f) : fd(f) {}
        owned_fd(const owned_fd&) = delete;
        owned_fd& operator=(const owned_fd&) = delete;
        ~owned_fd() {
            if (fd >= 0)
                ::close(fd);
        }
        int fd;
    };
    std::shared_ptr<owned_fd> fd_;
    file_body_options options_;
    std::string path_;
    struct stat stat_ {};
};

namespace detail {

/// Frees what `allocate_part_memory` made.
struct part_memory_free {
    void operator()(std::byte* p) const noexcept { std::free(p); }
};
/// A stream's part buffer.
using part_memory = std::unique_ptr<std::byte[], part_memory_free>;

/// `size` bytes, not initialised, for a stream's part buffer; throws `std::bad_alloc`. From 2
/// MiB up, aligned to 2 MiB and its whole 2 MiB pages advised as transparent huge pages
/// (`MADV_HUGEPAGE`; where THP is off, nothing changes). The first touch of a fresh buffer is a
/// page fault per 4 KiB page, and on the 2-core VM of our benchmarks a fault costs 11 us (400
/// MiB touched: 1.13 s; 0.31-0.76 s advised), which made the first 128 MiB of a piped stream
/// 0.08-0.12 s slower than the rest while its W+1 8 MiB buffers were first filled (0.01-0.03 s
/// advised).
inline part_memory allocate_part_memory(std::size_t size) {
    constexpr std::size_t huge = std::size_t{2} << 20;
    void* p = nullptr;
    if (size >= huge) {
        const std::size_t rounded = (size + huge - 1) / huge * huge;
        p = std::aligned_alloc(huge, rounded);
#ifdef MADV_HUGEPAGE
        if (p) // whole huge pages only: the tail past `size` is never touched, never resident
            (void)::madvise(p, size / huge * huge, MADV_HUGEPAGE);
#endif
    } else {
        p = std::malloc(size != 0 ? size : 1);
    }
    if (p == nullptr)
        throw std::bad_alloc();
    return part_memory(static_cast<std::byte*>(p));
}

} // namespace detail

/// An Asio async read stream of unknown length: a pipe or stdin (`asio::posix::
/// stream_descriptor`), a socket, anything with `async_read_some`. Each part is read whole
/// into one of at most W+1 part buffers (a stream cannot be read again for a retry), so memory
/// is (W+1) x the part size (`stream_part_size`, from `upload_options::part_size` and
/// `expected_size`). A stream that ends within the first part goes in one PutObject.
///
/// The stream is not owned: it must outlive the upload, and nothing else may read it
/// meanwhile. The upload reads it to its end (or to the first error, or until it fails or is
/// cancelled: then the read in progress is cancelled through its cancellation slot).
template <class AsyncReadStream>
class stream_source {
public:
    explicit stream_source(AsyncReadStream& stream) noexcept : stream_(&stream) {}
    AsyncReadStream& stream() const noexcept { return *stream_; }

private:
    AsyncReadStream* stream_;
};

template <class S>
struct is_stream_source : std::false_type {};
template <class T>
struct is_stream_source<stream_source<T>> : std::true_type {};
template <class S>
inline constexpr bool is_stream_source_v = is_stream_source<S>::value;

/// What `async_upload` uploads: a `part_source` (known size) or a `stream_source`.
template <class S>
concept upload_source = part_source<S> || is_stream_source_v<S>;

static_assert(part_source<memory_source>);
static_assert(part_source<file_source>);

// --- Parameters and results ----------------------------------------------------------------------

/// The object to create: bucket, key and everything InitiateMultipartUpload accepts (headers,
/// metadata, storage class, encryption, tagging, forbid-overwrite). A single PutObject (below
/// one part) sends the same headers.
struct upload_params : initiate_params {};

/// Bytes acknowledged by the server so far (whole parts), and the total.
struct upload_progress {
    std::uint64_t bytes_done = 0;
    std::uint64_t total = 0; ///< when `total_known`
    unsigned parts_done = 0;
    unsigned parts = 0; ///< 0 for a single PutObject, and for a stream until its end
    /// False for a stream source until its end was read (then `total` is its size).
    bool total_known = true;
};

/// How `async_upload` works.
struct upload_options {
    /// The preferred part size; `choose_part_size` raises it so the object fits in 10,000
    /// parts (100 KiB..5 GiB). An object of at most one part goes in one PutObject.
    std::uint64_t part_size = 8ull << 20;
    /// For a `stream_source`: the size the stream is expected to have (0: unknown). Its parts
    /// are sized for it and grow past it (`stream_part_size`); it is not a limit.
    std::uint64_t expected_size = 0;
    /// Parts in flight at most (W); 0 is taken as 1.
    unsigned parallel = 4;
    /// Retries of every request (parts, Initiate, Complete, the verification HeadObject, the
    /// PutObject), on top of whatever the client's own policy does.
    retry_policy retry = retry_policy::standard();
    /// Send Content-MD5 with each part (a first pass over a file part, on the file executor).
    bool content_md5 = false;
    /// Complete with `x-oss-complete-all: yes` instead of the part list.
    bool complete_all = false;
    /// On failure or cancellation, keep the multipart upload (its parts stay, billed) instead of
    /// aborting it; `upload_result::resume_token` then resumes it (a source of known size).
    bool keep_upload_on_failure = false;

    /// A checkpoint file (sources of known size; see checkpoint.hpp), "" for none. Written
    /// atomically right after InitiateMultipartUpload and as parts complete (when
    /// `checkpoint_every` parts are new or `checkpoint_interval` has passed since the last write,
    /// and at the end), removed once the object is complete or the upload aborted, kept when the
    /// upload is kept. A checkpoint already there for the same source (size, mtime, device,
    /// inode), object and parameters is resumed: the upload's parts are listed, a listed part
    /// is reused only when its size and CRC-64 equal those of the local bytes (read again),
    /// and the rest is sent; the object is verified as a whole as always. A checkpoint for
    /// anything else fails with `errc::checkpoint_mismatch`, a damaged one with
    /// `errc::checkpoint_corrupt` (unless `start_fresh`). If its upload is gone (NoSuchUpload)
    /// the upload starts over (`upload_result::restarted`). The file is never created for an
    /// object of one part (one PutObject: nothing to resume).
    std::string checkpoint_path;
    /// A resume token (`upload_result::resume_token` of an earlier, paused or kept upload of the
    /// same source and object): resumed like a checkpoint; it wins over the checkpoint file's
    /// contents (the file, if any, is where progress is written from then on).
    std::string resume_token;
    /// Do not resume: a checkpoint file already at `checkpoint_path` (damaged or not, for this
    /// upload or not) is replaced, and the upload it records is aborted (best effort).
    bool start_fresh = false;
    unsigned checkpoint_every = 64;
    std::chrono::milliseconds checkpoint_interval{1000};

    /// A rate limit to draw every byte sent from (parts and PutObject, retries included),
    /// chunk by chunk as it goes out (a part from memory or a stream in chunks of 256 KiB);
    /// share one `rate_limiter` among uploads to limit them together. None: no limit.
    std::optional<rate_limiter> rate_limit;
    /// A memory budget that the upload's part memory is drawn from (shared among uploads: their
    /// sum never exceeds it): a stream's part buffers (the part size each), a file part's chunk
    /// buffer, a memory part's length (its bytes in flight). A part waits for its memory before
    /// it starts (the window shrinks, nothing fails); one part larger than the whole budget
    /// goes when nothing else holds any. None: no budget.
    std::optional<memory_budget> budget;
    /// Called on the upload's strand with the bytes acknowledged so far, at most every
    /// `progress_interval` (and once at the end of every successful upload); never goes back.
    std::function<void(const upload_progress&)> on_progress;
    std::chrono::milliseconds progress_interval{200};
};

/// What an upload did.
struct upload_result {
    std::string etag;            ///< the object's ETag
    std::uint64_t crc64 = 0;     ///< the whole object's CRC-64 (parts combined)
    std::uint64_t size = 0;      ///< bytes uploaded
    unsigned parts = 0;          ///< parts (0: one PutObject)
    std::uint64_t part_size = 0; ///< the first part's (a stream's later parts may be larger)
    std::string upload_id;       ///< the multipart upload's id (also on failure, when made)
    /// True when the server confirmed the object's CRC-64 (Complete's or PutObject's header,
    /// or HeadObject's). False means the object exists but nothing vouched for its bytes.
    bool verified = false;
    bool aborted = false; ///< on failure: the upload was aborted (its parts deleted)
    /// Parts (and their bytes) of an earlier run that were found on the server with the local
    /// bytes' size and CRC-64, and not sent again (resuming a checkpoint or token).
    unsigned parts_reused = 0;
    std::uint64_t bytes_reused = 0;
    /// True when a checkpoint or token was given but its upload no longer existed
    /// (NoSuchUpload): everything was sent again in a new upload.
    bool restarted = false;
    /// True when a checkpoint or token was given, its upload no longer existed, and the object
    /// was found complete with the local bytes' size and CRC-64 (an earlier run completed it
    /// and ended before removing its checkpoint): nothing was sent, `verified` is true and
    /// every part counts as reused.
    bool already_complete = false;
    /// On failure or cancellation with the multipart upload kept (`keep_upload_on_failure`, or a
    /// pause): the state to resume it from (`upload_options::resume_token`). Empty otherwise.
    std::string resume_token;
    std::string failed_step; ///< on failure: "UploadPart 7", "CompleteMultipartUpload", ...
    diagnostics diag;        ///< on failure: what the server said about the failing request
};

namespace detail {

/// One part's outcome.
struct upload_part_outcome {
    int number = 0;
    std::uint64_t length = 0;
    std::error_code ec;
    std::string etag;
    std::uint64_t crc64 = 0;
    bool crc_from_server = false;
    bool reused = false; ///< found on the server (resume), not sent
    diagnostics diag;
};

template <class Client, class Source>
class uploader {
public:
    using executor_type = asio::strand<asio::any_io_executor>;

    uploader(Client& client, Source source, upload_params params, upload_options options,
             executor_type strand)
        : client_(client), source_(std::move(source)), params_(std::move(params)),
          options_(std::move(options)), strand_(std::move(strand)) {
        if (options_.parallel == 0)
            options_.parallel = 1;
    }

    /// The whole upload. Never throws: every failure is in the result's error code.
    asio::awaitable<std::pair<std::error_code, upload_result>> run() {
        co_await asio::this_coro::throw_if_cancelled(false);
        // Partial cancellation is a pause: it stops the upload like terminal cancellation, but
        // the multipart upload is kept and a resume token returned.
        auto* paused = &paused_;
        co_await asio::this_coro::reset_cancellation_state([paused](asio::cancellation_type t) {
            const bool terminal =
                (t & asio::cancellation_type::terminal) != asio::cancellation_type::none;
            if (!terminal &&
                (t & asio::cancellation_type::partial) != asio::cancellation_type::none) {
                paused->store(true);
                return asio::cancellation_type::terminal;
            }
            return terminal ? asio::cancellation_type::terminal : asio::cancellation_type::none;
        });
        std::error_code ec;
        try {
            ec = co_await run_inner();
        } catch (const std::bad_alloc&) {
            ec = std::make_error_code(std::errc::not_enough_memory);
        } catch (const std::system_error& e) {
            ec = e.code();
        } catch (...) {
            ec = make_error_code(errc::invalid_argument);
        }
        co_await finish_checkpoint(ec);
        co_return std::make_pair(ec, std::move(result_));
    }

private:
    using timer_type =
        asio::basic_waitable_timer<std::chrono::steady_clock,
                                   asio::wait_traits<std::chrono::steady_clock>, executor_type>;

    static bool cancelled(const std::error_code& ec) {
        return ec == asio::error::operation_aborted;
    }

    asio::awaitable<bool> caller_cancelled() {
        auto state = co_await asio::this_coro::cancellation_state;
        co_return state.cancelled() != asio::cancellation_type::none;
    }

    /// Waits `delay` (false when the caller cancelled meanwhile).
    asio::awaitable<bool> backoff(std::chrono::milliseconds delay) {
        timer_type timer(strand_, delay);
        auto [ec] = co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        co_return !ec;
    }

    /// Runs `attempt()` (an awaitable of `std::error_code`) until it succeeds, fails for good
    /// (`final(ec)`, or an error the policy does not retry), or the policy says stop.
    template <class Attempt, class Final>
    asio::awaitable<std::error_code> with_retries(Attempt attempt, Final final) {
        const auto start = std::chrono::steady_clock::now();
        for (unsigned n = 1;; ++n) {
            std::error_code ec = co_await attempt();
            if (!ec || cancelled(ec) || final(ec) || co_await caller_cancelled())
                co_return ec;
            const auto delay = options_.retry.backoff(n, retry_random());
            const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start);
            if (!options_.retry.allows(n, ec, elapsed, delay))
                co_return ec;
            if (!co_await backoff(delay))
                co_return asio::error::operation_aborted;
        }
    }
    template <class Attempt>
    asio::awaitable<std::error_code> with_retries(Attempt attempt) {
        return with_retries(std::move(attempt), [](const std::error_code&) { return false; });
    }

    void fail(std::string step, const diagnostics& d) {
        result_.failed_step = std::move(step);
        result_.diag = d;
    }

    void report_progress(bool force) {
        if (!options_.on_progress)
            return;
        const auto now = std::chrono::steady_clock::now();
        if (!force && now - last_progress_ < options_.progress_interval)
            return;
        last_progress_ = now;
        options_.on_progress(progress_);
    }

    asio::awaitable<std::error_code> run_inner() {
        if (auto ec = validate_bucket_name(params_.bucket))
            co_return ec;
        if (auto ec = validate_key(params_.key))
            co_return ec;
        if constexpr (is_stream_source_v<Source>) {
            if (!options_.checkpoint_path.empty() || !options_.resume_token.empty())
                co_return errc::not_resumable;
            co_return co_await run_stream();
        } else {
            co_return co_await run_known();
        }
    }

    asio::awaitable<std::error_code> run_known() {
        const std::uint64_t total = source_.size();
        progress_.total = total;
        result_.size = total;
        if (total > max_object_size)
            co_return errc::too_many_parts;
        std::uint64_t part_size = choose_part_size(total, options_.part_size);
        if (auto ec = co_await load_checkpoint(total))
            co_return ec;
        if (resume_)
            part_size = resume_->part_size;
        else if (total <= part_size)
            co_return co_await put_whole(
                total, [this, total] { return part_body(source_.part(0, total)); });
        part_size_ = part_size;
        result_.part_size = part_size;
        result_.parts = static_cast<unsigned>(part_count(total, part_size));
        progress_.parts = result_.parts;
        if (resume_) {
            result_.upload_id = resume_->upload_id;
            auto ec = co_await list_uploaded_parts();
            if (ec == service_errc::no_such_upload) {
                // Gone. Completed by the run that wrote the checkpoint, killed before it could
                // remove it: the object is there with the local bytes' size and CRC-64, and
                // nothing is left to send. Else (aborted, expired, another object): start over.
                bool done = false;
                if (auto cec = co_await completed_earlier(total, done))
                    co_return cec; // cancelled
                if (done)
                    co_return std::error_code{};
                result_.restarted = true;
                result_.upload_id.clear();
                resume_.reset();
                listed_.clear();
                recorded_.clear();
                done_.clear();
                result_.failed_step.clear();
                result_.diag = diagnostics{};
            } else if (ec) {
                co_return ec;
            }
        }
        if (!resume_) {
            if (auto ec = co_await initiate())
                co_return ec;
            if (checkpointing_) { // from now on the upload can be resumed
                checkpoint_owned_ = true;
                if (auto ec = co_await write_checkpoint_now()) {
                    fail("writing the checkpoint " + options_.checkpoint_path, diagnostics{});
                    co_await abort_upload();
                    co_return ec;
                }
            }
        }
        range_feeder feeder{*this, total, part_size, result_.parts};
        co_return co_await multipart(feeder);
    }

    // --- Checkpoints and resume --------------------------------------------------------------

    /// Runs `fn()` (a blocking file operation returning `std::error_code`) on the file
    /// executor. By reference: a caller passes a named closure, never a temporary in its
    /// co_await operand (g++ 12 destroys such a temporary twice, see `scan`).
    template <class Fn>
    static asio::awaitable<std::error_code> blocking(const Fn& fn) {
        auto call = [fn]() mutable -> asio::awaitable<std::error_code> {
            co_return fn();
        };
        auto on_file_executor =
            asio::co_spawn(default_file_executor(), std::move(call), asio::use_awaitable);
        co_return co_await std::move(on_file_executor);
    }

    source_identity identity() const {
        if constexpr (requires(const Source& s) {
                          { s.identity() } -> std::convertible_to<source_identity>;
                      }) {
            return source_.identity();
        } else {
            source_identity id;
            id.size = source_.size();
            return id;
        }
    }

    /// What a part of `length` bytes counts against the memory budget.
    std::uint64_t part_memory(std::uint64_t length) const {
        if constexpr (requires(const Source& s) {
                          { s.part_memory(length) } -> std::convertible_to<std::uint64_t>;
                      }) {
            return source_.part_memory(length);
        } else {
            return length;
        }
    }

    /// Reads the resume token or the checkpoint file, if any: sets `resume_` when it is for
    /// this upload. Errors: it is damaged or for another upload (unless `start_fresh`), or
    /// the file cannot be read.
    asio::awaitable<std::error_code> load_checkpoint(std::uint64_t total) {
        checkpointing_ = !options_.checkpoint_path.empty();
        resumable_ = true;
        identity_ = identity();
        identity_.size = total;
        params_sha256_ = initiate_params_digest(params_);
        const bool from_token = !options_.resume_token.empty();
        if (!checkpointing_ && !from_token)
            co_return std::error_code{};
        const std::string what = from_token ? std::string("the resume token")
                                            : "the checkpoint " + options_.checkpoint_path;
        std::string text;
        std::error_code ec;
        if (from_token) {
            text = options_.resume_token;
        } else {
            const std::string path = options_.checkpoint_path;
            auto* out = &text;
            auto read = [path, out] {
                return read_checkpoint_file(path, *out);
            };
            ec = co_await blocking(read);
            if (ec == std::errc::no_such_file_or_directory)
                co_return std::error_code{};
            if (ec && ec != errc::checkpoint_corrupt) {
                fail("reading " + what, diagnostics{});
                co_return ec;
            }
        }
        upload_checkpoint c;
        if (!ec)
            ec = parse_checkpoint(text, c);
        if (options_.start_fresh && !from_token) {
            checkpoint_owned_ = true; // replaced: removed or rewritten at the end
            if (!ec)                  // its upload can never be resumed now: abort it
                co_await abort_other(c);
            co_return std::error_code{};
        }
        if (ec) {
            diagnostics d;
            d.message = what + " is damaged or not a checkpoint (start fresh to replace it)";
            fail("reading " + what, d);
            co_return ec;
        }
        const std::string reason =
            checkpoint_mismatch_reason(c, identity_, params_.bucket, params_.key, params_sha256_);
        if (!reason.empty()) {
            diagnostics d;
            d.message = what + " is not for this upload: " + reason;
            fail("reading " + what, d);
            co_return errc::checkpoint_mismatch;
        }
        checkpoint_owned_ = checkpointing_;
        for (const auto& p : c.parts) {
            recorded_[p.number] = p;
            done_[p.number] = p; // kept in every later write until sent again
        }
        resume_ = std::move(c);
        co_return std::error_code{};
    }

    /// Resuming an upload that is gone: `done` is true when the object on the server has the
    /// local bytes' size and a CRC-64 equal to theirs (read again here), i.e. an earlier run
    /// completed it; the result is then that object's, verified, every part counted as reused.
    /// `done` is false, and nothing recorded, when HeadObject fails after its retries (NoSuchKey
    /// included), the sizes differ, the server gives no CRC-64 or another one: the caller starts
    /// over. Returns an error only when cancelled.
    asio::awaitable<std::error_code> completed_earlier(std::uint64_t total, bool& done) {
        done = false;
        object_meta meta;
        diagnostics d;
        const auto ec = co_await head_object(meta, d);
        if (cancelled(ec))
            co_return ec;
        if (ec || meta.size != total || !meta.crc64)
            co_return std::error_code{};
        const part_body whole = part_body(source_.part(0, total));
        if (co_await crc_of(whole) != *meta.crc64)
            co_return std::error_code{};
        done = true;
        completed_ = true;
        result_.already_complete = true;
        result_.verified = true;
        result_.etag = meta.etag;
        result_.crc64 = *meta.crc64;
        result_.parts_reused = result_.parts;
        result_.bytes_reused = total;
        progress_.bytes_done = total;
        progress_.parts_done = result_.parts;
        report_progress(true);
        co_return std::error_code{};
    }

    /// Every part of the upload being resumed, all pages, into `listed_`.
    asio::awaitable<std::error_code> list_uploaded_parts() {
        list_parts_params lp;
        lp.bucket = params_.bucket;
        lp.key = params_.key;
        lp.upload_id = result_.upload_id;
        lp.request_payer = params_.request_payer;
        int marker = 0;
        for (;;) {
            if (marker > 0)
                lp.part_number_marker = marker;
            list_parts_result page;
            diagnostics d;
            auto ec = co_await with_retries([&]() -> asio::awaitable<std::error_code> {
                auto [e, r] = co_await async_list_parts(
                    client_, lp, d, asio::experimental::as_tuple(asio::use_awaitable));
                page = std::move(r);
                co_return e;
            });
            // A page that does not move on, or past the last part number, would list forever.
            if (!ec && page.is_truncated &&
                (page.next_part_number_marker <= marker ||
                 page.next_part_number_marker >= max_parts))
                ec = errc::bad_xml_value;
            if (ec) {
                fail("ListParts", d);
                co_return ec;
            }
            for (auto& p : page.parts)
                listed_[p.part_number] = std::move(p);
            if (!page.is_truncated)
                co_return std::error_code{};
            marker = page.next_part_number_marker;
        }
    }

    /// The checkpoint as it stands: the parts acknowledged so far.
    upload_checkpoint current_checkpoint() const {
        upload_checkpoint c;
        c.source = identity_;
        c.bucket = params_.bucket;
        c.key = params_.key;
        c.params_sha256 = params_sha256_;
        c.part_size = part_size_;
        c.upload_id = result_.upload_id;
        for (const auto& [n, p] : done_)
            c.parts.push_back(p);
        return c;
    }

    asio::awaitable<std::error_code> write_checkpoint_now() {
        const std::string path = options_.checkpoint_path;
        std::string text = serialize_checkpoint(current_checkpoint());
        unsaved_ = 0;
        last_save_ = std::chrono::steady_clock::now();
        auto write = [path, text = std::move(text)] {
            return write_checkpoint_file(path, text);
        };
        co_return co_await blocking(write);
    }

    /// A part was acknowledged: writes the checkpoint in the background when enough is new
    /// (one write at a time; the window does not wait for it).
    void checkpoint_part_done(const upload_part_outcome& o) {
        done_[o.number] = checkpoint_part{o.number, o.length, o.crc64, o.etag};
        if (!checkpointing_)
            return;
        ++unsaved_;
        if (save_running_ || save_error_)
            return;
        if (unsaved_ < std::max(1u, options_.checkpoint_every) &&
            std::chrono::steady_clock::now() - last_save_ < options_.checkpoint_interval)
            return;
        save_running_ = true;
        unsaved_ = 0;
        last_save_ = std::chrono::steady_clock::now();
        asio::post(default_file_executor(), [this, path = options_.checkpoint_path,
                                             text = serialize_checkpoint(current_checkpoint())] {
            auto ec = write_checkpoint_file(path, text);
            asio::post(strand_, [this, ec] {
                save_running_ = false;
                if (ec)
                    save_error_ = ec;
                wake_.cancel();
            });
        });
    }

    /// At the end: the checkpoint file is removed when nothing is left to resume (the object
    /// is complete, or the upload aborted or never made), else brought up to date; a kept
    /// upload's state is also returned as a resume token.
    asio::awaitable<void> finish_checkpoint(std::error_code ec) {
        if (!resumable_)
            co_return;
        const bool kept = ec && !completed_ && !result_.aborted && !result_.upload_id.empty();
        if (kept)
            result_.resume_token = serialize_checkpoint(current_checkpoint());
        if (!checkpoint_owned_)
            co_return;
        const std::string path = options_.checkpoint_path;
        if (kept)
            co_await write_checkpoint_now(); // best effort: an older one still resumes
        if (!kept) {
            auto remove = [path] {
                return remove_checkpoint_file(path);
            };
            co_await blocking(remove);
        }
    }

    /// Aborts the upload recorded by a checkpoint being replaced (best effort).
    asio::awaitable<void> abort_other(const upload_checkpoint& c) {
        abort_params ap;
        ap.bucket = c.bucket;
        ap.key = c.key;
        ap.upload_id = c.upload_id;
        ap.request_payer = params_.request_payer;
        diagnostics d;
        co_await async_abort_upload(client_, ap, d,
                                    asio::experimental::as_tuple(asio::use_awaitable));
    }

    // --- One PutObject -----------------------------------------------------------------------

    put_object_params put_params() const {
        put_object_params p;
        p.bucket = params_.bucket;
        p.key = params_.key;
        p.content_type = params_.content_type;
        p.cache_control = params_.cache_control;
        p.content_disposition = params_.content_disposition;
        p.content_encoding = params_.content_encoding;
        p.expires = params_.expires;
        p.forbid_overwrite = params_.forbid_overwrite;
        p.storage_class = params_.storage_class;
        p.tagging = params_.tagging;
        p.user_metadata = params_.user_metadata;
        p.extra_headers = params_.extra_headers;
        auto add = [&p](const char* name, const std::string& value) {
            if (!value.empty())
                p.extra_headers.add(name, value);
        };
        add("x-oss-server-side-encryption", params_.server_side_encryption);
        add("x-oss-server-side-data-encryption", params_.server_side_data_encryption);
        add("x-oss-server-side-encryption-key-id", params_.server_side_encryption_key_id);
        add("x-oss-request-payer", params_.request_payer);
        return p;
    }

    /// The whole object in one PutObject; `make_body()` gives its body for every attempt.
    template <class MakeBody>
    asio::awaitable<std::error_code> put_whole(std::uint64_t total, MakeBody make_body) {
        result_.parts = 0;
        result_.part_size = total;
        put_object_result put;
        std::optional<std::uint64_t> sent;
        diagnostics d;
        // The body's memory counts against the budget as a part's does (many small files sent
        // at once under one budget).
        memory_lease lease;
        if (options_.budget && total > 0) {
            auto [bec, granted] = co_await options_.budget->async_acquire(
                strand_, part_memory(total), asio::experimental::as_tuple(asio::use_awaitable));
            if (bec) { // only cancellation ends the wait
                fail(paused_ ? "paused" : "cancelled", diagnostics{});
                co_return asio::error::operation_aborted;
            }
            lease = std::move(granted);
        }
        auto ec = co_await with_retries([&]() -> asio::awaitable<std::error_code> {
            auto p = put_params();
            auto body = make_body();
            put_object_options o;
            auto crc = attach(body, p, o);
            sent = o.crc64;
            if (options_.content_md5)
                p.content_md5 = co_await md5_of(body);
            auto [e, r] = co_await async_put_object(
                client_, p, o, d, asio::experimental::as_tuple(asio::use_awaitable));
            if (crc)
                sent = crc->sent_crc64();
            put = std::move(r);
            co_return e;
        });
        if (ec) {
            fail("PutObject", d);
            co_return ec;
        }
        result_.etag = put.etag;
        result_.crc64 = sent.value_or(0);
        progress_.bytes_done = total;
        if (put.crc64) { // the op compared it with the bytes sent
            result_.verified = true;
        } else if (auto vec = co_await verify_with_head(total, sent)) {
            co_return vec;
        }
        report_progress(true);
        co_return std::error_code{};
    }

    // --- Multipart ---------------------------------------------------------------------------

    asio::awaitable<std::error_code> initiate() {
        initiate_result init;
        diagnostics d;
        auto ec = co_await with_retries([&]() -> asio::awaitable<std::error_code> {
            const initiate_params& ip = params_;
            auto [e, r] = co_await async_initiate_upload(
                client_, ip, d, asio::experimental::as_tuple(asio::use_awaitable));
            init = std::move(r);
            co_return e;
        });
        if (ec) {
            fail("InitiateMultipartUpload", d);
            co_return ec;
        }
        result_.upload_id = init.upload_id;
        co_return std::error_code{};
    }

    /// A part the window may start: its number, length and a maker of its body (called for
    /// every attempt).
    struct pending_part {
        int number = 0;
        std::uint64_t length = 0;
        std::function<part_body()> make_body;
        std::uint64_t memory = 0; ///< to draw from the memory budget before it starts
    };

    /// The parts of a source of known size: ranges of it, all known in advance.
    /// Feeder interface (used by `multipart`): `has_part()` (one can start now), `exhausted()`
    /// (no part will ever come again), `error()` (producing parts failed), `take()`,
    /// `release(number)` (a taken part finished: its memory may be reused), `stop()`, and
    /// `join()` (awaits whatever the feeder still runs).
    struct range_feeder {
        uploader& up;
        std::uint64_t total, part_size;
        unsigned parts;
        unsigned next = 0;

        bool has_part() const { return next < parts; }
        bool exhausted() const { return next >= parts; }
        std::error_code error() const { return {}; }
        pending_part take() {
            const std::uint64_t offset = std::uint64_t{next} * part_size;
            const std::uint64_t length = std::min(part_size, total - offset);
            ++next;
            return pending_part{static_cast<int>(next), length,
                                [this_up = &up, offset, length] {
                                    return part_body(this_up->source_.part(offset, length));
                                },
                                up.part_memory(length)};
        }
        void release(int) {}
        void stop() {}
        asio::awaitable<void> join() { co_return; }
    };

    /// The window, then Complete and the verification. Initiate has been done.
    ///
    /// The window: at most W parts in flight, each a coroutine of its own with a cancellation
    /// signal; a finished part queues its outcome in `finished` and wakes this coroutine by
    /// cancelling `wake_` (a timer used as an event: its completion is always posted, so a
    /// part's coroutine has unwound before its signal is destroyed here); a feeder that
    /// produces parts asynchronously wakes it the same way. Not an experimental::channel:
    /// Asio 1.22's buffered channel refuses every try_send after a cancelled receive (it
    /// leaves the send state at "block"), which lost outcomes.
    template <class Feeder>
    asio::awaitable<std::error_code> multipart(Feeder& feeder) {
        std::vector<upload_part_outcome> outcomes;
        std::deque<upload_part_outcome> finished;
        std::vector<std::unique_ptr<asio::cancellation_signal>> signals;
        unsigned in_flight = 0;
        std::error_code first;
        bool caller_cancel = false;
        auto stop_parts = [&signals, &feeder, this] {
            feeder.stop();
            for (auto& s : signals)
                if (s)
                    s->emit(asio::cancellation_type::terminal);
            cancel_limited(); // a body waiting for the rate limit would hold its part up
        };
        auto fail_first = [&](std::error_code ec, std::string step, const diagnostics& d) {
            if (first)
                return;
            first = ec;
            fail(std::move(step), d);
            stop_parts();
        };
        for (;;) {
            while (!first && feeder.has_part() && in_flight < options_.parallel) {
                pending_part next = feeder.take();
                memory_lease lease;
                if (options_.budget && next.memory > 0) {
                    // Waits for the part's memory (parts in flight give theirs back as they end).
                    auto [bec, granted] = co_await options_.budget->async_acquire(
                        strand_, next.memory, asio::experimental::as_tuple(asio::use_awaitable));
                    if (bec) { // only cancellation ends the wait
                        caller_cancel = true;
                        fail_first(asio::error::operation_aborted, paused_ ? "paused" : "cancelled",
                                   diagnostics{});
                        co_await asio::this_coro::reset_cancellation_state();
                        break;
                    }
                    lease = std::move(granted);
                }
                const auto index = static_cast<std::size_t>(next.number - 1);
                if (outcomes.size() <= index) {
                    outcomes.resize(index + 1);
                    signals.resize(index + 1);
                }
                ++in_flight;
                signals[index] = std::make_unique<asio::cancellation_signal>();
                asio::co_spawn(
                    strand_,
                    part(next.number, next.length, std::move(next.make_body), std::move(lease)),
                    asio::bind_cancellation_slot(
                        signals[index]->slot(),
                        asio::bind_executor(strand_, [&finished, this](std::exception_ptr e,
                                                                       upload_part_outcome o) {
                            if (e && !o.ec)
                                o.ec = detail::error_of(e);
                            finished.push_back(std::move(o));
                            wake_.cancel();
                        })));
            }
            if (!first && feeder.error())
                fail_first(feeder.error(), "reading the source", diagnostics{});
            if (!first && save_error_)
                fail_first(save_error_, "writing the checkpoint " + options_.checkpoint_path,
                           diagnostics{});
            if (in_flight == 0 && (first || (feeder.exhausted() && !feeder.has_part())))
                break;
            if (finished.empty()) {
                wake_.expires_at(timer_type::time_point::max());
                co_await wake_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            }
            if (!caller_cancel && co_await caller_cancelled()) {
                // The caller cancelled the upload: stop every part, then clean up below.
                caller_cancel = true;
                fail_first(asio::error::operation_aborted, paused_ ? "paused" : "cancelled",
                           diagnostics{});
                co_await asio::this_coro::reset_cancellation_state();
            }
            if (finished.empty())
                continue;
            upload_part_outcome o = std::move(finished.front());
            finished.pop_front();
            --in_flight;
            const auto index = static_cast<std::size_t>(o.number - 1);
            signals[index].reset();
            feeder.release(o.number);
            if (o.ec) { // the first fatal error wins; the others are cancelled
                fail_first(o.ec, "UploadPart " + std::to_string(o.number), o.diag);
                continue;
            }
            if (o.reused) {
                ++result_.parts_reused;
                result_.bytes_reused += o.length;
            }
            progress_.bytes_done += o.length;
            ++progress_.parts_done;
            report_progress(false);
            checkpoint_part_done(o);
            outcomes[index] = std::move(o);
        }
        co_await feeder.join();
        while (save_running_) { // the checkpoint write in the background
            wake_.expires_at(timer_type::time_point::max());
            co_await wake_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        }
        if (first) {
            co_await abort_upload();
            co_return first;
        }
        co_return co_await complete(outcomes);
    }

    /// CompleteMultipartUpload of `outcomes` (every part, in number order), checked against
    /// their combined CRC-64 (by the reply's, else by HeadObject).
    asio::awaitable<std::error_code> complete(const std::vector<upload_part_outcome>& outcomes) {
        const auto n = static_cast<unsigned>(outcomes.size());
        result_.parts = n;
        progress_.parts = n;
        // The whole object's CRC-64: the parts' combined in number order.
        crc64_state whole;
        std::uint64_t total = 0;
        for (const auto& o : outcomes) {
            whole.append(o.crc64, o.length);
            total += o.length;
        }
        result_.crc64 = whole.value();
        result_.size = total;
        progress_.total = total; // a stream's size is known now
        progress_.total_known = true;

        // Complete (a lost reply retried: NoSuchUpload then means "maybe done": HEAD decides).
        complete_params cp;
        cp.bucket = params_.bucket;
        cp.key = params_.key;
        cp.upload_id = result_.upload_id;
        cp.request_payer = params_.request_payer;
        // Complete-all would also take parts numbered past the end that a resumed upload may hold.
        cp.complete_all = options_.complete_all &&
                          (listed_.empty() || listed_.rbegin()->first <= static_cast<int>(n));
        if (!cp.complete_all)
            for (unsigned i = 0; i < n; ++i)
                cp.parts.push_back(completed_part{static_cast<int>(i + 1), outcomes[i].etag});
        complete_options co;
        co.expected_crc64 = whole.value();
        complete_result done_result;
        diagnostics d;
        unsigned attempts = 0;
        // A CRC-64 mismatch is final here: the object exists, with other bytes than the parts'.
        auto ec = co_await with_retries(
            [&]() -> asio::awaitable<std::error_code> {
                ++attempts;
                auto [e, r] = co_await async_complete_upload(
                    client_, cp, co, d, asio::experimental::as_tuple(asio::use_awaitable));
                done_result = std::move(r);
                co_return e;
            },
            [](const std::error_code& e) { return e == errc::crc_mismatch; });
        if (ec == service_errc::no_such_upload && attempts > 1) {
            // An earlier attempt may have completed the object and its reply been lost.
            result_.etag.clear();
            if (auto vec = co_await verify_with_head(total, whole.value());
                !vec && result_.verified)
                co_return std::error_code{};
        }
        if (ec) {
            fail("CompleteMultipartUpload", d);
            if (ec == errc::crc_mismatch) // the object exists, but wrong: nothing to resume
                completed_ = true;
            else
                co_await abort_upload();
            co_return ec;
        }
        completed_ = true;
        result_.etag = done_result.etag;
        if (done_result.crc64) { // compared with `whole` by the op
            result_.verified = true;
        } else if (auto vec = co_await verify_with_head(total, whole.value())) {
            co_return vec;
        }
        report_progress(true);
        co_return std::error_code{};
    }

    /// One part, with retries; never throws past the window. `make_body()` gives its body
    /// for every attempt.
    asio::awaitable<upload_part_outcome> part(int number, std::uint64_t length,
                                              std::function<part_body()> make_body,
                                              memory_lease lease) {
        (void)lease; // held until the part is over
        co_await asio::this_coro::throw_if_cancelled(false);
        upload_part_outcome out;
        out.number = number;
        out.length = length;
        if (auto it = listed_.find(number); it != listed_.end() && it->second.size == length) {
            // On the server from an earlier run: reused when the local bytes are the same
            // (their CRC-64 equals the listed one, or, when the listing has none, the part is
            // the one the checkpoint recorded: same ETag, same CRC-64).
            auto body = make_body();
            const std::uint64_t local = co_await crc_of(body);
            const auto rec = recorded_.find(number);
            const bool same = it->second.crc64
                                  ? *it->second.crc64 == local
                                  : rec != recorded_.end() && rec->second.etag == it->second.etag &&
                                        rec->second.crc64 == local;
            if (same) {
                out.etag = it->second.etag;
                out.crc64 = local;
                out.crc_from_server = it->second.crc64.has_value();
                out.reused = true;
                co_return out;
            }
        }
        out.ec = co_await with_retries([&]() -> asio::awaitable<std::error_code> {
            auto body = make_body();
            upload_part_params p;
            p.bucket = params_.bucket;
            p.key = params_.key;
            p.upload_id = result_.upload_id;
            p.part_number = number;
            p.request_payer = params_.request_payer;
            upload_part_options o;
            auto crc = attach(body, p, o);
            if (options_.content_md5)
                p.content_md5 = co_await md5_of(body);
            auto [e, r] = co_await async_upload_part(
                client_, p, o, out.diag, asio::experimental::as_tuple(asio::use_awaitable));
            if (!e) {
                out.etag = r.etag;
                out.crc_from_server = r.crc64.has_value();
                out.crc64 = crc ? crc->sent_crc64().value_or(0) : *o.crc64;
            }
            co_return e;
        });
        co_return out;
    }

    // --- A stream of unknown length ----------------------------------------------------------

    /// A part buffer of a stream source.
    /// A part buffer of a stream source; `data` null with a capacity: one that may be made
    /// once the memory budget grants it (`fill_buffer`).
    struct part_buffer {
        detail::part_memory data;
        std::uint64_t capacity = 0;
        memory_lease lease; // its bytes in the memory budget, when there is one
    };

    /// Makes the memory of a buffer that `stream_feeder::get` allowed: drawn from the budget
    /// first (false: the wait was cancelled).
    asio::awaitable<bool> fill_buffer(part_buffer& b) {
        if (b.data)
            co_return true;
        if (options_.budget) {
            auto [ec, lease] = co_await options_.budget->async_acquire(
                strand_, b.capacity, asio::experimental::as_tuple(asio::use_awaitable));
            if (ec)
                co_return false;
            b.lease = std::move(lease);
        }
        b.data = detail::allocate_part_memory(static_cast<std::size_t>(b.capacity));
        co_return true;
    }

    /// The parts of a stream: each read whole (`stream_part_size`) by a reader coroutine of its
    /// own into one of at most W+1 part buffers, so that the next part is read while W are in
    /// flight; a finished part's buffer is reused. Same interface as `range_feeder`.
    struct stream_feeder {
        struct filled {
            int number = 0;
            part_buffer buffer;
            std::uint64_t length = 0;
        };

        uploader& up;
        std::deque<filled> ready;        // read, not started
        std::map<int, part_buffer> busy; // in flight
        std::vector<part_buffer> spare;  // free for the next read
        unsigned allocated = 0;          // buffers that exist: at most W+1
        std::error_code read_error;
        bool stopped = false, reading_done = false;
        timer_type buffer_free; // an event: a buffer was released, or stop
        asio::cancellation_signal reader_cancel;

        explicit stream_feeder(uploader& u) : up(u), buffer_free(u.strand_) {}

        bool has_part() const { return !ready.empty(); }
        bool exhausted() const { return reading_done && ready.empty(); }
        std::error_code error() const { return read_error; }
        pending_part take() {
            filled f = std::move(ready.front());
            ready.pop_front();
            std::span<const std::byte> view(f.buffer.data.get(),
                                            static_cast<std::size_t>(f.length));
            busy[f.number] = std::move(f.buffer);
            return pending_part{f.number, f.length, [view] {
                                    return part_body{view, nullptr};
                                }};
        }
        void release(int number) {
            auto it = busy.find(number);
            if (it == busy.end())
                return;
            // With a memory budget a buffer is given back (the reader may be waiting for the
            // budget, not for a spare buffer); else it is kept for the next part.
            if (up.options_.budget)
                --allocated;
            else
                spare.push_back(std::move(it->second));
            busy.erase(it);
            buffer_free.cancel();
        }
        void stop() {
            stopped = true;
            reader_cancel.emit(asio::cancellation_type::terminal);
            buffer_free.cancel();
        }
        asio::awaitable<void> join() {
            while (!reading_done) {
                up.wake_.expires_at(timer_type::time_point::max());
                co_await up.wake_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            }
        }
        /// A buffer of at least `size` bytes when one is spare, or one to make (`data` null,
        /// see `fill_buffer`) when fewer than W+1 exist; else none (capacity 0).
        part_buffer get(std::uint64_t size) {
            if (!spare.empty()) {
                part_buffer b = std::move(spare.back());
                spare.pop_back();
                if (b.capacity >= size)
                    return b;
                --allocated; // too small for the grown part size: replaced
            }
            if (allocated >= up.options_.parallel + 1)
                return {};
            ++allocated;
            return part_buffer{nullptr, size, {}};
        }
    };

    /// Reads up to `size` bytes: fewer only at the end of the stream.
    asio::awaitable<std::pair<std::error_code, std::uint64_t>> read_full(std::byte* data,
                                                                         std::uint64_t size) {
        auto [ec, got] = co_await asio::async_read(
            source_.stream(), asio::buffer(data, static_cast<std::size_t>(size)),
            asio::experimental::as_tuple(asio::use_awaitable));
        if (ec == asio::error::eof)
            ec = {};
        co_return std::make_pair(ec, static_cast<std::uint64_t>(got));
    }

    /// The reader: parts `number`, `number + 1`, ... until the end of the stream, an error, or
    /// `stop()`.
    asio::awaitable<void> read_parts(stream_feeder& f, int number) {
        co_await asio::this_coro::throw_if_cancelled(false);
        for (;; ++number) {
            const std::uint64_t size =
                stream_part_size(number, options_.part_size, options_.expected_size);
            if (size == 0) { // past the last part number: the stream must end here
                std::byte probe[1];
                auto [ec, got] = co_await read_full(probe, 1);
                if (!f.stopped && (ec || got != 0))
                    f.read_error = ec ? ec : make_error_code(errc::too_many_parts);
                co_return;
            }
            part_buffer buffer = f.get(size);
            while (!f.stopped && buffer.capacity == 0) {
                f.buffer_free.expires_at(timer_type::time_point::max());
                co_await f.buffer_free.async_wait(
                    asio::experimental::as_tuple(asio::use_awaitable));
                buffer = f.get(size);
            }
            if (f.stopped || !co_await fill_buffer(buffer) || f.stopped)
                co_return;
            auto [ec, got] = co_await read_full(buffer.data.get(), size);
            if (f.stopped)
                co_return;
            if (ec) {
                f.read_error = ec;
                wake_.cancel();
                co_return;
            }
            if (got == 0) {
                f.spare.push_back(std::move(buffer));
                co_return;
            }
            f.ready.push_back(typename stream_feeder::filled{number, std::move(buffer), got});
            wake_.cancel();
            if (got < size)
                co_return;
        }
    }

    asio::awaitable<std::error_code> run_stream() {
        progress_.total_known = false;
        stream_feeder feeder(*this);
        const std::uint64_t first_size =
            stream_part_size(1, options_.part_size, options_.expected_size);
        part_buffer first = feeder.get(first_size);
        if (!co_await fill_buffer(first)) {
            fail(paused_ ? "paused" : "cancelled", diagnostics{});
            co_return asio::error::operation_aborted;
        }
        auto [ec, got] = co_await read_full(first.data.get(), first_size);
        if (ec) {
            fail("reading the source", diagnostics{});
            co_return ec;
        }
        if (got < first_size) { // the whole stream fits in one part: one PutObject
            progress_.total = got;
            progress_.total_known = true;
            result_.size = got;
            std::span<const std::byte> view(first.data.get(), static_cast<std::size_t>(got));
            co_return co_await put_whole(got, [view] { return part_body{view, nullptr}; });
        }
        result_.part_size = first_size;
        feeder.ready.push_back(typename stream_feeder::filled{1, std::move(first), got});
        // The reader runs from now on, also while Initiate is on its way.
        asio::co_spawn(strand_, read_parts(feeder, 2),
                       asio::bind_cancellation_slot(
                           feeder.reader_cancel.slot(),
                           asio::bind_executor(strand_, [&feeder, this](std::exception_ptr e) {
                               if (e && !feeder.read_error && !feeder.stopped)
                                   feeder.read_error = detail::error_of(e);
                               feeder.reading_done = true;
                               wake_.cancel();
                           })));
        if (auto iec = co_await initiate()) {
            feeder.stop();
            co_await feeder.join();
            co_return iec;
        }
        co_return co_await multipart(feeder);
    }

    /// Puts `body` into the request parameters `p`: a view (its CRC-64 computed now, into
    /// `o.crc64`), or a source wrapped in a `crc64_body` (returned: it learns the CRC-64 of
    /// what it sends). With a rate limit, the bytes go through a `rate_limited_body` (a view
    /// as a `span_body` of 256 KiB chunks), kept in `limited_` so that stopping the parts can
    /// cancel a wait for the limit.
    template <class Params, class Options>
    std::shared_ptr<crc64_body> attach(const part_body& body, Params& p, Options& o) {
        if (!body.source && !options_.rate_limit) {
            p.data = body.data;
            o.crc64 = crc64(body.data);
            return nullptr;
        }
        std::shared_ptr<http::body_source> source = body.source;
        if (options_.rate_limit) {
            if (!source)
                source = std::make_shared<span_body>(body.data);
            auto limited =
                make_rate_limited_body(std::move(source), *options_.rate_limit,
                                       asio::any_io_executor(strand_.get_inner_executor()));
            std::erase_if(limited_, [](const auto& w) { return w.expired(); });
            limited_.push_back(limited);
            source = std::move(limited);
        }
        auto crc = std::make_shared<crc64_body>(std::move(source));
        p.source = crc;
        return crc;
    }

    /// Fails every rate-limited body's wait for the limit (the parts are being stopped).
    void cancel_limited() {
        for (auto& w : limited_)
            if (auto b = w.lock())
                b->cancel();
        limited_.clear();
    }

    /// The base64 MD5 of a part body (for a source: one pass on the file executor).
    asio::awaitable<std::string> md5_of(const part_body& body) {
        if (!body.source) {
            co_return crypto::base64_encode(crypto::md5(std::string_view(
                reinterpret_cast<const char*>(body.data.data()), body.data.size())));
        }
        auto md5 = std::make_shared<crypto::md5_hasher>();
        auto update = [md5](std::span<const std::byte> chunk) {
            md5->update(chunk);
        };
        co_await scan(body.source, update);
        const auto digest = md5->finish();
        co_return crypto::base64_encode(
            std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
    }

    /// The CRC-64 of a part body (for a source: one pass on the file executor).
    asio::awaitable<std::uint64_t> crc_of(const part_body& body) {
        if (!body.source)
            co_return crc64(body.data);
        auto crc = std::make_shared<std::uint64_t>(0);
        auto update = [crc](std::span<const std::byte> chunk) {
            *crc = crc64(chunk, *crc);
        };
        co_await scan(body.source, update);
        co_return *crc;
    }

    /// One pass over a body source on the file executor, `consume(chunk)` seeing every chunk
    /// where it is read. Throws `std::system_error` on a read error.
    template <class Consume>
    static asio::awaitable<void> scan(const std::shared_ptr<http::body_source>& source,
                                      const Consume& consume) {
        // The closure is a named variable: g++ 12 destroys a temporary with a non-trivial
        // destructor inside a co_await operand twice (here: the captured shared_ptr, a
        // use-after-free that ASan caught).
        auto pass = [source, consume]() mutable -> asio::awaitable<void> {
            if (auto ec = source->rewind())
                throw std::system_error(ec);
            for (;;) {
                auto [ec, size] = co_await read_chunk(*source, consume);
                if (ec)
                    throw std::system_error(ec);
                if (size == 0)
                    break;
            }
        };
        auto on_reader =
            asio::co_spawn(default_file_executor(), std::move(pass), asio::use_awaitable);
        co_await std::move(on_reader);
    }

    /// Awaits one chunk of a body source: `consume(chunk)` sees it where the source delivers
    /// it (while it is valid, without a copy); completes with the error and the chunk's size.
    template <class Consume>
    static auto read_chunk(http::body_source& source, Consume& consume) {
        auto token = asio::experimental::as_tuple(asio::use_awaitable);
        return asio::async_initiate<decltype(token), void(std::error_code, std::size_t)>(
            [&source, &consume](auto handler) {
                source.async_read_chunk(
                    [h = std::move(handler), &consume](std::error_code ec,
                                                       std::span<const std::byte> chunk) mutable {
                        if (!ec)
                            consume(chunk);
                        auto ex = asio::get_associated_executor(h);
                        asio::post(ex, [h = std::move(h), ec, size = chunk.size()]() mutable {
                            h(ec, size);
                        });
                    });
            },
            token);
    }

    /// HeadObject of the upload's object, with retries.
    asio::awaitable<std::error_code> head_object(object_meta& meta, diagnostics& d) {
        head_object_params hp;
        hp.bucket = params_.bucket;
        hp.key = params_.key;
        co_return co_await with_retries([&]() -> asio::awaitable<std::error_code> {
            auto [e, m] = co_await async_head_object(
                client_, hp, d, asio::experimental::as_tuple(asio::use_awaitable));
            meta = std::move(m);
            co_return e;
        });
    }

    /// HeadObject decides: size must be `total` and, when both are known, the CRC-64 `crc`.
    /// Sets `verified` (and `etag` when unknown). Errors: the HEAD's, size_mismatch,
    /// crc_mismatch.
    asio::awaitable<std::error_code> verify_with_head(std::uint64_t total,
                                                      std::optional<std::uint64_t> crc) {
        object_meta meta;
        diagnostics d;
        auto ec = co_await head_object(meta, d);
        if (!ec && meta.size != total)
            ec = errc::size_mismatch;
        if (!ec && meta.crc64 && crc && *meta.crc64 != *crc)
            ec = errc::crc_mismatch;
        if (ec) {
            fail("HeadObject (verifying the object)", d);
            co_return ec;
        }
        if (result_.etag.empty())
            result_.etag = meta.etag;
        result_.verified = meta.crc64.has_value() && crc.has_value();
        co_return std::error_code{};
    }

    /// Aborts the upload (unless asked to keep it) on a path the caller's cancellation cannot
    /// reach: its own empty cancellation slot.
    asio::awaitable<void> abort_upload() {
        if (options_.keep_upload_on_failure || paused_ || result_.upload_id.empty())
            co_return;
        abort_params ap;
        ap.bucket = params_.bucket;
        ap.key = params_.key;
        ap.upload_id = result_.upload_id;
        ap.request_payer = params_.request_payer;
        co_await asio::this_coro::reset_cancellation_state();
        for (unsigned attempt = 1; attempt <= 3; ++attempt) {
            diagnostics d;
            auto [ec, r] = co_await async_abort_upload(
                client_, ap, d,
                asio::bind_cancellation_slot(asio::cancellation_slot(),
                                             asio::experimental::as_tuple(asio::use_awaitable)));
            if (!ec || ec == service_errc::no_such_upload) {
                result_.aborted = true;
                co_return;
            }
            if (!is_retryable(ec))
                co_return;
        }
    }

    Client& client_;
    Source source_;
    upload_params params_;
    upload_options options_;
    executor_type strand_;
    timer_type wake_{strand_}; // the window's event (see `multipart`)
    upload_result result_;
    upload_progress progress_;
    std::chrono::steady_clock::time_point last_progress_{};
    std::atomic<bool> paused_{false}; // partial cancellation seen (set by the filter in `run`)
    bool completed_ = false;          // CompleteMultipartUpload succeeded (the upload is gone)

    // Checkpoint and resume (sources of known size).
    bool resumable_ = false;        // a source of known size: a token can be made
    bool checkpointing_ = false;    // `options_.checkpoint_path` is set
    bool checkpoint_owned_ = false; // the file at that path is ours to update or remove
    source_identity identity_;
    std::string params_sha256_;
    std::uint64_t part_size_ = 0;
    std::optional<upload_checkpoint> resume_;
    std::map<int, part_info> listed_;         // the upload's parts on the server (resume)
    std::map<int, checkpoint_part> recorded_; // the parts the checkpoint recorded
    std::map<int, checkpoint_part> done_;     // acknowledged parts (what the next write holds)
    unsigned unsaved_ = 0;
    std::chrono::steady_clock::time_point last_save_{};
    bool save_running_ = false;
    std::error_code save_error_;
    std::vector<std::weak_ptr<rate_limited_body>> limited_; // bodies drawing from the rate limit
};

} // namespace detail

/// Uploads `source` (a `part_source`: `file_source`, `memory_source`; or a `stream_source`)
/// to `params.bucket` / `params.key` as one object, and completes with what it did.
///
/// Plan: the part size is `choose_part_size(size, options.part_size)` (a stream's:
/// `stream_part_size(number, options.part_size, options.expected_size)`, read whole into
/// one of W+1 buffers); an object of at most one part is sent with one PutObject; else
/// InitiateMultipartUpload, then at most `options.parallel` UploadParts in flight (a file part is
/// streamed from the file in chunks: memory is bounded by the window, not by the part size), each
/// checked against its reply's CRC-64 and retried per `options.retry`; then CompleteMultipartUpload
/// with the sorted part list (or complete-all), whose reply's CRC-64 must equal the parts' combined
/// CRC-64. Without a CRC-64 in the reply, HeadObject decides (size, and CRC-64 when it has one);
/// `result.verified` says whether the server vouched for the object's bytes. A Complete whose
/// reply was lost and whose retry says NoSuchUpload is settled by HeadObject too.
///
/// Completion signature: `void(std::error_code, upload_result)`. On failure the error is the
/// first fatal one (a part's, Initiate's, Complete's, the verification's: `errc::crc_mismatch`,
/// `errc::size_mismatch`; a stream's read error, or `errc::too_many_parts` for a stream longer
/// than 10,000 parts), `result.failed_step` and `result.diag` say where and what the server
/// said; the other parts are cancelled and the upload is aborted (unless
/// `options.keep_upload_on_failure`), `result.aborted` says whether that worked. The handler
/// is called exactly once.
///
/// Cancellation: terminal cancellation through the token's associated cancellation slot stops
/// every part in flight and aborts the upload the same way (the abort itself cannot be
/// cancelled); completes with `asio::error::operation_aborted`.
///
/// Threading: the upload runs on a strand of the client's executor; the io_context may run on
/// several threads. `options.on_progress` is called on that strand.
///
/// Lifetimes: `source`, `params` and `options` are moved into the operation; `client` must
/// outlive it. A `memory_source`'s bytes must stay alive and unchanged until completion; a
/// `stream_source`'s stream must outlive the operation.
template <class Transport, class Credentials, upload_source Source,
          asio::completion_token_for<void(std::error_code, upload_result)> Token>
auto async_upload(basic_client<Transport, Credentials>& client, Source source, upload_params params,
                  upload_options options, Token&& token) {
    static_assert(std::is_convertible_v<typename Transport::executor_type, asio::any_io_executor>,
                  "ossmp::async_upload needs a transport whose executor converts to "
                  "asio::any_io_executor");
    using client_type = basic_client<Transport, Credentials>;
    using uploader_type = detail::uploader<client_type, Source>;
    return asio::async_initiate<Token, void(std::error_code, upload_result)>(
        [&client](auto handler, Source src, upload_params p, upload_options o) {
            auto strand = asio::make_strand(asio::any_io_executor(client.get_executor()));
            auto up = std::make_shared<uploader_type>(client, std::move(src), std::move(p),
                                                      std::move(o), strand);
            auto slot = asio::get_associated_cancellation_slot(handler);
            auto ex = asio::get_associated_executor(handler, client.get_executor());
            // Completes through the handler's executor, with the handler's cancellation slot
            // wired to the coroutine.
            asio::co_spawn(
                strand, [up]() { return up->run(); },
                asio::bind_cancellation_slot(
                    slot, asio::bind_executor(
                              ex, [h = std::move(handler),
                                   up](std::exception_ptr e,
                                       std::pair<std::error_code, upload_result> r) mutable {
                                  if (e && !r.first)
                                      r.first = make_error_code(errc::invalid_argument);
                                  std::move(h)(r.first, std::move(r.second));
                              })));
        },
        token, std::move(source), std::move(params), std::move(options));
}

/// `async_upload` with default options.
template <class Transport, class Credentials, upload_source Source,
          asio::completion_token_for<void(std::error_code, upload_result)> Token>
auto async_upload(basic_client<Transport, Credentials>& client, Source source, upload_params params,
                  Token&& token) {
    return async_upload(client, std::move(source), std::move(params), upload_options{},
                        std::forward<Token>(token));
}

} // namespace ossmp
