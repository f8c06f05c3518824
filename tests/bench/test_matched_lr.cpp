// NGM's step-size control: `matched_lr_from: M` runs plain SGD at lr x (M's mean gain)^power,
// with the gain taken from M's run of the same seed, and its configuration errors.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/harness/errors.hpp"
#include "bench/harness/sweep.hpp"

using namespace locus::bench;
using Catch::Matchers::Contains;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Tiny runs: 2 Split Fashion-MNIST tasks, 128 training and 50 held-out images each.
const std::string kHead = R"(
name: tiny-matched
seeds: [3]
defaults:
  stream: split
  num_tasks: 2
  train_per_task: 128
  eval_per_task: 50
  iterations_per_task: 8
  eval_every: 4
  batch_size: 16
  hidden: [16]
  joint: true
  optimizer: sgd
  lr: 0.05
)";

json read_run(const fs::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

}  // namespace

TEST_CASE("matched_lr_from runs SGD at lr x mean NGM gain^power", "[sweep][matched_lr]") {
  const SweepConfig config = SweepConfig::from_yaml(kHead + R"(
methods:
  - {name: ngm-sgd, ngm: true}
  - {name: matched-lr-sgd, matched_lr_from: ngm-sgd}
  - {name: matched-lr2-sgd, matched_lr_from: ngm-sgd, matched_lr_power: 2}
)");
  const auto runs = config.expand();
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].depends_on.empty());
  CHECK(runs[1].depends_on == "ngm-sgd");
  const fs::path dir =
      fs::temp_directory_path() / ("locus_bench_matched_lr_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  run_sweep(config, {.out_dir = dir, .jobs = 2, .progress = false});
  const json ngm = read_run(dir / "runs" / "ngm-sgd_seed=3.json");
  const json matched = read_run(dir / "runs" / "matched-lr-sgd_seed=3.json");
  const json squared = read_run(dir / "runs" / "matched-lr2-sgd_seed=3.json");
  const double gain = ngm["metrics"]["mean_gain"].get<double>();
  CHECK(gain > 1.0);  // entropy keeps the NGM gain above its resting value 1
  CHECK(matched["source_mean_gain"].get<double>() == gain);
  CHECK(matched["resolved_lr"].get<double>() == Approx(0.05 * gain).epsilon(1e-6));
  CHECK(squared["resolved_lr"].get<double>() == Approx(0.05 * gain * gain).epsilon(1e-6));
  // The control is plain SGD: no gain of its own.
  CHECK(matched["metrics"]["mean_gain"].is_null());
  CHECK(!matched.contains("resolved_fixed_gain"));
  // A larger step size learns differently from the base lr: the runs are not copies.
  CHECK(matched["record"]["curves"] != squared["record"]["curves"]);
  fs::remove_all(dir);
}

TEST_CASE("matched_lr_from errors name the method", "[sweep][matched_lr][errors]") {
  CHECK_THROWS_WITH(SweepConfig::from_yaml(kHead + R"(
methods:
  - {name: ngm-sgd, ngm: true}
  - {name: c, matched_lr_from: ngm}
)")
                        .expand(),
                    Contains("method 'c': matched_lr_from names 'ngm'"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml(kHead + R"(
methods:
  - {name: ngm-sgd, ngm: true}
  - {name: c, matched_lr_from: ngm-sgd, fixed_gain_from: ngm-sgd}
)")
                        .expand(),
                    Contains("exclude each other"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml(kHead + R"(
methods:
  - {name: ngm-sgd, ngm: true}
  - {name: c, matched_lr_from: ngm-sgd, ngm: true}
)")
                        .expand(),
                    Contains("matched_lr_from excludes ngm: true"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml(kHead + R"(
methods:
  - {name: ngm-sgd, ngm: true}
  - {name: c, fixed_gain_from: ngm-sgd}
  - {name: d, matched_lr_from: c}
)")
                        .expand(),
                    Contains("names a method that is a control itself"));
}
