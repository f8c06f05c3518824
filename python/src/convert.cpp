#include "convert.hpp"

#include <pybind11/gil_safe_call_once.h>

#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "envs/errors.hpp"

namespace locus::python {

namespace {

const py::object& numpy_generic_type() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage
      .call_once_and_store_result(
          [] { return py::object(py::module_::import("numpy").attr("generic")); })
      .get_stored();
}

std::string context_prefix(std::string_view context) {
  return context.empty() ? std::string() : std::string(context) + ": ";
}

}  // namespace

std::string type_name(py::handle object) {
  const py::handle type = py::type::handle_of(object);
  const std::string name = py::str(type.attr("__qualname__"));
  const std::string module = py::str(type.attr("__module__"));
  return module == "builtins" ? name : module + "." + name;
}

envs::Kwargs to_json(py::handle object, std::string_view context) {
  if (object.is_none()) return nullptr;
  // bool before int: a Python bool is an int.
  if (PyBool_Check(object.ptr())) return object.cast<bool>();
  if (PyLong_Check(object.ptr())) {
    int overflow = 0;
    const long long value = PyLong_AsLongLongAndOverflow(object.ptr(), &overflow);
    if (overflow == 0) return static_cast<std::int64_t>(value);
    const unsigned long long unsigned_value = PyLong_AsUnsignedLongLong(object.ptr());
    if (PyErr_Occurred()) {
      PyErr_Clear();
      throw envs::InvalidArgumentError(context_prefix(context) + "the integer " +
                                       std::string(py::str(object)) + " does not fit in 64 bits");
    }
    return static_cast<std::uint64_t>(unsigned_value);
  }
  if (PyFloat_Check(object.ptr())) return object.cast<double>();
  if (PyUnicode_Check(object.ptr())) return object.cast<std::string>();
  if (PyDict_Check(object.ptr())) {
    envs::Kwargs out = envs::Kwargs::object();
    for (const auto& [key, value] : py::reinterpret_borrow<py::dict>(object)) {
      if (!PyUnicode_Check(key.ptr())) {
        throw envs::InvalidArgumentError(context_prefix(context) + "dict keys must be str, got " +
                                         std::string(py::repr(key)) + " (" + type_name(key) + ")");
      }
      const std::string name = key.cast<std::string>();
      out[name] = to_json(value, std::string(context) + "['" + name + "']");
    }
    return out;
  }
  if (PyList_Check(object.ptr()) || PyTuple_Check(object.ptr())) {
    envs::Kwargs out = envs::Kwargs::array();
    for (const auto& item : py::reinterpret_borrow<py::sequence>(object)) {
      out.push_back(to_json(item, context));
    }
    return out;
  }
  // numpy scalars and arrays: through their Python twins (item() and tolist()).
  if (py::isinstance<py::array>(object)) {
    return to_json(object.attr("tolist")(), context);
  }
  if (py::isinstance(object, numpy_generic_type())) {
    return to_json(object.attr("item")(), context);
  }
  throw envs::InvalidArgumentError(
      context_prefix(context) + "cannot pass a value of type " + type_name(object) + " (" +
      std::string(py::repr(object)) +
      "); allowed: None, bool, int, float, str, list, tuple, dict, numpy scalars and arrays");
}

py::object from_json(const nlohmann::json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return py::none();
    case nlohmann::json::value_t::boolean:
      return py::bool_(json.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return py::int_(json.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return py::int_(json.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float:
      return py::float_(json.get<double>());
    case nlohmann::json::value_t::string:
      return py::str(json.get<std::string>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const auto& item : json) out.append(from_json(item));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [key, value] : json.items()) out[py::str(key)] = from_json(value);
      return out;
    }
    case nlohmann::json::value_t::binary:
      break;
  }
  throw envs::InvalidArgumentError("cannot convert JSON value " + json.dump() + " to Python");
}

py::dtype to_numpy_dtype(envs::DType dtype) {
  return envs::visit_dtype(dtype, [](auto type) {
    using T = typename decltype(type)::type;
    return py::dtype::of<T>();
  });
}

std::optional<envs::DType> from_numpy_dtype(const py::dtype& dtype) {
  const char kind = dtype.kind();
  const auto size = dtype.itemsize();
  switch (kind) {
    case 'b':
      return envs::DType::kBool;
    case 'i':
      if (size == 1) return envs::DType::kInt8;
      if (size == 2) return envs::DType::kInt16;
      if (size == 4) return envs::DType::kInt32;
      if (size == 8) return envs::DType::kInt64;
      break;
    case 'u':
      if (size == 1) return envs::DType::kUInt8;
      break;
    case 'f':
      if (size == 4) return envs::DType::kFloat32;
      if (size == 8) return envs::DType::kFloat64;
      break;
    default:
      break;
  }
  return std::nullopt;
}

std::string supported_dtypes() {
  return "bool, int8, uint8, int16, int32, int64, float32, float64";
}

py::array to_numpy(const envs::Array& array) {
  std::vector<py::ssize_t> shape(array.shape().begin(), array.shape().end());
  py::array out(to_numpy_dtype(array.dtype()), shape);
  if (array.nbytes() > 0) std::memcpy(out.mutable_data(), array.bytes().data(), array.nbytes());
  return out;
}

envs::Array to_array(const py::array& array, std::string_view context) {
  const std::optional<envs::DType> dtype = from_numpy_dtype(array.dtype());
  if (!dtype) {
    throw envs::BufferError(context_prefix(context) + "arrays of dtype " +
                            std::string(py::str(array.dtype())) +
                            " are not supported; supported dtypes: " + supported_dtypes());
  }
  if (array.dtype().byteorder() == '>') {
    throw envs::BufferError(context_prefix(context) + "the array has a big-endian dtype " +
                            std::string(py::str(array.dtype())) +
                            "; convert it with .astype(native dtype) first");
  }
  // A C-contiguous copy when the array is strided (a slice, a transpose).
  const py::array contiguous = py::array::ensure(array, py::array::c_style);
  envs::Shape shape(contiguous.shape(), contiguous.shape() + contiguous.ndim());
  const auto* bytes = static_cast<const std::byte*>(contiguous.data());
  return envs::Array::from_bytes(*dtype, std::move(shape),
                                 {bytes, static_cast<std::size_t>(contiguous.nbytes())});
}

py::object to_python(const envs::InfoValue& value) {
  return std::visit(
      [](const auto& v) -> py::object {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, bool>) {
          return py::bool_(v);
        } else if constexpr (std::is_same_v<V, std::int64_t>) {
          return py::int_(v);
        } else if constexpr (std::is_same_v<V, double>) {
          return py::float_(v);
        } else if constexpr (std::is_same_v<V, std::string>) {
          return py::str(v);
        } else if constexpr (std::is_same_v<V, envs::Array>) {
          return to_numpy(v);
        } else {
          return to_python(v.get());
        }
      },
      value);
}

py::dict to_python(const envs::Info& info) {
  py::dict out;
  for (const auto& entry : info.entries()) out[py::str(entry.key)] = to_python(entry.value);
  return out;
}

void to_info(const py::dict& dict, envs::Info& info) {
  for (const auto& [key, value] : dict) {
    if (!PyUnicode_Check(key.ptr())) continue;
    const std::string name = key.cast<std::string>();
    py::handle item = value;
    py::object scalar;
    if (py::isinstance(item, numpy_generic_type())) {
      scalar = item.attr("item")();
      item = scalar;
    }
    if (PyBool_Check(item.ptr())) {
      info.set(name, item.cast<bool>());
    } else if (PyLong_Check(item.ptr())) {
      int overflow = 0;
      const long long v = PyLong_AsLongLongAndOverflow(item.ptr(), &overflow);
      if (overflow == 0) info.set(name, static_cast<std::int64_t>(v));
    } else if (PyFloat_Check(item.ptr())) {
      info.set(name, item.cast<double>());
    } else if (PyUnicode_Check(item.ptr())) {
      info.set(name, item.cast<std::string>());
    } else if (py::isinstance<py::array>(item)) {
      const auto array = py::reinterpret_borrow<py::array>(item);
      if (from_numpy_dtype(array.dtype()) && array.dtype().byteorder() != '>') {
        info.set(name, to_array(array, name));
      }
    } else if (PyDict_Check(item.ptr())) {
      to_info(py::reinterpret_borrow<py::dict>(item), info.nested(name));
    }
  }
}

std::optional<envs::Seed> to_seed(py::handle seed, std::string_view context) {
  if (seed.is_none()) return std::nullopt;
  // Anything with __index__ (int, numpy integers); a float seed is refused as numpy refuses it.
  py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(seed.ptr()));
  if (!index) {
    PyErr_Clear();
    throw envs::InvalidArgumentError(context_prefix(context) +
                                     "seed must be None or a non-negative int, got " +
                                     std::string(py::repr(seed)) + " (" + type_name(seed) + ")");
  }
  if (PyObject_RichCompareBool(index.ptr(), py::int_(0).ptr(), Py_LT) == 1) {
    throw envs::InvalidArgumentError(context_prefix(context) +
                                     "seed must be a non-negative int, got " +
                                     std::string(py::repr(seed)));
  }
  const unsigned long long value = PyLong_AsUnsignedLongLong(index.ptr());
  if (!PyErr_Occurred()) return envs::Seed(static_cast<std::uint64_t>(value));
  PyErr_Clear();
  // 2**64 or more: numpy splits the int into little-endian 32-bit words.
  const auto bits = py::cast<std::size_t>(index.attr("bit_length")());
  const std::size_t word_count = (bits + 31) / 32;
  const auto bytes =
      py::cast<std::string>(index.attr("to_bytes")(word_count * 4, py::str("little")));
  std::vector<std::uint32_t> words(word_count);
  for (std::size_t k = 0; k < word_count; ++k) {
    std::uint32_t word = 0;
    for (std::size_t b = 4; b-- > 0;) {
      word = (word << 8) | static_cast<unsigned char>(bytes[k * 4 + b]);
    }
    words[k] = word;
  }
  return envs::Seed::from_words(words);
}

py::int_ to_python(const envs::Seed& seed) {
  std::string bytes;
  for (const std::uint32_t word : seed.words()) {
    for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<char>((word >> (8 * b)) & 0xffU));
  }
  return py::int_(py::module_::import("builtins")
                      .attr("int")
                      .attr("from_bytes")(py::bytes(bytes), py::str("little")));
}

std::string shape_text(const py::array& array) {
  std::string out = "(";
  for (py::ssize_t d = 0; d < array.ndim(); ++d) {
    out += (d ? ", " : "") + std::to_string(array.shape(d));
  }
  return out + (array.ndim() == 1 ? ",)" : ")");
}

}  // namespace locus::python
