#include "envs/classic_control/cartpole.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string_view>

namespace locus::envs {

std::pair<double, double> parse_reset_bounds(const Kwargs& options, double default_low,
                                             double default_high, const std::string& context) {
  // The common case, and on the autoreset path: no parsing, no allocation.
  if (options.empty()) return {default_low, default_high};
  KwargsReader reader(options, context + ".reset options");
  const double low = reader.get<double>("low", default_low);
  const double high = reader.get<double>("high", default_high);
  // No reader.finish(): Gymnasium's envs read the keys they know and ignore the rest (a wrapper
  // or a vector env may pass options meant for others).
  if (!(low <= high)) {
    throw InvalidArgumentError(context + ".reset: lower bound " + std::to_string(low) +
                               " must not exceed the upper bound " + std::to_string(high));
  }
  return {low, high};
}

CartPoleEnv::CartPoleEnv(const Kwargs& kwargs) : CartPoleEnv(kwargs, CartPolePhysics{}) {}

CartPoleEnv::CartPoleEnv(const Kwargs& kwargs, const CartPolePhysics& physics) : physics_(physics) {
  const std::pair<const char*, double> constants[] = {
      {"masscart", physics.masscart}, {"masspole", physics.masspole},
      {"length", physics.length},     {"force_mag", physics.force_mag},
      {"tau", physics.tau},           {"gravity", physics.gravity}};
  for (const auto& [key, value] : constants) {
    const bool zero_allowed = std::string_view(key) == "gravity";
    if (!std::isfinite(value) || value < 0 || (value == 0 && !zero_allowed)) {
      throw InvalidArgumentError(std::string("CartPole: '") + key + "' must be " +
                                 (zero_allowed ? "non-negative" : "positive") +
                                 " and finite, got " + std::to_string(value));
    }
  }
  total_mass_ = physics_.masspole + physics_.masscart;
  polemass_length_ = physics_.masspole * physics_.length;
  KwargsReader reader(kwargs, "CartPole");
  sutton_barto_reward_ = reader.get<bool>("sutton_barto_reward", false);
  const std::string render_mode = reader.get<std::string>("render_mode", "");
  reader.finish();

  // Bounds at twice the termination thresholds, so a terminal observation is still in the space.
  const std::vector<double> high = {kXThreshold * 2, INFINITY, kThetaThresholdRadians * 2,
                                    INFINITY};
  std::vector<double> low(high.size());
  for (std::size_t i = 0; i < high.size(); ++i) low[i] = -high[i];
  set_observation_space(std::make_shared<Box>(low, high, Shape{4}, DType::kFloat32));
  set_action_space(std::make_shared<Discrete>(2));
  metadata_.render_modes = {"ansi"};
  metadata_.render_fps = 50;
  if (!render_mode.empty()) set_render_mode(render_mode);
}

void CartPoleEnv::write_observation(std::span<std::byte> observation) const {
  auto obs = as_span<float>(observation);
  for (std::size_t i = 0; i < 4; ++i) obs[i] = static_cast<float>(state_[i]);
}

void CartPoleEnv::reset_impl(const std::optional<Seed>& /*seed*/, const Kwargs& options,
                             std::span<std::byte> observation, Info& /*info*/) {
  const auto [low, high] = parse_reset_bounds(options, -0.05, 0.05, "CartPole");
  for (double& s : state_) s = np_random().uniform(low, high);
  steps_beyond_terminated_ = -1;
  write_observation(observation);
}

StepOutcome CartPoleEnv::step_impl(std::span<const std::byte> action,
                                   std::span<std::byte> observation, Info& /*info*/) {
  auto [x, x_dot, theta, theta_dot] = state_;
  const double force =
      as_span<std::int64_t>(action)[0] == 1 ? physics_.force_mag : -physics_.force_mag;
  const double costheta = std::cos(theta);
  const double sintheta = std::sin(theta);
  // Same operation order as Gymnasium, so that float64 results agree to the last bits.
  const double temp = (force + polemass_length_ * (theta_dot * theta_dot) * sintheta) / total_mass_;
  const double thetaacc =
      (physics_.gravity * sintheta - costheta * temp) /
      (physics_.length * (4.0 / 3.0 - physics_.masspole * (costheta * costheta) / total_mass_));
  const double xacc = temp - polemass_length_ * thetaacc * costheta / total_mass_;
  // Explicit Euler: positions advance with the old velocities.
  const double tau = physics_.tau;
  x = x + tau * x_dot;
  x_dot = x_dot + tau * xacc;
  theta = theta + tau * theta_dot;
  theta_dot = theta_dot + tau * thetaacc;
  state_ = {x, x_dot, theta, theta_dot};

  const bool terminated = x < -kXThreshold || x > kXThreshold || theta < -kThetaThresholdRadians ||
                          theta > kThetaThresholdRadians;
  double reward;
  if (!terminated) {
    reward = sutton_barto_reward_ ? 0.0 : 1.0;
  } else if (steps_beyond_terminated_ < 0) {
    steps_beyond_terminated_ = 0;  // the pole just fell
    reward = sutton_barto_reward_ ? -1.0 : 1.0;
  } else {
    ++steps_beyond_terminated_;
    reward = sutton_barto_reward_ ? -1.0 : 0.0;
  }
  write_observation(observation);
  return {reward, terminated, false};
}

std::string CartPoleEnv::render() {
  // A 41-column track from -2.4 to 2.4; the pole's lean is drawn with / | \.
  constexpr int kWidth = 41;
  const double x = state_[0];
  const double theta = state_[2];
  int column = static_cast<int>(std::lround((x + kXThreshold) / (2 * kXThreshold) * (kWidth - 1)));
  column = std::clamp(column, 0, kWidth - 1);
  const char pole = theta > 0.035 ? '/' : (theta < -0.035 ? '\\' : '|');
  std::string pole_row(kWidth, ' ');
  std::string cart_row(kWidth, ' ');
  pole_row[static_cast<std::size_t>(column)] = pole;
  cart_row[static_cast<std::size_t>(column)] = '#';
  std::ostringstream out;
  out.precision(3);
  out << pole_row << '\n'
      << cart_row << '\n'
      << std::string(kWidth, '=') << '\n'
      << "x=" << x << " x_dot=" << state_[1] << " theta=" << theta << " theta_dot=" << state_[3]
      << '\n';
  return out.str();
}

}  // namespace locus::envs
