// Tests of credentials.hpp: redaction, providers, the environment.
#include "ossmp/credentials.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>

namespace {

// No stream operator: printing credentials must not compile.
template <class T>
concept streamable = requires(std::ostream& os, const T& v) {
    os << v;
};
static_assert(!streamable<ossmp::credentials>);

// Sets or unsets the three variables for one scope and restores the previous values after.
class scoped_env {
public:
    scoped_env(const char* id, const char* secret, const char* token) {
        for (int i = 0; i < 3; ++i) {
            const char* old = std::getenv(names_[i]);
            saved_[i] = old ? std::optional<std::string>(old) : std::nullopt;
        }
        set(names_[0], id);
        set(names_[1], secret);
        set(names_[2], token);
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;
    ~scoped_env() {
        for (int i = 0; i < 3; ++i)
            set(names_[i], saved_[i] ? saved_[i]->c_str() : nullptr);
    }

private:
    static void set(const char* name, const char* value) {
        if (value)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    const char* names_[3] = {"OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "OSS_SESSION_TOKEN"};
    std::optional<std::string> saved_[3];
};

} // namespace

TEST_CASE("redacted() shows the AccessKey id and nothing secret", "[credentials]") {
    const ossmp::credentials c{"LTAI5tExampleId", "s3cr3tSecretValue", "CAISsecurityTOKEN"};
    const std::string s = c.redacted();
    CHECK(s == "credentials{access_key_id=\"LTAI5tExampleId\", access_key_secret=<redacted>, "
               "security_token=<redacted>}");
    CHECK(s.find("s3cr3t") == std::string::npos);
    CHECK(s.find("SecretValue") == std::string::npos);
    CHECK(s.find("CAIS") == std::string::npos);
    CHECK(s.find("TOKEN") == std::string::npos);

    const ossmp::credentials plain{"id", "", ""};
    CHECK(plain.redacted() ==
          "credentials{access_key_id=\"id\", access_key_secret=<empty>, security_token=<none>}");
    CHECK_FALSE(plain.has_keys());
    CHECK(c.has_keys());
}

TEST_CASE("static_credentials_provider", "[credentials]") {
    ossmp::credentials out;
    const ossmp::static_credentials_provider p("ak", "sk", "tok");
    REQUIRE_FALSE(p.get_credentials(out));
    CHECK(out.access_key_id == "ak");
    CHECK(out.access_key_secret == "sk");
    CHECK(out.security_token == "tok");

    const ossmp::static_credentials_provider empty;
    CHECK(empty.get_credentials(out) == ossmp::errc::missing_credentials);
    const ossmp::static_credentials_provider no_secret(ossmp::credentials{"ak", "", ""});
    CHECK(no_secret.get_credentials(out) == ossmp::errc::missing_credentials);
}

TEST_CASE("environment_credentials_provider", "[credentials]") {
    const ossmp::environment_credentials_provider p;
    ossmp::credentials out{"old", "old", "old-token"};
    {
        const scoped_env env("AKID", "SECRET", nullptr);
        REQUIRE_FALSE(p.get_credentials(out));
        CHECK(out.access_key_id == "AKID");
        CHECK(out.access_key_secret == "SECRET");
        CHECK(out.security_token.empty()); // a stale token is cleared
    }
    {
        const scoped_env env("STS.ID", "STSSECRET", "TOKEN");
        REQUIRE_FALSE(p.get_credentials(out));
        CHECK(out.access_key_id == "STS.ID");
        CHECK(out.access_key_secret == "STSSECRET");
        CHECK(out.security_token == "TOKEN");
    }
    {
        const scoped_env env(nullptr, "SECRET", "TOKEN");
        CHECK(p.get_credentials(out) == ossmp::errc::missing_credentials);
    }
    {
        const scoped_env env("AKID", nullptr, nullptr);
        CHECK(p.get_credentials(out) == ossmp::errc::missing_credentials);
    }
    {
        const scoped_env env("", "SECRET", nullptr);
        CHECK(p.get_credentials(out) == ossmp::errc::missing_credentials);
    }
    {
        const scoped_env env("AKID", "", nullptr);
        CHECK(p.get_credentials(out) == ossmp::errc::missing_credentials);
    }
    {
        const scoped_env env(nullptr, nullptr, nullptr);
        const std::error_code ec = p.get_credentials(out);
        CHECK(ec == ossmp::errc::missing_credentials);
        CHECK(ec.message() == "no credentials");
    }
}

TEST_CASE("any_credentials_provider wraps any provider", "[credentials]") {
    static_assert(ossmp::credentials_provider<ossmp::any_credentials_provider>);
    ossmp::credentials out;
    const ossmp::any_credentials_provider none;
    CHECK(none.get_credentials(out) == ossmp::errc::missing_credentials);

    const ossmp::any_credentials_provider wrapped = ossmp::static_credentials_provider("a", "b");
    REQUIRE_FALSE(wrapped.get_credentials(out));
    CHECK(out.access_key_id == "a");
    CHECK(out.access_key_secret == "b");

    const ossmp::any_credentials_provider copy = wrapped; // copyable
    out = {};
    REQUIRE_FALSE(copy.get_credentials(out));
    CHECK(out.access_key_id == "a");

    const scoped_env env("ENVID", "ENVSECRET", nullptr);
    const ossmp::any_credentials_provider from_env = ossmp::environment_credentials_provider{};
    REQUIRE_FALSE(from_env.get_credentials(out));
    CHECK(out.access_key_id == "ENVID");
}
