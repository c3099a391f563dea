#include "autograd/ops/recurrent.hpp"

#include "autograd/ops/elementwise.hpp"
#include "autograd/ops/index.hpp"
#include "autograd/ops/simd_math.hpp"

#include <fmt/format.h>
#include <xsimd/xsimd.hpp>

#include <cmath>
#include <string>

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
            const T* a = gates.value().data() + r * 4 * h;
            const T* c0 = c.value().data() + r * h;
            T* act_r = act.data() + r * 4 * h;
            T* c1r = c1.data() + r * h;
            T* tcr = tanh_c1.data() + r * h;
            T* h1r = h1.data() + r * h;
            for_lanes<T>(h, [&](auto lanes, std::size_t j) {
                using V = decltype(lanes);
                using L = Lanes<V>;
                const V i = sigmoid_of(L::load(a + j)), f = sigmoid_of(L::load(a + h + j));
                const V g = simd::tanh(L::load(a + 2 * h + j));
                const V o = sigmoid_of(L::load(a + 3 * h + j));
                L::store(act_r + j, i);
                L::store(act_r + h + j, f);
                L::store(act_r + 2 * h + j, g);
                L::store(act_r + 3 * h + j, o);
                const V cn = f * L::load(c0 + j) + i * g;
                const V tc = simd::tanh(cn);
                L::store(c1r + j, cn);
                L::store(tcr + j, tc);
                L::store(h1r + j, o * tc);
            });
        }
        std::vector<xt::xarray<T>> out;  // moved in (a braced list would copy both arrays)
        out.reserve(2);
        out.push_back(std::move(h1));
        out.push_back(std::move(c1));
        return out;
    }

    // With δc = g_c + g_h ⊙ o ⊙ (1 − tanh²c'):  ∂L/∂a_i = δc ⊙ g ⊙ i(1 − i),
    // ∂L/∂a_f = δc ⊙ c ⊙ f(1 − f), ∂L/∂a_g = δc ⊙ i ⊙ (1 − g²), ∂L/∂a_o = g_h ⊙ tanh c' ⊙ o(1 − o),
    // ∂L/∂c = δc ⊙ f
    Grads<T, 2> vjp(const std::vector<Tensor<T>>& gs, const std::vector<Tensor<T>>&) const {
        const auto q = chunk(gates, 4, 1);  // the four [b, h] pre-activations
        const Tensor<T> i = sigmoid(q[0]), f = sigmoid(q[1]), g = tanh(q[2]), o = sigmoid(q[3]);
        const Tensor<T> one = scalar<T>(1);
        const Tensor<T> tc = tanh(add(mul(f, c), mul(i, g)));
        const Tensor<T> dc = add(gs[1], mul(mul(gs[0], o), sub(one, mul(tc, tc))));
        const Tensor<T> da_i = mul(mul(dc, g), mul(i, sub(one, i)));
        const Tensor<T> da_f = mul(mul(dc, c), mul(f, sub(one, f)));
        const Tensor<T> da_g = mul(mul(dc, i), sub(one, mul(g, g)));
        const Tensor<T> da_o = mul(mul(gs[0], tc), mul(o, sub(one, o)));
        return {concat<T>({da_i, da_f, da_g, da_o}, 1), mul(dc, f)};
    }

    // The same in one pass over the saved activations (Note [fast VJP]).
    Grads<T, 2> fast_vjp(const std::vector<Tensor<T>>& gs, const std::vector<Tensor<T>>&) const {
        xt::xarray<T> da = xt::xarray<T>::from_shape(gates.shape());
        xt::xarray<T> dc0 = xt::xarray<T>::from_shape(c.shape());
        const T* gh = gs[0].value().data();
        const T* gc = gs[1].value().data();
        const T* c0 = c.value().data();
        for (std::size_t r = 0; r < b; ++r) {
            const T* act_r = act.data() + r * 4 * h;
            T* da_r = da.data() + r * 4 * h;
            for (std::size_t j = 0; j < h; ++j) {
                const std::size_t k = r * h + j;
                const T i = act_r[j], f = act_r[h + j], g = act_r[2 * h + j], o = act_r[3 * h + j];
                const T tc = tanh_c1.data()[k];
                const T dc = gc[k] + gh[k] * o * (T(1) - tc * tc);
                da_r[j] = dc * g * i * (T(1) - i);
                da_r[h + j] = dc * c0[k] * f * (T(1) - f);
                da_r[2 * h + j] = dc * i * (T(1) - g * g);
                da_r[3 * h + j] = gh[k] * tc * o * (T(1) - o);
                dc0.data()[k] = dc * f;
            }
        }
        return {Tensor<T>(std::move(da)), Tensor<T>(std::move(dc0))};
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
            const T* a = gi.value().data() + row * 3 * h;
            const T* u = gh.value().data() + row * 3 * h;
            const std::size_t k = row * h;
            const T* hp = h0.value().data() + k;
            for_lanes<T>(h, [&](auto lanes, std::size_t j) {
                using V = decltype(lanes);
                using L = Lanes<V>;
                const V rr = sigmoid_of(L::load(a + j) + L::load(u + j));
                const V zz = sigmoid_of(L::load(a + h + j) + L::load(u + h + j));
                const V nn = simd::tanh(L::load(a + 2 * h + j) + rr * L::load(u + 2 * h + j));
                L::store(r.data() + k + j, rr);
                L::store(z.data() + k + j, zz);
                L::store(n.data() + k + j, nn);
                L::store(h1.data() + k + j, (V(1) - zz) * nn + zz * L::load(hp + j));
            });
        }
        return h1;
    }

    // With δn = g ⊙ (1 − z) ⊙ (1 − n²), δr = δn ⊙ gh_n ⊙ r(1 − r), δz = g ⊙ (h − n) ⊙ z(1 − z):
    //   ∂L/∂gi = [δr, δz, δn],  ∂L/∂gh = [δr, δz, δn ⊙ r],  ∂L/∂h = g ⊙ z
    Grads<T, 3> vjp(const Tensor<T>& g, const Tensor<T>&) const {
        const auto a = chunk(gi, 3, 1), u = chunk(gh, 3, 1);
        const Tensor<T> one = scalar<T>(1);
        const Tensor<T> rr = sigmoid(add(a[0], u[0])), zz = sigmoid(add(a[1], u[1]));
        const Tensor<T> nv = tanh(add(a[2], mul(rr, u[2])));
        const Tensor<T> dn = mul(mul(g, sub(one, zz)), sub(one, mul(nv, nv)));
        const Tensor<T> dr = mul(mul(dn, u[2]), mul(rr, sub(one, rr)));
        const Tensor<T> dz = mul(mul(g, sub(h0, nv)), mul(zz, sub(one, zz)));
        return {concat<T>({dr, dz, dn}, 1), concat<T>({dr, dz, mul(dn, rr)}, 1), mul(g, zz)};
    }

    // The same in one pass over the saved gates (Note [fast VJP]).
    Grads<T, 3> fast_vjp(const Tensor<T>& g, const Tensor<T>&) const {
        xt::xarray<T> dgi = xt::xarray<T>::from_shape(gi.shape());
        xt::xarray<T> dgh = xt::xarray<T>::from_shape(gh.shape());
        xt::xarray<T> dh = xt::xarray<T>::from_shape(h0.shape());
        const T* gv = g.value().data();
        const T* u = gh.value().data();
        const T* hp = h0.value().data();
        for (std::size_t row = 0; row < b; ++row) {
            T* di = dgi.data() + row * 3 * h;
            T* du = dgh.data() + row * 3 * h;
            for (std::size_t j = 0; j < h; ++j) {
                const std::size_t k = row * h + j;
                const T rk = r.data()[k], zk = z.data()[k], nk = n.data()[k];
                const T dn = gv[k] * (T(1) - zk) * (T(1) - nk * nk);
                const T dr = dn * u[row * 3 * h + 2 * h + j] * rk * (T(1) - rk);
                const T dz = gv[k] * (hp[k] - nk) * zk * (T(1) - zk);
                di[j] = du[j] = dr;
                di[h + j] = du[h + j] = dz;
                di[2 * h + j] = dn;
                du[2 * h + j] = dn * rk;
                dh.data()[k] = gv[k] * zk;
            }
        }
        return {Tensor<T>(std::move(dgi)), Tensor<T>(std::move(dgh)), Tensor<T>(std::move(dh))};
    }
};

}  // namespace
}  // namespace ops

template <class T>
std::vector<Tensor<T>> lstm_gates(const Tensor<T>& gates, const Tensor<T>& c) {
    return record_multi(ops::LstmGates<T>{}, gates, c);
}

template <class T>
Tensor<T> gru_gates(const Tensor<T>& gi, const Tensor<T>& gh, const Tensor<T>& h) {
    return record(ops::GruGates<T>{}, gi, gh, h);
}

#define XGRAD_INSTANTIATE(T)                                                        \
    template std::vector<Tensor<T>> lstm_gates(const Tensor<T>&, const Tensor<T>&); \
    template Tensor<T> gru_gates(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
