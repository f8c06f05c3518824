#pragma once
// Ctrl-C and SIGTERM for the command lines (C++ and Python) that train: while a StopOnSignals
// lives, the first signal asks the run to stop cleanly (at its next checkpoint, agents/run.hpp's
// StopFlag) and says so on stderr; a second one ends the process at once (the default action),
// leaving the run at its last checkpoint, which --resume continues. The handlers it replaced come
// back when it ends, so a Python session gets its KeyboardInterrupt back. One at a time.

#include "agents/run.hpp"

namespace locus::agents {

class StopOnSignals {
 public:
  StopOnSignals();   // clears the flag and installs the handlers
  ~StopOnSignals();  // restores the handlers it replaced
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

  const StopFlag& flag() const;
  // The signal (SIGINT or SIGTERM) that set the flag under the last StopOnSignals, 0 if none did;
  // it outlives the guard, for the exit status.
  static int last_signal();
};

}  // namespace locus::agents
