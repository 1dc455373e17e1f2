// upload_stdin: an upload of unknown length from a pipe. `stream_source` reads any Asio async
// read stream (here stdin as an `asio::posix::stream_descriptor`): each part is read whole into
// one of at most parallel + 1 buffers (a stream cannot be read twice for a retry), parts grow
// after 8,192 parts (`stream_part_size`), and a stream shorter than one part goes in a single
// PutObject. Stdin must be a pipe (a regular file: use `file_source`, see upload_file).
//
//   head -c 1000000 /dev/urandom | upload_stdin [KEY]
#include "example_support.hpp"

#include "ossmp/upload.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace {

asio::awaitable<int> upload(example::session& s, std::string key) {
    // A duplicate, so that closing the descriptor leaves the process's stdin alone.
    asio::posix::stream_descriptor in(s.ctx, ::dup(STDIN_FILENO));
    ossmp::stream_source source(in); // not owned: `in` outlives the upload

    ossmp::upload_params params;
    params.bucket = s.config.bucket;
    params.key = key;
    ossmp::upload_options options;
    options.part_size = 256 * 1024; // the first parts' size; memory: (parallel + 1) parts
    options.parallel = 2;
    auto [ec, r] =
        co_await ossmp::async_upload(s.client, source, params, options, example::tuple_awaitable);
    if (ec)
        co_return example::fail(r.failed_step.empty() ? "upload" : r.failed_step, ec, &r.diag);
    std::printf("uploaded stdin to %s: %llu bytes in %u parts of %llu (0 parts: one "
                "PutObject), CRC-64 %llu, %s\n",
                key.c_str(), static_cast<unsigned long long>(r.size), r.parts,
                static_cast<unsigned long long>(r.part_size),
                static_cast<unsigned long long>(r.crc64), r.verified ? "verified" : "NOT verified");
    co_return r.verified ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    example::session s;
    const std::string key = argc > 1 ? argv[1] : s.config.key("upload_stdin.bin");
    return example::run(s, upload(s, key));
}
