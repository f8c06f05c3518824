#pragma once
// SpaceCodec: moves values of one space between Python and the space's packed layout (space.hpp),
// with Gymnasium's types on the Python side: a Box, MultiDiscrete or MultiBinary value is an
// ndarray of the space's dtype (int64 / int8 for the last two), a Discrete value a numpy int64
// scalar, a Tuple a tuple, a Dict a dict with the space's keys.
//
// Every function needs the GIL.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "envs/space.hpp"

namespace locus::python {

namespace py = pybind11;

class SpaceCodec {
 public:
  explicit SpaceCodec(envs::SpacePtr space);

  const envs::Space& space() const { return *space_; }
  // Whether the packed layout is exactly one ndarray's buffer (Box, MultiDiscrete, MultiBinary),
  // so that an env can write its observation straight into a fresh array (new_array()).
  bool packs_as_array() const {
    return root_.kind == envs::SpaceKind::kBox || root_.kind == envs::SpaceKind::kMultiDiscrete ||
           root_.kind == envs::SpaceKind::kMultiBinary;
  }
  bool is_leaf() const { return is_leaf_kind(root_.kind); }
  // The packed element type and shape of a leaf space (Discrete: int64, shape ()).
  envs::DType dtype() const { return root_.dtype; }
  const std::vector<py::ssize_t>& shape() const { return root_.shape; }
  // An uninitialized ndarray with the space's dtype and shape (packs_as_array() only).
  py::array new_array() const;

  // A fresh Python value (nothing shared with `packed`).
  py::object to_python(std::span<const std::byte> packed) const;

  // The packed bytes of `value`, always in `scratch` (the span points into it): a C-contiguous
  // ndarray of the packed dtype and shape is copied, a Python int for a Discrete space and anything
  // else are packed, so the result stays what it was when another thread rewrites `value`. Bounds
  // are left to the env (Env::step checks them); a value of the wrong structure, shape or dtype
  // raises envs::InvalidActionError naming `context`, the value and the space.
  std::span<const std::byte> pack(py::handle value, std::vector<std::byte>& scratch,
                                  std::string_view context) const;
  // `value` as an envs::Value, with Gymnasium's conversions: a list or a Python scalar given for a
  // Box is converted to the Box's dtype (Box.contains does np.asarray(x, dtype)); elsewhere
  // np.asarray's default dtypes are kept, so that contains() can refuse a float for a Discrete.
  envs::Value to_value(py::handle value, std::string_view context) const;

  // The packed layout for building numpy views in Python:
  //   leaf: {"kind": "Box"|"Discrete"|..., "offset": bytes, "dtype": "float32", "shape": [..]}
  //   Tuple: {"kind": "Tuple", "offset": o, "children": [...]}
  //   Dict: {"kind": "Dict", "offset": o, "keys": [...], "children": [...]}
  // Offsets are from the start of the value's packed bytes.
  py::dict layout() const;

 private:
  struct Node {
    envs::SpaceKind kind = envs::SpaceKind::kBox;
    const envs::Space* space = nullptr;
    envs::DType dtype = envs::DType::kFloat32;  // the packed element type (leaves)
    std::vector<py::ssize_t> shape;             // the packed shape (leaves)
    std::size_t offset = 0;                     // from the start of the root's packed bytes
    std::size_t bytes = 0;
    std::vector<Node> children;
    std::vector<std::string> keys;  // Dict
  };
  static Node build(const envs::Space& space, std::size_t offset);
  static bool is_leaf_kind(envs::SpaceKind kind);
  py::object node_to_python(const Node& node, std::span<const std::byte> packed) const;
  envs::Value node_to_value(const Node& node, py::handle value, std::string_view context) const;
  py::dict node_layout(const Node& node) const;
  [[noreturn]] void throw_not_in_space(const Node& node, py::handle value, std::string_view context,
                                       const std::string& why) const;

  envs::SpacePtr space_;
  Node root_;
  py::object int64_type_;  // numpy.int64, for Discrete values
  py::object asarray_;     // numpy.asarray
};

}  // namespace locus::python
