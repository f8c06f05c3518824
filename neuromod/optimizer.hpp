#pragma once
// Optimizers: SGD, momentum SGD, Adam and RMSprop with weight decay and gradient clipping, with
// PyTorch's update rules (torch.optim, default arguments unless set here), so that a run can be
// compared with a PyTorch one step for step.
//
// A network applies them itself (Network::step) to every parameter that is trainable under its
// gradient mode, is not in a frozen context, and received a gradient since zero_grad(); this header
// also exposes the per-array update so that other code (and a CUDA backend's tests) can use the
// same rule.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace locus::neuromod {

enum class OptimizerKind { kSgd, kMomentum, kAdam, kRmsprop };

std::string_view to_string(OptimizerKind kind);
// "sgd", "momentum", "adam", "rmsprop"; throws InvalidArgumentError listing them.
OptimizerKind optimizer_kind_from_string(std::string_view name);

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  float learning_rate = 0.01f;
  float momentum = 0.9f;      // kMomentum: torch.optim.SGD(momentum=...), dampening 0
  bool nesterov = false;      // kMomentum only
  float beta1 = 0.9f;         // kAdam
  float beta2 = 0.999f;       // kAdam
  float epsilon = 1e-8f;      // kAdam, kRmsprop (added to the root, as PyTorch does)
  float rms_alpha = 0.99f;    // kRmsprop: smoothing constant of the squared-gradient average
  float weight_decay = 0.0f;  // L2 added to the gradient (PyTorch's weight_decay) ...
  bool decoupled_weight_decay = false;  // ... or p -= lr * wd * p before the step (AdamW)
  float clip_grad_norm = 0.0f;  // > 0: scale all gradients so their global L2 norm is at most this
  float clip_grad_value =
      0.0f;  // > 0: clamp each gradient element to [-v, v] (after norm clipping)

  // Throws InvalidArgumentError naming the first field out of range.
  void validate() const;
  // How many state arrays of the parameter's size the rule keeps: 0 (SGD), 1 (momentum, RMSprop) or
  // 2 (Adam).
  std::size_t state_arrays() const;
};

// What the optimizer keeps between steps for one parameter tensor (one context's instance of a
// per-context parameter): Network::read_optimizer_state returns it, write_optimizer_state and
// checkpoints restore it, so that a resumed run continues exactly as if it had not stopped.
struct OptimizerState {
  // Updates this tensor has received: Adam's bias correction and momentum's first step read it.
  // 0 with zero arrays is the fresh state.
  std::int64_t steps = 0;
  // OptimizerConfig::state_arrays() arrays of the tensor's size, as apply_update names them:
  // `first` (momentum buffer, Adam's first moment, RMSprop's squared-gradient average), then
  // `second` (Adam's second moment); empty where the rule keeps fewer.
  std::vector<float> first, second;

  bool operator==(const OptimizerState&) const = default;
};

// One instance's OptimizerState, as every backend reads it from its own memory: `steps`, and of a
// block's `first` and `second` arrays the ones `config` keeps, each through read(array).
template <typename Array, typename Read>
OptimizerState read_state(const OptimizerConfig& config, std::int64_t steps, const Array& first,
                          const Array& second, const Read& read) {
  OptimizerState state;
  state.steps = steps;
  const std::size_t arrays = config.state_arrays();
  if (arrays >= 1) state.first = read(first);
  if (arrays >= 2) state.second = read(second);
  return state;
}

// One update of `value` from `gradient` (times gradient_scale, the clipping factor; value clipping
// is applied here too). `first` and `second` are the state arrays (each either empty or the size of
// `value`, as state_arrays() says), zero before the first step; `step` is the 1-based count of
// updates this array has received, including this one (Adam's bias correction).
void apply_update(const OptimizerConfig& config, std::span<float> value,
                  std::span<const float> gradient, float gradient_scale, std::span<float> first,
                  std::span<float> second, std::int64_t step);

// The factor clip_grad_norm asks for, given the global gradient norm (PyTorch's clip_grad_norm_:
// max_norm / (norm + 1e-6) when the norm exceeds max_norm, else 1).
float clip_factor(const OptimizerConfig& config, double global_norm);

}  // namespace locus::neuromod
