#pragma once
// Loading environments from a shared library at run time (`locus train --plugin libmyenv.so`).
//
// A plugin is an ordinary shared library that links locus_envs and registers its environments
// with LOCUS_REGISTER_ENV (static initialization runs when the library is loaded). Because
// locus_envs is itself a shared library, the plugin and the program share one registry.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace locus::envs {

// Loads the library at `path` and returns the ids it registered. Throws PluginError when the
// library cannot be loaded (with the loader's reason) or registers no environment.
std::vector<std::string> load_plugin(const std::string& path);

// The absolute path of the plugin loaded by this process that registered `env_id`, if one did: a
// training run records it (RunConfig::plugin) so that evaluating or resuming the run finds the env.
std::optional<std::string> plugin_registering(std::string_view env_id);

// Makes `env_id` available from `plugin` (a path; empty: none): loads it unless the id is
// registered already. Throws PluginError when the plugin cannot be loaded or does not register
// the id, naming the --plugin flag that overrides a plugin that has moved.
void load_plugin_for(const std::string& env_id, const std::string& plugin);

}  // namespace locus::envs
