// complete_with_acl: CompleteMultipartUpload with `x-oss-object-acl`: the new object gets its ACL
// (private, public-read, public-read-write, default: the bucket's) as it is created.
#include "example_support.hpp"

#include "ossmp/ops/complete.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/upload_part.hpp"

#include <algorithm>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace {

asio::awaitable<int> upload(example::session& s) {
    ossmp::initiate_params ip;
    ip.bucket = s.config.bucket;
    ip.key = s.config.key("complete_with_acl.bin");
    ossmp::diagnostics diag;
    auto [iec, init] =
        co_await ossmp::async_initiate_upload(s.client, ip, diag, example::tuple_awaitable);
    if (iec)
        co_return example::fail("InitiateMultipartUpload", iec, &diag);
    std::printf("upload id: %s\n", init.upload_id.c_str());

    // Three parts; every part but the last must be at least 100 KiB.
    std::vector<ossmp::completed_part> list;
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
        list.push_back(ossmp::completed_part{pp.part_number, part.etag});
    }
    std::printf("uploaded %d parts\n", parts);

    ossmp::complete_params cp;
    cp.bucket = ip.bucket;
    cp.key = ip.key;
    cp.upload_id = init.upload_id;
    cp.parts = std::move(list);
    cp.object_acl = "private"; // x-oss-object-acl: private
    ossmp::complete_options co;
    co.expected_crc64 = ossmp::crc64(std::span(data)); // checked against the reply's CRC-64
    auto [cec, done] =
        co_await ossmp::async_complete_upload(s.client, cp, co, diag, example::tuple_awaitable);
    if (cec)
        co_return example::fail("CompleteMultipartUpload", cec, &diag);
    std::printf("completed with x-oss-object-acl %s: %s, ETag %s, CRC-64 %s\n",
                cp.object_acl.c_str(), done.key.c_str(), done.etag.c_str(),
                done.crc64 ? "verified" : "NOT verified");
    co_return done.crc64 ? 0 : 1;
}

} // namespace

int main() {
    example::session s;
    return example::run(s, upload(s));
}
