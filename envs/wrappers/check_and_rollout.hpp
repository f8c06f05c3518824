#pragma once
// What `locus check` and `locus rollout` run, shared by the C++ command line (cli/env_commands.cpp)
// and the Python one (python/locus/cli.py, for envs given as module:Name, which only a process
// with Python can make): each makes the env by id from the registry and writes its report, line by
// line, to `line`.

#include <cstdint>
#include <functional>
#include <string>

#include "envs/env.hpp"

namespace locus::envs {

using ReportLine = std::function<void(const std::string&)>;

// The env checker on the raw env (check_env), then "<id>: all checks passed (<n> warnings)".
// Throws CheckError on the first violation.
void run_check(const std::string& id, const Kwargs& kwargs, std::uint64_t seed, int steps,
               const ReportLine& line);

// `episodes` episodes with a uniformly random policy, the first reset seeded with `seed` (later
// ones continue the stream, as Gymnasium's convention is): a line per episode, with the ANSI
// rendering after every step when `render`, then the steps per second.
void run_rollout(const std::string& id, const Kwargs& kwargs, int episodes, std::uint64_t seed,
                 bool render, const ReportLine& line);

}  // namespace locus::envs
