// determine_part_size: the multipart upload of a file step by step, as oss2's guide does it.
// `determine_part_size` picks the part size, InitiateMultipartUpload starts the upload, each
// part is read from the file and sent with UploadPart, and CompleteMultipartUpload assembles
// the parts from the list of their ETags. The object's CRC-64 (returned by Complete) is
// compared with the file's.
//
//   determine_part_size [FILE] [PREFERRED_PART_SIZE]   (no FILE: a 550,000-byte sample)
#include "example_support.hpp"

#include "ossmp/crc64.hpp"
#include "ossmp/ops/complete.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/upload_part.hpp"
#include "ossmp/validate.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

asio::awaitable<int> upload(example::session& s, std::string path, std::uint64_t preferred) {
    auto& client = s.client;
    std::ifstream file(path, std::ios::binary | std::ios::ate);
    if (!file)
        co_return example::fail("open " + path, std::make_error_code(std::errc::io_error));
    const auto total = static_cast<std::uint64_t>(file.tellg());
    file.seekg(0);

    // 1. The part size: at least `preferred`, large enough for at most 10,000 parts.
    const std::uint64_t part_size = ossmp::determine_part_size(total, preferred);
    std::printf("file: %s, %llu bytes\n", path.c_str(), static_cast<unsigned long long>(total));
    std::printf("part size: %llu bytes, %llu parts\n", static_cast<unsigned long long>(part_size),
                static_cast<unsigned long long>(ossmp::part_count(total, part_size)));

    // 2. InitiateMultipartUpload.
    ossmp::initiate_params ip;
    ip.bucket = s.config.bucket;
    ip.key = s.config.key("determine_part_size.bin");
    ossmp::diagnostics diag;
    auto [iec, init] =
        co_await ossmp::async_initiate_upload(client, ip, diag, example::tuple_awaitable);
    if (iec)
        co_return example::fail("InitiateMultipartUpload", iec, &diag);
    std::printf("upload id: %s\n", init.upload_id.c_str());

    // 3. UploadPart, one part after the other, keeping each part's number and ETag.
    std::vector<ossmp::completed_part> parts;
    std::vector<char> buffer(static_cast<std::size_t>(part_size));
    std::uint64_t crc = 0; // the CRC-64 of the whole file, part by part
    int number = 1;
    for (std::uint64_t offset = 0; offset < total; offset += part_size, ++number) {
        const auto length = static_cast<std::size_t>(std::min(part_size, total - offset));
        file.read(buffer.data(), static_cast<std::streamsize>(length));
        if (!file)
            co_return example::fail("read " + path, std::make_error_code(std::errc::io_error));
        ossmp::upload_part_params pp;
        pp.bucket = ip.bucket;
        pp.key = ip.key;
        pp.upload_id = init.upload_id;
        pp.part_number = number;
        pp.data = std::as_bytes(std::span(buffer.data(), length)); // viewed, not copied
        // The part's CRC-64 is computed before sending and checked against the reply's.
        auto [pec, part] =
            co_await ossmp::async_upload_part(client, pp, diag, example::tuple_awaitable);
        if (pec)
            co_return example::fail("UploadPart " + std::to_string(number), pec, &diag);
        std::printf("part %d: %zu bytes, ETag %s\n", number, length, part.etag.c_str());
        crc = ossmp::crc64(pp.data, crc);
        parts.push_back(ossmp::completed_part{number, part.etag});
    }

    // 4. CompleteMultipartUpload with the part list (any order: the builder sorts it). The
    // expected CRC-64 makes a reply with another one fail with errc::crc_mismatch.
    ossmp::complete_params cp;
    cp.bucket = ip.bucket;
    cp.key = ip.key;
    cp.upload_id = init.upload_id;
    cp.parts = std::move(parts);
    ossmp::complete_options co;
    co.expected_crc64 = crc;
    auto [cec, done] =
        co_await ossmp::async_complete_upload(client, cp, co, diag, example::tuple_awaitable);
    if (cec)
        co_return example::fail("CompleteMultipartUpload", cec, &diag);
    std::printf("completed: %s, %zu parts, ETag %s, CRC-64 %s\n", done.key.c_str(), cp.parts.size(),
                done.etag.c_str(), done.crc64 ? "verified" : "NOT verified");
    co_return done.crc64 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    example::session s;
    const std::string path = example::input_file(argc, argv, "determine_part_size", 550'000);
    const std::uint64_t preferred = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
    return example::run(s, upload(s, path, preferred));
}
