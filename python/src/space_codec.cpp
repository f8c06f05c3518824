#include "space_codec.hpp"

#include <pybind11/stl.h>

#include <cstring>

#include "convert.hpp"
#include "envs/errors.hpp"

namespace locus::python {

namespace {

const char* kind_name(envs::SpaceKind kind) {
  switch (kind) {
    case envs::SpaceKind::kDiscrete:
      return "Discrete";
    case envs::SpaceKind::kBox:
      return "Box";
    case envs::SpaceKind::kMultiDiscrete:
      return "MultiDiscrete";
    case envs::SpaceKind::kMultiBinary:
      return "MultiBinary";
    case envs::SpaceKind::kTuple:
      return "Tuple";
    case envs::SpaceKind::kDict:
      return "Dict";
  }
  return "?";
}

std::string prefix(std::string_view context) {
  return context.empty() ? std::string() : std::string(context) + ": ";
}

}  // namespace

SpaceCodec::SpaceCodec(envs::SpacePtr space)
    : space_(std::move(space)),
      root_(build(*space_, 0)),
      int64_type_(py::module_::import("numpy").attr("int64")),
      asarray_(py::module_::import("numpy").attr("asarray")),
      float64_(py::module_::import("numpy").attr("float64")) {}

SpaceCodec::Node SpaceCodec::build(const envs::Space& space, std::size_t offset) {
  Node node;
  node.kind = space.kind();
  node.space = &space;
  node.offset = offset;
  node.bytes = space.packed_bytes();
  switch (space.kind()) {
    case envs::SpaceKind::kDiscrete:
      node.dtype = envs::DType::kInt64;
      break;
    case envs::SpaceKind::kBox: {
      const auto& box = static_cast<const envs::Box&>(space);
      node.dtype = box.dtype();
      node.shape.assign(box.shape().begin(), box.shape().end());
      break;
    }
    case envs::SpaceKind::kMultiDiscrete: {
      const auto& multi = static_cast<const envs::MultiDiscrete&>(space);
      node.dtype = envs::DType::kInt64;
      node.shape = {static_cast<py::ssize_t>(multi.nvec().size())};
      break;
    }
    case envs::SpaceKind::kMultiBinary: {
      const auto& binary = static_cast<const envs::MultiBinary&>(space);
      node.dtype = envs::DType::kInt8;
      node.shape.assign(binary.shape().begin(), binary.shape().end());
      break;
    }
    case envs::SpaceKind::kDict:
      node.keys = static_cast<const envs::Dict&>(space).keys();
      [[fallthrough]];
    case envs::SpaceKind::kTuple: {
      const auto& composite = static_cast<const envs::CompositeSpace&>(space);
      for (std::size_t i = 0; i < composite.spaces().size(); ++i) {
        node.children.push_back(build(*composite.spaces()[i], offset + composite.offset(i)));
      }
      break;
    }
  }
  return node;
}

py::array SpaceCodec::new_array() const {
  return py::array(to_numpy_dtype(root_.dtype), root_.shape);
}

py::object SpaceCodec::to_python(std::span<const std::byte> packed) const {
  if (packed.size() != root_.bytes) {
    throw envs::BufferError("SpaceCodec: " + std::to_string(packed.size()) +
                            " packed bytes for the space " + space_->to_string() + ", expected " +
                            std::to_string(root_.bytes));
  }
  return node_to_python(root_, packed);
}

py::object SpaceCodec::node_to_python(const Node& node, std::span<const std::byte> packed) const {
  const std::byte* at = packed.data() + node.offset;
  switch (node.kind) {
    case envs::SpaceKind::kDiscrete: {
      std::int64_t value;
      std::memcpy(&value, at, sizeof value);
      return int64_type_(value);
    }
    case envs::SpaceKind::kBox:
    case envs::SpaceKind::kMultiDiscrete:
    case envs::SpaceKind::kMultiBinary: {
      py::array out(to_numpy_dtype(node.dtype), node.shape);
      if (node.bytes > 0) std::memcpy(out.mutable_data(), at, node.bytes);
      return out;
    }
    case envs::SpaceKind::kTuple: {
      py::tuple out(node.children.size());
      for (std::size_t i = 0; i < node.children.size(); ++i) {
        out[i] = node_to_python(node.children[i], packed);
      }
      return out;
    }
    case envs::SpaceKind::kDict: {
      py::dict out;
      for (std::size_t i = 0; i < node.children.size(); ++i) {
        out[py::str(node.keys[i])] = node_to_python(node.children[i], packed);
      }
      return out;
    }
  }
  throw envs::BufferError("SpaceCodec: unknown space kind");
}

namespace {

// Python numbers (bool, int, float; not numpy scalars), possibly in nested lists and tuples.
bool python_numbers_only(py::handle value) {
  if (PyList_Check(value.ptr()) || PyTuple_Check(value.ptr())) {
    for (const py::handle item : py::reinterpret_borrow<py::sequence>(value)) {
      if (!python_numbers_only(item)) return false;
    }
    return true;
  }
  return PyBool_Check(value.ptr()) || PyLong_CheckExact(value.ptr()) ||
         PyFloat_CheckExact(value.ptr());
}

}  // namespace

std::optional<envs::ActionForm> SpaceCodec::float64_action(py::handle value,
                                                           std::vector<double>& out) const {
  if (root_.kind != envs::SpaceKind::kBox || root_.dtype != envs::DType::kFloat32) {
    return std::nullopt;
  }
  std::optional<envs::ActionForm> form;
  if (py::isinstance<py::array>(value)) {
    const std::optional<envs::DType> dtype =
        from_numpy_dtype(py::reinterpret_borrow<py::array>(value).dtype());
    if (dtype && *dtype != envs::DType::kFloat32) form = envs::ActionForm::kFloat64;
  } else if (python_numbers_only(value)) {
    form = envs::ActionForm::kPythonFloats;
  }
  if (!form) return std::nullopt;
  const auto array = py::reinterpret_borrow<py::array>(asarray_(value, float64_));
  if (static_cast<std::size_t>(array.ndim()) != root_.shape.size() ||
      !std::equal(root_.shape.begin(), root_.shape.end(), array.shape())) {
    return std::nullopt;  // pack() names the shape
  }
  const auto contiguous =
      py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(array);
  out.assign(contiguous.data(), contiguous.data() + contiguous.size());
  return form;
}

std::span<const std::byte> SpaceCodec::pack(py::handle value, std::vector<std::byte>& scratch,
                                            std::string_view context) const {
  scratch.resize(root_.bytes);
  // Gymnasium's Discrete.contains takes a Python bool as the int it is (not a numpy bool).
  if (root_.kind == envs::SpaceKind::kDiscrete && PyBool_Check(value.ptr())) {
    const std::int64_t a = value.ptr() == Py_True ? 1 : 0;
    std::memcpy(scratch.data(), &a, sizeof a);
    return scratch;
  }
  // Fast paths: what agents pass on every step.
  if (root_.kind == envs::SpaceKind::kDiscrete && PyLong_CheckExact(value.ptr())) {
    int overflow = 0;
    const long long action = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow == 0) {
      const auto a = static_cast<std::int64_t>(action);
      std::memcpy(scratch.data(), &a, sizeof a);
      return scratch;
    }
  }
  if (packs_as_array() && py::isinstance<py::array>(value)) {
    const auto array = py::reinterpret_borrow<py::array>(value);
    const std::optional<envs::DType> dtype = from_numpy_dtype(array.dtype());
    if (dtype == root_.dtype && array.dtype().byteorder() != '>' &&
        (array.flags() & py::array::c_style) != 0 &&
        static_cast<std::size_t>(array.ndim()) == root_.shape.size() &&
        std::equal(root_.shape.begin(), root_.shape.end(), array.shape())) {
      // A copy, not a view: the env checks and then reads the action after the GIL is released,
      // when another thread could rewrite the array in between.
      std::memcpy(scratch.data(), array.data(), root_.bytes);
      return scratch;
    }
  }
  const envs::Value converted = to_value(value, context);
  // A Box value of the right dtype and shape: its bounds are the env's to check (Env::step),
  // since an env that clips its actions itself takes values outside them.
  if (root_.kind == envs::SpaceKind::kBox && converted.is_array() &&
      converted.array().dtype() == root_.dtype &&
      converted.array().shape() == envs::Shape(root_.shape.begin(), root_.shape.end())) {
    std::memcpy(scratch.data(), converted.array().bytes().data(), root_.bytes);
    return scratch;
  }
  if (!space_->contains(converted)) {
    std::string why;
    if (is_leaf_kind(root_.kind) && converted.is_array()) {
      const envs::Array& array = converted.array();
      const bool integral_space = root_.kind != envs::SpaceKind::kBox;
      if (integral_space && !envs::is_integer(array.dtype())) {
        why = "an integer is needed, got dtype " + std::string(envs::dtype_name(array.dtype()));
      } else if (!integral_space && !envs::can_cast_safely(array.dtype(), root_.dtype)) {
        why = "dtype " + std::string(envs::dtype_name(array.dtype())) +
              " cannot be cast safely to " + std::string(envs::dtype_name(root_.dtype));
      } else if (root_.kind != envs::SpaceKind::kDiscrete &&
                 envs::Shape(root_.shape.begin(), root_.shape.end()) != array.shape()) {
        why = "shape " + envs::shape_to_string(array.shape()) + " instead of " +
              envs::shape_to_string(envs::Shape(root_.shape.begin(), root_.shape.end()));
      }
    }
    throw_not_in_space(root_, value, context, why);
  }
  space_->pack(converted, scratch);
  return scratch;
}

bool SpaceCodec::is_leaf_kind(envs::SpaceKind kind) {
  return kind != envs::SpaceKind::kTuple && kind != envs::SpaceKind::kDict;
}

void SpaceCodec::throw_not_in_space(const Node& node, py::handle value, std::string_view context,
                                    const std::string& why) const {
  throw envs::InvalidActionError(prefix(context) + std::string(py::repr(value)) + " (" +
                                 type_name(value) + ") is not in the space " +
                                 node.space->to_string() + (why.empty() ? "" : ": " + why));
}

envs::Value SpaceCodec::to_value(py::handle value, std::string_view context) const {
  return node_to_value(root_, value, context);
}

envs::Value SpaceCodec::node_to_value(const Node& node, py::handle value,
                                      std::string_view context) const {
  switch (node.kind) {
    case envs::SpaceKind::kTuple: {
      if (!PyTuple_Check(value.ptr()) && !PyList_Check(value.ptr())) {
        throw_not_in_space(node, value, context, "a tuple is needed");
      }
      const auto items = py::reinterpret_borrow<py::sequence>(value);
      if (items.size() != node.children.size()) {
        throw_not_in_space(node, value, context,
                           std::to_string(items.size()) + " elements instead of " +
                               std::to_string(node.children.size()));
      }
      envs::ValueTuple out;
      for (std::size_t i = 0; i < node.children.size(); ++i) {
        out.push_back(node_to_value(node.children[i], items[i], context));
      }
      return out;
    }
    case envs::SpaceKind::kDict: {
      if (!PyDict_Check(value.ptr())) throw_not_in_space(node, value, context, "a dict is needed");
      const auto items = py::reinterpret_borrow<py::dict>(value);
      if (items.size() != node.keys.size()) {
        throw_not_in_space(
            node, value, context,
            std::to_string(items.size()) + " keys instead of " + std::to_string(node.keys.size()));
      }
      envs::ValueDict out;
      for (std::size_t i = 0; i < node.children.size(); ++i) {
        const py::str key(node.keys[i]);
        if (!items.contains(key)) {
          throw_not_in_space(node, value, context, "the key '" + node.keys[i] + "' is missing");
        }
        out.insert(node.keys[i], node_to_value(node.children[i], items[key], context));
      }
      return out;
    }
    default:
      break;
  }
  try {
    if (py::isinstance<py::array>(value)) {
      return to_array(py::reinterpret_borrow<py::array>(value), "");
    }
    // Python scalars and lists: Box.contains converts them to the Box's dtype; the other spaces
    // keep numpy's default dtypes (a float stays float64 and is refused by a Discrete).
    const py::object array = node.kind == envs::SpaceKind::kBox
                                 ? asarray_(value, to_numpy_dtype(node.dtype))
                                 : asarray_(value);
    return to_array(py::reinterpret_borrow<py::array>(array), "");
  } catch (py::error_already_set& error) {
    // numpy could not make an array of it (None, a ragged list, a string for a float Box).
    const std::string reason = error.what();
    error.restore();
    PyErr_Clear();
    throw_not_in_space(node, value, context, "not convertible to an array (" + reason + ")");
  } catch (const envs::BufferError& error) {
    throw_not_in_space(node, value, context, error.what());
  }
}

py::dict SpaceCodec::layout() const {
  return node_layout(root_);
}

py::dict SpaceCodec::node_layout(const Node& node) const {
  py::dict out;
  out["kind"] = kind_name(node.kind);
  out["offset"] = node.offset;
  out["bytes"] = node.bytes;
  if (is_leaf_kind(node.kind)) {
    out["dtype"] = std::string(envs::dtype_name(node.dtype));
    out["shape"] = py::tuple(py::cast(node.shape));
    return out;
  }
  py::list children;
  for (const auto& child : node.children) children.append(node_layout(child));
  out["children"] = children;
  if (node.kind == envs::SpaceKind::kDict) out["keys"] = py::cast(node.keys);
  return out;
}

}  // namespace locus::python
