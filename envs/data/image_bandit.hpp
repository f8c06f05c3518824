#pragma once
// A task of an image stream (envs/data/streams.hpp) as a contextual-bandit environment, so that
// RL agents and supervised learners see the same tasks. Registered as FashionMNISTBandit-v0
// (max_episode_steps 100); any MNIST-format directory works through `data_dir`.
//
// Each step shows one image; the action is the agent's answer, in the stream's label space for
// the scenario (e.g. Discrete(2) for a split task in task- or domain-incremental form, Discrete(10)
// in class-incremental form). Reward 1 for the right answer, 0 otherwise; then the next image is
// drawn uniformly (with replacement) from the task's images of the chosen split with np_random().
// Episodes never terminate by themselves (each step is a trial, as in NeuroGym's endless tasks);
// the registered time limit truncates them.
//
// Observation: the normalized image, Box(low, high, (784,)) float32 ((28, 28) with flatten=false),
// low/high what pixels 0 and 255 normalize to. info after a step: "label" (the right answer to the
// image just answered), "correct" (bool), "new_trial" (true: every step ends a trial). The task id
// is not in info: a TaskSequence (envs/sequences/) adds it where the scenario allows.
//
// kwargs (all optional):
//   stream            "full" (default), "split", "permuted", "rotated"
//   task              which task of the stream, default 0
//   scenario          "task-incremental" (default), "domain-incremental", "class-incremental"
//                     (or "task", "domain", "class"): decides the label space
//   split             "train" (default), "test" (all the task's test images) or "eval" (the
//                     task's fixed held-out evaluation subset)
//   data_dir          MNIST-format directory, default /usr/share/datasets/fashion-mnist
//   stream_seed       seeds permutations and subsets (not the episode: that is reset(seed)), 0
//   num_tasks, classes_per_task, angles (list of degrees), eval_per_task, train_per_task,
//   normalization ("unit" or "standardize"): as in StreamConfig
//   flatten           true (default): observation (rows * cols,); false: (rows, cols)

#include <memory>

#include "envs/data/streams.hpp"
#include "envs/env.hpp"

namespace locus::envs::data {

class ImageBanditEnv final : public Env {
 public:
  explicit ImageBanditEnv(const Kwargs& kwargs = Kwargs::object());

  std::string name() const override { return "ImageBanditEnv"; }
  bool supports_state() const override { return true; }
  const ImageStream& stream() const { return *stream_; }
  std::int64_t task() const { return task_; }
  // The right answer for the image now shown (for evaluators and scripted policies).
  std::int64_t current_target() const { return current_target_; }

 protected:
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  void show_next_image(std::span<std::byte> observation);

  std::shared_ptr<const ImageStream> stream_;
  std::int64_t task_ = 0;
  Split split_ = Split::kTrain;
  std::span<const std::int32_t> pool_;  // the images this env draws from
  std::int64_t current_target_ = 0;
};

// Parses a StreamConfig from kwargs: the keys stream, scenario, data_dir, stream_seed, num_tasks,
// classes_per_task, angles, eval_per_task, train_per_task, normalization and joint. Keys in
// `other_keys` are left for the caller; any other key, or a value of the wrong type, throws
// InvalidArgumentError naming it and the accepted keys.
StreamConfig stream_config_from_kwargs(const Kwargs& kwargs, const std::string& context,
                                       const std::vector<std::string>& other_keys = {});

}  // namespace locus::envs::data
