// tools/cli/errors.hpp: how a command fails, and the exit codes.
#pragma once

#include "ossmp/diagnostics.hpp"

#include <string>
#include <system_error>

namespace ossmp_cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;       // service, network or local I/O error
inline constexpr int exit_usage = 2;         // bad command line, configuration or input file
inline constexpr int exit_integrity = 3;     // CRC-64 / MD5 / size mismatch
inline constexpr int exit_interrupted = 130; // SIGINT or SIGTERM: cancelled, cleaned up

/// A bad command line or input (exit 2). Thrown before any byte is sent.
struct usage_error {
    std::string message;
};

/// A local failure that is not the user's fault (exit 1): a read error, a changed file.
struct cli_error {
    std::string message;
};

/// An integrity failure found by the CLI itself (exit 3), e.g. a completed object whose size
/// is not the sum of its parts.
struct integrity_error {
    std::string what; // the step, e.g. "CompleteMultipartUpload"
    std::string message;
};

/// A failed library operation, carried up to `main` with what the server said.
struct op_failure {
    std::string what; // the command step, e.g. "UploadPart"
    std::error_code ec;
    ossmp::diagnostics diag;
};

} // namespace ossmp_cli
