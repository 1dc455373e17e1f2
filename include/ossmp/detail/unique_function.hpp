// ossmp/detail/unique_function.hpp: a move-only `std::function` (C++23's move_only_function is
// not in g++ 12's C++20 mode). Type-erased completion handlers are move-only (Asio's composed
// operations are), so a copyable std::function cannot hold them.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace ossmp::detail {

template <class Signature>
class unique_function;

/// A move-only callable wrapper. Calling an empty one is undefined (check `operator bool`).
template <class R, class... Args>
class unique_function<R(Args...)> {
public:
    unique_function() noexcept = default;
    template <class F>
    requires(!std::is_same_v<std::decay_t<F>, unique_function> &&
             std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
        unique_function(F&& f) // NOLINT(google-explicit-constructor): a callable converts
        : impl_(std::make_unique<model<std::decay_t<F>>>(std::forward<F>(f))) {}
    unique_function(unique_function&&) noexcept = default;
    unique_function& operator=(unique_function&&) noexcept = default;

    explicit operator bool() const noexcept { return impl_ != nullptr; }
    R operator()(Args... args) { return impl_->call(std::forward<Args>(args)...); }

private:
    struct concept_base {
        virtual ~concept_base() = default;
        virtual R call(Args... args) = 0;
    };
    template <class F>
    struct model final : concept_base {
        explicit model(F&& f) : fn(std::move(f)) {}
        explicit model(const F& f) : fn(f) {}
        R call(Args... args) override { return fn(std::forward<Args>(args)...); }
        F fn;
    };
    std::unique_ptr<concept_base> impl_;
};

} // namespace ossmp::detail
