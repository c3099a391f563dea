#include "nn/containers.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace xgrad::nn {

namespace {
[[noreturn]] void no_forward(const char* name, const char* type) {
    throw Error(fmt::format(
        "{}: {} has no forward; call its modules from the forward of the module that owns it "
        "(or use a Sequential to run modules in order)",
        name, type));
}
}  // namespace

template <class T>
const std::shared_ptr<Module<T>>& ModuleList<T>::operator[](std::size_t i) const {
    if (i >= size()) {
        throw ValueError(fmt::format(
            "module_list: index {} is out of range for a ModuleList of size {}", i, size()));
    }
    return modules_[i];
}

template <class T>
Tensor<T> ModuleList<T>::forward(const Tensor<T>&) {
    no_forward("module_list", "ModuleList");
}

template <class T>
std::vector<Tensor<T>> ModuleList<T>::forward_list(const std::vector<Tensor<T>>&) {
    no_forward("module_list", "ModuleList");
}

template <class T>
std::shared_ptr<Module<T>> ModuleList<T>::clone() const {
    auto copy = std::make_shared<ModuleList>();
    for (const auto& m : modules_)
        copy->append(m->clone());
    this->copy_state_into(*copy);
    return copy;
}

template <class T>
void ModuleDict<T>::check_insert(const std::string& name, bool non_null) const {
    if (!non_null) {
        throw ValueError(
            fmt::format("module_dict: insert('{}'): the module pointer is null", name));
    }
    if (name.empty() || name.find('.') != std::string::npos) {
        throw ValueError(fmt::format(
            "module_dict: insert('{}'): a key must be non-empty and hold no '.'", name));
    }
    if (contains(name)) {
        throw ValueError(
            fmt::format("module_dict: insert('{}'): the key is already present", name));
    }
}

template <class T>
bool ModuleDict<T>::contains(const std::string& name) const {
    const auto& c = this->children();
    return std::any_of(c.begin(), c.end(), [&](const auto& item) { return item.first == name; });
}

template <class T>
std::vector<std::string> ModuleDict<T>::keys() const {
    std::vector<std::string> out;
    for (const auto& [name, m] : this->children())
        out.push_back(name);
    return out;
}

template <class T>
const std::shared_ptr<Module<T>>& ModuleDict<T>::operator[](const std::string& name) const {
    for (const auto& item : this->children())
        if (item.first == name) return item.second;
    throw ValueError(fmt::format("module_dict: no module named '{}'; the keys are [{}]", name,
                                 fmt::join(keys(), ", ")));
}

template <class T>
Tensor<T> ModuleDict<T>::forward(const Tensor<T>&) {
    no_forward("module_dict", "ModuleDict");
}

template <class T>
std::vector<Tensor<T>> ModuleDict<T>::forward_list(const std::vector<Tensor<T>>&) {
    no_forward("module_dict", "ModuleDict");
}

template <class T>
std::shared_ptr<Module<T>> ModuleDict<T>::clone() const {
    auto copy = std::make_shared<ModuleDict>();
    for (const auto& [name, m] : this->children())
        copy->insert(name, m->clone());
    this->copy_state_into(*copy);
    return copy;
}

template class ModuleList<float>;
template class ModuleList<double>;
template class ModuleDict<float>;
template class ModuleDict<double>;

}  // namespace xgrad::nn
