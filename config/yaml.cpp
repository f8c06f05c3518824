#include "config/yaml.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

namespace locus::config {
namespace {

[[noreturn]] void fail(std::string_view source, const YAML::Mark& mark, const std::string& what) {
  // yaml-cpp counts lines from 0; editors from 1.
  if (mark.is_null()) throw ParseError(fmt::format("{}: {}", source, what));
  throw ParseError(fmt::format("{}, line {}: {}", source, mark.line + 1, what));
}

// The offset of the first byte that does not belong to well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF), or npos. JSON, which every config becomes, holds
// UTF-8 only.
std::size_t first_invalid_utf8(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = byte(i);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
    if (lead < 0x80) {
      length = 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    for (std::size_t k = 1; k < length; ++k) {
      const unsigned char next = byte(i + k);
      if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF)) return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

// The offset of the first control character YAML does not allow in a stream (C0 controls other
// than tab, line feed and carriage return, and DEL), or npos. yaml-cpp would otherwise take NUL
// bytes near the start for a UTF-16 or UTF-32 byte order mark and decode the text as such.
std::size_t first_control_character(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return i;
  }
  return std::string_view::npos;
}

[[noreturn]] void fail_at_byte(std::string_view text, std::size_t at, std::string_view source,
                               std::string_view what) {
  const auto line = std::count(text.begin(), text.begin() + std::ptrdiff_t(at), '\n') + 1;
  throw ParseError(fmt::format("{}, line {}: byte 0x{:02X} {}", source, line,
                               static_cast<unsigned char>(text[at]), what));
}

bool is_one_of(const std::string& text, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), text) != words.end();
}

// An integer written in decimal (optionally signed), 0x hex or 0o octal that fits int64.
std::optional<std::int64_t> parse_integer(const std::string& text) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
    base = digits[1] == 'x' ? 16 : 8;
    digits.remove_prefix(2);
  }
  if (digits.empty() || !std::isxdigit(static_cast<unsigned char>(digits.front()))) {
    return std::nullopt;
  }
  std::uint64_t magnitude = 0;
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  constexpr auto kMax = static_cast<std::uint64_t>(INT64_MAX);
  if (negative) {
    if (magnitude > kMax + 1) return std::nullopt;
    return magnitude == kMax + 1 ? INT64_MIN : -static_cast<std::int64_t>(magnitude);
  }
  if (magnitude > kMax) return std::nullopt;
  return static_cast<std::int64_t>(magnitude);
}

// A number JSON can hold; infinity for one written in full that is out of double's range.
std::optional<double> parse_double(const std::string& text) {
  if (text.empty()) return std::nullopt;
  const char* begin = text.data() + (text.front() == '+' ? 1 : 0);
  double value = 0.0;
  const auto [end, error] = std::from_chars(begin, text.data() + text.size(), value);
  if (end != text.data() + text.size()) return std::nullopt;
  if (error == std::errc::result_out_of_range) return std::numeric_limits<double>::infinity();
  if (error != std::errc()) return std::nullopt;
  return value;
}

nlohmann::json scalar_to_json(const YAML::Node& node, std::string_view source) {
  const std::string& text = node.Scalar();
  // Escapes in double quotes ("\\xff") can make bytes that the text did not hold.
  if (first_invalid_utf8(text) != std::string_view::npos) {
    fail(source, node.Mark(),
         "a quoted escape makes text that is not UTF-8; write the character itself");
  }
  if (node.Tag() == "!") return text;  // quoted: always a string
  if (is_one_of(text, {"~", "null", "Null", "NULL", ""})) return nullptr;
  if (is_one_of(text, {"true", "True", "TRUE"})) return true;
  if (is_one_of(text, {"false", "False", "FALSE"})) return false;
  if (const auto integer = parse_integer(text)) return *integer;
  if (is_one_of(text, {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                       "-.inf", "-.Inf", "-.INF", "nan", "inf", "-inf", "+inf"})) {
    fail(source, node.Mark(),
         fmt::format("'{}' is not a finite number, which no setting takes; write a finite "
                     "number, or quote it if a string is meant",
                     text));
  }
  if (const auto number = parse_double(text)) {
    if (!std::isfinite(*number)) {
      fail(source, node.Mark(),
           fmt::format("{} is out of range for a double; write a number below 1.8e308", text));
    }
    return *number;
  }
  return text;
}

void check_node(const YAML::Node& node, std::string_view source) {
  if (node.IsSequence()) {
    for (const auto& item : node) check_node(item, source);
    return;
  }
  if (!node.IsMap()) return;
  std::vector<std::pair<std::string, YAML::Mark>> seen;
  for (const auto& item : node) {
    if (!item.first.IsScalar()) {
      fail(source, item.first.Mark(), "a key must be a plain name, not a list or a mapping");
    }
    const std::string& key = item.first.Scalar();
    if (first_invalid_utf8(key) != std::string_view::npos) {
      fail(source, item.first.Mark(), "a key's quoted escape makes text that is not UTF-8");
    }
    const auto earlier = std::find_if(seen.begin(), seen.end(),
                                      [&](const auto& entry) { return entry.first == key; });
    if (earlier != seen.end()) {
      fail(source, item.first.Mark(),
           fmt::format("key '{}' is given twice in one mapping (first on line {}); keep one of "
                       "them",
                       key, earlier->second.line + 1));
    }
    seen.emplace_back(key, item.first.Mark());
    check_node(item.second, source);
  }
}

// A pass over the parser's events before any node is built: aliases (*name) are refused, since a
// self-referencing one makes a cyclic node graph (every walk over it overflows the stack) and
// aliases of aliases grow exponentially (six levels of ten made 10^7 nodes); and the document's
// size is capped. Anchors alone are harmless and allowed.
class ConfigShapeCheck : public YAML::EventHandler {
 public:
  explicit ConfigShapeCheck(std::string_view source) : source_(source) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { count(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    fail(source_, mark,
         "an alias (*name) repeats another part of the config, which locus does not accept; "
         "write the values out");
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    count(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    count(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    count(mark);
  }
  void OnMapEnd() override {}

 private:
  // Far more than any config holds (the largest sweep grids hold hundreds).
  static constexpr std::size_t kMaxNodes = 1000000;

  void count(const YAML::Mark& mark) {
    if (++nodes_ > kMaxNodes) {
      fail(source_, mark,
           fmt::format("the config holds more than {} values; no config is that large", kMaxNodes));
    }
  }

  std::string_view source_;
  std::size_t nodes_ = 0;
};

}  // namespace

YAML::Node load_yaml(std::string_view text, std::string_view source) {
  if (const std::size_t bad = first_invalid_utf8(text); bad != std::string_view::npos) {
    fail_at_byte(text, bad, source, "is not UTF-8 text; save the file as UTF-8");
  }
  if (const std::size_t bad = first_control_character(text); bad != std::string_view::npos) {
    fail_at_byte(text, bad, source, "is a control character, which YAML text cannot hold");
  }
  YAML::Node root;
  try {
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    ConfigShapeCheck shape(source);
    parser.HandleNextDocument(shape);
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    fail(source, e.mark, fmt::format("not valid YAML: {}", e.msg));
  } catch (const YAML::Exception& e) {
    fail(source, YAML::Mark::null_mark(), fmt::format("not valid YAML: {}", e.what()));
  }
  check_node(root, source);
  return root;
}

nlohmann::json yaml_to_json(const YAML::Node& node, std::string_view source) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return scalar_to_json(node, source);
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item, source));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& item : node) out[item.first.Scalar()] = yaml_to_json(item.second, source);
      return out;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return nullptr;
}

nlohmann::json parse_yaml(std::string_view text, std::string_view source) {
  return yaml_to_json(load_yaml(text, source), source);
}

}  // namespace locus::config
