// Precompiled header for meson's unit test build (CMake lists the same headers itself).
#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>
