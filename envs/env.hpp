#pragma once
// The environment interface: Gymnasium 1.x's Env in C++.
//
// Two ways to drive an env:
//  - the allocation-free path (EnvPool's pattern): reset()/step() write the observation into a
//    caller-provided buffer in the observation space's packed layout and take the action packed in
//    the action space's layout. VectorEnv uses it to write straight into batch buffers.
//  - the convenient path: reset()/step() return owned Values, as in Python.
//
// Public methods check their inputs (buffer sizes, the action against the action space, reset
// before step) and then call the protected virtual *_impl methods that an env implements.

#include <cstdint>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/reader.hpp"
#include "envs/array.hpp"
#include "envs/info.hpp"
#include "envs/rng.hpp"
#include "envs/space.hpp"

namespace locus::envs {

// make() keyword arguments and reset() options: a JSON object, as a Python dict would be.
using Kwargs = nlohmann::json;

struct EnvSpec;

struct StepOutcome {
  double reward = 0.0;
  bool terminated = false;  // an MDP terminal state
  bool truncated = false;   // ended for another reason (a time limit)
};

struct ResetResult {
  Value observation;
  Info info;
};

struct StepResult {
  Value observation;
  double reward = 0.0;
  bool terminated = false;
  bool truncated = false;
  Info info;
};

// How the bytes of a step's action are laid out. Gymnasium hands an env the action object it was
// given, and an env that clips its Box action itself (Pendulum, MountainCarContinuous) computes
// with that object's precision, so such an env gets a float32 Box action given in float64 as it is.
enum class ActionForm : std::uint8_t {
  kPacked,   // the action space's packed layout (float32 for a float32 Box)
  kFloat64,  // a float32 Box's elements as doubles, from a float64 (or integer or bool) array
  // The same from Python numbers (a list): numpy treats them as "weak" scalars that take the
  // dtype of what they meet (NEP 50), which changes the rounding of some envs' arithmetic.
  kPythonFloats,
};

struct EnvMetadata {
  std::vector<std::string> render_modes;  // e.g. {"ansi"}
  double render_fps = 0.0;
};

class Env {
 public:
  virtual ~Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  Space& observation_space() { return *observation_space_; }
  const Space& observation_space() const { return *observation_space_; }
  Space& action_space() { return *action_space_; }
  const Space& action_space() const { return *action_space_; }
  const SpacePtr& observation_space_ptr() const { return observation_space_; }
  const SpacePtr& action_space_ptr() const { return action_space_; }
  const EnvMetadata& metadata() const { return metadata_; }
  const std::optional<std::string>& render_mode() const { return render_mode_; }
  // The registration this env was made from (null when constructed directly).
  const EnvSpec* spec() const { return spec_.get(); }
  const std::shared_ptr<const EnvSpec>& spec_ptr() const { return spec_; }
  void set_spec(std::shared_ptr<const EnvSpec> spec) { spec_ = std::move(spec); }

  // Allocation-free path. `observation` must be observation_space().packed_bytes() long and
  // `action` action_space().packed_bytes() long. `info` is cleared first.
  // `seed`: any non-negative integer, as numpy's SeedSequence takes (Seed converts from uint64).
  void reset(std::span<std::byte> observation, Info& info,
             const std::optional<Seed>& seed = std::nullopt, const Kwargs& options = {});
  StepOutcome step(std::span<const std::byte> action, std::span<std::byte> observation, Info& info);

  // Convenient path.
  ResetResult reset(const std::optional<Seed>& seed = std::nullopt, const Kwargs& options = {});
  // A float32 Box's action may also be a float64, integer or bool array of the Box's shape, as
  // Gymnasium's envs take one (see step_float64).
  StepResult step(const Value& action);

  // Steps a float32 Box env with an action given as doubles (`form` kFloat64 or kPythonFloats),
  // one per element of the Box. An env that takes raw Box actions (takes_raw_box_actions()) gets
  // them as they are; any other is stepped with them rounded to float32, as numpy's astype does,
  // and checked against the space as usual.
  StepOutcome step_float64(std::span<const double> action, ActionForm form,
                           std::span<std::byte> observation, Info& info);

  // Whether the env, like its Gymnasium twin, clips its float32 Box action itself: step() then
  // accepts actions outside the Box (not NaN), and float64 actions reach it unrounded.
  bool takes_raw_box_actions() const { return raw_box_actions_; }
  // Whether step() would accept `action` (in the packed layout): in the action space or, for an
  // env that takes raw Box actions, any value but NaN. VectorEnv checks a batch with it.
  bool accepts_packed_action(std::span<const std::byte> action) const {
    return action_in_space(action);
  }

  // Text rendering of the current state ("ansi" mode); throws if the env has no such mode.
  virtual std::string render();
  virtual void close() {}

  // The generator behind the env's randomness: reset(seed) seeds it; unseeded it draws fresh
  // entropy on first use, as Gymnasium does.
  virtual Rng& np_random();
  // The innermost env of a wrapper chain.
  virtual Env& unwrapped() { return *this; }
  // The env's class name, e.g. "CartPoleEnv".
  virtual std::string name() const = 0;
  // Gymnasium's str(env): "<TimeLimit<OrderEnforcing<CartPoleEnv<CartPole-v1>>>>".
  virtual std::string to_string() const;

  // Whether reset() was called, and whether the last step ended the episode.
  bool has_reset() const { return has_reset_; }
  bool episode_over() const { return episode_over_; }

  // Whether save_state()/restore_state() capture this env completely (its fields, its np_random
  // and, for a wrapper, everything it wraps), so that a restored copy steps exactly as the saved
  // one.
  virtual bool supports_state() const { return false; }
  // The env's state as JSON (doubles written so they round-trip exactly; RNG state included; see
  // envs/state_json.hpp for the forms). Throws UnsupportedStateError when !supports_state().
  nlohmann::json save_state() const;
  // Restores a state from save_state() of an env made the same way (same id and kwargs). Checks
  // it: a missing or wrongly typed field, a value out of range or a state of another env class
  // throws InvalidArgumentError naming the field; the env is unchanged when it throws.
  void restore_state(const nlohmann::json& state);

 protected:
  Env() = default;
  // Called after the base class has checked the buffer and, if `seed` is given, reseeded
  // np_random(). Wrappers forward `seed` to the env they wrap.
  virtual void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                          std::span<std::byte> observation, Info& info) = 0;
  // Called after the base class has checked the buffers and that `action` is in the action space.
  virtual StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                                Info& info) = 0;

  // The env's own fields for save_state() ("fields" in the state), and their restoration. The base
  // class saves and restores its part (has_reset(), episode_over(), np_random) around them, before
  // restore_state_impl runs. An implementation checks what it reads (through StateReader) and may
  // throw part-way: restore_state() then puts the state from before back. Defaults throw
  // UnsupportedStateError.
  virtual nlohmann::json save_state_impl() const;
  virtual void restore_state_impl(const nlohmann::json& fields);

  // Spaces never change their packed layout, so its size is read once here for step()'s checks.
  void set_observation_space(SpacePtr space) {
    observation_bytes_ = space ? space->packed_bytes() : 0;
    observation_space_ = std::move(space);
  }
  void set_action_space(SpacePtr space) {
    action_bytes_ = space ? space->packed_bytes() : 0;
    discrete_actions_ = dynamic_cast<const Discrete*>(space.get());
    raw_box_actions_ = false;
    action_space_ = std::move(space);
  }
  // For an env whose Gymnasium twin clips its float32 Box action itself (call after
  // set_action_space): actions outside the Box are accepted (step_impl clips them), and a float64
  // action reaches step_impl as doubles, with action_form() saying so.
  void take_raw_box_actions();
  // The layout of the action that step_impl is running with.
  ActionForm action_form() const { return action_form_; }
  void set_render_mode(std::optional<std::string> mode);  // checked against metadata_
  EnvMetadata metadata_;

 private:
  // VectorEnv validates a whole batch of actions and buffers once, then steps each sub-env through
  // this, so the per-env checks of step() are not repeated 1024 times per vector step. A Wrapper
  // steps the env it wraps through this when that env shares its spaces, so that make()'s stack
  // (TimeLimit, OrderEnforcing, PassiveEnvChecker, env) checks an action once, at the outermost
  // layer, with that layer's error messages (see Wrapper::step_impl).
  friend class VectorEnv;
  friend class Wrapper;
  [[gnu::always_inline]] StepOutcome step_validated(std::span<const std::byte> action,
                                                    std::span<std::byte> observation, Info& info);
  // step(const Value&) into a caller's buffers.
  StepOutcome step_value(const Value& action, std::span<std::byte> observation, Info& info);
  // step_float64's checked path for an env that takes raw Box actions; `action` holds doubles.
  StepOutcome step_raw_float64(std::span<const std::byte> action, ActionForm form,
                               std::span<std::byte> observation, Info& info);
  // contains_packed() of the action space; a Discrete one, as most tasks have, checked inline.
  bool action_in_space(std::span<const std::byte> action) const {
    if (raw_box_actions_) return !has_nan_float32(action);
    if (discrete_actions_ != nullptr) {
      std::int64_t a = 0;
      std::memcpy(&a, action.data(), sizeof a);  // step() checked that the buffer holds 8 bytes
      return a >= discrete_actions_->start() &&
             static_cast<std::uint64_t>(a) -
                     static_cast<std::uint64_t>(discrete_actions_->start()) <
                 static_cast<std::uint64_t>(discrete_actions_->n());
    }
    return action_space_->contains_packed(action);
  }

  static bool has_nan_float32(std::span<const std::byte> action);
  // step()'s slow paths, out of line so that the inlined checks stay a few compares.
  [[noreturn]] void throw_buffer_error(std::size_t got, std::size_t expected,
                                       const char* what) const;
  [[noreturn]] void throw_step_error(std::span<const std::byte> action,
                                     std::span<std::byte> observation) const;
  [[noreturn]] void throw_invalid_action(std::span<const std::byte> action) const;
  void warn_step_after_end();
  [[noreturn]] void throw_unsupported_state(const char* what) const;
  // restore_state() without its rollback.
  void apply_state(const nlohmann::json& state);
  SpacePtr observation_space_;
  SpacePtr action_space_;
  std::size_t observation_bytes_ = 0;           // observation_space_->packed_bytes()
  std::size_t action_bytes_ = 0;                // action_space_->packed_bytes()
  const Discrete* discrete_actions_ = nullptr;  // action_space_ when it is a Discrete
  bool raw_box_actions_ = false;                // take_raw_box_actions() was called
  ActionForm action_form_ = ActionForm::kPacked;
  // The action that step_validated() is running with, i.e. one already checked against
  // action_space_: a wrapper forwards it unchecked only when it is this very action.
  const std::byte* checked_action_ = nullptr;
  std::optional<std::string> render_mode_;
  std::shared_ptr<const EnvSpec> spec_;
  std::unique_ptr<Rng> np_random_;
  std::vector<std::byte> scratch_action_;  // convenient path: the packed action
  bool has_reset_ = false;
  bool episode_over_ = false;
  bool warned_step_after_end_ = false;
};

// step() and step_validated() are inline: a make() stack runs them once per layer, and a call
// into the shared library (which could be interposed) costs as much as the checks themselves.
inline StepOutcome Env::step(std::span<const std::byte> action, std::span<std::byte> observation,
                             Info& info) {
  if (action.size() != action_bytes_ || observation.size() != observation_bytes_ || !has_reset_)
      [[unlikely]] {
    throw_step_error(action, observation);
  }
  if (!action_in_space(action)) [[unlikely]]
    throw_invalid_action(action);
  if (episode_over_ && !warned_step_after_end_) [[unlikely]]
    warn_step_after_end();
  return step_validated(action, observation, info);
}

inline StepOutcome Env::step_validated(std::span<const std::byte> action,
                                       std::span<std::byte> observation, Info& info) {
  info.clear();
  // Cleared on the way out (exceptions included), so that a later call of a wrapper's step_impl
  // from outside a step cannot match a stale pointer.
  struct CheckedAction {
    const std::byte*& slot;
    ~CheckedAction() { slot = nullptr; }
  } checked{checked_action_};
  checked_action_ = action.data();
  const StepOutcome outcome = step_impl(action, observation, info);
  episode_over_ = episode_over_ || outcome.terminated || outcome.truncated;
  return outcome;
}

// An env's keyword arguments or reset options, read by the project's one config reader
// (config/reader.hpp: typed getters, range checks, unknown keys refused with the closest accepted
// one), refusing with InvalidArgumentError so that callers of envs catch their own class.
class KwargsReader : public config::Reader {
 public:
  KwargsReader(const Kwargs& kwargs, std::string context);
};

// Warnings of the env API (Gymnasium's logger.warn). Printed to stderr unless a handler is set
// (the Python bindings route them to warnings.warn).
void warn(const std::string& message);
void set_warning_handler(void (*handler)(const std::string& message));

}  // namespace locus::envs
