#include "autograd/shape.hpp"

#include "autograd/errors.hpp"

#include <doctest/doctest.h>

#include <cstdint>

using namespace xgrad;

TEST_CASE("shape_str: a shape in brackets, a scalar as []") {
    CHECK(shape_str(Shape{2, 3}) == "[2, 3]");
    CHECK(shape_str(Shape{}) == "[]");
    CHECK(shape_str(Shape{0}) == "[0]");
}

TEST_CASE("broadcast_shapes: NumPy's rules, aligned from the right") {
    CHECK(broadcast_shapes("add", {2, 3}, {3}) == Shape{2, 3});
    CHECK(broadcast_shapes("add", {4, 1, 3}, {2, 1}) == Shape{4, 2, 3});
    CHECK(broadcast_shapes("add", {}, {2, 3}) == Shape{2, 3});
    CHECK(broadcast_shapes("add", {0, 3}, {1, 3}) == Shape{0, 3});
    CHECK_THROWS_WITH_AS(broadcast_shapes("add", {2, 3}, {4, 3}),
                         "add: shapes do not broadcast; got a=[2, 3], b=[4, 3]", ShapeError);
}

TEST_CASE("normalize_axis: negative axes count from the end, and out of range names the shape") {
    CHECK(normalize_axis("sum", -1, {2, 3, 4}) == 2);
    CHECK(normalize_axis("sum", 0, {2, 3, 4}) == 0);
    CHECK_THROWS_WITH_AS(normalize_axis("sum", 3, {2, 3, 4}),
                         "sum: axis 3 is out of range for a tensor of shape [2, 3, 4] (expected an "
                         "axis in [-3, 2])",
                         ShapeError);
    CHECK_THROWS_AS(normalize_axis("sum", 0, {}), ShapeError);  // a scalar has no axis
}

TEST_CASE("normalize_axes: sorted and non-negative, every axis when none is given") {
    CHECK(normalize_axes("sum", {-1, 0}, {2, 3, 4}) == std::vector<std::size_t>{0, 2});
    CHECK(normalize_axes("sum", {}, {2, 3}) == std::vector<std::size_t>{0, 1});
    CHECK(normalize_axes("sum", {}, {}).empty());
    CHECK_THROWS_WITH_AS(normalize_axes("sum", {1, -2}, {2, 3, 4}),
                         "sum: an axis is repeated in [1, -2] for x=[2, 3, 4]", ShapeError);
    CHECK(signed_shape({2, 0, 3}) == std::vector<std::ptrdiff_t>{2, 0, 3});
}

TEST_CASE("checked_size: the element count, or nullopt when the non-zero extents overflow") {
    const std::size_t big = std::size_t(1) << 62, max = PTRDIFF_MAX;
    CHECK(checked_size(Shape{2, 3, 4}, 8) == 24);
    CHECK(checked_size(Shape{}, 8) == 1);
    CHECK(checked_size(Shape{2, 0, 3}, 8) == 0);
    CHECK(checked_size(Shape{max}, 1) == max);
    CHECK(checked_size(Shape{max / 8}, 8) == max / 8);
    CHECK(!checked_size(Shape{max / 8 + 1}, 8));
    // A zero extent does not hide the others, in any order: 4 · 2^62 = 2^64 overflows.
    CHECK(!checked_size(Shape{0, big, 4}, 1));
    CHECK(!checked_size(Shape{big, 0, 4}, 1));
    CHECK(!checked_size(Shape{4, big, 0}, 1));
    CHECK(checked_size(Shape{0, big, 1}, 1) == 0);
    CHECK(!checked_size(Shape{0, big, 1}, 2));  // 2^62 elements of 2 bytes
    CHECK(!checked_size(Shape{big, big, big, 0}, 1));
}
