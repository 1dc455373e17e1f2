// initiate_with_headers: InitiateMultipartUpload with the object's headers, fixed at initiation
// (Cache-Control, Content-Disposition, Content-Encoding, Expires, forbid-overwrite, server-side
// encryption, storage class, tagging, user metadata), then AbortMultipartUpload of it.
#include "example_support.hpp"

#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/initiate.hpp"

#include <cstdio>

namespace {

asio::awaitable<int> initiate_then_abort(example::session& s) {
    ossmp::initiate_params ip;
    ip.bucket = s.config.bucket;
    ip.key = s.config.key("initiate_with_headers.txt");
    ip.content_type = "text/plain";
    ip.cache_control = "no-cache";
    ip.content_disposition = "attachment; filename=\"report.txt\"";
    ip.content_encoding = "identity";
    ip.expires = "Wed, 21 Oct 2037 07:28:00 GMT";
    ip.forbid_overwrite = true;           // x-oss-forbid-overwrite: true
    ip.server_side_encryption = "AES256"; // or KMS (+ server_side_encryption_key_id), SM4
    ip.storage_class = "Standard";        // IA, Archive, ColdArchive, ...
    ip.tagging = "project=ossmp&stage=example";
    ip.user_metadata = {{"author", "examples"}}; // sent as x-oss-meta-author
    ossmp::diagnostics diag;
    auto [ec, init] =
        co_await ossmp::async_initiate_upload(s.client, ip, diag, example::tuple_awaitable);
    if (ec)
        co_return example::fail("InitiateMultipartUpload", ec, &diag);
    std::printf("initiated %s with 9 object headers: upload id %s, request id %s\n",
                init.key.c_str(), init.upload_id.c_str(), init.request_id.c_str());

    ossmp::abort_params ap;
    ap.bucket = ip.bucket;
    ap.key = ip.key;
    ap.upload_id = init.upload_id;
    auto [aec, aborted] =
        co_await ossmp::async_abort_upload(s.client, ap, diag, example::tuple_awaitable);
    if (aec)
        co_return example::fail("AbortMultipartUpload", aec, &diag);
    std::printf("aborted upload %s (HTTP %u)\n", ap.upload_id.c_str(), diag.http_status);
    co_return 0;
}

} // namespace

int main() {
    example::session s;
    return example::run(s, initiate_then_abort(s));
}
