#include "bench/harness/summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "bench/harness/errors.hpp"
#include "bench/harness/grid.hpp"
#include "bench/harness/metrics.hpp"
#include "bench/harness/run_files.hpp"
#include "util/nan.hpp"

namespace locus::bench {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using Table = std::vector<std::vector<std::string>>;

struct SummaryColumn {
  const char* metric;
  const char* title;
};
const std::vector<SummaryColumn>& summary_columns() {
  static const std::vector<SummaryColumn> columns = {{"acc", "ACC"},
                                                     {"bwt", "BWT"},
                                                     {"fwt", "FWT"},
                                                     {"forgetting", "forget"},
                                                     {"avg_sg", "avg-SG"},
                                                     {"avg_sg_previous", "avg-SG prev"},
                                                     {"min_acc", "min-ACC"},
                                                     {"wc_acc", "WC-ACC"},
                                                     {"gap_depth", "depth"},
                                                     {"gap_recovery", "recovery"},
                                                     {"gap_area", "area"},
                                                     {"first_task_final", "task-1 final"},
                                                     {"mean_gain", "gain"},
                                                     {"parameter_count", "params"},
                                                     {"bytes_per_task", "bytes/task"},
                                                     {"wall_seconds", "wall s"},
                                                     {"steps_per_second", "steps/s"}};
  return columns;
}
// The columns of the printed table (the CSV has them all).
const std::vector<const char*>& table_metrics() {
  static const std::vector<const char*> metrics = {
      "acc", "bwt", "forgetting", "avg_sg", "min_acc", "wc_acc", "mean_gain", "steps_per_second"};
  return metrics;
}

std::string format_mean_sd(const MeanSd& s, int decimals) {
  if (s.count == 0) return "-";
  if (!std::isfinite(s.sd)) return fmt::format("{:.{}f}", s.mean, decimals);
  return fmt::format("{:.{}f}±{:.{}f}", s.mean, decimals, s.sd, decimals);
}

// The finished runs' metrics grouped by method, then grid point, in first-seen order; writes
// every run to DIR/results.jsonl on the way.
struct Groups {
  std::vector<std::pair<std::string, std::string>> order;  // method, grid label
  std::map<std::pair<std::string, std::string>, std::vector<json>> metrics;
  std::map<std::pair<std::string, std::string>, std::vector<json>> records;
  // Per run, what the learner found of the task boundaries (context_at_train on-change), if it
  // looked for them.
  std::map<std::pair<std::string, std::string>, std::vector<json>> discoveries;
};

Groups collect_runs(const SweepConfig& config, const fs::path& out_dir) {
  const std::vector<RunSpec> runs = config.expand();
  std::string jsonl;
  Groups groups;
  for (const auto& spec : runs) {
    const json run = read_finished_run(out_dir, spec);
    if (run.is_null()) {
      throw SweepStateError(fmt::format("run '{}' has not finished ({} is missing)", spec.id,
                                        run_path(out_dir, spec).string()));
    }
    jsonl += run.dump() + "\n";
    const auto key = std::make_pair(spec.method, grid_label(spec.grid));
    if (!groups.metrics.contains(key)) groups.order.push_back(key);
    groups.metrics[key].push_back(run["metrics"]);
    groups.records[key].push_back(run["record"]);
    if (run.contains("boundary_delays")) {
      json found = json::object();
      for (const char* field :
           {"boundary_delays", "extra_context_switches", "task_contexts", "context_hit_rates"}) {
        if (run.contains(field)) found[field] = run[field];
      }
      groups.discoveries[key].push_back(std::move(found));
    }
  }
  write_file_atomically(out_dir / "results.jsonl", jsonl);
  return groups;
}

// avg-SG of the seeds' mean first-task curve (metrics.hpp), beside the mean of the seeds' own
// avg-SG: the paper quotes the former, and the two differ most for jagged curves.
double mean_curve_stability_gap(const std::vector<json>& records) {
  struct Curve {
    std::vector<std::int64_t> iterations, block_ends;
    std::vector<double> values;
  };
  std::vector<Curve> curves;
  for (const json& record : records) {
    if (!record.is_object() || !record.contains("curves") || record["curves"].empty())
      return util::kNaN;
    Curve curve{record["iterations"].get<std::vector<std::int64_t>>(),
                record["block_ends"].get<std::vector<std::int64_t>>(),
                {}};
    for (const json& value : record["curves"][0]) curve.values.push_back(number_or_nan(value));
    curves.push_back(std::move(curve));
  }
  std::vector<CurveView> views;
  views.reserve(curves.size());
  for (const Curve& curve : curves)
    views.push_back({curve.iterations, curve.values, curve.block_ends});
  try {
    return stability_gap_of_mean_curve(views);
  } catch (const InvalidArgumentError&) {
    return util::kNaN;  // seeds under different schedules have no mean curve
  }
}

std::vector<std::string> table_header() {
  std::vector<std::string> header = {"method", "runs"};
  for (const auto* metric : table_metrics()) {
    for (const auto& column : summary_columns()) {
      if (std::string(column.metric) == metric) header.push_back(column.title);
    }
    if (std::string(metric) == "avg_sg") header.push_back("avg-SG of mean");
  }
  return header;
}

// Writes DIR/summary.csv and returns the table's rows (the header first).
Table write_csv(const Groups& groups, const fs::path& out_dir) {
  std::string csv = "method,grid,runs";
  for (const auto& column : summary_columns()) {
    csv += fmt::format(",{0}_mean,{0}_sd", column.metric);
  }
  csv += ",avg_sg_of_mean_curve_mean,avg_sg_of_mean_curve_sd\n";
  Table table = {table_header()};
  for (const auto& key : groups.order) {
    const auto& members = groups.metrics.at(key);
    csv += fmt::format("{},{},{}", key.first, key.second, members.size());
    std::map<std::string, MeanSd> stats;
    for (const auto& column : summary_columns()) {
      std::vector<double> values;
      for (const auto& metrics : members) values.push_back(number_or_nan(metrics[column.metric]));
      const MeanSd s = mean_sd(values);
      stats[column.metric] = s;
      auto cell = [](double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : ""; };
      csv += fmt::format(",{},{}", cell(s.mean), cell(s.sd));
    }
    const double mean_curve_sg = mean_curve_stability_gap(groups.records.at(key));
    csv += fmt::format(",{},\n", std::isfinite(mean_curve_sg) ? fmt::format("{:.6g}", mean_curve_sg)
                                                              : std::string());
    std::vector<std::string> row = {
        key.second.empty() ? key.first : key.first + " (" + key.second + ")",
        std::to_string(members.size())};
    for (const auto* metric : table_metrics()) {
      const std::string name = metric;
      row.push_back(format_mean_sd(stats[name], name == "steps_per_second" ? 0 : 3));
      if (name == "avg_sg") {
        row.push_back(std::isfinite(mean_curve_sg) ? fmt::format("{:.3f}", mean_curve_sg) : "-");
      }
    }
    table.push_back(row);
  }
  write_file_atomically(out_dir / "summary.csv", csv);
  return table;
}

// For the groups that found their task boundaries in training: how many of the true boundaries a
// switch found, its mean delay in steps, the switches that found none, the contexts the tasks
// ended in, and (with an inferred context at test) how often the test picked a task's own.
Table context_discovery_table(const Groups& groups) {
  Table table = {{"method", "runs", "boundaries found", "mean delay", "extra switches",
                  "contexts used", "right context at test"}};
  for (const auto& key : groups.order) {
    const auto found = groups.discoveries.find(key);
    if (found == groups.discoveries.end()) continue;
    std::size_t boundaries = 0, detected = 0;
    double delay_sum = 0.0, hit_sum = 0.0;
    std::int64_t extra = 0;
    std::size_t hit_count = 0;
    std::vector<double> contexts_used;
    for (const json& run : found->second) {
      for (const json& delay : run["boundary_delays"]) {
        ++boundaries;
        if (delay.is_null()) continue;
        ++detected;
        delay_sum += delay.get<double>();
      }
      extra += run["extra_context_switches"].get<std::int64_t>();
      std::vector<std::int64_t> used = run["task_contexts"].get<std::vector<std::int64_t>>();
      std::sort(used.begin(), used.end());
      contexts_used.push_back(
          static_cast<double>(std::unique(used.begin(), used.end()) - used.begin()));
      for (const json& hit : run.value("context_hit_rates", json::array())) {
        const double rate = number_or_nan(hit);
        if (!std::isfinite(rate)) continue;  // a task never evaluated with an inferred context
        hit_sum += rate;
        ++hit_count;
      }
    }
    table.push_back(
        {key.second.empty() ? key.first : key.first + " (" + key.second + ")",
         std::to_string(found->second.size()), fmt::format("{} of {}", detected, boundaries),
         detected > 0 ? fmt::format("{:.1f}", delay_sum / static_cast<double>(detected)) : "-",
         std::to_string(extra), format_mean_sd(mean_sd(contexts_used), 1),
         hit_count > 0 ? fmt::format("{:.2f}", hit_sum / static_cast<double>(hit_count)) : "-"});
  }
  return table;
}

std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80;  // UTF-8 code points (the ±)
  return n;
}

// A Markdown table (readable in a terminal, pastes into RESULTS.md).
std::string markdown(const Table& table) {
  std::vector<std::size_t> widths(table[0].size(), 0);
  for (const auto& row : table) {
    for (std::size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], display_width(row[c]));
  }
  std::string out;
  for (std::size_t r = 0; r < table.size(); ++r) {
    out += "|";
    for (std::size_t c = 0; c < table[r].size(); ++c) {
      out += " " + table[r][c] + std::string(widths[c] - display_width(table[r][c]), ' ') + " |";
    }
    out += "\n";
    if (r == 0) {
      out += "|";
      for (std::size_t c = 0; c < widths.size(); ++c) out += std::string(widths[c] + 2, '-') + "|";
      out += "\n";
    }
  }
  return out;
}

}  // namespace

std::string write_summary(const SweepConfig& config, const fs::path& out_dir) {
  const Groups groups = collect_runs(config, out_dir);
  std::string out = markdown(write_csv(groups, out_dir));
  const Table discovery = context_discovery_table(groups);
  if (discovery.size() > 1) {
    out += "\nTask boundaries found in training (context_at_train: on-change):\n\n" +
           markdown(discovery);
  }
  return out;
}

}  // namespace locus::bench
