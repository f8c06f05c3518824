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

 protected:
  void reset_impl(std::optional<std::uint64_t> seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

  std::unique_ptr<Env> env_;
};

}  // namespace locus::envs
