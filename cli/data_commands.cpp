// `locus data info [PATH]`: what an MNIST-format data set (or one IDX file) holds.

#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "envs/data/idx.hpp"

namespace locus::cli {

namespace {

namespace data = envs::data;

std::string shape_text(const std::vector<std::int64_t>& dims) {
  std::string out;
  for (const auto d : dims) out += (out.empty() ? "" : " x ") + std::to_string(d);
  return out;
}

std::string counts_text(const std::vector<std::int64_t>& counts) {
  std::string out;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    out += (c ? ", " : "") + std::to_string(c) + ": " + std::to_string(counts[c]);
  }
  return out;
}

// A directory: every split it has, read in full (so that a corrupt file is reported).
void info_of_directory(const std::filesystem::path& dir, bool json) {
  nlohmann::json report = {{"path", dir.string()}, {"splits", nlohmann::json::object()}};
  std::vector<std::string> lines;
  for (const data::Split split : {data::Split::kTrain, data::Split::kTest}) {
    const auto files = data::find_split_files(dir, split);
    if (!files) continue;
    const data::ImageDataset dataset = data::load_idx_pair(files->images, files->labels);
    const auto counts = dataset.class_counts();
    const std::string name(data::split_name(split));
    report["splits"][name] = {{"count", dataset.count},
                              {"shape", {dataset.count, dataset.rows, dataset.cols}},
                              {"dtype", "uint8"},
                              {"classes", dataset.num_classes()},
                              {"class_counts", counts},
                              {"images", files->images.string()},
                              {"labels", files->labels.string()}};
    lines.push_back(fmt::format("  {:<5} {} images of {} x {} uint8, {} classes ({} and {})", name,
                                dataset.count, dataset.rows, dataset.cols, dataset.num_classes(),
                                files->images.filename().string(),
                                files->labels.filename().string()));
    lines.push_back(fmt::format("        per class: {}", counts_text(counts)));
  }
  if (report["splits"].empty()) {
    throw data::DataError("'" + dir.string() +
                          "' holds no MNIST-format split: looked for train-images-idx3-ubyte"
                          "[.gz] / train-labels-idx1-ubyte[.gz] and t10k-images-idx3-ubyte[.gz] "
                          "/ t10k-labels-idx1-ubyte[.gz]");
  }
  if (json) {
    fmt::print("{}\n", report.dump());
    return;
  }
  fmt::print("{}\n", dir.string());
  for (const auto& line : lines) fmt::print("{}\n", line);
}

// One IDX file: its element type and shape, and class counts when it holds labels.
void info_of_file(const std::filesystem::path& path, bool json) {
  const data::IdxArray array = data::read_idx(path);
  nlohmann::json report = {{"path", path.string()},
                           {"dtype", std::string(data::idx_type_name(array.type))},
                           {"shape", array.dims},
                           {"gzip", array.gzip}};
  std::string per_class;
  if (array.type == data::IdxType::kUInt8 && array.dims.size() == 1) {
    data::ImageDataset labels;
    labels.labels.resize(array.data.size());
    for (std::size_t i = 0; i < array.data.size(); ++i) {
      labels.labels[i] = static_cast<std::uint8_t>(array.data[i]);
    }
    report["classes"] = labels.num_classes();
    report["class_counts"] = labels.class_counts();
    per_class = counts_text(labels.class_counts());
  }
  if (json) {
    fmt::print("{}\n", report.dump());
    return;
  }
  fmt::print("{}\n  {} {}{}\n", path.string(), std::string(data::idx_type_name(array.type)),
             shape_text(array.dims), array.gzip ? " (gzip)" : "");
  if (!per_class.empty()) fmt::print("  per class: {}\n", per_class);
}

}  // namespace

Command add_data_command(CLI::App& app) {
  auto* sub = app.add_subcommand("data", "Inspect data sets (MNIST-format IDX files)");
  sub->require_subcommand(1);
  auto* info = sub->add_subcommand(
      "info", "Shape, classes and counts per split of an MNIST-format directory or an IDX file");
  auto path = std::make_shared<std::string>(data::default_data_dir().string());
  auto json = std::make_shared<bool>(false);
  info->add_option("path", *path, "Directory or IDX file (.gz or plain)")->capture_default_str();
  info->add_flag("--json", *json, "Print one JSON object");
  return {sub, [info, path, json] {
            if (!info->parsed()) return;
            std::error_code ec;
            if (std::filesystem::is_directory(*path, ec)) {
              info_of_directory(*path, *json);
            } else if (std::filesystem::exists(*path, ec)) {
              info_of_file(*path, *json);
            } else {
              throw data::DataError("'" + *path + "' does not exist");
            }
          }};
}

}  // namespace locus::cli
