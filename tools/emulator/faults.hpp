// tools/emulator/faults.hpp: fault injection for reliability tests (`--faults SPEC`).
//
// SPEC is a comma-separated list of rules `OP[@N|%P]=ACTION`:
//   OP      Initiate, UploadPart, Complete, Abort, ListParts, ListUploads, Put, Get, Head,
//           Delete, or `*` (any operation)
//   @N      only the N-th request of that OP (1-based, counted per rule)
//   %P      each such request with probability P percent (0..100, decimals allowed), drawn from
//           a generator seeded by --faults-seed
//   (none)  every such request
//   ACTION  reset | reset-mid | 500 | 503 | slowdown | stall=SECONDS | bad-crc | truncate | skew
//           | throw
// The first rule that fires for a request wins; every rule whose OP matches counts the request.
#pragma once

#include "config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ossmp::emulator {

/// The operations the emulator routes to. `none` is a request that routes to no operation.
enum class operation {
    none,
    initiate,
    upload_part,
    complete,
    abort,
    list_parts,
    list_uploads,
    put,
    get,
    head,
    delete_,
};

/// The operation's name as used in fault specs and logs ("Initiate", "UploadPart", ...).
inline constexpr std::string_view operation_name(operation op) noexcept {
    switch (op) {
    case operation::none:
        return "none";
    case operation::initiate:
        return "Initiate";
    case operation::upload_part:
        return "UploadPart";
    case operation::complete:
        return "Complete";
    case operation::abort:
        return "Abort";
    case operation::list_parts:
        return "ListParts";
    case operation::list_uploads:
        return "ListUploads";
    case operation::put:
        return "Put";
    case operation::get:
        return "Get";
    case operation::head:
        return "Head";
    case operation::delete_:
        return "Delete";
    }
    return "none";
}

/// What an injected fault does.
enum class fault_action {
    none,
    reset,     ///< read the request, close the connection without replying
    reset_mid, ///< close halfway through reading the request body
    http_500,  ///< 500 InternalError
    http_503,  ///< 503 ServiceUnavailable
    slowdown,  ///< 503 SlowDown
    stall,     ///< read the request, answer nothing for `stall_seconds`, then close
    bad_crc,   ///< process normally but answer with a wrong x-oss-hash-crc64ecma
    truncate,  ///< answer with a response cut halfway, then close (state unchanged)
    skew,      ///< 403 RequestTimeTooSkewed
    throw_,    ///< throw an exception in the connection's coroutine (the server's own recovery)
};

/// The fault chosen for one request.
struct fault_decision {
    fault_action action = fault_action::none;
    unsigned stall_seconds = 0;
    explicit operator bool() const noexcept { return action != fault_action::none; }
};

/// One parsed rule.
struct fault_rule {
    std::optional<operation> op; ///< nullopt = `*`
    std::uint64_t nth = 0;       ///< @N (0 = not set)
    double percent = -1;         ///< %P (< 0 = not set)
    fault_decision decision;
    std::uint64_t seen = 0; ///< requests of this OP so far
};

/// The set of rules and the state they need (counters, the seeded generator). Not thread-safe:
/// the emulator's single-threaded io_context is the only caller.
class fault_injector {
public:
    fault_injector() = default;

    /// Parses SPEC; returns "" on success, else an error message naming the bad rule.
    std::string parse(std::string_view spec, std::uint64_t seed) {
        rules_.clear();
        rng_ = seed ? seed : 0x9E3779B97F4A7C15ull;
        while (!spec.empty()) {
            auto comma = spec.find(',');
            auto item = trim(spec.substr(0, comma));
            spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
            if (item.empty())
                continue;
            fault_rule rule;
            if (!parse_rule(item, rule))
                return "bad fault rule: " + std::string(item);
            rules_.push_back(rule);
        }
        return {};
    }

    bool empty() const noexcept { return rules_.empty(); }
    const std::vector<fault_rule>& rules() const noexcept { return rules_; }

    /// Counts a request of `op` against every matching rule and returns the fault to inject.
    fault_decision decide(operation op) {
        fault_decision chosen;
        for (auto& r : rules_) {
            if (r.op && *r.op != op)
                continue;
            ++r.seen;
            bool fire = true;
            if (r.nth)
                fire = r.seen == r.nth;
            else if (r.percent >= 0)
                fire = draw_percent() < r.percent;
            if (fire && !chosen)
                chosen = r.decision;
        }
        return chosen;
    }

private:
    static std::string_view trim(std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
            s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
            s.remove_suffix(1);
        return s;
    }

    static std::optional<operation> op_from(std::string_view s, bool& ok) {
        ok = true;
        if (s == "*")
            return std::nullopt;
        for (int i = 1; i <= static_cast<int>(operation::delete_); ++i) {
            auto op = static_cast<operation>(i);
            if (operation_name(op) == s)
                return op;
        }
        ok = false;
        return std::nullopt;
    }

    static bool parse_rule(std::string_view item, fault_rule& rule) {
        auto eq = item.find('=');
        if (eq == std::string_view::npos)
            return false;
        auto lhs = item.substr(0, eq);
        auto action = item.substr(eq + 1);
        auto sel = lhs.find_first_of("@%");
        bool ok = false;
        rule.op = op_from(lhs.substr(0, sel), ok);
        if (!ok)
            return false;
        if (sel != std::string_view::npos) {
            auto num = lhs.substr(sel + 1);
            if (lhs[sel] == '@') {
                std::uint64_t n = 0;
                if (!detail::parse_u64(num, n) || n == 0)
                    return false;
                rule.nth = n;
            } else {
                double p = 0;
                if (!parse_percent(num, p))
                    return false;
                rule.percent = p;
            }
        }
        auto& d = rule.decision;
        if (action == "reset")
            d.action = fault_action::reset;
        else if (action == "reset-mid")
            d.action = fault_action::reset_mid;
        else if (action == "500")
            d.action = fault_action::http_500;
        else if (action == "503")
            d.action = fault_action::http_503;
        else if (action == "slowdown")
            d.action = fault_action::slowdown;
        else if (action == "bad-crc")
            d.action = fault_action::bad_crc;
        else if (action == "truncate")
            d.action = fault_action::truncate;
        else if (action == "skew")
            d.action = fault_action::skew;
        else if (action == "throw")
            d.action = fault_action::throw_;
        else if (action.starts_with("stall=")) {
            std::uint64_t s = 0;
            if (!detail::parse_u64(action.substr(6), s) || s > 3600)
                return false;
            d.action = fault_action::stall;
            d.stall_seconds = static_cast<unsigned>(s);
        } else
            return false;
        return true;
    }

    // "P" or "P.D..." with 0 <= P <= 100.
    static bool parse_percent(std::string_view s, double& out) {
        if (s.empty())
            return false;
        double v = 0;
        double scale = 0;
        bool digits = false;
        for (char c : s) {
            if (c == '.') {
                if (scale != 0)
                    return false;
                scale = 1;
                continue;
            }
            if (c < '0' || c > '9')
                return false;
            digits = true;
            if (scale == 0) {
                v = v * 10 + (c - '0');
                if (v > 100)
                    return false;
            } else {
                scale /= 10;
                v += (c - '0') * scale;
            }
        }
        if (!digits || v > 100)
            return false;
        out = v;
        return true;
    }

    // splitmix64: small, seeded, reproducible across platforms.
    double draw_percent() {
        std::uint64_t z = (rng_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        return static_cast<double>(z >> 11) * (100.0 / 9007199254740992.0);
    }

    std::vector<fault_rule> rules_;
    std::uint64_t rng_ = 1;
};

} // namespace ossmp::emulator
