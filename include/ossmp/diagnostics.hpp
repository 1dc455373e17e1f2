// ossmp/diagnostics.hpp: what a server said about a failed (or any) request.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ossmp {

/// Details of the last response an operation saw. Filled for every response that reached the
/// client (2xx too: status and request id); the Error fields only for non-2xx. Never contains
/// credentials: the request side is not recorded here.
struct diagnostics {
    unsigned http_status = 0; ///< HTTP status code, 0 if no response was received
    std::string code;         ///< OSS `Code` (raw string, also for codes ossmp does not know)
    std::string message;      ///< OSS `Message`
    std::string request_id;   ///< `RequestId` element, else the `x-oss-request-id` header
    std::string host_id;      ///< `HostId`
    std::string ec;           ///< `EC` element, else the `x-oss-ec` header
    /// `Location` header of a 3xx (redirect) response: where the server sends the client.
    /// ossmp never follows redirects (a signed request is bound to its host); callers report it.
    std::string location;
    /// Every other child of <Error> in document order (ArgumentName, UploadId, StringToSign...).
    std::vector<std::pair<std::string, std::string>> extra;

    /// The value of an extra field, or "" when absent.
    std::string_view field(std::string_view name) const noexcept {
        for (const auto& [n, v] : extra)
            if (n == name)
                return v;
        return {};
    }

    void clear() { *this = diagnostics{}; }

    /// One line for logs and exception messages: "Code (HTTP 404): Message [RequestId=...,
    /// EC=...]".
    std::string to_string() const {
        std::string s = code.empty() ? std::string("HTTP") : code;
        s += " (HTTP " + std::to_string(http_status) + ")";
        if (!message.empty())
            s += ": " + message;
        if (!request_id.empty() || !ec.empty()) {
            s += " [";
            if (!request_id.empty())
                s += "RequestId=" + request_id;
            if (!ec.empty())
                s += std::string(request_id.empty() ? "" : ", ") + "EC=" + ec;
            s += "]";
        }
        return s;
    }
};

} // namespace ossmp
