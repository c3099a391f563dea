#include "autograd/ops/recurrent.hpp"

#include "autograd/ops/blas.hpp"
#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/index.hpp"
#include "autograd/ops/linalg.hpp"
#include "autograd/ops/reduce.hpp"
#include "autograd/ops/shape.hpp"
#include "autograd/ops/simd_math.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>

namespace xgrad {
namespace ops {
namespace {

// Note [fused recurrent steps]
// A step of an LSTM is two matrix products and then about a dozen elementwise ops on [b, h]
// blocks (four activations, the cell update, tanh of the cell, the output gate). Recorded one by
// one, a 50-step sequence puts ~600 small ops on the tape and as many VJPs in backward, and the
// op overhead, not the arithmetic, sets the time. lstm_gates and gru_gates are those elementwise
// parts as one op each: forward is one pass over the gates that keeps the activations its
// fast_vjp needs, and fast_vjp is one pass back. Their vjp states the same formulas with xgrad ops
// from the saved inputs, so create_graph differentiates a step again; the harness checks both
// against finite differences and against each other.

// The gate loops below run over xsimd batches with a scalar tail, one formula for both: V is
// xsimd::batch<T> or T, and Lanes<V> loads and stores one V. (The activations dominate a step
// once the products are done: glibc's scalar tanh alone took 29% of an LSTM training step.) The
// functions come from simd_math.hpp, where a scalar gets a batch lane's bits (Note [one formula
// per value]).
using simd::for_lanes;
using simd::Lanes;
using simd::sigmoid_of;

// One row of the LSTM step's forward: pre-activations a [4h] → the activations i, f, g, o into
// act [4h] (a and act may be one buffer); the old cell c [h] → c' (c1), tanh c' (tc) and
// h' = o ⊙ tanh c' (h1). c1 may be c.
template <class T>
void lstm_forward_row(std::size_t h, const T* a, const T* c, T* act, T* c1, T* tc, T* h1) {
    for_lanes<T>(h, [&](auto lanes, std::size_t j) {
        using V = decltype(lanes);
        using L = Lanes<V>;
        const V i = sigmoid_of(L::load(a + j)), f = sigmoid_of(L::load(a + h + j));
        const V g = simd::tanh(L::load(a + 2 * h + j));
        const V o = sigmoid_of(L::load(a + 3 * h + j));
        L::store(act + j, i);
        L::store(act + h + j, f);
        L::store(act + 2 * h + j, g);
        L::store(act + 3 * h + j, o);
        const V cn = f * L::load(c + j) + i * g;
        const V t = simd::tanh(cn);
        L::store(c1 + j, cn);
        L::store(tc + j, t);
        L::store(h1 + j, o * t);
    });
}

// One row of its VJP (the formulas of lstm_gates_vjp): from the activations act [4h], the old
// cell c, tanh c' (tc) and the gradients g_h, g_c of h' and c' [h] → ∂L/∂a (da [4h]) and ∂L/∂c
// (dc [h]; dc may be g_c).
template <class T>
void lstm_backward_row(std::size_t h, const T* act, const T* c, const T* tc, const T* g_h,
                       const T* g_c, T* da, T* dc) {
    for_lanes<T>(h, [&](auto lanes, std::size_t j) {
        using V = decltype(lanes);
        using L = Lanes<V>;
        const V one(1);
        const V i = L::load(act + j), f = L::load(act + h + j), g = L::load(act + 2 * h + j),
                o = L::load(act + 3 * h + j);
        const V t = L::load(tc + j), gh = L::load(g_h + j);
        const V d = L::load(g_c + j) + gh * o * (one - t * t);
        L::store(da + j, d * g * i * (one - i));
        L::store(da + h + j, d * L::load(c + j) * f * (one - f));
        L::store(da + 2 * h + j, d * i * (one - g * g));
        L::store(da + 3 * h + j, gh * t * o * (one - o));
        L::store(dc + j, d * f);
    });
}

// One row of the GRU step's forward: gi, gh [3h] (the products, r, z, n blocks) and the old state
// hp [h] → the gates r, z, n [h] each and h' (h1 [h]; h1 may be hp).
template <class T>
void gru_forward_row(std::size_t h, const T* gi, const T* gh, const T* hp, T* r, T* z, T* n,
                     T* h1) {
    for_lanes<T>(h, [&](auto lanes, std::size_t j) {
        using V = decltype(lanes);
        using L = Lanes<V>;
        const V rr = sigmoid_of(L::load(gi + j) + L::load(gh + j));
        const V zz = sigmoid_of(L::load(gi + h + j) + L::load(gh + h + j));
        const V nn = simd::tanh(L::load(gi + 2 * h + j) + rr * L::load(gh + 2 * h + j));
        L::store(r + j, rr);
        L::store(z + j, zz);
        L::store(n + j, nn);
        L::store(h1 + j, (V(1) - zz) * nn + zz * L::load(hp + j));
    });
}

// One row of its VJP (the formulas of gru_gates_vjp): from the gates r, z, n, gh, the old state
// hp and the gradient g of h' → ∂L/∂gi (dgi [3h]), ∂L/∂gh (dgh [3h]) and the gradient reaching
// h directly, g ⊙ z (dh [h]; dh may be g).
template <class T>
void gru_backward_row(std::size_t h, const T* r, const T* z, const T* n, const T* gh, const T* hp,
                      const T* g, T* dgi, T* dgh, T* dh) {
    for_lanes<T>(h, [&](auto lanes, std::size_t j) {
        using V = decltype(lanes);
        using L = Lanes<V>;
        const V one(1);
        const V rr = L::load(r + j), zz = L::load(z + j), nn = L::load(n + j), gv = L::load(g + j);
        const V dn = gv * (one - zz) * (one - nn * nn);
        const V dr = dn * L::load(gh + 2 * h + j) * rr * (one - rr);
        const V dz = gv * (L::load(hp + j) - nn) * zz * (one - zz);
        L::store(dgi + j, dr);
        L::store(dgh + j, dr);
        L::store(dgi + h + j, dz);
        L::store(dgh + h + j, dz);
        L::store(dgi + 2 * h + j, dn);
        L::store(dgh + 2 * h + j, dn * rr);
        L::store(dh + j, gv * zz);
    });
}

// The GRU step's VJP in xgrad ops (differentiable again), from g, the gradient of h'. With
// δn = g ⊙ (1 − z) ⊙ (1 − n²), δr = δn ⊙ gh_n ⊙ r(1 − r), δz = g ⊙ (h − n) ⊙ z(1 − z):
//   ∂L/∂gi = [δr, δz, δn],  ∂L/∂gh = [δr, δz, δn ⊙ r],  ∂L/∂h = g ⊙ z
template <class T>
Grads<T, 3> gru_gates_vjp(const Tensor<T>& gi, const Tensor<T>& gh, const Tensor<T>& h0,
                          const Tensor<T>& g) {
    const auto a = chunk(gi, 3, 1), u = chunk(gh, 3, 1);
    const Tensor<T> one = scalar<T>(1);
    const Tensor<T> rr = sigmoid(add(a[0], u[0])), zz = sigmoid(add(a[1], u[1]));
    const Tensor<T> nv = tanh(add(a[2], mul(rr, u[2])));
    const Tensor<T> dn = mul(mul(g, sub(one, zz)), sub(one, mul(nv, nv)));
    const Tensor<T> dr = mul(mul(dn, u[2]), mul(rr, sub(one, rr)));
    const Tensor<T> dz = mul(mul(g, sub(h0, nv)), mul(zz, sub(one, zz)));
    return {concat<T>({dr, dz, dn}, 1), concat<T>({dr, dz, mul(dn, rr)}, 1), mul(g, zz)};
}

// The LSTM step's VJP in xgrad ops (differentiable again): the gradients reaching the gates a
// [b, 4h] and the old cell c [b, h] from g_h and g_c, the gradients of h' and c'. With
// δc = g_c + g_h ⊙ o ⊙ (1 − tanh²c'):  ∂L/∂a_i = δc ⊙ g ⊙ i(1 − i), ∂L/∂a_f = δc ⊙ c ⊙ f(1 − f),
// ∂L/∂a_g = δc ⊙ i ⊙ (1 − g²), ∂L/∂a_o = g_h ⊙ tanh c' ⊙ o(1 − o), ∂L/∂c = δc ⊙ f.
template <class T>
Grads<T, 2> lstm_gates_vjp(const Tensor<T>& gates, const Tensor<T>& c, const Tensor<T>& g_h,
                           const Tensor<T>& g_c) {
    const auto q = chunk(gates, 4, 1);  // the four [b, h] pre-activations
    const Tensor<T> i = sigmoid(q[0]), f = sigmoid(q[1]), g = tanh(q[2]), o = sigmoid(q[3]);
    const Tensor<T> one = scalar<T>(1);
    const Tensor<T> tc = tanh(add(mul(f, c), mul(i, g)));
    const Tensor<T> dc = add(g_c, mul(mul(g_h, o), sub(one, mul(tc, tc))));
    const Tensor<T> da_i = mul(mul(dc, g), mul(i, sub(one, i)));
    const Tensor<T> da_f = mul(mul(dc, c), mul(f, sub(one, f)));
    const Tensor<T> da_g = mul(mul(dc, i), sub(one, mul(g, g)));
    const Tensor<T> da_o = mul(mul(g_h, tc), mul(o, sub(one, o)));
    return {concat<T>({da_i, da_f, da_g, da_o}, 1), mul(dc, f)};
}

template <class T>
struct LstmGates {
    static constexpr const char* name = "lstm_gates";
    Tensor<T> gates, c;     // the inputs, for vjp
    xt::xarray<T> act;      // [b, 4h]: i, f, g, o after their activations
    xt::xarray<T> tanh_c1;  // [b, h]: tanh(c')
    std::size_t b = 0, h = 0;

    std::vector<xt::xarray<T>> forward(const Tensor<T>& gates_in, const Tensor<T>& c_in) {
        const Shape& gs = gates_in.shape();
        const Shape& cs = c_in.shape();
        if (gs.size() != 2 || cs.size() != 2 || gs[1] % 4 != 0 || gs[0] != cs[0] ||
            gs[1] != 4 * cs[1]) {
            throw ShapeError(
                fmt::format("lstm_gates: expected gates [b, 4h] and c [b, h]; got gates={}, c={}",
                            shape_str(gs), shape_str(cs)));
        }
        gates = gates_in;
        c = c_in;
        b = cs[0];
        h = cs[1];
        act = xt::xarray<T>::from_shape(gs);
        tanh_c1 = xt::xarray<T>::from_shape(cs);
        xt::xarray<T> h1 = xt::xarray<T>::from_shape(cs), c1 = xt::xarray<T>::from_shape(cs);
        for (std::size_t r = 0; r < b; ++r) {
            lstm_forward_row(h, gates.value().data() + r * 4 * h, c.value().data() + r * h,
                             act.data() + r * 4 * h, c1.data() + r * h, tanh_c1.data() + r * h,
                             h1.data() + r * h);
        }
        std::vector<xt::xarray<T>> out;  // moved in (a braced list would copy both arrays)
        out.reserve(2);
        out.push_back(std::move(h1));
        out.push_back(std::move(c1));
        return out;
    }

    Grads<T, 2> vjp(const std::vector<Tensor<T>>& gs, const std::vector<Tensor<T>>&) const {
        return lstm_gates_vjp(gates, c, gs[0], gs[1]);
    }

    // The same in one pass over the saved activations (Note [fast VJP]).
    Grads<T, 2> fast_vjp(const std::vector<Tensor<T>>& gs, const std::vector<Tensor<T>>&) const {
        xt::xarray<T> da = xt::xarray<T>::from_shape(gates.shape());
        xt::xarray<T> dc0 = xt::xarray<T>::from_shape(c.shape());
        for (std::size_t r = 0; r < b; ++r) {
            const std::size_t k = r * h;
            lstm_backward_row(h, act.data() + 4 * k, c.value().data() + k, tanh_c1.data() + k,
                              gs[0].value().data() + k, gs[1].value().data() + k, da.data() + 4 * k,
                              dc0.data() + k);
        }
        return {Tensor<T>(std::move(da)), Tensor<T>(std::move(dc0))};
    }
};

// Note [fused recurrent sequences]
// A layer's LSTM direction recorded step by step (linear, add, lstm_gates per step) computes the
// weight gradient of W_hh as T small products [4h, b]·[b, h], each into a fresh array, and adds
// them up on the tape; with b = 32, h = 128 those small gemms, their zero-fills and the additions
// were a third of a training step. lstm_sequence is the whole recurrence of one direction as one
// op. Forward: the input products xw [T, b, 4h] are copied once, and each step accumulates
// h·W_hhᵀ onto its slice (one gemm, beta = 1) and runs the gate rows in place, keeping the
// activations, tanh c' and the states before each step. fast_vjp walks the steps back with one
// gemm per step (∂L/∂h = ∂L/∂a · W_hh) into one [T, b, 4h] buffer that is ∂L/∂xw itself, and
// then computes ∂L/∂W_hh in ONE gemm over all T·b rows. vjp states the same backward with xgrad
// ops (the steps' forward again, lstm_gates_vjp per step), so create_graph differentiates it.
// Lengths: a row whose sequence has ended (t ≥ length) keeps its state, outputs zero and takes no
// gradient at that step, as the layer's masked steps do (Note [recurrent layers on the tape]).
// What lstm_sequence and gru_sequence share: the order of the steps, the rows' lengths, the mask
// tensors of the composed VJPs.
struct SequenceSteps {
    bool reverse = false;
    std::vector<std::size_t> lengths;  // empty: every row runs every step
    std::size_t steps = 0, b = 0, h = 0;

    std::string attributes() const {
        std::string s = reverse ? "reverse" : "";
        if (!lengths.empty()) {
            s += fmt::format("{}lengths=[{}]", s.empty() ? "" : ", ", fmt::join(lengths, ", "));
        }
        return s;
    }
    bool active(std::size_t t, std::size_t r) const { return lengths.empty() || t < lengths[r]; }
    // The step run p-th: t = p forward, T − 1 − p in reverse.
    std::size_t time(std::size_t p) const { return reverse ? steps - 1 - p : p; }

    // Sets steps, b and h from xw [T, b, G·h] and the state's shape; checks the lengths.
    void start(const char* op, const Shape& xw, const Shape& state) {
        steps = xw[0];
        b = state[0];
        h = state[1];
        bool ok = lengths.empty() || lengths.size() == b;
        for (const std::size_t n : lengths)
            ok = ok && n <= steps;
        if (!ok) {
            throw ShapeError(fmt::format(
                "{}: expected one length in [0, {}] per row ({}); got lengths=[{}] for xw={}", op,
                steps, b, fmt::join(lengths, ", "), shape_str(xw)));
        }
    }

    // For the composed VJPs: step t's mask m [b, 1] (1 where the row runs) and 1 − m.
    template <class T>
    std::pair<Tensor<T>, Tensor<T>> masks(std::size_t t) const {
        xt::xarray<T> m = xt::xarray<T>::from_shape({b, 1});
        for (std::size_t r = 0; r < b; ++r)
            m(r, 0) = active(t, r) ? T(1) : T(0);
        xt::xarray<T> keep = T(1) - m;
        return {Tensor<T>(std::move(m)), Tensor<T>(std::move(keep))};
    }
};

template <class T>
struct LstmSequence : SequenceSteps {
    static constexpr const char* name = "lstm_sequence";
    Tensor<T> xw, h0, c0, w;       // the inputs, for vjp
    xt::xarray<T> act;             // [T, b, 4h]: i, f, g, o of every step
    xt::xarray<T> h_prev, c_prev;  // [T, b, h]: the state each step started from
    xt::xarray<T> tanh_c;          // [T, b, h]: tanh c' of every step

    std::vector<xt::xarray<T>> forward(const Tensor<T>& xw_in, const Tensor<T>& h0_in,
                                       const Tensor<T>& c0_in, const Tensor<T>& w_in) {
        const Shape &xs = xw_in.shape(), &hs = h0_in.shape(), &cs = c0_in.shape(),
                    &ws = w_in.shape();
        const bool fits = xs.size() == 3 && hs.size() == 2 && hs == cs && xs[1] == hs[0] &&
                          xs[2] == 4 * hs[1] && ws == Shape{4 * hs[1], hs[1]};
        if (!fits) {
            throw ShapeError(fmt::format(
                "lstm_sequence: expected xw [T, b, 4h], h0 [b, h], c0 [b, h] and weight_hh "
                "[4h, h]; got xw={}, h0={}, c0={}, weight_hh={}",
                shape_str(xs), shape_str(hs), shape_str(cs), shape_str(ws)));
        }
        start(name, xs, hs);
        xw = xw_in;
        h0 = h0_in;
        c0 = c0_in;
        w = w_in;
        act = xw.value();  // the gates accumulate onto the input products, in place
        h_prev = xt::xarray<T>::from_shape({steps, b, h});
        c_prev = xt::xarray<T>::from_shape({steps, b, h});
        tanh_c = xt::xarray<T>::from_shape({steps, b, h});
        xt::xarray<T> y = xt::zeros<T>({steps, b, h});
        xt::xarray<T> hn = h0.value(), cn = c0.value();
        const std::size_t bh = b * h;
        for (std::size_t p = 0; p < steps; ++p) {
            const std::size_t t = time(p);
            T* a = act.data() + t * 4 * bh;
            std::copy_n(hn.data(), bh, h_prev.data() + t * bh);
            std::copy_n(cn.data(), bh, c_prev.data() + t * bh);
            detail::gemm<T>(false, true, b, 4 * h, h, T(1), hn.data(), h, w.value().data(), h, T(1),
                            a, 4 * h);
            for (std::size_t r = 0; r < b; ++r) {
                if (!active(t, r)) continue;
                const std::size_t k = t * bh + r * h;
                lstm_forward_row(h, a + 4 * r * h, cn.data() + r * h, a + 4 * r * h,
                                 cn.data() + r * h, tanh_c.data() + k, hn.data() + r * h);
                std::copy_n(hn.data() + r * h, h, y.data() + k);
            }
        }
        std::vector<xt::xarray<T>> out;
        out.reserve(3);
        out.push_back(std::move(y));
        out.push_back(std::move(hn));
        out.push_back(std::move(cn));
        return out;
    }

    // The backward with xgrad ops: the steps' forward again (so every quantity depends on the
    // inputs in the graph), then the steps back, each through lstm_gates_vjp. A row that has
    // ended passes its state's gradient on unchanged (where(m, new, old) in the forward).
    Grads<T, 4> vjp(const std::vector<Tensor<T>>& gs, const std::vector<Tensor<T>>&) const {
        const std::vector<Tensor<T>> xs = unbind(xw, 0), gy = unbind(gs[0], 0);
        std::vector<Tensor<T>> a(steps), hp(steps), cp(steps), mask(steps), keep(steps);
        Tensor<T> hc = h0, cc = c0;
        for (std::size_t p = 0; p < steps; ++p) {
            const std::size_t t = time(p);
            hp[t] = hc;
            cp[t] = cc;
            a[t] = add(xs[t], linear(hc, w));
            const std::vector<Tensor<T>> next = lstm_gates(a[t], cc);
            if (lengths.empty()) {
                hc = next[0];
                cc = next[1];
                continue;
            }
            std::tie(mask[t], keep[t]) = masks<T>(t);
            hc = where(mask[t], next[0], hc);
            cc = where(mask[t], next[1], cc);
        }
        Tensor<T> dh = gs[1], dc = gs[2];
        std::vector<Tensor<T>> da(steps);
        for (std::size_t p = steps; p-- > 0;) {
            const std::size_t t = time(p);
            Tensor<T> dh1 = add(dh, gy[t]), dc1 = dc;  // y_t = h' (⊙ m)
            if (!lengths.empty()) {
                dh1 = mul(dh1, mask[t]);
                dc1 = mul(dc1, mask[t]);
            }
            const Grads<T, 2> g = lstm_gates_vjp(a[t], cp[t], dh1, dc1);
            da[t] = g[0];
            const Tensor<T> dh_prev = matmul(g[0], w);  // through a = xw + h·W_hhᵀ
            if (lengths.empty()) {
                dh = dh_prev;
                dc = g[1];
            } else {
                dh = add(mul(dh, keep[t]), dh_prev);
                dc = add(mul(dc, keep[t]), g[1]);
            }
        }
        if (steps == 0) return {zeros<T>(xw.shape()), dh, dc, zeros<T>(w.shape())};
        const Tensor<T> dxw = stack(da, 0);
        const std::ptrdiff_t rows = static_cast<std::ptrdiff_t>(steps * b);
        const Tensor<T> dw =
            matmul(reshape(dxw, {rows, static_cast<std::ptrdiff_t>(4 * h)}),
                   reshape(stack(hp, 0), {rows, static_cast<std::ptrdiff_t>(h)}), true, false);
        return {dxw, dh, dc, dw};
    }

    // The same in one pass back over the saved activations (Note [fast VJP]).
    Grads<T, 4> fast_vjp(const std::vector<Tensor<T>>& gs, const std::vector<Tensor<T>>&) const {
        const std::size_t bh = b * h;
        xt::xarray<T> da = xt::zeros<T>(act.shape());  // ∂L/∂xw; zero where a row has ended
        xt::xarray<T> dh = gs[1].value(), dc = gs[2].value();
        const T* gy = gs[0].value().data();
        for (std::size_t p = steps; p-- > 0;) {
            const std::size_t t = time(p);
            T* dat = da.data() + t * 4 * bh;
            for (std::size_t r = 0; r < b; ++r) {
                if (!active(t, r)) continue;
                const std::size_t k = t * bh + r * h;
                T* dhr = dh.data() + r * h;
                for (std::size_t j = 0; j < h; ++j)
                    dhr[j] += gy[k + j];
                lstm_backward_row(h, act.data() + 4 * k, c_prev.data() + k, tanh_c.data() + k, dhr,
                                  dc.data() + r * h, dat + 4 * r * h, dc.data() + r * h);
                std::fill_n(dhr, h, T(0));  // replaced by ∂L/∂a · W_hh below
            }
            detail::gemm<T>(false, false, b, h, 4 * h, T(1), dat, 4 * h, w.value().data(), h, T(1),
                            dh.data(), h);
        }
        xt::xarray<T> dw = xt::zeros<T>(w.shape());
        if (w.requires_grad()) {
            detail::gemm<T>(true, false, 4 * h, h, steps * b, T(1), da.data(), 4 * h, h_prev.data(),
                            h, T(0), dw.data(), h);
        }
        return {Tensor<T>(std::move(da)), Tensor<T>(std::move(dh)), Tensor<T>(std::move(dc)),
                Tensor<T>(std::move(dw))};
    }
};

template <class T>
struct GruGates {
    static constexpr const char* name = "gru_gates";
    Tensor<T> gi, gh, h0;   // the inputs, for vjp
    xt::xarray<T> r, z, n;  // [b, h] each, the gate activations
    std::size_t b = 0, h = 0;

    xt::xarray<T> forward(const Tensor<T>& gi_in, const Tensor<T>& gh_in, const Tensor<T>& h_in) {
        const Shape& hs = h_in.shape();
        if (gi_in.dim() != 2 || gh_in.dim() != 2 || hs.size() != 2 ||
            gi_in.shape() != gh_in.shape() || gi_in.shape()[0] != hs[0] ||
            gi_in.shape()[1] != 3 * hs[1]) {
            throw ShapeError(fmt::format(
                "gru_gates: expected gi [b, 3h], gh [b, 3h] and h [b, h]; got gi={}, gh={}, h={}",
                shape_str(gi_in.shape()), shape_str(gh_in.shape()), shape_str(hs)));
        }
        gi = gi_in;
        gh = gh_in;
        h0 = h_in;
        b = hs[0];
        h = hs[1];
        r = xt::xarray<T>::from_shape(hs);
        z = xt::xarray<T>::from_shape(hs);
        n = xt::xarray<T>::from_shape(hs);
        xt::xarray<T> h1 = xt::xarray<T>::from_shape(hs);
        for (std::size_t row = 0; row < b; ++row) {
            const std::size_t k = row * h;
            gru_forward_row(h, gi.value().data() + 3 * k, gh.value().data() + 3 * k,
                            h0.value().data() + k, r.data() + k, z.data() + k, n.data() + k,
                            h1.data() + k);
        }
        return h1;
    }

    Grads<T, 3> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        return gru_gates_vjp(gi, gh, h0, g);
    }

    // The same in one pass over the saved gates (Note [fast VJP]).
    Grads<T, 3> fast_vjp(const Tensor<T>& g, const Tensor<T>&) const {
        xt::xarray<T> dgi = xt::xarray<T>::from_shape(gi.shape());
        xt::xarray<T> dgh = xt::xarray<T>::from_shape(gh.shape());
        xt::xarray<T> dh = xt::xarray<T>::from_shape(h0.shape());
        for (std::size_t row = 0; row < b; ++row) {
            const std::size_t k = row * h;
            gru_backward_row(h, r.data() + k, z.data() + k, n.data() + k, gh.value().data() + 3 * k,
                             h0.value().data() + k, g.value().data() + k, dgi.data() + 3 * k,
                             dgh.data() + 3 * k, dh.data() + k);
        }
        return {Tensor<T>(std::move(dgi)), Tensor<T>(std::move(dgh)), Tensor<T>(std::move(dh))};
    }
};

// The GRU's recurrence of one direction as one op, as lstm_sequence (Note [fused recurrent
// sequences]): each step computes gh = h·W_hhᵀ + b_hh (the bias copied in, one gemm onto it) and
// the gate rows; backward runs one gemm per step for ∂L/∂h and then ∂L/∂W_hh in one gemm and
// ∂L/∂b_hh in one column sum over all T·b rows.
template <class T>
struct GruSequence : SequenceSteps {
    static constexpr const char* name = "gru_sequence";
    Tensor<T> xw, h0, w, bias;      // the inputs, for vjp
    xt::xarray<T> gh;               // [T, b, 3h]: every step's h·W_hhᵀ + b_hh
    xt::xarray<T> r, z, n, h_prev;  // [T, b, h]: the gates, the state each step started from

    std::vector<xt::xarray<T>> forward(const Tensor<T>& xw_in, const Tensor<T>& h0_in,
                                       const Tensor<T>& w_in, const Tensor<T>& bias_in) {
        const Shape &xs = xw_in.shape(), &hs = h0_in.shape(), &ws = w_in.shape(),
                    &bs = bias_in.shape();
        const bool fits = xs.size() == 3 && hs.size() == 2 && xs[1] == hs[0] &&
                          xs[2] == 3 * hs[1] && ws == Shape{3 * hs[1], hs[1]} &&
                          bs == Shape{3 * hs[1]};
        if (!fits) {
            throw ShapeError(fmt::format(
                "gru_sequence: expected xw [T, b, 3h], h0 [b, h], weight_hh [3h, h] and bias_hh "
                "[3h]; got xw={}, h0={}, weight_hh={}, bias_hh={}",
                shape_str(xs), shape_str(hs), shape_str(ws), shape_str(bs)));
        }
        start(name, xs, hs);
        xw = xw_in;
        h0 = h0_in;
        w = w_in;
        bias = bias_in;
        gh = xt::xarray<T>::from_shape({steps, b, 3 * h});
        for (auto* a : {&r, &z, &n, &h_prev})
            *a = xt::xarray<T>::from_shape({steps, b, h});
        xt::xarray<T> y = xt::zeros<T>({steps, b, h});
        xt::xarray<T> hn = h0.value();
        const std::size_t bh = b * h;
        for (std::size_t p = 0; p < steps; ++p) {
            const std::size_t t = time(p);
            T* u = gh.data() + t * 3 * bh;
            std::copy_n(hn.data(), bh, h_prev.data() + t * bh);
            const std::size_t width = 3 * h;  // hoisted, as in linear
            for (std::size_t row = 0; row < b; ++row)
                std::copy_n(bias.value().data(), width, u + row * width);
            detail::gemm<T>(false, true, b, 3 * h, h, T(1), hn.data(), h, w.value().data(), h, T(1),
                            u, 3 * h);
            for (std::size_t row = 0; row < b; ++row) {
                if (!active(t, row)) continue;
                const std::size_t k = t * bh + row * h;
                gru_forward_row(h, xw.value().data() + 3 * k, u + 3 * row * h, hn.data() + row * h,
                                r.data() + k, z.data() + k, n.data() + k, hn.data() + row * h);
                std::copy_n(hn.data() + row * h, h, y.data() + k);
            }
        }
        std::vector<xt::xarray<T>> out;
        out.reserve(2);
        out.push_back(std::move(y));
        out.push_back(std::move(hn));
        return out;
    }

    // The backward with xgrad ops, as LstmSequence::vjp: the steps' forward again, then the
    // steps back through gru_gates_vjp.
    Grads<T, 4> vjp(const std::vector<Tensor<T>>& gs, const std::vector<Tensor<T>>&) const {
        const std::vector<Tensor<T>> xs = unbind(xw, 0), gy = unbind(gs[0], 0);
        std::vector<Tensor<T>> u(steps), hp(steps), mask(steps), keep(steps);
        Tensor<T> hc = h0;
        for (std::size_t p = 0; p < steps; ++p) {
            const std::size_t t = time(p);
            hp[t] = hc;
            u[t] = linear(hc, w, bias);
            const Tensor<T> next = gru_gates(xs[t], u[t], hc);
            if (lengths.empty()) {
                hc = next;
                continue;
            }
            std::tie(mask[t], keep[t]) = masks<T>(t);
            hc = where(mask[t], next, hc);
        }
        Tensor<T> dh = gs[1];
        std::vector<Tensor<T>> dgi(steps), dgh(steps);
        for (std::size_t p = steps; p-- > 0;) {
            const std::size_t t = time(p);
            Tensor<T> dh1 = add(dh, gy[t]);  // y_t = h' (⊙ m)
            if (!lengths.empty()) dh1 = mul(dh1, mask[t]);
            const Grads<T, 3> g = gru_gates_vjp(xs[t], u[t], hp[t], dh1);
            dgi[t] = g[0];
            dgh[t] = g[1];
            const Tensor<T> dh_prev = add(matmul(g[1], w), g[2]);  // through gh and h' = … + z⊙h
            dh = lengths.empty() ? dh_prev : add(mul(dh, keep[t]), dh_prev);
        }
        if (steps == 0)
            return {zeros<T>(xw.shape()), dh, zeros<T>(w.shape()), zeros<T>(bias.shape())};
        const std::ptrdiff_t rows = static_cast<std::ptrdiff_t>(steps * b);
        const Tensor<T> du = reshape(stack(dgh, 0), {rows, static_cast<std::ptrdiff_t>(3 * h)});
        const Tensor<T> dw =
            matmul(du, reshape(stack(hp, 0), {rows, static_cast<std::ptrdiff_t>(h)}), true, false);
        return {stack(dgi, 0), dh, dw, sum(du, {0})};
    }

    // The same in one pass back over the saved gates (Note [fast VJP]).
    Grads<T, 4> fast_vjp(const std::vector<Tensor<T>>& gs, const std::vector<Tensor<T>>&) const {
        const std::size_t bh = b * h;
        xt::xarray<T> dgi = xt::zeros<T>(xw.shape());  // ∂L/∂xw; zero where a row has ended
        xt::xarray<T> dgh = xt::zeros<T>(gh.shape());
        xt::xarray<T> dh = gs[1].value();
        const T* gy = gs[0].value().data();
        for (std::size_t p = steps; p-- > 0;) {
            const std::size_t t = time(p);
            T* du = dgh.data() + t * 3 * bh;
            for (std::size_t row = 0; row < b; ++row) {
                if (!active(t, row)) continue;
                const std::size_t k = t * bh + row * h;
                T* dhr = dh.data() + row * h;
                for (std::size_t j = 0; j < h; ++j)
                    dhr[j] += gy[k + j];
                gru_backward_row(h, r.data() + k, z.data() + k, n.data() + k, gh.data() + 3 * k,
                                 h_prev.data() + k, dhr, dgi.data() + 3 * k, du + 3 * row * h,
                                 dhr);  // dh is now g ⊙ z, the direct path; the gemm adds the rest
            }
            detail::gemm<T>(false, false, b, h, 3 * h, T(1), du, 3 * h, w.value().data(), h, T(1),
                            dh.data(), h);
        }
        Tensor<T> dw, db;
        if (w.requires_grad()) {
            xt::xarray<T> d = xt::zeros<T>(w.shape());
            detail::gemm<T>(true, false, 3 * h, h, steps * b, T(1), dgh.data(), 3 * h,
                            h_prev.data(), h, T(0), d.data(), h);
            dw = Tensor<T>(std::move(d));
        }
        if (bias.requires_grad()) {
            const std::size_t width = 3 * h;  // hoisted, so the column sum vectorises
            xt::xarray<T> d = xt::zeros<T>({width});
            for (std::size_t i = 0; i < steps * b; ++i) {
                const T* row = dgh.data() + i * width;
                for (std::size_t j = 0; j < width; ++j)
                    d.data()[j] += row[j];
            }
            db = Tensor<T>(std::move(d));
        }
        return {Tensor<T>(std::move(dgi)), Tensor<T>(std::move(dh)), dw, db};
    }
};

}  // namespace
}  // namespace ops

template <class T>
std::vector<Tensor<T>> lstm_gates(const Tensor<T>& gates, const Tensor<T>& c) {
    return record_multi(ops::LstmGates<T>{}, gates, c);
}

template <class T>
std::vector<Tensor<T>> lstm_sequence(const Tensor<T>& xw, const Tensor<T>& h0, const Tensor<T>& c0,
                                     const Tensor<T>& weight_hh, bool reverse,
                                     const std::vector<std::size_t>& lengths) {
    ops::LstmSequence<T> op;
    op.reverse = reverse;
    op.lengths = lengths;
    return record_multi(std::move(op), xw, h0, c0, weight_hh);
}

template <class T>
std::vector<Tensor<T>> gru_sequence(const Tensor<T>& xw, const Tensor<T>& h0,
                                    const Tensor<T>& weight_hh, const Tensor<T>& bias_hh,
                                    bool reverse, const std::vector<std::size_t>& lengths) {
    ops::GruSequence<T> op;
    op.reverse = reverse;
    op.lengths = lengths;
    const Tensor<T> bias = bias_hh.defined() ? bias_hh : zeros<T>({weight_hh.shape()[0]});
    return record_multi(std::move(op), xw, h0, weight_hh, bias);
}

template <class T>
Tensor<T> gru_gates(const Tensor<T>& gi, const Tensor<T>& gh, const Tensor<T>& h) {
    return record(ops::GruGates<T>{}, gi, gh, h);
}

#define XGRAD_INSTANTIATE(T)                                                                \
    template std::vector<Tensor<T>> lstm_gates(const Tensor<T>&, const Tensor<T>&);         \
    template std::vector<Tensor<T>> lstm_sequence(const Tensor<T>&, const Tensor<T>&,       \
                                                  const Tensor<T>&, const Tensor<T>&, bool, \
                                                  const std::vector<std::size_t>&);         \
    template std::vector<Tensor<T>> gru_sequence(const Tensor<T>&, const Tensor<T>&,        \
                                                 const Tensor<T>&, const Tensor<T>&, bool,  \
                                                 const std::vector<std::size_t>&);          \
    template Tensor<T> gru_gates(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
