// Exceptions of locus::neuromod, locus::bench and locus::agents as the classes of locus.errors, so
// that a bad shape, an unknown parameter or a bad sweep config reaches Python with the C++ message
// and a type a Python user can catch (each class also derives from the builtin that fits, e.g.
// ValueError).
//
// Registered after module.cpp's translator for locus::envs; pybind11 tries the most recently
// registered translator first and moves on to the older ones when it does not match.

#include <pybind11/pybind11.h>

#include "agents/errors.hpp"
#include "bench/harness/errors.hpp"
#include "bindings.hpp"
#include "neuromod/errors.hpp"

namespace locus::python {

namespace {

// Raises the class `name` of locus.errors with `message`; RuntimeError if the package cannot be
// imported (the module used on its own).
void set_locus_error(const char* name, const char* message) {
  try {
    const py::object type = py::module_::import("locus.errors").attr(name);
    PyErr_SetString(type.ptr(), message);
  } catch (py::error_already_set&) {
    PyErr_Clear();
    PyErr_SetString(PyExc_RuntimeError, message);
  }
}

}  // namespace

void register_library_exception_translators() {
  py::register_exception_translator([](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const neuromod::InvalidArgumentError& e) {
      set_locus_error("InvalidArgumentError", e.what());
    } catch (const neuromod::ShapeError& e) {
      set_locus_error("ShapeError", e.what());
    } catch (const neuromod::ContextError& e) {
      set_locus_error("ContextError", e.what());
    } catch (const neuromod::NonFiniteError& e) {
      set_locus_error("NonFiniteError", e.what());
    } catch (const neuromod::DeviceError& e) {
      set_locus_error("DeviceError", e.what());
    } catch (const neuromod::CheckpointError& e) {
      set_locus_error("CheckpointError", e.what());
    } catch (const neuromod::Error& e) {
      set_locus_error("Error", e.what());
    } catch (const bench::InvalidArgumentError& e) {
      set_locus_error("InvalidArgumentError", e.what());
    } catch (const bench::SweepStateError& e) {
      set_locus_error("SweepStateError", e.what());
    } catch (const bench::Error& e) {
      set_locus_error("Error", e.what());
    } catch (const agents::CheckpointError& e) {
      set_locus_error("CheckpointError", e.what());
    } catch (const agents::RunDirectoryError& e) {
      set_locus_error("RunDirectoryError", e.what());
    } catch (const agents::TrainingError& e) {
      set_locus_error("TrainingError", e.what());
    } catch (const agents::RunInterrupted& e) {
      set_locus_error("RunInterrupted", e.what());
    } catch (const agents::Error& e) {
      set_locus_error("Error", e.what());
    }
  });
}

}  // namespace locus::python
