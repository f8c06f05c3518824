#include "envs/vector_env.hpp"

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "envs/registry.hpp"
#include "util/memory.hpp"
#include "util/parallel.hpp"

namespace locus::envs {

namespace {

// Passed to the autoresets of step(): a null Kwargs would make Env::reset build an empty object,
// one allocation per autoreset.
const Kwargs& no_options() {
  static const Kwargs options = Kwargs::object();
  return options;
}

// The element type of a leaf space's packed layout; nullopt for Tuple and Dict.
std::optional<DType> leaf_dtype(const Space& space) {
  switch (space.kind()) {
    case SpaceKind::kDiscrete:
    case SpaceKind::kMultiDiscrete:
      return DType::kInt64;
    case SpaceKind::kBox:
      return static_cast<const Box&>(space).dtype();
    case SpaceKind::kMultiBinary:
      return DType::kInt8;
    case SpaceKind::kTuple:
    case SpaceKind::kDict:
      return std::nullopt;
  }
  return std::nullopt;
}

// Per-env slices of a composite space start at multiples of 8 bytes, as its children do inside
// one packed value, so that every child of every env stays aligned.
std::size_t stride_for(const Space& space) {
  const std::size_t bytes = space.packed_bytes();
  return space.is_leaf() ? bytes : (bytes + 7) / 8 * 8;
}

Shape prepend(std::size_t n, const Shape& shape) {
  Shape out;
  out.reserve(shape.size() + 1);
  out.push_back(static_cast<std::int64_t>(n));
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

template <class T>
std::vector<T> tile(const std::vector<T>& values, std::size_t n) {
  std::vector<T> out;
  out.reserve(values.size() * n);
  for (std::size_t i = 0; i < n; ++i) out.insert(out.end(), values.begin(), values.end());
  return out;
}

std::string index_message(std::size_t i, std::size_t n) {
  return "env index " + std::to_string(i) + " is out of range (num_envs=" + std::to_string(n) + ")";
}

}  // namespace

std::string_view to_string(AutoresetMode mode) {
  switch (mode) {
    case AutoresetMode::kNextStep:
      return "NextStep";
    case AutoresetMode::kSameStep:
      return "SameStep";
    case AutoresetMode::kDisabled:
      return "Disabled";
  }
  return "?";
}

AutoresetMode autoreset_mode_from_string(std::string_view name) {
  if (name == "NextStep" || name == "next_step") return AutoresetMode::kNextStep;
  if (name == "SameStep" || name == "same_step") return AutoresetMode::kSameStep;
  if (name == "Disabled" || name == "disabled") return AutoresetMode::kDisabled;
  throw InvalidArgumentError("unknown autoreset mode '" + std::string(name) +
                             "' (expected NextStep, SameStep or Disabled)");
}

SpacePtr batch_space(const Space& space, std::size_t n) {
  if (n == 0) throw InvalidArgumentError("batch_space: n must be at least 1, got 0");
  switch (space.kind()) {
    case SpaceKind::kBox: {
      const auto& box = static_cast<const Box&>(space);
      return std::make_shared<Box>(tile(box.low(), n), tile(box.high(), n), prepend(n, box.shape()),
                                   box.dtype());
    }
    case SpaceKind::kDiscrete: {
      const auto& discrete = static_cast<const Discrete&>(space);
      return std::make_shared<MultiDiscrete>(std::vector<std::int64_t>(n, discrete.n()),
                                             std::vector<std::int64_t>(n, discrete.start()));
    }
    case SpaceKind::kMultiDiscrete: {
      const auto& md = static_cast<const MultiDiscrete&>(space);
      std::vector<double> low;
      std::vector<double> high;
      for (std::size_t k = 0; k < md.nvec().size(); ++k) {
        const std::int64_t start = md.start().empty() ? 0 : md.start()[k];
        low.push_back(static_cast<double>(start));
        high.push_back(static_cast<double>(start + md.nvec()[k] - 1));
      }
      const Shape shape{static_cast<std::int64_t>(n), static_cast<std::int64_t>(md.nvec().size())};
      return std::make_shared<Box>(tile(low, n), tile(high, n), shape, DType::kInt64);
    }
    case SpaceKind::kMultiBinary: {
      const auto& mb = static_cast<const MultiBinary&>(space);
      return std::make_shared<Box>(0.0, 1.0, prepend(n, mb.shape()), DType::kInt8);
    }
    case SpaceKind::kTuple: {
      std::vector<SpacePtr> children;
      for (const auto& child : static_cast<const Tuple&>(space).spaces()) {
        children.push_back(batch_space(*child, n));
      }
      return std::make_shared<Tuple>(std::move(children));
    }
    case SpaceKind::kDict: {
      const auto& dict = static_cast<const Dict&>(space);
      std::vector<std::pair<std::string, SpacePtr>> children;
      for (std::size_t k = 0; k < dict.keys().size(); ++k) {
        children.emplace_back(dict.keys()[k], batch_space(*dict.spaces()[k], n));
      }
      return std::make_shared<Dict>(std::move(children));
    }
  }
  throw InvalidArgumentError("batch_space: unsupported space " + space.to_string());
}

struct VectorEnv::ThreadPool {
  explicit ThreadPool(int threads) : arena(threads) {}
  tbb::task_arena arena;
};

namespace {

void check_num_envs(const std::string& context, std::size_t num_envs) {
  if (num_envs == 0) throw InvalidArgumentError(context + ": num_envs must be at least 1, got 0");
  if (num_envs > kMaxNumEnvs) {
    throw InvalidArgumentError(context + ": num_envs " + std::to_string(num_envs) +
                               " is more than the most a vector env holds (" +
                               std::to_string(kMaxNumEnvs) + ")");
  }
}

// Elements of a space's packed value (a composite one's counted as 8-byte slots).
std::uint64_t space_elements(const Space& space) {
  const auto dtype = leaf_dtype(space);
  return std::max<std::uint64_t>(1, space.packed_bytes() / (dtype ? dtype_size(*dtype) : 8));
}

// A lower bound of the bytes a VectorEnv of n envs like `env` holds: the env objects themselves
// (their state beyond the base class is not known here), the batched spaces' bounds (two doubles
// per element) and the batch buffers of observations, actions, rewards and flags.
std::uint64_t vector_env_bytes(const Env& env, std::size_t n, const VectorEnvOptions& options) {
  const Space& obs = env.observation_space();
  const Space& act = env.action_space();
  const std::uint64_t observation_copies =
      options.autoreset_mode == AutoresetMode::kSameStep ? 2 : 1;
  std::uint64_t per_env = sizeof(Env) + sizeof(Info) + sizeof(std::unique_ptr<Env>) + 32;
  per_env = util::saturating_add(per_env, 16 * (space_elements(obs) + space_elements(act)));
  per_env = util::saturating_add(per_env, observation_copies * stride_for(obs) + stride_for(act));
  return util::saturating_mul(per_env, n);
}

}  // namespace

VectorEnv::VectorEnv(const EnvFn& make_env, std::size_t num_envs, const VectorEnvOptions& options)
    : options_(options) {
  check_num_envs("VectorEnv", num_envs);
  if (!make_env) throw InvalidArgumentError("VectorEnv: the env factory is empty");
  std::vector<std::unique_ptr<Env>> envs;
  // Serially: user factories need not be thread-safe, and the registry takes a lock anyway.
  for (std::size_t i = 0; i < num_envs; ++i) {
    envs.push_back(make_env(i));
    if (!envs.back()) {
      throw InvalidArgumentError("VectorEnv: the env factory returned null for env " +
                                 std::to_string(i));
    }
    if (i == 0) {
      // Env 0 shows the spaces, so the whole batch's size is known before the rest are made.
      util::require_memory<InvalidArgumentError>(
          vector_env_bytes(*envs[0], num_envs, options),
          "a vector env of " + std::to_string(num_envs) + " " + envs[0]->name() + " envs",
          "use fewer envs");
      envs.reserve(num_envs);
    }
  }
  init(std::move(envs));
}

VectorEnv::VectorEnv(std::vector<std::unique_ptr<Env>> envs, const VectorEnvOptions& options)
    : options_(options) {
  if (envs.empty()) throw InvalidArgumentError("VectorEnv: num_envs must be at least 1, got 0");
  for (std::size_t i = 0; i < envs.size(); ++i) {
    if (!envs[i]) throw InvalidArgumentError("VectorEnv: env " + std::to_string(i) + " is null");
  }
  init(std::move(envs));
}

VectorEnv::~VectorEnv() = default;
VectorEnv::VectorEnv(VectorEnv&&) noexcept = default;
VectorEnv& VectorEnv::operator=(VectorEnv&&) noexcept = default;

void VectorEnv::init(std::vector<std::unique_ptr<Env>> envs) {
  envs_ = std::move(envs);
  const std::size_t n = envs_.size();
  spec_ = envs_[0]->spec_ptr();
  single_observation_space_ = envs_[0]->observation_space_ptr();
  single_action_space_ = envs_[0]->action_space_ptr();
  if (!single_observation_space_ || !single_action_space_) {
    throw InvalidArgumentError("VectorEnv: env 0 (" + envs_[0]->name() +
                               ") has no observation or action space");
  }
  // Gymnasium's SyncVectorEnv check (observation_mode="same"): the batch layout assumes it.
  for (std::size_t i = 1; i < n; ++i) {
    const Env& env = *envs_[i];
    if (!env.observation_space_ptr() ||
        !env.observation_space().equals(*single_observation_space_)) {
      throw InvalidArgumentError(
          "VectorEnv: the observation space of env " + std::to_string(i) + " (" +
          (env.observation_space_ptr() ? env.observation_space().to_string() : "none") +
          ") differs from env 0's (" + single_observation_space_->to_string() + ")");
    }
    if (!env.action_space_ptr() || !env.action_space().equals(*single_action_space_)) {
      throw InvalidArgumentError(
          "VectorEnv: the action space of env " + std::to_string(i) + " (" +
          (env.action_space_ptr() ? env.action_space().to_string() : "none") +
          ") differs from env 0's (" + single_action_space_->to_string() + ")");
    }
  }
  if (options_.max_episode_steps) {
    if (*options_.max_episode_steps <= 0) {
      throw InvalidArgumentError("VectorEnv: max_episode_steps must be positive, got " +
                                 std::to_string(*options_.max_episode_steps));
    }
    time_limit_ = *options_.max_episode_steps;
  }
  observation_space_ = batch_space(*single_observation_space_, n);
  action_space_ = batch_space(*single_action_space_, n);

  // Capped at the machine's concurrency: TBB would not start more workers anyway, and warns on
  // stderr when an arena asks for them.
  const auto cores = static_cast<std::size_t>(std::max(1, tbb::info::default_concurrency()));
  num_threads_ = options_.num_threads != 0 ? std::min(options_.num_threads, cores) : cores;
  // A few chunks per thread: enough to balance envs of uneven cost (autoresets) without paying
  // TBB's per-task overhead on every env.
  grain_size_ = options_.grain_size != 0
                    ? options_.grain_size
                    : std::max<std::size_t>(1, (n + 4 * num_threads_ - 1) / (4 * num_threads_));
  if (num_threads_ > 1) pool_ = std::make_unique<ThreadPool>(static_cast<int>(num_threads_));

  observation_bytes_ = single_observation_space_->packed_bytes();
  observation_stride_ = stride_for(*single_observation_space_);
  action_bytes_ = single_action_space_->packed_bytes();
  action_stride_ = stride_for(*single_action_space_);

  staged_actions_.assign(n * action_stride_, std::byte{0});
  observations_.assign(n * observation_stride_, std::byte{0});
  rewards_.assign(n, 0.0);
  terminations_.assign(n, 0);
  truncations_.assign(n, 0);
  needs_reset_.assign(n, 0);
  elapsed_.assign(n, 0);
  infos_.resize(n);
  has_final_.assign(n, 0);
  if (options_.autoreset_mode == AutoresetMode::kSameStep) {
    final_observations_.assign(n * observation_stride_, std::byte{0});
    final_infos_.resize(n);
  }
}

template <class Body>
void VectorEnv::for_each_chunk(const Body& body) {
  const std::size_t n = envs_.size();
  if (!pool_ || n <= grain_size_) {
    body(std::size_t{0}, n);
    return;
  }
  // Static chunks (util::run_chunks): each thread keeps the same envs from step to step, so their
  // state stays in its cache; the work per env is uniform, so stealing buys nothing.
  util::run_chunks(pool_->arena, n, grain_size_, body);
}

void VectorEnv::reset(std::optional<std::uint64_t> seed, const Kwargs& options,
                      std::span<const std::uint8_t> reset_mask) {
  const std::size_t n = envs_.size();
  if (!reset_mask.empty()) {
    if (reset_mask.size() != n) {
      throw InvalidArgumentError("VectorEnv.reset: reset_mask has " +
                                 std::to_string(reset_mask.size()) +
                                 " entries, expected num_envs=" + std::to_string(n));
    }
    if (std::none_of(reset_mask.begin(), reset_mask.end(), [](std::uint8_t m) { return m != 0; })) {
      throw InvalidArgumentError(
          "VectorEnv.reset: reset_mask must have at least one entry set, got none");
    }
  }
  if (!options.is_null() && !options.is_object()) {
    throw InvalidArgumentError("VectorEnv.reset: options must be a JSON object (a dict), got " +
                               options.dump());
  }
  const Kwargs& env_options = options.is_null() ? no_options() : options;
  for_each_chunk([&](std::size_t begin, std::size_t end) {
    reset_range(begin, end, seed, env_options, reset_mask);
  });
  has_reset_ = true;
}

void VectorEnv::reset_range(std::size_t begin, std::size_t end, std::optional<std::uint64_t> seed,
                            const Kwargs& options, std::span<const std::uint8_t> reset_mask) {
  for (std::size_t i = begin; i < end; ++i) {
    if (!reset_mask.empty() && reset_mask[i] == 0) continue;
    // Gymnasium's SyncVectorEnv: an int seed s becomes s + i for env i.
    const std::optional<std::uint64_t> env_seed =
        seed ? std::optional<std::uint64_t>(*seed + i) : std::nullopt;
    envs_[i]->reset(observation_slice(observations_, i), infos_[i], env_seed, options);
    elapsed_[i] = 0;
    rewards_[i] = 0.0;
    terminations_[i] = 0;
    truncations_[i] = 0;
    needs_reset_[i] = 0;
    has_final_[i] = 0;
  }
}

void VectorEnv::validate_actions(std::span<const std::byte> actions) const {
  const std::size_t n = envs_.size();
  if (actions.size() != n * action_stride_) {
    throw BufferError("VectorEnv.step: the actions buffer has " + std::to_string(actions.size()) +
                      " bytes, expected num_envs=" + std::to_string(n) + " actions of " +
                      std::to_string(action_stride_) +
                      " bytes = " + std::to_string(n * action_stride_) + " (single action space " +
                      single_action_space_->to_string() + ")");
  }
  const Space& space = *single_action_space_;
  // Discrete actions are checked inline: this runs serially over every env on each step.
  const auto* discrete =
      space.kind() == SpaceKind::kDiscrete ? static_cast<const Discrete*>(&space) : nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    if (needs_reset_[i] != 0) {
      if (options_.autoreset_mode == AutoresetMode::kNextStep) continue;  // the action is ignored
      if (options_.autoreset_mode == AutoresetMode::kDisabled) {
        throw ResetNeededError(
            "VectorEnv.step: env " + std::to_string(i) +
            " ended on the previous step (terminated or truncated) and autoreset_mode is Disabled: "
            "reset it with reset(seed, options, reset_mask) before stepping it again");
      }
    }
    const std::span<const std::byte> action = actions.subspan(i * action_stride_, action_bytes_);
    bool ok;
    if (discrete != nullptr) {
      std::int64_t a;
      std::memcpy(&a, action.data(), sizeof a);
      ok = a >= discrete->start() && a < discrete->start() + discrete->n();
    } else {
      ok = space.contains_packed(action);
    }
    if (!ok) {
      throw InvalidActionError("VectorEnv.step: the action of env " + std::to_string(i) + ", " +
                               space.unpack(action).to_string() +
                               ", is not in the single action space " + space.to_string());
    }
  }
}

template <AutoresetMode kMode>
void VectorEnv::step_range(std::size_t begin, std::size_t end, std::span<const std::byte> actions) {
  for (std::size_t i = begin; i < end; ++i) {
    Env& env = *envs_[i];
    const std::span<std::byte> obs = observation_slice(observations_, i);
    Info& info = infos_[i];
    if constexpr (kMode == AutoresetMode::kNextStep) {
      if (needs_reset_[i] != 0) {
        env.reset(obs, info, std::nullopt, no_options());
        elapsed_[i] = 0;
        rewards_[i] = 0.0;
        terminations_[i] = 0;
        truncations_[i] = 0;
        needs_reset_[i] = 0;
        continue;
      }
    }
    // validate_actions() has checked every action and the buffers were sized at construction.
    const StepOutcome outcome =
        env.step_validated(actions.subspan(i * action_stride_, action_bytes_), obs, info);
    const std::int64_t elapsed = ++elapsed_[i];
    // TimeLimit's rule: truncated once the limit is reached, whatever terminated says.
    const bool truncated = outcome.truncated || (time_limit_ > 0 && elapsed >= time_limit_);
    const bool ended = outcome.terminated || truncated;
    rewards_[i] = outcome.reward;
    terminations_[i] = outcome.terminated ? 1 : 0;
    truncations_[i] = truncated ? 1 : 0;
    if constexpr (kMode == AutoresetMode::kSameStep) {
      if (ended) {
        std::memcpy(observation_slice(final_observations_, i).data(), obs.data(),
                    observation_bytes_);
        // A swap, not a copy: both Infos keep their storage, so steady state stays allocation-free.
        std::swap(final_infos_[i], info);
        has_final_[i] = 1;
        env.reset(obs, info, std::nullopt, no_options());
        elapsed_[i] = 0;
      }
    } else {
      needs_reset_[i] = ended ? 1 : 0;
    }
  }
}

void VectorEnv::step(std::span<const std::byte> actions) {
  stage_actions(actions);
  step_staged();
}

void VectorEnv::stage_actions(std::span<const std::byte> actions) {
  has_staged_actions_ = false;
  if (!has_reset_) throw ResetNeededError("VectorEnv.step: call reset() before step()");
  if (actions.size() != staged_actions_.size()) {
    validate_actions(actions);  // throws the size error
  }
  if (!staged_actions_.empty()) {
    std::memcpy(staged_actions_.data(), actions.data(), staged_actions_.size());
  }
  validate_actions(staged_actions_);
  has_staged_actions_ = true;
}

void VectorEnv::step_staged() {
  if (!has_staged_actions_) {
    throw BufferError(
        "VectorEnv.step_staged: no checked actions are staged (each batch steps once); call "
        "stage_actions() first");
  }
  has_staged_actions_ = false;
  const std::span<const std::byte> actions(staged_actions_);
  switch (options_.autoreset_mode) {
    case AutoresetMode::kNextStep:
      for_each_chunk([&](std::size_t begin, std::size_t end) {
        step_range<AutoresetMode::kNextStep>(begin, end, actions);
      });
      break;
    case AutoresetMode::kSameStep:
      std::fill(has_final_.begin(), has_final_.end(), std::uint8_t{0});
      for_each_chunk([&](std::size_t begin, std::size_t end) {
        step_range<AutoresetMode::kSameStep>(begin, end, actions);
      });
      break;
    case AutoresetMode::kDisabled:
      for_each_chunk([&](std::size_t begin, std::size_t end) {
        step_range<AutoresetMode::kDisabled>(begin, end, actions);
      });
      break;
  }
}

void VectorEnv::check_action_type(bool ok, const char* type_name) const {
  if (!ok) {
    throw BufferError(std::string("VectorEnv.step: ") + type_name +
                      " actions do not fit the single action space " +
                      single_action_space_->to_string() + "; pass the packed bytes instead");
  }
}

void VectorEnv::step(std::span<const std::int64_t> actions) {
  check_action_type(leaf_dtype(*single_action_space_) == DType::kInt64, "int64");
  const std::size_t per_env = action_bytes_ / sizeof(std::int64_t);
  if (actions.size() != envs_.size() * per_env) {
    throw BufferError("VectorEnv.step: got " + std::to_string(actions.size()) +
                      " int64 actions, expected num_envs=" + std::to_string(envs_.size()) + " x " +
                      std::to_string(per_env) + " (single action space " +
                      single_action_space_->to_string() + ")");
  }
  step(std::as_bytes(actions));
}

void VectorEnv::step(std::span<const float> actions) {
  check_action_type(leaf_dtype(*single_action_space_) == DType::kFloat32, "float32");
  const std::size_t per_env = action_bytes_ / sizeof(float);
  if (actions.size() != envs_.size() * per_env) {
    throw BufferError("VectorEnv.step: got " + std::to_string(actions.size()) +
                      " float32 actions, expected num_envs=" + std::to_string(envs_.size()) +
                      " x " + std::to_string(per_env) + " (single action space " +
                      single_action_space_->to_string() + ")");
  }
  step(std::as_bytes(actions));
}

void VectorEnv::check_observation_type(DType requested, const char* what) const {
  const std::optional<DType> dtype = leaf_dtype(*single_observation_space_);
  if (!dtype) {
    throw BufferError(std::string("VectorEnv.") + what + ": the single observation space " +
                      single_observation_space_->to_string() +
                      " is composite; read the packed bytes instead");
  }
  if (*dtype != requested) {
    throw BufferError(std::string("VectorEnv.") + what + "<" + std::string(dtype_name(requested)) +
                      ">: the single observation space " + single_observation_space_->to_string() +
                      " holds " + std::string(dtype_name(*dtype)) + " elements");
  }
}

std::span<const std::byte> VectorEnv::observation_bytes(std::size_t i) const {
  if (i >= envs_.size()) {
    throw InvalidArgumentError("VectorEnv.observation_bytes: " + index_message(i, envs_.size()));
  }
  return {observations_.data() + i * observation_stride_, observation_bytes_};
}

const Info& VectorEnv::info(std::size_t i) const {
  if (i >= envs_.size()) {
    throw InvalidArgumentError("VectorEnv.info: " + index_message(i, envs_.size()));
  }
  return infos_[i];
}

std::int64_t VectorEnv::elapsed_steps(std::size_t i) const {
  if (i >= envs_.size()) {
    throw InvalidArgumentError("VectorEnv.elapsed_steps: " + index_message(i, envs_.size()));
  }
  return elapsed_[i];
}

bool VectorEnv::has_final(std::size_t i) const {
  if (i >= envs_.size()) {
    throw InvalidArgumentError("VectorEnv.has_final: " + index_message(i, envs_.size()));
  }
  return has_final_[i] != 0;
}

const Info& VectorEnv::final_info(std::size_t i) const {
  if (!has_final(i)) {
    throw InvalidArgumentError("VectorEnv.final_info: env " + std::to_string(i) +
                               " has no final info (it did not end on the last step, or "
                               "autoreset_mode is not SameStep)");
  }
  return final_infos_[i];
}

Env& VectorEnv::env(std::size_t i) {
  if (i >= envs_.size()) {
    throw InvalidArgumentError("VectorEnv.env: " + index_message(i, envs_.size()));
  }
  return *envs_[i];
}

const Env& VectorEnv::env(std::size_t i) const {
  return const_cast<VectorEnv*>(this)->env(i);
}

std::vector<std::string> VectorEnv::render() {
  std::vector<std::string> frames;
  frames.reserve(envs_.size());
  for (auto& env : envs_) frames.push_back(env->render());
  return frames;
}

void VectorEnv::close() {
  for (auto& env : envs_) env->close();
}

std::string VectorEnv::to_string() const {
  std::string out = "VectorEnv(";
  if (spec_) out.append(spec_->id).append(", ");
  out.append("num_envs=").append(std::to_string(envs_.size()));
  out.append(", autoreset_mode=").append(envs::to_string(options_.autoreset_mode));
  out.append(", num_threads=").append(std::to_string(num_threads_));
  if (time_limit_ > 0) out.append(", max_episode_steps=").append(std::to_string(time_limit_));
  out.append(")");
  return out;
}

VectorEnv make_vec(std::string_view id, std::size_t num_envs, const Kwargs& kwargs,
                   const VectorEnvOptions& options) {
  auto base_spec = Registry::global().spec(id);
  const std::string context = "make_vec('" + base_spec->id + "')";
  check_num_envs(context, num_envs);
  if (!kwargs.is_null() && !kwargs.is_object()) {
    throw InvalidArgumentError(context + ": kwargs must be a JSON object, got " + kwargs.dump());
  }
  // The envs' spec records what they were made with, as Registry::make does.
  auto made = std::make_shared<EnvSpec>(*base_spec);
  std::optional<std::int64_t> kwarg_limit;
  if (kwargs.is_object()) {
    for (const auto& [key, value] : kwargs.items()) {
      if (key != "max_episode_steps") {
        made->kwargs[key] = value;
      } else if (!value.is_null()) {
        if (!value.is_number_integer()) {
          throw InvalidArgumentError(context + ": max_episode_steps must be an integer, got " +
                                     value.dump());
        }
        kwarg_limit = value.get<std::int64_t>();
      }
    }
  }
  const std::optional<std::int64_t> limit =
      options.max_episode_steps ? options.max_episode_steps
                                : (kwarg_limit ? kwarg_limit : made->max_episode_steps);
  if (limit && *limit <= 0) {
    throw InvalidArgumentError(context + ": max_episode_steps must be positive, got " +
                               std::to_string(*limit));
  }
  made->max_episode_steps = limit;
  VectorEnvOptions vector_options = options;
  vector_options.max_episode_steps = limit;
  const std::shared_ptr<const EnvSpec> spec = made;
  return VectorEnv(
      [&](std::size_t i) {
        std::unique_ptr<Env> env = spec->entry_point(spec->kwargs);
        if (!env) {
          throw InvalidArgumentError(context + ": the entry point returned null for env " +
                                     std::to_string(i));
        }
        env->set_spec(spec);
        return env;
      },
      num_envs, vector_options);
}

}  // namespace locus::envs
