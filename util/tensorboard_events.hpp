#pragma once
// TensorBoard's event files, written without TensorFlow or protobuf: a file is a sequence of
// records (TFRecord framing: the data's length as a little-endian uint64, its masked CRC-32C, the
// data, the data's masked CRC-32C), each record one `Event` protocol buffer (TensorFlow's
// tensorflow/core/util/event.proto). locus writes two kinds: the file's first event, which names
// the format ("brain.Event:2"), and events of scalar summaries. The few protobuf fields they need
// are encoded here by hand; tests/util checks the encoding byte for byte and tests/cli reads the
// files back with TensorBoard's own reader, which verifies both checksums.

#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "util/hash.hpp"

namespace locus::util::tensorboard {

// TensorBoard reads the files of a folder whose names contain "tfevents".
inline constexpr std::string_view kEventFileName = "events.out.tfevents.locus";

namespace detail {

inline void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

template <typename Unsigned>
void put_little_endian(std::string& out, Unsigned value) {
  for (std::size_t i = 0; i < sizeof(Unsigned); ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  }
}

// A protobuf field key: (field number << 3) | wire type.
enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };
inline void put_key(std::string& out, std::uint32_t field, WireType type) {
  put_varint(out, (field << 3) | type);
}

inline void put_bytes(std::string& out, std::uint32_t field, std::string_view bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

inline void put_double(std::string& out, std::uint32_t field, double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  put_key(out, field, kFixed64);
  put_little_endian(out, bits);
}

inline void put_float(std::string& out, std::uint32_t field, float value) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  put_key(out, field, kFixed32);
  put_little_endian(out, bits);
}

// The CRC as TFRecord stores it, rotated and offset so that a CRC of CRCs is not trivial.
inline std::uint32_t masked_crc32c(std::string_view bytes) {
  const std::uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

// Event fields (event.proto): wall_time = 1 (double), step = 2 (int64), file_version = 3,
// summary = 5. Summary: value = 1 (repeated). Summary.Value: tag = 1, simple_value = 2 (float).
inline std::string event_header(double wall_time, std::int64_t step) {
  std::string event;
  put_double(event, 1, wall_time);
  if (step != 0) {
    put_key(event, 2, kVarint);
    put_varint(event, static_cast<std::uint64_t>(step));
  }
  return event;
}

}  // namespace detail

// Seconds since the Unix epoch: an event's wall time.
inline double wall_clock_seconds() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(since_epoch).count();
}

// One record of TFRecord framing around `data`.
inline std::string record(std::string_view data) {
  std::string length;
  detail::put_little_endian<std::uint64_t>(length, data.size());
  std::string out = length;
  detail::put_little_endian(out, detail::masked_crc32c(length));
  out.append(data);
  detail::put_little_endian(out, detail::masked_crc32c(data));
  return out;
}

// The record every event file starts with.
inline std::string file_version_record(double wall_time) {
  std::string event = detail::event_header(wall_time, 0);
  detail::put_bytes(event, 3, "brain.Event:2");
  return record(event);
}

struct Scalar {
  std::string_view tag;
  double value;  // stored as float, as TensorBoard's simple_value is
};

// One event holding `scalars` at `step` (an empty string when there are none).
inline std::string scalars_record(std::span<const Scalar> scalars, std::int64_t step,
                                  double wall_time) {
  if (scalars.empty()) return {};
  std::string summary;
  for (const Scalar& scalar : scalars) {
    std::string value;
    detail::put_bytes(value, 1, scalar.tag);
    detail::put_float(value, 2, static_cast<float>(scalar.value));
    detail::put_bytes(summary, 1, value);
  }
  std::string event = detail::event_header(wall_time, step);
  detail::put_bytes(event, 5, summary);
  return record(event);
}

}  // namespace locus::util::tensorboard
