#include "optim/schedule.hpp"

#include "optim/adagrad.hpp"
#include "optim/adam.hpp"
#include "optim/schedule_fixtures.hpp"
#include "optim/sgd.hpp"

#include <doctest/doctest.h>

#include <cmath>
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

// ---- against PyTorch (tests/optim/schedule_fixtures.hpp, scripts/make-schedule-fixtures.py) ----

namespace {

using schedule_fixtures::Rows;

// SGD (momentum 0.9) or Adam over two groups of one parameter each, with learning rates lr0, lr1,
// as the fixture script builds them.
struct TwoGroups {
    Tensor<double> a{xt::xarray<double>{1.0}, true}, b{xt::xarray<double>{1.0}, true};
    SGD<double> sgd;
    Adam<double> adam;
    TwoGroups(double lr0, double lr1)
        : sgd({{{a}, SGDOptions(lr0).momentum(0.9)}, {{b}, SGDOptions(lr1).momentum(0.9)}},
              SGDOptions(lr0).momentum(0.9)),
          adam({{{a}, AdamOptions(lr0)}, {{b}, AdamOptions(lr1)}}) {}
};

// Every group's lr (or momentum) now.
std::vector<double> lrs_of(const Optimizer<double>& opt) {
    std::vector<double> out;
    for (std::size_t g = 0; g < opt.num_groups(); ++g)
        out.push_back(opt.group_lr(g));
    return out;
}
std::vector<double> momenta_of(const Optimizer<double>& opt) {
    std::vector<double> out;
    for (std::size_t g = 0; g < opt.num_groups(); ++g)
        out.push_back(opt.group_momentum(g));
    return out;
}

void check_rows(const Rows& got, const Rows& expected) {
    REQUIRE(got.size() == expected.size());
    for (std::size_t e = 0; e < got.size(); ++e) {
        REQUIRE(got[e].size() == expected[e].size());
        for (std::size_t g = 0; g < got[e].size(); ++g) {
            CAPTURE(e);
            CAPTURE(g);
            CHECK(got[e][g] == doctest::Approx(expected[e][g]).epsilon(1e-12));
        }
    }
}

// The rows of every group's lr after construction and after each of `epochs` steps of `step`.
template <class Step>
Rows run(const Optimizer<double>& opt, int epochs, Step step, Rows* momenta = nullptr) {
    Rows out{lrs_of(opt)};
    if (momenta) *momenta = {momenta_of(opt)};
    for (int e = 0; e < epochs; ++e) {
        step(e);
        out.push_back(lrs_of(opt));
        if (momenta) momenta->push_back(momenta_of(opt));
    }
    return out;
}

}  // namespace

TEST_CASE("MultiStepLR: each group from its own base_lr, as PyTorch") {
    TwoGroups t(0.1, 0.01);
    MultiStepLR scheduler(t.sgd, {2, 5, 5, 8}, 0.5);  // 5 twice: ×0.25 there
    check_rows(run(t.sgd, 10, [&](int) { scheduler.step(); }), schedule_fixtures::multi_step_lr);
}

TEST_CASE("LinearLR: the default ramp and a ramp down, as PyTorch") {
    TwoGroups t(0.1, 0.02), u(0.1, 0.02);
    LinearLR warmup(t.sgd);  // 1/3 → 1 over 5 epochs; epoch 0 is set at construction
    check_rows(run(t.sgd, 8, [&](int) { warmup.step(); }), schedule_fixtures::linear_lr_default);
    LinearLR down(u.sgd, LinearLROptions().start_factor(1).end_factor(0.2).total_iters(4));
    check_rows(run(u.sgd, 7, [&](int) { down.step(); }), schedule_fixtures::linear_lr_down);
    CHECK_THROWS_WITH_AS(LinearLR(u.sgd, LinearLROptions().start_factor(0)),
                         "linear_lr: start_factor must be in (0, 1]; got start_factor=0",
                         ValueError);
}

TEST_CASE("LinearLR: a warmup stepped together with ExponentialLR composes, as PyTorch") {
    TwoGroups t(0.1, 0.02);
    LinearLR warmup(t.sgd, LinearLROptions().start_factor(0.25).total_iters(4));
    ExponentialLR decay(t.sgd, 0.9);  // base_lr is the initial_lr warmup recorded
    CHECK(decay.base_lrs() == std::vector<double>{0.1, 0.02});
    check_rows(run(t.sgd, 10,
                   [&](int) {
                       warmup.step();
                       decay.step();
                   }),
               schedule_fixtures::linear_warmup_then_exponential);
}

TEST_CASE("CosineAnnealingLR: two groups over a restart, as PyTorch") {
    TwoGroups t(0.1, 0.02);
    CosineAnnealingLR scheduler(t.sgd, 4, 0.001);
    check_rows(run(t.sgd, 12, [&](int) { scheduler.step(); }),
               schedule_fixtures::cosine_annealing_lr);
}

TEST_CASE("OneCycleLR: the defaults with SGD, lr and momentum, as PyTorch") {
    TwoGroups t(0.1, 0.02);
    OneCycleLR scheduler(t.sgd, OneCycleLROptions({0.1, 0.05}, 20));
    Rows momenta;
    check_rows(run(
                   t.sgd, 20, [&](int) { scheduler.step(); }, &momenta),
               schedule_fixtures::one_cycle_lr_default);
    check_rows(momenta, schedule_fixtures::one_cycle_lr_default_momentum);
    CHECK_THROWS_WITH_AS(scheduler.step(), doctest::Contains("one_cycle_lr: stepped 21 times"),
                         ValueError);
    CHECK(scheduler.last_epoch() == 20);
}

TEST_CASE("OneCycleLR: three phases, linear, Adam's beta1 cycled, as PyTorch") {
    TwoGroups t(0.1, 0.02);
    OneCycleLR scheduler(t.adam, OneCycleLROptions(0.01, 15)
                                     .pct_start(0.25)
                                     .anneal_strategy(Anneal::linear)
                                     .three_phase(true)
                                     .div_factor(10)
                                     .final_div_factor(100));
    Rows momenta;
    const Rows got = run(
        t.adam, 15, [&](int) { scheduler.step(); }, &momenta);
    // Step 15 (after the last batch) extrapolates the last phase: PyTorch goes below 0 there,
    // xgrad stops at 0 (no optimizer takes a negative lr).
    Rows expected = schedule_fixtures::one_cycle_lr_three_phase_linear;
    CHECK(expected.back()[0] < 0);
    expected.back() = {0, 0};
    check_rows(got, expected);
    check_rows(momenta, schedule_fixtures::one_cycle_lr_three_phase_linear_momentum);
}

TEST_CASE("OneCycleLR: an optimizer without momentum needs cycle_momentum(false)") {
    Adagrad<double> opt({theta});
    CHECK_THROWS_WITH_AS(OneCycleLR(opt, OneCycleLROptions(0.1, 10)),
                         doctest::Contains("one_cycle_lr: cycle_momentum needs an optimizer"),
                         ValueError);
    OneCycleLR scheduler(opt, OneCycleLROptions(0.1, 10).cycle_momentum(false));
    CHECK(opt.lr() == doctest::Approx(0.1 / 25));
}

TEST_CASE("ReduceLROnPlateau: mode min, rel threshold, cooldown, min_lr per group, as PyTorch") {
    TwoGroups t(0.1, 0.02);
    ReduceLROnPlateau scheduler(
        t.sgd,
        ReduceLROnPlateauOptions().factor(0.5).patience(2).cooldown(1).min_lr({0.02, 0.001}));
    const std::vector<double> metrics{1.0,  0.9,  0.95, 0.91, 0.92, 0.93, 0.85,
                                      0.86, 0.87, 0.88, 0.89, 0.9,  0.91, 0.92};
    check_rows(run(t.sgd, int(metrics.size()), [&](int e) { scheduler.step(metrics[e]); }),
               schedule_fixtures::plateau_min_rel);
    CHECK(scheduler.best() == 0.85);
}

TEST_CASE("ReduceLROnPlateau: mode max, abs threshold, as PyTorch") {
    TwoGroups t(0.1, 0.02);
    ReduceLROnPlateau scheduler(t.sgd, ReduceLROnPlateauOptions()
                                           .mode(PlateauMode::max)
                                           .factor(0.1)
                                           .patience(1)
                                           .threshold(0.05)
                                           .threshold_mode(ThresholdMode::abs));
    const std::vector<double> metrics{0.5, 0.55, 0.58, 0.7, 0.71, 0.75, 0.79, 0.8, 0.95, 0.96};
    check_rows(run(t.sgd, int(metrics.size()), [&](int e) { scheduler.step(metrics[e]); }),
               schedule_fixtures::plateau_max_abs);
    CHECK_THROWS_WITH_AS(ReduceLROnPlateau(t.sgd, ReduceLROnPlateauOptions().factor(1)),
                         "reduce_lr_on_plateau: factor must be in [0, 1); got factor=1",
                         ValueError);
}

TEST_CASE("LRScheduler: state_dict restores the epoch, a mismatch is named") {
    TwoGroups t(0.1, 0.02), u(0.1, 0.02);
    StepLR a(t.sgd, 2, 0.5);
    for (int e = 0; e < 3; ++e)
        a.step();
    StepLR b(u.sgd, 2, 0.5);
    b.load_state_dict(a.state_dict());
    u.sgd.load_state_dict(t.sgd.state_dict());  // the lrs live in the optimizer's state
    a.step();
    b.step();
    CHECK(b.last_epoch() == 4);
    CHECK(lrs_of(u.sgd) == lrs_of(t.sgd));
    SGD<double> one({theta}, SGDOptions(0.1));
    StepLR c(one, 2);
    CHECK_THROWS_WITH_AS(
        c.load_state_dict(a.state_dict()),
        "step_lr: load_state_dict: the state has base_lrs for 2 groups and the optimizer 1",
        ValueError);
}

TEST_CASE("ReduceLROnPlateau: state_dict restores the counters, so the reduction comes on time") {
    TwoGroups t(0.1, 0.02), u(0.1, 0.02);
    const auto options = ReduceLROnPlateauOptions().patience(2);
    ReduceLROnPlateau a(t.sgd, options), b(u.sgd, options);
    for (const double metric : {1.0, 2.0, 2.0})  // best 1, then two bad epochs
        a.step(metric);
    b.load_state_dict(a.state_dict());
    CHECK(b.best() == 1.0);
    CHECK(b.num_bad_epochs() == 2);
    b.step(3.0);  // the third bad epoch: ×0.1
    CHECK(u.sgd.group_lr(0) == doctest::Approx(0.01));
    auto partial = a.state_dict();
    partial.erase("best");
    CHECK_THROWS_WITH_AS(b.load_state_dict(partial),
                         "reduce_lr_on_plateau: load_state_dict: the state has no best (a single "
                         "value)",
                         ValueError);
}

TEST_CASE("OneCycleLR: the step after the last batch keeps lr >= 0 and beta1 < 1") {
    TwoGroups t(0.1, 0.02);
    // linear, 3 steps: the last phase is 0.99 steps long, so step 3 extrapolates two phases
    CHECK_THROWS_WITH_AS(OneCycleLR(t.adam, OneCycleLROptions(0.01, 2).pct_start(0.5)),
                         doctest::Contains("one_cycle_lr: every phase needs more than 0 steps"),
                         ValueError);
    OneCycleLR scheduler(t.adam, OneCycleLROptions(0.01, 3)
                                     .pct_start(0.67)
                                     .anneal_strategy(Anneal::linear)
                                     .max_momentum(0.99)
                                     .base_momentum(0.5));
    for (int step = 0; step < 3; ++step)
        scheduler.step();  // PyTorch, at step 3: lr < 0, beta1 = 0.5 + 0.49·2.01 > 1
    CHECK(t.adam.group_lr(0) == 0);
    CHECK(t.adam.group_momentum(0) == 0.99);
}

TEST_CASE(
    "LRScheduler: a group added after the schedule keeps its lr, one added before is scheduled") {
    const Tensor<double> a(xt::xarray<double>{1.0}, true), b(xt::xarray<double>{1.0}, true),
        c(xt::xarray<double>{1.0}, true);
    SGD<double> opt({a}, SGDOptions(1.0));
    opt.add_param_group({{b}, SGDOptions(0.5)});  // before: scheduled from its own base_lr
    StepLR step(opt, 1, 0.5);
    CosineAnnealingLR cosine(opt, 4);             // it reads base_lrs per group
    opt.add_param_group({{c}, SGDOptions(0.3)});  // after: neither schedule knows it
    CHECK(step.base_lrs() == std::vector<double>{1.0, 0.5});
    CHECK_FALSE(opt.initial_lr(2).has_value());
    step.step();
    cosine.step();
    // StepLR halves groups 0 and 1 (1 → 0.5, 0.5 → 0.25), then the chainable cosine step from
    // epoch 0 to 1 with T_max 4 multiplies by (1 + cos(π/4)) / (1 + cos(0)) = 0.853553...
    const double f = (1 + std::cos(3.14159265358979323846 / 4)) / 2;
    CHECK(opt.group_lr(0) == doctest::Approx(0.5 * f));
    CHECK(opt.group_lr(1) == doctest::Approx(0.25 * f));
    CHECK(opt.group_lr(2) == 0.3);
    CHECK(step.get_last_lrs().size() == 3);
    ReduceLROnPlateau plateau(opt, ReduceLROnPlateauOptions().patience(0).factor(0.5));
    plateau.step(1.0);
    plateau.step(1.0);  // no improvement with patience 0: every group it knows is halved
    CHECK(opt.group_lr(2) == doctest::Approx(0.15));
}
