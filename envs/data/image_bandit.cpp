#include "envs/data/image_bandit.hpp"

#include <algorithm>
#include <cmath>

#include "envs/registry.hpp"
#include "envs/state_json.hpp"

namespace locus::envs::data {

namespace {

const std::vector<std::string>& stream_keys() {
  static const std::vector<std::string> keys = {
      "stream", "scenario",      "data_dir",       "stream_seed",   "num_tasks", "classes_per_task",
      "angles", "eval_per_task", "train_per_task", "normalization", "joint"};
  return keys;
}

std::int64_t non_negative(std::int64_t value, const std::string& context, const char* key) {
  if (value < 0) {
    throw InvalidArgumentError(context + ": '" + key + "' must not be negative, got " +
                               std::to_string(value));
  }
  return value;
}

}  // namespace

StreamConfig stream_config_from_kwargs(const Kwargs& kwargs, const std::string& context,
                                       const std::vector<std::string>& other_keys) {
  if (!kwargs.is_null() && !kwargs.is_object()) {
    throw InvalidArgumentError(context + ": arguments must be a JSON object, got " + kwargs.dump());
  }
  Kwargs own = Kwargs::object();
  if (kwargs.is_object()) {
    for (const auto& [key, value] : kwargs.items()) {
      const bool is_stream_key =
          std::find(stream_keys().begin(), stream_keys().end(), key) != stream_keys().end();
      const bool is_other_key =
          std::find(other_keys.begin(), other_keys.end(), key) != other_keys.end();
      if (is_stream_key) {
        own[key] = value;
      } else if (!is_other_key) {
        std::string accepted;
        for (const auto& k : other_keys) accepted += (accepted.empty() ? "" : ", ") + k;
        for (const auto& k : stream_keys()) accepted += (accepted.empty() ? "" : ", ") + k;
        throw InvalidArgumentError(context + ": unknown argument '" + key +
                                   "' (accepted: " + accepted + ")");
      }
    }
  }
  StreamConfig config;
  if (own.contains("angles") && !own["angles"].is_null()) {
    const Kwargs& angles = own["angles"];
    if (!angles.is_array() || angles.empty() ||
        !std::all_of(angles.begin(), angles.end(), [](const Kwargs& a) { return a.is_number(); })) {
      throw InvalidArgumentError(context +
                                 ": 'angles' must be a non-empty list of numbers "
                                 "(degrees), got " +
                                 angles.dump());
    }
    config.angles.clear();
    for (const auto& angle : angles) config.angles.push_back(angle.get<double>());
  }
  own.erase("angles");
  KwargsReader reader(own, context);
  config.kind = stream_kind_from_name(reader.get<std::string>("stream", "full"));
  config.scenario = scenario_from_name(reader.get<std::string>("scenario", "task-incremental"));
  config.data_dir = reader.get<std::string>("data_dir", default_data_dir().string());
  const std::int64_t seed = reader.get<std::int64_t>("stream_seed", 0);
  config.seed = static_cast<std::uint64_t>(non_negative(seed, context, "stream_seed"));
  config.num_tasks = non_negative(reader.get<std::int64_t>("num_tasks", 0), context, "num_tasks");
  config.classes_per_task = reader.get<std::int64_t>("classes_per_task", 2);
  config.eval_per_task =
      non_negative(reader.get<std::int64_t>("eval_per_task", 1000), context, "eval_per_task");
  config.train_per_task =
      non_negative(reader.get<std::int64_t>("train_per_task", 0), context, "train_per_task");
  config.normalization = normalization_from_name(reader.get<std::string>("normalization", "unit"));
  config.joint = reader.get<bool>("joint", false);
  reader.finish();
  return config;
}

ImageBanditEnv::ImageBanditEnv(const Kwargs& kwargs) {
  const std::string context = "FashionMNISTBandit";
  const StreamConfig config =
      stream_config_from_kwargs(kwargs, context, {"task", "split", "flatten", "render_mode"});
  Kwargs own = Kwargs::object();
  if (kwargs.is_object()) {
    for (const char* key : {"task", "split", "flatten", "render_mode"}) {
      if (kwargs.contains(key)) own[key] = kwargs[key];
    }
  }
  KwargsReader reader(own, context);
  task_ = reader.get<std::int64_t>("task", 0);
  const std::string split = reader.get<std::string>("split", "train");
  const bool flatten = reader.get<bool>("flatten", true);
  const std::string render_mode = reader.get<std::string>("render_mode", "");
  reader.finish();
  if (!render_mode.empty()) set_render_mode(render_mode);  // rejects every mode: there is none

  stream_ = make_shared_stream(config);
  if (task_ < 0 || task_ >= stream_->num_tasks()) {
    throw InvalidArgumentError(context + ": task " + std::to_string(task_) +
                               " is out of range; the " +
                               std::string(stream_kind_name(config.kind)) + " stream has " +
                               std::to_string(stream_->num_tasks()) + " tasks (0.." +
                               std::to_string(stream_->num_tasks() - 1) + ")");
  }
  if (split == "eval") {
    split_ = Split::kTest;
    pool_ = stream_->eval_indices(task_);
  } else if (split == "train" || split == "test") {
    split_ = split_from_name(split);
    pool_ = stream_->indices(task_, split_);
  } else {
    throw InvalidArgumentError(context + ": unknown split '" + split +
                               "' (accepted: train, test, eval)");
  }
  const Shape shape =
      flatten ? Shape{stream_->input_size()} : Shape{stream_->rows(), stream_->cols()};
  set_observation_space(
      std::make_shared<Box>(stream_->input_low(), stream_->input_high(), shape, DType::kFloat32));
  set_action_space(std::make_shared<Discrete>(stream_->num_outputs()));
}

void ImageBanditEnv::show_next_image(std::span<std::byte> observation) {
  const auto pick = np_random().integers(static_cast<std::int64_t>(pool_.size()));
  const std::int32_t index = pool_[static_cast<std::size_t>(pick)];
  stream_->write_input(task_, split_, index, as_span<float>(observation));
  current_target_ =
      stream_->target(task_, stream_->dataset(split_).labels[static_cast<std::size_t>(index)]);
}

void ImageBanditEnv::reset_impl(const std::optional<Seed>& /*seed*/, const Kwargs& /*options*/,
                                std::span<std::byte> observation, Info& /*info*/) {
  show_next_image(observation);
}

StepOutcome ImageBanditEnv::step_impl(std::span<const std::byte> action,
                                      std::span<std::byte> observation, Info& info) {
  const bool correct = as_span<const std::int64_t>(action)[0] == current_target_;
  info.set("label", current_target_);
  info.set("correct", correct);
  info.set("new_trial", true);
  show_next_image(observation);
  return {correct ? 1.0 : 0.0, false, false};
}

nlohmann::json ImageBanditEnv::save_state_impl() const {
  // The image shown is in the caller's observation buffer; what the next step needs is its label.
  return {{"current_target", current_target_}};
}

void ImageBanditEnv::restore_state_impl(const nlohmann::json& fields) {
  const auto& actions = dynamic_cast<const Discrete&>(action_space());
  current_target_ =
      StateReader(fields, name(), "fields")
          .get_int("current_target", actions.start(), actions.start() + actions.n() - 1);
}

namespace {

const bool registered = [] {
  Registry::global().register_env(
      {.id = "FashionMNISTBandit-v0",
       .entry_point = env_factory<ImageBanditEnv>(),
       .max_episode_steps = 100,
       .description = "Contextual bandit on Fashion-MNIST images (reward 1 for the right label); "
                      "kwargs pick a split/permuted/rotated stream, task and scenario"});
  return true;
}();

}  // namespace

}  // namespace locus::envs::data
