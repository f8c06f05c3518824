// The recurrent layers' per-step CUDA kernels (recurrent_kernels.hpp) against the element functions
// of recurrent_steps.hpp on the host, which test_recurrent_plan.cpp ties to the reference backend:
// see test_cuda_kernels.cpp.

#include <catch2/catch.hpp>

#include "neuromod/cuda/cuda_network.hpp"

#ifdef LOCUS_HAVE_CUDA

#include <vector>

#include "cuda_kernel_support.hpp"
#include "neuromod/cuda/recurrent_kernels.hpp"

using namespace locus::neuromod;
using namespace locus::neuromod::testing;

namespace {

struct CellCase {
  const char* name;
  Recurrence recurrence;
  Activation activation = Activation::kTanh;
  float alpha = 1.0f;
  bool noise = false;
};

const CellCase kCells[] = {
    {"elman tanh", Recurrence::kElman},
    {"elman relu leaky noisy", Recurrence::kElman, Activation::kRelu, 0.3f, true},
    {"gru", Recurrence::kGru},
    {"lstm", Recurrence::kLstm},
};

constexpr std::size_t kRows = 5, kUnits = 70;  // 350 elements: more than one block

// One step's inputs for a cell kind, on both sides, with the forward step run on the host.
struct StepData {
  const CellCase& cell;
  std::size_t width;
  Floats input_sum, recurrent_sum, previous, previous_cell, noise, gain, bias;
  Ints row_context, next_starts;
  std::vector<float> gates, cell_state, hidden, next_previous, next_previous_cell;

  explicit StepData(const CellCase& c)
      : cell(c),
        width(cuda::gates_of(c.recurrence) * kUnits),
        input_sum(random_values(kRows * width, 50)),
        recurrent_sum(random_values(kRows * width, 51)),
        previous(random_values(kRows * kUnits, 52, 0.5)),
        previous_cell(random_values(kRows * kUnits, 53, 0.5)),
        noise(random_values(kRows * kUnits, 54, 0.2)),
        gain(random_values(kContexts * width, 55, 0.3, 1.0)),
        bias(random_values(kContexts * width, 56, 0.2)),
        row_context(random_indices(kRows, kContexts, 57)),
        next_starts(std::vector<std::int32_t>{0, 1, 0, 0, 1}),
        gates(kRows * width),
        cell_state(kRows * kUnits),
        hidden(kRows * kUnits),
        next_previous(kRows * kUnits),
        next_previous_cell(kRows * kUnits) {
    cuda::CellForwardStep host = forward_step(false);
    host.gates = gates.data();
    host.cell = lstm() ? cell_state.data() : nullptr;
    host.hidden = hidden.data();
    host.next_previous = next_previous.data();
    host.next_previous_cell = lstm() ? next_previous_cell.data() : nullptr;
    for (std::size_t b = 0; b < kRows; ++b)
      for (std::size_t j = 0; j < kUnits; ++j) cuda::cell_forward(host, b, j);
  }
  bool lstm() const { return cell.recurrence == Recurrence::kLstm; }
  // The step's read-only inputs, as host or device pointers; the outputs are the caller's.
  cuda::CellForwardStep forward_step(bool device) {
    cuda::CellForwardStep s;
    s.recurrence = cell.recurrence;
    s.activation = cell.activation;
    s.alpha = cell.alpha;
    s.batch = kRows;
    s.units = kUnits;
    s.input_sum = device ? input_sum.d() : input_sum.host.data();
    s.recurrent_sum = device ? recurrent_sum.d() : recurrent_sum.host.data();
    s.previous = device ? previous.d() : previous.host.data();
    s.previous_cell = !lstm() ? nullptr : device ? previous_cell.d() : previous_cell.host.data();
    s.noise = !cell.noise ? nullptr : device ? noise.d() : noise.host.data();
    s.gain = device ? gain.d() : gain.host.data();
    s.bias = device ? bias.d() : bias.host.data();
    s.row_context = device ? row_context.d() : row_context.host.data();
    s.next_starts = device ? next_starts.d() : next_starts.host.data();
    return s;
  }
};

}  // namespace

TEST_CASE("CUDA kernel launch_state_entry matches the host step", "[cuda][kernel][recurrent]") {
  if (!have_device()) return;
  const std::vector<float> hidden = random_values(kRows * kUnits, 58);
  const std::vector<float> cell = random_values(kRows * kUnits, 59);
  const std::vector<std::int32_t> starts = {1, 0, 0, 1, 0};
  Floats dhidden(hidden), dcell(cell);
  Ints dstarts(starts);
  for (const bool lstm : {false, true}) {
    for (const bool initial : {false, true}) {
      INFO("lstm " << lstm << ", initial state " << initial);
      std::vector<float> previous(kRows * kUnits), previous_cell(kRows * kUnits);
      cuda::StateEntry host{.batch = kRows,
                            .units = kUnits,
                            .starts = starts.data(),
                            .initial_hidden = initial ? hidden.data() : nullptr,
                            .initial_cell = initial && lstm ? cell.data() : nullptr,
                            .previous = previous.data(),
                            .previous_cell = lstm ? previous_cell.data() : nullptr};
      for (std::size_t b = 0; b < kRows; ++b)
        for (std::size_t j = 0; j < kUnits; ++j) cuda::enter_state(host, b, j);
      Floats dprevious = poisoned(kRows * kUnits), dprevious_cell = poisoned(kRows * kUnits);
      cuda::StateEntry device = host;
      device.starts = dstarts.d();
      device.initial_hidden = initial ? dhidden.d() : nullptr;
      device.initial_cell = initial && lstm ? dcell.d() : nullptr;
      device.previous = dprevious.d();
      device.previous_cell = lstm ? dprevious_cell.d() : nullptr;
      cuda::launch_state_entry(kStream, device);
      // Zeros are the expected value of every started or uninitialized row: compare exactly.
      CHECK(dprevious.result() == previous);
      if (lstm) CHECK(dprevious_cell.result() == previous_cell);
    }
  }
}

TEST_CASE("CUDA kernel launch_cell_forward matches the host step for every cell kind",
          "[cuda][kernel][recurrent]") {
  if (!have_device()) return;
  for (const CellCase& c : kCells) {
    INFO(c.name);
    StepData data(c);
    Floats gates = poisoned(kRows * data.width), cell = poisoned(kRows * kUnits);
    Floats hidden = poisoned(kRows * kUnits), next_previous = poisoned(kRows * kUnits);
    Floats next_previous_cell = poisoned(kRows * kUnits);
    cuda::CellForwardStep step = data.forward_step(true);
    step.gates = gates.d();
    step.cell = data.lstm() ? cell.d() : nullptr;
    step.hidden = hidden.d();
    step.next_previous = next_previous.d();
    step.next_previous_cell = data.lstm() ? next_previous_cell.d() : nullptr;
    cuda::launch_cell_forward(kStream, step);
    require_close(gates.result(), data.gates);
    require_close(hidden.result(), data.hidden);
    require_close(next_previous.result(), data.next_previous);
    if (data.lstm()) {
      require_close(cell.result(), data.cell_state);
      require_close(next_previous_cell.result(), data.next_previous_cell);
    }
  }
}

TEST_CASE("CUDA kernel launch_cell_backward matches the host step for every cell kind",
          "[cuda][kernel][recurrent]") {
  if (!have_device()) return;
  for (const CellCase& c : kCells) {
    INFO(c.name);
    StepData data(c);
    const std::size_t n = kRows * kUnits, w = kRows * data.width;
    Floats d_hidden(random_values(n, 60)), carry(random_values(n, 61));
    Floats carry_cell(random_values(n, 62)), gates(data.gates), cell(data.cell_state);
    // The host step: the same inputs, the forward's outputs, carry and carry_cell updated in place.
    std::vector<float> host_carry(carry.host), host_carry_cell(carry_cell.host);
    std::vector<float> d_input_sum(w), d_recurrent_sum(w), gate_grad(w), gain_terms(w);
    const auto step_of = [&](bool device) {
      const cuda::CellForwardStep f = data.forward_step(device);
      cuda::CellBackwardStep s;
      s.recurrence = c.recurrence;
      s.activation = c.activation;
      s.alpha = c.alpha;
      s.batch = kRows;
      s.units = kUnits;
      s.d_hidden = device ? d_hidden.d() : d_hidden.host.data();
      s.input_sum = f.input_sum;
      s.recurrent_sum = f.recurrent_sum;
      s.gates = device ? gates.d() : data.gates.data();
      s.previous = f.previous;
      s.previous_cell = f.previous_cell;
      s.cell = !data.lstm() ? nullptr : device ? cell.d() : data.cell_state.data();
      s.gain = f.gain;
      s.row_context = f.row_context;
      s.carry_valid = true;
      s.next_starts = f.next_starts;
      s.carry = device ? carry.d() : host_carry.data();
      s.carry_cell = !data.lstm() ? nullptr : device ? carry_cell.d() : host_carry_cell.data();
      return s;
    };
    cuda::CellBackwardStep host = step_of(false);
    host.d_input_sum = d_input_sum.data();
    host.d_recurrent_sum = d_recurrent_sum.data();
    host.gate_grad = gate_grad.data();
    host.gain_terms = gain_terms.data();
    for (std::size_t b = 0; b < kRows; ++b)
      for (std::size_t j = 0; j < kUnits; ++j) cuda::cell_backward(host, b, j);
    Floats dxz = poisoned(w), dhz = poisoned(w), dgate = poisoned(w), dgain = poisoned(w);
    cuda::CellBackwardStep device = step_of(true);
    device.d_input_sum = dxz.d();
    device.d_recurrent_sum = dhz.d();
    device.gate_grad = dgate.d();
    device.gain_terms = dgain.d();
    cuda::launch_cell_backward(kStream, device);
    require_close(dxz.result(), d_input_sum);
    require_close(dhz.result(), d_recurrent_sum);
    require_close(dgate.result(), gate_grad);
    require_close(dgain.result(), gain_terms);
    if (data.lstm()) {
      CHECK(carry.result() == host_carry);  // an LSTM's carry leaves as zeros (the cell carries)
      require_close(carry_cell.result(), host_carry_cell);
    } else {
      require_close(carry.result(), host_carry);
    }
  }
}

#endif  // LOCUS_HAVE_CUDA
