// Deterministic fork/join over index ranges with TBB, shared by every locus folder that runs work
// in parallel (VectorEnv, the networks' CPU kernels, the agents' workers).
//
// Two things every caller needs and TBB does not give by itself:
//  - ThreadSanitizer sees the fork and the join. Debian's libtbb is not built with TSan, so the
//    synchronization inside its task queues is invisible and every parallel_for would be reported
//    as a race on the data the caller prepared. run_chunks() marks the fork (everything written
//    before it is visible to the workers) and the join (everything the workers wrote is visible
//    after it) with TSan's acquire/release annotations, so TSan reports only real races in locus
//    code. Without -fsanitize=thread the annotations compile to nothing.
//  - The chunks are fixed: a static partitioner with a fixed grain gives each thread the same
//    ranges every call (cache locality), and since each index is processed by exactly one body
//    call, results do not depend on the thread count as long as the body writes only its own
//    indices.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <cstddef>

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace locus::util {

namespace detail {
#if defined(__SANITIZE_THREAD__)
// One address per direction: a release on it publishes the releasing thread's writes to the next
// thread that acquires it.
inline char fork_token;
inline char join_token;
inline void tsan_fork_release() {
  __tsan_release(&fork_token);
}
inline void tsan_fork_acquire() {
  __tsan_acquire(&fork_token);
}
inline void tsan_join_release() {
  __tsan_release(&join_token);
}
inline void tsan_join_acquire() {
  __tsan_acquire(&join_token);
}
#else
inline void tsan_fork_release() {}
inline void tsan_fork_acquire() {}
inline void tsan_join_release() {}
inline void tsan_join_acquire() {}
#endif
}  // namespace detail

// Calls body(begin, end) over [0, n) in chunks of at least `grain` indices, inside `arena` (which
// bounds the threads). The body must write only state owned by its indices.
template <class Body>
void run_chunks(tbb::task_arena& arena, std::size_t n, std::size_t grain, const Body& body) {
  if (n == 0) return;
  detail::tsan_fork_release();
  arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, n, grain == 0 ? 1 : grain),
        [&](const tbb::blocked_range<std::size_t>& range) {
          detail::tsan_fork_acquire();
          body(range.begin(), range.end());
          detail::tsan_join_release();
        },
        tbb::static_partitioner());
  });
  detail::tsan_join_acquire();
}

// Calls body(i) for each block index i in [0, count), one TBB task per index, in the caller's arena
// (whatever bounds it: a tbb::task_arena, tbb::global_control). For kernels that split their work
// into blocks whose size depends on the shapes only: each block is one task, so results do not
// depend on the thread count. A single block runs on the calling thread.
template <class Body>
void run_blocks(std::size_t count, const Body& body) {
  if (count == 0) return;
  if (count == 1) {
    body(std::size_t{0});
    return;
  }
  detail::tsan_fork_release();
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, count, 1),
      [&](const tbb::blocked_range<std::size_t>& range) {
        detail::tsan_fork_acquire();
        for (std::size_t i = range.begin(); i != range.end(); ++i) body(i);
        detail::tsan_join_release();
      },
      tbb::simple_partitioner());
  detail::tsan_join_acquire();
}

}  // namespace locus::util
