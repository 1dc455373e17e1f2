// Many async_upload at once on one io_context, against ossmp-emulator over real sockets,
// drawing from one memory budget: 100 uploads of 64 MiB from memory under 256 MiB, every
// object verified, the budget's high-water mark never above it.
#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/limits.hpp"
#include "ossmp/transport/asio_transport.hpp"
#include "ossmp/upload.hpp"

#include "support/emulator_process.hpp"
#include "support/test_bytes.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using client_type = ossmp::basic_client<ossmp::asio_transport, ossmp::static_credentials_provider>;

TEST_CASE("limits: 100 uploads of 64 MiB from memory at once under a 256 MiB budget",
          "[upload][limits][integration]") {
    ossmp::test::emulator_process emu(
        {"--bucket", "many-bucket", "--credentials", "ak:sk", "--storage", "sink"});
    asio::io_context ctx(1);
    ossmp::asio_transport_options to;
    to.connect_timeout = 5s;
    to.stall_timeout = 60s;
    ossmp::asio_transport transport(ctx, to);
    ossmp::client_options co;
    co.endpoint = "http://127.0.0.1:" + std::to_string(emu.port());
    co.region = "cn-hangzhou";
    co.style = ossmp::addressing_style::path;
    client_type client(transport, co, ossmp::static_credentials_provider("ak", "sk"));

    constexpr std::uint64_t mib = 1 << 20;
    const std::string data = ossmp::test::random_bytes(64 * mib, 64);
    const std::uint64_t crc = ossmp::crc64(data);
    ossmp::memory_budget budget(256 * mib);
    ossmp::upload_options o;
    o.part_size = 8 * mib;
    o.parallel = 4; // 100 x 4 parts of 8 MiB would be 3.2 GiB in flight
    o.budget = budget;
    struct done {
        int calls = 0;
        std::error_code ec;
        ossmp::upload_result r;
    };
    std::vector<done> results(100);
    for (std::size_t i = 0; i < results.size(); ++i) {
        ossmp::upload_params p;
        p.bucket = "many-bucket";
        p.key = "many/" + std::to_string(i);
        ossmp::async_upload(client, ossmp::memory_source(ossmp::test::bytes_of(data)), p, o,
                            [&results, i](std::error_code ec, ossmp::upload_result r) {
                                ++results[i].calls;
                                results[i].ec = ec;
                                results[i].r = std::move(r);
                            });
    }
    ctx.run();
    int ok = 0;
    for (const auto& d : results) {
        INFO(d.r.upload_id << " " << d.ec.message() << " " << d.r.failed_step);
        CHECK(d.calls == 1);
        CHECK_FALSE(d.ec);
        ok += d.calls == 1 && !d.ec && d.r.verified && d.r.crc64 == crc && d.r.size == 64 * mib &&
              d.r.parts == 8;
    }
    CHECK(ok == 100);
    CHECK(budget.high_water() <= 256 * mib);
    CHECK(budget.high_water() > 128 * mib); // the budget was what held the uploads back
    CHECK(budget.in_use() == 0);
}

} // namespace
