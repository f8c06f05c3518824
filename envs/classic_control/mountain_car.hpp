#pragma once
// MountainCar-v0 and MountainCarContinuous-v0: Gymnasium's classic_control/mountain_car.py and
// continuous_mountain_car.py (Moore 1990), step for step, including which values Gymnasium keeps in
// float64 and which in float32, so that seeded locus and Gymnasium cars produce the same
// trajectory.

#include <array>

#include "envs/classic_control/numpy_scalar.hpp"
#include "envs/env.hpp"

namespace locus::envs {

// What both cars share: the track, the (position, velocity) state, the goal_velocity kwarg and the
// "ansi" rendering.
class MountainCarBase : public Env {
 public:
  static constexpr double kMinPosition = -1.2;
  static constexpr double kMaxPosition = 0.6;
  static constexpr double kMaxSpeed = 0.07;
  static constexpr double kGravity = 0.0025;

  bool supports_state() const override { return true; }
  std::string render() override;
  // (position, velocity) in float64 (the continuous car's values are float32 after any step).
  const std::array<double, 2>& state() const { return state_; }
  double goal_velocity() const { return goal_velocity_; }

 protected:
  // Reads the kwargs goal_velocity (number, default 0) and render_mode ("ansi" or null), naming
  // `context` in errors; sets the observation space. The subclass's constructor sets the action
  // space and calls apply_render_mode().
  MountainCarBase(const Kwargs& kwargs, const char* context, double goal_position);
  // Sets the render mode the kwargs asked for (set_render_mode's error names the env, which a base
  // class's constructor cannot).
  void apply_render_mode();
  // Draws the reset position from options' bounds (default [-0.6, -0.4]) at rest and writes the
  // observation.
  void reset_car(const Kwargs& options, std::span<std::byte> observation);
  void write_observation(std::span<std::byte> observation) const;

  std::array<double, 2> state_{};
  double goal_velocity_ = 0.0;

 private:
  const char* context_;
  double goal_position_;
  std::string render_mode_;  // as the kwargs gave it, until apply_render_mode()
};

// The discrete car: push left (0), no push (1), push right (2); reward -1 per step.
class MountainCarEnv final : public MountainCarBase {
 public:
  static constexpr double kGoalPosition = 0.5;
  static constexpr double kForce = 0.001;

  // kwargs: goal_velocity (number, default 0), render_mode ("ansi" or null).
  explicit MountainCarEnv(const Kwargs& kwargs = Kwargs::object());

  std::string name() const override { return "MountainCarEnv"; }

 protected:
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;
};

// The continuous car: a force in [-1, 1]; reward -0.1 * action^2 per step, +100 at the goal. As in
// Gymnasium, a force outside [-1, 1] is clipped (the reward still uses the action asked for), and
// a float64 action, or Python numbers, are computed with as Gymnasium computes with them.
class ContinuousMountainCarEnv final : public MountainCarBase {
 public:
  static constexpr double kMinAction = -1.0;
  static constexpr double kMaxAction = 1.0;
  static constexpr double kGoalPosition = 0.45;
  static constexpr double kPower = 0.0015;

  // kwargs: goal_velocity (number, default 0), render_mode ("ansi" or null).
  explicit ContinuousMountainCarEnv(const Kwargs& kwargs = Kwargs::object());

  // Gymnasium's class name, so that to_string() reads as Gymnasium's str(env).
  std::string name() const override { return "Continuous_MountainCarEnv"; }

 protected:
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  bool advance(NumpyScalar force);

  // Gymnasium resets to a float64 array but stores a float32 array after each step, and numpy
  // then does the next step's arithmetic in float32: the flag picks the same precision.
  bool state_is_float32_ = false;
};

}  // namespace locus::envs
