// VectorEnv against Gymnasium 1.x's SyncVectorEnv on CartPole-v1, plus the properties that
// Gymnasium cannot show: determinism across thread counts, the internal time limit, the final
// observation buffers and the error messages.
//
// The reference trajectories below were produced with gymnasium 1.4.0 by
//   gym.make_vec("CartPole-v1", num_envs=3, vectorization_mode="sync",
//                vector_kwargs={"autoreset_mode": mode}) (and max_episode_steps=... for the
//                time-limit tables), reset(seed=42), then the actions named above each table,
// printing float32 observations with 9 significant digits. Observations are compared with a margin
// of 1e-5 (libm and numpy may differ by an ulp in sin/cos, which can move the last float32 bits
// after a few steps); rewards and flags exactly.

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "envs/registry.hpp"
#include "envs/vector_env.hpp"

using namespace locus::envs;

namespace {

struct Obs3 {
  float v[3][4];  // (env, element)
};
struct Flags3 {
  std::array<double, 3> reward;
  std::array<int, 3> terminated;
  std::array<int, 3> truncated;
};
struct FinalObs {
  int step;  // 1-based step after which env `env` ended
  int env;
  std::array<float, 4> obs;
};

// NextStep: reset(seed=42), then 11 x step([1, 1, 1])
const std::vector<Obs3> kNextStepObs = {
    {{{0.0273956042f, -0.00611215597f, 0.0358597934f, 0.0197368022f},
      {0.0152299264f, -0.045622468f, -0.0479970425f, 0.0339212567f},
      {-0.0377434492f, -0.0241886918f, -0.00942292716f, 0.0469183959f}}},
    {{{0.0272733625f, 0.188477665f, 0.0362545289f, -0.261419773f},
      {0.0143174771f, 0.150153741f, -0.047318615f, -0.273510575f},
      {-0.0382272229f, 0.171067104f, -0.00848455913f, -0.248722598f}}},
    {{{0.0310429148f, 0.383063853f, 0.0310261324f, -0.542450726f},
      {0.017320551f, 0.345917791f, -0.0527888276f, -0.580734491f},
      {-0.0348058827f, 0.366309196f, -0.013459011f, -0.544069588f}}},
    {{{0.0387041904f, 0.577736318f, 0.0201771185f, -0.82519871f},
      {0.0242389087f, 0.541738153f, -0.064403519f, -0.889568567f},
      {-0.027479697f, 0.561617672f, -0.0243404042f, -0.840962589f}}},
    {{{0.0502589196f, 0.772576571f, 0.00367314485f, -1.11146796f},
      {0.0350736715f, 0.73767215f, -0.0821948871f, -1.20178175f},
      {-0.0162473433f, 0.75706327f, -0.0411596559f, -1.14119959f}}},
    {{{0.0657104477f, 0.967650056f, -0.018556213f, -1.4029963f},
      {0.0498271137f, 0.933755159f, -0.10623052f, -1.51905143f},
      {-0.00110607815f, 0.95269835f, -0.063983649f, -1.44650114f}}},
    {{{0.08506345f, 1.16299748f, -0.0466161408f, -1.70142221f},
      {0.0685022175f, 1.12998903f, -0.136611551f, -1.84291601f},
      {0.017947888f, 1.14854634f, -0.0929136723f, -1.7584703f}}},
    {{{0.108323403f, 1.35862434f, -0.0806445852f, -2.0082438f},
      {0.0911019966f, 1.32632828f, -0.173469871f, -2.17471981f},
      {0.0409188159f, 1.34458971f, -0.12808308f, -2.07854438f}}},
    {{{0.135495886f, 1.55448794f, -0.120809466f, -2.3247683f},
      {0.117628567f, 1.52266407f, -0.216964275f, -2.51554823f},
      {0.0678106099f, 1.54075599f, -0.169653967f, -2.40793705f}}},
    {{{0.166585654f, 1.75048184f, -0.167304829f, -2.65204811f},
      {0.00871430431f, -0.0275294762f, 0.0251792278f, -0.0236307811f},
      {0.098625727f, 1.73690033f, -0.217812702f, -2.74756885f}}},
    {{{0.201595291f, 1.94641852f, -0.22034578f, -2.99080777f},
      {0.00816371478f, 0.1672225f, 0.0247066114f, -0.308264226f},
      {-0.0337682888f, 0.0357293673f, -0.0336954743f, -0.0162038058f}}},
    {{{-0.0405822657f, 0.0475622341f, 0.0261139702f, 0.0286064297f},
      {0.0115081649f, 0.361983865f, 0.0185413267f, -0.593054116f},
      {-0.0330536999f, 0.231317937f, -0.0340195484f, -0.319324732f}}},
};
const std::vector<Flags3> kNextStepFlags = {
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 1, 0}, {0, 0, 0}},
    {{1, 0, 1}, {0, 0, 1}, {0, 0, 0}}, {{1, 1, 0}, {1, 0, 0}, {0, 0, 0}},
    {{0, 1, 1}, {0, 0, 0}, {0, 0, 0}}};
// SameStep: reset(seed=42), then 10 x step([1, 1, 1]); final_obs where an env ended
const std::vector<Obs3> kSameStepObs = {
    {{{0.0273956042f, -0.00611215597f, 0.0358597934f, 0.0197368022f},
      {0.0152299264f, -0.045622468f, -0.0479970425f, 0.0339212567f},
      {-0.0377434492f, -0.0241886918f, -0.00942292716f, 0.0469183959f}}},
    {{{0.0272733625f, 0.188477665f, 0.0362545289f, -0.261419773f},
      {0.0143174771f, 0.150153741f, -0.047318615f, -0.273510575f},
      {-0.0382272229f, 0.171067104f, -0.00848455913f, -0.248722598f}}},
    {{{0.0310429148f, 0.383063853f, 0.0310261324f, -0.542450726f},
      {0.017320551f, 0.345917791f, -0.0527888276f, -0.580734491f},
      {-0.0348058827f, 0.366309196f, -0.013459011f, -0.544069588f}}},
    {{{0.0387041904f, 0.577736318f, 0.0201771185f, -0.82519871f},
      {0.0242389087f, 0.541738153f, -0.064403519f, -0.889568567f},
      {-0.027479697f, 0.561617672f, -0.0243404042f, -0.840962589f}}},
    {{{0.0502589196f, 0.772576571f, 0.00367314485f, -1.11146796f},
      {0.0350736715f, 0.73767215f, -0.0821948871f, -1.20178175f},
      {-0.0162473433f, 0.75706327f, -0.0411596559f, -1.14119959f}}},
    {{{0.0657104477f, 0.967650056f, -0.018556213f, -1.4029963f},
      {0.0498271137f, 0.933755159f, -0.10623052f, -1.51905143f},
      {-0.00110607815f, 0.95269835f, -0.063983649f, -1.44650114f}}},
    {{{0.08506345f, 1.16299748f, -0.0466161408f, -1.70142221f},
      {0.0685022175f, 1.12998903f, -0.136611551f, -1.84291601f},
      {0.017947888f, 1.14854634f, -0.0929136723f, -1.7584703f}}},
    {{{0.108323403f, 1.35862434f, -0.0806445852f, -2.0082438f},
      {0.0911019966f, 1.32632828f, -0.173469871f, -2.17471981f},
      {0.0409188159f, 1.34458971f, -0.12808308f, -2.07854438f}}},
    {{{0.135495886f, 1.55448794f, -0.120809466f, -2.3247683f},
      {0.00871430431f, -0.0275294762f, 0.0251792278f, -0.0236307811f},
      {0.0678106099f, 1.54075599f, -0.169653967f, -2.40793705f}}},
    {{{0.166585654f, 1.75048184f, -0.167304829f, -2.65204811f},
      {0.00816371478f, 0.1672225f, 0.0247066114f, -0.308264226f},
      {-0.0337682888f, 0.0357293673f, -0.0336954743f, -0.0162038058f}}},
    {{{-0.0405822657f, 0.0475622341f, 0.0261139702f, 0.0286064297f},
      {0.0115081649f, 0.361983865f, 0.0185413267f, -0.593054116f},
      {-0.0330536999f, 0.231317937f, -0.0340195484f, -0.319324732f}}},
};
const std::vector<Flags3> kSameStepFlags = {
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 1, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 1}, {0, 0, 0}}, {{1, 1, 1}, {1, 0, 0}, {0, 0, 0}}};
const std::vector<FinalObs> kSameStepFinals = {
    {8, 1, {0.117628567f, 1.52266407f, -0.216964275f, -2.51554823f}},
    {9, 2, {0.098625727f, 1.73690033f, -0.217812702f, -2.74756885f}},
    {10, 0, {0.201595291f, 1.94641852f, -0.22034578f, -2.99080777f}}};
// Disabled: reset(seed=42); 11 x {step([1, 1, 1]); reset(mask=ended) if any}; after step 4 also
// reset(seed=100, mask=[1, 0, 1]). Rows: observations after each step (and its resets).
const std::vector<Obs3> kDisabledObs = {
    {{{0.0273956042f, -0.00611215597f, 0.0358597934f, 0.0197368022f},
      {0.0152299264f, -0.045622468f, -0.0479970425f, 0.0339212567f},
      {-0.0377434492f, -0.0241886918f, -0.00942292716f, 0.0469183959f}}},
    {{{0.0272733625f, 0.188477665f, 0.0362545289f, -0.261419773f},
      {0.0143174771f, 0.150153741f, -0.047318615f, -0.273510575f},
      {-0.0382272229f, 0.171067104f, -0.00848455913f, -0.248722598f}}},
    {{{0.0310429148f, 0.383063853f, 0.0310261324f, -0.542450726f},
      {0.017320551f, 0.345917791f, -0.0527888276f, -0.580734491f},
      {-0.0348058827f, 0.366309196f, -0.013459011f, -0.544069588f}}},
    {{{0.0387041904f, 0.577736318f, 0.0201771185f, -0.82519871f},
      {0.0242389087f, 0.541738153f, -0.064403519f, -0.889568567f},
      {-0.027479697f, 0.561617672f, -0.0243404042f, -0.840962589f}}},
    {{{0.0334981643f, 0.00965540297f, -0.0211136751f, -0.0457048416f},
      {0.0350736715f, 0.73767215f, -0.0821948871f, -1.20178175f},
      {-0.0340008847f, 0.00859435182f, 0.0323836766f, -0.020273976f}}},
    {{{0.0336912721f, 0.205073655f, -0.0220277719f, -0.344973832f},
      {0.0498271137f, 0.933755159f, -0.10623052f, -1.51905143f},
      {-0.0338289998f, 0.20323728f, 0.0319781974f, -0.302566141f}}},
    {{{0.0377927423f, 0.400501907f, -0.0289272498f, -0.64452076f},
      {0.0685022175f, 1.12998903f, -0.136611551f, -1.84291601f},
      {-0.0297642536f, 0.397889227f, 0.025926875f, -0.584994793f}}},
    {{{0.0458027832f, 0.596014798f, -0.0418176651f, -0.946170807f},
      {0.0911019966f, 1.32632828f, -0.173469871f, -2.17471981f},
      {-0.0218064692f, 0.592638612f, 0.0142269786f, -0.869399011f}}},
    {{{0.0577230789f, 0.791674256f, -0.0607410818f, -1.2516942f},
      {0.00871430431f, -0.0275294762f, 0.0251792278f, -0.0236307811f},
      {-0.00995369628f, 0.787564158f, -0.00316100172f, -1.15757513f}}},
    {{{0.0735565647f, 0.987519562f, -0.0857749656f, -1.56276739f},
      {0.00816371478f, 0.1672225f, 0.0247066114f, -0.308264226f},
      {0.0057975864f, 0.98272717f, -0.0263125058f, -1.45124757f}}},
    {{{0.0933069587f, 1.1835562f, -0.117030315f, -1.88092828f},
      {0.0115081649f, 0.361983865f, 0.0185413267f, -0.593054116f},
      {0.0254521295f, 1.17816234f, -0.0553374551f, -1.75203383f}}},
    {{{0.116978079f, 1.37974262f, -0.15464887f, -2.20752311f},
      {0.0187478419f, 0.556841433f, 0.00668024458f, -0.879839361f},
      {0.0490153767f, 1.3738668f, -0.0903781354f, -2.06140208f}}},
};
const std::vector<Flags3> kDisabledFlags = {
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 1, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}};
// make_vec(max_episode_steps=10), NextStep, reset(seed=42), 12 steps of action 1
const std::vector<Flags3> kTimeLimit10Flags = {
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 1, 0}, {0, 0, 0}},
    {{1, 0, 1}, {0, 0, 1}, {0, 0, 0}}, {{1, 1, 0}, {1, 0, 0}, {1, 0, 0}},
    {{0, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}};
const Obs3 kTimeLimit10LastObs = {{{-0.0396310203f, 0.242300153f, 0.0266860984f, -0.255724221f},
                                   {0.0187478419f, 0.556841433f, 0.00668024458f, -0.879839361f},
                                   {-0.028427342f, 0.42690748f, -0.0404060446f, -0.622539103f}}};
// make_vec(max_episode_steps=5), NextStep, reset(seed=42), 12 steps of action t % 2
const std::vector<Flags3> kTimeLimit5Flags = {
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {1, 1, 1}}, {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}}, {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}},
    {{1, 1, 1}, {0, 0, 0}, {1, 1, 1}}, {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}};
const Obs3 kTimeLimit5LastObs = {{{-0.037188638f, -0.00496140635f, -0.012920198f, 0.0426764973f},
                                  {-0.00800220948f, -0.0048968615f, 0.0455314592f, 0.0391901657f},
                                  {0.0177722815f, 0.0116534168f, 0.0454936177f, -0.00885992218f}}};

constexpr float kObsMargin = 1e-5f;

void require_obs(const VectorEnv& venv, const Obs3& want) {
  const auto obs = venv.observations<float>();
  REQUIRE(obs.size() == 12);
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t k = 0; k < 4; ++k) {
      INFO("env " << i << " element " << k);
      REQUIRE(obs[i * 4 + k] == Approx(want.v[i][k]).margin(kObsMargin));
    }
  }
}

void require_flags(const VectorEnv& venv, const Flags3& want) {
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("env " << i);
    REQUIRE(venv.rewards()[i] == want.reward[i]);
    REQUIRE(venv.terminations()[i] == want.terminated[i]);
    REQUIRE(venv.truncations()[i] == want.truncated[i]);
  }
}

const std::vector<std::int64_t> kOnes = {1, 1, 1};

// Observation Box(2) float32 = [steps since reset, last action]; action Box(1) float32 in [-1, 1];
// reward = the action; terminates after `length` steps. Info: "t" on step, "reset" on reset.
class CounterEnv final : public Env {
 public:
  explicit CounterEnv(int length) : length_(length) {
    set_observation_space(std::make_shared<Box>(-1000.0, 1000.0, Shape{2}, DType::kFloat32));
    set_action_space(std::make_shared<Box>(-1.0, 1.0, Shape{1}, DType::kFloat32));
  }
  std::string name() const override { return "CounterEnv"; }

 protected:
  void reset_impl(std::optional<std::uint64_t>, const Kwargs&, std::span<std::byte> observation,
                  Info& info) override {
    t_ = 0;
    write(observation, 0.0f);
    info.set("reset", true);
  }
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override {
    const float a = as_span<const float>(action)[0];
    ++t_;
    write(observation, a);
    info.set("t", static_cast<std::int64_t>(t_));
    return {static_cast<double>(a), t_ >= length_, false};
  }

 private:
  void write(std::span<std::byte> observation, float a) const {
    auto obs = as_span<float>(observation);
    obs[0] = static_cast<float>(t_);
    obs[1] = a;
  }
  int length_;
  int t_ = 0;
};

VectorEnv counter_vec(std::size_t n, VectorEnvOptions options = {}) {
  return VectorEnv(
      [](std::size_t i) { return std::make_unique<CounterEnv>(static_cast<int>(i) + 2); }, n,
      options);
}

}  // namespace

TEST_CASE("VectorEnv NextStep autoreset matches Gymnasium's SyncVectorEnv", "[vector]") {
  auto venv = make_vec("CartPole-v1", 3);
  REQUIRE(venv.autoreset_mode() == AutoresetMode::kNextStep);
  venv.reset(42);
  require_obs(venv, kNextStepObs[0]);
  for (std::size_t t = 0; t < kNextStepFlags.size(); ++t) {
    INFO("step " << t + 1);
    venv.step(std::span<const std::int64_t>(kOnes));
    require_obs(venv, kNextStepObs[t + 1]);
    require_flags(venv, kNextStepFlags[t]);
    for (std::size_t i = 0; i < 3; ++i) REQUIRE_FALSE(venv.has_final(i));
  }
  // Envs 1, 2 and 0 ended on steps 8, 9 and 10 and were reset on the step after.
  REQUIRE(venv.elapsed_steps(0) == 0);
  REQUIRE(venv.elapsed_steps(1) == 2);
  REQUIRE(venv.elapsed_steps(2) == 1);
}

TEST_CASE("VectorEnv NextStep ignores the action of an env being reset", "[vector]") {
  auto venv = make_vec("CartPole-v1", 3);
  venv.reset(42);
  for (int t = 0; t < 8; ++t) venv.step(std::span<const std::int64_t>(kOnes));
  REQUIRE(venv.terminations()[1] == 1);
  // Env 1 resets on this step, so its action is not used (nor checked, as in Gymnasium).
  const std::vector<std::int64_t> actions = {1, 7, 1};
  venv.step(std::span<const std::int64_t>(actions));
  require_obs(venv, kNextStepObs[9]);
  require_flags(venv, kNextStepFlags[8]);
}

TEST_CASE("VectorEnv SameStep autoreset matches Gymnasium's SyncVectorEnv", "[vector]") {
  auto venv =
      make_vec("CartPole-v1", 3, Kwargs::object(), {.autoreset_mode = AutoresetMode::kSameStep});
  venv.reset(42);
  require_obs(venv, kSameStepObs[0]);
  for (std::size_t t = 0; t < kSameStepFlags.size(); ++t) {
    INFO("step " << t + 1);
    venv.step(std::span<const std::int64_t>(kOnes));
    require_obs(venv, kSameStepObs[t + 1]);
    require_flags(venv, kSameStepFlags[t]);
    const auto finals = venv.final_observations<float>();
    REQUIRE(finals.size() == 12);
    for (std::size_t i = 0; i < 3; ++i) {
      const FinalObs* want = nullptr;
      for (const auto& f : kSameStepFinals) {
        if (f.step == static_cast<int>(t + 1) && f.env == static_cast<int>(i)) want = &f;
      }
      REQUIRE(venv.has_final(i) == (want != nullptr));
      REQUIRE(venv.final_mask()[i] == (want != nullptr ? 1 : 0));
      if (want == nullptr) continue;
      for (std::size_t k = 0; k < 4; ++k) {
        REQUIRE(finals[i * 4 + k] == Approx(want->obs[k]).margin(kObsMargin));
      }
    }
  }
}

TEST_CASE("VectorEnv Disabled mode with reset masks matches Gymnasium's SyncVectorEnv",
          "[vector]") {
  auto venv =
      make_vec("CartPole-v1", 3, Kwargs::object(), {.autoreset_mode = AutoresetMode::kDisabled});
  venv.reset(42);
  require_obs(venv, kDisabledObs[0]);
  for (std::size_t t = 0; t < kDisabledFlags.size(); ++t) {
    INFO("step " << t + 1);
    venv.step(std::span<const std::int64_t>(kOnes));
    require_flags(venv, kDisabledFlags[t]);
    std::array<std::uint8_t, 3> ended{};
    bool any = false;
    for (std::size_t i = 0; i < 3; ++i) {
      ended[i] = venv.terminations()[i] | venv.truncations()[i];
      any = any || ended[i] != 0;
    }
    if (any) {
      // Stepping an env that ended, before resetting it, is an error naming that env.
      REQUIRE_THROWS_AS(venv.step(std::span<const std::int64_t>(kOnes)), ResetNeededError);
      REQUIRE_THROWS_WITH(venv.step(std::span<const std::int64_t>(kOnes)),
                          Catch::Contains("env 1 ended"));
      venv.reset(std::nullopt, Kwargs::object(), ended);
      for (std::size_t i = 0; i < 3; ++i) {
        if (ended[i] == 0) continue;
        REQUIRE(venv.terminations()[i] == 0);
        REQUIRE(venv.truncations()[i] == 0);
      }
    }
    if (t + 1 == 4) {
      const std::array<std::uint8_t, 3> mask = {1, 0, 1};
      venv.reset(100, Kwargs::object(), mask);
    }
    require_obs(venv, kDisabledObs[t + 1]);
  }
}

TEST_CASE("VectorEnv applies the time limit as TimeLimit does", "[vector]") {
  SECTION("terminated and truncated on the same step are both reported") {
    auto venv = make_vec("CartPole-v1", 3, {{"max_episode_steps", 10}});
    REQUIRE(venv.max_episode_steps() == 10);
    REQUIRE(venv.env(0).spec()->max_episode_steps == 10);
    venv.reset(42);
    for (std::size_t t = 0; t < kTimeLimit10Flags.size(); ++t) {
      INFO("step " << t + 1);
      venv.step(std::span<const std::int64_t>(kOnes));
      require_flags(venv, kTimeLimit10Flags[t]);
    }
    require_obs(venv, kTimeLimit10LastObs);
  }
  SECTION("truncation alone, then the reset on the next step") {
    auto venv = make_vec("CartPole-v1", 3, Kwargs::object(), {.max_episode_steps = 5});
    venv.reset(42);
    for (std::size_t t = 0; t < kTimeLimit5Flags.size(); ++t) {
      INFO("step " << t + 1);
      const std::int64_t a = static_cast<std::int64_t>(t % 2);
      const std::vector<std::int64_t> actions = {a, a, a};
      venv.step(std::span<const std::int64_t>(actions));
      require_flags(venv, kTimeLimit5Flags[t]);
    }
    require_obs(venv, kTimeLimit5LastObs);
  }
  SECTION("on envs given to the constructor") {
    auto venv = counter_vec(2, {.max_episode_steps = 3});
    venv.reset();
    const std::vector<float> actions = {0.5f, 0.5f};
    venv.step(std::span<const float>(actions));  // env 0 (length 2) goes on
    venv.step(std::span<const float>(actions));  // env 0 terminates; env 1 (length 3) goes on
    REQUIRE(venv.terminations()[0] == 1);
    REQUIRE(venv.truncations()[0] == 0);
    venv.step(std::span<const float>(actions));  // env 1 terminates and hits the limit
    REQUIRE(venv.terminations()[1] == 1);
    REQUIRE(venv.truncations()[1] == 1);
    REQUIRE(venv.elapsed_steps(1) == 3);
  }
}

TEST_CASE("VectorEnv seeds env i with seed + i and does not reseed without a seed", "[vector]") {
  constexpr std::size_t kN = 5;
  auto venv = make_vec("CartPole-v1", kN);
  venv.reset(1234);
  std::vector<float> first(venv.observations<float>().begin(), venv.observations<float>().end());
  venv.reset();
  const auto second = venv.observations<float>();
  for (std::size_t i = 0; i < kN; ++i) {
    auto env = make("CartPole-v1");
    const Value first_value = env->reset(1234 + i).observation;
    const Value second_value = env->reset().observation;
    const auto want_first = first_value.array().as<float>();
    const auto want_second = second_value.array().as<float>();
    for (std::size_t k = 0; k < 4; ++k) {
      INFO("env " << i << " element " << k);
      REQUIRE(first[i * 4 + k] == want_first[k]);
      REQUIRE(second[i * 4 + k] == want_second[k]);
    }
  }
}

TEST_CASE("VectorEnv results are bit-identical whatever the number of threads", "[vector]") {
  constexpr std::size_t kN = 64;
  constexpr int kSteps = 1000;
  for (const AutoresetMode mode : {AutoresetMode::kNextStep, AutoresetMode::kSameStep}) {
    INFO("autoreset mode " << to_string(mode));
    // Everything the VectorEnv exposes after each step, appended byte for byte.
    auto run = [&](std::size_t threads, std::size_t grain) {
      auto venv = make_vec("CartPole-v1", kN, Kwargs::object(),
                           {.autoreset_mode = mode, .num_threads = threads, .grain_size = grain});
      REQUIRE(venv.num_threads() <= threads);
      venv.action_space().seed(2024);
      std::vector<std::byte> actions(venv.action_space().packed_bytes());
      std::vector<std::byte> trace;
      auto append = [&trace](auto span) {
        const auto bytes = std::as_bytes(span);
        trace.insert(trace.end(), bytes.begin(), bytes.end());
      };
      std::size_t episodes = 0;
      venv.reset(7);
      for (int t = 0; t < kSteps; ++t) {
        venv.action_space().sample_packed(actions);
        venv.step(std::span<const std::byte>(actions));
        append(venv.observation_bytes());
        append(venv.rewards());
        append(venv.terminations());
        append(venv.truncations());
        append(venv.final_mask());
        append(venv.final_observation_bytes());
        for (std::size_t i = 0; i < kN; ++i) episodes += venv.terminations()[i];
      }
      REQUIRE(episodes > 1000);  // random actions end an episode every ~20 steps
      return trace;
    };
    const auto serial = run(1, 0);
    REQUIRE(run(2, 0) == serial);
    REQUIRE(run(2, 3) == serial);  // many small chunks
    REQUIRE(run(4, 5) == serial);
  }
}

TEST_CASE("VectorEnv SameStep keeps the final info and returns the reset info", "[vector]") {
  auto venv = counter_vec(3, {.autoreset_mode = AutoresetMode::kSameStep, .num_threads = 1});
  venv.reset();
  REQUIRE(venv.info(0).get_bool("reset"));
  const std::vector<float> actions = {0.25f, -0.5f, 1.0f};
  venv.step(std::span<const float>(actions));
  REQUIRE(venv.info(0).get_int("t") == 1);
  REQUIRE_FALSE(venv.has_final(0));
  REQUIRE_THROWS_AS(venv.final_info(0), InvalidArgumentError);
  venv.step(std::span<const float>(actions));  // env 0 (length 2) ends and is reset
  REQUIRE(venv.rewards()[0] == 0.25);
  REQUIRE(venv.terminations()[0] == 1);
  REQUIRE(venv.has_final(0));
  REQUIRE_FALSE(venv.has_final(1));
  REQUIRE(venv.final_info(0).get_int("t") == 2);
  REQUIRE_FALSE(venv.final_info(0).contains("reset"));
  REQUIRE(venv.info(0).get_bool("reset"));
  REQUIRE_FALSE(venv.info(0).contains("t"));
  const auto obs = venv.observations<float>();
  const auto finals = venv.final_observations<float>();
  REQUIRE(obs[0] == 0.0f);      // reset observation
  REQUIRE(finals[0] == 2.0f);   // final observation: two steps
  REQUIRE(finals[1] == 0.25f);  // and the last action
  REQUIRE(obs[2] == 2.0f);      // env 1 goes on
  venv.step(std::span<const float>(actions));
  REQUIRE_FALSE(venv.has_final(0));  // cleared on the next step
  REQUIRE(venv.has_final(1));
  REQUIRE(venv.final_info(1).get_int("t") == 3);
}

TEST_CASE("VectorEnv batches the spaces as Gymnasium does", "[vector]") {
  auto venv = make_vec("CartPole-v1", 3);
  REQUIRE(venv.single_action_space().to_string() == "Discrete(2)");
  REQUIRE(venv.action_space().kind() == SpaceKind::kMultiDiscrete);
  REQUIRE(venv.action_space().to_string() == "MultiDiscrete([2 2 2])");
  REQUIRE(venv.observation_space().kind() == SpaceKind::kBox);
  const auto& obs_space = static_cast<const Box&>(venv.observation_space());
  REQUIRE(obs_space.shape() == Shape{3, 4});
  REQUIRE(obs_space.dtype() == DType::kFloat32);
  const auto& single = static_cast<const Box&>(venv.single_observation_space());
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t k = 0; k < 4; ++k) REQUIRE(obs_space.high()[i * 4 + k] == single.high()[k]);
  }
  REQUIRE(venv.observation_space().packed_bytes() == venv.observation_bytes().size());
  REQUIRE(venv.action_space().packed_bytes() == 3 * venv.action_stride());

  // A sampled batch of actions is a valid step() argument.
  venv.action_space().seed(0);
  std::vector<std::int64_t> actions(3);
  venv.reset(0);
  for (int t = 0; t < 20; ++t) {
    venv.action_space().sample_packed(std::as_writable_bytes(std::span(actions)));
    for (auto a : actions) REQUIRE((a == 0 || a == 1));
    venv.step(std::span<const std::int64_t>(actions));
  }

  const auto md = batch_space(MultiDiscrete({3, 4}, {1, 0}), 2);
  REQUIRE(md->kind() == SpaceKind::kBox);
  REQUIRE(static_cast<const Box&>(*md).shape() == Shape{2, 2});
  REQUIRE(static_cast<const Box&>(*md).dtype() == DType::kInt64);
  REQUIRE(static_cast<const Box&>(*md).high() == std::vector<double>{3, 3, 3, 3});
  REQUIRE(static_cast<const Box&>(*batch_space(MultiBinary(5), 4)).shape() == Shape{4, 5});
}

TEST_CASE("VectorEnv describes itself", "[vector]") {
  auto venv = make_vec("CartPole-v1", 4, Kwargs::object(), {.num_threads = 1});
  REQUIRE(venv.to_string() ==
          "VectorEnv(CartPole-v1, num_envs=4, autoreset_mode=NextStep, num_threads=1, "
          "max_episode_steps=500)");
  REQUIRE(counter_vec(2, {.num_threads = 1}).to_string() ==
          "VectorEnv(num_envs=2, autoreset_mode=NextStep, num_threads=1)");
  REQUIRE(autoreset_mode_from_string("SameStep") == AutoresetMode::kSameStep);
  REQUIRE(autoreset_mode_from_string("disabled") == AutoresetMode::kDisabled);
  REQUIRE_THROWS_WITH(autoreset_mode_from_string("sometimes"),
                      Catch::Contains("expected NextStep, SameStep or Disabled"));
}

TEST_CASE("VectorEnv reports bad arguments clearly", "[vector]") {
  SECTION("no envs") {
    REQUIRE_THROWS_WITH(make_vec("CartPole-v1", 0), Catch::Contains("num_envs must be at least 1"));
    REQUIRE_THROWS_WITH(counter_vec(0), Catch::Contains("num_envs must be at least 1"));
    REQUIRE_THROWS_WITH(VectorEnv(std::vector<std::unique_ptr<Env>>{}),
                        Catch::Contains("num_envs must be at least 1"));
  }
  SECTION("bad make_vec arguments") {
    REQUIRE_THROWS_AS(make_vec("CartPol-v1", 2), UnknownEnvError);
    REQUIRE_THROWS_WITH(make_vec("CartPole-v1", 2, {{"max_episode_steps", 0}}),
                        Catch::Contains("max_episode_steps must be positive, got 0"));
    REQUIRE_THROWS_AS(make_vec("CartPole-v1", 2, {{"no_such_kwarg", 1}}), InvalidArgumentError);
  }
  SECTION("envs with different spaces") {
    std::vector<std::unique_ptr<Env>> envs;
    envs.push_back(make("CartPole-v1"));
    envs.push_back(std::make_unique<CounterEnv>(3));
    REQUIRE_THROWS_WITH(VectorEnv(std::move(envs)), Catch::Contains("observation space of env 1"));
  }
  SECTION("step before reset") {
    auto venv = make_vec("CartPole-v1", 3);
    REQUIRE_THROWS_AS(venv.step(std::span<const std::int64_t>(kOnes)), ResetNeededError);
  }
  SECTION("actions") {
    auto venv = make_vec("CartPole-v1", 3);
    venv.reset(0);
    const std::vector<std::int64_t> two = {1, 1};
    REQUIRE_THROWS_AS(venv.step(std::span<const std::int64_t>(two)), BufferError);
    REQUIRE_THROWS_WITH(venv.step(std::span<const std::int64_t>(two)),
                        Catch::Contains("got 2 int64 actions, expected num_envs=3"));
    const std::vector<std::byte> bytes(5);
    REQUIRE_THROWS_WITH(venv.step(std::span<const std::byte>(bytes)),
                        Catch::Contains("has 5 bytes, expected num_envs=3 actions of 8 bytes"));
    const std::vector<float> floats = {1, 1, 1};
    REQUIRE_THROWS_WITH(venv.step(std::span<const float>(floats)),
                        Catch::Contains("float32 actions do not fit the single action space "
                                        "Discrete(2)"));
    // A bad action leaves every env where it was.
    const std::vector<float> before(venv.observations<float>().begin(),
                                    venv.observations<float>().end());
    const std::vector<std::int64_t> bad = {1, 0, 2};
    REQUIRE_THROWS_AS(venv.step(std::span<const std::int64_t>(bad)), InvalidActionError);
    REQUIRE_THROWS_WITH(venv.step(std::span<const std::int64_t>(bad)),
                        Catch::Contains("action of env 2, 2, is not in the single action space "
                                        "Discrete(2)"));
    REQUIRE(std::equal(before.begin(), before.end(), venv.observations<float>().begin()));
    REQUIRE(venv.elapsed_steps(0) == 0);

    auto counters = counter_vec(2);
    counters.reset();
    const std::vector<float> out_of_box = {0.0f, 1.5f};
    REQUIRE_THROWS_WITH(counters.step(std::span<const float>(out_of_box)),
                        Catch::Contains("action of env 1"));
    REQUIRE_THROWS_WITH(counters.step(std::span<const std::int64_t>(kOnes)),
                        Catch::Contains("int64 actions do not fit"));
  }
  SECTION("buffers and indices") {
    auto venv = make_vec("CartPole-v1", 3);
    venv.reset(0);
    REQUIRE_THROWS_WITH(venv.observations<double>(), Catch::Contains("holds float32 elements"));
    REQUIRE_THROWS_WITH(venv.info(3), Catch::Contains("env index 3 is out of range (num_envs=3)"));
    REQUIRE_THROWS_AS(venv.env(3), InvalidArgumentError);
    REQUIRE(venv.observation_bytes(2).size() == 16);
  }
  SECTION("reset masks") {
    auto venv =
        make_vec("CartPole-v1", 3, Kwargs::object(), {.autoreset_mode = AutoresetMode::kDisabled});
    const std::array<std::uint8_t, 2> short_mask = {1, 1};
    REQUIRE_THROWS_WITH(venv.reset(0, Kwargs::object(), short_mask),
                        Catch::Contains("reset_mask has 2 entries, expected num_envs=3"));
    const std::array<std::uint8_t, 3> empty_mask = {0, 0, 0};
    REQUIRE_THROWS_WITH(venv.reset(0, Kwargs::object(), empty_mask),
                        Catch::Contains("at least one entry set"));
    REQUIRE_THROWS_WITH(venv.reset(0, Kwargs::array()), Catch::Contains("must be a JSON object"));
  }
}

TEST_CASE("VectorEnv steps with the checked copy of the actions, not the caller's buffer",
          "[vector]") {
  auto staged = make_vec("ReversalBandit-v0", 4);
  auto direct = make_vec("ReversalBandit-v0", 4);
  staged.reset(7);
  direct.reset(7);
  std::vector<std::int64_t> actions = {0, 1, 1, 0};
  staged.stage_actions(std::as_bytes(std::span<const std::int64_t>(actions)));
  // What another thread could write once the caller stops holding its lock: an arm far outside
  // the space. The envs must step with the actions as they were checked.
  const std::vector<std::int64_t> checked = actions;
  std::fill(actions.begin(), actions.end(), std::int64_t{1} << 40);
  staged.step_staged();
  direct.step(std::span<const std::int64_t>(checked));
  REQUIRE(std::equal(staged.rewards().begin(), staged.rewards().end(), direct.rewards().begin()));
  REQUIRE(std::equal(staged.observations<float>().begin(), staged.observations<float>().end(),
                     direct.observations<float>().begin()));

  SECTION("a staged batch steps once") {
    REQUIRE_THROWS_WITH(staged.step_staged(), Catch::Contains("call stage_actions() first"));
  }
  SECTION("a refused batch stages nothing") {
    staged.stage_actions(std::as_bytes(std::span<const std::int64_t>(checked)));
    REQUIRE_THROWS_AS(staged.stage_actions(std::as_bytes(std::span<const std::int64_t>(actions))),
                      InvalidActionError);
    REQUIRE_THROWS_WITH(staged.step_staged(), Catch::Contains("call stage_actions() first"));
  }
}
