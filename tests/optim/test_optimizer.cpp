#include "optim/sgd.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/reduce.hpp"
#include "optim/adagrad.hpp"
#include "optim/adam.hpp"
#include "optim/adamw.hpp"
#include "optim/lbfgs.hpp"
#include "optim/optim_testing.hpp"
#include "optim/rmsprop.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <memory>

using namespace xgrad;
using optim::SGD;
using optim::SGDOptions;
using optim_testing::check_values;
using optim_testing::set_grad;

TEST_CASE("SGD: an update is in place and records nothing") {
    Tensor<double> theta(xt::xarray<double>{1.0, -2.0}, true);
    const double* storage = theta.value().data();
    SGD<double> opt({theta}, SGDOptions(0.1).momentum(0.9));
    set_grad(theta, {1.0, 1.0});
    opt.step();
    opt.step();
    CHECK(theta.value().data() == storage);  // same array, no reallocation
    CHECK(theta.is_leaf());
    CHECK(theta.requires_grad());
    CHECK(grad_enabled());  // the guard is gone after the step
}

TEST_CASE("SGD: step(closure) evaluates the loss with grad mode on, then steps") {
    Tensor<double> theta(xt::xarray<double>{3.0}, true);
    SGD<double> opt({theta}, SGDOptions(0.25));
    auto closure = [&] {
        opt.zero_grad();
        auto loss = sum(theta * theta);  // L = θ² = 9,  g = 2θ = 6
        loss.backward();
        return loss;
    };
    NoGradGuard outer;  // even inside a no-grad scope
    CHECK(opt.step(closure) == 9.0);
    check_values(theta, {1.5});  // 3 − 0.25·6
}

TEST_CASE("SGD: float parameters") {
    Tensor<float> theta(xt::xarray<float>{1.0f, -2.0f}, true);
    SGD<float> opt({theta}, SGDOptions(0.5).momentum(0.5).nesterov(true));
    theta.set_grad(Tensor<float>(xt::xarray<float>{2.0f, 2.0f}));
    opt.step();  // b = 2, g + μb = 3, θ = 1 − 1.5, −2 − 1.5
    CHECK(theta(0) == doctest::Approx(-0.5f));
    CHECK(theta(1) == doctest::Approx(-3.5f));
}

TEST_CASE("SGD: bad options are named with their values") {
    Tensor<double> theta(xt::xarray<double>{1.0}, true);
    CHECK_THROWS_WITH_AS(SGD<double>({theta}, SGDOptions(-1)), "sgd: lr must be >= 0; got lr=-1",
                         ValueError);
    CHECK_THROWS_WITH_AS(SGD<double>({theta}, SGDOptions(0.1).momentum(-0.5)),
                         "sgd: momentum must be >= 0; got momentum=-0.5", ValueError);
    CHECK_THROWS_WITH_AS(SGD<double>({theta}, SGDOptions(0.1).weight_decay(-1)),
                         "sgd: weight_decay must be >= 0; got weight_decay=-1", ValueError);
    CHECK_THROWS_WITH_AS(SGD<double>({theta}, SGDOptions(0.1).nesterov(true)),
                         doctest::Contains("nesterov requires momentum > 0 and dampening = 0; "
                                           "got momentum=0, dampening=0"),
                         ValueError);
    CHECK_THROWS_AS(
        SGD<double>({theta}, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
        ValueError);
    SGD<double> opt({theta}, SGDOptions(0.1));
    CHECK_THROWS_WITH_AS(opt.set_lr(-2), "sgd: lr must be >= 0; got lr=-2", ValueError);
    CHECK(opt.lr() == 0.1);
    CHECK_THROWS_WITH_AS(SGD<double>({theta * 2.0}, SGDOptions(0.1)),
                         doctest::Contains("sgd: parameter 0 is not a leaf"), ValueError);
}

// ---- parameter groups (Note [parameter groups]) ----

TEST_CASE("Optimizer: groups, each with its own lr and weight_decay") {
    Tensor<double> w(xt::xarray<double>{1.0, -2.0}, true), bias(xt::xarray<double>{3.0}, true);
    const auto defaults = SGDOptions(0.1).weight_decay(0.5);
    SGD<double> opt({{{w}}, {{bias}, SGDOptions(defaults).lr(0.2).weight_decay(0)}}, defaults);
    CHECK(opt.num_groups() == 2);
    CHECK(opt.params().size() == 2);  // w, then bias
    CHECK(opt.group_lr(1) == 0.2);
    set_grad(w, {1.0, 1.0});
    set_grad(bias, {1.0});
    opt.step();
    check_values(w, {0.85, -2.0});  // g + 0.5·θ = [1.5, 0];  θ − 0.1·g
    check_values(bias, {2.8});      // no decay: 3 − 0.2·1
    opt.set_lr(0.01);               // every group
    CHECK(opt.group_lr(0) == 0.01);
    CHECK(opt.group_lr(1) == 0.01);
    opt.set_group_lr(1, 0.3);
    CHECK(opt.lr() == 0.01);  // lr() is the first group's
    CHECK_THROWS_WITH_AS(opt.group_lr(2), "sgd: group 2 is out of range; the optimizer has 2",
                         ValueError);
}

TEST_CASE("Optimizer: a parameter in two groups, a bad option in a group, are named") {
    Tensor<double> a(xt::xarray<double>{1.0}, true), b(xt::xarray<double>{1.0}, true);
    CHECK_THROWS_WITH_AS(SGD<double>({{{a, b}}, {{b}}}, SGDOptions(0.1)),
                         doctest::Contains("sgd: parameter 2 (group 1) is also parameter 1"),
                         ValueError);
    CHECK_THROWS_WITH_AS(SGD<double>({{{a}}, {{b}, SGDOptions(0.1).momentum(-1)}}, SGDOptions(0.1)),
                         "sgd: momentum must be >= 0; got momentum=-1 (group 1)", ValueError);
    CHECK_THROWS_WITH_AS(
        optim::LBFGS<double>(std::vector<optim::LBFGS<double>::Group>{{{a}}, {{b}}}),
        doctest::Contains("lbfgs: takes one parameter group"), ValueError);
}

namespace {

// Steps `grouped` (over a and b, in two groups) and `first`, `second` (over copies of a and of b,
// each alone with that group's options) with the same gradients: every step must agree exactly.
template <class Opt, class Options>
void check_groups_act_as_separate_optimizers(const Options& defaults, const Options& other) {
    Tensor<double> a(xt::xarray<double>{1.0, -2.0}, true), b(xt::xarray<double>{0.5}, true);
    Tensor<double> a1(a.value(), true), b1(b.value(), true);
    Opt grouped({{{a}}, {{b}, other}}, defaults);
    Opt first({a1}, defaults), second({b1}, other);
    for (int step = 0; step < 3; ++step) {
        for (const auto& p : {a, a1})
            set_grad(p, {0.3 - step, 0.7});
        for (const auto& p : {b, b1})
            set_grad(p, {-0.2 * step + 0.1});
        grouped.step();
        first.step();
        second.step();
        CHECK(a.value() == a1.value());
        CHECK(b.value() == b1.value());
    }
}

}  // namespace

TEST_CASE("Optimizer: every optimizer's groups act as separate optimizers with their options") {
    using namespace optim;
    check_groups_act_as_separate_optimizers<SGD<double>>(
        SGDOptions(0.1).momentum(0.9).weight_decay(0.01),
        SGDOptions(0.05).momentum(0.5).nesterov(true));
    check_groups_act_as_separate_optimizers<Adam<double>>(
        AdamOptions(0.01).weight_decay(0.1), AdamOptions(0.02).betas(0.8, 0.99).amsgrad(true));
    check_groups_act_as_separate_optimizers<AdamW<double>>(AdamWOptions(0.01),
                                                           AdamWOptions(0.03).weight_decay(0));
    check_groups_act_as_separate_optimizers<RMSprop<double>>(RMSpropOptions(0.01).momentum(0.9),
                                                             RMSpropOptions(0.02).centered(true));
    check_groups_act_as_separate_optimizers<Adagrad<double>>(
        AdagradOptions(0.1).lr_decay(0.01), AdagradOptions(0.05).initial_accumulator_value(0.1));
}

// ---- state dicts (Note [optimizer state dict]) ----

namespace {

// `make(params)` builds an optimizer; one trained 3 steps saves its state, a fresh one over
// copies of the parameters loads it, and both then take the same 3 steps: equal throughout.
template <class Make>
void check_state_round_trip(Make make) {
    Tensor<double> a(xt::xarray<double>{1.0, -2.0}, true), b(xt::xarray<double>{0.5}, true);
    auto grads = [](int step, const Tensor<double>& x, const Tensor<double>& y) {
        set_grad(x, {0.3 - step, 0.7});
        set_grad(y, {-0.2 * step + 0.1});
    };
    auto trained = make(a, b);
    for (int step = 0; step < 3; ++step) {
        grads(step, a, b);
        trained->step();
    }
    Tensor<double> a1(a.value(), true), b1(b.value(), true);
    auto loaded = make(a1, b1);
    loaded->load_state_dict(trained->state_dict());
    CHECK(loaded->state_dict() == trained->state_dict());
    for (int step = 3; step < 6; ++step) {
        grads(step, a, b);
        grads(step, a1, b1);
        trained->step();
        loaded->step();
        CHECK(a.value() == a1.value());
        CHECK(b.value() == b1.value());
    }
}

}  // namespace

TEST_CASE("Optimizer: state_dict then load_state_dict continues exactly, every optimizer") {
    using namespace optim;
    using P = const Tensor<double>&;
    check_state_round_trip([](P a, P b) {
        return std::make_unique<SGD<double>>(
            std::vector<SGD<double>::Group>{{{a}}, {{b}, SGDOptions(0.2).momentum(0.5)}},
            SGDOptions(0.1).momentum(0.9).nesterov(true));
    });
    check_state_round_trip([](P a, P b) {
        return std::make_unique<Adam<double>>(std::vector<Tensor<double>>{a, b},
                                              AdamOptions(0.1).amsgrad(true));
    });
    check_state_round_trip([](P a, P b) {
        return std::make_unique<AdamW<double>>(std::vector<Tensor<double>>{a, b});
    });
    check_state_round_trip([](P a, P b) {
        return std::make_unique<RMSprop<double>>(std::vector<Tensor<double>>{a, b},
                                                 RMSpropOptions().momentum(0.9).centered(true));
    });
    check_state_round_trip([](P a, P b) {
        return std::make_unique<Adagrad<double>>(std::vector<Tensor<double>>{a, b});
    });
}

TEST_CASE("Optimizer: the state is keyed by position, as PyTorch's, with the hyperparameters") {
    Tensor<double> a(xt::xarray<double>{1.0, -2.0}, true), b(xt::xarray<double>{0.5}, true);
    SGD<double> opt({a, b}, SGDOptions(0.1).momentum(0.9));
    set_grad(a, {1.0, 1.0});  // b has no gradient: no state
    opt.step();
    const auto state = opt.state_dict();
    std::vector<std::string> keys;
    for (const auto& [key, value] : state)
        keys.push_back(key);
    CHECK(keys == std::vector<std::string>{"param_groups.0.dampening", "param_groups.0.lr",
                                           "param_groups.0.momentum", "param_groups.0.nesterov",
                                           "param_groups.0.params", "param_groups.0.weight_decay",
                                           "state.0.momentum_buffer"});
    CHECK(state.at("param_groups.0.params") == xt::xarray<double>{0, 1});
    SGD<double> other({a, b}, SGDOptions(0.5));  // options come from the state, as in PyTorch
    other.load_state_dict(state);
    CHECK(other.lr() == 0.1);
    CHECK(other.group_options(0).momentum() == 0.9);
}

TEST_CASE("Optimizer: load_state_dict names what differs and changes nothing") {
    Tensor<double> a(xt::xarray<double>{1.0, -2.0}, true), b(xt::xarray<double>{0.5}, true);
    SGD<double> opt({a, b}, SGDOptions(0.1).momentum(0.9));
    set_grad(a, {1.0, 1.0});
    set_grad(b, {1.0});
    opt.step();
    const auto state = opt.state_dict();
    SGD<double> swapped({b, a}, SGDOptions(0.3));  // parameters reordered: positions differ
    CHECK_THROWS_WITH_AS(swapped.load_state_dict(state),
                         "sgd: load_state_dict: state.0.momentum_buffer has shape [2] but "
                         "parameter 0 has shape [1]",
                         ShapeError);
    CHECK(swapped.lr() == 0.3);  // unchanged
    SGD<double> fewer({a}, SGDOptions(0.1));
    CHECK_THROWS_WITH_AS(fewer.load_state_dict(state),
                         "sgd: load_state_dict: group 0 holds 2 parameters in the state and 1 in "
                         "the optimizer",
                         ValueError);
    SGD<double> two_groups(std::vector<SGD<double>::Group>{{{a}}, {{b}}}, SGDOptions(0.1));
    CHECK_THROWS_WITH_AS(
        two_groups.load_state_dict(state),
        "sgd: load_state_dict: the state has 1 parameter group and the optimizer 2", ValueError);
    optim::Adam<double> adam({a, b});
    CHECK_THROWS_WITH_AS(adam.load_state_dict(state),
                         doctest::Contains("adam: load_state_dict: the state has no "
                                           "param_groups.0.beta1"),
                         ValueError);
    auto extra = state;
    extra["state.1.exp_avg"] = xt::xarray<double>{1.0};
    CHECK_THROWS_WITH_AS(
        opt.load_state_dict(extra),
        doctest::Contains("sgd: load_state_dict: unexpected entries state.1.exp_avg"), ValueError);
}

TEST_CASE("Optimizer: save and load through an .npz file, L-BFGS's history too") {
    testing::TempDir dir;
    auto run = [](optim::LBFGS<double>& opt, const Tensor<double>& x) {
        return opt.step([&] {
            opt.zero_grad();
            auto loss = sum((x - 3.0) * (x - 3.0) * x * x);  // a quartic: several iterations
            loss.backward();
            return loss;
        });
    };
    Tensor<double> x(xt::xarray<double>{1.0, -0.5, 2.0}, true);
    optim::LBFGS<double> opt({x}, optim::LBFGSOptions().max_iter(3).history_size(2));
    run(opt, x);
    opt.save(dir / "lbfgs.npz");
    Tensor<double> x1(x.value(), true);
    optim::LBFGS<double> loaded({x1}, optim::LBFGSOptions().max_iter(3).history_size(2));
    loaded.load(dir / "lbfgs.npz");
    CHECK(loaded.n_iter() == opt.n_iter());
    CHECK(run(loaded, x1) == run(opt, x));
    CHECK(x1.value() == x.value());
}

// ---- add_param_group (Note [parameter groups]) ----

namespace {

// An optimizer over a, then add_param_group(b with `other`), steps exactly as one constructed
// with both groups, and its state dict is the same.
template <class Opt, class Options>
void check_added_group_is_a_group(const Options& defaults, const Options& other) {
    Tensor<double> a(xt::xarray<double>{1.0, -2.0}, true), b(xt::xarray<double>{0.5}, true);
    Tensor<double> a1(a.value(), true), b1(b.value(), true);
    Opt added({a}, defaults);
    added.add_param_group({{b}, other});
    Opt built({{{a1}}, {{b1}, other}}, defaults);
    REQUIRE(added.num_groups() == 2);
    CHECK(added.group_lr(1) == other.lr());
    for (int step = 0; step < 3; ++step) {
        for (const auto& p : {a, a1})
            set_grad(p, {0.3 - step, 0.7});
        for (const auto& p : {b, b1})
            set_grad(p, {-0.2 * step + 0.1});
        added.step();
        built.step();
        CHECK(a.value() == a1.value());
        CHECK(b.value() == b1.value());
    }
    CHECK(added.state_dict() == built.state_dict());
}

}  // namespace

TEST_CASE("Optimizer: add_param_group adds a group as the constructor would, every optimizer") {
    using namespace optim;
    check_added_group_is_a_group<SGD<double>>(SGDOptions(0.1).momentum(0.9),
                                              SGDOptions(0.05).momentum(0.5).nesterov(true));
    check_added_group_is_a_group<Adam<double>>(AdamOptions(0.01).weight_decay(0.1),
                                               AdamOptions(0.02).betas(0.8, 0.99).amsgrad(true));
    check_added_group_is_a_group<AdamW<double>>(AdamWOptions(0.01),
                                                AdamWOptions(0.03).weight_decay(0));
    check_added_group_is_a_group<RMSprop<double>>(RMSpropOptions(0.01).momentum(0.9),
                                                  RMSpropOptions(0.02).centered(true));
    check_added_group_is_a_group<Adagrad<double>>(
        AdagradOptions(0.1).lr_decay(0.01), AdagradOptions(0.05).initial_accumulator_value(0.1));
}

TEST_CASE("Optimizer: add_param_group without options takes the optimizer's defaults") {
    Tensor<double> a(xt::xarray<double>{1.0}, true), b(xt::xarray<double>{2.0}, true);
    SGD<double> opt({a}, SGDOptions(0.1).weight_decay(0.5));
    opt.set_lr(0.3);  // a changed lr is not a default: the new group gets the constructor's 0.1
    opt.add_param_group({{b}});
    CHECK(opt.group_lr(1) == 0.1);
    CHECK(opt.group_options(1).weight_decay() == 0.5);
    CHECK(opt.params().size() == 2);
    set_grad(b, {1.0});
    opt.step();
    check_values(b, {1.8});  // g + 0.5·θ = 2;  2 − 0.1·2
    optim::Adam<double> adam({a}, optim::AdamOptions(0.01).betas(0.8, 0.9));
    adam.add_param_group({{b}});
    CHECK(adam.group_lr(1) == 0.01);
    CHECK(adam.group_momentum(1) == 0.8);
}

TEST_CASE(
    "Optimizer: add_param_group refuses a parameter already in a group, bad options, L-BFGS") {
    Tensor<double> a(xt::xarray<double>{1.0}, true), b(xt::xarray<double>{1.0}, true);
    SGD<double> opt({a}, SGDOptions(0.1));
    CHECK_THROWS_WITH_AS(opt.add_param_group({{b, a}}),
                         "sgd: add_param_group: some parameters appear in more than one "
                         "parameter group; parameter 1 of the new group is already parameter 0",
                         ValueError);
    CHECK_THROWS_WITH_AS(opt.add_param_group({{b}, SGDOptions(0.1).momentum(-1)}),
                         doctest::Contains("sgd: momentum must be >= 0; got momentum=-1"),
                         ValueError);
    CHECK_THROWS_WITH_AS(opt.add_param_group({{b}, SGDOptions(-1)}),
                         "sgd: add_param_group: lr must be >= 0; got lr=-1 (group 1)", ValueError);
    CHECK_THROWS_WITH_AS(opt.add_param_group({{b * 2.0}}),
                         doctest::Contains("parameter 0 of the new group is not a leaf tensor"),
                         ValueError);
    CHECK(opt.num_groups() == 1);  // nothing was added
    CHECK(opt.params().size() == 1);
    optim::LBFGS<double> lbfgs({a});
    CHECK_THROWS_WITH_AS(lbfgs.add_param_group({{b}}),
                         doctest::Contains("lbfgs: add_param_group: L-BFGS takes one parameter "
                                           "group"),
                         ValueError);
    CHECK(lbfgs.num_groups() == 1);
}

TEST_CASE("Optimizer: state_dict and load after add_param_group, every optimizer") {
    using namespace optim;
    using P = const Tensor<double>&;
    check_state_round_trip([](P a, P b) {
        auto opt = std::make_unique<SGD<double>>(std::vector<Tensor<double>>{a},
                                                 SGDOptions(0.1).momentum(0.9));
        opt->add_param_group({{b}, SGDOptions(0.2).momentum(0.5)});
        return opt;
    });
    check_state_round_trip([](P a, P b) {
        auto opt = std::make_unique<Adam<double>>(std::vector<Tensor<double>>{a});
        opt->add_param_group({{b}, AdamOptions(0.1).amsgrad(true)});
        return opt;
    });
    check_state_round_trip([](P a, P b) {
        auto opt = std::make_unique<RMSprop<double>>(std::vector<Tensor<double>>{a});
        opt->add_param_group({{b}, RMSpropOptions().momentum(0.9).centered(true)});
        return opt;
    });
    check_state_round_trip([](P a, P b) {
        auto opt = std::make_unique<Adagrad<double>>(std::vector<Tensor<double>>{a});
        opt->add_param_group({{b}});
        return opt;
    });
    // an optimizer without the added group cannot load it
    Tensor<double> a(xt::xarray<double>{1.0}, true), b(xt::xarray<double>{2.0}, true);
    SGD<double> two({a}, SGDOptions(0.1));
    two.add_param_group({{b}});
    SGD<double> one({a}, SGDOptions(0.1));
    CHECK_THROWS_WITH_AS(one.load_state_dict(two.state_dict()),
                         doctest::Contains("the state has 2 parameter groups and the optimizer 1"),
                         ValueError);
}
