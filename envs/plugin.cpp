#include "envs/plugin.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>

#include "envs/errors.hpp"
#include "envs/registry.hpp"

namespace locus::envs {

std::vector<std::string> load_plugin(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    throw PluginError("plugin '" + path +
                      "' does not exist; give the path of a shared library (.so)");
  }
  Registry& registry = Registry::global();
  std::vector<std::string> before;
  for (const auto& spec : registry.all()) before.push_back(spec->id);

  // dlopen() treats a bare file name as a search-path lookup; make relative paths explicit.
  std::string load_path = path;
  if (load_path.find('/') == std::string::npos) load_path = "./" + load_path;
  // RTLD_NOW surfaces missing symbols here rather than at a later call; the handle is kept open
  // for the life of the process because the registered factories live in the library.
  void* handle = dlopen(load_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    throw PluginError("cannot load plugin '" + path + "': " + (reason ? reason : "unknown error") +
                      " (is it a shared library built against this version of locus?)");
  }
  std::vector<std::string> added;
  for (const auto& spec : registry.all()) {
    if (std::find(before.begin(), before.end(), spec->id) == before.end()) {
      added.push_back(spec->id);
    }
  }
  if (added.empty()) {
    throw PluginError("plugin '" + path +
                      "' registered no environment; register one with LOCUS_REGISTER_ENV "
                      "(see docs/envs.md, 'Custom environments')");
  }
  return added;
}

}  // namespace locus::envs
