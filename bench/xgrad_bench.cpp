// xgrad side of the engine benchmark; torch_bench.cpp runs the same workloads on LibTorch.
// Each workload is one training-style iteration: zero the leaves' gradients, forward, backward
// (the MLP, CNN and recurrent workloads add the SGD update; fashion_epoch_b32 times an epoch).
// Output format: see timing.hpp. Driver: scripts/bench.sh (side-by-side table with ratios).
//
//   ./xgrad_bench [--threads N] [--only GROUP]
//   XGRAD_BENCH_SECONDS=S sets the time per workload (default 1); --only: see timing.hpp

#include "fixed_data.hpp"
#include "raw_blas.hpp"
#include "timing.hpp"

#include <xgrad.hpp>

#include <xtensor/xview.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

// J = 3(a + b·c) on scalars: the lecture's graph, three ops, pure per-op overhead.
void scalar_graph() {
    auto a = scalar(5.0f, true), b = scalar(3.0f, true), c = scalar(2.0f, true);
    auto step = [&] {
        a.zero_grad();
        b.zero_grad();
        c.zero_grad();
        auto J = 3.0f * (a + b * c);
        J.backward();
    };
    bench::print_row("scalar_J_fwd_bwd", bench::measure(step));
    step();
    std::printf("# check scalar_J: dJ/da=%g dJ/db=%g dJ/dc=%g (expect 3 6 9)\n", a.grad().item(),
                b.grad().item(), c.grad().item());
}

// 1000 elementwise ops on a one-element tensor: x ← x·1.0001, x ← x + 0.0001, alternating.
void chain() {
    auto x0 = full<float>({1}, 1.0f, true);
    auto step = [&] {
        x0.zero_grad();
        auto x = x0;
        for (int i = 0; i < 500; ++i) {
            x = x * 1.0001f;
            x = x + 0.0001f;
        }
        x.backward();
    };
    bench::print_row("chain1000_fwd_bwd", bench::measure(step));
    step();
    std::printf("# check chain1000: dx/dx0=%.6f (expect 1.0001^500 = 1.051268)\n",
                x0.grad().item());
}

// C = A·B on [n, n] floats: forward alone, forward + backward of sum(C), and raw cblas_sgemm
// on the same A and B buffers (into a preallocated C) as the reference for the forward.
void matmul_workloads(int n) {
    manual_seed(0);
    auto A = rand<float>({std::size_t(n), std::size_t(n)}, -1.0f, 1.0f, true);
    auto B = rand<float>({std::size_t(n), std::size_t(n)}, -1.0f, 1.0f, true);
    const std::string tag = "matmul" + std::to_string(n);

    auto fwd_bwd = [&] {
        A.zero_grad();
        B.zero_grad();
        auto loss = sum(matmul(A, B));
        loss.backward();
    };
    bench::print_row((tag + "_fwd_bwd").c_str(), bench::measure(fwd_bwd));

    auto fwd = [&] {
        auto C = matmul(A, B);  // recorded (A, B require grad), as in training
    };
    bench::print_row((tag + "_fwd").c_str(), bench::measure(fwd));

    std::vector<float> c(std::size_t(n) * std::size_t(n));
    auto raw = [&] { bench::raw_sgemm(n, n, n, A.value().data(), B.value().data(), c.data()); };
    bench::print_row(("sgemm" + std::to_string(n) + "_raw").c_str(), bench::measure(raw));

    // Same numbers from both paths (sanity check of the benchmark, not a test).
    auto C = matmul(A, B);
    float max_diff = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
        const float d = C.value().data()[i] - c[i];
        max_diff = std::max(max_diff, d < 0 ? -d : d);
    }
    std::printf("# check %s: max |matmul - sgemm| = %g\n", tag.c_str(), double(max_diff));
}

// The Keras lecture's MLP 784-300-100-10 (ReLU; Glorot-uniform weights, zero biases) with SGD
// lr 0.01 and sparse categorical cross-entropy on the logits.
nn::Sequential<> make_mlp() {
    nn::Sequential<> model;
    const std::size_t sizes[][2] = {{784, 300}, {300, 100}, {100, 10}};
    for (const auto& s : sizes) {
        auto dense = model.add(nn::Linear<>(s[0], s[1]));
        nn::init::glorot_uniform_(dense->weight());
        nn::init::zeros_(dense->bias());
        if (s[1] != 10) model.add(nn::ReLU<>());
    }
    return model;
}

// One training step as a user writes it (zero_grad, forward, cross-entropy, backward, SGD
// update) on the fixed batch (x, y); the step's loss goes to `loss_value`.
auto sgd_step(nn::Sequential<>& model, optim::SGD<>& sgd, const Tensor<float>& x,
              const Tensor<float>& y, float& loss_value) {
    return [&model, &sgd, &x, &y, &loss_value] {
        sgd.zero_grad();
        auto loss = nn::sparse_categorical_cross_entropy(model(x), y);
        loss.backward();
        sgd.step();
        loss_value = loss.item();
    };
}

// One training step (zero_grad, forward, loss, backward, SGD update) on a fixed random batch:
// inputs uniform in [0, 1), labels uniform in 0..9.
void mlp_step(std::size_t batch) {
    manual_seed(0);
    nn::Sequential<> model = make_mlp();
    optim::SGD<> sgd(model.parameters(), optim::SGDOptions(0.01));
    const auto x = rand<float>({batch, 784});
    xt::xarray<float> labels = xt::xarray<float>::from_shape({batch});
    for (std::size_t i = 0; i < batch; ++i)
        labels(i) = float(generator()() % 10);
    const Tensor<float> y(labels);
    float loss_value = 0;
    const auto step = sgd_step(model, sgd, x, y, loss_value);
    step();
    const float first = loss_value;
    const std::string tag = "mlp_step_b" + std::to_string(batch);
    bench::print_row(tag.c_str(), bench::measure(step));
    std::printf("# check %s: loss %.4f at the first step (about ln 10 = 2.30), %.4f at the last\n",
                tag.c_str(), double(first), double(loss_value));
}

// One epoch over the 55000 Fashion-MNIST training images of the lecture (the last 55000 of the
// training file), batch 32, shuffled each epoch: DataLoader batches + the step above.
void fashion_epoch() {
    nn::Dataset<> full;
    try {
        full = nn::load_mnist<float>(bench::fashion_dir(), true);
    } catch (const IoError& e) {
        std::printf("# skip fashion_epoch_b32: %s\n", e.what());
        return;
    }
    const nn::Dataset<> train{xt::view(full.inputs, xt::range(5000, 60000)),
                              xt::view(full.targets, xt::range(5000, 60000))};
    manual_seed(0);
    nn::Sequential<> model = make_mlp();
    optim::SGD<> sgd(model.parameters(), optim::SGDOptions(0.01));
    nn::DataLoader<> loader(train, nn::DataLoaderOptions(32).shuffle(true).seed(0));
    double mean_loss = 0;
    auto epoch = [&] {
        double total = 0;
        for (const auto& [x, y] : loader) {
            sgd.zero_grad();
            auto loss = nn::sparse_categorical_cross_entropy(model(x), y);
            loss.backward();
            sgd.step();
            total += double(loss.item());
        }
        mean_loss = total / double(loader.num_batches());
    };
    bench::print_row("fashion_epoch_b32", bench::measure_long(epoch, 1, 5));
    std::printf(
        "# check fashion_epoch_b32: %zu steps, mean batch loss of the last epoch %.4f "
        "(6 epochs run)\n",
        loader.num_batches(), mean_loss);
}

// --- Convolution workloads ("conv"): inputs, upstream gradients, labels and initial weights come
// from fixed_data.hpp, so torch_bench computes on exactly the same numbers.

// A leaf of `shape` filled with bench::uniform(lo, hi, seed).
Tensor<float> fixed_tensor(const Shape& shape, float lo, float hi, std::uint64_t seed,
                           bool requires_grad = false) {
    auto a = xt::xarray<float>::from_shape(shape);
    const auto v = bench::uniform(a.size(), lo, hi, seed);
    std::copy(v.begin(), v.end(), a.begin());
    return Tensor<float>(a, requires_grad);
}

// Every parameter of `model`, in registration order, from bench::init_parameter.
void init_fixed(const nn::Module<float>& model) {
    std::size_t k = 0, fan_in = 1;
    for (const auto& p : model.parameters()) {
        const std::vector<std::size_t> shape(p.shape().begin(), p.shape().end());
        const auto v = bench::init_parameter(shape, k++, fan_in);
        std::copy(v.begin(), v.end(), p.mutable_value().begin());
    }
}

double check_dot(const Tensor<float>& a, const Tensor<float>& b) {
    return bench::dot(a.value().data(), b.value().data(), a.size());
}

double check_sum(const Tensor<float>& a) {
    return bench::sum(a.value().data(), a.size());
}

// One conv layer x [n, c, h, h] → [n, o, h, h] (kernel k, padding (k − 1)/2): zero grads,
// forward, backward with a fixed upstream gradient g U[-1, 1). x U[0, 1) requires grad unless
// it is a first layer (`input_grad` false: no input gradient is computed).
void conv_workload(const char* tag, std::size_t n, std::size_t c, std::size_t h, std::size_t o,
                   std::size_t k, bool bias, bool input_grad) {
    nn::Conv2d<> conv(nn::Conv2dOptions(c, o, k).padding((k - 1) / 2).bias(bias));
    init_fixed(conv);
    const auto x = fixed_tensor({n, c, h, h}, 0.0f, 1.0f, 1, input_grad);
    const auto g = fixed_tensor({n, o, h, h}, -1.0f, 1.0f, 2);
    auto step = [&] {
        conv.zero_grad();
        x.zero_grad();
        conv(x).backward(g);
    };
    bench::print_row(tag, bench::measure(step));

    step();
    Tensor<float> y;
    {
        NoGradGuard no_grad;
        y = conv(x);
    }
    // <g, y> = <dw, w> + <db, b> = <dx, x> + <db, b>: y is linear in (w, b) and affine in x.
    const double gb = bias ? check_dot(conv.bias().grad(), conv.bias()) : 0.0;
    const double gw = check_dot(conv.weight().grad(), conv.weight()) + gb;
    const double gx = input_grad ? check_dot(x.grad(), x) + gb : 0.0;
    std::printf("# check %s: sum y = %.6g, <g, y> = %.6g, <dw, w> + <db, b> = %.6g", tag,
                check_sum(y), check_dot(g, y), gw);
    if (input_grad) std::printf(", <dx, x> + <db, b> = %.6g", gx);
    std::printf("\n");
}

// max_pool2d 2 on x [64, 32, 28, 28] U[0, 1) requiring grad, backward with a fixed g U[-1, 1).
void maxpool_workload() {
    nn::MaxPool2d<> pool(2);
    const auto x = fixed_tensor({64, 32, 28, 28}, 0.0f, 1.0f, 1, true);
    const auto g = fixed_tensor({64, 32, 14, 14}, -1.0f, 1.0f, 2);
    auto step = [&] {
        x.zero_grad();
        pool(x).backward(g);
    };
    bench::print_row("maxpool_fwd_bwd", bench::measure(step));
    step();
    Tensor<float> y;
    {
        NoGradGuard no_grad;
        y = pool(x);
    }
    // Each g goes to its window's maximum, so <dx, x> = <g, y>.
    std::printf("# check maxpool_fwd_bwd: sum y = %.6g, <g, y> = %.6g, <dx, x> = %.6g\n",
                check_sum(y), check_dot(g, y), check_dot(x.grad(), x));
}

// LeNet-5 on 28x28 inputs (ReLU, max pooling; the first conv padded to keep 28x28).
nn::Sequential<> make_lenet() {
    nn::Sequential<> model;
    model.add(nn::Conv2d<>(nn::Conv2dOptions(1, 6, 5).padding(2)));
    model.add(nn::ReLU<>());
    model.add(nn::MaxPool2d<>(2));
    model.add(nn::Conv2d<>(6, 16, 5));
    model.add(nn::ReLU<>());
    model.add(nn::MaxPool2d<>(2));
    model.add(nn::Flatten<>());
    model.add(nn::Linear<>(16 * 5 * 5, 120));
    model.add(nn::ReLU<>());
    model.add(nn::Linear<>(120, 84));
    model.add(nn::ReLU<>());
    model.add(nn::Linear<>(84, 10));
    return model;
}

// The TensorFlow tutorial's "2 conv + pooling" MNIST net (docs/convolution.md) with its
// Dropout(0.4) before the last layer.
nn::Sequential<> make_cnn2() {
    nn::Sequential<> model;
    model.add(nn::Conv2d<>(nn::Conv2dOptions(1, 32, 5).padding(Padding::same)));
    model.add(nn::ReLU<>());
    model.add(nn::MaxPool2d<>(2));
    model.add(nn::Conv2d<>(nn::Conv2dOptions(32, 64, 5).padding(Padding::same)));
    model.add(nn::ReLU<>());
    model.add(nn::MaxPool2d<>(2));
    model.add(nn::Flatten<>());
    model.add(nn::Linear<>(7 * 7 * 64, 1024));
    model.add(nn::ReLU<>());
    model.add(nn::Dropout<>(0.4f));
    model.add(nn::Linear<>(1024, 10));
    return model;
}

// One training step of a CNN (zero_grad, forward, loss, backward, SGD lr 0.01) on a fixed batch
// of 64: inputs [64, 1, 28, 28] U[0, 1), labels 0..9, weights from init_fixed. The check prints
// the loss in evaluation mode before training (no dropout: the same number on both sides) and the
// training losses of the first two steps (identical on both sides without dropout).
void cnn_step(const char* tag, nn::Sequential<> model) {
    const std::size_t batch = 64;
    init_fixed(model);
    optim::SGD<> sgd(model.parameters(), optim::SGDOptions(0.01));
    const auto x = fixed_tensor({batch, 1, 28, 28}, 0.0f, 1.0f, 1);
    xt::xarray<float> labels = xt::xarray<float>::from_shape({batch});
    const auto l = bench::labels(batch, 10, 3);
    std::copy(l.begin(), l.end(), labels.begin());
    const Tensor<float> y(labels);

    float eval_loss = 0;
    model.eval();
    {
        NoGradGuard no_grad;
        eval_loss = nn::sparse_categorical_cross_entropy(model(x), y).item();
    }
    model.train();

    manual_seed(0);  // dropout masks
    float loss_value = 0;
    const auto step = sgd_step(model, sgd, x, y, loss_value);
    step();
    const float first = loss_value;
    step();
    const float second = loss_value;
    bench::print_row(tag, bench::measure(step));
    std::printf(
        "# check %s: eval loss before training %.5f; training loss %.5f at the first step, "
        "%.5f at the second, %.4f at the last\n",
        tag, double(eval_loss), double(first), double(second), double(loss_value));
}

// --- Recurrent workloads ("rnn_lstm", "rnn_gru"), on the numbers of fixed_data.hpp as in
// torch_bench.cpp: x [T, B, I] = [50, 32, 64] U[-1, 1) (sequence first, both libraries' default),
// a layer of hidden size H = 128 from zero states, loss = the mean over the T·B positions of
// <y_t,b, G_t,b> for a fixed G [50, 32, 128] U[-1, 1) (cheap next to the recurrence), SGD lr 0.01.
// The check prints the losses of the first two steps and Σ ||∂L/∂p||² over the parameters after
// the first; the second loss is about the first − 0.01·Σ ||∂L/∂p||² (one SGD step).
template <class Layer>
void recurrent_step(const char* tag, std::size_t layers) {
    const std::size_t steps = 50, batch = 32, input = 64, hidden = 128;
    Layer rnn(nn::RNNOptions(input, hidden).num_layers(layers));
    for (const auto& [name, p] : rnn.named_parameters()) {
        const auto v = bench::init_recurrent(name, p.size(), hidden);
        std::copy(v.begin(), v.end(), p.mutable_value().begin());
    }
    optim::SGD<> sgd(rnn.parameters(), optim::SGDOptions(0.01));
    const auto x = fixed_tensor({steps, batch, input}, -1.0f, 1.0f, 4);
    const auto g = fixed_tensor({steps, batch, hidden}, -1.0f, 1.0f, 5);
    const float scale = 1.0f / float(steps * batch);
    float loss_value = 0;
    auto step = [&] {
        sgd.zero_grad();
        auto loss = scale * sum(rnn(x) * g);
        loss.backward();
        sgd.step();
        loss_value = loss.item();
    };
    step();
    const float first = loss_value;
    double grad_sq = 0;
    for (const auto& p : rnn.parameters())
        grad_sq += check_dot(p.grad(), p.grad());
    step();
    const float second = loss_value;
    bench::print_row(tag, bench::measure(step));
    std::printf(
        "# check %s: loss %.6f at the first step, %.6f at the second; sum |dL/dp|^2 after the "
        "first %.6g\n",
        tag, double(first), double(second), grad_sq);
}

// --- GAN workload ("gan"): one training step of examples/gan.cpp's DCGAN, batch 64, on the numbers
// of fixed_data.hpp as in torch_bench.cpp: a "real" batch x [64, 1, 28, 28] U[-1, 1), the same
// noise z [64, 64] U[-1.7, 1.7) at every step, weights from init_fixed (batch-norm scales
// included, so both sides start equal). The step: D on x (label 1) and on G(z).detach() (label
// 0), then G with the non-saturating loss (label 1 on D(G(z))), Adam lr 2e-4, β 0.5/0.999 each.

void gan_step() {
    const std::size_t batch = 64, noise = 64, w = 32;
    nn::Sequential<> g, d;
    g.add(nn::Linear<>(noise, 2 * w * 7 * 7));
    g.add(nn::BatchNorm1d<>(2 * w * 7 * 7));
    g.add(nn::ReLU<>());
    g.add(nn::Unflatten<>({2 * w, 7, 7}));
    g.add(nn::ConvTranspose2d<>(nn::ConvTranspose2dOptions(2 * w, w, 4).stride(2).padding(1)));
    g.add(nn::BatchNorm2d<>(w));
    g.add(nn::ReLU<>());
    g.add(nn::ConvTranspose2d<>(nn::ConvTranspose2dOptions(w, 1, 4).stride(2).padding(1)));
    g.add(nn::Tanh<>());
    d.add(nn::Conv2d<>(nn::Conv2dOptions(1, w, 4).stride(2).padding(1)));
    d.add(nn::LeakyReLU<>(0.2f));
    d.add(nn::Conv2d<>(nn::Conv2dOptions(w, 2 * w, 4).stride(2).padding(1)));
    d.add(nn::BatchNorm2d<>(2 * w));
    d.add(nn::LeakyReLU<>(0.2f));
    d.add(nn::Flatten<>());
    d.add(nn::Linear<>(2 * w * 7 * 7, 1));
    init_fixed(g);
    init_fixed(d);
    optim::Adam<> g_opt(g.parameters(), optim::AdamOptions(2e-4).betas(0.5, 0.999));
    optim::Adam<> d_opt(d.parameters(), optim::AdamOptions(2e-4).betas(0.5, 0.999));
    const auto x = fixed_tensor({batch, 1, 28, 28}, -1.0f, 1.0f, 1);
    const auto z = fixed_tensor({batch, noise}, -1.7f, 1.7f, 6);
    const auto is_real = ones<float>({batch, 1}), is_fake = zeros<float>({batch, 1});
    float d_value = 0, g_value = 0;
    auto step = [&] {
        const Tensor<> fake = g(z);
        d_opt.zero_grad();
        const Tensor<> d_loss = nn::binary_cross_entropy_with_logits(d(x), is_real) +
                                nn::binary_cross_entropy_with_logits(d(fake.detach()), is_fake);
        d_loss.backward();
        d_opt.step();
        g_opt.zero_grad();
        const Tensor<> g_loss = nn::binary_cross_entropy_with_logits(d(fake), is_real);
        g_loss.backward();
        g_opt.step();
        d_value = d_loss.item();
        g_value = g_loss.item();
    };
    step();
    const float d_first = d_value, g_first = g_value;
    step();
    std::printf(
        "# check gan_step_b64: d_loss %.5f, g_loss %.5f at the first step; %.5f, %.5f at "
        "the second\n",
        double(d_first), double(g_first), double(d_value), double(g_value));
    bench::print_row("gan_step_b64", bench::measure(step));
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = bench::thread_count(argc, argv);
    bench::blas_set_threads(threads);
    std::printf("# side: xgrad\n# threads: %d\n# blas: %s\n", threads,
                bench::blas_description().c_str());
    bench::print_header();
    if (bench::selected(argc, argv, "scalar")) scalar_graph();
    if (bench::selected(argc, argv, "chain")) chain();
    // The training workloads run before the matmuls. Before the library fixed glibc's malloc
    // thresholds (Note [malloc settings]), freeing the 4 MB matmul1024 buffers raised them for the
    // rest of the process and hid the page faults a training program paid (docs/performance.md);
    // the order is kept so results stay comparable with the earlier tables.
    if (bench::selected(argc, argv, "mlp")) {
        mlp_step(32);
        mlp_step(256);
    }
    if (bench::selected(argc, argv, "fashion")) fashion_epoch();
    // After the MLP ones, the two training steps first (the order of the earlier tables).
    if (bench::selected(argc, argv, "conv")) {
        cnn_step("lenet_step_b64", make_lenet());
        cnn_step("cnn2_step_b64", make_cnn2());
        conv_workload("conv1_fwd_bwd", 64, 1, 28, 32, 5, true, false);
        conv_workload("conv2_fwd_bwd", 64, 32, 14, 64, 5, true, true);
        conv_workload("conv3x3_fwd_bwd", 64, 64, 16, 64, 3, false, true);
        maxpool_workload();
    }
    // The recurrent steps after the workloads above (which they leave as they were) and before
    // the matmuls, like the other training steps.
    if (bench::selected(argc, argv, "rnn_lstm")) {
        recurrent_step<nn::LSTM<>>("lstm_step_b32", 1);
        recurrent_step<nn::LSTM<>>("lstm2_step_b32", 2);
    }
    if (bench::selected(argc, argv, "rnn_gru")) recurrent_step<nn::GRU<>>("gru_step_b32", 1);
    if (bench::selected(argc, argv, "gan")) gan_step();
    if (bench::selected(argc, argv, "matmul")) {
        matmul_workloads(256);
        matmul_workloads(1024);
    }
    return 0;
}
