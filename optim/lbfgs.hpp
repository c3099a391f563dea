#pragma once

#include "optim/optimizer.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace xgrad::optim {

/// Step-length rule of L-BFGS: a fixed step of lr, or a strong-Wolfe line search.
enum class LineSearch { none, strong_wolfe };

/// Options of L-BFGS (PyTorch's defaults): lr 1, max_iter 20, max_eval max_iter·5/4,
/// tolerance_grad 1e-7, tolerance_change 1e-9, history_size 100, line_search none.
class LBFGSOptions {
public:
    LBFGSOptions() = default;

    /// Learning rate, >= 0: the initial step length tried along each direction.
    LBFGSOptions& lr(double v) {
        lr_ = v;
        return *this;
    }
    double lr() const { return lr_; }
    /// Iterations per step(closure), >= 1.
    LBFGSOptions& max_iter(int v) {
        max_iter_ = v;
        return *this;
    }
    int max_iter() const { return max_iter_; }
    /// Closure evaluations per step(closure), >= 1; max_iter·5/4 unless set.
    LBFGSOptions& max_eval(int v) {
        max_eval_ = v;
        return *this;
    }
    int max_eval() const { return max_eval_ ? *max_eval_ : max_iter_ * 5 / 4; }
    /// Stops when every gradient component is at most this in absolute value, >= 0.
    LBFGSOptions& tolerance_grad(double v) {
        tolerance_grad_ = v;
        return *this;
    }
    double tolerance_grad() const { return tolerance_grad_; }
    /// Stops when the loss or the parameters change by less than this, >= 0.
    LBFGSOptions& tolerance_change(double v) {
        tolerance_change_ = v;
        return *this;
    }
    double tolerance_change() const { return tolerance_change_; }
    /// Number of (s, y) pairs kept, >= 1.
    LBFGSOptions& history_size(int v) {
        history_size_ = v;
        return *this;
    }
    int history_size() const { return history_size_; }
    /// LineSearch::strong_wolfe (recommended) or LineSearch::none (fixed step lr).
    LBFGSOptions& line_search(LineSearch v) {
        line_search_ = v;
        return *this;
    }
    LineSearch line_search() const { return line_search_; }

private:
    double lr_ = 1;
    int max_iter_ = 20;
    std::optional<int> max_eval_;
    double tolerance_grad_ = 1e-7;
    double tolerance_change_ = 1e-9;
    int history_size_ = 100;
    LineSearch line_search_ = LineSearch::none;
};

/// L-BFGS (PyTorch's torch.optim.LBFGS) over all parameters flattened into one vector x:
///   d = −H·g by the two-loop recursion over the last history_size pairs
///       s = x_{k+1} − x_k, y = g_{k+1} − g_k (a pair is kept only when yᵀs > 1e-10),
///       with the initial inverse Hessian H0 = (yᵀs / yᵀy)·I from the newest pair;
///   x ← x + t·d, t from a strong-Wolfe line search (c1 = 1e-4, c2 = 0.9, cubic interpolation,
///       at most 25 evaluations) or fixed (lr; on the very first iteration min(1, 1/‖g‖₁)·lr).
/// One step(closure) runs up to max_iter iterations and max_eval closure calls, and stops early
/// when max|g| <= tolerance_grad or the loss, the step or the directional derivative falls
/// below tolerance_change. The history persists across steps. Where the L-BFGS direction is not
/// a descent direction (round-off), the history is dropped and the step restarts from −g
/// instead of stalling.
/// Parameters: leaves of any shape, in one group (as PyTorch's, L-BFGS takes one group: a
/// second is a ValueError). The closure zeroes the grads, computes the loss (one element), calls
/// backward and returns the loss; it is called with grad mode on. State (under the first
/// parameter, as PyTorch): state.0.d, t, old_dirs [m, n], old_stps [m, n], ro [m], H_diag,
/// prev_flat_grad, n_iter, func_evals, n the number of elements of all parameters.
template <class T = float>
class LBFGS : public Optimizer<T> {
public:
    using typename Optimizer<T>::Closure;

    using Group = ParamGroup<T, LBFGSOptions>;

    LBFGS(std::vector<Tensor<T>> params, const LBFGSOptions& options = LBFGSOptions());
    /// One group only; ValueError for more.
    LBFGS(std::vector<Group> groups, const LBFGSOptions& defaults = LBFGSOptions());

    /// Runs one L-BFGS step (several iterations); returns the loss at the starting point.
    T step(const Closure& closure) override;
    /// Throws Error: L-BFGS needs the closure.
    void step() override;

    /// Throws ValueError: L-BFGS takes one parameter group (as PyTorch's, whose LBFGS refuses
    /// more); build it over every parameter instead.
    void add_param_group(const Group& group);

    /// Iterations run over all steps so far.
    std::int64_t n_iter() const { return n_iter_; }
    /// Closure evaluations over all steps so far.
    std::int64_t func_evals() const { return func_evals_; }

private:
    using Vec = std::vector<T>;

    void check(const LBFGSOptions& options) const;
    void save_state(typename Optimizer<T>::StateDict& out) const override;
    std::function<void()> load_state(detail::StateReader<T>& in) override;

    double evaluate(const Closure& closure);
    void gather_flat_grad(Vec& out) const;
    void gather_flat_params(Vec& out) const;
    /// Sets the parameters to x + t·d.
    void set_params(const Vec& x, double t, const Vec& d);
    /// Parameters to x + t·d, loss and flat gradient there, parameters back to x.
    double directional_evaluate(const Closure& closure, const Vec& x, double t, const Vec& d,
                                Vec& g_out);
    /// d ← −H·g from the history (two-loop recursion).
    void two_loop(const Vec& g);

    LBFGSOptions options_;
    std::size_t numel_ = 0;

    // Persistent state (PyTorch keeps the same across step calls).
    std::int64_t n_iter_ = 0;
    std::int64_t func_evals_ = 0;
    Vec d_, prev_flat_grad_;
    double t_ = 0;
    double h_diag_ = 1;
    std::deque<Vec> old_dirs_, old_stps_;  // y and s pairs, oldest first
    std::deque<double> ro_;                // 1 / yᵀs
    std::vector<double> al_;
};

}  // namespace xgrad::optim
