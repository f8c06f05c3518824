#include "agents/run_tensorboard.hpp"

#include <cmath>
#include <utility>

#include "util/tensorboard_events.hpp"

namespace locus::agents {
namespace {

namespace tb = util::tensorboard;

// metrics.jsonl's fields (JSON pointers) and their TensorBoard tags.
constexpr std::pair<const char*, const char*> kTags[] = {
    {"/return_100", "rollout/return_100"},
    {"/success_100", "rollout/success_100"},
    {"/loss", "loss/total"},
    {"/policy_loss", "loss/policy"},
    {"/value_loss", "loss/value"},
    {"/gradient_norm", "loss/gradient_norm"},
    {"/entropy", "policy/entropy"},
    {"/approx_kl", "policy/approx_kl"},
    {"/clip_fraction", "policy/clip_fraction"},
    {"/mean_delta", "dopamine/mean_delta"},
    {"/mean_abs_delta", "dopamine/mean_abs_delta"},
    {"/gain", "noradrenaline/gain"},
    {"/context", "noradrenaline/context"},
    {"/contexts", "noradrenaline/contexts"},
    {"/eval/return_mean", "eval/return_mean"},
    {"/eval/success_rate", "eval/success_rate"},
    {"/eval/length_mean", "eval/length_mean"},
};

double mean_episode_return(const nlohmann::json& row) {
  const auto it = row.find("episode_returns");
  if (it == row.end() || !it->is_array() || it->empty()) return std::nan("");
  double sum = 0.0;
  for (const auto& value : *it) sum += value.is_number() ? value.get<double>() : std::nan("");
  return sum / double(it->size());
}

}  // namespace

std::string tensorboard_record(const nlohmann::json& row, double wall_time) {
  std::vector<tb::Scalar> scalars;
  for (const auto& [pointer, tag] : kTags) {
    const nlohmann::json::json_pointer at(pointer);
    if (!row.contains(at)) continue;
    const nlohmann::json& value = row[at];
    if (value.is_number() && std::isfinite(value.get<double>())) {
      scalars.push_back({tag, value.get<double>()});
    }
  }
  const double episode_return = mean_episode_return(row);
  if (std::isfinite(episode_return)) scalars.push_back({"rollout/episode_return", episode_return});
  const std::int64_t step = row.value("steps", std::int64_t{0});
  return tb::scalars_record(scalars, step, wall_time);
}

std::string tensorboard_file(const std::vector<nlohmann::json>& rows, double now) {
  const double last_time = rows.empty() ? 0.0 : rows.back().value("time_s", 0.0);
  const double start = now - last_time;
  std::string file = tb::file_version_record(start);
  for (const nlohmann::json& row : rows) {
    file += tensorboard_record(row, start + row.value("time_s", 0.0));
  }
  return file;
}

}  // namespace locus::agents
