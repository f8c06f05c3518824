#pragma once
// Replaces the global operator new with one that counts its calls while an AllocationCounter is
// alive, to prove that a step path allocates nothing. It DEFINES the replacement operators: include
// it in exactly one source file of a program (a second one would define them twice). For test and
// benchmark programs only (tests/envs, bench/perf), never for a library.
//
// Every non-aligned form is replaced, all on malloc/free, so that no memory crosses between these
// and the library's (or a sanitizer's) versions.

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace locus::util {

inline std::atomic<bool> g_count_allocations{false};
inline std::atomic<long> g_allocations{0};

inline void* counted_malloc(std::size_t size) noexcept {
  if (g_count_allocations.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  return std::malloc(size == 0 ? 1 : size);
}

inline void* counted_new(std::size_t size) {
  if (void* p = counted_malloc(size)) return p;
  throw std::bad_alloc();
}

// Counts the operator new calls from its construction on; count() reads the running total.
class AllocationCounter {
 public:
  AllocationCounter() {
    g_allocations = 0;
    g_count_allocations = true;
  }
  ~AllocationCounter() { g_count_allocations = false; }
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;
  long count() const { return g_allocations.load(); }
};

}  // namespace locus::util

// GCC 12 flags free() on memory from a new-expression that it inlined here, which is what a
// replacement does by design. The replacements are defined in this header on purpose: a
// replacement may not be inline, and the header is included by one file per program.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// NOLINTBEGIN(misc-definitions-in-headers)
void* operator new(std::size_t size) {
  return locus::util::counted_new(size);
}
void* operator new[](std::size_t size) {
  return locus::util::counted_new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return locus::util::counted_malloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return locus::util::counted_malloc(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
// NOLINTEND(misc-definitions-in-headers)
#pragma GCC diagnostic pop
