// A deliberate data race under util::run_chunks, built and run by scripts/sanitize.sh with
// -fsanitize=thread and scripts/tsan.supp: ThreadSanitizer must report it. This proves that the
// suppressions (needed because Debian's libtbb is not TSan-instrumented) and run_chunks' fork/join
// annotations do not hide races in locus code. Without an argument it runs the same loop without
// the race, which must come out clean.
#include <cstdio>
#include <cstring>
#include <vector>

#include "util/parallel.hpp"

int main(int argc, char** argv) {
  const bool racy = argc > 1 && std::strcmp(argv[1], "--race") == 0;
  tbb::task_arena arena(2);
  std::vector<long> owned(1 << 16, 0);  // each index written by exactly one chunk: no race
  long shared = 0;                      // written by every chunk: a race when racy
  for (int repeat = 0; repeat < 50; ++repeat) {
    locus::util::run_chunks(arena, owned.size(), 1024, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) owned[i] += 1;
      if (racy) shared += 1;
    });
  }
  std::printf("owned[0] = %ld, shared = %ld\n", owned[0], shared);
  return 0;
}
