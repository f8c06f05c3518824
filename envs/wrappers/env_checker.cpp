#include "envs/wrappers/env_checker.hpp"

#include <algorithm>
#include <cmath>

#include "envs/registry.hpp"

namespace locus::envs {

namespace {

using Messages = std::vector<std::string>;

[[noreturn]] void fail(const std::string& check, const std::string& why) {
  throw CheckError("check failed: " + check + ": " + why);
}

std::string describe(const Space& space, std::span<const std::byte> packed) {
  try {
    return space.unpack(packed).to_string();
  } catch (const std::exception&) {
    return "(unreadable)";
  }
}

// Python's spelling of non-finite floats, so messages read "nan" rather than "-nan".
std::string number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return std::to_string(v);
}

// NaN or infinity anywhere in a packed value; only float Boxes can hold them.
bool has_non_finite(const Space& space, std::span<const std::byte> packed) {
  if (const auto* box = dynamic_cast<const Box*>(&space)) {
    if (box->dtype() == DType::kFloat32) {
      const auto values = as_span<float>(packed);
      return std::any_of(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
    }
    if (box->dtype() == DType::kFloat64) {
      const auto values = as_span<double>(packed);
      return std::any_of(values.begin(), values.end(), [](double v) { return !std::isfinite(v); });
    }
    return false;
  }
  if (const auto* composite = dynamic_cast<const CompositeSpace*>(&space)) {
    const auto& children = composite->spaces();
    for (std::size_t i = 0; i < children.size(); ++i) {
      const auto bytes = packed.subspan(composite->offset(i), children[i]->packed_bytes());
      if (has_non_finite(*children[i], bytes)) return true;
    }
  }
  return false;
}

// gymnasium.utils.passive_env_checker.check_space: what Gymnasium asserts throws, what it warns
// about is appended to `warnings`.
void check_space(const Space& space, const std::string& type, Messages& warnings) {
  switch (space.kind()) {
    case SpaceKind::kBox: {
      const auto& box = dynamic_cast<const Box&>(space);
      bool equal = false;
      bool inverted = false;
      for (std::size_t i = 0; i < box.low().size(); ++i) {
        equal = equal || box.low()[i] == box.high()[i];
        inverted = inverted || box.high()[i] < box.low()[i];
      }
      if (equal) {
        warnings.push_back("A Box " + type +
                           " space maximum and minimum values are equal: " + box.to_string());
      } else if (inverted && type == "observation") {
        warnings.push_back("A Box " + type +
                           " space low value is greater than a high value: " + box.to_string());
      }
      break;
    }
    case SpaceKind::kDiscrete:
      if (dynamic_cast<const Discrete&>(space).n() <= 0) {
        fail(type + " space", "Discrete " + type +
                                  " space's number of elements must be positive, got " +
                                  space.to_string());
      }
      break;
    case SpaceKind::kMultiDiscrete: {
      const auto& nvec = dynamic_cast<const MultiDiscrete&>(space).nvec();
      if (std::any_of(nvec.begin(), nvec.end(), [](std::int64_t n) { return n <= 0; })) {
        fail(type + " space", "Multi-discrete " + type +
                                  " space's nvec elements must all be greater than 0, got " +
                                  space.to_string());
      }
      break;
    }
    case SpaceKind::kMultiBinary: {
      const auto& shape = dynamic_cast<const MultiBinary&>(space).shape();
      if (std::any_of(shape.begin(), shape.end(), [](std::int64_t n) { return n <= 0; })) {
        fail(type + " space", "Multi-binary " + type +
                                  " space's shape elements must all be greater than 0, got " +
                                  space.to_string());
      }
      break;
    }
    case SpaceKind::kTuple:
    case SpaceKind::kDict: {
      const bool is_tuple = space.kind() == SpaceKind::kTuple;
      const auto& children = is_tuple ? dynamic_cast<const Tuple&>(space).spaces()
                                      : dynamic_cast<const Dict&>(space).spaces();
      if (children.empty()) {
        fail(type + " space", std::string("An empty ") + (is_tuple ? "Tuple " : "Dict ") + type +
                                  " space is not allowed");
      }
      for (const auto& child : children) check_space(*child, type, warnings);
      break;
    }
  }
}

// gymnasium.utils.env_checker.check_space_limit.
void check_space_limit(const Space& space, const std::string& type, Messages& warnings) {
  if (const auto* box = dynamic_cast<const Box*>(&space)) {
    const auto& low = box->low();
    const auto& high = box->high();
    if (std::any_of(low.begin(), low.end(), [](double v) { return v == -INFINITY; })) {
      warnings.push_back("A Box " + type + " space minimum value is -infinity. This is probably " +
                         "too low.");
    }
    if (std::any_of(high.begin(), high.end(), [](double v) { return v == INFINITY; })) {
      warnings.push_back("A Box " + type +
                         " space maximum value is infinity. This is probably too high.");
    }
    if (type == "action" && box->shape().size() == 1) {
      bool unnormalized = false;
      for (std::size_t i = 0; i < low.size(); ++i) {
        unnormalized = unnormalized || (low[i] != 0 && std::abs(low[i]) != std::abs(high[i])) ||
                       low[i] < -1 || high[i] > 1;
      }
      if (unnormalized) {
        warnings.push_back(
            "For Box action spaces, we recommend using a symmetric and normalized space "
            "(range=[-1, 1] or [0, 1]); got " +
            box->to_string());
      }
    }
  } else if (const auto* tuple = dynamic_cast<const Tuple*>(&space)) {
    for (const auto& child : tuple->spaces()) check_space_limit(*child, type, warnings);
  } else if (const auto* dict = dynamic_cast<const Dict*>(&space)) {
    for (const auto& child : dict->spaces()) check_space_limit(*child, type, warnings);
  }
}

// gymnasium.utils.passive_env_checker.env_render_passive_checker, on an env whose render mode is
// set (or that renders without one).
std::string check_render(Env& env, Messages& warnings) {
  const EnvMetadata& metadata = env.metadata();
  if (!metadata.render_modes.empty()) {
    if (metadata.render_fps < 0) {
      fail("render", "expects metadata().render_fps to be greater than zero, got " +
                         number(metadata.render_fps));
    }
    if (metadata.render_fps == 0) {
      warnings.push_back(
          "No render fps was declared in the environment (metadata().render_fps is 0), rendering "
          "may occur at inconsistent fps.");
    }
  }
  std::string frame = env.render();
  const auto& mode = env.render_mode();
  if (mode && (*mode == "ansi" || *mode == "ascii") && frame.empty()) {
    warnings.push_back("The " + *mode + " rendering of " + env.name() + " is an empty string.");
  }
  return frame;
}

bool nondeterministic(const Env& env) {
  return env.spec() != nullptr && env.spec()->nondeterministic;
}

// np.allclose(a, b, rtol=1e-5, atol=1e-5) for one element: equal infinities match, NaN never.
bool close(double a, double b) {
  if (a == b) return true;
  if (!std::isfinite(a) || !std::isfinite(b)) return false;
  return std::abs(a - b) <= 1e-5 + 1e-5 * std::abs(b);
}

bool array_equivalence(const Array& a, const Array& b, bool exact) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  if (!is_floating(a.dtype())) {
    if (exact) return std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin());
    for (std::int64_t i = 0; i < a.size(); ++i) {
      if (!close(a.get_double(i), b.get_double(i))) return false;
    }
    return true;
  }
  for (std::int64_t i = 0; i < a.size(); ++i) {
    const double x = a.get_double(i);
    const double y = b.get_double(i);
    if (exact ? !(x == y) : !close(x, y)) return false;
  }
  return true;
}

bool info_value_equivalence(const InfoValue& a, const InfoValue& b, bool exact) {
  if (a.index() != b.index()) return false;  // Python: type(a) is not type(b)
  if (const auto* x = std::get_if<Array>(&a))
    return array_equivalence(*x, std::get<Array>(b), exact);
  if (const auto* x = std::get_if<InfoBox>(&a)) {
    return data_equivalence(x->get(), std::get<InfoBox>(b).get(), exact);
  }
  // Python scalars and strings compare with ==, whatever `exact` says.
  return a == b;
}

struct Transition {
  std::vector<std::byte> observation;
  StepOutcome outcome;
  Info info;
};

}  // namespace

bool data_equivalence(const Value& a, const Value& b, bool exact) {
  if (a.is_array() && b.is_array()) return array_equivalence(a.array(), b.array(), exact);
  if (a.is_tuple() && b.is_tuple()) {
    const auto& x = a.tuple();
    const auto& y = b.tuple();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!data_equivalence(x[i], y[i], exact)) return false;
    }
    return true;
  }
  if (a.is_dict() && b.is_dict()) {
    const auto& x = a.dict();
    const auto& y = b.dict();
    if (x.keys != y.keys) return false;
    for (std::size_t i = 0; i < x.values.size(); ++i) {
      if (!data_equivalence(x.values[i], y.values[i], exact)) return false;
    }
    return true;
  }
  return false;
}

bool data_equivalence(const Info& a, const Info& b, bool exact) {
  // Python compares dict keys as sets: insertion order does not matter.
  if (a.size() != b.size()) return false;
  for (const auto& entry : a.entries()) {
    const InfoValue* other = b.find(entry.key);
    if (other == nullptr || !info_value_equivalence(entry.value, *other, exact)) return false;
  }
  return true;
}

PassiveEnvChecker::PassiveEnvChecker(std::unique_ptr<Env> env) : Wrapper(std::move(env)) {
  if (observation_space_ptr() == nullptr || action_space_ptr() == nullptr) {
    throw CheckError(env_->name() +
                     " has no observation or action space; set both in its constructor");
  }
  Messages warnings;
  check_space(action_space(), "action", warnings);
  check_space(observation_space(), "observation", warnings);
  for (const auto& message : warnings) warn(env_->name() + ": " + message);
  // Gymnasium's PassiveEnvChecker.spec reports disable_env_checker=False; copy only when it
  // differs so that make()'s stack shares one spec.
  if (spec() != nullptr && spec()->disable_env_checker) {
    auto checked = std::make_shared<EnvSpec>(*spec());
    checked->disable_env_checker = false;
    set_spec(std::move(checked));
  }
}

void PassiveEnvChecker::reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                                   std::span<std::byte> observation, Info& info) {
  Wrapper::reset_impl(seed, options, observation, info);
  if (checked_reset_) return;
  checked_reset_ = true;
  if (!observation_space().contains_packed(observation)) {
    warn(env_->name() +
         ": The obs returned by the `reset()` method is not within the observation "
         "space: " +
         describe(observation_space(), observation) + " not in " + observation_space().to_string());
  }
  if (has_non_finite(observation_space(), observation)) {
    warn(env_->name() + ": The obs returned by the `reset()` method contains NaN or infinity: " +
         describe(observation_space(), observation));
  }
}

StepOutcome PassiveEnvChecker::step_impl(std::span<const std::byte> action,
                                         std::span<std::byte> observation, Info& info) {
  const StepOutcome outcome = Wrapper::step_impl(action, observation, info);
  if (checked_step_) return outcome;
  checked_step_ = true;
  if (!observation_space().contains_packed(observation)) {
    warn(env_->name() +
         ": The obs returned by the `step()` method is not within the observation "
         "space: " +
         describe(observation_space(), observation) + " not in " + observation_space().to_string());
  }
  if (has_non_finite(observation_space(), observation)) {
    warn(env_->name() + ": The obs returned by the `step()` method contains NaN or infinity: " +
         describe(observation_space(), observation));
  }
  if (std::isnan(outcome.reward)) warn(env_->name() + ": The reward is a NaN value.");
  if (std::isinf(outcome.reward)) warn(env_->name() + ": The reward is an inf value.");
  return outcome;
}

std::string PassiveEnvChecker::render() {
  if (checked_render_) return Wrapper::render();
  checked_render_ = true;
  Messages warnings;
  std::string frame;
  try {
    frame = check_render(*env_, warnings);
  } catch (const CheckError& e) {
    // Gymnasium asserts here; a wrapper that make() adds only warns, and still renders.
    warn(env_->name() + ": " + e.what());
    return Wrapper::render();
  }
  for (const auto& message : warnings) warn(env_->name() + ": " + message);
  return frame;
}

CheckResult check_env(Env& env, const CheckOptions& options) {
  CheckResult result;
  Messages& warnings = result.warnings;
  const std::uint64_t seed = options.seed;
  const std::uint64_t other_seed = seed + 333;
  const std::string seeded = "env.reset(seed=" + std::to_string(seed) + ")";

  if (&env.unwrapped() != &env) {
    warnings.push_back("The environment (" + env.to_string() +
                       ") is different from the unwrapped version (" + env.unwrapped().to_string() +
                       "). This could affect the environment checker as the environment most "
                       "likely has a wrapper applied to it. We recommend using the raw environment "
                       "for check_env, env.unwrapped().");
  }
  if (env.observation_space_ptr() == nullptr || env.action_space_ptr() == nullptr) {
    fail("spaces", env.name() + " has no observation or action space; set both in its constructor");
  }
  Space& observations = env.observation_space();
  Space& actions = env.action_space();

  // ==== Spaces ====
  check_space(actions, "action", warnings);
  check_space_limit(actions, "action", warnings);
  check_space(observations, "observation", warnings);
  check_space_limit(observations, "observation", warnings);
  // The packed path relies on samples being members and on pack/unpack round-tripping.
  for (Space* space : {&observations, &actions}) {
    const std::string which = space == &observations ? "observation space" : "action space";
    space->seed(seed);
    std::vector<std::byte> packed(space->packed_bytes());
    for (int i = 0; i < 20; ++i) {
      const Value sample = space->sample();
      if (!space->contains(sample)) {
        fail(which, "sample " + sample.to_string() + " is not contained in " + space->to_string());
      }
      space->pack(sample, packed);
      if (!space->contains_packed(packed)) {
        fail(which, "the packed sample " + sample.to_string() + " is not contained in " +
                        space->to_string());
      }
      if (!(space->unpack(packed) == sample)) {
        fail(which, "pack/unpack does not round-trip " + sample.to_string());
      }
    }
  }
  result.passed.push_back("spaces are valid and sample members of themselves: " +
                          observations.to_string() + ", " + actions.to_string());

  // ==== reset() ====
  Info info;
  auto reset_into = [&](std::vector<std::byte>& obs, std::optional<std::uint64_t> s,
                        const std::string& call) {
    obs.resize(observations.packed_bytes());
    env.reset(obs, info, s);
    if (!observations.contains_packed(obs)) {
      fail("reset", "the observation returned by `" + call + "` " + describe(observations, obs) +
                        " is not within the observation space " + observations.to_string());
    }
  };
  std::vector<std::byte> obs_1;
  std::vector<std::byte> obs_2;
  std::vector<std::byte> obs_3;
  std::vector<std::byte> obs_4;
  reset_into(obs_1, std::nullopt, "env.reset()");
  if (has_non_finite(observations, obs_1)) {
    warnings.push_back("The obs returned by the `reset()` method contains NaN or infinity: " +
                       describe(observations, obs_1));
  }

  // ==== reset(seed) determinism (check_reset_seed_determinism) ====
  reset_into(obs_1, seed, seeded);
  const Rng rng_1 = env.np_random();
  reset_into(obs_2, std::nullopt, "env.reset()");
  reset_into(obs_3, seed, seeded);
  const Rng rng_3 = env.np_random();
  reset_into(obs_4, std::nullopt, "env.reset()");
  if (!nondeterministic(env)) {
    const Value v_1 = observations.unpack(obs_1);
    const Value v_2 = observations.unpack(obs_2);
    const Value v_3 = observations.unpack(obs_3);
    const Value v_4 = observations.unpack(obs_4);
    if (!data_equivalence(v_1, v_3)) {
      fail("reset(seed) determinism", "two calls of `" + seeded + "` gave different observations " +
                                          v_1.to_string() + " and " + v_3.to_string() +
                                          "; the initial state must come from np_random() only");
    }
    if (!data_equivalence(v_2, v_4)) {
      fail("reset(seed) determinism",
           "`" + seeded + "` then `env.reset()` gave different observations " + v_2.to_string() +
               " and " + v_4.to_string() + "; an unseeded reset must continue np_random()");
    }
    if (!data_equivalence(v_1, v_3, true)) {
      warnings.push_back("Using `" + seeded + "` observations are not equal although similar.");
    }
    if (!data_equivalence(v_2, v_4, true)) {
      warnings.push_back("Using `" + seeded +
                         "` then `env.reset()` observations are not equal although similar.");
    }
  }
  if (!(rng_1.bit_generator().state() == rng_3.bit_generator().state())) {
    fail("reset(seed) determinism",
         "np_random() is in different states after two calls of `" + seeded +
             "`; reset must draw the same numbers from np_random() each time it is seeded alike");
  }
  std::vector<std::byte> obs_5;
  reset_into(obs_5, other_seed, "env.reset(seed=" + std::to_string(other_seed) + ")");
  if (env.np_random().bit_generator().state() == rng_1.bit_generator().state()) {
    fail("reset(seed) seeding",
         "np_random() is in the same state after `env.reset(seed=" + std::to_string(other_seed) +
             ")` as after `" + seeded + "`; reset(seed) must reseed np_random() with the seed");
  }
  // Different seeds may give equal observations, but rarely every time.
  bool all_same = obs_5 == obs_1;
  for (std::uint64_t s = 1; s <= 3 && all_same; ++s) {
    reset_into(obs_5, seed + s, "env.reset(seed=" + std::to_string(seed + s) + ")");
    all_same = obs_5 == obs_1;
  }
  if (all_same) {
    warnings.push_back("reset() with five different seeds gave the same observation " +
                       describe(observations, obs_1) +
                       "; is the initial state drawn from np_random()?");
  }
  result.passed.push_back(
      "reset(seed) is deterministic, reseeds np_random() and returns "
      "observations in the observation space");

  // ==== reset(options={}) (check_reset_options) ====
  try {
    env.reset(obs_1, info, std::nullopt, Kwargs::object());
  } catch (const std::exception& e) {
    fail("reset options", std::string("env.reset(options={}) threw: ") + e.what());
  }

  // ==== step() outputs (env_step_passive_checker, fatal here) ====
  std::vector<std::byte> action(actions.packed_bytes());
  auto step_into = [&](Transition& t, const std::string& when) {
    t.observation.resize(observations.packed_bytes());
    t.outcome = env.step(action, t.observation, t.info);
    if (!observations.contains_packed(t.observation)) {
      fail("step", when + " the observation " + describe(observations, t.observation) +
                       " is not within the observation space " + observations.to_string());
    }
    if (!std::isfinite(t.outcome.reward)) {
      fail("step",
           when + " the reward is " + number(t.outcome.reward) + "; rewards must be finite");
    }
  };
  actions.seed(seed);
  actions.sample_packed(action);
  Transition first;
  step_into(first, "at the first step after reset");
  if (has_non_finite(observations, first.observation)) {
    warnings.push_back("The obs returned by the `step()` method contains NaN or infinity: " +
                       describe(observations, first.observation));
  }
  result.passed.push_back(
      "step() returns an observation in the observation space and a finite "
      "reward");

  // ==== step determinism (check_step_determinism) ====
  if (!nondeterministic(env)) {
    actions.seed(seed);
    actions.sample_packed(action);
    const std::string action_text = describe(actions, action);
    Transition t_0;
    Transition t_1;
    env.reset(obs_1, info, seed);
    step_into(t_0, "after `" + seeded + "`,");
    const Rng rng_0 = env.np_random();
    env.reset(obs_1, info, seed);
    step_into(t_1, "after `" + seeded + "`,");
    const std::string context = " after `" + seeded + "` and step(" + action_text + ")";
    if (!(env.np_random().bit_generator().state() == rng_0.bit_generator().state())) {
      fail("step determinism", "np_random() is in different states" + context);
    }
    const Value o_0 = observations.unpack(t_0.observation);
    const Value o_1 = observations.unpack(t_1.observation);
    if (!data_equivalence(o_0, o_1)) {
      fail("step determinism", "the observations " + o_0.to_string() + " and " + o_1.to_string() +
                                   context + " are not equivalent");
    }
    if (!data_equivalence(o_0, o_1, true)) {
      warnings.push_back(
          "Step observations are not equal although similar given the same seed and action");
    }
    if (!(t_0.outcome.reward == t_1.outcome.reward)) {
      fail("step determinism", "the rewards " + number(t_0.outcome.reward) + " and " +
                                   number(t_1.outcome.reward) + context + " differ");
    }
    if (t_0.outcome.terminated != t_1.outcome.terminated) {
      fail("step determinism", "terminated differs" + context);
    }
    if (t_0.outcome.truncated || t_1.outcome.truncated) {
      fail("step determinism",
           "the environment truncates after 1 step" + context + ", something has gone very wrong");
    }
    if (!data_equivalence(t_0.info, t_1.info)) {
      fail("step determinism", "the infos " + t_0.info.to_string() + " and " +
                                   t_1.info.to_string() + context + " are not equivalent");
    }
    if (!data_equivalence(t_0.info, t_1.info, true)) {
      warnings.push_back("Step info are not equal although similar given the same seed and action");
    }
    result.passed.push_back("step() is deterministic given the seed and the action");
  }

  // ==== A seeded random rollout, twice: the same trajectory and generator state ====
  auto rollout = [&](std::vector<std::byte>& trace) {
    actions.seed(seed);
    std::vector<std::byte> observation(observations.packed_bytes());
    env.reset(observation, info, seed);
    trace.insert(trace.end(), observation.begin(), observation.end());
    std::int64_t episodes = 0;
    Transition t;
    for (int i = 0; i < options.steps; ++i) {
      actions.sample_packed(action);
      step_into(t, "at step " + std::to_string(i) + " of the random rollout");
      trace.insert(trace.end(), t.observation.begin(), t.observation.end());
      const auto* reward_bytes = reinterpret_cast<const std::byte*>(&t.outcome.reward);
      trace.insert(trace.end(), reward_bytes, reward_bytes + sizeof(double));
      trace.push_back(std::byte(t.outcome.terminated ? 1 : 0));
      trace.push_back(std::byte(t.outcome.truncated ? 1 : 0));
      if (t.outcome.terminated || t.outcome.truncated) {
        ++episodes;
        reset_into(observation, std::nullopt, "env.reset()");
        trace.insert(trace.end(), observation.begin(), observation.end());
      }
    }
    return episodes;
  };
  std::vector<std::byte> trace_a;
  std::vector<std::byte> trace_b;
  result.episodes = rollout(trace_a);
  Rng after_a = env.np_random();
  rollout(trace_b);
  Rng after_b = env.np_random();
  if (!nondeterministic(env)) {
    if (trace_a != trace_b) {
      fail("seeded rollout determinism",
           "two random rollouts of " + std::to_string(options.steps) + " steps from `" + seeded +
               "` with the same actions gave different trajectories; the env must draw all its "
               "randomness from np_random()");
    }
    for (int i = 0; i < 4; ++i) {
      if (after_a.random() != after_b.random()) {
        fail("seeded rollout determinism",
             "after two identical seeded rollouts np_random() draws different numbers; the env "
             "must consume np_random() the same way given the same seed and actions");
      }
    }
  }
  result.steps = options.steps;
  result.passed.push_back("a seeded random rollout of " + std::to_string(options.steps) +
                          " steps is reproducible, with valid observations and finite rewards (" +
                          std::to_string(result.episodes) + " episodes ended)");

  // ==== render ====
  if (!options.skip_render_check) {
    if (env.render_mode()) {
      check_render(env, warnings);
      result.passed.push_back("render() works in render mode '" + *env.render_mode() + "'");
    }
    if (const EnvSpec* spec = env.spec()) {
      for (const auto& mode : env.metadata().render_modes) {
        Kwargs kwargs = spec->kwargs.is_object() ? spec->kwargs : Kwargs::object();
        kwargs["render_mode"] = mode;
        std::unique_ptr<Env> fresh;
        try {
          fresh = spec->entry_point(kwargs);
        } catch (const std::exception& e) {
          // Gymnasium would raise here; declared modes that the constructor refuses are worth
          // fixing but do not make the env unusable.
          warnings.push_back("the env declares render mode '" + mode + "' but making " + spec->id +
                             " with render_mode='" + mode + "' failed: " + e.what());
          continue;
        }
        fresh->reset();
        check_render(*fresh, warnings);
        fresh->close();
        result.passed.push_back("render() works when made with render_mode='" + mode + "'");
      }
    } else {
      warnings.push_back(
          "Not able to test alternative render modes due to the environment not having a spec. "
          "Try instantiating the environment through locus::envs::make");
    }
  }

  // ==== close() twice (gymnasium's skip_close_check) ====
  if (!options.skip_close_check && env.spec() != nullptr) {
    const EnvSpec& spec = *env.spec();
    auto fresh = spec.entry_point(spec.kwargs.is_object() ? spec.kwargs : Kwargs::object());
    fresh->close();
    try {
      fresh->close();
      result.passed.push_back("close() can be called twice");
    } catch (const std::exception& e) {
      warnings.push_back(
          std::string("Calling `env.close()` on the closed environment should be allowed, but it "
                      "raised an exception: ") +
          e.what());
    }
  }
  return result;
}

}  // namespace locus::envs
