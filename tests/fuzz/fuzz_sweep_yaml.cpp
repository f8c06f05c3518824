// Fuzz target: a sweep configuration (bench::SweepConfig::from_yaml, then expand(), which checks
// every run's settings before anything runs, as `locus sweep` does). Any text must give runs or a
// bench error naming the problem.

#include <cstddef>
#include <cstdint>
#include <string>

#include "bench/harness/errors.hpp"
#include "bench/harness/sweep.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  locus::fuzz::expect_clean<locus::bench::Error>([&] {
    const auto config = locus::bench::SweepConfig::from_yaml(text);
    config.expand();
  });
  return 0;
}
