#pragma once
// The env checker (gymnasium.utils.env_checker.check_env) and the passive checker wrapper that
// make() applies (gymnasium.wrappers.PassiveEnvChecker).
//
// What Python checks at run time and C++ guarantees by its types is left out: that reset returns a
// 2-tuple, that info is a dict, that the flags are bools and that returned data is not shared
// (every call writes into the caller's buffer or returns owned values).

#include <cstdint>
#include <string>
#include <vector>

#include "envs/wrapper.hpp"

namespace locus::envs {

struct CheckOptions {
  // Seed of the determinism checks; the "different seed" check uses seed + 333 (with the default,
  // Gymnasium's 123 and 456).
  std::uint64_t seed = 123;
  int steps = 200;  // steps of the seeded random rollout (episodes restart as they end)
  bool skip_render_check = false;
  bool skip_close_check = false;
};

struct CheckResult {
  std::vector<std::string> passed;    // one line per check that passed
  std::vector<std::string> warnings;  // suspicious but allowed (Gymnasium warns for these)
  std::int64_t steps = 0;
  std::int64_t episodes = 0;
};

// Runs Gymnasium's checks on `env` (it is reset, stepped and rendered; with a spec, fresh copies
// are made to check the render modes and close()), then a seeded random rollout done twice that
// must give the same trajectory and leave np_random() in the same state. Throws CheckError
// "check failed: <check>: <why>" for the first violation; warnings are collected in the result.
CheckResult check_env(Env& env, const CheckOptions& options = {});

// Gymnasium's data_equivalence: same structure, dtypes and shapes, and equal values (exact) or
// values within np.allclose(rtol=1e-5, atol=1e-5).
bool data_equivalence(const Value& a, const Value& b, bool exact = false);
bool data_equivalence(const Info& a, const Info& b, bool exact = false);

// Checks the first reset, step and render outputs and warns (locus::envs::warn) on violations
// instead of throwing, as Gymnasium's PassiveEnvChecker does. The construction checks the spaces
// and throws CheckError where Gymnasium asserts (an empty Tuple or Dict, for one).
class PassiveEnvChecker final : public Wrapper {
 public:
  explicit PassiveEnvChecker(std::unique_ptr<Env> env);
  std::string name() const override { return "PassiveEnvChecker"; }
  std::string render() override;
  bool checked_reset() const { return checked_reset_; }
  bool checked_step() const { return checked_step_; }

 protected:
  bool saves_own_state() const override { return true; }
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  bool checked_reset_ = false;
  bool checked_step_ = false;
  bool checked_render_ = false;
};

}  // namespace locus::envs
