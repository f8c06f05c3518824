#pragma once
// What `locus train` shows while and after it trains: the progress line on stderr and the summary
// text. Both front ends use these (the C++ command, cli/train_commands.cpp, and the Python one that
// trains Python envs, python/locus/cli.py through locus._core), so that they print the same.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "agents/agent.hpp"

namespace locus::agents {

// One stderr line redrawn in place at most five times a second: the steps done over all agents,
// their rate, the time left at that rate (ETA), and the agents' mean return and success rate over
// their last episodes and trials.
// update() may be called from the training workers at once.
class TrainProgress {
 public:
  TrainProgress(std::size_t agents, std::size_t steps_per_agent, bool enabled);

  void update(std::size_t agent, const UpdateStats& stats, const Agent& learner);
  // Draws the last state and ends the line.
  void finish();

 private:
  void draw(std::chrono::steady_clock::time_point now);

  std::mutex mutex_;
  std::vector<std::size_t> steps_;
  std::vector<double> returns_, success_;  // NaN until the agent has finished one
  std::size_t total_;
  bool enabled_;
  std::size_t first_steps_ = SIZE_MAX;  // steps done at the first draw (a resumed run's count)
  std::chrono::steady_clock::time_point start_, last_{};
};

// "<steps> steps: eval return <r>, success rate <s>, <rate> steps/s" for one agent's summary, or
// "<n> agents: eval return <mean> (std <sd>), ..." for several, then the summary file's path.
std::string train_summary_text(const nlohmann::json& summary, std::string_view run_dir);

}  // namespace locus::agents
