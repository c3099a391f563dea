#pragma once

#include "autograd/errors.hpp"
#include "autograd/random.hpp"
#include "autograd/tensor.hpp"

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace xgrad::nn {

/// What load_state_dict(state, strict=false) left unmatched (PyTorch's _IncompatibleKeys):
/// dotted names of the model the state has no entry for, and entries of the state the model has
/// no tensor for, each in sorted order. Both are empty after a strict load, which throws instead.
struct IncompatibleKeys {
    std::vector<std::string> missing_keys;
    std::vector<std::string> unexpected_keys;
};

/// Base of every layer and model. A module owns its parameters as named members and registers
/// them (and its children) by name in its constructor; everything else — the parameter list,
/// train/eval, state dicts, summary() — is derived from that registration.
///
/// A user's layer is a subclass of a few lines (docs/custom-layers.md):
///
///     struct Affine : nn::Module<> {
///         Tensor<float> scale_, shift_;
///         explicit Affine(std::size_t n)
///             : scale_(register_parameter("scale", ones<float>({n}, true))),
///               shift_(register_parameter("shift", zeros<float>({n}, true))) {}
///         Tensor<float> forward(const Tensor<float>& x) override { return x * scale_ + shift_; }
///         std::string type_name() const override { return "Affine"; }
///     };
///
/// A module with several inputs or outputs overrides forward_list instead (or as well).
template <class T = float>
class Module {
public:
    using value_type = T;

    Module() = default;
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;
    Module(Module&&) = default;
    Module& operator=(Module&&) = default;

    /// The computation on one tensor: composes xgrad ops only (a module never contains gradient
    /// code). A layer with one input and one output overrides this one.
    virtual Tensor<T> forward(const Tensor<T>& x);
    /// The computation for a module with several inputs or outputs (a recurrent layer takes x and
    /// an initial state and returns the output sequence and the final state); such a module
    /// overrides this one, and may also override forward(x) with its main output. The two
    /// defaults bridge: this one runs forward(x) on exactly one input, forward(x) runs this one
    /// and expects exactly one output. A module overrides at least one of them.
    virtual std::vector<Tensor<T>> forward_list(const std::vector<Tensor<T>>& inputs);
    /// The class name shown by summary() ("Linear").
    virtual std::string type_name() const = 0;
    /// Extra text for summary() and printing ("in=784, out=300"); empty by default.
    virtual std::string extra_repr() const { return {}; }

    /// Runs forward (and reports the output shape to an active summary()).
    Tensor<T> operator()(const Tensor<T>& x);
    /// Runs forward_list: `lstm({x, h0, c0})` returns {output, h_n, c_n}; `lstm({x})` too (a
    /// braced list always means forward_list, `lstm(x)` forward).
    std::vector<Tensor<T>> operator()(const std::vector<Tensor<T>>& inputs);
    std::vector<Tensor<T>> operator()(std::initializer_list<Tensor<T>> inputs) {
        return (*this)(std::vector<Tensor<T>>(inputs));
    }

    // ---- hooks (Note [module hooks] in module.cpp; PyTorch's names and order) ----

    /// Called before forward with the inputs, which it may replace in place.
    using ForwardPreHook = std::function<void(Module& module, std::vector<Tensor<T>>& inputs)>;
    /// Called after forward with the inputs and the outputs, which it may replace in place.
    using ForwardHook = std::function<void(Module& module, const std::vector<Tensor<T>>& inputs,
                                           std::vector<Tensor<T>>& outputs)>;
    /// Called during backward with the gradients of the module's outputs (zeros for an output
    /// backward did not reach), which it may replace in place before they flow into the module.
    using BackwardPreHook =
        std::function<void(Module& module, std::vector<Tensor<T>>& grad_outputs)>;
    /// Called during backward once the gradients of the module's inputs are computed, with them
    /// (undefined for an input that does not require grad) and the gradients of its outputs;
    /// it may replace the input gradients in place.
    using BackwardHook = std::function<void(Module& module, std::vector<Tensor<T>>& grad_inputs,
                                            const std::vector<Tensor<T>>& grad_outputs)>;

    /// Registers a hook run before every forward of this module (PyTorch's
    /// register_forward_pre_hook). Hooks of one kind run in registration order.
    HookHandle register_forward_pre_hook(ForwardPreHook hook);
    /// Registers a hook run after every forward (register_forward_hook): to look at or record
    /// activations, or to replace the outputs.
    HookHandle register_forward_hook(ForwardHook hook);
    /// Registers a hook on the gradients of the outputs (register_full_backward_pre_hook).
    HookHandle register_full_backward_pre_hook(BackwardPreHook hook);
    /// Registers a hook on the gradients of the inputs and outputs (register_full_backward_hook).
    /// The module must outlive the backward of every graph it made while the hook was there.
    HookHandle register_full_backward_hook(BackwardHook hook);

    /// Parameters of this module and its children, depth first, in registration order.
    std::vector<Tensor<T>> parameters() const;
    /// The same with dotted names: "weight", "0.bias", "encoder.fc1.weight".
    std::vector<std::pair<std::string, Tensor<T>>> named_parameters() const;
    /// Registered buffers (state that is saved but not trained, e.g. running statistics).
    std::vector<std::pair<std::string, Tensor<T>>> named_buffers() const;
    /// Direct children with their names, in registration order.
    const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
        return children_;
    }
    /// The same (PyTorch's name).
    const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
        return children_;
    }
    /// This module (named "") and every module below it, depth first in registration order, with
    /// dotted names ("encoder", "encoder.fc1"); a module registered twice is listed once, at its
    /// first place (PyTorch's named_modules).
    std::vector<std::pair<std::string, Module*>> named_modules();
    std::vector<std::pair<std::string, const Module*>> named_modules() const;
    /// The modules of named_modules(), without the names.
    std::vector<Module*> modules();
    /// Calls `fn` on every child's subtree, then on this module (PyTorch's order: children
    /// first, self last), and returns this module. Typical use, a custom initialisation:
    /// `model.apply([](nn::Module<>& m) { if (auto* fc = dynamic_cast<nn::Linear<>*>(&m)) ... })`.
    Module& apply(const std::function<void(Module&)>& fn);
    /// Sets requires_grad on every parameter of this module and its children and returns this
    /// module (PyTorch's requires_grad_): requires_grad_(false) freezes them, so backward leaves
    /// their gradients undefined and an optimizer step leaves their values unchanged.
    Module& requires_grad_(bool on = true);

    /// A deep copy (PyTorch's copy.deepcopy, LibTorch's clone()): the same type, with parameters
    /// and buffers of its own (equal values, no shared storage, no graph, no gradients), the same
    /// requires_grad flags and training modes, children cloned the same way. Hooks are not copied
    /// (a hook's closure usually captures the original module). Every built-in module overrides
    /// it; the default throws Error naming the type: a user's layer overrides it, usually with
    /// one line, `return clone_as<MyLayer>(constructor arguments...);` (docs/custom-layers.md).
    virtual std::shared_ptr<Module> clone() const;

    /// Training mode (the default) or evaluation mode, for this module and all children.
    void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }

    /// Drops the gradient of every parameter.
    void zero_grad();

    /// Copies of every parameter and buffer value, keyed by dotted name.
    std::map<std::string, xt::xarray<T>> state_dict() const;
    /// Copies values in place (parameters keep their identity, so optimizers stay attached).
    /// Checks every name and shape first, and nothing is changed when one is wrong: one error
    /// lists every missing and unexpected entry (strict only) and every entry of the wrong shape
    /// (with both shapes, strict or not); ValueError when a name is wrong, ShapeError when only
    /// shapes are. Returns the missing and unexpected keys (non-strict; empty when strict).
    IncompatibleKeys load_state_dict(const std::map<std::string, xt::xarray<T>>& state,
                                     bool strict = true);

    /// Saves state_dict() as a NumPy .npz keyed by parameter name (np.load reads it), through a
    /// temporary file and a rename: a failure never replaces the last good file. Errors are
    /// IoErrors beginning "save: " that name the file.
    void save(const std::string& path) const;
    /// Loads a file written by save() (or by NumPy's np.savez with the same names). Every error
    /// names the file: the reader's IoError, or load_state_dict's ValueError/ShapeError as
    /// "load: '<path>': missing entry ...", and nothing is changed.
    /// Returns load_state_dict's missing and unexpected keys.
    IncompatibleKeys load(const std::string& path, bool strict = true);

protected:
    /// Registers a trainable tensor under `name` and returns it (store it in a member).
    Tensor<T> register_parameter(std::string name, Tensor<T> t);
    /// Registers non-trained state under `name` and returns it.
    Tensor<T> register_buffer(std::string name, Tensor<T> t);
    /// Registers a child module under `name` and returns it.
    template <class M>
    std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> m) {
        children_.emplace_back(std::move(name), m);
        return m;
    }

    /// Copies into `dst`, a module of the same structure built afresh, every parameter and
    /// buffer value, every parameter's requires_grad flag and every module's training mode;
    /// throws Error when the names or shapes differ (a clone() that builds another module).
    void copy_state_into(Module& dst) const;
    /// The usual clone(): builds an M from `args` (without drawing from the generator: its state
    /// is restored after the constructor's initialisation) and copies this module's state into
    /// it with copy_state_into.
    template <class M, class... Args>
    std::shared_ptr<Module> clone_as(Args&&... args) const {
        std::shared_ptr<M> copy;
        {
            const std::mt19937_64 saved = generator();
            try {
                copy = std::make_shared<M>(std::forward<Args>(args)...);
            } catch (...) {
                generator() = saved;
                throw;
            }
            generator() = saved;
        }
        copy_state_into(*copy);
        return copy;
    }

private:
    template <class F>
    void walk(const std::string& prefix, F&& f) const;
    void collect_modules(const std::string& prefix,
                         std::vector<std::pair<std::string, const Module*>>& out) const;
    // Runs `run` (a forward) and reports its output shapes to an active summary().
    template <class Run>
    auto recorded(Run&& run);
    // Runs forward (single: forward(inputs[0])) or forward_list through the hooks.
    std::vector<Tensor<T>> hooked(std::vector<Tensor<T>> inputs, bool single);

    struct Hooks;
    class ModuleScope;              // Note [module scopes]
    std::shared_ptr<Hooks> hooks_;  // null until a hook is registered

    std::vector<std::pair<std::string, Tensor<T>>> params_;
    std::vector<std::pair<std::string, Tensor<T>>> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    bool training_ = true;
    std::string
        scope_name_;  // its dotted name below the outermost module called (Note [module scopes])
    bool bridging_ = false;  // a default forward is calling the other (one must be overridden)
};

namespace detail {
/// One row of summary(): filled by Module::operator() while a summary is being taken.
struct SummaryRow {
    const void* module;
    std::string type;
    std::string extra;
    std::vector<Shape> outputs;
    std::size_t depth;
    std::size_t params;  // of the module alone, not counting its children
    bool has_children;
};
struct SummaryRecorder {
    std::vector<SummaryRow> rows;
    std::size_t depth = 0;
};
inline thread_local SummaryRecorder* summary_recorder = nullptr;
}  // namespace detail

/// A Keras-style table of `model` run on a zero input of shape [1, input_shape...]: every module
/// below the model in the order it was called, nested modules indented under their parent, each
/// with its dotted name and type ("encoder.fc1 (Linear)"), output shape (batch shown as None) and
/// its own parameter count ("--" for a container with none of its own), then the totals: total,
/// trainable (requires_grad) and non-trainable (frozen) parameters. A model without children is
/// its own one row.
template <class T>
std::string summary(Module<T>& model, const Shape& input_shape);

/// Total number of parameter elements of `model`.
template <class T>
std::size_t count_parameters(const Module<T>& model);

/// `model.clone()` as its own type: `std::shared_ptr<nn::Linear<>> copy = nn::clone(fc);`.
/// Throws Error when the type's clone() returns another type (an override it forgot).
template <class M>
std::shared_ptr<M> clone(const M& model) {
    std::shared_ptr<Module<typename M::value_type>> copy = model.clone();
    auto typed = std::dynamic_pointer_cast<M>(copy);
    if (!typed) {
        throw Error("clone: " + model.type_name() + "::clone() returned a " +
                    (copy ? copy->type_name() : std::string("null pointer")) +
                    "; the class must override clone()");
    }
    return typed;
}
template <class M>
std::shared_ptr<M> clone(const std::shared_ptr<M>& model) {
    if (!model) throw ValueError("clone: the module pointer is null");
    return clone(*model);
}

namespace detail {
/// `module` as an M, for typed access by index or key (Sequential, ModuleList, ModuleDict):
/// Error naming `where` and the module's type when it is another type.
template <class M, class T>
std::shared_ptr<M> module_as(const std::shared_ptr<Module<T>>& module, const std::string& where) {
    auto typed = std::dynamic_pointer_cast<M>(module);
    if (!typed) {
        throw ValueError(where + " is a " + module->type_name() +
                         ", not the type asked for; check the index or the type argument");
    }
    return typed;
}
}  // namespace detail

}  // namespace xgrad::nn
