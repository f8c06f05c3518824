// _core.Network (locus.Network): a modulated network of locus::neuromod from Python, for
// inspection: build one from a spec or a preset, or load a checkpoint (a neuromod checkpoint, or
// the network inside an agent's checkpoint.bin), add and select contexts, run forward on a numpy
// batch and read (or overwrite) parameters by name and context. It does not train.
//
// Arrays: inputs are converted to contiguous float32 (rows, input_dim); outputs and parameters are
// fresh numpy arrays (copies), so they stay valid after the next forward. The GIL is held during
// forward: a Network is driven by one thread at a time (neuromod/network.hpp), and the CPU backend
// parallelizes inside the call with TBB anyway.

#include "neuromod/network.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agents/agent.hpp"
#include "bindings.hpp"
#include "convert.hpp"
#include "neuromod/checkpoint.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/presets.hpp"

namespace locus::python {

namespace {

neuromod::Recurrence recurrence_from_name(const std::string& name) {
  for (auto r :
       {neuromod::Recurrence::kElman, neuromod::Recurrence::kGru, neuromod::Recurrence::kLstm}) {
    if (neuromod::to_string(r) == name) return r;
  }
  throw neuromod::InvalidArgumentError(
      fmt::format("Network.recurrent: cell '{}' is not one of elman, gru, lstm", name));
}

using neuromod::ContextId;

// The first bytes of an agent checkpoint (agents/agent.cpp), which embeds a network checkpoint.
constexpr char kAgentCheckpointMagic[8] = {'L', 'O', 'C', 'U', 'S', 'A', 'G', '\0'};

// Owns a network, or the agent whose network it is (the pointer aliases the agent's lifetime).
class PyNetwork {
 public:
  explicit PyNetwork(std::shared_ptr<neuromod::Network> network) : network_(std::move(network)) {}

  neuromod::Network& get() const { return *network_; }

  static PyNetwork from_spec(const py::object& spec, const std::string& backend) {
    std::string text;
    if (py::isinstance<py::str>(spec)) {
      text = spec.cast<std::string>();
    } else if (py::isinstance<py::dict>(spec)) {
      text = to_json(spec, "Network spec").dump();
    } else {
      throw neuromod::InvalidArgumentError(
          "Network: spec must be a dict or a JSON string (the form of Network.spec), got " +
          type_name(spec));
    }
    const neuromod::NetworkSpec parsed = neuromod::network_spec_from_json(text);
    return PyNetwork(neuromod::make_network(parsed, neuromod::backend_from_string(backend)));
  }

  static PyNetwork from_preset(const std::string& name, std::uint64_t seed,
                               const std::string& backend) {
    const neuromod::TrainingPreset preset = neuromod::find_preset(name, seed);
    return PyNetwork(
        neuromod::make_network(preset.network, neuromod::backend_from_string(backend)));
  }

  static PyNetwork load(const std::filesystem::path& path, const std::string& backend) {
    if (is_agent_checkpoint(path)) {
      auto agent = std::make_shared<agents::Agent>(agents::Agent::load(path));
      return PyNetwork(std::shared_ptr<neuromod::Network>(agent, &agent->network()));
    }
    return PyNetwork(neuromod::load_checkpoint(path, neuromod::backend_from_string(backend)));
  }

  py::list forward(const py::handle& inputs, const py::object& contexts) {
    const py::array array = float32_array(inputs, "forward: inputs");
    if (array.ndim() != 2) {
      throw neuromod::ShapeError(fmt::format(
          "forward: inputs must be a 2-D array (rows, input_dim) = (rows, {}), got shape {}{}",
          network_->spec().input_dim, shape_text(array),
          array.ndim() == 1 ? "; use x[None, :] for one row" : ""));
    }
    const auto rows = static_cast<std::size_t>(array.shape(0));
    const neuromod::Matrix batch = to_matrix(array, rows, static_cast<std::size_t>(array.shape(1)));
    const std::vector<ContextId> ids = context_ids(contexts);
    py::list result;
    for (const neuromod::Matrix& out : network_->forward(batch, ids)) {
      result.append(to_numpy(out, {py::ssize_t(out.shape(0)), py::ssize_t(out.shape(1))}));
    }
    return result;
  }

  // Sequences (steps, batch, input_dim), time-major as in PyTorch's RNNs without batch_first.
  py::tuple forward_sequence(const py::handle& inputs, const py::object& contexts,
                             const py::object& state, const py::object& episode_starts) {
    const py::array array = float32_array(inputs, "forward_sequence: inputs");
    if (array.ndim() != 3) {
      throw neuromod::ShapeError(
          fmt::format("forward_sequence: inputs must be a 3-D array (steps, batch, input_dim) = "
                      "(steps, batch, {}), got shape {}",
                      network_->spec().input_dim, shape_text(array)));
    }
    const auto steps = static_cast<std::size_t>(array.shape(0));
    const auto batch = static_cast<std::size_t>(array.shape(1));
    const neuromod::Matrix rows =
        to_matrix(array, steps * batch, static_cast<std::size_t>(array.shape(2)));
    const std::vector<ContextId> ids = context_ids(contexts, /*allow_2d=*/true);
    std::optional<neuromod::RecurrentState> initial;
    if (!state.is_none()) initial = recurrent_state(state);
    std::vector<std::uint8_t> starts;
    if (!episode_starts.is_none()) {
      const auto flags = py::module_::import("numpy")
                             .attr("ascontiguousarray")(episode_starts, "uint8")
                             .cast<py::array_t<std::uint8_t, py::array::c_style>>();
      starts.assign(flags.data(), flags.data() + flags.size());
    }
    const std::vector<neuromod::Matrix>& outputs =
        network_->forward_sequence(rows, batch, ids, initial ? &*initial : nullptr, starts);
    py::list result;
    for (const neuromod::Matrix& out : outputs) {
      result.append(
          to_numpy(out, {py::ssize_t(steps), py::ssize_t(batch), py::ssize_t(out.shape(1))}));
    }
    return py::make_tuple(result, state_list(network_->final_state()));
  }

  py::list zero_state(std::size_t batch) const { return state_list(network_->zero_state(batch)); }

  // The context a parameter is read from when the caller gives none: the shared one for a shared
  // parameter, the selected context for a per-context one. Unknown names keep kSharedContext, so
  // that the C++ call reports them with the list of parameters.
  ContextId default_context(const std::string& name) const {
    for (const auto& info : network_->parameters()) {
      if (info.name == name) {
        return info.context == neuromod::kSharedContext ? neuromod::kSharedContext
                                                        : network_->selected_context();
      }
    }
    return neuromod::kSharedContext;
  }

  std::vector<std::size_t> parameter_shape(const std::string& name) const {
    for (const auto& info : network_->parameters()) {
      if (info.name == name) return info.shape;
    }
    return {};
  }

  py::array_t<float> parameter(const std::string& name, std::optional<ContextId> context) const {
    const ContextId c = context ? *context : default_context(name);
    const std::vector<float> values = network_->read_parameter(name, c);
    std::vector<py::ssize_t> shape;
    for (const std::size_t d : parameter_shape(name)) shape.push_back(py::ssize_t(d));
    if (shape.empty()) shape.push_back(py::ssize_t(values.size()));
    py::array_t<float> out(shape);
    if (!values.empty()) {
      std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(float));
    }
    return out;
  }

  void set_parameter(const std::string& name, const py::handle& values,
                     std::optional<ContextId> context) {
    const ContextId c = context ? *context : default_context(name);
    const py::array array =
        py::module_::import("numpy").attr("ascontiguousarray")(values, "float32");
    std::vector<std::size_t> want = parameter_shape(name);
    std::vector<std::size_t> got(array.shape(), array.shape() + array.ndim());
    if (!want.empty() && got != want && array.ndim() != 1) {
      throw neuromod::ShapeError(
          fmt::format("set_parameter: '{}' has shape ({}), got values of shape {}", name,
                      fmt::join(want, ", "), shape_text(array)));
    }
    const auto* data = static_cast<const float*>(array.data());
    network_->write_parameter(name, c, std::span<const float>(data, std::size_t(array.size())));
  }

  py::list parameters() const {
    py::list out;
    for (const auto& info : network_->parameters()) {
      py::dict row;
      row["name"] = info.name;
      row["kind"] = std::string(neuromod::to_string(info.kind));
      row["index"] = info.index;
      row["context"] = info.context == neuromod::kSharedContext
                           ? py::object(py::none())
                           : py::object(py::int_(info.context));
      row["shape"] = py::tuple(py::cast(info.shape));
      row["trainable"] = info.trainable;
      out.append(std::move(row));
    }
    return out;
  }

 private:
  static bool is_agent_checkpoint(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[sizeof(kAgentCheckpointMagic)] = {};
    if (!in.read(magic, sizeof(magic))) return false;  // load_checkpoint reports the problem
    return std::equal(std::begin(magic), std::end(magic), std::begin(kAgentCheckpointMagic));
  }

  static py::array float32_array(const py::handle& values, std::string_view what) {
    try {
      return py::module_::import("numpy").attr("ascontiguousarray")(values, "float32");
    } catch (py::error_already_set& e) {
      throw neuromod::ShapeError(
          fmt::format("{} cannot be read as a float32 array ({})", what, e.what()));
    }
  }

  // A contiguous float32 array as a (rows, cols) matrix.
  static neuromod::Matrix to_matrix(const py::array& array, std::size_t rows, std::size_t cols) {
    neuromod::Matrix matrix(neuromod::Matrix::shape_type{rows, cols});
    if (rows * cols > 0) std::memcpy(matrix.data(), array.data(), rows * cols * sizeof(float));
    return matrix;
  }

  // A fresh numpy copy of `matrix` in `shape`.
  static py::array_t<float> to_numpy(const neuromod::Matrix& matrix,
                                     const std::vector<py::ssize_t>& shape) {
    py::array_t<float> copy(shape);
    if (matrix.size() > 0) {
      std::memcpy(copy.mutable_data(), matrix.data(), matrix.size() * sizeof(float));
    }
    return copy;
  }

  static py::list state_list(const neuromod::RecurrentState& state) {
    py::list out;
    for (const neuromod::Matrix& m : state) {
      out.append(to_numpy(m, {py::ssize_t(m.shape(0)), py::ssize_t(m.shape(1))}));
    }
    return out;
  }

  // A list of 2-D arrays (what forward_sequence returns as the final state).
  static neuromod::RecurrentState recurrent_state(const py::object& state) {
    if (!py::isinstance<py::list>(state) && !py::isinstance<py::tuple>(state)) {
      throw neuromod::ShapeError(
          "forward_sequence: state must be a list of arrays (batch, units), as forward_sequence "
          "returns it, or None, got " +
          type_name(state));
    }
    neuromod::RecurrentState result;
    for (const py::handle item : state) {
      const py::array array = float32_array(item, "forward_sequence: a state tensor");
      if (array.ndim() != 2) {
        throw neuromod::ShapeError(fmt::format(
            "forward_sequence: each state tensor must be 2-D (batch, units), got shape {}",
            shape_text(array)));
      }
      result.push_back(to_matrix(array, std::size_t(array.shape(0)), std::size_t(array.shape(1))));
    }
    return result;
  }

  static std::vector<ContextId> context_ids(const py::object& contexts, bool allow_2d = false) {
    if (contexts.is_none()) return {};
    py::array array;
    try {
      array = py::module_::import("numpy").attr("asarray")(contexts);
    } catch (py::error_already_set& e) {
      throw neuromod::ShapeError(
          fmt::format("forward: contexts cannot be read as an integer array ({})", e.what()));
    }
    const char kind = array.dtype().kind();
    const bool shape_ok = array.ndim() == 1 || (allow_2d && array.ndim() == 2);
    if (!shape_ok || (array.size() > 0 && kind != 'i' && kind != 'u')) {
      throw neuromod::ShapeError(fmt::format(
          "forward: contexts must be a 1-D array of integer context ids, one per row, got shape "
          "{} of dtype {}",
          shape_text(array), std::string(py::str(array.dtype()))));
    }
    const auto wide = py::module_::import("numpy")
                          .attr("ascontiguousarray")(array, "int64")
                          .cast<py::array_t<std::int64_t, py::array::c_style>>();
    std::vector<ContextId> ids(static_cast<std::size_t>(wide.size()));
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::int64_t id = wide.data()[i];
      // Out-of-range ids pass through as -1 and get the network's own "does not exist" message.
      ids[i] = id >= 0 && id <= std::numeric_limits<ContextId>::max() ? ContextId(id) : -1;
    }
    return ids;
  }

  std::shared_ptr<neuromod::Network> network_;
};

}  // namespace

void bind_network(py::module_& module) {
  py::class_<PyNetwork>(module, "Network",
                        R"doc(A modulated network of locus::neuromod, for inspection (no training).

    Network(spec, backend="cpu")            from a spec: a dict or JSON string (the form of .spec)
    Network.from_preset(name, seed=0)       "hong_pavlic_2022", "ngm_mlp_2025" (Network.presets())
    Network.load(path)                      a checkpoint written by locus: neuromod's format, or an
                                            agent's checkpoint.bin (`locus train`), its network
    Network.recurrent(cell, input_dim, hidden, outputs, seed=0, modulated=True)
                                            an Elman, GRU or LSTM network

forward(x, contexts=None) returns one float32 array (rows, units) per head; rows use the selected
context unless `contexts` gives one id per row. A recurrent network runs sequences instead:
outputs, state = forward_sequence(x (steps, batch, input_dim), contexts, state, episode_starts).
Parameters are read by name ("layer0.gain",
"head.output.weight", ...) and context; parameters() lists them.)doc")
      .def(py::init([](const py::object& spec, const std::string& backend) {
             return PyNetwork::from_spec(spec, backend);
           }),
           py::arg("spec"), py::arg("backend") = "cpu",
           "A network for `spec` (dict or JSON text, keys as in .spec) on `backend` (cpu, "
           "reference or cuda), with one context, selected.")
      .def_static("from_preset", &PyNetwork::from_preset, py::arg("name"), py::arg("seed") = 0,
                  py::arg("backend") = "cpu", "The network of a named preset (Network.presets()).")
      .def_static("presets", &neuromod::preset_names, "The names from_preset accepts.")
      .def_static(
          "load",
          [](const std::filesystem::path& path, const std::string& backend) {
            return PyNetwork::load(path, backend);
          },
          py::arg("path"), py::arg("backend") = "cpu",
          "Loads a neuromod checkpoint (on `backend`), or the network of an agent checkpoint "
          "(checkpoint.bin of a `locus train` run; on the agent's own backend).")
      .def(
          "save",
          [](const PyNetwork& self, const std::filesystem::path& path) {
            neuromod::save_checkpoint(self.get(), path);
          },
          py::arg("path"), "Writes a neuromod checkpoint (atomically), which Network.load reads.")
      .def_property_readonly(
          "spec",
          [](const PyNetwork& self) {
            return from_json(nlohmann::json::parse(neuromod::to_json(self.get().spec())));
          },
          "The network's spec as a dict (with its seed).")
      .def_property_readonly("backend",
                             [](const PyNetwork& self) {
                               return std::string(neuromod::to_string(self.get().backend()));
                             })
      .def_property(
          "matmul_precision",
          [](const PyNetwork& self) {
            return std::string(neuromod::to_string(self.get().matmul_precision()));
          },
          [](PyNetwork& self, const std::string& name) {
            self.get().set_matmul_precision(neuromod::matmul_precision_from_string(name));
          },
          "The products' arithmetic: 'float32' (default), 'bfloat16' (cpu on AVX512-BF16 CPUs: "
          "the fixed weights in bfloat16, float32 sums) or 'tf32' (cuda). Setting one the "
          "backend or CPU lacks raises InvalidArgumentError.")
      .def_property_readonly("input_dim",
                             [](const PyNetwork& self) { return self.get().spec().input_dim; })
      .def_property_readonly(
          "head_names",
          [](const PyNetwork& self) {
            std::vector<std::string> names;
            for (const auto& head : self.get().spec().heads) names.push_back(head.name);
            return names;
          },
          "The heads' names, in the order forward returns their outputs.")
      .def_property_readonly("context_count",
                             [](const PyNetwork& self) { return self.get().context_count(); })
      .def_property_readonly("selected_context",
                             [](const PyNetwork& self) { return self.get().selected_context(); })
      .def(
          "add_context",
          [](PyNetwork& self, std::size_t weight_set) {
            return self.get().add_context(weight_set);
          },
          py::arg("weight_set") = 0,
          "Adds a context (initialized from the spec seed and its id) on the fixed weights of "
          "`weight_set` (< spec.get('weight_sets', 1)); returns its id.")
      .def(
          "weight_set",
          [](const PyNetwork& self, ContextId context) { return self.get().weight_set(context); },
          py::arg("context"), "The weight set context `context` runs on.")
      .def(
          "clone_context",
          [](PyNetwork& self, ContextId source) { return self.get().clone_context(source); },
          py::arg("source"), "Adds a copy of context `source`; returns its id.")
      .def(
          "select_context",
          [](PyNetwork& self, ContextId context) { self.get().select_context(context); },
          py::arg("context"), "The context of rows forward gets no id for.")
      .def(
          "is_frozen",
          [](const PyNetwork& self, ContextId context) { return self.get().is_frozen(context); },
          py::arg("context"))
      .def_property_readonly(
          "weight_gains",
          [](const PyNetwork& self) {
            std::vector<float> gains;
            for (std::size_t s = 0; s < self.get().weight_gain_slots(); ++s) {
              gains.push_back(self.get().weight_gain(s));
            }
            return gains;
          },
          "The weight gain of each weighted layer (layers, then heads); 1 unless NGM set it.")
      .def("forward", &PyNetwork::forward, py::arg("x"), py::arg("contexts") = py::none(),
           "One float32 array (rows, head units) per head for inputs x (rows, input_dim), "
           "converted to float32; `contexts`: None (the selected context) or one id per row.")
      .def("forward_sequence", &PyNetwork::forward_sequence, py::arg("x"),
           py::arg("contexts") = py::none(), py::arg("state") = py::none(),
           py::arg("episode_starts") = py::none(),
           "Runs sequences x (steps, batch, input_dim) through a recurrent network (a "
           "feed-forward one treats each row alone) and returns (outputs, state): one float32 "
           "array (steps, batch, head units) per head, and the state after the last step (a list "
           "of (batch, units) arrays: each recurrent layer's hidden state, then an LSTM's cell "
           "state) to pass as `state` to the next call. contexts: None, one id per sequence "
           "(batch,) or per step (steps, batch). episode_starts: None or (steps, batch) flags; "
           "a true flag zeroes that sequence's state before that step.")
      .def("zero_state", &PyNetwork::zero_state, py::arg("batch"),
           "The state before a sequence's first step: zeros, a list as forward_sequence returns.")
      .def_property_readonly(
          "is_recurrent", [](const PyNetwork& self) { return self.get().spec().is_recurrent(); },
          "True if the network has recurrent layers (use forward_sequence).")
      .def_static(
          "recurrent",
          [](const std::string& cell, std::size_t input_dim, std::size_t hidden,
             std::size_t outputs, std::uint64_t seed, bool modulated, float alpha,
             const std::string& backend) {
            const neuromod::NetworkSpec spec = neuromod::recurrent_network(
                recurrence_from_name(cell), input_dim, hidden, outputs, seed, modulated, alpha);
            return PyNetwork(neuromod::make_network(spec, neuromod::backend_from_string(backend)));
          },
          py::arg("cell"), py::arg("input_dim"), py::arg("hidden"), py::arg("outputs"),
          py::arg("seed") = 0, py::arg("modulated") = true, py::arg("alpha") = 1.0f,
          py::arg("backend") = "cpu",
          "A recurrent network of one `cell` layer ('elman', 'gru' or 'lstm') of `hidden` units "
          "and a readout of `outputs`: modulated (fixed random weights, per-context gains and "
          "biases) or an ordinary trainable RNN; `alpha` is an Elman layer's leak dt / tau.")
      .def("parameters", &PyNetwork::parameters,
           "Every parameter tensor as a dict (name, kind, index, context: None if shared, shape, "
           "trainable): shared ones first, then each context's.")
      .def("parameter", &PyNetwork::parameter, py::arg("name"), py::arg("context") = py::none(),
           "A copy of parameter `name` as a float32 array of its shape; context None: the shared "
           "tensor, or the selected context's for a per-context parameter.")
      .def("set_parameter", &PyNetwork::set_parameter, py::arg("name"), py::arg("values"),
           py::arg("context") = py::none(),
           "Overwrites a learned parameter (fixed random weights cannot be written), e.g. to see "
           "what a change does to forward.")
      .def(
          "connectivity",
          [](const PyNetwork& self, std::size_t layer) {
            const std::vector<std::int32_t> index = self.get().connectivity(layer);
            const neuromod::LayerSpec& spec = self.get().spec().layers.at(layer);
            if (index.empty()) return py::array_t<std::int32_t>(std::vector<py::ssize_t>{0});
            py::array_t<std::int32_t> out(
                {py::ssize_t(spec.units), py::ssize_t(index.size() / spec.units)});
            std::memcpy(out.mutable_data(), index.data(), index.size() * sizeof(std::int32_t));
            return out;
          },
          py::arg("layer"),
          "The inputs each unit of sparse layer `layer` sums, (units, sparse_k); empty for a "
          "dense layer.")
      .def("__repr__", [](const PyNetwork& self) {
        const auto& spec = self.get().spec();
        return fmt::format("<locus.Network '{}': input_dim {}, {} layers, {} heads, {} contexts>",
                           spec.name, spec.input_dim, spec.layers.size(), spec.heads.size(),
                           self.get().context_count());
      });
}

}  // namespace locus::python
