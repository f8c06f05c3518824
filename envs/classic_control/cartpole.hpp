#pragma once
// CartPole-v1: Gymnasium's classic_control/cartpole.py, step for step (Barto, Sutton & Anderson
// 1983). The state is kept in float64 and observed in float32, exactly as Gymnasium does, so that a
// seeded locus CartPole and a seeded Gymnasium CartPole produce the same trajectory.

#include <array>

#include "envs/env.hpp"

namespace locus::envs {

// CartPole's physical constants. Gymnasium keeps them as attributes that its constructor does not
// take (gym.make("CartPole-v1", gravity=...) is an error), so CartPole-v1 rejects them as kwargs
// too; the domain-shift family (envs/classic_control/domain_shift.cpp, CartPoleDomainShift-v1
// and its named variants) sets them. The defaults are Gymnasium's.
struct CartPolePhysics {
  double gravity = 9.8;
  double masscart = 1.0;
  double masspole = 0.1;
  double length = 0.5;  // half the pole's length, as Gymnasium's `length`
  double force_mag = 10.0;
  double tau = 0.02;  // seconds between state updates
};

class CartPoleEnv final : public Env {
 public:
  static constexpr double kGravity = 9.8;
  static constexpr double kMassCart = 1.0;
  static constexpr double kMassPole = 0.1;
  static constexpr double kTotalMass = kMassPole + kMassCart;
  static constexpr double kHalfPoleLength = 0.5;
  static constexpr double kPoleMassLength = kMassPole * kHalfPoleLength;
  static constexpr double kForceMag = 10.0;
  static constexpr double kTau = 0.02;  // seconds between state updates
  static constexpr double kThetaThresholdRadians = 12 * 2 * 3.14159265358979323846 / 360;
  static constexpr double kXThreshold = 2.4;

  // kwargs: sutton_barto_reward (bool, default false), render_mode ("ansi" or null).
  explicit CartPoleEnv(const Kwargs& kwargs = Kwargs::object());
  // Other physics; throws InvalidArgumentError naming a constant that is not positive and finite
  // (gravity may be 0).
  CartPoleEnv(const Kwargs& kwargs, const CartPolePhysics& physics);

  std::string name() const override { return "CartPoleEnv"; }
  bool supports_state() const override { return true; }
  std::string render() override;
  // (x, x_dot, theta, theta_dot) in float64.
  const std::array<double, 4>& state() const { return state_; }
  const CartPolePhysics& physics() const { return physics_; }

 protected:
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  void write_observation(std::span<std::byte> observation) const;
  std::array<double, 4> state_{};
  CartPolePhysics physics_;
  // Derived as Gymnasium derives them: total_mass = masspole + masscart, polemass_length =
  // masspole * length.
  double total_mass_ = kTotalMass;
  double polemass_length_ = kPoleMassLength;
  bool sutton_barto_reward_ = false;
  // Steps taken after the pole fell (Gymnasium's steps_beyond_terminated); -1 while upright.
  int steps_beyond_terminated_ = -1;
};

// Gymnasium's utils.maybe_parse_reset_bounds: options "low"/"high" override the defaults; other
// keys are ignored, as Gymnasium ignores them.
std::pair<double, double> parse_reset_bounds(const Kwargs& options, double default_low,
                                             double default_high, const std::string& context);

}  // namespace locus::envs
