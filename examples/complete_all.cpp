// complete_all: CompleteMultipartUpload with `x-oss-complete-all: yes`: OSS assembles every part
// uploaded so far, in part-number order, so the client sends no part list (and keeps none).
#include "example_support.hpp"

#include "ossmp/ops/complete.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/upload_part.hpp"

#include <algorithm>
#include <cstdio>
#include <span>
#include <string>

namespace {

asio::awaitable<int> upload(example::session& s) {
    ossmp::initiate_params ip;
    ip.bucket = s.config.bucket;
    ip.key = s.config.key("complete_all.bin");
    ossmp::diagnostics diag;
    auto [iec, init] =
        co_await ossmp::async_initiate_upload(s.client, ip, diag, example::tuple_awaitable);
    if (iec)
        co_return example::fail("InitiateMultipartUpload", iec, &diag);
    std::printf("upload id: %s\n", init.upload_id.c_str());

    // Three parts; every part but the last must be at least 100 KiB. Their ETags are not kept.
    const auto data = example::sample_bytes(250 * 1024);
    const std::size_t part_size = 100 * 1024;
    int parts = 0;
    for (std::size_t offset = 0; offset < data.size(); offset += part_size) {
        ossmp::upload_part_params pp;
        pp.bucket = ip.bucket;
        pp.key = ip.key;
        pp.upload_id = init.upload_id;
        pp.part_number = ++parts;
        pp.data = std::span(data).subspan(offset, std::min(part_size, data.size() - offset));
        auto [pec, part] =
            co_await ossmp::async_upload_part(s.client, pp, diag, example::tuple_awaitable);
        if (pec)
            co_return example::fail("UploadPart " + std::to_string(pp.part_number), pec, &diag);
    }
    std::printf("uploaded %d parts, ETags not kept\n", parts);

    ossmp::complete_params cp;
    cp.bucket = ip.bucket;
    cp.key = ip.key;
    cp.upload_id = init.upload_id;
    cp.complete_all = true; // x-oss-complete-all: yes, no body (cp.parts stays empty)
    ossmp::complete_options co;
    co.expected_crc64 = ossmp::crc64(std::span(data)); // checked against the reply's CRC-64
    auto [cec, done] =
        co_await ossmp::async_complete_upload(s.client, cp, co, diag, example::tuple_awaitable);
    if (cec)
        co_return example::fail("CompleteMultipartUpload", cec, &diag);
    std::printf("completed with complete-all: %s, ETag %s, CRC-64 %s\n", done.key.c_str(),
                done.etag.c_str(), done.crc64 ? "verified" : "NOT verified");
    co_return done.crc64 ? 0 : 1;
}

} // namespace

int main() {
    example::session s;
    return example::run(s, upload(s));
}
