// A small DCGAN (Radford et al. 2016) on MNIST, trained with the standard alternating step:
//   generator     z [64] → Linear → [2W·7·7] → BatchNorm1d → ReLU → [2W, 7, 7]
//                 → ConvTranspose2d 4×4 stride 2 → [W, 14, 14] → BatchNorm2d → ReLU
//                 → ConvTranspose2d 4×4 stride 2 → [1, 28, 28] → tanh      (W = 32)
//   discriminator [1, 28, 28] → Conv2d 4×4 stride 2 → [W, 14, 14] → LeakyReLU(0.2)
//                 → Conv2d 4×4 stride 2 → [2W, 7, 7] → BatchNorm2d → LeakyReLU(0.2) → Linear → 1
// Weights N(0, 0.02) (batch-norm scales N(1, 0.02)), Adam lr 2e-4, β1 0.5 for both, batch 64,
// binary cross-entropy on the logit. The images are scaled to [−1, 1] to match tanh. Each step
// trains D on a real batch (label 1) and on G(z).detach() (label 0), then G with the
// non-saturating loss: the label 1 on D(G(z)).
// After every epoch: the mean losses, the time, and gan_epoch_<k>.svg, the samples of 64 FIXED
// noise vectors. At the end, a LeNet-like classifier trained on all the training images (2 epochs,
// whatever --limit says) judges 1000 samples of the trained generator, 1000 of the same generator
// untrained, and 1000 real test images: the class histogram, the mean max-softmax confidence, the
// fraction above 0.9 and the classifier score exp(E_x KL(p(y|x) ‖ p(y))) (the Inception score's
// formula: 1 to 10).
//
//   ./gan [--epochs N] [--limit N] [--data DIR] [--out DIR] [--seed S]
//   (default 5 epochs on all 60000 training images; docs/results.md)

#include <xgrad.hpp>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

constexpr std::size_t kNoise = 64, kWidth = 32;

nn::Sequential<> make_generator() {
    const auto up = [](std::size_t in, std::size_t out) {  // h → 2h
        return nn::ConvTranspose2d<>(nn::ConvTranspose2dOptions(in, out, 4).stride(2).padding(1));
    };
    nn::Sequential<> g;
    g.add(nn::Linear<>(kNoise, 2 * kWidth * 7 * 7));
    g.add(nn::BatchNorm1d<>(2 * kWidth * 7 * 7));
    g.add(nn::ReLU<>());
    g.add(nn::Unflatten<>({2 * kWidth, 7, 7}));  // [n, 2W, 7, 7]
    g.add(up(2 * kWidth, kWidth));               // [n, W, 14, 14]
    g.add(nn::BatchNorm2d<>(kWidth));
    g.add(nn::ReLU<>());
    g.add(up(kWidth, 1));  // [n, 1, 28, 28]
    g.add(nn::Tanh<>());
    return g;
}

nn::Sequential<> make_discriminator() {
    const auto down = [](std::size_t in, std::size_t out) {  // h → h/2
        return nn::Conv2d<>(nn::Conv2dOptions(in, out, 4).stride(2).padding(1));
    };
    nn::Sequential<> d;
    d.add(down(1, kWidth));  // [n, W, 14, 14]
    d.add(nn::LeakyReLU<>(0.2f));
    d.add(down(kWidth, 2 * kWidth));  // [n, 2W, 7, 7]
    d.add(nn::BatchNorm2d<>(2 * kWidth));
    d.add(nn::LeakyReLU<>(0.2f));
    d.add(nn::Flatten<>());
    d.add(nn::Linear<>(2 * kWidth * 7 * 7, 1));  // the logit of "real"
    return d;
}

// DCGAN's initialisation: every weight N(0, 0.02), batch-norm scales N(1, 0.02), biases 0.
void dcgan_init(nn::Module<>& model) {
    for (const auto& [name, p] : model.named_parameters()) {
        const bool norm = p.dim() == 1 && name.find("weight") != std::string::npos;
        if (p.dim() > 1 || norm)
            nn::init::normal_(p, norm ? 1.0f : 0.0f, 0.02f);
        else
            nn::init::zeros_(p);
    }
}

// What the classifier says about images [n, 1, 28, 28] in [0, 1].
struct Judgement {
    std::vector<std::size_t> histogram = std::vector<std::size_t>(10);
    double mean_confidence = 0, confident = 0, score = 0;
};

Judgement judge(nn::Module<>& classifier, const xt::xarray<float>& images) {
    const Tensor<> p = softmax(train::predict(classifier, images, 250));  // [n, 10]
    const std::size_t n = p.shape()[0];
    Judgement j;
    std::vector<double> marginal(10);
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t best = 0;
        for (std::size_t c = 0; c < 10; ++c) {
            marginal[c] += p.value()(i, c) / double(n);
            if (p.value()(i, c) > p.value()(i, best)) best = c;
        }
        ++j.histogram[best];
        j.mean_confidence += p.value()(i, best) / double(n);
        j.confident += (p.value()(i, best) > 0.9f) / double(n);
    }
    double kl = 0;  // E_x KL(p(y|x) ‖ p(y))
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t c = 0; c < 10; ++c) {
            const double q = p.value()(i, c);
            if (q > 0) kl += q * std::log(q / marginal[c]) / double(n);
        }
    j.score = std::exp(kl);
    return j;
}

void report(const char* name, const Judgement& j) {
    fmt::print(
        "{}_histogram: {}\n{}_mean_confidence: {:.3f}\n{}_confident_0.9: {:.3f}\n"
        "{}_classifier_score: {:.2f}\n",
        name, fmt::join(j.histogram, " "), name, j.mean_confidence, name, j.confident, name,
        j.score);
}

// G(z) for noise z [n, kNoise] in evaluation mode, as images in [0, 1].
xt::xarray<float> sample(nn::Module<>& g, const Tensor<>& z) {
    xt::xarray<float> x = (train::predict(g, z.value(), 250).value() + 1.0f) / 2.0f;
    return x;  // [n, 1, 28, 28]
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t epochs = 5, limit = 60000;
    std::uint64_t seed = 1;
    const char* env = std::getenv("XGRAD_MNIST_DIR");
    std::string data_dir = env != nullptr ? env : "/usr/share/datasets/mnist", out_dir = ".";
    for (int i = 1; i < argc; i += 2) {
        const std::string arg = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        if (value && arg == "--epochs")
            epochs = std::strtoul(value, nullptr, 10);
        else if (value && arg == "--limit")
            limit = std::strtoul(value, nullptr, 10);
        else if (value && arg == "--seed")
            seed = std::strtoull(value, nullptr, 10);
        else if (value && arg == "--data")
            data_dir = value;
        else if (value && arg == "--out")
            out_dir = value;
        else
            epochs = 0;
        if (epochs == 0 || limit < 64) {
            fmt::print(stderr,
                       "usage: gan [--epochs N] [--limit N >= 64] [--data DIR] "
                       "[--out DIR] [--seed S]\n");
            return 2;
        }
    }

    // Data: [n, 1, 28, 28] in [0, 1]; the GAN sees the first `limit` training images, the
    // classifier all 60000.
    nn::Dataset<> full, test;
    try {
        full = nn::load_mnist<float>(data_dir, true);
        test = nn::load_mnist<float>(data_dir, false);
    } catch (const IoError& e) {
        fmt::print(stderr, "gan: {}\n", e.what());
        return 2;
    }
    full.inputs.reshape({full.size(), 1, 28, 28});
    test.inputs.reshape({test.size(), 1, 28, 28});
    limit = std::min(limit, full.size());
    const nn::Dataset<> train_set{xt::view(full.inputs, xt::range(0, limit)),
                                  xt::view(full.targets, xt::range(0, limit))};
    fmt::print("gan train: {}  classifier train: {}  test: {}\n", train_set.size(), full.size(),
               test.size());

    // Models, the untrained generator kept for the baseline, the fixed noise.
    manual_seed(seed);
    nn::Sequential<> generator = make_generator(), discriminator = make_discriminator();
    dcgan_init(generator);
    dcgan_init(discriminator);
    const std::shared_ptr<nn::Module<>> untrained = generator.clone();
    const Tensor<> fixed_noise = randn<float>({64, kNoise});
    fmt::print("{}{}", nn::summary(generator, {kNoise}), nn::summary(discriminator, {1, 28, 28}));

    optim::Adam<> g_opt(generator.parameters(), optim::AdamOptions(2e-4).betas(0.5, 0.999));
    optim::Adam<> d_opt(discriminator.parameters(), optim::AdamOptions(2e-4).betas(0.5, 0.999));
    nn::DataLoader<> loader(train_set,
                            nn::DataLoaderOptions(64).shuffle(true).drop_last(true).seed(seed));
    std::filesystem::create_directories(out_dir);
    double seconds = 0, d_mean = 0, g_mean = 0;
    for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        double d_total = 0, g_total = 0;
        for (const auto& [x, labels] : loader) {
            const Tensor<> real = x * 2.0f - 1.0f;  // [64, 1, 28, 28] in [−1, 1]
            const std::size_t n = real.shape()[0];
            const Tensor<> is_real = ones<float>({n, 1}), is_fake = zeros<float>({n, 1});
            const Tensor<> fake = generator(randn<float>({n, kNoise}));

            // D: real → 1, G(z) → 0; detach keeps this step's gradient out of G.
            d_opt.zero_grad();
            const Tensor<> d_loss =
                nn::binary_cross_entropy_with_logits(discriminator(real), is_real) +
                nn::binary_cross_entropy_with_logits(discriminator(fake.detach()), is_fake);
            d_loss.backward();
            d_opt.step();

            // G: the non-saturating loss −log D(G(z)), i.e. the label 1 on the fakes.
            g_opt.zero_grad();
            const Tensor<> g_loss =
                nn::binary_cross_entropy_with_logits(discriminator(fake), is_real);
            g_loss.backward();
            g_opt.step();
            d_total += d_loss.item();
            g_total += g_loss.item();
        }
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        seconds += s;
        d_mean = d_total / double(loader.num_batches());
        g_mean = g_total / double(loader.num_batches());
        xt::xarray<float> images = sample(generator, fixed_noise);
        images.reshape({64, 28, 28});
        const std::string path = fmt::format("{}/gan_epoch_{}.svg", out_dir, epoch);
        plot::save_image_grid_svg(path, images, {},
                                  plot::ImageGridOptions()
                                      .title(fmt::format("epoch {}: 64 fixed noise vectors", epoch))
                                      .columns(8)
                                      .scale(2));
        fmt::print("epoch {}: d_loss: {:.4f}  g_loss: {:.4f}  seconds: {:.1f}  wrote {}\n", epoch,
                   d_mean, g_mean, s, path);
        std::fflush(stdout);
    }

    // The judge: a LeNet-like classifier (ReLU, max pooling), Adam lr 1e-3, 2 epochs.
    nn::Sequential<> classifier;
    classifier.add(nn::Conv2d<>(nn::Conv2dOptions(1, 6, 5).padding(2)));  // [6, 28, 28]
    classifier.add(nn::ReLU<>());
    classifier.add(nn::MaxPool2d<>(2));                         // [6, 14, 14]
    classifier.add(nn::Conv2d<>(nn::Conv2dOptions(6, 16, 5)));  // [16, 10, 10]
    classifier.add(nn::ReLU<>());
    classifier.add(nn::MaxPool2d<>(2));  // [16, 5, 5]
    classifier.add(nn::Flatten<>());
    classifier.add(nn::Linear<>(16 * 5 * 5, 120));
    classifier.add(nn::ReLU<>());
    classifier.add(nn::Linear<>(120, 84));
    classifier.add(nn::ReLU<>());
    classifier.add(nn::Linear<>(84, 10));
    const train::LossFn<> ce = [](const Tensor<>& logits, const Tensor<>& y) {
        return nn::sparse_categorical_cross_entropy(logits, y);
    };
    optim::Adam<> c_opt(classifier.parameters(), optim::AdamOptions(1e-3));
    train::fit(classifier, c_opt, ce, full,
               train::FitOptions(2).batch_size(64).seed(seed).progress(train::Progress::none));
    const double accuracy = train::evaluate(classifier, ce, test, 500).accuracy;

    manual_seed(seed + 1);
    const Tensor<> z = randn<float>({1000, kNoise});
    const Judgement real = judge(classifier, xt::view(test.inputs, xt::range(0, 1000)));
    const Judgement trained = judge(classifier, sample(generator, z));
    const Judgement baseline = judge(classifier, sample(*untrained, z));

    fmt::print(
        "\nepochs: {}\ntrain_images: {}\nseconds_per_epoch: {:.1f}\nd_loss: {:.4f}\n"
        "g_loss: {:.4f}\nclassifier_test_accuracy: {:.4f}\n",
        epochs, limit, seconds / double(epochs), d_mean, g_mean, accuracy);
    report("real", real);
    report("generated", trained);
    report("untrained", baseline);
    // The rule: the trained generator's samples must be recognised clearly more often and more
    // diversely than the untrained one's. The default run (4685 steps) gave 0.582 and 6.13 against
    // 0.000 and 1.00 (docs/results.md); the ctest run (3 epochs on 10000 images, 468 steps) gave
    // 0.316-0.334 and 4.12-4.63 with seeds 1-3, so runs under 2000 steps get smaller margins.
    const bool long_run = epochs * loader.num_batches() >= 2000;
    const double confident_margin = long_run ? 0.4 : 0.15, score_margin = long_run ? 3.0 : 2.0;
    const bool ok = trained.confident >= baseline.confident + confident_margin &&
                    trained.score >= baseline.score + score_margin;
    fmt::print(
        "check: generated_confident_0.9 >= untrained + {} and generated_classifier_score "
        ">= untrained + {}: {}\n",
        confident_margin, score_margin, ok ? "passed" : "FAILED");
    return ok ? 0 : 1;
}
