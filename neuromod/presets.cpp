#include "neuromod/presets.hpp"

#include <fmt/format.h>

#include "neuromod/errors.hpp"

namespace locus::neuromod {

TrainingPreset hong_pavlic_2022(std::uint64_t seed) {
  TrainingPreset preset;
  preset.name = "hong_pavlic_2022";
  preset.reference = "arXiv:2204.04297 (Hong & Pavlic, Learning to Modulate Random Weights)";
  NetworkSpec& spec = preset.network;
  spec.name = "hong_pavlic_2022";
  spec.input_dim = 784;
  spec.seed = seed;
  LayerSpec projection;
  projection.units = 7840;
  projection.kind = LayerKind::kSparseBinary;
  projection.sparse_k = 7;
  projection.init_scale = 1.0f;  // binary: each chosen input counts once
  projection.trainable_weights = false;
  projection.center = true;
  projection.activation = Activation::kRelu;
  projection.gain = true;
  projection.bias = false;
  projection.site = ModulationSite::kPostActivation;  // c * h
  projection.gain_init = GainInit::kXavierNormal;
  spec.layers.push_back(projection);
  HeadSpec readout;
  readout.name = "output";
  readout.units = 10;
  readout.weights = ReadoutWeights::kFixedRandom;
  readout.bias = BiasKind::kNone;
  readout.output_gain = true;  // s
  spec.heads.push_back(readout);
  spec.validate();
  preset.optimizer.kind = OptimizerKind::kRmsprop;
  preset.optimizer.learning_rate = 1e-2f;
  preset.gradient_mode = GradientMode::kContextOnly;
  preset.batch_size = 128;
  preset.epochs_per_task = 3;
  return preset;
}

TrainingPreset ngm_mlp_2025(std::uint64_t seed) {
  TrainingPreset preset;
  preset.name = "ngm_mlp_2025";
  preset.reference = "arXiv:2507.14056 (noradrenergic gain modulation), MNIST MLP";
  preset.network = baseline_mlp(784, {400, 400}, 10, seed, /*with_biases=*/false);
  preset.network.name = "ngm_mlp_2025";
  preset.optimizer.kind = OptimizerKind::kSgd;
  preset.optimizer.learning_rate = 0.01f;
  preset.gradient_mode = GradientMode::kAllTrainable;
  preset.batch_size = 128;
  preset.epochs_per_task = 1;
  preset.uses_ngm = true;
  preset.ngm.gamma = 0.9f;
  preset.ngm.g0 = 1.0f;
  preset.ngm.eta = 0.4f;
  preset.ngm.target.placement = GainPlacement::kEveryLayer;
  return preset;
}

std::vector<std::string> preset_names() {
  return {"hong_pavlic_2022", "ngm_mlp_2025"};
}

TrainingPreset find_preset(std::string_view name, std::uint64_t seed) {
  if (name == "hong_pavlic_2022" || name == "arXiv:2204.04297") return hong_pavlic_2022(seed);
  if (name == "ngm_mlp_2025" || name == "arXiv:2507.14056") return ngm_mlp_2025(seed);
  throw InvalidArgumentError(
      fmt::format("unknown preset '{}'; presets: hong_pavlic_2022 (arXiv:2204.04297), ngm_mlp_2025 "
                  "(arXiv:2507.14056)",
                  name));
}

}  // namespace locus::neuromod
