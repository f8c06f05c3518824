#pragma once
// Pendulum-v1: Gymnasium's classic_control/pendulum.py, step for step: semi-implicit Euler with
// dt 0.05, the velocity clipped to +-8, the torque to +-2, and the cost computed from the state
// before the step. The episode never terminates; only TimeLimit (200 steps) ends it. As in
// Gymnasium, a torque outside [-2, 2] is clipped (not refused), and a float64 torque is computed
// with in float64 (Env::step_float64).

#include <array>
#include <optional>

#include "envs/env.hpp"

namespace locus::envs {

class PendulumEnv final : public Env {
 public:
  static constexpr double kPi = 3.14159265358979323846;
  static constexpr double kMaxSpeed = 8;
  static constexpr double kMaxTorque = 2.0;
  static constexpr double kDt = 0.05;
  static constexpr double kMass = 1.0;
  static constexpr double kLength = 1.0;
  // Reset draws theta uniform in +-kDefaultX and theta_dot in +-kDefaultY.
  static constexpr double kDefaultX = kPi;
  static constexpr double kDefaultY = 1.0;

  // kwargs: g (number, default 10.0), render_mode ("ansi" or null).
  // reset options: x_init, y_init (numbers >= 0) replace kDefaultX and kDefaultY; other keys are
  // ignored.
  explicit PendulumEnv(const Kwargs& kwargs = Kwargs::object());

  std::string name() const override { return "PendulumEnv"; }
  bool supports_state() const override { return true; }
  std::string render() override;
  // (theta, theta_dot) in float64; theta 0 is upright.
  const std::array<double, 2>& state() const { return state_; }
  double g() const { return g_; }
  // The clipped torque of the last step; empty right after reset.
  std::optional<double> last_u() const { return last_u_; }

 protected:
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  void write_observation(std::span<std::byte> observation) const;
  // One step with the requested torque in the action's precision (float or double).
  template <class U>
  StepOutcome advance(U requested);
  std::array<double, 2> state_{};
  double g_ = 10.0;
  std::optional<double> last_u_;
};

// Gymnasium's angle_normalize: x mapped into [-pi, pi) with Python's floored modulo.
double angle_normalize(double x);

}  // namespace locus::envs
