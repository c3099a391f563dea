// The Keras lecture on Fashion-MNIST (Géron, "Hands-On Machine Learning", ch. 10): a 784-300-100-10
// ReLU MLP with softmax output, Glorot-uniform init, SGD lr 0.01, sparse categorical cross-entropy,
// batch 32, the first 5000 training images held out for validation. Trains with train::fit
// (progress bar, history CSV, loss/accuracy SVG), evaluates on the test set, saves the model,
// reloads it into a fresh model and checks it predicts identically, then names three test images.
//
//   ./fashion_mlp [--epochs N] [--data DIR] [--out DIR] [--seed S]   (the lecture: 30 epochs)
//   mpirun -np 2 ./fashion_mlp ...   data-parallel on 2 processes (fashion::Processes)

#include "fashion.hpp"

#include <xgrad.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

using namespace xgrad;

namespace {

// Dense(300, relu) → Dense(100, relu) → Dense(10); softmax is folded into the loss (log_softmax).
nn::Sequential<> make_model() {
    nn::Sequential<> model;
    const std::pair<std::size_t, std::size_t> sizes[] = {{784, 300}, {300, 100}, {100, 10}};
    for (const auto& [in, out] : sizes) {
        auto dense = model.add(nn::Linear<>(in, out));
        nn::init::glorot_uniform_(dense->weight());  // Keras' defaults: Glorot uniform, zero bias
        nn::init::zeros_(dense->bias());
        if (out != 10) model.add(nn::ReLU<>());
    }
    return model;
}

}  // namespace

int main(int argc, char** argv) {
    fashion::Processes processes(&argc, &argv);
    fashion::Args args{2};  // a short run by default; the lecture's figure needs --epochs 30
    if (!fashion::parse_args("fashion_mlp", argc, argv, args)) return 2;
    const auto data = fashion::load("fashion_mlp", args.data_dir, /*as_images=*/false);
    if (!data) return 2;
    const nn::Dataset<>&train = data->train, &valid = data->valid, &test = data->test;

    // Model, loss, optimizer.
    manual_seed(args.seed);  // initial weights and the shuffling order
    const auto model = std::make_shared<nn::Sequential<>>(make_model());
    fmt::print("{}", nn::summary(*model, {784}));
    const train::LossFn<> loss = [](const Tensor<>& logits, const Tensor<>& labels) {
        return nn::sparse_categorical_cross_entropy(logits, labels);
    };
    optim::SGD<> sgd(model->parameters(), optim::SGDOptions(0.01));

    // Training loop.
    std::filesystem::create_directories(args.out_dir);
    const std::string csv = args.out_dir + "/fashion_mlp_history.csv";
    const std::string svg = args.out_dir + "/fashion_mlp_curves.svg";
    auto options = train::FitOptions(args.epochs).batch_size(32).history_csv(csv).plot_svg(svg);
    const train::History h =
        train::fit(processes.wrap(model, options), sgd, loss, train, valid, options);
    const train::Evaluation result = train::evaluate(*model, loss, test);

    // Save, reload into a fresh model, and check that it predicts exactly the same (every
    // process holds the same weights; process 0 writes them).
    const std::string weights = args.out_dir + "/fashion_mlp.npz";
    if (processes.main()) model->save(weights);
    processes.barrier();
    nn::Sequential<> reloaded = make_model();
    reloaded.load(weights);
    const Tensor<> before = train::predict(*model, test.inputs);
    const Tensor<> after = train::predict(reloaded, test.inputs);
    const bool identical = before.value() == after.value();
    fmt::print("wrote {}, {}, {}\nreloaded model predicts identically: {}\n", weights, csv, svg,
               identical ? "yes" : "NO");

    // Three new images: X_new = X_test[:3].
    const nn::Dataset<> fresh = fashion::rows(test, 0, 3);
    const Tensor<> proba = softmax(train::predict(reloaded, fresh.inputs));
    const auto predicted = nn::argmax_rows(proba);
    for (std::size_t i = 0; i < 3; ++i) {
        fmt::print("test image {}: {} (p = {:.2f}; true class: {})\n", i,
                   fashion::kClassNames[predicted[i]], proba(i, predicted[i]),
                   fashion::kClassNames[static_cast<int>(fresh.targets(i))]);
    }

    fmt::print(
        "\nparams: {}\nval_accuracy: {:.4f}\ntest_accuracy: {:.4f}\ntest_loss: {:.4f}\n"
        "epochs: {}\nseconds_per_epoch: {:.2f}\nkeras_test_accuracy_30_epochs: 0.8822\n",
        nn::count_parameters(*model), h.val_accuracy.back(), result.accuracy, result.loss,
        h.epochs(), fashion::seconds_per_epoch(h));
    // Plain SGD ends 30 epochs between 0.857 and 0.885 depending on the seed (docs/results.md),
    // around Keras' 0.8822; one epoch already gives about 0.81.
    const double required = args.epochs >= 10 ? 0.85 : 0.78;
    return identical && result.accuracy > required ? 0 : 1;
}
