#include "optim/clip.hpp"

#include "autograd/errors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace xgrad::optim {
namespace {

// Multiplies the gradient of `p` by c in place; a gradient that carries a graph (create_graph)
// is not ours to edit, so it is replaced.
template <class T>
void scale_grad(const Tensor<T>& p, T c) {
    Tensor<T> g = p.grad();
    if (g.is_leaf() && !g.requires_grad()) {
        g.mutable_value() *= c;
    } else {
        p.set_grad(Tensor<T>(xt::xarray<T>(g.value() * c)));
    }
}

}  // namespace

template <class T>
T clip_grad_norm(const std::vector<Tensor<T>>& params, double max_norm, double norm_type) {
    if (!(max_norm >= 0)) {
        throw ValueError(
            fmt::format("clip_grad_norm: max_norm must be >= 0; got max_norm={}", max_norm));
    }
    if (!(norm_type > 0)) {
        throw ValueError(fmt::format(
            "clip_grad_norm: norm_type must be > 0 or inf; got norm_type={}", norm_type));
    }
    const bool inf_norm = std::isinf(norm_type);
    double acc = 0;  // max |g| (inf-norm) or Σ |g|^p
    bool any = false;
    for (const auto& p : params) {
        const Tensor<T> g = p.grad();
        if (!g.defined()) continue;
        any = true;
        for (T v : g.value()) {
            const double a = std::abs(double(v));
            if (inf_norm) {
                acc = std::max(acc, a);
            } else {
                acc += norm_type == 2 ? a * a : norm_type == 1 ? a : std::pow(a, norm_type);
            }
        }
    }
    if (!any) return T(0);
    const double total = inf_norm         ? acc
                         : norm_type == 2 ? std::sqrt(acc)
                         : norm_type == 1 ? acc
                                          : std::pow(acc, 1 / norm_type);
    const double clip_coef = max_norm / (total + 1e-6);
    if (clip_coef < 1) {
        NoGradGuard no_grad;
        for (const auto& p : params) {
            if (p.grad().defined()) scale_grad(p, T(clip_coef));
        }
    }
    return T(total);
}

template <class T>
void clip_grad_value(const std::vector<Tensor<T>>& params, double clip) {
    if (!(clip >= 0)) {
        throw ValueError(fmt::format("clip_grad_value: clip must be >= 0; got clip={}", clip));
    }
    NoGradGuard no_grad;
    const T c = T(clip);
    for (const auto& p : params) {
        Tensor<T> g = p.grad();
        if (!g.defined()) continue;
        if (!g.is_leaf() || g.requires_grad()) {
            g = Tensor<T>(g.value());  // a gradient with a graph is replaced, not edited
            p.set_grad(g);
        }
        for (T& v : g.mutable_value())
            v = std::clamp(v, -c, c);
    }
}

template float clip_grad_norm<float>(const std::vector<Tensor<float>>&, double, double);
template double clip_grad_norm<double>(const std::vector<Tensor<double>>&, double, double);
template void clip_grad_value<float>(const std::vector<Tensor<float>>&, double);
template void clip_grad_value<double>(const std::vector<Tensor<double>>&, double);

}  // namespace xgrad::optim
