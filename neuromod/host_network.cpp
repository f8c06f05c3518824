#include "neuromod/host_network.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "neuromod/cuda/cuda_network.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/multiversion.hpp"
#include "neuromod/network_checks.hpp"
#include "neuromod/random.hpp"
#include "util/hash.hpp"
#include "util/parallel.hpp"

namespace locus::neuromod {

namespace {

// Stream ids of the random generators (RandomStream's first id): one family per use, so that e.g.
// adding a head never changes a layer's weights.
constexpr std::uint64_t kLayerWeightStream = 1;
constexpr std::uint64_t kHeadWeightStream = 2;
constexpr std::uint64_t kContextHeadWeightStream = 3;
constexpr std::uint64_t kGainStream = 4;
constexpr std::uint64_t kRecurrentWeightStream = 5;  // 6: recurrent noise (recurrent_layer.cpp)

// Elements per task in the optimizer update and the gradient norm: a fixed partition, so the norm's
// summation order (and hence the clipping factor) does not depend on the thread count.
constexpr std::size_t kUpdateChunk = std::size_t{1} << 15;

// The sum of squares in double, over 8 interleaved partial sums added in order at the end: a fixed
// order (the same bits on every machine and thread count) without the single accumulator's
// dependency chain, which made the gradient norm cost as much as the optimizer's update.
LOCUS_MULTIVERSION double sum_of_squares(const float* __restrict g, std::size_t n) {
  constexpr std::size_t kLanes = 8;
  double lanes[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t k = 0; k < kLanes; ++k) lanes[k] += double(g[i + k]) * double(g[i + k]);
  }
  for (std::size_t k = 0; i < n; ++i, ++k) lanes[k] += double(g[i]) * double(g[i]);
  double total = 0.0;
  for (const double lane : lanes) total += lane;
  return total;
}

void resize(Matrix& m, std::size_t rows, std::size_t cols) {
  if (m.shape()[0] != rows || m.shape()[1] != cols) m.resize({rows, cols});
}

using checks::find_non_finite;

template <typename Body>
void parallel_chunks(std::size_t n, std::size_t chunk, const Body& body) {
  util::run_blocks((n + chunk - 1) / chunk,
                   [&](std::size_t c) { body(c * chunk, std::min(n, (c + 1) * chunk)); });
}

}  // namespace

std::string_view to_string(Backend backend) {
  switch (backend) {
    case Backend::kCpu:
      return "cpu";
    case Backend::kReference:
      return "reference";
    case Backend::kCuda:
      return "cuda";
  }
  return "unknown";
}

Backend backend_from_string(std::string_view name) {
  for (Backend b : {Backend::kCpu, Backend::kReference, Backend::kCuda}) {
    if (to_string(b) == name) return b;
  }
  throw InvalidArgumentError(
      fmt::format("unknown backend '{}'; use one of: cpu, reference, cuda", name));
}

std::string_view to_string(MatmulPrecision precision) {
  switch (precision) {
    case MatmulPrecision::kFloat32:
      return "float32";
    case MatmulPrecision::kBfloat16:
      return "bfloat16";
    case MatmulPrecision::kTf32:
      return "tf32";
  }
  return "unknown";
}

MatmulPrecision matmul_precision_from_string(std::string_view name) {
  for (MatmulPrecision p :
       {MatmulPrecision::kFloat32, MatmulPrecision::kBfloat16, MatmulPrecision::kTf32}) {
    if (to_string(p) == name) return p;
  }
  throw InvalidArgumentError(
      fmt::format("unknown matmul precision '{}'; use one of: float32, bfloat16, tf32", name));
}

std::string_view to_string(ParameterKind kind) {
  switch (kind) {
    case ParameterKind::kLayerWeight:
      return "layer_weight";
    case ParameterKind::kLayerRecurrentWeight:
      return "layer_recurrent_weight";
    case ParameterKind::kLayerGain:
      return "layer_gain";
    case ParameterKind::kLayerBias:
      return "layer_bias";
    case ParameterKind::kHeadWeight:
      return "head_weight";
    case ParameterKind::kHeadBias:
      return "head_bias";
    case ParameterKind::kHeadOutputGain:
      return "head_output_gain";
  }
  return "unknown";
}

std::size_t ParameterInfo::size() const {
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
}

std::size_t Network::weight_gain_slots() const {
  return spec().layers.size() + spec().heads.size();
}

void Network::backward(const Matrix& head_gradient) {
  if (spec().heads.size() != 1) {
    throw ShapeError(fmt::format("backward: network '{}' has {} heads; give one gradient per head",
                                 spec().name, spec().heads.size()));
  }
  backward(std::span<const Matrix>(&head_gradient, 1));
}

std::unique_ptr<Network> make_network(const NetworkSpec& spec, Backend backend) {
  if (backend == Backend::kCuda) return make_cuda_network(spec);
  return std::make_unique<HostNetwork>(spec, backend);
}

MemoryReport memory_report(const Network& network) {
  MemoryReport report;
  const NetworkSpec& spec = network.spec();
  for (const ParameterInfo& info : network.parameters()) {
    const std::size_t bytes = info.size() * sizeof(float);
    if (info.context == 0) report.context_bytes += bytes;
    if (info.context == kSharedContext) {
      (info.trainable ? report.trainable_shared_bytes : report.fixed_bytes) += bytes;
    }
  }
  std::size_t fan_in = spec.input_dim;
  for (const LayerSpec& layer : spec.layers) {
    if (layer.kind == LayerKind::kSparseBinary) {
      report.fixed_bytes += layer.units * layer.sparse_k * sizeof(std::int32_t);  // connectivity
    }
    // An ordinary layer of the same kind: per gate, input and recurrent weights and a bias.
    const std::size_t recurrent_inputs = layer.recurrence == Recurrence::kNone ? 0 : layer.units;
    report.dense_equivalent_bytes += gate_count(layer.recurrence) * layer.units *
                                     (fan_in + recurrent_inputs + 1) * sizeof(float);
    fan_in = layer.units;
  }
  for (const HeadSpec& head : spec.heads) {
    report.dense_equivalent_bytes += (head.units * fan_in + head.units) * sizeof(float);
  }
  return report;
}

HostNetwork::HostNetwork(const NetworkSpec& spec, Backend backend)
    : spec_(spec),
      backend_(backend),
      kernels_(backend == Backend::kCpu ? cpu_kernels() : reference_kernels()) {
  spec_.validate();
  const std::size_t num_layers = spec_.layers.size();
  layers_.resize(num_layers);
  heads_.resize(spec_.heads.size());
  // A shared weight holds one (units, cols) matrix per weight set: (sets, units, cols) when the
  // spec has several (only fixed weights can; validate() checks).
  auto shared_shape = [&](std::size_t units, std::size_t cols) {
    return spec_.weight_sets == 1 ? std::vector<std::size_t>{units, cols}
                                  : std::vector<std::size_t>{spec_.weight_sets, units, cols};
  };
  std::size_t fan_in = spec_.input_dim;
  for (std::size_t l = 0; l < num_layers; ++l) {
    const LayerSpec& layer = spec_.layers[l];
    const std::string prefix = fmt::format("layer{}.", l);
    const std::size_t cols = layer.kind == LayerKind::kSparseBinary ? layer.sparse_k : fan_in;
    const std::size_t width = layer_width(l);
    layers_[l].weight = add_block(prefix + "weight", ParameterKind::kLayerWeight, l, false,
                                  layer.trainable_weights, shared_shape(width, cols));
    if (layer.recurrence != Recurrence::kNone) {
      layers_[l].recurrent_weight =
          add_block(prefix + "recurrent_weight", ParameterKind::kLayerRecurrentWeight, l, false,
                    layer.trainable_weights, {width, layer.units});
    }
    if (layer.gain) {
      layers_[l].gain =
          add_block(prefix + "gain", ParameterKind::kLayerGain, l, true, true, {width});
    }
    if (layer.bias) {
      layers_[l].bias =
          add_block(prefix + "bias", ParameterKind::kLayerBias, l, true, true, {width});
    }
    fan_in = layer.units;
  }
  for (std::size_t h = 0; h < spec_.heads.size(); ++h) {
    const HeadSpec& head = spec_.heads[h];
    const std::string prefix = "head." + head.name + ".";
    const bool per_context_weights = head.weights == ReadoutWeights::kTrainablePerContext;
    heads_[h].weight = add_block(prefix + "weight", ParameterKind::kHeadWeight, h,
                                 per_context_weights, head.weights != ReadoutWeights::kFixedRandom,
                                 per_context_weights ? std::vector<std::size_t>{head.units, fan_in}
                                                     : shared_shape(head.units, fan_in));
    if (head.bias != BiasKind::kNone) {
      heads_[h].bias = add_block(prefix + "bias", ParameterKind::kHeadBias, h,
                                 head.bias == BiasKind::kPerContext, true, {head.units});
    }
    if (head.output_gain) {
      heads_[h].output_gain =
          add_block(prefix + "output_gain", ParameterKind::kHeadOutputGain, h, true, true, {1});
    }
  }
  weight_gains_.reset(num_layers + spec_.heads.size());
  generate_fixed_structure();
  linear_.resize(num_layers);
  saved_.resize(num_layers);
  hidden_.resize(num_layers);
  traces_.resize(num_layers);
  head_linear_.resize(spec_.heads.size());
  outputs_.resize(spec_.heads.size());
  add_context();
}

int HostNetwork::add_block(std::string name, ParameterKind kind, std::size_t index,
                           bool per_context, bool trainable, std::vector<std::size_t> shape) {
  Block block;
  block.name = std::move(name);
  block.kind = kind;
  block.index = index;
  block.per_context = per_context;
  block.trainable = trainable;
  block.width = std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
  block.shape = std::move(shape);
  if (!per_context) {
    block.value.assign(block.width, 0.0f);
    block.grad.assign(block.width, 0.0f);
    block.steps.assign(1, 0);
    block.has_grad.assign(1, 0);
  }
  blocks_.push_back(std::move(block));
  return static_cast<int>(blocks_.size() - 1);
}

void HostNetwork::generate_fixed_structure() {
  // Shared weights: one random stream per row (per weight set), so rows can be generated in
  // parallel. Set s draws row j from stream (s << 32) | j: set 0 is the one-set network's.
  constexpr std::size_t kUnitsPerTask = 16;
  const std::size_t sets = spec_.weight_sets;
  auto row_stream = [](std::size_t set, std::size_t row) {
    return (std::uint64_t(set) << 32) | std::uint64_t(row);
  };
  std::size_t fan_in = spec_.input_dim;
  for (std::size_t l = 0; l < spec_.layers.size(); ++l) {
    const LayerSpec& layer = spec_.layers[l];
    Block& weight = blocks_[std::size_t(layers_[l].weight)];
    if (layer.kind == LayerKind::kDenseGaussian) {
      const double std_dev = layer.init_scale / std::sqrt(double(fan_in));
      const std::size_t width = layer_width(l);
      parallel_chunks(sets * width, kUnitsPerTask, [&](std::size_t r0, std::size_t r1) {
        for (std::size_t r = r0; r < r1; ++r) {  // r = set * width + j
          RandomStream stream(spec_.seed, kLayerWeightStream, l, row_stream(r / width, r % width));
          for (std::size_t i = 0; i < fan_in; ++i) {
            weight.value[r * fan_in + i] = static_cast<float>(std_dev * stream.normal());
          }
        }
      });
      if (layers_[l].recurrent_weight != kNoBlock) {
        Block& recurrent = blocks_[std::size_t(layers_[l].recurrent_weight)];
        const double recurrent_std = layer.recurrent_init_scale / std::sqrt(double(layer.units));
        parallel_chunks(width, kUnitsPerTask, [&](std::size_t r0, std::size_t r1) {
          for (std::size_t r = r0; r < r1; ++r) {
            RandomStream stream(spec_.seed, kRecurrentWeightStream, l, r);
            for (std::size_t i = 0; i < layer.units; ++i) {
              recurrent.value[r * layer.units + i] =
                  static_cast<float>(recurrent_std * stream.normal());
            }
          }
        });
      }
    } else {
      const std::size_t k = layer.sparse_k;
      auto& index = layers_[l].sparse_index;
      index.resize(layer.units * k);
      std::fill(weight.value.begin(), weight.value.end(), layer.init_scale);
      parallel_chunks(layer.units, kUnitsPerTask, [&](std::size_t j0, std::size_t j1) {
        for (std::size_t j = j0; j < j1; ++j) {
          // Floyd's algorithm: k distinct inputs, uniformly, in k draws; sorted for cache order.
          RandomStream stream(spec_.seed, kLayerWeightStream, l, j);
          std::int32_t* chosen = index.data() + j * k;
          std::size_t count = 0;
          for (std::size_t i = fan_in - k; i < fan_in; ++i) {
            const auto candidate = static_cast<std::int32_t>(stream.uniform_index(i + 1));
            const bool taken = std::find(chosen, chosen + count, candidate) != chosen + count;
            chosen[count++] = taken ? static_cast<std::int32_t>(i) : candidate;
          }
          std::sort(chosen, chosen + k);
        }
      });
    }
    fan_in = layer.units;
  }
  for (std::size_t h = 0; h < spec_.heads.size(); ++h) {
    Block& weight = blocks_[std::size_t(heads_[h].weight)];
    if (weight.per_context) continue;  // initialized per context
    const double std_dev = spec_.heads[h].init_scale / std::sqrt(double(fan_in));
    const std::size_t units = spec_.heads[h].units;
    for (std::size_t r = 0; r < sets * units; ++r) {  // r = set * units + j
      RandomStream stream(spec_.seed, kHeadWeightStream, h, row_stream(r / units, r % units));
      for (std::size_t i = 0; i < fan_in; ++i) {
        weight.value[r * fan_in + i] = static_cast<float>(std_dev * stream.normal());
      }
    }
  }
  // The digest covers what the seed regenerates: fixed weights and connectivity.
  std::uint64_t hash = util::kFnv1a64Offset;
  for (const Block& block : blocks_) {
    if (!block.per_context && !block.trainable) {
      hash = util::fnv1a64(block.value.data(), block.value.size() * sizeof(float), hash);
    }
  }
  for (const LayerBlocks& layer : layers_) {
    hash = util::fnv1a64(layer.sparse_index.data(),
                         layer.sparse_index.size() * sizeof(std::int32_t), hash);
  }
  structure_digest_ = mix64(hash);
}

void HostNetwork::initialize_context_instance(Block& block, std::size_t context) {
  float* value = block.value_of(context);
  switch (block.kind) {
    case ParameterKind::kLayerGain: {
      const LayerSpec& layer = spec_.layers[block.index];
      if (layer.gain_init == GainInit::kOnes) {
        std::fill(value, value + block.width, 1.0f);
      } else {
        const double std_dev = std::sqrt(2.0 / double(block.width + 1));
        RandomStream stream(spec_.seed, kGainStream, block.index, context);
        for (std::size_t i = 0; i < block.width; ++i) {
          value[i] = static_cast<float>(std_dev * stream.normal());
        }
      }
      break;
    }
    case ParameterKind::kHeadOutputGain:
      value[0] = 1.0f;
      break;
    case ParameterKind::kHeadWeight: {
      const std::size_t units = block.shape[0], fan_in = block.shape[1];
      const double std_dev = spec_.heads[block.index].init_scale / std::sqrt(double(fan_in));
      for (std::size_t j = 0; j < units; ++j) {
        RandomStream stream(spec_.seed, kContextHeadWeightStream, block.index,
                            (std::uint64_t(context) << 32) | j);
        for (std::size_t i = 0; i < fan_in; ++i) {
          value[j * fan_in + i] = static_cast<float>(std_dev * stream.normal());
        }
      }
      break;
    }
    default:
      std::fill(value, value + block.width, 0.0f);
      break;
  }
}

ContextId HostNetwork::add_context(std::size_t weight_set) {
  checks::weight_set(spec_, weight_set);
  const std::size_t context = contexts_.size();
  if (context >= std::size_t(std::numeric_limits<ContextId>::max())) {
    throw ContextError("add_context: too many contexts");
  }
  for (Block& block : blocks_) {
    if (!block.per_context) continue;
    block.value.resize(block.value.size() + block.width);
    block.grad.resize(block.grad.size() + block.width, 0.0f);
    if (!block.first.empty()) block.first.resize(block.first.size() + block.width, 0.0f);
    if (!block.second.empty()) block.second.resize(block.second.size() + block.width, 0.0f);
    block.steps.push_back(0);
    block.has_grad.push_back(0);
    initialize_context_instance(block, context);
  }
  return contexts_.add(weight_set);
}

std::size_t HostNetwork::weight_set(ContextId context) const {
  return contexts_.weight_set(context);
}

ContextId HostNetwork::clone_context(ContextId source) {
  const std::size_t from = contexts_.index(source, "clone_context");
  const ContextId id = add_context(contexts_.weight_sets()[from]);
  for (Block& block : blocks_) {
    if (!block.per_context) continue;
    std::copy_n(block.value_of(from), block.width, block.value_of(std::size_t(id)));
  }
  return id;
}

bool HostNetwork::learns(const Block& block) const {
  return block.trainable && (block.per_context || mode_ == GradientMode::kAllTrainable);
}

void HostNetwork::check_values(const float* data, std::size_t n, const std::string& where) const {
  const std::size_t i = find_non_finite(data, n);
  if (i < n) {
    throw NonFiniteError(fmt::format("non-finite value {} in {} at element {}", data[i], where, i));
  }
}

ModulationArgs HostNetwork::modulation_args(std::size_t l) const {
  const LayerSpec& layer = spec_.layers[l];
  ModulationArgs args;
  args.rows = rows_;
  args.units = layer.units;
  args.row_context = row_context_.data();
  args.gain = block_value(layers_[l].gain);
  args.bias = block_value(layers_[l].bias);
  args.center = layer.center;
  args.activation = layer.activation;
  args.site = layer.site;
  return args;
}

const std::vector<std::vector<std::size_t>>& HostNetwork::rows_by_context() {
  if (!groups_valid_) {
    groups_.assign(contexts_.size(), {});
    for (std::size_t r = 0; r < rows_; ++r) groups_[std::size_t(row_context_[r])].push_back(r);
    groups_valid_ = true;
  }
  return groups_;
}

std::size_t HostNetwork::layer_width(std::size_t l) const {
  return gate_count(spec_.layers[l].recurrence) * spec_.layers[l].units;
}

const std::vector<Matrix>& HostNetwork::forward(const Matrix& inputs,
                                                std::span<const ContextId> context_ids) {
  checks::feed_forward_only(spec_);
  checks::forward_inputs(spec_, inputs.shape()[0], inputs.shape()[1], context_ids.size(),
                         contexts_.selected());
  steps_ = 1;
  batch_ = inputs.shape()[0];
  episode_starts_.clear();
  initial_state_ = nullptr;
  return run_forward(inputs, context_ids);
}

const std::vector<Matrix>& HostNetwork::forward_sequence(
    const Matrix& inputs, std::size_t batch, std::span<const ContextId> context_ids,
    const RecurrentState* initial_state, std::span<const std::uint8_t> episode_starts) {
  const std::vector<ContextId> row_contexts = checks::sequence_call(
      spec_, inputs, batch, context_ids, initial_state, episode_starts, check_finite_);
  steps_ = inputs.shape()[0] / batch;
  batch_ = batch;
  episode_starts_.assign(episode_starts.begin(), episode_starts.end());
  initial_state_ = initial_state;
  final_state_.clear();
  try {
    run_forward(inputs, row_contexts);
  } catch (...) {
    initial_state_ = nullptr;
    throw;
  }
  initial_state_ = nullptr;
  for (std::size_t l = 0; l < spec_.layers.size(); ++l) {
    const LayerSpec& layer = spec_.layers[l];
    if (layer.recurrence == Recurrence::kNone) continue;
    const std::size_t last = (steps_ - 1) * batch_ * layer.units, n = batch_ * layer.units;
    final_state_.emplace_back(Matrix({batch_, layer.units}));
    std::copy_n(traces_[l].hidden.data() + last, n, final_state_.back().data());
    if (layer.recurrence == Recurrence::kLstm) {
      final_state_.emplace_back(Matrix({batch_, layer.units}));
      std::copy_n(traces_[l].cell.data() + last, n, final_state_.back().data());
    }
  }
  return outputs_;
}

RecurrentState Network::zero_state(std::size_t batch) const {
  RecurrentState state;
  for (const LayerSpec& layer : spec().layers) {
    if (layer.recurrence == Recurrence::kNone) continue;
    state.emplace_back(Matrix({batch, layer.units}, 0.0f));
    if (layer.recurrence == Recurrence::kLstm) {
      state.emplace_back(Matrix({batch, layer.units}, 0.0f));
    }
  }
  return state;
}

const std::vector<Matrix>& HostNetwork::run_forward(const Matrix& inputs,
                                                    std::span<const ContextId> context_ids) {
  const std::size_t rows = inputs.shape()[0];
  if (check_finite_) checks::finite_inputs(inputs.data(), inputs.size(), spec_.input_dim);
  rows_ = rows;
  has_forward_ = false;
  groups_valid_ = false;
  row_context_.resize(rows);
  context_in_batch_.assign(contexts_.size(), 0);
  for (std::size_t r = 0; r < rows; ++r) {
    const ContextId c = checks::row_context(context_ids, r, contexts_.selected(), contexts_.size());
    row_context_[r] = c;
    context_in_batch_[std::size_t(c)] = 1;
  }
  if (spec_.weight_sets > 1) {  // a stable counting sort of the rows by weight set
    const std::size_t sets = spec_.weight_sets;
    set_offsets_.assign(sets + 1, 0);
    for (std::size_t r = 0; r < rows; ++r)
      ++set_offsets_[contexts_.weight_sets()[std::size_t(row_context_[r])] + 1];
    for (std::size_t s = 0; s < sets; ++s) set_offsets_[s + 1] += set_offsets_[s];
    set_next_.assign(set_offsets_.begin(), set_offsets_.end() - 1);
    set_order_.resize(rows);
    for (std::size_t r = 0; r < rows; ++r)
      set_order_[set_next_[contexts_.weight_sets()[std::size_t(row_context_[r])]]++] = r;
  }
  // Keep the inputs only if a learnable weight reads them (baselines); modulated networks don't.
  const bool keep_input = spec_.layers.empty() || blocks_[std::size_t(layers_[0].weight)].trainable;
  if (keep_input) {
    resize(input_, rows, spec_.input_dim);
    std::memcpy(input_.data(), inputs.data(), inputs.size() * sizeof(float));
    input_data_ = input_.data();
  } else {
    input_data_ = nullptr;
  }
  const float* x = inputs.data();
  std::size_t fan_in = spec_.input_dim;
  for (std::size_t l = 0; l < spec_.layers.size(); ++l) {
    const LayerSpec& layer = spec_.layers[l];
    resize(hidden_[l], rows, layer.units);
    if (layer.recurrence == Recurrence::kNone) {
      resize(linear_[l], rows, layer.units);
      resize(saved_[l], rows, layer.units);
      layer_linear(l, x, fan_in, linear_[l].data());
      kernels_.modulate_forward(modulation_args(l), linear_[l].data(), saved_[l].data(),
                                hidden_[l].data());
    } else {
      traces_[l].input_sum.resize(rows * layer_width(l));
      layer_linear(l, x, fan_in, traces_[l].input_sum.data());
      recurrent_layer_forward(l);
      std::copy(traces_[l].hidden.begin(), traces_[l].hidden.end(), hidden_[l].begin());
    }
    x = hidden_[l].data();
    fan_in = layer.units;
  }
  for (std::size_t h = 0; h < spec_.heads.size(); ++h) {
    head_forward(h, x);
    if (check_finite_) {
      const Matrix& y = outputs_[h];
      if (const std::size_t i = find_non_finite(y.data(), y.size()); i < y.size()) {
        throw NonFiniteError(fmt::format(
            "non-finite value {} in the output of head '{}' at row {}, "
            "column {} (inputs were finite: the parameters or weight "
            "gains overflow)",
            y.data()[i], spec_.heads[h].name, i / spec_.heads[h].units, i % spec_.heads[h].units));
      }
    }
  }
  has_forward_ = true;
  return outputs_;
}

void HostNetwork::layer_linear(std::size_t l, const float* x, std::size_t fan_in, float* z) {
  const LayerSpec& layer = spec_.layers[l];
  const Block& weight = blocks_[std::size_t(layers_[l].weight)];
  if (layer.kind == LayerKind::kSparseBinary) {
    kernels_.sparse_forward(x, rows_, fan_in, layers_[l].sparse_index.data(), weight.value.data(),
                            layer.units, layer.sparse_k, weight_gains_[l], z);
    return;
  }
  const PackedWeight* p = packed(l);
  const std::size_t stride = set_width(weight), width = layer_width(l);
  for_each_weight_set(x, fan_in, z, width, false,
                      [&](std::size_t set, const float* a, std::size_t n, float* c, bool) {
                        if (p) {
                          kernels_.bf16_product(a, n, p->forward[set], weight_gains_[l], c, false);
                        } else {
                          kernels_.dense_forward(a, n, fan_in, weight.value.data() + set * stride,
                                                 width, weight_gains_[l], c);
                        }
                      });
}

RecurrentLayerArgs HostNetwork::recurrent_args(std::size_t l) const {
  RecurrentLayerArgs args;
  static_cast<RecurrentShape&>(args) = recurrent_shape(spec_, l, steps_, batch_);
  args.recurrent_weight = blocks_[std::size_t(layers_[l].recurrent_weight)].value.data();
  args.weight_gain = weight_gains_[l];
  args.gain = block_value(layers_[l].gain);
  args.bias = block_value(layers_[l].bias);
  args.row_context = row_context_.data();
  args.starts = episode_starts_.empty() ? nullptr : episode_starts_.data();
  return args;
}

void HostNetwork::recurrent_layer_forward(std::size_t l) {
  const LayerSpec& layer = spec_.layers[l];
  RecurrentTrace& trace = traces_[l];
  draw_layer_noise(spec_, l, noise_draws_, rows_, trace.noise);
  // The layer's tensors in the state: a hidden state per recurrent layer, then an LSTM's cell.
  const float* initial_hidden = nullptr;
  const float* initial_cell = nullptr;
  if (initial_state_) {
    const std::size_t index = recurrent_state_index(spec_, l);
    initial_hidden = (*initial_state_)[index].data();
    if (layer.recurrence == Recurrence::kLstm) initial_cell = (*initial_state_)[index + 1].data();
  }
  recurrent_forward(kernels_, recurrent_args(l), initial_hidden, initial_cell, trace);
}

template <typename Product>
void HostNetwork::for_each_weight_set(const float* a_all, std::size_t a_cols, float* c_all,
                                      std::size_t c_cols, bool accumulate, const Product& product) {
  if (spec_.weight_sets == 1) {
    product(0, a_all, rows_, c_all, accumulate);
    return;
  }
  for (std::size_t set = 0; set < spec_.weight_sets; ++set) {
    const std::size_t begin = set_offsets_[set], n = set_offsets_[set + 1] - begin;
    if (n == 0) continue;
    const std::size_t first = set_order_[begin];
    if (set_order_[begin + n - 1] - first == n - 1) {  // sorted stably: consecutive rows
      product(set, a_all + first * a_cols, n, c_all + first * c_cols, accumulate);
      continue;
    }
    set_gathered_.resize(n * a_cols);
    set_result_.resize(n * c_cols);
    for (std::size_t i = 0; i < n; ++i) {
      std::copy_n(a_all + set_order_[begin + i] * a_cols, a_cols,
                  set_gathered_.data() + i * a_cols);
    }
    product(set, set_gathered_.data(), n, set_result_.data(), false);
    for (std::size_t i = 0; i < n; ++i) {
      const float* from = set_result_.data() + i * c_cols;
      float* to = c_all + set_order_[begin + i] * c_cols;
      if (accumulate) {
        for (std::size_t k = 0; k < c_cols; ++k) to[k] += from[k];
      } else {
        std::copy_n(from, c_cols, to);
      }
    }
  }
}

void HostNetwork::head_forward(std::size_t h, const float* features) {
  const HeadSpec& head = spec_.heads[h];
  const std::size_t m = head.units, f = spec_.feature_dim();
  const float scale = weight_gains_[spec_.layers.size() + h];
  resize(head_linear_[h], rows_, m);
  resize(outputs_[h], rows_, m);
  float* r = head_linear_[h].data();
  Block& weight = blocks_[std::size_t(heads_[h].weight)];
  if (!weight.per_context) {
    const PackedWeight* p = packed(spec_.layers.size() + h);
    const std::size_t stride = set_width(weight);
    for_each_weight_set(features, f, r, m, false,
                        [&](std::size_t set, const float* a, std::size_t n, float* c, bool) {
                          if (p) {
                            kernels_.bf16_product(a, n, p->forward[set], scale, c, false);
                          } else {
                            kernels_.dense_forward(a, n, f, weight.value.data() + set * stride, m,
                                                   scale, c);
                          }
                        });
  } else {
    for (std::size_t c = 0; c < contexts_.size(); ++c) {
      const auto& group = rows_by_context()[c];
      if (group.empty()) continue;
      resize(scratch_, group.size(), f + m);  // gathered features, then outputs
      float* gathered = scratch_.data();
      for (std::size_t i = 0; i < group.size(); ++i) {
        std::copy_n(features + group[i] * f, f, gathered + i * f);
      }
      std::vector<float> out(group.size() * m);
      kernels_.dense_forward(gathered, group.size(), f, weight.value_of(c), m, scale, out.data());
      for (std::size_t i = 0; i < group.size(); ++i) {
        std::copy_n(out.data() + i * m, m, r + group[i] * m);
      }
    }
  }
  const float* gain = heads_[h].output_gain == kNoBlock
                          ? nullptr
                          : blocks_[std::size_t(heads_[h].output_gain)].value.data();
  const Block* bias = heads_[h].bias == kNoBlock ? nullptr : &blocks_[std::size_t(heads_[h].bias)];
  float* y = outputs_[h].data();
  for (std::size_t row = 0; row < rows_; ++row) {
    const std::size_t c = std::size_t(row_context_[row]);
    const float s = gain ? gain[c] : 1.0f;
    const float* b = bias ? bias->value.data() + (bias->per_context ? c * m : 0) : nullptr;
    for (std::size_t j = 0; j < m; ++j) {
      y[row * m + j] = s * r[row * m + j] + (b ? b[j] : 0.0f);
    }
  }
}

void HostNetwork::backward(std::span<const Matrix> head_gradients) {
  checks::backward_call(has_forward_, context_in_batch_.size() == contexts_.size(),
                        head_gradients.size(), spec_.heads.size());
  const std::size_t num_layers = spec_.layers.size();
  // The lowest layer with something to learn: the gradient must flow down to it and no further.
  std::size_t lowest = num_layers;
  for (std::size_t l = num_layers; l-- > 0;) {
    for (int b :
         {layers_[l].weight, layers_[l].recurrent_weight, layers_[l].gain, layers_[l].bias}) {
      if (b != kNoBlock && learns(blocks_[std::size_t(b)])) lowest = l;
    }
  }
  const float* features = num_layers > 0 ? hidden_[num_layers - 1].data() : input_data_;
  const std::size_t f = spec_.feature_dim();
  const bool trunk_learns = lowest < num_layers;
  if (trunk_learns) {
    resize(feature_grad_, rows_, f);
    std::fill(feature_grad_.begin(), feature_grad_.end(), 0.0f);
  }
  for (std::size_t h = 0; h < spec_.heads.size(); ++h) {
    const Matrix& grad = head_gradients[h];
    if (grad.size() == 0) continue;
    checks::head_gradient(spec_.heads[h], rows_, grad.shape()[0], grad.shape()[1], grad.data(),
                          check_finite_);
    head_backward(h, grad, features, trunk_learns ? feature_grad_.data() : nullptr);
  }
  for (std::size_t l = num_layers; trunk_learns && l-- > lowest;) {
    const LayerSpec& layer = spec_.layers[l];
    const std::size_t fan_in = l == 0 ? spec_.input_dim : spec_.layers[l - 1].units;
    Block* gain = layers_[l].gain == kNoBlock ? nullptr : &blocks_[std::size_t(layers_[l].gain)];
    Block* bias = layers_[l].bias == kNoBlock ? nullptr : &blocks_[std::size_t(layers_[l].bias)];
    Block& weight = blocks_[std::size_t(layers_[l].weight)];
    const std::size_t width = layer_width(l);
    layer_backward_to_linear(l);
    const float* layer_input = l == 0 ? input_data_ : hidden_[l - 1].data();
    const float scale = weight_gains_[l];
    if (learns(weight)) {
      if (layer_input == nullptr) {
        throw Error("backward: the inputs were not kept for a trainable first layer");
      }
      if (layer.kind == LayerKind::kDenseGaussian) {
        kernels_.dense_backward_weight(layer_grad_.data(), rows_, width, layer_input, fan_in, scale,
                                       weight.grad.data());
      } else {
        kernels_.sparse_backward_weight(layer_grad_.data(), rows_, layer.units,
                                        layers_[l].sparse_index.data(), layer.sparse_k, layer_input,
                                        fan_in, scale, weight.grad.data());
      }
      weight.has_grad[0] = 1;
    }
    for (Block* b : {gain, bias}) {
      if (b == nullptr || !learns(*b)) continue;
      for (std::size_t c = 0; c < context_in_batch_.size(); ++c) {
        if (context_in_batch_[c]) b->has_grad[c] = 1;
      }
    }
    if (l > lowest) {
      resize(scratch_, rows_, fan_in);
      if (layer.kind == LayerKind::kDenseGaussian) {
        const PackedWeight* p = packed(l);
        const std::size_t stride = set_width(weight);
        for_each_weight_set(
            layer_grad_.data(), width, scratch_.data(), fan_in, false,
            [&](std::size_t set, const float* a, std::size_t n, float* c, bool accumulate) {
              if (p) {
                kernels_.bf16_product(a, n, p->backward[set], scale, c, accumulate);
              } else {
                kernels_.dense_backward_input(a, n, width, weight.value.data() + set * stride,
                                              fan_in, scale, c, accumulate);
              }
            });
      } else {
        kernels_.sparse_backward_input(layer_grad_.data(), rows_, layer.units,
                                       layers_[l].sparse_index.data(), weight.value.data(),
                                       layer.sparse_k, fan_in, scale, scratch_.data(), false);
      }
      std::swap(scratch_, feature_grad_);
    }
  }
  if (check_finite_) {
    for (const Block& block : blocks_) {
      if (!learns(block)) continue;
      for (std::size_t i = 0; i < block.instances(); ++i) {
        if (!block.has_grad[i]) continue;
        check_values(block.grad.data() + i * block.width, block.width,
                     block.per_context
                         ? fmt::format("the gradient of {} (context {})", block.name, i)
                         : fmt::format("the gradient of {}", block.name));
      }
    }
  }
}

void HostNetwork::layer_backward_to_linear(std::size_t l) {
  const LayerSpec& layer = spec_.layers[l];
  Block* gain = layers_[l].gain == kNoBlock ? nullptr : &blocks_[std::size_t(layers_[l].gain)];
  Block* bias = layers_[l].bias == kNoBlock ? nullptr : &blocks_[std::size_t(layers_[l].bias)];
  float* dgain = gain && learns(*gain) ? gain->grad.data() : nullptr;
  float* dbias = bias && learns(*bias) ? bias->grad.data() : nullptr;
  resize(layer_grad_, rows_, layer_width(l));
  if (layer.recurrence == Recurrence::kNone) {
    kernels_.modulate_backward(modulation_args(l), saved_[l].data(), hidden_[l].data(),
                               feature_grad_.data(), layer_grad_.data(), dgain, dbias);
    return;
  }
  Block& recurrent = blocks_[std::size_t(layers_[l].recurrent_weight)];
  RecurrentGradients gradients;
  gradients.input_sum = layer_grad_.data();
  gradients.recurrent_weight = learns(recurrent) ? recurrent.grad.data() : nullptr;
  gradients.gain = dgain;
  gradients.bias = dbias;
  gradients.contexts = contexts_.size();
  recurrent_backward(kernels_, recurrent_args(l), traces_[l], feature_grad_.data(), gradients);
  if (gradients.recurrent_weight) recurrent.has_grad[0] = 1;
}

void HostNetwork::head_backward(std::size_t h, const Matrix& grad, const float* features,
                                float* dfeatures) {
  const std::size_t m = spec_.heads[h].units, f = spec_.feature_dim();
  const float scale = weight_gains_[spec_.layers.size() + h];
  const float* dy = grad.data();
  const float* r = head_linear_[h].data();
  const std::size_t contexts = contexts_.size();
  auto mark = [&](Block& block) {
    if (!block.per_context) {
      block.has_grad[0] = 1;
      return;
    }
    for (std::size_t c = 0; c < context_in_batch_.size(); ++c) {
      if (context_in_batch_[c]) block.has_grad[c] = 1;
    }
  };
  Block* gain =
      heads_[h].output_gain == kNoBlock ? nullptr : &blocks_[std::size_t(heads_[h].output_gain)];
  if (gain && learns(*gain)) {
    std::vector<double> sums(contexts, 0.0);
    for (std::size_t row = 0; row < rows_; ++row) {
      double dot = 0.0;
      for (std::size_t j = 0; j < m; ++j) dot += double(dy[row * m + j]) * r[row * m + j];
      sums[std::size_t(row_context_[row])] += dot;
    }
    for (std::size_t c = 0; c < contexts; ++c) gain->grad[c] += static_cast<float>(sums[c]);
    mark(*gain);
  }
  Block* bias = heads_[h].bias == kNoBlock ? nullptr : &blocks_[std::size_t(heads_[h].bias)];
  if (bias && learns(*bias)) {
    std::vector<double> sums(bias->per_context ? contexts * m : m, 0.0);
    for (std::size_t row = 0; row < rows_; ++row) {
      const std::size_t offset = bias->per_context ? std::size_t(row_context_[row]) * m : 0;
      for (std::size_t j = 0; j < m; ++j) sums[offset + j] += dy[row * m + j];
    }
    for (std::size_t i = 0; i < sums.size(); ++i) bias->grad[i] += static_cast<float>(sums[i]);
    mark(*bias);
  }
  Block& weight = blocks_[std::size_t(heads_[h].weight)];
  const bool weight_learns = learns(weight);
  if (!weight_learns && dfeatures == nullptr) return;
  // dr = dy * s (the gradient at s_w * h R^T)
  std::vector<float> dr(rows_ * m);
  for (std::size_t row = 0; row < rows_; ++row) {
    const float s = gain ? gain->value[std::size_t(row_context_[row])] : 1.0f;
    for (std::size_t j = 0; j < m; ++j) dr[row * m + j] = s * dy[row * m + j];
  }
  if (!weight.per_context) {
    if (weight_learns) {
      if (features == nullptr)
        throw Error("backward: the inputs were not kept for a trainable head");
      kernels_.dense_backward_weight(dr.data(), rows_, m, features, f, scale, weight.grad.data());
      mark(weight);
    }
    if (dfeatures == nullptr) return;
    const PackedWeight* p = packed(spec_.layers.size() + h);
    const std::size_t stride = set_width(weight);
    for_each_weight_set(
        dr.data(), m, dfeatures, f, true,
        [&](std::size_t set, const float* a, std::size_t n, float* c, bool accumulate) {
          if (p) {
            kernels_.bf16_product(a, n, p->backward[set], scale, c, accumulate);
          } else {
            kernels_.dense_backward_input(a, n, m, weight.value.data() + set * stride, f, scale, c,
                                          accumulate);
          }
        });
    return;
  }
  for (std::size_t c = 0; c < contexts; ++c) {
    const auto& group = rows_by_context()[c];
    if (group.empty()) continue;
    const std::size_t n = group.size();
    std::vector<float> gathered_dr(n * m), gathered_features(weight_learns ? n * f : 0);
    for (std::size_t i = 0; i < n; ++i) {
      std::copy_n(dr.data() + group[i] * m, m, gathered_dr.data() + i * m);
      if (weight_learns) std::copy_n(features + group[i] * f, f, gathered_features.data() + i * f);
    }
    if (weight_learns) {
      kernels_.dense_backward_weight(gathered_dr.data(), n, m, gathered_features.data(), f, scale,
                                     weight.grad_of(c));
      weight.has_grad[c] = 1;
    }
    if (dfeatures) {
      std::vector<float> gathered_dx(n * f);
      kernels_.dense_backward_input(gathered_dr.data(), n, m, weight.value_of(c), f, scale,
                                    gathered_dx.data(), false);
      for (std::size_t i = 0; i < n; ++i) {
        float* dst = dfeatures + group[i] * f;
        for (std::size_t k = 0; k < f; ++k) dst[k] += gathered_dx[i * f + k];
      }
    }
  }
}

void HostNetwork::zero_grad() {
  for (Block& block : blocks_) {
    for (std::size_t i = 0; i < block.instances(); ++i) {
      if (!block.has_grad[i]) continue;
      std::fill_n(block.grad_of(i), block.width, 0.0f);
      block.has_grad[i] = 0;
    }
  }
}

void HostNetwork::set_optimizer(const OptimizerConfig& config) {
  config.validate();
  const bool keep_state = config.kind == optimizer_.kind;
  optimizer_ = config;
  if (keep_state) return;
  for (Block& block : blocks_) {
    block.first.clear();
    block.second.clear();
    std::fill(block.steps.begin(), block.steps.end(), 0);
  }
}

StepStats HostNetwork::step() {
  struct Target {
    Block* block;
    std::size_t instance;
  };
  std::vector<Target> targets;
  for (Block& block : blocks_) {
    if (!learns(block)) continue;
    for (std::size_t i = 0; i < block.instances(); ++i) {
      if (block.has_grad[i] && !(block.per_context && contexts_.frozen_at(i)))
        targets.push_back({&block, i});
    }
  }
  StepStats stats;
  // Global norm: fixed chunks summed in double, then combined in order.
  double sum_squares = 0.0;
  for (const Target& t : targets) {
    const float* g = t.block->grad_of(t.instance);
    const std::size_t n = t.block->width;
    const std::size_t chunks = (n + kUpdateChunk - 1) / kUpdateChunk;
    std::vector<double> partial(chunks, 0.0);
    parallel_chunks(n, kUpdateChunk, [&](std::size_t begin, std::size_t end) {
      partial[begin / kUpdateChunk] = sum_of_squares(g + begin, end - begin);
    });
    for (double s : partial) sum_squares += s;
  }
  stats.gradient_norm = std::sqrt(sum_squares);
  stats.clip_factor = clip_factor(optimizer_, stats.gradient_norm);
  const std::size_t state_arrays = optimizer_.state_arrays();
  for (const Target& t : targets) {
    Block& block = *t.block;
    if (state_arrays >= 1 && block.first.size() != block.value.size()) {
      block.first.assign(block.value.size(), 0.0f);
    }
    if (state_arrays >= 2 && block.second.size() != block.value.size()) {
      block.second.assign(block.value.size(), 0.0f);
    }
    const std::size_t offset = t.instance * block.width;
    const std::int64_t step_number = ++block.steps[t.instance];
    parallel_chunks(block.width, kUpdateChunk, [&](std::size_t begin, std::size_t end) {
      const std::size_t n = end - begin;
      const std::size_t at = offset + begin;
      apply_update(optimizer_, std::span(block.value.data() + at, n),
                   std::span<const float>(block.grad.data() + at, n), stats.clip_factor,
                   state_arrays >= 1 ? std::span(block.first.data() + at, n) : std::span<float>(),
                   state_arrays >= 2 ? std::span(block.second.data() + at, n) : std::span<float>(),
                   step_number);
    });
    if (check_finite_) {
      check_values(block.value_of(t.instance), block.width,
                   block.per_context
                       ? fmt::format("{} (context {}) after the optimizer step (gradient norm {})",
                                     block.name, t.instance, stats.gradient_norm)
                       : fmt::format("{} after the optimizer step (gradient norm {})", block.name,
                                     stats.gradient_norm));
    }
    ++stats.updated_tensors;
  }
  return stats;
}

std::vector<std::int32_t> HostNetwork::connectivity(std::size_t layer) const {
  if (layer >= layers_.size()) {
    throw InvalidArgumentError(
        fmt::format("connectivity: layer {} out of range; network '{}' has "
                    "{} layers",
                    layer, spec_.name, layers_.size()));
  }
  return layers_[layer].sparse_index;
}

void HostNetwork::set_matmul_precision(MatmulPrecision precision) {
  if (precision == MatmulPrecision::kTf32) {
    throw InvalidArgumentError(fmt::format(
        "matmul precision tf32 is a CUDA precision; the {} backend has float32 and bfloat16",
        to_string(backend_)));
  }
  if (precision == MatmulPrecision::kBfloat16 && backend_ == Backend::kCpu &&
      !cpu_supports_bf16_products()) {
    throw InvalidArgumentError(
        fmt::format("matmul precision bfloat16 is not available: {}; use "
                    "float32",
                    bf16_products_unavailable_reason()));
  }
  // Only fixed dense weights: they never change, so they are rounded and packed once here (into a
  // new table, so that a failure leaves the network as it was).
  if (precision != MatmulPrecision::kBfloat16) {
    packed_.clear();
    precision_ = precision;
    return;
  }
  std::vector<std::unique_ptr<PackedWeight>> packed(weight_gains_.size());
  std::size_t fan_in = spec_.input_dim;
  auto pack = [&](std::size_t slot, const Block& weight, std::size_t units, std::size_t in) {
    auto p = std::make_unique<PackedWeight>();
    for (std::size_t set = 0; set < spec_.weight_sets; ++set) {
      const float* w = weight.value.data() + set * units * in;  // (units, in)
      p->forward.push_back(pack_bf16_panels(w, in, units, in, 1));
      p->backward.push_back(pack_bf16_panels(w, units, in, 1, in));
    }
    packed[slot] = std::move(p);
  };
  for (std::size_t l = 0; l < spec_.layers.size(); ++l) {
    const LayerSpec& layer = spec_.layers[l];
    const Block& weight = blocks_[std::size_t(layers_[l].weight)];
    if (layer.kind == LayerKind::kDenseGaussian && !weight.trainable) {
      pack(l, weight, layer_width(l), fan_in);
    }
    fan_in = layer.units;
  }
  for (std::size_t h = 0; h < spec_.heads.size(); ++h) {
    const Block& weight = blocks_[std::size_t(heads_[h].weight)];
    if (!weight.trainable) pack(spec_.layers.size() + h, weight, spec_.heads[h].units, fan_in);
  }
  packed_ = std::move(packed);
  precision_ = precision;
}

const HostNetwork::PackedWeight* HostNetwork::packed(std::size_t slot) const {
  return slot < packed_.size() ? packed_[slot].get() : nullptr;
}

std::vector<ParameterInfo> HostNetwork::parameters() const {
  std::vector<ParameterInfo> result;
  for (const Block& block : blocks_) {
    if (!block.per_context) {
      result.push_back(
          {block.name, block.kind, block.index, kSharedContext, block.shape, block.trainable});
    }
  }
  for (std::size_t c = 0; c < contexts_.size(); ++c) {
    for (const Block& block : blocks_) {
      if (block.per_context) {
        result.push_back({block.name, block.kind, block.index, static_cast<ContextId>(c),
                          block.shape, block.trainable});
      }
    }
  }
  return result;
}

const HostNetwork::Block& HostNetwork::find_block(std::string_view name, ContextId context,
                                                  std::size_t& instance) const {
  return checks::find_block(blocks_, spec_.name, name, context, contexts_.size(), instance);
}

std::vector<float> HostNetwork::read_parameter(std::string_view name, ContextId context) const {
  std::size_t instance = 0;
  const Block& block = find_block(name, context, instance);
  const float* begin = block.value.data() + instance * block.width;
  return {begin, begin + block.width};
}

std::vector<float> HostNetwork::read_gradient(std::string_view name, ContextId context) const {
  std::size_t instance = 0;
  const Block& block = find_block(name, context, instance);
  const float* begin = block.grad.data() + instance * block.width;
  return {begin, begin + block.width};
}

void HostNetwork::add_to_gradient(std::string_view name, ContextId context,
                                  std::span<const float> values) {
  std::size_t instance = 0;
  Block& block = find_block(name, context, instance);
  checks::writable_values(name, block.trainable, block.width, values, check_finite_,
                          "add_to_gradient");
  float* grad = block.grad.data() + instance * block.width;
  for (std::size_t i = 0; i < block.width; ++i) grad[i] += values[i];
}

OptimizerState HostNetwork::read_optimizer_state(std::string_view name, ContextId context) const {
  std::size_t instance = 0;
  const Block& block = find_block(name, context, instance);
  // A state array is allocated at the first step that needs it (for every instance at once).
  auto instance_of = [&](const std::vector<float>& array) {
    if (array.empty()) return std::vector<float>(block.width, 0.0f);
    const float* begin = array.data() + instance * block.width;
    return std::vector<float>(begin, begin + block.width);
  };
  return read_state(optimizer_, block.steps[instance], block.first, block.second, instance_of);
}

void HostNetwork::write_optimizer_state(std::string_view name, ContextId context,
                                        const OptimizerState& state) {
  std::size_t instance = 0;
  Block& block = find_block(name, context, instance);
  checks::writable_optimizer_state(name, block.trainable, block.width, optimizer_, state,
                                   check_finite_);
  auto store = [&](std::vector<float>& array, const std::vector<float>& values) {
    if (values.empty()) return;
    if (array.size() != block.value.size()) array.assign(block.value.size(), 0.0f);
    std::copy(values.begin(), values.end(), array.begin() + std::ptrdiff_t(instance * block.width));
  };
  store(block.first, state.first);
  store(block.second, state.second);
  block.steps[instance] = state.steps;
}

void HostNetwork::write_parameter(std::string_view name, ContextId context,
                                  std::span<const float> values) {
  std::size_t instance = 0;
  Block& block = find_block(name, context, instance);
  checks::writable_values(name, block.trainable, block.width, values, check_finite_);
  std::copy(values.begin(), values.end(), block.value.data() + instance * block.width);
}

}  // namespace locus::neuromod
