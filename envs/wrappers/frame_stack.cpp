#include "envs/wrappers/frame_stack.hpp"

#include <cmath>
#include <cstring>

namespace locus::envs {

namespace {

// A stored bound turned back into a constructor argument. An int64 Box stores an unbounded high
// side as INT64_MAX, which rounds up to 2^63 as a double and would be rejected; +inf means the
// same. Other bounds pass unchanged, so a tiled Box is bounded where Gymnasium's np.tile is.
double bound_argument(double bound, DType dtype) {
  constexpr double kTwoTo63 = 9223372036854775808.0;
  return dtype == DType::kInt64 && bound >= kTwoTo63 ? INFINITY : bound;
}

std::string unsupported(const Space& space) {
  return "FrameStackObservation: cannot stack observations of the space " + space.to_string() +
         "; supported are Box, Discrete, MultiDiscrete and MultiBinary";
}

// Gymnasium's batch_space(space, n).
SpacePtr stacked_space(const Space& space, std::int64_t n) {
  switch (space.kind()) {
    case SpaceKind::kBox: {
      const auto& box = dynamic_cast<const Box&>(space);
      std::vector<double> low;
      std::vector<double> high;
      low.reserve(box.low().size() * static_cast<std::size_t>(n));
      high.reserve(low.capacity());
      for (std::int64_t k = 0; k < n; ++k) {
        for (double v : box.low()) low.push_back(bound_argument(v, box.dtype()));
        for (double v : box.high()) high.push_back(bound_argument(v, box.dtype()));
      }
      Shape shape{n};
      shape.insert(shape.end(), box.shape().begin(), box.shape().end());
      return std::make_shared<Box>(std::move(low), std::move(high), std::move(shape), box.dtype());
    }
    case SpaceKind::kDiscrete: {
      const auto& discrete = dynamic_cast<const Discrete&>(space);
      return std::make_shared<MultiDiscrete>(
          std::vector<std::int64_t>(static_cast<std::size_t>(n), discrete.n()),
          std::vector<std::int64_t>(static_cast<std::size_t>(n), discrete.start()));
    }
    case SpaceKind::kMultiDiscrete: {
      const auto& multi = dynamic_cast<const MultiDiscrete&>(space);
      std::vector<double> low;
      std::vector<double> high;
      for (std::int64_t k = 0; k < n; ++k) {
        for (std::size_t i = 0; i < multi.nvec().size(); ++i) {
          low.push_back(static_cast<double>(multi.start()[i]));
          high.push_back(static_cast<double>(multi.start()[i] + multi.nvec()[i] - 1));
        }
      }
      return std::make_shared<Box>(std::move(low), std::move(high),
                                   Shape{n, static_cast<std::int64_t>(multi.nvec().size())},
                                   DType::kInt64);
    }
    case SpaceKind::kMultiBinary: {
      const auto& binary = dynamic_cast<const MultiBinary&>(space);
      Shape shape{n};
      shape.insert(shape.end(), binary.shape().begin(), binary.shape().end());
      return std::make_shared<Box>(0.0, 1.0, std::move(shape), DType::kInt8);
    }
    default:
      throw InvalidArgumentError(unsupported(space));
  }
}

// Gymnasium's create_zero_array(space), packed.
void pack_zero(const Space& space, std::span<std::byte> out) {
  std::memset(out.data(), 0, out.size());
  if (space.kind() == SpaceKind::kBox) {
    const auto& box = dynamic_cast<const Box&>(space);
    visit_dtype(box.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      auto values = as_span<T>(out);
      for (std::size_t i = 0; i < values.size(); ++i) {
        double zero = 0.0;
        if (box.low()[i] > 0) zero = box.low()[i];
        if (box.high()[i] < 0) zero = box.high()[i];
        values[i] = cast_double<T>(zero);
      }
    });
  } else if (space.kind() == SpaceKind::kDiscrete) {
    as_span<std::int64_t>(out)[0] = dynamic_cast<const Discrete&>(space).start();
  } else if (space.kind() == SpaceKind::kMultiDiscrete) {
    const auto& start = dynamic_cast<const MultiDiscrete&>(space).start();
    std::memcpy(out.data(), start.data(), start.size() * sizeof(std::int64_t));
  }
}

}  // namespace

FrameStackObservation::FrameStackObservation(Common, std::unique_ptr<Env> env,
                                             std::int64_t stack_size)
    : Wrapper(std::move(env)), stack_size_(stack_size) {
  if (stack_size < 1) {
    throw InvalidArgumentError("FrameStackObservation: stack_size must be greater than zero, got " +
                               std::to_string(stack_size));
  }
  const Space& inner = env_->observation_space();
  if (!inner.is_leaf()) throw InvalidArgumentError(unsupported(inner));
  frame_bytes_ = inner.packed_bytes();
  frames_.resize(frame_bytes_ * static_cast<std::size_t>(stack_size));
  padding_.resize(frame_bytes_);
  set_observation_space(stacked_space(inner, stack_size));
}

FrameStackObservation::FrameStackObservation(std::unique_ptr<Env> env, std::int64_t stack_size,
                                             std::string_view padding_type)
    : FrameStackObservation(Common{}, std::move(env), stack_size) {
  if (padding_type != "reset" && padding_type != "zero") {
    throw InvalidArgumentError("FrameStackObservation: unexpected padding_type '" +
                               std::string(padding_type) +
                               "', expected 'reset', 'zero' or a custom observation");
  }
  padding_type_ = padding_type;
  pack_zero(env_->observation_space(), padding_);
}

FrameStackObservation::FrameStackObservation(std::unique_ptr<Env> env, std::int64_t stack_size,
                                             const Value& padding_value)
    : FrameStackObservation(Common{}, std::move(env), stack_size) {
  if (!env_->observation_space().contains(padding_value)) {
    throw InvalidArgumentError("FrameStackObservation: the padding observation " +
                               padding_value.to_string() + " is not in the observation space " +
                               env_->observation_space().to_string());
  }
  padding_type_ = "_custom";
  env_->observation_space().pack(padding_value, padding_);
}

void FrameStackObservation::copy_out(std::span<std::byte> observation) const {
  // Oldest first: the ring from oldest_ to its end, then from its start up to oldest_.
  const std::size_t split = oldest_ * frame_bytes_;
  const std::size_t tail = frames_.size() - split;
  std::memcpy(observation.data(), frames_.data() + split, tail);
  if (split > 0) std::memcpy(observation.data() + tail, frames_.data(), split);
}

void FrameStackObservation::reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                                       std::span<std::byte> observation, Info& info) {
  const auto last = static_cast<std::size_t>(stack_size_ - 1);
  env_->reset(slot(last), info, seed, options);
  const std::span<const std::byte> pad = padding_type_ == "reset" ? slot(last) : padding_;
  for (std::size_t i = 0; i < last; ++i) std::memcpy(slot(i).data(), pad.data(), frame_bytes_);
  oldest_ = 0;
  copy_out(observation);
}

StepOutcome FrameStackObservation::step_impl(std::span<const std::byte> action,
                                             std::span<std::byte> observation, Info& info) {
  // The newest frame replaces the oldest, which makes the next slot the oldest.
  const StepOutcome outcome = env_->step(action, slot(oldest_), info);
  oldest_ = (oldest_ + 1) % static_cast<std::size_t>(stack_size_);
  copy_out(observation);
  return outcome;
}

}  // namespace locus::envs
