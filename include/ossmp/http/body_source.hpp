// ossmp/http/body_source.hpp: a request body of known length that the transport pulls chunk by
// chunk while it writes, so that memory does not depend on the body size (a 5 GiB part is
// sent through a few chunk buffers). The in-memory view stays the zero-copy case for bytes the
// caller already holds.
#pragma once

#include "ossmp/detail/unique_function.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

namespace ossmp::http {

/// The source of a streamed request body.
///
/// Protocol, as the transport drives it for one attempt: `rewind()`, then `async_read_chunk`
/// again and again until the chunks add up to `size()` bytes (the transport counts; a source
/// that ends early, by an empty chunk, or delivers more fails the round trip with
/// `errc::source_changed`). A retry, by the transport or by an operation, starts again with
/// `rewind()`. Only one read is outstanding at a time.
///
/// Threading: the handler may be called inside `async_read_chunk` (a source that has its bytes
/// at hand) or later from any thread (a file source reads on a thread of its own); the
/// transport moves back to its connection's executor before it touches the socket.
///
/// Lifetime: shared (`std::shared_ptr`) by the request and its copies (the client keeps one
/// for retries), so it lives as long as the longest of them.
class body_source {
public:
    /// Called with a chunk (valid until the next `async_read_chunk` or `rewind`, or the
    /// source's destruction) or an error (then the round trip fails with it).
    using chunk_handler =
        ::ossmp::detail::unique_function<void(std::error_code, std::span<const std::byte>)>;

    virtual ~body_source() = default;

    /// The exact number of bytes of the body (sent as Content-Length).
    virtual std::uint64_t size() const noexcept = 0;

    /// Goes back to byte 0 for a new attempt. Returns an error when it cannot (nothing is sent).
    virtual std::error_code rewind() = 0;

    /// Reads the next chunk and calls `handler` exactly once with it (empty: no more bytes).
    virtual void async_read_chunk(chunk_handler handler) = 0;
};

} // namespace ossmp::http
