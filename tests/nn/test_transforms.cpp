// Image augmentations (nn/transforms.hpp) and DataLoaderOptions::transform: known images give
// the mirrored, cropped and shifted pixels worked out by hand; p = 0 never and p = 1 always
// flips; the same seed gives the same augmented epochs (Note [augmentation seeds]).

#include "nn/transforms.hpp"

#include "autograd/errors.hpp"
#include "autograd/random.hpp"
#include "autograd/shape.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

using namespace xgrad;
using xt::xarray;

namespace {

// The 3×3 image 1..9, row by row.
xarray<float> image3() {
    return xarray<float>{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};
}

// n flat 2×3 images: inputs [n, 6], example i = 10i + (0..5); targets [n] = i.
nn::Dataset<float> images(std::size_t n) {
    nn::Dataset<float> d{xarray<float>::from_shape(Shape{n, 6}),
                         xarray<float>::from_shape(Shape{n})};
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < 6; ++j)
            d.inputs(i, j) = float(10 * i + j);
        d.targets(i) = float(i);
    }
    return d;
}

// Every batch input of one epoch, in order.
std::vector<xarray<float>> epoch(nn::DataLoader<float>& loader) {
    std::vector<xarray<float>> out;
    for (const auto& batch : loader)
        out.push_back(batch.x.value());
    return out;
}

}  // namespace

TEST_CASE("RandomHorizontalFlip: mirrors each row, [H, W], [C, H, W] and flat with image_shape") {
    xarray<float> x = image3();
    nn::RandomHorizontalFlip<float>().flip(x);
    CHECK(x == xarray<float>{{3, 2, 1}, {6, 5, 4}, {9, 8, 7}});
    xarray<float> chw{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}};  // [2, 2, 2]
    nn::RandomHorizontalFlip<float>().flip(chw);
    CHECK(chw == xarray<float>{{{2, 1}, {4, 3}}, {{6, 5}, {8, 7}}});
    xarray<float> flat{1, 2, 3, 4, 5, 6};  // one 2×3 image as a row
    nn::RandomHorizontalFlip<float>().image_shape(1, 2, 3).flip(flat);
    CHECK(flat == xarray<float>{3, 2, 1, 6, 5, 4});
}

TEST_CASE("RandomHorizontalFlip: p = 0 never flips, p = 1 always, p = 0.5 sometimes") {
    std::mt19937_64 rng(1);
    int flips = 0;
    for (int i = 0; i < 200; ++i) {
        xarray<float> never = image3(), always = image3(), half = image3();
        nn::RandomHorizontalFlip<float>(0)(never, rng);
        nn::RandomHorizontalFlip<float>(1)(always, rng);
        nn::RandomHorizontalFlip<float>(0.5)(half, rng);
        CHECK(never == image3());
        CHECK(always == xarray<float>{{3, 2, 1}, {6, 5, 4}, {9, 8, 7}});
        flips += half != image3();
    }
    CHECK(flips > 60);  // Binomial(200, 0.5): mean 100, sd ≈ 7
    CHECK(flips < 140);
    CHECK_THROWS_WITH_AS(
        nn::RandomHorizontalFlip<float>(1.5),
        doctest::Contains("random_horizontal_flip: expected p in [0, 1]; got p=1.5"), ValueError);
}

TEST_CASE("RandomCrop: padding 0 and the image's size is the identity, padding moves with zeros") {
    std::mt19937_64 rng(2);
    xarray<float> x = image3();
    nn::RandomCrop<float>(3)(x, rng);
    CHECK(x == image3());
    // Padded by 1 to 5×5; the window at (0, 0) holds the image moved one down and one right.
    nn::RandomCrop<float>(3, 1).crop(x, 0, 0);
    CHECK(x == xarray<float>{{0, 0, 0}, {0, 1, 2}, {0, 4, 5}});
    x = image3();
    nn::RandomCrop<float>(3, 1).crop(x, 2, 1);  // one up, not sideways
    CHECK(x == xarray<float>{{4, 5, 6}, {7, 8, 9}, {0, 0, 0}});
    x = image3();
    nn::RandomCrop<float>(2, 2, 0).crop(x, 1, 1);  // a smaller window: [2, 2]
    CHECK(x == xarray<float>{{5, 6}, {8, 9}});
    xarray<float> flat{1, 2, 3, 4, 5, 6, 7, 8, 9};
    nn::RandomCrop<float>(3, 1).image_shape(1, 3, 3).crop(flat, 0, 2);  // one down, one left
    CHECK(flat == xarray<float>{0, 0, 0, 2, 3, 0, 5, 6, 0});
}

TEST_CASE("RandomCrop: every draw is one of the (2p + 1)^2 windows, each of them drawn") {
    const nn::RandomCrop<float> random_crop(3, 1);
    std::vector<xarray<float>> windows;  // the 9 windows of the 5×5 padded image
    for (std::size_t top = 0; top < 3; ++top) {
        for (std::size_t left = 0; left < 3; ++left) {
            xarray<float> w = image3();
            random_crop.crop(w, top, left);
            windows.push_back(w);
        }
    }
    std::vector<int> seen(9);
    std::mt19937_64 rng(5);
    for (int i = 0; i < 200; ++i) {
        xarray<float> x = image3();
        random_crop(x, rng);
        const auto it = std::find(windows.begin(), windows.end(), x);
        REQUIRE(it != windows.end());
        ++seen[std::size_t(it - windows.begin())];
    }
    CHECK(std::count(seen.begin(), seen.end(), 0) == 0);  // each 1/9: P(one missed) < 1e-9
}

TEST_CASE("RandomShift: a shift by (1, 0) moves every pixel one row down with zeros in") {
    xarray<float> x = image3();
    nn::RandomShift<float>(0.5, 0.5).shift(x, 1, 0);
    CHECK(x == xarray<float>{{0, 0, 0}, {1, 2, 3}, {4, 5, 6}});
    x = image3();
    nn::RandomShift<float>(0.5, 0.5).shift(x, 0, -2);  // two columns left
    CHECK(x == xarray<float>{{3, 0, 0}, {6, 0, 0}, {9, 0, 0}});
    // Ranges 1/3 of 3 pixels: shifts of -1, 0 or 1 each way; 0 ranges leave the image alone.
    std::mt19937_64 rng(3);
    for (int i = 0; i < 20; ++i) {
        xarray<float> y = image3();
        nn::RandomShift<float>(0, 0)(y, rng);
        CHECK(y == image3());
        y = image3();
        nn::RandomShift<float>(1.0 / 3, 1.0 / 3)(y, rng);
        CHECK(y(1, 1) != 0);  // the centre pixel stays inside
    }
}

TEST_CASE("image transforms: bad shapes are ShapeErrors naming the transform and the shapes") {
    std::mt19937_64 rng(4);
    xarray<float> flat = xt::zeros<float>({784});
    CHECK_THROWS_WITH_AS(nn::RandomHorizontalFlip<float>()(flat, rng),
                         doctest::Contains("random_horizontal_flip: expected an image [C, H, W] "
                                           "or [H, W], or a flat row with image_shape(c, h, w) "
                                           "set; got [784]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(nn::RandomShift<float>(0.1, 0.1).image_shape(1, 28, 27)(flat, rng),
                         doctest::Contains("random_shift: expected an example [756] (flat) or "
                                           "[1, 28, 27] for image_shape(1, 28, 27); got [784]"),
                         ShapeError);
    xarray<float> x = image3();
    CHECK_THROWS_WITH_AS(nn::RandomCrop<float>(4)(x, rng),
                         doctest::Contains("random_crop: the 4x4 window at (top=0, left=0) does "
                                           "not fit the image [1, 3, 3] padded by 0 to 3x3"),
                         ShapeError);
    CHECK_THROWS_AS(nn::RandomCrop<float>(3).image_shape(1, 0, 3), ValueError);
}

TEST_CASE("DataLoader: a transform runs on every example, the same seed gives the same epochs") {
    const auto d = images(10);
    const auto augment =
        nn::Compose<float>({nn::RandomCrop<float>(2, 3, 1).image_shape(1, 2, 3),
                            nn::RandomHorizontalFlip<float>().image_shape(1, 2, 3)});
    const auto options = nn::DataLoaderOptions(4).shuffle(true).transform(augment);
    nn::DataLoader<float> a(d, nn::DataLoaderOptions(options).seed(7));
    nn::DataLoader<float> b(d, nn::DataLoaderOptions(options).seed(7));
    nn::DataLoader<float> c(d, nn::DataLoaderOptions(options).seed(8));
    const auto a1 = epoch(a), a2 = epoch(a);
    CHECK(a1 == epoch(b));
    CHECK(a2 == epoch(b));
    CHECK(a1 != a2);
    CHECK(a1 != epoch(c));
    CHECK(a1[0].shape() == Shape{4, 6});  // flat rows stay flat
    // Without shuffling the order is the same for every seed; the augmentation is not.
    const auto in_order = nn::DataLoaderOptions(4).transform(augment);
    nn::DataLoader<float> d7(d, nn::DataLoaderOptions(in_order).seed(7));
    nn::DataLoader<float> d7b(d, nn::DataLoaderOptions(in_order).seed(7));
    nn::DataLoader<float> d8(d, nn::DataLoaderOptions(in_order).seed(8));
    const auto e7 = epoch(d7);
    CHECK(e7 == epoch(d7b));
    CHECK(e7 != epoch(d8));
    // batch(i) is a function of the epoch and i: read twice, or out of order, it is the same.
    CHECK(a.batch(1).x.value() == a.batch(1).x.value());
    // The order is the one a loader without a transform draws in its first epoch.
    nn::DataLoader<float> plain(d, nn::DataLoaderOptions(4).shuffle(true).seed(7));
    nn::DataLoader<float> fresh(d, nn::DataLoaderOptions(options).seed(7));
    fresh.begin();
    plain.begin();
    for (std::size_t i = 0; i < plain.num_batches(); ++i)
        CHECK(fresh.batch(i).y.value() == plain.batch(i).y.value());
}

TEST_CASE("DataLoader: a transform for the other type, or of varying shape, is refused") {
    const auto d = images(4);
    const nn::Transform<double> for_double = [](xarray<double>&, std::mt19937_64&) {};
    CHECK_THROWS_WITH_AS(nn::DataLoader<float>(d, nn::DataLoaderOptions(2).transform(for_double)),
                         doctest::Contains("data_loader: the transform takes xt::xarray<double> "
                                           "examples but the dataset holds float"),
                         ValueError);
    // Example 0 keeps its 6 values, the next one loses one.
    const nn::Transform<float> ragged = [](xarray<float>& x, std::mt19937_64&) {
        if (x(0) != 0) x = xt::zeros<float>({5});
    };
    nn::DataLoader<float> loader(d, nn::DataLoaderOptions(2).transform(ragged));
    CHECK_THROWS_WITH_AS(loader.batch(0),
                         doctest::Contains("data_loader: the transform gave examples of different "
                                           "shapes in one batch: [6] (example 0) and [5] "
                                           "(example 1)"),
                         ShapeError);
}
