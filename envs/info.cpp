#include "envs/info.hpp"

#include <nlohmann/json.hpp>

#include "envs/errors.hpp"

namespace locus::envs {

InfoBox::InfoBox() : info_(std::make_unique<Info>()) {}
InfoBox::InfoBox(const Info& info) : info_(std::make_unique<Info>(info)) {}
InfoBox::InfoBox(const InfoBox& other) : info_(std::make_unique<Info>(*other.info_)) {}
InfoBox& InfoBox::operator=(const InfoBox& other) {
  if (this != &other) *info_ = *other.info_;
  return *this;
}
InfoBox::~InfoBox() = default;
bool InfoBox::operator==(const InfoBox& other) const {
  return *info_ == *other.info_;
}

InfoValue& Info::slot_search(std::string_view key) {
  for (std::size_t i = 0; i < size_; ++i) {
    if (same_key(entries_[i].key, key)) return entries_[i].value;
  }
  // Reuse a cleared entry with the same key first, so that its storage (and its position) is kept.
  for (std::size_t i = size_; i < entries_.size(); ++i) {
    if (same_key(entries_[i].key, key)) {
      // Usually the key is already where it goes (an env sets the same keys in the same order on
      // every step): a swap with itself would move a string and a variant three times, about 60%
      // of a cognitive task's step, for nothing.
      if (i != size_) std::swap(entries_[i], entries_[size_]);
      return entries_[size_++].value;
    }
  }
  if (size_ == entries_.size()) entries_.emplace_back();
  entries_[size_].key.assign(key);
  return entries_[size_++].value;
}

void Info::set(std::string_view key, std::string_view value) {
  InfoValue& v = slot(key);
  if (auto* s = std::get_if<std::string>(&v)) {
    s->assign(value);
  } else {
    v = std::string(value);
  }
}

Info& Info::nested(std::string_view key) {
  InfoValue& v = slot(key);
  if (auto* box = std::get_if<InfoBox>(&v)) {
    box->get().clear();
    return box->get();
  }
  v = InfoBox();
  return std::get<InfoBox>(v).get();
}

void Info::erase(std::string_view key) {
  for (std::size_t i = 0; i < size_; ++i) {
    if (entries_[i].key == key) {
      // Keep insertion order of the remaining entries; the erased one moves to the unused tail.
      for (std::size_t j = i + 1; j < size_; ++j) std::swap(entries_[j - 1], entries_[j]);
      --size_;
      return;
    }
  }
}

const InfoValue* Info::find(std::string_view key) const {
  for (std::size_t i = 0; i < size_; ++i) {
    if (same_key(entries_[i].key, key)) return &entries_[i].value;
  }
  return nullptr;
}

namespace {
template <class T>
const T& typed(const Info& info, std::string_view key, const char* type_name) {
  const InfoValue* v = info.find(key);
  if (v == nullptr) {
    std::string keys;
    for (const auto& e : info.entries()) keys += (keys.empty() ? "" : ", ") + e.key;
    throw InvalidArgumentError("info has no key '" + std::string(key) +
                               "' (keys: " + (keys.empty() ? "none" : keys) + ")");
  }
  const T* t = std::get_if<T>(v);
  if (t == nullptr) {
    throw InvalidArgumentError("info['" + std::string(key) + "'] is not a " + type_name);
  }
  return *t;
}
}  // namespace

bool Info::get_bool(std::string_view key) const {
  return typed<bool>(*this, key, "bool");
}
std::int64_t Info::get_int(std::string_view key) const {
  return typed<std::int64_t>(*this, key, "integer");
}
double Info::get_double(std::string_view key) const {
  const InfoValue* v = find(key);
  if (v != nullptr) {
    if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
  }
  return typed<double>(*this, key, "number");
}
const std::string& Info::get_string(std::string_view key) const {
  return typed<std::string>(*this, key, "string");
}
const Array& Info::get_array(std::string_view key) const {
  return typed<Array>(*this, key, "array");
}
const Info& Info::get_info(std::string_view key) const {
  return typed<InfoBox>(*this, key, "dict").get();
}

void Info::merge(const Info& other) {
  for (const auto& e : other.entries()) slot(e.key) = e.value;
}

bool Info::operator==(const Info& other) const {
  if (size_ != other.size_) return false;
  for (const auto& e : entries()) {
    const InfoValue* v = other.find(e.key);
    if (v == nullptr || !(*v == e.value)) return false;
  }
  return true;
}

nlohmann::json Info::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& e : entries()) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, InfoBox>) {
            out[e.key] = v.get().to_json();
          } else if constexpr (std::is_same_v<T, Array>) {
            nlohmann::json values = nlohmann::json::array();
            for (std::int64_t i = 0; i < v.size(); ++i) {
              if (is_floating(v.dtype())) {
                values.push_back(v.get_double(i));
              } else {
                values.push_back(v.get_int(i));
              }
            }
            out[e.key] = v.ndim() == 0 ? values.at(0) : values;
          } else {
            out[e.key] = v;
          }
        },
        e.value);
  }
  return out;
}

std::string Info::to_string() const {
  return to_json().dump();
}

}  // namespace locus::envs
