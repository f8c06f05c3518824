#pragma once
// InfoBatch: the info dict of a Gymnasium vector env, built from the per-env Infos of a VectorEnv.
//
// Gymnasium's VectorEnv._add_info gives each key an array with one entry per env (bool, int64 or
// float64 for scalars, (num_envs, ...) for arrays, an object array for anything else, a nested dict
// for a nested info) and a boolean mask "_key" saying which envs set it. This builds the same dict
// with the same dtypes and key order, writing the values straight into the numpy arrays instead of
// going through Python once per env and key.
//
// Every function needs the GIL.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "envs/info.hpp"

namespace locus::python {

namespace py = pybind11;

class InfoBatch {
 public:
  explicit InfoBatch(std::size_t num_envs);
  ~InfoBatch();
  InfoBatch(const InfoBatch&) = delete;
  InfoBatch& operator=(const InfoBatch&) = delete;

  // Adds every entry of env `env`'s info.
  void add(std::size_t env, const envs::Info& info);
  // Adds one Python value under `key` in an object array (Gymnasium's "final_obs").
  void add_object(std::size_t env, std::string_view key, py::handle value);
  // Adds `info` as the nested dict `key`, marking env `env` in "_key" even when `info` is empty
  // (Gymnasium's "final_info").
  void add_nested(std::size_t env, std::string_view key, const envs::Info& info);

  bool empty() const { return columns_.empty(); }
  py::dict finish() const;

 private:
  struct Column;
  Column& column(std::string_view key, std::size_t hint);
  void add_value(std::size_t env, Column& column, const envs::InfoValue& value);
  void init_column(Column& column, const envs::InfoValue& value);

  std::size_t num_envs_;
  std::vector<std::unique_ptr<Column>> columns_;
};

}  // namespace locus::python
