#pragma once
// What the bench programs (the benchmarks of bench/perf, a study's own executable) share around
// their work: a main() that no exception escapes, and writing the results document.

#include <cstdio>
#include <exception>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "util/atomic_file.hpp"

namespace locus::bench {

// Runs a benchmark program's body (argument parsing included) and turns an exception escaping it
// into "<program>: <what>" on stderr and exit status 1.
template <typename Body>
int guarded_main(const char* program, const Body& body) noexcept {
  try {
    return body();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: %s\n", program, error.what());
  } catch (...) {
    std::fprintf(stderr, "%s: unknown error\n", program);
  }
  return 1;
}

// The results document: to `json_path`, atomically (a reader never sees half a file), or to
// stdout when the path is empty. Throws std::runtime_error when the file cannot be written.
inline void write_results(const nlohmann::json& document, const std::string& json_path) {
  const std::string text = document.dump(2) + "\n";
  if (json_path.empty()) {
    std::fputs(text.c_str(), stdout);
  } else {
    util::write_file_atomically<std::runtime_error>(json_path, text);
  }
}

}  // namespace locus::bench
