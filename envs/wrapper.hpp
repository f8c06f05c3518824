#pragma once
// Base of every wrapper: forwards everything to the wrapped env unless overridden.

#include <memory>

#include "envs/env.hpp"

namespace locus::envs {

class Wrapper : public Env {
 public:
  explicit Wrapper(std::unique_ptr<Env> env);

  Env& env() { return *env_; }
  const Env& env() const { return *env_; }
  Env& unwrapped() override { return env_->unwrapped(); }
  Rng& np_random() override { return env_->np_random(); }
  std::string render() override { return env_->render(); }
  void close() override { env_->close(); }
  std::string to_string() const override;
  // Whether this wrapper saves its own fields (saves_own_state()) and the env it wraps supports
  // state.
  bool supports_state() const override { return saves_own_state() && env_->supports_state(); }

 protected:
  // Whether save_state_impl/restore_state_impl cover every field of this wrapper. False unless a
  // wrapper says so, so that a wrapper written without them is not taken for one with nothing to
  // save (its fields would be silently lost).
  virtual bool saves_own_state() const { return false; }
  // {"env": the wrapped env's save_state()}; a wrapper with fields of its own adds them.
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;

  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  // Steps the wrapped env with `action` into `observation`. Given the action and buffers this
  // wrapper was stepped with, and when the wrapped env has the same spaces, the wrapped env does
  // not check them again (they were checked against the same spaces already); otherwise it is
  // stepped through its public, checked step().
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

  std::unique_ptr<Env> env_;
};

// Inline, so that the wrappers that extend it (TimeLimit, PassiveEnvChecker, ...) and the inner
// env's step_validated() compile into one body per layer.
inline StepOutcome Wrapper::step_impl(std::span<const std::byte> action,
                                      std::span<std::byte> observation, Info& info) {
  // This wrapper's step() (or a VectorEnv, or the wrapper outside this one) has checked `action`
  // against this wrapper's action space, the buffers' sizes and that reset() came first. When the
  // wrapped env has the very same spaces, has been reset, and gets that very action, those checks
  // are its own, so it skips them: make()'s stack validates once, at its outermost layer, whose
  // error messages are the ones a caller sees either way. Anything else (a subclass forwarding
  // another action or buffer, changed spaces) takes the checked path.
  Env& inner = *env_;
  if (action.data() == checked_action_ && action.size() == inner.action_bytes_ &&
      observation.size() == inner.observation_bytes_ &&
      inner.action_space_.get() == action_space_.get() &&
      inner.observation_space_.get() == observation_space_.get() && inner.has_reset_) [[likely]] {
    return inner.step_validated(action, observation, info);
  }
  // A float64 action this wrapper was stepped with (step_float64) goes on as it is.
  if (action_form_ != ActionForm::kPacked && action.data() == checked_action_) [[unlikely]] {
    return inner.step_raw_float64(action, action_form_, observation, info);
  }
  return inner.step(action, observation, info);
}

}  // namespace locus::envs
