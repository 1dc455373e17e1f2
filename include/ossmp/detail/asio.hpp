// ossmp/detail/asio.hpp: the one place that includes Asio, in an order that compiles.
//
// Asio 1.22 trap (design.md): asio/experimental/coro.hpp before asio/experimental/channel.hpp
// fails to compile, so channel comes first. Every ossmp header that needs Asio includes this.
#pragma once

// The order below matters (channel before coro): keep clang-format from sorting it.
// clang-format off
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/channel.hpp>
#include <asio/experimental/coro.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/experimental/parallel_group.hpp>
#include <asio/experimental/promise.hpp>
#include <asio/ssl.hpp>
// clang-format on
