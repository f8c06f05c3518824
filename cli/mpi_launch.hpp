#pragma once
// How `locus sweep` and `locus train` know that mpirun (or srun) started them: the launchers put
// the job's size in the environment (OpenMPI OMPI_COMM_WORLD_SIZE, MPICH's Hydra PMI_SIZE, PMIx
// PMIX_SIZE). Without one of them locus never initializes MPI.

#include <fmt/format.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace locus::cli {

// The ranks of the MPI job this process was started in, or 1.
inline int mpi_launched_ranks() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    if (const char* value = std::getenv(variable)) {
      const int ranks = std::atoi(value);
      if (ranks > 0) return ranks;
    }
  }
  return 1;
}

// The error of a locus built without MPI that mpirun started: every rank would do all the work.
inline std::string built_without_mpi(std::string_view command, int ranks,
                                     std::string_view instead) {
  return fmt::format(
      "locus was started by mpirun ({} ranks) but built without MPI, so every rank would run the "
      "whole `{}`; install MPI (Debian: libopenmpi-dev) and rebuild (CMake finds it; "
      "LOCUS_MPI=AUTO), "
      "or run without mpirun: {}",
      ranks, command, instead);
}

}  // namespace locus::cli
