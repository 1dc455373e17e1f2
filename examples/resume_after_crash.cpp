// resume_after_crash: an upload with a checkpoint file survives being stopped. The first attempt
// is paused after a few parts (partial cancellation: the multipart upload and the checkpoint
// are kept); the second attempt, given the same checkpoint, lists the upload's parts, reuses
// those whose size and CRC-64 match the local bytes, and sends only the rest.
//
//   resume_after_crash [FILE]                     pause, then resume, in one run
//   resume_after_crash --crash-after N [FILE]     exit abruptly (status 3) after N parts, as a
//                                                 crash would; run again without it to resume
#include "example_support.hpp"

#include "ossmp/upload.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

struct plan {
    std::string path;       // the file
    std::string checkpoint; // where progress is recorded
    unsigned stop_after = 3;
    bool crash = false; // _Exit instead of a pause
};

ossmp::upload_options options_for(const plan& p) {
    ossmp::upload_options options;
    options.part_size = 128 * 1024;
    options.parallel = 1; // one part at a time, so the stop lands mid-upload
    options.checkpoint_path = p.checkpoint;
    options.checkpoint_every = 1; // record every acknowledged part at once
    return options;
}

asio::awaitable<int> attempt(example::session& s, plan p, int number) {
    ossmp::upload_params params;
    params.bucket = s.config.bucket;
    params.key = s.config.key("resume_after_crash.bin");
    ossmp::upload_options options = options_for(p);

    // Attempt 1 stops itself once `stop_after` parts are acknowledged.
    auto stop = std::make_shared<asio::cancellation_signal>(); // shared with a posted handler
    bool stopping = false;
    if (number == 1) {
        options.progress_interval = std::chrono::milliseconds(0);
        options.on_progress = [&](const ossmp::upload_progress& pr) {
            if (stopping || pr.parts_done < p.stop_after)
                return;
            stopping = true;
            if (p.crash) {
                std::printf("attempt 1: crashing after %u of %u parts\n", pr.parts_done, pr.parts);
                std::fflush(stdout);
                std::_Exit(3); // no destructor, no abort: what a crash leaves behind
            }
            // Partial cancellation pauses (terminal cancellation would abort the upload).
            // Emitted from a posted handler, not from inside the uploader's callback.
            asio::post(s.ctx, [stop] { stop->emit(asio::cancellation_type::partial); });
        };
    }
    auto source = ossmp::file_source::open(p.path);
    auto [ec, r] = co_await ossmp::async_upload(
        s.client, std::move(source), params, options,
        asio::bind_cancellation_slot(stop->slot(), example::tuple_awaitable));
    if (number == 1 && ec == asio::error::operation_aborted) {
        std::printf("attempt 1: paused, upload %s kept (aborted: %s), checkpoint %s\n",
                    r.upload_id.c_str(), r.aborted ? "yes" : "no", p.checkpoint.c_str());
        co_return 0;
    }
    if (ec)
        co_return example::fail(r.failed_step.empty() ? "upload" : r.failed_step, ec, &r.diag);
    std::printf("attempt %d: upload %s complete, %u parts, %u reused (%llu bytes), %u sent, "
                "%s\n",
                number, r.upload_id.c_str(), r.parts, r.parts_reused,
                static_cast<unsigned long long>(r.bytes_reused), r.parts - r.parts_reused,
                r.verified ? "verified" : "NOT verified");
    co_return r.verified ? 0 : 1;
}

asio::awaitable<int> run_plan(example::session& s, plan p) {
    if (p.crash) // the run after a crash resumes like attempt 2
        co_return co_await attempt(s, p, 1);
    if (int rc = co_await attempt(s, p, 1))
        co_return rc;
    co_return co_await attempt(s, p, 2);
}

} // namespace

int main(int argc, char** argv) {
    plan p;
    int first = 1;
    if (argc > 2 && std::string(argv[1]) == "--crash-after") {
        p.crash = true;
        p.stop_after = static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10));
        first = 3;
    }
    char* file_arg[] = {argv[0], first < argc ? argv[first] : nullptr};
    p.path =
        example::input_file(first < argc ? 2 : 1, file_arg, "resume_after_crash", 4 * 1024 * 1024);
    p.checkpoint = p.path + ".checkpoint";
    example::session s;
    // Without --crash-after: if a checkpoint is there (a crashed run), this run resumes it.
    if (std::FILE* f = p.crash ? nullptr : std::fopen(p.checkpoint.c_str(), "r")) {
        std::fclose(f);
        std::printf("found checkpoint %s: resuming\n", p.checkpoint.c_str());
        return example::run(s, attempt(s, p, 2));
    }
    return example::run(s, run_plan(s, p));
}
