#include "info_batch.hpp"

#include <cstring>
#include <type_traits>

#include "convert.hpp"
#include "envs/errors.hpp"

namespace locus::python {

struct InfoBatch::Column {
  enum class Type { kBool, kInt, kDouble, kObject, kArray, kNested };
  std::string key;
  Type type = Type::kObject;
  py::array data;  // (num_envs, ...): the values
  std::byte* values = nullptr;
  std::size_t row_bytes = 0;  // kArray: the bytes of one env's array
  envs::DType array_dtype = envs::DType::kFloat64;
  envs::Shape array_shape;
  py::array mask;  // (num_envs,) bool: "_key"
  bool* marks = nullptr;
  std::unique_ptr<InfoBatch> nested;
};

namespace {

const char* value_kind(const envs::InfoValue& value) {
  switch (value.index()) {
    case 0:
      return "a bool";
    case 1:
      return "an int";
    case 2:
      return "a float";
    case 3:
      return "a string";
    case 4:
      return "an array";
    default:
      return "a nested info";
  }
}

template <class T>
py::array zeros(std::size_t n) {
  py::array_t<T> out(static_cast<py::ssize_t>(n));
  std::memset(out.mutable_data(), 0, n * sizeof(T));
  return out;
}

}  // namespace

InfoBatch::InfoBatch(std::size_t num_envs) : num_envs_(num_envs) {}
InfoBatch::~InfoBatch() = default;

InfoBatch::Column& InfoBatch::column(std::string_view key, std::size_t hint) {
  // Envs usually set the same keys in the same order, so the entry's position is a good guess.
  if (hint < columns_.size() && columns_[hint]->key == key) return *columns_[hint];
  for (auto& c : columns_) {
    if (c->key == key) return *c;
  }
  auto created = std::make_unique<Column>();
  created->key = std::string(key);
  created->mask = zeros<bool>(num_envs_);
  created->marks = static_cast<bool*>(created->mask.mutable_data());
  columns_.push_back(std::move(created));
  return *columns_.back();
}

void InfoBatch::init_column(Column& column, const envs::InfoValue& value) {
  using Type = Column::Type;
  if (std::holds_alternative<bool>(value)) {
    column.type = Type::kBool;
    column.data = zeros<bool>(num_envs_);
  } else if (std::holds_alternative<std::int64_t>(value)) {
    column.type = Type::kInt;
    column.data = zeros<std::int64_t>(num_envs_);
  } else if (std::holds_alternative<double>(value)) {
    column.type = Type::kDouble;
    column.data = zeros<double>(num_envs_);
  } else if (const auto* array = std::get_if<envs::Array>(&value)) {
    column.type = Type::kArray;
    column.array_dtype = array->dtype();
    column.array_shape = array->shape();
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(num_envs_)};
    shape.insert(shape.end(), array->shape().begin(), array->shape().end());
    column.data = py::array(to_numpy_dtype(array->dtype()), shape);
    column.row_bytes = array->nbytes();
    std::memset(column.data.mutable_data(), 0, num_envs_ * column.row_bytes);
  } else if (std::holds_alternative<envs::InfoBox>(value)) {
    column.type = Type::kNested;
    column.nested = std::make_unique<InfoBatch>(num_envs_);
    return;
  } else {
    // Strings (and what add_object adds): an object array of None, as Gymnasium makes one.
    column.type = Type::kObject;
    column.data = py::module_::import("numpy").attr("full")(num_envs_, py::none(),
                                                            py::arg("dtype") = py::dtype("O"));
  }
  column.values = static_cast<std::byte*>(column.data.mutable_data());
}

void InfoBatch::add(std::size_t env, const envs::Info& info) {
  const auto entries = info.entries();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    Column& c = column(entries[i].key, i);
    add_value(env, c, entries[i].value);
  }
}

void InfoBatch::add_value(std::size_t env, Column& c, const envs::InfoValue& value) {
  using Type = Column::Type;
  if (c.values == nullptr && c.nested == nullptr) init_column(c, value);
  c.marks[env] = true;
  const auto mismatch = [&](const char* wanted) {
    return envs::InvalidArgumentError("info key '" + c.key + "': env " + std::to_string(env) +
                                      " gives " + value_kind(value) + " where " + wanted +
                                      " is expected (an earlier env gave one)");
  };
  // A scalar written into a column of another scalar type is converted, as numpy's assignment
  // into Gymnasium's array would convert it.
  const auto scalar = [&](auto target) -> std::optional<decltype(target)> {
    using T = decltype(target);
    if (const auto* b = std::get_if<bool>(&value)) return static_cast<T>(*b);
    if (const auto* n = std::get_if<std::int64_t>(&value)) {
      if constexpr (std::is_same_v<T, bool>) return *n != 0;
      return static_cast<T>(*n);
    }
    if (const auto* d = std::get_if<double>(&value)) {
      if constexpr (std::is_same_v<T, bool>) return *d != 0.0;
      return envs::cast_double<T>(*d);
    }
    return std::nullopt;
  };
  switch (c.type) {
    case Type::kBool: {
      const auto v = scalar(bool{});
      if (!v) throw mismatch("a bool");
      reinterpret_cast<bool*>(c.values)[env] = *v;
      return;
    }
    case Type::kInt: {
      const auto v = scalar(std::int64_t{});
      if (!v) throw mismatch("an int");
      reinterpret_cast<std::int64_t*>(c.values)[env] = *v;
      return;
    }
    case Type::kDouble: {
      const auto v = scalar(double{});
      if (!v) throw mismatch("a float");
      reinterpret_cast<double*>(c.values)[env] = *v;
      return;
    }
    case Type::kArray: {
      const auto* array = std::get_if<envs::Array>(&value);
      if (array == nullptr) throw mismatch("an array");
      if (array->shape() != c.array_shape) {
        throw envs::InvalidArgumentError(
            "info key '" + c.key + "': env " + std::to_string(env) + " gives an array of shape " +
            envs::shape_to_string(array->shape()) + " where an earlier env gave shape " +
            envs::shape_to_string(c.array_shape));
      }
      envs::cast_elements(array->dtype(), array->bytes(), c.array_dtype,
                          {c.values + env * c.row_bytes, c.row_bytes});
      return;
    }
    case Type::kObject: {
      auto** slots = reinterpret_cast<PyObject**>(c.values);
      py::object item = to_python(value);
      Py_XDECREF(slots[env]);
      slots[env] = item.release().ptr();
      return;
    }
    case Type::kNested: {
      const auto* nested = std::get_if<envs::InfoBox>(&value);
      if (nested == nullptr) throw mismatch("a nested info");
      c.nested->add(env, nested->get());
      return;
    }
  }
}

void InfoBatch::add_object(std::size_t env, std::string_view key, py::handle value) {
  Column& c = column(key, columns_.size());
  if (c.values == nullptr) init_column(c, std::string());
  c.marks[env] = true;
  auto** slots = reinterpret_cast<PyObject**>(c.values);
  Py_XDECREF(slots[env]);
  slots[env] = py::reinterpret_borrow<py::object>(value).release().ptr();
}

void InfoBatch::add_nested(std::size_t env, std::string_view key, const envs::Info& info) {
  Column& c = column(key, columns_.size());
  if (c.nested == nullptr) init_column(c, envs::InfoBox());
  c.marks[env] = true;
  c.nested->add(env, info);
}

py::dict InfoBatch::finish() const {
  py::dict out;
  for (const auto& c : columns_) {
    out[py::str(c->key)] = c->nested ? py::object(c->nested->finish()) : py::object(c->data);
    out[py::str("_" + c->key)] = c->mask;
  }
  return out;
}

}  // namespace locus::python
