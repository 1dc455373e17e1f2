// ossmp/retry.hpp: `retry_policy`, when and how long to wait before repeating a request.
//
// One value type serves every retrying caller: the client (`client_options::retry`, for single
// operations) and the composite algorithms. It is sans-io: it says whether an error is worth
// another attempt and how long to wait first; the caller owns the timer.
#pragma once

#include "ossmp/error.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <system_error>

namespace ossmp {

/// Retries with full-jitter exponential backoff (the delay before retry n is uniform in
/// [0, min(max_delay, base_delay * 2^(n-1))]), up to `max_attempts` attempts in all and, when
/// `deadline` is set, only while the next attempt would start within that long from the first.
///
/// Which errors: those `is_retryable` accepts (5xx, 408/429, RequestTimeout, SlowDown,
/// connection resets, timeouts, `errc::crc_mismatch`: a body corrupted in flight is fixed by
/// sending the same bytes again, ...). Never a cancellation or a validation error.
/// Plain value type; copy it freely.
struct retry_policy {
    /// Attempts in all, the first one included; 1 (or 0) means "never retry".
    unsigned max_attempts = 1;
    /// The cap of the first retry's delay; doubled for each further retry.
    std::chrono::milliseconds base_delay{200};
    /// The cap of any single delay.
    std::chrono::milliseconds max_delay{20000};
    /// No retry starts later than this after the first attempt started; 0 means no limit.
    std::chrono::milliseconds deadline{0};

    /// The policy the uploader uses by default: 4 attempts, 200 ms .. 20 s.
    static retry_policy standard() noexcept {
        retry_policy p;
        p.max_attempts = 4;
        return p;
    }

    /// True when `ec` is worth another attempt (ignoring the attempt count and deadline).
    bool retryable(const std::error_code& ec) const noexcept { return is_retryable(ec); }

    /// True when attempt `attempt` (1-based: the one that just failed with `ec`) may be
    /// followed by another, `elapsed` after the first attempt started, waiting `delay` first.
    bool allows(unsigned attempt, const std::error_code& ec, std::chrono::milliseconds elapsed,
                std::chrono::milliseconds delay) const noexcept {
        if (!retryable(ec) || attempt >= max_attempts)
            return false;
        return deadline.count() <= 0 || elapsed + delay <= deadline;
    }

    /// The delay before retry `retry` (1 for the first retry), for a uniform `random` in
    /// [0, 2^64): about `random / 2^64 * min(max_delay, base_delay * 2^(retry-1))`, rounded
    /// down to milliseconds (always below the ceiling, 0 for random = 0).
    std::chrono::milliseconds backoff(unsigned retry, std::uint64_t random) const noexcept {
        const auto base = static_cast<std::uint64_t>(std::max<std::int64_t>(base_delay.count(), 0));
        const auto cap = static_cast<std::uint64_t>(std::max<std::int64_t>(max_delay.count(), 0));
        std::uint64_t ceiling = base;
        for (unsigned i = 1; i < retry && ceiling < cap; ++i)
            ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
        ceiling = std::min(ceiling, cap);
        // The top 53 bits of `random` as a fraction in [0, 1): exact in a double.
        const double fraction = static_cast<double>(random >> 11) / 9007199254740992.0;
        return std::chrono::milliseconds(
            static_cast<std::int64_t>(fraction * static_cast<double>(ceiling)));
    }
};

namespace detail {

/// Random bits for the jitter: one engine per thread, seeded from std::random_device.
inline std::uint64_t retry_random() {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return engine();
}

} // namespace detail

} // namespace ossmp
