// GPU training-step throughput of the modulated network on the CUDA backend, and the two ceilings
// of the GPU it runs on (bench/perf/run_cuda_bench.py runs it beside PyTorch eager and prints the
// ratios and the fraction of the roofline).
//
// The model is the modulated MLP of bench_neuromod.cpp (fixed random dense layers, per-context gain
// and bias before each ReLU, fixed random readout with per-context output gain and bias), at
// 784-400-400-10 and 784-4096-4096-10. With --agents K the network has K weight sets (each agent
// its own fixed random weights, NetworkSpec::weight_sets) and one context per agent, each agent
// batch/K rows of the batch: grouped by agent (one strided batched GEMM per layer), or with
// --interleave-agents row r belonging to agent r % K (rows sorted by set once per batch). One
// step: forward, softmax cross-entropy and its gradient on
// the device, zero_grad, backward (context parameters only), Adam step. Inputs, labels and context
// ids are drawn before timing, in 4 sets used in turn (so that small batches do not run from
// cache). Timing: CUDA events around `iterations` steps after `warmup` steps, repeated; the median
// per-step time is reported. The ceilings: a device-to-device copy (bytes read + written per
// second) and a large cuBLAS float32 product (and TF32), measured the same way.

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/harness/program.hpp"
#include "measurement.hpp"
#include "neuromod/cuda/cuda_check.hpp"
#include "neuromod/cuda/cuda_network.hpp"
#include "neuromod/presets.hpp"
#include "neuromod/random.hpp"

using namespace locus::neuromod;

using locus::bench_perf::median;

namespace {

template <typename Body>
double median_ms(int warmup, int iterations, int repeats, const Body& body) {
  for (int i = 0; i < warmup; ++i) body(i);
  LOCUS_CUDA_CHECK(cudaDeviceSynchronize());
  cudaEvent_t start, stop;
  LOCUS_CUDA_CHECK(cudaEventCreate(&start));
  LOCUS_CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<double> per_iteration;
  for (int r = 0; r < repeats; ++r) {
    LOCUS_CUDA_CHECK(cudaEventRecord(start));
    for (int i = 0; i < iterations; ++i) body(i);
    LOCUS_CUDA_CHECK(cudaEventRecord(stop));
    LOCUS_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0.0f;
    LOCUS_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    per_iteration.push_back(double(ms) / iterations);
  }
  LOCUS_CUDA_CHECK(cudaEventDestroy(start));
  LOCUS_CUDA_CHECK(cudaEventDestroy(stop));
  return median(per_iteration);
}

std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
  std::vector<float> values(n);
  RandomStream stream(seed, 1);
  for (auto& v : values) v = static_cast<float>(stream.normal());
  return values;
}

nlohmann::json measure_ceilings() {
  nlohmann::json out;
  const std::size_t bytes = std::size_t(1) << 31;  // 2 GiB each way
  DeviceArray<float> a(bytes / sizeof(float)), b(bytes / sizeof(float));
  LOCUS_CUDA_CHECK(cudaMemset(a.data(), 1, bytes));
  const double copy_ms = median_ms(2, 5, 5, [&](int) {
    LOCUS_CUDA_CHECK(cudaMemcpyAsync(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice));
  });
  out["copy_gbps"] = 2.0 * double(bytes) / (copy_ms * 1e-3) / 1e9;
  const int n = 8192;
  DeviceArray<float> x(std::size_t(n) * n), y(std::size_t(n) * n), z(std::size_t(n) * n);
  x.upload(random_values(std::size_t(n) * n, 1));
  y.upload(random_values(std::size_t(n) * n, 2));
  cublasHandle_t handle;
  LOCUS_CUBLAS_CHECK(cublasCreate(&handle));
  const float one = 1.0f, zero = 0.0f;
  for (const bool tf32 : {false, true}) {
    LOCUS_CUBLAS_CHECK(
        cublasSetMathMode(handle, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    const double ms = median_ms(2, 5, 5, [&](int) {
      LOCUS_CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, x.data(), n,
                                     y.data(), n, &zero, z.data(), n));
    });
    out[tf32 ? "gemm_tf32_tflops" : "gemm_fp32_tflops"] =
        2.0 * n * double(n) * n / (ms * 1e-3) / 1e12;
  }
  cublasDestroy(handle);
  return out;
}

// FLOPs of one step by hand: forward products, the input gradients of every layer above the first
// (context-only learning stops at layer 0's modulation), the readout's input gradient; the fused
// elementwise work is not counted. Bytes: the fewest a step must move: inputs read once; each
// layer's product written and read, its output written and read, its saved pre-activation written
// and read in backward, its gradient written and read; parameters and their Adam state read and
// written once.
struct Cost {
  double flops = 0, bytes = 0;
};
Cost step_cost(std::size_t rows, std::size_t input, std::size_t hidden, std::size_t layers,
               std::size_t classes, std::size_t contexts, std::size_t weight_sets) {
  Cost c;
  double weights =
      double(input) * hidden + double(layers - 1) * hidden * hidden + double(hidden) * classes;
  double backward_weights = double(layers - 1) * hidden * hidden + double(hidden) * classes;
  c.flops = 2.0 * double(rows) * (weights + backward_weights);
  c.bytes = 4.0 * double(rows) * (double(input) + 8.0 * hidden * layers + 3.0 * classes);
  c.bytes += 4.0 * weights * double(weight_sets);  // fixed weights read (once if cached)
  c.bytes += 4.0 * 4.0 * double(contexts) * (2.0 * hidden * layers + 2.0);  // params, grads, Adam
  return c;
}

}  // namespace

namespace {

int benchmark_main(int argc, char** argv) {
  CLI::App app{"CUDA backend training-step benchmark (modulated MLP)"};
  std::vector<std::size_t> batches = {128, 1024, 8192, 65536};
  std::vector<std::size_t> context_counts = {1, 16, 256};
  std::vector<std::size_t> widths = {400, 4096};
  std::vector<std::size_t> agent_counts;
  bool interleave_agents = false;
  int warmup = 10, iterations = 20, repeats = 7;
  bool ceilings = true, tf32 = false, check_finite = false, unfused = false;
  std::string out_path;
  app.add_option("--batch", batches, "batch sizes");
  app.add_option("--contexts", context_counts, "contexts mixed in each batch");
  app.add_option("--width", widths, "hidden widths (two hidden layers)");
  app.add_option("--agents", agent_counts,
                 "instead of --contexts: agents with their own weights (weight sets), one context "
                 "each, batch / agents rows each")
      ->check(CLI::PositiveNumber);
  app.add_flag("--interleave-agents", interleave_agents,
               "row r belongs to agent r % agents (default: rows grouped by agent)");
  app.add_option("--warmup", warmup);
  app.add_option("--iterations", iterations, "steps per timed repeat");
  app.add_option("--repeats", repeats);
  app.add_flag("!--no-ceilings", ceilings, "skip the copy and GEMM ceilings");
  app.add_flag("--tf32", tf32, "TF32 tensor-core products");
  app.add_flag("--check-finite", check_finite, "keep the per-step NaN checks (a sync each)");
  app.add_flag("--unfused", unfused, "the two-pass layer backward (kernel version 1)");
  bool set_loop = false;
  app.add_flag("--set-loop", set_loop,
               "weight sets: one GEMM per set instead of strided batched GEMMs");
  app.add_option("--json", out_path, "write the results here");
  CLI11_PARSE(app, argc, argv);

  if (!cuda_available()) {
    std::fprintf(stderr, "bench_cuda: %s\n", cuda_status().c_str());
    return 2;
  }
  nlohmann::json results;
  results["device"] = cuda_status();
  if (ceilings) results["ceilings"] = measure_ceilings();
  results["runs"] = nlohmann::json::array();
  const std::size_t input = 784, classes = 10;
  // (contexts, weight sets): the mixed-context runs on shared weights, or the agents.
  std::vector<std::pair<std::size_t, std::size_t>> shapes;
  for (std::size_t contexts : context_counts) {
    if (agent_counts.empty()) shapes.push_back({contexts, 1});
  }
  for (std::size_t agents : agent_counts) shapes.push_back({agents, agents});
  for (std::size_t width : widths) {
    for (const auto& [contexts, weight_sets] : shapes) {
      NetworkSpec spec = modulated_mlp(input, {width, width}, classes, 1);
      spec.weight_sets = weight_sets;
      auto network = make_network(spec, Backend::kCuda);
      CudaNetwork& net = as_cuda(*network);
      // One context per agent, on the agent's weights (context k on set k).
      while (net.context_count() < contexts) net.add_context(net.context_count() % weight_sets);
      net.set_gradient_mode(GradientMode::kContextOnly);
      net.set_check_finite(check_finite);
      net.set_matmul_precision(tf32 ? MatmulPrecision::kTf32 : MatmulPrecision::kFloat32);
      net.set_fused_backward(!unfused);
      net.set_batched_set_products(!set_loop);
      OptimizerConfig adam;
      adam.kind = OptimizerKind::kAdam;
      adam.learning_rate = 1e-3f;
      net.set_optimizer(adam);
      for (std::size_t rows : batches) {
        if (weight_sets > 1 && rows % weight_sets != 0) {
          std::fprintf(stderr, "bench_cuda: skipping batch %zu: not a multiple of %zu agents\n",
                       rows, weight_sets);
          continue;
        }
        constexpr int kSets = 4;
        std::vector<DeviceArray<float>> inputs;
        std::vector<DeviceArray<std::int32_t>> labels;
        std::vector<std::vector<ContextId>> ids(kSets);
        for (int s = 0; s < kSets; ++s) {
          inputs.emplace_back(rows * input);
          inputs.back().upload(random_values(rows * input, 10 + s));
          std::vector<std::int32_t> host_labels(rows);
          RandomStream stream(20 + s, 2);
          for (auto& l : host_labels) l = static_cast<std::int32_t>(stream.uniform_index(classes));
          labels.emplace_back(rows);
          labels.back().upload(host_labels);
          ids[s].resize(rows);
          for (std::size_t r = 0; r < rows; ++r) {
            const std::size_t per_agent = rows / weight_sets;
            ids[s][r] = static_cast<ContextId>(weight_sets == 1    ? stream.uniform_index(contexts)
                                               : interleave_agents ? r % weight_sets
                                                                   : r / per_agent);
          }
        }
        DeviceArray<float> gradient(rows * classes);
        auto step = [&](int i) {
          const int s = i % kSets;
          net.forward_device(inputs[s].data(), rows, ids[s]);
          net.cross_entropy_device(0, labels[s].data(), gradient.data());
          net.zero_grad();
          const float* grads[1] = {gradient.data()};
          net.backward_device(grads);
          net.step();
        };
        const int scaled_iterations =
            rows >= 65536 && width >= 4096 ? std::max(3, iterations / 4) : iterations;
        const double ms = median_ms(warmup, scaled_iterations, repeats, step);
        const Cost cost = step_cost(rows, input, width, 2, classes, contexts, weight_sets);
        nlohmann::json run = {{"width", width},
                              {"batch", rows},
                              {"contexts", contexts},
                              {"agents", weight_sets},
                              {"layout", weight_sets == 1    ? "mixed"
                                         : interleave_agents ? "interleaved"
                                                             : "grouped"},
                              {"ms", ms},
                              {"flops", cost.flops},
                              {"bytes", cost.bytes},
                              {"tf32", tf32},
                              {"check_finite", check_finite},
                              {"backward", unfused ? "two-pass" : "fused"},
                              {"set_products", set_loop ? "gemm per set" : "strided batched"}};
        results["runs"].push_back(run);
        std::printf(
            "locus cuda%s %4zu-wide batch %6zu contexts %3zu agents %3zu%s: %9.4f ms/step  "
            "%8.2f TFLOP/s\n",
            unfused ? " (two-pass)" : "", width, rows, contexts, weight_sets,
            weight_sets > 1 && interleave_agents ? " interleaved" : "", ms,
            cost.flops / (ms * 1e-3) / 1e12);
        std::fflush(stdout);
      }
    }
  }
  if (!out_path.empty()) locus::bench::write_results(results, out_path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return locus::bench::guarded_main("locus_bench_cuda", [&] { return benchmark_main(argc, argv); });
}
