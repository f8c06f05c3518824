// The continual-learning harness from Python: sweeps (bench/harness/sweep.hpp, as `locus sweep`
// runs them) and the metric functions of bench/harness/metrics.hpp on numpy arrays (submodule
// _core.metrics). The package's locus.harness and locus.metrics build on these.
//
// Arrays come in as anything numpy can read (lists, arrays of any layout); they are converted to
// contiguous float64 (values) or int64 (iterations, block ends) and their shapes checked here, so
// that a bad shape raises locus.errors.InvalidArgumentError (a ValueError) naming the argument and
// the shape it needs. The metrics' own checks and NaN results (where a metric is undefined) are
// those of the C++ functions.

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/harness/metrics.hpp"
#include "bench/harness/sweep.hpp"
#include "bindings.hpp"
#include "cli/sweep_progress.hpp"
#include "convert.hpp"
#include "envs/errors.hpp"

namespace locus::python {

namespace {

using FloatArray = py::array_t<double, py::array::c_style>;
using IntArray = py::array_t<std::int64_t, py::array::c_style>;

// `object` as a contiguous float64 array of `ndim` dimensions.
FloatArray float_array(py::handle object, const char* name, py::ssize_t ndim) {
  py::array array;
  try {
    array = py::module_::import("numpy").attr("ascontiguousarray")(object, "float64");
  } catch (py::error_already_set& e) {
    throw envs::InvalidArgumentError(
        fmt::format("{}: cannot be read as an array of numbers ({})", name, e.what()));
  }
  if (array.ndim() != ndim) {
    throw envs::InvalidArgumentError(
        fmt::format("{} must be a {}-D array, got shape {}", name, ndim, shape_text(array)));
  }
  return array.cast<FloatArray>();
}

// `object` as a contiguous int64 vector; floats are refused rather than truncated.
IntArray int_vector(py::handle object, const char* name) {
  py::array array;
  try {
    array = py::module_::import("numpy").attr("asarray")(object);
  } catch (py::error_already_set& e) {
    throw envs::InvalidArgumentError(
        fmt::format("{}: cannot be read as an array of integers ({})", name, e.what()));
  }
  const char kind = array.dtype().kind();
  const bool empty = array.size() == 0;
  if (!empty && kind != 'i' && kind != 'u') {
    throw envs::InvalidArgumentError(fmt::format("{} must hold integers (iterations), got dtype {}",
                                                 name, std::string(py::str(array.dtype()))));
  }
  if (array.ndim() != 1) {
    throw envs::InvalidArgumentError(
        fmt::format("{} must be a 1-D array, got shape {}", name, shape_text(array)));
  }
  return py::module_::import("numpy").attr("ascontiguousarray")(array, "int64").cast<IntArray>();
}

std::size_t non_negative(std::int64_t value, const char* name) {
  if (value < 0) {
    throw envs::InvalidArgumentError(fmt::format("{} must be >= 0, got {}", name, value));
  }
  return static_cast<std::size_t>(value);
}

bench::AccuracyMatrix accuracy_matrix(py::handle object) {
  const FloatArray array = float_array(object, "accuracy matrix R", 2);
  const auto rows = static_cast<std::size_t>(array.shape(0));
  const auto cols = static_cast<std::size_t>(array.shape(1));
  if (rows != cols) {
    throw envs::InvalidArgumentError(fmt::format(
        "accuracy matrix R must be square (tasks, tasks): R[i][j] is the accuracy on task j "
        "after block i; got shape ({}, {})",
        rows, cols));
  }
  bench::AccuracyMatrix r(rows, std::vector<double>(cols));
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) r[i][j] = array.at(i, j);
  }
  return r;
}

std::span<const double> span_of(const FloatArray& array) {
  return {array.data(), static_cast<std::size_t>(array.size())};
}
std::span<const std::int64_t> span_of(const IntArray& array) {
  return {array.data(), static_cast<std::size_t>(array.size())};
}

// A curve's three arrays, kept alive while the CurveView points into them.
struct Curve {
  IntArray iterations;
  FloatArray values;
  IntArray block_ends;

  Curve(py::handle iterations_in, py::handle values_in, py::handle block_ends_in)
      : iterations(int_vector(iterations_in, "iterations")),
        values(float_array(values_in, "values", 1)),
        block_ends(int_vector(block_ends_in, "block_ends")) {
    if (iterations.size() != values.size()) {
      throw envs::InvalidArgumentError(
          fmt::format("iterations has {} entries but values has {}; give one value per evaluation",
                      iterations.size(), values.size()));
    }
  }
  bench::CurveView view() const {
    return {span_of(iterations), span_of(values), span_of(block_ends)};
  }
};

// The per-task curves of min_accuracy / worst_case_accuracy: a (tasks, evals) array.
struct TaskCurves {
  std::vector<std::vector<double>> curves;
  IntArray iterations;
  IntArray block_ends;

  TaskCurves(py::handle curves_in, py::handle iterations_in, py::handle block_ends_in)
      : iterations(int_vector(iterations_in, "iterations")),
        block_ends(int_vector(block_ends_in, "block_ends")) {
    const FloatArray array = float_array(curves_in, "curves", 2);
    if (array.shape(1) != iterations.size()) {
      throw envs::InvalidArgumentError(
          fmt::format("curves must have shape (tasks, evaluations) = (tasks, {}) to match "
                      "iterations, got {}",
                      iterations.size(), shape_text(array)));
    }
    curves.assign(static_cast<std::size_t>(array.shape(0)),
                  std::vector<double>(static_cast<std::size_t>(array.shape(1))));
    for (std::size_t t = 0; t < curves.size(); ++t) {
      for (std::size_t e = 0; e < curves[t].size(); ++e) curves[t][e] = array.at(t, e);
    }
  }
};

// Binds `metric` (min_accuracy or worst_case_accuracy: the task curves, evaluation index `now` and
// current task) as `name` of `metrics`.
template <typename Metric>
void def_task_accuracy(py::module_& metrics, const char* name, Metric metric, const char* doc) {
  metrics.def(
      name,
      [metric](py::handle curves, py::handle iterations, py::handle block_ends, std::int64_t now,
               std::int64_t current_task) {
        const TaskCurves c(curves, iterations, block_ends);
        return metric(c.curves, span_of(c.iterations), span_of(c.block_ends),
                      non_negative(now, "now"), non_negative(current_task, "current_task"));
      },
      py::arg("curves"), py::arg("iterations"), py::arg("block_ends"), py::arg("now"),
      py::arg("current_task"), doc);
}

void bind_metrics(py::module_& metrics) {
  metrics.doc() =
      "Continual-learning metrics of the locus harness (bench/harness/metrics.hpp, docs/bench.md)";
  metrics.def(
      "average_accuracy", [](py::handle r) { return bench::average_accuracy(accuracy_matrix(r)); },
      py::arg("r"), "ACC = mean_j R[T-1][j], R of shape (tasks, tasks).");
  metrics.def(
      "backward_transfer",
      [](py::handle r) { return bench::backward_transfer(accuracy_matrix(r)); }, py::arg("r"),
      "BWT = 1/(T-1) sum_{j<T-1} (R[T-1][j] - R[j][j]); NaN with one task.");
  metrics.def(
      "forward_transfer",
      [](py::handle r, py::handle initial) {
        const FloatArray b = float_array(initial, "initial", 1);
        return bench::forward_transfer(accuracy_matrix(r), span_of(b));
      },
      py::arg("r"), py::arg("initial"),
      "FWT = 1/(T-1) sum_{j>=1} (R[j-1][j] - b[j]), b the accuracies before any training; NaN "
      "with one task.");
  metrics.def(
      "average_forgetting",
      [](py::handle r) { return bench::average_forgetting(accuracy_matrix(r)); }, py::arg("r"),
      "Forgetting = 1/(T-1) sum_{j<T-1} (max_{l<T-1} R[l][j] - R[T-1][j]); NaN with one task.");
  metrics.def(
      "stability_gap",
      [](py::handle iterations, py::handle values, py::handle block_ends, std::int64_t boundary) {
        const Curve curve(iterations, values, block_ends);
        return bench::stability_gap(curve.view(), non_negative(boundary, "boundary"));
      },
      py::arg("iterations"), py::arg("values"), py::arg("block_ends"), py::arg("boundary"),
      "SG_k = (A(end[k]) - min over block k+1 of A) / A(end[k]) for boundary k in "
      "[0, tasks - 1); NaN if A(end[k]) is 0 or missing or block k+1 has no evaluation.");
  metrics.def(
      "average_stability_gap",
      [](py::handle iterations, py::handle values, py::handle block_ends) {
        const Curve curve(iterations, values, block_ends);
        return bench::average_stability_gap(curve.view());
      },
      py::arg("iterations"), py::arg("values"), py::arg("block_ends"),
      "Mean of SG_k over every boundary, NaN terms skipped (NaN if none is finite).");
  metrics.def(
      "gap_shape",
      [](py::handle iterations, py::handle values, py::handle block_ends, std::int64_t boundary,
         double epsilon, std::int64_t window) {
        const Curve curve(iterations, values, block_ends);
        const bench::GapShape gap =
            bench::gap_shape(curve.view(), non_negative(boundary, "boundary"), epsilon,
                             non_negative(window, "window"));
        py::dict out;
        out["baseline"] = gap.baseline;
        out["depth"] = gap.depth;
        out["recovery"] = gap.recovery;
        out["censored"] = gap.censored;
        out["area"] = gap.area;
        return out;
      },
      py::arg("iterations"), py::arg("values"), py::arg("block_ends"), py::arg("boundary"),
      py::arg("epsilon"), py::arg("window") = 5,
      "The gap after boundary k: a dict with baseline (mean of the last `window` evaluations of "
      "block k), depth, recovery (iterations from the switch until the smoothed curve is back "
      "within epsilon of the baseline), censored (never recovered) and area.");
  def_task_accuracy(
      metrics, "min_accuracy", &bench::min_accuracy,
      "min-ACC at evaluation index `now`: mean over the tasks j < current_task of their lowest "
      "accuracy after their block; curves of shape (tasks, evaluations); NaN for task 0.");
  def_task_accuracy(
      metrics, "worst_case_accuracy", &bench::worst_case_accuracy,
      "WC-ACC = A_k(now) / k + (1 - 1/k) min-ACC, k = current_task + 1; the current task's "
      "accuracy for task 0.");
  metrics.def(
      "mean_sd",
      [](py::handle values) {
        const FloatArray v = float_array(values, "values", 1);
        const bench::MeanSd s = bench::mean_sd(span_of(v));
        return py::make_tuple(s.mean, s.sd, s.count);
      },
      py::arg("values"),
      "(mean, sample sd, count) of the finite values; NaN mean without any, NaN sd with one.");
}

}  // namespace

void bind_harness(py::module_& module) {
  module.def(
      "run_sweep",
      [](const std::string& config_text, const std::string& config_path, const std::string& out,
         int jobs, bool progress) {
        if (jobs < 1) {
          throw envs::InvalidArgumentError(
              fmt::format("sweep: jobs must be a positive number of workers, got {}", jobs));
        }
        const bench::SweepConfig config = config_path.empty()
                                              ? bench::SweepConfig::from_yaml(config_text)
                                              : bench::SweepConfig::from_yaml_file(config_path);
        const std::size_t total = config.expand().size();  // checks every run's settings
        bench::SweepOptions options;
        options.out_dir = out.empty() ? "runs/" + config.name : out;
        options.jobs = jobs;
        cli::SweepProgressLine progress_line(stderr);
        if (progress) options.progress_display = &progress_line;
        bench::SweepOutcome outcome;
        {
          py::gil_scoped_release release;
          outcome = bench::run_sweep(config, options);
        }
        flush_warnings();
        py::dict result;
        result["name"] = config.name;
        result["out"] = options.out_dir.string();
        result["total"] = total;
        result["skipped"] = outcome.skipped;
        result["executed"] = outcome.executed;
        result["table"] = outcome.table;
        return result;
      },
      py::arg("config_text"), py::arg("config_path"), py::arg("out"), py::arg("jobs"),
      py::arg("progress"),
      "Runs a sweep (bench::run_sweep) from YAML text or a file (config_path non-empty) into "
      "`out` (empty: runs/<name>), without the GIL; returns the outcome (the runs are in "
      "out/results.jsonl).");
  module.def("sweep_settings_help", &bench::run_settings_help,
             "The run settings a supervised sweep understands, with their defaults.");

  py::module_ metrics = module.def_submodule("metrics");
  bind_metrics(metrics);
}

}  // namespace locus::python
