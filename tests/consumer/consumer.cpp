// A consumer of the installed ossmp (scripts/test builds it with CMake's find_package and with
// meson's dependency()): uploads 300 KiB in three parts to $OSS_ENDPOINT (the emulator,
// path-style) with async_upload, and prints what the server confirmed. Exit 0 only when the
// object is complete and verified.
#include <ossmp/ossmp.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using client_type =
    ossmp::basic_client<ossmp::asio_transport, ossmp::environment_credentials_provider>;

int main() {
    const char* endpoint = std::getenv("OSS_ENDPOINT");
    if (!endpoint) {
        std::fprintf(stderr, "consumer: set OSS_ENDPOINT\n");
        return 2;
    }
    asio::io_context ctx;
    ossmp::asio_transport transport(ctx, ossmp::asio_transport_options{});
    ossmp::client_options options;
    options.endpoint = endpoint;
    options.region = "cn-hangzhou";
    options.style = ossmp::addressing_style::path;
    client_type client(transport, options, ossmp::environment_credentials_provider{});

    std::vector<std::byte> data(300 * 1024);
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<std::byte>(i * 7 + i / 1024);
    ossmp::upload_params params;
    params.bucket = "demo";
    params.key = "consumer/object";
    ossmp::upload_options upload;
    upload.part_size = 100 * 1024;

    int status = 1;
    ossmp::async_upload(client, ossmp::memory_source(data), params, upload,
                        [&](std::error_code ec, ossmp::upload_result r) {
                            if (ec) {
                                std::fprintf(stderr, "consumer: %s: %s\n", r.failed_step.c_str(),
                                             ec.message().c_str());
                                return;
                            }
                            std::printf("ossmp %s: %u parts, %llu bytes, verified %s\n",
                                        std::string(ossmp::version_string).c_str(), r.parts,
                                        static_cast<unsigned long long>(r.size),
                                        r.verified ? "yes" : "no");
                            status = r.verified && r.parts == 3 ? 0 : 1;
                        });
    ctx.run();
    return status;
}
