#pragma once
// Shared by the tests/envs/test_cognitive_*.cpp files: drives a cognitive task on the packed path
// and records what each step returned.

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "envs/registry.hpp"

namespace locus::envs::testing {

// For scripted runs longer than the registered 1000-step time limit.
inline const MakeOptions kNoTimeLimit{.max_episode_steps = std::int64_t{1} << 40};

// One env stepped with int64 actions; observations read back as floats.
class TaskRunner {
 public:
  explicit TaskRunner(std::unique_ptr<Env> env)
      : env_(std::move(env)),
        obs_(env_->observation_space().packed_bytes()),
        action_(env_->action_space().packed_bytes()) {}
  TaskRunner(const std::string& id, const Kwargs& kwargs = Kwargs::object(),
             const MakeOptions& options = {})
      : TaskRunner(make(id, kwargs, options)) {}

  Env& env() { return *env_; }
  const Info& info() const { return info_; }

  std::vector<float> reset(std::optional<std::uint64_t> seed = std::nullopt,
                           const Kwargs& options = Kwargs::object()) {
    env_->reset(obs_, info_, seed, options);
    return observation();
  }
  StepOutcome step(std::int64_t action) {
    std::memcpy(action_.data(), &action, sizeof action);
    return env_->step(action_, obs_, info_);
  }
  std::vector<float> observation() const {
    std::vector<float> out(obs_.size() / sizeof(float));
    std::memcpy(out.data(), obs_.data(), obs_.size());
    return out;
  }

 private:
  std::unique_ptr<Env> env_;
  std::vector<std::byte> obs_;
  std::vector<std::byte> action_;
  Info info_;
};

}  // namespace locus::envs::testing
