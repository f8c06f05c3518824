#pragma once
// The environment registry: ids `[namespace/]Name[-vN]`, register(), make() and spec lookup with
// Gymnasium 1.x's rules (an unversioned id resolves to the latest version with a warning, an old
// version is reported as deprecated, an unknown name fails with close matches).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "envs/env.hpp"

namespace locus::envs {

using EnvFactory = std::function<std::unique_ptr<Env>(const Kwargs& kwargs)>;

// The factory of an Env subclass constructible from Kwargs.
template <class EnvClass>
EnvFactory env_factory() {
  return
      [](const Kwargs& kwargs) { return std::unique_ptr<Env>(std::make_unique<EnvClass>(kwargs)); };
}

struct EnvId {
  std::optional<std::string> ns;
  std::string name;
  std::optional<int> version;
  std::string to_string() const;
};
// Parses `[ns/]Name[-vN]`; throws UnknownEnvError naming the malformed id and the expected form.
EnvId parse_env_id(std::string_view id);

struct EnvSpec {
  std::string id;
  EnvFactory entry_point;
  std::optional<double> reward_threshold;
  bool nondeterministic = false;
  std::optional<std::int64_t> max_episode_steps;  // applied by make() through TimeLimit
  bool order_enforce = true;                      // make() applies OrderEnforcing
  bool disable_env_checker = false;               // make() applies PassiveEnvChecker otherwise
  Kwargs kwargs = Kwargs::object();               // defaults, overridden by make()'s kwargs
  std::string description;                        // one line, shown by `locus envs`
  // Set by register_env.
  std::optional<std::string> ns;
  std::string name;
  std::optional<int> version;

  nlohmann::json to_json() const;
};

struct MakeOptions {
  std::optional<std::int64_t> max_episode_steps;  // overrides the spec's
  // Gymnasium's default: the passive checker is applied unless the spec or this disables it.
  std::optional<bool> disable_env_checker;
  std::optional<std::string> render_mode;
};

class Registry {
 public:
  // The process-wide registry, with the built-in environments registered on first use.
  static Registry& global();

  // Throws RegistrationError if the id is taken or malformed.
  void register_env(EnvSpec spec);
  bool contains(std::string_view id) const;
  // Resolves an id with Gymnasium's version rules; throws UnknownEnvError with close matches.
  std::shared_ptr<const EnvSpec> spec(std::string_view id) const;
  std::vector<std::shared_ptr<const EnvSpec>> all() const;  // sorted by id
  std::unique_ptr<Env> make(std::string_view id, const Kwargs& kwargs = Kwargs::object(),
                            const MakeOptions& options = {}) const;
  // Ids whose edit distance to `id` is small, best first (for error messages).
  std::vector<std::string> close_matches(std::string_view id, std::size_t max_results = 3) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<const EnvSpec>> specs_;
};

inline void register_env(EnvSpec spec) {
  Registry::global().register_env(std::move(spec));
}
inline std::unique_ptr<Env> make(std::string_view id, const Kwargs& kwargs = Kwargs::object(),
                                 const MakeOptions& options = {}) {
  return Registry::global().make(id, kwargs, options);
}

// Registers an Env subclass constructible from Kwargs, at static-initialization time:
//   LOCUS_REGISTER_ENV(MyEnv, "MyEnv-v0", .max_episode_steps = 200);
// The designated initializers set any EnvSpec field besides id and entry_point.
#define LOCUS_REGISTER_ENV(EnvClass, env_id, ...)                          \
  static const bool locus_registered_##EnvClass = [] {                     \
    ::locus::envs::EnvSpec locus_spec{__VA_ARGS__};                        \
    locus_spec.id = env_id;                                                \
    locus_spec.entry_point = ::locus::envs::env_factory<EnvClass>();       \
    ::locus::envs::Registry::global().register_env(std::move(locus_spec)); \
    return true;                                                           \
  }()

}  // namespace locus::envs
