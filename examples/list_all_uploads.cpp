// list_all_uploads: every in-progress upload of the bucket, all pages, with `list_all_uploads`
// (paginate.hpp): an async generator of `upload_entry` (an upload, or a common prefix when a
// delimiter is given), following NextKeyMarker / NextUploadIdMarker page after page.
#include "example_support.hpp"

#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/paginate.hpp"

#include <cstdio>
#include <string>
#include <variant>
#include <vector>

namespace {

asio::awaitable<int> list(example::session& s) {
    const std::string prefix = s.config.key("list_all_uploads/");
    std::vector<ossmp::abort_params> made;
    for (const char* name : {"a.bin", "b.bin", "c.bin", "d.bin", "e.bin"}) {
        ossmp::initiate_params ip;
        ip.bucket = s.config.bucket;
        ip.key = prefix + name;
        ossmp::diagnostics diag;
        auto [ec, init] =
            co_await ossmp::async_initiate_upload(s.client, ip, diag, example::tuple_awaitable);
        if (ec)
            co_return example::fail("InitiateMultipartUpload", ec, &diag);
        ossmp::abort_params ap;
        ap.bucket = ip.bucket;
        ap.key = ip.key;
        ap.upload_id = init.upload_id;
        made.push_back(std::move(ap));
    }
    std::printf("initiated %zu uploads under %s\n", made.size(), prefix.c_str());

    // The whole bucket (other uploads in it are listed too), two entries per page.
    ossmp::list_uploads_options lo;
    lo.page_size = 2;
    auto uploads = ossmp::list_all_uploads(s.client, s.config.bucket, lo);
    int all = 0, ours = 0;
    std::error_code ec;
    while (auto entry = co_await uploads.next(ec)) {
        // Without a delimiter every entry is an upload; std::get_if skips prefixes anyway.
        if (const auto* u = std::get_if<ossmp::upload_info>(&*entry)) {
            ++all;
            if (u->key.starts_with(prefix)) {
                ++ours;
                std::printf("upload %s of %s\n", u->upload_id.c_str(), u->key.c_str());
            }
        }
    }
    if (ec)
        co_return example::fail("ListMultipartUploads", ec, &uploads.last_diagnostics());
    std::printf("listed %d uploads in bucket %s, %d of them ours\n", all, s.config.bucket.c_str(),
                ours);

    for (const auto& ap : made) {
        auto [aec, r] = co_await ossmp::async_abort_upload(s.client, ap, example::tuple_awaitable);
        if (aec)
            co_return example::fail("AbortMultipartUpload", aec);
    }
    std::printf("aborted %zu uploads\n", made.size());
    co_return ours == 5 ? 0 : 1;
}

} // namespace

int main() {
    example::session s;
    return example::run(s, list(s));
}
