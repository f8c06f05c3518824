#include "bench/harness/run_queue.hpp"

#include <fmt/format.h>

#include <cmath>

#include "bench/harness/errors.hpp"
#include "bench/harness/run_files.hpp"

namespace locus::bench {

namespace {

using Clock = std::chrono::steady_clock;

// The mean gain of the finished run `source` that the control `spec` takes its gain from.
double source_mean_gain(const RunSpec& spec, const RunSpec& source,
                        const std::filesystem::path& out_dir) {
  const nlohmann::json source_run = read_finished_run(out_dir, source);
  const double mean_gain = number_or_nan(source_run["metrics"]["mean_gain"]);
  if (!std::isfinite(mean_gain) || mean_gain <= 0.0) {
    throw InvalidArgumentError(
        fmt::format("run '{}' takes its gain from '{}', which has no gain (is ngm on there?)",
                    spec.id, source.id));
  }
  return mean_gain;
}

}  // namespace

RunQueue::RunQueue(const std::vector<RunSpec>& runs, const std::vector<char>& finished,
                   const std::vector<std::size_t>& todo, std::filesystem::path out_dir)
    : runs_(runs),
      out_dir_(std::move(out_dir)),
      pending_(todo),
      finished_(finished),
      retry_at_(runs.size(), Clock::time_point{}) {}

bool RunQueue::ready(std::size_t index) const {
  const std::ptrdiff_t source = runs_[index].source;
  return source < 0 || finished_[static_cast<std::size_t>(source)];
}

RunQueue::Next RunQueue::try_next(std::optional<Assignment>& out) {
  const std::lock_guard lock(mutex_);
  return try_next_locked(out);
}

RunQueue::Next RunQueue::try_next_locked(std::optional<Assignment>& out) {
  if (stopped_ || pending_.empty()) return Next::kDone;
  const auto now = Clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    const std::size_t index = *it;
    if (!ready(index) || retry_at_[index] > now) {
      ++it;
      continue;
    }
    std::optional<RunClaim> claim = try_claim_run(out_dir_, runs_[index].id);
    if (!claim) {
      retry_at_[index] = now + kClaimRetry;
      ++it;
      continue;
    }
    if (!read_finished_run(out_dir_, runs_[index]).is_null()) {  // another process ran it
      finished_[index] = 1;
      ++done_elsewhere_;
      it = pending_.erase(it);
      changed_.notify_all();
      continue;
    }
    std::optional<double> gain;
    if (const std::ptrdiff_t source = runs_[index].source; source >= 0) {
      gain = source_mean_gain(runs_[index], runs_[static_cast<std::size_t>(source)], out_dir_);
    }
    pending_.erase(it);
    out.emplace(Assignment{index, gain, std::move(*claim)});
    return Next::kAssigned;
  }
  return pending_.empty() ? Next::kDone : Next::kWait;
}

std::optional<Assignment> RunQueue::next() {
  std::unique_lock lock(mutex_);
  while (true) {
    std::optional<Assignment> out;
    if (try_next_locked(out) != Next::kWait) return out;
    changed_.wait_for(lock, kClaimRetry);
  }
}

void RunQueue::finish(std::size_t index) {
  const std::lock_guard lock(mutex_);
  finished_[index] = 1;
  changed_.notify_all();
}

void RunQueue::stop() {
  const std::lock_guard lock(mutex_);
  stopped_ = true;
  changed_.notify_all();
}

std::size_t RunQueue::done_elsewhere() const {
  const std::lock_guard lock(mutex_);
  return done_elsewhere_;
}

}  // namespace locus::bench
