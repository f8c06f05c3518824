#include "envs/wrapper.hpp"

namespace locus::envs {

Wrapper::Wrapper(std::unique_ptr<Env> env) : env_(std::move(env)) {
  if (!env_) throw InvalidArgumentError("Wrapper: the wrapped env is null");
  set_observation_space(env_->observation_space_ptr());
  set_action_space(env_->action_space_ptr());
  // The same action space, taken the same way: a raw action is checked once, here, and forwarded.
  raw_box_actions_ = env_->raw_box_actions_;
  metadata_ = env_->metadata();
  set_spec(env_->spec_ptr());
  set_render_mode(env_->render_mode());
}

std::string Wrapper::to_string() const {
  // Built with append: GCC 12 reports a false -Wrestrict on "<" + std::string temporaries.
  std::string out = "<";
  out.append(name()).append(env_->to_string()).append(">");
  return out;
}

void Wrapper::reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                         std::span<std::byte> observation, Info& info) {
  env_->reset(observation, info, seed, options);
}

}  // namespace locus::envs
