// upload FILE BUCKET KEY: to $OSS_ENDPOINT, keys from $OSS_ACCESS_KEY_ID, $OSS_ACCESS_KEY_SECRET
#include <cstdio>
#include <cstdlib>
#include <ossmp/ossmp.hpp>

using client_t =
    ossmp::basic_client<ossmp::asio_transport, ossmp::environment_credentials_provider>;

asio::awaitable<int> upload(client_t& client, char** argv) {
    ossmp::upload_params params;
    params.bucket = argv[2];
    params.key = argv[3];
    ossmp::upload_options options; // 8 MiB parts, 4 in flight, retries, CRC-64 checked
    options.on_progress = [](const ossmp::upload_progress& p) {
        std::printf("%llu of %llu bytes\n", (unsigned long long)p.bytes_done,
                    (unsigned long long)p.total);
    };
    auto [ec, r] =
        co_await ossmp::async_upload(client, ossmp::file_source::open(argv[1]), params, options,
                                     asio::experimental::as_tuple(asio::use_awaitable));
    std::printf("%s: %u parts, ETag %s, %s\n", ec ? ec.message().c_str() : "uploaded", r.parts,
                r.etag.c_str(), r.verified ? "verified" : "NOT verified");
    co_return ec || !r.verified;
}

int main(int argc, char** argv) {
    if (argc != 4 || !std::getenv("OSS_ENDPOINT"))
        return 2;
    asio::io_context ctx;
    ossmp::client_options options;
    options.endpoint = std::getenv("OSS_ENDPOINT"); // https://oss-cn-hangzhou.aliyuncs.com
    options.region = "cn-hangzhou";
    ossmp::asio_transport_options tls;
    tls.tls = options.endpoint.starts_with("https:");
    ossmp::asio_transport transport(ctx, tls);
    client_t client(transport, options, {});
    auto status = asio::co_spawn(ctx, upload(client, argv), asio::use_future);
    ctx.run();
    try {
        return status.get(); // rethrows what the coroutine threw (a file that cannot be opened)
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
