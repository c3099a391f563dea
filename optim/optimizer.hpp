#pragma once

#include "autograd/errors.hpp"
#include "autograd/tensor.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace xgrad::optim {

// Note [optimizer updates]
// Every optimizer reads each parameter's .grad() and rewrites its value in place through
// mutable_value(), under NoGradGuard: no graph is recorded and no array is reallocated on the hot
// path. A parameter whose grad is undefined (never reached by backward, or dropped by
// zero_grad) is skipped, as PyTorch does, and its per-parameter state (momentum buffer, moments,
// step count) is left untouched. That state is allocated lazily, on a parameter's first update.
// Hyperparameters are doubles; the element loops run in T.

// Note [parameter groups]
// An optimizer holds one or more parameter groups (PyTorch's param_groups): each a list of
// parameters with its own options (its own lr, weight_decay, momentum, ...). The constructor that
// takes one parameter list makes one group with the given options. Parameters are numbered
// 0, 1, ... across the groups in order (params() lists them so); that position is how the
// optimizer's state is keyed in state_dict(), as PyTorch keys it. lr()/set_lr() read the first
// group's lr and set every group's; group_lr(g)/set_group_lr(g, lr) address one group. A
// parameter may not appear in two groups. add_param_group (PyTorch's) appends a group after
// construction, with its own options or the optimizer's defaults (the options given to the
// constructor: its single list's, or the `defaults` beside its groups); its parameters take the
// next positions, so state_dict() keys them like any other group's, and an optimizer built the
// same way (constructor, then the same add_param_group calls) loads that state. A schedule acts
// on the groups the optimizer had when the schedule was built (Note [schedules]).

// Note [optimizer state dict]
// state_dict() is a flat map of name -> array, saved as .npz by save() (Module::save's format):
//   param_groups.<g>.params       [n_g] the positions of group g's parameters (0, 1, ...)
//   param_groups.<g>.lr           []    and every other hyperparameter of group g by its option
//                                       name (bools 0/1; Adam's betas as beta1, beta2)
//   param_groups.<g>.initial_lr   []    only once a schedule has set it
//   state.<i>.<buffer>            the per-parameter state of parameter i (momentum_buffer,
//                                 exp_avg, step, ...), only for parameters that have state
// Values are doubles whatever T is (float widens exactly, and a learning rate must come back
// bit for bit). load_state_dict() maps the saved positions to this optimizer's parameters in
// order, group by group, as PyTorch does: the group count and each group's size must match,
// and each buffer must have its parameter's shape, or nothing is loaded and a ValueError /
// ShapeError beginning "<name>: load_state_dict:" says what differs. The hyperparameters come
// from the saved state, as in PyTorch. Parameter names are not involved: reordering the
// parameters (or the model's registration order) between save and load reorders the state too.

/// One parameter group at construction: parameters and, optionally, their own options (the
/// optimizer's defaults otherwise). Start from the defaults to override one option:
///   {biases, SGDOptions(defaults).weight_decay(0)}.
template <class T, class Options>
struct ParamGroup {
    ParamGroup(std::vector<Tensor<T>> params_in) : params(std::move(params_in)) {}  // NOLINT
    ParamGroup(std::vector<Tensor<T>> params_in, Options options_in)
        : params(std::move(params_in)), options(std::move(options_in)) {}

    std::vector<Tensor<T>> params;
    std::optional<Options> options;
};

namespace detail {

/// Reads a state dict for load_state_dict: every read is checked (presence, size, shape) and
/// remembered, so that finish() can refuse keys nobody read. Errors begin "<name>:
/// load_state_dict:".
template <class T>
class StateReader {
public:
    using StateDict = std::map<std::string, xt::xarray<double>>;

    StateReader(const char* name, const StateDict& state, std::vector<std::string> saved_keys,
                const std::vector<Tensor<T>>& params)
        : name_(name), state_(state), saved_ids_(std::move(saved_keys)), params_(params) {}

    /// Whether `key` is present.
    bool has(const std::string& key) const { return state_.count(key) > 0; }
    /// The one value stored at `key` (a 0-d or one-element array).
    double scalar(const std::string& key);
    /// The hyperparameter `what` of group g.
    double group(std::size_t g, const char* what) {
        return scalar(fmt::format("param_groups.{}.{}", g, what));
    }
    /// Whether parameter i (position in this optimizer) has saved state `what`.
    bool has_state(std::size_t i, const char* what) const { return has(state_key(i, what)); }
    /// The saved buffer `what` of parameter i, checked to have the parameter's shape.
    xt::xarray<T> buffer(std::size_t i, const char* what);
    /// The saved array `what` of parameter i, checked to have shape `shape`.
    xt::xarray<T> array(std::size_t i, const char* what, const std::vector<std::size_t>& shape);
    /// The length of the saved 1-D array `what` of parameter i.
    std::size_t length(std::size_t i, const char* what);
    /// The saved scalar `what` of parameter i, checked to be a whole number >= 0.
    std::int64_t count(std::size_t i, const char* what);
    /// Marks `key` read (it must be present).
    void touch(const std::string& key) { at(key); }
    /// Throws ValueError listing the keys no read asked for.
    void finish() const;
    /// The key of parameter i's state `what`: "state.<saved position>.<what>".
    std::string state_key(std::size_t i, const char* what) const {
        return fmt::format("state.{}.{}", saved_ids_[i], what);
    }
    const char* name() const { return name_; }

private:
    const xt::xarray<double>& at(const std::string& key);

    const char* name_;
    const StateDict& state_;
    std::vector<std::string> saved_ids_;  // the saved position of parameter i, as text
    const std::vector<Tensor<T>>& params_;
    std::set<std::string> read_;
};

/// A 0-d array holding v.
xt::xarray<double> scalar_array(double v);
/// The elements of `a` widened to double, same shape.
template <class T>
xt::xarray<double> widen(const xt::xarray<T>& a);

}  // namespace detail

/// Base of every optimizer: the parameter groups (each parameter a leaf of any shape) and their
/// learning rates. `step()` updates every parameter that has a gradient; `zero_grad()` drops
/// every gradient. See Note [parameter groups] and Note [optimizer state dict].
template <class T = float>
class Optimizer {
public:
    using value_type = T;
    using Closure = std::function<Tensor<T>()>;
    /// Name -> array, as Module::state_dict; saved as .npz (Note [optimizer state dict]).
    using StateDict = std::map<std::string, xt::xarray<double>>;

    virtual ~Optimizer() = default;

    /// One update of every parameter that has a gradient (see Note [optimizer updates]).
    virtual void step() = 0;

    /// Calls `closure` (which zeroes the grads, computes the loss, calls backward and returns
    /// the loss) with grad mode on, then `step()`; returns the loss. L-BFGS overrides it to
    /// evaluate the closure as often as its line search needs.
    virtual T step(const Closure& closure) {
        Tensor<T> loss;
        {
            GradModeGuard grad_on(true);
            loss = closure();
        }
        step();
        return loss.item();
    }

    /// Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
    void zero_grad() {
        for (const auto& p : params_)
            p.zero_grad();
    }

    /// The learning rate of the first group (of the only one, unless groups were given).
    double lr() const { return lrs_[0]; }
    /// Sets every group's learning rate to `lr` >= 0; throws ValueError naming the optimizer
    /// otherwise.
    void set_lr(double lr) {
        check_lr(lr);
        for (auto& v : lrs_)
            v = lr;
    }

    /// Number of parameter groups (1 unless groups were given).
    std::size_t num_groups() const { return lrs_.size(); }
    /// The learning rate of group g (< num_groups()).
    double group_lr(std::size_t g) const { return lrs_.at(check_group(g)); }
    /// Sets the learning rate of group g to lr >= 0 (schedules use it).
    void set_group_lr(std::size_t g, double lr) {
        check_lr(lr);
        lrs_.at(check_group(g)) = lr;
    }
    /// The parameters of group g, in the order given.
    std::vector<Tensor<T>> group_params(std::size_t g) const {
        check_group(g);
        return {params_.begin() + std::ptrdiff_t(begin_[g]),
                params_.begin() + std::ptrdiff_t(begin_[g + 1])};
    }
    /// The learning rate group g had when the first schedule was attached (PyTorch's
    /// initial_lr; schedules read their base_lr from it); empty before that.
    std::optional<double> initial_lr(std::size_t g) const {
        return initial_lrs_.at(check_group(g));
    }
    void set_initial_lr(std::size_t g, double lr) {
        check_lr(lr);
        initial_lrs_.at(check_group(g)) = lr;
    }

    /// Whether the optimizer has a momentum a schedule may cycle (OneCycleLR): SGD's and
    /// RMSprop's momentum, Adam's and AdamW's beta1.
    virtual bool has_momentum() const { return false; }
    /// Group g's momentum (beta1 for Adam and AdamW); Error when has_momentum() is false.
    virtual double group_momentum(std::size_t g) const {
        check_group(g);
        throw Error(fmt::format("{}: this optimizer has no momentum", name_));
    }
    /// Sets group g's momentum (beta1 for Adam and AdamW), checked as the option is.
    virtual void set_group_momentum(std::size_t g, double /*momentum*/) { group_momentum(g); }

    /// The parameters of every group, in order (their positions key the state).
    const std::vector<Tensor<T>>& params() const { return params_; }
    /// Lowercase name used in error messages ("sgd", "adam").
    const char* name() const { return name_; }

    /// The optimizer's hyperparameters and state (Note [optimizer state dict]).
    StateDict state_dict() const;
    /// Restores what state_dict() returned, to an optimizer over the same number of groups of
    /// the same sizes and shapes; on any mismatch throws ValueError / ShapeError and changes
    /// nothing (Note [optimizer state dict]).
    void load_state_dict(const StateDict& state);
    /// Writes state_dict() to `path` as .npz (atomic, as Module::save).
    void save(const std::string& path) const;
    /// Reads a file save() wrote and loads it with load_state_dict().
    void load(const std::string& path);

protected:
    /// One group per element of `groups`, with learning rates `lrs`; checks that every
    /// parameter is a defined leaf, in one group only, and that every lr >= 0.
    Optimizer(const char* name, std::vector<std::vector<Tensor<T>>> groups,
              std::vector<double> lrs);

    /// The group params and learning rates of `groups`, the options of a group without its
    /// own being `defaults`.
    template <class Options>
    static std::vector<std::vector<Tensor<T>>> params_of(
        const std::vector<ParamGroup<T, Options>>& groups) {
        std::vector<std::vector<Tensor<T>>> out;
        for (const auto& g : groups)
            out.push_back(g.params);
        return out;
    }
    template <class Options>
    static std::vector<Options> options_of(const std::vector<ParamGroup<T, Options>>& groups,
                                           const Options& defaults) {
        std::vector<Options> out;
        for (const auto& g : groups)
            out.push_back(g.options ? *g.options : defaults);
        return out;
    }
    template <class Options>
    static std::vector<double> lrs_of(const std::vector<ParamGroup<T, Options>>& groups,
                                      const Options& defaults) {
        std::vector<double> out;
        for (const auto& o : options_of(groups, defaults))
            out.push_back(o.lr());
        return out;
    }

    /// add_param_group's shared part: appends a group of `params` with learning rate `lr`,
    /// checked as the constructor checks (defined leaves, lr >= 0) and, as PyTorch, refusing a
    /// parameter that is already in a group (ValueError "<name>: add_param_group: some
    /// parameters appear in more than one parameter group; ..."). Changes nothing when it throws;
    /// the caller checks its options first and appends its per-group and per-parameter state
    /// after.
    void append_group(std::vector<Tensor<T>> params, double lr);

    /// Parameters [group_begin(g), group_begin(g + 1)) form group g.
    std::size_t group_begin(std::size_t g) const { return begin_[g]; }

    /// Writes the hyperparameters but lr ("param_groups.<g>.<option>") and the per-parameter
    /// state ("state.<i>.<buffer>") into `out`.
    virtual void save_state(StateDict& out) const = 0;
    /// Reads what save_state wrote through `in`, checking everything, and returns the function
    /// that installs it; it changes nothing itself (the caller first checks for unread keys).
    virtual std::function<void()> load_state(detail::StateReader<T>& in) = 0;

    /// The gradient of parameter `i`, checked to have the parameter's size; undefined when the
    /// parameter has none (the caller skips it).
    Tensor<T> grad_of(std::size_t i) const {
        Tensor<T> g = params_[i].grad();
        if (g.defined() && g.size() != params_[i].size()) {
            throw ShapeError(fmt::format(
                "{}: gradient of parameter {} must have the parameter's shape; got param={}, "
                "grad={}",
                name_, i, shape_str(params_[i].shape()), shape_str(g.shape())));
        }
        return g;
    }

    /// A new state buffer of parameter `i`'s shape filled with `v` (allocated on first use).
    xt::xarray<T> state_like(std::size_t i, T v = T(0)) const {
        xt::xarray<T> buffer = xt::xarray<T>::from_shape(params_[i].shape());
        buffer.fill(v);
        return buffer;
    }

    /// Throws ValueError "name: what must be >= 0; got what=v" unless v >= 0 (NaN fails); with
    /// several groups the message ends with the group: "... (group 1)".
    void check_non_negative(const char* what, double v, std::size_t group = 0) const {
        if (!(v >= 0)) {
            throw ValueError(fmt::format("{}: {} must be >= 0; got {}={}{}", name_, what, what, v,
                                         group_suffix(group)));
        }
    }
    /// "" with one group, " (group g)" with several.
    std::string group_suffix(std::size_t g) const {
        return lrs_.size() > 1 ? fmt::format(" (group {})", g) : std::string();
    }

    std::vector<Tensor<T>> params_;

private:
    void check_lr(double lr) const { check_non_negative("lr", lr); }
    std::size_t check_group(std::size_t g) const {
        if (g >= lrs_.size()) {
            throw ValueError(fmt::format("{}: group {} is out of range; the optimizer has {}",
                                         name_, g, lrs_.size()));
        }
        return g;
    }

    std::vector<std::size_t> begin_;  // group g is params_[begin_[g], begin_[g + 1])
    std::vector<double> lrs_;
    std::vector<std::optional<double>> initial_lrs_;
    const char* name_;
};

}  // namespace xgrad::optim
