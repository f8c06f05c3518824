#include "agents/run_signals.hpp"

#include <unistd.h>

#include <csignal>
#include <cstring>

namespace locus::agents {
namespace {

StopFlag g_stop{false};
volatile std::sig_atomic_t g_signal = 0;
struct sigaction g_previous_int, g_previous_term;

void on_signal(int signal) {
  g_signal = signal;
  g_stop.store(true);
  // Only async-signal-safe calls here: write(2), no stdio.
  constexpr char kMessage[] =
      "\nlocus: stopping at the next checkpoint (press Ctrl-C again to stop now; the run then "
      "resumes from its last checkpoint)\n";
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}

}  // namespace

StopOnSignals::StopOnSignals() {
  g_stop.store(false);
  g_signal = 0;
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;  // the second signal takes its default action: the end
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

StopOnSignals::~StopOnSignals() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

const StopFlag& StopOnSignals::flag() const {
  return g_stop;
}

int StopOnSignals::last_signal() {
  return g_signal;
}

}  // namespace locus::agents
