// Sweeps: config parsing and its errors, grid expansion, determinism for any --jobs, the NGM
// fixed-gain control, and resuming a sweep killed with SIGKILL halfway (nothing lost, nothing
// repeated).

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "bench/harness/errors.hpp"
#include "bench/harness/sweep.hpp"
#include "tests/bench/sweep_support.hpp"
#include "tests/util/fresh_dir.hpp"

extern char** environ;

using namespace locus::bench;
using Catch::Matchers::Contains;
using nlohmann::json;
namespace fs = std::filesystem;
using locus::testing::fresh_dir;
using namespace locus::testing::sweep;

TEST_CASE("a config expands methods x grid x seeds with settings merged in order", "[sweep]") {
  const SweepConfig config = SweepConfig::from_yaml(R"(
name: g
seeds: [3, 4]
defaults: {lr: 0.1, optimizer: sgd, stream: split}
grid: {lr: [0.01, 0.001], batch_size: [8]}
methods:
  - {name: a, lr: 0.5, optimizer: adam}
  - {name: b, ngm: true}
)");
  const auto runs = config.expand();
  REQUIRE(runs.size() == 8);
  CHECK(runs[0].id == "a_batch_size=8_lr=0.01_seed=3");  // grid keys sorted
  CHECK(runs[0].settings["lr"] == 0.01);                 // the grid overrides the method
  CHECK(runs[0].settings["optimizer"] == "adam");
  CHECK(runs[7].method == "b");
  CHECK(runs[7].settings["ngm"] == true);
  CHECK(runs[7].seed == 4);
  std::set<std::string> ids;
  for (const auto& run : runs) ids.insert(run.id);
  CHECK(ids.size() == 8);
}

TEST_CASE("config errors name the key or value", "[sweep][errors]") {
  CHECK_THROWS_WITH(SweepConfig::from_yaml("methods: [{name: a, learning_rate: 1}]"),
                    Contains("unknown setting 'learning_rate'") && Contains("lr"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml("metods: []"), Contains("unknown sweep key 'metods'"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml("methods: [{name: a, fixed_gain_from: b}]").expand(),
                    Contains("'b', which is not a method"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml("methods: [{name: a, optimizer: adagrad}]").expand(),
                    Contains("adagrad"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml("methods: [{name: a, lr: fast}]").expand(),
                    Contains("setting 'lr' must be a finite number, got \"fast\""));
  CHECK_THROWS_WITH(SweepConfig::from_yaml("methods: [{name: a, device: tpu}]").expand(),
                    Contains("'device' is 'tpu'") && Contains("cpu, cuda"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml("methods: [{name: a, precision: half}]").expand(),
                    Contains("setting 'precision'") && Contains("float32, bfloat16, tf32"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml("methods: [{name: a, precision: tf32}]").expand(),
                    Contains("tf32 needs device cuda"));
  CHECK_THROWS_WITH(
      SweepConfig::from_yaml("methods: [{name: a, precision: bfloat16, device: cuda}]").expand(),
      Contains("bfloat16 device cpu"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml("seeds: [-1]\nmethods: [{name: a}]"),
                    Contains("'seeds' is -1; allowed: 0 to"));
  CHECK_THROWS_WITH(
      SweepConfig::from_yaml("methods: [{name: a, network: modulated, scenario: class}]").expand(),
      Contains("context_at_test"));
  CHECK_THROWS_WITH(SweepConfig::from_yaml("methods: [{name: a}, {name: a}]"),
                    Contains("appears twice"));
  CHECK_THROWS_AS(SweepConfig::from_yaml("methods: [{name: a"), InvalidArgumentError);
}

TEST_CASE("a sweep gives the same runs for any number of jobs, controls use the NGM gain",
          "[sweep][determinism]") {
  const SweepConfig config = SweepConfig::from_yaml(kTinyConfig);
  const fs::path one = fresh_dir("jobs1"), two = fresh_dir("jobs2");
  const auto a = run_sweep(config, {.out_dir = one, .jobs = 1, .progress = false});
  const auto b = run_sweep(config, {.out_dir = two, .jobs = 2, .progress = false});
  CHECK(a.total == 6);
  CHECK(a.executed == 6);
  CHECK(b.executed == 6);
  const auto runs_one = runs_in(one);
  CHECK(runs_one.size() == 6);
  CHECK(runs_one == runs_in(two));

  const json ngm = runs_one.at("ngm-sgd_seed=1.json");
  const json control = runs_one.at("fixed-gain-sgd_seed=1.json");
  CHECK(ngm["metrics"]["mean_gain"].get<double>() > 1.0);
  CHECK(control["resolved_fixed_gain"].get<double>() ==
        Approx(ngm["metrics"]["mean_gain"].get<double>()).epsilon(1e-6));  // stored as float
  CHECK(runs_one.at("sgd_seed=0.json")["metrics"]["mean_gain"].is_null());

  // The summary: one row per method, mean and sd over the 2 seeds.
  const std::string csv = read_text(one / "summary.csv");
  CHECK(csv.find("method,grid,runs,acc_mean,acc_sd") == 0);
  CHECK(csv.find("\nngm-sgd,,2,") != std::string::npos);
  CHECK(a.table.find("| fixed-gain-sgd") != std::string::npos);
  std::ifstream results(one / "results.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(results, line)) ++lines;
  CHECK(lines == 6);

  // Rerunning a finished sweep runs nothing; a changed config in the same directory is refused.
  const auto again = run_sweep(config, {.out_dir = one, .jobs = 2, .progress = false});
  CHECK(again.skipped == 6);
  CHECK(again.executed == 0);
  SweepConfig changed = config;
  changed.defaults["eval_every"] = 4;
  CHECK_THROWS_AS(run_sweep(changed, {.out_dir = one, .jobs = 1, .progress = false}),
                  SweepStateError);
  fs::remove_all(one);
  fs::remove_all(two);
}

TEST_CASE("a sweep killed with SIGKILL halfway resumes: nothing lost, nothing repeated",
          "[sweep][resume]") {
  const fs::path locus = fs::path(LOCUS_BINARY_DIR) / "bin" / "locus";
  REQUIRE(fs::exists(locus));
  const fs::path dir = fresh_dir("resume");
  fs::create_directories(dir);
  // More and longer runs than the determinism test, so that the kill lands between runs.
  std::string text = kTinyConfig;
  text.replace(text.find("seeds: [0, 1]"), 13, "seeds: [0, 1, 2, 3]");
  text.replace(text.find("iterations_per_task: 8"), 22, "iterations_per_task: 40");
  const fs::path config_path = dir / "config.yaml";
  std::ofstream(config_path) << text;
  const fs::path out = dir / "out";
  const std::string locus_arg = locus.string(), config_arg = config_path.string(),
                    out_arg = out.string();
  std::vector<char*> argv = {const_cast<char*>(locus_arg.c_str()),
                             const_cast<char*>("sweep"),
                             const_cast<char*>(config_arg.c_str()),
                             const_cast<char*>("--out"),
                             const_cast<char*>(out_arg.c_str()),
                             const_cast<char*>("--jobs"),
                             const_cast<char*>("1"),
                             const_cast<char*>("--quiet"),
                             nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t child = 0;
  REQUIRE(posix_spawn(&child, locus_arg.c_str(), &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);

  auto finished_files = [&] {
    std::size_t n = 0;
    if (!fs::exists(out / "runs")) return n;
    for (const auto& entry : fs::directory_iterator(out / "runs")) {
      n += entry.path().extension() == ".json" ? 1 : 0;
    }
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (finished_files() < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));  // killed, not finished
  const std::size_t before = finished_files();
  REQUIRE(before >= 4);
  REQUIRE(before < 12);
  std::map<std::string, std::string> survivors;
  for (const auto& entry : fs::directory_iterator(out / "runs")) {
    if (entry.path().extension() == ".json") {
      survivors[entry.path().filename().string()] = read_text(entry.path());
    }
  }

  std::vector<std::string> executed;
  const auto outcome = run_sweep(
      SweepConfig::from_yaml_file(config_path),
      {.out_dir = out, .jobs = 2, .progress = false, .on_run_finished = [&](const RunSpec& spec) {
         executed.push_back(spec.id + ".json");
       }});
  CHECK(outcome.total == 12);
  CHECK(outcome.skipped == before);
  CHECK(outcome.executed == 12 - before);
  for (const auto& name : executed) CHECK_FALSE(survivors.contains(name));  // nothing repeated
  for (const auto& [name, text] : survivors) CHECK(read_text(out / "runs" / name) == text);
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(out / "runs")) {
    CHECK(entry.path().extension() == ".json");  // no temporary file left behind
    ++files;
  }
  CHECK(files == 12);  // nothing lost

  // The resumed sweep equals one that was never interrupted.
  const fs::path clean = dir / "clean";
  run_sweep(SweepConfig::from_yaml_file(config_path),
            {.out_dir = clean, .jobs = 2, .progress = false});
  CHECK(runs_in(out) == runs_in(clean));
  fs::remove_all(dir);
}

TEST_CASE("config names used in paths stay inside the output folder", "[sweep][errors][limits]") {
  for (const std::string bad : {"../../x", "/tmp/x", "a/b", "a\\b", "..", ".", ""}) {
    INFO(bad);
    CHECK_THROWS_WITH(
        SweepConfig::from_yaml("name: " + json(bad).dump() + "\nmethods: [{name: a}]"),
        Contains("sweep 'name' " + json(bad).dump() + " cannot name a folder or file") &&
            Contains("one folder or file name"));
    if (!bad.empty()) {  // an empty method name has its own message
      CHECK_THROWS_WITH(SweepConfig::from_yaml("methods: [{name: " + json(bad).dump() + "}]"),
                        Contains("sweep method 'name' " + json(bad).dump()));
    }
  }
  CHECK_THROWS_WITH(SweepConfig::from_yaml("name: \"a\\0b\"\nmethods: [{name: a}]"),
                    Contains("it holds a NUL character"));
  CHECK_THROWS_WITH(
      SweepConfig::from_yaml("name: " + std::string(256, 'n') + "\nmethods: [{name: a}]"),
      Contains("longer than 255 bytes"));
  // Names that only look odd are fine: they stay one component.
  CHECK(SweepConfig::from_yaml("name: ..x\nmethods: [{name: 'a b'}]").name == "..x");
  // A config built in code is checked when it expands.
  SweepConfig config = SweepConfig::from_yaml("methods: [{name: a}]");
  config.name = "../x";
  CHECK_THROWS_WITH(config.expand(), Contains("sweep 'name' \"../x\""));
}

TEST_CASE("numeric settings are range-checked before the sweep starts", "[sweep][errors][limits]") {
  const auto expand = [](const std::string& defaults) {
    return SweepConfig::from_yaml("defaults: {" + defaults + "}\nmethods: [{name: a}]").expand();
  };
  CHECK_THROWS_WITH(expand("batch_size: 1000000000000"),
                    Contains("setting 'batch_size' is 1000000000000; allowed: 1 to 1048576"));
  CHECK_THROWS_WITH(expand("batch_size: 0"), Contains("allowed: 1 to 1048576"));
  CHECK_THROWS_WITH(expand("iterations_per_task: 100000000000"),
                    Contains("setting 'iterations_per_task' is 100000000000"));
  CHECK_THROWS_WITH(expand("num_tasks: -3"), Contains("setting 'num_tasks' is -3; allowed: 0"));
  CHECK_THROWS_WITH(expand("gap_window: 0"), Contains("setting 'gap_window' is 0"));
  // A double past float's range: the cast to the optimizer's float is undefined behaviour.
  CHECK_THROWS_WITH(expand("lr: 1e300"),
                    Contains("setting 'lr' is 1e+300; allowed: -3.4028234663852886e+38 to"));
  CHECK_THROWS_WITH(expand("fixed_gain: 1e39"), Contains("setting 'fixed_gain' is 1e+39"));
  // YAML's .nan and .inf stop at the config reader, with their line.
  CHECK_THROWS_WITH(expand("momentum: .nan"), Contains("'.nan' is not a finite number"));
  CHECK_THROWS_WITH(expand("hidden: [100000000]"),
                    Contains("setting 'hidden' is 100000000; allowed: 0 to 16777216"));
  CHECK_THROWS_WITH(expand("angles: [0, .inf]"), Contains("'.inf' is not a finite number"));
}

TEST_CASE("a run that cannot fit in memory is refused before the sweep starts",
          "[sweep][errors][limits]") {
  const auto start = std::chrono::steady_clock::now();
  // Two trainable layers of 16M units: 2.6e14 weights with their gradients, about 2 PiB.
  CHECK_THROWS_WITH(
      SweepConfig::from_yaml("defaults: {hidden: [16000000, 16000000]}\nmethods: [{name: a}]")
          .expand(),
      Contains("run 'a_seed=0' needs at least") && Contains("of memory, but only") &&
          Contains("lower hidden, batch_size"));
  // A continual record of 2^16 tasks x 2^30 evaluations each.
  CHECK_THROWS_WITH(SweepConfig::from_yaml("defaults: {num_tasks: 65536, iterations_per_task: "
                                           "1073741824, eval_every: 1}\nmethods: [{name: a}]")
                        .expand(),
                    Contains("run 'a_seed=0' needs at least"));
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 2.0);
  // The estimate of an ordinary run is small.
  const SweepConfig tiny = SweepConfig::from_yaml(kTinyConfig);
  const RunSpec spec = tiny.expand().front();
  CHECK(supervised_memory_estimate(supervised_config(spec.settings, 0),
                                   schedule_from_settings(spec.settings)) < (1u << 20));
}

TEST_CASE("sweeps of absurdly many runs or jobs are refused before anything is written",
          "[sweep][errors][limits]") {
  std::string values = "[";
  for (int i = 0; i < 101; ++i) values += (i ? ", " : "") + std::to_string(0.001 * (i + 1));
  values += "]";
  const SweepConfig many =
      SweepConfig::from_yaml("grid: {lr: " + values + ", momentum: " + values +
                             ", weight_decay: " + values + "}\nmethods: [{name: a}]");
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(many.expand(),
                    Contains("the sweep expands to 1030301 runs (methods x grid points x seeds); "
                             "at most 1000000 are allowed"));
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 1.0);
  const fs::path dir = fresh_dir("jobs");
  CHECK_THROWS_WITH(run_sweep(SweepConfig::from_yaml(kTinyConfig),
                              {.out_dir = dir, .jobs = 1'000'000, .progress = false}),
                    Contains("--jobs 1000000 must be in [1, 4096]"));
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("run ids that cannot be file names are refused before the sweep starts",
          "[sweep][errors][limits]") {
  const std::string long_value(300, 'v');
  CHECK_THROWS_WITH(
      SweepConfig::from_yaml("grid: {data_dir: [" + long_value + "]}\nmethods: [{name: a}]")
          .expand(),
      Contains("bytes, longer than the 200 its file name in runs/ may have"));
}
