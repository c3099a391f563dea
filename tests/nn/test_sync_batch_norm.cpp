// BatchNorm::set_process_sum (Note [synchronised batch norm] in nn/norm.cpp) on one process:
// with a sum over one process (the identity) it must be batch_norm itself. The sum over several
// processes (dist::all_sum) is checked under mpirun in tests/dist/dist_test.cpp.

#include "nn/norm.hpp"

#include "autograd/gradcheck.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace xgrad;

namespace {

// Training-mode output, its gradients and the running statistics after one step.
struct Step {
    xt::xarray<double> y, dx, dw, db, running_mean, running_var;
};

Step step(nn::BatchNorm<double>& bn, const xt::xarray<double>& x_value) {
    const Tensor<double> x(x_value, true);
    const Tensor<double> y = bn(x);
    manual_seed(4);
    const Tensor<double> g = randn<double>(y.shape());
    sum(y * g).backward();
    return {y.value(),
            x.grad().value(),
            bn.weight().grad().value(),
            bn.bias().grad().value(),
            bn.running_mean().value(),
            bn.running_var().value()};
}

void check_close(const xt::xarray<double>& a, const xt::xarray<double>& b) {
    REQUIRE(a.shape() == b.shape());
    for (std::size_t i = 0; i < a.size(); ++i)
        CHECK(a.flat(i) == doctest::Approx(b.flat(i)).epsilon(1e-10));
}

}  // namespace

TEST_CASE("BatchNorm: a process sum over one process is batch_norm, [n, c] and [n, c, h, w]") {
    for (const Shape& shape : {Shape{6, 3}, Shape{2, 3, 4, 5}}) {
        CAPTURE(shape_str(shape));
        manual_seed(1);
        const xt::xarray<double> x = randn<double>(shape, 2.0, 3.0).value();
        const auto options = nn::BatchNormOptions(3).momentum(0.3);
        auto make = [&]() -> std::shared_ptr<nn::BatchNorm<double>> {
            if (shape.size() == 2) return std::make_shared<nn::BatchNorm1d<double>>(options);
            return std::make_shared<nn::BatchNorm2d<double>>(options);
        };
        auto plain = make(), synced = make();
        synced->set_process_sum([](const Tensor<double>& t) { return t; });
        CHECK(synced->synchronized());
        CHECK(synced->extra_repr().find("synchronized") != std::string::npos);
        const Step a = step(*plain, x), b = step(*synced, x);
        check_close(b.y, a.y);
        check_close(b.dx, a.dx);
        check_close(b.dw, a.dw);
        check_close(b.db, a.db);
        check_close(b.running_mean, a.running_mean);
        check_close(b.running_var, a.running_var);
        // Evaluation uses the running statistics, as batch_norm does.
        plain->eval();
        synced->eval();
        check_close((*synced)(Tensor<double>(x)).value(), (*plain)(Tensor<double>(x)).value());
    }
}

TEST_CASE("BatchNorm: the synchronised forward passes gradcheck and gradgradcheck") {
    nn::BatchNorm2d<double> bn(nn::BatchNormOptions(2));
    bn.set_process_sum([](const Tensor<double>& t) { return t; });
    manual_seed(2);
    const Tensor<double> x = randn<double>({3, 2, 2, 2}, 0.0, 1.0, true);
    const auto fn = [&bn](const std::vector<Tensor<double>>& in) { return bn(in[0]); };
    const GradcheckResult first = gradcheck(fn, {x, bn.weight(), bn.bias()});
    CHECK_MESSAGE(first.ok, first.message);
    const GradcheckResult second = gradgradcheck(fn, {x, bn.weight(), bn.bias()});
    CHECK_MESSAGE(second.ok, second.message);
}

TEST_CASE("BatchNorm: a synchronised layer refuses one value per channel in all") {
    nn::BatchNorm1d<double> bn(nn::BatchNormOptions(2));
    bn.set_process_sum([](const Tensor<double>& t) { return t; });
    CHECK_THROWS_WITH_AS(bn(zeros<double>({1, 2})),
                         "batch_norm1d: training needs more than one value per channel over the "
                         "processes to estimate a variance; got x=[1, 2] and 1 values in all",
                         ValueError);
}
