#pragma once
// ActionHead: how a policy turns the rows of its network's "policy" head into actions of one
// action space, and the log-probabilities and entropies its losses need. The losses (losses.hpp)
// are written once against this interface, so a new distribution is one head and one test.
//
// Actions are stored as floats, action_width() per row: a categorical head's index, a Gaussian
// head's unclipped sample (what is learned from; the env gets it clipped to its bounds).

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "agents/random.hpp"
#include "envs/vector_env.hpp"
#include "neuromod/network.hpp"

namespace locus::agents {

using neuromod::Matrix;

// Row `row` of a matrix, as a span.
inline std::span<const float> matrix_row(const Matrix& m, std::size_t row) {
  return {m.data() + row * m.shape()[1], m.shape()[1]};
}
inline std::span<float> matrix_row(Matrix& m, std::size_t row) {
  return {m.data() + row * m.shape()[1], m.shape()[1]};
}

// A learned tensor a head owns outside the network (the Gaussian log standard deviation).
struct HeadParameter {
  std::string name;
  std::span<float> value;
  std::span<float> gradient;
};

class ActionHead {
 public:
  virtual ~ActionHead() = default;

  // The policy head's units per row: the network is built with this many.
  virtual std::size_t units() const = 0;
  // Floats per stored action.
  virtual std::size_t action_width() const = 0;
  // Discrete choices (a categorical head's class count; 0 for continuous actions): the
  // noradrenaline signal normalizes entropy by it.
  virtual std::size_t classes() const { return 0; }

  // Draws the action of one row of outputs into `action`; returns its log-probability and adds
  // the row's policy entropy (nats) to `entropy`.
  virtual float sample(std::span<const float> outputs, AgentRandom& random, std::span<float> action,
                       double& entropy) const = 0;
  // The most likely action (arg-max; the mean).
  virtual void greedy(std::span<const float> outputs, std::span<float> action) const = 0;
  // Steps `env` with one action per env (num_envs * action_width() floats), converted to its
  // action space.
  virtual void step(envs::VectorEnv& env, std::span<const float> actions) = 0;

  // log pi(action_k | outputs_k) for every row k.
  virtual void log_probs(const Matrix& outputs, const Matrix& actions,
                         std::span<float> out) const = 0;
  // Adds scale_k * d log pi_k / d outputs_k to row k of `gradient` (outputs' shape), and
  // sum_k scale_k * d log pi_k / d theta to the gradients of the head's own parameters.
  virtual void add_log_prob_gradient(const Matrix& outputs, const Matrix& actions,
                                     std::span<const float> scale, Matrix& gradient) = 0;
  // The mean policy entropy over the rows (nats); adds scale * its gradient to `gradient` and to
  // the head's own parameters' gradients.
  virtual double entropy(const Matrix& outputs, float scale, Matrix& gradient) = 0;

  // The head's own learned tensors (none for a categorical head).
  virtual std::vector<HeadParameter> parameters() { return {}; }
  // Keeps the parameters in their valid range after an optimizer step.
  virtual void after_step() {}
};

// The head for `env`'s action space: Discrete -> categorical, a float32 Box -> Gaussian with
// the initial log standard deviation `init_log_std`. Throws ConfigError for any other space.
std::unique_ptr<ActionHead> make_action_head(const envs::VectorEnv& env, std::string_view env_id,
                                             float init_log_std);

}  // namespace locus::agents
