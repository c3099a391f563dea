#include "nn/module.hpp"

#include "autograd/io.hpp"
#include "autograd/ops/hook.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace xgrad::nn {

namespace {
// A class name as error messages begin it (docs/architecture.md, "Errors"):
// "BatchNorm2d" -> "batch_norm2d", "LSTMCell" -> "lstm_cell".
std::string snake_case(const std::string& name) {
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (std::isupper(c) && i > 0) {
            const auto before = static_cast<unsigned char>(name[i - 1]);
            const bool next_lower =
                i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]));
            if (std::islower(before) || std::isdigit(before) ||
                (std::isupper(before) && next_lower)) {
                out += '_';
            }
        }
        out += static_cast<char>(std::tolower(c));
    }
    return out;
}

// Sets a flag for a scope: a default forward calling the other one.
struct Bridge {
    explicit Bridge(bool& flag) : flag_(flag) { flag_ = true; }
    ~Bridge() { flag_ = false; }
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;
    bool& flag_;
};
}  // namespace

template <class T>
Tensor<T> Module<T>::forward(const Tensor<T>& x) {
    if (bridging_) {
        throw Error(fmt::format("{}: the module overrides neither forward nor forward_list",
                                snake_case(type_name())));
    }
    std::vector<Tensor<T>> ys;
    {
        Bridge bridge(bridging_);
        ys = forward_list({x});
    }
    if (ys.size() != 1) {
        throw Error(
            fmt::format("{}: forward returns {} tensors; call it with a list, "
                        "module({{x, ...}}), to get them all",
                        snake_case(type_name()), ys.size()));
    }
    return ys[0];
}

template <class T>
std::vector<Tensor<T>> Module<T>::forward_list(const std::vector<Tensor<T>>& inputs) {
    if (bridging_) {
        throw Error(fmt::format("{}: the module overrides neither forward nor forward_list",
                                snake_case(type_name())));
    }
    if (inputs.size() != 1) {
        throw Error(fmt::format("{}: takes one input tensor; got {}", snake_case(type_name()),
                                inputs.size()));
    }
    Bridge bridge(bridging_);
    return {forward(inputs[0])};
}

// Note [module scopes]
// The ops a module's forward records carry its dotted name ("encoder.0", "heads.1"), so that
// print_tape and to_dot can group a model's tape by module (NameScope, autograd/tensor.hpp). The
// name is the module's place in the tree, not the chain of calls: a Linear held in a ModuleList
// "heads" and called by the model's own forward is "heads.0", though the list itself never runs.
// So names come from the tree, assigned by the outermost module call on a thread (the model's)
// to every module below it (named_modules(), which lists a module registered twice once) and
// each call opens the scope of its full name under the scope the outermost call found (a
// NameScope the user opened around the model). Calling a sub-module directly makes it the
// outermost: its tree is named from it until the model is called again. The same pass names
// the parameters and buffers by their dotted names ("encoder.0.weight", what state_dict() calls
// them), so a listing reads linear(x, encoder.0.weight, encoder.0.bias); a name the program set
// itself is kept.
namespace {
thread_local std::size_t module_depth = 0;           // module calls open on this thread
thread_local const char* outermost_scope = nullptr;  // the scope around the outermost one
}  // namespace

template <class T>
class Module<T>::ModuleScope {
public:
    explicit ModuleScope(Module& m)
        : scope_(module_depth == 0 ? name_tree(m) : outermost_scope, m.scope_name_) {
        ++module_depth;
    }
    ~ModuleScope() { --module_depth; }
    ModuleScope(const ModuleScope&) = delete;
    ModuleScope& operator=(const ModuleScope&) = delete;

private:
    static const char* name_tree(Module& root) {
        for (auto& [name, m] : root.named_modules()) {
            // Written only when it changes: threads running one model read it, no one writes.
            if (m->scope_name_ != name) m->scope_name_ = name;
            // Parameters and buffers get their dotted names too ("encoder.0.weight"), for the
            // listings, unless the program named them otherwise.
            for (auto* list : {&m->params_, &m->buffers_}) {
                for (auto& [local, t] : *list) {
                    const std::string full = name.empty() ? local : name + "." + local;
                    const std::string& now = t.name();
                    const bool ours = now.empty() || now == local ||
                                      (now.size() > local.size() &&
                                       now.compare(now.size() - local.size() - 1, std::string::npos,
                                                   "." + local) == 0);
                    if (ours && now != full) t.set_name(full);
                }
            }
        }
        outermost_scope = NameScope::current();
        return outermost_scope;
    }
    NameScope scope_;
};

template <class T>
template <class Run>
auto Module<T>::recorded(Run&& run) {
    const ModuleScope scope(*this);
    // In anomaly mode the ops of this forward are labelled with the module ("Linear(in=2,
    // out=3)"), so an AnomalyError says which layer made the op it names.
    std::optional<AnomalyLabel> label;
    if (anomaly_enabled()) {
        const std::string extra = extra_repr();
        label.emplace(extra.empty() ? type_name() : fmt::format("{}({})", type_name(), extra),
                      nullptr, 0);
    }
    auto* rec = detail::summary_recorder;
    if (!rec) return run();
    // The row is placed before the children run, so a parent comes before its children.
    std::size_t own = count_parameters(*this);
    for (const auto& [name, child] : children_)
        own -= std::min(own, count_parameters(*child));
    const std::size_t row = rec->rows.size();
    rec->rows.push_back({this, type_name(), extra_repr(), {}, rec->depth, own, !children_.empty()});
    const std::size_t depth = rec->depth++;
    decltype(run()) y;
    try {
        y = run();
    } catch (...) {
        rec->depth = depth;
        throw;
    }
    rec->depth = depth;
    std::vector<Shape> shapes;
    if constexpr (std::is_same_v<decltype(y), Tensor<T>>) {
        shapes.push_back(y.shape());
    } else {
        for (const auto& t : y)
            shapes.push_back(t.shape());
    }
    rec->rows[row].outputs = std::move(shapes);
    return y;
}

// Note [module hooks]
// A module runs its hooks around forward in PyTorch's order: the forward pre-hooks (which may
// replace the inputs), forward, the forward hooks (which may replace the outputs). With backward
// hooks registered (and grad mode on) it also wraps the inputs and then the outputs in one
// backward_hook op each (autograd/ops/hook.hpp; PyTorch's BackwardHookFunction): the outputs'
// op runs first in backward, with every output's gradient, calls the backward pre-hooks and
// keeps the gradients; the inputs' op runs once the gradients of all the inputs are in, and calls
// the full backward hooks with them and the kept output gradients. When no input requires grad
// there is no inputs' op, and the full hooks run from the outputs' op with undefined input
// gradients (PyTorch passes None). Both ops show on the tape. A hook of each kind runs in
// registration order; removing one (HookHandle::remove) takes effect from the next call.
template <class T>
struct Module<T>::Hooks {
    template <class F>
    using List = std::vector<std::pair<std::uint64_t, F>>;
    List<ForwardPreHook> forward_pre;
    List<ForwardHook> forward;
    List<BackwardPreHook> backward_pre;
    List<BackwardHook> backward;
    std::uint64_t next_id = 0;

    bool empty() const {
        return forward_pre.empty() && forward.empty() && backward_pre.empty() && backward.empty();
    }
};

namespace {
template <class Hooks, class List, class F>
HookHandle add_hook(const std::shared_ptr<Hooks>& hooks, List Hooks::*list, F hook,
                    const char* fn) {
    if (!hook) throw ValueError(fmt::format("{}: the hook is empty", fn));
    const std::uint64_t id = ++hooks->next_id;
    ((*hooks).*list).emplace_back(id, std::move(hook));
    return HookHandle([weak = std::weak_ptr<Hooks>(hooks), list, id] {
        if (const auto h = weak.lock()) {
            auto& l = (*h).*list;
            l.erase(
                std::remove_if(l.begin(), l.end(), [id](const auto& e) { return e.first == id; }),
                l.end());
        }
    });
}
}  // namespace

template <class T>
HookHandle Module<T>::register_forward_pre_hook(ForwardPreHook hook) {
    if (!hooks_) hooks_ = std::make_shared<Hooks>();
    return add_hook(hooks_, &Hooks::forward_pre, std::move(hook), "register_forward_pre_hook");
}

template <class T>
HookHandle Module<T>::register_forward_hook(ForwardHook hook) {
    if (!hooks_) hooks_ = std::make_shared<Hooks>();
    return add_hook(hooks_, &Hooks::forward, std::move(hook), "register_forward_hook");
}

template <class T>
HookHandle Module<T>::register_full_backward_pre_hook(BackwardPreHook hook) {
    if (!hooks_) hooks_ = std::make_shared<Hooks>();
    return add_hook(hooks_, &Hooks::backward_pre, std::move(hook),
                    "register_full_backward_pre_hook");
}

template <class T>
HookHandle Module<T>::register_full_backward_hook(BackwardHook hook) {
    if (!hooks_) hooks_ = std::make_shared<Hooks>();
    return add_hook(hooks_, &Hooks::backward, std::move(hook), "register_full_backward_hook");
}

template <class T>
std::vector<Tensor<T>> Module<T>::hooked(std::vector<Tensor<T>> inputs, bool single) {
    const std::shared_ptr<Hooks> hooks = hooks_;  // a hook may remove hooks meanwhile
    for (const auto& [id, hook] : typename Hooks::template List<ForwardPreHook>(hooks->forward_pre))
        hook(*this, inputs);
    const bool on_backward =
        grad_enabled() && !(hooks->backward_pre.empty() && hooks->backward.empty());
    // The gradients of the outputs, kept by the outputs' op for the full hooks.
    auto grad_outputs = std::make_shared<std::vector<Tensor<T>>>();
    const auto full_hooks = [this, hooks, grad_outputs](std::vector<Tensor<T>>& grad_inputs) {
        for (const auto& [id, hook] : typename Hooks::template List<BackwardHook>(hooks->backward))
            hook(*this, grad_inputs, *grad_outputs);
    };
    bool inputs_wrapped = false;
    if (on_backward) {
        for (const auto& x : inputs)
            inputs_wrapped = inputs_wrapped || (x.defined() && x.requires_grad());
        inputs = backward_hook<T>(inputs, full_hooks);
    }
    std::vector<Tensor<T>> outputs;
    if (single) {
        if (inputs.size() != 1) {
            throw ValueError(fmt::format("{}: a forward pre-hook left {} inputs for forward(x)",
                                         snake_case(type_name()), inputs.size()));
        }
        outputs = {forward(inputs[0])};
    } else {
        outputs = forward_list(inputs);
    }
    for (const auto& [id, hook] : typename Hooks::template List<ForwardHook>(hooks->forward))
        hook(*this, inputs, outputs);
    if (on_backward) {
        const std::size_t n_inputs = inputs.size();
        outputs = backward_hook<T>(outputs, [this, hooks, grad_outputs, full_hooks, inputs_wrapped,
                                             n_inputs](std::vector<Tensor<T>>& grads) {
            for (const auto& [id, hook] :
                 typename Hooks::template List<BackwardPreHook>(hooks->backward_pre))
                hook(*this, grads);
            *grad_outputs = grads;
            if (!inputs_wrapped) {
                std::vector<Tensor<T>> none(n_inputs);
                full_hooks(none);
            }
        });
    }
    return outputs;
}

template <class T>
Tensor<T> Module<T>::operator()(const Tensor<T>& x) {
    if (!hooks_ || hooks_->empty()) return recorded([&] { return forward(x); });
    return recorded([&] {
        std::vector<Tensor<T>> ys = hooked({x}, true);
        if (ys.size() != 1) {
            throw ValueError(fmt::format("{}: a forward hook left {} outputs for forward(x)",
                                         snake_case(type_name()), ys.size()));
        }
        return ys[0];
    });
}

template <class T>
std::vector<Tensor<T>> Module<T>::operator()(const std::vector<Tensor<T>>& inputs) {
    if (!hooks_ || hooks_->empty()) return recorded([&] { return forward_list(inputs); });
    return recorded([&] { return hooked(inputs, false); });
}

template <class T>
template <class F>
void Module<T>::walk(const std::string& prefix, F&& f) const {
    for (const auto& [name, p] : params_)
        f(prefix + name, p, true);
    for (const auto& [name, b] : buffers_)
        f(prefix + name, b, false);
    for (const auto& [name, child] : children_)
        child->walk(prefix + name + ".", f);
}

template <class T>
std::vector<Tensor<T>> Module<T>::parameters() const {
    std::vector<Tensor<T>> out;
    walk("", [&](const std::string&, const Tensor<T>& t, bool is_param) {
        if (is_param) out.push_back(t);
    });
    return out;
}

template <class T>
std::vector<std::pair<std::string, Tensor<T>>> Module<T>::named_parameters() const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    walk("", [&](const std::string& name, const Tensor<T>& t, bool is_param) {
        if (is_param) out.emplace_back(name, t);
    });
    return out;
}

template <class T>
std::vector<std::pair<std::string, Tensor<T>>> Module<T>::named_buffers() const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    walk("", [&](const std::string& name, const Tensor<T>& t, bool is_param) {
        if (!is_param) out.emplace_back(name, t);
    });
    return out;
}

template <class T>
void Module<T>::collect_modules(const std::string& prefix,
                                std::vector<std::pair<std::string, const Module*>>& out) const {
    for (const auto& [name, m] : out)
        if (m == this) return;  // registered twice: listed at its first place, as PyTorch does
    out.emplace_back(prefix, this);
    for (const auto& [name, child] : children_)
        child->collect_modules(prefix.empty() ? name : prefix + "." + name, out);
}

template <class T>
std::vector<std::pair<std::string, const Module<T>*>> Module<T>::named_modules() const {
    std::vector<std::pair<std::string, const Module*>> out;
    collect_modules("", out);
    return out;
}

template <class T>
std::vector<std::pair<std::string, Module<T>*>> Module<T>::named_modules() {
    std::vector<std::pair<std::string, Module*>> out;
    // Every module below a non-const one is reached through non-const shared_ptrs.
    for (const auto& [name, m] : std::as_const(*this).named_modules())
        out.emplace_back(name, const_cast<Module*>(m));
    return out;
}

template <class T>
std::vector<Module<T>*> Module<T>::modules() {
    std::vector<Module*> out;
    for (const auto& [name, m] : named_modules())
        out.push_back(m);
    return out;
}

template <class T>
Module<T>& Module<T>::apply(const std::function<void(Module&)>& fn) {
    if (!fn) throw ValueError("apply: the function is empty");
    for (auto& [name, child] : children_)
        child->apply(fn);
    fn(*this);
    return *this;
}

template <class T>
Module<T>& Module<T>::requires_grad_(bool on) {
    for (auto& p : parameters())
        p.requires_grad_(on);
    return *this;
}

template <class T>
std::shared_ptr<Module<T>> Module<T>::clone() const {
    throw Error(fmt::format(
        "clone: {} does not implement clone(); override `std::shared_ptr<nn::Module<T>> clone() "
        "const` in it, usually as `return clone_as<{}>(constructor arguments...);`",
        type_name(), type_name()));
}

template <class T>
void Module<T>::copy_state_into(Module& dst) const {
    // Pair everything by name: a clone() override that builds a different module is a bug in it.
    const auto mismatch = [&](const std::string& what) {
        return Error(fmt::format("clone: the copy {} built for {} does not match it: {}",
                                 dst.type_name(), type_name(), what));
    };
    std::vector<std::tuple<std::string, Tensor<T>, bool>> from, to;
    walk("", [&](const std::string& name, const Tensor<T>& t, bool is_param) {
        from.emplace_back(name, t, is_param);
    });
    dst.walk("", [&](const std::string& name, const Tensor<T>& t, bool is_param) {
        to.emplace_back(name, t, is_param);
    });
    if (from.size() != to.size()) {
        throw mismatch(fmt::format("{} tensors against {}", to.size(), from.size()));
    }
    for (std::size_t i = 0; i < from.size(); ++i) {
        const auto& [name, src, is_param] = from[i];
        auto& [dst_name, t, dst_is_param] = to[i];
        if (name != dst_name || is_param != dst_is_param || src.shape() != t.shape()) {
            throw mismatch(fmt::format("'{}' {} against '{}' {}", dst_name, shape_str(t.shape()),
                                       name, shape_str(src.shape())));
        }
        if (t.node() == src.node()) throw mismatch(fmt::format("'{}' is shared", name));
        t.mutable_value() = src.value();  // a copy of the values, into the copy's own tensor
        t.set_grad(Tensor<T>());
        if (is_param) t.requires_grad_(src.requires_grad());
    }
    const auto src_modules = named_modules();
    const auto dst_modules = dst.named_modules();
    if (src_modules.size() != dst_modules.size()) {
        throw mismatch(
            fmt::format("{} modules against {}", dst_modules.size(), src_modules.size()));
    }
    for (std::size_t i = 0; i < src_modules.size(); ++i) {
        if (src_modules[i].first != dst_modules[i].first) {
            throw mismatch(fmt::format("module '{}' against '{}'", dst_modules[i].first,
                                       src_modules[i].first));
        }
        dst_modules[i].second->training_ = src_modules[i].second->training_;
    }
}

template <class T>
void Module<T>::train(bool on) {
    training_ = on;
    for (auto& [name, child] : children_)
        child->train(on);
}

template <class T>
void Module<T>::zero_grad() {
    for (auto& p : parameters())
        p.zero_grad();
}

template <class T>
std::map<std::string, xt::xarray<T>> Module<T>::state_dict() const {
    std::map<std::string, xt::xarray<T>> out;
    walk("",
         [&](const std::string& name, const Tensor<T>& t, bool) { out.emplace(name, t.value()); });
    return out;
}

template <class T>
IncompatibleKeys Module<T>::load_state_dict(const std::map<std::string, xt::xarray<T>>& state,
                                            bool strict) {
    std::vector<std::pair<std::string, Tensor<T>>> targets;
    walk("",
         [&](const std::string& name, const Tensor<T>& t, bool) { targets.emplace_back(name, t); });
    // Check everything before changing anything, and report every problem at once: a renamed
    // layer shows up as its missing names beside their unexpected replacements.
    std::set<std::string> known;
    std::vector<std::string> missing, unexpected, misshaped;
    IncompatibleKeys result;
    for (const auto& [name, t] : targets) {
        known.insert(name);
        auto it = state.find(name);
        if (it == state.end()) {
            if (strict) {
                missing.push_back(fmt::format("missing entry '{}' (expected shape {})", name,
                                              shape_str(t.shape())));
            } else {
                result.missing_keys.push_back(name);
            }
        } else if (it->second.shape() != t.shape()) {
            misshaped.push_back(fmt::format("entry '{}' has shape {} but the model expects {}",
                                            name, shape_str(it->second.shape()),
                                            shape_str(t.shape())));
        }
    }
    for (const auto& [name, value] : state) {
        if (known.count(name)) continue;
        if (strict) {
            unexpected.push_back(
                fmt::format("unexpected entry '{}' of shape {}", name, shape_str(value.shape())));
        } else {
            result.unexpected_keys.push_back(name);  // sorted: the map's order
        }
    }
    std::sort(result.missing_keys.begin(), result.missing_keys.end());
    if (!missing.empty() || !unexpected.empty() || !misshaped.empty()) {
        std::vector<std::string> problems = missing;
        problems.insert(problems.end(), unexpected.begin(), unexpected.end());
        problems.insert(problems.end(), misshaped.begin(), misshaped.end());
        const std::string message = fmt::format(
            "load_state_dict: the state does not fit the model ({} problem{}): {}", problems.size(),
            problems.size() == 1 ? "" : "s", fmt::join(problems, "; "));
        // Only shapes wrong: a ShapeError; any name wrong: a ValueError.
        if (missing.empty() && unexpected.empty()) throw ShapeError(message);
        throw ValueError(message);
    }
    for (auto& [name, t] : targets) {
        auto it = state.find(name);
        if (it != state.end())
            std::copy(it->second.begin(), it->second.end(), t.mutable_value().begin());
    }
    return result;
}

template <class T>
Tensor<T> Module<T>::register_parameter(std::string name, Tensor<T> t) {
    if (!t.defined()) throw ValueError(fmt::format("register_parameter: '{}' is undefined", name));
    t.requires_grad_(true);
    params_.emplace_back(std::move(name), t);
    return t;
}

template <class T>
Tensor<T> Module<T>::register_buffer(std::string name, Tensor<T> t) {
    if (!t.defined()) throw ValueError(fmt::format("register_buffer: '{}' is undefined", name));
    buffers_.emplace_back(std::move(name), t);
    return t;
}

template <class T>
std::size_t count_parameters(const Module<T>& model) {
    std::size_t n = 0;
    for (const auto& p : model.parameters())
        n += p.size();
    return n;
}

namespace {
std::string with_commas(std::size_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

std::string keras_shape(const Shape& s) {
    std::vector<std::string> parts{"None"};
    for (std::size_t i = 1; i < s.size(); ++i)
        parts.push_back(std::to_string(s[i]));
    return fmt::format("[{}]", fmt::join(parts, ", "));
}

// One output's shape as Keras prints it; several in a list, as Keras prints a layer that returns
// its states: [[None, 5, 20], [None, 20]].
std::string keras_shapes(const std::vector<Shape>& shapes) {
    if (shapes.size() == 1) return keras_shape(shapes[0]);
    std::vector<std::string> parts;
    for (const auto& s : shapes)
        parts.push_back(keras_shape(s));
    return fmt::format("[{}]", fmt::join(parts, ", "));
}
}  // namespace

template <class T>
std::string summary(Module<T>& model, const Shape& input_shape) {
    Shape batch_shape{1};
    batch_shape.insert(batch_shape.end(), input_shape.begin(), input_shape.end());
    detail::SummaryRecorder recorder;
    auto* previous = detail::summary_recorder;
    detail::summary_recorder = &recorder;
    const bool was_training = model.is_training();
    try {
        NoGradGuard no_grad;
        model.eval();
        model(zeros<T>(batch_shape));
    } catch (...) {
        detail::summary_recorder = previous;
        model.train(was_training);
        throw;
    }
    detail::summary_recorder = previous;
    model.train(was_training);

    // Every module below the model, in call order, each under its parent; the model itself
    // when it has no children.
    std::map<const void*, std::string> names;
    for (const auto& [name, m] : std::as_const(model).named_modules())
        names.emplace(m, name);
    const bool nested = !model.children().empty();
    std::vector<std::string> labels;
    for (const auto& row : recorder.rows) {
        if (nested && row.depth == 0) continue;
        const auto it = names.find(row.module);
        const std::string name = it == names.end() ? "(unregistered)" : it->second;
        const std::string indent(2 * (nested ? row.depth - 1 : 0), ' ');
        labels.push_back(name.empty() ? fmt::format("{}({})", indent, row.type)
                                      : fmt::format("{}{} ({})", indent, name, row.type));
    }
    std::size_t width = 34;
    for (const auto& label : labels)
        width = std::max(width, label.size() + 2);
    std::string out = fmt::format("Model: {}\n", model.type_name());
    const std::string rule(width + 38, '_'), double_rule(width + 38, '=');
    out += rule + "\n" +
           fmt::format("{:<{}}{:<26}{:>12}\n", "Layer (type)", width, "Output Shape", "Param #") +
           double_rule + "\n";
    std::size_t index = 0;
    for (const auto& row : recorder.rows) {
        if (nested && row.depth == 0) continue;
        const std::string params =
            row.has_children && row.params == 0 ? "--" : with_commas(row.params);
        out += fmt::format("{:<{}}{:<26}{:>12}\n", labels[index++], width,
                           keras_shapes(row.outputs), params);
    }
    std::size_t trainable = 0;
    for (const auto& p : model.parameters())
        trainable += p.requires_grad() ? p.size() : 0;
    const std::size_t total = count_parameters(model);
    out += double_rule + "\n";
    out += fmt::format("Total params: {}\nTrainable params: {}\nNon-trainable params: {}\n",
                       with_commas(total), with_commas(trainable), with_commas(total - trainable));
    out += rule + "\n";
    return out;
}

template <class T>
void Module<T>::save(const std::string& path) const {
    try {
        save_npz<T>(path, state_dict());  // errors name the file
    } catch (const IoError& e) {
        // The user called save: its errors begin so, as load's do.
        std::string what = e.what();
        constexpr std::string_view inner = "save_npz: ";
        if (what.compare(0, inner.size(), inner) == 0) what.replace(0, inner.size(), "save: ");
        throw IoError(what);
    }
}

template <class T>
IncompatibleKeys Module<T>::load(const std::string& path, bool strict) {
    const std::map<std::string, xt::xarray<T>> state = load_npz<T>(path);  // errors name the file
    // load_state_dict names the entry; the file it came from is only known here.
    const auto in_file = [&](const Error& e) {
        std::string what = e.what();
        constexpr std::string_view inner = "load_state_dict: ";
        if (what.compare(0, inner.size(), inner) == 0) what.erase(0, inner.size());
        return fmt::format("load: '{}': {}", path, what);
    };
    try {
        return load_state_dict(state, strict);
    } catch (const ShapeError& e) {
        throw ShapeError(in_file(e));
    } catch (const ValueError& e) {
        throw ValueError(in_file(e));
    }
}

template class Module<float>;
template class Module<double>;
template std::string summary(Module<float>&, const Shape&);
template std::string summary(Module<double>&, const Shape&);
template std::size_t count_parameters(const Module<float>&);
template std::size_t count_parameters(const Module<double>&);

}  // namespace xgrad::nn
