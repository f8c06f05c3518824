// Reproduction of arXiv 2204.04297 on rotated Fashion-MNIST: the published modulated random network
// (neuromod's hong_pavlic_2022 preset, one context per task) against a trainable MLP of the same
// size (784-7840-10, every weight trainable) fine-tuned on the same tasks in sequence.
//
// Reports the accuracy on every task after each task (the matrix R[i][j]), the per-task accuracy at
// the end and the drop on the first task. The modulated network must show exactly zero forgetting:
// its predictions on every earlier task's test set are compared bit for bit with those made right
// after that task was learned, and the program exits with status 2 if any differ.
//
// Data: Debian's dataset-fashion-mnist through envs/data (the IDX reader and the rotation of the
// rotated stream). Tasks rotate every image by t * 360 / T degrees. To keep the run short on a
// 2-core machine, each task trains on a fixed random subset of the training images (--train-size,
// the same subset and order for both networks) and tests on the first --test-size test images.

#include <fmt/format.h>
#include <tbb/global_control.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <vector>

#include "bench/harness/program.hpp"
#include "envs/data/idx.hpp"
#include "envs/data/streams.hpp"
#include "neuromod/losses.hpp"
#include "neuromod/network.hpp"
#include "neuromod/presets.hpp"
#include "neuromod/random.hpp"

using namespace locus;
using neuromod::ContextId;
using neuromod::Matrix;

namespace {

struct TaskData {
  Matrix images;                     // (count, 784), pixels / 255
  std::vector<std::int32_t> labels;  // (count)
};

TaskData make_task(const envs::data::ImageDataset& set, const std::vector<std::size_t>& indices,
                   double degrees) {
  TaskData task;
  const std::size_t pixels = std::size_t(set.image_size());
  task.images.resize({indices.size(), pixels});
  task.labels.resize(indices.size());
  std::vector<float> rotated(pixels);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    envs::data::rotate_image(set.image(std::int64_t(indices[i])), set.rows, set.cols, degrees,
                             rotated);
    for (std::size_t p = 0; p < pixels; ++p) task.images(i, p) = rotated[p] / 255.0f;
    task.labels[i] = set.labels[indices[i]];
  }
  return task;
}

Matrix rows_of(const Matrix& m, const std::vector<std::size_t>& order, std::size_t begin,
               std::size_t end) {
  Matrix out({end - begin, m.shape()[1]});
  for (std::size_t i = begin; i < end; ++i) {
    std::memcpy(&out(i - begin, 0), &m(order[i], 0), m.shape()[1] * sizeof(float));
  }
  return out;
}

void train_task(neuromod::Network& net, const TaskData& task, ContextId context, std::size_t epochs,
                std::size_t batch, std::uint64_t seed) {
  const std::size_t n = task.labels.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  net.select_context(context);
  for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
    neuromod::RandomStream stream(seed, epoch);
    for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[stream.uniform_index(i)]);
    for (std::size_t begin = 0; begin < n; begin += batch) {
      const std::size_t end = std::min(n, begin + batch);
      const Matrix x = rows_of(task.images, order, begin, end);
      std::vector<std::int32_t> labels(end - begin);
      for (std::size_t i = begin; i < end; ++i) labels[i - begin] = task.labels[order[i]];
      const auto& out = net.forward(x);
      Matrix grad;
      neuromod::softmax_cross_entropy(out[0], labels, &grad);
      net.zero_grad();
      net.backward(std::vector<Matrix>{grad});
      net.step();
    }
  }
}

struct Evaluation {
  double accuracy = 0.0;
  std::vector<std::int32_t> predictions;
};

Evaluation evaluate(neuromod::Network& net, const TaskData& task, ContextId context) {
  Evaluation result;
  const std::size_t n = task.labels.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  net.select_context(context);
  std::size_t correct = 0;
  for (std::size_t begin = 0; begin < n; begin += 1000) {
    const std::size_t end = std::min(n, begin + 1000);
    const Matrix& logits = net.forward(rows_of(task.images, order, begin, end))[0];
    for (std::size_t r = 0; r < end - begin; ++r) {
      const float* z = &logits(r, 0);
      const auto best = std::int32_t(std::max_element(z, z + logits.shape()[1]) - z);
      result.predictions.push_back(best);
      if (best == task.labels[begin + r]) ++correct;
    }
  }
  result.accuracy = double(correct) / double(n);
  return result;
}

std::string row_text(const std::vector<double>& values) {
  std::string text;
  for (double v : values) text += fmt::format(" {:6.2f}", 100.0 * v);
  return text;
}

}  // namespace

namespace {

int benchmark_main(int argc, char** argv) {
  CLI::App app{
      "Rotated Fashion-MNIST: modulated random network (arXiv 2204.04297) vs a trainable "
      "MLP fine-tuned in sequence"};
  std::size_t tasks = 10, train_size = 20000, test_size = 10000, epochs = 3, threads = 0;
  std::uint64_t seed = 0;
  float mlp_lr = 1e-3f;
  std::string data_dir = envs::data::default_data_dir().string(), json_path;
  bool skip_mlp = false;
  app.add_option("--tasks", tasks, "number of rotated tasks (angles t * 360 / tasks)");
  app.add_option("--train-size", train_size, "training images per task (a fixed random subset)");
  app.add_option("--test-size", test_size, "test images per task (the first ones)");
  app.add_option("--epochs", epochs, "epochs per task (the paper: 3)");
  app.add_option("--seed", seed, "seed of the networks and the data order");
  app.add_option("--mlp-lr", mlp_lr, "Adam learning rate of the MLP baseline");
  app.add_option("--threads", threads, "TBB threads (0: all cores)");
  app.add_option("--data", data_dir, "directory with the Fashion-MNIST IDX files");
  app.add_option("--json", json_path, "write the results as JSON here");
  app.add_flag("--skip-mlp", skip_mlp, "train only the modulated network");
  CLI11_PARSE(app, argc, argv);
  std::unique_ptr<tbb::global_control> limit;
  if (threads > 0) {
    limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                  threads);
  }

  const auto train_set = envs::data::load_image_dataset(data_dir, envs::data::Split::kTrain);
  const auto test_set = envs::data::load_image_dataset(data_dir, envs::data::Split::kTest);
  train_size = std::min<std::size_t>(train_size, std::size_t(train_set.count));
  test_size = std::min<std::size_t>(test_size, std::size_t(test_set.count));
  std::vector<std::size_t> train_indices(std::size_t(train_set.count));
  std::iota(train_indices.begin(), train_indices.end(), 0);
  neuromod::RandomStream pick(seed, 12345);
  for (std::size_t i = train_indices.size(); i > 1; --i) {
    std::swap(train_indices[i - 1], train_indices[pick.uniform_index(i)]);
  }
  train_indices.resize(train_size);
  std::vector<std::size_t> test_indices(test_size);
  std::iota(test_indices.begin(), test_indices.end(), 0);
  std::vector<double> angles;
  std::vector<TaskData> tests;
  for (std::size_t t = 0; t < tasks; ++t) {
    angles.push_back(360.0 * double(t) / double(tasks));
    tests.push_back(make_task(test_set, test_indices, angles.back()));
  }

  const neuromod::TrainingPreset preset = neuromod::hong_pavlic_2022(seed);
  auto modulated = neuromod::make_network(preset.network);
  modulated->set_gradient_mode(preset.gradient_mode);
  modulated->set_optimizer(preset.optimizer);

  const std::size_t hidden = preset.network.layers[0].units;
  auto mlp = neuromod::make_network(neuromod::baseline_mlp(784, {hidden}, 10, seed));
  neuromod::OptimizerConfig adam;
  adam.kind = neuromod::OptimizerKind::kAdam;
  adam.learning_rate = mlp_lr;
  mlp->set_optimizer(adam);

  const neuromod::MemoryReport memory = neuromod::memory_report(*modulated);
  fmt::print(
      "modulated network: {} bytes per context; a trainable network of the same shape: {} "
      "bytes ({:.0f}x)\n",
      memory.context_bytes, memory.dense_equivalent_bytes,
      double(memory.dense_equivalent_bytes) / double(memory.context_bytes));
  fmt::print(
      "{} tasks (rotations {}..{} degrees), {} training images per task, {} test images, "
      "{} epochs, batch {}\n",
      tasks, angles.front(), angles.back(), train_size, test_size, epochs, preset.batch_size);

  std::vector<std::vector<double>> r_modulated(tasks), r_mlp(tasks);
  std::vector<std::vector<std::int32_t>> predictions_after_learning(tasks);
  double seconds_modulated = 0.0, seconds_mlp = 0.0;
  for (std::size_t t = 0; t < tasks; ++t) {
    const TaskData train = make_task(train_set, train_indices, angles[t]);
    const ContextId context = t == 0 ? 0 : modulated->add_context();
    auto start = std::chrono::steady_clock::now();
    train_task(*modulated, train, context, preset.epochs_per_task, preset.batch_size, seed + t);
    modulated->set_frozen(context, true);
    seconds_modulated +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!skip_mlp) {
      start = std::chrono::steady_clock::now();
      train_task(*mlp, train, 0, preset.epochs_per_task, preset.batch_size, seed + t);
      seconds_mlp +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    for (std::size_t j = 0; j <= t; ++j) {
      const Evaluation e = evaluate(*modulated, tests[j], ContextId(j));
      r_modulated[t].push_back(e.accuracy);
      if (j == t) predictions_after_learning[t] = e.predictions;
      if (!skip_mlp) r_mlp[t].push_back(evaluate(*mlp, tests[j], 0).accuracy);
    }
    fmt::print("after task {:2} ({:5.1f} deg)  modulated:{}\n", t, angles[t],
               row_text(r_modulated[t]));
    if (!skip_mlp) fmt::print("                       MLP:      {}\n", row_text(r_mlp[t]));
    std::fflush(stdout);
  }

  // Zero forgetting, bit for bit: every earlier task's predictions are unchanged.
  std::size_t changed_predictions = 0;
  for (std::size_t j = 0; j < tasks; ++j) {
    const Evaluation e = evaluate(*modulated, tests[j], ContextId(j));
    for (std::size_t i = 0; i < e.predictions.size(); ++i) {
      if (e.predictions[i] != predictions_after_learning[j][i]) ++changed_predictions;
    }
  }
  auto drop = [&](const std::vector<std::vector<double>>& r) {
    return r.empty() || r.back().empty() ? 0.0 : r[0][0] - r.back()[0];
  };
  auto mean = [](const std::vector<double>& v) {
    return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  };
  fmt::print("\nfinal per-task accuracy (%)\n  modulated:{}\n", row_text(r_modulated.back()));
  if (!skip_mlp) fmt::print("  MLP:      {}\n", row_text(r_mlp.back()));
  fmt::print("first-task accuracy drop: modulated {:.2f} points, MLP {:.2f} points\n",
             100 * drop(r_modulated), skip_mlp ? 0.0 : 100 * drop(r_mlp));
  fmt::print("mean final accuracy: modulated {:.2f}%, MLP {:.2f}%\n",
             100 * mean(r_modulated.back()), skip_mlp ? 0.0 : 100 * mean(r_mlp.back()));
  fmt::print("predictions of the modulated network that changed after later tasks: {}\n",
             changed_predictions);
  fmt::print("training time: modulated {:.1f} s, MLP {:.1f} s\n", seconds_modulated, seconds_mlp);

  if (!json_path.empty()) {
    nlohmann::json j;
    j["tasks"] = tasks;
    j["angles"] = angles;
    j["train_size"] = train_size;
    j["test_size"] = test_size;
    j["epochs"] = epochs;
    j["seed"] = seed;
    j["mlp_learning_rate"] = mlp_lr;
    j["modulated"] = {{"R", r_modulated},
                      {"final", r_modulated.back()},
                      {"first_task_drop", drop(r_modulated)},
                      {"changed_predictions", changed_predictions},
                      {"train_seconds", seconds_modulated},
                      {"context_bytes", memory.context_bytes}};
    if (!skip_mlp) {
      j["mlp"] = {{"R", r_mlp},
                  {"final", r_mlp.back()},
                  {"first_task_drop", drop(r_mlp)},
                  {"train_seconds", seconds_mlp},
                  {"bytes", memory.dense_equivalent_bytes}};
    }
    locus::bench::write_results(j, json_path);
  }
  return changed_predictions == 0 && drop(r_modulated) == 0.0 ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  return locus::bench::guarded_main("locus_neuromod_repro",
                                    [&] { return benchmark_main(argc, argv); });
}
