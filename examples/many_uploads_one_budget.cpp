// many_uploads_one_budget: six uploads at once, sharing one `memory_budget`. Each part draws
// its memory from the budget before it starts and gives it back when it ends, so however many
// uploads run, their parts in flight never hold more than the budget together (a part waits
// for memory: the windows shrink, nothing fails). `high_water()` shows the most ever held.
#include "example_support.hpp"

#include "ossmp/limits.hpp"
#include "ossmp/upload.hpp"

#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace {

constexpr int uploads = 6;
constexpr std::size_t object_size = 1024 * 1024;
constexpr std::uint64_t part_size = 128 * 1024;

asio::awaitable<int> upload_one(example::session& s, ossmp::memory_budget budget,
                                std::span<const std::byte> data, int n) {
    ossmp::upload_params params;
    params.bucket = s.config.bucket;
    params.key = s.config.key("many_uploads/" + std::to_string(n) + ".bin");
    ossmp::upload_options options;
    options.part_size = part_size;
    options.parallel = 4;    // each upload alone would hold 4 parts of 128 KiB ...
    options.budget = budget; // ... but all six share this budget (a copy shares the state)
    ossmp::memory_source source(data); // parts are views of `data`: they count their length
    auto [ec, r] =
        co_await ossmp::async_upload(s.client, source, params, options, example::tuple_awaitable);
    if (ec)
        co_return example::fail(params.key, ec, &r.diag);
    std::printf("%s: %u parts, %s\n", params.key.c_str(), r.parts,
                r.verified ? "verified" : "NOT verified");
    co_return r.verified ? 0 : 1;
}

} // namespace

int main() {
    example::session s;
    ossmp::memory_budget budget(3 * part_size); // three parts in flight among all uploads
    const auto data = example::sample_bytes(object_size);
    int done = 0, failed = 0;
    for (int n = 1; n <= uploads; ++n)
        asio::co_spawn(s.ctx, upload_one(s, budget, data, n), [&](std::exception_ptr e, int rc) {
            ++done;
            failed += (e || rc != 0) ? 1 : 0;
        });
    s.ctx.run();
    std::printf("%d uploads, %d failed; budget %llu bytes, high water %llu bytes: %s\n", done,
                failed, static_cast<unsigned long long>(budget.capacity()),
                static_cast<unsigned long long>(budget.high_water()),
                budget.high_water() <= budget.capacity() ? "within budget" : "OVER BUDGET");
    return (failed == 0 && done == uploads && budget.high_water() <= budget.capacity()) ? 0 : 1;
}
