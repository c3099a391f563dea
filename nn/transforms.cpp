#include "nn/transforms.hpp"

#include "autograd/errors.hpp"
#include "autograd/shape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace xgrad::nn {
namespace {

ImageShape checked_image_shape(const char* op, std::size_t c, std::size_t h, std::size_t w) {
    if (c == 0 || h == 0 || w == 0) {
        throw ValueError(
            fmt::format("{}: expected image_shape c, h, w >= 1; got {}, {}, {}", op, c, h, w));
    }
    return {c, h, w};
}

// The image `x` holds (Note [image transforms]): [C, H, W] or [H, W] as they are, or a flat row
// of the `given` shape.
template <class T>
ImageShape image_of(const char* op, const xt::xarray<T>& x,
                    const std::optional<ImageShape>& given) {
    if (given) {
        const ImageShape s = *given;
        const bool fits = (x.dimension() == 1 && x.size() == s.c * s.h * s.w) ||
                          (x.dimension() == 3 && x.shape() == Shape{s.c, s.h, s.w}) ||
                          (x.dimension() == 2 && s.c == 1 && x.shape() == Shape{s.h, s.w});
        if (!fits) {
            throw ShapeError(fmt::format(
                "{}: expected an example [{}] (flat) or [{}, {}, {}] for image_shape({}, {}, {}); "
                "got {}",
                op, s.c * s.h * s.w, s.c, s.h, s.w, s.c, s.h, s.w, shape_str(x.shape())));
        }
        return s;
    }
    if (x.dimension() == 3) return {x.shape()[0], x.shape()[1], x.shape()[2]};
    if (x.dimension() == 2) return {1, x.shape()[0], x.shape()[1]};
    throw ShapeError(
        fmt::format("{}: expected an image [C, H, W] or [H, W], or a flat row with "
                    "image_shape(c, h, w) set; got {}",
                    op, shape_str(x.shape())));
}

// An array for an image of shape s in the form of `x`: flat, [h, w] or [c, h, w].
template <class T>
xt::xarray<T> zeros_like_form(const xt::xarray<T>& x, ImageShape s) {
    if (x.dimension() == 1) return xt::zeros<T>(Shape{s.c * s.h * s.w});
    if (x.dimension() == 2) return xt::zeros<T>(Shape{s.h, s.w});
    return xt::zeros<T>(Shape{s.c, s.h, s.w});
}

// out(c, i, j) = x(c, i - dy, j - dx) where that lies inside x, else 0; out is an image `to`.
template <class T>
xt::xarray<T> moved(const xt::xarray<T>& x, ImageShape from, ImageShape to, std::ptrdiff_t dy,
                    std::ptrdiff_t dx) {
    xt::xarray<T> out = zeros_like_form(x, to);
    const auto H = std::ptrdiff_t(from.h), W = std::ptrdiff_t(from.w);
    for (std::size_t c = 0; c < to.c; ++c) {
        const T* src = x.data() + c * from.h * from.w;
        T* dst = out.data() + c * to.h * to.w;
        for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(to.h); ++i) {
            const std::ptrdiff_t si = i - dy;
            if (si < 0 || si >= H) continue;
            for (std::ptrdiff_t j = 0; j < std::ptrdiff_t(to.w); ++j) {
                const std::ptrdiff_t sj = j - dx;
                if (sj >= 0 && sj < W) dst[i * std::ptrdiff_t(to.w) + j] = src[si * W + sj];
            }
        }
    }
    return out;
}

}  // namespace

// ---- RandomHorizontalFlip ----

template <class T>
RandomHorizontalFlip<T>::RandomHorizontalFlip(double p) : p_(p) {
    if (!(p >= 0 && p <= 1)) {
        throw ValueError(fmt::format("random_horizontal_flip: expected p in [0, 1]; got p={}", p));
    }
}

template <class T>
RandomHorizontalFlip<T>& RandomHorizontalFlip<T>::image_shape(std::size_t c, std::size_t h,
                                                              std::size_t w) {
    shape_ = checked_image_shape("random_horizontal_flip", c, h, w);
    return *this;
}

template <class T>
void RandomHorizontalFlip<T>::operator()(xt::xarray<T>& example, std::mt19937_64& rng) const {
    image_of("random_horizontal_flip", example, shape_);  // a bad shape fails whatever the draw
    // p = 1 flips without a draw: a canonical draw may round up to 1 (LWG 2524).
    if (p_ >= 1 || (p_ > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < p_)) {
        flip(example);
    }
}

template <class T>
void RandomHorizontalFlip<T>::flip(xt::xarray<T>& example) const {
    const ImageShape s = image_of("random_horizontal_flip", example, shape_);
    for (std::size_t r = 0; r < s.c * s.h; ++r)
        std::reverse(example.data() + r * s.w, example.data() + (r + 1) * s.w);
}

// ---- RandomCrop ----

template <class T>
RandomCrop<T>::RandomCrop(std::size_t height, std::size_t width, std::size_t padding)
    : height_(height), width_(width), padding_(padding) {
    if (height == 0 || width == 0) {
        throw ValueError(fmt::format(
            "random_crop: expected a crop size >= 1; got height={}, width={}", height, width));
    }
}

template <class T>
RandomCrop<T>& RandomCrop<T>::image_shape(std::size_t c, std::size_t h, std::size_t w) {
    shape_ = checked_image_shape("random_crop", c, h, w);
    return *this;
}

template <class T>
void RandomCrop<T>::operator()(xt::xarray<T>& example, std::mt19937_64& rng) const {
    const ImageShape s = image_of("random_crop", example, shape_);
    const std::size_t ph = s.h + 2 * padding_, pw = s.w + 2 * padding_;
    if (height_ > ph || width_ > pw) crop(example, 0, 0);  // throws, naming the shapes
    const std::size_t top = std::uniform_int_distribution<std::size_t>(0, ph - height_)(rng);
    const std::size_t left = std::uniform_int_distribution<std::size_t>(0, pw - width_)(rng);
    crop(example, top, left);
}

template <class T>
void RandomCrop<T>::crop(xt::xarray<T>& example, std::size_t top, std::size_t left) const {
    const ImageShape s = image_of("random_crop", example, shape_);
    const std::size_t ph = s.h + 2 * padding_, pw = s.w + 2 * padding_;
    if (height_ > ph || width_ > pw || top > ph - height_ || left > pw - width_) {
        throw ShapeError(
            fmt::format("random_crop: the {}x{} window at (top={}, left={}) does not fit the "
                        "image [{}, {}, {}] padded by {} to {}x{}; got example {}",
                        height_, width_, top, left, s.c, s.h, s.w, padding_, ph, pw,
                        shape_str(example.shape())));
    }
    // Padded pixel (top + i, left + j) is image pixel (top + i - p, left + j - p).
    const auto dy = std::ptrdiff_t(padding_) - std::ptrdiff_t(top);
    const auto dx = std::ptrdiff_t(padding_) - std::ptrdiff_t(left);
    example = moved(example, s, ImageShape{s.c, height_, width_}, dy, dx);
}

// ---- RandomShift ----

template <class T>
RandomShift<T>::RandomShift(double height_range, double width_range)
    : height_range_(height_range), width_range_(width_range) {
    if (!(height_range >= 0 && height_range <= 1 && width_range >= 0 && width_range <= 1)) {
        throw ValueError(
            fmt::format("random_shift: expected height_range and width_range in [0, 1]; got "
                        "height_range={}, width_range={}",
                        height_range, width_range));
    }
}

template <class T>
RandomShift<T>& RandomShift<T>::image_shape(std::size_t c, std::size_t h, std::size_t w) {
    shape_ = checked_image_shape("random_shift", c, h, w);
    return *this;
}

template <class T>
void RandomShift<T>::operator()(xt::xarray<T>& example, std::mt19937_64& rng) const {
    const ImageShape s = image_of("random_shift", example, shape_);
    const auto my = std::ptrdiff_t(std::lround(height_range_ * double(s.h)));
    const auto mx = std::ptrdiff_t(std::lround(width_range_ * double(s.w)));
    const std::ptrdiff_t dy = std::uniform_int_distribution<std::ptrdiff_t>(-my, my)(rng);
    const std::ptrdiff_t dx = std::uniform_int_distribution<std::ptrdiff_t>(-mx, mx)(rng);
    shift(example, dy, dx);
}

template <class T>
void RandomShift<T>::shift(xt::xarray<T>& example, std::ptrdiff_t dy, std::ptrdiff_t dx) const {
    const ImageShape s = image_of("random_shift", example, shape_);
    example = moved(example, s, s, dy, dx);
}

template class RandomHorizontalFlip<float>;
template class RandomHorizontalFlip<double>;
template class RandomCrop<float>;
template class RandomCrop<double>;
template class RandomShift<float>;
template class RandomShift<double>;

}  // namespace xgrad::nn
