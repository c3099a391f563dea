// The error matrix (docs/reliability.md, "Bad input gets a clear error"): one table of bad
// inputs, each row the call, the exception type it must raise (exactly that type) and the words
// its message must hold, the first of which must begin it ("matmul:"). Adding a case is one line.
// File readers and writers have their own tests (tests/autograd/test_io.cpp,
// tests/nn/test_data.cpp).

#include "autograd/checkpoint.hpp"
#include "autograd/errors.hpp"
#include "autograd/ops/conv.hpp"
#include "autograd/ops/dropout.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/embedding.hpp"
#include "autograd/ops/hook.hpp"
#include "autograd/ops/index.hpp"
#include "autograd/ops/linalg.hpp"
#include "autograd/ops/loss.hpp"
#include "autograd/ops/norm.hpp"
#include "autograd/ops/pool.hpp"
#include "autograd/ops/recurrent.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/ops/softmax.hpp"
#include "autograd/tape.hpp"
#include "nn/activation.hpp"
#include "nn/conv.hpp"
#include "nn/dropout.hpp"
#include "nn/embedding.hpp"
#include "nn/linear.hpp"
#include "nn/loss.hpp"
#include "nn/norm.hpp"
#include "nn/pool.hpp"
#include "nn/rnn.hpp"
#include "optim/adam.hpp"
#include "optim/sgd.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cxxabi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <typeindex>
#include <vector>

using namespace xgrad;

namespace {

using T = double;

// One bad input: `run` makes the call, which must throw exactly `type`; the message must begin
// with words[0] and contain every other word.
struct Row {
    const char* name;
    std::function<void()> run;
    std::type_index type;
    std::vector<std::string> words;
};

const std::type_index shape_error = typeid(ShapeError);
const std::type_index value_error = typeid(ValueError);
const std::type_index plain_error = typeid(Error);

constexpr std::size_t minus_one = static_cast<std::size_t>(-1);  // what −1 becomes as a size
const std::string minus_one_str = std::to_string(minus_one);     // "18446744073709551615"

// Indices [n, 1] (gather's index for picking one entry per row).
Index column(std::initializer_list<std::int64_t> values) {
    Index index = Index::from_shape({values.size(), 1});
    std::copy(values.begin(), values.end(), index.begin());
    return index;
}

// A zero tensor of `shape` that requires grad, as a parameter or an input in training would.
Tensor<T> t(const Shape& shape) {
    return zeros<T>(shape, true);
}

std::string readable(const std::type_index& type) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(
        abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

// What is wrong with the row's outcome, or "" when it raised what it should.
std::string verdict(const Row& row) {
    try {
        row.run();
    } catch (const std::exception& e) {
        const std::string message = e.what();
        const std::type_index got = typeid(e);
        if (got != row.type) {
            return fmt::format("threw {} instead of {}: {}", readable(got), readable(row.type),
                               message);
        }
        if (message.rfind(row.words.at(0), 0) != 0) {
            return fmt::format("message does not begin with '{}': {}", row.words[0], message);
        }
        for (const auto& word : row.words) {
            if (message.find(word) == std::string::npos) {
                return fmt::format("message lacks '{}': {}", word, message);
            }
        }
        return {};
    } catch (...) {
        return "threw something that is not a std::exception";
    }
    return "threw nothing";
}

void run_table(const char* table, const std::vector<Row>& rows) {
    MESSAGE(std::string(table), ": ", rows.size(), " rows");
    for (const Row& row : rows) {
        const std::string v = verdict(row);
        CHECK_MESSAGE(v.empty(), std::string(row.name), ": ", v);
    }
}

// Every binary elementwise op with shapes [2, 3] and [4, 5], which do not broadcast.
std::vector<Row> elementwise_rows() {
    using Binary = Tensor<T> (*)(const Tensor<T>&, const Tensor<T>&);
    const std::vector<std::pair<const char*, Binary>> ops = {
        {"add", add<T>}, {"sub", sub<T>},         {"mul", mul<T>},         {"div", div<T>},
        {"pow", pow<T>}, {"maximum", maximum<T>}, {"minimum", minimum<T>}, {"eq", eq<T>},
        {"ne", ne<T>},   {"lt", lt<T>},           {"le", le<T>},           {"gt", gt<T>},
        {"ge", ge<T>},
    };
    std::vector<Row> rows;
    for (const auto& [name, op] : ops) {
        rows.push_back({name,
                        [op = op] {
                            op(t({2, 3}), t({4, 5}));
                        },
                        shape_error,
                        {fmt::format("{}:", name), "[2, 3]", "[4, 5]"}});
    }
    return rows;
}

// One row per line (or two), which clang-format would spread over six.
// clang-format off
std::vector<Row> op_rows() {
    return {
        // elementwise with three operands and attributes
        {"where: three shapes", [] { where(t({2, 1}), t({2, 3}), t({4, 3})); },
         shape_error, {"where:", "[2, 1]", "[2, 3]", "[4, 3]"}},
        {"clamp: lo > hi", [] { clamp(t({2}), T(1), T(0)); }, value_error, {"clamp:", "lo=1"}},
        {"gelu: approximate", [] { gelu(t({2}), "fast"); }, value_error, {"gelu:", "\"fast\""}},
        {"prelu: a slope per channel, wrong count", [] { prelu(t({2, 3}), t({4})); },
         shape_error, {"prelu:", "[2, 3]", "[4]"}},
        {"prelu: slopes for a 1-D input", [] { prelu(t({3}), t({3})); },
         shape_error, {"prelu:", "[3]"}},
        // products
        {"matmul: inner sizes", [] { matmul(t({2, 3}), t({4, 5})); },
         shape_error, {"matmul:", "[2, 3]", "[4, 5]"}},
        {"matmul: vectors", [] { matmul(t({3}), t({4})); }, shape_error, {"matmul:", "[3]", "[4]"}},
        {"matmul: batch axes", [] { matmul(t({2, 2, 3}), t({3, 3, 4})); },
         shape_error, {"matmul:", "[2, 2, 3]", "[3, 3, 4]"}},
        {"matmul: a scalar", [] { matmul(t({}), t({3})); }, shape_error, {"matmul:", "[]", "[3]"}},
        {"matmul: transposed", [] { matmul(t({2, 3}), t({2, 3}), false, false); },
         shape_error, {"matmul:", "[2, 3]"}},
        {"linear: weight", [] { linear(t({2, 3}), t({4, 5}), t({4})); },
         shape_error, {"linear:", "[2, 3]", "[4, 5]", "[4]"}},
        {"linear: bias", [] { linear(t({2, 3}), t({4, 3}), t({5})); },
         shape_error, {"linear:", "[2, 3]", "[4, 3]", "[5]"}},
        {"linear: scalar x", [] { linear(t({}), t({4, 3})); },
         shape_error, {"linear:", "[]", "[4, 3]"}},
        // convolutions
        {"conv2d: channels", [] { conv2d(t({1, 3, 5, 5}), t({2, 4, 3, 3})); },
         shape_error, {"conv2d:", "[1, 3, 5, 5]", "[2, 4, 3, 3]"}},
        {"conv2d: rank of x", [] { conv2d(t({3, 5, 5}), t({2, 3, 3, 3})); },
         shape_error, {"conv2d:", "[3, 5, 5]", "[2, 3, 3, 3]"}},
        {"conv2d: rank of weight", [] { conv2d(t({1, 3, 5, 5}), t({2, 3, 3})); },
         shape_error, {"conv2d:", "[1, 3, 5, 5]", "[2, 3, 3]"}},
        {"conv2d: bias", [] { conv2d(t({1, 3, 5, 5}), t({2, 3, 3, 3}), t({3})); },
         shape_error, {"conv2d:", "[1, 3, 5, 5]", "[2, 3, 3, 3]", "[3]"}},
        {"conv2d: kernel larger than the padded input",
         [] { conv2d(t({1, 1, 2, 2}), t({1, 1, 5, 5}), {}, ConvOptions().padding(1)); },
         shape_error, {"conv2d:", "larger than the padded input", "[1, 1, 2, 2]", "[1, 1, 5, 5]"}},
        {"conv2d: stride 0",
         [] { conv2d(t({1, 1, 5, 5}), t({1, 1, 3, 3}), {}, ConvOptions().stride(0)); },
         value_error, {"conv2d:", "stride=[0, 0]"}},
        {"conv2d: dilation 0",
         [] { conv2d(t({1, 1, 5, 5}), t({1, 1, 3, 3}), {}, ConvOptions().dilation(0)); },
         value_error, {"conv2d:", "dilation=[0, 0]"}},
        {"conv2d: groups 0",
         [] { conv2d(t({1, 1, 5, 5}), t({1, 1, 3, 3}), {}, ConvOptions().groups(0)); },
         value_error, {"conv2d:", "groups=0"}},
        {"conv2d: groups do not divide",
         [] { conv2d(t({1, 3, 5, 5}), t({2, 1, 3, 3}), {}, ConvOptions().groups(2)); },
         shape_error, {"conv2d:", "groups=2", "[1, 3, 5, 5]", "[2, 1, 3, 3]"}},
        {"conv2d: padding -1",
         [] { conv2d(t({1, 1, 5, 5}), t({1, 1, 3, 3}), {}, ConvOptions().padding(-1)); },
         value_error, {"conv2d:", "padding", minus_one_str}},
        {"conv2d: padding so large the output cannot be allocated",
         [] { conv2d(t({1, 1, 5, 5}), t({1, 1, 3, 3}), {},
                     ConvOptions().padding(std::size_t(1) << 30)); },
         value_error, {"conv2d:", "output", "[1, 1, 2147483651, 2147483651]"}},
        {"conv2d: same padding with stride 2",
         [] { conv2d(t({1, 1, 5, 5}), t({1, 1, 3, 3}), {},
                     ConvOptions().padding(Padding::same).stride(2)); },
         value_error, {"conv2d:", "same", "stride=[2, 2]"}},
        {"conv_transpose2d: channels", [] { conv_transpose2d(t({1, 3, 5, 5}), t({2, 4, 3, 3})); },
         shape_error, {"conv_transpose2d:", "[1, 3, 5, 5]", "[2, 4, 3, 3]"}},
        {"conv_transpose2d: rank", [] { conv_transpose2d(t({3, 5, 5}), t({3, 4, 3, 3})); },
         shape_error, {"conv_transpose2d:", "[3, 5, 5]", "[3, 4, 3, 3]"}},
        {"conv_transpose2d: bias",
         [] { conv_transpose2d(t({1, 3, 5, 5}), t({3, 4, 3, 3}), t({3})); },
         shape_error, {"conv_transpose2d:", "[1, 3, 5, 5]", "[3, 4, 3, 3]", "[3]"}},
        {"conv_transpose2d: stride 0",
         [] { conv_transpose2d(t({1, 1, 5, 5}), t({1, 1, 3, 3}), {}, ConvOptions().stride(0)); },
         value_error, {"conv_transpose2d:", "stride=[0, 0]"}},
        {"conv_transpose2d: output_padding >= stride",
         [] { conv_transpose2d(t({1, 1, 5, 5}), t({1, 1, 3, 3}), {},
                               ConvOptions().stride(2).output_padding(2)); },
         value_error, {"conv_transpose2d:", "output_padding=[2, 2]"}},
        {"conv_transpose2d: padding -1",
         [] { conv_transpose2d(t({1, 1, 5, 5}), t({1, 1, 3, 3}), {}, ConvOptions().padding(-1)); },
         value_error, {"conv_transpose2d:", "padding", minus_one_str}},
        {"conv_transpose2d: padding larger than the output",
         [] { conv_transpose2d(t({1, 1, 2, 2}), t({1, 1, 3, 3}), {}, ConvOptions().padding(3)); },
         shape_error, {"conv_transpose2d:", "[1, 1, 2, 2]", "[1, 1, 3, 3]"}},
        {"conv1d: rank", [] { conv1d(t({1, 3, 5, 5}), t({2, 3, 3})); },
         shape_error, {"conv1d:", "[1, 3, 5, 5]", "[2, 3, 3]"}},
        {"conv1d: channels", [] { conv1d(t({1, 3, 5}), t({2, 4, 3})); },
         shape_error, {"conv1d:", "[1, 3, 5]", "[2, 4, 3]"}},
        {"conv2d_weight: grad_out", [] { conv2d_weight(t({1, 3, 5, 5}), t({1, 2, 4, 4}), 3); },
         shape_error, {"conv2d_weight:", "[1, 3, 5, 5]", "[1, 2, 4, 4]"}},
        // pooling
        {"max_pool2d: rank", [] { max_pool2d(t({1, 4, 4}), 2); },
         shape_error, {"max_pool2d:", "[1, 4, 4]"}},
        {"max_pool2d: kernel 0", [] { max_pool2d(t({1, 1, 4, 4}), 0); },
         value_error, {"max_pool2d:", "kernel_size=[0, 0]"}},
        {"max_pool2d: stride 0", [] { max_pool2d(t({1, 1, 4, 4}), PoolOptions(2).stride(0)); },
         value_error, {"max_pool2d:", "stride=[0, 0]"}},
        {"max_pool2d: dilation 0", [] { max_pool2d(t({1, 1, 4, 4}), PoolOptions(2).dilation(0)); },
         value_error, {"max_pool2d:", "dilation=[0, 0]"}},
        {"max_pool2d: padding over half the kernel",
         [] { max_pool2d(t({1, 1, 4, 4}), PoolOptions(2).padding(2)); },
         value_error, {"max_pool2d:", "padding=[2, 2]", "kernel_size=[2, 2]"}},
        {"max_pool2d: padding -1", [] { max_pool2d(t({1, 1, 4, 4}), PoolOptions(2).padding(-1)); },
         value_error, {"max_pool2d:", "padding", minus_one_str}},
        {"max_pool2d: kernel larger than the input", [] { max_pool2d(t({1, 1, 2, 2}), 3); },
         shape_error, {"max_pool2d:", "larger than the padded input", "[1, 1, 2, 2]"}},
        {"max_pool2d: kernel -1", [] { max_pool2d(t({1, 1, 4, 4}), minus_one); },
         value_error, {"max_pool2d:", "kernel_size", minus_one_str}},
        {"avg_pool2d: rank", [] { avg_pool2d(t({4, 4}), 2); },
         shape_error, {"avg_pool2d:", "[4, 4]"}},
        {"avg_pool2d: kernel 0", [] { avg_pool2d(t({1, 1, 4, 4}), 0); },
         value_error, {"avg_pool2d:", "kernel_size=[0, 0]"}},
        {"avg_pool2d: stride 0", [] { avg_pool2d(t({1, 1, 4, 4}), PoolOptions(2).stride(0)); },
         value_error, {"avg_pool2d:", "stride=[0, 0]"}},
        {"avg_pool2d: kernel larger than the input", [] { avg_pool2d(t({1, 1, 2, 2}), 3); },
         shape_error, {"avg_pool2d:", "larger than the padded input", "[1, 1, 2, 2]"}},
        {"adaptive_avg_pool2d: output 0", [] { adaptive_avg_pool2d(t({1, 1, 4, 4}), 0); },
         value_error, {"adaptive_avg_pool2d:", "output_size=[0, 0]"}},
        {"adaptive_avg_pool2d: rank", [] { adaptive_avg_pool2d(t({4, 4}), 2); },
         shape_error, {"adaptive_avg_pool2d:", "[4, 4]"}},
        {"global_avg_pool2d: rank", [] { global_avg_pool2d(t({4, 4})); },
         shape_error, {"global_avg_pool2d:", "[4, 4]"}},
        // losses
        {"cross_entropy: shapes", [] { cross_entropy(t({2, 3}), Index{0, 1, 2}); },
         shape_error, {"cross_entropy:", "[2, 3]", "[3]"}},
        {"cross_entropy: label out of range", [] { cross_entropy(t({2, 3}), Index{0, 3}); },
         value_error, {"cross_entropy:", "label 3", "position 1", "[0, 3)"}},
        {"cross_entropy: negative label", [] { cross_entropy(t({2, 3}), Index{-1, 0}); },
         value_error, {"cross_entropy:", "label -1", "position 0"}},
        {"mse_loss: shapes", [] { nn::mse_loss(t({2, 3}), t({4, 5})); },
         shape_error, {"mse_loss:", "[2, 3]", "[4, 5]"}},
        {"binary_cross_entropy: shapes", [] { nn::binary_cross_entropy(t({2, 3}), t({4, 5})); },
         shape_error, {"binary_cross_entropy:", "[2, 3]", "[4, 5]"}},
        {"binary_cross_entropy_with_logits: shapes",
         [] { nn::binary_cross_entropy_with_logits(t({2, 3}), t({4, 5})); },
         shape_error, {"binary_cross_entropy_with_logits:", "[2, 3]", "[4, 5]"}},
        {"categorical_cross_entropy: shapes",
         [] { nn::categorical_cross_entropy(t({2, 3}), t({4, 5})); },
         shape_error, {"categorical_cross_entropy:", "[2, 3]", "[4, 5]"}},
        {"categorical_cross_entropy: rank",
         [] { nn::categorical_cross_entropy(t({2, 3, 4}), t({2, 3, 4})); },
         shape_error, {"categorical_cross_entropy:", "[2, 3, 4]"}},
        {"sparse_categorical_cross_entropy: shapes",
         [] { nn::sparse_categorical_cross_entropy(t({2, 3}), Index{0, 1, 2}); },
         shape_error, {"sparse_categorical_cross_entropy:", "[2, 3]", "[3]"}},
        {"sparse_categorical_cross_entropy: label out of range",
         [] { nn::sparse_categorical_cross_entropy(t({2, 3}), Index{0, 7}); },
         value_error, {"sparse_categorical_cross_entropy:", "label 7", "position 1"}},
        {"sparse_categorical_cross_entropy: negative label in a tensor",
         [] { nn::sparse_categorical_cross_entropy(t({2, 3}), Tensor<T>(xt::xarray<T>{0, -2})); },
         value_error, {"sparse_categorical_cross_entropy:", "label -2", "position 1"}},
        {"sparse_categorical_cross_entropy: a fraction in a tensor of labels",
         [] { nn::sparse_categorical_cross_entropy(t({2, 3}), Tensor<T>(xt::xarray<T>{0, 0.5})); },
         value_error, {"sparse_categorical_cross_entropy:", "value 0.5", "position 1"}},
        {"cross_entropy: weight",
         [] { cross_entropy(t({2, 3}), Index{0, 1}, CrossEntropyOptions().weight({1.0, 2.0})); },
         shape_error, {"cross_entropy:", "[2, 3]", "weight=[2]"}},
        {"cross_entropy: weight from a tensor",
         [] { cross_entropy(t({2, 3}), Index{0, 1}, CrossEntropyOptions().weight(t({3, 1}))); },
         shape_error, {"cross_entropy:", "[2, 3]", "weight=[3, 1]"}},
        {"cross_entropy: a negative weight",
         [] { cross_entropy(t({2, 3}), Index{0, 1}, CrossEntropyOptions().weight({1, -2.0, 1})); },
         value_error, {"cross_entropy:", "weight -2", "class 1"}},
        {"cross_entropy: label_smoothing 1.5",
         [] { cross_entropy(t({2, 3}), Index{0, 1}, CrossEntropyOptions().label_smoothing(1.5)); },
         value_error, {"cross_entropy:", "label_smoothing=1.5"}},
        {"cross_entropy: reduction batchmean",
         [] { cross_entropy(t({2, 3}), Index{0, 1},
                            CrossEntropyOptions().reduction(Reduction::batchmean)); },
         value_error, {"cross_entropy:", "batchmean"}},
        {"mse_loss: reduction batchmean (kl_div's only)",
         [] { nn::mse_loss(t({2, 3}), t({2, 3}), Reduction::batchmean); },
         value_error, {"mse_loss:", "batchmean", "kl_div"}},
        {"nll_loss: reduction batchmean (kl_div's only)",
         [] { nn::nll_loss(t({2, 3}), Index{0, 1}, Reduction::batchmean); },
         value_error, {"nll_loss:", "batchmean", "kl_div"}},
        {"cross_entropy: a label out of range that is not ignore_index",
         [] { cross_entropy(t({2, 3}), Index{-100, -1},
                            CrossEntropyOptions().ignore_index(-100)); },
         value_error, {"cross_entropy:", "label -1", "position 1"}},
        {"sparse_categorical_cross_entropy: weight",
         [] { nn::sparse_categorical_cross_entropy(t({2, 3}), Index{0, 1},
                                                   nn::CrossEntropyOptions().weight({1.0})); },
         shape_error, {"sparse_categorical_cross_entropy:", "[2, 3]", "weight=[1]"}},
        {"l1_loss: shapes", [] { nn::l1_loss(t({2, 3}), t({4, 5})); },
         shape_error, {"l1_loss:", "[2, 3]", "[4, 5]"}},
        {"huber_loss: shapes", [] { nn::huber_loss(t({2, 3}), t({3})); },
         shape_error, {"huber_loss:", "[2, 3]", "[3]"}},
        {"huber_loss: delta 0", [] { nn::huber_loss(t({2}), t({2}), Reduction::mean, T(0)); },
         value_error, {"huber_loss:", "delta=0"}},
        {"smooth_l1_loss: shapes", [] { nn::smooth_l1_loss(t({2, 3}), t({2, 4})); },
         shape_error, {"smooth_l1_loss:", "[2, 3]", "[2, 4]"}},
        {"smooth_l1_loss: beta -1",
         [] { nn::smooth_l1_loss(t({2}), t({2}), Reduction::mean, T(-1)); },
         value_error, {"smooth_l1_loss:", "beta=-1"}},
        {"kl_div: shapes", [] { nn::kl_div(t({2, 3}), t({3, 2})); },
         shape_error, {"kl_div:", "[2, 3]", "[3, 2]"}},
        {"nll_loss: shapes", [] { nn::nll_loss(t({2, 3}), Index{0}); },
         shape_error, {"nll_loss:", "[2, 3]", "[1]"}},
        {"nll_loss: label out of range", [] { nn::nll_loss(t({2, 3}), Index{3, 0}); },
         value_error, {"nll_loss:", "label 3", "position 0"}},
        {"nll_loss: negative label", [] { nn::nll_loss(t({2, 3}), Index{0, -1}); },
         value_error, {"nll_loss:", "label -1", "position 1"}},
        // lookups and indexing
        {"embedding: index out of range", [] { embedding(t({4, 2}), Index{1, 4}); },
         value_error, {"embedding:", "index 4", "[4, 2]"}},
        {"embedding: negative index", [] { embedding(t({4, 2}), Index{-1}); },
         value_error, {"embedding:", "index -1", "[4, 2]"}},
        {"embedding: weight rank", [] { embedding(t({4}), Index{0}); },
         shape_error, {"embedding:", "[4]", "[1]"}},
        {"embedding: padding_idx", [] { embedding(t({4, 2}), Index{0}, 4); },
         value_error, {"embedding:", "padding_idx=4", "[4, 2]"}},
        {"gather: index out of range", [] { gather(t({2, 3}), 1, column({0, 3})); },
         value_error, {"gather:", "3", "[2, 3]"}},
        {"gather: negative index", [] { gather(t({2, 3}), 1, column({0, -1})); },
         value_error, {"gather:", "-1", "[2, 3]"}},
        {"scatter_add: index out of range",
         [] { scatter_add(t({2, 3}), 1, column({0, 3}), t({2, 1})); },
         value_error, {"scatter_add:", "3", "[2, 3]"}},
        {"scatter_add: src shorter than index",
         [] { scatter_add(t({2, 3}), 1, Index{{0, 1}, {1, 2}}, t({2, 1})); },
         shape_error, {"scatter_add:", "[2, 3]", "[2, 2]", "[2, 1]"}},
        {"scatter_add: ranks", [] { scatter_add(t({2, 3}), 1, Index{0, 1}, t({2})); },
         shape_error, {"scatter_add:", "[2, 3]", "[2]"}},
        {"index_select: out of range", [] { index_select(t({2, 3}), 1, {5}); },
         value_error, {"index_select:", "5", "[2, 3]"}},
        {"slice: step 0", [] { slice(t({4}), 0, 0, 4, 0); }, value_error, {"slice:", "step"}},
        {"narrow: window outside the axis", [] { narrow(t({4}), 0, 2, 3); },
         shape_error, {"narrow:", "[4]"}},
        {"concat: shapes", [] { concat(std::vector<Tensor<T>>{t({2, 3}), t({2, 4})}, 0); },
         shape_error, {"concat:", "[2, 3]", "[2, 4]"}},
        {"concat: empty list", [] { concat(std::vector<Tensor<T>>{}); }, value_error, {"concat:"}},
        {"stack: shapes", [] { stack(std::vector<Tensor<T>>{t({2, 3}), t({3, 2})}); },
         shape_error, {"stack:", "[2, 3]", "[3, 2]"}},
        {"split: sizes", [] { split(t({5}), std::vector<std::size_t>{2, 2}); },
         shape_error, {"split:", "[5]"}},
        {"split: size 0", [] { split(t({5}), std::size_t(0)); }, value_error, {"split:"}},
        {"chunk: 0 chunks", [] { chunk(t({5}), 0); }, value_error, {"chunk:"}},
        {"split: a size of -1", [] { split(t({5}), std::vector<std::size_t>{minus_one, 6}); },
         shape_error, {"split:", minus_one_str, "[5]"}},
        {"narrow: length -1", [] { narrow(t({4}), 0, 1, minus_one); },
         shape_error, {"narrow:", minus_one_str, "[4]"}},
        {"pad: more pairs than axes", [] { pad(t({2, 3}), {{1, 1}, {1, 1}, {1, 1}}); },
         shape_error, {"pad:", "[2, 3]"}},
        {"pad: padding -1", [] { pad(t({2, 3}), {{minus_one, 0}}); },
         value_error, {"pad:", "padding", minus_one_str}},
        // factories
        {"zeros: an extent of -1", [] { zeros<T>({2, minus_one}); },
         value_error, {"zeros:", minus_one_str}},
        {"ones: more than 2^40 elements", [] { ones<T>({std::size_t(1) << 30, 1 << 20}); },
         value_error, {"ones:", "[1073741824, 1048576]"}},
        {"full: an extent of -1", [] { full<T>({minus_one}, T(1)); },
         value_error, {"full:", minus_one_str}},
        // shapes and reductions
        {"reshape: element count", [] { reshape(t({2, 3}), {4, 5}); },
         shape_error, {"reshape:", "[2, 3]", "[4, 5]"}},
        {"permute: dims", [] { permute(t({2, 3}), {0, 0}); }, shape_error, {"permute:", "[2, 3]"}},
        {"transpose: axis", [] { transpose(t({2, 3}), 0, 2); },
         shape_error, {"transpose:", "[2, 3]"}},
        {"squeeze: axis of length 3", [] { squeeze(t({2, 3}), 1); },
         shape_error, {"squeeze:", "[2, 3]"}},
        {"unsqueeze: axis", [] { unsqueeze(t({2, 3}), 4); }, shape_error, {"unsqueeze:", "[2, 3]"}},
        {"flatten: axes", [] { flatten(t({2, 3}), 0, 5); }, shape_error, {"flatten:", "[2, 3]"}},
        {"sum: axis", [] { sum(t({2, 3}), {2}); }, shape_error, {"sum:", "[2, 3]"}},
        {"mean: axis", [] { mean(t({2, 3}), {-3}); }, shape_error, {"mean:", "[2, 3]"}},
        {"prod: axis", [] { prod(t({2, 3}), 2); }, shape_error, {"prod:", "[2, 3]"}},
        {"var: axis", [] { var(t({2, 3}), {3}); }, shape_error, {"var:", "[2, 3]"}},
        {"var: empty axis", [] { var(t({2, 0}), {1}); }, shape_error, {"var:", "[2, 0]"}},
        {"std: axis", [] { xgrad::std(t({2, 3}), {-3}); }, shape_error, {"std:", "[2, 3]"}},
        {"norm: axis", [] { norm(t({2, 3}), 2, {2}); }, shape_error, {"norm:", "[2, 3]"}},
        {"norm: p 0", [] { norm(t({2, 3}), 0.0); }, value_error, {"norm:", "p=0"}},
        {"norm: p NaN", [] { norm(t({2, 3}), std::nan("")); }, value_error, {"norm:", "p=nan"}},
        {"cumsum: axis", [] { cumsum(t({2, 3}), 2); }, shape_error, {"cumsum:", "[2, 3]"}},
        {"cumsum: a 0-d tensor along dim 1", [] { cumsum(t({}), 1); }, shape_error, {"cumsum:", "[]"}},
        {"argmax: axis", [] { argmax(t({2, 3}), 2); }, shape_error, {"argmax:", "[2, 3]"}},
        {"argmax: empty", [] { argmax(t({0, 3})); }, shape_error, {"argmax:", "[0, 3]"}},
        {"argmin: empty axis", [] { argmin(t({3, 0}), 1); }, shape_error, {"argmin:", "[3, 0]"}},
        {"max: repeated axis", [] { max(t({2, 3}), {1, 1}); }, shape_error, {"max:", "[2, 3]"}},
        {"min: axis", [] { min(t({2, 3}), {2}); }, shape_error, {"min:", "[2, 3]"}},
        {"softmax: axis", [] { softmax(t({2, 3}), 2); }, shape_error, {"softmax:", "[2, 3]"}},
        {"log_softmax: axis", [] { log_softmax(t({2, 3}), -3); },
         shape_error, {"log_softmax:", "[2, 3]"}},
        {"logsumexp: axis", [] { logsumexp(t({2, 3}), {2}); },
         shape_error, {"logsumexp:", "[2, 3]"}},
        {"broadcast_to: shapes", [] { broadcast_to(t({2, 3}), {4, 5}); },
         shape_error, {"broadcast_to:", "[2, 3]", "[4, 5]"}},
        {"broadcast_to: an extent of -1", [] { broadcast_to(t({1}), {minus_one}); },
         value_error, {"broadcast_to:", minus_one_str}},
        {"sum_to: shapes", [] { sum_to(t({2, 3}), {4}); },
         shape_error, {"sum_to:", "[2, 3]", "[4]"}},
        // normalisation, dropout, recurrent steps
        {"batch_norm: channels", [] { batch_norm(t({2, 3}), t({4}), t({4}), t({4}), t({4})); },
         shape_error, {"batch_norm:", "[2, 3]", "[4]"}},
        {"batch_norm: rank", [] { batch_norm(t({3}), t({3}), t({3})); },
         shape_error, {"batch_norm:", "[3]"}},
        {"batch_norm: eps 0",
         [] { batch_norm(t({2, 3}), t({3}), t({3}), {}, {}, false, T(0.1), T(0)); },
         value_error, {"batch_norm:", "eps"}},
        {"layer_norm: normalized_shape", [] { layer_norm(t({2, 3}), {4}); },
         shape_error, {"layer_norm:", "[2, 3]", "[4]"}},
        {"layer_norm: weight", [] { layer_norm(t({2, 3}), {3}, t({4})); },
         shape_error, {"layer_norm:", "[2, 3]", "[3]", "[4]"}},
        {"dropout: p 1", [] { dropout(t({2}), T(1)); }, value_error, {"dropout:", "p=1"}},
        {"dropout: p -0.5", [] { dropout(t({2}), T(-0.5)); }, value_error, {"dropout:", "p=-0.5"}},
        {"dropout: p NaN", [] { dropout(t({2}), std::numeric_limits<T>::quiet_NaN()); },
         value_error, {"dropout:", "nan"}},
        {"dropout2d: rank", [] { dropout2d(t({2, 3}), T(0.5)); },
         shape_error, {"dropout2d:", "[2, 3]"}},
        {"lstm_gates: shapes", [] { lstm_gates(t({2, 8}), t({2, 3})); },
         shape_error, {"lstm_gates:", "[2, 8]", "[2, 3]"}},
        {"gru_gates: shapes", [] { gru_gates(t({2, 6}), t({2, 9}), t({2, 2})); },
         shape_error, {"gru_gates:", "[2, 6]", "[2, 9]", "[2, 2]"}},
        {"lstm_sequence: weight_hh",
         [] { lstm_sequence(t({5, 2, 8}), t({2, 2}), t({2, 2}), t({8, 3})); },
         shape_error, {"lstm_sequence:", "[5, 2, 8]", "[2, 2]", "[8, 3]"}},
        {"lstm_sequence: a length over T",
         [] { lstm_sequence(t({5, 2, 8}), t({2, 2}), t({2, 2}), t({8, 2}), false, {6, 1}); },
         shape_error, {"lstm_sequence:", "lengths=[6, 1]", "[5, 2, 8]"}},
        {"gru_sequence: bias_hh", [] { gru_sequence(t({5, 2, 6}), t({2, 2}), t({6, 2}), t({5})); },
         shape_error, {"gru_sequence:", "[5, 2, 6]", "[2, 2]", "[6, 2]", "[5]"}},
    };
}
// clang-format on

// One row per line (or two), which clang-format would spread over six.
// clang-format off
std::vector<Row> layer_rows() {
    using nn::Conv2dOptions;
    using nn::RNNCellOptions;
    using nn::RNNOptions;
    return {
        // Linear
        {"Linear: in 0", [] { nn::Linear<T>(0, 3); }, value_error, {"linear:", "in=0"}},
        {"Linear: out 0", [] { nn::Linear<T>(3, 0); }, value_error, {"linear:", "out=0"}},
        {"Linear: in -1", [] { nn::Linear<T>(minus_one, 3); },
         value_error, {"linear:", "in_features", minus_one_str}},
        {"Linear: out -1", [] { nn::Linear<T>(3, minus_one); },
         value_error, {"linear:", "out_features", minus_one_str}},
        {"Linear: a weight too large to allocate",
         [] { nn::Linear<T>(std::size_t(1) << 32, std::size_t(1) << 32); },
         value_error, {"linear:", "weight", "[4294967296, 4294967296]"}},
        {"Linear: forward with the wrong width", [] { nn::Linear<T>(3, 2)(t({4, 5})); },
         shape_error, {"linear:", "[4, 5]", "[2, 3]", "[2]"}},
        // Conv2d, ConvTranspose2d
        {"Conv2d: in 0", [] { nn::Conv2d<T>(0, 2, 3); }, value_error, {"conv2d:", "in=0"}},
        {"Conv2d: kernel 0", [] { nn::Conv2d<T>(1, 2, 0); },
         value_error, {"conv2d:", "kernel_size=[0, 0]"}},
        {"Conv2d: out -1", [] { nn::Conv2d<T>(1, minus_one, 3); },
         value_error, {"conv2d:", "out_channels", minus_one_str}},
        {"Conv2d: kernel -1", [] { nn::Conv2d<T>(1, 1, minus_one); },
         value_error, {"conv2d:", "kernel_size", minus_one_str}},
        {"Conv2d: groups do not divide", [] { nn::Conv2d<T>(Conv2dOptions(3, 2, 3).groups(2)); },
         value_error, {"conv2d:", "in=3", "groups=2"}},
        {"Conv2d: stride 0", [] { nn::Conv2d<T>(Conv2dOptions(1, 2, 3).stride(0)); },
         value_error, {"conv2d:", "stride=[0, 0]"}},
        {"Conv2d: dilation 0", [] { nn::Conv2d<T>(Conv2dOptions(1, 2, 3).dilation({1, 0})); },
         value_error, {"conv2d:", "dilation=[1, 0]"}},
        {"Conv2d: padding -1", [] { nn::Conv2d<T>(Conv2dOptions(1, 2, 3).padding(-1)); },
         value_error, {"conv2d:", "padding", minus_one_str}},
        {"Conv2d: same padding with stride 2",
         [] { nn::Conv2d<T>(Conv2dOptions(1, 2, 3).padding(Padding::same).stride(2)); },
         value_error, {"conv2d:", "same", "stride=[2, 2]"}},
        {"Conv2d: forward with the wrong channels", [] { nn::Conv2d<T>(3, 2, 3)(t({1, 4, 5, 5})); },
         shape_error, {"conv2d:", "[1, 4, 5, 5]"}},
        {"Conv2d: forward with the wrong rank", [] { nn::Conv2d<T>(3, 2, 3)(t({3, 5, 5})); },
         shape_error, {"conv2d:", "[3, 5, 5]"}},
        {"Conv2d: forward on an input smaller than the kernel",
         [] { nn::Conv2d<T>(1, 1, 5)(t({1, 1, 3, 3})); },
         shape_error, {"conv2d:", "larger than the padded input", "[1, 1, 3, 3]", "[1, 1, 5, 5]"}},
        {"ConvTranspose2d: out -1", [] { nn::ConvTranspose2d<T>(1, minus_one, 3); },
         value_error, {"conv_transpose2d:", "out_channels", minus_one_str}},
        {"ConvTranspose2d: stride 0",
         [] { nn::ConvTranspose2d<T>(Conv2dOptions(1, 2, 3).stride(0)); },
         value_error, {"conv_transpose2d:", "stride=[0, 0]"}},
        {"ConvTranspose2d: output_padding >= stride",
         [] { nn::ConvTranspose2d<T>(Conv2dOptions(1, 2, 3).stride(2).output_padding(2)); },
         value_error, {"conv_transpose2d:", "output_padding=[2, 2]"}},
        // pooling layers
        {"MaxPool2d: kernel 0", [] { nn::MaxPool2d<T>(0); },
         value_error, {"max_pool2d:", "kernel_size=[0, 0]"}},
        {"MaxPool2d: stride 0", [] { nn::MaxPool2d<T>(PoolOptions(2).stride(0)); },
         value_error, {"max_pool2d:", "stride=[0, 0]"}},
        {"MaxPool2d: dilation 0", [] { nn::MaxPool2d<T>(PoolOptions(2).dilation(0)); },
         value_error, {"max_pool2d:", "dilation=[0, 0]"}},
        {"MaxPool2d: padding -1", [] { nn::MaxPool2d<T>(PoolOptions(2).padding(-1)); },
         value_error, {"max_pool2d:", "padding", minus_one_str}},
        {"MaxPool2d: forward with the wrong rank", [] { nn::MaxPool2d<T>(2)(t({4, 4})); },
         shape_error, {"max_pool2d:", "[4, 4]"}},
        {"MaxPool2d: forward on an input smaller than the kernel",
         [] { nn::MaxPool2d<T>(3)(t({1, 1, 2, 2})); },
         shape_error, {"max_pool2d:", "larger than the padded input", "[1, 1, 2, 2]"}},
        {"AvgPool2d: kernel 0", [] { nn::AvgPool2d<T>(0); },
         value_error, {"avg_pool2d:", "kernel_size=[0, 0]"}},
        {"AvgPool2d: stride 0", [] { nn::AvgPool2d<T>(PoolOptions(2).stride(0)); },
         value_error, {"avg_pool2d:", "stride=[0, 0]"}},
        {"AvgPool2d: padding over half the kernel",
         [] { nn::AvgPool2d<T>(PoolOptions(2).padding(2)); },
         value_error, {"avg_pool2d:", "padding=[2, 2]"}},
        {"AvgPool2d: forward with the wrong rank", [] { nn::AvgPool2d<T>(2)(t({1, 4, 4})); },
         shape_error, {"avg_pool2d:", "[1, 4, 4]"}},
        {"AdaptiveAvgPool2d: output 0", [] { nn::AdaptiveAvgPool2d<T>(0); },
         value_error, {"adaptive_avg_pool2d:", "output_size=[0, 0]"}},
        // Embedding
        {"Embedding: 0 rows", [] { nn::Embedding<T>(0, 3); },
         value_error, {"embedding:", "num_embeddings=0"}},
        {"Embedding: dim 0", [] { nn::Embedding<T>(3, 0); },
         value_error, {"embedding:", "embedding_dim=0"}},
        {"Embedding: dim -1", [] { nn::Embedding<T>(3, minus_one); },
         value_error, {"embedding:", "embedding_dim", minus_one_str}},
        {"Embedding: rows -1", [] { nn::Embedding<T>(minus_one, 3); },
         value_error, {"embedding:", "num_embeddings", minus_one_str}},
        {"Embedding: padding_idx out of range",
         [] { nn::Embedding<T>(nn::EmbeddingOptions(3, 2).padding_idx(3)); },
         value_error, {"embedding:", "padding_idx=3"}},
        {"Embedding: index out of range", [] { nn::Embedding<T>(3, 2).forward(Index{0, 3}); },
         value_error, {"embedding:", "index 3", "[3, 2]"}},
        {"Embedding: negative index", [] { nn::Embedding<T>(3, 2).forward(Index{-1}); },
         value_error, {"embedding:", "index -1", "[3, 2]"}},
        {"Embedding: a fraction in a tensor of indices",
         [] { nn::Embedding<T>(3, 2).forward(Tensor<T>(xt::xarray<T>{0, 1.5})); },
         value_error, {"embedding:", "value 1.5", "position 1", "not a whole number"}},
        // normalisation, dropout
        {"BatchNorm1d: 0 features", [] { nn::BatchNorm1d<T>(0); },
         value_error, {"batch_norm1d:", "num_features=0"}},
        {"BatchNorm2d: 0 features", [] { nn::BatchNorm2d<T>(0); },
         value_error, {"batch_norm2d:", "num_features=0"}},
        {"BatchNorm2d: features -1", [] { nn::BatchNorm2d<T>(nn::BatchNormOptions(minus_one)); },
         value_error, {"batch_norm2d:", "num_features", minus_one_str}},
        {"BatchNorm2d: momentum 2",
         [] { nn::BatchNorm2d<T>(nn::BatchNormOptions(3).momentum(2.0)); },
         value_error, {"batch_norm2d:", "momentum=2"}},
        {"BatchNorm2d: forward with the wrong channels",
         [] { nn::BatchNorm2d<T>(3)(t({2, 4, 2, 2})); },
         shape_error, {"batch_norm2d:", "[2, 4, 2, 2]"}},
        {"BatchNorm1d: forward with a rank-4 input", [] { nn::BatchNorm1d<T>(3)(t({2, 3, 2, 2})); },
         shape_error, {"batch_norm1d:", "[2, 3, 2, 2]"}},
        {"LayerNorm: empty normalized_shape", [] { nn::LayerNorm<T>(Shape{}); },
         value_error, {"layer_norm:", "normalized_shape=[]"}},
        {"LayerNorm: 0 features", [] { nn::LayerNorm<T>(0); },
         value_error, {"layer_norm:", "normalized_shape=[0]"}},
        {"LayerNorm: features -1", [] { nn::LayerNorm<T>(nn::LayerNormOptions(minus_one)); },
         value_error, {"layer_norm:", "normalized_shape", minus_one_str}},
        {"LayerNorm: forward with the wrong width", [] { nn::LayerNorm<T>(3)(t({2, 4})); },
         shape_error, {"layer_norm:", "[2, 4]", "[3]"}},
        {"Dropout: p 1", [] { nn::Dropout<T>(T(1)); }, value_error, {"dropout:", "p=1"}},
        // activations with attributes or parameters
        {"GELU: approximate", [] { nn::GELU<T>("fast"); }, value_error, {"gelu:", "\"fast\""}},
        {"PReLU: 0 parameters", [] { nn::PReLU<T>(0); },
         value_error, {"prelu:", "num_parameters=0"}},
        {"PReLU: forward with the wrong channels", [] { nn::PReLU<T>(3)(t({2, 4})); },
         shape_error, {"prelu:", "[2, 4]", "[3]"}},
        {"Dropout: p -0.1", [] { nn::Dropout<T>(T(-0.1)); }, value_error, {"dropout:", "p=-0.1"}},
        {"Dropout2d: p 1.5", [] { nn::Dropout2d<T>(T(1.5)); },
         value_error, {"dropout2d:", "p=1.5"}},
        // recurrent layers and cells
        {"RNN: hidden 0", [] { nn::RNN<T>(RNNOptions(3, 0)); },
         value_error, {"rnn:", "hidden_size=0"}},
        {"LSTM: hidden 0", [] { nn::LSTM<T>(RNNOptions(3, 0)); },
         value_error, {"lstm:", "hidden_size=0"}},
        {"GRU: hidden 0", [] { nn::GRU<T>(RNNOptions(3, 0)); },
         value_error, {"gru:", "hidden_size=0"}},
        {"LSTM: input 0", [] { nn::LSTM<T>(RNNOptions(0, 4)); },
         value_error, {"lstm:", "input_size=0"}},
        {"LSTM: hidden -1", [] { nn::LSTM<T>(RNNOptions(3, minus_one)); },
         value_error, {"lstm:", "hidden_size", minus_one_str}},
        {"GRU: input -1", [] { nn::GRU<T>(RNNOptions(minus_one, 3)); },
         value_error, {"gru:", "input_size", minus_one_str}},
        {"LSTM: 0 layers", [] { nn::LSTM<T>(RNNOptions(3, 4).num_layers(0)); },
         value_error, {"lstm:", "num_layers=0"}},
        {"GRU: dropout 1", [] { nn::GRU<T>(RNNOptions(3, 4).dropout(1)); },
         value_error, {"gru:", "dropout=1"}},
        {"RNNCell: hidden 0", [] { nn::RNNCell<T>(RNNCellOptions(3, 0)); },
         value_error, {"rnn_cell:", "hidden_size=0"}},
        {"LSTMCell: hidden 0", [] { nn::LSTMCell<T>(RNNCellOptions(3, 0)); },
         value_error, {"lstm_cell:", "hidden_size=0"}},
        {"GRUCell: hidden -1", [] { nn::GRUCell<T>(RNNCellOptions(3, minus_one)); },
         value_error, {"gru_cell:", "hidden_size", minus_one_str}},
        {"LSTM: forward with the wrong input size",
         [] { nn::LSTM<T>(RNNOptions(3, 4))(t({5, 2, 7})); },
         shape_error, {"lstm:", "[5, 2, 7]"}},
        {"LSTM: forward with a wrong initial state",
         [] { nn::LSTM<T>(RNNOptions(3, 4))({t({5, 2, 3}), t({1, 2, 5}), t({1, 2, 4})}); },
         shape_error, {"lstm:", "[1, 2, 4]", "[1, 2, 5]"}},
        {"LSTMCell: forward with the wrong input size",
         [] { nn::LSTMCell<T>(RNNCellOptions(3, 4))(t({2, 5})); },
         shape_error, {"lstm_cell:", "[2, 5]"}},
        // optimizers
        {"SGD: lr -1", [] { optim::SGD<T>({t({2})}, optim::SGDOptions(-1)); },
         value_error, {"sgd:", "lr=-1"}},
        {"SGD: momentum -1", [] { optim::SGD<T>({t({2})}, optim::SGDOptions(0.1).momentum(-1)); },
         value_error, {"sgd:", "momentum=-1"}},
        {"SGD: a parameter that is not a leaf",
         [] { optim::SGD<T>({mul(t({2}), t({2}))}, optim::SGDOptions(0.1)); },
         value_error, {"sgd:", "parameter 0", "leaf"}},
        {"Adam: beta1 1", [] { optim::Adam<T>({t({2})}, optim::AdamOptions().betas(1, 0.999)); },
         value_error, {"adam:", "beta1=1"}},
    };
}
// clang-format on

// A model of two named parameters for the state dict rows: "fc.weight" [2, 3], "fc.bias" [2].
struct Tiny : nn::Module<T> {
    std::shared_ptr<nn::Linear<T>> fc;
    Tiny() : fc(register_module("fc", std::make_shared<nn::Linear<T>>(3, 2))) {}
    std::string type_name() const override { return "Tiny"; }
};

// One row per line (or two), which clang-format would spread over six.
// clang-format off
std::vector<Row> engine_rows() {
    using State = std::map<std::string, xt::xarray<T>>;
    return {
        // backward
        {"backward_hook: a hook that leaves a gradient of another shape",
         [] {
             auto ys = backward_hook<T>({t({2, 3})},
                                        [](std::vector<Tensor<T>>& gs) { gs[0] = ones<T>({3}); });
             sum(ys[0]).backward();
         },
         shape_error, {"backward_hook:", "[3]", "[2, 3]"}},
        {"checkpoint: a segment whose output changes shape when run again",
         [] {
             int runs = 0;
             const std::function<Tensor<T>(const Tensor<T>&)> f = [&runs](const Tensor<T>& v) {
                 return ++runs == 1 ? mul(v, v) : sum(v);
             };
             sum(checkpoint(f, t({2, 3}))).backward();
         },
         shape_error, {"checkpoint:", "output 0", "[]", "[2, 3]"}},
        {"checkpoint: a segment that returns another number of tensors when run again",
         [] {
             int runs = 0;
             const SegmentFn<T> f = [&runs](const std::vector<Tensor<T>>& v) {
                 return ++runs == 1 ? v : std::vector<Tensor<T>>{v[0], v[0]};
             };
             sum(checkpoint(f, {mul(t({2}), t({2}))})[0]).backward();
         },
         plain_error, {"checkpoint:", "returned 2 tensors instead of 1"}},
        {"backward: a non-scalar output without a gradient",
         [] { mul(t({2, 3}), t({2, 3})).backward(); },
         plain_error, {"backward:", "[2, 3]", "pass a gradient"}},
        {"backward: a gradient of the wrong shape",
         [] { mul(t({2, 3}), t({2, 3})).backward(ones<T>({3, 2})); },
         shape_error, {"backward:", "[2, 3]", "[3, 2]"}},
        {"backward: twice without retain_graph",
         [] {
             auto x = t({2});
             auto y = sum(mul(x, x));
             y.backward();
             y.backward();
         },
         plain_error,
         {"backward:", "retain_graph"}},
        {"backward: through a tensor that does not require grad",
         [] { sum(zeros<T>({2})).backward(); },
         plain_error, {"backward:", "does not require grad"}},
        {"backward: an undefined output", [] { Tensor<T>().backward(); },
         plain_error, {"backward:", "undefined"}},
        {"backward: more gradients than outputs",
         [] { backward<T>({sum(t({2}))}, {scalar<T>(1), scalar<T>(1)}); },
         plain_error, {"backward:", "1 outputs", "2 gradients"}},
        // grad
        {"grad: an input the output does not use",
         [] {
             auto x = t({2}), unused = t({3});
             grad<T>({sum(x)}, {x, unused});
         },
         value_error,
         {"grad:", "input 1", "[3]", "allow_unused"}},
        {"grad: an input that does not require grad",
         [] {
             auto x = t({2});
             grad<T>({sum(x)}, {x, zeros<T>({4})});
         },
         value_error,
         {"grad:", "input 1", "[4]", "does not require grad"}},
        {"grad: an output that does not require grad",
         [] { grad<T>({sum(zeros<T>({2}))}, {t({2})}); },
         plain_error, {"grad:", "output 0", "does not require grad"}},
        {"grad: a non-scalar output without a gradient",
         [] {
             auto x = t({2});
             grad(mul(x, x), x);
         },
         plain_error,
         {"grad:", "[2]", "pass a gradient"}},
        {"grad: an undefined input", [] { grad<T>({sum(t({2}))}, {Tensor<T>()}); },
         plain_error, {"grad:", "input 0", "undefined"}},
        {"grad: twice without retain_graph",
         [] {
             auto x = t({2});
             auto y = sum(mul(x, x));
             grad(y, x);
             grad(y, x);
         },
         plain_error,
         {"grad:", "retain_graph"}},
        // load_state_dict
        {"load_state_dict: a missing entry",
         [] {
             Tiny m;
             m.load_state_dict(State{{"fc.weight", xt::zeros<T>({2, 3})}});
         },
         value_error,
         {"load_state_dict:", "missing", "'fc.bias'", "[2]"}},
        {"load_state_dict: every missing entry",
         [] {
             Tiny m;
             m.load_state_dict(State{});
         },
         value_error,
         {"load_state_dict:", "'fc.weight'", "'fc.bias'"}},
        {"load_state_dict: unexpected entries",
         [] {
             Tiny m;
             State s = m.state_dict();
             s["fc.scale"] = xt::zeros<T>({2});
             s["head.bias"] = xt::zeros<T>({5});
             m.load_state_dict(s);
         },
         value_error,
         {"load_state_dict:", "unexpected", "'fc.scale'", "'head.bias'", "[5]"}},
        {"load_state_dict: a wrong shape",
         [] {
             Tiny m;
             State s = m.state_dict();
             s["fc.weight"] = xt::zeros<T>({3, 2});
             m.load_state_dict(s);
         },
         shape_error,
         {"load_state_dict:", "'fc.weight'", "[3, 2]", "[2, 3]"}},
        {"load_state_dict: a wrong shape with strict off",
         [] {
             Tiny m;
             State s = m.state_dict();
             s["fc.bias"] = xt::zeros<T>({4});
             m.load_state_dict(s, false);
         },
         shape_error,
         {"load_state_dict:", "'fc.bias'", "[4]", "[2]"}},
        {"load_state_dict: missing, unexpected and mis-shaped at once",
         [] {
             Tiny m;
             m.load_state_dict(
                 State{{"fc.weight", xt::zeros<T>({2, 4})}, {"fc.extra", xt::zeros<T>({1})}});
         },
         value_error,
         {"load_state_dict:", "'fc.bias'", "'fc.extra'", "'fc.weight'", "[2, 4]", "[2, 3]"}},
    };
}
// clang-format on

}  // namespace

// Ops with no row of their own, and why: any input is valid (unary elementwise ops take every
// shape), or the op is only called by the engine, inside another op's VJP.
const std::set<std::string> no_bad_input = {
    "abs", "elu", "erf", "exp", "leaky_relu", "log", "neg", "relu", "sigmoid", "softplus", "sqrt",
    "tanh",  // unary elementwise
    // inside VJPs
    "avg_pool2d_backward", "crop", "embedding_backward", "index_add", "max_pool2d_gather",
    "max_unpool2d", "prod_others", "slice_backward"};

TEST_CASE("error matrix: every op the library records has a row, or a reason for none") {
    std::set<std::string> covered;
    for (const auto& table : {elementwise_rows(), op_rows(), layer_rows(), engine_rows()}) {
        for (const Row& row : table)
            covered.insert(row.words[0].substr(0, row.words[0].find(':')));
    }
    std::set<std::string> recorded;
    for (const auto& op : registered_ops()) {
        if (!op.builtin()) continue;
        recorded.insert(op.name);
        INFO("op: ", op.name, " (", op.type, ")");
        CHECK((covered.count(op.name) == 1 || no_bad_input.count(op.name) == 1));
    }
    std::size_t with_rows = 0;
    for (const auto& name : recorded)
        with_rows += covered.count(name);
    MESSAGE(recorded.size(), " ops recorded: ", with_rows, " with rows, ",
            recorded.size() - with_rows, " without (no_bad_input)");
    CHECK(!recorded.empty());  // the registry is filled when the program starts
}

TEST_CASE("error matrix: binary elementwise ops name both shapes") {
    run_table("elementwise", elementwise_rows());
}

TEST_CASE("error matrix: ops") {
    run_table("ops", op_rows());
}

TEST_CASE("error matrix: layers and optimizers") {
    run_table("layers", layer_rows());
}

TEST_CASE("error matrix: backward, grad and load_state_dict") {
    run_table("engine", engine_rows());
}

TEST_CASE("load_state_dict: a refused state changes nothing, and strict off loads what fits") {
    using State = std::map<std::string, xt::xarray<T>>;
    Tiny m;
    const State before = m.state_dict();
    State bad = before;
    bad["fc.bias"] = xt::ones<T>({2});       // fits, but must not be copied:
    bad["fc.weight"] = xt::ones<T>({3, 2});  // this one does not, so the load is refused
    CHECK_THROWS_AS(m.load_state_dict(bad), ShapeError);
    CHECK(m.state_dict() == before);
    // strict off: the missing fc.weight and the unknown entry are skipped, fc.bias is loaded.
    m.load_state_dict(State{{"fc.bias", xt::ones<T>({2})}, {"head.bias", xt::ones<T>({7})}}, false);
    CHECK(m.fc->bias().value() == xt::ones<T>({2}));
    CHECK(m.fc->weight().value() == before.at("fc.weight"));
}
