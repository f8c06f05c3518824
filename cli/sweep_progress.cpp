#include "cli/sweep_progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "util/duration_text.hpp"

namespace locus::cli {

using util::duration_text;

void SweepProgressLine::begin(std::size_t total, std::size_t finished_before, int jobs,
                              std::int64_t iterations_left) {
  if (stream_ == nullptr || started_) return;
  total_ = total;
  done_ = finished_before;
  jobs_ = jobs;
  iterations_left_ = iterations_left;
  tty_ = isatty(fileno(stream_)) != 0;
  start_ = std::chrono::steady_clock::now();
  started_ = true;
  thread_ = std::thread([this] { loop(); });
}

void SweepProgressLine::run_started(std::int64_t iterations) {
  ++running_;
  std::lock_guard lock(mutex_);
  iterations_running_ += iterations;
  changed_ = true;
}

void SweepProgressLine::run_finished(double seconds, std::int64_t iterations) {
  --running_;
  ++done_;
  std::lock_guard lock(mutex_);
  run_seconds_ += seconds;
  iterations_running_ -= iterations;
  iterations_finished_ += iterations;
  changed_ = true;
  wake_.notify_all();
}

void SweepProgressLine::end() {
  {
    std::lock_guard lock(mutex_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  if (tty_ || changed_) print();  // the last state, unless the loop printed it already
  if (tty_) std::fputc('\n', stream_);
}

void SweepProgressLine::loop() {
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

std::string SweepProgressLine::line() const {
  const std::size_t done = done_, running = running_;
  const std::size_t left = total_ - done - running;
  double eta = std::numeric_limits<double>::quiet_NaN();
  {
    std::lock_guard lock(mutex_);
    if (iterations_finished_ > 0) {
      // The runs running are taken as half done.
      const double per_iteration = run_seconds_ / static_cast<double>(iterations_finished_);
      const double iterations = static_cast<double>(iterations_left_ - iterations_finished_) -
                                0.5 * static_cast<double>(iterations_running_);
      eta = per_iteration * std::max(0.0, iterations) / static_cast<double>(std::max(1, jobs_));
    }
  }
  constexpr int kWidth = 24;
  const int filled =
      total_ == 0 ? kWidth : static_cast<int>(kWidth * static_cast<double>(done) / total_);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return fmt::format("[{}{}] {}/{} done, {} running, {} left, elapsed {}, ETA {}",
                     std::string(filled, '#'), std::string(kWidth - filled, '.'), done, total_,
                     running, left, duration_text(elapsed),
                     done == total_ ? "0s" : duration_text(eta));
}

void SweepProgressLine::print() {
  const std::string line = this->line();
  std::lock_guard lock(print_mutex_);
  if (tty_) {
    fmt::print(stream_, "\r{:<100}", line);
  } else {
    fmt::print(stream_, "{}\n", line);
  }
  std::fflush(stream_);
}

}  // namespace locus::cli
