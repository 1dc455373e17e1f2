// v4_signing_region: V4 signatures (OSS4-HMAC-SHA256, ossmp's default) sign with a region in
// their scope: set `client_options::region` explicitly (it is derived only from an
// `oss-REGION.aliyuncs.com` endpoint, never from an IP or a custom domain). V1 (HMAC-SHA1, no
// region) is still accepted by OSS: `signature = signature_version::v1`, or OSS_SIGN=v1 for
// every example. A V4 request signed for another region is refused (SignatureDoesNotMatch).
//
//   v4_signing_region [REGION]   (default: OSS_REGION, else cn-hangzhou)
#include "example_support.hpp"

#include "ossmp/ops/list_multipart_uploads.hpp"

#include <cstdio>
#include <string>

namespace {

using client_t =
    ossmp::basic_client<example::compiled_transport, ossmp::environment_credentials_provider>;

/// One ListMultipartUploads page with `client`; prints the outcome under `label`.
asio::awaitable<std::error_code> try_list(client_t& client, std::string bucket, std::string label) {
    ossmp::list_uploads_params lp;
    lp.bucket = bucket;
    lp.max_uploads = 1;
    ossmp::diagnostics diag;
    auto [ec, page] =
        co_await ossmp::async_list_uploads(client, lp, diag, example::tuple_awaitable);
    if (ec)
        std::printf("%s: %s (HTTP %u)\n", label.c_str(),
                    diag.code.empty() ? ec.message().c_str() : diag.code.c_str(), diag.http_status);
    else
        std::printf("%s: ok (HTTP %u)\n", label.c_str(), diag.http_status);
    co_return ec;
}

asio::awaitable<int> compare(example::session& s, std::string region) {
    ossmp::client_options v4 = example::client_options(s.config);
    v4.signature = ossmp::signature_version::v4;
    v4.region = region; // "cn-hangzhou" (an "oss-" prefix is stripped)
    client_t v4_client(s.transport, v4, {});
    std::printf("V4 scope region: %s\n", v4_client.signing().region.c_str());
    if (co_await try_list(v4_client, s.config.bucket, "v4, region " + region))
        co_return 1;

    ossmp::client_options v1 = example::client_options(s.config);
    v1.signature = ossmp::signature_version::v1; // no region needed
    client_t v1_client(s.transport, v1, {});
    if (co_await try_list(v1_client, s.config.bucket, "v1"))
        co_return 1;

    ossmp::client_options wrong = v4;
    wrong.region = region == "us-west-1" ? "eu-central-1" : "us-west-1";
    client_t wrong_client(s.transport, wrong, {});
    auto ec = co_await try_list(wrong_client, s.config.bucket, "v4, wrong region " + wrong.region);
    co_return ec ? 0 : 1; // the wrong region must be refused
}

} // namespace

int main(int argc, char** argv) {
    example::session s;
    const std::string region = argc > 1 ? argv[1] : example::env("OSS_REGION", "cn-hangzhou");
    return example::run(s, compare(s, region));
}
