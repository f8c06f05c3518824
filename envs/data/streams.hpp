#pragma once
// Continual-learning streams of image-classification tasks built from an MNIST-format data set
// (Fashion-MNIST by default), served as minibatches for supervised learners. The same tasks are
// served to RL agents by ImageBanditEnv (envs/data/image_bandit.hpp).
//
// Streams (StreamKind):
//   full      one task: the data set as it is
//   split     the classes in tasks of `classes_per_task` (default 2: Fashion-MNIST gives 5 tasks,
//             classes {0,1}, {2,3}, ...)
//   permuted  every task shows all classes with its own fixed pixel permutation, drawn from the
//             stream seed (task t: Rng(SeedSequence(seed, spawn_key {1, t})).permutation(pixels))
//   rotated   every task shows all classes rotated by its angle (degrees, counterclockwise as
//             displayed, about the image centre, bilinear, zero outside; default 0, 80, 160)
//
// Targets follow the scenario (envs/sequences/scenario.hpp):
//                        split                          permuted / rotated (C classes, T tasks)
//   task-incremental     position in the task (0..k-1)  the class (0..C-1); task id visible
//   domain-incremental   position in the task (0..k-1)  the class (0..C-1); task id hidden
//   class-incremental    the class (0..T*k-1)           t*C + class (0..T*C-1); task id hidden
//
// Evaluation: each task has a fixed held-out subset of the test split (`eval_per_task` images,
// chosen by the stream seed), the same on every call, for per-iteration evaluation.
// Incremental joint training (`joint`): epoch(t, ...) draws from the training data of tasks
// 0..t together, each row keeping its own task and target.
//
// Inputs are float32, pixel / 255 ("unit", in [0, 1]) or standardized with the training split's
// pixel mean and standard deviation ("standardize"). Everything is deterministic given the seed:
// epoch e of task t is shuffled by Rng(SeedSequence(seed, spawn_key {3, t, e})), and a minibatch
// depends only on (seed, task, epoch, batch index), so batches can be filled in any order and on
// any number of threads.
//
//   ImageStream stream({.kind = StreamKind::kSplit, .scenario = Scenario::kClassIncremental});
//   for (std::int64_t t = 0; t < stream.num_tasks(); ++t) {
//     for (std::int64_t e = 0; e < 3; ++e) {
//       const EpochPlan plan = stream.epoch(t, e, /*batch_size=*/128);
//       Batch batch;
//       for (std::int64_t b = 0; b < plan.num_batches(); ++b) {
//         plan.fill(b, batch);  // batch.inputs (128, 784), batch.labels (128)
//       }
//     }
//     for (std::int64_t j = 0; j <= t; ++j) evaluate(stream.eval_set(j));
//   }

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "envs/data/idx.hpp"
#include "envs/sequences/scenario.hpp"

namespace locus::envs::data {

// The scenario names of envs/sequences/scenario.hpp, visible to users of this namespace.
using ::locus::envs::Scenario;

enum class StreamKind { kFull, kSplit, kPermuted, kRotated };
std::string_view stream_kind_name(StreamKind kind);  // "full", "split", "permuted", "rotated"
StreamKind stream_kind_from_name(std::string_view name);

// kFixed: (pixel / 255 - normalization_mean) / normalization_std with given constants (MNIST's
// 0.1307 and 0.3081, as papers' scripts write them), where kStandardize measures them.
enum class Normalization { kUnit, kStandardize, kFixed };
std::string_view normalization_name(Normalization normalization);  // "unit", "standardize", "fixed"
Normalization normalization_from_name(std::string_view name);

struct StreamConfig {
  StreamKind kind = StreamKind::kSplit;
  Scenario scenario = Scenario::kTaskIncremental;
  std::filesystem::path data_dir = default_data_dir();
  // Seeds the permutations, the evaluation and training subsets and the epoch shuffles.
  std::uint64_t seed = 0;
  // Number of tasks; 0 picks the kind's default: full 1, split classes / classes_per_task,
  // permuted 5, rotated angles.size(). Split and rotated accept no other value than theirs or
  // (split) fewer tasks.
  std::int64_t num_tasks = 0;
  std::int64_t classes_per_task = 2;                // split
  std::vector<double> angles = {0.0, 80.0, 160.0};  // rotated, degrees
  // Images in each task's held-out evaluation subset (from the test split); 0 takes them all.
  std::int64_t eval_per_task = 1000;
  // Training images per task (a fixed seeded subset); 0 takes every one the task has.
  std::int64_t train_per_task = 0;
  bool joint = false;  // incremental joint training: epoch(t) replays tasks 0..t
  Normalization normalization = Normalization::kUnit;
  float normalization_mean = 0.0F;  // kFixed
  float normalization_std = 1.0F;   // kFixed, > 0
};

// One example of a stream: an image of one split, seen as part of one task.
struct Example {
  std::int32_t task = 0;
  std::int32_t index = 0;  // into the split's ImageDataset
};

// A minibatch. `task_ids` is what the learner may use (a context id in task-incremental learning);
// `origin_tasks` is for the evaluator's bookkeeping only.
struct Batch {
  std::int64_t size = 0;
  std::int64_t input_size = 0;             // rows * cols
  std::vector<float> inputs;               // (size, input_size)
  std::vector<std::int64_t> labels;        // (size), targets in the scenario's label space
  std::vector<std::int64_t> task_ids;      // (size), -1 where the scenario hides the task
  std::vector<std::int64_t> origin_tasks;  // (size), the task each row belongs to
};

class ImageStream;

// The tasks a stream of `config` has on a data set of `num_classes` classes (the stream's own
// count, after it has checked the config against the data). Before any data is read, a progress
// estimate plans with Fashion-MNIST's 10.
std::int64_t planned_num_tasks(const StreamConfig& config, std::int64_t num_classes = 10);

// One output pixel of a bilinear rotation: four weighted source pixels (weight 0 where a neighbour
// falls outside the image).
struct RotationTap {
  std::int32_t source[4];
  float weight[4];
};

// The shuffled examples of one epoch, cut into minibatches. It refers to the ImageStream that made
// it, which must outlive it.
class EpochPlan {
 public:
  std::int64_t num_examples() const { return static_cast<std::int64_t>(order_.size()); }
  std::int64_t batch_size() const { return batch_size_; }
  std::int64_t num_batches() const;
  std::span<const Example> examples() const { return order_; }
  // Fills `batch` with minibatch i (reusing its storage); the last one is smaller unless the plan
  // drops it. Const and thread-safe.
  void fill(std::int64_t i, Batch& batch) const;

 private:
  friend class ImageStream;
  EpochPlan() = default;
  const ImageStream* stream_ = nullptr;
  std::vector<Example> order_;
  std::int64_t batch_size_ = 0;
  bool drop_last_ = false;
};

class ImageStream {
 public:
  friend class EpochPlan;
  // Loads the data set's train and test splits (shared within the process) and prepares the
  // tasks. Throws InvalidArgumentError for a configuration that does not fit the data (naming the
  // value and what is allowed) and DataError for missing or corrupt files. The data set's classes
  // are its training labels 0..C-1, each with images: a label past a class without training
  // images, or a test label that is not a training class, is a DataError naming the labels file,
  // the index and the value.
  explicit ImageStream(StreamConfig config);

  const StreamConfig& config() const { return config_; }
  std::int64_t num_tasks() const { return num_tasks_; }
  // Size of the label space under the scenario (see the table in the file comment).
  std::int64_t num_outputs() const { return num_outputs_; }
  std::int64_t num_classes() const { return num_classes_; }  // of the data set
  std::int64_t rows() const { return train_->rows; }
  std::int64_t cols() const { return train_->cols; }
  std::int64_t input_size() const { return train_->image_size(); }
  // The data set's classes that task `task` shows.
  const std::vector<std::int64_t>& task_classes(std::int64_t task) const;
  // The target of an image of class `label` in task `task` under the scenario.
  std::int64_t target(std::int64_t task, std::int64_t label) const;
  // The task id the learner may see: `task` in task-incremental learning, -1 otherwise.
  std::int64_t visible_task_id(std::int64_t task) const;

  // The images of a split that belong to a task (training ones limited by train_per_task;
  // test ones are all of the task's test images, of which eval_indices is the held-out subset).
  std::span<const std::int32_t> indices(std::int64_t task, Split split) const;
  std::span<const std::int32_t> eval_indices(std::int64_t task) const;
  const ImageDataset& dataset(Split split) const;

  // The shuffled training examples of epoch `epoch` of task `task` (tasks 0..task in joint mode).
  EpochPlan epoch(std::int64_t task, std::int64_t epoch, std::int64_t batch_size,
                  bool drop_last = false) const;
  // `batches` minibatches of `batch_size` examples drawn uniformly with replacement from the
  // training examples of task `task` (tasks 0..task in joint mode), as papers' scripts sample
  // (torch's RandomSampler(replacement=True)); round `round` has its own draws.
  EpochPlan draws(std::int64_t task, std::int64_t round, std::int64_t batch_size,
                  std::int64_t batches) const;
  // The fixed held-out evaluation subset of a task, as one batch.
  Batch eval_set(std::int64_t task) const;
  // Writes image `index` of `split`, transformed for task `task` and normalized, into `out`
  // (input_size() floats).
  void write_input(std::int64_t task, Split split, std::int64_t index, std::span<float> out) const;
  // The range of normalized inputs: what pixel values 0 and 255 become.
  float input_low() const { return normalize(0.0F); }
  float input_high() const { return normalize(255.0F); }

 private:
  void check_task(std::int64_t task) const;
  // pixel / 255, then standardized: numpy's float32 (x / 255 - mean) / std, rounding step by step.
  float normalize(float pixel) const { return (pixel / 255.0F - mean_) / std_; }
  void fill_rows(std::span<const Example> examples, Split split, Batch& batch) const;

  StreamConfig config_;
  std::shared_ptr<const ImageDataset> train_;
  std::shared_ptr<const ImageDataset> test_;
  std::int64_t num_tasks_ = 0;
  std::int64_t num_classes_ = 0;
  std::int64_t num_outputs_ = 0;
  std::vector<std::vector<std::int64_t>> task_classes_;
  // Per task; tasks that use every image of a split share one list.
  std::vector<std::shared_ptr<const std::vector<std::int32_t>>> train_indices_;
  std::vector<std::shared_ptr<const std::vector<std::int32_t>>> test_indices_;
  std::vector<std::vector<std::int32_t>> eval_indices_;
  std::vector<std::vector<std::int32_t>> permutations_;  // permuted: per task
  std::vector<std::vector<RotationTap>> rotations_;      // rotated: per task
  float mean_ = 0.0F;
  float std_ = 1.0F;
  float lookup_[256] = {};  // normalize(pixel) for every pixel value
};

// One ImageStream per configuration within the process, shared while any holder keeps it (the
// bandit environments of a vector env share theirs). An ImageStream is immutable after
// construction, so sharing it across threads is safe.
std::shared_ptr<const ImageStream> make_shared_stream(const StreamConfig& config);

// Rotates a rows x cols image by `degrees` (counterclockwise as displayed) about its centre
// ((rows - 1) / 2, (cols - 1) / 2) with bilinear interpolation, zero outside the image: the
// transform of the rotated stream, before normalization. Multiples of 90 degrees are exact.
void rotate_image(std::span<const std::uint8_t> image, std::int64_t rows, std::int64_t cols,
                  double degrees, std::span<float> out);

}  // namespace locus::envs::data
