#pragma once

#include "autograd/tape.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace xgrad {

/// Integer indices (gather's index tensor, class labels): not differentiable, so an attribute.
using Index = xt::xarray<std::int64_t>;

/// Elements start, start+step, ... < stop along `dim` (Python slice semantics: negative start and
/// stop count from the end and are clamped to the axis, so the result may be empty; step ≥ 1,
/// ValueError otherwise). Its VJP writes g into zeros of x's shape.
template <class T>
Tensor<T> slice(const Tensor<T>& x, std::ptrdiff_t dim, std::ptrdiff_t start, std::ptrdiff_t stop,
                std::ptrdiff_t step = 1);
/// `length` elements from `start` along `dim` (a negative start counts from the end); the window
/// must lie inside the axis (ShapeError otherwise).
template <class T>
Tensor<T> narrow(const Tensor<T>& x, std::ptrdiff_t dim, std::ptrdiff_t start, std::size_t length);
/// Picks entries `indices` (repeats allowed, negative from the end) along `dim`: the result has
/// indices.size() entries there. Repeated entries sum their gradients. An index out of range is a
/// ValueError (as in embedding and the losses); a bad axis a ShapeError.
template <class T>
Tensor<T> index_select(const Tensor<T>& x, std::ptrdiff_t dim,
                       const std::vector<std::int64_t>& indices);
/// y[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (PyTorch's gather): `index` has x's rank, is
/// no longer than x on the other axes, and its shape is the result's; its values lie in
/// [0, x.shape[dim]) (no negative indices, so a −1 "ignore" label is an error, not the last entry):
/// a value outside is a ValueError, a shape that does not fit a ShapeError.
template <class T>
Tensor<T> gather(const Tensor<T>& x, std::ptrdiff_t dim, const Index& index);
/// x with src added at the places `index` names along `dim` (PyTorch's scatter_add): for dim = 1,
/// out[i][index[i][j]] += src[i][j] (repeated indices add up). x, index and src have one rank;
/// index is no longer than src on any axis and than x on any axis but `dim` (ShapeError naming
/// every shape otherwise), only the part of src that index covers is read; index values lie in
/// [0, x.shape[dim]) (ValueError). Differentiable in x (∂L/∂x = g) and in src (∂L/∂src =
/// gather(g, dim, index) where index reaches, 0 elsewhere).
template <class T>
Tensor<T> scatter_add(const Tensor<T>& x, std::ptrdiff_t dim, const Index& index,
                      const Tensor<T>& src);
/// Joins tensors along an existing axis; all other axes must agree (ShapeError naming every
/// shape). An empty list is a ValueError; a single tensor is returned as it is.
template <class T>
Tensor<T> concat(const std::vector<Tensor<T>>& xs, std::ptrdiff_t dim = 0);
/// Joins tensors of one shape along a new axis `dim` (in [−rank−1, rank]).
template <class T>
Tensor<T> stack(const std::vector<Tensor<T>>& xs, std::ptrdiff_t dim = 0);
/// Splits x along `dim` into pieces of the given lengths, which must sum to the axis (ShapeError
/// naming the sizes and x otherwise): PyTorch's split with a list. One op with several outputs
/// (Note [several outputs] in autograd/tape.hpp): its VJP joins the pieces' gradients (zeros for a
/// piece that got none) in one concat.
template <class T>
std::vector<Tensor<T>> split(const Tensor<T>& x, const std::vector<std::size_t>& sizes,
                             std::ptrdiff_t dim = 0);
/// Splits x along `dim` into pieces of `size` (the last one shorter when size does not divide the
/// axis): PyTorch's split with an int. size ≥ 1 (ValueError).
template <class T>
std::vector<Tensor<T>> split(const Tensor<T>& x, std::size_t size, std::ptrdiff_t dim = 0);
/// At most `chunks` pieces of ⌈n / chunks⌉ along `dim` (the last shorter; fewer pieces when n is
/// small), as PyTorch's chunk. chunks ≥ 1 (ValueError).
template <class T>
std::vector<Tensor<T>> chunk(const Tensor<T>& x, std::size_t chunks, std::ptrdiff_t dim = 0);
/// The slices of x along `dim`, each without that axis (PyTorch's unbind): [T, B, H] along 0 gives
/// T tensors [B, H]. One op; its VJP stacks the slices' gradients.
template <class T>
std::vector<Tensor<T>> unbind(const Tensor<T>& x, std::ptrdiff_t dim = 0);
/// Pads with `value`: pads[i] = (before, after) for axis i; fewer pairs than axes pad the last
/// axes (pads.back() is the last axis), as NumPy's pad with per-axis pairs.
template <class T>
Tensor<T> pad(const Tensor<T>& x, const std::vector<std::pair<std::size_t, std::size_t>>& pads,
              T value = T(0));

}  // namespace xgrad
