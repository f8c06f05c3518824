#include "bench/studies/set_shift/set_shift.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <mutex>
#include <numeric>
#include <optional>
#include <string_view>
#include <variant>

#include "agents/agent.hpp"
#include "agents/runner.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/sweep.hpp"
#include "envs/cognitive/go_no_go.hpp"
#include "envs/registry.hpp"
#include "util/installed_file.hpp"

namespace locus::bench {

namespace {

// ---- the env the study's agents play: SetShiftGoNoGo-v0 that logs every finished trial ----

// A plain Env (not a Wrapper) around SetShiftGoNoGoEnv, so that it is what unwrapped() returns
// from the stack make() builds: the study reaches each agent's envs through
// agent.env().env(i).unwrapped() and drains their logs after every update. The agent itself is
// untouched: it makes its VectorEnv from this env's registered id like any other.
class RecordingSetShiftEnv final : public envs::Env {
 public:
  explicit RecordingSetShiftEnv(const envs::Kwargs& kwargs) : inner_(kwargs) {
    set_observation_space(inner_.observation_space_ptr());
    set_action_space(inner_.action_space_ptr());
  }
  std::string name() const override { return "RecordingSetShiftEnv"; }
  envs::Rng& np_random() override { return inner_.np_random(); }

  std::vector<ShiftTrial> take_trials() {
    std::vector<ShiftTrial> out;
    out.swap(trials_);
    return out;
  }

 protected:
  void reset_impl(const std::optional<envs::Seed>& seed, const envs::Kwargs& options,
                  std::span<std::byte> observation, envs::Info& info) override {
    inner_.reset(observation, info, seed, options);
  }

  envs::StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                              envs::Info& info) override {
    const envs::StepOutcome outcome = inner_.step(action, observation, info);
    if (flag(info, "trial_ended")) record(info);
    return outcome;
  }

 private:
  static bool flag(const envs::Info& info, std::string_view key) {
    const auto* value = info.find(key);
    return value != nullptr && std::holds_alternative<bool>(*value) && std::get<bool>(*value);
  }
  static std::int64_t integer(const envs::Info& info, std::string_view key) {
    const auto* value = info.find(key);
    if (value == nullptr || !std::holds_alternative<std::int64_t>(*value)) {
      throw InvalidArgumentError(
          fmt::format("SetShiftGoNoGo-v0 gave no integer info '{}' at the end of a trial", key));
    }
    return std::get<std::int64_t>(*value);
  }
  static std::string text(const envs::Info& info, std::string_view key) {
    const auto* value = info.find(key);
    if (value == nullptr || !std::holds_alternative<std::string>(*value)) {
      throw InvalidArgumentError(
          fmt::format("SetShiftGoNoGo-v0 gave no string info '{}' at the end of a trial", key));
    }
    return std::get<std::string>(*value);
  }

  void record(const envs::Info& info) {
    ShiftTrial trial;
    trial.visual = integer(info, "visual");
    trial.auditory = integer(info, "auditory");
    const std::string rule = text(info, "rule");
    const auto& names = envs::SetShiftGoNoGoEnv::kStimulusNames;
    trial.rule = std::find(names.begin(), names.end(), rule) - names.begin();
    const std::string outcome = text(info, "outcome");
    trial.go = outcome == "hit" || outcome == "false_alarm";
    trial.correct = flag(info, "correct");
    trial.switched = flag(info, "rule_switched");
    // The log must describe the trial that ended: the response is correct exactly when it
    // matches the presence of the rewarded stimulus among the cues shown.
    const std::int64_t shown = trial.rule < 2 ? trial.visual : trial.auditory;
    const bool go_trial = shown == (trial.rule & 1);
    if (trial.correct != (trial.go == go_trial) || trial.rule > 3) {
      throw InvalidArgumentError(fmt::format(
          "SetShiftGoNoGo-v0's trial info is inconsistent (rule {}, visual {}, auditory {}, "
          "outcome {}, correct {}); the study needs the info of the trial that ended",
          rule, trial.visual, trial.auditory, outcome, trial.correct));
    }
    trials_.push_back(trial);
  }

  envs::SetShiftGoNoGoEnv inner_;
  std::vector<ShiftTrial> trials_;
};

constexpr const char* kRecordedEnvId = "study/SetShiftGoNoGoRecorded-v0";

const std::string& recorded_env_id() {
  static const std::string id = [] {
    auto& registry = envs::Registry::global();
    if (!registry.contains(kRecordedEnvId)) {
      const auto base = registry.spec("SetShiftGoNoGo-v0");
      registry.register_env(
          {.id = kRecordedEnvId,
           .entry_point =
               [](const envs::Kwargs& kwargs) {
                 return std::unique_ptr<envs::Env>(std::make_unique<RecordingSetShiftEnv>(kwargs));
               },
           .max_episode_steps = base->max_episode_steps,
           .description = "SetShiftGoNoGo-v0 that logs its trials (locus study set-shift)"});
    }
    return std::string(kRecordedEnvId);
  }();
  return id;
}

double entropy_bits(std::size_t a, std::size_t b) {
  const double n = double(a + b);
  double h = 0.0;
  for (std::size_t count : {a, b}) {
    if (count > 0) h -= double(count) / n * std::log2(double(count) / n);
  }
  return h;
}

double mean_of(const std::vector<double>& values) {
  return values.empty()
             ? std::nan("")
             : std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
}

double sd_of(const std::vector<double>& values) {
  if (values.size() < 2) return std::nan("");
  const double mean = mean_of(values);
  double sum = 0.0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return std::sqrt(sum / double(values.size() - 1));
}

std::string number(double value) {
  return std::isfinite(value) ? fmt::format("{:.6g}", value) : std::string();
}

nlohmann::json json_number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace

double conditional_action_entropy(std::span<const ShiftTrial> trials) {
  if (trials.empty()) return 0.0;
  // [rule * 4 + cue][go]: trials under different rules are never pooled, so that a window
  // spanning several rule blocks (pooled over flips) measures how deterministic the policy is,
  // not how the rules differ.
  std::array<std::array<std::size_t, 2>, 16> counts{};
  for (const ShiftTrial& t : trials) {
    counts[std::size_t(t.rule * 4 + t.visual * 2 + t.auditory)][t.go ? 1 : 0] += 1;
  }
  double h = 0.0;
  for (const auto& cue : counts) {
    const std::size_t n = cue[0] + cue[1];
    if (n > 0) h += double(n) / double(trials.size()) * entropy_bits(cue[0], cue[1]);
  }
  return h;
}

void Criterion::validate() const {
  if (window == 0) throw InvalidArgumentError("criterion window must be positive, got 0");
  if (!(accuracy > 0.0 && accuracy <= 1.0)) {
    throw InvalidArgumentError(
        fmt::format("criterion accuracy must be in (0, 1], got {}", accuracy));
  }
}

std::vector<BlockResult> trials_to_criterion(std::span<const ShiftTrial> trials,
                                             const Criterion& criterion) {
  criterion.validate();
  // The fewest correct trials in a window that meet the criterion (the epsilon keeps 0.9 * 20
  // from rounding up to 19).
  const auto needed =
      static_cast<std::size_t>(std::ceil(criterion.accuracy * double(criterion.window) - 1e-9));
  std::vector<BlockResult> blocks;
  std::size_t begin = 0;
  while (begin < trials.size()) {
    std::size_t end = begin;
    while (end < trials.size() && !trials[end].switched) ++end;
    end = std::min(end + 1, trials.size());  // the switched trial is the block's last
    BlockResult block{.block = blocks.size(),
                      .rule = trials[begin].rule,
                      .trials = end - begin,
                      .trials_to_criterion = end - begin,
                      .reached = false};
    std::size_t correct = 0;
    for (std::size_t k = begin; k < end; ++k) {
      correct += trials[k].correct ? 1 : 0;
      if (k - begin >= criterion.window) correct -= trials[k - criterion.window].correct ? 1 : 0;
      if (k - begin + 1 >= criterion.window && correct >= needed) {
        block.trials_to_criterion = k - begin + 1;
        block.reached = true;
        break;
      }
    }
    blocks.push_back(block);
    begin = end;
  }
  return blocks;
}

MannWhitney mann_whitney_u(std::span<const double> x, std::span<const double> y) {
  if (x.empty() || y.empty()) {
    throw InvalidArgumentError(fmt::format(
        "mann_whitney_u needs two non-empty samples, got sizes {} and {}", x.size(), y.size()));
  }
  const std::size_t nx = x.size(), ny = y.size(), n = nx + ny;
  std::vector<std::pair<double, std::size_t>> all;  // (value, 0 for x / 1 for y)
  for (double v : x) all.emplace_back(v, 0);
  for (double v : y) all.emplace_back(v, 1);
  for (const auto& [v, from] : all) {
    if (!std::isfinite(v)) {
      throw InvalidArgumentError(fmt::format("mann_whitney_u: non-finite value {}", v));
    }
  }
  std::sort(all.begin(), all.end());
  double rank_sum_x = 0.0, tie_term = 0.0;
  bool ties = false;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].first == all[i].first) ++j;
    const double average_rank = (double(i + 1) + double(j)) / 2.0;
    const double t = double(j - i);
    if (j - i > 1) ties = true;
    tie_term += t * t * t - t;
    for (std::size_t k = i; k < j; ++k) {
      if (all[k].second == 0) rank_sum_x += average_rank;
    }
    i = j;
  }
  MannWhitney result;
  result.u = rank_sum_x - double(nx) * double(nx + 1) / 2.0;
  const double u_max = std::max(result.u, double(nx) * double(ny) - result.u);
  if (!ties && n <= 60) {
    // Counts of the rank sums of nx-subsets of ranks 1..n (dp[k][s]: subsets of size k, sum s).
    const std::size_t max_sum = n * (n + 1) / 2;
    std::vector<std::vector<double>> dp(nx + 1, std::vector<double>(max_sum + 1, 0.0));
    dp[0][0] = 1.0;
    for (std::size_t rank = 1; rank <= n; ++rank) {
      for (std::size_t k = std::min(rank, nx); k >= 1; --k) {
        for (std::size_t s = max_sum; s >= rank; --s) dp[k][s] += dp[k - 1][s - rank];
      }
    }
    const double offset = double(nx) * double(nx + 1) / 2.0;
    double total = 0.0, upper = 0.0;
    for (std::size_t s = 0; s <= max_sum; ++s) {
      total += dp[nx][s];
      if (double(s) - offset >= u_max - 1e-9) upper += dp[nx][s];
    }
    result.p_value = std::min(1.0, 2.0 * upper / total);
    result.exact = true;
  } else {
    const double mu = double(nx) * double(ny) / 2.0;
    const double variance =
        double(nx) * double(ny) / 12.0 * (double(n + 1) - tie_term / (double(n) * double(n - 1)));
    if (variance <= 0.0) {
      result.p_value = 1.0;
    } else {
      const double z = (u_max - mu - 0.5) / std::sqrt(variance);
      result.p_value = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
    }
  }
  return result;
}

void SetShiftStudyConfig::validate() const {
  agent.validate();
  criterion.validate();
  if (shift != "reversal" && shift != "extradimensional") {
    throw InvalidArgumentError(
        fmt::format("shift must be \"reversal\" or \"extradimensional\", got \"{}\"", shift));
  }
  if (switch_after_trials < criterion.window) {
    throw InvalidArgumentError(
        fmt::format("switch_after_trials ({}) must be at least the criterion window ({})",
                    switch_after_trials, criterion.window));
  }
  if (flips == 0) throw InvalidArgumentError("flips must be positive, got 0");
  if (modulations.empty()) throw InvalidArgumentError("the study needs at least one modulation");
  if (seeds.empty()) throw InvalidArgumentError("the study needs at least one seed");
  if (entropy_bin == 0) throw InvalidArgumentError("entropy_bin must be positive, got 0");
  if (summary_window == 0 || summary_window > switch_after_trials) {
    throw InvalidArgumentError(
        fmt::format("summary_window must be in [1, switch_after_trials = {}], got {}",
                    switch_after_trials, summary_window));
  }
  if (entropy_before > switch_after_trials || entropy_after > switch_after_trials) {
    throw InvalidArgumentError(fmt::format(
        "entropy_before ({}) and entropy_after ({}) must not exceed switch_after_trials ({})",
        entropy_before, entropy_after, switch_after_trials));
  }
  if (!env_kwargs.is_object()) {
    throw InvalidArgumentError(
        fmt::format("env_kwargs must be a JSON object, got {}", env_kwargs.dump()));
  }
  for (const char* key : {"shift", "switch_after_trials", "switch_after_correct", "max_switches"}) {
    if (env_kwargs.contains(key)) {
      throw InvalidArgumentError(
          fmt::format("env_kwargs must not set '{}': the study sets the switching itself (shift, "
                      "switch_after_trials, flips)",
                      key));
    }
  }
}

nlohmann::json SetShiftStudyConfig::to_json() const {
  nlohmann::json mods = nlohmann::json::array();
  for (auto m : modulations) mods.push_back(std::string(agents::to_string(m)));
  return {{"agent", agent.to_json()},
          {"env_kwargs", env_kwargs},
          {"shift", shift},
          {"switch_after_trials", switch_after_trials},
          {"flips", flips},
          {"modulations", mods},
          {"seeds", seeds},
          {"criterion", {{"window", criterion.window}, {"accuracy", criterion.accuracy}}},
          {"entropy_bin", entropy_bin},
          {"entropy_before", entropy_before},
          {"entropy_after", entropy_after},
          {"summary_window", summary_window}};
}

SetShiftRun run_set_shift(const SetShiftStudyConfig& config, agents::Modulation modulation,
                          std::uint64_t seed) {
  config.validate();
  agents::AgentConfig agent_config = config.agent;
  agent_config.env = recorded_env_id();
  agent_config.env_kwargs = config.env_kwargs;
  agent_config.env_kwargs["shift"] = config.shift;
  agent_config.env_kwargs["switch_after_trials"] = config.switch_after_trials;
  agent_config.env_kwargs["switch_after_correct"] = 0;
  agent_config.env_kwargs["max_switches"] = config.flips;
  agent_config.modulation = modulation;
  agent_config.seed = seed;
  agents::Agent agent(agent_config);

  const std::size_t envs = agent_config.num_envs;
  const std::size_t needed = (config.flips + 1) * config.switch_after_trials;
  std::vector<std::vector<ShiftTrial>> played(envs);
  auto fewest = [&] {
    std::size_t least = SIZE_MAX;
    for (const auto& t : played) least = std::min(least, t.size());
    return least;
  };
  // A trial lasts at most its timeline's steps; this bound only catches a task that stops
  // ending trials.
  const std::size_t step_limit = needed * envs * 1000;
  float gain = 1.0f;  // in force during the next rollout: the gain after the last update
  while (fewest() < needed) {
    const agents::UpdateStats stats = agent.update();
    for (std::size_t i = 0; i < envs; ++i) {
      auto& env = dynamic_cast<RecordingSetShiftEnv&>(agent.env().env(i).unwrapped());
      auto trials = env.take_trials();
      for (ShiftTrial& t : trials) t.gain = gain;
      played[i].insert(played[i].end(), trials.begin(), trials.end());
    }
    if (agent.steps() > step_limit) {
      throw InvalidArgumentError(
          fmt::format("set-shift run (seed {}): only {} trials per env after {} steps", seed,
                      fewest(), agent.steps()));
    }
    gain = stats.gain;
  }

  SetShiftRun run;
  run.modulation = modulation;
  run.seed = seed;
  run.steps = agent.steps();
  run.na_changes = agent.na_changes();
  std::vector<double> flip_ttc, acquisition_ttc;
  std::vector<ShiftTrial> before, after;
  const auto bin = static_cast<std::int64_t>(config.entropy_bin);
  const auto first_bin = -static_cast<std::int64_t>(config.entropy_before);
  const auto last_bin = static_cast<std::int64_t>(config.entropy_after);
  std::vector<std::vector<ShiftTrial>> binned(std::size_t((last_bin - first_bin + bin - 1) / bin));
  for (std::size_t e = 0; e < envs; ++e) {
    // Every env played the same number of trials: (flips + 1) blocks of switch_after_trials.
    const std::span<const ShiftTrial> trials(played[e].data(), needed);
    const auto blocks = trials_to_criterion(trials, config.criterion);
    if (blocks.size() != config.flips + 1) {
      throw InvalidArgumentError(
          fmt::format("set-shift run (seed {}): env {} has {} blocks, "
                      "expected {}",
                      seed, e, blocks.size(), config.flips + 1));
    }
    std::size_t start = 0;
    for (const BlockResult& block : blocks) {
      run.block_env.push_back(e);
      run.blocks.push_back(block);
      if (block.block == 0) {
        acquisition_ttc.push_back(double(block.trials_to_criterion));
      } else {
        flip_ttc.push_back(double(block.trials_to_criterion));
        run.censored += block.reached ? 0 : 1;
        run.flips_measured += 1;
        const auto flip = static_cast<std::int64_t>(start);
        for (std::int64_t k = flip - std::int64_t(config.summary_window); k < flip; ++k) {
          before.push_back(trials[std::size_t(k)]);
        }
        for (std::int64_t k = flip; k < flip + std::int64_t(config.summary_window); ++k) {
          after.push_back(trials[std::size_t(k)]);
        }
        for (std::int64_t k = flip + first_bin; k < flip + last_bin; ++k) {
          if (k < 0 || k >= std::int64_t(trials.size())) continue;
          binned[std::size_t((k - flip - first_bin) / bin)].push_back(trials[std::size_t(k)]);
        }
      }
      start += block.trials;
    }
  }
  for (std::size_t b = 0; b < binned.size(); ++b) {
    const auto& trials = binned[b];
    EntropyBin entry;
    entry.start = first_bin + std::int64_t(b) * bin;
    entry.trials = trials.size();
    entry.entropy_bits = conditional_action_entropy(trials);
    std::size_t correct = 0, go = 0;
    double gain_sum = 0.0;
    for (const auto& t : trials) {
      correct += t.correct ? 1 : 0;
      go += t.go ? 1 : 0;
      gain_sum += t.gain;
    }
    entry.gain = trials.empty() ? std::nan("") : gain_sum / double(trials.size());
    entry.accuracy = trials.empty() ? std::nan("") : double(correct) / double(trials.size());
    entry.go_rate = trials.empty() ? std::nan("") : double(go) / double(trials.size());
    run.entropy.push_back(entry);
  }
  run.mean_trials_to_criterion = mean_of(flip_ttc);
  run.acquisition_trials_to_criterion = mean_of(acquisition_ttc);
  run.entropy_before = conditional_action_entropy(before);
  run.entropy_after = conditional_action_entropy(after);
  return run;
}

SetShiftStudy run_set_shift_study(const SetShiftStudyConfig& config,
                                  const std::function<void(const SetShiftRun&)>& progress) {
  config.validate();
  recorded_env_id();  // register before the workers start
  SetShiftStudy study{config, {}};
  const std::size_t count = config.modulations.size() * config.seeds.size();
  study.runs.resize(count);
  std::mutex mutex;
  agents::run_parallel(count, config.threads, [&](std::size_t i) {
    const auto modulation = config.modulations[i / config.seeds.size()];
    const auto seed = config.seeds[i % config.seeds.size()];
    study.runs[i] = run_set_shift(config, modulation, seed);
    if (progress) {
      std::lock_guard<std::mutex> lock(mutex);
      progress(study.runs[i]);
    }
  });
  return study;
}

nlohmann::json write_set_shift_study(const SetShiftStudy& study, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::string runs_csv =
      "modulation,seed,steps,mean_trials_to_criterion,acquisition_trials_to_criterion,censored,"
      "flips_measured,entropy_before_bits,entropy_after_bits,na_changes\n";
  std::string blocks_csv = "modulation,seed,env,block,rule,trials,trials_to_criterion,reached\n";
  std::string entropy_csv = "modulation,seed,start,trials,entropy_bits,accuracy,go_rate,gain\n";
  for (const SetShiftRun& run : study.runs) {
    const auto modulation = agents::to_string(run.modulation);
    runs_csv +=
        fmt::format("{},{},{},{},{},{},{},{},{},{}\n", modulation, run.seed, run.steps,
                    number(run.mean_trials_to_criterion),
                    number(run.acquisition_trials_to_criterion), run.censored, run.flips_measured,
                    number(run.entropy_before), number(run.entropy_after), run.na_changes);
    for (std::size_t k = 0; k < run.blocks.size(); ++k) {
      const BlockResult& b = run.blocks[k];
      blocks_csv +=
          fmt::format("{},{},{},{},{},{},{},{}\n", modulation, run.seed, run.block_env[k], b.block,
                      envs::SetShiftGoNoGoEnv::kStimulusNames[std::size_t(b.rule)], b.trials,
                      b.trials_to_criterion, int(b.reached));
    }
    for (const EntropyBin& e : run.entropy) {
      entropy_csv += fmt::format("{},{},{},{},{},{},{},{}\n", modulation, run.seed, e.start,
                                 e.trials, number(e.entropy_bits), number(e.accuracy),
                                 number(e.go_rate), number(e.gain));
    }
  }

  nlohmann::json groups = nlohmann::json::array();
  std::vector<std::vector<double>> ttc_by_group, after_by_group;
  for (const auto modulation : study.config.modulations) {
    std::vector<double> ttc, acquisition, before, after, censored;
    for (const SetShiftRun& run : study.runs) {
      if (run.modulation != modulation) continue;
      ttc.push_back(run.mean_trials_to_criterion);
      acquisition.push_back(run.acquisition_trials_to_criterion);
      before.push_back(run.entropy_before);
      after.push_back(run.entropy_after);
      censored.push_back(double(run.censored) /
                         double(std::max<std::size_t>(1, run.flips_measured)));
    }
    auto stat = [](const std::vector<double>& v) {
      return nlohmann::json{{"mean", json_number(mean_of(v))}, {"sd", json_number(sd_of(v))}};
    };
    groups.push_back({{"modulation", std::string(agents::to_string(modulation))},
                      {"runs", ttc.size()},
                      {"trials_to_criterion", stat(ttc)},
                      {"acquisition_trials_to_criterion", stat(acquisition)},
                      {"censored_share", stat(censored)},
                      {"entropy_before_bits", stat(before)},
                      {"entropy_after_bits", stat(after)}});
    ttc_by_group.push_back(std::move(ttc));
    after_by_group.push_back(std::move(after));
  }
  nlohmann::json tests = nlohmann::json::array();
  for (std::size_t g = 1; g < ttc_by_group.size(); ++g) {
    auto test = [](const std::vector<double>& a, const std::vector<double>& b) {
      const MannWhitney mw = mann_whitney_u(a, b);
      return nlohmann::json{{"test", "Mann-Whitney U, two-sided"},
                            {"u", mw.u},
                            {"p_value", mw.p_value},
                            {"exact", mw.exact}};
    };
    tests.push_back({{"a", groups[0]["modulation"]},
                     {"b", groups[g]["modulation"]},
                     {"trials_to_criterion", test(ttc_by_group[0], ttc_by_group[g])},
                     {"entropy_after_bits", test(after_by_group[0], after_by_group[g])}});
  }
  nlohmann::json summary = {
      {"config", study.config.to_json()}, {"groups", groups}, {"tests", tests}};
  write_file_atomically(dir / "runs.csv", runs_csv);
  write_file_atomically(dir / "blocks.csv", blocks_csv);
  write_file_atomically(dir / "entropy.csv", entropy_csv);
  write_file_atomically(dir / "summary.json", summary.dump(2) + "\n");
  return summary;
}

std::filesystem::path set_shift_plot_script() {
  return util::installed_or_source("bench/studies/set_shift/plot_set_shift.py",
                                   LOCUS_SET_SHIFT_PLOT_SCRIPT);
}

}  // namespace locus::bench
