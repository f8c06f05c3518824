#pragma once
// The progress line of a running sweep, drawn on a stream (stderr): a bar, runs done, running and
// left, the elapsed time and an ETA from the mean time of the runs finished so far. On a terminal
// it redraws one line twice a second; otherwise it writes a line whenever something changed (at
// most twice a second). `locus sweep` and the Python module's locus.sweep draw it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "bench/harness/scheduler.hpp"

namespace locus::cli {

class SweepProgressLine final : public bench::SweepProgress {
 public:
  explicit SweepProgressLine(std::FILE* stream) : stream_(stream) {}
  ~SweepProgressLine() override { end(); }

  void begin(std::size_t total, std::size_t finished_before, int jobs) override;
  void run_started() override;
  void run_finished(double seconds) override;
  void end() override;

 private:
  void loop();
  void print();

  std::FILE* stream_;
  bool tty_ = false;
  std::size_t total_ = 0;
  int jobs_ = 1;
  std::atomic<std::size_t> done_{0}, running_{0}, finished_here_{0};
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_, print_mutex_;
  std::condition_variable wake_;
  double run_seconds_ = 0.0;
  bool changed_ = false;
  bool started_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace locus::cli
