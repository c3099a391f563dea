// Memory stays flat over long training (docs/reliability.md, "Memory"): each step's graph is
// freed when its last tensor goes, so neither the live node count nor the resident size grows
// from step to step.

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/loss.hpp"
#include "autograd/random.hpp"
#include "autograd/tensor.hpp"
#include "nn/activation.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/sequential.hpp"
#include "optim/sgd.hpp"
#include "testing.hpp"
#include "train/fit.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>

using namespace xgrad;

namespace {

// The resident set size of this process, from /proc/self/statm (its second field, in pages).
std::int64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::int64_t size = 0, resident = 0;
    statm >> size >> resident;
    REQUIRE(statm);
    return resident * static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
}

// Growth allowed over 2000 steps: allocator noise only. A step of the model below keeps about
// 20 KB of activations alive through its graph, so a loop that kept its graphs would grow by
// about 40 MB.
constexpr std::int64_t kAllowedGrowth = 1 << 20;

// Under AddressSanitizer freed memory waits in its quarantine, so the resident size grows by
// design there; that build checks the same loops for leaks with LeakSanitizer instead
// (scripts/sanitize.sh), and the live node count still here.
void check_resident_growth(std::int64_t before) {
    if (testing::under_asan) {
        MESSAGE("AddressSanitizer build: the resident size is not checked");
        return;
    }
    CHECK(resident_bytes() - before < kAllowedGrowth);
}

std::shared_ptr<nn::Sequential<float>> small_mlp() {
    manual_seed(0);
    auto model = std::make_shared<nn::Sequential<float>>();
    model->add(std::make_shared<nn::Linear<float>>(20, 64));
    model->add(std::make_shared<nn::ReLU<float>>());
    model->add(std::make_shared<nn::Linear<float>>(64, 10));
    return model;
}

}  // namespace

TEST_CASE("training: 2000 steps keep the live node count and the resident size flat") {
    auto model = small_mlp();
    optim::SGD<float> sgd(model->parameters(), optim::SGDOptions(0.01));
    const Tensor<float> x = randn<float>({32, 20});
    Index labels = Index::from_shape({32});
    for (std::size_t i = 0; i < 32; ++i)
        labels(i) = static_cast<std::int64_t>(i % 10);
    auto step = [&] {
        sgd.zero_grad();
        const Tensor<float> loss = cross_entropy((*model)(x), labels);
        loss.backward();
        sgd.step();
    };
    for (int i = 0; i < 200; ++i)  // warm-up: the allocator's and free lists' steady state
        step();
    const std::int64_t nodes = live_nodes(), rss = resident_bytes();
    for (int i = 0; i < 2000; ++i)
        step();
    MESSAGE("live nodes ", nodes, " -> ", live_nodes(), ", resident ", rss / 1024, " KiB -> ",
            resident_bytes() / 1024, " KiB");
    CHECK(live_nodes() == nodes);
    check_resident_growth(rss);
}

TEST_CASE("fit: 2000 steps keep the live node count and the resident size flat") {
    auto model = small_mlp();
    optim::SGD<float> sgd(model->parameters(), optim::SGDOptions(0.01));
    manual_seed(1);
    nn::Dataset<float> data{randn<float>({320, 20}).value(), xt::xarray<float>::from_shape({320})};
    for (std::size_t i = 0; i < 320; ++i)
        data.targets(i) = float(i % 10);
    const train::LossFn<float> loss = [](const Tensor<float>& y, const Tensor<float>& t) {
        return nn::sparse_categorical_cross_entropy(y, t);
    };
    std::int64_t nodes = 0, rss = 0;
    auto options = train::FitOptions(220).batch_size(32).seed(2).progress(train::Progress::none);
    options.on_epoch_end([&](std::size_t epoch, const train::History&) {
        if (epoch == 20) {  // after 200 steps of warm-up, 2000 steps to go
            nodes = live_nodes();
            rss = resident_bytes();
        }
    });
    train::fit(*model, sgd, loss, data, data, options);
    MESSAGE("live nodes ", nodes, " -> ", live_nodes(), ", resident ", rss / 1024, " KiB -> ",
            resident_bytes() / 1024, " KiB");
    CHECK(live_nodes() == nodes);
    check_resident_growth(rss);
}
