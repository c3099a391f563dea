#pragma once

#include "nn/data.hpp"

#include <cstddef>
#include <optional>
#include <random>
#include <utility>
#include <vector>

namespace xgrad::nn {

// Note [image transforms]
// Image augmentations for DataLoaderOptions::transform (torchvision.transforms, Keras'
// ImageDataGenerator). Each works on one example, an image stored either as [C, H, W] or [H, W]
// (read as it is) or as a flat row [C·H·W] (MNIST's [784]), whose image shape is then given with
// image_shape(c, h, w); row-major either way, so a flat row and [C, H, W] hold the same values in
// the same order. The output keeps the input's form: [C, h, w], [h, w] or a flat [C·h·w].
// A shape that fits neither form is a ShapeError naming the transform and both shapes. The
// random draws come from the rng the loader hands over (Note [augmentation seeds] in data.cpp);
// each transform also has its deterministic step (flip, crop at, shift by) for direct use.

/// An image's channels, height and width.
struct ImageShape {
    std::size_t c = 1, h = 0, w = 0;
};

/// Mirrors the image left to right with probability p in [0, 1] (p = 0 never, p = 1 always);
/// ValueError outside [0, 1].
template <class T = float>
class RandomHorizontalFlip {
public:
    explicit RandomHorizontalFlip(double p = 0.5);
    /// Reads flat examples as images [c, h, w] (Note [image transforms]); all >= 1.
    RandomHorizontalFlip& image_shape(std::size_t c, std::size_t h, std::size_t w);
    void operator()(xt::xarray<T>& example, std::mt19937_64& rng) const;
    /// The flip itself: column j of every row becomes column w - 1 - j.
    void flip(xt::xarray<T>& example) const;

private:
    double p_;
    std::optional<ImageShape> shape_;
};

/// Pads each side with `padding` zeros, then crops a height × width window at a uniformly drawn
/// position (torchvision's RandomCrop(size, padding), Keras' pad-and-crop): with size = the image
/// size, the image moves by up to `padding` pixels each way with zeros in. A window larger than
/// the padded image is a ShapeError.
template <class T = float>
class RandomCrop {
public:
    /// A square size × size window.
    explicit RandomCrop(std::size_t size, std::size_t padding = 0)
        : RandomCrop(size, size, padding) {}
    RandomCrop(std::size_t height, std::size_t width, std::size_t padding);
    /// Reads flat examples as images [c, h, w] (Note [image transforms]); all >= 1.
    RandomCrop& image_shape(std::size_t c, std::size_t h, std::size_t w);
    void operator()(xt::xarray<T>& example, std::mt19937_64& rng) const;
    /// The crop itself: the window whose top-left corner is (top, left) in the padded image,
    /// 0 <= top <= H + 2·padding - height, 0 <= left <= W + 2·padding - width (else ShapeError).
    void crop(xt::xarray<T>& example, std::size_t top, std::size_t left) const;

private:
    std::size_t height_, width_, padding_;
    std::optional<ImageShape> shape_;
};

/// Moves the image by a whole number of pixels drawn uniformly in [-round(height_range·H),
/// round(height_range·H)] rows and [-round(width_range·W), round(width_range·W)] columns, zeros
/// in (Keras' height_shift_range / width_shift_range with fill_mode="constant", cval=0, without
/// interpolation). Ranges in [0, 1], else ValueError.
template <class T = float>
class RandomShift {
public:
    RandomShift(double height_range, double width_range);
    /// Reads flat examples as images [c, h, w] (Note [image transforms]); all >= 1.
    RandomShift& image_shape(std::size_t c, std::size_t h, std::size_t w);
    void operator()(xt::xarray<T>& example, std::mt19937_64& rng) const;
    /// The shift itself: pixel (i, j) moves to (i + dy, j + dx); what comes in is 0.
    void shift(xt::xarray<T>& example, std::ptrdiff_t dy, std::ptrdiff_t dx) const;

private:
    double height_range_, width_range_;
    std::optional<ImageShape> shape_;
};

/// Applies transforms in order, each with the same rng: `Compose<float>({RandomCrop<float>(28,
/// 2).image_shape(1, 28, 28), RandomHorizontalFlip<float>()})`.
template <class T = float>
class Compose {
public:
    explicit Compose(std::vector<Transform<T>> transforms) : transforms_(std::move(transforms)) {}
    void operator()(xt::xarray<T>& example, std::mt19937_64& rng) const {
        for (const Transform<T>& t : transforms_)
            t(example, rng);
    }

private:
    std::vector<Transform<T>> transforms_;
};

}  // namespace xgrad::nn
