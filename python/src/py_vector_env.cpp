// _core.VectorEnv: a locus VectorEnv whose batch buffers are numpy arrays.
//
// The observation, reward and flag buffers of the C++ VectorEnv are handed to Python once, as
// read-only ndarrays that share the C++ memory (their base keeps this object alive); every step
// rewrites them in place, so Python never copies unless asked to. Actions are read in place when
// they already have the packed dtype and shape (a C-contiguous (num_envs, ...) ndarray); anything
// else is written by Python into the writable action buffer (locus.vector does that with numpy's
// safe casting) and stepped with step_buffered(). Either way the actions are copied and checked
// under the GIL, which is released while TBB steps the envs with that copy.

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "convert.hpp"
#include "envs/registry.hpp"
#include "envs/vector_env.hpp"
#include "info_batch.hpp"
#include "space_codec.hpp"

namespace locus::python {

namespace {

envs::VectorEnv make_vector_env(const std::string& id, std::size_t num_envs, const py::dict& kwargs,
                                const std::string& autoreset_mode, std::size_t num_threads) {
  const envs::Kwargs env_kwargs = to_json(kwargs, "make_vec('" + id + "')");
  envs::VectorEnvOptions options;
  options.autoreset_mode = envs::autoreset_mode_from_string(autoreset_mode);
  options.num_threads = num_threads;
  // Building the envs may take a while (a data set to read): other Python threads may run.
  py::gil_scoped_release release;
  return envs::make_vec(id, num_envs, env_kwargs, options);
}

// An ndarray over memory owned by `owner` (no copy); read-only unless `writable`.
py::array view(const py::handle owner, const py::dtype& dtype, std::vector<py::ssize_t> shape,
               const void* data, bool writable) {
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t stride = dtype.itemsize();
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  py::array out(dtype, std::move(shape), std::move(strides), data, owner);
  if (!writable) out.attr("setflags")(py::arg("write") = false);
  return out;
}

std::span<const std::uint8_t> mask_span(const std::optional<py::array>& mask) {
  if (!mask) return {};
  return {static_cast<const std::uint8_t*>(mask->data()), static_cast<std::size_t>(mask->size())};
}

}  // namespace

class PyVectorEnv {
 public:
  PyVectorEnv(const std::string& id, std::size_t num_envs, const py::dict& kwargs,
              const std::string& autoreset_mode, std::size_t num_threads)
      : PyVectorEnv(make_vector_env(id, num_envs, kwargs, autoreset_mode, num_threads)) {}

  explicit PyVectorEnv(envs::VectorEnv vec)
      : vec_(std::move(vec)),
        observation_codec_(vec_.single_observation_space().clone()),
        action_codec_(vec_.single_action_space().clone()),
        actions_(vec_.num_envs() * vec_.action_stride()) {
    flush_warnings();
  }

  // A VectorEnv of Python gymnasium.Envs, each given as (env, observation space JSON, action
  // space JSON); TBB's workers take turns at the GIL to step them.
  static std::unique_ptr<PyVectorEnv> from_python_envs(const py::list& items,
                                                       const std::string& autoreset_mode,
                                                       std::size_t num_threads,
                                                       std::optional<std::int64_t> max_steps) {
    std::vector<std::unique_ptr<envs::Env>> envs;
    for (const auto& item : items) {
      const auto parts = item.cast<py::tuple>();
      if (parts.size() != 3) {
        throw envs::InvalidArgumentError(
            "VectorEnv.from_python_envs: each item must be (env, observation_space, "
            "action_space), got " +
            std::string(py::repr(item)));
      }
      envs.push_back(
          make_python_env(parts[0], parts[1].cast<py::dict>(), parts[2].cast<py::dict>()));
    }
    envs::VectorEnvOptions options;
    options.autoreset_mode = envs::autoreset_mode_from_string(autoreset_mode);
    options.num_threads = num_threads;
    options.max_episode_steps = max_steps;
    return std::make_unique<PyVectorEnv>(envs::VectorEnv(std::move(envs), options));
  }

  // Steps with `actions` in place when it has the packed layout; returns false (nothing done)
  // otherwise, and the caller writes action_buffer and calls step_buffered().
  bool step(const py::handle actions) {
    if (!action_codec_.is_leaf() || !py::isinstance<py::array>(actions)) return false;
    const auto array = py::reinterpret_borrow<py::array>(actions);
    const auto& shape = action_codec_.shape();
    if (from_numpy_dtype(array.dtype()) != action_codec_.dtype() ||
        array.dtype().byteorder() == '>' || (array.flags() & py::array::c_style) == 0 ||
        static_cast<std::size_t>(array.ndim()) != shape.size() + 1 ||
        static_cast<std::size_t>(array.shape(0)) != vec_.num_envs() ||
        !std::equal(shape.begin(), shape.end(), array.shape() + 1)) {
      return false;
    }
    step_with(std::span<const std::byte>(static_cast<const std::byte*>(array.data()),
                                         static_cast<std::size_t>(array.nbytes())));
    return true;
  }

  void step_buffered() { step_with(actions_); }

  // `seed`: None, an int (env i gets seed + i) or a list/tuple of one int or None per env.
  void reset(const py::object& seed, const py::object& options,
             const std::optional<py::array>& mask) {
    std::vector<std::optional<envs::Seed>> seeds;
    if (PyList_Check(seed.ptr()) || PyTuple_Check(seed.ptr())) {
      const auto items = py::reinterpret_borrow<py::sequence>(seed);
      for (std::size_t i = 0; i < items.size(); ++i) {
        seeds.push_back(to_seed(items[i], "VectorEnv.reset: env " + std::to_string(i)));
      }
      if (seeds.size() != vec_.num_envs()) {
        throw envs::InvalidArgumentError(
            "VectorEnv.reset: " + std::to_string(seeds.size()) + " seeds given for num_envs=" +
            std::to_string(vec_.num_envs()) + "; give one int or None per env");
      }
    } else if (std::optional<envs::Seed> base = to_seed(seed, "VectorEnv.reset")) {
      for (std::size_t i = 0; i < vec_.num_envs(); ++i) seeds.emplace_back(base->plus(i));
    }
    const envs::Kwargs env_options =
        options.is_none() ? envs::Kwargs() : to_json(options, "VectorEnv.reset options");
    std::optional<py::array> mask_bytes;
    if (mask) {
      mask_bytes =
          py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(*mask);
      if (!*mask_bytes) throw py::error_already_set();
    }
    {
      py::gil_scoped_release release;
      vec_.reset_each(seeds, env_options, mask_span(mask_bytes));
    }
    flush_warnings();
  }

  // The infos of the envs that `mask` selects (all without one), batched as Gymnasium does.
  py::dict infos(const std::optional<py::array>& mask) const {
    std::optional<py::array> selected;
    if (mask) {
      selected =
          py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(*mask);
      if (!*selected) throw py::error_already_set();
    }
    const std::span<const std::uint8_t> include = mask_span(selected);
    InfoBatch batch(vec_.num_envs());
    for (std::size_t i = 0; i < vec_.num_envs(); ++i) {
      if (!include.empty() && include[i] == 0) continue;
      const envs::Info& info = vec_.info(i);
      if (!info.empty()) batch.add(i, info);
    }
    return batch.finish();
  }

  // The infos of the last step; with SameStep autoreset, each ended env's final observation and
  // info as Gymnasium's "final_obs" / "final_info" before its reset info.
  py::dict step_infos() const {
    InfoBatch batch(vec_.num_envs());
    const bool same_step = vec_.autoreset_mode() == envs::AutoresetMode::kSameStep;
    const std::size_t bytes = vec_.single_observation_space().packed_bytes();
    for (std::size_t i = 0; i < vec_.num_envs(); ++i) {
      if (same_step && vec_.has_final(i)) {
        const auto final_observation =
            vec_.final_observation_bytes().subspan(i * vec_.observation_stride(), bytes);
        batch.add_object(i, "final_obs", observation_codec_.to_python(final_observation));
        batch.add_nested(i, "final_info", vec_.final_info(i));
      }
      const envs::Info& info = vec_.info(i);
      if (!info.empty()) batch.add(i, info);
    }
    return batch.finish();
  }

  // Other Python threads may rewrite the actions once the GIL is released, so they are copied and
  // checked while it is held; the envs then step with that copy.
  void step_with(std::span<const std::byte> actions) {
    vec_.stage_actions(actions);
    {
      py::gil_scoped_release release;
      vec_.step_staged();
    }
    flush_warnings();
  }

  py::tuple render() {
    std::vector<std::string> frames;
    {
      py::gil_scoped_release release;
      frames = vec_.render();
    }
    flush_warnings();
    return py::tuple(py::cast(frames));
  }

  // Env `index`'s Env::save_state as a dict: what locus.rendering draws its picture from.
  py::object save_state(std::size_t index) const {
    if (index >= vec_.num_envs()) {
      throw py::index_error(
          fmt::format("env index {} is out of range for {} envs", index, vec_.num_envs()));
    }
    return from_json(vec_.env(index).save_state());
  }

  void close() {
    vec_.close();
    flush_warnings();
  }

  std::size_t num_envs() const { return vec_.num_envs(); }
  std::size_t num_threads() const { return vec_.num_threads(); }
  std::string autoreset_mode() const { return std::string(envs::to_string(vec_.autoreset_mode())); }
  std::optional<std::int64_t> max_episode_steps() const { return vec_.max_episode_steps(); }
  std::size_t observation_stride() const { return vec_.observation_stride(); }
  std::size_t action_stride() const { return vec_.action_stride(); }
  py::object single_observation_space() const {
    return from_json(vec_.single_observation_space().to_json());
  }
  py::object single_action_space() const { return from_json(vec_.single_action_space().to_json()); }
  py::dict observation_layout() const { return observation_codec_.layout(); }
  py::dict action_layout() const { return action_codec_.layout(); }
  std::string repr() const { return vec_.to_string(); }

  py::dict metadata() const {
    const envs::Env& first = vec_.env(0);
    py::dict out;
    out["render_modes"] = py::cast(first.metadata().render_modes);
    const double fps = first.metadata().render_fps;
    if (fps == static_cast<double>(static_cast<std::int64_t>(fps))) {
      out["render_fps"] = static_cast<std::int64_t>(fps);
    } else {
      out["render_fps"] = fps;
    }
    return out;
  }
  std::optional<std::string> render_mode() const { return vec_.env(0).render_mode(); }

  // Zero-copy views of the batch buffers (see the file comment).
  static py::array observation_buffer(const py::object& self) {
    const auto& me = self.cast<const PyVectorEnv&>();
    const auto bytes = me.vec_.observation_bytes();
    return view(self, py::dtype::of<std::uint8_t>(), {static_cast<py::ssize_t>(bytes.size())},
                bytes.data(), false);
  }
  static py::array action_buffer(const py::object& self) {
    auto& me = self.cast<PyVectorEnv&>();
    return view(self, py::dtype::of<std::uint8_t>(), {static_cast<py::ssize_t>(me.actions_.size())},
                me.actions_.data(), true);
  }
  static py::array rewards(const py::object& self) {
    const auto& me = self.cast<const PyVectorEnv&>();
    return view(self, py::dtype::of<double>(), {static_cast<py::ssize_t>(me.vec_.num_envs())},
                me.vec_.rewards().data(), false);
  }
  // The 0/1 bytes of the flag buffers are numpy bools as they are.
  static py::array terminations(const py::object& self) {
    const auto& me = self.cast<const PyVectorEnv&>();
    return view(self, py::dtype::of<bool>(), {static_cast<py::ssize_t>(me.vec_.num_envs())},
                me.vec_.terminations().data(), false);
  }
  static py::array truncations(const py::object& self) {
    const auto& me = self.cast<const PyVectorEnv&>();
    return view(self, py::dtype::of<bool>(), {static_cast<py::ssize_t>(me.vec_.num_envs())},
                me.vec_.truncations().data(), false);
  }

 private:
  envs::VectorEnv vec_;
  SpaceCodec observation_codec_;
  SpaceCodec action_codec_;
  std::vector<std::byte> actions_;  // (num_envs, action_stride): written by Python
};

void bind_vector_env(py::module_& module) {
  py::class_<PyVectorEnv>(module, "VectorEnv",
                          "A locus VectorEnv with numpy views of its batch buffers; use "
                          "locus.make_vec, the gymnasium.vector.VectorEnv around it.")
      .def(py::init<const std::string&, std::size_t, const py::dict&, const std::string&,
                    std::size_t>(),
           py::arg("id"), py::arg("num_envs"), py::arg("kwargs") = py::dict(),
           py::arg("autoreset_mode") = "NextStep", py::arg("num_threads") = 0)
      .def_static("from_python_envs", &PyVectorEnv::from_python_envs, py::arg("envs"),
                  py::arg("autoreset_mode") = "NextStep", py::arg("num_threads") = 0,
                  py::arg("max_episode_steps") = py::none())
      .def("step", &PyVectorEnv::step, py::arg("actions"))
      .def("step_buffered", &PyVectorEnv::step_buffered)
      .def("reset", &PyVectorEnv::reset, py::arg("seed") = py::none(),
           py::arg("options") = py::none(), py::arg("mask") = py::none())
      .def("infos", &PyVectorEnv::infos, py::arg("mask") = py::none())
      .def("step_infos", &PyVectorEnv::step_infos)
      .def("render", &PyVectorEnv::render)
      .def("save_state", &PyVectorEnv::save_state, py::arg("index"),
           "Env index's state (Env::save_state) as a dict")
      .def("close", &PyVectorEnv::close)
      .def_property_readonly("num_envs", &PyVectorEnv::num_envs)
      .def_property_readonly("num_threads", &PyVectorEnv::num_threads)
      .def_property_readonly("autoreset_mode", &PyVectorEnv::autoreset_mode)
      .def_property_readonly("max_episode_steps", &PyVectorEnv::max_episode_steps)
      .def_property_readonly("observation_stride", &PyVectorEnv::observation_stride)
      .def_property_readonly("action_stride", &PyVectorEnv::action_stride)
      .def_property_readonly("single_observation_space", &PyVectorEnv::single_observation_space)
      .def_property_readonly("single_action_space", &PyVectorEnv::single_action_space)
      .def_property_readonly("observation_layout", &PyVectorEnv::observation_layout)
      .def_property_readonly("action_layout", &PyVectorEnv::action_layout)
      .def_property_readonly("metadata", &PyVectorEnv::metadata)
      .def_property_readonly("render_mode", &PyVectorEnv::render_mode)
      .def_property_readonly("observation_buffer", &PyVectorEnv::observation_buffer)
      .def_property_readonly("action_buffer", &PyVectorEnv::action_buffer)
      .def_property_readonly("rewards", &PyVectorEnv::rewards)
      .def_property_readonly("terminations", &PyVectorEnv::terminations)
      .def_property_readonly("truncations", &PyVectorEnv::truncations)
      .def("__repr__", &PyVectorEnv::repr);
}

}  // namespace locus::python
