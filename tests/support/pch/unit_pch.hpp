// Precompiled header for meson's test builds (CMake lists the same headers itself).
#include <catch2/catch.hpp>
#include <ossmp/ossmp.hpp>
