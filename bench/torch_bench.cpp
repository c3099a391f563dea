// LibTorch side of the engine benchmark: the same workloads as xgrad_bench.cpp, written the way a
// LibTorch user would. Run it with Debian's OpenMP OpenBLAS (LD_LIBRARY_PATH=
// /usr/lib/x86_64-linux-gnu/openblas-openmp), LibTorch's best configuration
// (docs/performance.md, "How LibTorch is run").
//
//   ./torch_bench [--threads N] [--only GROUP]
//   XGRAD_BENCH_SECONDS=S sets the time per workload (default 1); --only: see timing.hpp

#include "fixed_data.hpp"
#include "timing.hpp"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <dlfcn.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

torch::TensorOptions leaf() {
    return torch::TensorOptions().dtype(torch::kFloat).requires_grad(true);
}

// Gradients are reset to "none" between iterations, as xgrad's zero_grad() does
// (optimizer.zero_grad(set_to_none=true)).
void zero_grad(torch::Tensor& t) {
    t.mutable_grad().reset();
}

void scalar_graph() {
    auto a = torch::scalar_tensor(5.0, leaf());
    auto b = torch::scalar_tensor(3.0, leaf());
    auto c = torch::scalar_tensor(2.0, leaf());
    auto step = [&] {
        zero_grad(a);
        zero_grad(b);
        zero_grad(c);
        auto J = 3.0 * (a + b * c);
        J.backward();
    };
    bench::print_row("scalar_J_fwd_bwd", bench::measure(step));
    step();
    std::printf("# check scalar_J: dJ/da=%g dJ/db=%g dJ/dc=%g (expect 3 6 9)\n",
                a.grad().item<float>(), b.grad().item<float>(), c.grad().item<float>());
}

void chain() {
    auto x0 = torch::full({1}, 1.0, leaf());
    auto step = [&] {
        zero_grad(x0);
        auto x = x0;
        for (int i = 0; i < 500; ++i) {
            x = x * 1.0001;
            x = x + 0.0001;
        }
        x.backward();
    };
    bench::print_row("chain1000_fwd_bwd", bench::measure(step));
    step();
    std::printf("# check chain1000: dx/dx0=%.6f (expect 1.0001^500 = 1.051268)\n",
                x0.grad().item<float>());
}

void matmul_workloads(int n) {
    torch::manual_seed(0);
    auto A = (torch::rand({n, n}) * 2 - 1).set_requires_grad(true);
    auto B = (torch::rand({n, n}) * 2 - 1).set_requires_grad(true);
    const std::string tag = "matmul" + std::to_string(n);

    auto fwd_bwd = [&] {
        zero_grad(A);
        zero_grad(B);
        auto loss = torch::matmul(A, B).sum();
        loss.backward();
    };
    bench::print_row((tag + "_fwd_bwd").c_str(), bench::measure(fwd_bwd));

    auto fwd = [&] { auto C = torch::matmul(A, B); };
    bench::print_row((tag + "_fwd").c_str(), bench::measure(fwd));
}

// The lecture's MLP 784-300-100-10 as a LibTorch user writes it: Linear/ReLU modules,
// Glorot-uniform (xavier_uniform_) weights and zero biases like xgrad_bench, SGD lr 0.01,
// cross_entropy on the logits with int64 labels.
torch::nn::Sequential make_mlp() {
    torch::nn::Sequential model(torch::nn::Linear(784, 300), torch::nn::ReLU(),
                                torch::nn::Linear(300, 100), torch::nn::ReLU(),
                                torch::nn::Linear(100, 10));
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters()) {
        if (p.key().find("weight") != std::string::npos) {
            torch::nn::init::xavier_uniform_(p.value());
        } else {
            torch::nn::init::zeros_(p.value());
        }
    }
    return model;
}

void sgd_step(torch::nn::Sequential& model, torch::optim::SGD& sgd, const torch::Tensor& x,
              const torch::Tensor& y, float& loss_value) {
    for (auto& p : model->parameters())
        zero_grad(p);  // set to none, as xgrad's zero_grad
    auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    sgd.step();
    loss_value = loss.item<float>();
}

void mlp_step(int64_t batch) {
    torch::manual_seed(0);
    auto model = make_mlp();
    torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.01));
    const auto x = torch::rand({batch, 784});
    const auto y = torch::randint(0, 10, {batch}, torch::kLong);
    float loss_value = 0;
    auto step = [&] { sgd_step(model, sgd, x, y, loss_value); };
    step();
    const float first = loss_value;
    const std::string tag = "mlp_step_b" + std::to_string(batch);
    bench::print_row(tag.c_str(), bench::measure(step));
    std::printf("# check %s: loss %.4f at the first step (about ln 10 = 2.30), %.4f at the last\n",
                tag.c_str(), double(first), double(loss_value));
}

// --- Convolution workloads ("conv"), on the numbers of fixed_data.hpp as in xgrad_bench.cpp.

// A leaf of `shape` filled with bench::uniform(lo, hi, seed).
torch::Tensor fixed_tensor(torch::IntArrayRef shape, float lo, float hi, std::uint64_t seed,
                           bool requires_grad = false) {
    int64_t n = 1;
    for (auto d : shape)
        n *= d;
    auto v = bench::uniform(std::size_t(n), lo, hi, seed);
    return torch::from_blob(v.data(), shape, torch::kFloat)
        .clone()
        .set_requires_grad(requires_grad);
}

// Every parameter of `model`, in registration order, from bench::init_parameter.
void init_fixed(torch::nn::Module& model) {
    torch::NoGradGuard no_grad;
    std::size_t k = 0, fan_in = 1;
    for (auto& p : model.parameters()) {
        const std::vector<std::size_t> shape(p.sizes().begin(), p.sizes().end());
        auto v = bench::init_parameter(shape, k++, fan_in);
        p.copy_(torch::from_blob(v.data(), p.sizes(), torch::kFloat));
    }
}

double check_dot(const torch::Tensor& a, const torch::Tensor& b) {
    const auto ac = a.contiguous(), bc = b.contiguous();
    return bench::dot(ac.data_ptr<float>(), bc.data_ptr<float>(), std::size_t(ac.numel()));
}

double check_sum(const torch::Tensor& a) {
    const auto ac = a.contiguous();
    return bench::sum(ac.data_ptr<float>(), std::size_t(ac.numel()));
}

void conv_workload(const char* tag, int64_t n, int64_t c, int64_t h, int64_t o, int64_t k,
                   bool bias, bool input_grad) {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(c, o, k).padding((k - 1) / 2).bias(bias));
    init_fixed(*conv);
    auto x = fixed_tensor({n, c, h, h}, 0.0f, 1.0f, 1, input_grad);
    const auto g = fixed_tensor({n, o, h, h}, -1.0f, 1.0f, 2);
    auto step = [&] {
        for (auto& p : conv->parameters())
            zero_grad(p);
        if (input_grad) zero_grad(x);
        conv->forward(x).backward(g);
    };
    bench::print_row(tag, bench::measure(step));

    step();
    torch::Tensor y;
    {
        torch::NoGradGuard no_grad;
        y = conv->forward(x);
    }
    // <g, y> = <dw, w> + <db, b> = <dx, x> + <db, b>: y is linear in (w, b) and affine in x.
    const double gb = bias ? check_dot(conv->bias.grad(), conv->bias) : 0.0;
    const double gw = check_dot(conv->weight.grad(), conv->weight) + gb;
    const double gx = input_grad ? check_dot(x.grad(), x) + gb : 0.0;
    std::printf("# check %s: sum y = %.6g, <g, y> = %.6g, <dw, w> + <db, b> = %.6g", tag,
                check_sum(y), check_dot(g, y), gw);
    if (input_grad) std::printf(", <dx, x> + <db, b> = %.6g", gx);
    std::printf("\n");
}

void maxpool_workload() {
    torch::nn::MaxPool2d pool(torch::nn::MaxPool2dOptions(2));
    auto x = fixed_tensor({64, 32, 28, 28}, 0.0f, 1.0f, 1, true);
    const auto g = fixed_tensor({64, 32, 14, 14}, -1.0f, 1.0f, 2);
    auto step = [&] {
        zero_grad(x);
        pool->forward(x).backward(g);
    };
    bench::print_row("maxpool_fwd_bwd", bench::measure(step));
    step();
    torch::Tensor y;
    {
        torch::NoGradGuard no_grad;
        y = pool->forward(x);
    }
    // Each g goes to its window's maximum, so <dx, x> = <g, y>.
    std::printf("# check maxpool_fwd_bwd: sum y = %.6g, <g, y> = %.6g, <dx, x> = %.6g\n",
                check_sum(y), check_dot(g, y), check_dot(x.grad(), x));
}

torch::nn::Sequential make_lenet() {
    using namespace torch::nn;
    return Sequential(Conv2d(Conv2dOptions(1, 6, 5).padding(2)), ReLU(),
                      MaxPool2d(MaxPool2dOptions(2)), Conv2d(Conv2dOptions(6, 16, 5)), ReLU(),
                      MaxPool2d(MaxPool2dOptions(2)), Flatten(), Linear(16 * 5 * 5, 120), ReLU(),
                      Linear(120, 84), ReLU(), Linear(84, 10));
}

torch::nn::Sequential make_cnn2() {
    using namespace torch::nn;
    return Sequential(Conv2d(Conv2dOptions(1, 32, 5).padding(torch::kSame)), ReLU(),
                      MaxPool2d(MaxPool2dOptions(2)),
                      Conv2d(Conv2dOptions(32, 64, 5).padding(torch::kSame)), ReLU(),
                      MaxPool2d(MaxPool2dOptions(2)), Flatten(), Linear(7 * 7 * 64, 1024), ReLU(),
                      Dropout(0.4), Linear(1024, 10));
}

void cnn_step(const char* tag, torch::nn::Sequential model) {
    const int64_t batch = 64;
    init_fixed(*model);
    torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.01));
    const auto x = fixed_tensor({batch, 1, 28, 28}, 0.0f, 1.0f, 1);
    auto l = bench::labels(std::size_t(batch), 10, 3);
    const auto y = torch::from_blob(l.data(), {batch}, torch::kLong).clone();

    float eval_loss = 0;
    model->eval();
    {
        torch::NoGradGuard no_grad;
        eval_loss = torch::nn::functional::cross_entropy(model->forward(x), y).item<float>();
    }
    model->train();

    torch::manual_seed(0);  // dropout masks
    float loss_value = 0;
    auto step = [&] { sgd_step(model, sgd, x, y, loss_value); };
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

// --- Recurrent workloads ("rnn_lstm", "rnn_gru"): the same step as xgrad_bench.cpp's
// recurrent_step, with torch::nn::LSTM / GRU and the parameters filled by name.
template <class Layer, class Options>
void recurrent_step(const char* tag, int64_t layers) {
    const int64_t steps = 50, batch = 32, input = 64, hidden = 128;
    Layer rnn(Options(input, hidden).num_layers(layers));
    {
        torch::NoGradGuard no_grad;
        for (auto& p : rnn->named_parameters()) {
            auto v =
                bench::init_recurrent(p.key(), std::size_t(p.value().numel()), std::size_t(hidden));
            p.value().copy_(torch::from_blob(v.data(), p.value().sizes(), torch::kFloat));
        }
    }
    torch::optim::SGD sgd(rnn->parameters(), torch::optim::SGDOptions(0.01));
    const auto x = fixed_tensor({steps, batch, input}, -1.0f, 1.0f, 4);
    const auto g = fixed_tensor({steps, batch, hidden}, -1.0f, 1.0f, 5);
    const float scale = 1.0f / float(steps * batch);
    float loss_value = 0;
    auto step = [&] {
        for (auto& p : rnn->parameters())
            zero_grad(p);  // set to none, as xgrad's zero_grad
        const torch::Tensor loss = scale * (std::get<0>(rnn->forward(x)) * g).sum();
        loss.backward();
        sgd.step();
        loss_value = loss.item<float>();
    };
    step();
    const float first = loss_value;
    double grad_sq = 0;
    for (const auto& p : rnn->parameters())
        grad_sq += check_dot(p.grad(), p.grad());
    step();
    const float second = loss_value;
    bench::print_row(tag, bench::measure(step));
    std::printf(
        "# check %s: loss %.6f at the first step, %.6f at the second; sum |dL/dp|^2 after the "
        "first %.6g\n",
        tag, double(first), double(second), grad_sq);
}

// --- GAN workload ("gan"): xgrad_bench.cpp's gan_step with torch::nn modules (torch::nn::Unflatten
// for the reshape), the same fixed numbers and the same order of operations.
void gan_step() {
    using namespace torch::nn;
    const int64_t batch = 64, noise = 64, w = 32;
    Sequential g(Linear(noise, 2 * w * 7 * 7), BatchNorm1d(2 * w * 7 * 7), ReLU(),
                 Unflatten(UnflattenOptions(1, {2 * w, 7, 7})),
                 ConvTranspose2d(ConvTranspose2dOptions(2 * w, w, 4).stride(2).padding(1)),
                 BatchNorm2d(w), ReLU(),
                 ConvTranspose2d(ConvTranspose2dOptions(w, 1, 4).stride(2).padding(1)), Tanh());
    Sequential d(Conv2d(Conv2dOptions(1, w, 4).stride(2).padding(1)),
                 LeakyReLU(LeakyReLUOptions().negative_slope(0.2)),
                 Conv2d(Conv2dOptions(w, 2 * w, 4).stride(2).padding(1)), BatchNorm2d(2 * w),
                 LeakyReLU(LeakyReLUOptions().negative_slope(0.2)), Flatten(),
                 Linear(2 * w * 7 * 7, 1));
    init_fixed(*g);
    init_fixed(*d);
    torch::optim::Adam g_opt(g->parameters(), torch::optim::AdamOptions(2e-4).betas({0.5, 0.999}));
    torch::optim::Adam d_opt(d->parameters(), torch::optim::AdamOptions(2e-4).betas({0.5, 0.999}));
    const auto x = fixed_tensor({batch, 1, 28, 28}, -1.0f, 1.0f, 1);
    const auto z = fixed_tensor({batch, noise}, -1.7f, 1.7f, 6);
    const auto is_real = torch::ones({batch, 1}), is_fake = torch::zeros({batch, 1});
    const auto bce = [](const torch::Tensor& logits, const torch::Tensor& target) {
        return torch::binary_cross_entropy_with_logits(logits, target);
    };
    float d_value = 0, g_value = 0;
    auto step = [&] {
        const torch::Tensor fake = g->forward(z);
        for (auto& p : d->parameters())
            zero_grad(p);  // set to none, as xgrad's zero_grad
        const torch::Tensor d_loss =
            bce(d->forward(x), is_real) + bce(d->forward(fake.detach()), is_fake);
        d_loss.backward();
        d_opt.step();
        for (auto& p : g->parameters())
            zero_grad(p);
        const torch::Tensor g_loss = bce(d->forward(fake), is_real);
        g_loss.backward();
        g_opt.step();
        d_value = d_loss.item<float>();
        g_value = g_loss.item<float>();
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

// An IDX file of unsigned bytes, `stem`.gz or plain `stem` (zlib reads both), as a uint8 tensor.
torch::Tensor read_idx(const std::string& stem) {
    std::string path = stem + ".gz";
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) f = gzopen((path = stem).c_str(), "rb");
    if (!f) throw std::runtime_error("cannot open " + stem + "[.gz]");
    unsigned char header[4];
    std::vector<int64_t> dims;
    int64_t count = 1;
    bool ok = gzread(f, header, 4) == 4 && header[2] == 0x08;
    for (int i = 0; ok && i < header[3]; ++i) {
        unsigned char d[4];
        ok = gzread(f, d, 4) == 4;
        dims.push_back(int64_t(d[0]) << 24 | int64_t(d[1]) << 16 | int64_t(d[2]) << 8 | d[3]);
        count *= dims.back();
    }
    auto t = torch::empty(dims, torch::kUInt8);
    ok = ok && gzread(f, t.data_ptr<uint8_t>(), unsigned(count)) == count;
    gzclose(f);
    if (!ok) throw std::runtime_error("bad or truncated IDX file " + path);
    return t;
}

// One epoch over the lecture's 55000 training images (the last 55000 of the training file),
// batch 32, a fresh permutation each epoch, batches gathered with index_select.
void fashion_epoch() {
    torch::Tensor images, labels;
    try {
        const std::string dir = bench::fashion_dir();
        images = read_idx(dir + "/train-images-idx3-ubyte");
        labels = read_idx(dir + "/train-labels-idx1-ubyte");
    } catch (const std::exception& e) {
        std::printf("# skip fashion_epoch_b32: %s\n", e.what());
        return;
    }
    const auto x_all = images.slice(0, 5000).reshape({-1, 784}).to(torch::kFloat).div_(255);
    const auto y_all = labels.slice(0, 5000).to(torch::kLong);
    const int64_t n = x_all.size(0), batch = 32;
    torch::manual_seed(0);
    auto model = make_mlp();
    torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.01));
    double mean_loss = 0;
    int64_t steps = 0;
    auto epoch = [&] {
        const auto order = torch::randperm(n, torch::kLong);
        double total = 0;
        steps = 0;
        for (int64_t start = 0; start < n; start += batch) {
            const auto idx = order.slice(0, start, std::min(start + batch, n));
            float loss_value = 0;
            sgd_step(model, sgd, x_all.index_select(0, idx), y_all.index_select(0, idx),
                     loss_value);
            total += loss_value;
            ++steps;
        }
        mean_loss = total / double(steps);
    };
    bench::print_row("fashion_epoch_b32", bench::measure_long(epoch, 1, 5));
    std::printf(
        "# check fashion_epoch_b32: %lld steps, mean batch loss of the last epoch %.4f "
        "(6 epochs run)\n",
        static_cast<long long>(steps), mean_loss);
}

// The OpenBLAS LibTorch loaded (through libblas.so.3), looked up at run time so this file does
// not depend on OpenBLAS headers.
std::string blas_description() {
    using get_str = char* (*)();
    using get_int = int (*)();
    auto config = reinterpret_cast<get_str>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
    auto parallel = reinterpret_cast<get_int>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    auto threads = reinterpret_cast<get_int>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    auto core = reinterpret_cast<get_str>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    if (!config || !parallel || !threads || !core) return "not OpenBLAS (no openblas_* symbols)";
    const int p = parallel();
    const char* model = p == 2 ? "openmp" : p == 1 ? "pthread" : "sequential";
    return std::string(config()) + " | threading=" + model +
           " | threads=" + std::to_string(threads()) + " | core=" + core();
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = bench::thread_count(argc, argv);
    torch::set_num_threads(threads);
    std::printf("# side: libtorch %s\n# threads: %d (torch::get_num_threads() = %d)\n# blas: %s\n",
                TORCH_VERSION, threads, torch::get_num_threads(), blas_description().c_str());
    std::istringstream info(at::get_parallel_info());
    for (std::string line; std::getline(info, line);) {
        if (!line.empty()) std::printf("# torch: %s\n", line.c_str());
    }
    bench::print_header();
    if (bench::selected(argc, argv, "scalar")) scalar_graph();
    if (bench::selected(argc, argv, "chain")) chain();
    // The training workloads run before the matmuls: freeing the 4 MB matmul1024 buffers raises
    // glibc's mmap and trim thresholds for the rest of the process, which would hide the page
    // faults a training program pays on its ~1 MB gradient buffers (docs/performance.md).
    if (bench::selected(argc, argv, "mlp")) {
        mlp_step(32);
        mlp_step(256);
    }
    if (bench::selected(argc, argv, "fashion")) fashion_epoch();
    // After the MLP ones (the conv workloads free 6 MB buffers, which raises glibc's thresholds
    // too); the two training steps first, in the state the MLP steps left.
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
        recurrent_step<torch::nn::LSTM, torch::nn::LSTMOptions>("lstm_step_b32", 1);
        recurrent_step<torch::nn::LSTM, torch::nn::LSTMOptions>("lstm2_step_b32", 2);
    }
    if (bench::selected(argc, argv, "rnn_gru")) {
        recurrent_step<torch::nn::GRU, torch::nn::GRUOptions>("gru_step_b32", 1);
    }
    if (bench::selected(argc, argv, "gan")) gan_step();
    if (bench::selected(argc, argv, "matmul")) {
        matmul_workloads(256);
        matmul_workloads(1024);
    }
    return 0;
}
