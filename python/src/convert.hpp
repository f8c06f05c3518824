#pragma once
// Conversions between Python objects and the values of the environment API: JSON kwargs and
// options, infos, arrays, seeds and dtypes.
//
// Every function here needs the GIL.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "envs/array.hpp"
#include "envs/env.hpp"
#include "envs/info.hpp"

namespace locus::python {

namespace py = pybind11;

// A dict / list / scalar (Python or numpy) / ndarray as JSON, for make() kwargs and reset()
// options. Throws envs::InvalidArgumentError naming `context` and the value's type for anything
// else (and for a dict key that is not a str).
envs::Kwargs to_json(py::handle object, std::string_view context);
py::object from_json(const nlohmann::json& json);

// An array's shape as numpy prints it: "(3,)", "(2, 4)".
std::string shape_text(const py::array& array);

// numpy's dtype of a locus element type, and back (nullopt: numpy has it, locus does not).
py::dtype to_numpy_dtype(envs::DType dtype);
std::optional<envs::DType> from_numpy_dtype(const py::dtype& dtype);
// "bool, int8, uint8, int16, int32, int64, float32, float64" for error messages.
std::string supported_dtypes();

// A copy as a fresh ndarray of the same dtype and shape.
py::array to_numpy(const envs::Array& array);
// A copy of an ndarray (any layout) as an Array; throws envs::BufferError naming `context` for a
// dtype locus has no element type for, or a non-native byte order.
envs::Array to_array(const py::array& array, std::string_view context);

// Gymnasium's info dict: bools, ints and floats as Python scalars, arrays as fresh ndarrays,
// nested Infos as dicts.
py::dict to_python(const envs::Info& info);
py::object to_python(const envs::InfoValue& value);
// Back from a Python dict (the Python envs driven by locus): bool, int, float, str, ndarray and
// nested dicts; numpy scalars as their Python twins. Other values are skipped, since an Info
// cannot hold them (nothing on the C++ side could read them).
void to_info(const py::dict& dict, envs::Info& info);

// A reset() seed: None, or a non-negative int of any size (anything with __index__), as numpy's
// SeedSequence takes it. Throws envs::InvalidArgumentError naming `context` otherwise (a negative
// int, a float), as numpy refuses those too.
std::optional<envs::Seed> to_seed(py::handle seed, std::string_view context);
// The seed as a Python int.
py::int_ to_python(const envs::Seed& seed);

// The Python type name of `object`, for error messages ("float", "numpy.ndarray").
std::string type_name(py::handle object);

}  // namespace locus::python
