#include "neuromod/spec.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "config/enum_names.hpp"
#include "config/json.hpp"
#include "config/reader.hpp"
#include "neuromod/errors.hpp"
#include "util/memory.hpp"

namespace locus::neuromod {

namespace {

template <typename Enum, std::size_t N>
using EnumNames = config::EnumNames<Enum, N>;

constexpr EnumNames<LayerKind, 2> kLayerKindNames{
    {{{LayerKind::kDenseGaussian, "dense_gaussian"}, {LayerKind::kSparseBinary, "sparse_binary"}}}};
constexpr EnumNames<Activation, 4> kActivationNames{{{{Activation::kIdentity, "identity"},
                                                      {Activation::kRelu, "relu"},
                                                      {Activation::kTanh, "tanh"},
                                                      {Activation::kSoftplus, "softplus"}}}};
constexpr EnumNames<Recurrence, 4> kRecurrenceNames{{{{Recurrence::kNone, "none"},
                                                      {Recurrence::kElman, "elman"},
                                                      {Recurrence::kGru, "gru"},
                                                      {Recurrence::kLstm, "lstm"}}}};
constexpr EnumNames<ModulationSite, 2> kSiteNames{
    {{{ModulationSite::kPreActivation, "pre_activation"},
      {ModulationSite::kPostActivation, "post_activation"}}}};
constexpr EnumNames<GainInit, 2> kGainInitNames{
    {{{GainInit::kOnes, "ones"}, {GainInit::kXavierNormal, "xavier_normal"}}}};
constexpr EnumNames<ReadoutWeights, 3> kReadoutNames{
    {{{ReadoutWeights::kFixedRandom, "fixed_random"},
      {ReadoutWeights::kTrainableShared, "trainable_shared"},
      {ReadoutWeights::kTrainablePerContext, "trainable_per_context"}}}};
constexpr EnumNames<BiasKind, 3> kBiasNames{{{{BiasKind::kNone, "none"},
                                              {BiasKind::kShared, "shared"},
                                              {BiasKind::kPerContext, "per_context"}}}};

template <typename Enum, std::size_t N>
Enum parse_enum(const EnumNames<Enum, N>& names, const std::string& text, std::string_view field) {
  if (const auto value = names.find(text)) return *value;
  throw InvalidArgumentError("network spec: " +
                             config::unknown_name_message(field, text, names.names()));
}

// The spec's objects are read by the project's config reader (config/reader.hpp): counts are whole
// numbers in range, floats finite within float's range, unknown keys refused with the closest one.
config::Reader spec_reader(const nlohmann::json& object, std::string where) {
  if (!object.is_object()) {
    throw InvalidArgumentError(fmt::format("network spec: {} must be a JSON object", where));
  }
  return config::Reader(object, "network spec: " + where,
                        {.raise = &config::raise_as<InvalidArgumentError>});
}

template <typename Enum, std::size_t N>
Enum read_enum(config::Reader& reader, const EnumNames<Enum, N>& names, std::string_view key,
               Enum fallback) {
  return parse_enum(names, reader.get<std::string>(key, std::string(names.name(fallback))), key);
}

LayerSpec read_layer(const nlohmann::json& object) {
  config::Reader reader = spec_reader(object, "a layer");
  const LayerSpec defaults;
  LayerSpec layer;
  layer.units = reader.require<std::size_t>("units");
  layer.kind = read_enum(reader, kLayerKindNames, "kind", defaults.kind);
  layer.sparse_k = reader.get<std::size_t>("sparse_k", defaults.sparse_k);
  layer.init_scale = reader.get<float>("init_scale", defaults.init_scale);
  layer.trainable_weights = reader.get<bool>("trainable_weights", defaults.trainable_weights);
  layer.center = reader.get<bool>("center", defaults.center);
  layer.activation = read_enum(reader, kActivationNames, "activation", defaults.activation);
  layer.gain = reader.get<bool>("gain", defaults.gain);
  layer.bias = reader.get<bool>("bias", defaults.bias);
  layer.site = read_enum(reader, kSiteNames, "site", defaults.site);
  layer.gain_init = read_enum(reader, kGainInitNames, "gain_init", defaults.gain_init);
  layer.recurrence = read_enum(reader, kRecurrenceNames, "recurrence", defaults.recurrence);
  layer.recurrent_init_scale =
      reader.get<float>("recurrent_init_scale", defaults.recurrent_init_scale);
  layer.alpha = reader.get<float>("alpha", defaults.alpha);
  layer.recurrent_noise = reader.get<float>("recurrent_noise", defaults.recurrent_noise);
  reader.finish();
  return layer;
}

HeadSpec read_head(const nlohmann::json& object) {
  config::Reader reader = spec_reader(object, "a head");
  HeadSpec head;
  head.name = reader.get<std::string>("name", head.name);
  head.units = reader.require<std::size_t>("units");
  head.weights = read_enum(reader, kReadoutNames, "weights", head.weights);
  head.init_scale = reader.get<float>("init_scale", head.init_scale);
  head.bias = read_enum(reader, kBiasNames, "bias", head.bias);
  head.output_gain = reader.get<bool>("output_gain", head.output_gain);
  reader.finish();
  return head;
}

// A list of layers or heads: an absent key is an empty list.
const nlohmann::json& list_of(config::Reader& reader, std::string_view key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const nlohmann::json* list = reader.get_raw(key);
  if (list == nullptr) return kEmpty;
  if (!list->is_array()) reader.fail(fmt::format("'{}' must be a list, got {}", key, list->dump()));
  return *list;
}

void validate_recurrent_layer(const std::string& name, std::size_t l, const LayerSpec& layer) {
  const auto kind = to_string(layer.recurrence);
  auto refuse = [&](std::string_view what) {
    throw InvalidArgumentError(
        fmt::format("network spec '{}': layer {} is a {} layer: {}", name, l, kind, what));
  };
  if (layer.kind != LayerKind::kDenseGaussian)
    refuse("recurrent layers take dense_gaussian weights");
  if (layer.center) refuse("recurrent layers do not center (set center to false)");
  if (layer.site != ModulationSite::kPreActivation) {
    refuse("recurrent layers modulate before the activation (site pre_activation)");
  }
  if (layer.recurrence == Recurrence::kElman) {
    if (layer.activation == Activation::kIdentity) {
      refuse("an Elman layer needs a nonlinearity: tanh, relu or softplus");
    }
  } else if (layer.activation != Activation::kTanh) {
    refuse("GRU and LSTM layers use tanh for their candidate (set activation to tanh)");
  }
  if (!std::isfinite(layer.recurrent_init_scale)) refuse("recurrent_init_scale must be finite");
  if (!(layer.alpha > 0.0f && layer.alpha <= 1.0f)) {
    refuse(fmt::format("alpha = {} must be in (0, 1] (dt / tau)", layer.alpha));
  }
  if (layer.recurrence != Recurrence::kElman && layer.alpha != 1.0f) {
    refuse("only Elman layers leak (alpha must be 1)");
  }
  if (!(layer.recurrent_noise >= 0.0f) || !std::isfinite(layer.recurrent_noise)) {
    refuse(fmt::format("recurrent_noise = {} must be finite and >= 0", layer.recurrent_noise));
  }
  if (layer.recurrence != Recurrence::kElman && layer.recurrent_noise != 0.0f) {
    refuse("only Elman layers take recurrent_noise");
  }
}

}  // namespace

std::string_view to_string(LayerKind value) {
  return kLayerKindNames.name(value);
}
std::string_view to_string(Activation value) {
  return kActivationNames.name(value);
}
std::string_view to_string(Recurrence value) {
  return kRecurrenceNames.name(value);
}
std::size_t gate_count(Recurrence recurrence) {
  switch (recurrence) {
    case Recurrence::kGru:
      return 3;
    case Recurrence::kLstm:
      return 4;
    default:
      return 1;
  }
}
std::string_view to_string(ModulationSite value) {
  return kSiteNames.name(value);
}
std::string_view to_string(GainInit value) {
  return kGainInitNames.name(value);
}
std::string_view to_string(ReadoutWeights value) {
  return kReadoutNames.name(value);
}
std::string_view to_string(BiasKind value) {
  return kBiasNames.name(value);
}

void NetworkSpec::validate() const {
  if (input_dim == 0) {
    throw InvalidArgumentError("network spec '" + name + "': input_dim must be positive, got 0");
  }
  if (input_dim > kMaxUnits) {
    throw InvalidArgumentError(fmt::format("network spec '{}': input_dim {} must be at most {}",
                                           name, input_dim, kMaxUnits));
  }
  std::size_t fan_in = input_dim;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const LayerSpec& layer = layers[l];
    if (layer.units == 0) {
      throw InvalidArgumentError(
          fmt::format("network spec '{}': layer {} has 0 units; units must be positive", name, l));
    }
    if (layer.units > kMaxUnits) {
      throw InvalidArgumentError(fmt::format("network spec '{}': layer {} has {} units; at most {}",
                                             name, l, layer.units, kMaxUnits));
    }
    if (layer.kind == LayerKind::kSparseBinary &&
        (layer.sparse_k == 0 || layer.sparse_k > fan_in)) {
      throw InvalidArgumentError(
          fmt::format("network spec '{}': layer {} sparse_k = {} must be in [1, {}] (its fan-in)",
                      name, l, layer.sparse_k, fan_in));
    }
    if (!std::isfinite(layer.init_scale)) {
      throw InvalidArgumentError(
          fmt::format("network spec '{}': layer {} init_scale must be finite", name, l));
    }
    if (layer.recurrence != Recurrence::kNone) validate_recurrent_layer(name, l, layer);
    if (layer.center && layer.units < 2) {
      throw InvalidArgumentError(fmt::format(
          "network spec '{}': layer {} centers {} unit; centering needs at least 2 units", name, l,
          layer.units));
    }
    fan_in = layer.units;
  }
  if (heads.empty()) {
    throw InvalidArgumentError("network spec '" + name + "': at least one head is required");
  }
  if (weight_sets == 0 || weight_sets > kMaxWeightSets) {
    throw InvalidArgumentError(fmt::format("network spec '{}': weight_sets = {} must be in [1, {}]",
                                           name, weight_sets, kMaxWeightSets));
  }
  std::set<std::string> head_names;
  for (std::size_t h = 0; h < heads.size(); ++h) {
    const HeadSpec& head = heads[h];
    if (head.units == 0 || head.units > kMaxUnits) {
      throw InvalidArgumentError(
          fmt::format("network spec '{}': head '{}' has {} units; units must be in [1, {}]", name,
                      head.name, head.units, kMaxUnits));
    }
    if (head.name.empty() || !head_names.insert(head.name).second) {
      throw InvalidArgumentError(fmt::format(
          "network spec '{}': head {} name '{}' must be non-empty and unique", name, h, head.name));
    }
    if (!std::isfinite(head.init_scale)) {
      throw InvalidArgumentError(
          fmt::format("network spec '{}': head '{}' init_scale must be finite", name, head.name));
    }
  }
  if (weight_sets > 1) {
    for (std::size_t l = 0; l < layers.size(); ++l) {
      if (layers[l].recurrence != Recurrence::kNone) {
        throw InvalidArgumentError(fmt::format(
            "network spec '{}': layer {} is recurrent; weight_sets = {} needs feed-forward layers "
            "(use one recurrent network per weight set)",
            name, l, weight_sets));
      }
      if (layers[l].kind == LayerKind::kSparseBinary) {
        throw InvalidArgumentError(fmt::format(
            "network spec '{}': layer {} is sparse; weight_sets = {} needs dense layers (use "
            "dense_gaussian, or one network per weight set)",
            name, l, weight_sets));
      }
    }
    if (has_trainable_shared_weights()) {
      throw InvalidArgumentError(fmt::format(
          "network spec '{}': weight_sets = {} needs every shared weight fixed (no trainable layer "
          "weights, shared readouts or shared biases): each set's learned state lives in its "
          "contexts; use per_context readouts and biases, or one network per set",
          name, weight_sets));
    }
  }
  util::require_memory<InvalidArgumentError>(weight_bytes(),
                                             fmt::format("network spec '{}' (its weights)", name),
                                             "use narrower or fewer layers, or fewer weight sets");
}

std::uint64_t NetworkSpec::weight_bytes() const {
  using util::saturating_add, util::saturating_mul;
  constexpr std::uint64_t kFloat = sizeof(float);
  std::uint64_t bytes = 0;
  std::uint64_t fan_in = input_dim;
  for (const LayerSpec& layer : layers) {
    // A sparse layer keeps sparse_k weights and their input indices per unit.
    // A recurrent layer also has its recurrent weight, and each weight one block per gate.
    const std::uint64_t per_unit =
        layer.kind == LayerKind::kSparseBinary
            ? 2 * layer.sparse_k
            : saturating_add(fan_in, layer.recurrence == Recurrence::kNone ? 0 : layer.units);
    const std::uint64_t copies = layer.trainable_weights ? 2 : weight_sets;
    bytes =
        saturating_add(bytes, saturating_mul(saturating_mul(per_unit, layer.units, copies, kFloat),
                                             gate_count(layer.recurrence)));
    fan_in = layer.units;
  }
  for (const HeadSpec& head : heads) {
    const std::uint64_t copies = head.weights == ReadoutWeights::kFixedRandom ? weight_sets : 2;
    bytes = saturating_add(bytes, saturating_mul(fan_in, head.units, copies, kFloat));
  }
  return bytes;
}

std::uint64_t NetworkSpec::activation_bytes(std::uint64_t rows) const {
  using util::saturating_add, util::saturating_mul;
  // Per row: the input; per layer its linear, saved and output values and a gradient (a recurrent
  // layer: per gate unit its input and recurrent sums, gate values and their gradient, plus its
  // state, noise and state gradients); per head its linear values and outputs.
  std::uint64_t floats = input_dim;
  for (const LayerSpec& layer : layers) {
    const std::uint64_t per_unit =
        layer.recurrence == Recurrence::kNone ? 4 : 4 * gate_count(layer.recurrence) + 4;
    floats = saturating_add(floats, saturating_mul(per_unit, layer.units));
  }
  for (const HeadSpec& head : heads) floats = saturating_add(floats, 2 * head.units);
  return saturating_mul(floats, rows, sizeof(float));
}

bool NetworkSpec::is_recurrent() const {
  for (const LayerSpec& layer : layers) {
    if (layer.recurrence != Recurrence::kNone) return true;
  }
  return false;
}

std::size_t NetworkSpec::feature_dim() const {
  return layers.empty() ? input_dim : layers.back().units;
}

std::size_t NetworkSpec::head_index(std::string_view head_name) const {
  std::string known;
  for (std::size_t h = 0; h < heads.size(); ++h) {
    if (heads[h].name == head_name) return h;
    known += (known.empty() ? "" : ", ") + heads[h].name;
  }
  throw InvalidArgumentError(
      fmt::format("network '{}' has no head '{}' (heads: {})", name, head_name, known));
}

bool NetworkSpec::has_trainable_shared_weights() const {
  for (const auto& layer : layers) {
    if (layer.trainable_weights) return true;
  }
  for (const auto& head : heads) {
    if (head.weights == ReadoutWeights::kTrainableShared || head.bias == BiasKind::kShared) {
      return true;
    }
  }
  return false;
}

std::string to_json(const NetworkSpec& spec) {
  nlohmann::json j;
  j["name"] = spec.name;
  j["input_dim"] = spec.input_dim;
  j["seed"] = spec.seed;
  // Written only when used, so a one-set spec reads the same as before sets existed.
  if (spec.weight_sets != 1) j["weight_sets"] = spec.weight_sets;
  j["layers"] = nlohmann::json::array();
  for (const auto& layer : spec.layers) {
    j["layers"].push_back({{"units", layer.units},
                           {"kind", to_string(layer.kind)},
                           {"sparse_k", layer.sparse_k},
                           {"init_scale", layer.init_scale},
                           {"trainable_weights", layer.trainable_weights},
                           {"center", layer.center},
                           {"activation", to_string(layer.activation)},
                           {"gain", layer.gain},
                           {"bias", layer.bias},
                           {"site", to_string(layer.site)},
                           {"gain_init", to_string(layer.gain_init)}});
    // Written only for recurrent layers, so a feed-forward spec reads as before they existed.
    if (layer.recurrence != Recurrence::kNone) {
      auto& jl = j["layers"].back();
      jl["recurrence"] = to_string(layer.recurrence);
      jl["recurrent_init_scale"] = layer.recurrent_init_scale;
      jl["alpha"] = layer.alpha;
      jl["recurrent_noise"] = layer.recurrent_noise;
    }
  }
  j["heads"] = nlohmann::json::array();
  for (const auto& head : spec.heads) {
    j["heads"].push_back({{"name", head.name},
                          {"units", head.units},
                          {"weights", to_string(head.weights)},
                          {"init_scale", head.init_scale},
                          {"bias", to_string(head.bias)},
                          {"output_gain", head.output_gain}});
  }
  return j.dump();
}

NetworkSpec network_spec_from_json(std::string_view json_text) {
  nlohmann::json j;
  try {
    j = config::parse_json(json_text, "network spec");
  } catch (const config::ParseError& error) {
    throw InvalidArgumentError(error.what());
  }
  config::Reader reader = spec_reader(j, "the spec");
  NetworkSpec spec;
  spec.name = reader.get<std::string>("name", spec.name);
  spec.input_dim = reader.require<std::size_t>("input_dim");
  spec.seed = reader.get<std::uint64_t>("seed", 0);
  spec.weight_sets = reader.get<std::size_t>("weight_sets", 1);
  for (const auto& layer : list_of(reader, "layers")) spec.layers.push_back(read_layer(layer));
  for (const auto& head : list_of(reader, "heads")) spec.heads.push_back(read_head(head));
  reader.finish();
  spec.validate();
  return spec;
}

NetworkSpec modulated_mlp(std::size_t input_dim, const std::vector<std::size_t>& hidden,
                          std::size_t outputs, std::uint64_t seed) {
  NetworkSpec spec;
  spec.name = "modulated_mlp";
  spec.input_dim = input_dim;
  spec.seed = seed;
  for (std::size_t units : hidden) {
    LayerSpec layer;
    layer.units = units;
    layer.init_scale = std::sqrt(2.0f);  // He: keeps the ReLU activations' scale across layers
    layer.gain = true;
    layer.bias = true;
    spec.layers.push_back(layer);
  }
  HeadSpec head;
  head.units = outputs;
  head.weights = ReadoutWeights::kFixedRandom;
  head.bias = BiasKind::kPerContext;
  head.output_gain = true;
  spec.heads.push_back(head);
  spec.validate();
  return spec;
}

NetworkSpec baseline_mlp(std::size_t input_dim, const std::vector<std::size_t>& hidden,
                         std::size_t outputs, std::uint64_t seed, bool with_biases) {
  NetworkSpec spec;
  spec.name = "baseline_mlp";
  spec.input_dim = input_dim;
  spec.seed = seed;
  for (std::size_t units : hidden) {
    LayerSpec layer;
    layer.units = units;
    layer.init_scale = std::sqrt(2.0f);
    layer.trainable_weights = true;
    layer.gain = false;
    layer.bias = with_biases;  // per context; a baseline has exactly one
    spec.layers.push_back(layer);
  }
  HeadSpec head;
  head.units = outputs;
  head.weights = ReadoutWeights::kTrainableShared;
  head.bias = with_biases ? BiasKind::kShared : BiasKind::kNone;
  head.output_gain = false;
  spec.heads.push_back(head);
  spec.validate();
  return spec;
}

NetworkSpec recurrent_network(Recurrence recurrence, std::size_t input_dim, std::size_t hidden,
                              std::size_t outputs, std::uint64_t seed, bool modulated,
                              float alpha) {
  if (recurrence == Recurrence::kNone) {
    throw InvalidArgumentError("recurrent_network: recurrence must be elman, gru or lstm");
  }
  NetworkSpec spec;
  spec.name = fmt::format("{}_{}", modulated ? "modulated" : "trainable", to_string(recurrence));
  spec.input_dim = input_dim;
  spec.seed = seed;
  LayerSpec layer;
  layer.units = hidden;
  layer.recurrence = recurrence;
  layer.activation = Activation::kTanh;
  layer.alpha = alpha;
  layer.trainable_weights = !modulated;
  layer.gain = modulated;
  layer.bias = true;  // per context; an ordinary RNN has exactly one
  spec.layers.push_back(layer);
  HeadSpec head;
  head.units = outputs;
  head.weights = modulated ? ReadoutWeights::kFixedRandom : ReadoutWeights::kTrainableShared;
  head.bias = modulated ? BiasKind::kPerContext : BiasKind::kShared;
  head.output_gain = modulated;
  spec.heads.push_back(head);
  spec.validate();
  return spec;
}

void set_actor_critic_heads(NetworkSpec& spec, std::size_t num_actions, ReadoutWeights weights) {
  if (num_actions == 0) {
    throw InvalidArgumentError("set_actor_critic_heads: num_actions must be positive, got 0");
  }
  HeadSpec policy;
  policy.name = "policy";
  policy.units = num_actions;
  policy.weights = weights;
  policy.init_scale = 0.01f;  // near-uniform initial policy, as is usual for actor-critic agents
  policy.bias = BiasKind::kPerContext;
  policy.output_gain = false;
  HeadSpec value;
  value.name = "value";
  value.units = 1;
  value.weights = weights;
  value.bias = BiasKind::kPerContext;
  value.output_gain = false;
  spec.heads = {policy, value};
  spec.validate();
}

}  // namespace locus::neuromod
