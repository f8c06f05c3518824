#pragma once
// A sweep spread over the ranks of an MPI job: `mpirun -n N locus sweep CONFIG --out DIR`.
//
// Rank 0 coordinates. It alone touches the output folder (the other ranks need no shared file
// system): it plans the sweep, holds the RunQueue (run_queue.hpp), claims each run it hands out
// (so that another job or process on the folder never runs it too), writes each run's file as it
// arrives and the summary at the end. Every rank, rank 0 included, runs --jobs worker threads;
// a worker asks rank 0 for a run whenever it has finished one (dynamic assignment: uneven runs
// balance), and its request carries the finished run's file. A run's file depends only on its
// settings and seed, so the results are those of one process, whatever the ranks and threads.
//
// A rank that dies (SIGKILL, a node lost) ends the job: mpirun stops the others. The runs that
// finished are in the folder; the same command run again runs the rest, none twice. A run that
// fails stops the sweep the same way as in one process: its error, naming the rank, ends rank 0
// with the error's exit status once the runs in flight have been written.
//
// With GPUs, each rank's workers use the GPU of its local rank (modulo the node's GPUs).

#include "bench/harness/scheduler.hpp"
#include "bench/harness/sweep_config.hpp"
#include "bench/mpi/mpi_world.hpp"

namespace locus::bench::mpi {

// Every rank calls it with the same config and options (the same command line). On rank 0 the
// outcome is the sweep's, as run_sweep's; on the others it counts the runs the rank executed.
SweepOutcome run_sweep_mpi(const SweepConfig& config, const SweepOptions& options,
                           const MpiWorld& world);

}  // namespace locus::bench::mpi
