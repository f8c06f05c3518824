#pragma once
// The pieces of module locus._core, each defined in its own file and added by module.cpp.

#include <pybind11/pybind11.h>

#include <memory>

#include "envs/env.hpp"

namespace locus::python {

namespace py = pybind11;

// locus::envs warnings are queued (they may come from TBB workers, which must not touch Python)
// and handed to gymnasium.logger.warn by flush_warnings(), which every binding calls with the GIL
// held after the C++ call returns.
void install_warning_handler();
void flush_warnings();

// Maps every locus exception to the class of locus.errors of its name (errors.cpp): Gymnasium's
// errors with the matching builtin as a second base, e.g. InvalidActionError(
// gymnasium.error.InvalidAction, ValueError).
void register_exception_translators();

void bind_env(py::module_& module);         // _core.Env: one environment
void bind_vector_env(py::module_& module);  // _core.VectorEnv
void bind_python_env(py::module_& module);  // Python gymnasium.Env driven as a locus Env
void bind_training(py::module_& module);    // locus agents trained from Python (train.cpp)
void bind_harness(py::module_& module);     // sweeps and _core.metrics (harness.cpp)
void bind_network(py::module_& module);     // _core.Network, for inspection (network.cpp)
void bind_policy(py::module_& module);      // _core.Policy: a run's trained policy (policy.cpp)
void bind_supervised(
    py::module_& module);  // recurrent networks on cognitive tasks (supervised.cpp)

// A Python gymnasium.Env as a locus Env (python_env.cpp); the spaces in Space::to_json's form.
std::unique_ptr<envs::Env> make_python_env(const py::object& env, const py::dict& observation_space,
                                           const py::dict& action_space);

}  // namespace locus::python
