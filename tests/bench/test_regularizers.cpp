// SI, MAS, LwF and A-GEM checked by hand on small cases: SI's path integral and importance after
// known SGD steps, MAS's importance on a two-weight model, LwF's distillation loss and gradient
// against a direct KL and finite differences, A-GEM's projection; the `method` presets; and, in
// the learner, each method keeping more of the earlier tasks than fine-tuning does.

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "bench/harness/continual.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/methods/agem.hpp"
#include "bench/harness/methods/lwf.hpp"
#include "bench/harness/methods/mas.hpp"
#include "bench/harness/methods/method_presets.hpp"
#include "bench/harness/methods/synaptic_intelligence.hpp"
#include "bench/harness/metrics.hpp"
#include "bench/harness/run_settings.hpp"
#include "bench/harness/supervised.hpp"
#include "neuromod/losses.hpp"
#include "neuromod/presets.hpp"
#include "tests/bench/small_stream.hpp"
#include "tests/bench/two_weight_model.hpp"

using namespace locus::bench;
namespace nm = locus::neuromod;
namespace two_weight = locus::testing::two_weight;

namespace {

using two_weight::minibatch;
using two_weight::weight_name;

// One SGD step of the mean cross-entropy on `batch`; returns the gradient it took.
std::vector<float> sgd_step(nm::Network& network, const Minibatch& batch,
                            SynapticIntelligence& si) {
  nm::Matrix gradient;
  nm::softmax_cross_entropy(network.forward(batch.inputs).front(), batch.labels, &gradient);
  network.zero_grad();
  network.backward(gradient);
  si.record_gradient(network);
  auto g = network.read_gradient(weight_name(network));
  network.step();
  si.record_step(network);
  return g;
}

}  // namespace

TEST_CASE("SI's path integral and importance after known SGD steps", "[bench][si]") {
  const float lr = 0.1f;
  auto network = two_weight::model(lr);
  const std::string name = weight_name(*network);
  SynapticIntelligence si({.c = 2.0, .xi = 0.01});
  si.begin_task(*network);
  const auto start = network->read_parameter(name);
  const Minibatch batch = minibatch({1.0f, -0.5f, 2.0f}, {0, 1, 1});
  // With SGD, delta = -lr g, so each step adds -g x delta = lr g^2.
  std::vector<double> omega(2, 0.0);
  for (int step = 0; step < 3; ++step) {
    const auto g = sgd_step(*network, batch, si);
    REQUIRE((g[0] != 0.0f && g[1] != 0.0f));
    for (std::size_t j = 0; j < 2; ++j) omega[j] += lr * double(g[j]) * g[j];
  }
  for (std::size_t j = 0; j < 2; ++j) {
    CHECK(si.path_integral()[0][j] == Approx(omega[j]).epsilon(1e-5));
  }
  si.end_task(*network);
  const auto end = network->read_parameter(name);
  const auto& tensor = si.terms().at(0).at(0);
  for (std::size_t j = 0; j < 2; ++j) {
    const double delta = double(end[j]) - start[j];
    CHECK(tensor.importance[j] == Approx(omega[j] / (delta * delta + 0.01)).epsilon(1e-4));
    CHECK(tensor.anchor[j] == end[j]);
  }
  // The penalty c sum Omega d^2, and its gradient 2 c Omega d.
  const std::vector<float> moved = {end[0] + 0.5f, end[1] - 0.25f};
  network->write_parameter(name, nm::kSharedContext, moved);
  const double d[2] = {0.5, -0.25};
  CHECK(si.penalty(*network) ==
        Approx(2.0 * (tensor.importance[0] * d[0] * d[0] + tensor.importance[1] * d[1] * d[1]))
            .epsilon(1e-5));
  network->zero_grad();
  si.add_penalty_gradient(*network);
  const auto gradient = network->read_gradient(name);
  for (std::size_t j = 0; j < 2; ++j) {
    CHECK(gradient[j] == Approx(2.0 * 2.0 * tensor.importance[j] * d[j]).epsilon(1e-5));
  }
  // A second task adds its importance to the first's (one running term).
  si.begin_task(*network);
  sgd_step(*network, minibatch({0.5f}, {0}), si);
  const auto first = tensor.importance;
  si.end_task(*network);
  REQUIRE(si.terms().size() == 1);
  CHECK(si.terms()[0][0].importance[0] != first[0]);
}

TEST_CASE("MAS's importance on a two-weight model, and its running average", "[bench][mas]") {
  auto network = two_weight::model();
  const std::string name = weight_name(*network);
  const auto w = network->read_parameter(name);
  // ||f(x)||^2 = (w0^2 + w1^2) x^2, so d/dw_j of its minibatch mean is 2 w_j mean(x^2).
  const std::vector<Minibatch> batches = {minibatch({1.0f, -0.5f, 2.0f}, {0, 1, 1}),
                                          minibatch({0.3f, 1.5f}, {1, 0})};
  const double mean_x2[2] = {(1.0 + 0.25 + 4.0) / 3.0, (0.09 + 2.25) / 2.0};
  Mas mas({.lambda = 3.0, .alpha = 0.25});
  mas.consolidate(*network, batches);
  const auto& tensor = mas.terms().at(0).at(0);
  std::vector<double> expected(2);
  for (std::size_t j = 0; j < 2; ++j) {
    expected[j] = (std::abs(2.0 * w[j] * mean_x2[0]) + std::abs(2.0 * w[j] * mean_x2[1])) / 2.0;
    CHECK(tensor.importance[j] == Approx(expected[j]).epsilon(1e-5));
  }
  CHECK(network->read_parameter(name) == w);
  // The penalty lambda sum Omega d^2.
  const std::vector<float> moved = {w[0] + 0.5f, w[1]};
  network->write_parameter(name, nm::kSharedContext, moved);
  CHECK(mas.penalty(*network) == Approx(3.0 * expected[0] * 0.25).epsilon(1e-5));
  // A second task: Omega <- alpha Omega + (1 - alpha) Omega_new, anchored at the new weights.
  const std::vector<Minibatch> second = {minibatch({1.0f}, {0})};
  mas.consolidate(*network, second);
  REQUIRE(mas.terms().size() == 1);
  const double new_first = 2.0 * std::abs(double(moved[0]));
  CHECK(mas.terms()[0][0].importance[0] ==
        Approx(0.25 * expected[0] + 0.75 * new_first).epsilon(1e-5));
  CHECK(mas.terms()[0][0].anchor == moved);
  CHECK_THROWS_WITH(Mas({.lambda = 1.0, .alpha = 1.5}), Catch::Contains("mas_alpha"));
}

TEST_CASE("LwF's distillation loss is the KL of the tempered softmaxes, its gradient exact",
          "[bench][lwf]") {
  nm::Matrix student({2, 3}), teacher({2, 3});
  const float s[6] = {0.2f, -1.0f, 0.7f, 1.5f, 0.1f, -0.3f};
  const float t[6] = {1.0f, 0.0f, -0.5f, -0.2f, 0.4f, 0.9f};
  for (std::size_t i = 0; i < 6; ++i) {
    student.data()[i] = s[i];
    teacher.data()[i] = t[i];
  }
  const std::vector<std::size_t> units = {0, 2};  // distilled on two of the three units
  const double temperature = 2.0, alpha = 0.5;
  const auto kl = [&](const nm::Matrix& z) {
    double total = 0.0;
    for (std::size_t r = 0; r < 2; ++r) {
      double zs = 0.0, zt = 0.0;
      for (const auto u : units) {
        zs += std::exp(z(r, u) / temperature);
        zt += std::exp(teacher(r, u) / temperature);
      }
      for (const auto u : units) {
        const double p = std::exp(z(r, u) / temperature) / zs;
        const double q = std::exp(teacher(r, u) / temperature) / zt;
        total += q * std::log(q / p);
      }
    }
    return total / 2.0;
  };
  nm::Matrix gradient({2, 3});
  gradient.fill(0.0f);
  const double loss = distillation_loss(student, teacher, 2, units, temperature, alpha, gradient);
  CHECK(loss == Approx(kl(student)).epsilon(1e-6));
  CHECK(loss > 0.0);
  // alpha x dKL/dz by central differences; the unit not distilled gets nothing.
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t u = 0; u < 3; ++u) {
      nm::Matrix up = student, down = student;
      up(r, u) += 1e-3f;
      down(r, u) -= 1e-3f;
      const double numeric = alpha * (kl(up) - kl(down)) / 2e-3;
      CHECK(gradient(r, u) == Approx(numeric).margin(1e-4));
    }
    CHECK(gradient(r, 1) == 0.0f);
  }
  CHECK_THROWS_WITH(distillation_loss(student, teacher, 3, units, 2.0, 1.0, gradient),
                    Catch::Contains("rows"));
}

TEST_CASE("A-GEM's projection removes the part of g that opposes the reference", "[bench][agem]") {
  std::vector<float> g = {1.0f, 0.0f};
  const std::vector<float> reference = {-1.0f, 1.0f};
  // g . ref = -1, ref . ref = 2: g - (-1/2) ref = (0.5, 0.5), orthogonal to ref.
  CHECK(project_gradient(g, reference));
  CHECK(g[0] == Approx(0.5f));
  CHECK(g[1] == Approx(0.5f));
  std::vector<float> agreeing = {1.0f, 2.0f};
  CHECK_FALSE(project_gradient(agreeing, reference));
  CHECK(agreeing == std::vector<float>{1.0f, 2.0f});
  // On a network: the projected gradient no longer opposes the memory's.
  auto network = two_weight::model();
  const std::string name = weight_name(*network);
  Agem agem;
  const Minibatch memory = minibatch({1.0f, 2.0f}, {0, 0});
  agem.compute_reference(*network, memory);
  nm::Matrix gradient;
  const Minibatch current = minibatch({1.0f, 2.0f}, {1, 1});  // the opposite labels
  nm::softmax_cross_entropy(network->forward(current.inputs).front(), current.labels, &gradient);
  network->zero_grad();
  network->backward(gradient);
  const auto before = network->read_gradient(name);
  REQUIRE(agem.project(*network));
  const auto after = network->read_gradient(name);
  CHECK(after != before);
  // The reference gradient, by the same route, to check the dot product.
  auto twin = two_weight::model();
  nm::softmax_cross_entropy(twin->forward(memory.inputs).front(), memory.labels, &gradient);
  twin->zero_grad();
  twin->backward(gradient);
  const auto ref = twin->read_gradient(name);
  CHECK(after[0] * ref[0] + after[1] * ref[1] == Approx(0.0).margin(1e-6));
  CHECK(agem.projections() == 1);
}

TEST_CASE("a method's name fills in its settings, and what a run sets wins", "[bench][methods]") {
  const auto ewc = with_method_defaults({{"method", "ewc"}});
  CHECK(ewc.at("ewc_lambda") == 10000.0);
  const auto tuned = with_method_defaults({{"method", "ewc"}, {"ewc_lambda", 500.0}});
  CHECK(tuned.at("ewc_lambda") == 500.0);
  CHECK(with_method_defaults({{"lr", 0.1}}) == nlohmann::json{{"lr", 0.1}});
  CHECK_THROWS_WITH(
      with_method_defaults({{"method", "ewk"}}),
      Catch::Contains("unknown method 'ewk'") && Catch::Contains("did you mean 'ewc'"));
  // Every preset names only real settings, and parses into a run.
  for (const auto& preset : method_presets()) {
    CAPTURE(preset.name);
    nlohmann::json settings = {{"method", preset.name}, {"train_per_task", 256}, {"hidden", {16}}};
    const SupervisedConfig config = supervised_config(settings, 0);
    if (preset.name == "agem") CHECK(config.agem);
    if (preset.name == "joint") CHECK((config.joint_offline && config.stream.joint));
    if (preset.name == "si") CHECK(config.regularizers.si.c > 0.0);
  }
}

TEST_CASE("joint training sees every task from the first iteration", "[continual][joint]") {
  nlohmann::json settings = {{"stream", "split"},    {"scenario", "task-incremental"},
                             {"num_tasks", 3},       {"train_per_task", 512},
                             {"eval_per_task", 100}, {"batch_size", 32},
                             {"hidden", {64}},       {"lr", 0.05}};
  const Schedule schedule{.iterations_per_task = 60, .eval_every = 60};
  nlohmann::json joint = settings;
  joint["method"] = "joint";
  SupervisedLearner fine_tuned(supervised_config(settings, 0));
  SupervisedLearner all_at_once(supervised_config(joint, 0));
  const auto naive_matrix = run_continual(fine_tuned, schedule).matrix;
  const auto joint_matrix = run_continual(all_at_once, schedule).matrix;
  // After the first task's iterations, the last task (not trained yet by fine-tuning) is already
  // learned by joint training.
  CAPTURE(naive_matrix[0][2], joint_matrix[0][2]);
  CHECK(joint_matrix[0][2] > naive_matrix[0][2] + 0.2);
  CHECK_THROWS_WITH(supervised_config({{"joint_offline", true}, {"replay_memory", 10}}, 0),
                    Catch::Contains("joint_offline"));
}

TEST_CASE("SI, MAS, LwF and A-GEM forget less than fine-tuning on the same stream",
          "[continual][regularizers]") {
  // Split Fashion-MNIST, task-incremental, 3 tasks, an MLP of 64, seeds 0-2 (small_stream.hpp).
  // Measured: fine-tuning forgets 0.230, SI (c 10, xi 0.1) 0.132 (0.208 at c 1), MAS (lambda 2)
  // 0.100, LwF (alpha 10) 0.072, A-GEM (memory 200) 0.050.
  const auto forgetting = locus::testing::small_stream::mean_forgetting;
  const double naive = forgetting(nlohmann::json::object());
  const double si = forgetting({{"method", "si"}, {"si_lambda", 10.0}, {"si_xi", 0.1}});
  const double mas = forgetting({{"method", "mas"}, {"mas_lambda", 2.0}});
  const double lwf = forgetting({{"method", "lwf"}, {"lwf_alpha", 10.0}});
  const double agem = forgetting({{"method", "agem"}, {"replay_memory", 200}});
  CAPTURE(naive, si, mas, lwf, agem);
  CHECK(si < naive - 0.03);
  CHECK(mas < naive - 0.03);
  CHECK(lwf < naive - 0.03);
  CHECK(agem < naive - 0.03);
}

TEST_CASE("every method preset runs on Split, Permuted and Rotated Fashion-MNIST",
          "[continual][methods]") {
  for (const char* stream : {"split", "permuted", "rotated"}) {
    for (const auto& preset : method_presets()) {
      CAPTURE(stream, preset.name);
      nlohmann::json settings = {{"method", preset.name},
                                 {"stream", stream},
                                 {"scenario", "task-incremental"},
                                 {"num_tasks", std::string(stream) == "rotated" ? 0 : 2},
                                 {"train_per_task", 64},
                                 {"eval_per_task", 20},
                                 {"batch_size", 16},
                                 {"hidden", {16}},
                                 {"replay_memory", 32},
                                 {"replay_batch", 8}};
      if (preset.name == "naive" || preset.name == "cumulative" || preset.name == "joint" ||
          preset.settings.contains("packnet_prune") || preset.settings.contains("xdg_keep") ||
          !preset.settings.contains("replay_memory")) {
        settings.erase("replay_memory");
        settings.erase("replay_batch");
      }
      const auto config = supervised_config(settings, 0);
      SupervisedLearner learner(config);
      nlohmann::json schedule_settings = {{"iterations_per_task", 4}, {"eval_every", 4}};
      if (preset.settings.contains("packnet_prune")) schedule_settings["iterations_per_task"] = 24;
      const auto record = run_continual(learner, schedule_from_settings(schedule_settings));
      for (const auto& row : record.matrix) {
        for (const double accuracy : row) CHECK((accuracy >= 0.0 && accuracy <= 1.0));
      }
    }
  }
}
