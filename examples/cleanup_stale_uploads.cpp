// cleanup_stale_uploads: `async_cleanup_uploads` aborts the in-progress uploads of a bucket
// (under a prefix) initiated longer ago than `older_than`, a few at a time, while it lists them
// page by page; `dry_run` only reports what it would abort. Abandoned uploads keep their parts
// (and their cost) until someone aborts them.
//
//   cleanup_stale_uploads [PREFIX [OLDER_THAN_SECONDS]]
//   (default: this example's own prefix and 0 s, after initiating three uploads under it)
#include "example_support.hpp"

#include "ossmp/ops/initiate.hpp"
#include "ossmp/paginate.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

asio::awaitable<int> clean(example::session& s, std::string prefix, long older_than_s,
                           bool make_some) {
    if (make_some) { // three abandoned uploads
        for (const char* name : {"a.bin", "b.bin", "c.bin"}) {
            ossmp::initiate_params ip;
            ip.bucket = s.config.bucket;
            ip.key = prefix + name;
            ossmp::diagnostics diag;
            auto [ec, init] =
                co_await ossmp::async_initiate_upload(s.client, ip, diag, example::tuple_awaitable);
            if (ec)
                co_return example::fail("InitiateMultipartUpload", ec, &diag);
        }
        std::printf("initiated 3 uploads under %s\n", prefix.c_str());
        // "Older than 0 s" means initiated before now: let the clock move past them.
        asio::steady_timer wait(s.ctx, std::chrono::milliseconds(20));
        co_await wait.async_wait(asio::use_awaitable);
    }

    ossmp::cleanup_options options;
    options.prefix = prefix;
    options.older_than = std::chrono::seconds(older_than_s);
    options.parallel = 2; // aborts at once
    options.on_upload = [](const ossmp::cleanup_entry& e) {
        std::printf("  %s %s (upload %s, initiated %s)\n", std::string(to_string(e.action)).c_str(),
                    e.key.c_str(), e.upload_id.c_str(), e.initiated.c_str());
    };
    for (bool dry_run : {true, false}) {
        options.dry_run = dry_run;
        std::printf("%s:\n", dry_run ? "dry run" : "cleanup");
        auto [ec, r] = co_await ossmp::async_cleanup_uploads(s.client, s.config.bucket, options,
                                                             example::tuple_awaitable);
        if (ec)
            co_return example::fail("cleanup", ec, &r.list_diag);
        std::printf("%s: listed %zu, kept %zu, would abort %zu, aborted %zu, gone %zu, failed "
                    "%zu\n",
                    dry_run ? "dry run" : "cleanup", r.listed, r.kept, r.would_abort, r.aborted,
                    r.gone, r.failed);
    }
    co_return 0;
}

} // namespace

int main(int argc, char** argv) {
    example::session s;
    const bool own = argc < 2;
    const std::string prefix = own ? s.config.key("cleanup_stale_uploads/") : argv[1];
    const long older_than = argc > 2 ? std::strtol(argv[2], nullptr, 10) : (own ? 0 : 7 * 86400);
    return example::run(s, clean(s, prefix, older_than, own));
}
