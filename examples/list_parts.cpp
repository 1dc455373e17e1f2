// list_parts: every part of an upload, all pages, with `list_all_parts` (paginate.hpp): an
// async generator that requests ListParts pages lazily and yields one `part_info` per
// `co_await`. A page size of 2 makes the five parts take three pages.
#include "example_support.hpp"

#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/upload_part.hpp"
#include "ossmp/paginate.hpp"

#include <cstdio>

namespace {

asio::awaitable<int> list(example::session& s) {
    ossmp::initiate_params ip;
    ip.bucket = s.config.bucket;
    ip.key = s.config.key("list_parts.bin");
    ossmp::diagnostics diag;
    auto [iec, init] =
        co_await ossmp::async_initiate_upload(s.client, ip, diag, example::tuple_awaitable);
    if (iec)
        co_return example::fail("InitiateMultipartUpload", iec, &diag);
    std::printf("upload id: %s\n", init.upload_id.c_str());

    // Five small parts (sizes are only checked at Complete, which this example never does).
    const auto data = example::sample_bytes(5 * 1000);
    for (int n = 1; n <= 5; ++n) {
        ossmp::upload_part_params pp;
        pp.bucket = ip.bucket;
        pp.key = ip.key;
        pp.upload_id = init.upload_id;
        pp.part_number = n;
        pp.data = std::span(data).subspan(static_cast<std::size_t>(n - 1) * 1000, 1000);
        auto [pec, part] =
            co_await ossmp::async_upload_part(s.client, pp, diag, example::tuple_awaitable);
        if (pec)
            co_return example::fail("UploadPart", pec, &diag);
    }

    ossmp::list_parts_options lo;
    lo.page_size = 2; // max-parts per ListParts request (default 1000)
    auto parts = ossmp::list_all_parts(s.client, ip.bucket, ip.key, init.upload_id, lo);
    int count = 0;
    std::uint64_t bytes = 0;
    std::error_code ec;
    while (auto p = co_await parts.next(ec)) { // next() without `ec` throws instead
        ++count;
        bytes += p->size;
        std::printf("part %d: %llu bytes, ETag %s, CRC-64 %llu\n", p->part_number,
                    static_cast<unsigned long long>(p->size), p->etag.c_str(),
                    static_cast<unsigned long long>(p->crc64.value_or(0)));
    }
    if (ec)
        co_return example::fail("ListParts", ec, &parts.last_diagnostics());
    std::printf("listed %d parts, %llu bytes\n", count, static_cast<unsigned long long>(bytes));

    ossmp::abort_params ap;
    ap.bucket = ip.bucket;
    ap.key = ip.key;
    ap.upload_id = init.upload_id;
    auto [aec, r] =
        co_await ossmp::async_abort_upload(s.client, ap, diag, example::tuple_awaitable);
    if (aec)
        co_return example::fail("AbortMultipartUpload", aec, &diag);
    co_return count == 5 ? 0 : 1;
}

} // namespace

int main() {
    example::session s;
    return example::run(s, list(s));
}
