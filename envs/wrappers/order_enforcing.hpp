#pragma once
// OrderEnforcing: step() or render() before reset() raise ResetNeededError (Gymnasium's
// OrderEnforcing).

#include "envs/wrapper.hpp"

namespace locus::envs {

class OrderEnforcing final : public Wrapper {
 public:
  explicit OrderEnforcing(std::unique_ptr<Env> env, bool disable_render_order_enforcing = false)
      : Wrapper(std::move(env)), disable_render_order_enforcing_(disable_render_order_enforcing) {}
  std::string name() const override { return "OrderEnforcing"; }
  std::string render() override;

 protected:
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  bool disable_render_order_enforcing_;
};

}  // namespace locus::envs
