// The "2 Conv + pooling" network of the TensorFlow tutorial (tf.layers, "Build a Convolutional
// Neural Network"), on Fashion-MNIST, whose benchmark lists it at 0.916 test accuracy:
//   conv 5×5 → 32 same + ReLU, max-pool 2, conv 5×5 → 64 same + ReLU, max-pool 2,
//   dense 1024 + ReLU, dropout 0.4, dense 10 (softmax folded into the loss).
// Glorot-uniform weights and zero biases (tf.layers' defaults), Adam lr 1e-3, batch 64, sparse
// categorical cross-entropy; 55,000 training images, the first 5000 for validation, then the
// 10,000 test images. Writes the learned first-layer filters and the misclassified test images as
// SVG, and the history CSV / curves SVG of fit.
//
//   ./fashion_cnn [--epochs N] [--data DIR] [--out DIR] [--seed S]   (default 1 epoch;
//   docs/results.md: 20)
//   mpirun -np 2 ./fashion_cnn ...   data-parallel on 2 processes (fashion::Processes)

#include "fashion.hpp"

#include <xgrad.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using namespace xgrad;

int main(int argc, char** argv) {
    fashion::Processes processes(&argc, &argv);
    fashion::Args args{1};
    if (!fashion::parse_args("fashion_cnn", argc, argv, args)) return 2;
    const auto data = fashion::load("fashion_cnn", args.data_dir, /*as_images=*/true);
    if (!data) return 2;

    // Model.
    manual_seed(args.seed);  // initial weights, dropout masks and the shuffling order
    const auto model = std::make_shared<nn::Sequential<>>();
    auto conv1 = model->add(nn::Conv2d<>(nn::Conv2dOptions(1, 32, 5).padding(Padding::same)));
    model->add(nn::ReLU<>());
    model->add(nn::MaxPool2d<>(2));
    auto conv2 = model->add(nn::Conv2d<>(nn::Conv2dOptions(32, 64, 5).padding(Padding::same)));
    model->add(nn::ReLU<>());
    model->add(nn::MaxPool2d<>(2));
    model->add(nn::Flatten<>());
    auto dense1 = model->add(nn::Linear<>(7 * 7 * 64, 1024));
    model->add(nn::ReLU<>());
    model->add(nn::Dropout<>(0.4f));
    auto dense2 = model->add(nn::Linear<>(1024, 10));
    for (const Tensor<>& w : {conv1->weight(), conv2->weight(), dense1->weight(), dense2->weight()})
        nn::init::glorot_uniform_(w);
    for (const Tensor<>& b : {conv1->bias(), conv2->bias(), dense1->bias(), dense2->bias()})
        nn::init::zeros_(b);
    fmt::print("{}", nn::summary(*model, {1, 28, 28}));

    // Loss, optimizer, training.
    const train::LossFn<> loss = [](const Tensor<>& logits, const Tensor<>& labels) {
        return nn::sparse_categorical_cross_entropy(logits, labels);
    };
    optim::Adam<> adam(model->parameters(), optim::AdamOptions(1e-3));
    std::filesystem::create_directories(args.out_dir);
    const std::string out = args.out_dir + "/fashion_cnn";
    auto options = train::FitOptions(args.epochs)
                       .batch_size(64)
                       .history_csv(out + "_history.csv")
                       .plot_svg(out + "_curves.svg");
    const train::History h =
        train::fit(processes.wrap(model, options), adam, loss, data->train, data->valid, options);

    // Test set: accuracy overall and per class, the misclassified images, the learned filters.
    const train::Evaluation result = train::evaluate(*model, loss, data->test, 256);
    const auto predicted = nn::argmax_rows(train::predict(*model, data->test.inputs, 256));
    std::vector<std::size_t> right(10), total(10);
    for (std::size_t i = 0; i < predicted.size(); ++i) {
        const auto label = static_cast<std::size_t>(data->test.targets(i));
        ++total[label];
        right[label] += predicted[i] == label;
    }
    for (std::size_t c = 0; c < 10; ++c) {
        fmt::print("  {:<12} {:.3f}\n", fashion::kClassNames[c],
                   double(right[c]) / double(total[c]));
    }
    // Every process holds the same model; process 0 writes the pictures.
    const std::size_t wrong = fashion::save_misclassified(
        processes.main() ? out + "_misclassified.svg" : "", data->test, predicted);
    xt::xarray<float> filters = conv1->weight().value();  // [32, 1, 5, 5]
    filters.reshape({32, 5, 5});
    std::vector<std::string> names;
    for (std::size_t k = 0; k < 32; ++k)
        names.push_back(std::to_string(k));
    if (processes.main()) {
        plot::save_image_grid_svg(out + "_filters.svg", filters, names,
                                  plot::ImageGridOptions()
                                      .title("first-layer filters (red +, blue −)")
                                      .columns(8)
                                      .scale(10)
                                      .colormap(plot::Colormap::diverging));
    }
    fmt::print("wrote {0}_misclassified.svg, {0}_filters.svg, {0}_history.csv, {0}_curves.svg\n",
               out);

    fmt::print(
        "\nparams: {}\nval_accuracy: {:.4f}\ntest_accuracy: {:.4f}\ntest_loss: {:.4f}\n"
        "test_misclassified: {}\nepochs: {}\nseconds_per_epoch: {:.1f}\n"
        "published_test_accuracy: 0.916\n",
        nn::count_parameters(*model), h.val_accuracy.back(), result.accuracy, result.loss, wrong,
        h.epochs(), fashion::seconds_per_epoch(h));
    // One epoch gives about 0.88, ten about 0.92, twenty 0.918 (docs/results.md): the rule checks
    // that training worked; the comparison with the published 0.916 is in the printed lines.
    const double required = args.epochs >= 10 ? 0.91 : 0.85;
    return result.accuracy >= required ? 0 : 1;
}
