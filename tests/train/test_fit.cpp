#include "train/fit.hpp"

#include "autograd/errors.hpp"
#include "autograd/random.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/metrics.hpp"
#include "optim/schedule.hpp"
#include "optim/sgd.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace xgrad;
namespace fs = std::filesystem;
using namespace testing;  // TempDir, read_file, write_file, count

namespace {

using Data = nn::Dataset<double>;

// n points in [-1, 1)², class 1 when x0 + x1 > 0 (linearly separable), `flip` swaps the classes.
Data blobs(std::size_t n, std::uint64_t seed, bool flip = false) {
    manual_seed(seed);
    Data d{rand<double>({n, 2}, -1.0, 1.0).value(), xt::xarray<double>::from_shape({n})};
    for (std::size_t i = 0; i < n; ++i) {
        d.targets(i) = (d.inputs(i, 0) + d.inputs(i, 1) > 0) != flip ? 1 : 0;
    }
    return d;
}

train::LossFn<double> cross_entropy() {
    return [](const Tensor<double>& y, const Tensor<double>& t) {
        return nn::sparse_categorical_cross_entropy(y, t);
    };
}

// Quiet options: no progress output, fixed shuffling.
train::FitOptions quiet(std::size_t epochs) {
    return train::FitOptions(epochs).batch_size(8).seed(3).progress(train::Progress::none);
}

// The history of a 2-2 linear model trained with SGD (lr 0.1) on 16 points, validated on 8: what
// the file-writing tests read back.
train::History small_run(const train::FitOptions& options) {
    const Data train_data = blobs(16, 1), valid = blobs(8, 2);
    manual_seed(0);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.1));
    return train::fit(model, sgd, cross_entropy(), train_data, valid, options);
}

}  // namespace

TEST_CASE("fit: history holds one value per epoch and the loss falls on separable data") {
    const Data train = blobs(64, 1), valid = blobs(32, 2);
    manual_seed(0);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.5));
    const auto h = train::fit(model, sgd, cross_entropy(), train, valid, quiet(15));
    CHECK(h.epochs() == 15);
    for (const char* k : {"loss", "accuracy", "val_loss", "val_accuracy", "seconds", "lr"}) {
        CHECK(h.at(k).size() == 15);
    }
    CHECK(h.loss.back() < 0.5 * h.loss.front());
    CHECK(h.val_accuracy.back() >= 0.9);
    CHECK(h.lr.front() == 0.5);
    CHECK(!h.stopped_early);
    CHECK(model.is_training());
    CHECK_THROWS_AS(h.at("precision"), ValueError);
}

TEST_CASE("fit: with lr 0 the epoch means equal evaluate on the same data") {
    // Nothing changes the model, so the batch-size-weighted means over batches of 4, 4, 2
    // must equal the whole-set values evaluate() reports.
    const Data train = blobs(10, 4), valid = blobs(7, 5);
    manual_seed(1);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.0));
    const auto h = train::fit(model, sgd, cross_entropy(), train, valid, quiet(2).batch_size(4));
    const auto on_train = train::evaluate(model, cross_entropy(), train, 10);
    const auto on_valid = train::evaluate(model, cross_entropy(), valid, 3);
    for (std::size_t e = 0; e < 2; ++e) {
        CHECK(h.loss[e] == doctest::Approx(on_train.loss).epsilon(1e-12));
        CHECK(h.accuracy[e] == doctest::Approx(on_train.accuracy).epsilon(1e-12));
        CHECK(h.val_loss[e] == doctest::Approx(on_valid.loss).epsilon(1e-12));
        CHECK(h.val_accuracy[e] == doctest::Approx(on_valid.accuracy).epsilon(1e-12));
    }
    // The one-batch loss is the mean over all 10 examples.
    const auto logits = model(Tensor<double>(train.inputs));
    CHECK(on_train.loss ==
          doctest::Approx(
              nn::sparse_categorical_cross_entropy(logits, Tensor<double>(train.targets)).item())
              .epsilon(1e-12));
}

TEST_CASE("fit: early stopping stops after patience epochs and restores the best weights") {
    // Validation labels are the training labels flipped: every epoch of training makes the
    // validation loss worse, so epoch 1 is the best and patience 2 stops at epoch 3.
    const Data train = blobs(64, 1), valid = blobs(32, 2, /*flip=*/true);
    manual_seed(0);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.5));
    std::vector<std::map<std::string, xt::xarray<double>>> states;
    auto options =
        quiet(20)
            .early_stopping(train::EarlyStopping().patience(2).restore_best_weights(true))
            .on_epoch_end(
                [&](std::size_t, const train::History&) { states.push_back(model.state_dict()); });
    const auto h = train::fit(model, sgd, cross_entropy(), train, valid, options);
    REQUIRE(h.epochs() == 3);
    CHECK(h.val_loss[1] > h.val_loss[0]);  // the premise: the monitored value got worse
    CHECK(h.val_loss[2] > h.val_loss[0]);
    CHECK(h.stopped_early);
    CHECK(h.best_epoch == 1);
    CHECK(h.restored_best);
    REQUIRE(states.size() == 3);
    const auto now = model.state_dict();
    CHECK(now.at("weight") == states[0].at("weight"));
    CHECK(now.at("bias") == states[0].at("bias"));
    CHECK(now.at("weight") != states[2].at("weight"));
}

TEST_CASE("fit: early stopping without restore keeps the last weights, min_delta and max mode") {
    const Data train = blobs(64, 1);
    manual_seed(0);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.5));
    // Training accuracy can never rise by more than 1, so only epoch 1 counts as an improvement
    // (from -inf); patience 1 stops at epoch 2.
    auto es = train::EarlyStopping().monitor("accuracy").min_delta(1.0);
    CHECK(es.maximizes());
    const auto h = train::fit(model, sgd, cross_entropy(), train, quiet(10).early_stopping(es));
    CHECK(h.epochs() == 2);
    CHECK(h.best_epoch == 1);
    CHECK(!h.restored_best);
    CHECK(train::EarlyStopping().mode(train::Mode::max).maximizes());
    CHECK(!train::EarlyStopping().monitor("val_accuracy").mode(train::Mode::min).maximizes());
}

TEST_CASE("fit: the CSV file holds the header and the history values") {
    TempDir dir;
    const auto h = small_run(quiet(3).history_csv(dir / "history.csv"));
    std::istringstream csv(read_file(dir / "history.csv"));
    std::string line;
    std::getline(csv, line);
    CHECK(line == "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds");
    for (std::size_t e = 0; e < 3; ++e) {
        REQUIRE(std::getline(csv, line));
        std::vector<double> cells;
        std::istringstream row(line);
        for (std::string cell; std::getline(row, cell, ',');)
            cells.push_back(std::stod(cell));
        REQUIRE(cells.size() == 7);
        CHECK(cells[0] == double(e + 1));
        CHECK(cells[1] == h.loss[e]);  // the shortest exact form: reads back equal
        CHECK(cells[2] == h.accuracy[e]);
        CHECK(cells[3] == h.val_loss[e]);
        CHECK(cells[4] == h.val_accuracy[e]);
        CHECK(cells[5] == 0.1);
        CHECK(cells[6] == h.seconds[e]);
    }
    CHECK(!std::getline(csv, line));
    for (const auto& entry : fs::directory_iterator(dir.path))  // no temporary file is left
        CHECK(entry.path().filename() == "history.csv");
}

TEST_CASE("fit: the SVG file is well-formed with one polyline per curve") {
    TempDir dir;
    const auto h = small_run(quiet(4).plot_svg(dir / "curves.svg"));
    const std::string svg = read_file(dir / "curves.svg");
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(count(svg, "<svg ") == 1);
    CHECK(svg.size() > 7);
    CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
    CHECK(count(svg, "<polyline") == 4);  // loss, val_loss, accuracy, val_accuracy
    CHECK(count(svg, "<circle") == 16);   // a marker per epoch and curve
    // Every element is closed in order: a stack of open tags ends empty.
    std::vector<std::string> open;
    for (auto p = svg.find('<'); p != std::string::npos; p = svg.find('<', p + 1)) {
        const auto end = svg.find('>', p);
        REQUIRE(end != std::string::npos);
        const std::string tag = svg.substr(p + 1, end - p - 1);
        if (tag[0] == '?' || tag.back() == '/') continue;
        const std::string name = tag.substr(0, tag.find(' '));
        if (name[0] == '/') {
            REQUIRE(!open.empty());
            CHECK(open.back() == name.substr(1));
            open.pop_back();
        } else {
            open.push_back(name);
        }
    }
    CHECK(open.empty());
    // Without validation and accuracy: one panel, one curve.
    train::History loss_only;
    loss_only.loss = h.loss;
    CHECK(count(loss_only.to_svg(), "<polyline") == 1);
}

TEST_CASE("fit: progress prints one line per epoch when the output is not a terminal") {
    const Data train = blobs(16, 1), valid = blobs(8, 2);
    manual_seed(0);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.1));
    std::ostringstream log;
    train::fit(model, sgd, cross_entropy(), train, valid,
               train::FitOptions(3).batch_size(4).output(log));  // automatic → lines
    const std::string text = log.str();
    CHECK(count(text, "\n") == 3);
    CHECK(count(text, "\r") == 0);
    CHECK(text.rfind("Epoch 1/3 - 4 steps - ", 0) == 0);
    CHECK(count(text, "val_accuracy: ") == 3);

    std::ostringstream bar;
    train::fit(model, sgd, cross_entropy(), train,
               train::FitOptions(2).batch_size(4).output(bar).progress(train::Progress::bar));
    CHECK(count(bar.str(), "Epoch 2/2\n") == 1);
    CHECK(count(bar.str(), "\r4/4 [==============================] - ") == 2);
}

TEST_CASE("fit: bad options are named") {
    const Data train = blobs(8, 1);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.1));
    CHECK_THROWS_WITH_AS(train::fit(model, sgd, cross_entropy(), train, quiet(0)),
                         doctest::Contains("epochs=0"), ValueError);
    CHECK_THROWS_WITH_AS(
        train::fit(model, sgd, cross_entropy(), train, quiet(1).early_stopping({})),
        doctest::Contains("monitors val_loss but no validation data"), ValueError);
    CHECK_THROWS_WITH_AS(train::fit(model, sgd, cross_entropy(), train,
                                    quiet(1).early_stopping(train::EarlyStopping().monitor("f1"))),
                         doctest::Contains("monitor=f1"), ValueError);
    const train::LossFn<double> per_example = [](const Tensor<double>& y, const Tensor<double>& t) {
        return nn::sparse_categorical_cross_entropy(y, t, nn::Reduction::none);
    };
    CHECK_THROWS_WITH_AS(train::fit(model, sgd, per_example, train, quiet(1)),
                         doctest::Contains("loss=[8]"), ValueError);
}

// Linear regression y = x0 − 2·x1 on 16 points with SGD at lr 1e6: each step multiplies the
// weights by about 1e6 until the loss overflows to Inf (then NaN).
train::History diverging_run(train::FitOptions options) {
    manual_seed(7);
    Data d{rand<double>({16, 2}, -1.0, 1.0).value(), xt::xarray<double>::from_shape({16, 1})};
    for (std::size_t i = 0; i < 16; ++i)
        d.targets(i, 0) = d.inputs(i, 0) - 2 * d.inputs(i, 1);
    nn::Linear<double> model(2, 1);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(1e6));
    const train::LossFn<double> mse = [](const Tensor<double>& y, const Tensor<double>& t) {
        return nn::mse_loss(y, t);
    };
    return train::fit(model, sgd, mse, d, d, options.batch_size(4).seed(3).accuracy(false));
}

TEST_CASE("fit: a non-finite training loss stops training with a message saying what to try") {
    TempDir dir;
    std::ostringstream out;
    const auto h = diverging_run(train::FitOptions(200)
                                     .progress(train::Progress::lines)
                                     .output(out)
                                     .history_csv(dir / "h.csv"));
    MESSAGE(out.str());
    REQUIRE(h.stopped_on_nan);
    CHECK(!h.stopped_early);
    REQUIRE(h.epochs() < 200);
    CHECK(!std::isfinite(h.loss.back()));
    for (std::size_t e = 0; e + 1 < h.epochs(); ++e)
        CHECK(std::isfinite(h.loss[e]));
    CHECK(h.val_loss.size() == h.epochs());
    CHECK(std::isnan(h.val_loss.back()));
    CHECK(h.stop_reason.find("the training loss is") != std::string::npos);
    CHECK(h.stop_reason.find("lower learning rate (it is 1e+06)") != std::string::npos);
    CHECK(h.stop_reason.find("xgrad::AnomalyGuard") != std::string::npos);
    CHECK(out.str().find(h.stop_reason) != std::string::npos);  // printed, once
    CHECK(count(out.str(), "training stopped") == 1);
    CHECK(count(read_file(dir / "h.csv"), "\n") == h.epochs() + 1);  // the last epoch is saved
}

TEST_CASE("fit: terminate_on_nan(false) trains every epoch on a non-finite loss") {
    const auto h = diverging_run(quiet(60).terminate_on_nan(false));
    CHECK(!h.stopped_on_nan);
    CHECK(h.stop_reason.empty());
    CHECK(h.epochs() == 60);
    CHECK(std::isnan(h.loss.back()));
}

TEST_CASE("predict: batches are stacked and match one forward, in eval mode") {
    const Data d = blobs(10, 1);
    nn::Linear<double> model(2, 3);
    const Tensor<double> y = train::predict(model, d.inputs, 3);  // batches of 3, 3, 3, 1
    CHECK(y.shape() == Shape{10, 3});
    CHECK(!y.requires_grad());
    CHECK(xt::allclose(y.value(), model(Tensor<double>(d.inputs)).value()));
    CHECK(model.is_training());
    model.eval();
    train::evaluate(model, cross_entropy(), blobs(4, 2));
    CHECK(!model.is_training());  // evaluate restores the mode it found
}

// ---- metrics (train/metric.hpp) ----

namespace {

// The mean of the first output column: a metric whose value over a data set is known from
// predict(), accumulated over batches of different sizes.
train::Metric first_column_mean() {
    return train::Metric("first_column", [](const auto& y, const auto& /*t*/) {
        double total = 0;
        for (std::size_t i = 0; i < y.shape()[0]; ++i)
            total += double(y.value()(i, 0));
        return train::MetricValue{total, double(y.shape()[0])};
    });
}

double column_mean(const Tensor<double>& y) {
    double total = 0;
    for (std::size_t i = 0; i < y.shape()[0]; ++i)
        total += y.value()(i, 0);
    return total / double(y.shape()[0]);
}

}  // namespace

TEST_CASE("fit: metrics are accumulated over batches into history, progress, CSV and evaluate") {
    // lr 0: the model never changes, so each epoch's values are those of the whole set, which
    // predict() and nn::top_k_accuracy() give independently.
    const Data train = blobs(10, 4), valid = blobs(7, 5);
    manual_seed(1);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.0));
    TempDir dir;
    std::ostringstream log;
    const auto h =
        train::fit(model, sgd, cross_entropy(), train, valid,
                   quiet(2)
                       .batch_size(4)
                       .progress(train::Progress::lines)
                       .output(log)
                       .history_csv(dir / "h.csv")
                       .metrics({train::Metric::top_k_accuracy(1), first_column_mean()}));
    const Tensor<double> on_train = train::predict(model, train.inputs);
    const Tensor<double> on_valid = train::predict(model, valid.inputs);
    const double top1 = nn::top_k_accuracy(on_train, Tensor<double>(train.targets), 1);
    for (std::size_t e = 0; e < 2; ++e) {
        CHECK(h.at("top1_accuracy")[e] == doctest::Approx(top1));
        CHECK(h.at("first_column")[e] == doctest::Approx(column_mean(on_train)).epsilon(1e-12));
        CHECK(h.at("val_first_column")[e] == doctest::Approx(column_mean(on_valid)).epsilon(1e-12));
        CHECK(h.at("val_top1_accuracy")[e] ==
              doctest::Approx(nn::top_k_accuracy(on_valid, Tensor<double>(valid.targets), 1)));
    }
    CHECK(h.accuracy.size() == 2);  // the accuracy option still adds its metric
    CHECK(read_file(dir / "h.csv")
              .rfind("epoch,loss,accuracy,top1_accuracy,first_column,"
                     "val_loss,val_accuracy,val_top1_accuracy,"
                     "val_first_column,lr,seconds\n",
                     0) == 0);
    CHECK(count(log.str(), " - top1_accuracy: ") == 2);
    CHECK(count(log.str(), " - val_first_column: ") == 2);
    const auto e = train::evaluate(model, cross_entropy(), valid,
                                   {train::Metric::accuracy(), first_column_mean()}, 3);
    CHECK(e.metrics.size() == 2);
    CHECK(e.accuracy == e.metrics.at("accuracy"));
    CHECK(e.metrics.at("first_column") == doctest::Approx(column_mean(on_valid)).epsilon(1e-12));
    CHECK(std::isnan(
        train::evaluate(model, cross_entropy(), valid, std::vector<train::Metric>{}, 3).accuracy));
}

TEST_CASE("fit: early stopping monitors any metric, in the metric's direction") {
    // "calls" rises every epoch (the mean of a counter of calls): maximized it always improves;
    // with greater_is_better off it never improves after epoch 1, so patience 1 stops at 2.
    const Data train = blobs(8, 1);
    for (const bool greater_is_better : {true, false}) {
        manual_seed(0);
        nn::Linear<double> model(2, 2);
        optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.1));
        double calls = 0;
        const train::Metric rising(
            "calls",
            [&calls](const auto&, const auto&) {
                return train::MetricValue{++calls, 1};
            },
            greater_is_better);
        const auto h = train::fit(model, sgd, cross_entropy(), train,
                                  quiet(4).metrics({rising}).early_stopping(
                                      train::EarlyStopping().monitor("calls").patience(1)));
        CHECK(h.stopped_early == !greater_is_better);
        CHECK(h.epochs() == (greater_is_better ? 4 : 2));
        CHECK(h.at("calls")[0] == 1);  // one batch of 8 per epoch: 1, 2, ...
    }
}

TEST_CASE("fit: bad metrics and monitors are named") {
    const Data train = blobs(8, 1);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.1));
    CHECK_THROWS_WITH_AS(
        train::fit(model, sgd, cross_entropy(), train,
                   quiet(1).metrics({train::Metric::accuracy()})),
        doctest::Contains("fit: two metrics are named accuracy (the accuracy option adds one"),
        ValueError);
    const auto on_float = [](const Tensor<float>&, const Tensor<float>&) {
        return train::MetricValue{1, 1};
    };
    CHECK_THROWS_WITH_AS(train::fit(model, sgd, cross_entropy(), train,
                                    quiet(1).metrics({train::Metric("f", on_float)})),
                         "fit: metric f has no function for double outputs", ValueError);
    CHECK_THROWS_WITH_AS(train::fit(model, sgd, cross_entropy(), train,
                                    quiet(1).metrics({train::Metric("val_x", on_float)})),
                         doctest::Contains("not begin with val_; got name='val_x'"), ValueError);
    CHECK_THROWS_WITH_AS(
        train::fit(model, sgd, cross_entropy(), train,
                   quiet(1)
                       .metrics({train::Metric::top_k_accuracy(2)})
                       .early_stopping(train::EarlyStopping().monitor("top5_accuracy"))),
        "fit: early stopping monitor must be one of loss, val_loss, accuracy, val_accuracy, "
        "top2_accuracy, val_top2_accuracy; got monitor=top5_accuracy",
        ValueError);
    CHECK_THROWS_WITH_AS(train::fit(model, sgd, cross_entropy(), train,
                                    quiet(1).metrics({train::Metric::top_k_accuracy(3)})),
                         doctest::Contains("got k=3 with scores=[8, 2]"), ValueError);
    CHECK_THROWS_WITH_AS(train::Metric::top_k_accuracy(0), doctest::Contains("k=0"), ValueError);
}

// ---- schedules (Note [schedules in fit]) ----

TEST_CASE("fit: StepLR stepped per epoch gives the lrs of stepping it by hand") {
    const Data train = blobs(16, 1);
    manual_seed(0);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.1));
    optim::StepLR<double> step(sgd, 2, 0.5);
    const auto h = train::fit(model, sgd, cross_entropy(), train, quiet(5).scheduler(step));
    // by hand: the lr of epochs 0..4, each read before the epoch's step
    Tensor<double> w(xt::xarray<double>{1.0}, true);
    optim::SGD<double> by_hand_opt({w}, optim::SGDOptions(0.1));
    optim::StepLR<double> by_hand(by_hand_opt, 2, 0.5);
    std::vector<double> expected;
    for (int e = 0; e < 5; ++e, by_hand.step())
        expected.push_back(by_hand_opt.lr());
    CHECK(h.lr == expected);  // 0.1, 0.1, 0.05, 0.05, 0.025
    CHECK(expected[4] == doctest::Approx(0.025));
    CHECK(step.last_epoch() == 5);
    CHECK(sgd.lr() == doctest::Approx(0.025));  // after the fifth step: 0.1 · 0.5^⌊5/2⌋
}

TEST_CASE("fit: OneCycleLR stepped per batch takes one step per batch") {
    // 20 examples in batches of 8: 3 batches an epoch, 4 epochs, 12 steps = total_steps
    // (OneCycleLR refuses a 13th)
    const Data train = blobs(20, 1);
    manual_seed(0);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.1).momentum(0.9));
    optim::OneCycleLR<double> one_cycle(sgd, optim::OneCycleLROptions(1.0, 12));
    const auto h = train::fit(model, sgd, cross_entropy(), train,
                              quiet(4).scheduler(one_cycle, train::Step::batch));
    CHECK(one_cycle.last_epoch() == 12);
    Tensor<double> w(xt::xarray<double>{1.0}, true);
    optim::SGD<double> by_hand_opt({w}, optim::SGDOptions(0.1).momentum(0.9));
    optim::OneCycleLR<double> by_hand(by_hand_opt, optim::OneCycleLROptions(1.0, 12));
    REQUIRE(h.lr.size() == 4);
    for (std::size_t e = 0; e < 4; ++e) {
        CHECK(h.lr[e] == by_hand_opt.lr());  // the lr at steps 0, 3, 6, 9
        for (int b = 0; b < 3; ++b)
            by_hand.step();
    }
    CHECK(h.lr[0] == doctest::Approx(0.04));  // max_lr / div_factor 25
    CHECK_THROWS_AS(train::fit(model, sgd, cross_entropy(), train,
                               quiet(1).scheduler(one_cycle, train::Step::batch)),
                    ValueError);  // past total_steps
}

TEST_CASE("fit: ReduceLROnPlateau halves the lr when val_loss stalls") {
    // The optimizer's parameter is not the model's: the model and so val_loss never change.
    // With patience 1, epochs 2 and 3 are bad; after epoch 3 (2 > 1 bad epochs) the lr halves
    // and the count restarts; after epoch 5 it halves again.
    const Data train = blobs(8, 1), valid = blobs(8, 2);
    manual_seed(0);
    nn::Linear<double> model(2, 2);
    Tensor<double> other(xt::xarray<double>{1.0}, true);
    optim::SGD<double> sgd({other}, optim::SGDOptions(0.1));
    optim::ReduceLROnPlateau<double> plateau(
        sgd, optim::ReduceLROnPlateauOptions().patience(1).factor(0.5));
    const auto h =
        train::fit(model, sgd, cross_entropy(), train, valid, quiet(5).scheduler(plateau));
    CHECK(h.val_loss[4] == h.val_loss[0]);
    CHECK(h.lr == std::vector<double>{0.1, 0.1, 0.1, 0.05, 0.05});
    CHECK(sgd.lr() == 0.025);
    CHECK(plateau.last_epoch() == 5);
}

TEST_CASE("fit: a schedule of another optimizer or an unknown plateau monitor is named") {
    const Data train = blobs(8, 1);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.1)),
        other(model.parameters(), optim::SGDOptions(0.1));
    optim::StepLR<double> step(other, 1);
    CHECK_THROWS_WITH_AS(
        train::fit(model, sgd, cross_entropy(), train, quiet(1).scheduler(step)),
        "fit: the schedule step_lr drives another optimizer than the one fit() steps; build it "
        "over that optimizer",
        ValueError);
    optim::ReduceLROnPlateau<double> plateau(sgd);
    CHECK_THROWS_WITH_AS(
        train::fit(model, sgd, cross_entropy(), train, quiet(1).scheduler(plateau)),
        doctest::Contains("reduce_lr_on_plateau monitors val_loss but no "
                          "validation data"),
        ValueError);
    CHECK_THROWS_WITH_AS(
        train::fit(model, sgd, cross_entropy(), train, quiet(1).scheduler(plateau, "f1")),
        doctest::Contains("fit: reduce_lr_on_plateau monitor must be one of loss, val_loss"),
        ValueError);
    CHECK(step.last_epoch() == 0);  // nothing ran
}

TEST_CASE("fit: a transform augments every training example, never the validation data") {
    const Data train_data = blobs(64, 1), valid = blobs(32, 2);
    manual_seed(0);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.5));
    std::size_t calls = 0;
    const nn::Transform<double> mirror = [&calls](xt::xarray<double>& x, std::mt19937_64&) {
        ++calls;
        x = -x;  // the labels no longer match: the training accuracy shows it
    };
    const auto h =
        train::fit(model, sgd, cross_entropy(), train_data, valid, quiet(15).transform(mirror));
    CHECK(calls == 15 * 64);
    // Mirrored inputs with unmirrored labels: the model learns the opposite rule, so it is
    // wrong on the untouched validation data.
    CHECK(h.accuracy.back() > 0.9);
    CHECK(h.val_accuracy.back() < 0.1);
}

TEST_CASE("fit: a transform set only for the other element type is a ValueError") {
    const Data d = blobs(8, 1);
    nn::Linear<double> model(2, 2);
    optim::SGD<double> sgd(model.parameters(), optim::SGDOptions(0.1));
    const nn::Transform<float> for_floats = [](xt::xarray<float>&, std::mt19937_64&) {};
    CHECK_THROWS_WITH_AS(
        train::fit(model, sgd, cross_entropy(), d, quiet(1).transform(for_floats)),
        doctest::Contains("data_loader: the transform takes xt::xarray<float> examples"),
        ValueError);
}
