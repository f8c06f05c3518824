#pragma once
// The progress line of a running sweep, drawn on a stream (stderr): a bar, runs done, running and
// left, the elapsed time and an ETA: the seconds per training iteration of the runs finished so
// far, times the iterations left (runs differ in length: an RL run may take 100 supervised ones).
// On a terminal it redraws one line twice a second; otherwise it writes a line whenever something
// changed (at most twice a second). `locus sweep` and the Python module's locus.sweep draw it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "bench/harness/scheduler.hpp"

namespace locus::cli {

class SweepProgressLine final : public bench::SweepProgress {
 public:
  explicit SweepProgressLine(std::FILE* stream) : stream_(stream) {}
  ~SweepProgressLine() override { end(); }

  void begin(std::size_t total, std::size_t finished_before, int jobs,
             std::int64_t iterations_left) override;
  void run_started(std::int64_t iterations) override;
  void run_finished(double seconds, std::int64_t iterations) override;
  // The line as it would be drawn now (tests).
  std::string line() const;
  void end() override;

 private:
  void loop();
  void print();

  std::FILE* stream_;
  bool tty_ = false;
  std::size_t total_ = 0;
  int jobs_ = 1;
  std::atomic<std::size_t> done_{0}, running_{0};
  std::chrono::steady_clock::time_point start_;
  mutable std::mutex mutex_;
  std::mutex print_mutex_;
  std::condition_variable wake_;
  double run_seconds_ = 0.0;
  // Iterations: left when the sweep began, of the runs running, of the runs finished here.
  std::int64_t iterations_left_ = 0, iterations_running_ = 0, iterations_finished_ = 0;
  bool changed_ = false;
  bool started_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace locus::cli
