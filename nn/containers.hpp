#pragma once

// Containers of modules without a computation of their own (PyTorch's nn.ModuleList and
// nn.ModuleDict): they register their modules, so parameters(), state_dict(), train(), clone()
// and summary() see them, and the owner's forward decides how to call them.

#include "nn/module.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace xgrad::nn {

/// Modules held in a list, named "0", "1", ... (parameters "0.weight", "1.bias", ...):
///
///     nn::ModuleList<> blocks;
///     for (int i = 0; i < 3; ++i) blocks.append(nn::Linear(8, 8));
///     for (const auto& block : blocks) x = (*block)(x);
///
/// It has no forward: calling it throws Error (a Sequential is the list that runs in order).
template <class T = float>
class ModuleList : public Module<T> {
public:
    ModuleList() = default;
    /// The modules in order; ValueError on a null pointer.
    explicit ModuleList(const std::vector<std::shared_ptr<Module<T>>>& modules) {
        for (const auto& m : modules)
            append(m);
    }

    /// Appends a module (moved into shared ownership) and returns a pointer to it.
    template <class M, class = std::enable_if_t<std::is_base_of_v<Module<T>, std::decay_t<M>>>>
    std::shared_ptr<std::decay_t<M>> append(M&& module) {
        return append(std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
    }
    /// Appends a module that is already shared; ValueError on a null pointer.
    template <class M>
    std::shared_ptr<M> append(std::shared_ptr<M> module) {
        if (!module) throw ValueError("module_list: append: the module pointer is null");
        modules_.push_back(module);
        return this->register_module(std::to_string(modules_.size() - 1), std::move(module));
    }
    /// The same as append (std::vector's name).
    template <class M>
    auto push_back(M&& module) {
        return append(std::forward<M>(module));
    }

    std::size_t size() const { return modules_.size(); }
    bool empty() const { return modules_.empty(); }
    /// Module i; ValueError naming i and the size when i >= size().
    const std::shared_ptr<Module<T>>& operator[](std::size_t i) const;
    /// Module i as an M (`list.at<nn::Linear<>>(0)->weight()`); ValueError when it is another
    /// type.
    template <class M>
    std::shared_ptr<M> at(std::size_t i) const {
        return detail::module_as<M>(
            (*this)[i], "module_list: at(" + std::to_string(i) + "): module " + std::to_string(i));
    }
    /// Iterates over the modules (shared_ptr<Module<T>>), in order.
    auto begin() const { return modules_.begin(); }
    auto end() const { return modules_.end(); }

    /// Throws Error: a ModuleList has no forward.
    Tensor<T> forward(const Tensor<T>& x) override;
    std::vector<Tensor<T>> forward_list(const std::vector<Tensor<T>>& inputs) override;
    std::string type_name() const override { return "ModuleList"; }
    /// A ModuleList of clones of the modules (Module::clone).
    std::shared_ptr<Module<T>> clone() const override;

private:
    std::vector<std::shared_ptr<Module<T>>> modules_;
};

/// Modules held by name, in insertion order (parameters "encoder.weight", ...):
///
///     nn::ModuleDict<> heads;
///     heads.insert("class", nn::Linear(64, 10));
///     heads.insert("box", nn::Linear(64, 4));
///     auto logits = (*heads["class"])(features);
///
/// It has no forward: calling it throws Error.
template <class T = float>
class ModuleDict : public Module<T> {
public:
    ModuleDict() = default;
    /// The modules in the given order; the errors of insert.
    explicit ModuleDict(
        const std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>>& items) {
        for (const auto& [name, m] : items)
            insert(name, m);
    }

    /// Adds a module (moved into shared ownership) under `name` and returns a pointer to it.
    template <class M, class = std::enable_if_t<std::is_base_of_v<Module<T>, std::decay_t<M>>>>
    std::shared_ptr<std::decay_t<M>> insert(const std::string& name, M&& module) {
        return insert(name, std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
    }
    /// Adds a module that is already shared. ValueError when the pointer is null, the name is
    /// empty or has a '.', or the name is already taken (a key is never replaced: parameters
    /// already handed to an optimizer would be left behind).
    template <class M>
    std::shared_ptr<M> insert(const std::string& name, std::shared_ptr<M> module) {
        check_insert(name, module != nullptr);
        return this->register_module(name, std::move(module));
    }

    std::size_t size() const { return this->children().size(); }
    bool empty() const { return this->children().empty(); }
    bool contains(const std::string& name) const;
    /// The names, in insertion order.
    std::vector<std::string> keys() const;
    /// The module named `name`; ValueError naming it and the keys present when there is none.
    const std::shared_ptr<Module<T>>& operator[](const std::string& name) const;
    /// The module named `name` as an M; ValueError when it is another type.
    template <class M>
    std::shared_ptr<M> at(const std::string& name) const {
        return detail::module_as<M>((*this)[name],
                                    "module_dict: at('" + name + "'): module '" + name + "'");
    }
    /// Iterates over the (name, module) pairs, in insertion order.
    auto begin() const { return this->children().begin(); }
    auto end() const { return this->children().end(); }

    /// Throws Error: a ModuleDict has no forward.
    Tensor<T> forward(const Tensor<T>& x) override;
    std::vector<Tensor<T>> forward_list(const std::vector<Tensor<T>>& inputs) override;
    std::string type_name() const override { return "ModuleDict"; }
    /// A ModuleDict of clones of the modules (Module::clone).
    std::shared_ptr<Module<T>> clone() const override;

private:
    void check_insert(const std::string& name, bool non_null) const;
};

}  // namespace xgrad::nn
