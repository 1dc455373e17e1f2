// libFuzzer target: the emulator's request handling without sockets (parser + router +
// operations + storage + auth), fed a byte stream of pipelined requests.
//
// Input: byte 0 = flags (bit 0: --allow-anonymous, bit 1: fault rules on, bits 2-7: where to
// split the stream into two feeds), then the bytes a client would send on one connection.
// Time is fixed at 2023-12-16T16:20:57Z (1702743657) and every id generator is seeded, so a
// run is reproducible: the first upload id in the memory storage is always the same, and the
// seed corpus uses it. Checks invariants of every reply (status range, request id shape,
// streamed ranges inside the object) and traps when one is broken.
#include "../../tools/emulator/handler.hpp"

#include "ossmp/http/parser.hpp"
#include "ossmp/http/serializer.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

void check(bool ok) {
    if (!ok)
        __builtin_trap();
}

void check_reply(const ossmp::emulator::reply& r) {
#ifdef OSSMP_FUZZ_EMULATOR_TRACE // -DOSSMP_FUZZ_EMULATOR_TRACE: print what each request got
    std::fprintf(stderr, "%s %u %.*s\n", std::string(ossmp::emulator::operation_name(r.op)).c_str(),
                 r.msg.status, static_cast<int>(r.msg.body.size() > 300 ? 300 : r.msg.body.size()),
                 r.msg.body.data());
#endif
    check(r.msg.status >= 100 && r.msg.status <= 599);
    auto id = r.msg.headers.get("x-oss-request-id");
    check(id.size() == 24);
    std::uint64_t total = 0;
    for (const auto& s : r.stream) {
        check(s != nullptr);
        total += s->size();
    }
    check(r.stream_offset <= total && r.stream_length <= total - r.stream_offset);
    // Touch the streamed bytes exactly as the socket loop would send them.
    std::uint64_t skip = r.stream_offset;
    std::uint64_t left = r.stream_length;
    volatile unsigned char sink = 0;
    for (const auto& s : r.stream) {
        if (left == 0)
            break;
        if (skip >= s->size()) {
            skip -= s->size();
            continue;
        }
        auto len = std::min<std::uint64_t>(s->size() - skip, left);
        auto bytes = s->bytes();
        if (!bytes.empty())
            sink =
                sink ^ static_cast<unsigned char>(bytes[static_cast<std::size_t>(skip + len - 1)]);
        left -= len;
        skip = 0;
    }
    auto wire = ossmp::http::serialize(r.msg);
    check(wire.size() >= r.msg.body.size());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ossmp;
    using namespace ossmp::emulator;
    if (size == 0)
        return 0;
    const std::uint8_t flags = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    config cfg;
    cfg.credentials.push_back(access_key{"ak", "sk", ""});
    cfg.credentials.push_back(access_key{"stsak", "stssk", "token"});
    cfg.allow_anonymous = (flags & 1) != 0;
    storage store;
    store.seed(1);
    if (store.open({"demo", "examplebucket"}))
        return 0;
    service svc(cfg, store);
    svc.seed(1);
    if (flags & 2)
        svc.set_faults("UploadPart@2=bad-crc,Get@1=truncate,Complete@2=500,*%10=reset", 1);
    const auto now = clock_type::time_point(std::chrono::seconds(1702743657));

    const std::size_t split = std::min<std::size_t>(input.size(), (flags >> 2) * 16u);
    const std::string_view pieces[2] = {input.substr(0, split), input.substr(split)};

    http::request_parser parser;
    parser.set_header_limit(16 * 1024);
    parser.set_body_limit(1 << 20);
    pending p;
    bool in_body = false;
    std::unique_ptr<body_sink> drain;
    int requests = 0;
    for (std::string_view rest : pieces) {
        while (!rest.empty() && requests < 32) {
            std::error_code ec;
            auto n = parser.feed(rest, ec);
            rest.remove_prefix(n);
            if (ec) {
                check_reply(svc.bad_request_reply(ec.message(), now));
                return 0;
            }
            bool event = false;
            if (parser.header_done() && !in_body) {
                event = true;
                p = svc.begin(parser.get(), now);
                body_sink* sink = p.sink.get();
                if (p.early || !sink) {
                    drain = service::drain_sink();
                    sink = drain.get();
                }
                parser.set_body_sink(
                    [sink](std::string_view b, std::error_code&) { sink->write(b); });
                parser.set_body_limit(std::min<std::uint64_t>(p.max_body, 1 << 20));
                in_body = true;
            }
            if (parser.done()) {
                event = true;
                reply r = p.early ? std::move(*p.early) : svc.finish(p, now);
                check_reply(r);
                parser.reset();
                parser.set_body_limit(1 << 20);
                in_body = false;
                drain.reset();
                ++requests;
            }
            if (n == 0 && !event)
                break; // cannot happen with this parser; guards against a livelock
        }
    }
    return 0;
}
