#include "agents/agent_env.hpp"

#include "envs/registry.hpp"

namespace locus::agents {

envs::VectorEnv make_agent_env(const AgentConfig& config, std::size_t num_envs) {
  envs::VectorEnvOptions options;
  options.autoreset_mode = envs::AutoresetMode::kSameStep;
  options.num_threads = 1;  // parallelism comes from running agents side by side
  return envs::make_vec(config.env, num_envs, config.env_kwargs, options);
}

const envs::Info& step_info(const envs::VectorEnv& env, std::size_t i) {
  return env.has_final(i) ? env.final_info(i) : env.info(i);
}

bool bool_info(const envs::Info& info, std::string_view key) {
  const auto* value = info.find(key);
  return value != nullptr && std::holds_alternative<bool>(*value) && std::get<bool>(*value);
}

std::optional<std::int64_t> int_info(const envs::Info& info, std::string_view key) {
  const auto* value = info.find(key);
  if (value == nullptr || !std::holds_alternative<std::int64_t>(*value)) return std::nullopt;
  return std::get<std::int64_t>(*value);
}

}  // namespace locus::agents
