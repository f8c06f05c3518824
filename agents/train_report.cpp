#include "agents/train_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "agents/run_metrics.hpp"
#include "util/duration_text.hpp"

namespace locus::agents {

namespace {

double mean_of_known(const std::vector<double>& values) {
  double sum = 0.0;
  int count = 0;
  for (double x : values) {
    if (!std::isnan(x)) {
      sum += x;
      ++count;
    }
  }
  return count > 0 ? sum / count : std::nan("");
}

std::string number_or_dash(const nlohmann::json& value) {
  return value.is_number() ? fmt::format("{:.3f}", value.get<double>()) : "-";
}

}  // namespace

TrainProgress::TrainProgress(std::size_t agents, std::size_t steps_per_agent, bool enabled)
    : steps_(agents, 0),
      returns_(agents, std::nan("")),
      success_(agents, std::nan("")),
      total_(agents * steps_per_agent),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()) {}

void TrainProgress::update(std::size_t agent, const UpdateStats& stats, const Agent& learner) {
  if (!enabled_ || agent >= steps_.size()) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  steps_[agent] = stats.steps;
  if (!learner.recent_returns().empty()) returns_[agent] = mean_recent_return(learner);
  if (!learner.recent_trials().empty()) success_[agent] = recent_success_rate(learner);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  draw(now);
}

void TrainProgress::finish() {
  if (!enabled_) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  draw(std::chrono::steady_clock::now());
  std::fputs("\n", stderr);
}

void TrainProgress::draw(std::chrono::steady_clock::time_point now) {
  std::size_t done = 0;
  for (std::size_t s : steps_) done += s;
  if (first_steps_ == SIZE_MAX) first_steps_ = done;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? double(done - first_steps_) / elapsed : 0.0;
  const double fraction = total_ > 0 ? std::min(1.0, double(done) / double(total_)) : 1.0;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(std::size_t(filled), '#');
  bar.append(std::size_t(kWidth - filled), '.');
  const double mean_return = mean_of_known(returns_);
  const double success = mean_of_known(success_);
  // The time left at the rate of this process so far (a resumed run's earlier steps excluded).
  const double left = done >= total_ ? 0.0 : rate > 0 ? double(total_ - done) / rate : std::nan("");
  fmt::print(stderr,
             "\r[{}] {:3.0f}% {}/{} steps  {:.0f} steps/s  ETA {}  return {}  success {}   ", bar,
             100.0 * fraction, done, total_, rate, util::duration_text(left),
             std::isnan(mean_return) ? std::string("-") : fmt::format("{:.2f}", mean_return),
             std::isnan(success) ? std::string("-") : fmt::format("{:.0f}%", 100.0 * success));
  std::fflush(stderr);
}

std::string train_summary_text(const nlohmann::json& summary, std::string_view run_dir) {
  std::string text;
  if (summary.contains("runs")) {
    const auto& mean_return = summary["eval_return"];
    const auto& success = summary["eval_success_rate"];
    text =
        fmt::format("{} agents: eval return {} (std {})", summary["runs"].size(),
                    number_or_dash(mean_return.is_null() ? nlohmann::json() : mean_return["mean"]),
                    number_or_dash(mean_return.is_null() ? nlohmann::json() : mean_return["std"]));
    if (!success.is_null()) {
      text += fmt::format(", success rate {:.3f} (std {:.3f})", success["mean"].get<double>(),
                          success["std"].get<double>());
    }
  } else {
    const auto& eval = summary["eval"];
    text = fmt::format("{} steps: eval return {}", summary["steps"].get<std::size_t>(),
                       number_or_dash(eval["return_mean"]));
    if (!eval["success_rate"].is_null()) {
      text += fmt::format(", success rate {:.3f}", eval["success_rate"].get<double>());
    }
    text += fmt::format(", {:.0f} steps/s", summary["steps_per_second"].get<double>());
  }
  return text + fmt::format("\nsummary: {}/summary.json", run_dir);
}

}  // namespace locus::agents
