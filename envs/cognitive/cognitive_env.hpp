#pragma once
// CognitiveEnv: what every cognitive task shares, whether it runs timed trials (TrialEnv) or one
// trial per step (ReversalBanditEnv): the kwargs sigma, render_mode and trials_per_episode, the
// spaces (a float32 Box, unbounded once there is noise, and a Discrete action), the observation
// noise N(0, sigma / sqrt(dt)) and the "ansi" rendering's plumbing.

#include <cstdint>
#include <span>
#include <string>

#include "envs/env.hpp"

namespace locus::envs {

class StateReader;

class CognitiveEnv : public Env {
 public:
  // Standard deviation of the observation noise per step: sigma / sqrt(dt), as NeuroGym.
  double noise_std() const { return noise_std_; }

  // The kwargs every task reads.
  struct CommonSettings {
    double sigma = 0.0;
    std::int64_t trials_per_episode = 0;
    std::string render_mode;  // "" (none) or "ansi"
  };

 protected:
  // Reads sigma (default `default_sigma`), render_mode and trials_per_episode into `settings`;
  // InvalidArgumentError (UnsupportedRenderModeError for the render mode) naming a bad value.
  static void read_common_settings(KwargsReader& kwargs, double default_sigma,
                                   CommonSettings& settings);

  // Sets noise_std() and the spaces: Box(observation_size) float32 within [low, high] without noise
  // (unbounded with it), Discrete(num_actions); "ansi" rendering at one frame per step of dt ms,
  // on when settings ask for it (read_common_settings accepted only "ansi": set_render_mode's own
  // error would call name(), which a base class's constructor cannot).
  void set_task_spaces(const CommonSettings& settings, double dt, std::size_t observation_size,
                       double low, double high, std::int64_t num_actions);

  // N(0, noise_std()) from np_random(), or 0 without noise.
  double noise() { return noise_std_ > 0 ? noise_std_ * rng_->standard_normal() : 0.0; }

  // render() without a render mode: warns, as Gymnasium does; returns "".
  std::string render_without_mode();
  // Appends " -> obs [o0 o1 ...]", two decimals each.
  static void append_observation(std::string& line, std::span<const float> observation);
  // The "render" object of a saved state; fails naming the problem when the state was saved
  // without rendering. Only for a rendering env.
  static StateReader render_fields(const StateReader& fields);

  bool rendering_ = false;
  Rng* rng_ = nullptr;  // np_random(), refreshed on every reset (a seeded reset replaces it)

 private:
  double noise_std_ = 0.0;
};

}  // namespace locus::envs
