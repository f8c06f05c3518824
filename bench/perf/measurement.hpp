#pragma once
// How the CPU benchmark drivers of bench/perf time their work, written once: the median, and timed
// repeats that count as clean only while the rest of the machine stayed quiet.
//
// The machines these benchmarks run on are shared, and a process on another core slows even a
// one-thread benchmark (Gymnasium's figures by 10-17 % in one busy run). So each timed repeat also
// measures how many cores the other processes used meanwhile (/proc/stat's busy time less this
// process's CPU time), and only repeats under an allowance count; after 3 x repeats tries without
// enough clean ones, the figure is the median of all of them and is marked contaminated (low).

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace locus::bench_perf {

inline double median(std::vector<double> values) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// CPU seconds the whole machine has spent busy since boot, from /proc/stat (NaN if unreadable).
inline double machine_busy_seconds() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  std::array<double, 8> ticks{};  // user nice system idle iowait irq softirq steal
  stat >> cpu;
  for (double& t : ticks) stat >> t;
  if (!stat || cpu != "cpu") return std::nan("");
  double busy = 0.0;
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    if (i != 3 && i != 4) busy += ticks[i];
  }
  return busy / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// User + system CPU seconds of this process so far.
inline double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec);
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Other processes may use this many cores during a try before it stops counting as clean: a
// margin for /proc/stat's 10 ms ticks. The Python peers use the same (peer_timing.py).
inline constexpr double kAllowedBackgroundCores = 0.25;

// The timed repeats of one benchmark, every try kept (in order) for the JSON.
struct Repeats {
  std::vector<double> seconds;           // wall time of each try
  std::vector<double> rates;             // work / wall second
  std::vector<double> cpu_rates;         // work / CPU second of this process
  std::vector<double> background_cores;  // cores the other processes used during the try
  std::vector<double> clean_rates;       // rates of the tries under the allowance
  bool contaminated = false;             // fewer clean tries than asked for: the figure is low
  double median_rate = 0.0;              // of the clean tries, or of all when contaminated
  std::size_t counted = 0;               // how many tries the median is over
};

// Calls `run` (which does `work` units, e.g. environment steps or samples) until `repeats` clean
// tries are in, at most 3 x repeats; a try is clean while the other processes used at most
// `allowed_background_cores` (a margin for /proc/stat's 10 ms ticks; without /proc/stat every try
// counts). The warm-up is the caller's.
template <typename Run>
Repeats time_repeats(std::size_t repeats, double work, double allowed_background_cores,
                     const Run& run) {
  Repeats r;
  for (std::size_t tries = 0; tries < 3 * repeats && r.clean_rates.size() < repeats; ++tries) {
    const double busy0 = machine_busy_seconds();
    const double own0 = own_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    run();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double own = own_cpu_seconds() - own0;
    const double others = ((machine_busy_seconds() - busy0) - own) / elapsed;
    const double rate = work / elapsed;
    r.seconds.push_back(elapsed);
    r.rates.push_back(rate);
    r.cpu_rates.push_back(work / own);
    r.background_cores.push_back(std::max(0.0, others));
    // NaN (no /proc/stat) compares false: the try counts as clean.
    if (!(others > allowed_background_cores)) r.clean_rates.push_back(rate);
  }
  r.contaminated = r.clean_rates.size() < repeats;
  const std::vector<double>& counted = r.contaminated ? r.rates : r.clean_rates;
  r.median_rate = median(counted);
  r.counted = counted.size();
  return r;
}

// Times `iteration(i)` (which does `work_per_iteration` units) inside `arena`: a warm-up of about
// `seconds_per_repeat` sets how many iterations a try runs (at least `min_iterations`), then
// time_repeats times that many per try. Returns (iterations per try, the tries).
template <typename Arena, typename Iteration>
std::pair<std::size_t, Repeats> time_calibrated_iterations(
    Arena& arena, double seconds_per_repeat, std::size_t min_iterations, std::size_t repeats,
    double work_per_iteration, double allowed_background_cores, const Iteration& iteration) {
  std::size_t iterations = 1;
  arena.execute([&] {
    const auto start = std::chrono::steady_clock::now();
    std::size_t done = 0;
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
           seconds_per_repeat) {
      iteration(done++);
    }
    iterations = std::max(done, min_iterations);
  });
  Repeats tries =
      time_repeats(repeats, double(iterations) * work_per_iteration, allowed_background_cores, [&] {
        arena.execute([&] {
          for (std::size_t i = 0; i < iterations; ++i) iteration(i);
        });
      });
  return {iterations, std::move(tries)};
}

// The JSON fields of the tries in `unit`s (samples, sequences, steps), as the Python peers write
// theirs (peer_timing.py's rate_fields). Per CPU-second of this process: on a shared machine, a
// single-threaded figure that time-slicing by other processes barely moves.
inline nlohmann::json rate_fields(std::string_view unit, const Repeats& r) {
  const std::string u(unit);
  return {{"seconds", r.seconds},
          {u + "_per_second", r.rates},
          {"background_cores", r.background_cores},
          {"allowed_background_cores", kAllowedBackgroundCores},
          {"median_" + u + "_per_second", r.median_rate},
          {"contaminated", r.contaminated},
          {u + "_per_cpu_second", r.cpu_rates},
          {"median_" + u + "_per_cpu_second", median(r.cpu_rates)}};
}

}  // namespace locus::bench_perf
