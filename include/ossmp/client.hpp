// ossmp/client.hpp: `basic_client`, the per-endpoint state every operation uses, and the one
// composed operation (`detail::async_call`) that every `ops/*.hpp` call is a few lines of glue
// around: build -> address -> sign -> round trip -> parse.
//
// Completion rule shared by every operation of `ops/*.hpp`: the completion signature is always
// `void(std::error_code, Result)` with a result type per call (AbortMultipartUpload included:
// `abort_result`), so generic code (retries, parallel groups, tests) treats every call alike.
// On error the result is value-initialised unless the operation documents otherwise.
#pragma once

#include "ossmp/credentials.hpp"
#include "ossmp/detail/asio.hpp"
#include "ossmp/diagnostics.hpp"
#include "ossmp/endpoint.hpp"
#include "ossmp/error.hpp"
#include "ossmp/http/message.hpp"
#include "ossmp/retry.hpp"
#include "ossmp/signer.hpp"
#include "ossmp/time.hpp"
#include "ossmp/transport.hpp"
#include "ossmp/version.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace ossmp {

/// Settings of a client.
struct client_options {
    /// Where requests go: `https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000`.
    std::string endpoint;
    /// Region id for V4 scopes (`cn-hangzhou`; a leading `oss-` is stripped). Empty: derived from
    /// an `oss-<region>.aliyuncs.com` endpoint where possible.
    std::string region;
    /// Virtual-hosted (default), path or CNAME. IP endpoints are always path-style.
    addressing_style style = addressing_style::virtual_hosted;
    /// V4 (default) or V1.
    signature_version signature = signature_version::v4;
    /// Sent on every request; empty to send none.
    std::string user_agent = "ossmp/" + std::string(version_string);
    /// Added to every request that does not already carry a field of the same name.
    http::fields default_headers;
    /// The local clock (UTC) the signer reads before applying the clock offset. Empty means
    /// `std::chrono::system_clock::now`. Tests set a fixed time to get reproducible signatures.
    /// Called from whatever thread starts or continues an operation: it must be thread-safe.
    std::function<std::chrono::system_clock::time_point()> clock;
    /// When a request fails with `RequestTimeTooSkewed` and the response lets the client learn
    /// a different clock offset, re-sign and send the request once more (the caller sees only
    /// the second outcome). The request is then sent twice, so the client keeps a copy of it
    /// (headers and owned body; a viewed body is not copied).
    bool retry_on_clock_skew = true;
    /// Retries of every single operation (default: none, `max_attempts = 1`). A retry waits
    /// the policy's backoff on a timer of the client's executor, then re-signs and sends the
    /// same request again (the client keeps a copy: headers and owned body; a viewed body is
    /// not copied and must stay valid until the operation completes, as always). Operations
    /// that stream a response body to a caller's sink (GetObject) are never retried: the sink
    /// may already have seen part of the body. The composite algorithms (the uploader) take
    /// their own policy.
    retry_policy retry;
};

/// Per-endpoint client state: transport, endpoint, region, signer settings, credentials and the
/// clock offset. Operations (`ops/*.hpp`) take it by reference.
///
/// Thread safety: the options are immutable after construction; the clock offset is atomic and
/// the V4 signing-key cache is locked, so operations may run concurrently from several threads
/// if the transport and the credentials provider allow it.
/// Lifetime: the transport must outlive the client, and the client every operation started on
/// it. Not copyable or movable (operations refer to it).
template <class Transport, class CredentialsProvider = any_credentials_provider>
class basic_client {
    static_assert(check_transport<Transport>(),
                  "ossmp::basic_client: Transport does not model ossmp::transport");
    static_assert(credentials_provider<CredentialsProvider>,
                  "ossmp::basic_client: CredentialsProvider needs "
                  "`std::error_code get_credentials(credentials&) const`");

public:
    using transport_type = Transport;
    using credentials_provider_type = CredentialsProvider;
    using executor_type = typename Transport::executor_type;

    /// Parses `opt.endpoint`; an invalid one is reported by every operation as
    /// `errc::invalid_endpoint` (and by `init_error()` right away). Does no I/O.
    basic_client(Transport& t, client_options opt, CredentialsProvider creds)
        : transport_(t), options_(std::move(opt)), credentials_(std::move(creds)) {
        init_ec_ = parse_endpoint(options_.endpoint, endpoint_);
        endpoint_.style = options_.style;
        sign_.version = options_.signature;
        std::string region = options_.region;
        if (region.empty() && !init_ec_)
            region = region_from_endpoint_host(endpoint_.host);
        sign_.region = std::string(normalize_region(region));
    }
    basic_client(const basic_client&) = delete;
    basic_client& operator=(const basic_client&) = delete;

    /// The error found while parsing the options (invalid endpoint), or none.
    std::error_code init_error() const noexcept { return init_ec_; }
    /// The transport every operation uses.
    Transport& transport() noexcept { return transport_; }
    /// The transport's executor: default executor of operations that have no associated one.
    executor_type get_executor() const { return transport_.get_executor(); }
    /// The options the client was made with.
    const client_options& options() const noexcept { return options_; }
    /// The parsed endpoint (with the addressing style).
    const ossmp::endpoint& endpoint() const noexcept { return endpoint_; }
    /// Signature version, normalised region and product used to sign.
    const sign_options& signing() const noexcept { return sign_; }

    /// Server time minus local time, applied to every signature date. Corrected automatically
    /// from the `Date` header (or `ServerTime`) of a `RequestTimeTooSkewed` response.
    std::chrono::seconds clock_offset() const noexcept {
        return std::chrono::seconds(clock_offset_.load(std::memory_order_relaxed));
    }
    /// Sets the clock offset by hand (e.g. restored from an earlier run).
    void set_clock_offset(std::chrono::seconds s) noexcept {
        clock_offset_.store(s.count(), std::memory_order_relaxed);
    }
    /// The local clock (`client_options::clock`, else the system clock), uncorrected.
    std::chrono::system_clock::time_point local_now() const {
        return options_.clock ? options_.clock() : std::chrono::system_clock::now();
    }
    /// Local time corrected by the clock offset: the time requests are signed with.
    std::chrono::system_clock::time_point now() const { return local_now() + clock_offset(); }

    /// Addresses a built request (host, path), adds the User-Agent and default headers. No I/O.
    /// Errors: `errc::invalid_endpoint` when the endpoint did not parse.
    std::error_code address(http::request& req) const {
        if (init_ec_)
            return init_ec_;
        endpoint_.apply(req);
        if (!options_.user_agent.empty() && !req.headers.contains("User-Agent"))
            req.headers.add("User-Agent", options_.user_agent);
        for (const auto& f : options_.default_headers)
            if (!req.headers.contains(f.name))
                req.headers.add(f.name, f.value);
        return {};
    }

    /// Signs an addressed request in place at `now()` with fresh credentials from the provider
    /// (re-signing replaces the earlier date and signature headers). No I/O.
    /// Errors: those of the credentials provider (`errc::missing_credentials`) and of `sign`
    /// (`errc::missing_region` for V4 without a region).
    std::error_code sign_request(http::request& req) const {
        credentials creds;
        if (auto ec = credentials_.get_credentials(creds))
            return ec;
        return sign(req, creds, sign_, now(), key_cache_);
    }

    /// `address` then `sign_request`.
    std::error_code prepare(http::request& req) const {
        if (auto ec = address(req))
            return ec;
        return sign_request(req);
    }

    /// Learns the clock offset from a `RequestTimeTooSkewed` response (its `Date` header, else
    /// the `ServerTime` element of the error body). Returns true when the offset changed.
    bool learn_clock_offset(const http::response& res, const diagnostics& diag) {
        std::optional<std::chrono::system_clock::time_point> server;
        if (auto d = res.headers.find("Date"))
            server = parse_rfc1123(*d);
        if (!server) {
            auto st = diag.field("ServerTime");
            if (!st.empty())
                server = parse_iso8601_ms(st);
        }
        if (!server)
            return false;
        auto off = std::chrono::duration_cast<std::chrono::seconds>(*server - local_now());
        if (off == clock_offset())
            return false;
        set_clock_offset(off);
        return true;
    }

private:
    Transport& transport_;
    client_options options_;
    CredentialsProvider credentials_;
    ossmp::endpoint endpoint_;
    sign_options sign_;
    std::error_code init_ec_;
    std::atomic<long long> clock_offset_{0};
    mutable v4_key_cache key_cache_;
};

namespace detail {

template <class T>
struct is_basic_client : std::false_type {};
template <class T, class C>
struct is_basic_client<basic_client<T, C>> : std::true_type {};

/// The composed operation behind every API call. `Parse` is
/// `std::error_code(const http::response&, Result&, diagnostics&)`. Completes with
/// `void(std::error_code, Result)`; a failure before any I/O (validation, signing) completes
/// through a post to the handler's executor, never inline, and sends nothing.
///
/// Retries: once at once after a `RequestTimeTooSkewed` that taught the client a new clock
/// offset (`client_options::retry_on_clock_skew`), and as `client_options::retry` says for
/// retryable errors (after a backoff on a timer, which terminal cancellation also stops). Each
/// attempt sends a re-signed copy of the prepared request kept in `spare`.
template <class Client, class Result, class Parse>
struct call_op {
    using timer_type = asio::basic_waitable_timer<std::chrono::steady_clock,
                                                  asio::wait_traits<std::chrono::steady_clock>,
                                                  typename Client::executor_type>;

    Client& client;
    http::request req;
    round_trip_options opt;
    diagnostics* diag;                  // the caller's, or `owned`
    std::unique_ptr<diagnostics> owned; // stable address for the overloads without diagnostics&
    Parse parse;
    std::error_code early;
    std::optional<http::request> spare; // the prepared request, for another attempt
    std::unique_ptr<timer_type> timer;  // the backoff timer, made on the first retry
    unsigned attempt = 1;               // attempts counted by the retry policy
    bool skew_retried = false;
    std::chrono::steady_clock::time_point started;
    enum class state { starting, posted, waiting, backing_off } st = state::starting;

    call_op(Client& c, http::request r, round_trip_options o, diagnostics* d,
            std::unique_ptr<diagnostics> own, Parse p, std::error_code e)
        : client(c), req(std::move(r)), opt(std::move(o)), diag(d), owned(std::move(own)),
          parse(std::move(p)), early(e) {}

    const retry_policy& policy() const noexcept { return client.options().retry; }

    template <class Self>
    void operator()(Self& self) {
        if (st == state::starting) {
            if (!early)
                early = client.prepare(req);
            if (early) {
                // Same rule as every Asio initiating function: never complete inline.
                st = state::posted;
                asio::post(std::move(self));
                return;
            }
            st = state::waiting;
            started = std::chrono::steady_clock::now();
            const bool policy_retries = policy().max_attempts > 1 && !opt.body_sink;
            if (client.options().retry_on_clock_skew || policy_retries)
                spare = req;
            client.transport().async_round_trip(std::move(req), opt, std::move(self));
            return;
        }
        diag->clear();
        self.complete(early, Result{});
    }

    /// The backoff timer ended (or was cancelled by the caller's terminal cancellation).
    template <class Self>
    void operator()(Self& self, std::error_code ec) {
        if (!ec && self.get_cancellation_state().cancelled() != asio::cancellation_type::none)
            ec = asio::error::operation_aborted;
        if (!ec)
            ec = resend(self);
        if (ec) {
            spare.reset();
            self.complete(ec, Result{});
        }
    }

    template <class Self>
    void operator()(Self& self, std::error_code ec, http::response res) {
        diag->clear();
        Result result{};
        if (!ec)
            ec = parse(static_cast<const http::response&>(res), result, *diag);
        const bool cancelled =
            self.get_cancellation_state().cancelled() != asio::cancellation_type::none;
        // The clock offset is learnt from every skew error, retried or not.
        const bool learned =
            ec == service_errc::request_time_too_skewed && client.learn_clock_offset(res, *diag);
        if (ec && spare && !cancelled) {
            if (learned && !skew_retried && client.options().retry_on_clock_skew) {
                skew_retried = true;
                if (!resend(self))
                    return;
            } else if (!opt.body_sink) {
                const auto delay = policy().backoff(attempt, retry_random());
                const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started);
                if (policy().allows(attempt, ec, elapsed, delay)) {
                    ++attempt;
                    st = state::backing_off;
                    if (!timer)
                        timer = std::make_unique<timer_type>(client.get_executor());
                    timer->expires_after(delay);
                    timer->async_wait(std::move(self));
                    return;
                }
            }
        }
        spare.reset();
        self.complete(ec, std::move(result));
    }

private:
    /// Sends a re-signed copy of `spare`; returns the signing error (then nothing was sent).
    template <class Self>
    std::error_code resend(Self& self) {
        if (auto sec = client.sign_request(*spare))
            return sec;
        st = state::waiting;
        http::request again = *spare;
        client.transport().async_round_trip(std::move(again), opt, std::move(self));
        return {};
    }
};

/// Starts `call_op`: `req` is the built (unaddressed, unsigned) request, `early` a validation
/// error from building it (then nothing is sent). `diag` (when not null) must outlive the
/// operation; when null the operation keeps its own.
template <class Result, class Client, class Parse, class Token>
auto async_call(Client& client, http::request req, std::error_code early, round_trip_options opt,
                diagnostics* diag, Parse parse, Token&& token) {
    std::unique_ptr<diagnostics> owned;
    if (!diag) {
        owned = std::make_unique<diagnostics>();
        diag = owned.get();
    }
    return asio::async_compose<Token, void(std::error_code, Result)>(
        call_op<Client, Result, Parse>(client, std::move(req), std::move(opt), diag,
                                       std::move(owned), std::move(parse), early),
        token, client.get_executor());
}

} // namespace detail

} // namespace ossmp
