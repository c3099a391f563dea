#pragma once

#include "nn/module.hpp"

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace xgrad::nn {

/// Layers applied in order, named "0", "1", ... (parameters "0.weight", "0.bias", ...):
///
///     nn::Sequential<> model;
///     model.add(nn::Flatten());
///     model.add(nn::Linear(784, 300));
///     model.add(nn::ReLU());
template <class T = float>
class Sequential : public Module<T> {
public:
    /// Appends a module (moved into shared ownership) and returns a pointer to it.
    template <class M, class = std::enable_if_t<std::is_base_of_v<Module<T>, std::decay_t<M>>>>
    std::shared_ptr<std::decay_t<M>> add(M&& module) {
        return add(std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
    }
    /// Appends a module that is already shared (to keep a handle to it).
    template <class M>
    std::shared_ptr<M> add(std::shared_ptr<M> module) {
        if (!module) throw ValueError("sequential: add: the module pointer is null");
        return this->register_module(std::to_string(this->children().size()), std::move(module));
    }

    /// Each layer's forward(x) on the previous one's output.
    Tensor<T> forward(const Tensor<T>& x) override;
    /// Each layer's forward_list on the previous one's outputs: a layer that returns several
    /// tensors (a recurrent layer's output and state) feeds them all to the next.
    std::vector<Tensor<T>> forward_list(const std::vector<Tensor<T>>& inputs) override;
    std::string type_name() const override { return "Sequential"; }
    /// A Sequential of clones of the layers (Module::clone).
    std::shared_ptr<Module<T>> clone() const override;
    std::size_t size() const { return this->children().size(); }

    /// Layer i (PyTorch's seq[i]); ValueError naming i and the size when i >= size().
    const std::shared_ptr<Module<T>>& operator[](std::size_t i) const;
    /// Layer i as an M (`seq.at<nn::Linear<>>(0)->weight()`); ValueError when it is another type.
    template <class M>
    std::shared_ptr<M> at(std::size_t i) const {
        return detail::module_as<M>(
            (*this)[i], "sequential: at(" + std::to_string(i) + "): layer " + std::to_string(i));
    }
};

}  // namespace xgrad::nn
