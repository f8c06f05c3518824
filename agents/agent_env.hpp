#pragma once
// The agent's view of its envs: how an agent's VectorEnv is made, and what it reads from the
// envs' infos (trial ends, correctness, ground truth).

#include <cstdint>
#include <optional>
#include <string_view>

#include "agents/config.hpp"
#include "envs/vector_env.hpp"

namespace locus::agents {

// `num_envs` envs of the config's id and kwargs, SameStep autoreset (a truncated episode's final
// observation is there to bootstrap from), stepped on the calling thread.
envs::VectorEnv make_agent_env(const AgentConfig& config, std::size_t num_envs);

// The info of env i's last step: the ended episode's when it was autoreset in that step.
const envs::Info& step_info(const envs::VectorEnv& env, std::size_t i);

// info[key] when it is a bool (an int) of that value; false (nullopt) otherwise.
bool bool_info(const envs::Info& info, std::string_view key);
std::optional<std::int64_t> int_info(const envs::Info& info, std::string_view key);

}  // namespace locus::agents
