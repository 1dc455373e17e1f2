// custom_transport: a transport of your own. Anything that models `ossmp::transport`
// (transport.hpp: `executor_type`, `get_executor()`, and a token-generic
// `async_round_trip(http::request, const round_trip_options&, Token)` completing with
// `void(std::error_code, http::response)`) can carry a client's requests. This one wraps
// `ossmp::asio_transport` and logs each request line and the status that came back.
#include "example_support.hpp"

#include "ossmp/http/message.hpp"
#include "ossmp/ops/complete.hpp"
#include "ossmp/ops/initiate.hpp"
#include "ossmp/ops/upload_part.hpp"
#include "ossmp/transport.hpp"
#include "ossmp/transport/asio_transport.hpp"
#include "ossmp/uri.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace {

/// Logs "> METHOD PATH?QUERY" before and "< STATUS REASON" (or the error) after each round trip
/// of `Inner`, then completes as `Inner` did. Cancellation and the handler's executor pass
/// through: `async_compose` hands the inner transport a handler associated with the caller's
/// executor and cancellation slot. `Inner` must outlive the logging transport.
template <ossmp::transport Inner>
class logging_transport {
public:
    using executor_type = typename Inner::executor_type;

    explicit logging_transport(Inner& inner) : inner_(inner) {}
    executor_type get_executor() const { return inner_.get_executor(); }

    template <asio::completion_token_for<void(std::error_code, ossmp::http::response)> Token>
    auto async_round_trip(ossmp::http::request req, const ossmp::round_trip_options& opt,
                          Token&& token) {
        std::string line(ossmp::http::to_string(req.method));
        line += ' ';
        line += req.path;
        if (!req.query.empty())
            line += '?' + ossmp::uri::encode_query(req.query);
        std::printf("> %s\n", line.c_str());
        return asio::async_compose<Token, void(std::error_code, ossmp::http::response)>(
            op{inner_, std::move(req), opt}, token, inner_.get_executor());
    }

private:
    struct op {
        Inner& inner;
        ossmp::http::request req;
        ossmp::round_trip_options opt;

        template <class Self>
        void operator()(Self& self) { // start: the inner round trip completes into `self`
            ossmp::http::request r = std::move(req); // out of `self` before it is moved
            const ossmp::round_trip_options o = opt;
            inner.async_round_trip(std::move(r), o, std::move(self));
        }
        template <class Self>
        void operator()(Self& self, std::error_code ec, ossmp::http::response res) {
            if (ec)
                std::printf("< error: %s\n", ec.message().c_str());
            else
                std::printf("< %u %s\n", res.status, res.reason.c_str());
            self.complete(ec, std::move(res));
        }
    };

    Inner& inner_;
};

static_assert(ossmp::check_transport<logging_transport<ossmp::asio_transport>>());

using client_t = ossmp::basic_client<logging_transport<ossmp::asio_transport>,
                                     ossmp::environment_credentials_provider>;

asio::awaitable<int> upload(client_t& client, std::string bucket, std::string key) {
    ossmp::initiate_params ip;
    ip.bucket = bucket;
    ip.key = key;
    ossmp::diagnostics diag;
    auto [iec, init] =
        co_await ossmp::async_initiate_upload(client, ip, diag, example::tuple_awaitable);
    if (iec)
        co_return example::fail("InitiateMultipartUpload", iec, &diag);

    const auto data = example::sample_bytes(1000);
    ossmp::upload_part_params pp;
    pp.bucket = bucket;
    pp.key = key;
    pp.upload_id = init.upload_id;
    pp.part_number = 1;
    pp.data = data;
    auto [pec, part] =
        co_await ossmp::async_upload_part(client, pp, diag, example::tuple_awaitable);
    if (pec)
        co_return example::fail("UploadPart", pec, &diag);

    ossmp::complete_params cp;
    cp.bucket = bucket;
    cp.key = key;
    cp.upload_id = init.upload_id;
    cp.parts.push_back(ossmp::completed_part{1, part.etag});
    auto [cec, done] =
        co_await ossmp::async_complete_upload(client, cp, diag, example::tuple_awaitable);
    if (cec)
        co_return example::fail("CompleteMultipartUpload", cec, &diag);
    std::printf("completed through the logging transport: %s, ETag %s\n", done.key.c_str(),
                done.etag.c_str());
    co_return 0;
}

} // namespace

int main() {
    const example::settings config;
    asio::io_context ctx;
    ossmp::asio_transport inner(ctx, example::transport_options(config));
    logging_transport<ossmp::asio_transport> logging(inner);
    client_t client(logging, example::client_options(config), {});

    return example::run(ctx, upload(client, config.bucket, config.key("custom_transport.bin")));
}
