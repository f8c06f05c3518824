#include "envs/plugin.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>

#include "envs/errors.hpp"
#include "envs/registry.hpp"

namespace locus::envs {

namespace {
// Which loaded plugin registered each id (absolute paths).
std::mutex plugin_ids_mutex;
std::map<std::string, std::string, std::less<>>& plugin_of_id() {
  static std::map<std::string, std::string, std::less<>> ids;
  return ids;
}
}  // namespace

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
  const std::string absolute = std::filesystem::absolute(path).lexically_normal().string();
  const std::lock_guard<std::mutex> guard(plugin_ids_mutex);
  for (const auto& id : added) plugin_of_id()[id] = absolute;
  return added;
}

std::optional<std::string> plugin_registering(std::string_view env_id) {
  const std::lock_guard<std::mutex> guard(plugin_ids_mutex);
  const auto found = plugin_of_id().find(env_id);
  if (found == plugin_of_id().end()) return std::nullopt;
  return found->second;
}

void load_plugin_for(const std::string& env_id, const std::string& plugin) {
  if (plugin.empty() || Registry::global().contains(env_id)) return;
  const std::string hint = " (the run's env " + env_id + " came from the plugin " + plugin +
                           "; give its new path with --plugin PATH)";
  if (!std::filesystem::exists(plugin)) {
    throw PluginError("plugin '" + plugin + "' does not exist" + hint);
  }
  const std::vector<std::string> added = load_plugin(plugin);
  if (std::find(added.begin(), added.end(), env_id) == added.end()) {
    throw PluginError("plugin '" + plugin + "' does not register " + env_id + hint);
  }
}

}  // namespace locus::envs
