#pragma once
// Noradrenaline for agents: a gain driven by uncertainty that rises fast and decays slowly, and a
// flag when uncertainty jumps (a candidate task change, so an agent can open a new context without
// being told).
//
// Each observation x is either the output entropy (source kEntropy, as NGM) or the surprise |delta|
// of a TD error (source kSurprise). Its z-score against the running mean and variance of the
// earlier observations is
//     z = (x - mean) / sqrt(var + 1e-8)
// (exact mean/variance for the first 1 / stats_rate observations, then exponential averages with
// rate stats_rate). The drive is the normalized entropy H / log(classes) (kEntropy; raw H when the
// class count is unknown) or max(0, z - surprise_deadzone) (kSurprise: ordinary noise, z
// below the dead zone, leaves the gain at rest); the gain moves toward
//     target = clamp(baseline_gain + sensitivity * drive, min_gain, max_gain)
// by rise_rate of the gap when the target is above the gain and by decay_rate when below. A change
// is flagged when z >= change_threshold after `warmup` observations, at most once per `refractory`
// observations. The gain multiplies effective weights (apply()), which sharpens or flattens the
// policy.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "neuromod/losses.hpp"
#include "neuromod/ngm.hpp"

namespace locus::neuromod {

enum class UncertaintySource { kEntropy, kSurprise };
std::string_view to_string(UncertaintySource source);

struct NoradrenalineConfig {
  UncertaintySource source = UncertaintySource::kSurprise;
  float baseline_gain = 1.0f;
  float sensitivity = 0.5f;
  float surprise_deadzone = 2.0f;  // kSurprise: z below this does not drive the gain
  float min_gain = 0.0f;
  float max_gain = 4.0f;
  float rise_rate = 0.5f;    // fast
  float decay_rate = 0.02f;  // slow
  float stats_rate = 0.01f;  // running mean/variance
  float change_threshold =
      6.0f;  // |x| is heavy-tailed: 3 sigma would flag noise every few hundred steps
  std::size_t warmup = 20;
  std::size_t refractory = 50;
  EntropyUnit entropy_unit = EntropyUnit::kNats;
  GainTarget target;  // where apply() puts the gain
  bool record_trace = true;
  void validate() const;
};

struct NoradrenalineReading {
  std::size_t step = 0;  // 1-based observation count
  double input = 0.0;    // the observation x
  double z = 0.0;        // its z-score against the earlier observations
  double drive = 0.0;
  float gain = 1.0f;  // after this observation
  bool change = false;
};

class NoradrenalineSignal {
 public:
  explicit NoradrenalineSignal(const NoradrenalineConfig& config = {});

  // x as defined above: an entropy (kEntropy; pass classes > 1 to normalize it) or |delta|
  // (kSurprise).
  NoradrenalineReading observe(double x, std::size_t classes = 0);
  // kSurprise: observe(|delta|).
  NoradrenalineReading observe_td_error(float delta);
  // kEntropy: the batch-mean softmax entropy of logits, normalized by log(columns).
  NoradrenalineReading observe_logits(const Matrix& logits);

  // Sets the network's weight gains on config().target to gain().
  void apply(Network& network) const;
  // Back to baseline gain, empty statistics and trace.
  void reset();

  float gain() const { return gain_; }
  bool change_detected() const { return last_change_; }
  const NoradrenalineConfig& config() const { return config_; }
  const std::vector<NoradrenalineReading>& trace() const { return trace_; }
  // Observation counts at which a change was flagged.
  const std::vector<std::size_t>& changes() const { return changes_; }

 private:
  NoradrenalineConfig config_;
  float gain_;
  std::size_t count_ = 0;
  double mean_ = 0.0, variance_ = 0.0;
  std::size_t last_flag_ = 0;
  bool last_change_ = false;
  std::vector<NoradrenalineReading> trace_;
  std::vector<std::size_t> changes_;
};

}  // namespace locus::neuromod
