// A deep autoencoder on Fashion-MNIST (lecture 003's list of principal networks): an encoder
// squeezes each 28×28 image into a code of --code numbers (32 by default), a decoder rebuilds the
// image from it, and the two train together on the mean squared reconstruction error with Adam.
// Dense (784-256-64-code and back) by default; --conv uses two strided convolutions and two
// transposed convolutions (ConvTranspose2d) instead. Prints the reconstruction error per epoch
// (training and validation, through train::fit) and on the test set, beside the error of always
// answering the mean training image; writes test images beside their reconstructions and a map of
// the test set's codes (their first two principal components, coloured by class) as SVG. Exits
// non-zero unless the test error is below half the mean image's.
//
//   ./autoencoder [--conv] [--epochs N] [--code K] [--data DIR] [--out DIR] [--seed S]
//   (defaults: dense, 5 epochs, K = 32)

#include "fashion.hpp"

#include <xgrad.hpp>

#include <fmt/format.h>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xview.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

// The encoder and the decoder, registered as children "encoder" and "decoder".
class Autoencoder : public nn::Module<> {
public:
    Autoencoder(bool conv, std::size_t code)
        : encoder_(register_module("encoder", std::make_shared<nn::Sequential<>>())),
          decoder_(register_module("decoder", std::make_shared<nn::Sequential<>>())) {
        if (conv) {
            const auto down = [](std::size_t in, std::size_t out) {
                return nn::Conv2d<>(nn::Conv2dOptions(in, out, 3).stride(2).padding(1));
            };
            const auto up = [](std::size_t in, std::size_t out) {
                return nn::ConvTranspose2d<>(
                    nn::ConvTranspose2dOptions(in, out, 3).stride(2).padding(1).output_padding(1));
            };
            encoder_->add(down(1, 16));  // [16, 14, 14]
            encoder_->add(nn::ReLU<>());
            encoder_->add(down(16, 32));  // [32, 7, 7]
            encoder_->add(nn::ReLU<>());
            encoder_->add(nn::Flatten<>());
            encoder_->add(nn::Linear<>(32 * 7 * 7, code));
            decoder_->add(nn::Linear<>(code, 32 * 7 * 7));
            decoder_->add(nn::ReLU<>());
            decoder_->add(nn::Unflatten<>({32, 7, 7}));
            decoder_->add(up(32, 16));  // [16, 14, 14]
            decoder_->add(nn::ReLU<>());
            decoder_->add(up(16, 1));  // [1, 28, 28]
        } else {
            const std::size_t sizes[] = {784, 256, 64, code};
            for (std::size_t i = 0; i + 1 < 4; ++i) {
                encoder_->add(nn::Linear<>(sizes[i], sizes[i + 1]));
                if (i + 2 < 4) encoder_->add(nn::ReLU<>());
            }
            for (std::size_t i = 3; i > 0; --i) {
                decoder_->add(nn::Linear<>(sizes[i], sizes[i - 1]));
                if (i > 1) decoder_->add(nn::ReLU<>());
            }
        }
        decoder_->add(nn::Sigmoid<>());  // pixels in [0, 1]
    }

    Tensor<> forward(const Tensor<>& x) override { return (*decoder_)((*encoder_)(x)); }
    std::string type_name() const override { return "Autoencoder"; }
    nn::Sequential<>& encoder() { return *encoder_; }

private:
    std::shared_ptr<nn::Sequential<>> encoder_, decoder_;
};

struct Options {
    bool conv = false;
    std::size_t code = 32;
    fashion::Args args{5};
};

bool parse(int argc, char** argv, Options& o) {
    std::vector<char*> rest = {argv[0]};
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--conv") == 0) {
            o.conv = true;
        } else if (std::strcmp(argv[i], "--code") == 0 && i + 1 < argc) {
            o.code = std::strtoul(argv[++i], nullptr, 10);
            if (o.code < 2) return false;
        } else {
            rest.push_back(argv[i]);
        }
    }
    return fashion::parse_args("autoencoder", static_cast<int>(rest.size()), rest.data(), o.args);
}

// A data set whose targets are its inputs.
nn::Dataset<> to_itself(const nn::Dataset<>& d) {
    return {d.inputs, d.inputs};
}

// Mean squared error of answering the mean training image for every test image.
double mean_image_mse(const nn::Dataset<>& train, const nn::Dataset<>& test) {
    const std::size_t pixels = train.inputs.size() / train.size();
    xt::xarray<double> mean = xt::zeros<double>({pixels});
    for (std::size_t i = 0; i < train.size(); ++i)
        for (std::size_t p = 0; p < pixels; ++p)
            mean(p) += train.inputs.data()[i * pixels + p];
    mean /= static_cast<double>(train.size());
    double sum = 0;
    for (std::size_t i = 0; i < test.size(); ++i)
        for (std::size_t p = 0; p < pixels; ++p) {
            const double d = test.inputs.data()[i * pixels + p] - mean(p);
            sum += d * d;
        }
    return sum / static_cast<double>(test.inputs.size());
}

// The first test image of each class (top row) above its reconstruction (bottom row).
void save_reconstructions(const std::string& path, const nn::Dataset<>& test,
                          const xt::xarray<float>& rebuilt) {
    xt::xarray<float> images = xt::zeros<float>({20, 28, 28});
    std::vector<std::string> captions(20);
    std::size_t found = 0;
    for (std::size_t i = 0; i < test.size() && found < 10; ++i) {
        const auto c = static_cast<std::size_t>(test.targets(i));
        if (!captions[c].empty()) continue;
        std::copy(test.inputs.data() + i * 784, test.inputs.data() + (i + 1) * 784,
                  images.data() + c * 784);
        std::copy(rebuilt.data() + i * 784, rebuilt.data() + (i + 1) * 784,
                  images.data() + (10 + c) * 784);
        captions[c] = fashion::kClassNames[c];
        captions[10 + c] = "rebuilt";
        ++found;
    }
    plot::save_image_grid_svg(path, images, captions,
                              plot::ImageGridOptions()
                                  .title("test images (top) and their reconstructions (bottom)")
                                  .columns(10)
                                  .scale(3));
}

// Projects codes [n, k] on their first two principal components; returns the share of the
// variance the two explain.
double principal_plane(const xt::xarray<float>& codes, std::vector<double>& x,
                       std::vector<double>& y) {
    xt::xarray<double> c = xt::cast<double>(codes);
    const xt::xarray<double> mean = xt::mean(c, {0});
    c -= mean;
    const xt::xarray<double> cov =
        xt::linalg::dot(xt::transpose(c), c) / static_cast<double>(c.shape()[0] - 1);
    const auto [values, vectors] = xt::linalg::eigh(cov);  // ascending eigenvalues
    const std::size_t k = values.size();
    const xt::xarray<double> plane =
        xt::view(vectors, xt::all(), xt::range(k - 2, k));  // [k, 2]: the two largest
    const xt::xarray<double> projected = xt::linalg::dot(c, plane);
    x.clear();
    y.clear();
    for (std::size_t i = 0; i < projected.shape()[0]; ++i) {
        x.push_back(projected(i, 1));  // the largest component across
        y.push_back(projected(i, 0));
    }
    return (values(k - 1) + values(k - 2)) / xt::sum(values)();
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse(argc, argv, o)) {
        fmt::print(stderr,
                   "usage: autoencoder [--conv] [--code K >= 2] [--epochs N] [--data DIR] "
                   "[--out DIR] [--seed S]\n");
        return 2;
    }
    const auto data = fashion::load("autoencoder", o.args.data_dir, /*as_images=*/o.conv);
    if (!data) return 2;
    const std::string name = o.conv ? "autoencoder_conv" : "autoencoder";

    manual_seed(o.args.seed);
    Autoencoder model(o.conv, o.code);
    fmt::print("{}", nn::summary(model, o.conv ? Shape{1, 28, 28} : Shape{784}));
    optim::Adam<> adam(model.parameters(), optim::AdamOptions(1e-3));
    const train::LossFn<> mse = [](const Tensor<>& rebuilt, const Tensor<>& image) {
        return nn::mse_loss(rebuilt, image);
    };
    const train::History h = train::fit(
        model, adam, mse, to_itself(data->train), to_itself(data->valid),
        train::FitOptions(o.args.epochs).batch_size(128).accuracy(false).seed(o.args.seed));

    const nn::Dataset<> test = to_itself(data->test);
    const double test_mse = train::evaluate(model, mse, test, 256, /*with_accuracy=*/false).loss;
    const double baseline = mean_image_mse(data->train, data->test);
    fmt::print("mean_image_mse: {:.5f}\ntest_reconstruction_mse: {:.5f}\n", baseline, test_mse);
    fmt::print("seconds_per_epoch: {:.1f}\n", fashion::seconds_per_epoch(h));

    std::filesystem::create_directories(o.args.out_dir);
    const std::string pictures = o.args.out_dir + "/" + name + "_reconstructions.svg";
    save_reconstructions(pictures, data->test, train::predict(model, test.inputs, 256).value());
    const Tensor<> codes = train::predict(model.encoder(), test.inputs, 256);  // [10000, code]
    std::vector<double> x, y;
    const double explained = principal_plane(codes.value(), x, y);
    // Every test image's code sets the plane; the first 3000 are drawn (a picture of 10000 dots
    // is a megabyte of SVG and no clearer).
    const std::size_t shown = std::min<std::size_t>(3000, test.size());
    x.resize(shown);
    y.resize(shown);
    std::vector<std::size_t> labels;
    for (std::size_t i = 0; i < shown; ++i)
        labels.push_back(static_cast<std::size_t>(data->test.targets(i)));
    const std::string map = o.args.out_dir + "/" + name + "_codes.svg";
    plot::save_scatter_svg(
        map, x, y, labels,
        std::vector<std::string>(std::begin(fashion::kClassNames), std::end(fashion::kClassNames)),
        fmt::format("codes of {} test images: the first two principal components ({:.0f}% of "
                    "the variance)",
                    shown, 100 * explained));
    fmt::print("codes_variance_in_plane: {:.3f}\nwrote {} and {}\n", explained, pictures, map);

    if (!(test_mse < 0.5 * baseline)) {
        fmt::print("FAIL: the test error {:.5f} is not below half the mean image's {:.5f}\n",
                   test_mse, baseline);
        return 1;
    }
    return 0;
}
