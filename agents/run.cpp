#include "agents/run.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <tbb/task_arena.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "agents/errors.hpp"
#include "agents/runner.hpp"
#include "util/atomic_file.hpp"

namespace locus::agents {
namespace fs = std::filesystem;

namespace {

constexpr const char* kRunKeys[] = {"steps", "eval_every", "eval_episodes", "checkpoint_every",
                                    "seeds", "threads"};

void write_atomic(const fs::path& path, const std::string& text) {
  util::write_file_atomically<RunDirectoryError>(path, text);
}

std::size_t get_size(const nlohmann::json& value, std::string_view key) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
    throw ConfigError(
        fmt::format("config key '{}' must be a non-negative integer, got {}", key, value.dump()));
  }
  return value.get<std::size_t>();
}

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = yaml_to_json(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string text = node.Scalar();
      if (node.Tag() == "!") return text;  // quoted: a string
      if (text == "true" || text == "True") return true;
      if (text == "false" || text == "False") return false;
      // Numbers as JSON reads them (integers stay integers); anything else is a string.
      try {
        std::size_t used = 0;
        const long long integer = std::stoll(text, &used);
        if (used == text.size()) return integer;
      } catch (const std::exception&) {
      }
      try {
        std::size_t used = 0;
        const double number = std::stod(text, &used);
        if (used == text.size()) return number;
      } catch (const std::exception&) {
      }
      return text;
    }
    default:
      return nullptr;
  }
}

// Keeps the header and the rows whose first field (the update) is at most `update`.
void truncate_csv(const fs::path& path, std::size_t update) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, out;
  bool header = true;
  while (std::getline(in, line)) {
    if (header || (!line.empty() && std::stoull(line.substr(0, line.find(','))) <= update)) {
      out += line + "\n";
    }
    header = false;
  }
  in.close();
  write_atomic(path, out);
}

void truncate_jsonl(const fs::path& path, std::size_t update) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, out;
  while (std::getline(in, line)) {
    if (!line.empty() && nlohmann::json::parse(line).at("update").get<std::size_t>() <= update) {
      out += line + "\n";
    }
  }
  in.close();
  write_atomic(path, out);
}

const char* kMetricsHeader =
    "update,steps,time_s,loss,policy_loss,value_loss,entropy,approx_kl,clip_fraction,"
    "gradient_norm,episodes,episode_return,return_100,success_100,trials,trials_correct,"
    "mean_delta,mean_abs_delta,gain,change,context,contexts,eval_return,eval_success";
const char* kDopamineHeader =
    "update,step,env,step_in_trial,ground_truth,action,reward,value,next_value,delta,terminated,"
    "truncated,trial_ended";
const char* kGainHeader = "update,observation,input,z,gain,change,context";

std::string number(double x) {
  return std::isfinite(x) ? fmt::format("{:.9g}", x) : std::string();
}

double mean_of(const std::deque<double>& xs) {
  if (xs.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0.0;
  for (double x : xs) sum += x;
  return sum / double(xs.size());
}

double success_of(const std::deque<int>& xs) {
  if (xs.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0.0;
  for (int x : xs) sum += x;
  return sum / double(xs.size());
}

nlohmann::json json_number(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

nlohmann::json eval_json(const EvalResult& e) {
  return {{"episodes", e.episodes},
          {"return_mean", json_number(e.mean_return)},
          {"return_std", json_number(e.std_return)},
          {"length_mean", json_number(e.mean_length)},
          {"trials", e.trials},
          {"trials_correct", e.trials_correct},
          {"success_rate", json_number(e.success_rate)}};
}

// Trains one agent in `dir`; returns its summary.
nlohmann::json train_one(const RunConfig& config, const fs::path& dir, bool resuming,
                         std::size_t index, const ProgressFn& progress) {
  const fs::path checkpoint = dir / "checkpoint.bin";
  std::optional<Agent> agent;
  if (resuming) {
    agent.emplace(Agent::load(checkpoint, config.agent.precision));
    if (agent->config().to_json() != config.agent.to_json()) {
      throw CheckpointError(
          fmt::format("checkpoint {} was written by another configuration than "
                      "{}",
                      checkpoint.string(), (dir / "config.json").string()));
    }
    for (const char* name : {"metrics.csv", "dopamine_trace.csv", "gain_trace.csv"}) {
      truncate_csv(dir / name, agent->updates());
    }
    truncate_jsonl(dir / "metrics.jsonl", agent->updates());
  } else {
    agent.emplace(config.agent);
    write_atomic(dir / "metrics.csv", std::string(kMetricsHeader) + "\n");
    write_atomic(dir / "metrics.jsonl", "");
    write_atomic(dir / "dopamine_trace.csv", std::string(kDopamineHeader) + "\n");
    if (config.agent.modulation == Modulation::kDopamineNoradrenaline) {
      write_atomic(dir / "gain_trace.csv", std::string(kGainHeader) + "\n");
    }
  }
  std::ofstream metrics_csv(dir / "metrics.csv", std::ios::app);
  std::ofstream metrics_jsonl(dir / "metrics.jsonl", std::ios::app);
  std::ofstream dopamine_csv(dir / "dopamine_trace.csv", std::ios::app);
  std::ofstream gain_csv;
  if (config.agent.modulation == Modulation::kDopamineNoradrenaline) {
    gain_csv.open(dir / "gain_trace.csv", std::ios::app);
  }

  const auto start = std::chrono::steady_clock::now();
  const std::size_t start_steps = agent->steps();
  double best_eval = -std::numeric_limits<double>::infinity();
  bool saved_last = false;
  while (agent->steps() < config.steps) {
    const UpdateStats stats = agent->update();
    const double time_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::optional<EvalResult> eval;
    if (config.eval_every > 0 && stats.update % config.eval_every == 0) {
      eval = agent->evaluate(config.eval_episodes);
      best_eval = std::max(best_eval, eval->mean_return);
    }
    double episode_return = std::numeric_limits<double>::quiet_NaN();
    if (!stats.episode_returns.empty()) {
      episode_return = 0.0;
      for (double r : stats.episode_returns) episode_return += r;
      episode_return /= double(stats.episode_returns.size());
    }
    const double return_100 = mean_of(agent->recent_returns());
    const double success_100 = success_of(agent->recent_trials());
    metrics_csv << fmt::format(
        "{},{},{:.3f},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
        stats.update, stats.steps, time_s, number(stats.loss), number(stats.policy_loss),
        number(stats.value_loss), number(stats.entropy), number(stats.approx_kl),
        number(stats.clip_fraction), number(stats.gradient_norm), stats.episode_returns.size(),
        number(episode_return), number(return_100), number(success_100), stats.trials_ended,
        stats.trials_correct, number(stats.mean_delta), number(stats.mean_abs_delta),
        number(stats.gain), int(stats.change), stats.context, stats.contexts,
        eval ? number(eval->mean_return) : "", eval ? number(eval->success_rate) : "");
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
    if (eval) row["eval"] = eval_json(*eval);
    metrics_jsonl << row.dump() << "\n";
    for (const auto& s : agent->take_dopamine_trace()) {
      dopamine_csv << fmt::format(
          "{},{},{},{},{},{},{},{},{},{},{},{},{}\n", s.update, s.step, s.env, s.step_in_trial,
          s.ground_truth, s.action, number(s.reward), number(s.value), number(s.next_value),
          number(s.delta), int(s.terminated), int(s.truncated), int(s.trial_ended));
    }
    for (const auto& g : agent->take_gain_trace()) {
      if (gain_csv.is_open()) {
        gain_csv << fmt::format("{},{},{},{},{},{},{}\n", g.update, g.observation, number(g.input),
                                number(g.z), number(g.gain), int(g.change), g.context);
      }
    }
    saved_last = false;
    if (stats.update % config.checkpoint_every == 0) {
      metrics_csv.flush();
      metrics_jsonl.flush();
      dopamine_csv.flush();
      if (gain_csv.is_open()) gain_csv.flush();
      agent->save(checkpoint);
      agent->begin_segment();
      saved_last = true;
    }
    if (progress) progress(index, stats, *agent);
  }
  if (!saved_last) agent->save(checkpoint);
  metrics_csv.close();
  metrics_jsonl.close();
  dopamine_csv.close();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const EvalResult final_eval = agent->evaluate(config.eval_episodes);
  best_eval = std::max(best_eval, final_eval.mean_return);
  const auto& c = agent->config();
  nlohmann::json summary = {
      {"env", c.env},
      {"agent", std::string(to_string(c.agent))},
      {"modulation", std::string(to_string(c.modulation))},
      {"network", std::string(to_string(c.network))},
      {"seed", c.seed},
      {"steps", agent->steps()},
      {"updates", agent->updates()},
      {"episodes", agent->episodes()},
      {"wall_seconds", wall},
      {"steps_per_second", wall > 0 ? double(agent->steps() - start_steps) / wall : 0.0},
      {"train_return_100", json_number(mean_of(agent->recent_returns()))},
      {"train_success_100", json_number(success_of(agent->recent_trials()))},
      {"eval", eval_json(final_eval)},
      {"best_eval_return", json_number(best_eval)},
      {"contexts", agent->network().context_count()},
      {"na_changes", agent->na_changes()},
      {"final_gain", agent->noradrenaline() ? agent->noradrenaline()->gain() : 1.0f},
      {"checkpoint", checkpoint.string()},
      {"resumed", resuming},
  };
  write_atomic(dir / "summary.json", summary.dump(2) + "\n");
  return summary;
}

nlohmann::json spread(const std::vector<nlohmann::json>& runs,
                      const nlohmann::json::json_pointer& key) {
  std::vector<double> xs;
  for (const auto& run : runs) {
    if (run.contains(key) && run.at(key).is_number()) xs.push_back(run.at(key).get<double>());
  }
  if (xs.empty()) return nullptr;
  double mean = 0.0;
  for (double x : xs) mean += x;
  mean /= double(xs.size());
  double var = 0.0;
  for (double x : xs) var += (x - mean) * (x - mean);
  return {{"mean", mean},
          {"std", std::sqrt(var / double(xs.size()))},
          {"min", *std::min_element(xs.begin(), xs.end())},
          {"max", *std::max_element(xs.begin(), xs.end())},
          {"n", xs.size()}};
}

nlohmann::json run_all(const RunConfig& config, const fs::path& dir, bool resuming,
                       const ProgressFn& progress) {
  const auto seeds = config.run_seeds();
  if (seeds.size() == 1) {
    RunConfig single = config;
    single.agent.seed = seeds[0];
    // The thread limit holds for one seed too: the network's kernels run their TBB loops in the
    // calling arena, and without this one they would use every core (threads: 1 used ~1.9 cores).
    tbb::task_arena arena(config.threads == 0 ? tbb::task_arena::automatic
                                              : static_cast<int>(config.threads));
    nlohmann::json summary;
    arena.execute([&] { summary = train_one(single, dir, resuming, 0, progress); });
    return summary;
  }
  std::vector<nlohmann::json> summaries(seeds.size());
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    fs::create_directories(dir / fmt::format("seed_{}", seeds[i]));
  }
  run_parallel(seeds.size(), config.threads, [&](std::size_t i) {
    RunConfig single = config;
    single.agent.seed = seeds[i];
    single.seeds.clear();
    const fs::path sub = dir / fmt::format("seed_{}", seeds[i]);
    if (!resuming) write_atomic(sub / "config.json", single.to_json().dump(2) + "\n");
    summaries[i] = train_one(single, sub, resuming, i, progress);
  });
  nlohmann::json summary = {
      {"env", config.agent.env},
      {"agent", std::string(to_string(config.agent.agent))},
      {"modulation", std::string(to_string(config.agent.modulation))},
      {"network", std::string(to_string(config.agent.network))},
      {"seeds", seeds},
      {"eval_return", spread(summaries, "/eval/return_mean"_json_pointer)},
      {"eval_success_rate", spread(summaries, "/eval/success_rate"_json_pointer)},
      {"train_return_100", spread(summaries, "/train_return_100"_json_pointer)},
      {"steps_per_second", spread(summaries, "/steps_per_second"_json_pointer)},
      {"runs", summaries},
  };
  write_atomic(dir / "summary.json", summary.dump(2) + "\n");
  return summary;
}

}  // namespace

std::vector<std::uint64_t> RunConfig::run_seeds() const {
  return seeds.empty() ? std::vector<std::uint64_t>{agent.seed} : seeds;
}

void RunConfig::validate() const {
  agent.validate();
  if (steps == 0) throw ConfigError("config key 'steps' must be positive, got 0");
  if (checkpoint_every == 0) {
    throw ConfigError("config key 'checkpoint_every' must be positive, got 0");
  }
  if (eval_episodes == 0) throw ConfigError("config key 'eval_episodes' must be positive, got 0");
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (seeds[i] == seeds[j]) {
        throw ConfigError(fmt::format("config key 'seeds' lists seed {} twice", seeds[i]));
      }
    }
  }
}

std::vector<std::string> RunConfig::keys() {
  std::vector<std::string> out(std::begin(kRunKeys), std::end(kRunKeys));
  for (const auto& key : AgentConfig::keys()) out.push_back(key);
  return out;
}

nlohmann::json RunConfig::to_json() const {
  nlohmann::json out = agent.to_json();
  out["steps"] = steps;
  out["eval_every"] = eval_every;
  out["eval_episodes"] = eval_episodes;
  out["checkpoint_every"] = checkpoint_every;
  out["seeds"] = seeds;
  out["threads"] = threads;
  return out;
}

void apply_json(RunConfig& config, const nlohmann::json& json) {
  if (!json.is_object()) {
    throw ConfigError(fmt::format("a run config must be an object, got {}", json.dump()));
  }
  nlohmann::json agent_part = nlohmann::json::object();
  for (const auto& [key, value] : json.items()) {
    if (key == "steps") {
      config.steps = get_size(value, key);
    } else if (key == "eval_every") {
      config.eval_every = get_size(value, key);
    } else if (key == "eval_episodes") {
      config.eval_episodes = get_size(value, key);
    } else if (key == "checkpoint_every") {
      config.checkpoint_every = get_size(value, key);
    } else if (key == "threads") {
      config.threads = get_size(value, key);
    } else if (key == "seeds") {
      if (!value.is_array()) {
        throw ConfigError(
            fmt::format("config key 'seeds' must be a list of integers, got {}", value.dump()));
      }
      config.seeds.clear();
      for (const auto& seed : value) config.seeds.push_back(get_size(seed, "seeds"));
    } else {
      const auto& agent_keys = AgentConfig::keys();
      if (std::find(agent_keys.begin(), agent_keys.end(), key) == agent_keys.end()) {
        throw ConfigError(fmt::format("unknown config key '{}'; allowed keys: {}", key,
                                      fmt::join(RunConfig::keys(), ", ")));
      }
      agent_part[key] = value;
    }
  }
  apply_json(config.agent, agent_part);
}

RunConfig RunConfig::from_json(const nlohmann::json& json) {
  RunConfig config;
  apply_json(config, json);
  config.validate();
  return config;
}

nlohmann::json read_config_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("config file {} cannot be read", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  const std::string ext = path.extension().string();
  try {
    if (ext == ".yaml" || ext == ".yml") {
      return yaml_to_json(YAML::Load(text.str()));
    }
    return nlohmann::json::parse(text.str());
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("config file {} is not valid YAML: {}", path.string(), e.what()));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(fmt::format("config file {} is not valid JSON: {}", path.string(), e.what()));
  }
}

nlohmann::json train(const RunConfig& config, const fs::path& dir, const ProgressFn& progress) {
  config.validate();
  if (fs::exists(dir / "config.json") || fs::exists(dir / "checkpoint.bin")) {
    throw RunDirectoryError(fmt::format(
        "{} already holds a run (config.json); resume it with --resume {} or choose another --out",
        dir.string(), dir.string()));
  }
  fs::create_directories(dir);
  write_atomic(dir / "config.json", config.to_json().dump(2) + "\n");
  return run_all(config, dir, false, progress);
}

RunConfig load_run_config(const fs::path& dir) {
  const fs::path path = dir / "config.json";
  if (!fs::exists(path)) {
    throw RunDirectoryError(fmt::format("{} holds no run (no config.json)", dir.string()));
  }
  std::ifstream in(path);
  try {
    return RunConfig::from_json(nlohmann::json::parse(in));
  } catch (const nlohmann::json::exception& e) {
    throw RunDirectoryError(fmt::format("{} is not valid JSON: {}", path.string(), e.what()));
  }
}

nlohmann::json resume(const fs::path& dir, std::optional<std::size_t> steps,
                      const ProgressFn& progress,
                      std::optional<neuromod::MatmulPrecision> precision) {
  RunConfig config = load_run_config(dir);
  if (steps) config.steps = *steps;
  if (precision) config.agent.precision = *precision;
  if (steps || precision) write_atomic(dir / "config.json", config.to_json().dump(2) + "\n");
  return run_all(config, dir, true, progress);
}

nlohmann::json evaluate(const fs::path& dir, std::size_t episodes,
                        std::optional<std::uint64_t> seed) {
  const RunConfig config = load_run_config(dir);
  const auto seeds = config.run_seeds();
  nlohmann::json out = nlohmann::json::object();
  std::vector<nlohmann::json> runs;
  for (std::uint64_t s : seeds) {
    const fs::path sub = seeds.size() == 1 ? dir : dir / fmt::format("seed_{}", s);
    Agent agent = Agent::load(sub / "checkpoint.bin");
    nlohmann::json run = {
        {"seed", s}, {"steps", agent.steps()}, {"eval", eval_json(agent.evaluate(episodes, seed))}};
    runs.push_back(run);
  }
  if (runs.size() == 1) {
    out = runs[0];
  } else {
    out = {{"runs", runs},
           {"eval_return", spread(runs, "/eval/return_mean"_json_pointer)},
           {"eval_success_rate", spread(runs, "/eval/success_rate"_json_pointer)}};
  }
  write_atomic(dir / "eval.json", out.dump(2) + "\n");
  return out;
}

}  // namespace locus::agents
