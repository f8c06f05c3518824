#include "bench/sweep.hpp"

#include <fmt/format.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "bench/cognitive.hpp"
#include "bench/errors.hpp"
#include "bench/rl.hpp"
#include "config/yaml.hpp"
#include "envs/data/idx.hpp"
#include "envs/errors.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/kernels.hpp"
#include "neuromod/spec.hpp"
#include "util/atomic_file.hpp"
#include "util/memory.hpp"
#include "util/path_name.hpp"

namespace locus::bench {

namespace {

using nlohmann::json;
namespace data = locus::envs::data;
namespace nm = locus::neuromod;
namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Limits on sizes no real sweep reaches, so that a mistyped value (1e12) is refused before the
// sweep starts instead of allocating or looping for days. Memory is checked separately
// (check_run_memory).
constexpr std::int64_t kMaxTasks = std::int64_t{1} << 16;
constexpr std::int64_t kMaxCount = std::int64_t{1} << 31;  // images per task, window lengths
constexpr std::int64_t kMaxBatch = std::int64_t{1} << 20;
constexpr std::int64_t kMaxIterations = std::int64_t{1} << 30;
constexpr std::uint64_t kMaxRuns = 1'000'000;
constexpr int kMaxJobs = 4096;
constexpr std::size_t kMaxRunIdBytes = 200;
// Debian's Fashion-MNIST images: the input width a supervised run's estimate assumes unless
// data_dir names other data (then 1, a lower bound).
constexpr std::uint64_t kFashionMnistPixels = 784;
constexpr std::uint64_t kFashionMnistClasses = 10;

// ---- settings -------------------------------------------------------------------------------

struct SettingInfo {
  const char* key;
  json default_value;
  const char* help;
};

const std::vector<SettingInfo>& setting_table() {
  static const std::vector<SettingInfo> table = {
      {"stream", "split", "split | permuted | rotated | full (Fashion-MNIST streams)"},
      {"scenario", "task-incremental", "task-incremental | domain-incremental | class-incremental"},
      {"joint", false, "incremental joint training: replay every earlier task's data"},
      {"num_tasks", 0, "tasks (0: the stream's default)"},
      {"classes_per_task", 2, "split streams"},
      {"angles", json::array({0.0, 80.0, 160.0}), "rotated streams, degrees"},
      {"train_per_task", 0, "training images per task (0: all)"},
      {"eval_per_task", 1000, "held-out evaluation images per task (0: all)"},
      {"normalization", "unit", "unit | standardize"},
      {"data_dir", "", "MNIST-format data directory (empty: Debian's Fashion-MNIST)"},
      {"iterations_per_task", 100, "training iterations (optimizer steps) per task"},
      {"eval_every", 10, "evaluate every task seen so far every this many iterations"},
      {"batch_size", 64, "minibatch size"},
      {"network", "mlp", "mlp | modulated | modulated-mlp"},
      {"hidden", json::array({400, 400}), "hidden widths (mlp, modulated-mlp)"},
      {"device", "cpu", "cpu | cuda: where the network runs (cuda needs a GPU build)"},
      {"precision", "float32",
       "float32 | bfloat16 | tf32: the products' arithmetic (bfloat16: CPUs with AVX512-BF16, "
       "fixed weights only; tf32: cuda)"},
      {"separate", false, "a fresh MLP per task: the single-task reference (task-incremental)"},
      {"optimizer", "sgd", "sgd | momentum | adam | rmsprop"},
      {"lr", 0.01, "learning rate"},
      {"momentum", 0.9, "momentum SGD"},
      {"beta1", 0.9, "Adam"},
      {"beta2", 0.999, "Adam"},
      {"weight_decay", 0.0, "L2 weight decay"},
      {"ngm", false, "NGM gain (arXiv 2507.14056)"},
      {"ngm_eta", 0.4, "NGM entropy coefficient eta"},
      {"ngm_gamma", 0.9, "NGM decay gamma"},
      {"ngm_g0", 1.0, "NGM resting gain g0"},
      {"ngm_placement", "every-layer",
       "where the gain applies: every-layer | output-only | selected"},
      {"ngm_layers", json::array(), "weight-gain slots for ngm_placement: selected"},
      {"ngm_entropy", "nats", "nats | bits"},
      {"fixed_gain", 0.0, "control: a constant gain on the NGM placement (0: none)"},
      {"fixed_gain_from", "", "control: fix the gain at this method's mean gain (same seed)"},
      {"matched_lr_from", "",
       "control: lr x (this method's mean gain)^matched_lr_power (same seed and grid point)"},
      {"matched_lr_power", 1.0, "exponent of the mean gain in matched_lr_from"},
      {"gap_epsilon", 0.02, "recovery band of the gap metrics"},
      {"gap_window", 5, "evaluations in the gap baseline and smoothing"},
  };
  return table;
}

const SettingInfo* find_setting(const std::string& key) {
  for (const auto& info : setting_table()) {
    if (key == info.key) return &info;
  }
  return nullptr;
}

std::string setting_names() {
  std::string out;
  for (const auto& info : setting_table()) out += (out.empty() ? "" : ", ") + std::string(info.key);
  return out;
}

void check_setting_key(const std::string& key, const std::string& where) {
  if (find_setting(key) == nullptr) {
    throw InvalidArgumentError(
        fmt::format("unknown setting '{}' in {}; settings: {}", key, where, setting_names()));
  }
}

const json& value_of(const json& settings, const char* key) {
  const auto it = settings.find(key);
  if (it != settings.end()) return *it;
  return find_setting(key)->default_value;
}

double get_number(const json& settings, const char* key) {
  const json& v = value_of(settings, key);
  if (!v.is_number() || !std::isfinite(v.get<double>())) {
    throw InvalidArgumentError(
        fmt::format("setting '{}' must be a number (finite), got {}", key, v.dump()));
  }
  return v.get<double>();
}

// A setting held as a float: converting a double beyond float's range is undefined behaviour.
float get_float(const json& settings, const char* key) {
  const double d = get_number(settings, key);
  if (std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max())) {
    throw InvalidArgumentError(
        fmt::format("setting '{}' is {}, beyond the float range it is held in (|x| <= {:g})", key,
                    value_of(settings, key).dump(), std::numeric_limits<float>::max()));
  }
  return static_cast<float>(d);
}

// An integer setting within [min, max]; nlohmann's get<std::int64_t>() would wrap a value past
// 2^63 round to a negative one.
std::int64_t get_int(const json& settings, const char* key, std::int64_t min, std::int64_t max) {
  const json& v = value_of(settings, key);
  if (!v.is_number_integer()) {
    throw InvalidArgumentError(
        fmt::format("setting '{}' must be an integer, got {}", key, v.dump()));
  }
  const bool in_range = v.is_number_unsigned()
                            ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(max)
                            : v.get<std::int64_t>() >= min && v.get<std::int64_t>() <= max;
  if (!in_range) {
    throw InvalidArgumentError(
        fmt::format("setting '{}' is {}; allowed: {} to {}", key, v.dump(), min, max));
  }
  return v.get<std::int64_t>();
}

bool get_bool(const json& settings, const char* key) {
  const json& v = value_of(settings, key);
  if (!v.is_boolean()) {
    throw InvalidArgumentError(
        fmt::format("setting '{}' must be true or false, got {}", key, v.dump()));
  }
  return v.get<bool>();
}

std::string get_string(const json& settings, const char* key) {
  const json& v = value_of(settings, key);
  if (!v.is_string()) {
    throw InvalidArgumentError(fmt::format("setting '{}' must be a string, got {}", key, v.dump()));
  }
  return v.get<std::string>();
}

template <class T>
std::vector<T> get_list(const json& settings, const char* key) {
  const json& v = value_of(settings, key);
  std::vector<T> out;
  if (!v.is_array()) {
    throw InvalidArgumentError(fmt::format("setting '{}' must be a list, got {}", key, v.dump()));
  }
  for (const auto& item : v) {
    // Whole numbers are list sizes here (widths, layer indices): at most neuromod's unit limit.
    const bool whole = item.is_number_unsigned()
                           ? item.get<std::uint64_t>() <= nm::kMaxUnits
                           : item.is_number_integer() && item.get<std::int64_t>() >= 0 &&
                                 item.get<std::int64_t>() <= std::int64_t{nm::kMaxUnits};
    const bool finite = item.is_number() && std::isfinite(item.get<double>());
    if (!finite || (std::is_integral_v<T> && !whole)) {
      throw InvalidArgumentError(fmt::format(
          "setting '{}' must list {} numbers, got {}", key,
          std::is_integral_v<T> ? fmt::format("whole (0 to {})", nm::kMaxUnits) : "finite",
          v.dump()));
    }
    out.push_back(item.get<T>());
  }
  return out;
}

// A config string that becomes a path component (the sweep's name in runs/<name>, a method's name
// in its runs' file names) must stay inside the output folder.
void check_path_name(std::string_view key, const std::string& value) {
  if (const auto problem = util::path_name_problem(value)) {
    throw InvalidArgumentError(
        fmt::format("sweep {} {} cannot name a folder or file: {}; it must be {}", key,
                    json(value).dump(), *problem, util::kPathNameRule));
  }
}

std::string value_label(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string sanitize(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                    c == '=' || c == '_' || c == '+';
    out += ok ? c : '_';
  }
  return out;
}

std::string grid_label(const json& grid) {
  std::string out;
  for (const auto& [key, value] : grid.items()) {
    out += (out.empty() ? "" : " ") + key + "=" + value_label(value);
  }
  return out;
}

// ---- run files -------------------------------------------------------------------------------

json to_json_array(const std::vector<double>& values) {
  json out = json::array();
  for (const double v : values) out.push_back(std::isfinite(v) ? json(v) : json(nullptr));
  return out;
}

double number_or_nan(const json& value) {
  return value.is_number() ? value.get<double>() : kNaN;
}

json metrics_json(const RunMetrics& m) {
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"acc", num(m.acc)},
          {"bwt", num(m.bwt)},
          {"fwt", num(m.fwt)},
          {"forgetting", num(m.forgetting)},
          {"sg", to_json_array(m.sg)},
          {"avg_sg", num(m.avg_sg)},
          {"avg_sg_previous", num(m.avg_sg_previous)},
          {"min_acc", num(m.min_acc)},
          {"wc_acc", num(m.wc_acc)},
          {"gap_depth", num(m.gap_depth)},
          {"gap_recovery", num(m.gap_recovery)},
          {"gap_area", num(m.gap_area)},
          {"gap_censored", m.gap_censored},
          {"first_task_final", num(m.first_task_final)},
          {"mean_gain", num(m.mean_gain)},
          {"parameter_count", m.parameter_count},
          {"bytes_per_task", m.bytes_per_task},
          {"wall_seconds", num(m.wall_seconds)},
          {"steps_per_second", num(m.steps_per_second)}};
}

json record_json(const ContinualRecord& r) {
  json curves = json::array();
  for (const auto& curve : r.curves) curves.push_back(to_json_array(curve));
  json matrix = json::array();
  for (const auto& row : r.matrix) matrix.push_back(to_json_array(row));
  return {{"num_tasks", r.num_tasks},
          {"block_ends", r.block_ends},
          {"iterations", r.iterations},
          {"curves", curves},
          {"gains", to_json_array(r.gains)},
          {"losses", to_json_array(r.losses)},
          {"matrix", matrix},
          {"initial", to_json_array(r.initial)},
          {"train_steps", r.train_steps},
          {"train_samples", r.train_samples},
          {"train_seconds", r.train_seconds},
          {"eval_seconds", r.eval_seconds}};
}

fs::path run_path(const fs::path& out_dir, const RunSpec& spec) {
  return out_dir / "runs" / (spec.id + ".json");
}

// The finished run of `spec` in out_dir, or null if there is none (a run written by a different
// configuration is an error: the directory belongs to another sweep).
json read_finished_run(const fs::path& out_dir, const RunSpec& spec) {
  const fs::path path = run_path(out_dir, spec);
  if (!fs::exists(path)) return nullptr;
  std::ifstream in(path);
  json run;
  try {
    run = json::parse(in);
  } catch (const json::exception& e) {
    throw SweepStateError(fmt::format("cannot read finished run {}: {}", path.string(), e.what()));
  }
  if (run.value("settings", json()) != spec.settings || run.value("seed", json()) != spec.seed ||
      run.value("scenario", json()) != spec.scenario) {
    throw SweepStateError(
        fmt::format("{} was written by a sweep with other settings for run '{}'; use another --out "
                    "directory or remove it",
                    path.string(), spec.id));
  }
  return run;
}

// ---- progress --------------------------------------------------------------------------------

std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long>(std::lround(seconds));
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

class Progress {
 public:
  Progress(std::size_t total, std::size_t done, int jobs, bool enabled, std::FILE* stream)
      : total_(total),
        done_(done),
        jobs_(jobs),
        enabled_(enabled && stream),
        stream_(stream),
        tty_(enabled_ && isatty(fileno(stream))),
        start_(std::chrono::steady_clock::now()) {
    if (enabled_) thread_ = std::thread([this] { loop(); });
  }
  ~Progress() { stop(); }
  void started() {
    ++running_;
    std::lock_guard lock(mutex_);
    changed_ = true;
  }
  void finished(double seconds) {
    --running_;
    ++done_;
    ++finished_here_;
    std::lock_guard lock(mutex_);
    run_seconds_ += seconds;
    changed_ = true;
    wake_.notify_all();
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
      wake_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    if (enabled_) {
      if (tty_ || changed_) print();  // the last state, unless the loop printed it already
      if (tty_) std::fputc('\n', stream_);
    }
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (!stopped_) {
      wake_.wait_for(lock, std::chrono::milliseconds(500));
      if (stopped_) break;
      if (tty_ || changed_) {
        changed_ = false;
        lock.unlock();
        print();
        lock.lock();
      }
    }
  }
  void print() {
    const std::size_t done = done_, running = running_;
    const std::size_t left = total_ - done - running;
    double eta = kNaN;
    {
      std::lock_guard lock(mutex_);
      if (finished_here_ > 0) {
        const double per_run = run_seconds_ / static_cast<double>(finished_here_.load());
        eta = per_run * (static_cast<double>(left) + 0.5 * static_cast<double>(running)) /
              static_cast<double>(std::max(1, jobs_));
      }
    }
    constexpr int kWidth = 24;
    const int filled =
        total_ == 0 ? kWidth : static_cast<int>(kWidth * static_cast<double>(done) / total_);
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const std::string line = fmt::format(
        "[{}{}] {}/{} done, {} running, {} left, elapsed {}, ETA {}", std::string(filled, '#'),
        std::string(kWidth - filled, '.'), done, total_, running, left, duration_text(elapsed),
        done == total_ ? "0s" : duration_text(eta));
    std::lock_guard lock(print_mutex_);
    if (tty_) {
      fmt::print(stream_, "\r{:<100}", line);
    } else {
      fmt::print(stream_, "{}\n", line);
    }
    std::fflush(stream_);
  }

  std::size_t total_;
  std::atomic<std::size_t> done_, running_{0}, finished_here_{0};
  int jobs_;
  bool enabled_;
  std::FILE* stream_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_, print_mutex_;
  std::condition_variable wake_;
  double run_seconds_ = 0.0;
  bool changed_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

// ---- summary ---------------------------------------------------------------------------------

struct SummaryColumn {
  const char* metric;
  const char* title;
};
const std::vector<SummaryColumn>& summary_columns() {
  static const std::vector<SummaryColumn> columns = {{"acc", "ACC"},
                                                     {"bwt", "BWT"},
                                                     {"fwt", "FWT"},
                                                     {"forgetting", "forget"},
                                                     {"avg_sg", "avg-SG"},
                                                     {"avg_sg_previous", "avg-SG prev"},
                                                     {"min_acc", "min-ACC"},
                                                     {"wc_acc", "WC-ACC"},
                                                     {"gap_depth", "depth"},
                                                     {"gap_recovery", "recovery"},
                                                     {"gap_area", "area"},
                                                     {"first_task_final", "task-1 final"},
                                                     {"mean_gain", "gain"},
                                                     {"parameter_count", "params"},
                                                     {"bytes_per_task", "bytes/task"},
                                                     {"wall_seconds", "wall s"},
                                                     {"steps_per_second", "steps/s"}};
  return columns;
}
// The columns of the printed table (the CSV has them all).
const std::vector<const char*>& table_metrics() {
  static const std::vector<const char*> metrics = {
      "acc", "bwt", "forgetting", "avg_sg", "min_acc", "wc_acc", "mean_gain", "steps_per_second"};
  return metrics;
}

std::string format_mean_sd(const MeanSd& s, int decimals) {
  if (s.count == 0) return "-";
  if (!std::isfinite(s.sd)) return fmt::format("{:.{}f}", s.mean, decimals);
  return fmt::format("{:.{}f}±{:.{}f}", s.mean, decimals, s.sd, decimals);
}

}  // namespace

// ---- public ----------------------------------------------------------------------------------

std::string run_settings_help() {
  std::string out;
  for (const auto& info : setting_table()) {
    out += fmt::format("  {:<20} {:<18} {}\n", info.key, info.default_value.dump(), info.help);
  }
  return out;
}

SweepConfig SweepConfig::from_yaml(const std::string& text) {
  constexpr std::string_view kSource = "sweep config";
  YAML::Node root;
  try {
    root = config::load_yaml(text, kSource);
  } catch (const config::ParseError& e) {
    throw InvalidArgumentError(e.what());
  }
  const auto to_json = [&](const YAML::Node& node) {
    try {
      return config::yaml_to_json(node, kSource);
    } catch (const config::ParseError& e) {
      throw InvalidArgumentError(e.what());
    }
  };
  if (!root.IsMap()) throw InvalidArgumentError("sweep config must be a YAML mapping");
  SweepConfig config;
  // Setting keys are checked once the scenario kind is known (it may come after them).
  std::vector<std::pair<std::string, std::string>> keys_to_check;  // key, where
  for (const auto& item : root) {
    const auto key = item.first.Scalar();
    const json value = to_json(item.second);
    if (key == "name") {
      if (!value.is_string()) throw InvalidArgumentError("sweep 'name' must be a string");
      config.name = value.get<std::string>();
      check_path_name("'name'", config.name);
    } else if (key == "description") {
      // Free text for the reader of the config.
    } else if (key == "seeds") {
      config.seeds.clear();
      if (!value.is_array() || value.empty()) {
        throw InvalidArgumentError(
            fmt::format("sweep 'seeds' must be a non-empty list of non-negative integers, got {}",
                        value.dump()));
      }
      for (const auto& seed : value) {
        if (!seed.is_number_integer() || seed.get<std::int64_t>() < 0) {
          throw InvalidArgumentError(
              fmt::format("sweep 'seeds' must hold non-negative integers, got {}", seed.dump()));
        }
        config.seeds.push_back(seed.get<std::uint64_t>());
      }
    } else if (key == "defaults") {
      if (!value.is_object()) throw InvalidArgumentError("sweep 'defaults' must be a mapping");
      for (const auto& [setting, v] : value.items())
        keys_to_check.emplace_back(setting, "'defaults'");
      config.defaults = value;
    } else if (key == "grid") {
      if (!value.is_object()) {
        throw InvalidArgumentError("sweep 'grid' must map setting names to lists of values");
      }
      for (const auto& grid_item : item.second) {
        const auto setting = grid_item.first.Scalar();
        keys_to_check.emplace_back(setting, "'grid'");
        const json values = to_json(grid_item.second);
        if (!values.is_array() || values.empty()) {
          throw InvalidArgumentError(fmt::format(
              "grid '{}' must be a non-empty list of values, got {}", setting, values.dump()));
        }
        config.grid.emplace_back(setting, std::vector<json>(values.begin(), values.end()));
      }
    } else if (key == "methods") {
      if (!value.is_array() || value.empty()) {
        throw InvalidArgumentError("sweep 'methods' must be a non-empty list of mappings");
      }
      for (const auto& method : value) {
        if (!method.is_object() || !method.contains("name") || !method["name"].is_string() ||
            method["name"].get<std::string>().empty()) {
          throw InvalidArgumentError(fmt::format(
              "every method needs a 'name' (a non-empty string); got {}", method.dump()));
        }
        const std::string name = method["name"].get<std::string>();
        check_path_name("method 'name'", name);
        json settings = method;
        settings.erase("name");
        for (const auto& [setting, v] : settings.items()) {
          keys_to_check.emplace_back(setting, "method '" + name + "'");
        }
        for (const auto& [existing, s] : config.methods) {
          if (existing == name) {
            throw InvalidArgumentError(fmt::format("method name '{}' appears twice", name));
          }
        }
        config.methods.emplace_back(name, settings);
      }
    } else if (key == "scenario") {
      if (!value.is_object() || !value.contains("kind")) {
        throw InvalidArgumentError(
            fmt::format("sweep 'scenario' must be a mapping with a 'kind' (supervised, rl or "
                        "cognitive), got {}",
                        value.dump()));
      }
      if (value["kind"] == "rl") {
        config.scenario = RlScenario::from_json(value).to_json();
      } else if (value["kind"] == "cognitive") {
        config.scenario = CognitiveScenario::from_json(value).to_json();
      } else if (value["kind"] == "supervised") {
        if (value.size() != 1) {
          throw InvalidArgumentError(
              "a supervised 'scenario' takes only 'kind'; the stream, scenario and the rest are "
              "run settings (in defaults, methods or grid)");
        }
      } else {
        throw InvalidArgumentError(
            fmt::format("sweep 'scenario' kind {} is unknown; kinds: supervised, rl, cognitive",
                        value["kind"].dump()));
      }
    } else {
      throw InvalidArgumentError(fmt::format(
          "unknown sweep key '{}'; keys: name, description, scenario, seeds, defaults, grid, "
          "methods",
          key));
    }
  }
  if (config.methods.empty()) throw InvalidArgumentError("sweep config lists no 'methods'");
  for (const auto& [setting, where] : keys_to_check) {
    if (config.cognitive()) {
      if (!is_cognitive_setting(setting)) {
        throw InvalidArgumentError(fmt::format(
            "unknown setting '{}' in {} for a cognitive sweep (scenario kind cognitive); "
            "settings: {}",
            setting, where, cognitive_setting_names()));
      }
    } else if (!config.rl()) {
      check_setting_key(setting, where);
    } else if (!is_rl_setting(setting)) {
      throw InvalidArgumentError(
          fmt::format("unknown setting '{}' in {} for an RL sweep (scenario kind rl); settings: {}",
                      setting, where, rl_setting_names()));
    }
  }
  return config;
}

SweepConfig SweepConfig::from_yaml_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw InvalidArgumentError(fmt::format("cannot read sweep config '{}'", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  try {
    return from_yaml(text.str());
  } catch (const InvalidArgumentError& e) {
    throw InvalidArgumentError(fmt::format("{}: {}", path.string(), e.what()));
  }
}

std::vector<RunSpec> SweepConfig::expand() const {
  check_path_name("'name'", name);
  std::uint64_t total = util::saturating_mul(methods.size(), seeds.size());
  for (const auto& [key, values] : grid) total = util::saturating_mul(total, values.size());
  if (total > kMaxRuns) {
    throw InvalidArgumentError(fmt::format(
        "the sweep expands to {} runs (methods x grid points x seeds); at most {} are allowed",
        total == util::kSaturated ? "more than 2^64" : std::to_string(total), kMaxRuns));
  }
  std::vector<json> points = {json::object()};
  for (const auto& [key, values] : grid) {
    std::vector<json> next;
    for (const auto& point : points) {
      for (const auto& value : values) {
        json p = point;
        p[key] = value;
        next.push_back(p);
      }
    }
    points = std::move(next);
  }
  std::vector<RunSpec> runs;
  std::set<std::string> ids;
  for (const auto& [method, method_settings] : methods) {
    for (const auto& point : points) {
      json settings = defaults;
      settings.update(method_settings);
      settings.update(point);
      if (cognitive()) settings = with_cognitive_harness_defaults(settings);
      // A control reads the mean gain of another method's run: fixed_gain_from or
      // matched_lr_from (supervised runs only; RL runs have neither setting).
      std::string depends_on;
      if (scenario.is_null()) {
        const std::string fixed_from = get_string(settings, "fixed_gain_from");
        const std::string lr_from = get_string(settings, "matched_lr_from");
        if (!fixed_from.empty() && !lr_from.empty()) {
          throw InvalidArgumentError(fmt::format(
              "method '{}': fixed_gain_from and matched_lr_from exclude each other", method));
        }
        depends_on = fixed_from.empty() ? lr_from : fixed_from;
        const char* via = fixed_from.empty() ? "matched_lr_from" : "fixed_gain_from";
        if (!depends_on.empty()) {
          bool found = false;
          for (const auto& [other, other_settings] : methods) {
            if (other != depends_on) continue;
            found = true;
            json dependency = defaults;
            dependency.update(other_settings);
            dependency.update(point);
            if (!get_string(dependency, "fixed_gain_from").empty() ||
                !get_string(dependency, "matched_lr_from").empty()) {
              throw InvalidArgumentError(
                  fmt::format("method '{}': {} '{}' names a method that is a control itself "
                              "(fixed_gain_from or matched_lr_from)",
                              method, via, depends_on));
            }
          }
          if (!found) {
            throw InvalidArgumentError(
                fmt::format("method '{}': {} names '{}', which is not a method of this sweep",
                            method, via, depends_on));
          }
          if (get_bool(settings, "ngm") || get_number(settings, "fixed_gain") != 0.0) {
            throw InvalidArgumentError(
                fmt::format("method '{}': {} excludes ngm: true and fixed_gain", method, via));
          }
          if (!std::isfinite(get_number(settings, "matched_lr_power"))) {
            throw InvalidArgumentError(
                fmt::format("method '{}': matched_lr_power must be finite", method));
          }
        }
      }
      for (const auto seed : seeds) {
        RunSpec spec;
        spec.method = method;
        spec.seed = seed;
        spec.grid = point;
        spec.settings = settings;
        spec.depends_on = depends_on;
        spec.scenario = scenario;
        std::string id = method;
        for (const auto& [key, value] : point.items()) id += "_" + key + "=" + value_label(value);
        spec.id = sanitize(id + "_seed=" + std::to_string(seed));
        // runs/<id>.json and its temporary name (".tmp.<pid>.<n>" more) must fit NAME_MAX.
        if (spec.id.size() > kMaxRunIdBytes) {
          throw InvalidArgumentError(fmt::format(
              "run id '{}' is {} bytes, longer than the {} its file name in runs/ may have; "
              "shorten the method name or the grid's values",
              spec.id, spec.id.size(), kMaxRunIdBytes));
        }
        if (!ids.insert(spec.id).second) {
          throw InvalidArgumentError(fmt::format("two runs map to the file name '{}'", spec.id));
        }
        // Fails now, not halfway through the sweep.
        if (rl()) {
          (void)rl_config(scenario, settings, seed);
        } else if (cognitive()) {
          (void)cognitive_config(scenario, settings, seed);
        } else {
          check_run_memory(spec.id, supervised_config(settings, seed),
                           schedule_from_settings(settings));
        }
        (void)schedule_from_settings(settings);
        runs.push_back(std::move(spec));
      }
    }
  }
  return runs;
}

SupervisedConfig supervised_config(const json& settings, std::uint64_t seed) {
  if (!settings.is_object()) throw InvalidArgumentError("run settings must be a mapping");
  for (const auto& [key, v] : settings.items()) check_setting_key(key, "run settings");
  SupervisedConfig c;
  try {
    c.stream.kind = data::stream_kind_from_name(get_string(settings, "stream"));
    c.stream.scenario = envs::scenario_from_name(get_string(settings, "scenario"));
    c.stream.normalization = data::normalization_from_name(get_string(settings, "normalization"));
  } catch (const envs::Error& e) {
    throw InvalidArgumentError(e.what());
  }
  c.stream.joint = get_bool(settings, "joint");
  c.stream.seed = seed;
  c.stream.num_tasks = get_int(settings, "num_tasks", 0, kMaxTasks);
  c.stream.classes_per_task = get_int(settings, "classes_per_task", 0, kMaxCount);
  c.stream.angles = get_list<double>(settings, "angles");
  c.stream.train_per_task = get_int(settings, "train_per_task", 0, kMaxCount);
  c.stream.eval_per_task = get_int(settings, "eval_per_task", 0, kMaxCount);
  const std::string data_dir = get_string(settings, "data_dir");
  if (!data_dir.empty()) c.stream.data_dir = data_dir;
  c.network = network_kind_from_name(get_string(settings, "network"));
  c.hidden = get_list<std::size_t>(settings, "hidden");
  c.separate = get_bool(settings, "separate");
  try {
    const std::string device = get_string(settings, "device");
    if (device != "cpu" && device != "cuda") {
      throw InvalidArgumentError(
          fmt::format("setting 'device' is '{}'; allowed: cpu, cuda", device));
    }
    c.device = nm::backend_from_string(device);
    const std::string precision = get_string(settings, "precision");
    try {
      c.precision = nm::matmul_precision_from_string(precision);
    } catch (const nm::Error& e) {
      throw InvalidArgumentError(fmt::format("setting 'precision': {}", e.what()));
    }
    // Checked here so that a sweep fails before its first run, not halfway.
    const bool on_cuda = c.device == nm::Backend::kCuda;
    if ((c.precision == nm::MatmulPrecision::kTf32 && !on_cuda) ||
        (c.precision == nm::MatmulPrecision::kBfloat16 && on_cuda)) {
      throw InvalidArgumentError(fmt::format(
          "setting 'precision' is '{}' with device '{}': tf32 needs device cuda, bfloat16 device "
          "cpu",
          precision, device));
    }
    if (c.precision == nm::MatmulPrecision::kBfloat16 && !nm::cpu_supports_bf16_products()) {
      throw InvalidArgumentError(
          fmt::format("setting 'precision' is 'bfloat16', but {}; use float32",
                      nm::bf16_products_unavailable_reason()));
    }
  } catch (const nm::Error& e) {
    throw InvalidArgumentError(e.what());
  }
  c.batch_size = get_int(settings, "batch_size", 1, kMaxBatch);
  c.seed = seed;
  try {
    c.optimizer.kind = nm::optimizer_kind_from_string(get_string(settings, "optimizer"));
  } catch (const nm::Error& e) {
    throw InvalidArgumentError(e.what());
  }
  c.optimizer.learning_rate = get_float(settings, "lr");
  c.optimizer.momentum = get_float(settings, "momentum");
  c.optimizer.beta1 = get_float(settings, "beta1");
  c.optimizer.beta2 = get_float(settings, "beta2");
  c.optimizer.weight_decay = get_float(settings, "weight_decay");
  c.ngm = get_bool(settings, "ngm");
  c.ngm_config.eta = get_float(settings, "ngm_eta");
  c.ngm_config.gamma = get_float(settings, "ngm_gamma");
  c.ngm_config.g0 = get_float(settings, "ngm_g0");
  c.ngm_config.record_trace = false;
  const std::string placement = get_string(settings, "ngm_placement");
  if (placement == "every-layer") {
    c.ngm_config.target.placement = nm::GainPlacement::kEveryLayer;
  } else if (placement == "output-only") {
    c.ngm_config.target.placement = nm::GainPlacement::kOutputOnly;
  } else if (placement == "selected") {
    c.ngm_config.target.placement = nm::GainPlacement::kSelectedLayers;
    c.ngm_config.target.layers = get_list<std::size_t>(settings, "ngm_layers");
  } else {
    throw InvalidArgumentError(fmt::format(
        "setting 'ngm_placement' is '{}'; allowed: every-layer, output-only, selected", placement));
  }
  const std::string unit = get_string(settings, "ngm_entropy");
  if (unit != "nats" && unit != "bits") {
    throw InvalidArgumentError(
        fmt::format("setting 'ngm_entropy' is '{}'; allowed: nats, bits", unit));
  }
  c.ngm_config.entropy_unit = unit == "bits" ? nm::EntropyUnit::kBits : nm::EntropyUnit::kNats;
  const double fixed_gain = get_float(settings, "fixed_gain");
  if (fixed_gain < 0.0) {
    throw InvalidArgumentError(fmt::format("setting 'fixed_gain' {} must be >= 0", fixed_gain));
  }
  if (fixed_gain > 0.0) c.fixed_gain = static_cast<float>(fixed_gain);
  try {
    c.validate();
  } catch (const nm::Error& e) {
    throw InvalidArgumentError(e.what());
  }
  return c;
}

Schedule schedule_from_settings(const json& settings) {
  Schedule s;
  s.iterations_per_task = get_int(settings, "iterations_per_task", 1, kMaxIterations);
  s.eval_every = get_int(settings, "eval_every", 1, kMaxIterations);
  s.validate();
  if (get_number(settings, "gap_epsilon") < 0.0) {
    throw InvalidArgumentError("gap_epsilon must be >= 0");
  }
  (void)get_int(settings, "gap_window", 1, kMaxCount);
  return s;
}

std::uint64_t supervised_memory_estimate(const SupervisedConfig& config, const Schedule& schedule) {
  using util::saturating_add, util::saturating_mul;
  const std::uint64_t inputs = config.stream.data_dir.empty() ? kFashionMnistPixels : 1;
  const std::uint64_t tasks = std::max<std::int64_t>(1, config.stream.num_tasks);
  std::uint64_t bytes = 0;
  if (config.network != NetworkKind::kModulated) {  // the modulated preset ignores `hidden`
    nm::NetworkSpec spec;
    spec.input_dim = inputs;
    for (const std::size_t width : config.hidden) {
      nm::LayerSpec layer;
      layer.units = width;
      layer.trainable_weights = config.network == NetworkKind::kMlp;
      spec.layers.push_back(layer);
    }
    nm::HeadSpec head;
    head.units = kFashionMnistClasses;
    head.weights = nm::ReadoutWeights::kTrainableShared;
    spec.heads.push_back(head);
    bytes = saturating_add(spec.weight_bytes(),
                           spec.activation_bytes(static_cast<std::uint64_t>(config.batch_size)));
  }
  // The continual record: every task's accuracy at every evaluation, plus R and b.
  const std::uint64_t evals = saturating_mul(
      tasks, static_cast<std::uint64_t>(schedule.iterations_per_task / schedule.eval_every + 2));
  bytes = saturating_add(bytes, saturating_mul(evals, tasks + 4, sizeof(double)));
  return saturating_add(bytes, saturating_mul(tasks, tasks, sizeof(double)));
}

void check_run_memory(const std::string& id, const SupervisedConfig& config,
                      const Schedule& schedule) {
  util::require_memory<InvalidArgumentError>(
      supervised_memory_estimate(config, schedule), fmt::format("run '{}'", id),
      "lower hidden, batch_size, num_tasks or iterations_per_task / eval_every");
}

json execute_run(const RunSpec& spec, std::optional<double> source_mean_gain) {
  ContinualRecord record;
  std::optional<float> fixed_gain;
  std::optional<double> matched_lr;
  if (!spec.scenario.is_null()) {
    if (!spec.depends_on.empty()) {
      throw InvalidArgumentError(fmt::format("{} run '{}' cannot depend on another run",
                                             spec.scenario["kind"].dump(), spec.id));
    }
    if (spec.scenario["kind"] == "cognitive") {
      CognitiveLearner learner(cognitive_config(spec.scenario, spec.settings, spec.seed));
      record = run_continual(learner, schedule_from_settings(spec.settings));
    } else {
      RlLearner learner(rl_config(spec.scenario, spec.settings, spec.seed));
      record = run_continual(learner, schedule_from_settings(spec.settings));
    }
  } else {
    SupervisedConfig config = supervised_config(spec.settings, spec.seed);
    if (!spec.depends_on.empty()) {
      if (!source_mean_gain || !std::isfinite(*source_mean_gain) || *source_mean_gain <= 0.0) {
        throw InvalidArgumentError(
            fmt::format("run '{}' depends on method '{}' but got no positive mean gain from it",
                        spec.id, spec.depends_on));
      }
      if (!get_string(spec.settings, "fixed_gain_from").empty()) {
        fixed_gain = static_cast<float>(*source_mean_gain);
        config.fixed_gain = *fixed_gain;
      } else {
        matched_lr = static_cast<double>(config.optimizer.learning_rate) *
                     std::pow(*source_mean_gain, get_number(spec.settings, "matched_lr_power"));
        config.optimizer.learning_rate = static_cast<float>(*matched_lr);
      }
    }
    SupervisedLearner learner(config);
    record = run_continual(learner, schedule_from_settings(spec.settings));
  }
  const RunMetrics metrics =
      compute_metrics(record, get_number(spec.settings, "gap_epsilon"),
                      static_cast<std::size_t>(get_int(spec.settings, "gap_window", 1, kMaxCount)));
  json out = {{"id", spec.id},
              {"method", spec.method},
              {"seed", spec.seed},
              {"grid", spec.grid},
              {"settings", spec.settings},
              {"metrics", metrics_json(metrics)},
              {"record", record_json(record)}};
  if (!spec.scenario.is_null()) out["scenario"] = spec.scenario;
  if (source_mean_gain) out["source_mean_gain"] = *source_mean_gain;
  if (fixed_gain) out["resolved_fixed_gain"] = *fixed_gain;
  if (matched_lr) out["resolved_lr"] = *matched_lr;
  return out;
}

void write_file_atomically(const fs::path& path, const std::string& text) {
  util::write_file_atomically<SweepStateError>(path, text);
}

SweepOutcome run_sweep(const SweepConfig& config, const SweepOptions& options) {
  if (options.jobs < 1 || options.jobs > kMaxJobs) {
    throw InvalidArgumentError(fmt::format("--jobs {} must be in [1, {}]", options.jobs, kMaxJobs));
  }
  if (options.out_dir.empty()) throw InvalidArgumentError("the sweep needs an output directory");
  const std::vector<RunSpec> runs = config.expand();
  fs::create_directories(options.out_dir / "runs");
  // Temporary files of runs that were in flight when an earlier sweep was killed.
  for (const auto& entry : fs::directory_iterator(options.out_dir / "runs")) {
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) {
      fs::remove(entry.path());
    }
  }
  const fs::path sweep_file = options.out_dir / "sweep.json";
  if (fs::exists(sweep_file)) {
    std::ifstream in(sweep_file);
    const json previous = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!previous.is_object() || previous.value("name", std::string()) != config.name) {
      throw SweepStateError(fmt::format(
          "{} belongs to sweep '{}', not '{}'; use another --out directory or remove it",
          options.out_dir.string(),
          previous.is_object() ? previous.value("name", std::string("?")) : std::string("?"),
          config.name));
    }
  }
  json sweep = {{"name", config.name},
                {"seeds", config.seeds},
                {"methods", json::array()},
                {"grid", json::object()},
                {"runs", json::array()}};
  if (!config.scenario.is_null()) sweep["scenario"] = config.scenario;
  for (const auto& [name, settings] : config.methods) sweep["methods"].push_back(name);
  for (const auto& [key, values] : config.grid) sweep["grid"][key] = values;
  for (const auto& run : runs) sweep["runs"].push_back(run.id);
  write_file_atomically(sweep_file, sweep.dump(2) + "\n");

  std::vector<char> finished(runs.size(), 0);
  SweepOutcome outcome;
  outcome.total = runs.size();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    finished[i] = read_finished_run(options.out_dir, runs[i]).is_null() ? 0 : 1;
    outcome.skipped += finished[i];
  }

  // Keep the data sets loaded for the whole sweep (the process-wide cache holds them only while
  // someone does), so that each run does not read them again.
  std::vector<std::shared_ptr<const data::ImageDataset>> keep_alive;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (finished[i] || !config.scenario.is_null()) continue;
    const auto dir = supervised_config(runs[i].settings, runs[i].seed).stream.data_dir;
    keep_alive.push_back(data::load_image_dataset_shared(dir, data::Split::kTrain));
    keep_alive.push_back(data::load_image_dataset_shared(dir, data::Split::kTest));
    break;
  }

  Progress progress(outcome.total, outcome.skipped, options.jobs, options.progress,
                    options.progress_stream);
  std::mutex finish_mutex;
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::atomic<std::size_t> executed{0};
  tbb::task_arena arena(options.jobs);

  // Dependencies first: runs without fixed_gain_from, then the controls that read their gain.
  for (const bool second_phase : {false, true}) {
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (!finished[i] && runs[i].depends_on.empty() != second_phase) todo.push_back(i);
    }
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      while (!failed) {
        const std::size_t n = next++;
        if (n >= todo.size()) return;
        const RunSpec& spec = runs[todo[n]];
        progress.started();
        const auto start = std::chrono::steady_clock::now();
        try {
          std::optional<double> gain;
          if (!spec.depends_on.empty()) {
            const RunSpec* source = nullptr;
            for (const auto& other : runs) {
              if (other.method == spec.depends_on && other.seed == spec.seed &&
                  other.grid == spec.grid) {
                source = &other;
              }
            }
            const json source_run = read_finished_run(options.out_dir, *source);
            const double mean_gain = number_or_nan(source_run["metrics"]["mean_gain"]);
            if (!std::isfinite(mean_gain) || mean_gain <= 0.0) {
              throw InvalidArgumentError(fmt::format(
                  "run '{}' takes its gain from '{}', which has no gain (is ngm on there?)",
                  spec.id, source->id));
            }
            gain = mean_gain;
          }
          // One thread per run: the workers are the parallelism, and a run's result does not
          // depend on the thread count anyway.
          json result;
          tbb::task_arena single(1);
          single.execute([&] { result = execute_run(spec, gain); });
          write_file_atomically(run_path(options.out_dir, spec), result.dump() + "\n");
          ++executed;
          std::lock_guard lock(finish_mutex);
          if (options.on_run_finished) options.on_run_finished(spec);
        } catch (...) {
          std::lock_guard lock(finish_mutex);
          if (!error) error = std::current_exception();
          failed = true;
        }
        progress.finished(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
    };
    arena.execute([&] {
      tbb::task_group group;
      for (int w = 0; w < options.jobs; ++w) group.run(worker);
      group.wait();
    });
    if (failed) break;
  }
  progress.stop();
  if (error) std::rethrow_exception(error);
  outcome.executed = executed;
  outcome.table = write_summary(config, options.out_dir);
  return outcome;
}

std::string write_summary(const SweepConfig& config, const fs::path& out_dir) {
  const std::vector<RunSpec> runs = config.expand();
  std::string jsonl;
  // Groups in first-seen order: method, then grid point.
  std::vector<std::pair<std::string, std::string>> group_order;
  std::map<std::pair<std::string, std::string>, std::vector<json>> groups;
  for (const auto& spec : runs) {
    const json run = read_finished_run(out_dir, spec);
    if (run.is_null()) {
      throw SweepStateError(fmt::format("run '{}' has not finished ({} is missing)", spec.id,
                                        run_path(out_dir, spec).string()));
    }
    jsonl += run.dump() + "\n";
    const auto key = std::make_pair(spec.method, grid_label(spec.grid));
    if (!groups.contains(key)) group_order.push_back(key);
    groups[key].push_back(run["metrics"]);
  }
  write_file_atomically(out_dir / "results.jsonl", jsonl);

  std::string csv = "method,grid,runs";
  for (const auto& column : summary_columns()) {
    csv += fmt::format(",{0}_mean,{0}_sd", column.metric);
  }
  csv += "\n";
  std::vector<std::vector<std::string>> table = {{"method", "runs"}};
  for (const auto* metric : table_metrics()) {
    for (const auto& column : summary_columns()) {
      if (std::string(column.metric) == metric) table[0].push_back(column.title);
    }
  }
  for (const auto& key : group_order) {
    const auto& members = groups[key];
    csv += fmt::format("{},{},{}", key.first, key.second, members.size());
    std::map<std::string, MeanSd> stats;
    for (const auto& column : summary_columns()) {
      std::vector<double> values;
      for (const auto& metrics : members) values.push_back(number_or_nan(metrics[column.metric]));
      const MeanSd s = mean_sd(values);
      stats[column.metric] = s;
      auto cell = [](double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : ""; };
      csv += fmt::format(",{},{}", cell(s.mean), cell(s.sd));
    }
    csv += "\n";
    std::vector<std::string> row = {
        key.second.empty() ? key.first : key.first + " (" + key.second + ")",
        std::to_string(members.size())};
    for (const auto* metric : table_metrics()) {
      const std::string name = metric;
      row.push_back(format_mean_sd(stats[name], name == "steps_per_second" ? 0 : 3));
    }
    table.push_back(row);
  }
  write_file_atomically(out_dir / "summary.csv", csv);

  // A Markdown table (readable in a terminal, pastes into RESULTS.md).
  std::vector<std::size_t> widths(table[0].size(), 0);
  auto display_width = [](const std::string& s) {
    std::size_t n = 0;
    for (const unsigned char c : s) n += (c & 0xC0) != 0x80;  // UTF-8 code points (the ±)
    return n;
  };
  for (const auto& row : table) {
    for (std::size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], display_width(row[c]));
  }
  std::string out;
  for (std::size_t r = 0; r < table.size(); ++r) {
    out += "|";
    for (std::size_t c = 0; c < table[r].size(); ++c) {
      out += " " + table[r][c] + std::string(widths[c] - display_width(table[r][c]), ' ') + " |";
    }
    out += "\n";
    if (r == 0) {
      out += "|";
      for (std::size_t c = 0; c < widths.size(); ++c) out += std::string(widths[c] + 2, '-') + "|";
      out += "\n";
    }
  }
  return out;
}

}  // namespace locus::bench
