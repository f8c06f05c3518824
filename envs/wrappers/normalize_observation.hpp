#pragma once
// NormalizeObservation: centres each observation element and scales it to unit variance with
// running statistics (Gymnasium 1.x's NormalizeObservation and its RunningMeanStd).
//
// obs' = float32((obs - mean) / sqrt(var + epsilon)); the observation space becomes
// Box(-inf, inf, shape, float32). The statistics start at mean 0, var 1, count 1e-4 (the
// RunningMeanStd default; the wrapper's epsilon only guards the square root) and are updated with
// the parallel-variance formula before each observation is normalized, reset observations
// included.
//
// numpy's dtype promotion is reproduced, so the outputs equal Gymnasium's bit for bit: for a
// float32 observation space the statistics stay float32 and all arithmetic is float32; for any
// other dtype numpy promotes them to float64 at the first update.

#include <cstdint>
#include <vector>

#include "envs/wrapper.hpp"

namespace locus::envs {

class NormalizeObservation final : public Wrapper {
 public:
  // The RunningMeanStd's initial count, Gymnasium's default.
  static constexpr double kInitialCount = 1e-4;

  // Throws InvalidArgumentError if the observation space is not a Box or epsilon is not > 0.
  explicit NormalizeObservation(std::unique_ptr<Env> env, double epsilon = 1e-8);
  std::string name() const override { return "NormalizeObservation"; }

  // Whether observations update the statistics; false freezes them (e.g. for evaluation).
  bool update_running_mean() const { return update_running_mean_; }
  void set_update_running_mean(bool update) { update_running_mean_ = update; }

  // Per element, row-major, so that they can be saved and restored.
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& var() const { return var_; }
  double count() const { return count_; }
  double epsilon() const { return epsilon_; }
  // Restores saved statistics. Throws InvalidArgumentError if a size differs from the observation's
  // element count, a variance is negative or the count is not positive.
  void set_running_stats(std::vector<double> mean, std::vector<double> var, double count);

 protected:
  bool saves_own_state() const override { return true; }
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  // The inner env's observation: in `observation` itself for float32 (normalized in place),
  // otherwise in scratch_.
  std::span<std::byte> inner_buffer(std::span<std::byte> observation);
  void normalize(std::span<const std::byte> inner, std::span<std::byte> observation);
  template <class T>
  void update(std::span<const T> x);
  template <class T>
  void write(std::span<const T> x, std::span<float> out) const;

  DType inner_dtype_;
  double epsilon_;
  bool update_running_mean_ = true;
  // numpy keeps the statistics float32 until an update with a non-float32 observation promotes
  // them to float64; while float32, mean_ and var_ hold float32 values.
  bool stats_float32_ = true;
  std::vector<double> mean_;
  std::vector<double> var_;
  double count_ = kInitialCount;
  std::vector<std::byte> scratch_;  // the inner observation when it is not float32
};

}  // namespace locus::envs
