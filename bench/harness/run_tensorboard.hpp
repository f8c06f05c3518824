#pragma once
// The TensorBoard view of a sweep's finished run: DIR/tensorboard/<run
// id>/events.out.tfevents.locus
// (`tensorboard --logdir DIR/tensorboard` shows one run per folder), derived from its run file:
//   accuracy/task_<k>   task k's accuracy at each evaluation (from its block on)
//   accuracy/mean_seen  the mean accuracy of the tasks seen so far, at each evaluation
//   train/loss, ngm/gain  the training loss and the gain at each evaluation
//   metrics/<name>      every final metric (ACC, BWT, the stability gap's avg_sg, gap_depth, ...),
//                       at the last iteration
// Steps are training iterations.

#include <nlohmann/json.hpp>
#include <string>

namespace locus::bench {

inline constexpr const char* kTensorBoardFolder = "tensorboard";

std::string run_event_file(const nlohmann::json& run, double wall_time);

}  // namespace locus::bench
