#include "agents/observation_encoder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "agents/errors.hpp"

namespace locus::agents {

ObservationEncoder::ObservationEncoder(const envs::Space& space, std::size_t frame_stack,
                                       std::string_view env_id)
    : frame_stack_(frame_stack) {
  if (const auto* box = dynamic_cast<const envs::Box*>(&space)) {
    if (box->dtype() != envs::DType::kFloat32 && box->dtype() != envs::DType::kFloat64) {
      throw ConfigError(fmt::format("env {}: observation space {} is not a float Box or Discrete",
                                    env_id, space.to_string()));
    }
    observation_dim_ = box->low().size();
    kind_ = box->dtype() == envs::DType::kFloat32 ? Kind::kFloat32 : Kind::kFloat64;
  } else if (const auto* discrete = dynamic_cast<const envs::Discrete*>(&space)) {
    observation_dim_ = static_cast<std::size_t>(discrete->n());
    kind_ = Kind::kIndex;
    first_index_ = discrete->start();
  } else {
    throw ConfigError(
        fmt::format("env {}: observation space {} is not supported (a float Box or a Discrete is)",
                    env_id, space.to_string()));
  }
}

void ObservationEncoder::decode(std::span<const std::byte> packed, float* out) const {
  switch (kind_) {
    case Kind::kFloat32:
      std::memcpy(out, packed.data(), observation_dim_ * sizeof(float));
      return;
    case Kind::kFloat64:
      for (std::size_t k = 0; k < observation_dim_; ++k) {
        double v;
        std::memcpy(&v, packed.data() + k * sizeof(double), sizeof(double));
        out[k] = static_cast<float>(v);
      }
      return;
    case Kind::kIndex: {
      std::int64_t index;
      std::memcpy(&index, packed.data(), sizeof(index));
      std::fill(out, out + observation_dim_, 0.0f);
      out[index - first_index_] = 1.0f;
      return;
    }
  }
}

void ObservationEncoder::push(std::span<float> rows, std::size_t env,
                              std::span<const std::byte> packed, bool episode_start) const {
  const std::size_t width = input_dim();
  float* row = rows.data() + env * width;
  if (episode_start) {
    std::fill(row, row + width, 0.0f);
  } else {
    std::memmove(row, row + observation_dim_, (width - observation_dim_) * sizeof(float));
  }
  decode(packed, row + width - observation_dim_);
}

void ObservationEncoder::next_row(std::span<const float> rows, std::size_t env,
                                  std::span<const std::byte> packed, std::span<float> out) const {
  const std::size_t width = input_dim();
  std::copy_n(rows.data() + env * width + observation_dim_, width - observation_dim_, out.data());
  decode(packed, out.data() + width - observation_dim_);
}

}  // namespace locus::agents
