// abort_upload: AbortMultipartUpload deletes an upload and every part sent to it; afterwards the
// upload is gone (ListParts and a second abort get NoSuchUpload).
#include "example_support.hpp"

#include "ossmp/error.hpp"
#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/upload_part.hpp"

#include <cstdio>

namespace {

asio::awaitable<int> abort_one(example::session& s) {
    ossmp::initiate_params ip;
    ip.bucket = s.config.bucket;
    ip.key = s.config.key("abort_upload.bin");
    ossmp::diagnostics diag;
    auto [iec, init] =
        co_await ossmp::async_initiate_upload(s.client, ip, diag, example::tuple_awaitable);
    if (iec)
        co_return example::fail("InitiateMultipartUpload", iec, &diag);
    std::printf("upload id: %s\n", init.upload_id.c_str());

    const auto data = example::sample_bytes(4096);
    ossmp::upload_part_params pp;
    pp.bucket = ip.bucket;
    pp.key = ip.key;
    pp.upload_id = init.upload_id;
    pp.part_number = 1;
    pp.data = data;
    auto [pec, part] =
        co_await ossmp::async_upload_part(s.client, pp, diag, example::tuple_awaitable);
    if (pec)
        co_return example::fail("UploadPart 1", pec, &diag);
    std::printf("part 1: ETag %s\n", part.etag.c_str());

    ossmp::abort_params ap;
    ap.bucket = ip.bucket;
    ap.key = ip.key;
    ap.upload_id = init.upload_id;
    auto [aec, r] =
        co_await ossmp::async_abort_upload(s.client, ap, diag, example::tuple_awaitable);
    if (aec)
        co_return example::fail("AbortMultipartUpload", aec, &diag);
    std::printf("aborted: HTTP %u, request id %s\n", diag.http_status, r.request_id.c_str());

    // The upload is gone: aborting it again is a NoSuchUpload service error.
    auto [again, r2] =
        co_await ossmp::async_abort_upload(s.client, ap, diag, example::tuple_awaitable);
    if (again != ossmp::service_errc::no_such_upload)
        co_return example::fail("second AbortMultipartUpload (expected NoSuchUpload)", again,
                                &diag);
    std::printf("second abort: %s (HTTP %u): the upload is gone\n", diag.code.c_str(),
                diag.http_status);
    co_return 0;
}

} // namespace

int main() {
    example::session s;
    return example::run(s, abort_one(s));
}
