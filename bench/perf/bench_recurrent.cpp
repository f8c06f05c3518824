// Forward + backward throughput of a recurrent network over sequences: one recurrent layer (Elman
// tanh, GRU or LSTM) of `hidden` units on `input` (32) inputs, a linear readout of `outputs` (8)
// units at every step, softmax cross-entropy over every step's output. Two network modes, as
// recurrent_network() builds them: trainable (W, U, bias and readout learned, the ordinary RNN) and
// modulated (fixed random W, U and readout; only the per-context gains and biases learn, so no
// weight gradient is formed). bench/perf/recurrent_peers.py measures torch.nn.RNN / GRU / LSTM with
// the same shapes; bench/perf/run_recurrent_bench.py runs both and prints the ratios.
//
// One iteration: forward_sequence over `steps` (100) steps of `batch` sequences (time-major rows),
// softmax cross-entropy and its gradient, zero_grad, backward (BPTT over all the steps; no
// optimizer step, as in the peer). Inputs and labels are drawn before the clock starts. One untimed
// warm-up, then timed repeats until `repeats` of them ran while other processes used under 0.25
// cores (at most 3 x repeats tries); the figure is their median in sequences per second.

#include <tbb/task_arena.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/program.hpp"
#include "measurement.hpp"
#include "neuromod/losses.hpp"
#include "neuromod/network.hpp"
#include "neuromod/random.hpp"

using namespace locus::neuromod;
using namespace locus::bench_perf;

namespace {

struct Shape {
  std::size_t steps, input, outputs;
};

struct Config {
  Recurrence cell;
  bool modulated;
  std::size_t batch, hidden, threads;
};

// The name both drivers give a configuration (run_recurrent_bench.py pairs rows by it).
std::string config_name(const Config& c) {
  return std::string(to_string(c.cell)) + (c.modulated ? " modulated" : " trainable") + ", batch " +
         std::to_string(c.batch) + ", hidden " + std::to_string(c.hidden) + ", " +
         std::to_string(c.threads) + " thr";
}

nlohmann::json measure(const Config& config, const Shape& shape, std::size_t repeats,
                       double seconds_per_repeat) {
  constexpr std::size_t kBatches = 2;
  auto net = make_network(recurrent_network(config.cell, shape.input, config.hidden, shape.outputs,
                                            1, config.modulated));
  net->set_gradient_mode(config.modulated ? GradientMode::kContextOnly
                                          : GradientMode::kAllTrainable);
  const std::size_t rows = shape.steps * config.batch;
  std::vector<Matrix> inputs;
  std::vector<std::vector<std::int32_t>> labels(kBatches);
  RandomStream stream(7);
  for (std::size_t b = 0; b < kBatches; ++b) {
    Matrix x({rows, shape.input});
    for (auto& v : x) v = static_cast<float>(stream.uniform());
    inputs.push_back(std::move(x));
    for (std::size_t r = 0; r < rows; ++r) {
      labels[b].push_back(static_cast<std::int32_t>(stream.uniform_index(shape.outputs)));
    }
  }
  tbb::task_arena arena(static_cast<int>(config.threads));
  std::vector<Matrix> grads(1);
  double checksum = 0.0;
  auto iteration = [&](std::size_t i) {
    const std::size_t b = i % kBatches;
    const auto& out = net->forward_sequence(inputs[b], config.batch);
    checksum += softmax_cross_entropy(out[0], labels[b], &grads[0]);
    net->zero_grad();
    net->backward(grads);
  };
  // At least 1 iteration a try (the largest configurations take about a second an iteration).
  const auto [iterations, r] =
      time_calibrated_iterations(arena, seconds_per_repeat, 1, repeats, double(config.batch),
                                 kAllowedBackgroundCores, iteration);
  const std::string name = config_name(config);
  std::fprintf(stderr, "%-44s %10.1f sequences/s (median of %zu%s)\n", name.c_str(), r.median_rate,
               r.counted, r.contaminated ? ", machine busy: figure low" : "");
  nlohmann::json result = {{"name", name},
                           {"impl", "locus"},
                           {"config",
                            {{"cell", to_string(config.cell)},
                             {"mode", config.modulated ? "modulated" : "trainable"},
                             {"batch", config.batch},
                             {"hidden", config.hidden},
                             {"threads", config.threads},
                             {"steps", shape.steps},
                             {"input", shape.input},
                             {"outputs", shape.outputs}}},
                           {"iterations_per_repeat", iterations},
                           {"checksum", checksum}};
  result.update(rate_fields("sequences", r));
  return result;
}

Recurrence cell_from_string(const std::string& name) {
  for (Recurrence r : {Recurrence::kElman, Recurrence::kGru, Recurrence::kLstm}) {
    if (name == to_string(r)) return r;
  }
  throw std::invalid_argument("unknown cell '" + name + "' (elman, gru, lstm)");
}

}  // namespace

namespace {

int benchmark_main(int argc, char** argv) {
  CLI::App app{"Forward + backward throughput of recurrent networks over sequences"};
  std::size_t repeats = 5;
  double seconds = 0.3;
  Shape shape{100, 32, 8};
  std::vector<std::string> cells = {"elman", "gru", "lstm"};
  std::vector<std::string> modes = {"trainable", "modulated"};
  std::vector<std::size_t> batches = {16, 64, 256}, hiddens = {128, 512}, threads;
  std::string json_path;
  app.add_option("--repeats", repeats, "clean timed repeats per configuration");
  app.add_option("--seconds", seconds, "approximate seconds per repeat");
  app.add_option("--cells", cells, "recurrent cells: elman, gru, lstm");
  app.add_option("--modes", modes, "network modes: trainable, modulated")
      ->check(CLI::IsMember({"trainable", "modulated"}));
  app.add_option("--batch", batches, "sequences per batch")->check(CLI::PositiveNumber);
  app.add_option("--hidden", hiddens, "hidden units")->check(CLI::PositiveNumber);
  app.add_option("--steps", shape.steps, "steps per sequence")->check(CLI::PositiveNumber);
  app.add_option("--input", shape.input, "inputs per step")->check(CLI::PositiveNumber);
  app.add_option("--outputs", shape.outputs, "readout units")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "thread counts (default: 1 and all cores)");
  app.add_option("--json", json_path, "write the results as JSON here");
  CLI11_PARSE(app, argc, argv);
  if (threads.empty()) {
    threads = {1};
    const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    if (cores > 1) threads.push_back(cores);
  }
  nlohmann::json results = nlohmann::json::array();
  for (const std::string& cell : cells) {
    const Recurrence recurrence = cell_from_string(cell);
    for (const std::string& mode : modes) {
      for (std::size_t h : hiddens) {
        for (std::size_t b : batches) {
          for (std::size_t t : threads) {
            results.push_back(
                measure({recurrence, mode == "modulated", b, h, t}, shape, repeats, seconds));
          }
        }
      }
    }
  }
  const nlohmann::json out = {{"benchmark", "recurrent_forward_backward"}, {"results", results}};
  locus::bench::write_results(out, json_path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return locus::bench::guarded_main("locus_bench_recurrent",
                                    [&] { return benchmark_main(argc, argv); });
}
