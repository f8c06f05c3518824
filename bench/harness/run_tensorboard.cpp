#include "bench/harness/run_tensorboard.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

#include "util/tensorboard_events.hpp"

namespace locus::bench {
namespace {

namespace tb = util::tensorboard;
using json = nlohmann::json;

double at_or_nan(const json& values, std::size_t i) {
  if (!values.is_array() || i >= values.size() || !values[i].is_number()) return std::nan("");
  return values[i].get<double>();
}

// One event per evaluation: every task's accuracy, their mean over the tasks seen, loss and gain.
std::string evaluation_events(const json& record, double wall_time) {
  const json& iterations = record.at("iterations");
  const json& curves = record.at("curves");
  std::vector<std::string> tags;
  for (std::size_t task = 0; task < curves.size(); ++task) {
    tags.push_back("accuracy/task_" + std::to_string(task + 1));
  }
  std::string events;
  for (std::size_t e = 0; e < iterations.size(); ++e) {
    std::vector<tb::Scalar> scalars;
    double sum = 0.0;
    std::size_t seen = 0;
    for (std::size_t task = 0; task < curves.size(); ++task) {
      const double accuracy = at_or_nan(curves[task], e);
      if (!std::isfinite(accuracy)) continue;
      scalars.push_back({tags[task], accuracy});
      sum += accuracy;
      ++seen;
    }
    if (seen > 0) scalars.push_back({"accuracy/mean_seen", sum / double(seen)});
    const double loss = at_or_nan(record.value("losses", json()), e);
    if (std::isfinite(loss)) scalars.push_back({"train/loss", loss});
    const double gain = at_or_nan(record.value("gains", json()), e);
    if (std::isfinite(gain)) scalars.push_back({"ngm/gain", gain});
    events += tb::scalars_record(scalars, iterations[e].get<std::int64_t>(), wall_time);
  }
  return events;
}

std::string metrics_event(const json& run, std::int64_t step, double wall_time) {
  std::vector<std::string> tags;
  std::vector<double> values;
  for (const auto& [name, value] : run.at("metrics").items()) {
    if (!value.is_number() || !std::isfinite(value.get<double>())) continue;
    tags.push_back("metrics/" + name);
    values.push_back(value.get<double>());
  }
  std::vector<tb::Scalar> scalars;
  for (std::size_t i = 0; i < tags.size(); ++i) scalars.push_back({tags[i], values[i]});
  return tb::scalars_record(scalars, step, wall_time);
}

}  // namespace

std::string run_event_file(const json& run, double wall_time) {
  const json& record = run.at("record");
  const json& iterations = record.at("iterations");
  const std::int64_t last = iterations.empty() ? 0 : iterations.back().get<std::int64_t>();
  return tb::file_version_record(wall_time) + evaluation_events(record, wall_time) +
         metrics_event(run, last, wall_time);
}

}  // namespace locus::bench
