#pragma once
// Network: the backend-neutral interface of a modulated network. Agents, the continual-learning
// harness, checkpoints and the tests use only this interface; the CPU backend (BLAS + TBB), the
// plain reference backend (double accumulation, for tests) and the CUDA backend implement it.
//
// Data crosses the interface as host arrays (xtensor, row-major): inputs (batch, input_dim) with
// one context id per row, head outputs (batch, head units), and gradients of a loss with respect to
// those outputs. A backend may keep its parameters, activations, gradients and optimizer state
// wherever it likes (a CUDA backend on the device); parameters cross the interface only through
// read_parameter / write_parameter, and optimizer state through read_optimizer_state /
// write_optimizer_state, which checkpoints and tests use.
//
// A training step:
//   const auto& out = net.forward(inputs, context_ids);     // keeps what backward needs
//   Matrix grad;  double loss = softmax_cross_entropy(out[0], labels, &grad);   (losses.hpp)
//   net.zero_grad();  net.backward(grad);  net.step();    // optimizer set by set_optimizer
// (a network with several heads takes one gradient per head: backward(std::span<const Matrix>)).
//
// Weight sets (NetworkSpec::weight_sets): a network may hold several independent draws of its
// fixed weights, each context running on one of them: many agents with their own random networks
// in one object, whose mixed batches run as one batched product per layer. Rows are grouped by
// set inside each product and the results returned in the caller's row order.
//
// Contexts: each holds one task's learned parameters (gains, biases, output gains, per-context
// readouts). add_context() creates one (initialized from the spec seed and its id, so the same
// network always initializes context k the same way); select_context() sets the context used by
// rows without an explicit id; a frozen context is never changed by step(). Rows of one batch may
// belong to different contexts. step() updates only contexts that received a gradient since
// zero_grad(), so training context B cannot change context A (zero interference), whatever the
// optimizer's momentum or weight decay, as long as no shared weight learns (kContextOnly mode, or
// a spec without trainable shared weights).
//
// Not thread-safe: one thread drives a network at a time. The CPU backend parallelizes inside each
// call with TBB (in the caller's task_arena, so tbb::task_arena or tbb::global_control limit it);
// results are bit-identical for any number of threads. The first CPU network sets OpenBLAS to one
// thread for the whole process (TBB supplies the parallelism; see cpu_kernels.cpp).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "neuromod/optimizer.hpp"
#include "neuromod/spec.hpp"

namespace locus::neuromod {

using Matrix = xt::xtensor<float, 2>;  // (rows, cols), row-major
using ContextId = std::int32_t;
// The state recurrent layers carry between calls of Network::forward_sequence: for each recurrent
// layer in order, its hidden state (batch, units), then, for an LSTM layer, its cell state
// (batch, units). Empty for a feed-forward network.
using RecurrentState = std::vector<Matrix>;
// The context of parameters shared by all contexts (fixed or trainable shared weights).
inline constexpr ContextId kSharedContext = -1;

enum class Backend {
  kCpu,        // OpenBLAS sgemm and fused TBB kernels
  kReference,  // plain loops with double accumulation: the oracle for the tests
  kCuda,       // cuBLAS and fused CUDA kernels, state in GPU memory (neuromod/cuda/)
};
std::string_view to_string(Backend backend);
// "cpu", "reference", "cuda"; throws InvalidArgumentError listing them.
Backend backend_from_string(std::string_view name);
// True when locus was built with CUDA and a CUDA device is usable.
bool cuda_available();
// The device's name and compute capability, or why none is usable (built without CUDA, no device,
// driver too old).
std::string cuda_status();
// The CUDA devices this process sees (0 without CUDA or a device).
int cuda_device_count();
// Makes `device` (in [0, cuda_device_count())) the calling thread's CUDA device, where the CUDA
// networks it creates live: an MPI job's ranks on one node spread over its GPUs this way.
void use_cuda_device(int device);

// The arithmetic of the matrix products (Network::set_matmul_precision).
enum class MatmulPrecision {
  kFloat32,   // float32 operands and sums: the default, on every backend
  kBfloat16,  // cpu and reference: the products with fixed dense weights take bfloat16 operands
              // (the weights rounded once, the activations on each call) and sum in float32, about
              // twice the float32 GEMM rate on AVX512-BF16 CPUs; trainable weights and sparse
              // layers stay float32 (a fully trainable network is unchanged). Results are
              // deterministic on one CPU model; the instruction's sums may differ across vendors
  kTf32,      // cuda: TF32 tensor-core products (cuBLAS), float32 storage
};
std::string_view to_string(MatmulPrecision precision);
// "float32", "bfloat16", "tf32"; throws InvalidArgumentError listing them.
MatmulPrecision matmul_precision_from_string(std::string_view name);

enum class GradientMode {
  kContextOnly,   // only per-context parameters learn (the modulated setting)
  kAllTrainable,  // also every shared weight marked trainable in the spec (baseline, hybrid)
};

enum class ParameterKind {
  kLayerWeight,  // (units, fan_in); sparse layers: (units, sparse_k) connection values; with
                 // several weight sets, (weight_sets, units, fan_in); recurrent layers:
                 // (gates * units, fan_in)
  kLayerRecurrentWeight,  // recurrent layers: U (gates * units, units)
  kLayerGain,             // (gates * units), per context
  kLayerBias,             // (gates * units), per context
  kHeadWeight,      // (units, feature_dim), shared or per context; a fixed readout with several
                    // weight sets: (weight_sets, units, feature_dim)
  kHeadBias,        // (units), shared or per context
  kHeadOutputGain,  // (1), per context
};
std::string_view to_string(ParameterKind kind);

struct ParameterInfo {
  std::string name;  // "layer0.weight", "layer1.gain", "head.policy.bias", ...
  ParameterKind kind;
  std::size_t index;  // the layer or head it belongs to
  ContextId context;  // kSharedContext, or the context that owns it
  std::vector<std::size_t> shape;
  bool trainable;  // learned by step() in kAllTrainable mode (per-context ones in both modes)
  std::size_t size() const;
};

// What one step() did.
struct StepStats {
  double gradient_norm = 0.0;  // global L2 norm of the gradients it used, before clipping
  float clip_factor = 1.0f;    // the factor applied by clip_grad_norm
  std::size_t updated_tensors = 0;
};

// Bytes of learned state per context against the whole network (reported by the reproduction).
struct MemoryReport {
  std::size_t context_bytes = 0;  // float32 parameters owned by one context
  std::size_t trainable_shared_bytes = 0;
  std::size_t fixed_bytes = 0;  // fixed weights as held in memory (regenerated, not saved)
  std::size_t dense_equivalent_bytes = 0;  // the same shapes as an ordinary MLP, all float32
};

class Network {
 public:
  virtual ~Network() = default;

  virtual const NetworkSpec& spec() const = 0;
  virtual Backend backend() const = 0;

  // --- contexts ---------------------------------------------------------------------------------
  // A new context on the fixed weights of `weight_set` (< spec().weight_sets; set 0 in a network
  // of one set). Its rows run through that set's weights; its parameters start as add_context
  // always starts them (from the seed and the context's id, whatever its set).
  virtual ContextId add_context(std::size_t weight_set) = 0;
  ContextId add_context() { return add_context(0); }
  // The weight set of `context`.
  virtual std::size_t weight_set(ContextId context) const = 0;
  // A new context whose parameters are a copy of `source`'s, on the same weight set (optimizer
  // state starts fresh).
  virtual ContextId clone_context(ContextId source) = 0;
  virtual std::size_t context_count() const = 0;
  virtual void select_context(ContextId context) = 0;
  virtual ContextId selected_context() const = 0;
  virtual void set_frozen(ContextId context, bool frozen) = 0;
  virtual bool is_frozen(ContextId context) const = 0;

  // --- compute ----------------------------------------------------------------------------------
  // One output matrix (batch, head units) per head, valid until the next forward. context_ids has
  // one entry per row, or is empty (every row uses selected_context()). A recurrent network
  // (spec().is_recurrent()) refuses it: its rows are steps of sequences (forward_sequence).
  virtual const std::vector<Matrix>& forward(const Matrix& inputs,
                                             std::span<const ContextId> context_ids = {}) = 0;
  // Accumulates gradients from dLoss/dOutput of the last forward, one matrix per head (an empty
  // matrix for a head without loss).
  virtual void backward(std::span<const Matrix> head_gradients) = 0;
  // The same for a network with a single head.
  void backward(const Matrix& head_gradient);

  // --- sequences --------------------------------------------------------------------------------
  // Runs `batch` sequences of steps = inputs.rows / batch steps. inputs (steps * batch, input_dim)
  // are time-major: row t * batch + b is sequence b at step t. context_ids: empty (every row uses
  // selected_context()), one per sequence (batch entries), or one per row. initial_state: the
  // state before step 0, shaped as zero_state(batch) (null: zeros). episode_starts: empty, or one
  // flag per row; a non-zero flag zeroes that sequence's state before that step (an episode or a
  // trial starts there) and stops the gradient there. Returns one output (steps * batch, head
  // units) per head, in the inputs' row order, valid until the next forward; final_state() is the
  // state after the last step. backward() then backpropagates through all those steps (truncated
  // BPTT: the caller sets the window by the steps it passes; no gradient reaches initial_state).
  // A feed-forward network runs the rows as forward() does and returns an empty state.
  // Throws InvalidArgumentError naming the sizes when a shape does not match, or when the steps'
  // activations kept for backward would not fit in the available memory.
  virtual const std::vector<Matrix>& forward_sequence(
      const Matrix& inputs, std::size_t batch, std::span<const ContextId> context_ids = {},
      const RecurrentState* initial_state = nullptr,
      std::span<const std::uint8_t> episode_starts = {}) = 0;
  // The recurrent state after the last forward_sequence (empty before one, and for feed-forward
  // networks).
  virtual const RecurrentState& final_state() const = 0;
  // The state of `batch` sequences before their first step: zeros, one matrix per state tensor.
  RecurrentState zero_state(std::size_t batch) const;
  // The position of the recurrent noise stream (LayerSpec::recurrent_noise): every noisy layer
  // pass draws the next noise. A caller that runs forward passes which must not change training
  // (an evaluation) saves it and puts it back, so the training passes after see the same noise.
  virtual std::uint64_t noise_position() const = 0;
  virtual void set_noise_position(std::uint64_t position) = 0;
  virtual void zero_grad() = 0;
  virtual void set_gradient_mode(GradientMode mode) = 0;
  virtual GradientMode gradient_mode() const = 0;

  // --- learning ---------------------------------------------------------------------------------
  // Sets the optimizer (and discards its state if the kind changes).
  virtual void set_optimizer(const OptimizerConfig& config) = 0;
  virtual const OptimizerConfig& optimizer() const = 0;
  virtual StepStats step() = 0;

  // The weight gain s_w of weighted layer `slot` (layers 0..L-1, then heads L..L+H-1): effective
  // weights s_w * W in the forward pass (NGM, noradrenaline). 1 by default.
  virtual void set_weight_gain(std::size_t slot, float gain) = 0;
  virtual float weight_gain(std::size_t slot) const = 0;
  std::size_t weight_gain_slots() const;

  // The arithmetic of the products (float32 by default). Throws InvalidArgumentError, naming the
  // precisions it has, when the backend or this CPU lacks the one asked for (bfloat16 on a CPU
  // without AVX512-BF16, tf32 off CUDA, bfloat16 on CUDA).
  // The precision is a setting of this object, not of the model: checkpoints do not store it
  // (load_checkpoint returns a float32 network).
  virtual void set_matmul_precision(MatmulPrecision precision) = 0;
  virtual MatmulPrecision matmul_precision() const = 0;

  // --- parameters -------------------------------------------------------------------------------
  // Every parameter tensor, shared ones first, then each context's in order.
  virtual std::vector<ParameterInfo> parameters() const = 0;
  virtual std::vector<float> read_parameter(std::string_view name,
                                            ContextId context = kSharedContext) const = 0;
  virtual void write_parameter(std::string_view name, ContextId context,
                               std::span<const float> values) = 0;
  // The gradient accumulated since zero_grad() (zeros if none).
  virtual std::vector<float> read_gradient(std::string_view name,
                                           ContextId context = kSharedContext) const = 0;
  // Adds `values` to that gradient: a penalty's gradient (EWC's, say) joins the loss's between
  // backward() and step(). Trainable parameters only, `values` of the parameter's size.
  virtual void add_to_gradient(std::string_view name, ContextId context,
                               std::span<const float> values) = 0;
  // The optimizer state step() keeps for parameter `name` (of `context` when per-context): its
  // update count and optimizer().state_arrays() arrays of the tensor's size (zeros before its
  // first update, and for fixed weights, which never update).
  virtual OptimizerState read_optimizer_state(std::string_view name,
                                              ContextId context = kSharedContext) const = 0;
  // Replaces that state, e.g. from a checkpoint. Set the optimizer first (set_optimizer discards
  // the state when the kind changes): the state must have exactly its state_arrays() arrays, each
  // of the tensor's size, finite (when checked), and steps >= 0; fixed weights take none.
  virtual void write_optimizer_state(std::string_view name, ContextId context,
                                     const OptimizerState& state) = 0;
  // The inputs each unit of sparse layer `layer` sums, (units, sparse_k) row-major, sorted per
  // unit; empty for a dense layer.
  virtual std::vector<std::int32_t> connectivity(std::size_t layer) const = 0;
  // A digest of the fixed structure (fixed weights and sparse connectivity) regenerated from the
  // seed; checkpoints store it to catch a generator that changed.
  virtual std::uint64_t structure_digest() const = 0;

  // Checks inputs, incoming gradients, computed gradients and updated parameters for NaN/inf and
  // throws NonFiniteError naming where it appeared. On by default.
  virtual void set_check_finite(bool enabled) = 0;
};

// A network for `spec` on `backend`, with one context (selected) and the default optimizer.
std::unique_ptr<Network> make_network(const NetworkSpec& spec, Backend backend = Backend::kCpu);

MemoryReport memory_report(const Network& network);

}  // namespace locus::neuromod
