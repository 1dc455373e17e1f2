// tools/emulator/handler.hpp: the emulator's request handling, sans-io.
//
// `service` turns a parsed request into a response, given the storage, the configuration and
// the time: no sockets. A request goes through three steps so that part bodies can stream
// straight into storage (one copy, socket to buffer) and so that `Expect: 100-continue` works:
//   1. `begin(head, now)`: addressing (bucket from Host or path), routing on the method and
//      the SET of query keys, fault decision, authentication (V1/V4/anonymous), and every
//      check that needs no body (bucket, upload, part number, sizes, Content-MD5 syntax).
//      It returns a `pending` that either already holds the reply (`early`), or holds the
//      `body_sink` the body must be written into.
//   2. the caller writes the body into `pending.sink` (`prepare`/`commit` or `write`).
//   3. `finish(pending, now)`: the operation itself (Content-MD5 check, storing, listing, XML).
// `handle(request, now)` runs the three steps for a request whose body is already in memory
// (tests, the fuzz target).
#pragma once

#include "auth.hpp"
#include "config.hpp"
#include "faults.hpp"
#include "storage.hpp"
#include "xml_out.hpp"

#include "ossmp/crc64.hpp"
#include "ossmp/crypto.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/http/serializer.hpp"
#include "ossmp/time.hpp"
#include "ossmp/uri.hpp"
#include "ossmp/validate.hpp"
#include "ossmp/xml.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ossmp::emulator {

/// Largest Complete / other XML request body accepted: 10,000 parts of ~100 bytes is 1 MiB;
/// 16 MiB leaves room for indentation. Larger bodies answer 400 EntityTooLarge.
inline constexpr std::uint64_t max_xml_body_size = 16 * 1024 * 1024;

/// Latest `x-ossmp-test-initiated` accepted (--allow-test-headers): 2100-01-01T00:00:00Z, well
/// inside what a nanosecond `system_clock` holds (up to 2262).
inline constexpr std::uint64_t max_test_initiated = 4102444800;

/// A reply: the message head (and small body), plus optionally object bytes to stream after
/// the head (GetObject): `stream` blobs concatenated, from `stream_offset`, `stream_length`
/// bytes. The caller writes `msg` (Content-Length is already set for streamed replies).
struct reply {
    http::response msg;
    std::vector<std::shared_ptr<blob>> stream;
    std::uint64_t stream_offset = 0;
    std::uint64_t stream_length = 0;
    bool close = false;   ///< close the connection after this reply
    fault_decision fault; ///< reset / stall / truncate: the socket loop acts
    operation op = operation::none;
};

/// The state of one request between `begin` and `finish`.
struct pending {
    operation op = operation::none;
    std::string request_id;
    std::string host_id;
    std::string bucket;
    std::string key;
    std::vector<http::query_param> query;
    http::fields headers;
    std::string method;
    fault_decision fault;
    bool dry_run = false;            ///< truncate fault: compute the reply, change nothing
    std::optional<reply> early;      ///< reply decided before the body (body is drained)
    std::unique_ptr<body_sink> sink; ///< where the body goes (null when `early`)
    std::uint64_t max_body = 0;      ///< body cap for this request
    int part_number = 0;
    std::string upload_id;
    bool encoding_url = false;
    bool expects_body = false; ///< UploadPart, Put, Complete
};

/// The emulator's request handling (see the file comment). Holds references to the config and
/// the storage, which must outlive it. Not thread-safe: the server serializes every call with
/// one mutex (server.hpp); only the `body_sink` of a `pending` is filled outside it.
class service {
public:
    service(const config& cfg, storage& store) : cfg_(cfg), store_(store) {
        if (!cfg_.request_log.empty()) {
            log_fd_ = ::open(cfg_.request_log.c_str(),
                             O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
            if (log_fd_ < 0)
                throw std::system_error(errno, std::generic_category(),
                                        "--request-log " + cfg_.request_log);
        }
        std::random_device rd;
        rng_.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
        if (!cfg_.faults.empty())
            faults_.parse(cfg_.faults, cfg_.faults_seed);
    }

    /// Parses the fault spec (also done by the constructor); "" on success.
    std::string set_faults(std::string_view spec, std::uint64_t seed) {
        return faults_.parse(spec, seed);
    }

    service(const service&) = delete;
    service& operator=(const service&) = delete;
    ~service() {
        if (log_fd_ >= 0)
            ::close(log_fd_);
    }

    /// Appends the request's line to the request log (when there is one): `OPERATION STATUS
    /// BUCKET KEY UPLOAD-ID PART`, the key percent-encoded, `-` for what the request has not.
    /// One write(2) of one line on an O_APPEND file: lines of concurrent requests never mix.
    void log_request(const pending& p, const reply& r) const {
        if (log_fd_ < 0)
            return;
        auto or_dash = [](const std::string& s) {
            return s.empty() ? std::string("-") : s;
        };
        std::string line = std::string(operation_name(p.op));
        if (line.empty())
            line = "-";
        line += " " + std::to_string(r.msg.status) + " " + or_dash(p.bucket) + " " +
                or_dash(uri::encode(p.key, true)) + " " + or_dash(uri::encode(p.upload_id)) + " " +
                (p.part_number > 0 ? std::to_string(p.part_number) : "-") + "\n";
        [[maybe_unused]] auto n = ::write(log_fd_, line.data(), line.size());
    }

    /// Makes request ids deterministic (fuzzing, tests).
    void seed(std::uint64_t s) { rng_.seed(s); }

    const config& cfg() const noexcept { return cfg_; }
    storage& store() noexcept { return store_; }

    /// A request id: 24 upper-case hex, the first 8 the unix time (oss-reference 1.3).
    /// Thread-safe (the generator has its own small lock).
    std::string make_request_id(clock_type::time_point now) const {
        auto secs =
            std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
        std::uint64_t r;
        {
            std::lock_guard lock(rng_mutex_);
            r = rng_();
        }
        char buf[25];
        std::snprintf(buf, sizeof buf, "%08llX%016llX",
                      static_cast<unsigned long long>(secs) & 0xFFFFFFFFull,
                      static_cast<unsigned long long>(r));
        return buf;
    }

    /// Step 1: everything that needs no body. `head.body` is ignored. The same as
    /// `begin_unlocked` followed (unless that already answered) by `begin_locked`.
    pending begin(const http::incoming_request& head, clock_type::time_point now) {
        pending p = begin_unlocked(head, now);
        if (!p.early)
            begin_locked(p, head, now);
        return p;
    }

    /// Step 1a: parsing the target, addressing, routing and authentication (V1/V4 signature
    /// checks), which read only the configuration: safe to run on several threads at once, so
    /// the server runs it outside the lock that serializes the storage. Sets `p.early` when the
    /// request is refused here.
    pending begin_unlocked(const http::incoming_request& head, clock_type::time_point now) const {
        pending p;
        p.request_id = make_request_id(now);
        p.method = head.method;
        p.headers = head.headers;
        auto host = head.headers.get("Host");
        p.host_id = std::string(strip_port(host));

        auto target = uri::split_target(head.target);
        if (!target || head.target.empty() || head.target.front() != '/') {
            p.early = error_reply(p,
                                  {400,
                                   "InvalidURI",
                                   "Couldn't parse the specified URI.",
                                   "",
                                   {{"URI", head.target}}},
                                  now);
            return p;
        }
        p.query = std::move(target->query);
        p.encoding_url =
            query_get(p.query, "encoding-type") == std::optional<std::string_view>("url");

        // Addressing, routing and authentication together: a request whose Host names a bucket
        // and whose path starts with that same bucket is ambiguous (ali-oss with sldEnable sends
        // `Host: BUCKET.DOMAIN` and a path-style `/BUCKET/KEY`). The virtual-hosted reading comes
        // first; the path-style one is taken only when it is the one that authenticates.
        const auto candidates = address(p.host_id, target->path);
        std::optional<oss_error> first_error;
        bool resolved = false;
        for (const auto& [bucket_name, key] : candidates) {
            p.bucket = bucket_name;
            p.key = key;
            p.op = operation::none;
            p.upload_id.clear();
            if (auto err = route(p); err) {
                if (!first_error)
                    first_error = std::move(err);
                continue;
            }
            auth_request ar{p.method, p.bucket, p.key, p.query, p.headers};
            if (auto err = authenticate(cfg_, ar, now); err) {
                if (!first_error)
                    first_error = std::move(err);
                continue;
            }
            resolved = true;
            break;
        }
        if (!resolved) {
            p.bucket = candidates.front().first;
            p.key = candidates.front().second;
            p.op = operation::none;
            (void)route(p);
            p.early = error_reply(p, *first_error, now);
            return p;
        }
        return p;
    }

    /// Step 1b (after `begin_unlocked` accepted the request): the fault injector, the storage
    /// checks and the body sink. Not thread-safe: the server holds its storage lock.
    void begin_locked(pending& p, const http::incoming_request& head, clock_type::time_point now) {
        p.fault = faults_.decide(p.op);
        const bool has_body =
            head.headers.contains("Transfer-Encoding") ||
            (head.headers.contains("Content-Length") && head.headers.get("Content-Length") != "0");
        if (p.fault && p.fault.action != fault_action::bad_crc &&
            p.fault.action != fault_action::truncate) {
            // The request is read (body discarded), the fault replaces the reply: no state change.
            p.early = fault_reply(p, now);
            return;
        }
        p.dry_run = p.fault.action == fault_action::truncate;

        auto* bucket = store_.find_bucket(p.bucket);
        if (!bucket) {
            p.early = error_reply(p, no_such_bucket(p.bucket), now);
            return;
        }
        if (auto err = precheck(p, *bucket, has_body); err) {
            p.early = error_reply(p, *err, now);
            // A body over the operation's cap is not worth reading: answer, then close.
            p.early->close = err->code == "EntityTooLarge";
            return;
        }
        // Every cap is checked before anything is sized from Content-Length: a request that
        // declares an absurd length is answered from its header section, and nothing is
        // allocated for it (a sink never reserves more than `body_sink::reserve_max` up front).
        const auto content_length = parse_length(head.headers.get("Content-Length")).value_or(0);
        const bool bulk = p.op == operation::upload_part || p.op == operation::put;
        p.expects_body = bulk || p.op == operation::complete;
        p.max_body = bulk ? max_part_size // 5 GiB: UploadPart and PutObject limit
                          : max_xml_body_size;
        if (content_length > p.max_body) {
            p.early = error_reply(p, entity_too_large(content_length, p.max_body), now);
            p.early->close = true;
            return;
        }
        if (bulk) {
            bool need_md5 = head.headers.contains("Content-MD5");
            p.sink = p.dry_run ? storage::make_discard_sink(content_length, true)
                               : store_.make_sink(content_length, need_md5);
        } else if (p.op == operation::complete) {
            p.sink = storage::make_memory_sink(content_length);
        } else {
            p.sink = storage::make_discard_sink(0, false);
        }
    }

    /// A drain sink for a request answered early (its body is read and dropped).
    static std::unique_ptr<body_sink> drain_sink() { return storage::make_discard_sink(0, false); }

    /// Step 3: runs the operation once the body is in `p.sink`.
    reply finish(pending& p, clock_type::time_point now) {
        if (p.early)
            return std::move(*p.early);
        auto* bucket = store_.find_bucket(p.bucket);
        if (!bucket) // cannot happen (buckets are never removed), kept for safety
            return error_reply(p, no_such_bucket(p.bucket), now);
        reply r;
        switch (p.op) {
        case operation::initiate:
            r = do_initiate(p, *bucket, now);
            break;
        case operation::upload_part:
            r = do_upload_part(p, *bucket, now);
            break;
        case operation::complete:
            r = do_complete(p, *bucket, now);
            break;
        case operation::abort:
            r = do_abort(p, *bucket, now);
            break;
        case operation::list_parts:
            r = do_list_parts(p, *bucket, now);
            break;
        case operation::list_uploads:
            r = do_list_uploads(p, *bucket, now);
            break;
        case operation::put:
            r = do_put(p, *bucket, now);
            break;
        case operation::get:
            r = do_get(p, *bucket, now, false);
            break;
        case operation::head:
            r = do_get(p, *bucket, now, true);
            break;
        case operation::delete_:
            r = do_delete(p, *bucket, now);
            break;
        case operation::none:
            r = error_reply(p, not_implemented(), now);
            break;
        }
        r.op = p.op;
        if (p.fault.action == fault_action::bad_crc &&
            r.msg.headers.contains("x-oss-hash-crc64ecma")) {
            auto crc = parse_crc64(r.msg.headers.get("x-oss-hash-crc64ecma")).value_or(0);
            r.msg.headers.set("x-oss-hash-crc64ecma", crc64_to_string(crc ^ 0x5A5A5A5A5A5A5A5Aull));
        }
        if (p.fault.action == fault_action::truncate)
            r.fault = p.fault;
        return r;
    }

    /// The three steps for a request whose body is in `req.body`.
    reply handle(const http::incoming_request& req, clock_type::time_point now) {
        auto p = begin(req, now);
        if (p.early) {
            auto r = std::move(*p.early);
            r.op = p.op;
            if (p.fault)
                r.fault = p.fault;
            return r;
        }
        if (req.body.size() > p.max_body)
            return error_reply(p, entity_too_large(req.body.size(), p.max_body), now);
        p.sink->write(req.body);
        return finish(p, now);
    }

    /// An error reply for a request that could not even be parsed (400, connection closed).
    /// Thread-safe: touches no storage.
    reply bad_request_reply(std::string_view message, clock_type::time_point now) const {
        pending p;
        p.request_id = make_request_id(now);
        auto r = error_reply(p, {400, "BadRequest", std::string(message), "", {}}, now);
        r.close = true;
        return r;
    }

    /// The reply for a request whose body exceeded its cap while streaming (connection closed).
    /// Thread-safe: touches no storage.
    reply too_large_reply(const pending& p, clock_type::time_point now) const {
        auto r = error_reply(p, entity_too_large(p.sink ? p.sink->size() : 0, p.max_body), now);
        r.close = true;
        return r;
    }

private:
    // ---- addressing and routing -------------------------------------------------------------

    static std::string_view strip_port(std::string_view host) {
        if (!host.empty() && host.front() == '[') {
            auto close = host.find(']');
            return close == std::string_view::npos ? host : host.substr(0, close + 1);
        }
        auto colon = host.rfind(':');
        return colon == std::string_view::npos ? host : host.substr(0, colon);
    }

    static bool is_ip_literal(std::string_view h) {
        if (!h.empty() && h.front() == '[')
            return true;
        if (h.empty())
            return false;
        return std::all_of(h.begin(), h.end(),
                           [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    }

    // Bucket from Host `BUCKET.DOMAIN`, or from the first label of any other dotted host name
    // that is not the server's own (oss-reference 12); else path-style `/BUCKET/KEY`. Returns
    // the (bucket, key) readings to try, in order: a second, path-style reading when the
    // virtual-hosted bucket is also the first path segment.
    std::vector<std::pair<std::string, std::string>> address(std::string_view host,
                                                             const std::string& path) const {
        std::string h = http::to_lower(host);
        std::string_view virtual_bucket;
        const std::string& domain = cfg_.domain;
        if (h.size() > domain.size() + 1 && h.ends_with(domain) &&
            h[h.size() - domain.size() - 1] == '.') {
            virtual_bucket = std::string_view(h).substr(0, h.size() - domain.size() - 1);
        } else if (h != domain && h != cfg_.listen_host && !is_ip_literal(h) &&
                   h.find('.') != std::string::npos && h != "localhost") {
            virtual_bucket = std::string_view(h).substr(0, h.find('.'));
        }
        std::string_view rest = path;
        if (!rest.empty() && rest.front() == '/')
            rest.remove_prefix(1);
        auto slash = rest.find('/');
        std::pair<std::string, std::string> path_style{
            std::string(rest.substr(0, slash)),
            slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash + 1))};
        std::vector<std::pair<std::string, std::string>> out;
        if (!virtual_bucket.empty()) {
            out.emplace_back(std::string(virtual_bucket), std::string(rest));
            if (path_style.first == virtual_bucket)
                out.push_back(std::move(path_style));
        } else {
            out.push_back(std::move(path_style));
        }
        return out;
    }

    static std::optional<std::string_view> query_get(const std::vector<http::query_param>& q,
                                                     std::string_view name) {
        for (const auto& p : q)
            if (p.name == name)
                return std::string_view(p.value);
        return std::nullopt;
    }

    // Routes on the method and the set of query keys (never on their order).
    std::optional<oss_error> route(pending& p) const {
        const bool uploads = query_get(p.query, "uploads").has_value();
        const auto upload_id = query_get(p.query, "uploadId");
        const auto part_number = query_get(p.query, "partNumber");
        const auto& m = p.method;
        if (p.bucket.empty())
            return not_implemented(); // service-level (ListBuckets) is not emulated
        if (p.key.empty()) {
            if ((m == "GET") && uploads) {
                p.op = operation::list_uploads;
                return std::nullopt;
            }
            if (m == "GET" || m == "PUT" || m == "DELETE" || m == "HEAD" || m == "POST")
                return not_implemented();
            return method_not_allowed(m);
        }
        if (upload_id)
            p.upload_id = std::string(*upload_id);
        if (m == "POST") {
            if (uploads)
                p.op = operation::initiate;
            else if (upload_id)
                p.op = operation::complete;
            else
                return not_implemented(); // PostObject / AppendObject are not emulated
        } else if (m == "PUT") {
            if (upload_id && part_number)
                p.op = operation::upload_part;
            else if (upload_id)
                return oss_error{
                    400,
                    "InvalidArgument",
                    "Unexpected query string parameter",
                    "0017-00000219",
                    {{"ArgumentName", "ResourceType"}, {"ArgumentValue", "partNumber"}}};
            else if (part_number)
                return oss_error{400,
                                 "InvalidArgument",
                                 "uploadId is required with partNumber",
                                 "",
                                 {{"ArgumentName", "uploadId"}, {"ArgumentValue", ""}}};
            else
                p.op = operation::put;
        } else if (m == "DELETE") {
            p.op = upload_id ? operation::abort : operation::delete_;
        } else if (m == "GET") {
            p.op = upload_id ? operation::list_parts : operation::get;
        } else if (m == "HEAD") {
            p.op = operation::head;
        } else {
            return method_not_allowed(m);
        }
        return std::nullopt;
    }

    // ---- checks that need no body ----------------------------------------------------------

    std::optional<oss_error> precheck(pending& p, bucket_record& b, bool has_body) {
        if (!p.key.empty()) {
            if (auto ec = validate_key(p.key); ec)
                return oss_error{400,
                                 "InvalidObjectName",
                                 "The specified object is not valid.",
                                 "0016-00000005",
                                 {}};
        }
        switch (p.op) {
        case operation::upload_part: {
            auto pn = query_get(p.query, "partNumber").value_or("");
            int n = 0;
            auto [end, ec] = std::from_chars(pn.data(), pn.data() + pn.size(), n);
            if (pn.empty() || ec != std::errc() || end != pn.data() + pn.size() || n < 1 ||
                n > max_parts)
                return oss_error{
                    400,
                    "InvalidArgument",
                    "Part number must be an integer between 1 and 10000, inclusive.",
                    "0017-00000220",
                    {{"ArgumentName", "partNumber"}, {"ArgumentValue", std::string(pn)}}};
            p.part_number = n;
            if (!store_.find_upload(b, p.key, p.upload_id))
                return no_such_upload(p.upload_id);
            if (auto e = check_length(p, max_part_size); e)
                return e;
            return check_md5_syntax(p);
        }
        case operation::put:
            if (auto e = check_length(p, max_put_object_size); e)
                return e;
            if (auto e = check_md5_syntax(p); e)
                return e;
            if (forbid_overwrite(p.headers) && b.objects.count(p.key))
                return file_already_exists("0026-00000201");
            return std::nullopt;
        case operation::complete: {
            auto* u = store_.find_upload(b, p.key, p.upload_id);
            if (!u)
                return no_such_upload(p.upload_id);
            if (http::iequals(p.headers.get("x-oss-complete-all"), "yes") && has_body)
                return oss_error{
                    400,
                    "InvalidArgument",
                    "Should not speficy both complete all header and http body.",
                    "0042-00000216",
                    {{"ArgumentName", "x-oss-complete-all"}, {"ArgumentValue", "yes"}}};
            return check_md5_syntax(p);
        }
        case operation::abort:
        case operation::list_parts:
            if (!store_.find_upload(b, p.key, p.upload_id))
                return no_such_upload(p.upload_id);
            return std::nullopt;
        case operation::initiate:
            if (forbid_overwrite(p.headers) && b.objects.count(p.key))
                return file_already_exists("0042-00000214");
            return std::nullopt;
        default:
            return std::nullopt;
        }
    }

    static std::optional<std::uint64_t> parse_length(std::string_view s) {
        std::uint64_t v = 0;
        if (!detail::parse_u64(s, v))
            return std::nullopt;
        return v;
    }

    static std::optional<oss_error> check_length(const pending& p, std::uint64_t limit) {
        if (!p.headers.contains("Content-Length") && !p.headers.contains("Transfer-Encoding"))
            return oss_error{411,
                             "MissingContentLength",
                             "You must provide the Content-Length HTTP header.",
                             "",
                             {}};
        auto len = parse_length(p.headers.get("Content-Length"));
        if (len && *len > limit)
            return entity_too_large(*len, limit);
        return std::nullopt;
    }

    static std::optional<oss_error> check_md5_syntax(const pending& p) {
        auto h = p.headers.find("Content-MD5");
        if (!h)
            return std::nullopt;
        auto raw = crypto::base64_decode(*h);
        if (!raw || raw->size() != 16)
            return invalid_digest(*h);
        return std::nullopt;
    }

    static bool forbid_overwrite(const http::fields& h) {
        return http::iequals(h.get("x-oss-forbid-overwrite"), "true");
    }

    // ---- operations ---------------------------------------------------------------------

    static metadata_list user_metadata(const http::fields& h) {
        metadata_list m;
        for (const auto& f : h)
            if (f.name.size() > 11 &&
                http::iequals(std::string_view(f.name).substr(0, 11), "x-oss-meta-"))
                m.emplace_back(http::to_lower(std::string_view(f.name).substr(11)), f.value);
        return m;
    }

    static std::string content_type_of(const http::fields& h) {
        auto ct = h.get("Content-Type");
        return ct.empty() ? std::string("application/octet-stream") : std::string(ct);
    }

    std::string encode_if(const pending& p, std::string_view s) const {
        return p.encoding_url ? uri::encode(s, false) : std::string(s);
    }

    reply do_initiate(pending& p, bucket_record& b, clock_type::time_point now) {
        upload_record u;
        u.key = p.key;
        u.upload_id = store_.new_upload_id(now);
        u.initiated = now;
        if (cfg_.allow_test_headers) { // tests only (--allow-test-headers): a chosen age
            if (auto t = p.headers.get("x-ossmp-test-initiated"); !t.empty()) {
                std::uint64_t seconds = 0;
                auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), seconds);
                if (ec != std::errc() || end != t.data() + t.size() || seconds > max_test_initiated)
                    return error_reply(p,
                                       oss_error{400,
                                                 "InvalidArgument",
                                                 "x-ossmp-test-initiated takes unix seconds.",
                                                 "",
                                                 {{"ArgumentName", "x-ossmp-test-initiated"},
                                                  {"ArgumentValue", std::string(t)}}},
                                       now);
                u.initiated =
                    clock_type::time_point(std::chrono::duration_cast<clock_type::duration>(
                        std::chrono::seconds(static_cast<std::int64_t>(seconds))));
            }
        }
        u.content_type = content_type_of(p.headers);
        u.metadata = user_metadata(p.headers);
        u.forbid_overwrite = forbid_overwrite(p.headers);
        xml_builder x;
        x.open("InitiateMultipartUploadResult");
        if (p.encoding_url)
            x.leaf("EncodingType", "url");
        x.leaf("Bucket", b.name);
        x.leaf("Key", encode_if(p, p.key));
        x.leaf("UploadId", u.upload_id);
        x.close("InitiateMultipartUploadResult");
        if (!p.dry_run)
            if (auto ec = store_.add_upload(b, std::move(u)); ec)
                return error_reply(p, internal_error(ec), now);
        return xml_reply(p, 200, x.take(), now);
    }

    // ETag of a part or simple object: the quoted upper-case hex MD5. For sink storage without
    // an MD5 (none was asked for), a cheap stand-in: the MD5 of the 16 bytes (CRC-64, size),
    // little-endian. It has the same shape and changes whenever the bytes do (README.md).
    static std::string body_etag(body_sink& s) {
        if (s.has_md5()) {
            auto d = s.md5();
            return "\"" + crypto::hex_upper(d) + "\"";
        }
        unsigned char buf[16];
        auto crc = s.crc64();
        auto size = s.size();
        for (int i = 0; i < 8; ++i) {
            buf[i] = static_cast<unsigned char>(crc >> (8 * i));
            buf[8 + i] = static_cast<unsigned char>(size >> (8 * i));
        }
        auto d = crypto::md5(std::string_view(reinterpret_cast<const char*>(buf), 16));
        return "\"" + crypto::hex_upper(d) + "\"";
    }

    // Content-MD5 check (InvalidDigest); also returns the base64 MD5 to echo (or "").
    std::optional<oss_error> verify_md5(pending& p, std::string& echo) {
        echo.clear();
        if (!p.sink->has_md5())
            return std::nullopt;
        auto d = p.sink->md5();
        echo = crypto::base64_encode(d);
        if (auto h = p.headers.find("Content-MD5"); h && *h != echo)
            return invalid_digest(*h);
        return std::nullopt;
    }

    reply do_upload_part(pending& p, bucket_record& b, clock_type::time_point now) {
        auto* u = store_.find_upload(b, p.key, p.upload_id);
        if (!u) // aborted while the body was streaming
            return error_reply(p, no_such_upload(p.upload_id), now);
        std::string md5_b64;
        if (auto err = verify_md5(p, md5_b64); err)
            return error_reply(p, *err, now);
        part_record part;
        part.number = p.part_number;
        part.size = p.sink->size();
        part.crc64 = p.sink->crc64();
        part.etag = body_etag(*p.sink);
        part.last_modified = now;
        auto r = empty_reply(p, 200, now);
        r.msg.headers.add("ETag", part.etag);
        if (!md5_b64.empty())
            r.msg.headers.add("Content-MD5", md5_b64);
        r.msg.headers.add("x-oss-hash-crc64ecma", crc64_to_string(part.crc64));
        if (!p.dry_run)
            if (auto ec = store_.put_part(b, *u, std::move(part), *p.sink); ec)
                return error_reply(p, internal_error(ec), now);
        return r;
    }

    static std::string_view trim(std::string_view s) {
        while (!s.empty() &&
               (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
            s.remove_prefix(1);
        while (!s.empty() &&
               (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
            s.remove_suffix(1);
        return s;
    }

    static std::string_view unquote(std::string_view s) {
        s = trim(s);
        if (s.size() >= 2 && s.front() == '"' && s.back() == '"')
            s = s.substr(1, s.size() - 2);
        return s;
    }

    reply do_complete(pending& p, bucket_record& b, clock_type::time_point now) {
        auto* u = store_.find_upload(b, p.key, p.upload_id);
        if (!u)
            return error_reply(p, no_such_upload(p.upload_id), now);
        std::string md5_b64;
        if (auto h = p.headers.find("Content-MD5")) {
            auto d = crypto::md5(p.sink->view());
            if (*h != crypto::base64_encode(d))
                return error_reply(p, invalid_digest(*h), now);
        }
        std::vector<const part_record*> chosen;
        if (http::iequals(p.headers.get("x-oss-complete-all"), "yes")) {
            if (p.sink->size() != 0)
                return error_reply(
                    p,
                    {400,
                     "InvalidArgument",
                     "Should not speficy both complete all header and http body.",
                     "0042-00000216",
                     {{"ArgumentName", "x-oss-complete-all"}, {"ArgumentValue", "yes"}}},
                    now);
            for (const auto& [n, part] : u->parts)
                chosen.push_back(&part);
            if (chosen.empty())
                return error_reply(p, invalid_part("no part has been uploaded"), now);
        } else {
            xml::document doc;
            const oss_error malformed{400,
                                      "MalformedXML",
                                      "The XML you provided was not well-formed or did not "
                                      "validate against our published schema.",
                                      "0042-00000205",
                                      {}};
            if (xml::parse(p.sink->view(), doc) || doc.root().name() != "CompleteMultipartUpload")
                return error_reply(p, malformed, now);
            int previous = 0;
            for (xml::element part : doc.root().children()) {
                if (part.name() != "Part")
                    continue;
                auto num = part.child_text("PartNumber");
                auto etag = part.child_text("ETag");
                int n = 0;
                if (!num || !etag || xml::parse_number(trim(*num), n))
                    return error_reply(p, malformed, now);
                if (n <= previous)
                    return error_reply(p, invalid_part_order(), now);
                previous = n;
                auto it = u->parts.find(n);
                if (it == u->parts.end() ||
                    !http::iequals(unquote(*etag), unquote(it->second.etag)))
                    return error_reply(p, invalid_part("part " + std::to_string(n)), now);
                chosen.push_back(&it->second);
            }
            if (chosen.empty())
                return error_reply(p, malformed, now);
        }
        // Every part but the last must be >= 100 KiB (checked only here, oss-reference 3).
        for (std::size_t i = 0; i + 1 < chosen.size(); ++i)
            if (chosen[i]->size < min_part_size)
                return error_reply(
                    p,
                    {400,
                     "EntityTooSmall",
                     "Your proposed upload is smaller than the minimum allowed size.",
                     "0042-00000213",
                     {{"PartNumber", std::to_string(chosen[i]->number)},
                      {"PartSize", std::to_string(chosen[i]->size)},
                      {"MinSizeAllowed", std::to_string(min_part_size)}}},
                    now);
        if ((forbid_overwrite(p.headers) || u->forbid_overwrite) && b.objects.count(p.key))
            return error_reply(p, file_already_exists("0042-00000214"), now);

        // ETag: MD5 over the concatenated upper-hex part ETag texts, "-N" (oss-reference 4).
        crypto::md5_hasher h;
        std::uint64_t crc = 0;
        std::uint64_t size = 0;
        for (const auto* part : chosen) {
            auto hex = unquote(part->etag);
            std::string upper(hex);
            for (auto& c : upper)
                if (c >= 'a' && c <= 'f')
                    c = static_cast<char>(c - 'a' + 'A');
            h.update(upper);
            crc = crc64_combine(crc, part->crc64, part->size);
            size += part->size;
        }
        auto digest = h.finish();
        object_record o;
        o.key = p.key;
        o.size = size;
        o.crc64 = crc;
        o.etag = "\"" + crypto::hex_upper(digest) + "-" + std::to_string(chosen.size()) + "\"";
        o.last_modified = now;
        o.content_type = u->content_type;
        o.metadata = u->metadata;
        o.object_type = "Multipart";

        xml_builder x;
        x.open("CompleteMultipartUploadResult");
        if (p.encoding_url)
            x.leaf("EncodingType", "url");
        x.leaf("Location", std::string(cfg_.tls() ? "https://" : "http://") + b.name + "." +
                               cfg_.domain + "/" + uri::encode_path(p.key));
        x.leaf("Bucket", b.name);
        x.leaf("Key", encode_if(p, p.key));
        x.leaf("ETag", o.etag);
        x.close("CompleteMultipartUploadResult");
        auto r = xml_reply(p, 200, x.take(), now);
        r.msg.headers.add("ETag", o.etag);
        r.msg.headers.add("x-oss-hash-crc64ecma", crc64_to_string(o.crc64));
        if (!p.dry_run)
            if (auto ec = store_.complete_upload(b, *u, chosen, std::move(o)); ec)
                return error_reply(p, internal_error(ec), now);
        return r;
    }

    reply do_abort(pending& p, bucket_record& b, clock_type::time_point now) {
        if (!store_.find_upload(b, p.key, p.upload_id))
            return error_reply(p, no_such_upload(p.upload_id), now);
        if (!p.dry_run)
            store_.remove_upload(b, p.key, p.upload_id);
        return empty_reply(p, 204, now);
    }

    // A list parameter: absent or empty -> default; else digits in [lo, hi] or InvalidArgument.
    static std::optional<oss_error> list_param(const pending& p, std::string_view name, int lo,
                                               int hi, int& out) {
        auto v = query_get(p.query, name);
        if (!v || v->empty())
            return std::nullopt;
        int n = 0;
        auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc() || end != v->data() + v->size() || n < lo || n > hi)
            return oss_error{
                400,
                "InvalidArgument",
                "Argument " + std::string(name) + " is invalid.",
                "",
                {{"ArgumentName", std::string(name)}, {"ArgumentValue", std::string(*v)}}};
        out = n;
        return std::nullopt;
    }

    reply do_list_parts(pending& p, bucket_record& b, clock_type::time_point now) {
        auto* u = store_.find_upload(b, p.key, p.upload_id);
        if (!u)
            return error_reply(p, no_such_upload(p.upload_id), now);
        int max = max_list_parts;
        int marker = 0;
        if (auto e = list_param(p, "max-parts", 1, max_list_parts, max); e)
            return error_reply(p, *e, now);
        if (auto e = list_param(p, "part-number-marker", 0, max_parts, marker); e)
            return error_reply(p, *e, now);
        xml_builder x;
        x.reserve(512 +
                  200 * std::min<std::size_t>(u->parts.size(), static_cast<std::size_t>(max)));
        x.open("ListPartsResult");
        if (p.encoding_url)
            x.leaf("EncodingType", "url");
        x.leaf("Bucket", b.name);
        x.leaf("Key", encode_if(p, p.key));
        x.leaf("UploadId", u->upload_id);
        x.leaf("StorageClass", "Standard");
        x.leaf("PartNumberMarker", static_cast<std::uint64_t>(marker));
        std::vector<const part_record*> page;
        auto it = u->parts.upper_bound(marker);
        for (; it != u->parts.end() && page.size() < static_cast<std::size_t>(max); ++it)
            page.push_back(&it->second);
        const bool truncated = it != u->parts.end();
        x.leaf("NextPartNumberMarker",
               static_cast<std::uint64_t>(page.empty() ? 0 : page.back()->number));
        x.leaf("MaxParts", static_cast<std::uint64_t>(max));
        x.leaf_bool("IsTruncated", truncated);
        for (const auto* part : page) {
            x.open("Part");
            x.leaf("PartNumber", static_cast<std::uint64_t>(part->number));
            x.leaf("LastModified", format_iso8601_ms(part->last_modified));
            x.leaf("ETag", part->etag);
            x.leaf("HashCrc64ecma", crc64_to_string(part->crc64));
            x.leaf("Size", part->size);
            x.close("Part");
        }
        x.close("ListPartsResult");
        return xml_reply(p, 200, x.take(), now);
    }

    reply do_list_uploads(pending& p, bucket_record& b, clock_type::time_point now) {
        int max = max_list_uploads;
        if (auto e = list_param(p, "max-uploads", 1, max_list_uploads, max); e)
            return error_reply(p, *e, now);
        const std::string prefix(query_get(p.query, "prefix").value_or(""));
        const std::string delimiter(query_get(p.query, "delimiter").value_or(""));
        const std::string key_marker(query_get(p.query, "key-marker").value_or(""));
        // upload-id-marker is ignored without key-marker (oss-reference 2.6).
        const std::string id_marker(
            key_marker.empty() ? "" : query_get(p.query, "upload-id-marker").value_or(""));

        struct entry {
            const upload_record* upload = nullptr;
            std::string common_prefix;
        };
        std::vector<entry> page;
        bool truncated = false;
        std::string last_prefix;
        auto start = std::max(key_marker, prefix);
        auto it = b.uploads.lower_bound(std::make_pair(start, std::string()));
        for (; it != b.uploads.end(); ++it) {
            const auto& [k, u] = *it;
            const auto& key = k.first;
            if (!key_marker.empty() && key == key_marker &&
                (id_marker.empty() || k.second <= id_marker))
                continue;
            if (!key.starts_with(prefix))
                break; // keys with the prefix are contiguous in byte order
            std::string cp;
            if (!delimiter.empty()) {
                auto pos = key.find(delimiter, prefix.size());
                if (pos != std::string::npos)
                    cp = key.substr(0, pos + delimiter.size());
            }
            if (!cp.empty()) {
                if (cp == last_prefix)
                    continue;
                // A prefix the key-marker falls into was listed on an earlier page.
                if (!key_marker.empty() && key_marker.starts_with(cp))
                    continue;
            }
            if (page.size() == static_cast<std::size_t>(max)) {
                truncated = true;
                break;
            }
            if (!cp.empty()) {
                last_prefix = cp;
                page.push_back(entry{nullptr, cp});
            } else {
                page.push_back(entry{&u, {}});
            }
        }
        std::string next_key;
        std::string next_id;
        if (!page.empty()) {
            if (page.back().upload) {
                next_key = page.back().upload->key;
                next_id = page.back().upload->upload_id;
            } else {
                next_key = page.back().common_prefix;
            }
        }
        xml_builder x;
        x.reserve(512 + 200 * page.size());
        x.open("ListMultipartUploadsResult");
        if (p.encoding_url)
            x.leaf("EncodingType", "url");
        x.leaf("Bucket", b.name);
        x.leaf("KeyMarker", encode_if(p, key_marker));
        x.leaf("UploadIdMarker", id_marker);
        x.leaf("NextKeyMarker", encode_if(p, next_key));
        x.leaf("NextUploadIdMarker", next_id);
        x.leaf("Delimiter", encode_if(p, delimiter));
        x.leaf("Prefix", encode_if(p, prefix));
        x.leaf("MaxUploads", static_cast<std::uint64_t>(max));
        x.leaf_bool("IsTruncated", truncated);
        for (const auto& e : page) {
            if (!e.upload)
                continue;
            x.open("Upload");
            x.leaf("Key", encode_if(p, e.upload->key));
            x.leaf("UploadId", e.upload->upload_id);
            x.leaf("StorageClass", "Standard");
            x.leaf("Initiated", format_iso8601_ms(e.upload->initiated));
            x.close("Upload");
        }
        for (const auto& e : page) {
            if (e.upload)
                continue;
            x.open("CommonPrefixes");
            x.leaf("Prefix", encode_if(p, e.common_prefix));
            x.close("CommonPrefixes");
        }
        x.close("ListMultipartUploadsResult");
        return xml_reply(p, 200, x.take(), now);
    }

    reply do_put(pending& p, bucket_record& b, clock_type::time_point now) {
        std::string md5_b64;
        if (auto err = verify_md5(p, md5_b64); err)
            return error_reply(p, *err, now);
        if (forbid_overwrite(p.headers) && b.objects.count(p.key))
            return error_reply(p, file_already_exists("0026-00000201"), now);
        object_record o;
        o.key = p.key;
        o.size = p.sink->size();
        o.crc64 = p.sink->crc64();
        o.etag = body_etag(*p.sink);
        o.last_modified = now;
        o.content_type = content_type_of(p.headers);
        o.metadata = user_metadata(p.headers);
        o.object_type = "Normal";
        auto r = empty_reply(p, 200, now);
        r.msg.headers.add("ETag", o.etag);
        if (!md5_b64.empty())
            r.msg.headers.add("Content-MD5", md5_b64);
        r.msg.headers.add("x-oss-hash-crc64ecma", crc64_to_string(o.crc64));
        if (!p.dry_run)
            if (auto ec = store_.put_object(b, std::move(o), *p.sink); ec)
                return error_reply(p, internal_error(ec), now);
        return r;
    }

    // Range: "bytes=a-b", "bytes=a-", "bytes=-n". Returns false for a syntactically invalid
    // or multi-range header (then the whole object is sent, as OSS does); `unsatisfiable` for
    // a start beyond the end (416).
    static bool parse_range(std::string_view h, std::uint64_t size, std::uint64_t& first,
                            std::uint64_t& last, bool& unsatisfiable) {
        unsatisfiable = false;
        if (!h.starts_with("bytes="))
            return false;
        h.remove_prefix(6);
        if (h.find(',') != std::string_view::npos)
            return false;
        auto dash = h.find('-');
        if (dash == std::string_view::npos)
            return false;
        auto a = trim(h.substr(0, dash));
        auto z = trim(h.substr(dash + 1));
        std::uint64_t va = 0;
        std::uint64_t vz = 0;
        if (a.empty()) {
            if (!detail::parse_u64(z, vz) || vz == 0)
                return false;
            if (size == 0) {
                unsatisfiable = true;
                return true;
            }
            first = vz >= size ? 0 : size - vz;
            last = size - 1;
            return true;
        }
        if (!detail::parse_u64(a, va))
            return false;
        if (z.empty()) {
            vz = size ? size - 1 : 0;
        } else if (!detail::parse_u64(z, vz) || vz < va) {
            return false;
        }
        if (va >= size) {
            unsatisfiable = true;
            return true;
        }
        first = va;
        last = std::min<std::uint64_t>(vz, size - 1);
        return true;
    }

    reply do_get(pending& p, bucket_record& b, clock_type::time_point now, bool head) {
        auto it = b.objects.find(p.key);
        if (it == b.objects.end())
            return error_reply(p,
                               {404,
                                "NoSuchKey",
                                "The specified key does not exist.",
                                "0026-00000001",
                                {{"Key", p.key}}},
                               now);
        const auto& o = it->second;
        if (!head && !o.has_data())
            return error_reply(p,
                               {501,
                                "NotImplemented",
                                "This emulator runs with --storage sink: object bytes are not "
                                "kept, only sizes and checksums (HEAD works).",
                                "",
                                {}},
                               now);
        std::uint64_t first = 0;
        std::uint64_t last = o.size ? o.size - 1 : 0;
        bool unsatisfiable = false;
        bool ranged = false;
        if (auto range = p.headers.find("Range"))
            ranged = parse_range(*range, o.size, first, last, unsatisfiable);
        if (unsatisfiable)
            return error_reply(p,
                               {416,
                                "InvalidRange",
                                "The requested range cannot be satisfied.",
                                "0003-00000012",
                                {{"RangeRequested", std::string(p.headers.get("Range"))},
                                 {"ActualObjectSize", std::to_string(o.size)}}},
                               now);
        auto r = empty_reply(p, ranged ? 206 : 200, now);
        auto& h = r.msg.headers;
        h.add("Content-Type", o.content_type);
        std::uint64_t length = o.size == 0 ? 0 : last - first + 1;
        h.add("Content-Length", std::to_string(length));
        if (ranged)
            h.add("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) +
                                       "/" + std::to_string(o.size));
        h.add("Accept-Ranges", "bytes");
        h.add("ETag", o.etag);
        h.add("Last-Modified", format_rfc1123(o.last_modified));
        h.add("x-oss-object-type", o.object_type);
        h.add("x-oss-storage-class", "Standard");
        h.add("x-oss-hash-crc64ecma", crc64_to_string(o.crc64));
        for (const auto& [n, v] : o.metadata)
            h.add("x-oss-meta-" + n, v);
        if (!head && length > 0) {
            r.stream = o.segments;
            r.stream_offset = first;
            r.stream_length = length;
        }
        return r;
    }

    reply do_delete(pending& p, bucket_record& b, clock_type::time_point now) {
        if (!p.dry_run)
            store_.remove_object(b, p.key); // deleting a missing key is not an error
        return empty_reply(p, 204, now);
    }

    // ---- replies ------------------------------------------------------------------------

    reply empty_reply(const pending& p, unsigned status, clock_type::time_point now) const {
        reply r;
        r.msg.status = status;
        r.msg.reason = reason(status);
        r.msg.headers.add("Server", "AliyunOSS");
        r.msg.headers.add("Date", format_rfc1123(now));
        r.msg.headers.add("x-oss-request-id", p.request_id);
        return r;
    }

    reply xml_reply(const pending& p, unsigned status, std::string body,
                    clock_type::time_point now) const {
        auto r = empty_reply(p, status, now);
        r.msg.headers.add("Content-Type", "application/xml");
        r.msg.body = std::move(body);
        return r;
    }

public:
    /// An error reply (oss-reference 5.1). HEAD replies carry no body: the XML goes base64 in
    /// `x-oss-err`, as OSS does.
    reply error_reply(const pending& p, const oss_error& e, clock_type::time_point now) const {
        auto body = error_body(e, p.request_id, p.host_id);
        reply r;
        if (p.method == "HEAD") {
            r = empty_reply(p, e.status, now);
            r.msg.headers.add("Content-Type", "application/xml");
            r.msg.headers.add("Content-Length", "0");
            r.msg.headers.add("x-oss-err", crypto::base64_encode(body));
        } else {
            r = xml_reply(p, e.status, std::move(body), now);
        }
        if (!e.ec.empty())
            r.msg.headers.add("x-oss-ec", e.ec);
        r.op = p.op;
        return r;
    }

    /// The reason phrase for the status codes the emulator uses (the serializer's table).
    static std::string reason(unsigned status) {
        auto r = http::reason_phrase(status);
        return r.empty() ? std::string("Unknown") : std::string(r);
    }

private:
    reply fault_reply(const pending& p, clock_type::time_point now) {
        reply r;
        switch (p.fault.action) {
        case fault_action::http_500:
            r = error_reply(p,
                            {500,
                             "InternalError",
                             "We encountered an internal error. Please try again.",
                             "",
                             {}},
                            now);
            break;
        case fault_action::http_503:
            r = error_reply(
                p, {503, "ServiceUnavailable", "Please reduce your request rate.", "", {}}, now);
            break;
        case fault_action::slowdown:
            r = error_reply(p, {503, "SlowDown", "Please reduce your request rate.", "", {}}, now);
            break;
        case fault_action::skew:
            r = error_reply(p, skewed(now - std::chrono::hours(1), now), now);
            break;
        default:
            r = empty_reply(p, 500, now); // reset / reset-mid / stall: never written
            break;
        }
        r.fault = p.fault;
        r.op = p.op;
        return r;
    }

    static oss_error no_such_bucket(const std::string& name) {
        return {404,
                "NoSuchBucket",
                "The specified bucket does not exist.",
                "0015-00000101",
                {{"BucketName", name}}};
    }
    static oss_error no_such_upload(const std::string& id) {
        return {404,
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the upload "
                "may have been aborted or completed.",
                "0042-00000002",
                {{"UploadId", id}}};
    }
    static oss_error invalid_part(const std::string& which) {
        return {400,
                "InvalidPart",
                "One or more of the specified parts could not be found or the specified entity "
                "tag might not have matched the part's entity tag.",
                "0042-00000210",
                {{"PartNumber", which}}};
    }
    static oss_error invalid_part_order() {
        return {400,
                "InvalidPartOrder",
                "The list of parts was not in ascending order. The parts list must be specified "
                "in order by part number.",
                "0042-00000209",
                {}};
    }
    static oss_error invalid_digest(std::string_view given) {
        return {400,
                "InvalidDigest",
                "The Content-MD5 you specified is not valid.",
                "0016-00000403",
                {{"ContentMD5", std::string(given)}}};
    }
    static oss_error file_already_exists(std::string ec) {
        return {409,
                "FileAlreadyExists",
                "The object you specified already exists and can not be overwritten.",
                std::move(ec),
                {}};
    }
    static oss_error entity_too_large(std::uint64_t size, std::uint64_t limit) {
        return {
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size.",
            "",
            {{"ProposedSize", std::to_string(size)}, {"MaxSizeAllowed", std::to_string(limit)}}};
    }
    static oss_error not_implemented() {
        return {501,
                "NotImplemented",
                "A header or query you provided implies functionality that is not implemented by "
                "this emulator.",
                "",
                {}};
    }
    static oss_error method_not_allowed(std::string_view m) {
        return {405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                "",
                {{"Method", std::string(m)}}};
    }
    static oss_error internal_error(const std::error_code& ec) {
        return {500, "InternalError", "We encountered an internal error: " + ec.message(), "", {}};
    }

    const config& cfg_;
    storage& store_;
    int log_fd_ = -1; // --request-log, appended
    fault_injector faults_;
    mutable std::mutex rng_mutex_; // guards rng_ (request ids are made outside the server lock)
    mutable std::mt19937_64 rng_;
};

} // namespace ossmp::emulator
