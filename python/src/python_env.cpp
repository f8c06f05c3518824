// A Python gymnasium.Env driven as a locus Env (one of the three ways a custom environment plugs
// in: docs/envs.md): the C++ side (env checker, VectorEnv, later the agents) calls reset/step on it
// through the allocation-free interface, and each call takes the GIL to run the Python env.
//
// The spaces come from the package (locus.spaces.to_json converts Gymnasium spaces); observations
// are packed from what the Python env returns, actions unpacked into Gymnasium's types. A Python
// exception raised by the env travels up unchanged (pybind11's error_already_set), through TBB's
// workers when a VectorEnv steps it, to the Python caller.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "convert.hpp"
#include "envs/vector_env.hpp"
#include "envs/wrappers/check_and_rollout.hpp"
#include "envs/wrappers/env_checker.hpp"
#include "space_codec.hpp"

namespace locus::python {

namespace {

// Its state lives in Python, out of C++'s reach: it keeps Env's supports_state() false.
class PythonEnv final : public envs::Env {
 public:
  // `env` is a gymnasium.Env; the spaces are its spaces in Space::to_json's form.
  PythonEnv(py::object env, const py::dict& observation_space, const py::dict& action_space)
      : env_(std::move(env)), class_name_(type_name(env_)) {
    set_observation_space(envs::space_from_json(to_json(observation_space, "observation_space")));
    set_action_space(envs::space_from_json(to_json(action_space, "action_space")));
    observation_codec_.emplace(observation_space_ptr());
    action_codec_.emplace(action_space_ptr());
    const py::object metadata = py::getattr(env_, "metadata", py::dict());
    if (PyDict_Check(metadata.ptr())) {
      const auto dict = py::reinterpret_borrow<py::dict>(metadata);
      if (dict.contains("render_modes")) {
        for (const auto& mode : dict["render_modes"]) {
          metadata_.render_modes.push_back(py::str(mode).cast<std::string>());
        }
      }
      if (dict.contains("render_fps") && !dict["render_fps"].is_none()) {
        metadata_.render_fps = dict["render_fps"].cast<double>();
      }
    }
    const py::object mode = py::getattr(env_, "render_mode", py::none());
    if (!mode.is_none()) set_render_mode(py::str(mode).cast<std::string>());
  }

  ~PythonEnv() override {
    // The Python objects must be released with the GIL held; at interpreter exit there is no
    // interpreter left to release them to, so they are left alone.
    if (Py_IsInitialized() == 0) {
      env_.release();
      return;
    }
    try {
      py::gil_scoped_acquire gil;
      observation_codec_.reset();
      action_codec_.reset();
      env_ = py::object();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
      // Taking the GIL or dropping a reference may report a Python error; there is nobody to
      // report it to, and the objects are then leaked rather than the process ended.
    }
  }

  std::string name() const override { return "PythonEnv<" + class_name_ + ">"; }

  std::string render() override {
    py::gil_scoped_acquire gil;
    const py::object frame = env_.attr("render")();
    if (!PyUnicode_Check(frame.ptr())) {
      throw envs::InvalidArgumentError(name() + ".render returned " + type_name(frame) +
                                       "; locus renders text (\"ansi\") only");
    }
    return frame.cast<std::string>();
  }

  void close() override {
    py::gil_scoped_acquire gil;
    env_.attr("close")();
  }

 protected:
  void reset_impl(const std::optional<envs::Seed>& seed, const envs::Kwargs& options,
                  std::span<std::byte> observation, envs::Info& info) override {
    py::gil_scoped_acquire gil;
    const py::object seed_object = seed ? py::object(to_python(*seed)) : py::object(py::none());
    const py::object result =
        env_.attr("reset")(py::arg("seed") = seed_object, py::arg("options") = from_json(options));
    const auto items = as_tuple(result, 2, "reset");
    pack_observation(items[0], observation, "reset");
    read_info(items[1], info, "reset");
  }

  envs::StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                              envs::Info& info) override {
    py::gil_scoped_acquire gil;
    const py::object result = env_.attr("step")(action_codec_->to_python(action));
    const auto items = as_tuple(result, 5, "step");
    pack_observation(items[0], observation, "step");
    envs::StepOutcome outcome;
    outcome.reward = read_number(items[1], "reward");
    outcome.terminated = read_flag(items[2], "terminated");
    outcome.truncated = read_flag(items[3], "truncated");
    read_info(items[4], info, "step");
    return outcome;
  }

 private:
  py::tuple as_tuple(const py::object& result, std::size_t size, const char* method) const {
    if (!PyTuple_Check(result.ptr()) || py::len(result) != size) {
      throw envs::InvalidArgumentError(name() + "." + method + " must return a tuple of " +
                                       std::to_string(size) + ", got " +
                                       std::string(py::repr(result)));
    }
    return py::reinterpret_borrow<py::tuple>(result);
  }

  void pack_observation(const py::handle value, std::span<std::byte> out, const char* method) {
    std::span<const std::byte> packed;
    try {
      packed = observation_codec_->pack(value, observation_scratch_, "");
    } catch (const envs::InvalidActionError& error) {
      throw envs::InvalidArgumentError(name() + "." + method + " returned an observation " +
                                       "that does not fit the observation space: " + error.what());
    }
    std::copy(packed.begin(), packed.end(), out.begin());
  }

  double read_number(const py::handle value, const char* what) const {
    if (PyBool_Check(value.ptr()) || PyNumber_Check(value.ptr()) == 0) {
      throw envs::InvalidArgumentError(name() + ".step: the " + what + " must be a number, got " +
                                       std::string(py::repr(value)));
    }
    return py::float_(py::reinterpret_borrow<py::object>(value)).cast<double>();
  }

  bool read_flag(const py::handle value, const char* what) const {
    // Gymnasium's checker accepts bool and numpy.bool_.
    if (!PyBool_Check(value.ptr()) &&
        !py::isinstance(value, py::module_::import("numpy").attr("bool_"))) {
      throw envs::InvalidArgumentError(name() + ".step: " + what + " must be a bool, got " +
                                       std::string(py::repr(value)) + " (" + type_name(value) +
                                       ")");
    }
    return py::bool_(py::reinterpret_borrow<py::object>(value)).cast<bool>();
  }

  void read_info(const py::handle value, envs::Info& info, const char* method) const {
    if (!PyDict_Check(value.ptr())) {
      throw envs::InvalidArgumentError(name() + "." + method + ": info must be a dict, got " +
                                       type_name(value));
    }
    to_info(py::reinterpret_borrow<py::dict>(value), info);
  }

  py::object env_;
  std::string class_name_;
  std::optional<SpaceCodec> observation_codec_;
  std::optional<SpaceCodec> action_codec_;
  std::vector<std::byte> observation_scratch_;
};

py::dict check_result_to_python(const envs::CheckResult& result) {
  py::dict out;
  out["passed"] = py::cast(result.passed);
  out["warnings"] = py::cast(result.warnings);
  out["steps"] = result.steps;
  out["episodes"] = result.episodes;
  return out;
}

}  // namespace

std::unique_ptr<envs::Env> make_python_env(const py::object& env, const py::dict& observation_space,
                                           const py::dict& action_space) {
  return std::make_unique<PythonEnv>(env, observation_space, action_space);
}

void bind_python_env(py::module_& module) {
  module.def(
      "check_python_env",
      [](const py::object& env, const py::dict& observation_space, const py::dict& action_space,
         std::uint64_t seed, int steps) {
        std::unique_ptr<envs::Env> adapter = make_python_env(env, observation_space, action_space);
        envs::CheckOptions options;
        options.seed = seed;
        options.steps = steps;
        envs::CheckResult result;
        {
          py::gil_scoped_release release;
          result = envs::check_env(*adapter, options);
        }
        flush_warnings();
        return check_result_to_python(result);
      },
      py::arg("env"), py::arg("observation_space"), py::arg("action_space"), py::arg("seed") = 123,
      py::arg("steps") = 200,
      "Runs locus's C++ env checker (envs/wrappers/env_checker.hpp) on a Python gymnasium.Env "
      "driven as a locus Env; raises locus.errors.CheckError on a violation.");
  // `locus check` and `locus rollout` for a registered id (a module:Name env registered by
  // locus.training): the report's lines, as the C++ command prints them.
  module.def(
      "run_check",
      [](const std::string& id, const py::dict& kwargs, std::uint64_t seed, int steps) {
        const envs::Kwargs parsed = to_json(kwargs, "locus check --kwargs");
        std::vector<std::string> lines;
        {
          py::gil_scoped_release release;
          envs::run_check(id, parsed, seed, steps,
                          [&](const std::string& line) { lines.push_back(line); });
        }
        flush_warnings();
        return lines;
      },
      py::arg("id"), py::arg("kwargs"), py::arg("seed"), py::arg("steps"));
  module.def(
      "run_rollout",
      [](const std::string& id, const py::dict& kwargs, int episodes, std::uint64_t seed,
         bool render) {
        const envs::Kwargs parsed = to_json(kwargs, "locus rollout --kwargs");
        std::vector<std::string> lines;
        {
          py::gil_scoped_release release;
          envs::run_rollout(id, parsed, episodes, seed, render,
                            [&](const std::string& line) { lines.push_back(line); });
        }
        flush_warnings();
        return lines;
      },
      py::arg("id"), py::arg("kwargs"), py::arg("episodes"), py::arg("seed"), py::arg("render"));
}

}  // namespace locus::python
