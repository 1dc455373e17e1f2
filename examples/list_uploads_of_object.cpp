// list_uploads_of_object: the in-progress uploads of exactly one object key, with
// `list_uploads_of_object` (paginate.hpp). It lists with prefix = key, keeps the uploads whose
// key equals it (not `KEY.bak`, which shares the prefix) and stops at the first key after it.
#include "example_support.hpp"

#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/paginate.hpp"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace {

asio::awaitable<int> list(example::session& s) {
    const std::string key = s.config.key("list_uploads_of_object.bin");
    // Three uploads of `key` and one of a key that starts with it.
    std::vector<std::pair<std::string, std::string>> made; // key, upload id
    for (const std::string& k : {key, key, key, key + ".bak"}) {
        ossmp::initiate_params ip;
        ip.bucket = s.config.bucket;
        ip.key = k;
        ossmp::diagnostics diag;
        auto [ec, init] =
            co_await ossmp::async_initiate_upload(s.client, ip, diag, example::tuple_awaitable);
        if (ec)
            co_return example::fail("InitiateMultipartUpload", ec, &diag);
        made.emplace_back(k, init.upload_id);
    }
    std::printf("initiated 3 uploads of %s and 1 of %s.bak\n", key.c_str(), key.c_str());

    auto uploads = ossmp::list_uploads_of_object(s.client, s.config.bucket, key);
    int count = 0;
    std::error_code ec;
    while (auto u = co_await uploads.next(ec)) {
        ++count;
        std::printf("upload %s of %s, initiated %s\n", u->upload_id.c_str(), u->key.c_str(),
                    u->initiated.c_str());
    }
    if (ec)
        co_return example::fail("ListMultipartUploads", ec, &uploads.last_diagnostics());
    std::printf("uploads of the object: %d\n", count);

    for (const auto& [k, id] : made) {
        ossmp::abort_params ap;
        ap.bucket = s.config.bucket;
        ap.key = k;
        ap.upload_id = id;
        auto [aec, r] = co_await ossmp::async_abort_upload(s.client, ap, example::tuple_awaitable);
        if (aec)
            co_return example::fail("AbortMultipartUpload", aec);
    }
    co_return count == 3 ? 0 : 1;
}

} // namespace

int main() {
    example::session s;
    return example::run(s, list(s));
}
