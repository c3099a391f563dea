// FitOptions::backup (Keras' BackupAndRestore) and FitOptions::data_parallel checks, on one
// process; tests/dist/dist_test.cpp resumes backups on several processes.

#include "train/fit.hpp"

#include "autograd/errors.hpp"
#include "autograd/io.hpp"
#include "autograd/random.hpp"
#include "nn/activation.hpp"
#include "nn/dropout.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/sequential.hpp"
#include "optim/adam.hpp"
#include "optim/schedule.hpp"
#include "testing.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace xgrad;
namespace fs = std::filesystem;
using namespace testing;  // TempDir, write_file

namespace {

using Data = nn::Dataset<double>;

// n points in [-1, 1)², class 1 when x0 + x1 > 0.
Data blobs(std::size_t n, std::uint64_t seed) {
    manual_seed(seed);
    Data d{rand<double>({n, 2}, -1.0, 1.0).value(), xt::xarray<double>::from_shape({n})};
    for (std::size_t i = 0; i < n; ++i)
        d.targets(i) = d.inputs(i, 0) + d.inputs(i, 1) > 0 ? 1 : 0;
    return d;
}

struct Run {
    std::map<std::string, xt::xarray<double>> weights;
    train::History history;
};

// 6 epochs of a 2-8-2 MLP with dropout (the generator's state matters), Adam (the optimizer's
// state), a warmup stepped per batch and StepLR per epoch (the schedules'), early stopping that
// never fires (its state); `interrupt_after` > 0 throws from on_epoch_end after that epoch.
Run run(const std::string& backup, std::size_t interrupt_after = 0, bool accuracy = true) {
    const Data train_data = blobs(40, 1), valid = blobs(16, 2);
    manual_seed(7);
    nn::Sequential<double> model;
    model.add(nn::Linear<double>(2, 8));
    model.add(nn::ReLU<double>());
    model.add(nn::Dropout<double>(0.3));
    model.add(nn::Linear<double>(8, 2));
    optim::Adam<double> adam(model.parameters(), optim::AdamOptions(0.05));
    optim::LinearLR<double> warmup(
        adam, optim::LinearLROptions().start_factor(0.5).end_factor(1).total_iters(7));
    optim::StepLR<double> decay(adam, 2, 0.5);
    auto options = train::FitOptions(6)
                       .batch_size(8)
                       .progress(train::Progress::none)
                       .accuracy(accuracy)
                       .scheduler(warmup, train::Step::batch)
                       .scheduler(decay, train::Step::epoch)
                       .early_stopping(train::EarlyStopping().patience(10))
                       .backup(backup);
    if (interrupt_after > 0) {
        options.on_epoch_end([interrupt_after, backup](std::size_t epoch, const train::History&) {
            CHECK(fs::exists(backup));  // written before on_epoch_end
            if (epoch == interrupt_after) throw std::runtime_error("interrupted");
        });
    }
    const train::LossFn<double> loss = [](const Tensor<double>& y, const Tensor<double>& t) {
        return nn::sparse_categorical_cross_entropy(y, t);
    };
    Run r;
    r.history = train::fit(model, adam, loss, train_data, valid, options);
    r.weights = model.state_dict();
    return r;
}

// Runs until `epoch`'s backup and throws there, as a crash would; the backup stays.
void interrupt(const std::string& backup, std::size_t epoch, bool accuracy = true) {
    CHECK_THROWS_WITH_AS(run(backup, epoch, accuracy), "interrupted", std::runtime_error);
    REQUIRE(fs::exists(backup));
}

}  // namespace

TEST_CASE("fit backup: an interrupted run resumed from its backup ends as an uninterrupted one") {
    TempDir dir;
    const std::string path = dir / "backup.npz";
    const Run straight = run(path);
    CHECK_FALSE(fs::exists(path));  // removed when fit() ended
    for (std::size_t after : {1, 3, 5}) {
        CAPTURE(after);
        interrupt(path, after);
        manual_seed(12345);  // the resumed run restores the generator from the backup
        const Run resumed = run(path);
        CHECK_FALSE(fs::exists(path));
        // Bit for bit: the same steps in the same order, from the same state.
        CHECK(resumed.weights == straight.weights);
        CHECK(resumed.history.loss == straight.history.loss);
        CHECK(resumed.history.accuracy == straight.history.accuracy);
        CHECK(resumed.history.val_loss == straight.history.val_loss);
        CHECK(resumed.history.lr == straight.history.lr);
        CHECK(resumed.history.seconds.size() == 6);
        CHECK(resumed.history.best_epoch == straight.history.best_epoch);
    }
}

TEST_CASE("fit backup: a corrupt or foreign file is an error naming it, and nothing is trained") {
    TempDir dir;
    const std::string path = dir / "backup.npz";
    write_file(path, "not a zip file");
    CHECK_THROWS_WITH_AS(run(path), doctest::Contains(path.c_str()), IoError);
    save_npz<double>(path, {{"w", xt::xarray<double>({1.0, 2.0})}});
    CHECK_THROWS_WITH_AS(
        run(path),
        doctest::Contains(
            ("backup '" + path + "' is not a fit backup: fit.epoch is missing").c_str()),
        ValueError);
    CHECK(fs::exists(path));  // an unreadable backup is left for the user to look at
}

TEST_CASE("fit backup: resuming with other metrics is refused, naming both lists") {
    TempDir dir;
    const std::string path = dir / "backup.npz";
    interrupt(path, 2, /*accuracy=*/true);
    CHECK_THROWS_WITH_AS(
        run(path, 0, /*accuracy=*/false),
        doctest::Contains("records accuracy, loss, val_accuracy, val_loss, this fit records "
                          "loss, val_loss"),
        ValueError);
}

TEST_CASE("fit: data_parallel with a rank not below the size is a ValueError") {
    struct Bad final : train::DataParallel {
        std::size_t rank() const override { return 2; }
        std::size_t size() const override { return 2; }
        void synchronize_gradients() override {}
        void sum(std::vector<double>& /*values*/) override {}
        std::uint64_t broadcast(std::uint64_t v) override { return v; }
    };
    const Data d = blobs(8, 1);
    nn::Linear<double> model(2, 2);
    optim::Adam<double> adam(model.parameters());
    const train::LossFn<double> loss = [](const Tensor<double>& y, const Tensor<double>& t) {
        return nn::sparse_categorical_cross_entropy(y, t);
    };
    CHECK_THROWS_WITH_AS(train::fit(model, adam, loss, d,
                                    train::FitOptions(1)
                                        .progress(train::Progress::none)
                                        .data_parallel(std::make_shared<Bad>())),
                         "fit: data_parallel: expected 0 <= rank < size; got rank=2, size=2",
                         ValueError);
}
