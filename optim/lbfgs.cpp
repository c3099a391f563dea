#include "optim/lbfgs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

namespace xgrad::optim {

namespace {

// NOTE: flat vectors are stored in T; every dot product and scalar of the algorithm (step
// length, losses, yᵀs, H0) is carried in double, so float parameters lose no more than their
// own precision.
template <class T>
double dot(const std::vector<T>& a, const std::vector<T>& b) {
    // Eight independent partial sums: one serial chain of dependent additions would cost the
    // add latency per element (the two-loop recursion runs 4·history_size of these per
    // iteration).
    const std::size_t n = a.size(), n8 = n - n % 8;
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (std::size_t k = 0; k < n8; k += 8) {
        for (std::size_t j = 0; j < 8; ++j)
            acc[j] += double(a[k + j]) * double(b[k + j]);
    }
    double tail = 0;
    for (std::size_t k = n8; k < n; ++k)
        tail += double(a[k]) * double(b[k]);
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

template <class T>
double abs_max(const std::vector<T>& a) {
    double m = 0;
    for (T v : a)
        m = std::max(m, double(std::abs(v)));
    return m;
}

template <class T>
double abs_sum(const std::vector<T>& a) {
    double s = 0;
    for (T v : a)
        s += std::abs(double(v));
    return s;
}

// y ← y + a·x
template <class T>
void axpy(std::vector<T>& y, double a, const std::vector<T>& x) {
    const T at = T(a);
    for (std::size_t k = 0; k < y.size(); ++k)
        y[k] += at * x[k];
}

// NaN sorts above everything: a failed evaluation never becomes the low end of a bracket.
double key(double f) {
    return std::isnan(f) ? std::numeric_limits<double>::infinity() : f;
}

// Minimiser of the cubic through (x1, f1, g1), (x2, f2, g2), clamped to [lo, hi] (default: the
// two points); the midpoint when the cubic has no minimum or an input is not finite.
// d1 = g1 + g2 − 3(f1 − f2)/(x1 − x2),  d2 = √(d1² − g1·g2),
// x = x2 − (x2 − x1)·(g2 + d2 − d1)/(g2 − g1 + 2·d2)   (x2 the farther point).
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         std::optional<std::pair<double, double>> bounds = std::nullopt) {
    const auto [lo, hi] = bounds ? *bounds : std::make_pair(std::min(x1, x2), std::max(x1, x2));
    const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
    const double d2_square = d1 * d1 - g1 * g2;
    if (d2_square >= 0) {
        const double d2 = std::sqrt(d2_square);
        const double x = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                  : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        if (std::isfinite(x)) return std::min(std::max(x, lo), hi);
    }
    return (lo + hi) / 2;
}

struct LineSearchResult {
    double f;  // loss at the accepted step
    double t;  // accepted step length
    int evals;
};

// Strong-Wolfe line search along d from x (loss f, gradient g, gᵀd = gtd < 0), as PyTorch's
// _strong_wolfe (after minFunc / lswolfe.lua): bracket a step satisfying
//   f(x + t·d) <= f + c1·t·gtd   and   |g(x + t·d)ᵀd| <= −c2·gtd,
// then shrink the bracket by safeguarded cubic interpolation. `obj(t, g_out)` returns the loss at
// x + t·d and writes its gradient. g_out receives the gradient at the accepted step.
template <class T, class Obj>
LineSearchResult strong_wolfe(Obj&& obj, double t, const std::vector<T>& d, double f,
                              const std::vector<T>& g, double gtd, double tolerance_change,
                              std::vector<T>& g_out, double c1 = 1e-4, double c2 = 0.9,
                              int max_ls = 25) {
    using Vec = std::vector<T>;
    const double d_norm = abs_max(d);
    Vec g_new(g.size());
    double f_new = obj(t, g_new);
    int evals = 1;
    double gtd_new = dot(g_new, d);

    double t_prev = 0, f_prev = f, gtd_prev = gtd;
    Vec g_prev = g;
    bool done = false, bracketed = false;
    int ls_iter = 0;
    std::array<double, 2> br{}, br_f{}, br_gtd{};
    std::array<Vec, 2> br_g;
    auto bracket = [&](double ta, double fa, Vec ga, double gtda, double tb, double fb, Vec gb,
                       double gtdb) {
        br = {ta, tb};
        br_f = {fa, fb};
        br_g = {std::move(ga), std::move(gb)};
        br_gtd = {gtda, gtdb};
    };

    // Bracketing phase: grow t until an interval is known to contain an acceptable step.
    while (ls_iter < max_ls) {
        if (!(f_new <= f + c1 * t * gtd) || (ls_iter > 1 && f_new >= f_prev)) {
            bracket(t_prev, f_prev, std::move(g_prev), gtd_prev, t, f_new, g_new, gtd_new);
            bracketed = true;
            break;
        }
        if (std::abs(gtd_new) <= -c2 * gtd) {
            bracket(t, f_new, g_new, gtd_new, t, f_new, g_new, gtd_new);
            bracketed = done = true;
            break;
        }
        if (gtd_new >= 0) {
            bracket(t_prev, f_prev, std::move(g_prev), gtd_prev, t, f_new, g_new, gtd_new);
            bracketed = true;
            break;
        }
        // Extrapolate: a cubic step at least 1% beyond t and at most 10·t.
        const double min_step = t + 0.01 * (t - t_prev), max_step = t * 10;
        const double t_next = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                                std::make_pair(min_step, max_step));
        t_prev = t;
        f_prev = f_new;
        std::swap(g_prev, g_new);
        gtd_prev = gtd_new;
        t = t_next;
        f_new = obj(t, g_new);
        ++evals;
        gtd_new = dot(g_new, d);
        ++ls_iter;
    }
    if (!bracketed) bracket(0, f, g, gtd, t, f_new, g_new, gtd_new);  // out of evaluations

    // Zoom phase: shrink [low, high] until the strong Wolfe conditions hold.
    bool insufficient_progress = false;
    int low = key(br_f[1]) < key(br_f[0]) ? 1 : 0, high = 1 - low;
    while (!done && ls_iter < max_ls) {
        if (std::abs(br[1] - br[0]) * d_norm < tolerance_change) break;
        t = cubic_interpolate(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1]);
        // NOTE: a trial within 10% of an end twice in a row (or outside the bracket) is moved
        // to 10% inside it, so the bracket keeps shrinking.
        const double b_max = std::max(br[0], br[1]), b_min = std::min(br[0], br[1]);
        const double eps = 0.1 * (b_max - b_min);
        if (std::min(b_max - t, t - b_min) < eps) {
            if (insufficient_progress || t >= b_max || t <= b_min) {
                t = std::abs(t - b_max) < std::abs(t - b_min) ? b_max - eps : b_min + eps;
                insufficient_progress = false;
            } else {
                insufficient_progress = true;
            }
        } else {
            insufficient_progress = false;
        }

        f_new = obj(t, g_new);
        ++evals;
        gtd_new = dot(g_new, d);
        ++ls_iter;

        if (!(f_new <= f + c1 * t * gtd) || !(f_new < br_f[low])) {
            // Armijo fails or no lower than the low end: t becomes the high end.
            br[high] = t;
            br_f[high] = f_new;
            br_g[high] = g_new;
            br_gtd[high] = gtd_new;
            low = key(br_f[1]) < key(br_f[0]) ? 1 : 0;
            high = 1 - low;
        } else {
            if (std::abs(gtd_new) <= -c2 * gtd) {
                done = true;
            } else if (gtd_new * (br[high] - br[low]) >= 0) {
                // The minimum lies on the other side of t: the old low becomes the high end.
                br[high] = br[low];
                br_f[high] = br_f[low];
                br_g[high] = br_g[low];
                br_gtd[high] = br_gtd[low];
            }
            br[low] = t;
            br_f[low] = f_new;
            br_g[low] = g_new;
            br_gtd[low] = gtd_new;
        }
    }
    g_out = std::move(br_g[low]);
    return {br_f[low], br[low], evals};
}

}  // namespace

template <class T>
void LBFGS<T>::add_param_group(const Group& group) {
    throw ValueError(fmt::format(
        "lbfgs: add_param_group: L-BFGS takes one parameter group (as PyTorch's); got a second "
        "of {} parameters; build the optimizer over every parameter in one list",
        group.params.size()));
}

template <class T>
LBFGS<T>::LBFGS(std::vector<Tensor<T>> params, const LBFGSOptions& options)
    : LBFGS(std::vector<Group>{Group(std::move(params))}, options) {}

template <class T>
LBFGS<T>::LBFGS(std::vector<Group> groups, const LBFGSOptions& defaults)
    : Optimizer<T>("lbfgs", Optimizer<T>::params_of(groups),
                   Optimizer<T>::lrs_of(groups, defaults)),
      options_(groups.empty() || !groups[0].options ? defaults : *groups[0].options) {
    if (groups.size() != 1) {
        throw ValueError(
            fmt::format("lbfgs: takes one parameter group (as PyTorch's L-BFGS); got {}; pass "
                        "every parameter in one list",
                        groups.size()));
    }
    check(options_);
    for (const auto& p : this->params_)
        numel_ += p.size();
    al_.resize(std::size_t(options_.history_size()));
}

template <class T>
void LBFGS<T>::check(const LBFGSOptions& options) const {
    auto at_least_one = [](const char* what, int v) {
        if (v < 1) {
            throw ValueError(fmt::format("lbfgs: {} must be >= 1; got {}={}", what, what, v));
        }
    };
    at_least_one("max_iter", options.max_iter());
    at_least_one("max_eval", options.max_eval());
    at_least_one("history_size", options.history_size());
    this->check_non_negative("tolerance_grad", options.tolerance_grad());
    this->check_non_negative("tolerance_change", options.tolerance_change());
}

template <class T>
void LBFGS<T>::save_state(typename Optimizer<T>::StateDict& out) const {
    const LBFGSOptions& o = options_;
    out["param_groups.0.max_iter"] = detail::scalar_array(o.max_iter());
    out["param_groups.0.max_eval"] = detail::scalar_array(o.max_eval());
    out["param_groups.0.tolerance_grad"] = detail::scalar_array(o.tolerance_grad());
    out["param_groups.0.tolerance_change"] = detail::scalar_array(o.tolerance_change());
    out["param_groups.0.history_size"] = detail::scalar_array(o.history_size());
    out["param_groups.0.line_search"] =
        detail::scalar_array(o.line_search() == LineSearch::strong_wolfe);
    if (this->params_.empty() || func_evals_ == 0) return;
    auto vec = [](const Vec& v) {
        xt::xarray<double> a = xt::xarray<double>::from_shape({v.size()});
        std::copy(v.begin(), v.end(), a.begin());
        return a;
    };
    auto mat = [&](const std::deque<Vec>& rows) {
        xt::xarray<double> a = xt::xarray<double>::from_shape({rows.size(), numel_});
        for (std::size_t r = 0; r < rows.size(); ++r)
            std::copy(rows[r].begin(), rows[r].end(), a.begin() + std::ptrdiff_t(r * numel_));
        return a;
    };
    out["state.0.func_evals"] = detail::scalar_array(double(func_evals_));
    out["state.0.n_iter"] = detail::scalar_array(double(n_iter_));
    out["state.0.t"] = detail::scalar_array(t_);
    out["state.0.H_diag"] = detail::scalar_array(h_diag_);
    out["state.0.d"] = vec(d_);
    out["state.0.prev_flat_grad"] = vec(prev_flat_grad_);
    out["state.0.old_dirs"] = mat(old_dirs_);
    out["state.0.old_stps"] = mat(old_stps_);
    xt::xarray<double> ro = xt::xarray<double>::from_shape({ro_.size()});
    std::copy(ro_.begin(), ro_.end(), ro.begin());
    out["state.0.ro"] = std::move(ro);
}

template <class T>
std::function<void()> LBFGS<T>::load_state(detail::StateReader<T>& in) {
    LBFGSOptions o;
    o.lr(this->lr())
        .max_iter(int(in.group(0, "max_iter")))
        .max_eval(int(in.group(0, "max_eval")))
        .tolerance_grad(in.group(0, "tolerance_grad"))
        .tolerance_change(in.group(0, "tolerance_change"))
        .history_size(int(in.group(0, "history_size")))
        .line_search(in.group(0, "line_search") != 0 ? LineSearch::strong_wolfe : LineSearch::none);
    check(o);
    struct Loaded {
        std::int64_t n_iter = 0, func_evals = 0;
        Vec d, prev_flat_grad;
        double t = 0, h_diag = 1;
        std::deque<Vec> old_dirs, old_stps;
        std::deque<double> ro;
    } s;
    if (!this->params_.empty() && in.has_state(0, "func_evals")) {
        auto vec = [&](const xt::xarray<T>& a) { return Vec(a.begin(), a.end()); };
        s.func_evals = in.count(0, "func_evals");
        s.n_iter = in.count(0, "n_iter");
        s.t = in.scalar(in.state_key(0, "t"));
        s.h_diag = in.scalar(in.state_key(0, "H_diag"));
        // d and prev_flat_grad are empty when no iteration has run yet
        const std::size_t n = s.n_iter > 0 ? numel_ : 0;
        s.d = vec(in.array(0, "d", {n}));
        s.prev_flat_grad = vec(in.array(0, "prev_flat_grad", {n}));
        const std::size_t m = in.length(0, "ro");
        if (m > std::size_t(o.history_size())) {
            throw ValueError(
                fmt::format("lbfgs: load_state_dict: the state holds {} pairs, more than "
                            "history_size={}",
                            m, o.history_size()));
        }
        const auto ro = in.array(0, "ro", {m});
        s.ro.assign(ro.begin(), ro.end());
        const auto dirs = in.array(0, "old_dirs", {m, numel_});
        const auto stps = in.array(0, "old_stps", {m, numel_});
        for (std::size_t r = 0; r < m; ++r) {
            const auto row = std::ptrdiff_t(r * numel_);
            s.old_dirs.emplace_back(dirs.begin() + row,
                                    dirs.begin() + row + std::ptrdiff_t(numel_));
            s.old_stps.emplace_back(stps.begin() + row,
                                    stps.begin() + row + std::ptrdiff_t(numel_));
        }
    }
    return [this, o, s = std::move(s)]() mutable {
        options_ = o;
        n_iter_ = s.n_iter;
        func_evals_ = s.func_evals;
        d_ = std::move(s.d);
        prev_flat_grad_ = std::move(s.prev_flat_grad);
        t_ = s.t;
        h_diag_ = s.h_diag;
        old_dirs_ = std::move(s.old_dirs);
        old_stps_ = std::move(s.old_stps);
        ro_ = std::move(s.ro);
        al_.assign(std::size_t(o.history_size()), 0);
    };
}

template <class T>
void LBFGS<T>::step() {
    throw Error(
        "lbfgs: step() needs the closure; call step(closure) with a closure that zeroes the "
        "grads, computes the loss, calls backward and returns the loss");
}

template <class T>
double LBFGS<T>::evaluate(const Closure& closure) {
    Tensor<T> loss;
    {
        GradModeGuard grad_on(true);
        loss = closure();
    }
    if (!loss.defined()) {
        throw Error("lbfgs: the closure must return the loss; got an undefined tensor");
    }
    return double(loss.item());
}

template <class T>
void LBFGS<T>::gather_flat_grad(Vec& out) const {
    out.resize(numel_);
    std::size_t offset = 0;
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
        const std::size_t n = this->params_[i].size();
        const Tensor<T> g = this->grad_of(i);
        if (g.defined()) {
            std::copy_n(g.value().data(), n, out.begin() + std::ptrdiff_t(offset));
        } else {
            // As PyTorch: a parameter without a gradient contributes zeros.
            std::fill_n(out.begin() + std::ptrdiff_t(offset), n, T(0));
        }
        offset += n;
    }
}

template <class T>
void LBFGS<T>::gather_flat_params(Vec& out) const {
    out.resize(numel_);
    std::size_t offset = 0;
    for (const auto& p : this->params_) {
        std::copy_n(p.value().data(), p.size(), out.begin() + std::ptrdiff_t(offset));
        offset += p.size();
    }
}

template <class T>
void LBFGS<T>::set_params(const Vec& x, double t, const Vec& d) {
    const T tt = T(t);
    std::size_t offset = 0;
    for (const auto& p : this->params_) {
        T* theta = p.mutable_value().data();
        for (std::size_t k = 0; k < p.size(); ++k)
            theta[k] = x[offset + k] + tt * d[offset + k];
        offset += p.size();
    }
}

template <class T>
double LBFGS<T>::directional_evaluate(const Closure& closure, const Vec& x, double t, const Vec& d,
                                      Vec& g_out) {
    set_params(x, t, d);
    const double f = evaluate(closure);
    gather_flat_grad(g_out);
    set_params(x, 0, d);
    return f;
}

template <class T>
void LBFGS<T>::two_loop(const Vec& g) {
    const std::size_t m = old_dirs_.size();
    d_.resize(numel_);
    for (std::size_t k = 0; k < numel_; ++k)
        d_[k] = -g[k];  // q = −g
    for (std::size_t i = m; i-- > 0;) {
        al_[i] = dot(old_stps_[i], d_) * ro_[i];  // α_i = ρ_i·s_iᵀq
        axpy(d_, -al_[i], old_dirs_[i]);          // q ← q − α_i·y_i
    }
    for (auto& v : d_)
        v = T(double(v) * h_diag_);  // r = H0·q
    for (std::size_t i = 0; i < m; ++i) {
        const double be = dot(old_dirs_[i], d_) * ro_[i];  // β = ρ_i·y_iᵀr
        axpy(d_, al_[i] - be, old_stps_[i]);               // r ← r + (α_i − β)·s_i
    }
}

template <class T>
T LBFGS<T>::step(const Closure& closure) {
    NoGradGuard no_grad;  // the updates are not recorded; evaluate() turns grad mode on
    std::size_t numel = 0;
    for (const auto& p : this->params_)
        numel += p.size();
    if (numel != numel_) {
        throw ShapeError(fmt::format(
            "lbfgs: the parameters changed size since construction; got {} elements, expected {}",
            numel, numel_));
    }
    const double lr = this->lr();
    const double tol_grad = options_.tolerance_grad(), tol_change = options_.tolerance_change();
    const int max_iter = options_.max_iter(), max_eval = options_.max_eval();
    const std::size_t history_size = std::size_t(options_.history_size());

    const double orig_loss = evaluate(closure);
    double loss = orig_loss;
    int current_evals = 1;
    ++func_evals_;
    Vec flat_grad, x;
    gather_flat_grad(flat_grad);
    bool opt_cond = abs_max(flat_grad) <= tol_grad;
    if (opt_cond) return T(orig_loss);

    int n_iter = 0;
    while (n_iter < max_iter) {
        ++n_iter;
        ++n_iter_;

        // Direction.
        bool first = n_iter_ == 1;
        if (!first) {
            // y = g_new − g_prev, s = t·d; keep the pair only when yᵀs > 1e-10 (curvature).
            Vec y = old_dirs_.size() == history_size ? std::move(old_dirs_.front()) : Vec(numel_);
            Vec s = old_dirs_.size() == history_size ? std::move(old_stps_.front()) : Vec(numel_);
            for (std::size_t k = 0; k < numel_; ++k) {
                y[k] = flat_grad[k] - prev_flat_grad_[k];
                s[k] = T(t_ * double(d_[k]));
            }
            const double ys = dot(y, s);
            if (ys > 1e-10) {
                if (old_dirs_.size() == history_size) {
                    old_dirs_.pop_front();
                    old_stps_.pop_front();
                    ro_.pop_front();
                }
                h_diag_ = ys / dot(y, y);
                old_dirs_.push_back(std::move(y));
                old_stps_.push_back(std::move(s));
                ro_.push_back(1 / ys);
            } else if (old_dirs_.size() == history_size) {
                old_dirs_.front() = std::move(y);  // give the borrowed buffers back
                old_stps_.front() = std::move(s);
            }
            two_loop(flat_grad);
        }
        double gtd = 0;
        if (!first) {
            gtd = dot(flat_grad, d_);
            if (gtd >= 0 && !old_dirs_.empty()) {
                // NOTE: not a descent direction (round-off in H): drop the history and restart
                // from steepest descent, where PyTorch would stop here on every later step.
                old_dirs_.clear();
                old_stps_.clear();
                ro_.clear();
                h_diag_ = 1;
                first = true;
            }
        }
        if (first) {
            d_.resize(numel_);
            for (std::size_t k = 0; k < numel_; ++k)
                d_[k] = -flat_grad[k];
            gtd = dot(flat_grad, d_);
        }
        prev_flat_grad_ = flat_grad;
        const double prev_loss = loss;

        // Step length: the first step ever is scaled so that it moves at most lr in ‖·‖₁.
        t_ = first ? std::min(1.0, 1.0 / abs_sum(flat_grad)) * lr : lr;
        if (gtd > -tol_change) break;  // directional derivative below tolerance

        int ls_func_evals = 0;
        if (options_.line_search() == LineSearch::strong_wolfe) {
            gather_flat_params(x);
            auto obj = [&](double t, Vec& g_out) {
                return directional_evaluate(closure, x, t, d_, g_out);
            };
            // flat_grad is both the gradient at x and the output: it is read before it is
            // written, when the search returns the gradient at the accepted step.
            const auto r = strong_wolfe(obj, t_, d_, loss, flat_grad, gtd, tol_change, flat_grad);
            loss = r.f;
            t_ = r.t;
            ls_func_evals = r.evals;
            set_params(x, t_, d_);  // the search left the parameters at x
            opt_cond = abs_max(flat_grad) <= tol_grad;
        } else {
            gather_flat_params(x);
            set_params(x, t_, d_);
            if (n_iter != max_iter) {
                // Re-evaluate only when another iteration follows (no use in a stochastic
                // setting otherwise).
                loss = evaluate(closure);
                gather_flat_grad(flat_grad);
                opt_cond = abs_max(flat_grad) <= tol_grad;
                ls_func_evals = 1;
            }
        }
        current_evals += ls_func_evals;
        func_evals_ += ls_func_evals;

        // Stopping tests.
        if (n_iter == max_iter || current_evals >= max_eval || opt_cond) break;
        if (abs_max(d_) * std::abs(t_) <= tol_change) break;  // lack of progress in x
        if (std::abs(loss - prev_loss) < tol_change) break;   // lack of progress in f
    }
    return T(orig_loss);
}

template class LBFGS<float>;
template class LBFGS<double>;

}  // namespace xgrad::optim
