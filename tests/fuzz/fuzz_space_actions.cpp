// Fuzz target: action decoding (envs/space.hpp): a space read from JSON (space_from_json, as
// plugins, checkpoints and the bindings read one), then
//   - packed bytes, as a vector env receives a batch of actions: contains_packed must agree with
//     contains(unpack(bytes)), and a contained action must pack back to the same value;
//   - a user's action as a Value (an array of any dtype and shape, or tuples and dicts of them),
//     as Env::step(Value) takes it: contains() decides, and a contained value must pack into bytes
//     that contains_packed accepts.
//
// Input: the space's JSON text, a zero byte, then the action bytes (used for both forms).
// Anything but an envs::Error (or success) is a bug.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "envs/array.hpp"
#include "envs/errors.hpp"
#include "envs/space.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace locus::envs;
using locus::fuzz::require;

// Reads a Value from bytes: an array (dtype, up to 3 dims of 0..7, then its elements), or a
// tuple or dict of up to 3 such values (keys "a", "b", "c"), nested at most twice.
class ValueReader {
 public:
  ValueReader(const std::byte* data, std::size_t size) : data_(data), size_(size) {}

  Value read(int depth = 0) {
    const std::uint8_t kind = next();
    if (depth < 2 && kind % 8 == 6) {
      ValueTuple tuple;
      for (int i = next() % 4; i > 0; --i) tuple.push_back(read(depth + 1));
      return tuple;
    }
    if (depth < 2 && kind % 8 == 7) {
      ValueDict dict;
      const int count = next() % 4;
      for (int i = 0; i < count; ++i) dict.insert(std::string(1, char('a' + i)), read(depth + 1));
      return dict;
    }
    const auto dtype = static_cast<DType>(kind % 8);
    Shape shape(next() % 4);
    for (auto& dim : shape) dim = next() % 8;
    Array array(dtype, shape);
    for (std::byte& byte : array.bytes()) byte = std::byte{next()};
    if (dtype == DType::kBool) {
      for (std::byte& byte : array.bytes()) byte &= std::byte{1};  // a bool is 0 or 1
    }
    return array;
  }

 private:
  std::uint8_t next() {
    return offset_ < size_ ? std::to_integer<std::uint8_t>(data_[offset_++]) : 0;
  }

  const std::byte* data_;
  std::size_t size_;
  std::size_t offset_ = 0;
};

constexpr std::size_t kMaxActionBytes = std::size_t{1} << 22;

void packed_actions(const Space& space, std::span<const std::byte> input) {
  std::vector<std::byte> packed(space.packed_bytes());
  std::copy_n(input.begin(), std::min(input.size(), packed.size()), packed.begin());
  const bool contained = space.contains_packed(packed);
  const Value value = space.unpack(packed);
  require(space.contains(value) == contained, "contains_packed disagrees with contains(unpack)");
  if (!contained) return;
  // Packing zeroes the padding between a Tuple's or Dict's members, so the bytes may differ there;
  // the value may not.
  std::vector<std::byte> again(space.packed_bytes());
  space.pack(value, again);
  require(space.unpack(again) == value, "a contained packed action does not pack back the same");
}

void user_action(const Space& space, std::span<const std::byte> input) {
  const Value value = ValueReader(input.data(), input.size()).read();
  if (!space.contains(value)) return;
  std::vector<std::byte> packed(space.packed_bytes());
  space.pack(value, packed);
  require(space.contains_packed(packed), "a contained action packs into bytes that are not");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto* end = static_cast<const std::uint8_t*>(std::memchr(data, 0, size));
  if (end == nullptr) return 0;
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(data, end);
  } catch (const nlohmann::json::exception&) {
    return 0;  // not JSON (or a number past double's range): the JSON library refuses it
  }
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(end + 1),
                                         size - std::size_t(end + 1 - data));
  locus::fuzz::expect_clean<Error>([&] {
    const SpacePtr space = space_from_json(json);
    // The JSON form must read back as an equal space.
    require(space_from_json(space->to_json())->equals(*space), "to_json does not read back equal");
    // A space may hold up to 2^40 elements, more than this process's memory; an action buffer is
    // the caller's to allocate (VectorEnv checks its batch against the available memory), so the
    // decoding checks below stay with spaces whose actions fit in a few MiB.
    if (space->packed_bytes() > kMaxActionBytes) return;
    packed_actions(*space, input);
    user_action(*space, input);
  });
  return 0;
}
