// Image streams (Split, Permuted, Rotated) and the contextual-bandit environment on Debian's
// Fashion-MNIST: task contents, targets per scenario, fixed evaluation subsets, incremental joint
// epochs, determinism per seed, and the rotation against scipy.ndimage.rotate.

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

#include "envs/data/image_bandit.hpp"
#include "envs/data/streams.hpp"
#include "envs/registry.hpp"
#include "envs/vector_env.hpp"
#include "envs/wrappers/env_checker.hpp"

using namespace locus::envs;
using namespace locus::envs::data;

namespace {

std::vector<float> unit_image(const ImageDataset& dataset, std::int64_t index) {
  std::vector<float> out;
  for (const auto p : dataset.image(index)) out.push_back(static_cast<float>(p) / 255.0F);
  return out;
}

std::vector<float> row_of(const Batch& batch, std::int64_t r) {
  const auto begin = batch.inputs.begin() + r * batch.input_size;
  return {begin, begin + batch.input_size};
}

// Every example of a plan, as (task, index) pairs.
std::multiset<std::pair<int, int>> examples_of(const EpochPlan& plan) {
  std::multiset<std::pair<int, int>> out;
  for (const auto& e : plan.examples()) out.insert({e.task, e.index});
  return out;
}

// A small MNIST-format directory of 4 x 4 images, made fresh per call and removed by the caller's
// std::filesystem::remove_all; labels i % 10 unless given.
std::filesystem::path small_data_dir(const std::vector<std::uint8_t>& train_labels,
                                     const std::vector<std::uint8_t>& test_labels) {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("locus_test_streams_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto write_split = [&](const std::string& prefix, const std::vector<std::uint8_t>& labels) {
    const auto count = static_cast<std::int64_t>(labels.size());
    IdxArray images{.type = IdxType::kUInt8, .dims = {count, 4, 4}};
    images.data.resize(static_cast<std::size_t>(count * 16));
    for (std::size_t i = 0; i < images.data.size(); ++i) images.data[i] = std::byte(i % 251);
    write_idx(dir / (prefix + "-images-idx3-ubyte"), images, false);
    IdxArray label_array{.type = IdxType::kUInt8, .dims = {count}};
    for (const std::uint8_t label : labels) label_array.data.push_back(std::byte(label));
    write_idx(dir / (prefix + "-labels-idx1-ubyte"), label_array, false);
  };
  write_split("train", train_labels);
  write_split("t10k", test_labels);
  return dir;
}

std::vector<std::uint8_t> labels_mod_10(std::size_t count) {
  std::vector<std::uint8_t> labels(count);
  for (std::size_t i = 0; i < count; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
  return labels;
}

}  // namespace

TEST_CASE("Labels outside the data set's classes are refused, naming the file, index and value",
          "[streams]") {
  auto stream_of = [](const std::filesystem::path& dir) {
    return ImageStream({.kind = StreamKind::kFull, .data_dir = dir});
  };
  SECTION("well-formed labels give the classes 0..9") {
    const auto dir = small_data_dir(labels_mod_10(30), labels_mod_10(20));
    REQUIRE(stream_of(dir).num_classes() == 10);
    REQUIRE(stream_of(dir).num_outputs() == 10);
    std::filesystem::remove_all(dir);
  }
  SECTION("a corrupt byte 255 among training labels 0..9 does not make 256 classes") {
    auto train = labels_mod_10(30);
    train[13] = 255;
    const auto dir = small_data_dir(train, labels_mod_10(20));
    REQUIRE_THROWS_AS(stream_of(dir), DataError);
    REQUIRE_THROWS_WITH(stream_of(dir),
                        Catch::Contains((dir / "train-labels-idx1-ubyte").string()) &&
                            Catch::Contains("label 255 at index 13") && Catch::Contains("0..9") &&
                            Catch::Contains("class 10 has no training images"));
    std::filesystem::remove_all(dir);
  }
  SECTION("a class without training images leaves a gap") {
    auto train = labels_mod_10(30);
    for (auto& label : train) label = label == 5 ? 4 : label;
    const auto dir = small_data_dir(train, labels_mod_10(20));
    REQUIRE_THROWS_WITH(stream_of(dir), Catch::Contains("label 6 at index 6") &&
                                            Catch::Contains("0..4") &&
                                            Catch::Contains("class 5 has no training images"));
    std::filesystem::remove_all(dir);
  }
  SECTION("a test label must be one of the training classes") {
    auto test = labels_mod_10(20);
    test[3] = 10;
    const auto dir = small_data_dir(labels_mod_10(30), test);
    REQUIRE_THROWS_AS(stream_of(dir), DataError);
    REQUIRE_THROWS_WITH(stream_of(dir),
                        Catch::Contains((dir / "t10k-labels-idx1-ubyte").string()) &&
                            Catch::Contains("label 10 at index 3") &&
                            Catch::Contains("not one of the training split's classes (0..9"));
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("rotate_image matches scipy.ndimage.rotate with order 1", "[streams]") {
  // 5 x 6 image of (i * 7) % 256; expected values from
  // scipy.ndimage.rotate(img, 30, reshape=False, order=1, mode='grid-constant') (scipy 1.17).
  std::vector<std::uint8_t> image(30);
  for (int i = 0; i < 30; ++i)
    image[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i * 7);
  const std::vector<double> scipy_30 = {0.167727,   7.979905,   22.222777,  49.284955,  76.347133,
                                        33.076273,  5.166439,   28.033666,  55.095844,  82.158022,
                                        109.2202,   112.822407, 33.844555,  60.906733,  87.968911,
                                        115.031089, 142.093267, 169.155445, 56.6697,    93.7798,
                                        120.841978, 147.904156, 174.966334, 174.280405, 34.915834,
                                        126.652867, 153.715045, 180.777223, 97.163781,  3.475959};
  std::vector<float> out(30);
  rotate_image(image, 5, 6, 30.0, out);
  for (std::size_t i = 0; i < 30; ++i) {
    INFO("pixel " << i);
    // float32 weights and sums: a few ulps of values up to 255.
    REQUIRE(out[i] == Approx(scipy_30[i]).margin(1e-4));
  }
  // scipy's 90-degree result for the same image, which is exact (half-pixel shifts on the short
  // side average two neighbours).
  const std::vector<double> scipy_90 = {15.75, 52.5,  94.5,  136.5, 178.5, 99.75, 12.25, 45.5,
                                        87.5,  129.5, 171.5, 96.25, 8.75,  38.5,  80.5,  122.5,
                                        164.5, 92.75, 5.25,  31.5,  73.5,  115.5, 157.5, 89.25,
                                        1.75,  24.5,  66.5,  108.5, 150.5, 85.75};
  rotate_image(image, 5, 6, 90.0, out);
  for (std::size_t i = 0; i < 30; ++i) REQUIRE(out[i] == static_cast<float>(scipy_90[i]));

  // Square images: right angles move pixels exactly, counterclockwise as displayed.
  std::vector<std::uint8_t> square(16);
  std::iota(square.begin(), square.end(), std::uint8_t{1});
  std::vector<float> turned(16);
  rotate_image(square, 4, 4, 90.0, turned);
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) {
      // Counterclockwise: the right column becomes the top row.
      REQUIRE(turned[static_cast<std::size_t>(r * 4 + c)] ==
              static_cast<float>(square[static_cast<std::size_t>(c * 4 + (3 - r))]));
    }
  }
  std::vector<float> again(16);
  rotate_image(square, 4, 4, -270.0, again);
  REQUIRE(again == turned);
  rotate_image(square, 4, 4, 360.0, again);
  REQUIRE(again == std::vector<float>(square.begin(), square.end()));
  REQUIRE_THROWS_WITH(rotate_image(square, 4, 5, 10.0, again), Catch::Contains("4 x 5"));
}

TEST_CASE("Split stream: five tasks of two classes with targets per scenario", "[streams]") {
  for (const Scenario scenario :
       {Scenario::kTaskIncremental, Scenario::kDomainIncremental, Scenario::kClassIncremental}) {
    INFO(scenario_name(scenario));
    const ImageStream stream({.kind = StreamKind::kSplit, .scenario = scenario});
    REQUIRE(stream.num_tasks() == 5);
    REQUIRE(stream.input_size() == 784);
    REQUIRE(stream.num_outputs() == (scenario == Scenario::kClassIncremental ? 10 : 2));
    for (std::int64_t t = 0; t < 5; ++t) {
      REQUIRE(stream.task_classes(t) == std::vector<std::int64_t>{2 * t, 2 * t + 1});
      REQUIRE(stream.indices(t, Split::kTrain).size() == 12000);
      REQUIRE(stream.indices(t, Split::kTest).size() == 2000);
      REQUIRE(stream.eval_indices(t).size() == 1000);
      const Batch eval = stream.eval_set(t);
      REQUIRE(eval.size == 1000);
      for (std::int64_t r = 0; r < eval.size; ++r) {
        const auto index = stream.eval_indices(t)[static_cast<std::size_t>(r)];
        const std::int64_t label = stream.dataset(Split::kTest).labels[index];
        REQUIRE(label / 2 == t);
        const std::int64_t expected =
            scenario == Scenario::kClassIncremental ? label : label - 2 * t;
        REQUIRE(eval.labels[static_cast<std::size_t>(r)] == expected);
        REQUIRE(eval.task_ids[static_cast<std::size_t>(r)] ==
                (scenario == Scenario::kTaskIncremental ? t : -1));
        REQUIRE(eval.origin_tasks[static_cast<std::size_t>(r)] == t);
      }
      REQUIRE(row_of(eval, 7) ==
              unit_image(stream.dataset(Split::kTest), stream.eval_indices(t)[7]));
    }
  }
  const ImageStream three({.kind = StreamKind::kSplit, .num_tasks = 3, .classes_per_task = 3});
  REQUIRE(three.task_classes(2) == std::vector<std::int64_t>{6, 7, 8});
  REQUIRE_THROWS_WITH(ImageStream({.kind = StreamKind::kSplit, .classes_per_task = 3}),
                      Catch::Contains("10 classes do not divide into tasks of 3"));
  REQUIRE_THROWS_WITH(ImageStream({.kind = StreamKind::kSplit, .num_tasks = 6}),
                      Catch::Contains("6 tasks of 2 classes need 12 classes"));
  REQUIRE_THROWS_WITH(three.task_classes(3), Catch::Contains("task 3 is out of range"));
}

TEST_CASE("Evaluation subsets are fixed by the seed", "[streams]") {
  const ImageStream a({.kind = StreamKind::kSplit, .seed = 1, .eval_per_task = 300});
  const ImageStream b({.kind = StreamKind::kSplit, .seed = 1, .eval_per_task = 300});
  const ImageStream c({.kind = StreamKind::kSplit, .seed = 2, .eval_per_task = 300});
  const auto ea = a.eval_indices(3);
  REQUIRE(std::vector<std::int32_t>(ea.begin(), ea.end()) ==
          std::vector<std::int32_t>(b.eval_indices(3).begin(), b.eval_indices(3).end()));
  REQUIRE(std::vector<std::int32_t>(ea.begin(), ea.end()) !=
          std::vector<std::int32_t>(c.eval_indices(3).begin(), c.eval_indices(3).end()));
  REQUIRE(std::is_sorted(ea.begin(), ea.end()));
  REQUIRE(std::adjacent_find(ea.begin(), ea.end()) == ea.end());  // no image twice
  REQUIRE(a.eval_set(3).inputs == a.eval_set(3).inputs);
  const ImageStream all({.kind = StreamKind::kSplit, .eval_per_task = 0});
  REQUIRE(all.eval_indices(0).size() == 2000);
}

TEST_CASE("Epochs: every training example once, shuffled by seed, task and epoch", "[streams]") {
  const ImageStream stream({.kind = StreamKind::kSplit, .seed = 5});
  const EpochPlan plan = stream.epoch(1, 0, 128);
  REQUIRE(plan.num_examples() == 12000);
  REQUIRE(plan.num_batches() == 94);  // 93 full batches and one of 96
  std::multiset<std::pair<int, int>> expected;
  for (const auto index : stream.indices(1, Split::kTrain)) expected.insert({1, index});
  REQUIRE(examples_of(plan) == expected);

  const EpochPlan same = ImageStream({.kind = StreamKind::kSplit, .seed = 5}).epoch(1, 0, 128);
  REQUIRE(std::equal(plan.examples().begin(), plan.examples().end(), same.examples().begin(),
                     [](const Example& x, const Example& y) { return x.index == y.index; }));
  const EpochPlan next_epoch = stream.epoch(1, 1, 128);
  REQUIRE_FALSE(std::equal(plan.examples().begin(), plan.examples().end(),
                           next_epoch.examples().begin(),
                           [](const Example& x, const Example& y) { return x.index == y.index; }));

  Batch batch;
  plan.fill(93, batch);
  REQUIRE(batch.size == 12000 - 93 * 128);
  plan.fill(0, batch);
  REQUIRE(batch.size == 128);
  REQUIRE(batch.inputs.size() == 128 * 784);
  const Example first = plan.examples()[0];
  REQUIRE(row_of(batch, 0) == unit_image(stream.dataset(Split::kTrain), first.index));
  REQUIRE(batch.labels[0] == stream.dataset(Split::kTrain).labels[first.index] - 2);
  REQUIRE(stream.epoch(1, 0, 128, /*drop_last=*/true).num_batches() == 93);
  REQUIRE_THROWS_WITH(plan.fill(94, batch), Catch::Contains("batch 94 is out of range"));
  REQUIRE_THROWS_WITH(stream.epoch(1, 0, 0), Catch::Contains("batch_size must be positive"));

  // Batches depend only on their index: filled on several threads, in any order, they are the
  // batches filled one after the other.
  std::vector<Batch> serial(static_cast<std::size_t>(plan.num_batches()));
  for (std::int64_t i = 0; i < plan.num_batches(); ++i) plan.fill(i, serial[i]);
  std::vector<Batch> parallel(serial.size());
  std::vector<std::thread> threads;
  threads.reserve(3);
  for (int worker = 0; worker < 3; ++worker) {
    threads.emplace_back([&, worker] {
      for (std::int64_t i = plan.num_batches() - 1 - worker; i >= 0; i -= 3) {
        plan.fill(i, parallel[static_cast<std::size_t>(i)]);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (std::size_t i = 0; i < serial.size(); ++i) {
    REQUIRE(parallel[i].inputs == serial[i].inputs);
    REQUIRE(parallel[i].labels == serial[i].labels);
  }
}

TEST_CASE("Incremental joint training replays every earlier task", "[streams]") {
  const ImageStream joint({.kind = StreamKind::kSplit,
                           .scenario = Scenario::kClassIncremental,
                           .train_per_task = 500,
                           .joint = true});
  const EpochPlan plan = joint.epoch(2, 0, 100);
  REQUIRE(plan.num_examples() == 3 * 500);
  std::multiset<std::pair<int, int>> expected;
  for (int t = 0; t <= 2; ++t) {
    REQUIRE(joint.indices(t, Split::kTrain).size() == 500);
    for (const auto index : joint.indices(t, Split::kTrain)) expected.insert({t, index});
  }
  REQUIRE(examples_of(plan) == expected);
  // Rows of every task are mixed within the batches, each with its own task and class target.
  Batch batch;
  std::set<std::int64_t> tasks_in_first_batch;
  plan.fill(0, batch);
  for (std::int64_t r = 0; r < batch.size; ++r) {
    const auto& e = plan.examples()[static_cast<std::size_t>(r)];
    tasks_in_first_batch.insert(batch.origin_tasks[static_cast<std::size_t>(r)]);
    REQUIRE(batch.origin_tasks[static_cast<std::size_t>(r)] == e.task);
    REQUIRE(batch.labels[static_cast<std::size_t>(r)] ==
            joint.dataset(Split::kTrain).labels[e.index]);
    REQUIRE(batch.task_ids[static_cast<std::size_t>(r)] == -1);
  }
  REQUIRE(tasks_in_first_batch.size() == 3);
  // Without joint mode the same task's epoch holds only its own examples.
  const ImageStream plain({.kind = StreamKind::kSplit, .train_per_task = 500});
  REQUIRE(plain.epoch(2, 0, 100).num_examples() == 500);
}

TEST_CASE("Permuted stream: seeded pixel permutations, targets per scenario", "[streams]") {
  const ImageStream stream({.kind = StreamKind::kPermuted,
                            .scenario = Scenario::kClassIncremental,
                            .seed = 11,
                            .eval_per_task = 50});
  REQUIRE(stream.num_tasks() == 5);
  REQUIRE(stream.num_outputs() == 50);
  REQUIRE(stream.indices(3, Split::kTrain).size() == 60000);
  const ImageDataset& train = stream.dataset(Split::kTrain);
  std::vector<std::vector<float>> inputs;
  for (std::int64_t t = 0; t < 5; ++t) {
    std::vector<float> input(784);
    stream.write_input(t, Split::kTrain, 0, input);
    // A permutation of the pixels: the same multiset of values as the image.
    auto sorted_input = input;
    auto sorted_image = unit_image(train, 0);
    std::sort(sorted_input.begin(), sorted_input.end());
    std::sort(sorted_image.begin(), sorted_image.end());
    REQUIRE(sorted_input == sorted_image);
    inputs.push_back(input);
    REQUIRE(stream.target(t, 9) == t * 10 + 9);
  }
  for (std::size_t t = 1; t < inputs.size(); ++t) REQUIRE(inputs[t] != inputs[0]);
  REQUIRE(inputs[0] != unit_image(train, 0));

  const ImageStream same({.kind = StreamKind::kPermuted, .seed = 11, .eval_per_task = 50});
  const ImageStream other({.kind = StreamKind::kPermuted, .seed = 12, .eval_per_task = 50});
  std::vector<float> input(784);
  same.write_input(2, Split::kTrain, 0, input);
  REQUIRE(input == inputs[2]);
  other.write_input(2, Split::kTrain, 0, input);
  REQUIRE(input != inputs[2]);
  REQUIRE(same.num_outputs() == 10);
  REQUIRE(same.target(4, 9) == 9);
  REQUIRE(ImageStream({.kind = StreamKind::kPermuted, .num_tasks = 7, .eval_per_task = 10})
              .num_tasks() == 7);
}

TEST_CASE("Rotated stream: one task per angle, bilinear", "[streams]") {
  const ImageStream stream({.kind = StreamKind::kRotated, .eval_per_task = 20});
  REQUIRE(stream.num_tasks() == 3);
  REQUIRE(stream.num_outputs() == 10);
  const ImageDataset& test = stream.dataset(Split::kTest);
  std::vector<float> input(784);
  stream.write_input(0, Split::kTest, 5, input);
  REQUIRE(input == unit_image(test, 5));
  for (const auto& [task, angle] : {std::pair{1, 80.0}, std::pair{2, 160.0}}) {
    stream.write_input(task, Split::kTest, 5, input);
    std::vector<float> rotated(784);
    rotate_image(test.image(5), 28, 28, angle, rotated);
    for (std::size_t j = 0; j < 784; ++j) {
      REQUIRE(input[j] == Approx(std::min(rotated[j], 255.0F) / 255.0F).margin(1e-6));
    }
  }
  const ImageStream custom({.kind = StreamKind::kRotated, .angles = {0, 45, 90, 135}});
  REQUIRE(custom.num_tasks() == 4);
  REQUIRE_THROWS_WITH(ImageStream({.kind = StreamKind::kRotated, .num_tasks = 5}),
                      Catch::Contains("num_tasks must be 0 or 3"));
  REQUIRE_THROWS_WITH(ImageStream({.kind = StreamKind::kRotated, .angles = {}}),
                      Catch::Contains("at least one angle"));
  REQUIRE_THROWS_WITH(ImageStream({.kind = StreamKind::kRotated, .angles = {NAN}}),
                      Catch::Contains("finite"));
}

TEST_CASE("Standardized inputs have the training set's mean 0 and deviation 1", "[streams]") {
  const ImageStream stream({.kind = StreamKind::kFull,
                            .eval_per_task = 0,
                            .normalization = Normalization::kStandardize});
  REQUIRE(stream.num_tasks() == 1);
  // Over the whole training split (computed independently with numpy: mean 0.28604,
  // std 0.35302 of pixel / 255).
  REQUIRE(stream.input_low() == Approx(-0.28604 / 0.35302).epsilon(1e-4));
  REQUIRE(stream.input_high() == Approx((1 - 0.28604) / 0.35302).epsilon(1e-4));
  const EpochPlan plan = stream.epoch(0, 0, 60000);
  Batch batch;
  plan.fill(0, batch);
  const double mean =
      std::accumulate(batch.inputs.begin(), batch.inputs.end(), 0.0) / batch.inputs.size();
  double squares = 0;
  for (const float x : batch.inputs) squares += (x - mean) * (x - mean);
  REQUIRE(mean == Approx(0.0).margin(1e-4));
  REQUIRE(std::sqrt(squares / batch.inputs.size()) == Approx(1.0).epsilon(1e-4));
}

TEST_CASE("Fixed normalization uses the given constants, and refuses a std of 0", "[streams]") {
  const ImageStream stream({.kind = StreamKind::kFull,
                            .eval_per_task = 10,
                            .normalization = Normalization::kFixed,
                            .normalization_mean = 0.1307F,
                            .normalization_std = 0.3081F});
  CHECK(stream.input_low() == Approx(-0.1307 / 0.3081).epsilon(1e-6));
  CHECK(stream.input_high() == Approx((1 - 0.1307) / 0.3081).epsilon(1e-6));
  CHECK(normalization_from_name("fixed") == Normalization::kFixed);
  CHECK_THROWS_WITH(ImageStream({.kind = StreamKind::kFull,
                                 .normalization = Normalization::kFixed,
                                 .normalization_std = 0.0F}),
                    Catch::Contains("std > 0"));
}

TEST_CASE("Draws with replacement: uniform over the task's examples, fixed by seed and round",
          "[streams]") {
  const ImageStream stream({.kind = StreamKind::kSplit, .eval_per_task = 10, .train_per_task = 50});
  const EpochPlan plan = stream.draws(1, 0, 40, 25);  // 1000 draws from 50 examples
  REQUIRE(plan.num_batches() == 25);
  REQUIRE(plan.num_examples() == 1000);
  const auto task_indices = stream.indices(1, Split::kTrain);
  std::map<std::int32_t, int> counts;
  for (const Example& e : plan.examples()) {
    CHECK(e.task == 1);
    CHECK(std::find(task_indices.begin(), task_indices.end(), e.index) != task_indices.end());
    ++counts[e.index];
  }
  // With replacement: examples repeat, and 1000 uniform draws reach (almost surely) all 50.
  CHECK(counts.size() == 50);
  const auto most = std::max_element(counts.begin(), counts.end(),
                                     [](auto& a, auto& b) { return a.second < b.second; });
  CHECK(most->second > 20);  // mean 20 per example
  CHECK(most->second < 45);  // binomial(1000, 1/50): sd 4.4, so > 45 is 5.6 sd out
  const EpochPlan again = stream.draws(1, 0, 40, 25);
  const EpochPlan next = stream.draws(1, 1, 40, 25);
  CHECK(std::equal(plan.examples().begin(), plan.examples().end(), again.examples().begin(),
                   [](const Example& a, const Example& b) { return a.index == b.index; }));
  CHECK_FALSE(std::equal(plan.examples().begin(), plan.examples().end(), next.examples().begin(),
                         [](const Example& a, const Example& b) { return a.index == b.index; }));
  CHECK_THROWS_WITH(stream.draws(1, 0, 0, 5), Catch::Contains("batch_size"));
}

TEST_CASE("FashionMNISTBandit-v0: one image per step, reward 1 for the right label", "[streams]") {
  auto env = make("FashionMNISTBandit-v0",
                  {{"stream", "split"}, {"task", 2}, {"scenario", "class-incremental"}});
  REQUIRE(env->action_space().to_string() == "Discrete(10)");
  REQUIRE(env->observation_space().to_string() == "Box(0.0, 1.0, (784,), float32)");
  auto& bandit = dynamic_cast<ImageBanditEnv&>(env->unwrapped());
  env->reset(3);
  int steps = 0;
  for (; steps < 100; ++steps) {
    const std::int64_t target = bandit.current_target();
    REQUIRE((target == 4 || target == 5));  // task 2 of Split holds classes 4 and 5
    const bool answer_right = steps % 3 != 0;
    const std::int64_t action = answer_right ? target : (target == 4 ? 5 : 4);
    const StepResult r = env->step(Array::scalar<std::int64_t>(action));
    REQUIRE(r.reward == (answer_right ? 1.0 : 0.0));
    REQUIRE(r.info.get_bool("correct") == answer_right);
    REQUIRE(r.info.get_int("label") == target);
    REQUIRE(r.info.get_bool("new_trial"));
    REQUIRE_FALSE(r.terminated);
    REQUIRE(r.truncated == (steps == 99));  // the registered time limit of 100
  }

  // The same seed shows the same images.
  auto a = make("FashionMNISTBandit-v0", {{"stream", "rotated"}, {"task", 1}});
  auto b = make("FashionMNISTBandit-v0", {{"stream", "rotated"}, {"task", 1}});
  REQUIRE(a->reset(9).observation == b->reset(9).observation);
  REQUIRE(a->step(Array::scalar<std::int64_t>(0)).observation ==
          b->step(Array::scalar<std::int64_t>(0)).observation);
  REQUIRE_FALSE(a->reset(10).observation == b->reset(9).observation);

  // Label spaces per stream and scenario.
  auto space_of = [](const Kwargs& kwargs) {
    return make("FashionMNISTBandit-v0", kwargs)->action_space().to_string();
  };
  REQUIRE(space_of({{"stream", "split"}}) == "Discrete(2)");
  REQUIRE(space_of({{"stream", "split"}, {"scenario", "domain"}}) == "Discrete(2)");
  REQUIRE(space_of({{"stream", "permuted"}, {"scenario", "class"}}) == "Discrete(50)");
  REQUIRE(space_of({}) == "Discrete(10)");
  REQUIRE(make("FashionMNISTBandit-v0", {{"flatten", false}})->observation_space().to_string() ==
          "Box(0.0, 1.0, (28, 28), float32)");

  // The held-out split draws only from the task's evaluation subset.
  auto eval = make("FashionMNISTBandit-v0",
                   {{"stream", "split"}, {"task", 1}, {"split", "eval"}, {"eval_per_task", 3}});
  const auto& eval_bandit = dynamic_cast<ImageBanditEnv&>(eval->unwrapped());
  std::set<std::vector<float>> seen;
  eval->reset(0);
  for (int i = 0; i < 40; ++i) {
    const StepResult r = eval->step(Array::scalar<std::int64_t>(0));
    const auto pixels = r.observation.array().as<float>();
    seen.insert(std::vector<float>(pixels.begin(), pixels.end()));
  }
  REQUIRE(seen.size() == 3);
  REQUIRE(eval_bandit.stream().eval_indices(1).size() == 3);

  REQUIRE_THROWS_WITH(make("FashionMNISTBandit-v0", {{"stream", "split"}, {"task", 5}}),
                      Catch::Contains("task 5 is out of range"));
  REQUIRE_THROWS_WITH(make("FashionMNISTBandit-v0", {{"stream", "shuffled"}}),
                      Catch::Contains("full, split, permuted, rotated"));
  REQUIRE_THROWS_WITH(make("FashionMNISTBandit-v0", {{"colour", true}}),
                      Catch::Contains("unknown argument 'colour'") && Catch::Contains("stream"));
  REQUIRE_THROWS_WITH(make("FashionMNISTBandit-v0", {{"angles", "wide"}}),
                      Catch::Contains("'angles' must be a non-empty list"));
  REQUIRE_THROWS_WITH(make("FashionMNISTBandit-v0", {{"data_dir", "/nonexistent/mnist"}}),
                      Catch::Contains("/nonexistent/mnist") && Catch::Contains("does not exist"));
}

TEST_CASE("check_env passes on the bandit in every stream", "[streams][checker]") {
  for (const char* stream : {"full", "split", "permuted", "rotated"}) {
    INFO(stream);
    const int task = std::string(stream) == "full" ? 0 : 1;
    auto env = make("FashionMNISTBandit-v0", {{"stream", stream}, {"task", task}});
    const CheckResult result = check_env(env->unwrapped(), {.steps = 150});
    REQUIRE(result.warnings.empty());
  }
}

TEST_CASE("Bandits sharing one stream give the same batches on 1 or 2 threads", "[streams]") {
  // The envs of a vector env share one ImageStream (make_shared_stream); it is read-only, so the
  // result must not depend on the number of threads.
  auto run = [](std::size_t threads) {
    VectorEnv vec = make_vec("FashionMNISTBandit-v0", 16, {{"stream", "permuted"}, {"task", 3}},
                             {.num_threads = threads});
    vec.reset(21);
    std::vector<float> observations;
    std::vector<double> rewards;
    std::vector<std::int64_t> actions(16);
    for (int step = 0; step < 20; ++step) {
      for (std::size_t i = 0; i < actions.size(); ++i) actions[i] = (step + i) % 10;
      vec.step(std::span<const std::int64_t>(actions));
      const auto obs = vec.observations<float>();
      observations.insert(observations.end(), obs.begin(), obs.end());
      rewards.insert(rewards.end(), vec.rewards().begin(), vec.rewards().end());
    }
    return std::pair{observations, rewards};
  };
  const auto one = run(1);
  const auto two = run(2);
  REQUIRE(one.first == two.first);
  REQUIRE(one.second == two.second);
  REQUIRE(std::accumulate(one.second.begin(), one.second.end(), 0.0) > 0.0);
}
