#include "harness.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace harness {

std::vector<OpSpec>& registry() {
    static std::vector<OpSpec> specs;
    return specs;
}

Sampler uniform(double lo, double hi) {
    return [lo, hi](const xgrad::Shape& shape, std::mt19937_64& rng) {
        std::uniform_real_distribution<double> dist(lo, hi);
        Array a = Array::from_shape(shape);
        for (auto& v : a)
            v = dist(rng);
        return a;
    };
}

Sampler away_from(std::vector<double> kinks, double margin, double lo, double hi) {
    return [=](const xgrad::Shape& shape, std::mt19937_64& rng) {
        std::uniform_real_distribution<double> dist(lo, hi);
        Array a = Array::from_shape(shape);
        for (auto& v : a) {
            bool near = true;
            while (near) {
                v = dist(rng);
                near = std::any_of(kinks.begin(), kinks.end(),
                                   [&](double k) { return std::abs(v - k) < margin; });
            }
        }
        return a;
    };
}

Sampler distinct(double offset) {
    return [offset](const xgrad::Shape& shape, std::mt19937_64& rng) {
        Array a = Array::from_shape(shape);
        std::vector<double> grid(a.size());
        for (std::size_t i = 0; i < grid.size(); ++i) {
            // offset + 0.1·k for integer k: two samplers with different offsets never tie
            const auto k = static_cast<long>(i) - static_cast<long>(grid.size() / 2);
            grid[i] = offset + 0.1 * static_cast<double>(k);
        }
        std::shuffle(grid.begin(), grid.end(), rng);
        std::copy(grid.begin(), grid.end(), a.begin());
        return a;
    };
}

Sampler integers(int n) {
    return [n](const xgrad::Shape& shape, std::mt19937_64& rng) {
        std::uniform_int_distribution<int> dist(0, n - 1);
        Array a = Array::from_shape(shape);
        for (auto& v : a)
            v = dist(rng);
        return a;
    };
}

Pos unravel(std::size_t flat, const xgrad::Shape& s) {
    Pos p(s.size());
    for (std::size_t i = s.size(); i-- > 0;) {
        p[i] = flat % s[i];
        flat /= s[i];
    }
    return p;
}

std::size_t ravel(const Pos& p, const xgrad::Shape& s) {
    std::size_t flat = 0;
    for (std::size_t i = 0; i < s.size(); ++i)
        flat = flat * s[i] + p[i];
    return flat;
}

Tensors sample_inputs(const OpSpec& spec, std::size_t c) {
    std::mt19937_64 rng(std::hash<std::string>{}(spec.name) + 7919 * c);
    Tensors out;
    const auto& shapes = spec.shapes.at(c);
    for (std::size_t i = 0; i < shapes.size(); ++i) {
        const Sampler& s =
            spec.draw.empty() ? uniform() : spec.draw[std::min(i, spec.draw.size() - 1)];
        const bool constant =
            !spec.differentiable ||
            std::find(spec.constants.begin(), spec.constants.end(), i) != spec.constants.end();
        out.emplace_back(s(shapes[i], rng), !constant);
    }
    return out;
}

}  // namespace harness
