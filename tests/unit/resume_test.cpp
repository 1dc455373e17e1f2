// Resuming async_upload against the scripted transport's small OSS: a pause token round
// trip, a checkpoint kept after a failure and resumed (only the missing parts sent, the file
// removed after success), listed parts with another CRC-64 or size sent again, a listing
// without CRC-64 (the checkpoint's ETag decides), NoSuchUpload (start over), paging, refusals
// (another source, a changed file, a damaged checkpoint, a stream) and start_fresh.
#include "ossmp/checkpoint.hpp"
#include "ossmp/upload.hpp"

#include "support/fake_oss.hpp"
#include "support/fake_transport.hpp"
#include "support/test_bytes.hpp"

#include "support/cli_process.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using ossmp::errc;
using ossmp::test::bytes_of;
using ossmp::test::fake_transport;
using ossmp::test::pattern;
using ossmp::test::temp_dir;
using namespace ossmp::test::upload;

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

ossmp::upload_checkpoint read_back(const std::string& path) {
    std::string text;
    REQUIRE_FALSE(ossmp::read_checkpoint_file(path, text));
    ossmp::upload_checkpoint c;
    REQUIRE_FALSE(ossmp::parse_checkpoint(text, c));
    return c;
}

// Makes the UploadPart of part `n` fail for good (403) the first time.
void fail_part_once(fixture& f, int n) {
    f.transport.set_responder(
        [&f, n, done = false](const http::request& r) mutable -> fake_transport::outcome {
            if (!done && r.method == http::verb::put &&
                r.query_value("partNumber") == std::to_string(n)) {
                done = true;
                (void)r.body();
                return error_reply(403, "AccessDenied");
            }
            return f.oss(r);
        });
}

std::vector<int> sorted(std::vector<int> v) {
    std::sort(v.begin(), v.end());
    return v;
}

TEST_CASE("resume: a paused upload completes from its resume token", "[upload][resume]") {
    for (std::size_t k : {2u, 5u, 8u}) {
        DYNAMIC_SECTION("paused once " << k << " round trips have started") {
            fixture f;
            f.transport.set_delay(1ms);
            asio::cancellation_signal pause;
            outcome first;
            ossmp::async_upload(f.client, ossmp::memory_source(bytes_of(seven)), object_params(),
                                fast_options(),
                                asio::bind_cancellation_slot(
                                    pause.slot(), [&](std::error_code ec, ossmp::upload_result r) {
                                        ++first.calls;
                                        first.ec = ec;
                                        first.result = std::move(r);
                                    }));
            bool emitted = false;
            for (int i = 0; i < 10000 && first.calls == 0; ++i) {
                f.ctx.run_one_for(50ms);
                if (!emitted && f.transport.round_trips() >= k) {
                    pause.emit(asio::cancellation_type::partial);
                    emitted = true;
                }
            }
            f.ctx.run();
            f.ctx.restart();
            REQUIRE(first.calls == 1);
            CHECK(first.ec == asio::error::operation_aborted);
            CHECK(first.result.failed_step == "paused");
            CHECK_FALSE(first.result.aborted);
            CHECK(f.oss.aborts == 0);
            REQUIRE(f.oss.upload_alive); // kept
            REQUIRE_FALSE(first.result.resume_token.empty());
            ossmp::upload_checkpoint token;
            REQUIRE_FALSE(ossmp::parse_checkpoint(first.result.resume_token, token));
            CHECK(token.upload_id == "UP");
            // Every part the token records is on the server.
            for (const auto& p : token.parts)
                CHECK(f.oss.parts.count(p.number) == 1);
            const auto stored = f.oss.parts.size();
            std::uint64_t stored_bytes = 0;
            for (const auto& [n, bytes] : f.oss.parts)
                stored_bytes += bytes.size();
            f.oss.sent_parts.clear();

            auto o = fast_options();
            o.resume_token = first.result.resume_token;
            auto second = run_upload(f, seven, o);
            REQUIRE_FALSE(second.ec);
            CHECK(second.result.verified);
            CHECK(f.oss.object == seven);
            CHECK(f.oss.inits == 1);
            CHECK(second.result.upload_id == "UP");
            CHECK(second.result.parts_reused == stored);
            CHECK(second.result.bytes_reused == stored_bytes);
            CHECK(f.oss.sent_parts.size() == 7 - stored);
            CHECK(second.result.resume_token.empty());
        }
    }
}

TEST_CASE("resume: a kept upload resumes from its checkpoint file; only missing parts are sent",
          "[upload][resume]") {
    temp_dir dir;
    const std::string ckpt = dir.path() + "/up.ckpt";
    fixture f;
    fail_part_once(f, 5);
    auto o = fast_options();
    o.checkpoint_path = ckpt;
    o.keep_upload_on_failure = true;
    auto first = run_upload(f, seven, o);
    REQUIRE(first.ec == ossmp::service_errc::access_denied);
    CHECK(first.result.failed_step == "UploadPart 5");
    REQUIRE(exists(ckpt));
    const auto recorded = read_back(ckpt);
    CHECK(recorded.upload_id == "UP");
    CHECK(recorded.part_size == part);
    // The final write holds every part that was acknowledged (the server may hold one more:
    // a part whose reply came after the failure had cancelled it).
    CHECK(recorded.parts.size() >= 4);
    CHECK(recorded.parts.size() <= f.oss.parts.size());
    for (const auto& p : recorded.parts) {
        REQUIRE(f.oss.parts.count(p.number) == 1);
        CHECK(p.crc64 == ossmp::crc64(f.oss.parts[p.number]));
        CHECK(p.etag == "\"E" + std::to_string(p.number) + "\"");
    }
    CHECK(first.result.resume_token == ossmp::serialize_checkpoint(recorded));
    const auto before = f.oss.parts;
    f.oss.sent_parts.clear();

    auto second = run_upload(f, seven, o);
    REQUIRE_FALSE(second.ec);
    CHECK(second.result.verified);
    CHECK(f.oss.object == seven);
    CHECK(second.result.parts_reused == before.size());
    for (int n : f.oss.sent_parts)
        CHECK(before.count(n) == 0); // nothing stored before was sent again
    CHECK(f.oss.sent_parts.size() + before.size() == 7);
    CHECK_FALSE(exists(ckpt)); // removed after success
}

TEST_CASE("resume: a listed part with another CRC-64 or size is sent again", "[upload][resume]") {
    temp_dir dir;
    const std::string ckpt = dir.path() + "/up.ckpt";
    fixture f;
    fail_part_once(f, 7);
    auto o = fast_options();
    o.parallel = 1; // parts 1-6 are stored before 7 fails
    o.checkpoint_path = ckpt;
    o.keep_upload_on_failure = true;
    REQUIRE(run_upload(f, seven, o).ec);
    REQUIRE(f.oss.parts.size() == 6);
    f.oss.parts[2][100] ^= 1;                  // same size, other bytes
    f.oss.parts[3].resize(part - 1);           // shorter
    f.oss.parts[4] = f.oss.parts[4] + "extra"; // longer
    f.oss.sent_parts.clear();
    o.parallel = 3;
    auto second = run_upload(f, seven, o);
    REQUIRE_FALSE(second.ec);
    CHECK(f.oss.object == seven);
    CHECK(sorted(f.oss.sent_parts) == std::vector<int>{2, 3, 4, 7});
    CHECK(second.result.parts_reused == 3);
}

TEST_CASE("resume: a listing without CRC-64 trusts only the parts the checkpoint recorded",
          "[upload][resume]") {
    temp_dir dir;
    const std::string ckpt = dir.path() + "/up.ckpt";
    fixture f;
    fail_part_once(f, 7);
    auto o = fast_options();
    o.parallel = 1;
    o.checkpoint_path = ckpt;
    o.keep_upload_on_failure = true;
    REQUIRE(run_upload(f, seven, o).ec);
    // Forget parts 5 and 6 in the checkpoint (as if the process died before writing them).
    auto c = read_back(ckpt);
    REQUIRE(c.parts.size() == 6);
    c.parts.resize(4);
    REQUIRE_FALSE(ossmp::write_checkpoint_file(ckpt, ossmp::serialize_checkpoint(c)));
    f.oss.list_sends_crc = false;
    f.oss.sent_parts.clear();
    auto second = run_upload(f, seven, o);
    REQUIRE_FALSE(second.ec);
    CHECK(f.oss.object == seven);
    CHECK(sorted(f.oss.sent_parts) == std::vector<int>{5, 6, 7});
    CHECK(second.result.parts_reused == 4);
}

TEST_CASE("resume: the checkpoint's upload is gone (NoSuchUpload): start over",
          "[upload][resume]") {
    temp_dir dir;
    const std::string ckpt = dir.path() + "/up.ckpt";
    fixture f;
    fail_part_once(f, 4);
    auto o = fast_options();
    o.checkpoint_path = ckpt;
    o.keep_upload_on_failure = true;
    REQUIRE(run_upload(f, seven, o).ec);
    f.oss.upload_alive = false; // aborted by someone, or expired
    f.oss.sent_parts.clear();
    auto second = run_upload(f, seven, o);
    REQUIRE_FALSE(second.ec);
    CHECK(second.result.restarted);
    CHECK(second.result.parts_reused == 0);
    CHECK(second.result.upload_id == "UP2");
    CHECK(f.oss.object == seven);
    CHECK(f.oss.sent_parts.size() == 7);
    CHECK_FALSE(exists(ckpt));
}

// A run that completed the object and was killed before it removed its checkpoint: the next
// run finds the upload gone, and the object there with the file's bytes. Before the fix it
// started over (a new upload, every part sent again).
TEST_CASE("resume: the checkpoint's upload was completed by the run that wrote it: nothing is sent",
          "[upload][resume]") {
    temp_dir dir;
    const std::string ckpt = dir.path() + "/up.ckpt";
    const std::string saved = dir.path() + "/saved.ckpt";
    fixture f;
    fail_part_once(f, 4);
    auto o = fast_options();
    o.checkpoint_path = ckpt;
    o.keep_upload_on_failure = true;
    REQUIRE(run_upload(f, seven, o).ec);
    REQUIRE(exists(ckpt));
    ossmp::test::write_file(saved, ossmp::test::read_file(ckpt));
    auto second = run_upload(f, seven, o); // completes and removes the checkpoint
    REQUIRE_FALSE(second.ec);
    REQUIRE_FALSE(exists(ckpt));
    REQUIRE(::rename(saved.c_str(), ckpt.c_str()) == 0); // as if killed before the removal
    f.oss.upload_alive = false;
    const int inits = f.oss.inits, completes = f.oss.completes, heads = f.oss.heads;
    f.oss.sent_parts.clear();

    SECTION("the object has the file's bytes: done, verified, nothing sent") {
        auto third = run_upload(f, seven, o);
        REQUIRE_FALSE(third.ec);
        CHECK(third.result.already_complete);
        CHECK_FALSE(third.result.restarted);
        CHECK(third.result.verified);
        CHECK(third.result.upload_id == second.result.upload_id);
        CHECK(third.result.crc64 == ossmp::crc64(bytes_of(seven)));
        CHECK(third.result.etag == second.result.etag);
        CHECK(third.result.parts_reused == third.result.parts);
        CHECK(third.result.bytes_reused == seven.size());
        CHECK(f.oss.sent_parts.empty());
        CHECK(f.oss.inits == inits);
        CHECK(f.oss.completes == completes);
        CHECK_FALSE(exists(ckpt));
    }
    SECTION("HeadObject fails once (503): retried, and still nothing is sent") {
        // Before HeadObject was retried here, one 503 meant a new upload of every part.
        f.transport.set_responder(
            [&f, failed = false](const http::request& r) mutable -> fake_transport::outcome {
                if (!failed && r.method == http::verb::head) {
                    failed = true;
                    return error_reply(503, "ServiceUnavailable");
                }
                return f.oss(r);
            });
        auto third = run_upload(f, seven, o);
        REQUIRE_FALSE(third.ec);
        CHECK(third.result.already_complete);
        CHECK_FALSE(third.result.restarted);
        CHECK(f.oss.heads == heads + 1); // the oss saw the second HEAD, after the 503
        CHECK(f.oss.sent_parts.empty());
        CHECK(f.oss.inits == inits);
    }
    SECTION("the object has other bytes of the same size: start over") {
        std::string other = seven;
        other[other.size() / 2] ^= 1;
        f.oss.object = other;
        auto third = run_upload(f, seven, o);
        REQUIRE_FALSE(third.ec);
        CHECK_FALSE(third.result.already_complete);
        CHECK(third.result.restarted);
        CHECK(f.oss.sent_parts.size() == 7);
        CHECK(f.oss.inits == inits + 1);
        CHECK(f.oss.object == seven);
        CHECK_FALSE(exists(ckpt));
    }
    SECTION("no object (deleted since): start over") {
        f.oss.object.reset();
        auto third = run_upload(f, seven, o);
        REQUIRE_FALSE(third.ec);
        CHECK_FALSE(third.result.already_complete);
        CHECK(third.result.restarted);
        CHECK(f.oss.sent_parts.size() == 7);
        CHECK(f.oss.object == seven);
    }
}

TEST_CASE("resume: every page of the listing is read", "[upload][resume]") {
    fixture f;
    fail_part_once(f, 7);
    auto o = fast_options();
    o.parallel = 1;
    o.keep_upload_on_failure = true;
    auto first = run_upload(f, seven, o);
    REQUIRE(first.ec);
    f.oss.list_page = 2; // parts 1-6 in 3 pages
    f.oss.lists = 0;
    f.oss.sent_parts.clear();
    o.resume_token = first.result.resume_token;
    auto second = run_upload(f, seven, o);
    REQUIRE_FALSE(second.ec);
    CHECK(f.oss.lists == 3);
    CHECK(f.oss.sent_parts == std::vector<int>{7});
    CHECK(f.oss.object == seven);
}

TEST_CASE("resume: a listing that never ends is refused, the upload kept", "[upload][resume]") {
    fixture f;
    fail_part_once(f, 7);
    auto o = fast_options();
    o.parallel = 1;
    o.keep_upload_on_failure = true;
    auto first = run_upload(f, seven, o);
    REQUIRE(first.ec);
    // A hostile server: every page truncated, its marker jumping past the last part number.
    for (const int next : {0, 10000}) {
        DYNAMIC_SECTION("NextPartNumberMarker " << next) {
            f.transport.set_responder([&, next](const http::request& r) -> fake_transport::outcome {
                if (r.method == http::verb::get && r.query_value("uploadId"))
                    return reply(200, "<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>UP"
                                      "</UploadId><PartNumberMarker>0</PartNumberMarker>"
                                      "<NextPartNumberMarker>" +
                                          std::to_string(next) +
                                          "</NextPartNumberMarker><MaxParts>1</MaxParts>"
                                          "<IsTruncated>true</IsTruncated></ListPartsResult>");
                return f.oss(r);
            });
            o.resume_token = first.result.resume_token;
            const auto trips = f.transport.round_trips();
            auto second = run_upload(f, seven, o);
            CHECK(second.ec == errc::bad_xml_value);
            CHECK(second.result.failed_step == "ListParts");
            CHECK(f.transport.round_trips() == trips + 1);
            CHECK(f.oss.upload_alive);
        }
    }
}

TEST_CASE("resume: complete-all is not used over parts numbered past the end", "[upload][resume]") {
    fixture f;
    fail_part_once(f, 7);
    auto o = fast_options();
    o.parallel = 1;
    o.complete_all = true;
    o.keep_upload_on_failure = true;
    auto first = run_upload(f, seven, o);
    REQUIRE(first.ec);
    f.oss.parts[9] = "a part of someone else's";
    o.resume_token = first.result.resume_token;
    auto second = run_upload(f, seven, o);
    REQUIRE_FALSE(second.ec);
    CHECK(f.oss.object == seven);
}

TEST_CASE("resume: refused for another source, object or headers; nothing is sent",
          "[upload][resume]") {
    fixture f;
    fail_part_once(f, 3);
    auto o = fast_options();
    o.keep_upload_on_failure = true;
    auto first = run_upload(f, seven, o);
    REQUIRE(first.ec);
    o.resume_token = first.result.resume_token;
    const auto trips = f.transport.round_trips();

    SECTION("another size") {
        auto r = run_upload(f, seven + "x", o);
        CHECK(r.ec == errc::checkpoint_mismatch);
        CHECK(r.result.diag.message.find("size changed") != std::string::npos);
    }
    // The same bytes, to another key or with other headers.
    auto with_params = [&](const ossmp::upload_params& p) {
        outcome r;
        ossmp::async_upload(f.client, ossmp::memory_source(bytes_of(seven)), p, o,
                            [&](std::error_code ec, ossmp::upload_result res) {
                                r.ec = ec;
                                r.result = std::move(res);
                            });
        f.ctx.run();
        f.ctx.restart();
        return r;
    };
    SECTION("another key") {
        auto p = object_params();
        p.key = "elsewhere";
        CHECK(with_params(p).ec == errc::checkpoint_mismatch);
    }
    SECTION("other headers") {
        auto p = object_params();
        p.content_type = "text/plain";
        CHECK(with_params(p).ec == errc::checkpoint_mismatch);
    }
    SECTION("a damaged token") {
        o.resume_token[o.resume_token.size() / 2] ^= 4;
        auto r = run_upload(f, seven, o);
        CHECK(r.ec == errc::checkpoint_corrupt);
    }
    SECTION("a stream") {
        // A stream cannot be read again: a token or checkpoint for it is refused.
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        asio::posix::stream_descriptor in(f.ctx, fds[0]);
        outcome r;
        ossmp::async_upload(f.client, ossmp::stream_source(in), object_params(), o,
                            [&](std::error_code ec, ossmp::upload_result res) {
                                r.ec = ec;
                                r.result = std::move(res);
                            });
        f.ctx.run();
        ::close(fds[1]);
        CHECK(r.ec == errc::not_resumable);
    }
    CHECK(f.transport.round_trips() == trips);
    CHECK(f.oss.upload_alive); // still there to be resumed
}

TEST_CASE("resume: a changed file's checkpoint is refused, start_fresh replaces it",
          "[upload][resume]") {
    temp_dir dir;
    const std::string ckpt = dir.path() + "/up.ckpt";
    const std::string file = dir.path() + "/data.bin";
    auto write_file = [&](const std::string& content) {
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, content.data(), content.size()) ==
                static_cast<ssize_t>(content.size()));
        ::close(fd);
    };
    write_file(seven);
    fixture f;
    fail_part_once(f, 6);
    auto o = fast_options();
    o.checkpoint_path = ckpt;
    o.keep_upload_on_failure = true;
    REQUIRE(run_source_upload(f, ossmp::file_source::open(file), o).ec);
    const auto c = read_back(ckpt);
    CHECK(c.source.kind == "file");
    CHECK(c.source.path == file);

    // Same size, rewritten: the modification time moved.
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    std::string changed = seven;
    changed[0] ^= 1;
    write_file(changed);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    times[1].tv_nsec = (times[1].tv_nsec + 1) % 1000000000;
    REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, 0) == 0);
    const auto trips = f.transport.round_trips();
    auto refused = run_source_upload(f, ossmp::file_source::open(file), o);
    CHECK(refused.ec == errc::checkpoint_mismatch);
    CHECK(refused.result.diag.message.find("modification time") != std::string::npos);
    CHECK(f.transport.round_trips() == trips);
    CHECK(read_back(ckpt).upload_id == "UP"); // left as it was

    o.start_fresh = true;
    auto fresh = run_source_upload(f, ossmp::file_source::open(file), o);
    REQUIRE_FALSE(fresh.ec);
    CHECK(f.oss.aborts == 1); // the replaced checkpoint's upload
    CHECK(fresh.result.upload_id == "UP2");
    CHECK(f.oss.object == changed);
    CHECK_FALSE(exists(ckpt));
}

TEST_CASE("resume: a damaged checkpoint file is refused, start_fresh replaces it",
          "[upload][resume]") {
    temp_dir dir;
    const std::string ckpt = dir.path() + "/up.ckpt";
    {
        const int fd = ::open(ckpt.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        REQUIRE(::write(fd, "ossmp-checkpoint 1\ntruncated", 28) == 28);
        ::close(fd);
    }
    fixture f;
    auto o = fast_options();
    o.checkpoint_path = ckpt;
    auto refused = run_upload(f, seven, o);
    CHECK(refused.ec == errc::checkpoint_corrupt);
    CHECK(f.transport.round_trips() == 0);
    CHECK(exists(ckpt));
    o.start_fresh = true;
    auto fresh = run_upload(f, seven, o);
    REQUIRE_FALSE(fresh.ec);
    CHECK(f.oss.aborts == 0); // nothing trustworthy to abort
    CHECK(f.oss.object == seven);
    CHECK_FALSE(exists(ckpt));
}

TEST_CASE("resume: checkpoint writes during the upload and at its end", "[upload][resume]") {
    temp_dir dir;
    const std::string ckpt = dir.path() + "/up.ckpt";
    SECTION("written after Initiate, before any part; then as parts complete") {
        fixture f;
        std::vector<std::size_t> seen; // parts in the checkpoint when each UploadPart arrives
        f.transport.set_responder([&](const http::request& r) -> fake_transport::outcome {
            if (r.method == http::verb::put && r.query_value("partNumber")) {
                const auto c = read_back(ckpt);
                CHECK(c.upload_id == "UP");
                seen.push_back(c.parts.size());
            }
            return f.oss(r);
        });
        f.transport.set_delay(40ms); // the background writes land between parts
        auto o = fast_options();
        o.parallel = 1;
        o.checkpoint_path = ckpt;
        o.checkpoint_every = 2;
        o.checkpoint_interval = std::chrono::hours(1);
        REQUIRE_FALSE(run_upload(f, seven, o).ec);
        // Written at every second part, in the background.
        REQUIRE(seen.size() == 7);
        CHECK(seen[0] == 0);
        CHECK(seen[1] == 0);
        CHECK(seen[6] >= 2);
        CHECK(seen[6] % 2 == 0);
        CHECK(std::is_sorted(seen.begin(), seen.end()));
        CHECK_FALSE(exists(ckpt));
    }
    SECTION("an upload that fails and is aborted leaves no checkpoint") {
        fixture f;
        fail_part_once(f, 3);
        auto o = fast_options();
        o.checkpoint_path = ckpt;
        auto r = run_upload(f, seven, o);
        REQUIRE(r.ec);
        CHECK(r.result.aborted);
        CHECK(r.result.resume_token.empty());
        CHECK_FALSE(exists(ckpt));
    }
    SECTION("a checkpoint that cannot be written fails the upload, which is aborted") {
        fixture f;
        auto o = fast_options();
        o.checkpoint_path = dir.path() + "/no/such/dir/up.ckpt";
        auto r = run_upload(f, seven, o);
        CHECK(r.ec == std::errc::no_such_file_or_directory);
        CHECK(r.result.failed_step == "writing the checkpoint " + o.checkpoint_path);
        CHECK(r.result.aborted);
        CHECK(f.oss.sent_parts.empty());
    }
    SECTION("one part: one PutObject, no checkpoint") {
        fixture f;
        auto o = fast_options();
        o.checkpoint_path = ckpt;
        auto r = run_upload(f, "small", o);
        REQUIRE_FALSE(r.ec);
        CHECK(f.oss.puts == 1);
        CHECK_FALSE(exists(ckpt));
    }
}

} // namespace
