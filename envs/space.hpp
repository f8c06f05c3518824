#pragma once
// Gymnasium's spaces: Discrete, Box, MultiDiscrete, MultiBinary, Tuple, Dict.
//
// Semantics follow gymnasium 1.x: `seed` builds numpy's Generator(PCG64(SeedSequence(seed))),
// `sample` draws with the same algorithm as Gymnasium (so seeded samples agree), and `contains`
// applies numpy's dtype rules (a float is not in a Discrete; a float64 array is not in a float32
// Box).
//
// Every space also has a packed layout, used by the allocation-free path: a Discrete is one int64,
// a Box its elements in its dtype, MultiDiscrete int64 elements, MultiBinary int8 elements; a Tuple
// or Dict concatenates its children (Dict in sorted key order), each child starting at a multiple
// of 8 bytes so that batched slices stay aligned.

#include <array>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "envs/array.hpp"
#include "envs/rng.hpp"

namespace locus::envs {

enum class SpaceKind { kDiscrete, kBox, kMultiDiscrete, kMultiBinary, kTuple, kDict };

class Space;
using SpacePtr = std::shared_ptr<Space>;

class Space {
 public:
  virtual ~Space() = default;
  virtual SpaceKind kind() const = 0;

  // Seeds this space's generator (and, for composite spaces, its children's, as Gymnasium does);
  // returns the seeds used. Without a seed, draws a fresh 64-bit seed from std::random_device and
  // returns it, so that the run can be repeated (Gymnasium returns SeedSequence's 128-bit entropy).
  virtual std::vector<std::uint64_t> seed(std::optional<std::uint64_t> seed = std::nullopt);
  virtual Value sample() = 0;
  virtual bool contains(const Value& value) const = 0;

  // Packed layout (see the file comment).
  virtual std::size_t packed_bytes() const = 0;
  // Writes `value` in the packed layout; throws BufferError if it has the wrong structure, shape or
  // a dtype that cannot be cast safely. Does not check bounds: use contains() for that.
  virtual void pack(const Value& value, std::span<std::byte> out) const = 0;
  virtual Value unpack(std::span<const std::byte> packed) const = 0;
  // contains() on a packed value, without allocating (the hot path's action check).
  virtual bool contains_packed(std::span<const std::byte> packed) const = 0;
  // Samples straight into the packed layout: the same draws and values as pack(sample()).
  virtual void sample_packed(std::span<std::byte> out);

  // Gymnasium's repr, e.g. "Discrete(2)", "Box(-inf, inf, (4,), float32)".
  virtual std::string to_string() const = 0;
  virtual nlohmann::json to_json() const = 0;
  virtual SpacePtr clone() const = 0;  // same parameters, a generator in the same state
  virtual bool equals(const Space& other) const = 0;
  // Whether every leaf is a single flat array (Box, Discrete, MultiDiscrete, MultiBinary).
  virtual bool is_leaf() const { return true; }

  Rng& np_random();

 protected:
  Space() = default;
  Space(const Space& other);
  Space& operator=(const Space& other);
  std::unique_ptr<Rng> rng_;  // created lazily, from entropy, when sample() is called unseeded
};

// {start, ..., start + n - 1}, sampled as int64.
class Discrete final : public Space {
 public:
  explicit Discrete(std::int64_t n, std::int64_t start = 0);
  std::int64_t n() const { return n_; }
  std::int64_t start() const { return start_; }
  // Gymnasium's mask: one int8 per action, 1 = allowed; samples only from allowed actions, or
  // `start` if none is allowed.
  Value sample_masked(std::span<const std::int8_t> mask);

  SpaceKind kind() const override { return SpaceKind::kDiscrete; }
  Value sample() override;
  bool contains(const Value& value) const override;
  std::size_t packed_bytes() const override { return sizeof(std::int64_t); }
  void pack(const Value& value, std::span<std::byte> out) const override;
  Value unpack(std::span<const std::byte> packed) const override;
  bool contains_packed(std::span<const std::byte> packed) const override;
  void sample_packed(std::span<std::byte> out) override;
  std::string to_string() const override;
  nlohmann::json to_json() const override;
  SpacePtr clone() const override;
  bool equals(const Space& other) const override;

 private:
  std::int64_t n_;
  std::int64_t start_;
};

// A box in R^shape with per-element bounds. As in Gymnasium, -inf/inf mark unbounded sides for
// floating dtypes and for signed integer dtypes (stored there as the dtype's limits); unsigned and
// bool dtypes need finite bounds. Bounds are checked against the dtype's range and cast to it.
class Box final : public Space {
 public:
  // Scalar bounds broadcast to `shape`.
  Box(double low, double high, Shape shape, DType dtype = DType::kFloat32);
  // Per-element bounds, row-major; an empty `shape` means (low.size(),) (for shape () use the
  // scalar constructor).
  Box(std::vector<double> low, std::vector<double> high, Shape shape = {},
      DType dtype = DType::kFloat32);

  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  // Bounds after casting to the dtype, as Gymnasium stores them.
  const std::vector<double>& low() const { return low_; }
  const std::vector<double>& high() const { return high_; }
  bool is_bounded() const;  // both sides, every element

  SpaceKind kind() const override { return SpaceKind::kBox; }
  Value sample() override;
  bool contains(const Value& value) const override;
  std::size_t packed_bytes() const override;
  void pack(const Value& value, std::span<std::byte> out) const override;
  Value unpack(std::span<const std::byte> packed) const override;
  bool contains_packed(std::span<const std::byte> packed) const override;
  void sample_packed(std::span<std::byte> out) override;
  std::string to_string() const override;
  nlohmann::json to_json() const override;
  SpacePtr clone() const override;
  bool equals(const Space& other) const override;

 private:
  // Gymnasium samples each element by the kind of its interval, one kind after the other.
  enum Interval : std::uint8_t { kUnbounded, kLowBounded, kHighBounded, kBounded };
  void init(std::vector<double> low, std::vector<double> high, bool scalar_bounds);
  template <class T>
  void sample_into(std::span<std::byte> out);
  template <class T>
  bool elements_in_bounds(std::span<const std::byte> packed) const;

  Shape shape_;
  DType dtype_;
  std::vector<double> low_;
  std::vector<double> high_;
  std::vector<std::uint8_t> interval_;  // an Interval per element
  std::array<std::int64_t, 4> interval_count_{};
  std::vector<double> sample_high_;  // Gymnasium's sampling upper bound (high + 1 for ints)
  bool uniform_overflows_ = false;   // high - low overflows float64 for a bounded element
};

// A vector of Discrete spaces with sizes `nvec` (and optional starts), sampled as int64.
class MultiDiscrete final : public Space {
 public:
  explicit MultiDiscrete(std::vector<std::int64_t> nvec, std::vector<std::int64_t> start = {});
  const std::vector<std::int64_t>& nvec() const { return nvec_; }
  const std::vector<std::int64_t>& start() const { return start_; }

  SpaceKind kind() const override { return SpaceKind::kMultiDiscrete; }
  Value sample() override;
  bool contains(const Value& value) const override;
  std::size_t packed_bytes() const override { return nvec_.size() * sizeof(std::int64_t); }
  void pack(const Value& value, std::span<std::byte> out) const override;
  Value unpack(std::span<const std::byte> packed) const override;
  bool contains_packed(std::span<const std::byte> packed) const override;
  void sample_packed(std::span<std::byte> out) override;
  std::string to_string() const override;
  nlohmann::json to_json() const override;
  SpacePtr clone() const override;
  bool equals(const Space& other) const override;

 private:
  std::vector<std::int64_t> nvec_;
  std::vector<std::int64_t> start_;
};

// {0, 1}^shape, sampled as int8 (Gymnasium's dtype).
class MultiBinary final : public Space {
 public:
  explicit MultiBinary(Shape shape);
  explicit MultiBinary(std::int64_t n) : MultiBinary(Shape{n}) {}
  const Shape& shape() const { return shape_; }

  SpaceKind kind() const override { return SpaceKind::kMultiBinary; }
  Value sample() override;
  bool contains(const Value& value) const override;
  std::size_t packed_bytes() const override;
  void pack(const Value& value, std::span<std::byte> out) const override;
  Value unpack(std::span<const std::byte> packed) const override;
  bool contains_packed(std::span<const std::byte> packed) const override;
  void sample_packed(std::span<std::byte> out) override;
  std::string to_string() const override;
  nlohmann::json to_json() const override;
  SpacePtr clone() const override;
  bool equals(const Space& other) const override;

 private:
  Shape shape_;
};

// Tuple and Dict: children packed one after the other (see the file comment), seeded, sampled and
// checked child by child.
class CompositeSpace : public Space {
 public:
  const std::vector<SpacePtr>& spaces() const { return spaces_; }
  std::size_t offset(std::size_t i) const { return offsets_.at(i); }

  // As Gymnasium: seed(s) seeds this space's generator with s, then seeds each child with
  // np_random.integers(2**31 - 1), in order; seed() reseeds every child from entropy. Returns the
  // children's seeds, flattened in order.
  std::vector<std::uint64_t> seed(std::optional<std::uint64_t> seed = std::nullopt) override;
  std::size_t packed_bytes() const override { return packed_bytes_; }
  bool contains_packed(std::span<const std::byte> packed) const override;
  void sample_packed(std::span<std::byte> out) override;
  bool is_leaf() const override { return false; }

 protected:
  // Takes the children (none null: the subclass has checked) and lays them out.
  void set_children(std::vector<SpacePtr> spaces);
  // Child i's bytes in a packed value of this space.
  std::span<const std::byte> child_bytes(std::span<const std::byte> packed, std::size_t i) const {
    return packed.subspan(offsets_[i], spaces_[i]->packed_bytes());
  }
  std::span<std::byte> child_bytes(std::span<std::byte> packed, std::size_t i) const {
    return packed.subspan(offsets_[i], spaces_[i]->packed_bytes());
  }
  // Zeroes the gaps between the children, after they are packed, so that packed buffers are fully
  // deterministic.
  void zero_padding(std::span<std::byte> out) const;
  // Each child unpacked from `packed` (which is checked to be packed_bytes() long), in order.
  std::vector<Value> unpack_children(std::span<const std::byte> packed) const;
  // Whether `other` has as many children, each equal to this one's.
  bool children_equal(const CompositeSpace& other) const;

  std::vector<SpacePtr> spaces_;
  std::vector<std::size_t> offsets_;
  std::size_t packed_bytes_ = 0;
};

class Tuple final : public CompositeSpace {
 public:
  explicit Tuple(std::vector<SpacePtr> spaces);

  SpaceKind kind() const override { return SpaceKind::kTuple; }
  Value sample() override;
  bool contains(const Value& value) const override;
  void pack(const Value& value, std::span<std::byte> out) const override;
  Value unpack(std::span<const std::byte> packed) const override;
  std::string to_string() const override;
  nlohmann::json to_json() const override;
  SpacePtr clone() const override;
  bool equals(const Space& other) const override;
};

class Dict final : public CompositeSpace {
 public:
  // Keys are sorted, as Gymnasium does for a dict argument; the children are seeded in that order.
  explicit Dict(std::vector<std::pair<std::string, SpacePtr>> spaces);
  const std::vector<std::string>& keys() const { return keys_; }
  const SpacePtr& at(std::string_view key) const;  // throws InvalidArgumentError naming the keys

  SpaceKind kind() const override { return SpaceKind::kDict; }
  Value sample() override;
  bool contains(const Value& value) const override;
  void pack(const Value& value, std::span<std::byte> out) const override;
  Value unpack(std::span<const std::byte> packed) const override;
  std::string to_string() const override;
  nlohmann::json to_json() const override;
  SpacePtr clone() const override;
  bool equals(const Space& other) const override;

 private:
  std::vector<std::string> keys_;
};

// Rebuilds a space from Space::to_json() (used by plugins, checkpoints and the bindings).
// The JSON forms (throws InvalidArgumentError naming the problem for anything else):
//   {"type": "Discrete", "n": 3, "start": 0}                        start optional
//   {"type": "Box", "low": L, "high": H, "shape": [4], "dtype": "float32"}
//       L and H are each a number (broadcast to the shape) or a flat row-major list; an infinite
//       bound is the string "inf" or "-inf" (JSON has no infinity). to_json() writes a scalar when
//       every element has the same bound. For signed integer dtypes "-inf"/"inf" mark unbounded
//       sides, as np.inf does in Gymnasium. dtype defaults to float32; shape defaults to the
//       length of a list bound.
//   {"type": "MultiDiscrete", "nvec": [2, 3], "start": [0, 0]}      start optional
//   {"type": "MultiBinary", "shape": [2, 3]}                          or "n": 5
//   {"type": "Tuple", "spaces": [...]}
//   {"type": "Dict", "spaces": {"key": {...}, ...}}
SpacePtr space_from_json(const nlohmann::json& json);

}  // namespace locus::envs
