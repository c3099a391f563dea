// Gradient checkpointing (autograd/checkpoint.hpp): the same gradients as the plain computation,
// with the segment's intermediates freed after the forward.

#include "autograd/checkpoint.hpp"

#include "autograd/errors.hpp"
#include "autograd/ops/dropout.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/linalg.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/random.hpp"
#include "autograd/tape.hpp"

#include "harness.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <vector>

using namespace xgrad;
using A = std::vector<harness::Array>;
using D = Tensor<double>;

namespace {

// A block of an MLP with captured weights: tanh(x·Wᵀ + b), then dropout when asked.
struct Block {
    D w, b;
    bool drop = false;
    explicit Block(std::size_t n, bool with_dropout = false)
        : w(randn<double>({n, n}, 0.0, 0.5, true)),
          b(randn<double>({n}, 0.0, 0.5, true)),
          drop(with_dropout) {}
    D operator()(const D& x) const {
        D h = tanh(linear(x, w, b));
        return drop ? dropout(h, 0.3) : h;
    }
};

// Sum of squares of a deep chain of blocks, each run plainly or through checkpoint.
D deep(const std::vector<Block>& blocks, const D& x, bool checkpointed) {
    D h = x;
    for (const Block& block : blocks) {
        const std::function<D(const D&)> f = [&block](const D& v) { return block(v); };
        h = checkpointed ? checkpoint(f, h) : f(h);
    }
    return sum(h * h);
}

// Every gradient of deep(): the input's and each block's parameters'.
std::vector<xt::xarray<double>> gradients(const std::vector<Block>& blocks, const D& x,
                                          bool checkpointed, std::uint64_t seed = 7) {
    manual_seed(seed);
    std::vector<D> wrt = {x};
    for (const Block& block : blocks) {
        wrt.push_back(block.w);
        wrt.push_back(block.b);
    }
    std::vector<xt::xarray<double>> out;
    for (const D& g : grad(std::vector<D>{deep(blocks, x, checkpointed)}, wrt))
        out.push_back(g.value());
    return out;
}

}  // namespace

XGRAD_REGISTER_OP(
    harness::OpSpec("checkpoint",
                    [](const harness::Tensors& x) {
                        const SegmentFn<double> f = [](const std::vector<D>& v) {
                            return std::vector<D>{tanh(v[0] * v[1]) + v[0], v[1] * v[1]};
                        };
                        const auto ys = checkpoint(f, x);
                        return ys[0] * 2.0 + ys[1];
                    })
        .reference([](const A& a) {
            return harness::Array(xt::tanh(a[0] * a[1]) * 2.0 + a[0] * 2.0 + a[1] * a[1]);
        })
        .cases({{{2, 3}, {2, 3}}, {{4}, {4}}, {{}, {}}, {{0, 3}, {0, 3}}})
        .any_shape("the segment's own ops check its inputs; checkpoint adds no shape rule"));

TEST_CASE(
    "checkpoint: gradients equal the plain computation's, for the input and every "
    "captured parameter") {
    manual_seed(1);
    std::vector<Block> blocks;
    for (int i = 0; i < 6; ++i)
        blocks.emplace_back(5);
    const D x = randn<double>({4, 5}, 0.0, 1.0, true);
    const auto plain = gradients(blocks, x, false);
    const auto cp = gradients(blocks, x, true);
    REQUIRE(plain.size() == cp.size());
    for (std::size_t i = 0; i < plain.size(); ++i) {
        CAPTURE(i);
        CHECK(xt::allclose(plain[i], cp[i], 1e-13, 1e-14));
        CHECK(xt::any(xt::not_equal(plain[i], 0.0)));  // a gradient reached it
    }
}

TEST_CASE("checkpoint: dropout inside a segment draws the same mask when run again") {
    manual_seed(2);
    std::vector<Block> blocks;
    for (int i = 0; i < 4; ++i)
        blocks.emplace_back(6, true);
    const D x = randn<double>({3, 6}, 0.0, 1.0, true);
    const auto plain = gradients(blocks, x, false, 11);
    const auto cp = gradients(blocks, x, true, 11);
    for (std::size_t i = 0; i < plain.size(); ++i) {
        CAPTURE(i);
        CHECK(xt::allclose(plain[i], cp[i], 1e-13, 1e-14));
    }
    // And the generator continues from where the forward left it: the next draw is the same
    // with and without checkpointing.
    manual_seed(5);
    deep(blocks, x, true).backward();
    const double after_cp = randn<double>({1}).item();
    manual_seed(5);
    deep(blocks, x, false).backward();
    CHECK(randn<double>({1}).item() == after_cp);
}

TEST_CASE("checkpoint: the intermediates are freed after the forward and rebuilt in backward") {
    const D x = randn<double>({8}, 0.0, 1.0, true);
    const std::function<D(const D&)> chain = [](const D& v) {
        D h = v;
        for (int i = 0; i < 50; ++i)
            h = tanh(h) * 1.01;
        return h;
    };
    const std::int64_t before = live_nodes();
    D plain = chain(x);
    const std::int64_t plain_nodes = live_nodes() - before;
    plain = D();
    D cp = checkpoint(chain, x);
    const std::int64_t cp_nodes = live_nodes() - before;
    CHECK(plain_nodes >= 100);  // two ops per step
    CHECK(cp_nodes <= 2);       // the checkpoint op's output
    const D g = grad(sum(cp), x);
    CHECK(live_nodes() - before <= 2);  // the recomputed graph is gone again
    const D g_plain = grad(sum(chain(x)), x);
    CHECK(xt::allclose(g.value(), g_plain.value(), 1e-14, 1e-15));
}

TEST_CASE(
    "checkpoint: a tensor computed before the segment and captured gets its gradient "
    "once") {
    const D x = randn<double>({3}, 0.0, 1.0, true);
    const D h = x * 3.0;  // outside the segment, used by it through the closure and as an input
    const SegmentFn<double> f = [&h](const std::vector<D>& v) {
        return std::vector<D>{v[0] * h + h * h};
    };
    const D y = sum(checkpoint(f, {x})[0]);
    // y = Σ x·3x + 9x² = Σ 12x²  ⇒  dy/dx = 24x
    CHECK(xt::allclose(grad(y, x).value(), 24.0 * x.value()));
}

TEST_CASE("checkpoint: second derivatives through a segment (create_graph)") {
    const D x = randn<double>({4}, 0.0, 1.0, true);
    const std::function<D(const D&)> f = [](const D& v) { return tanh(v) * v * v; };
    const auto second = [&](bool checkpointed) {
        const D y = sum(checkpointed ? checkpoint(f, x) : f(x));
        const D g = grad(y, x, true);
        return grad(sum(g * g), x).value();
    };
    CHECK(xt::allclose(second(true), second(false), 1e-13, 1e-14));
}

TEST_CASE("checkpoint: segments inside segments, several outputs, and plain under NoGradGuard") {
    const D x = randn<double>({5}, 0.0, 1.0, true);
    const std::function<D(const D&)> inner = [](const D& v) { return exp(v * 0.5); };
    const SegmentFn<double> outer = [&inner](const std::vector<D>& v) {
        const D a = checkpoint(inner, v[0]);
        return std::vector<D>{a * v[0], sum(a)};
    };
    const auto cp = checkpoint(outer, {x});
    const D y = sum(cp[0]) + cp[1];
    const auto plain = outer({x});
    const D y_plain = sum(plain[0]) + plain[1];
    CHECK(y.item() == doctest::Approx(y_plain.item()));
    CHECK(xt::allclose(grad(y, x).value(), grad(y_plain, x).value(), 1e-14, 1e-15));
    NoGradGuard off;
    CHECK(!checkpoint(outer, {x})[0].requires_grad());
}

TEST_CASE("checkpoint: a segment that computes something else when run again is an error") {
    const D x = randn<double>({3}, 0.0, 1.0, true);
    const D other = randn<double>({3}, 0.0, 1.0, true);
    int runs = 0;
    const std::function<D(const D&)> changes = [&](const D& v) {
        return ++runs == 1 ? v * 2.0 : v * other;  // the second run reaches `other`
    };
    const D y = sum(checkpoint(changes, x));
    CHECK_THROWS_WITH_AS(
        y.backward(), doctest::Contains("checkpoint: run again, the segment used a tensor"), Error);
}

TEST_CASE("checkpoint: a hook on a captured parameter runs once per backward, as without it") {
    Block block(4);
    const D x = randn<double>({2, 4}, 0.0, 1.0, true);
    int calls = 0;
    D w = block.w;
    w.register_hook([&calls](const D& g) {
        ++calls;
        return g * 2.0;  // a replacement: applied twice it would show in the gradient
    });
    const std::function<D(const D&)> f = [&block](const D& v) { return block(v); };
    const D plain = grad(sum(f(x) * f(x)), w);
    CHECK(calls == 1);
    const D cp = grad(sum(checkpoint(f, x) * checkpoint(f, x)), w);
    CHECK(calls == 2);
    CHECK(xt::allclose(cp.value(), plain.value(), 1e-13, 1e-14));
}
