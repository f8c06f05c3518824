// _core.Policy (locus.load): the trained policy of a run's checkpoint applied to observations from
// Python (agents::Agent::predict). The Python class locus.policy.Policy turns its float actions
// into the action space's dtype and bounds and keeps SB3's predict() signature.
//
// Observations arrive as a C-contiguous array of the observation space's packed dtype, (batch,
// *shape); the GIL is released during the forward pass.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "agents/agent.hpp"
#include "bindings.hpp"
#include "convert.hpp"

namespace locus::python {

namespace {

class PyPolicy {
 public:
  explicit PyPolicy(const std::filesystem::path& checkpoint)
      : agent_(std::make_unique<agents::Agent>(agents::Agent::load(checkpoint))) {}

  py::object observation_space() const {
    return from_json(agent_->env().single_observation_space().to_json());
  }
  py::object action_space() const {
    return from_json(agent_->env().single_action_space().to_json());
  }
  bool recurrent() const { return agent_->recurrent(); }
  std::size_t steps() const { return agent_->steps(); }
  std::string env_id() const { return agent_->config().env; }

  // Memory for `batch` streams (an opaque object Python passes back as `state`).
  std::shared_ptr<agents::Agent::Prediction> start(std::size_t batch, std::uint64_t seed) const {
    return std::make_shared<agents::Agent::Prediction>(agent_->start_prediction(batch, seed));
  }

  py::array_t<float> predict(const py::array& observations,
                             const py::array_t<std::uint8_t, py::array::c_style>& starts,
                             bool deterministic, agents::Agent::Prediction& memory) {
    if (!(observations.flags() & py::array::c_style)) {
      throw envs::InvalidArgumentError("predict: observations must be C-contiguous");
    }
    const auto batch = static_cast<std::size_t>(starts.size());
    py::array_t<float> actions({batch, agent_->action_width()});
    const std::span<const std::byte> bytes(static_cast<const std::byte*>(observations.data()),
                                           static_cast<std::size_t>(observations.nbytes()));
    const std::span<const std::uint8_t> start_flags(starts.data(), batch);
    const std::span<float> out(actions.mutable_data(), batch * agent_->action_width());
    {
      py::gil_scoped_release release;
      agent_->predict(bytes, start_flags, deterministic, memory, out);
    }
    return actions;
  }

 private:
  std::unique_ptr<agents::Agent> agent_;
};

}  // namespace

void bind_policy(py::module_& module) {
  // Registered (never built from Python) so that start() can hand it out as an opaque object.
  const py::class_<agents::Agent::Prediction, std::shared_ptr<agents::Agent::Prediction>> memory(
      module, "PolicyMemory", "The frame stacks and recurrent states of a batch of streams");
  py::class_<PyPolicy>(module, "Policy",
                       "A run's trained policy (agents::Agent::predict); see locus.load")
      .def(py::init<const std::filesystem::path&>(), py::arg("checkpoint"))
      .def_property_readonly("observation_space", &PyPolicy::observation_space)
      .def_property_readonly("action_space", &PyPolicy::action_space)
      .def_property_readonly("recurrent", &PyPolicy::recurrent)
      .def_property_readonly("steps", &PyPolicy::steps)
      .def_property_readonly("env_id", &PyPolicy::env_id)
      .def("start", &PyPolicy::start, py::arg("batch"), py::arg("seed"))
      .def("predict", &PyPolicy::predict, py::arg("observations"), py::arg("episode_starts"),
           py::arg("deterministic"), py::arg("memory"));
}

}  // namespace locus::python
