#pragma once
// Shared by the fuzz targets (tests/fuzz/fuzz_*.cpp): what counts as a clean refusal, and a
// per-process scratch file for readers that take a path.
//
// A target feeds its input to a parser and accepts exactly one outcome besides success: the
// library's own error class, carrying a message. Anything else escaping the parser (a raw
// nlohmann::json or std:: exception, std::bad_alloc) is a bug: the target aborts and libFuzzer
// keeps the input as a crash. Memory errors, undefined behaviour, leaks, timeouts and allocations
// past -rss_limit_mb / -malloc_limit_mb are caught by the sanitizers and libFuzzer themselves.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <typeinfo>

namespace locus::fuzz {

inline void require_message(const std::exception& error) {
  if (std::string_view(error.what()).empty()) {
    std::fprintf(stderr, "refused with an empty message (%s)\n", typeid(error).name());
    std::abort();
  }
}

template <class First, class... Rest, class F>
void run_accepting(F& parse) {
  try {
    if constexpr (sizeof...(Rest) == 0) {
      parse();
    } else {
      run_accepting<Rest...>(parse);
    }
  } catch (const First& error) {
    require_message(error);
  }
}

// Runs `parse`; returns normally if it succeeds or throws one of `Accepted` with a message, aborts
// (printing what escaped) on anything else.
template <class... Accepted, class F>
void expect_clean(F&& parse) {
  try {
    run_accepting<Accepted...>(parse);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "escaped the parser: %s: %s\n", typeid(error).name(), error.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "escaped the parser: a non-std exception\n");
    std::abort();
  }
}

// Aborts with `what` when `condition` is false: for invariants a target checks on success.
inline void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// One file per process under the temporary directory, rewritten for every input (libFuzzer runs
// inputs one after another in a process; parallel jobs are separate processes).
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& suffix)
      : path_(std::filesystem::temp_directory_path() /
              ("locus_fuzz_" + std::to_string(::getpid()) + suffix)) {}
  ~ScratchFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  const std::filesystem::path& write(const std::uint8_t* data, std::size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path_;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace locus::fuzz
