// ossmp/credentials.hpp: access keys, STS tokens and where they come from (oss-reference §9).
//
// `credentials` is a plain value. Its secret and token are never printed by ossmp: the type
// has no stream or format operator, and `redacted()` shows only the AccessKey id.
//
// A credentials provider is any type with
//     std::error_code get_credentials(credentials& out) const;
// It is called once per signed request (so a provider may rotate keys), must be cheap and
// must not block; it is called from whatever thread runs the operation, so a provider used by
// several threads must be safe to call concurrently (the shipped ones are).
#pragma once

#include "ossmp/error.hpp"

#include <concepts>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace ossmp {

/// An AccessKey pair and an optional STS security token.
///
/// Lifetimes: a value type; copies share nothing. Never stream it: there is deliberately no
/// `operator<<`; log `redacted()` instead.
struct credentials {
    std::string access_key_id;     ///< AccessKey id (public: appears in every Authorization)
    std::string access_key_secret; ///< AccessKey secret: signs requests, never sent, never shown
    std::string security_token;    ///< STS token, sent as `x-oss-security-token`; empty if none

    /// True when both the id and the secret are non-empty (what signing needs).
    bool has_keys() const noexcept { return !access_key_id.empty() && !access_key_secret.empty(); }

    /// A printable description that shows the AccessKey id only, e.g.
    /// `credentials{access_key_id="LTAI5t", access_key_secret=<redacted>, security_token=<none>}`.
    /// The secret and the token never appear, not even their lengths; an empty secret shows as
    /// `<empty>` so that "no secret configured" is still diagnosable.
    std::string redacted() const {
        std::string out = "credentials{access_key_id=\"";
        out += access_key_id;
        out += "\", access_key_secret=";
        out += access_key_secret.empty() ? "<empty>" : "<redacted>";
        out += ", security_token=";
        out += security_token.empty() ? "<none>" : "<redacted>";
        out += '}';
        return out;
    }
};

/// A source of credentials: `p.get_credentials(out)` fills `out` and returns an empty error
/// code, or leaves `out` unspecified and returns an error (`errc::missing_credentials` when
/// nothing is configured). Must not throw for missing or bad configuration.
template <class Provider>
concept credentials_provider = requires(const Provider& p, credentials& out) {
    { p.get_credentials(out) } -> std::same_as<std::error_code>;
};

/// Always returns the credentials it was constructed with.
///
/// `get_credentials` fails with `errc::missing_credentials` when the id or the secret is empty.
/// Immutable after construction, so it is safe to call from any number of threads.
class static_credentials_provider {
public:
    /// An empty provider: `get_credentials` fails with `errc::missing_credentials`.
    static_credentials_provider() = default;
    /// Serves `creds`.
    explicit static_credentials_provider(credentials creds) : creds_(std::move(creds)) {}
    /// Serves the given AccessKey pair and optional STS token.
    static_credentials_provider(std::string access_key_id, std::string access_key_secret,
                                std::string security_token = {})
        : creds_{std::move(access_key_id), std::move(access_key_secret),
                 std::move(security_token)} {}

    /// Copies the stored credentials into `out`.
    std::error_code get_credentials(credentials& out) const {
        if (!creds_.has_keys())
            return errc::missing_credentials;
        out = creds_;
        return {};
    }

private:
    credentials creds_;
};

/// Reads `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET` and the optional `OSS_SESSION_TOKEN` from
/// the process environment on every call (the names GO2, PY2, OSS2 and the C++ SDK use).
///
/// Fails with `errc::missing_credentials` when the id or the secret is unset or empty. Reading
/// the environment is thread-safe as long as nothing modifies it concurrently (`setenv`,
/// `putenv`): the usual POSIX rule.
class environment_credentials_provider {
public:
    static constexpr const char* access_key_id_variable = "OSS_ACCESS_KEY_ID"; // oss-reference §9
    static constexpr const char* access_key_secret_variable = "OSS_ACCESS_KEY_SECRET";
    static constexpr const char* session_token_variable = "OSS_SESSION_TOKEN";

    /// Fills `out` from the environment.
    std::error_code get_credentials(credentials& out) const {
        const char* id = std::getenv(access_key_id_variable);
        const char* secret = std::getenv(access_key_secret_variable);
        if (id == nullptr || *id == '\0' || secret == nullptr || *secret == '\0')
            return errc::missing_credentials;
        const char* token = std::getenv(session_token_variable);
        out.access_key_id.assign(id);
        out.access_key_secret.assign(secret);
        if (token != nullptr)
            out.security_token.assign(token);
        else
            out.security_token.clear();
        return {};
    }
};

namespace detail {
// A provider other than `Self` (keeps the converting constructor below from hijacking copies).
template <class Provider, class Self>
concept other_credentials_provider =
    !std::same_as<std::remove_cvref_t<Provider>, Self> && credentials_provider<Provider>;
} // namespace detail

/// A type-erased credentials provider (it models `credentials_provider` itself), for code that
/// must pick a provider at run time, such as the CLI. Holds a copy of the wrapped provider;
/// copies of an `any_credentials_provider` share nothing mutable beyond what the wrapped
/// provider shares. A default-constructed one fails with `errc::missing_credentials`.
class any_credentials_provider {
public:
    /// An empty provider: `get_credentials` fails with `errc::missing_credentials`.
    any_credentials_provider() = default;

    /// Wraps a copy of `p` (any `credentials_provider`).
    template <detail::other_credentials_provider<any_credentials_provider> Provider>
    any_credentials_provider(Provider p) // NOLINT: implicit by design, like std::function
        : fn_([p = std::move(p)](credentials& out) { return p.get_credentials(out); }) {}

    /// Forwards to the wrapped provider.
    std::error_code get_credentials(credentials& out) const {
        if (!fn_)
            return errc::missing_credentials;
        return fn_(out);
    }

private:
    std::function<std::error_code(credentials&)> fn_;
};

static_assert(credentials_provider<static_credentials_provider>);
static_assert(credentials_provider<environment_credentials_provider>);
static_assert(credentials_provider<any_credentials_provider>);

} // namespace ossmp
