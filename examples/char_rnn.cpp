// A character-level LSTM language model (Karpathy's char-rnn) on a text every Debian machine has:
// the GNU GPL, version 3 (/usr/share/common-licenses/GPL-3, from base-files). It reads the text
// as B parallel streams, trains on chunks of T characters with truncated backpropagation through
// time (the state carries over from one chunk to the next, detached from its history), and
// reports bits per character on held-out text against the unigram entropy of the text (what a
// model that ignores context would cost). It ends with a passage sampled at a temperature.
//
//   ./char_rnn [--text PATH] [--epochs N] [--hidden H] [--temperature T] [--seed S]
//   (defaults: GPL-3, 20 epochs, 256 units, temperature 0.7, seed 1)

#include <xgrad.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace xgrad;

namespace {

constexpr std::size_t kSteps = 64, kStreams = 16;  // T characters per chunk, B streams

// Embedding → LSTM → Linear: [T, B] character indices → [T, B, V] logits, with the LSTM's state.
struct CharModel : nn::Module<> {
    std::shared_ptr<nn::Embedding<>> embed;
    std::shared_ptr<nn::LSTM<>> lstm;
    std::shared_ptr<nn::Linear<>> head;
    CharModel(std::size_t vocab, std::size_t hidden)
        : embed(register_module("embed", std::make_shared<nn::Embedding<>>(vocab, 32))),
          lstm(register_module("lstm", std::make_shared<nn::LSTM<>>(nn::LSTMOptions(32, hidden)))),
          head(register_module("head", std::make_shared<nn::Linear<>>(hidden, vocab))) {}
    // {indices [T, B], h0, c0} → {logits [T, B, V], h_n, c_n}
    std::vector<Tensor<>> forward_list(const std::vector<Tensor<>>& in) override {
        auto ys = (*lstm)({(*embed)(in[0]), in[1], in[2]});
        return {(*head)(ys[0]), ys[1], ys[2]};
    }
    std::string type_name() const override { return "CharModel"; }
};

// Mean cross-entropy in bits of logits [T, B, V] against the next characters [T, B].
Tensor<> bits(const Tensor<>& logits, const Tensor<>& targets) {
    const auto v = static_cast<std::ptrdiff_t>(logits.shape()[2]);
    return nn::sparse_categorical_cross_entropy(reshape(logits, {-1, v}), reshape(targets, {-1})) *
           float(1 / std::log(2.0));
}

// The text as `streams` equal rows of indices, [streams, n / streams].
xt::xarray<float> as_streams(const std::vector<int>& ids, std::size_t streams) {
    const std::size_t n = ids.size() / streams;
    xt::xarray<float> s = xt::xarray<float>::from_shape({streams, n});
    for (std::size_t b = 0; b < streams; ++b)
        for (std::size_t i = 0; i < n; ++i)
            s(b, i) = float(ids[b * n + i]);
    return s;
}

// Chunk [start, start + len) of every stream, as [len, B] (time first, as the LSTM reads it).
Tensor<> chunk_of(const xt::xarray<float>& s, std::size_t start, std::size_t len) {
    xt::xarray<float> c = xt::xarray<float>::from_shape({len, s.shape()[0]});
    for (std::size_t t = 0; t < len; ++t)
        for (std::size_t b = 0; b < s.shape()[0]; ++b)
            c(t, b) = s(b, start + t);
    return Tensor<>(std::move(c));
}

// One pass over the streams in chunks of kSteps; trains when an optimizer is given. Returns the
// mean bits per character.
double run_epoch(CharModel& model, const xt::xarray<float>& s, optim::Adam<>* adam) {
    const std::size_t streams = s.shape()[0], hidden = model.lstm->options().hidden_size();
    Tensor<> h = zeros<float>({1, streams, hidden}), c = h;
    double total = 0;
    std::size_t chunks = 0;
    for (std::size_t start = 0; start + kSteps + 1 <= s.shape()[1]; start += kSteps, ++chunks) {
        const Tensor<> x = chunk_of(s, start, kSteps), y = chunk_of(s, start + 1, kSteps);
        if (adam) adam->zero_grad();
        auto out = model({x, h, c});
        const Tensor<> loss = bits(out[0], y);
        if (adam) {
            loss.backward();
            optim::clip_grad_norm(model.parameters(), 5.0);
            adam->step();
        }
        h = out[1].detach();  // truncated BPTT: keep the state, drop its history
        c = out[2].detach();
        total += loss.item();
    }
    return total / double(std::max<std::size_t>(chunks, 1));
}

// `n` characters continuing `prompt`, each drawn from softmax(logits / temperature).
std::string sample(CharModel& model, const std::string& alphabet, const std::string& prompt,
                   std::size_t n, float temperature, std::mt19937& rng) {
    NoGradGuard no_grad;
    const std::size_t hidden = model.lstm->options().hidden_size();
    Tensor<> h = zeros<float>({1, 1, hidden}), c = h;
    std::string out = prompt;
    auto index_of = [&](char ch) { return float(alphabet.find(ch)); };
    Tensor<> logits;
    for (std::size_t i = 0; i < prompt.size() + n; ++i) {
        if (i >= prompt.size()) {
            const auto p = softmax(logits * (1.0f / temperature), -1).value();
            std::discrete_distribution<std::size_t> pick(p.begin(), p.end());
            out += alphabet[pick(rng)];
        }
        xt::xarray<float> x = xt::xarray<float>::from_shape({1, 1});
        x(0, 0) = index_of(out[i]);
        auto ys = model({Tensor<>(std::move(x)), h, c});
        logits = reshape(ys[0], {-1});
        h = ys[1];
        c = ys[2];
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::string path = "/usr/share/common-licenses/GPL-3";
    std::size_t epochs = 20, hidden = 256;
    float temperature = 0.7f;
    unsigned seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i], value = argv[i + 1];
        if (arg == "--text") path = value;
        if (arg == "--epochs") epochs = std::stoul(value);
        if (arg == "--hidden") hidden = std::stoul(value);
        if (arg == "--temperature") temperature = std::stof(value);
        if (arg == "--seed") seed = static_cast<unsigned>(std::stoul(value));
    }

    // Data: the characters of the text, 90% for training, the rest held out.
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() < 20 * kStreams * kSteps) {
        fmt::print(stderr,
                   "char_rnn: cannot read enough text from '{}' (apt-get install "
                   "base-files, or --text PATH)\n",
                   path);
        return 2;
    }
    std::string alphabet = text;
    std::sort(alphabet.begin(), alphabet.end());
    alphabet.erase(std::unique(alphabet.begin(), alphabet.end()), alphabet.end());
    std::vector<int> ids;
    for (char ch : text)
        ids.push_back(int(alphabet.find(ch)));
    const std::size_t split = ids.size() * 9 / 10;
    const std::vector<int> train(ids.begin(), ids.begin() + split),
        valid(ids.begin() + split, ids.end());
    std::array<double, 256> count{};
    for (int id : train)
        count[std::size_t(id)] += 1;
    double entropy = 0;  // bits per character of the training text's character frequencies
    for (double k : count)
        if (k > 0) entropy -= k / double(train.size()) * std::log2(k / double(train.size()));
    fmt::print("text: {} ({} characters, {} distinct)\nunigram_entropy_bits: {:.3f}\n", path,
               text.size(), alphabet.size(), entropy);

    manual_seed(seed);
    CharModel model(alphabet.size(), hidden);
    optim::Adam<> adam(model.parameters(), optim::AdamOptions(2e-3));
    const xt::xarray<float> train_streams = as_streams(train, kStreams),
                            valid_streams = as_streams(valid, 4);
    double val_bpc = 0, seconds = 0;
    for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        model.train();
        const double train_bpc = run_epoch(model, train_streams, &adam);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        NoGradGuard no_grad;
        model.eval();
        val_bpc = run_epoch(model, valid_streams, nullptr);
        fmt::print("epoch {:>2}: train_bits_per_char {:.3f}  val_bits_per_char {:.3f}\n", epoch,
                   train_bpc, val_bpc);
        std::fflush(stdout);
    }

    std::mt19937 rng(seed);
    fmt::print("\nsample (temperature {}):\n{}\n\n", temperature,
               sample(model, alphabet, "This License", 300, temperature, rng));
    fmt::print(
        "unigram_entropy_bits: {:.3f}\nval_bits_per_char: {:.3f}\nepochs: {}\n"
        "seconds_per_epoch: {:.1f}\n",
        entropy, val_bpc, epochs, seconds / double(std::max<std::size_t>(epochs, 1)));
    // "Well below the unigram entropy": at least a bit per character better.
    return val_bpc < entropy - 1.0 ? 0 : 1;
}
