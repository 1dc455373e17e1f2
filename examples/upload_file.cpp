// upload_file: the one-call uploader. `async_upload` chooses the part size, initiates, sends a
// window of parts streamed from the file (each CRC-64 checked, retried on network errors and
// 5xx), completes with the part list and verifies the object's CRC-64 against the parts';
// `on_progress` reports the bytes acknowledged.
//
//   upload_file [FILE]   (no FILE: a 3 MiB sample)
#include "example_support.hpp"

#include "ossmp/upload.hpp"

#include <cstdio>
#include <string>

namespace {

asio::awaitable<int> upload(example::session& s, std::string path) {
    ossmp::upload_params params; // bucket, key and every Initiate header (content type, ...)
    params.bucket = s.config.bucket;
    params.key = s.config.key("upload_file.bin");
    params.content_type = "application/octet-stream";

    ossmp::upload_options options; // defaults: 8 MiB parts, 4 in flight, 4 attempts per request
    options.part_size = 512 * 1024;
    options.parallel = 3;
    options.progress_interval = std::chrono::milliseconds(0); // every acknowledged part
    options.on_progress = [](const ossmp::upload_progress& p) {
        std::printf("progress: %llu / %llu bytes, %u / %u parts\n",
                    static_cast<unsigned long long>(p.bytes_done),
                    static_cast<unsigned long long>(p.total), p.parts_done, p.parts);
    };

    auto source = ossmp::file_source::open(path); // throws std::system_error if it cannot
    auto [ec, r] = co_await ossmp::async_upload(s.client, std::move(source), params, options,
                                                example::tuple_awaitable);
    if (ec)
        co_return example::fail(r.failed_step.empty() ? "upload" : r.failed_step, ec, &r.diag);
    std::printf("uploaded %s: %llu bytes, %u parts of %llu, upload id %s\n", params.key.c_str(),
                static_cast<unsigned long long>(r.size), r.parts,
                static_cast<unsigned long long>(r.part_size), r.upload_id.c_str());
    std::printf("ETag %s, CRC-64 %llu, %s\n", r.etag.c_str(),
                static_cast<unsigned long long>(r.crc64), r.verified ? "verified" : "NOT verified");
    co_return r.verified ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    example::session s;
    const std::string path = example::input_file(argc, argv, "upload_file", 3 * 1024 * 1024);
    return example::run(s, upload(s, path));
}
