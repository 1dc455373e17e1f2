// list_by_prefix: the uploads under a prefix, rolled up at a delimiter like directories: with
// prefix `P/` and delimiter `/`, the uploads of `P/logs/1.bin` and `P/logs/2.bin` come back as
// one common prefix `P/logs/`, while `P/top.bin` is listed itself.
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
    const std::string prefix = s.config.key("list_by_prefix/");
    std::vector<ossmp::abort_params> made;
    for (const char* name : {"logs/1.bin", "logs/2.bin", "media/a.bin", "top.bin"}) {
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

    ossmp::list_uploads_options lo;
    lo.prefix = prefix;
    lo.delimiter = "/";
    auto entries = ossmp::list_all_uploads(s.client, s.config.bucket, lo);
    int uploads = 0, prefixes = 0;
    std::error_code ec;
    while (auto entry = co_await entries.next(ec)) {
        if (const auto* u = std::get_if<ossmp::upload_info>(&*entry)) {
            ++uploads;
            std::printf("upload: %s\n", u->key.c_str());
        } else if (const auto* p = std::get_if<ossmp::common_prefix>(&*entry)) {
            ++prefixes;
            std::printf("common prefix: %s\n", p->prefix.c_str());
        }
    }
    if (ec)
        co_return example::fail("ListMultipartUploads", ec, &entries.last_diagnostics());
    std::printf("under %s: %d uploads, %d common prefixes\n", prefix.c_str(), uploads, prefixes);

    for (const auto& ap : made) {
        auto [aec, r] = co_await ossmp::async_abort_upload(s.client, ap, example::tuple_awaitable);
        if (aec)
            co_return example::fail("AbortMultipartUpload", aec);
    }
    co_return uploads == 1 && prefixes == 2 ? 0 : 1;
}

} // namespace

int main() {
    example::session s;
    return example::run(s, list(s));
}
