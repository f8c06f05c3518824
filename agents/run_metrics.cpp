#include "agents/run_metrics.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "agents/errors.hpp"
#include "agents/run_tensorboard.hpp"
#include "util/atomic_file.hpp"
#include "util/tensorboard_events.hpp"

namespace locus::agents {
namespace fs = std::filesystem;

namespace {

constexpr const char* kMetricsHeader =
    "update,steps,time_s,loss,policy_loss,value_loss,entropy,approx_kl,clip_fraction,"
    "gradient_norm,episodes,episode_return,return_100,success_100,trials,trials_correct,"
    "mean_delta,mean_abs_delta,gain,change,context,contexts,eval_return,eval_success";
constexpr const char* kDopamineHeader =
    "update,step,env,step_in_trial,ground_truth,action,reward,value,next_value,delta,terminated,"
    "truncated,trial_ended";
constexpr const char* kGainHeader = "update,observation,input,z,gain,change,context";

std::string number(double x) {
  return std::isfinite(x) ? fmt::format("{:.9g}", x) : std::string();
}

// The lines of a file that end with a newline; a last line without one was cut by a kill.
std::vector<std::string> complete_lines(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::string> lines;
  std::size_t begin = 0;
  for (std::size_t end = text.find('\n'); end != std::string::npos;
       begin = end + 1, end = text.find('\n', begin)) {
    lines.push_back(text.substr(begin, end - begin));
  }
  return lines;
}

std::optional<std::size_t> csv_update(const std::string& line) {
  std::size_t update = 0;
  const char* end = line.data() + line.size();
  const auto [at, error] = std::from_chars(line.data(), end, update);
  if (error != std::errc() || at == line.data() || at == end || *at != ',') return std::nullopt;
  return update;
}

std::optional<std::size_t> jsonl_update(const std::string& line) {
  const auto row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!row.is_object() || !row.contains("update") || !row["update"].is_number_unsigned()) {
    return std::nullopt;
  }
  return row["update"].get<std::size_t>();
}

// A file's text rewound to the rows of updates up to `last`: nullopt if `every_update` (one row
// per update) and the rows are not exactly updates 1..last, or a row cannot be read.
template <class UpdateOf>
std::optional<std::string> rewound(const fs::path& path, const char* header, std::size_t last,
                                   bool every_update, const UpdateOf& update_of) {
  const std::vector<std::string> lines = complete_lines(path);
  std::string out = header == nullptr ? std::string() : std::string(header) + "\n";
  std::size_t expected = 1;
  for (std::size_t i = header == nullptr ? 0 : 1; i < lines.size(); ++i) {
    const std::optional<std::size_t> update = update_of(lines[i]);
    if (!update) return std::nullopt;
    if (*update > last) break;
    if (every_update && *update != expected) return std::nullopt;
    ++expected;
    out += lines[i] + "\n";
  }
  if (every_update && expected != last + 1) return std::nullopt;
  return out;
}

void write_file(const fs::path& path, const std::string& text) {
  util::write_file_atomically<RunDirectoryError>(path, text);
}

void open_append(std::ofstream& stream, const fs::path& path) {
  stream.open(path, std::ios::app | std::ios::binary);
  if (!stream) {
    throw RunDirectoryError(fmt::format("cannot open {} to append to it", path.string()));
  }
}

}  // namespace

nlohmann::json json_number(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

double mean_recent_return(const Agent& agent) {
  const auto& xs = agent.recent_returns();
  if (xs.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0.0;
  for (double x : xs) sum += x;
  return sum / double(xs.size());
}

double recent_success_rate(const Agent& agent) {
  const auto& xs = agent.recent_trials();
  if (xs.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0.0;
  for (int x : xs) sum += x;
  return sum / double(xs.size());
}

nlohmann::json eval_to_json(const EvalResult& e) {
  return {{"episodes", e.episodes},
          {"return_mean", json_number(e.mean_return)},
          {"return_std", json_number(e.std_return)},
          {"length_mean", json_number(e.mean_length)},
          {"trials", e.trials},
          {"trials_correct", e.trials_correct},
          {"success_rate", json_number(e.success_rate)}};
}

RunMetrics::RunMetrics(fs::path dir, bool gain_trace)
    : dir_(std::move(dir)),
      tensorboard_path_(dir_ / kTensorBoardFolder / util::tensorboard::kEventFileName),
      gain_trace_(gain_trace) {}

void RunMetrics::start() {
  fs::create_directories(tensorboard_path_.parent_path());
  write_file(tensorboard_path_, tensorboard_file({}, util::tensorboard::wall_clock_seconds()));
  write_file(dir_ / "metrics.csv", std::string(kMetricsHeader) + "\n");
  write_file(dir_ / "metrics.jsonl", "");
  write_file(dir_ / "dopamine_trace.csv", std::string(kDopamineHeader) + "\n");
  if (gain_trace_) write_file(dir_ / "gain_trace.csv", std::string(kGainHeader) + "\n");
}

bool RunMetrics::rewind(std::size_t update) {
  const auto csv = rewound(dir_ / "metrics.csv", kMetricsHeader, update, true, csv_update);
  const auto jsonl = rewound(dir_ / "metrics.jsonl", nullptr, update, true, jsonl_update);
  const auto dopamine =
      rewound(dir_ / "dopamine_trace.csv", kDopamineHeader, update, false, csv_update);
  const auto gain = gain_trace_
                        ? rewound(dir_ / "gain_trace.csv", kGainHeader, update, false, csv_update)
                        : std::optional<std::string>(std::string());
  if (!csv || !jsonl || !dopamine || !gain) return false;
  write_file(dir_ / "metrics.csv", *csv);
  write_file(dir_ / "metrics.jsonl", *jsonl);
  write_file(dir_ / "dopamine_trace.csv", *dopamine);
  if (gain_trace_) write_file(dir_ / "gain_trace.csv", *gain);
  // The event file follows metrics.jsonl's rows (a run from before TensorBoard output gains one).
  std::vector<nlohmann::json> rows;
  std::istringstream lines(*jsonl);
  for (std::string line; std::getline(lines, line);) rows.push_back(nlohmann::json::parse(line));
  fs::create_directories(tensorboard_path_.parent_path());
  write_file(tensorboard_path_, tensorboard_file(rows, util::tensorboard::wall_clock_seconds()));
  return true;
}

double RunMetrics::best_eval_return() const {
  double best = -std::numeric_limits<double>::infinity();
  for (const std::string& line : complete_lines(dir_ / "metrics.jsonl")) {
    const auto row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const nlohmann::json::json_pointer at("/eval/return_mean");
    if (row.is_object() && row.contains(at) && row[at].is_number()) {
      best = std::max(best, row[at].get<double>());
    }
  }
  return best;
}

void RunMetrics::open() {
  open_append(metrics_csv_, dir_ / "metrics.csv");
  open_append(metrics_jsonl_, dir_ / "metrics.jsonl");
  open_append(dopamine_csv_, dir_ / "dopamine_trace.csv");
  if (gain_trace_) open_append(gain_csv_, dir_ / "gain_trace.csv");
  open_append(tensorboard_, tensorboard_path_);
}

void RunMetrics::write(const UpdateStats& stats, double time_s,
                       const std::optional<EvalResult>& eval, const Agent& agent) {
  double episode_return = std::numeric_limits<double>::quiet_NaN();
  if (!stats.episode_returns.empty()) {
    episode_return = 0.0;
    for (double r : stats.episode_returns) episode_return += r;
    episode_return /= double(stats.episode_returns.size());
  }
  const double return_100 = mean_recent_return(agent);
  const double success_100 = recent_success_rate(agent);
  metrics_csv_ << fmt::format(
      "{},{},{:.3f},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", stats.update,
      stats.steps, time_s, number(stats.loss), number(stats.policy_loss), number(stats.value_loss),
      number(stats.entropy), number(stats.approx_kl), number(stats.clip_fraction),
      number(stats.gradient_norm), stats.episode_returns.size(), number(episode_return),
      number(return_100), number(success_100), stats.trials_ended, stats.trials_correct,
      number(stats.mean_delta), number(stats.mean_abs_delta), number(stats.gain), int(stats.change),
      stats.context, stats.contexts, eval ? number(eval->mean_return) : "",
      eval ? number(eval->success_rate) : "");
  nlohmann::json row = {{"update", stats.update},
                        {"steps", stats.steps},
                        {"time_s", time_s},
                        {"loss", json_number(stats.loss)},
                        {"policy_loss", json_number(stats.policy_loss)},
                        {"value_loss", json_number(stats.value_loss)},
                        {"entropy", json_number(stats.entropy)},
                        {"approx_kl", json_number(stats.approx_kl)},
                        {"clip_fraction", json_number(stats.clip_fraction)},
                        {"gradient_norm", json_number(stats.gradient_norm)},
                        {"episode_returns", stats.episode_returns},
                        {"return_100", json_number(return_100)},
                        {"success_100", json_number(success_100)},
                        {"trials", stats.trials_ended},
                        {"trials_correct", stats.trials_correct},
                        {"mean_delta", stats.mean_delta},
                        {"mean_abs_delta", stats.mean_abs_delta},
                        {"gain", stats.gain},
                        {"change", stats.change},
                        {"context", stats.context},
                        {"contexts", stats.contexts}};
  if (eval) row["eval"] = eval_to_json(*eval);
  metrics_jsonl_ << row.dump() << "\n";
  tensorboard_ << tensorboard_record(row, util::tensorboard::wall_clock_seconds());
}

void RunMetrics::write_traces(Agent& agent) {
  for (const auto& s : agent.take_dopamine_trace()) {
    dopamine_csv_ << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", s.update, s.step,
                                 s.env, s.step_in_trial, s.ground_truth, s.action, number(s.reward),
                                 number(s.value), number(s.next_value), number(s.delta),
                                 int(s.terminated), int(s.truncated), int(s.trial_ended));
  }
  for (const auto& g : agent.take_gain_trace()) {
    if (gain_trace_) {
      gain_csv_ << fmt::format("{},{},{},{},{},{},{}\n", g.update, g.observation, number(g.input),
                               number(g.z), number(g.gain), int(g.change), g.context);
    }
  }
}

void RunMetrics::flush() {
  for (std::ofstream* stream :
       {&metrics_csv_, &metrics_jsonl_, &dopamine_csv_, &gain_csv_, &tensorboard_}) {
    if (!stream->is_open()) continue;
    stream->flush();
    if (!*stream) {
      throw RunDirectoryError(fmt::format(
          "cannot write the metrics of {} (disk full?); the run stops at its last checkpoint "
          "and can be resumed with --resume once there is room",
          dir_.string()));
    }
  }
}

void RunMetrics::close() {
  flush();
  metrics_csv_.close();
  metrics_jsonl_.close();
  dopamine_csv_.close();
  gain_csv_.close();
  tensorboard_.close();
}

}  // namespace locus::agents
