#pragma once
// Whether a CUDA test can run here. Without a device it is skipped with a warning that says why
// (cuda_status()), so that machines without a GPU pass the suite cleanly; the same tests run where
// one is lent.

#include <catch2/catch.hpp>

#include "neuromod/cuda/cuda_network.hpp"

namespace locus::neuromod::testing {

inline bool have_device() {
  if (cuda_available()) return true;
  WARN("CUDA test skipped: " << cuda_status());
  return false;
}

}  // namespace locus::neuromod::testing
