// ossmp/version.hpp: the library's version (semantic versioning), as macros for the
// preprocessor and as a string. The build files (CMake's project(), meson's project()) carry
// the same number and refuse to configure when they disagree with this header.
#pragma once

#include <string_view>

#define OSSMP_VERSION_MAJOR 0
#define OSSMP_VERSION_MINOR 1
#define OSSMP_VERSION_PATCH 0

namespace ossmp {

/// "MAJOR.MINOR.PATCH", also sent in the default User-Agent (`ossmp/0.1.0`).
inline constexpr std::string_view version_string = "0.1.0";

} // namespace ossmp
