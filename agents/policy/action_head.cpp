#include "agents/policy/action_head.hpp"

#include <fmt/format.h>

#include "agents/errors.hpp"
#include "agents/policy/categorical_head.hpp"
#include "agents/policy/gaussian_head.hpp"

namespace locus::agents {

std::unique_ptr<ActionHead> make_action_head(const envs::VectorEnv& env, std::string_view env_id,
                                             float init_log_std) {
  const auto& space = env.single_action_space();
  if (const auto* discrete = dynamic_cast<const envs::Discrete*>(&space)) {
    return std::make_unique<CategoricalHead>(static_cast<std::size_t>(discrete->n()),
                                             discrete->start());
  }
  if (const auto* box = dynamic_cast<const envs::Box*>(&space);
      box != nullptr && box->dtype() == envs::DType::kFloat32) {
    return std::make_unique<GaussianHead>(box->low(), box->high(), init_log_std);
  }
  throw ConfigError(fmt::format(
      "env {}: action space {} is not supported (Discrete for a categorical policy, a float32 Box "
      "for a Gaussian one)",
      env_id, space.to_string()));
}

}  // namespace locus::agents
