// tests/support/test_bytes.hpp: reproducible test data shared by the unit and integration tests.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ossmp::test {

/// `n` pseudo-random bytes from `seed`.
inline std::string pattern(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed;
    for (auto& c : s) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    return s;
}

/// The bytes of `s` as a span of std::byte (what the library's body views take).
inline std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

/// `size` bytes from a 64-bit Mersenne Twister seeded with `seed`: incompressible, and unlike
/// any other seed's (a wrong part or offset shows).
inline std::string random_bytes(std::size_t size, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string out(size, '\0');
    for (std::size_t i = 0; i < size; i += 8) {
        const std::uint64_t v = rng();
        std::memcpy(out.data() + i, &v, std::min<std::size_t>(8, size - i));
    }
    return out;
}

/// A temporary file holding `data` (created with mkstemp; `fd` open for reading and writing),
/// removed at the end.
struct temp_file {
    std::string path;
    int fd = -1;
    explicit temp_file(std::string_view data) {
        char name[] = "/tmp/ossmp-test-file-XXXXXX";
        fd = ::mkstemp(name);
        if (fd < 0)
            throw std::runtime_error("mkstemp failed");
        path = name;
        if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size()))
            throw std::runtime_error("writing " + path + " failed");
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    ~temp_file() {
        ::close(fd);
        ::unlink(path.c_str());
    }
};

} // namespace ossmp::test
