// invalid_digest: UploadPart with a Content-MD5 that does not match the bytes. OSS refuses the
// part with 400 InvalidDigest (`service_errc::invalid_digest`): the bytes were damaged on the
// way, or the digest is wrong. `upload_part_options::content_md5 = true` sends the right one.
#include "example_support.hpp"

#include "ossmp/crypto.hpp"
#include "ossmp/error.hpp"
#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/upload_part.hpp"

#include <cstdio>

namespace {

asio::awaitable<int> send(example::session& s) {
    ossmp::initiate_params ip;
    ip.bucket = s.config.bucket;
    ip.key = s.config.key("invalid_digest.bin");
    ossmp::diagnostics diag;
    auto [iec, init] =
        co_await ossmp::async_initiate_upload(s.client, ip, diag, example::tuple_awaitable);
    if (iec)
        co_return example::fail("InitiateMultipartUpload", iec, &diag);
    std::printf("upload id: %s\n", init.upload_id.c_str());

    const auto data = example::sample_bytes(64 * 1024);
    ossmp::upload_part_params pp;
    pp.bucket = ip.bucket;
    pp.key = ip.key;
    pp.upload_id = init.upload_id;
    pp.part_number = 1;
    pp.data = data;
    // The MD5 of other bytes (base64 of 16 bytes, so it passes the client's format check).
    pp.content_md5 = ossmp::crypto::base64_encode(ossmp::crypto::md5("not these bytes"));
    auto [ec, part] =
        co_await ossmp::async_upload_part(s.client, pp, diag, example::tuple_awaitable);
    const bool refused = ec == ossmp::service_errc::invalid_digest;
    std::printf("UploadPart with a wrong Content-MD5: %s, service code %s, HTTP %u\n",
                ec ? ec.message().c_str() : "accepted", diag.code.c_str(), diag.http_status);

    // The same part with its own MD5 goes through.
    pp.content_md5.clear();
    ossmp::upload_part_options po;
    po.content_md5 = true;
    auto [ec2, part2] =
        co_await ossmp::async_upload_part(s.client, pp, po, diag, example::tuple_awaitable);
    if (ec2)
        co_return example::fail("UploadPart with the right Content-MD5", ec2, &diag);
    std::printf("UploadPart with the right Content-MD5: ETag %s\n", part2.etag.c_str());

    ossmp::abort_params ap;
    ap.bucket = ip.bucket;
    ap.key = ip.key;
    ap.upload_id = init.upload_id;
    auto [aec, r] =
        co_await ossmp::async_abort_upload(s.client, ap, diag, example::tuple_awaitable);
    if (aec)
        co_return example::fail("AbortMultipartUpload", aec, &diag);
    co_return refused ? 0 : 1;
}

} // namespace

int main() {
    example::session s;
    return example::run(s, send(s));
}
