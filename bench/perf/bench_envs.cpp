// Environment throughput of locus: CartPole-v1 as one env (with make()'s wrapper stack, and raw)
// and as a VectorEnv of many envs, in env-steps per second. Prints JSON for
// bench/perf/run_env_bench.py, which runs the Python peers beside it and reports the ratios.
// The method (shared with bench_cognitive.cpp) is in env_throughput.hpp.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/harness/program.hpp"
#include "env_throughput.hpp"
#include "envs/classic_control/cartpole.hpp"

namespace {

using json = nlohmann::json;
using namespace locus::bench_perf;

json measure(const EnvBenchOptions& options, const std::string& name,
             std::int64_t env_steps_per_repeat, json config, const std::function<double()>& body) {
  const Measured m = warm_up_and_time(options, env_steps_per_repeat, body, body);
  std::fprintf(stderr, "%-40s %14.0f env-steps/s (median of %zu%s)\n", name.c_str(),
               m.repeats.median_rate, m.repeats.counted,
               m.repeats.contaminated ? ", machine busy: figure low" : "");
  return measured_json(name, options, env_steps_per_repeat, std::move(config), m);
}

int run(const EnvBenchOptions& options) {
  const Measure measure_one = [&](const std::string& name, std::int64_t steps, json config,
                                  const std::function<double()>& body) {
    return measure(options, name, steps, std::move(config), body);
  };
  json document = {{"benchmark", "env_throughput"},
                   {"results", run_env_benchmarks<locus::envs::CartPoleEnv, 4>(
                                   "CartPole-v1", options, measure_one)}};
  document.update(machine_fields());
  return write_document(document, options.json_path, "locus_bench_envs") ? 0 : 1;
}

}  // namespace

namespace {

int benchmark_main(int argc, char** argv) {
  EnvBenchOptions options;
  CLI::App app{"locus environment-throughput benchmark (JSON on stdout or --json)"};
  add_env_bench_options(app, options);
  app.add_option("--grain-size", options.grain_size,
                 "envs per TBB chunk in the vector env (0: VectorEnv's default)");
  add_env_bench_output_options(app, options);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(options);
  } catch (const std::exception& error) {
    std::cerr << "locus_bench_envs: " << error.what() << '\n';
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  return locus::bench::guarded_main("locus_bench_envs", [&] { return benchmark_main(argc, argv); });
}
