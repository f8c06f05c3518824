#pragma once
// What a modulated network is made of: fixed random layers, their per-context modulation, and the
// readout heads. A NetworkSpec plus its seed determines every fixed weight (they are regenerated,
// never stored); the learned state lives in the contexts (see network.hpp).
//
// One layer computes, for a batch row b whose context is c_b:
//   z = s_w * (x W^T)                  W fixed random (or trainable in a baseline); s_w the weight
//                                      gain that NGM or noradrenaline sets (1 by default)
//   u = z - mean_units(z)              only if center (per row, so rows never interact)
//   pre-activation site:  h = act(g[c_b] * u + beta[c_b])
//   post-activation site: h = g[c_b] * act(u) + beta[c_b]      (the published model's c * h)
// with g the context's gain vector (if gain) and beta its bias vector (if bias). A head reads the
// last layer's output h:
//   y = s[c_b] * s_w * (h R^T) + b     R fixed random, trainable shared, or trainable per context;
//                                      s the context's scalar output gain (if output_gain); b none,
//                                      shared or per context.
// A baseline network is the same type with trainable weights, no gains and one context.
//
// Recurrent layers (LayerSpec::recurrence) carry a state across the steps of a sequence
// (Network::forward_sequence). A layer of G gates (Elman 1, GRU 3, LSTM 4) and H units has an
// input weight W (G*H, fan_in), a recurrent weight U (G*H, H) and, per context, a gain g and a bias
// beta of G*H entries, one per gate unit. At step t, for row b with context c and previous state
// h (zeros where the sequence starts or Network::forward_sequence's episode_starts marks a start):
//   xz = s_w * (x_t W^T),  hz = s_w * (h U^T)                 (each G*H wide, gate k at [k*H,
//   k*H+H)) a_k = g_k[c] * (xz_k + hz_k) + beta_k[c]                  (g = 1 without gain, beta = 0
//   without bias) Elman: h' = (1 - alpha) * h + alpha * act(a + noise)      (noise N(0,
//   recurrent_noise^2) per unit
//                                                              and step; alpha = dt / tau, 1:
//                                                              plain)
//   GRU (gates r, z, n; PyTorch's order):
//          r = sigmoid(a_r),  z = sigmoid(a_z),
//          n = tanh(g_n[c] * (xz_n + r * hz_n) + beta_n[c]),  h' = (1 - z) * n + z * h
//   LSTM (gates i, f, g, o; PyTorch's order), with the cell state C:
//          i = sigmoid(a_i), f = sigmoid(a_f), u = tanh(a_g), o = sigmoid(a_o),
//          C' = f * C + i * u,  h' = o * tanh(C')
// The layer's output at step t is h'. In a modulated recurrent network W and U are fixed random
// (regenerated from the seed) and only g and beta learn; a trainable one learns W and U too.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace locus::neuromod {

enum class LayerKind {
  kDenseGaussian,  // every weight N(0, (init_scale)^2 / fan_in)
  kSparseBinary,   // each unit sums exactly sparse_k distinct random inputs, weight init_scale
};
enum class Activation {
  kIdentity,
  kRelu,
  kTanh,
  kSoftplus,  // log(1 + e^v), as NeuroGym's and Yang et al.'s rate networks use
};
// The memory of a layer (see the file comment for the equations).
enum class Recurrence {
  kNone,   // feed-forward: each row on its own
  kElman,  // vanilla RNN with an optional leak alpha (a continuous-time RNN)
  kGru,
  kLstm,
};
// Gates of a recurrent layer: its weights and per-context gain and bias hold this many blocks of
// `units` (1 for feed-forward and Elman layers, 3 for GRU, 4 for LSTM).
std::size_t gate_count(Recurrence recurrence);
enum class ModulationSite { kPreActivation, kPostActivation };
enum class GainInit {
  kOnes,          // every gain 1: the context starts as the plain random network
  kXavierNormal,  // N(0, 2 / (units + 1)): PyTorch's xavier_normal_ on a (1, units) tensor
};
enum class ReadoutWeights { kFixedRandom, kTrainableShared, kTrainablePerContext };
enum class BiasKind { kNone, kShared, kPerContext };

struct LayerSpec {
  std::size_t units = 0;
  LayerKind kind = LayerKind::kDenseGaussian;
  std::size_t sparse_k = 0;        // inputs per unit; kSparseBinary only
  float init_scale = 1.0f;         // see LayerKind
  bool trainable_weights = false;  // a baseline trains them; a modulated network keeps them fixed
  bool center = false;             // subtract the per-row mean over the layer's units
  Activation activation = Activation::kRelu;
  bool gain = true;   // a learned gain vector per context
  bool bias = false;  // a learned bias vector per context
  ModulationSite site = ModulationSite::kPreActivation;
  GainInit gain_init = GainInit::kOnes;
  // Recurrent layers only (recurrence != kNone); they take dense weights, the pre-activation site
  // and no centering. GRU and LSTM use tanh (their candidate nonlinearity); Elman layers tanh,
  // relu or softplus.
  Recurrence recurrence = Recurrence::kNone;
  float recurrent_init_scale = 1.0f;  // U ~ N(0, recurrent_init_scale^2 / units)
  float alpha = 1.0f;                 // Elman: the leak dt / tau, in (0, 1]
  float recurrent_noise = 0.0f;       // Elman: std of the noise on each pre-activation, >= 0
};

struct HeadSpec {
  std::string name = "output";
  std::size_t units = 0;
  ReadoutWeights weights = ReadoutWeights::kFixedRandom;
  float init_scale = 1.0f;  // readout weights N(0, init_scale^2 / fan_in)
  BiasKind bias = BiasKind::kNone;
  bool output_gain = true;  // a learned scalar output gain per context (initialized to 1)
};

// The most units a layer, head or input may have: beyond any real network, and low enough that a
// mistyped width (1e8) is refused before anything is allocated.
inline constexpr std::size_t kMaxUnits = std::size_t{1} << 24;

// The most weight sets a network may have (NetworkSpec::weight_sets): a CUDA grid dimension's
// limit, which a strided batched GEMM over every set meets.
inline constexpr std::size_t kMaxWeightSets = 65535;

struct NetworkSpec {
  std::string name = "network";
  std::size_t input_dim = 0;
  std::vector<LayerSpec> layers;
  std::vector<HeadSpec> heads;
  std::uint64_t seed = 0;
  // Independent draws of every fixed weight (layers and fixed readouts): weight set s is the
  // network seed's draw s, and set 0 is the network a spec with one set has. Each context belongs
  // to one set (Network::add_context(weight_set)), so one network holds many agents that each
  // have their own random weights and contexts, and a batch mixing them runs as one batched
  // product per layer (a strided batched GEMM on CUDA). More than one set needs every shared
  // weight fixed (an agent's learned state lives in its contexts) and dense layers.
  std::size_t weight_sets = 1;

  // Throws InvalidArgumentError naming the first field that is out of range, or if the network's
  // weights cannot fit in the machine's available memory (weight_bytes()).
  void validate() const;
  // A lower bound of the bytes the network's shared weights take (every weight set's fixed
  // weights; trainable ones with their gradients), saturating instead of wrapping. The contexts
  // and the batch buffers come on top.
  std::uint64_t weight_bytes() const;
  // A lower bound of the bytes of the buffers one forward and backward pass over `rows` batch rows
  // keeps (each layer's values and gradients, the heads' outputs).
  std::uint64_t activation_bytes(std::uint64_t rows) const;
  // True if any layer is recurrent (the network then runs sequences: Network::forward_sequence).
  bool is_recurrent() const;
  // Width of the last layer (the heads' input); input_dim when there are no layers.
  std::size_t feature_dim() const;
  // Index of the head called `name`; throws InvalidArgumentError listing the heads if absent.
  std::size_t head_index(std::string_view head_name) const;
  // True if any weight shared by all contexts is trainable (a baseline or a hybrid network).
  bool has_trainable_shared_weights() const;
};

// JSON text of a spec and back (checkpoints store it; the CLI and sweeps read it). from_json
// rejects unknown keys and enum values, naming them and the allowed ones.
std::string to_json(const NetworkSpec& spec);
NetworkSpec network_spec_from_json(std::string_view json_text);

std::string_view to_string(LayerKind value);
std::string_view to_string(Activation value);
std::string_view to_string(Recurrence value);
std::string_view to_string(ModulationSite value);
std::string_view to_string(GainInit value);
std::string_view to_string(ReadoutWeights value);
std::string_view to_string(BiasKind value);

// A modulated MLP: fixed dense Gaussian layers (He scale, ReLU), per-context gain and bias before
// the activation, and one fixed random readout with a per-context output gain and bias.
NetworkSpec modulated_mlp(std::size_t input_dim, const std::vector<std::size_t>& hidden,
                          std::size_t outputs, std::uint64_t seed);
// The same shape as an ordinary MLP: every weight trainable (He init), per-layer biases (if
// with_biases), no gains, a trainable readout. Used with one context.
NetworkSpec baseline_mlp(std::size_t input_dim, const std::vector<std::size_t>& hidden,
                         std::size_t outputs, std::uint64_t seed, bool with_biases = true);
// A recurrent network of one `recurrence` layer of `hidden` units and a readout of `outputs`.
// modulated: fixed random W and U (recurrent_init_scale 1), a per-context gain and bias on every
// gate unit, a fixed random readout with a per-context bias and output gain (a checkpoint is the
// seed and the contexts). Otherwise an ordinary RNN: W, U and the readout trainable, a bias, no
// gain, for one context. Elman layers use tanh and leak `alpha`.
NetworkSpec recurrent_network(Recurrence recurrence, std::size_t input_dim, std::size_t hidden,
                              std::size_t outputs, std::uint64_t seed, bool modulated,
                              float alpha = 1.0f);
// Replaces the heads of `spec` with an actor-critic pair: "policy" (num_actions logits) and "value"
// (one unit), both read from the same trunk with `weights`, a per-context bias and no output gain
// (head_index("policy") == 0, head_index("value") == 1).
void set_actor_critic_heads(NetworkSpec& spec, std::size_t num_actions,
                            ReadoutWeights weights = ReadoutWeights::kTrainablePerContext);

}  // namespace locus::neuromod
