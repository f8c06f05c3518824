#include "envs/data/streams.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <numbers>

#include "envs/rng.hpp"

namespace locus::envs::data {

namespace {

// Spawn-key tags: each use of the stream seed draws from its own independent generator.
constexpr std::uint64_t kPermutationKey = 1;
constexpr std::uint64_t kEvalSubsetKey = 2;
constexpr std::uint64_t kEpochKey = 3;
constexpr std::uint64_t kTrainSubsetKey = 4;
constexpr std::uint64_t kDrawKey = 5;
constexpr std::int64_t kDefaultPermutedTasks = 5;

// numpy's SeedSequence(seed, spawn_key=key): the seed as little-endian 32-bit words.
Rng keyed_rng(std::uint64_t seed, std::initializer_list<std::uint64_t> key) {
  std::vector<std::uint32_t> words = {static_cast<std::uint32_t>(seed)};
  if (seed >> 32) words.push_back(static_cast<std::uint32_t>(seed >> 32));
  const std::vector<std::uint64_t> spawn_key(key);
  return Rng(SeedSequence(words, spawn_key));
}

// The first `count` of a seeded permutation of `pool`, in ascending order (0 takes all).
std::vector<std::int32_t> seeded_subset(const std::vector<std::int32_t>& pool, std::int64_t count,
                                        Rng rng) {
  const auto n = static_cast<std::int64_t>(pool.size());
  if (count <= 0 || count >= n) return pool;
  const std::vector<std::int64_t> order = rng.permutation(n);
  std::vector<std::int32_t> subset;
  subset.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) subset.push_back(pool[order[i]]);
  std::sort(subset.begin(), subset.end());
  return subset;
}

std::vector<RotationTap> rotation_taps(std::int64_t rows, std::int64_t cols, double degrees) {
  if (!std::isfinite(degrees)) {
    throw InvalidArgumentError("rotation angle must be finite, got " + std::to_string(degrees));
  }
  double angle = std::fmod(degrees, 360.0);
  if (angle < 0) angle += 360.0;
  // Exact sines and cosines at the right angles, so that those rotations move pixels exactly.
  const double radians = angle * std::numbers::pi / 180.0;
  double cosine = std::cos(radians);
  double sine = std::sin(radians);
  if (angle == 0.0 || angle == 90.0 || angle == 180.0 || angle == 270.0) {
    cosine = std::round(cosine);
    sine = std::round(sine);
  }
  const double centre_row = static_cast<double>(rows - 1) / 2.0;
  const double centre_col = static_cast<double>(cols - 1) / 2.0;
  std::vector<RotationTap> taps(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      // Output pixel in centred coordinates with y up; its source is rotated back by -angle.
      const double x = static_cast<double>(c) - centre_col;
      const double y = centre_row - static_cast<double>(r);
      const double source_x = cosine * x + sine * y;
      const double source_y = -sine * x + cosine * y;
      double source_row = centre_row - source_y;
      double source_col = centre_col + source_x;
      // Snap what rounding left a hair away from a pixel centre.
      if (std::abs(source_row - std::round(source_row)) < 1e-9) {
        source_row = std::round(source_row);
      }
      if (std::abs(source_col - std::round(source_col)) < 1e-9) {
        source_col = std::round(source_col);
      }
      const double row0 = std::floor(source_row);
      const double col0 = std::floor(source_col);
      const double fr = source_row - row0;
      const double fc = source_col - col0;
      RotationTap& tap = taps[static_cast<std::size_t>(r * cols + c)];
      const double corner_weights[4] = {(1 - fr) * (1 - fc), (1 - fr) * fc, fr * (1 - fc), fr * fc};
      for (int k = 0; k < 4; ++k) {
        const int row_offset = k / 2;  // corners 0, 1 on the top row, 2, 3 on the next
        const int col_offset = k % 2;
        const double rr = row0 + row_offset;
        const double cc = col0 + col_offset;
        const bool inside = rr >= 0 && cc >= 0 && rr < static_cast<double>(rows) &&
                            cc < static_cast<double>(cols) && corner_weights[k] != 0.0;
        tap.source[k] = inside ? static_cast<std::int32_t>(rr * static_cast<double>(cols) + cc) : 0;
        tap.weight[k] = inside ? static_cast<float>(corner_weights[k]) : 0.0F;
      }
    }
  }
  return taps;
}

// The data set's classes: the training labels, which must number them 0..C-1 with at least one
// image each. A label past a class without images (a corrupt byte, such as 255 among
// Fashion-MNIST's 0..9) is refused, naming the file, the index and the value, instead of silently
// widening the label space (and the learner's output layer) to 256 classes; every test label must
// be one of the training classes.
std::int64_t checked_num_classes(const ImageDataset& train, const ImageDataset& test) {
  std::int64_t images_per_label[256] = {};
  for (const std::uint8_t label : train.labels) ++images_per_label[label];
  std::int64_t classes = 0;
  while (classes < 256 && images_per_label[classes] > 0) ++classes;
  const auto first_label_from = [&](const ImageDataset& dataset) -> std::int64_t {
    const auto found = std::find_if(dataset.labels.begin(), dataset.labels.end(),
                                    [&](std::uint8_t label) { return label >= classes; });
    return found == dataset.labels.end() ? -1 : found - dataset.labels.begin();
  };
  const auto label_error = [&](const ImageDataset& dataset, std::int64_t index,
                               const std::string& why) {
    return DataError("labels file '" + dataset.labels_path.string() + "': label " +
                     std::to_string(dataset.labels[static_cast<std::size_t>(index)]) +
                     " at index " + std::to_string(index) + " " + why);
  };
  const std::string known =
      classes == 0 ? std::string("none") : "0.." + std::to_string(classes - 1);
  if (const std::int64_t index = first_label_from(train); index >= 0) {
    throw label_error(train, index,
                      "is not one of the data set's classes (" + known + "): class " +
                          std::to_string(classes) +
                          " has no training images, and labels must number the classes from 0 "
                          "without gaps (is the file corrupt?)");
  }
  if (const std::int64_t index = first_label_from(test); index >= 0) {
    throw label_error(test, index,
                      "is not one of the training split's classes (" + known + ", from '" +
                          train.labels_path.string() + "')");
  }
  return classes;
}

float apply_tap(const RotationTap& tap, const std::uint8_t* image) {
  return tap.weight[0] * static_cast<float>(image[tap.source[0]]) +
         tap.weight[1] * static_cast<float>(image[tap.source[1]]) +
         tap.weight[2] * static_cast<float>(image[tap.source[2]]) +
         tap.weight[3] * static_cast<float>(image[tap.source[3]]);
}

}  // namespace

std::int64_t planned_num_tasks(const StreamConfig& config, std::int64_t num_classes) {
  if (config.num_tasks > 0) return config.num_tasks;
  switch (config.kind) {
    case StreamKind::kFull:
      return 1;
    case StreamKind::kSplit:
      return config.classes_per_task > 0
                 ? std::max<std::int64_t>(1, num_classes / config.classes_per_task)
                 : 1;
    case StreamKind::kPermuted:
      return kDefaultPermutedTasks;
    case StreamKind::kRotated:
      return std::max<std::int64_t>(1, static_cast<std::int64_t>(config.angles.size()));
  }
  return 1;
}

std::string_view stream_kind_name(StreamKind kind) {
  switch (kind) {
    case StreamKind::kFull:
      return "full";
    case StreamKind::kSplit:
      return "split";
    case StreamKind::kPermuted:
      return "permuted";
    case StreamKind::kRotated:
      return "rotated";
  }
  throw InvalidArgumentError("invalid StreamKind value " + std::to_string(static_cast<int>(kind)));
}

StreamKind stream_kind_from_name(std::string_view name) {
  for (const StreamKind kind :
       {StreamKind::kFull, StreamKind::kSplit, StreamKind::kPermuted, StreamKind::kRotated}) {
    if (name == stream_kind_name(kind)) return kind;
  }
  throw InvalidArgumentError("unknown stream '" + std::string(name) +
                             "' (accepted: full, split, permuted, rotated)");
}

std::string_view normalization_name(Normalization normalization) {
  switch (normalization) {
    case Normalization::kUnit:
      return "unit";
    case Normalization::kStandardize:
      return "standardize";
    case Normalization::kFixed:
      return "fixed";
  }
  return "unknown";
}

Normalization normalization_from_name(std::string_view name) {
  if (name == "unit") return Normalization::kUnit;
  if (name == "standardize") return Normalization::kStandardize;
  if (name == "fixed") return Normalization::kFixed;
  throw InvalidArgumentError("unknown normalization '" + std::string(name) +
                             "' (accepted: unit, standardize, fixed)");
}

void rotate_image(std::span<const std::uint8_t> image, std::int64_t rows, std::int64_t cols,
                  double degrees, std::span<float> out) {
  if (rows <= 0 || cols <= 0 || static_cast<std::int64_t>(image.size()) != rows * cols ||
      out.size() != image.size()) {
    throw InvalidArgumentError("rotate_image: a " + std::to_string(rows) + " x " +
                               std::to_string(cols) + " image needs " +
                               std::to_string(rows * cols) + " input and output pixels, got " +
                               std::to_string(image.size()) + " and " + std::to_string(out.size()));
  }
  const auto taps = rotation_taps(rows, cols, degrees);
  for (std::size_t i = 0; i < taps.size(); ++i) out[i] = apply_tap(taps[i], image.data());
}

std::int64_t EpochPlan::num_batches() const {
  const std::int64_t n = num_examples();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

void EpochPlan::fill(std::int64_t i, Batch& batch) const {
  if (i < 0 || i >= num_batches()) {
    throw InvalidArgumentError("EpochPlan::fill: batch " + std::to_string(i) +
                               " is out of range; the epoch has " + std::to_string(num_batches()) +
                               " batches");
  }
  const std::int64_t begin = i * batch_size_;
  const std::int64_t end = std::min(begin + batch_size_, num_examples());
  stream_->fill_rows(std::span(order_).subspan(static_cast<std::size_t>(begin),
                                               static_cast<std::size_t>(end - begin)),
                     Split::kTrain, batch);
}

ImageStream::ImageStream(StreamConfig config) : config_(std::move(config)) {
  const std::string kind = std::string(stream_kind_name(config_.kind));
  auto invalid = [&](const std::string& what) {
    throw InvalidArgumentError(kind + " stream: " + what);
  };
  if (config_.eval_per_task < 0) {
    invalid("eval_per_task must be 0 (all) or positive, got " +
            std::to_string(config_.eval_per_task));
  }
  if (config_.train_per_task < 0) {
    invalid("train_per_task must be 0 (all) or positive, got " +
            std::to_string(config_.train_per_task));
  }
  if (config_.num_tasks < 0) {
    invalid("num_tasks must be 0 (the default) or positive, got " +
            std::to_string(config_.num_tasks));
  }

  train_ = load_image_dataset_shared(config_.data_dir, Split::kTrain);
  test_ = load_image_dataset_shared(config_.data_dir, Split::kTest);
  if (test_->rows != train_->rows || test_->cols != train_->cols) {
    throw DataError("the test images of '" + config_.data_dir.string() + "' are " +
                    std::to_string(test_->rows) + " x " + std::to_string(test_->cols) +
                    ", the training images " + std::to_string(train_->rows) + " x " +
                    std::to_string(train_->cols));
  }
  num_classes_ = checked_num_classes(*train_, *test_);

  switch (config_.kind) {
    case StreamKind::kFull:
      if (config_.num_tasks > 1) {
        invalid("has one task; num_tasks must be 0 or 1, got " + std::to_string(config_.num_tasks));
      }
      break;
    case StreamKind::kSplit: {
      const std::int64_t per_task = config_.classes_per_task;
      if (per_task < 1 || per_task > num_classes_) {
        invalid("classes_per_task must be between 1 and the data set's " +
                std::to_string(num_classes_) + " classes, got " + std::to_string(per_task));
      }
      if (config_.num_tasks == 0 && num_classes_ % per_task != 0) {
        invalid("the data set's " + std::to_string(num_classes_) +
                " classes do not divide into tasks of " + std::to_string(per_task) +
                "; set num_tasks to use only the first num_tasks * classes_per_task classes");
      }
      const std::int64_t tasks = planned_num_tasks(config_, num_classes_);
      if (tasks * per_task > num_classes_) {
        invalid(std::to_string(tasks) + " tasks of " + std::to_string(per_task) + " classes need " +
                std::to_string(tasks * per_task) + " classes; the data set has " +
                std::to_string(num_classes_));
      }
      break;
    }
    case StreamKind::kPermuted:
      break;
    case StreamKind::kRotated:
      if (config_.angles.empty()) invalid("needs at least one angle");
      for (const double angle : config_.angles) {
        if (!std::isfinite(angle)) invalid("angles must be finite, got " + std::to_string(angle));
      }
      if (config_.num_tasks != 0 &&
          config_.num_tasks != static_cast<std::int64_t>(config_.angles.size())) {
        invalid("has one task per angle: num_tasks must be 0 or " +
                std::to_string(config_.angles.size()) + ", got " +
                std::to_string(config_.num_tasks));
      }
      break;
  }
  num_tasks_ = planned_num_tasks(config_, num_classes_);

  // Classes and targets per task.
  const bool split = config_.kind == StreamKind::kSplit;
  const std::int64_t per_task = split ? config_.classes_per_task : num_classes_;
  for (std::int64_t t = 0; t < num_tasks_; ++t) {
    std::vector<std::int64_t> classes;
    for (std::int64_t c = 0; c < per_task; ++c) classes.push_back(split ? t * per_task + c : c);
    task_classes_.push_back(std::move(classes));
  }
  num_outputs_ = config_.scenario == Scenario::kClassIncremental ? num_tasks_ * per_task : per_task;

  // The images of each task: split tasks select their classes, the others use every image.
  auto images_of = [&](const ImageDataset& dataset, std::int64_t task) {
    std::vector<std::int32_t> indices;
    for (std::int64_t i = 0; i < dataset.count; ++i) {
      const std::int64_t label = dataset.labels[static_cast<std::size_t>(i)];
      if (!split || label / per_task == task) indices.push_back(static_cast<std::int32_t>(i));
    }
    return std::make_shared<const std::vector<std::int32_t>>(std::move(indices));
  };
  std::shared_ptr<const std::vector<std::int32_t>> all_train;
  std::shared_ptr<const std::vector<std::int32_t>> all_test;
  for (std::int64_t t = 0; t < num_tasks_; ++t) {
    std::shared_ptr<const std::vector<std::int32_t>> train;
    std::shared_ptr<const std::vector<std::int32_t>> test;
    if (split) {
      train = images_of(*train_, t);
      test = images_of(*test_, t);
    } else {
      if (!all_train) all_train = images_of(*train_, t);
      if (!all_test) all_test = images_of(*test_, t);
      train = all_train;
      test = all_test;
    }
    if (train->empty() || test->empty()) {
      invalid("task " + std::to_string(t) + " has no " + (train->empty() ? "training" : "test") +
              " images in '" + config_.data_dir.string() + "'");
    }
    if (config_.train_per_task > 0 &&
        config_.train_per_task < static_cast<std::int64_t>(train->size())) {
      train = std::make_shared<const std::vector<std::int32_t>>(
          seeded_subset(*train, config_.train_per_task,
                        keyed_rng(config_.seed, {kTrainSubsetKey, static_cast<std::uint64_t>(t)})));
    }
    train_indices_.push_back(train);
    test_indices_.push_back(test);
    eval_indices_.push_back(
        seeded_subset(*test, config_.eval_per_task,
                      keyed_rng(config_.seed, {kEvalSubsetKey, static_cast<std::uint64_t>(t)})));
  }

  const std::int64_t pixels = input_size();
  if (config_.kind == StreamKind::kPermuted) {
    for (std::int64_t t = 0; t < num_tasks_; ++t) {
      const auto order = keyed_rng(config_.seed, {kPermutationKey, static_cast<std::uint64_t>(t)})
                             .permutation(pixels);
      permutations_.emplace_back(order.begin(), order.end());
    }
  }
  if (config_.kind == StreamKind::kRotated) {
    for (const double angle : config_.angles) {
      rotations_.push_back(rotation_taps(rows(), cols(), angle));
    }
  }

  if (config_.normalization == Normalization::kStandardize) {
    // Exact integer sums over every training pixel, then the population mean and deviation of
    // pixel / 255.
    std::uint64_t sum = 0;
    std::uint64_t sum_squares = 0;
    for (const std::uint8_t p : train_->images) {
      sum += p;
      sum_squares += std::uint64_t{p} * p;
    }
    const auto n = static_cast<double>(train_->images.size());
    const double mean = static_cast<double>(sum) / n / 255.0;
    const double variance = static_cast<double>(sum_squares) / n / (255.0 * 255.0) - mean * mean;
    if (!(variance > 0.0)) {
      throw DataError("cannot standardize the images of '" + config_.data_dir.string() +
                      "': every training pixel has the same value");
    }
    mean_ = static_cast<float>(mean);
    std_ = static_cast<float>(std::sqrt(variance));
  }
  if (config_.normalization == Normalization::kFixed) {
    if (!(config_.normalization_std > 0.0F) || !std::isfinite(config_.normalization_std) ||
        !std::isfinite(config_.normalization_mean)) {
      throw InvalidArgumentError(
          "fixed normalization needs a finite mean and a finite std > 0, got mean " +
          std::to_string(config_.normalization_mean) + " and std " +
          std::to_string(config_.normalization_std));
    }
    mean_ = config_.normalization_mean;
    std_ = config_.normalization_std;
  }
  for (int p = 0; p < 256; ++p) lookup_[p] = normalize(static_cast<float>(p));
}

void ImageStream::check_task(std::int64_t task) const {
  if (task < 0 || task >= num_tasks_) {
    throw InvalidArgumentError(std::string(stream_kind_name(config_.kind)) + " stream: task " +
                               std::to_string(task) + " is out of range; the stream has " +
                               std::to_string(num_tasks_) + " tasks (0.." +
                               std::to_string(num_tasks_ - 1) + ")");
  }
}

const std::vector<std::int64_t>& ImageStream::task_classes(std::int64_t task) const {
  check_task(task);
  return task_classes_[static_cast<std::size_t>(task)];
}

std::int64_t ImageStream::target(std::int64_t task, std::int64_t label) const {
  const auto& classes = task_classes(task);
  const auto position = std::find(classes.begin(), classes.end(), label);
  if (position == classes.end()) {
    throw InvalidArgumentError("task " + std::to_string(task) + " has no class " +
                               std::to_string(label));
  }
  const std::int64_t local = position - classes.begin();
  if (config_.scenario != Scenario::kClassIncremental) return local;
  return task * static_cast<std::int64_t>(classes.size()) + local;
}

std::int64_t ImageStream::visible_task_id(std::int64_t task) const {
  check_task(task);
  return reveals_task_id(config_.scenario) ? task : -1;
}

std::span<const std::int32_t> ImageStream::indices(std::int64_t task, Split split) const {
  check_task(task);
  const auto& lists = split == Split::kTrain ? train_indices_ : test_indices_;
  return *lists[static_cast<std::size_t>(task)];
}

std::span<const std::int32_t> ImageStream::eval_indices(std::int64_t task) const {
  check_task(task);
  return eval_indices_[static_cast<std::size_t>(task)];
}

const ImageDataset& ImageStream::dataset(Split split) const {
  return split == Split::kTrain ? *train_ : *test_;
}

EpochPlan ImageStream::epoch(std::int64_t task, std::int64_t epoch, std::int64_t batch_size,
                             bool drop_last) const {
  check_task(task);
  if (batch_size <= 0) {
    throw InvalidArgumentError("epoch: batch_size must be positive, got " +
                               std::to_string(batch_size));
  }
  if (epoch < 0) {
    throw InvalidArgumentError("epoch: the epoch index must not be negative, got " +
                               std::to_string(epoch));
  }
  EpochPlan plan;
  plan.stream_ = this;
  plan.batch_size_ = batch_size;
  plan.drop_last_ = drop_last;
  for (std::int64_t t = config_.joint ? 0 : task; t <= task; ++t) {
    for (const std::int32_t index : indices(t, Split::kTrain)) {
      plan.order_.push_back({static_cast<std::int32_t>(t), index});
    }
  }
  Rng rng = keyed_rng(config_.seed, {kEpochKey, static_cast<std::uint64_t>(task),
                                     static_cast<std::uint64_t>(epoch)});
  rng.shuffle(std::span(plan.order_));
  return plan;
}

EpochPlan ImageStream::draws(std::int64_t task, std::int64_t round, std::int64_t batch_size,
                             std::int64_t batches) const {
  check_task(task);
  if (batch_size <= 0 || batches <= 0 || round < 0) {
    throw InvalidArgumentError(
        "draws: batch_size and batches must be positive and round not "
        "negative, got " +
        std::to_string(batch_size) + ", " + std::to_string(batches) + " and " +
        std::to_string(round));
  }
  std::vector<Example> pool;
  for (std::int64_t t = config_.joint ? 0 : task; t <= task; ++t) {
    for (const std::int32_t index : indices(t, Split::kTrain)) {
      pool.push_back({static_cast<std::int32_t>(t), index});
    }
  }
  if (pool.empty())
    throw InvalidArgumentError("draws: task " + std::to_string(task) + " has no training examples");
  EpochPlan plan;
  plan.stream_ = this;
  plan.batch_size_ = batch_size;
  plan.drop_last_ = true;
  Rng rng = keyed_rng(config_.seed, {kDrawKey, static_cast<std::uint64_t>(task),
                                     static_cast<std::uint64_t>(round)});
  const auto count = static_cast<std::size_t>(batch_size * batches);
  plan.order_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    plan.order_.push_back(
        pool[static_cast<std::size_t>(rng.integers(static_cast<std::int64_t>(pool.size())))]);
  }
  return plan;
}

Batch ImageStream::eval_set(std::int64_t task) const {
  std::vector<Example> examples;
  for (const std::int32_t index : eval_indices(task)) {
    examples.push_back({static_cast<std::int32_t>(task), index});
  }
  Batch batch;
  fill_rows(examples, Split::kTest, batch);
  return batch;
}

void ImageStream::fill_rows(std::span<const Example> examples, Split split, Batch& batch) const {
  const std::int64_t pixels = input_size();
  const auto rows = static_cast<std::int64_t>(examples.size());
  batch.size = rows;
  batch.input_size = pixels;
  batch.inputs.resize(static_cast<std::size_t>(rows * pixels));
  batch.labels.resize(static_cast<std::size_t>(rows));
  batch.task_ids.resize(static_cast<std::size_t>(rows));
  batch.origin_tasks.resize(static_cast<std::size_t>(rows));
  const ImageDataset& data = dataset(split);
  for (std::int64_t r = 0; r < rows; ++r) {
    const Example& example = examples[static_cast<std::size_t>(r)];
    const auto i = static_cast<std::size_t>(r);
    write_input(
        example.task, split, example.index,
        std::span(batch.inputs)
            .subspan(i * static_cast<std::size_t>(pixels), static_cast<std::size_t>(pixels)));
    batch.labels[i] = target(example.task, data.labels[static_cast<std::size_t>(example.index)]);
    batch.task_ids[i] = visible_task_id(example.task);
    batch.origin_tasks[i] = example.task;
  }
}

void ImageStream::write_input(std::int64_t task, Split split, std::int64_t index,
                              std::span<float> out) const {
  check_task(task);
  const ImageDataset& data = dataset(split);
  if (index < 0 || index >= data.count) {
    throw InvalidArgumentError("image " + std::to_string(index) + " is out of range; the " +
                               std::string(split_name(split)) + " split has " +
                               std::to_string(data.count) + " images");
  }
  if (static_cast<std::int64_t>(out.size()) != input_size()) {
    throw BufferError("write_input: the output holds " + std::to_string(out.size()) +
                      " floats, an image has " + std::to_string(input_size()));
  }
  const std::uint8_t* image = data.image(index).data();
  const auto t = static_cast<std::size_t>(task);
  switch (config_.kind) {
    case StreamKind::kFull:
    case StreamKind::kSplit:
      for (std::size_t j = 0; j < out.size(); ++j) out[j] = lookup_[image[j]];
      break;
    case StreamKind::kPermuted: {
      const auto& permutation = permutations_[t];
      for (std::size_t j = 0; j < out.size(); ++j) out[j] = lookup_[image[permutation[j]]];
      break;
    }
    case StreamKind::kRotated: {
      const auto& taps = rotations_[t];
      // The weights sum to 1 only up to rounding: clamp so that inputs stay in their range.
      for (std::size_t j = 0; j < out.size(); ++j) {
        out[j] = normalize(std::min(apply_tap(taps[j], image), 255.0F));
      }
      break;
    }
  }
}

std::shared_ptr<const ImageStream> make_shared_stream(const StreamConfig& config) {
  std::error_code ec;
  auto directory = std::filesystem::weakly_canonical(config.data_dir, ec);
  if (ec) directory = config.data_dir;
  std::string key = std::string(stream_kind_name(config.kind)) + "|" +
                    std::string(scenario_name(config.scenario)) + "|" + directory.string() + "|" +
                    std::to_string(config.seed) + "|" + std::to_string(config.num_tasks) + "|" +
                    std::to_string(config.classes_per_task) + "|" +
                    std::to_string(config.eval_per_task) + "|" +
                    std::to_string(config.train_per_task) + "|" + (config.joint ? "j" : "-") +
                    std::string(normalization_name(config.normalization));
  for (const float constant : {config.normalization_mean, config.normalization_std}) {
    char text[32];
    std::snprintf(text, sizeof(text), "|%a", static_cast<double>(constant));
    key += text;
  }
  for (const double angle : config.angles) {
    char text[32];
    std::snprintf(text, sizeof(text), "|%a", angle);  // exact: hexadecimal floating point
    key += text;
  }
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<const ImageStream>> cache;
  std::lock_guard lock(mutex);
  if (auto cached = cache[key].lock()) return cached;
  auto made = std::make_shared<const ImageStream>(config);
  cache[key] = made;
  return made;
}

}  // namespace locus::envs::data
