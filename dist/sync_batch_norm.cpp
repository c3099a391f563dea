#include "dist/sync_batch_norm.hpp"

#include "autograd/shape.hpp"
#include "autograd/tape.hpp"
#include "dist/dist.hpp"
#include "dist/mpi_detail.hpp"
#include "nn/norm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

namespace xgrad::dist {
namespace {

// Every process must give as many elements: one small allreduce of (n, −n) with MAX gives the
// largest and the smallest count, so that a mismatch is an error on every process instead of a
// wrong sum or a hang.
void check_same_size(const Shape& shape, std::size_t n) {
    long long range[2] = {static_cast<long long>(n), -static_cast<long long>(n)};
    detail::allreduce(range, 2, MPI_LONG_LONG, MPI_MAX, "all_sum");
    if (range[0] != -range[1]) {
        throw ShapeError(fmt::format(
            "all_sum: every process must give a tensor of the same shape; the processes gave "
            "from {} to {} elements, this one (rank {}) x={}",
            -range[1], range[0], dist::rank(), shape_str(shape)));
    }
}

template <class T>
struct AllSum {
    static constexpr const char* name = "all_sum";

    xt::xarray<T> forward(const Tensor<T>& x) {
        detail::require_initialized("all_sum");
        check_same_size(x.shape(), x.size());
        xt::xarray<T> y = x.value();
        for (std::size_t at = 0; at < y.size(); at += detail::max_chunk) {
            const int count = int(std::min(detail::max_chunk, y.size() - at));
            detail::allreduce(y.data() + at, count, detail::mpi_type<T>(), MPI_SUM, "all_sum");
        }
        return y;
    }
    // y_q = Σ_p x_p for every q  ⇒  ∂L/∂x_p = Σ_q g_q.
    Grads<T, 1> vjp(const Tensor<T>& g, const Tensor<T>& /*y*/) const { return {all_sum(g)}; }
};

}  // namespace

template <class T>
Tensor<T> all_sum(const Tensor<T>& x) {
    return record(AllSum<T>{}, x);
}

template <class T>
std::size_t convert_sync_batch_norm(nn::Module<T>& module) {
    detail::require_initialized("convert_sync_batch_norm");
    std::size_t changed = 0;
    module.apply([&changed](nn::Module<T>& m) {
        if (auto* bn = dynamic_cast<nn::BatchNorm<T>*>(&m)) {
            bn->set_process_sum([](const Tensor<T>& x) { return all_sum(x); });
            ++changed;
        }
    });
    return changed;
}

template Tensor<float> all_sum(const Tensor<float>&);
template Tensor<double> all_sum(const Tensor<double>&);
template std::size_t convert_sync_batch_norm(nn::Module<float>&);
template std::size_t convert_sync_batch_norm(nn::Module<double>&);

}  // namespace xgrad::dist
