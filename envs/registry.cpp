#include "envs/registry.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

#include "config/reader.hpp"
#include "envs/builtin_envs.hpp"
#include "envs/wrappers/env_checker.hpp"
#include "envs/wrappers/order_enforcing.hpp"
#include "envs/wrappers/time_limit.hpp"

namespace locus::envs {

namespace {

// Gymnasium's id grammar: optional namespace, a name, optional -vN.
const std::regex& id_pattern() {
  static const std::regex pattern(R"(^(?:([\w:.-]+)/)?([\w:.-]+?)(?:-v(\d+))?$)");
  return pattern;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string same_family(const EnvSpec& spec) {
  return (spec.ns ? *spec.ns + "/" : std::string()) + spec.name;
}

}  // namespace

std::string EnvId::to_string() const {
  return (ns ? *ns + "/" : std::string()) + name +
         (version ? "-v" + std::to_string(*version) : std::string());
}

EnvId parse_env_id(std::string_view id) {
  std::match_results<std::string_view::const_iterator> match;
  if (!std::regex_match(id.begin(), id.end(), match, id_pattern())) {
    throw UnknownEnvError("malformed environment id '" + std::string(id) +
                          "': expected [namespace/]Name[-vN], e.g. 'CartPole-v1'");
  }
  EnvId parsed;
  if (match[1].matched) parsed.ns = match[1].str();
  parsed.name = match[2].str();
  if (match[3].matched) parsed.version = std::stoi(match[3].str());
  return parsed;
}

nlohmann::json EnvSpec::to_json() const {
  nlohmann::json j;
  j["id"] = id;
  j["reward_threshold"] = reward_threshold ? nlohmann::json(*reward_threshold) : nlohmann::json();
  j["nondeterministic"] = nondeterministic;
  j["max_episode_steps"] =
      max_episode_steps ? nlohmann::json(*max_episode_steps) : nlohmann::json();
  j["order_enforce"] = order_enforce;
  j["disable_env_checker"] = disable_env_checker;
  j["kwargs"] = kwargs;
  j["description"] = description;
  return j;
}

Registry& Registry::global() {
  static Registry registry;
  static std::once_flag builtins_registered;
  std::call_once(builtins_registered, [] { register_builtin_envs(registry); });
  return registry;
}

void Registry::register_env(EnvSpec spec) {
  const EnvId parsed = parse_env_id(spec.id);
  if (!spec.entry_point) {
    throw RegistrationError("register_env('" + spec.id + "'): the entry point is empty");
  }
  if (spec.max_episode_steps && *spec.max_episode_steps <= 0) {
    throw RegistrationError("register_env('" + spec.id +
                            "'): max_episode_steps must be positive, got " +
                            std::to_string(*spec.max_episode_steps));
  }
  if (spec.kwargs.is_null()) spec.kwargs = Kwargs::object();
  if (!spec.kwargs.is_object()) {
    throw RegistrationError("register_env('" + spec.id + "'): kwargs must be a JSON object");
  }
  spec.ns = parsed.ns;
  spec.name = parsed.name;
  spec.version = parsed.version;
  std::lock_guard lock(mutex_);
  for (const auto& existing : specs_) {
    if (existing->id == spec.id) {
      throw RegistrationError("environment id '" + spec.id +
                              "' is already registered; pick another name or version");
    }
  }
  auto shared = std::make_shared<const EnvSpec>(std::move(spec));
  auto pos = std::lower_bound(specs_.begin(), specs_.end(), shared,
                              [](const auto& a, const auto& b) { return a->id < b->id; });
  specs_.insert(pos, std::move(shared));
}

bool Registry::contains(std::string_view id) const {
  std::lock_guard lock(mutex_);
  return std::any_of(specs_.begin(), specs_.end(), [&](const auto& s) { return s->id == id; });
}

std::vector<std::shared_ptr<const EnvSpec>> Registry::all() const {
  std::lock_guard lock(mutex_);
  return specs_;
}

std::vector<std::string> Registry::close_matches(std::string_view id,
                                                 std::size_t max_results) const {
  const std::string wanted = lowercase(id);
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& spec : all()) {
    // Compare with and without the version so that "cartpole" finds "CartPole-v1".
    const std::size_t d = std::min(config::edit_distance(wanted, lowercase(spec->id)),
                                   config::edit_distance(wanted, lowercase(same_family(*spec))));
    const std::size_t tolerance = std::max<std::size_t>(2, wanted.size() / 3);
    if (d <= tolerance) scored.emplace_back(d, spec->id);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < scored.size() && i < max_results; ++i) {
    out.push_back(scored[i].second);
  }
  return out;
}

std::shared_ptr<const EnvSpec> Registry::spec(std::string_view id) const {
  const EnvId wanted = parse_env_id(id);
  const auto specs = all();
  std::vector<std::shared_ptr<const EnvSpec>> family;
  for (const auto& spec : specs) {
    if (spec->id == id) return spec;
    if (spec->ns == wanted.ns && spec->name == wanted.name) family.push_back(spec);
  }
  const std::string hint = " Run `locus envs` to list the registered environments.";
  if (family.empty()) {
    const bool namespace_known =
        !wanted.ns ||
        std::any_of(specs.begin(), specs.end(), [&](const auto& s) { return s->ns == wanted.ns; });
    std::string message = namespace_known
                              ? "environment '" + std::string(id) + "' doesn't exist."
                              : "namespace '" + *wanted.ns + "' doesn't exist (environment '" +
                                    std::string(id) + "').";
    const auto matches = close_matches(id);
    if (!matches.empty()) {
      message += " Did you mean: ";
      for (std::size_t i = 0; i < matches.size(); ++i) {
        message += (i ? ", '" : "'") + matches[i] + "'";
      }
      message += "?";
    }
    throw UnknownEnvError(message + hint);
  }
  std::shared_ptr<const EnvSpec> latest;
  std::string versions;
  for (const auto& spec : family) {
    if (spec->version && (!latest || *spec->version > *latest->version)) latest = spec;
    versions += (versions.empty() ? "" : ", ") + spec->id;
  }
  if (!wanted.version) {
    if (latest) {
      warn("using the latest versioned environment '" + latest->id +
           "' instead of the unversioned environment '" + std::string(id) + "'");
      return latest;
    }
  } else if (latest && *wanted.version < *latest->version) {
    throw UnknownEnvError("environment version v" + std::to_string(*wanted.version) + " of '" +
                          wanted.to_string() + "' is deprecated or unknown; please use '" +
                          latest->id + "' (registered: " + versions + ")." + hint);
  }
  throw UnknownEnvError("environment version of '" + std::string(id) +
                        "' doesn't exist; registered versions: " + versions + "." + hint);
}

std::unique_ptr<Env> Registry::make(std::string_view id, const Kwargs& kwargs,
                                    const MakeOptions& options) const {
  auto base_spec = spec(id);
  if (!kwargs.is_null() && !kwargs.is_object()) {
    throw InvalidArgumentError("make('" + base_spec->id + "'): kwargs must be a JSON object, got " +
                               kwargs.dump());
  }
  // The env's spec records what it was actually made with, as Gymnasium's env.spec does.
  auto made = std::make_shared<EnvSpec>(*base_spec);
  if (kwargs.is_object()) made->kwargs.update(kwargs);
  if (options.render_mode) made->kwargs["render_mode"] = *options.render_mode;
  if (options.max_episode_steps) {
    if (*options.max_episode_steps <= 0) {
      throw InvalidArgumentError("make('" + made->id +
                                 "'): max_episode_steps must be positive, got " +
                                 std::to_string(*options.max_episode_steps));
    }
    made->max_episode_steps = options.max_episode_steps;
  }
  const bool disable_checker = options.disable_env_checker.value_or(made->disable_env_checker);
  made->disable_env_checker = disable_checker;

  std::unique_ptr<Env> env = made->entry_point(made->kwargs);
  if (!env) throw InvalidArgumentError("make('" + made->id + "'): the entry point returned null");
  std::shared_ptr<const EnvSpec> spec_for_env = made;
  env->set_spec(spec_for_env);
  // Gymnasium's order: env -> PassiveEnvChecker -> OrderEnforcing -> TimeLimit.
  if (!disable_checker) env = std::make_unique<PassiveEnvChecker>(std::move(env));
  if (made->order_enforce) env = std::make_unique<OrderEnforcing>(std::move(env));
  if (made->max_episode_steps) {
    env = std::make_unique<TimeLimit>(std::move(env), *made->max_episode_steps);
  }
  return env;
}

}  // namespace locus::envs
