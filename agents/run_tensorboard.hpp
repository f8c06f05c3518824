#pragma once
// The TensorBoard view of a training run directory (agents/run.hpp):
// DIR/tensorboard/events.out.tfevents.locus, one event per update with the scalars of that
// update's metrics.jsonl row, at step = the environment steps so far. `tensorboard --logdir DIR`
// (or a parent folder of several runs) shows them:
//   rollout/   return_100, success_100 (the last 100 episodes or trials), episode_return
//   loss/      total, policy, value, gradient_norm
//   policy/    entropy, approx_kl, clip_fraction
//   dopamine/  mean_delta, mean_abs_delta (the reward-prediction error)
//   noradrenaline/  gain, context, contexts
//   eval/      return_mean, success_rate, length_mean (updates with an evaluation)
// The file is derived from metrics.jsonl: a resumed run rewrites it from the rows it keeps, so it
// ends as the uninterrupted run's (wall times aside).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace locus::agents {

inline constexpr const char* kTensorBoardFolder = "tensorboard";

// The event of one metrics.jsonl row (empty when the row has no finite scalar).
std::string tensorboard_record(const nlohmann::json& row, double wall_time);

// A whole event file for `rows`: the file-version event, then each row's event. Rows are placed in
// wall time by their time_s, the last at `now`.
std::string tensorboard_file(const std::vector<nlohmann::json>& rows, double now);

}  // namespace locus::agents
