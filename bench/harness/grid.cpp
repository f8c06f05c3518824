#include "bench/harness/grid.hpp"

#include <fmt/format.h>

#include <map>
#include <set>
#include <tuple>

#include "bench/harness/cognitive.hpp"
#include "bench/harness/errors.hpp"
#include "util/memory.hpp"

namespace locus::bench {

namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxRuns = 1'000'000;
constexpr std::size_t kMaxRunIdBytes = 200;

std::string value_label(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string sanitize(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                    c == '=' || c == '_' || c == '+';
    out += ok ? c : '_';
  }
  return out;
}

void check_run_count(const SweepConfig& config) {
  std::uint64_t total = util::saturating_mul(config.methods.size(), config.seeds.size());
  for (const auto& [key, values] : config.grid) total = util::saturating_mul(total, values.size());
  if (total > kMaxRuns) {
    throw InvalidArgumentError(fmt::format(
        "the sweep expands to {} runs (methods x grid points x seeds); at most {} are allowed",
        total == util::kSaturated ? "more than 2^64" : std::to_string(total), kMaxRuns));
  }
}

std::vector<json> grid_points(const SweepConfig& config) {
  std::vector<json> points = {json::object()};
  for (const auto& [key, values] : config.grid) {
    std::vector<json> next;
    for (const auto& point : points) {
      for (const auto& value : values) {
        json p = point;
        p[key] = value;
        next.push_back(p);
      }
    }
    points = std::move(next);
  }
  return points;
}

json merged_settings(const SweepConfig& config, const json& method_settings, const json& point) {
  json settings = config.defaults;
  settings.update(method_settings);
  settings.update(point);
  return settings;
}

// A control reads the mean gain of another method's run: fixed_gain_from or matched_lr_from
// (supervised runs only; RL and cognitive runs have neither setting).
std::string depends_on(const SweepConfig& config, const std::string& method, const json& settings,
                       const json& point) {
  if (!config.scenario.is_null()) return "";
  return gain_source(method, settings, [&](const std::string& name) -> std::optional<json> {
    for (const auto& [other, other_settings] : config.methods) {
      if (other == name) return merged_settings(config, other_settings, point);
    }
    return std::nullopt;
  });
}

std::string run_id(const std::string& method, const json& point, std::uint64_t seed) {
  std::string id = method;
  for (const auto& [key, value] : point.items()) id += "_" + key + "=" + value_label(value);
  id = sanitize(id + "_seed=" + std::to_string(seed));
  // runs/<id>.json and its temporary name (".tmp.<pid>.<n>" more) must fit NAME_MAX.
  if (id.size() > kMaxRunIdBytes) {
    throw InvalidArgumentError(
        fmt::format("run id '{}' is {} bytes, longer than the {} its file name in runs/ may have; "
                    "shorten the method name or the grid's values",
                    id, id.size(), kMaxRunIdBytes));
  }
  return id;
}

// Parses the run's settings (so that a bad value fails now, not halfway through the sweep) and
// checks that a supervised run fits in memory.
RunSettings parse_checked(const RunSpec& spec) {
  RunSettings run = parse_run_settings(spec.scenario, spec.settings, spec.seed);
  if (const auto* supervised = std::get_if<SupervisedConfig>(&run.learner)) {
    check_run_memory(spec.id, *supervised, run.schedule);
  }
  return run;
}

// Sets each control's `source`: the run of its depends_on method with its seed and grid point.
void link_sources(std::vector<RunSpec>& runs) {
  std::map<std::tuple<std::string, std::uint64_t, std::string>, std::size_t> by_key;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    by_key[{runs[i].method, runs[i].seed, runs[i].grid.dump()}] = i;
  }
  for (auto& run : runs) {
    if (!run.depends_on.empty()) {
      run.source =
          static_cast<std::ptrdiff_t>(by_key.at({run.depends_on, run.seed, run.grid.dump()}));
    }
  }
}

}  // namespace

std::string grid_label(const json& grid) {
  std::string out;
  for (const auto& [key, value] : grid.items()) {
    out += (out.empty() ? "" : " ") + key + "=" + value_label(value);
  }
  return out;
}

std::vector<RunSpec> SweepConfig::expand() const {
  check_path_name("'name'", name);
  check_run_count(*this);
  const std::vector<json> points = grid_points(*this);
  std::vector<RunSpec> runs;
  std::set<std::string> ids;
  for (const auto& [method, method_settings] : methods) {
    for (const auto& point : points) {
      json settings = merged_settings(*this, method_settings, point);
      if (cognitive()) settings = with_cognitive_harness_defaults(settings);
      const std::string source = depends_on(*this, method, settings, point);
      for (const auto seed : seeds) {
        RunSpec spec;
        spec.method = method;
        spec.seed = seed;
        spec.grid = point;
        spec.settings = settings;
        spec.depends_on = source;
        spec.scenario = scenario;
        spec.id = run_id(method, point, seed);
        if (!ids.insert(spec.id).second) {
          throw InvalidArgumentError(fmt::format("two runs map to the file name '{}'", spec.id));
        }
        spec.run = parse_checked(spec);
        runs.push_back(std::move(spec));
      }
    }
  }
  link_sources(runs);
  return runs;
}

}  // namespace locus::bench
