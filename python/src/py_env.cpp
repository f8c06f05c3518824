// _core.Env: one locus environment, stepped through the allocation-free path.
//
// Observations of Box / MultiDiscrete / MultiBinary spaces are written by the env straight into a
// fresh ndarray (one allocation, no copy), so that each call returns new data as Gymnasium's
// checker requires; actions that already are a C-contiguous ndarray of the action space's dtype
// are read in place. The GIL is released while the env runs.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "convert.hpp"
#include "envs/registry.hpp"
#include "space_codec.hpp"

namespace locus::python {

namespace {

// Builds the raw env of `id` as Gymnasium's entry point would: the spec's kwargs updated by
// `kwargs`, no wrappers (gymnasium.make adds its own).
std::unique_ptr<envs::Env> make_raw_env(const std::string& id, const envs::Kwargs& kwargs) {
  auto spec = envs::Registry::global().spec(id);
  auto made = std::make_shared<envs::EnvSpec>(*spec);
  if (kwargs.is_object()) made->kwargs.update(kwargs);
  std::unique_ptr<envs::Env> env = made->entry_point(made->kwargs);
  if (!env)
    throw envs::InvalidArgumentError("make('" + made->id + "'): the entry point returned null");
  env->set_spec(std::move(made));
  return env;
}

py::int_ to_python_u128(envs::Uint128 value) {
  const py::int_ high(static_cast<std::uint64_t>(value >> 64));
  const py::int_ low(static_cast<std::uint64_t>(value));
  return py::reinterpret_steal<py::int_>(PyNumber_Or(
      py::reinterpret_steal<py::object>(PyNumber_Lshift(high.ptr(), py::int_(64).ptr())).ptr(),
      low.ptr()));
}

envs::Uint128 to_u128(const py::handle value, const char* what) {
  const py::int_ number = py::reinterpret_borrow<py::object>(value);
  const py::int_ mask((std::uint64_t{1} << 63) | ((std::uint64_t{1} << 63) - 1));
  const py::object high =
      py::reinterpret_steal<py::object>(PyNumber_Rshift(number.ptr(), py::int_(64).ptr()));
  const py::object low = py::reinterpret_steal<py::object>(PyNumber_And(number.ptr(), mask.ptr()));
  if (!high || !low || PyObject_RichCompareBool(number.ptr(), py::int_(0).ptr(), Py_LT) == 1 ||
      PyObject_RichCompareBool(high.ptr(), mask.ptr(), Py_GT) == 1) {
    PyErr_Clear();
    throw envs::InvalidArgumentError(std::string("PCG64 state: '") + what +
                                     "' must be an int in [0, 2**128), got " +
                                     std::string(py::repr(value)));
  }
  return (static_cast<envs::Uint128>(high.cast<std::uint64_t>()) << 64) | low.cast<std::uint64_t>();
}

}  // namespace

class PyEnv {
 public:
  PyEnv(const std::string& id, const py::dict& kwargs)
      : PyEnv(make_raw_env(id, to_json(kwargs, "make('" + id + "')"))) {}

  explicit PyEnv(std::unique_ptr<envs::Env> env)
      : env_(std::move(env)),
        observation_codec_(env_->observation_space_ptr()),
        action_codec_(env_->action_space_ptr()),
        observation_scratch_(env_->observation_space().packed_bytes()),
        reset_context_(env_->name() + ".reset"),
        step_context_(env_->name() + ".step: action") {}

  py::tuple reset(const py::object& seed, const py::object& options) {
    const std::optional<envs::Seed> env_seed = to_seed(seed, reset_context_);
    const envs::Kwargs env_options =
        options.is_none() ? envs::Kwargs() : to_json(options, reset_context_ + " options");
    py::object observation;
    if (observation_codec_.packs_as_array()) {
      py::array array = observation_codec_.new_array();
      const std::span<std::byte> out(static_cast<std::byte*>(array.mutable_data()),
                                     observation_scratch_.size());
      {
        py::gil_scoped_release release;
        env_->reset(out, info_, env_seed, env_options);
      }
      observation = std::move(array);
    } else {
      {
        py::gil_scoped_release release;
        env_->reset(observation_scratch_, info_, env_seed, env_options);
      }
      observation = observation_codec_.to_python(observation_scratch_);
    }
    flush_warnings();
    return py::make_tuple(std::move(observation), to_python(info_));
  }

  py::tuple step(const py::handle action) {
    // A float32 Box action in float64 (or Python numbers) goes to the env as it is, as Gymnasium
    // hands its env the object it was given; anything else is packed in the space's layout.
    const std::optional<envs::ActionForm> float64_form =
        action_codec_.float64_action(action, float64_action_);
    const std::span<const std::byte> packed =
        float64_form ? std::span<const std::byte>()
                     : action_codec_.pack(action, action_scratch_, step_context_);
    const auto run = [&](std::span<std::byte> out) {
      py::gil_scoped_release release;
      return float64_form ? env_->step_float64(float64_action_, *float64_form, out, info_)
                          : env_->step(packed, out, info_);
    };
    envs::StepOutcome outcome;
    py::object observation;
    if (observation_codec_.packs_as_array()) {
      py::array array = observation_codec_.new_array();
      outcome = run({static_cast<std::byte*>(array.mutable_data()), observation_scratch_.size()});
      observation = std::move(array);
    } else {
      outcome = run(observation_scratch_);
      observation = observation_codec_.to_python(observation_scratch_);
    }
    flush_warnings();
    return py::make_tuple(std::move(observation), outcome.reward, outcome.terminated,
                          outcome.truncated, to_python(info_));
  }

  std::string render() {
    std::string text;
    {
      py::gil_scoped_release release;
      text = env_->render();
    }
    flush_warnings();
    return text;
  }

  void close() {
    env_->close();
    flush_warnings();
  }

  py::object observation_space() const { return from_json(env_->observation_space().to_json()); }
  py::object action_space() const { return from_json(env_->action_space().to_json()); }

  py::dict metadata() const {
    py::dict out;
    out["render_modes"] = py::cast(env_->metadata().render_modes);
    const double fps = env_->metadata().render_fps;
    // Gymnasium's envs give an int (CartPole's 50); keep an int when the value is one.
    if (fps == static_cast<double>(static_cast<std::int64_t>(fps))) {
      out["render_fps"] = static_cast<std::int64_t>(fps);
    } else {
      out["render_fps"] = fps;
    }
    return out;
  }

  std::optional<std::string> render_mode() const { return env_->render_mode(); }
  std::string name() const { return env_->name(); }
  std::string repr() const { return env_->to_string(); }
  bool has_reset() const { return env_->has_reset(); }
  // Env::save_state as a dict (envs/state_json.hpp's forms): what locus.rendering draws from.
  py::object save_state() const { return from_json(env_->save_state()); }

  // numpy's PCG64 state of np_random(): (state, inc, has_uint32, uinteger).
  py::tuple rng_state() {
    const envs::Pcg64::State state = env_->np_random().bit_generator().state();
    return py::make_tuple(to_python_u128(state.state), to_python_u128(state.inc),
                          static_cast<int>(state.has_uint32), state.uinteger);
  }

  void set_rng_state(const py::tuple& state) {
    if (state.size() != 4) {
      throw envs::InvalidArgumentError(
          "set_rng_state: expected (state, inc, has_uint32, uinteger), got " +
          std::string(py::repr(state)));
    }
    envs::Pcg64::State s;
    s.state = to_u128(state[0], "state");
    s.inc = to_u128(state[1], "inc");
    s.has_uint32 = state[2].cast<int>() != 0;
    s.uinteger = state[3].cast<std::uint32_t>();
    env_->np_random().bit_generator().set_state(s);
  }

 private:
  std::unique_ptr<envs::Env> env_;
  SpaceCodec observation_codec_;
  SpaceCodec action_codec_;
  std::vector<std::byte> observation_scratch_;
  std::vector<std::byte> action_scratch_;
  std::vector<double> float64_action_;
  envs::Info info_;
  std::string reset_context_;
  std::string step_context_;
};

void bind_env(py::module_& module) {
  py::class_<PyEnv>(module, "Env",
                    "One locus environment without wrappers (gymnasium.make adds them); "
                    "use locus.LocusEnv, the gymnasium.Env around it.")
      .def(py::init<const std::string&, const py::dict&>(), py::arg("id"),
           py::arg("kwargs") = py::dict())
      .def("reset", &PyEnv::reset, py::arg("seed") = py::none(), py::arg("options") = py::none())
      .def("step", &PyEnv::step, py::arg("action"))
      .def("render", &PyEnv::render)
      .def("save_state", &PyEnv::save_state,
           "The env's state (Env::save_state) as a dict; raises when the env cannot save it")
      .def("close", &PyEnv::close)
      .def_property_readonly("observation_space", &PyEnv::observation_space,
                             "The observation space as JSON (Space::to_json)")
      .def_property_readonly("action_space", &PyEnv::action_space)
      .def_property_readonly("metadata", &PyEnv::metadata)
      .def_property_readonly("render_mode", &PyEnv::render_mode)
      .def_property_readonly("name", &PyEnv::name)
      .def_property_readonly("has_reset", &PyEnv::has_reset)
      .def("rng_state", &PyEnv::rng_state)
      .def("set_rng_state", &PyEnv::set_rng_state, py::arg("state"))
      .def("__repr__", &PyEnv::repr);
}

}  // namespace locus::python
