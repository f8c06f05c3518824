#pragma once
// The `info` dictionary returned by reset() and step().
//
// Gymnasium's info is an arbitrary dict. locus keeps it typed (bool, integer, double, string,
// Array or a nested Info) and allocation-free in steady state: clear() only marks entries unused,
// so an env that sets the same keys every step reuses their storage.

#include <cstdint>
#include <cstring>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "envs/array.hpp"

namespace locus::envs {

class Info;

// Value semantics for a nested Info (std::variant needs complete alternatives).
class InfoBox {
 public:
  InfoBox();
  InfoBox(const Info& info);  // NOLINT: implicit by design
  InfoBox(const InfoBox& other);
  InfoBox& operator=(const InfoBox& other);
  InfoBox(InfoBox&&) noexcept = default;
  InfoBox& operator=(InfoBox&&) noexcept = default;
  ~InfoBox();
  Info& get() { return *info_; }
  const Info& get() const { return *info_; }
  bool operator==(const InfoBox& other) const;

 private:
  std::unique_ptr<Info> info_;
};

using InfoValue = std::variant<bool, std::int64_t, double, std::string, Array, InfoBox>;

class Info {
 public:
  // Marks every entry unused; keeps their storage for reuse.
  void clear() { size_ = 0; }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  void set(std::string_view key, bool value) { slot(key) = value; }
  void set(std::string_view key, std::int64_t value) { slot(key) = value; }
  void set(std::string_view key, int value) { slot(key) = static_cast<std::int64_t>(value); }
  void set(std::string_view key, double value) { slot(key) = value; }
  void set(std::string_view key, std::string_view value);
  void set(std::string_view key, const char* value) { set(key, std::string_view(value)); }
  void set(std::string_view key, Array value) { slot(key) = std::move(value); }
  void set(std::string_view key, const Info& value) { slot(key) = InfoBox(value); }
  // A nested Info created (or reused) in place.
  Info& nested(std::string_view key);
  void erase(std::string_view key);

  bool contains(std::string_view key) const { return find(key) != nullptr; }
  const InfoValue* find(std::string_view key) const;
  // Typed lookups; throw InvalidArgumentError when the key is missing or of another type.
  bool get_bool(std::string_view key) const;
  std::int64_t get_int(std::string_view key) const;
  double get_double(std::string_view key) const;  // accepts integers too
  const std::string& get_string(std::string_view key) const;
  const Array& get_array(std::string_view key) const;
  const Info& get_info(std::string_view key) const;

  // Entries in insertion order.
  struct Entry {
    std::string key;
    InfoValue value;
  };
  std::span<const Entry> entries() const { return {entries_.data(), size_}; }

  // Copies every entry of `other` into this Info (overwriting equal keys).
  void merge(const Info& other);
  bool operator==(const Info& other) const;
  nlohmann::json to_json() const;
  std::string to_string() const;

 private:
  // Every key occurs at most once in entries_ (set entries and the cleared tail alike), so the
  // first cleared entry holding this key cannot be a duplicate of a set one. It is the usual case,
  // an env setting the same keys in the same order on every step, and takes one inline comparison.
  InfoValue& slot(std::string_view key) {
    if (size_ < entries_.size() && same_key(entries_[size_].key, key)) {
      return entries_[size_++].value;
    }
    return slot_search(key);
  }
  InfoValue& slot_search(std::string_view key);
  // Key equality without a call to memcmp for keys of 4 to 16 bytes (two overlapping word loads),
  // which was most of the cost of setting a key.
  static bool same_key(const std::string& stored, std::string_view key) {
    const std::size_t n = key.size();
    if (stored.size() != n) return false;
    const char* a = stored.data();
    const char* b = key.data();
    if (n >= 8 && n <= 16) {
      return load_word<std::uint64_t>(a) == load_word<std::uint64_t>(b) &&
             load_word<std::uint64_t>(a + n - 8) == load_word<std::uint64_t>(b + n - 8);
    }
    if (n >= 4 && n < 8) {
      return load_word<std::uint32_t>(a) == load_word<std::uint32_t>(b) &&
             load_word<std::uint32_t>(a + n - 4) == load_word<std::uint32_t>(b + n - 4);
    }
    return n == 0 || std::memcmp(a, b, n) == 0;
  }
  template <class Word>
  static Word load_word(const char* p) {
    Word w;
    std::memcpy(&w, p, sizeof w);
    return w;
  }
  std::vector<Entry> entries_;
  std::size_t size_ = 0;
};

}  // namespace locus::envs
