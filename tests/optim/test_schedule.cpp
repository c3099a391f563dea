#include "optim/schedule.hpp"

#include "optim/sgd.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace xgrad;
using namespace xgrad::optim;

namespace {
// The learning rate of epochs 0..n−1: read, then step the schedule.
template <class Schedule>
std::vector<double> lrs(Schedule& schedule, const SGD<double>& opt, int n) {
    std::vector<double> out;
    for (int epoch = 0; epoch < n; ++epoch, schedule.step())
        out.push_back(opt.lr());
    return out;
}

void check_lrs(const std::vector<double>& got, const std::vector<double>& expected) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t e = 0; e < got.size(); ++e)
        CHECK(got[e] == doctest::Approx(expected[e]));
}

const Tensor<double> theta(xt::xarray<double>{1.0}, true);
}  // namespace

TEST_CASE("StepLR: multiplies by gamma every step_size epochs") {
    SGD<double> opt({theta}, SGDOptions(1.0));
    StepLR scheduler(opt, 2, 0.5);  // base_lr · 0.5^⌊epoch/2⌋
    check_lrs(lrs(scheduler, opt, 6), {1, 1, 0.5, 0.5, 0.25, 0.25});
    CHECK(scheduler.last_epoch() == 6);
    CHECK_THROWS_WITH_AS(StepLR(opt, 0), "step_lr: step_size must be >= 1; got step_size=0",
                         ValueError);
}

TEST_CASE("StepLR: a learning rate set by hand is carried forward") {
    SGD<double> opt({theta}, SGDOptions(1.0));
    StepLR scheduler(opt, 2, 0.5);
    scheduler.step();  // epoch 1: 1
    opt.set_lr(10);
    scheduler.step();  // epoch 2: 10·0.5
    CHECK(opt.lr() == 5);
}

TEST_CASE("ExponentialLR: multiplies by gamma every epoch") {
    SGD<double> opt({theta}, SGDOptions(2.0));
    ExponentialLR scheduler(opt, 0.5);  // 2·0.5^epoch
    check_lrs(lrs(scheduler, opt, 4), {2, 1, 0.5, 0.25});
    CHECK_THROWS_WITH_AS(ExponentialLR(opt, -1), "exponential_lr: gamma must be >= 0; got gamma=-1",
                         ValueError);
}

TEST_CASE("CosineAnnealingLR: half a cosine from base_lr to eta_min over T_max epochs") {
    SGD<double> opt({theta}, SGDOptions(1.0));
    CosineAnnealingLR scheduler(opt, 4, 0.2);  // 0.2 + 0.8·(1 + cos(π·e/4))/2
    // cos(π/4) = 0.707107: e=1 → 0.2 + 0.8·0.853553; e=2 → 0.2 + 0.4; e=3 → 0.2 + 0.8·0.146447;
    // e=4 → 0.2 (the minimum); e=5, 6 climb back as e=3, 2
    check_lrs(lrs(scheduler, opt, 7), {1, 0.882843, 0.6, 0.317157, 0.2, 0.317157, 0.6});
    CHECK(scheduler.base_lr() == 1);
}
