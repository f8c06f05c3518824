#pragma once
// Registration of the environments that ship with locus. Each family of environments provides one
// function; Registry::global() calls them all once, on first use.

namespace locus::envs {

class Registry;

void register_classic_control_envs(Registry& registry);
void register_cognitive_envs(Registry& registry);
void register_sequence_envs(Registry& registry);

inline void register_builtin_envs(Registry& registry) {
  register_classic_control_envs(registry);
  register_cognitive_envs(registry);
  register_sequence_envs(registry);
}

}  // namespace locus::envs
