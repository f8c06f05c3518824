// Dark experience replay's loss: its three blocks and their gradient, checked against finite
// differences of the loss itself (the learner's use of it: test_replay_learner.cpp).

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "bench/harness/errors.hpp"
#include "bench/harness/methods/dark_replay.hpp"

using namespace locus::bench;
namespace nm = locus::neuromod;

namespace {

nm::Matrix matrix(std::size_t rows, std::size_t cols, const std::vector<float>& values) {
  nm::Matrix m({rows, cols});
  std::copy(values.begin(), values.end(), m.data());
  return m;
}

}  // namespace

TEST_CASE("the dark replay loss is its blocks' weighted means, with their gradient",
          "[bench][replay][der]") {
  // 2 current rows, 2 logit-matched rows, 1 labelled row, 3 outputs.
  const nm::Matrix logits = matrix(5, 3,
                                   {0.2f, -0.1f, 0.5f, 1.0f, 0.0f, -1.0f, 0.3f, 0.3f, 0.1f, -0.4f,
                                    0.8f, 0.0f, 0.5f, -0.5f, 0.25f});
  const std::vector<std::int32_t> labels = {2, 0, -1, -1, 1};  // the matched rows' are unused
  const nm::Matrix stored = matrix(2, 3, {0.0f, 0.5f, 0.0f, -0.5f, 1.0f, 0.5f});
  const double alpha = 0.3, beta = 0.7;
  nm::Matrix gradient;
  const auto loss = dark_replay_loss(logits, labels, 2, stored, alpha, beta, gradient);
  // By hand: the matched block's squared error over its 6 elements.
  double squares = 0.0;
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t c = 0; c < 3; ++c) {
      const double d = logits(2 + r, c) - stored(r, c);
      squares += d * d;
    }
  }
  CHECK(loss.matched == Approx(squares / 6.0));
  CHECK(loss.total == Approx(loss.current + alpha * loss.matched + beta * loss.labelled));
  // The gradient against central differences of the total.
  const auto total_at = [&](const nm::Matrix& at) {
    nm::Matrix unused;
    return dark_replay_loss(at, labels, 2, stored, alpha, beta, unused).total;
  };
  for (std::size_t r = 0; r < 5; ++r) {
    for (std::size_t c = 0; c < 3; ++c) {
      nm::Matrix up = logits, down = logits;
      up(r, c) += 1e-2f;
      down(r, c) -= 1e-2f;
      const double numeric = (total_at(up) - total_at(down)) / 2e-2;
      CAPTURE(r, c);
      CHECK(gradient(r, c) == Approx(numeric).margin(2e-4));
    }
  }
}

TEST_CASE("blocks that do not fit the rows are refused", "[bench][replay][der]") {
  const nm::Matrix logits({3, 2});
  const std::vector<std::int32_t> labels = {0, 1, 0};
  nm::Matrix gradient;
  CHECK_THROWS_AS(dark_replay_loss(logits, labels, 2, nm::Matrix({2, 2}), 1, 1, gradient),
                  InvalidArgumentError);
  CHECK_THROWS_WITH(dark_replay_loss(logits, labels, 1, nm::Matrix({1, 3}), 1, 1, gradient),
                    Catch::Contains("logits are 2 wide"));
}
