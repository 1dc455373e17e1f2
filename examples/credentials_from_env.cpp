// credentials_from_env: keys from the environment. `environment_credentials_provider` reads
// OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN (STS) on every signed request,
// so rotated keys are picked up without a new client; without them an operation fails with
// `errc::missing_credentials` before anything is sent. The client is built by hand here (the
// other examples get the same one from example_support.hpp).
#include "example_support.hpp"

#include "ossmp/credentials.hpp"
#include "ossmp/error.hpp"
#include "ossmp/ops/list_multipart_uploads.hpp"

#include <cstdio>
#include <cstdlib>

namespace {

using client_t =
    ossmp::basic_client<example::compiled_transport, ossmp::environment_credentials_provider>;

asio::awaitable<int> list_one_page(client_t& client, std::string bucket) {
    ossmp::list_uploads_params lp;
    lp.bucket = bucket;
    lp.max_uploads = 1;
    ossmp::diagnostics diag;
    auto [ec, page] =
        co_await ossmp::async_list_uploads(client, lp, diag, example::tuple_awaitable);
    if (ec)
        co_return example::fail("ListMultipartUploads", ec, &diag);
    std::printf("ListMultipartUploads signed with the environment's keys: HTTP %u\n",
                diag.http_status);

    // The provider reads the environment on every request: without a secret nothing is signed
    // and nothing is sent.
    ::unsetenv(ossmp::environment_credentials_provider::access_key_secret_variable);
    auto [ec2, page2] =
        co_await ossmp::async_list_uploads(client, lp, diag, example::tuple_awaitable);
    if (ec2 != ossmp::errc::missing_credentials)
        co_return example::fail("ListMultipartUploads without keys (expected an error)", ec2);
    std::printf("without OSS_ACCESS_KEY_SECRET: %s (HTTP %u: nothing sent)\n",
                ec2.message().c_str(), diag.http_status);
    co_return 0;
}

} // namespace

int main() {
    const example::settings config; // OSS_ENDPOINT, OSS_REGION, OSS_BUCKET, ...

    ossmp::environment_credentials_provider provider;
    ossmp::credentials creds;
    if (auto ec = provider.get_credentials(creds))
        return example::fail("reading OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET", ec);
    std::printf("credentials from the environment: %s\n", creds.redacted().c_str());

    asio::io_context ctx;
    example::compiled_transport transport(ctx.get_executor(), example::transport_options(config));
    ossmp::client_options options;
    options.endpoint = config.endpoint;
    options.region = config.region;
    if (config.path_style)
        options.style = ossmp::addressing_style::path;
    client_t client(transport, options, provider);

    return example::run(ctx, list_one_page(client, config.bucket));
}
