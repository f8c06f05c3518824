#pragma once
// An empty directory for a test's output under the system's temporary directory, named after the
// test and this process (CTest runs test cases in parallel processes), removed first if a run
// before left it behind.

#include <unistd.h>

#include <filesystem>
#include <string>

namespace locus::testing {

inline std::filesystem::path fresh_dir(const std::string& name) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("locus_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace locus::testing
