#pragma once

#include "autograd/errors.hpp"
#include "autograd/tensor.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace xgrad::optim {

// Note [optimizer updates]
// Every optimizer reads each parameter's .grad() and rewrites its value in place through
// mutable_value(), under NoGradGuard: no graph is recorded and no array is reallocated on the hot
// path. A parameter whose grad is undefined (never reached by backward, or dropped by
// zero_grad) is skipped, as PyTorch does, and its per-parameter state (momentum buffer, moments,
// step count) is left untouched. That state is allocated lazily, on a parameter's first update.
// Hyperparameters are doubles; the element loops run in T.

/// Base of every optimizer: the parameter list (each a leaf of any shape) and the learning rate.
/// `step()` updates every parameter that has a gradient; `zero_grad()` drops every gradient.
template <class T = float>
class Optimizer {
public:
    using value_type = T;
    using Closure = std::function<Tensor<T>()>;

    virtual ~Optimizer() = default;

    /// One update of every parameter that has a gradient (see Note [optimizer updates]).
    virtual void step() = 0;

    /// Calls `closure` (which zeroes the grads, computes the loss, calls backward and returns
    /// the loss) with grad mode on, then `step()`; returns the loss. L-BFGS overrides it to
    /// evaluate the closure as often as its line search needs.
    virtual T step(const Closure& closure) {
        Tensor<T> loss;
        {
            GradModeGuard grad_on(true);
            loss = closure();
        }
        step();
        return loss.item();
    }

    /// Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
    void zero_grad() {
        for (const auto& p : params_)
            p.zero_grad();
    }

    /// The current learning rate (schedules change it between steps).
    double lr() const { return lr_; }
    /// Sets the learning rate, >= 0; throws ValueError naming the optimizer otherwise.
    void set_lr(double lr) {
        check_lr(lr);
        lr_ = lr;
    }

    /// The parameters, in the order given at construction.
    const std::vector<Tensor<T>>& params() const { return params_; }
    /// Lowercase name used in error messages ("sgd", "adam").
    const char* name() const { return name_; }

protected:
    /// Checks that every parameter is a defined leaf and that lr >= 0.
    Optimizer(const char* name, std::vector<Tensor<T>> params, double lr)
        : params_(std::move(params)), lr_(lr), name_(name) {
        check_lr(lr);
        for (std::size_t i = 0; i < params_.size(); ++i) {
            if (!params_[i].defined()) {
                throw ValueError(fmt::format("{}: parameter {} is undefined", name_, i));
            }
            if (!params_[i].is_leaf()) {
                throw ValueError(
                    fmt::format("{}: parameter {} is not a leaf tensor; optimize leaves (use "
                                "detach().requires_grad_())",
                                name_, i));
            }
        }
    }

    /// The gradient of parameter `i`, checked to have the parameter's size; undefined when the
    /// parameter has none (the caller skips it).
    Tensor<T> grad_of(std::size_t i) const {
        Tensor<T> g = params_[i].grad();
        if (g.defined() && g.size() != params_[i].size()) {
            throw ShapeError(fmt::format(
                "{}: gradient of parameter {} must have the parameter's shape; got param={}, "
                "grad={}",
                name_, i, shape_str(params_[i].shape()), shape_str(g.shape())));
        }
        return g;
    }

    /// A new state buffer of parameter `i`'s shape filled with `v` (allocated on first use).
    xt::xarray<T> state_like(std::size_t i, T v = T(0)) const {
        xt::xarray<T> buffer = xt::xarray<T>::from_shape(params_[i].shape());
        buffer.fill(v);
        return buffer;
    }

    /// Throws ValueError "name: what must be >= 0; got what=v" unless v >= 0 (NaN fails).
    void check_non_negative(const char* what, double v) const {
        if (!(v >= 0)) {
            throw ValueError(fmt::format("{}: {} must be >= 0; got {}={}", name_, what, what, v));
        }
    }

    std::vector<Tensor<T>> params_;

private:
    void check_lr(double lr) const { check_non_negative("lr", lr); }

    double lr_;
    const char* name_;
};

}  // namespace xgrad::optim
