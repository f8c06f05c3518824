// Forward + backward throughput of a modulated MLP (784-400-400-10: fixed random dense layers,
// per-context gain and bias before each ReLU, a fixed random readout with per-context output gain
// and bias; gradients for the context parameters only), at batch 128 and 1024, with 1 or 8 contexts
// mixed in each batch, on 1 thread and on every core. bench/perf/neuromod_peers.py measures the
// same model in PyTorch; bench/perf/run_neuromod_bench.py runs both and prints the ratios.
//
// With --agents K: K agents with their own fixed weights (NetworkSpec::weight_sets = K), one
// context each, batch / K rows each, grouped by agent (neuromod_peers.py runs them with torch.bmm).
//
// One iteration: forward, softmax cross-entropy and its gradient, zero_grad, backward (no optimizer
// step, as in the peer). Inputs, labels and context ids are drawn before the clock starts. One
// untimed warm-up, then timed repeats until `repeats` of them ran while other processes used under
// 0.25 cores (at most 3 x repeats tries); the figure is their median in samples per second.

#include <sys/resource.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
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

struct Config {
  std::size_t batch, contexts, threads;
  MatmulPrecision precision;
  std::size_t agents = 1;  // weight sets; > 1: one context per agent, rows grouped by agent
};

nlohmann::json measure(const Config& config, std::size_t repeats, double seconds_per_repeat) {
  constexpr std::size_t kBatches = 4;
  NetworkSpec spec = modulated_mlp(784, {400, 400}, 10, 1);
  spec.weight_sets = config.agents;
  auto net = make_network(spec);
  while (net->context_count() < config.contexts) {
    net->add_context(net->context_count() % config.agents);
  }
  net->set_gradient_mode(GradientMode::kContextOnly);
  net->set_matmul_precision(config.precision);
  std::vector<Matrix> inputs;
  std::vector<std::vector<ContextId>> ids(kBatches);
  std::vector<std::vector<std::int32_t>> labels(kBatches);
  RandomStream stream(7);
  for (std::size_t b = 0; b < kBatches; ++b) {
    Matrix x({config.batch, std::size_t{784}});
    for (auto& v : x) v = static_cast<float>(stream.uniform());
    inputs.push_back(std::move(x));
    for (std::size_t r = 0; r < config.batch; ++r) {
      ids[b].push_back(static_cast<ContextId>(config.agents > 1
                                                  ? r / (config.batch / config.agents)
                                                  : stream.uniform_index(config.contexts)));
      labels[b].push_back(static_cast<std::int32_t>(stream.uniform_index(10)));
    }
  }
  tbb::task_arena arena(static_cast<int>(config.threads));
  std::vector<Matrix> grads(1);
  double checksum = 0.0;
  auto iteration = [&](std::size_t i) {
    const std::size_t b = i % kBatches;
    const auto& out = net->forward(inputs[b], ids[b]);
    checksum += softmax_cross_entropy(out[0], labels[b], &grads[0]);
    net->zero_grad();
    net->backward(grads);
  };
  // At least 3 iterations a try.
  const auto [iterations, r] =
      time_calibrated_iterations(arena, seconds_per_repeat, 3, repeats, double(config.batch),
                                 kAllowedBackgroundCores, iteration);
  std::string name = "modulated MLP batch " + std::to_string(config.batch) + ", " +
                     std::to_string(config.contexts) +
                     (config.agents > 1 ? " agents, " : " ctx, ") + std::to_string(config.threads) +
                     " thr";
  if (config.precision != MatmulPrecision::kFloat32)
    name += ", " + std::string(to_string(config.precision));
  std::fprintf(stderr, "%-44s %12.0f samples/s (median of %zu%s)\n", name.c_str(), r.median_rate,
               r.counted, r.contaminated ? ", machine busy: figure low" : "");
  nlohmann::json result = {{"name", name},
                           {"impl", "locus"},
                           {"config",
                            {{"batch", config.batch},
                             {"contexts", config.contexts},
                             {"threads", config.threads},
                             {"agents", config.agents},
                             {"precision", to_string(config.precision)}}},
                           {"iterations_per_repeat", iterations},
                           {"checksum", checksum}};
  result.update(rate_fields("samples", r));
  return result;
}

}  // namespace

namespace {

int benchmark_main(int argc, char** argv) {
  CLI::App app{"Forward + backward throughput of a modulated MLP 784-400-400-10"};
  std::size_t repeats = 7;
  double seconds = 0.5;
  std::vector<std::size_t> batches = {128, 1024}, contexts = {1, 8}, threads;
  std::string json_path;
  std::vector<std::string> precisions = {"float32"};
  app.add_option("--repeats", repeats, "clean timed repeats per configuration");
  app.add_option("--seconds", seconds, "approximate seconds per repeat");
  app.add_option("--batch", batches, "batch sizes");
  app.add_option("--contexts", contexts, "contexts mixed in a batch");
  std::vector<std::size_t> agents;
  app.add_option("--agents", agents,
                 "instead of --contexts: agents with their own weights, batch / agents rows each")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "thread counts (default: 1 and all cores)");
  app.add_option("--precision", precisions, "matmul precisions: float32, bfloat16");
  app.add_option("--json", json_path, "write the results as JSON here");
  CLI11_PARSE(app, argc, argv);
  if (threads.empty()) {
    threads = {1};
    const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
    if (cores > 1) threads.push_back(cores);
  }
  nlohmann::json results = nlohmann::json::array();
  for (const std::string& p : precisions) {
    const MatmulPrecision precision = matmul_precision_from_string(p);
    for (std::size_t t : threads) {
      for (std::size_t b : batches) {
        if (agents.empty()) {
          for (std::size_t c : contexts) {
            results.push_back(measure({b, c, t, precision}, repeats, seconds));
          }
        }
        for (std::size_t k : agents) {
          if (b % k != 0) {
            throw std::invalid_argument("batch " + std::to_string(b) + " is not a multiple of " +
                                        std::to_string(k) + " agents");
          }
          results.push_back(measure({b, k, t, precision, k}, repeats, seconds));
        }
      }
    }
  }
  const nlohmann::json out = {{"benchmark", "neuromod_forward_backward"}, {"results", results}};
  locus::bench::write_results(out, json_path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return locus::bench::guarded_main("locus_bench_neuromod",
                                    [&] { return benchmark_main(argc, argv); });
}
