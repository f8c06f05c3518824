#pragma once
// OrderEnforcing: step() or render() before reset() raise ResetNeededError (Gymnasium's
// OrderEnforcing).
//
// Env::step already refuses a step before reset for every env, wrapped or not, so this wrapper
// adds the render check, Gymnasium's spec flag (order_enforce) and its place in the wrapper chain.

#include "envs/wrapper.hpp"

namespace locus::envs {

class OrderEnforcing final : public Wrapper {
 public:
  explicit OrderEnforcing(std::unique_ptr<Env> env, bool disable_render_order_enforcing = false);
  std::string name() const override { return "OrderEnforcing"; }
  // Throws ResetNeededError before the first reset() unless disable_render_order_enforcing.
  std::string render() override;
  bool disable_render_order_enforcing() const { return disable_render_order_enforcing_; }

 protected:
  // Its state is the base class's (has_reset()) and the wrapped env's.
  bool saves_own_state() const override { return true; }

 private:
  bool disable_render_order_enforcing_;
};

}  // namespace locus::envs
