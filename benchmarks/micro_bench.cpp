// micro_bench: CPU figures of the sans-io core, one line per figure:
//
//   <name>  <measured> <unit>  target <op> <limit>  PASS|MISS
//
// Each figure runs its function in batches: a batch repeats the function until at least 0.2 s
// have passed, five batches are timed, and the median batch (per-iteration time) is reported,
// so a noisy neighbour on this shared machine moves one sample, not the figure. Build with
// optimisation (RelWithDebInfo / debugoptimized); a Debug build prints a warning line.
//
// Usage: micro_bench [--fail-on-miss] [--cpu-time] [--quick] [substring...]
//   substring...    run only the figures whose name contains one of them
//   --fail-on-miss  exit with status 1 when a target is missed (default: always 0)
//   --cpu-time      time with the thread's CPU clock instead of steady_clock, so time spent
//                   preempted by other processes on a loaded machine is not counted
//   --quick         batches of 0.02 s instead of 0.2 s (a smoke run)
// With OSSMP_BENCH_ROWS=FILE in the environment each figure is also appended to FILE as a
// tab-separated row (bench_rows.hpp; scripts/bench collects them).
//
// Adding a figure: write one `void bench_xxx()` that prepares its inputs and calls
// `bench(name, unit, target, fn)`, and list it in `figures` at the bottom.
#include "bench_rows.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/crypto.hpp"
#include "ossmp/endpoint.hpp"
#include "ossmp/http/parser.hpp"
#include "ossmp/requests.hpp"
#include "ossmp/responses.hpp"
#include "ossmp/signer.hpp"

#include <expat.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// Harness

/// Forces `value` to be computed: the compiler must assume the asm reads it.
template <class T>
inline void do_not_optimize(const T& value) {
    if constexpr (sizeof(T) <= sizeof(void*))
        asm volatile("" : : "r,m"(value) : "memory");
    else
        asm volatile("" : : "m"(value) : "memory");
}

/// How a per-iteration time becomes the printed figure.
struct unit {
    const char* label;
    double scale;      // work per iteration (bytes for throughput, 1 for latency)
    bool per_second;   // true: scale / seconds (rates); false: seconds * scale (latencies)
    double multiplier; // to the printed unit (1e-9 for GB/s, 1e9 for ns)

    double convert(double seconds_per_iteration) const {
        return per_second ? scale / seconds_per_iteration * multiplier
                          : seconds_per_iteration * scale * multiplier;
    }
};

/// Throughput in GB/s (10^9 bytes per second) when each iteration processes `bytes`.
unit gb_per_s(std::size_t bytes) {
    return {"GB/s", static_cast<double>(bytes), true, 1e-9};
}
/// Latency in nanoseconds per iteration.
unit ns_per_op() {
    return {"ns/op", 1.0, false, 1e9};
}
/// Latency in microseconds per iteration.
[[maybe_unused]] unit us_per_op() {
    return {"us/op", 1.0, false, 1e6};
}
/// Rate in iterations per second.
[[maybe_unused]] unit ops_per_s() {
    return {"op/s", 1.0, true, 1.0};
}

/// What a figure must reach: nothing (information only), at least or at most `limit`.
struct target {
    enum class kind { info, at_least, at_most } k = kind::info;
    double limit = 0;
};
target info() {
    return {};
}
target at_least(double limit) {
    return {target::kind::at_least, limit};
}
target at_most(double limit) {
    return {target::kind::at_most, limit};
}

struct options {
    std::vector<std::string> filters;
    bool fail_on_miss = false;
    bool cpu_time = false;
    double min_batch_seconds = 0.2; ///< --quick: 0.02
} opts;

int misses = 0;

using clock_type = std::chrono::steady_clock;
constexpr int batches = 5;

bool selected(std::string_view name) {
    if (opts.filters.empty())
        return true;
    return std::any_of(opts.filters.begin(), opts.filters.end(), [&](const std::string& f) {
        return name.find(f) != std::string_view::npos;
    });
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <class Fn>
double seconds_for(Fn& fn, std::uint64_t iterations) {
    if (opts.cpu_time) {
        const double start = thread_cpu_seconds();
        for (std::uint64_t i = 0; i < iterations; ++i)
            fn();
        return thread_cpu_seconds() - start;
    }
    const auto start = clock_type::now();
    for (std::uint64_t i = 0; i < iterations; ++i)
        fn();
    const auto stop = clock_type::now();
    return std::chrono::duration<double>(stop - start).count();
}

/// Times `fn` (one iteration per call; it should pass its result to `do_not_optimize` or feed
/// it into the next call) and prints one figure line: the median of five batches.
template <class Fn>
void bench(std::string_view name, unit u, target t, Fn fn) {
    if (!selected(name))
        return;
    // Calibrate: grow the iteration count until one batch takes >= opts.min_batch_seconds.
    const double min_batch_seconds = opts.min_batch_seconds;
    std::uint64_t iterations = 1;
    double elapsed = seconds_for(fn, iterations);
    while (elapsed < min_batch_seconds) {
        const double factor =
            elapsed <= 0 ? 16.0 : std::clamp(1.2 * min_batch_seconds / elapsed, 2.0, 16.0);
        iterations = static_cast<std::uint64_t>(static_cast<double>(iterations) * factor) + 1;
        elapsed = seconds_for(fn, iterations);
    }
    std::array<double, batches> per_iteration{};
    for (auto& s : per_iteration)
        s = seconds_for(fn, iterations) / static_cast<double>(iterations);
    std::sort(per_iteration.begin(), per_iteration.end());
    const double value = u.convert(per_iteration[batches / 2]);

    const char* verdict = "INFO";
    char target_text[64] = "target -";
    if (t.k != target::kind::info) {
        const bool ok = t.k == target::kind::at_least ? value >= t.limit : value <= t.limit;
        verdict = ok ? "PASS" : "MISS";
        misses += ok ? 0 : 1;
        std::snprintf(target_text, sizeof target_text, "target %s %g",
                      t.k == target::kind::at_least ? ">=" : "<=", t.limit);
    }
    std::printf("%-34.*s %12.3f %-6s  %-18s %s\n", static_cast<int>(name.size()), name.data(),
                value, u.label, target_text, verdict);
    // Against an absolute target the limit is the target's own number.
    ossmp_bench::row("micro", std::string(name), value, u.label,
                     t.k == target::kind::info ? 0.0 : t.limit,
                     t.k == target::kind::info ? std::string("-") : std::string(target_text + 7),
                     std::strcmp(verdict, "MISS") != 0);
    std::fflush(stdout);
}

std::string random_bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(rng() & 0xFF);
    return s;
}

// ---------------------------------------------------------------------------------------------
// Figures

constexpr std::size_t mib = 1024 * 1024;

void bench_crc64() {
    const std::string buffer = random_bytes(mib, 1);
    std::uint64_t crc = 0;
    // The previous result feeds the next call, so iterations cannot be merged or skipped.
    bench(ossmp::crc64_uses_isal() ? "crc64 isa-l 1MiB" : "crc64 (portable build) 1MiB",
          gb_per_s(buffer.size()), at_least(20), [&] {
              crc = ossmp::crc64(buffer, crc);
              do_not_optimize(crc);
          });
}

void bench_crc64_portable() {
    const std::string buffer = random_bytes(mib, 2);
    const auto bytes = std::as_bytes(std::span<const char>(buffer.data(), buffer.size()));
    std::uint64_t crc = 0;
    bench("crc64_portable 1MiB", gb_per_s(buffer.size()), info(), [&] {
        crc = ossmp::crc64_portable(bytes, crc);
        do_not_optimize(crc);
    });
}

void bench_crc64_combine() {
    std::mt19937_64 rng(3);
    std::vector<std::uint64_t> crcs(1024);
    for (auto& c : crcs)
        c = rng();
    // Worst case: random full-width lengths (64 exponentiation steps, popcount ~32).
    std::vector<std::uint64_t> lengths(1024);
    for (auto& len : lengths)
        len = rng() | (std::uint64_t{1} << 63);
    std::size_t i = 0;
    std::uint64_t crc = 0;
    // The previous result feeds the next call (latency, not throughput).
    bench("crc64_combine random 64-bit len", ns_per_op(), at_most(1000), [&] {
        const std::size_t k = i++ & 1023;
        crc = ossmp::crc64_combine(crc, crcs[k], lengths[k]);
        do_not_optimize(crc);
    });
    // The uploader's case: one combine per 8 MiB part (read from memory so that the compiler
    // cannot fold the zero-operator into a constant).
    const std::vector<std::uint64_t> part_sizes(1024, 8 * mib);
    bench("crc64_combine 8MiB part", ns_per_op(), at_most(1000), [&] {
        const std::size_t k = i++ & 1023;
        crc = ossmp::crc64_combine(crc, crcs[k], part_sizes[k]);
        do_not_optimize(crc);
    });
}

void bench_md5() {
    const std::string buffer = random_bytes(mib, 4);
    bench("md5 1MiB", gb_per_s(buffer.size()), info(), [&] {
        auto digest = ossmp::crypto::md5(buffer);
        do_not_optimize(digest);
    });
}

// A signed UploadPart request as the client builds it (oss-reference 6.7 inputs).
ossmp::http::request upload_part_request(const std::string& data) {
    ossmp::upload_part_params p;
    p.bucket = "examplebucket";
    p.key = "multipart.data";
    p.upload_id = "0004B9895DBBB6EC9";
    p.part_number = 1;
    p.data = std::as_bytes(std::span<const char>(data.data(), data.size()));
    ossmp::http::request req;
    if (ossmp::make_upload_part_request(p, req))
        std::abort();
    ossmp::endpoint ep;
    if (ossmp::parse_endpoint("https://oss-cn-hangzhou.aliyuncs.com", ep))
        std::abort();
    ep.apply(req);
    return req;
}

void bench_sign(ossmp::signature_version v, const char* name, double limit, bool cached) {
    const std::string data = "upload part 1";
    const ossmp::credentials creds{"ak", "sk", ""};
    ossmp::sign_options so;
    so.version = v;
    so.region = "cn-hangzhou";
    ossmp::v4_key_cache cache;
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1702743657));
    const ossmp::http::request base = upload_part_request(data);
    bench(name, us_per_op(), limit > 0 ? at_most(limit) : info(), [&] {
        ossmp::http::request req = base; // the client signs a freshly built request each time
        auto ec =
            cached ? ossmp::sign(req, creds, so, now, cache) : ossmp::sign(req, creds, so, now);
        do_not_optimize(ec);
        do_not_optimize(req);
    });
}

void bench_sign_v4() {
    bench_sign(ossmp::signature_version::v4, "sign v4 UploadPart (key cache, as the client)", 3.0,
               true);
    bench_sign(ossmp::signature_version::v4, "sign v4 UploadPart (no key cache)", 0, false);
}

void bench_sign_v1() {
    bench_sign(ossmp::signature_version::v1, "sign v1 UploadPart", 2.0, false);
}

// A 1,000-part ListParts page, indented (~240 KB).
std::string list_parts_page() {
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult>\n"
                      "  <EncodingType>url</EncodingType>\n  <Bucket>bucket</Bucket>\n"
                      "  <Key>demo%2Fobject.bin</Key>\n"
                      "  <UploadId>D4E111D4EA834F3ABCE4877B27790000</UploadId>\n"
                      "  <StorageClass>Standard</StorageClass>\n"
                      "  <PartNumberMarker>0</PartNumberMarker>\n"
                      "  <NextPartNumberMarker>1000</NextPartNumberMarker>\n"
                      "  <MaxParts>1000</MaxParts>\n  <IsTruncated>true</IsTruncated>\n";
    for (int i = 1; i <= 1000; ++i) {
        xml += "  <Part>\n    <PartNumber>" + std::to_string(i) +
               "</PartNumber>\n    <LastModified>2023-11-22T05:42:34.000Z</LastModified>\n"
               "    <ETag>\"CF3F46D505093571E916FCDD4967ABCD\"</ETag>\n"
               "    <HashCrc64ecma>12066172435287683848</HashCrc64ecma>\n"
               "    <Size>8388608</Size>\n  </Part>\n";
    }
    xml += "</ListPartsResult>\n";
    return xml;
}

void bench_parse_list_parts() {
    const std::string xml = list_parts_page();
    ossmp::http::response res;
    res.status = 200;
    res.headers.add("Content-Type", "application/xml");
    res.body = xml;
    bench("parse ListParts 1000 parts", us_per_op(), at_most(300), [&] {
        ossmp::list_parts_result out;
        ossmp::diagnostics diag;
        auto ec = ossmp::parse_list_parts(res, out, diag);
        if (ec || out.parts.size() != 1000)
            std::abort();
        do_not_optimize(out);
    });
    // The floor under the figure above: expat alone on the same page, with no handler set, so
    // no tree is built and nothing is read. Most of the figure above is this (perf: about 79%
    // of the samples of parse_list_parts are inside libexpat), which is why its target is
    // missed by far.
    bench("parse ListParts: expat alone", us_per_op(), info(), [&] {
        XML_Parser parser = XML_ParserCreate(nullptr);
        if (!parser)
            std::abort();
        const auto status = XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), XML_TRUE);
        XML_ParserFree(parser);
        if (status != XML_STATUS_OK)
            std::abort();
    });
}

void bench_build_complete() {
    ossmp::complete_params p;
    p.bucket = "examplebucket";
    p.key = "multipart.data";
    p.upload_id = "0004B9895DBBB6EC9";
    for (int i = 10000; i >= 1; --i) // worst order: reversed
        p.parts.push_back({i, "\"DF1F9DE8F39BDE03716AC8D425589A5A\""});
    bench("build Complete request 10000 parts", us_per_op(), at_most(2000), [&] {
        ossmp::http::request req;
        auto ec = ossmp::make_complete_request(p, req);
        if (ec)
            std::abort();
        do_not_optimize(req);
    });
}

void bench_parse_upload_part_reply() {
    const std::string reply = "HTTP/1.1 200 OK\r\nServer: AliyunOSS\r\n"
                              "Date: Sat, 12 Dec 2015 00:35:59 GMT\r\nContent-Length: 0\r\n"
                              "Connection: keep-alive\r\n"
                              "x-oss-request-id: 566B6BEF6078C0E44874A4AD\r\n"
                              "x-oss-hash-crc64ecma: 6571598172666981661\r\n"
                              "ETag: \"DF1F9DE8F39BDE03716AC8D425589A5A\"\r\n\r\n";
    bench("parse UploadPart reply headers", us_per_op(), at_most(2.0), [&] {
        ossmp::http::response_parser parser;
        std::error_code ec;
        parser.feed(reply, ec);
        if (ec || !parser.done())
            std::abort();
        do_not_optimize(parser);
    });
}

struct figure {
    void (*run)();
};

constexpr figure figures[] = {
    {bench_crc64},
    {bench_crc64_portable},
    {bench_crc64_combine},
    {bench_md5},
    {bench_sign_v4},
    {bench_sign_v1},
    {bench_parse_upload_part_reply},
    {bench_parse_list_parts},
    {bench_build_complete},
};

} // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--fail-on-miss") == 0)
            opts.fail_on_miss = true;
        else if (std::strcmp(argv[i], "--quick") == 0)
            opts.min_batch_seconds = 0.02;
        else if (std::strcmp(argv[i], "--cpu-time") == 0)
            opts.cpu_time = true;
        else
            opts.filters.emplace_back(argv[i]);
    }
#if !defined(__OPTIMIZE__)
    std::printf("# warning: built without optimisation; figures are not meaningful\n");
#endif
    for (const auto& f : figures)
        f.run();
    return opts.fail_on_miss && misses > 0 ? 1 : 0;
}
