#pragma once
// HostNetwork: the Network implementation whose parameters live in host memory. The CPU backend and
// the reference backend are both HostNetworks; they differ only in the Kernels they run
// (kernels.hpp), so the composition (forward, backward, contexts, optimizer, checks) is written
// once and the reference run checks the fast kernels inside real networks. Use make_network() to
// get one.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "neuromod/context_table.hpp"
#include "neuromod/kernels.hpp"
#include "neuromod/network.hpp"
#include "neuromod/recurrent_layer.hpp"
#include "neuromod/weight_gains.hpp"

namespace locus::neuromod {

class HostNetwork final : public Network {
 public:
  HostNetwork(const NetworkSpec& spec, Backend backend);

  const NetworkSpec& spec() const override { return spec_; }
  Backend backend() const override { return backend_; }

  using Network::add_context;
  ContextId add_context(std::size_t weight_set) override;
  std::size_t weight_set(ContextId context) const override;
  ContextId clone_context(ContextId source) override;
  std::size_t context_count() const override { return contexts_.size(); }
  void select_context(ContextId context) override { contexts_.select(context); }
  ContextId selected_context() const override { return contexts_.selected(); }
  void set_frozen(ContextId context, bool frozen) override {
    contexts_.set_frozen(context, frozen);
  }
  bool is_frozen(ContextId context) const override { return contexts_.is_frozen(context); }

  const std::vector<Matrix>& forward(const Matrix& inputs,
                                     std::span<const ContextId> context_ids = {}) override;
  const std::vector<Matrix>& forward_sequence(
      const Matrix& inputs, std::size_t batch, std::span<const ContextId> context_ids,
      const RecurrentState* initial_state, std::span<const std::uint8_t> episode_starts) override;
  const RecurrentState& final_state() const override { return final_state_; }
  using Network::backward;
  void backward(std::span<const Matrix> head_gradients) override;
  void zero_grad() override;
  void set_gradient_mode(GradientMode mode) override { mode_ = mode; }
  GradientMode gradient_mode() const override { return mode_; }

  void set_optimizer(const OptimizerConfig& config) override;
  const OptimizerConfig& optimizer() const override { return optimizer_; }
  StepStats step() override;

  void set_weight_gain(std::size_t slot, float gain) override { weight_gains_.set(slot, gain); }
  float weight_gain(std::size_t slot) const override { return weight_gains_.get(slot); }
  void set_matmul_precision(MatmulPrecision precision) override;
  MatmulPrecision matmul_precision() const override { return precision_; }

  std::vector<ParameterInfo> parameters() const override;
  std::vector<float> read_parameter(std::string_view name, ContextId context) const override;
  void write_parameter(std::string_view name, ContextId context,
                       std::span<const float> values) override;
  std::vector<float> read_gradient(std::string_view name, ContextId context) const override;
  void add_to_gradient(std::string_view name, ContextId context,
                       std::span<const float> values) override;
  OptimizerState read_optimizer_state(std::string_view name, ContextId context) const override;
  void write_optimizer_state(std::string_view name, ContextId context,
                             const OptimizerState& state) override;
  std::vector<std::int32_t> connectivity(std::size_t layer) const override;
  std::uint64_t structure_digest() const override { return structure_digest_; }
  void set_check_finite(bool enabled) override { check_finite_ = enabled; }
  std::uint64_t noise_position() const override { return noise_draws_; }
  void set_noise_position(std::uint64_t position) override { noise_draws_ = position; }

 private:
  // One parameter tensor family: a shared tensor, or one tensor per context (instance = context).
  struct Block {
    std::string name;
    ParameterKind kind;
    std::size_t index;
    bool per_context;
    bool trainable;  // learned at all (fixed random weights are not)
    std::vector<std::size_t> shape;
    std::size_t width;                              // elements per instance
    std::vector<float> value, grad, first, second;  // instances back to back
    std::vector<std::int64_t> steps;                // optimizer updates per instance
    std::vector<char> has_grad;                     // instance received a gradient since zero_grad
    std::size_t instances() const { return steps.size(); }
    float* value_of(std::size_t i) { return value.data() + i * width; }
    float* grad_of(std::size_t i) { return grad.data() + i * width; }
  };
  static constexpr int kNoBlock = -1;
  struct LayerBlocks {
    int weight = kNoBlock, recurrent_weight = kNoBlock, gain = kNoBlock, bias = kNoBlock;
    std::vector<std::int32_t> sparse_index;  // (units, k) for sparse layers
  };
  struct HeadBlocks {
    int weight = kNoBlock, bias = kNoBlock, output_gain = kNoBlock;
  };

  int add_block(std::string name, ParameterKind kind, std::size_t index, bool per_context,
                bool trainable, std::vector<std::size_t> shape);
  void generate_fixed_structure();
  void initialize_context_instance(Block& block, std::size_t context);
  bool learns(const Block& block) const;
  const Block& find_block(std::string_view name, ContextId context, std::size_t& instance) const;
  Block& find_block(std::string_view name, ContextId context, std::size_t& instance) {
    return const_cast<Block&>(std::as_const(*this).find_block(name, context, instance));
  }
  void check_values(const float* data, std::size_t n, const std::string& where) const;
  ModulationArgs modulation_args(std::size_t layer) const;
  // The values of block `block`, or null for kNoBlock.
  const float* block_value(int block) const {
    return block == kNoBlock ? nullptr : blocks_[std::size_t(block)].value.data();
  }
  // Rows of layer l's weight: units, times the gates of a recurrent layer.
  std::size_t layer_width(std::size_t l) const;
  // forward and forward_sequence after their checks: the rows' contexts, then every layer and head.
  const std::vector<Matrix>& run_forward(const Matrix& inputs,
                                         std::span<const ContextId> context_ids);
  // Layer l's linear part, z = s_w * x W^T (rows, layer_width(l)), into `z`.
  void layer_linear(std::size_t l, const float* x, std::size_t fan_in, float* z);
  // The recurrence of layer l over the current sequence batch (its trace's input sums filled).
  void recurrent_layer_forward(std::size_t l);
  RecurrentLayerArgs recurrent_args(std::size_t l) const;
  // Layer l's backward from dh (feature_grad_) to the gradient at its linear part (layer_grad_).
  void layer_backward_to_linear(std::size_t l);
  void head_forward(std::size_t head, const float* features);
  void head_backward(std::size_t head, const Matrix& grad, const float* features, float* dfeatures);
  // A fixed dense weight rounded and packed for bf16_product (kBfloat16 only): the operand of the
  // forward product x W^T and of the backward product dz W, one per weight set.
  struct PackedWeight {
    std::vector<Bf16Panels> forward, backward;
  };
  // The packed weight of weighted slot `slot` (layers, then heads), or null when its products run
  // in float32 (float32 precision, or a sparse or trainable weight).
  const PackedWeight* packed(std::size_t slot) const;
  // Rows of the last batch grouped by context (per-context readouts).
  const std::vector<std::vector<std::size_t>>& rows_by_context();
  // Runs product(set, a, rows, c, accumulate) for each weight set over its rows of the last batch:
  // `a` holds those rows of a_all (rows, a_cols), and the product writes (or adds, if accumulate)
  // their results into `c` (rows, c_cols), which lands in the same rows of c_all. A set whose rows
  // are consecutive runs in place; the others are gathered and scattered. One call for one set.
  template <typename Product>
  void for_each_weight_set(const float* a_all, std::size_t a_cols, float* c_all, std::size_t c_cols,
                           bool accumulate, const Product& product);
  // Elements of one weight set's copy of a fixed weight block.
  std::size_t set_width(const Block& block) const { return block.width / spec_.weight_sets; }

  NetworkSpec spec_;
  Backend backend_;
  const Kernels& kernels_;
  std::vector<Block> blocks_;
  std::vector<LayerBlocks> layers_;
  std::vector<HeadBlocks> heads_;
  ContextTable contexts_;
  GradientMode mode_ = GradientMode::kAllTrainable;
  OptimizerConfig optimizer_;
  WeightGains weight_gains_;
  std::uint64_t structure_digest_ = 0;
  bool check_finite_ = true;
  MatmulPrecision precision_ = MatmulPrecision::kFloat32;
  std::vector<std::unique_ptr<PackedWeight>> packed_;  // per weighted slot; see packed()

  // The last forward pass.
  std::size_t rows_ = 0;
  bool has_forward_ = false;
  std::vector<std::int32_t> row_context_;         // (rows)
  std::vector<char> context_in_batch_;            // (contexts)
  std::vector<std::vector<std::size_t>> groups_;  // rows per context, built on demand
  bool groups_valid_ = false;
  std::vector<std::size_t> set_order_;    // (rows): row indices sorted by weight set, stably
  std::vector<std::size_t> set_offsets_;  // (sets + 1): each set's range in set_order_
  std::vector<std::size_t> set_next_;     // (sets): the counting sort's next slot per set
  std::vector<float> set_gathered_, set_result_;  // for_each_weight_set's gathered rows
  Matrix input_;                                  // (rows, input_dim), kept only when needed
  const float* input_data_ = nullptr;
  std::vector<Matrix> linear_, saved_, hidden_;  // per layer (rows, units)
  std::vector<Matrix> head_linear_;              // per head (rows, units): s_w * h R^T
  std::vector<Matrix> outputs_;                  // per head (rows, units)
  Matrix feature_grad_, layer_grad_, scratch_;

  // The sequence batch of the last forward: forward() runs one step of `rows` sequences.
  std::size_t steps_ = 1, batch_ = 0;
  std::vector<std::uint8_t> episode_starts_;       // (rows) or empty
  const RecurrentState* initial_state_ = nullptr;  // during forward_sequence only
  std::vector<RecurrentTrace> traces_;             // per layer (used by recurrent ones)
  RecurrentState final_state_;
  std::uint64_t noise_draws_ = 0;  // forward passes that drew recurrent noise: the noise stream
};

}  // namespace locus::neuromod
