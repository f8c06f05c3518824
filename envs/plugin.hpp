#pragma once
// Loading environments from a shared library at run time (`locus train --plugin libmyenv.so`).
//
// A plugin is an ordinary shared library that links locus_envs and registers its environments
// with LOCUS_REGISTER_ENV (static initialization runs when the library is loaded). Because
// locus_envs is itself a shared library, the plugin and the program share one registry.

#include <string>
#include <vector>

namespace locus::envs {

// Loads the library at `path` and returns the ids it registered. Throws PluginError when the
// library cannot be loaded (with the loader's reason) or registers no environment.
std::vector<std::string> load_plugin(const std::string& path);

}  // namespace locus::envs
