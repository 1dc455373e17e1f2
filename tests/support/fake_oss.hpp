// tests/support/fake_oss.hpp: a small OSS behind the scripted transport for the uploader's
// unit tests (parts kept, ListParts paged, objects completed and verified), the fixture that
// wires it to a client, and a runner of one upload.
#pragma once

#include "ossmp/client.hpp"
#include "ossmp/crc64.hpp"
#include "ossmp/upload.hpp"

#include "support/fake_transport.hpp"
#include "support/test_bytes.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ossmp::test::upload {

using namespace std::chrono_literals;
using client_type = ossmp::basic_client<fake_transport, ossmp::static_credentials_provider>;
namespace http = ossmp::http;

inline http::response reply(unsigned status, std::string body = {},
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::response r;
    r.status = status;
    r.body = std::move(body);
    for (auto& [n, v] : headers)
        r.headers.add(n, v);
    return r;
}

inline http::response error_reply(unsigned status, std::string_view code) {
    return reply(status, "<Error><Code>" + std::string(code) +
                             "</Code><Message>m</Message><RequestId>R</RequestId></Error>");
}

// A small OSS behind the fake transport: it keeps parts, completes objects, answers HEAD.
struct fake_oss {
    std::map<int, std::string> parts;
    std::optional<std::string> object;
    bool upload_alive = false;
    bool complete_sends_crc = true;
    bool complete_all_builds_empty = false; // like an emulator that once got it wrong
    bool list_sends_crc = true;             // ListParts' HashCrc64ecma
    int list_page = 1000;                   // ListParts' page size at most
    std::string upload_id;                  // the live upload's ("UP", then "UP2", ...)
    int inits = 0, completes = 0, aborts = 0, heads = 0, puts = 0, lists = 0;
    std::vector<int> sent_parts; // part numbers of every UploadPart, in order
    std::size_t max_in_flight = 0;
    fake_transport* transport = nullptr;

    fake_transport::outcome operator()(const http::request& req) {
        max_in_flight = std::max(max_in_flight, transport->round_trips() - transport->completed());
        const std::string body(req.body()); // drained first when it was streamed
        const bool has_upload = req.query_value("uploadId").has_value();
        // A request for another upload than the live one finds none.
        const bool alive =
            upload_alive && (!has_upload || *req.query_value("uploadId") == upload_id);
        if (req.method == http::verb::post && req.query_value("uploads")) {
            ++inits;
            upload_alive = true;
            parts.clear();
            upload_id = inits == 1 ? "UP" : "UP" + std::to_string(inits);
            return reply(200, "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                              "<UploadId>" +
                                  upload_id + "</UploadId></InitiateMultipartUploadResult>");
        }
        if (req.method == http::verb::get && has_upload) {
            ++lists;
            if (!alive)
                return error_reply(404, "NoSuchUpload");
            const auto marker = req.query_value("part-number-marker");
            const int after = marker ? std::stoi(std::string(*marker)) : 0;
            std::string xml = "<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>" +
                              upload_id + "</UploadId><PartNumberMarker>" + std::to_string(after) +
                              "</PartNumberMarker>";
            int n = 0, last = after;
            auto it = parts.upper_bound(after);
            for (; it != parts.end() && n < list_page; ++it, ++n) {
                last = it->first;
                xml += "<Part><PartNumber>" + std::to_string(it->first) +
                       "</PartNumber><LastModified>2026-12-01T00:00:00.000Z</LastModified>"
                       "<ETag>\"E" +
                       std::to_string(it->first) + "\"</ETag>";
                if (list_sends_crc)
                    xml += "<HashCrc64ecma>" + std::to_string(ossmp::crc64(it->second)) +
                           "</HashCrc64ecma>";
                xml += "<Size>" + std::to_string(it->second.size()) + "</Size></Part>";
            }
            const bool truncated = it != parts.end();
            xml += "<NextPartNumberMarker>" + std::to_string(last) +
                   "</NextPartNumberMarker><MaxParts>" + std::to_string(list_page) +
                   "</MaxParts><IsTruncated>" + (truncated ? "true" : "false") +
                   "</IsTruncated></ListPartsResult>";
            return reply(200, xml);
        }
        if (req.method == http::verb::put && req.query_value("partNumber")) {
            if (!alive)
                return error_reply(404, "NoSuchUpload");
            const int n = std::stoi(std::string(*req.query_value("partNumber")));
            sent_parts.push_back(n);
            parts[n] = body;
            return reply(200, {},
                         {{"ETag", "\"E" + std::to_string(n) + "\""},
                          {"x-oss-hash-crc64ecma", std::to_string(ossmp::crc64(body))}});
        }
        if (req.method == http::verb::post && has_upload) {
            ++completes;
            if (!alive)
                return error_reply(404, "NoSuchUpload");
            // The parts the list names (all of them for complete-all).
            std::string whole;
            if (req.headers.contains("x-oss-complete-all")) {
                for (auto& [n, p] : parts)
                    whole += p;
            } else {
                const std::string tag = "<PartNumber>";
                for (auto at = body.find(tag); at != std::string::npos;
                     at = body.find(tag, at + 1)) {
                    const int n = std::stoi(body.substr(at + tag.size()));
                    if (!parts.count(n))
                        return error_reply(400, "InvalidPart");
                    whole += parts[n];
                }
            }
            if (complete_all_builds_empty && req.headers.contains("x-oss-complete-all"))
                whole.clear();
            object = whole;
            upload_alive = false;
            std::vector<std::pair<std::string, std::string>> h{{"ETag", "\"W-7\""}};
            if (complete_sends_crc)
                h.emplace_back("x-oss-hash-crc64ecma", std::to_string(ossmp::crc64(whole)));
            return reply(200,
                         "<CompleteMultipartUploadResult><Location>l</Location><Bucket>b"
                         "</Bucket><Key>k</Key><ETag>\"W-7\"</ETag>"
                         "</CompleteMultipartUploadResult>",
                         h);
        }
        if (req.method == http::verb::delete_ && has_upload) {
            ++aborts;
            const bool was = alive;
            if (alive)
                upload_alive = false;
            return was ? reply(204) : error_reply(404, "NoSuchUpload");
        }
        if (req.method == http::verb::head) {
            ++heads;
            if (!object)
                return reply(404);
            return reply(200, {},
                         {{"Content-Length", std::to_string(object->size())},
                          {"ETag", "\"W-7\""},
                          {"x-oss-hash-crc64ecma", std::to_string(ossmp::crc64(*object))}});
        }
        if (req.method == http::verb::put) {
            ++puts;
            object = body;
            return reply(
                200, {},
                {{"ETag", "\"P\""}, {"x-oss-hash-crc64ecma", std::to_string(ossmp::crc64(body))}});
        }
        return reply(400);
    }
};

struct fixture {
    asio::io_context ctx;
    fake_transport transport{ctx};
    client_type client;
    fake_oss oss;

    fixture() : client(transport, options(), ossmp::static_credentials_provider("ak", "sk")) {
        oss.transport = &transport;
        transport.set_responder([this](const http::request& r) { return oss(r); });
    }
    static ossmp::client_options options() {
        ossmp::client_options o;
        o.endpoint = "https://oss-cn-hangzhou.aliyuncs.com";
        return o;
    }
};

inline ossmp::upload_params object_params() {
    ossmp::upload_params p;
    p.bucket = "bucket";
    p.key = "big/object";
    return p;
}

// 7 parts of 100 KiB (the last one shorter).
inline constexpr std::size_t part = 100 * 1024;
inline const std::string seven = pattern(6 * part + 5000, 7);

inline ossmp::upload_options fast_options() {
    ossmp::upload_options o;
    o.part_size = part;
    o.parallel = 3;
    o.retry.base_delay = 1ms;
    o.retry.max_delay = 2ms;
    return o;
}

struct outcome {
    int calls = 0;
    std::error_code ec;
    ossmp::upload_result result;
};

// Runs one upload of `source` to its end on the fixture's io_context.
template <class Source>
outcome run_source_upload(fixture& f, Source source, ossmp::upload_options o,
                          asio::cancellation_slot slot = {}) {
    outcome out;
    ossmp::async_upload(
        f.client, std::move(source), object_params(), std::move(o),
        asio::bind_cancellation_slot(slot, [&](std::error_code ec, ossmp::upload_result r) {
            ++out.calls;
            out.ec = ec;
            out.result = std::move(r);
        }));
    f.ctx.run();
    f.ctx.restart();
    return out;
}

inline outcome run_upload(fixture& f, std::string_view data, ossmp::upload_options o,
                          asio::cancellation_slot slot = {}) {
    return run_source_upload(f, ossmp::memory_source(bytes_of(data)), std::move(o), slot);
}

} // namespace ossmp::test::upload
