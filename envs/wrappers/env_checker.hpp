#pragma once
// The env checker (gymnasium.utils.env_checker.check_env) and the passive checker wrapper that
// make() applies (gymnasium.wrappers.PassiveEnvChecker).

#include <cstdint>
#include <string>
#include <vector>

#include "envs/wrapper.hpp"

namespace locus::envs {

struct CheckOptions {
  std::uint64_t seed = 123;
  int steps = 200;  // steps of the seeded random rollout (episodes restart as they end)
};

struct CheckResult {
  std::vector<std::string> passed;    // one line per check that passed
  std::vector<std::string> warnings;  // suspicious but allowed (Gymnasium warns for these)
  std::int64_t steps = 0;
  std::int64_t episodes = 0;
};

// Runs the checks on `env` (it is reset and stepped). Throws CheckError naming the first check that
// failed and why.
CheckResult check_env(Env& env, const CheckOptions& options = {});

// Checks the first reset and step outputs and warns (locus::envs::warn) on violations instead of
// throwing, as Gymnasium's PassiveEnvChecker does.
class PassiveEnvChecker final : public Wrapper {
 public:
  explicit PassiveEnvChecker(std::unique_ptr<Env> env);
  std::string name() const override { return "PassiveEnvChecker"; }

 protected:
  void reset_impl(std::optional<std::uint64_t> seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  bool checked_reset_ = false;
  bool checked_step_ = false;
};

}  // namespace locus::envs
