// Module locus._core: the environment API of locus for Python.
//
// The package `locus` (python/locus/) builds the Gymnasium classes on top of it; this module
// holds what must run in C++: making and stepping environments through the allocation-free path,
// the vector env's batch buffers, and the conversions between numpy and the packed layouts.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "convert.hpp"
#include "envs/errors.hpp"
#include "envs/plugin.hpp"
#include "envs/registry.hpp"

namespace locus::python {

namespace {

struct WarningQueue {
  std::mutex mutex;
  std::vector<std::string> messages;
  std::atomic<bool> pending{false};
};

WarningQueue& warning_queue() {
  // Never destroyed: a C++ warning during interpreter shutdown must still find it.
  static auto* queue = new WarningQueue();
  return *queue;
}

void queue_warning(const std::string& message) {
  WarningQueue& queue = warning_queue();
  const std::lock_guard lock(queue.mutex);
  queue.messages.push_back(message);
  queue.pending.store(true, std::memory_order_release);
}

py::dict spec_to_python(const envs::EnvSpec& spec) {
  py::dict out = py::reinterpret_borrow<py::dict>(from_json(spec.to_json()));
  out["namespace"] = spec.ns ? py::object(py::str(*spec.ns)) : py::object(py::none());
  out["name"] = spec.name;
  out["version"] = spec.version ? py::object(py::int_(*spec.version)) : py::object(py::none());
  return out;
}

}  // namespace

void install_warning_handler() {
  envs::set_warning_handler(&queue_warning);
}

void flush_warnings() {
  WarningQueue& queue = warning_queue();
  if (!queue.pending.load(std::memory_order_acquire)) return;
  std::vector<std::string> messages;
  {
    const std::lock_guard lock(queue.mutex);
    messages.swap(queue.messages);
    queue.pending.store(false, std::memory_order_release);
  }
  const py::object warn = py::module_::import("gymnasium.logger").attr("warn");
  for (const auto& message : messages) warn(message);
}

}  // namespace locus::python

PYBIND11_MODULE(_core, module) {
  namespace py = pybind11;
  using namespace locus::python;
  module.doc() = "locus environments (C++) for Python; use the package `locus`, not this module";
  module.attr("__version__") = LOCUS_VERSION;

  install_warning_handler();
  register_exception_translators();

  module.def(
      "env_specs",
      [] {
        py::list out;
        for (const auto& spec : locus::envs::Registry::global().all()) {
          out.append(spec_to_python(*spec));
        }
        return out;
      },
      "Every registered environment's spec as a dict (id, kwargs, max_episode_steps, ...).");
  module.def(
      "spec",
      [](const std::string& id) {
        auto spec = locus::envs::Registry::global().spec(id);
        flush_warnings();
        return spec_to_python(*spec);
      },
      py::arg("id"), "The spec of `id`, resolved with Gymnasium's version rules.");
  module.def(
      "load_plugin",
      [](const std::string& path) {
        std::vector<std::string> ids;
        {
          py::gil_scoped_release release;
          ids = locus::envs::load_plugin(path);
        }
        flush_warnings();
        return ids;
      },
      py::arg("path"), "Loads a plugin library; returns the ids it registered.");
  module.def(
      "load_plugin_for",
      [](const std::string& env_id, const std::string& plugin) {
        {
          py::gil_scoped_release release;
          locus::envs::load_plugin_for(env_id, plugin);
        }
        flush_warnings();
      },
      py::arg("env_id"), py::arg("plugin"),
      "Loads `plugin` unless `env_id` is registered already (a run's recorded plugin).");
  module.def("_flush_warnings", &flush_warnings);

  bind_env(module);
  bind_vector_env(module);
  bind_python_env(module);
  bind_training(module);
  bind_harness(module);
  bind_network(module);
  bind_policy(module);
  bind_supervised(module);
}
