#include "envs/wrappers/order_enforcing.hpp"

#include "envs/registry.hpp"

namespace locus::envs {

OrderEnforcing::OrderEnforcing(std::unique_ptr<Env> env, bool disable_render_order_enforcing)
    : Wrapper(std::move(env)), disable_render_order_enforcing_(disable_render_order_enforcing) {
  // Gymnasium's OrderEnforcing.spec reports order_enforce=True; copy only when it differs so that
  // make()'s stack shares one spec.
  if (spec() != nullptr && !spec()->order_enforce) {
    auto enforced = std::make_shared<EnvSpec>(*spec());
    enforced->order_enforce = true;
    set_spec(std::move(enforced));
  }
}

std::string OrderEnforcing::render() {
  if (!disable_render_order_enforcing_ && !has_reset()) {
    throw ResetNeededError(
        "Cannot call `env.render()` before calling `env.reset()`, if this is an intended action, "
        "set `disable_render_order_enforcing=true` on the OrderEnforcing wrapper.");
  }
  return Wrapper::render();
}

}  // namespace locus::envs
