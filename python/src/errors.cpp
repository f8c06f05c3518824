// Every locus exception as the class of locus.errors (python/locus/errors.py) of the same name, so
// that a bad shape, an unknown env id or a bad sweep config reaches Python with the C++ message and
// a type a Python user can catch: Gymnasium's error where one matches (UnknownEnvError is a
// gymnasium.error.NameNotFound) and the builtin that fits (InvalidArgumentError is a ValueError).
// The one translator of the module: a subsystem's error without a class of its own arrives as
// InvalidArgumentError when it is a usage error (util/error.hpp), as locus.errors.Error otherwise.

#include "agents/errors.hpp"

#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>

#include "bench/harness/errors.hpp"
#include "bindings.hpp"
#include "envs/errors.hpp"
#include "neuromod/errors.hpp"
#include "util/error.hpp"

namespace locus::python {

namespace {

// Raises the class `name` of locus.errors with `message`; RuntimeError if the package cannot be
// imported (the module used on its own).
void raise(const char* name, const char* message) {
  try {
    const py::object type = py::module_::import("locus.errors").attr(name);
    PyErr_SetString(type.ptr(), message);
  } catch (py::error_already_set&) {
    PyErr_Clear();
    PyErr_SetString(PyExc_RuntimeError, message);
  }
}

// The class of locus.errors for `error`: the most derived class that has one of its own.
const char* class_name(const locus::Error& error) {
  // Most derived first: the first match wins.
  if (dynamic_cast<const envs::UnknownEnvError*>(&error)) return "UnknownEnvError";
  if (dynamic_cast<const envs::RegistrationError*>(&error)) return "RegistrationError";
  if (dynamic_cast<const envs::InvalidActionError*>(&error)) return "InvalidActionError";
  if (dynamic_cast<const envs::ResetNeededError*>(&error)) return "ResetNeededError";
  if (dynamic_cast<const envs::UnsupportedRenderModeError*>(&error)) {
    return "UnsupportedRenderModeError";
  }
  if (dynamic_cast<const envs::BufferError*>(&error)) return "BufferError";
  if (dynamic_cast<const envs::PluginError*>(&error)) return "PluginError";
  if (dynamic_cast<const envs::CheckError*>(&error)) return "CheckError";
  if (dynamic_cast<const neuromod::ShapeError*>(&error)) return "ShapeError";
  if (dynamic_cast<const neuromod::ContextError*>(&error)) return "ContextError";
  if (dynamic_cast<const neuromod::NonFiniteError*>(&error)) return "NonFiniteError";
  if (dynamic_cast<const neuromod::DeviceError*>(&error)) return "DeviceError";
  if (dynamic_cast<const neuromod::CheckpointError*>(&error)) return "CheckpointError";
  if (dynamic_cast<const agents::CheckpointError*>(&error)) return "CheckpointError";
  if (dynamic_cast<const bench::SweepStateError*>(&error)) return "SweepStateError";
  if (dynamic_cast<const agents::RunDirectoryError*>(&error)) return "RunDirectoryError";
  if (dynamic_cast<const agents::TrainingError*>(&error)) return "TrainingError";
  if (dynamic_cast<const agents::RunInterrupted*>(&error)) return "RunInterrupted";
  return error.kind() == ErrorKind::kUsage ? "InvalidArgumentError" : "Error";
}

}  // namespace

void register_exception_translators() {
  // By value: pybind11's ExceptionTranslator is a void (*)(std::exception_ptr).
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  py::register_exception_translator([](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const locus::Error& e) {
      raise(class_name(e), e.what());
    } catch (const nlohmann::json::exception& e) {
      // A value of the wrong JSON type that no reader checked.
      raise("InvalidArgumentError", e.what());
    }
  });
}

}  // namespace locus::python
