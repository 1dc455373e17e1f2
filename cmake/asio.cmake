# Debian's libasio-dev ships headers only (no CMake or pkg-config file): make asio::asio here.
if(NOT TARGET asio::asio)
    find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
    find_package(Threads REQUIRED)
    add_library(asio::asio INTERFACE IMPORTED)
    set_target_properties(asio::asio PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${ASIO_INCLUDE_DIR}")
    target_compile_definitions(asio::asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
    target_link_libraries(asio::asio INTERFACE Threads::Threads)
    # clang 14 does not announce coroutine support to Asio 1.22 by itself.
    target_compile_definitions(asio::asio INTERFACE
        $<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_CO_AWAIT=1>
        $<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_STD_COROUTINE=1>)
endif()
