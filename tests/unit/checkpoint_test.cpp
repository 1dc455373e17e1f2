// The checkpoint's text form (round trip; every truncation and every single-bit flip refused;
// impossible content refused even with a valid checksum), the mismatch rules, the parameters'
// digest, and the checkpoint file (atomic replace, no link followed, no FIFO waited for).
#include "ossmp/checkpoint.hpp"
#include "ossmp/crypto.hpp"
#include "ossmp/error.hpp"

#include "support/cli_process.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using ossmp::errc;
using ossmp::test::temp_dir;

ossmp::upload_checkpoint sample() {
    ossmp::upload_checkpoint c;
    c.source.kind = "file";
    c.source.path = "/data/a file\nwith a line break/ß.bin";
    c.source.size = 3 * 8388608ull + 17;
    c.source.mtime_sec = 1764660000;
    c.source.mtime_nsec = 1234;
    c.source.device = 2049;
    c.source.inode = 1835010;
    c.bucket = "examplebucket";
    c.key = "dir/a key+with%odd chars/é";
    c.params_sha256 = std::string(64, 'a');
    c.part_size = 8388608;
    c.upload_id = "0004B9895DBBB6EC9";
    c.parts.push_back({1, 8388608, 5178283844429390318ull, "\"DF1F9A5A\""});
    c.parts.push_back({4, 17, 0, "\"E4\""});
    return c;
}

bool same(const ossmp::upload_checkpoint& a, const ossmp::upload_checkpoint& b) {
    if (a.parts.size() != b.parts.size())
        return false;
    for (std::size_t i = 0; i < a.parts.size(); ++i)
        if (a.parts[i].number != b.parts[i].number || a.parts[i].size != b.parts[i].size ||
            a.parts[i].crc64 != b.parts[i].crc64 || a.parts[i].etag != b.parts[i].etag)
            return false;
    return a.source.kind == b.source.kind && a.source.path == b.source.path &&
           a.source.size == b.source.size && a.source.mtime_sec == b.source.mtime_sec &&
           a.source.mtime_nsec == b.source.mtime_nsec && a.source.device == b.source.device &&
           a.source.inode == b.source.inode && a.bucket == b.bucket && a.key == b.key &&
           a.params_sha256 == b.params_sha256 && a.part_size == b.part_size &&
           a.upload_id == b.upload_id;
}

// A body with a correct checksum line after it: what a forger who knows the format writes.
std::string seal(const std::string& body) {
    return body + "sha256 " + ossmp::crypto::hex_lower(ossmp::crypto::sha256(body)) + "\n";
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string body_of(const std::string& text) {
    return text.substr(0, text.size() - 72);
}

TEST_CASE("checkpoint: the text form round-trips", "[checkpoint]") {
    const auto c = sample();
    const std::string text = ossmp::serialize_checkpoint(c);
    CHECK(text.rfind("ossmp-checkpoint 1\nsource file\n", 0) == 0);
    CHECK(text.find("mtime 1764660000.000001234\n") != std::string::npos);
    CHECK(text.find("part 4 17 0 %22E4%22\n") != std::string::npos);
    ossmp::upload_checkpoint back;
    REQUIRE_FALSE(ossmp::parse_checkpoint(text, back));
    CHECK(same(c, back));
    // No part yet (written right after Initiate).
    auto none = c;
    none.parts.clear();
    REQUIRE_FALSE(ossmp::parse_checkpoint(ossmp::serialize_checkpoint(none), back));
    CHECK(same(none, back));
}

TEST_CASE("checkpoint: truncated at every byte, or any single bit flipped: refused",
          "[checkpoint]") {
    const std::string text = ossmp::serialize_checkpoint(sample());
    const auto corrupt = make_error_code(errc::checkpoint_corrupt);
    ossmp::upload_checkpoint out;
    out.upload_id = "untouched";
    std::size_t refused = 0;
    for (std::size_t n = 0; n < text.size(); ++n)
        refused += ossmp::parse_checkpoint(text.substr(0, n), out) == corrupt;
    CHECK(refused == text.size());
    refused = 0;
    for (std::size_t i = 0; i < text.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            std::string bad = text;
            bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
            refused += ossmp::parse_checkpoint(bad, out) == corrupt;
        }
    CHECK(refused == text.size() * 8);
    CHECK(ossmp::parse_checkpoint(text + "x", out) == corrupt);
    CHECK(ossmp::parse_checkpoint(text + text, out) == corrupt);
    CHECK(out.upload_id == "untouched"); // never written on failure
}

TEST_CASE("checkpoint: impossible content is refused even with a valid checksum", "[checkpoint]") {
    const auto corrupt = make_error_code(errc::checkpoint_corrupt);
    const std::string good = body_of(ossmp::serialize_checkpoint(sample()));
    ossmp::upload_checkpoint out;
    REQUIRE_FALSE(ossmp::parse_checkpoint(seal(good), out));
    auto replaced = [&](const std::string& from, const std::string& to) {
        std::string b = good;
        const auto at = b.find(from);
        REQUIRE(at != std::string::npos);
        b.replace(at, from.size(), to);
        return seal(b);
    };
    // Parts out of order, repeated, past the end, of the wrong size, a count that lies.
    CHECK(ossmp::parse_checkpoint(replaced("part 4 ", "part 1 "), out) == corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("part 4 17 ", "part 5 17 "), out) == corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("part 4 17 ", "part 4 18 "), out) == corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("part 1 8388608 ", "part 1 8388607 "), out) == corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("parts 2\n", "parts 3\n"), out) == corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("parts 2\n", "parts 1\n"), out) == corrupt);
    // Another version, an unknown source kind, bad names, an empty upload id, numbers.
    CHECK(ossmp::parse_checkpoint(replaced("ossmp-checkpoint 1", "ossmp-checkpoint 2"), out) ==
          corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("source file", "source pipe"), out) == corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("bucket examplebucket", "bucket Ex"), out) == corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("upload-id 0004B9895DBBB6EC9", "upload-id "), out) ==
          corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("part-size 8388608", "part-size 08388608"), out) ==
          corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("part-size 8388608", "part-size 0"), out) == corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("part-size 8388608", "part-size 2000"), out) ==
          corrupt); // 12,583 parts
    CHECK(ossmp::parse_checkpoint(replaced("device 2049", "device  2049"), out) == corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("inode 1835010", "inode +1835010"), out) == corrupt);
    CHECK(ossmp::parse_checkpoint(replaced(".000001234", ".1234"), out) == corrupt);
    // A second spelling of the same string (lower-case escape) is refused: one spelling only.
    CHECK(ossmp::parse_checkpoint(replaced("%C3%A9", "%c3%a9"), out) == corrupt);
    CHECK(ossmp::parse_checkpoint(replaced("key dir/", "key dir%2F"), out) == corrupt);
    // A checksum in upper case, or a line after it.
    std::string upper = seal(good);
    for (std::size_t i = upper.size() - 65; i + 1 < upper.size(); ++i)
        if (upper[i] >= 'a' && upper[i] <= 'f')
            upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
    CHECK(ossmp::parse_checkpoint(upper, out) == corrupt);
    CHECK(ossmp::parse_checkpoint(seal(good) + "part 9 1 1 x\n", out) == corrupt);
}

TEST_CASE("checkpoint: what makes it another upload's", "[checkpoint]") {
    const auto c = sample();
    ossmp::source_identity id = c.source;
    const std::string digest = c.params_sha256;
    CHECK(ossmp::checkpoint_mismatch_reason(c, id, c.bucket, c.key, digest).empty());
    id.path = "/elsewhere/renamed.bin"; // a renamed file is the same file
    CHECK(ossmp::checkpoint_mismatch_reason(c, id, c.bucket, c.key, digest).empty());
    auto differs = [&](auto change) {
        auto other = c.source;
        change(other);
        return ossmp::checkpoint_mismatch_reason(c, other, c.bucket, c.key, digest);
    };
    CHECK(differs([](auto& s) { s.size += 1; }).find("size changed") != std::string::npos);
    CHECK(differs([](auto& s) { s.mtime_nsec += 1; }).find("modification time") !=
          std::string::npos);
    CHECK(differs([](auto& s) { s.mtime_sec -= 1; }).find("modification time") !=
          std::string::npos);
    CHECK(differs([](auto& s) { s.inode += 1; }).find("another file") != std::string::npos);
    CHECK(differs([](auto& s) { s.device += 1; }).find("another file") != std::string::npos);
    CHECK(differs([](auto& s) { s.kind = "memory"; }).find("kind") != std::string::npos);
    CHECK(ossmp::checkpoint_mismatch_reason(c, c.source, "otherbucket", c.key, digest) ==
          "it is for oss://examplebucket/" + c.key);
    CHECK_FALSE(ossmp::checkpoint_mismatch_reason(c, c.source, c.bucket, "k2", digest).empty());
    CHECK(ossmp::checkpoint_mismatch_reason(c, c.source, c.bucket, c.key, std::string(64, 'b'))
              .find("headers") != std::string::npos);
}

TEST_CASE("checkpoint: the parameters' digest", "[checkpoint]") {
    ossmp::initiate_params p;
    p.bucket = "examplebucket";
    p.key = "k";
    const auto base = ossmp::initiate_params_digest(p);
    CHECK(base.size() == 64);
    auto q = p;
    q.key = "other"; // bucket and key are compared on their own
    CHECK(ossmp::initiate_params_digest(q) == base);
    q = p;
    q.content_type = "text/plain";
    CHECK(ossmp::initiate_params_digest(q) != base);
    q = p;
    q.user_metadata.push_back({"owner", "me"});
    const auto with_meta = ossmp::initiate_params_digest(q);
    CHECK(with_meta != base);
    q.user_metadata.push_back({"team", "x"});
    auto r = p;
    r.user_metadata.push_back({"team", "x"});
    r.user_metadata.push_back({"owner", "me"});
    CHECK(ossmp::initiate_params_digest(q) == ossmp::initiate_params_digest(r)); // order-free
    q = p;
    q.extra_headers.add("x-oss-meta-a", "b\r\nEvil: 1"); // not a valid request
    CHECK(ossmp::initiate_params_digest(q).empty());
}

TEST_CASE("checkpoint file: written atomically, never through a link", "[checkpoint]") {
    temp_dir dir;
    const std::string path = dir.path() + "/upload.ckpt";
    const std::string one = ossmp::serialize_checkpoint(sample());
    std::string got;
    CHECK(ossmp::read_checkpoint_file(path, got) == std::errc::no_such_file_or_directory);

    REQUIRE_FALSE(ossmp::write_checkpoint_file(path, one));
    REQUIRE_FALSE(ossmp::read_checkpoint_file(path, got));
    CHECK(got == one);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(ossmp::test::list_dir(dir.path()) ==
          std::vector<std::string>{"upload.ckpt"}); // no temporary left

    auto c = sample();
    c.parts.push_back({2, 8388608, 7, "\"E2\""});
    std::sort(c.parts.begin(), c.parts.end(),
              [](const auto& a, const auto& b) { return a.number < b.number; });
    const std::string two = ossmp::serialize_checkpoint(c);
    REQUIRE_FALSE(ossmp::write_checkpoint_file(path, two));
    REQUIRE_FALSE(ossmp::read_checkpoint_file(path, got));
    CHECK(got == two);

    // A link planted at the path: replaced by the new file, its target untouched; and a
    // link is never read as a checkpoint.
    const std::string target = dir.path() + "/victim";
    {
        const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, "precious", 8) == 8);
        ::close(fd);
    }
    const std::string link = dir.path() + "/linked.ckpt";
    REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
    CHECK(ossmp::read_checkpoint_file(link, got) == errc::checkpoint_corrupt);
    REQUIRE_FALSE(ossmp::write_checkpoint_file(link, one));
    struct stat lst {};
    REQUIRE(::lstat(link.c_str(), &lst) == 0);
    CHECK(S_ISREG(lst.st_mode));
    REQUIRE(::stat(target.c_str(), &st) == 0);
    CHECK(st.st_size == 8);

    // A FIFO is refused at once (never waited for); so is a directory.
    const std::string fifo = dir.path() + "/fifo.ckpt";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(ossmp::read_checkpoint_file(fifo, got) == errc::checkpoint_corrupt);
    CHECK(ossmp::read_checkpoint_file(dir.path(), got) == errc::checkpoint_corrupt);

    // Removed with what interrupted writes left (a second removal is no error); nowhere to
    // write: an error, nothing left.
    const std::string leftover = dir.path() + "/.upload.ckpt.tmp-0123456789abcdef01234567";
    const std::string other = dir.path() + "/.other.ckpt.tmp-0123456789abcdef01234567";
    for (const auto& f : {leftover, other})
        ::close(::open(f.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600));
    REQUIRE_FALSE(ossmp::remove_checkpoint_file(path));
    CHECK_FALSE(exists(leftover));
    CHECK(exists(other)); // another checkpoint's
    CHECK(ossmp::read_checkpoint_file(path, got) == std::errc::no_such_file_or_directory);
    CHECK_FALSE(ossmp::remove_checkpoint_file(path));
    CHECK(ossmp::write_checkpoint_file(dir.path() + "/missing/x.ckpt", one) ==
          std::errc::no_such_file_or_directory);
    CHECK(ossmp::write_checkpoint_file(dir.path() + "/", one));
}

TEST_CASE("checkpoint file: a file longer than the cap is refused unread", "[checkpoint]") {
    temp_dir dir;
    const std::string path = dir.path() + "/big.ckpt";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, static_cast<off_t>(ossmp::max_checkpoint_bytes) + 1) == 0);
    ::close(fd);
    std::string got = "unchanged";
    CHECK(ossmp::read_checkpoint_file(path, got) == errc::checkpoint_corrupt);
    CHECK(got == "unchanged");
}

} // namespace
