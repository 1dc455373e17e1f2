// callbacks: the same operations with plain callbacks as completion tokens, no coroutine:
// Initiate -> UploadPart x2 -> Complete, each step started from the previous one's handler.
// Every operation accepts any completion token: a callable with the completion signature
// `void(std::error_code, Result)` is one. Handlers run on the client's executor (the
// io_context's thread here); the state they share lives in `job`, which outlives the run.
#include "example_support.hpp"

#include "ossmp/ops/abort.hpp"
#include "ossmp/ops/complete.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/upload_part.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace {

struct job {
    example::client_type& client;
    std::string bucket;
    std::string key;
    std::vector<std::byte> data = example::sample_bytes(150 * 1024);
    std::string upload_id{};
    std::vector<ossmp::completed_part> parts{};
    ossmp::diagnostics diag{}; // must outlive every operation given it
    int status = 1;

    void start() {
        ossmp::initiate_params ip;
        ip.bucket = bucket;
        ip.key = key;
        ossmp::async_initiate_upload(client, ip, diag,
                                     [this](std::error_code ec, ossmp::initiate_result r) {
                                         if (ec)
                                             return failed("InitiateMultipartUpload", ec);
                                         upload_id = r.upload_id;
                                         std::printf("upload id: %s\n", upload_id.c_str());
                                         upload_part(1);
                                     });
    }

    void upload_part(int number) {
        const std::size_t part_size = 100 * 1024;
        const std::size_t offset = static_cast<std::size_t>(number - 1) * part_size;
        if (offset >= data.size())
            return complete();
        ossmp::upload_part_params pp;
        pp.bucket = bucket;
        pp.key = key;
        pp.upload_id = upload_id;
        pp.part_number = number;
        pp.data = std::span(data).subspan(offset, std::min(part_size, data.size() - offset));
        ossmp::async_upload_part(client, pp, diag,
                                 [this, number](std::error_code ec, ossmp::upload_part_result r) {
                                     if (ec)
                                         return failed("UploadPart", ec);
                                     std::printf("part %d: ETag %s\n", number, r.etag.c_str());
                                     parts.push_back(ossmp::completed_part{number, r.etag});
                                     upload_part(number + 1);
                                 });
    }

    void complete() {
        ossmp::complete_params cp;
        cp.bucket = bucket;
        cp.key = key;
        cp.upload_id = upload_id;
        cp.parts = parts;
        ossmp::async_complete_upload(client, cp, diag,
                                     [this](std::error_code ec, ossmp::complete_result r) {
                                         if (ec)
                                             return failed("CompleteMultipartUpload", ec);
                                         std::printf("completed with callbacks: %s, %zu parts, "
                                                     "ETag %s\n",
                                                     r.key.c_str(), parts.size(), r.etag.c_str());
                                         status = 0;
                                     });
    }

    void failed(const char* step, std::error_code ec) {
        status = example::fail(step, ec, &diag);
        if (upload_id.empty())
            return;
        ossmp::abort_params ap;
        ap.bucket = bucket;
        ap.key = key;
        ap.upload_id = upload_id;
        ossmp::async_abort_upload(client, ap, [](std::error_code, ossmp::abort_result) {});
    }
};

} // namespace

int main() {
    example::session s;
    job j{s.client, s.config.bucket, s.config.key("callbacks.bin")};
    j.start();
    s.ctx.run(); // returns when the last handler has run
    return j.status;
}
