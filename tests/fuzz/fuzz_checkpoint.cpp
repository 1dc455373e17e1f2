// libFuzzer target: the checkpoint reader (`parse_checkpoint`) on arbitrary bytes.
//
// The first byte chooses the mode: even, the rest is parsed as it is (a damaged or hostile
// file); odd, the rest gets a valid checksum line appended first, so that the fuzzer reaches
// the line parser behind the checksum. Beyond ASan/UBSan findings it checks the reader's
// promises: a failure is `checkpoint_corrupt` and leaves the output untouched; a success is
// canonical (serializing it gives back exactly the bytes read) and consistent (parts ascending,
// each of the size its number implies, at most 10,000 of them).
#include "ossmp/checkpoint.hpp"
#include "ossmp/crypto.hpp"
#include "ossmp/error.hpp"
#include "ossmp/validate.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok) {
    if (!ok)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] & 1)
        text += "sha256 " + ossmp::crypto::hex_lower(ossmp::crypto::sha256(text)) + "\n";
    ossmp::upload_checkpoint c;
    c.upload_id = "untouched";
    const auto ec = ossmp::parse_checkpoint(text, c);
    if (ec) {
        check(ec == ossmp::errc::checkpoint_corrupt);
        check(c.upload_id == "untouched" && c.parts.empty());
        return 0;
    }
    check(ossmp::serialize_checkpoint(c) == text);
    check(!c.upload_id.empty() && c.part_size > 0 && c.source.size > c.part_size);
    const std::uint64_t total = (c.source.size + c.part_size - 1) / c.part_size;
    check(total <= static_cast<std::uint64_t>(ossmp::max_parts));
    int last = 0;
    for (const auto& p : c.parts) {
        check(p.number > last && static_cast<std::uint64_t>(p.number) <= total);
        last = p.number;
        const std::uint64_t offset = static_cast<std::uint64_t>(p.number - 1) * c.part_size;
        check(p.size == std::min(c.part_size, c.source.size - offset));
    }
    return 0;
}
