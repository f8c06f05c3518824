#pragma once
// VectorEnv: N environments stepped in parallel into contiguous batch buffers.
//
// The buffers and the threading follow EnvPool: every env writes its observation straight into its
// own slice of one batch buffer (Env's allocation-free path), envs are stepped in chunks by
// tbb::parallel_for inside a task_arena of the requested size, and nothing is allocated per step in
// steady state. Because each env touches only its own slice, the results are bit-identical whatever
// the number of threads or the chunking.
//
// The semantics are Gymnasium 1.x's SyncVectorEnv:
//  - reset(seed) seeds env i with seed + i; reset() without a seed does not reseed.
//  - AutoresetMode::kNextStep (the default): an env that ended (terminated or truncated) on step t
//  is
//    reset on step t + 1: its action is ignored, its reward is 0, both flags are false and its
//    observation and info are the reset ones.
//  - AutoresetMode::kSameStep: an env that ends is reset within the same step. The returned
//    observation and info are the reset ones, reward and flags are those of the final step, and the
//    final observation and info (Gymnasium's info["final_obs"] / info["final_info"]) are kept in
//    final_observation_bytes() / final_info(i), flagged by has_final(i) until the next step.
//  - AutoresetMode::kDisabled: envs are never reset by step(); an env that ended must be reset with
//    reset(..., reset_mask) before it is stepped again (stepping it is an error naming the env).
//
// Time limits: make_vec() builds the raw env from the registry and applies the spec's
// max_episode_steps inside the VectorEnv with one counter per env (as EnvPool does) instead of
// stacking wrapper objects; the semantics are TimeLimit's (truncated once the elapsed steps reach
// the limit, reported independently of terminated). VectorEnvOptions::max_episode_steps does the
// same for envs given to the constructors.
//
// Layout: env i's observation is bytes [i * observation_stride(), ... + packed_bytes) of
// observation_bytes(), in the single observation space's packed layout (space.hpp); likewise for
// actions. For a leaf space (Box, Discrete, MultiDiscrete, MultiBinary) the stride is the packed
// size, so the buffer is exactly the batched space's packed layout ([N, ...] in the space's dtype).
// For a Tuple or Dict space the stride is rounded up to 8 bytes, so that every env's children stay
// aligned; the batched Tuple/Dict space (child-major, as Gymnasium batches them) then describes the
// data but not this env-major buffer.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "envs/env.hpp"

namespace locus::envs {

struct EnvSpec;

// Gymnasium 1.x's gymnasium.vector.AutoresetMode.
enum class AutoresetMode { kNextStep, kSameStep, kDisabled };
// Gymnasium's values: "NextStep", "SameStep", "Disabled".
std::string_view to_string(AutoresetMode mode);
// Accepts Gymnasium's values and their snake_case spellings ("next_step", ...); throws
// InvalidArgumentError naming the choices.
AutoresetMode autoreset_mode_from_string(std::string_view name);

// The most envs one VectorEnv holds: far beyond any real batch (EnvPool's largest are thousands),
// and low enough that a mistyped count (1e8) is refused at once instead of allocating for minutes.
inline constexpr std::size_t kMaxNumEnvs = std::size_t{1} << 20;

struct VectorEnvOptions {
  AutoresetMode autoreset_mode = AutoresetMode::kNextStep;
  std::size_t num_threads = 0;  // 0: TBB's default (all cores); capped at the number of cores
  std::size_t grain_size = 0;   // envs per chunk; 0: a few chunks per thread
  // A time limit applied inside the VectorEnv (see the file comment). make_vec() uses it to
  // override the spec's max_episode_steps; with the constructors it is off unless set.
  std::optional<std::int64_t> max_episode_steps;
};

// Gymnasium's gymnasium.vector.utils.batch_space: Box -> Box with a leading n dimension, Discrete
// -> MultiDiscrete of n copies, MultiDiscrete -> int64 Box (n, len), MultiBinary -> int8 Box, Tuple
// and Dict batched child by child. The result is seeded from fresh entropy (seed it to reproduce).
SpacePtr batch_space(const Space& space, std::size_t n);

class VectorEnv {
 public:
  using EnvFn = std::function<std::unique_ptr<Env>(std::size_t index)>;

  // Builds num_envs envs with make_env(0), ..., make_env(num_envs - 1).
  VectorEnv(const EnvFn& make_env, std::size_t num_envs, const VectorEnvOptions& options = {});
  // Takes envs already built (user envs, wrapped envs). All must share the same spaces.
  explicit VectorEnv(std::vector<std::unique_ptr<Env>> envs, const VectorEnvOptions& options = {});
  ~VectorEnv();
  VectorEnv(VectorEnv&&) noexcept;
  VectorEnv& operator=(VectorEnv&&) noexcept;
  VectorEnv(const VectorEnv&) = delete;
  VectorEnv& operator=(const VectorEnv&) = delete;

  // Resets the envs (all of them, or those whose reset_mask entry is nonzero), env i with seed + i
  // when a seed is given (an integer sum, as Python's: 2^64 - 1 + 1 is 2^64, not 0). `options`
  // goes to every env's reset. A mask must have num_envs entries, at least one set (Gymnasium's
  // rules); it is meant for kDisabled but accepted in every mode, as Gymnasium does. Reset envs
  // get reward 0, both flags false and no final observation. Null options mean none.
  void reset(const std::optional<Seed>& seed = std::nullopt, const Kwargs& options = {},
             std::span<const std::uint8_t> reset_mask = {});
  // The same with one seed (or none) per env, as Gymnasium's reset(seed=[...]): `seeds` has
  // num_envs entries.
  void reset_each(std::span<const std::optional<Seed>> seeds, const Kwargs& options = {},
                  std::span<const std::uint8_t> reset_mask = {});

  // Steps every env. `actions` holds num_envs actions, env i's at i * action_stride(), each in the
  // single action space's packed layout. Every action that will be used is checked before any env
  // moves, so a bad action leaves the VectorEnv untouched; the action of an env being autoreset
  // (kNextStep) is ignored, unchecked, as Gymnasium ignores it. The actions are copied before they
  // are checked, and the envs step with the checked copy: a caller's buffer that another thread
  // rewrites meanwhile can make the step fail, never read an unchecked action.
  void step(std::span<const std::byte> actions);
  // step() in two halves, for a caller whose actions live in memory other threads may write once
  // it lets go of a lock (Python's GIL): stage_actions() copies and checks them while the lock is
  // held (throwing as step() does, with nothing staged), step_staged() then steps every env with
  // that copy and may run without the lock. step_staged() without a staged batch throws.
  void stage_actions(std::span<const std::byte> actions);
  void step_staged();
  // Typed conveniences: int64 actions for Discrete / MultiDiscrete / int64 Box spaces, float
  // actions for float32 Box spaces.
  void step(std::span<const std::int64_t> actions);
  void step(std::span<const float> actions);

  // Batch buffers. Their contents change on every reset() and step(); the spans stay valid as long
  // as the VectorEnv lives (moving it moves the buffers along).
  std::span<const std::byte> observation_bytes() const { return observations_; }  // (N, stride)
  std::span<const std::byte> observation_bytes(std::size_t i) const;  // env i, packed_bytes long
  // Typed view of all observations; T must be the leaf observation space's element type.
  template <class T>
  std::span<const T> observations() const {
    check_observation_type(dtype_of<T>(), "observations");
    return as_span<T>(observation_bytes());
  }
  std::span<const double> rewards() const { return rewards_; }                  // (N,)
  std::span<const std::uint8_t> terminations() const { return terminations_; }  // (N,) 0 or 1
  std::span<const std::uint8_t> truncations() const { return truncations_; }    // (N,) 0 or 1
  const Info& info(std::size_t i) const;
  // Steps taken since env i's last reset (the time limit's counter).
  std::int64_t elapsed_steps(std::size_t i) const;

  // kSameStep: the observations and infos of the envs that ended during the last step, before their
  // reset. Only the slices with has_final(i) hold data; outside kSameStep the buffer is empty and
  // has_final is always false.
  std::span<const std::byte> final_observation_bytes() const { return final_observations_; }
  template <class T>
  std::span<const T> final_observations() const {
    check_observation_type(dtype_of<T>(), "final_observations");
    return as_span<T>(final_observation_bytes());
  }
  std::span<const std::uint8_t> final_mask() const { return has_final_; }  // (N,) 0 or 1
  bool has_final(std::size_t i) const;
  const Info& final_info(std::size_t i) const;  // throws unless has_final(i)

  std::size_t num_envs() const { return envs_.size(); }
  AutoresetMode autoreset_mode() const { return options_.autoreset_mode; }
  std::size_t num_threads() const { return num_threads_; }
  std::size_t grain_size() const { return grain_size_; }
  std::optional<std::int64_t> max_episode_steps() const { return options_.max_episode_steps; }
  std::size_t observation_stride() const { return observation_stride_; }
  std::size_t action_stride() const { return action_stride_; }

  const Space& single_observation_space() const { return *single_observation_space_; }
  const Space& single_action_space() const { return *single_action_space_; }
  // Batched as batch_space() does; seed action_space() and sample_packed() a batch of actions.
  Space& observation_space() { return *observation_space_; }
  const Space& observation_space() const { return *observation_space_; }
  Space& action_space() { return *action_space_; }
  const Space& action_space() const { return *action_space_; }

  Env& env(std::size_t i);  // the sub-environments (Gymnasium's SyncVectorEnv.envs)
  const Env& env(std::size_t i) const;
  // The registration the envs were made from (null when the first env has none).
  const EnvSpec* spec() const { return spec_.get(); }

  // Whether every sub-env supports state (Env::supports_state).
  bool supports_state() const;
  // Every sub-env's state plus the vector env's own (autoreset flags, current observations,
  // rewards/flags/infos as observation_bytes()/info() return them, and kSameStep's final
  // observations and infos), as JSON. Throws UnsupportedStateError unless supports_state().
  nlohmann::json save_state() const;
  // Restores into a VectorEnv made by the same make_vec call (same id, num_envs, kwargs, options):
  // its next steps equal the saved one's, and observation_bytes(i)/info(i) are as at save time.
  // Checks num_envs, the autoreset mode and each sub-env's state (InvalidArgumentError naming the
  // field, as Env::restore_state); nothing changes when it throws. Staged actions are dropped.
  void restore_state(const nlohmann::json& state);

  // Every env's text rendering (Gymnasium's SyncVectorEnv.render returns one per env).
  std::vector<std::string> render();
  void close();
  // "VectorEnv(CartPole-v1, num_envs=8, autoreset_mode=NextStep, num_threads=2,
  // max_episode_steps=500)"
  std::string to_string() const;

 private:
  struct ThreadPool;  // the tbb::task_arena, kept out of this header

  void init(std::vector<std::unique_ptr<Env>> envs);
  // restore_state() without its checks of the whole and its rollback.
  void apply_state(const nlohmann::json& state);
  void check_observation_type(DType requested, const char* what) const;
  void check_action_type(bool ok, const char* type_name) const;
  void validate_actions(std::span<const std::byte> actions) const;
  // Runs body(begin, end) over [0, num_envs) in chunks, in parallel when the pool has threads.
  template <class Body>
  void for_each_chunk(const Body& body);
  template <AutoresetMode kMode>
  void step_range(std::size_t begin, std::size_t end, std::span<const std::byte> actions);
  // `seeds`: one per env, or empty for no reseeding.
  void reset_range(std::size_t begin, std::size_t end, std::span<const std::optional<Seed>> seeds,
                   const Kwargs& options, std::span<const std::uint8_t> reset_mask);

  std::span<std::byte> observation_slice(std::vector<std::byte>& buffer, std::size_t i) {
    return {buffer.data() + i * observation_stride_, observation_bytes_};
  }

  VectorEnvOptions options_;
  std::vector<std::unique_ptr<Env>> envs_;
  std::shared_ptr<const EnvSpec> spec_;
  SpacePtr single_observation_space_;
  SpacePtr single_action_space_;
  SpacePtr observation_space_;
  SpacePtr action_space_;
  std::unique_ptr<ThreadPool> pool_;
  std::size_t num_threads_ = 1;
  std::size_t grain_size_ = 1;
  std::size_t observation_bytes_ = 0;  // packed bytes of one observation
  std::size_t observation_stride_ = 0;
  std::size_t action_bytes_ = 0;
  std::size_t action_stride_ = 0;
  std::int64_t time_limit_ = 0;  // 0: none
  bool has_reset_ = false;

  std::vector<std::byte> staged_actions_;  // (N, action_stride), checked by stage_actions()
  bool has_staged_actions_ = false;
  std::vector<std::byte> observations_;        // (N, observation_stride)
  std::vector<double> rewards_;                // (N,)
  std::vector<std::uint8_t> terminations_;     // (N,)
  std::vector<std::uint8_t> truncations_;      // (N,)
  std::vector<std::uint8_t> needs_reset_;      // (N,) ended on the last step (Gymnasium's
                                               // _autoreset_envs)
  std::vector<std::int64_t> elapsed_;          // (N,)
  std::vector<Info> infos_;                    // (N,)
  std::vector<std::byte> final_observations_;  // (N, observation_stride), kSameStep only
  std::vector<std::uint8_t> has_final_;        // (N,)
  std::vector<Info> final_infos_;              // (N,), kSameStep only
};

// Gymnasium's make_vec(id, num_envs): builds num_envs raw envs from the registry's entry point with
// the spec's kwargs updated by `kwargs`, and applies the time limit inside the VectorEnv (no
// wrapper stack on the hot path; the VectorEnv itself enforces reset-before-step and checks the
// actions). The limit is options.max_episode_steps if set, else kwargs["max_episode_steps"]
// (Gymnasium's make() keyword, removed from what the env receives), else the spec's.
VectorEnv make_vec(std::string_view id, std::size_t num_envs,
                   const Kwargs& kwargs = Kwargs::object(), const VectorEnvOptions& options = {});

}  // namespace locus::envs
