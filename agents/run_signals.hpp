#pragma once
// Ctrl-C and SIGTERM for the command lines (C++ and Python) that train: the first signal asks the
// run to stop cleanly (at its next checkpoint, agents/run.hpp's StopFlag) and says so on stderr; a
// second one ends the process at once (the default action), leaving the run at its last checkpoint,
// which --resume continues.

#include "agents/run.hpp"

namespace locus::agents {

// Installs the handlers (once) and returns the flag they set.
const StopFlag& stop_on_signals();
// The signal that set the flag (SIGINT or SIGTERM), 0 if none did.
int stopping_signal();

}  // namespace locus::agents
