#include "optim/optimizer.hpp"

#include "autograd/io.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace xgrad::optim {

namespace detail {

xt::xarray<double> scalar_array(double v) {
    xt::xarray<double> a = xt::xarray<double>::from_shape({});
    a() = v;
    return a;
}

template <class T>
xt::xarray<double> widen(const xt::xarray<T>& a) {
    xt::xarray<double> out = xt::xarray<double>::from_shape(a.shape());
    std::copy(a.begin(), a.end(), out.begin());
    return out;
}

template <class T>
const xt::xarray<double>& StateReader<T>::at(const std::string& key) {
    const auto it = state_.find(key);
    if (it == state_.end()) {
        throw ValueError(fmt::format(
            "{}: load_state_dict: the state has no {}; was it saved by another optimizer or "
            "with other options?",
            name_, key));
    }
    read_.insert(key);
    return it->second;
}

template <class T>
double StateReader<T>::scalar(const std::string& key) {
    const auto& a = at(key);
    if (a.size() != 1) {
        throw ShapeError(fmt::format("{}: load_state_dict: {} must hold one value; got shape {}",
                                     name_, key, shape_str(a.shape())));
    }
    return a.data()[0];
}

template <class T>
xt::xarray<T> StateReader<T>::array(std::size_t i, const char* what,
                                    const std::vector<std::size_t>& shape) {
    const std::string key = state_key(i, what);
    const auto& a = at(key);
    if (!std::equal(a.shape().begin(), a.shape().end(), shape.begin(), shape.end())) {
        throw ShapeError(fmt::format("{}: load_state_dict: {} must have shape {}; got {}", name_,
                                     key, shape_str(shape), shape_str(a.shape())));
    }
    xt::xarray<T> out = xt::xarray<T>::from_shape(a.shape());
    std::transform(a.begin(), a.end(), out.begin(), [](double v) { return T(v); });
    return out;
}

template <class T>
xt::xarray<T> StateReader<T>::buffer(std::size_t i, const char* what) {
    const std::string key = state_key(i, what);
    const auto& a = at(key);
    const auto& shape = params_[i].shape();
    if (!std::equal(a.shape().begin(), a.shape().end(), shape.begin(), shape.end())) {
        throw ShapeError(
            fmt::format("{}: load_state_dict: {} has shape {} but parameter {} has shape {}", name_,
                        key, shape_str(a.shape()), i, shape_str(shape)));
    }
    return array(i, what, std::vector<std::size_t>(shape.begin(), shape.end()));
}

template <class T>
std::size_t StateReader<T>::length(std::size_t i, const char* what) {
    const std::string key = state_key(i, what);
    const auto& a = at(key);
    if (a.dimension() != 1) {
        throw ShapeError(fmt::format("{}: load_state_dict: {} must be 1-d; got shape {}", name_,
                                     key, shape_str(a.shape())));
    }
    return a.size();
}

template <class T>
std::int64_t StateReader<T>::count(std::size_t i, const char* what) {
    const std::string key = state_key(i, what);
    const double v = scalar(key);
    if (!(v >= 0) || v != std::floor(v) || v > 9.007199254740992e15) {
        throw ValueError(fmt::format("{}: load_state_dict: {} must be a whole number >= 0; got {}",
                                     name_, key, v));
    }
    return static_cast<std::int64_t>(v);
}

template <class T>
void StateReader<T>::finish() const {
    std::string unread;
    for (const auto& [key, value] : state_) {
        if (read_.count(key)) continue;
        unread += (unread.empty() ? "" : ", ") + key;
    }
    if (!unread.empty()) {
        throw ValueError(fmt::format(
            "{}: load_state_dict: unexpected entries {}; was the state saved by another "
            "optimizer or with other options?",
            name_, unread));
    }
}

template class StateReader<float>;
template class StateReader<double>;
template xt::xarray<double> widen(const xt::xarray<float>&);
template xt::xarray<double> widen(const xt::xarray<double>&);

}  // namespace detail

template <class T>
Optimizer<T>::Optimizer(const char* name, std::vector<std::vector<Tensor<T>>> groups,
                        std::vector<double> lrs)
    : lrs_(std::move(lrs)), initial_lrs_(lrs_.size()), name_(name) {
    if (groups.empty()) {
        throw ValueError(fmt::format("{}: expected at least one parameter group; got none", name_));
    }
    std::unordered_map<const void*, std::size_t> position;  // node -> parameter index
    for (std::size_t g = 0; g < groups.size(); ++g) {
        check_non_negative("lr", lrs_[g], g);
        begin_.push_back(params_.size());
        for (auto& p : groups[g]) {
            const std::size_t i = params_.size();
            if (!p.defined()) {
                throw ValueError(fmt::format("{}: parameter {} is undefined", name_, i));
            }
            if (!p.is_leaf()) {
                throw ValueError(
                    fmt::format("{}: parameter {} is not a leaf tensor; optimize leaves (use "
                                "detach().requires_grad_())",
                                name_, i));
            }
            const auto [it, fresh] = position.emplace(p.node(), i);
            if (!fresh && groups.size() > 1 && it->second < begin_[g]) {
                throw ValueError(fmt::format(
                    "{}: parameter {} (group {}) is also parameter {}; a parameter may belong "
                    "to one group only",
                    name_, i, g, it->second));
            }
            params_.push_back(std::move(p));
        }
    }
    begin_.push_back(params_.size());
}

template <class T>
void Optimizer<T>::append_group(std::vector<Tensor<T>> params, double lr) {
    const std::size_t g = lrs_.size();
    if (!(lr >= 0)) {
        throw ValueError(fmt::format("{}: add_param_group: lr must be >= 0; got lr={} (group {})",
                                     name_, lr, g));
    }
    std::unordered_map<const void*, std::size_t> position;  // node -> parameter index
    for (std::size_t i = 0; i < params_.size(); ++i)
        position.emplace(params_[i].node(), i);
    for (std::size_t k = 0; k < params.size(); ++k) {
        const Tensor<T>& p = params[k];
        if (!p.defined() || !p.is_leaf()) {
            throw ValueError(fmt::format(
                "{}: add_param_group: parameter {} of the new group is {}; optimize leaves (use "
                "detach().requires_grad_())",
                name_, k, p.defined() ? "not a leaf tensor" : "undefined"));
        }
        const auto it = position.find(p.node());
        if (it != position.end()) {
            throw ValueError(fmt::format(
                "{}: add_param_group: some parameters appear in more than one parameter group; "
                "parameter {} of the new group is already parameter {}",
                name_, k, it->second));
        }
    }
    for (auto& p : params)
        params_.push_back(std::move(p));
    begin_.push_back(params_.size());
    lrs_.push_back(lr);
    initial_lrs_.emplace_back();
}

template <class T>
typename Optimizer<T>::StateDict Optimizer<T>::state_dict() const {
    StateDict out;
    for (std::size_t g = 0; g < lrs_.size(); ++g) {
        xt::xarray<double> ids = xt::xarray<double>::from_shape({begin_[g + 1] - begin_[g]});
        for (std::size_t i = begin_[g]; i < begin_[g + 1]; ++i)
            ids(i - begin_[g]) = double(i);
        out[fmt::format("param_groups.{}.params", g)] = std::move(ids);
        out[fmt::format("param_groups.{}.lr", g)] = detail::scalar_array(lrs_[g]);
        if (initial_lrs_[g]) {
            out[fmt::format("param_groups.{}.initial_lr", g)] =
                detail::scalar_array(*initial_lrs_[g]);
        }
    }
    save_state(out);
    return out;
}

template <class T>
void Optimizer<T>::load_state_dict(const StateDict& state) {
    // The group structure: as many groups, each as many parameters (PyTorch's checks).
    std::size_t saved_groups = 0;
    while (state.count(fmt::format("param_groups.{}.params", saved_groups)))
        ++saved_groups;
    if (saved_groups != lrs_.size()) {
        throw ValueError(fmt::format(
            "{}: load_state_dict: the state has {} parameter group{} and the optimizer {}", name_,
            saved_groups, saved_groups == 1 ? "" : "s", lrs_.size()));
    }
    std::vector<std::string> saved_ids;
    for (std::size_t g = 0; g < lrs_.size(); ++g) {
        const auto& ids = state.at(fmt::format("param_groups.{}.params", g));
        const std::size_t n = begin_[g + 1] - begin_[g];
        if (ids.dimension() != 1 || ids.size() != n) {
            throw ValueError(fmt::format(
                "{}: load_state_dict: group {} holds {} parameters in the state and {} in the "
                "optimizer",
                name_, g, ids.size(), n));
        }
        for (double id : ids) {
            if (!(id >= 0) || id != std::floor(id)) {
                throw ValueError(fmt::format(
                    "{}: load_state_dict: param_groups.{}.params must hold positions; got {}",
                    name_, g, id));
            }
            saved_ids.push_back(fmt::format("{}", static_cast<std::int64_t>(id)));
        }
    }
    detail::StateReader<T> in(name_, state, saved_ids, params_);
    std::vector<double> lrs(lrs_.size());
    std::vector<std::optional<double>> initial_lrs(lrs_.size());
    for (std::size_t g = 0; g < lrs_.size(); ++g) {
        in.touch(fmt::format("param_groups.{}.params", g));  // read above
        lrs[g] = in.group(g, "lr");
        check_non_negative("lr", lrs[g], g);
        const std::string initial = fmt::format("param_groups.{}.initial_lr", g);
        if (in.has(initial)) initial_lrs[g] = in.scalar(initial);
    }
    const std::function<void()> install = load_state(in);
    in.finish();
    install();
    lrs_ = std::move(lrs);
    initial_lrs_ = std::move(initial_lrs);
}

template <class T>
void Optimizer<T>::save(const std::string& path) const {
    save_npz(path, state_dict());
}

template <class T>
void Optimizer<T>::load(const std::string& path) {
    load_state_dict(load_npz<double>(path));
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace xgrad::optim
