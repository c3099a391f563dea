#include "nn/checkpoint.hpp"

#include "autograd/checkpoint.hpp"
#include "autograd/errors.hpp"

#include <fmt/format.h>

#include <functional>
#include <memory>
#include <vector>

namespace xgrad::nn {

template <class T>
Tensor<T> checkpoint_sequential(Sequential<T>& model, std::size_t segments, const Tensor<T>& x) {
    const std::size_t n = model.size();
    if (segments == 0 || segments > n) {
        throw ValueError(fmt::format(
            "checkpoint_sequential: segments must lie in [1, {}] (the model's layers); got {}", n,
            segments));
    }
    std::vector<std::shared_ptr<Module<T>>> layers;
    for (const auto& [name, layer] : model.children())
        layers.push_back(layer);
    Tensor<T> h = x;
    // Segment s holds layers [s·n/segments, (s+1)·n/segments): sizes differ by at most one.
    for (std::size_t s = 0; s < segments; ++s) {
        const std::size_t begin = s * n / segments, end = (s + 1) * n / segments;
        // By value: the segment runs again in backward, after this function has returned.
        const std::function<Tensor<T>(const Tensor<T>&)> run = [layers, begin,
                                                                end](const Tensor<T>& v) {
            Tensor<T> y = v;
            for (std::size_t i = begin; i < end; ++i)
                y = (*layers[i])(y);
            return y;
        };
        h = s + 1 < segments ? checkpoint(run, h) : run(h);
    }
    return h;
}

template Tensor<float> checkpoint_sequential(Sequential<float>&, std::size_t, const Tensor<float>&);
template Tensor<double> checkpoint_sequential(Sequential<double>&, std::size_t,
                                              const Tensor<double>&);

}  // namespace xgrad::nn
