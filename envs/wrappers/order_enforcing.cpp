#include "envs/wrappers/order_enforcing.hpp"

namespace locus::envs {

std::string OrderEnforcing::render() {
  if (!disable_render_order_enforcing_ && !has_reset()) {
    throw ResetNeededError(
        "cannot call env.render() before calling env.reset(); construct OrderEnforcing with "
        "disable_render_order_enforcing=true to allow it");
  }
  return Wrapper::render();
}

StepOutcome OrderEnforcing::step_impl(std::span<const std::byte> action,
                                      std::span<std::byte> observation, Info& info) {
  // Env::step already refuses a step before reset; this keeps Gymnasium's wording for the wrapper.
  if (!has_reset()) throw ResetNeededError("cannot call env.step() before calling env.reset()");
  return Wrapper::step_impl(action, observation, info);
}

}  // namespace locus::envs
