#pragma once
// The arithmetic of one step of a recurrent layer on the CUDA backend, one element (sequence b,
// unit j) at a time: the entering state of step 0, the gates and new state of a step (forward),
// and their gradients (backward). spec.hpp has the equations; recurrent_layer.cpp is the host
// version, which these follow operation for operation.
//
// The functions are __host__ __device__: the kernels of recurrent_kernels.cu call them for every
// element of a step, and the CPU tests (tests/neuromod/test_recurrent_plan.cpp) call them on host
// memory to check the plan of recurrent_plan.hpp against the host backend without a GPU. This
// header needs no CUDA header.
//
// Every step structure points at the block of one step: row b of the step is sequence b, and a
// (batch, width) block is row-major (width = gates * units for the gate arrays, units for the
// state arrays).

// The C functions (expf, tanhf) in the global namespace, which the device code calls as nvcc maps
// them.
#include <math.h>  // NOLINT(modernize-deprecated-headers)

#include <cstddef>
#include <cstdint>

#include "neuromod/spec.hpp"

#if defined(__CUDACC__)
#define LOCUS_HOST_DEVICE __host__ __device__
#else
#define LOCUS_HOST_DEVICE
#endif

namespace locus::neuromod::cuda {

// gate_count() of spec.hpp, callable in device code.
LOCUS_HOST_DEVICE constexpr std::size_t gates_of(Recurrence recurrence) {
  return recurrence == Recurrence::kGru ? 3 : (recurrence == Recurrence::kLstm ? 4 : 1);
}

// The state entering step 0: the caller's initial state, or zeros where none is given or the
// step starts an episode.
struct StateEntry {
  std::size_t batch = 0, units = 0;
  const std::int32_t* starts = nullptr;   // (batch): step 0's flags, or null
  const float* initial_hidden = nullptr;  // (batch, units), or null for zeros
  const float* initial_cell = nullptr;    // LSTM: (batch, units), or null for zeros
  float* previous = nullptr;              // out (batch, units)
  float* previous_cell = nullptr;         // out, LSTM only (else null)
};

// The cell of a step, forward and backward: `batch` sequences of `units` units.
struct CellShape {
  Recurrence recurrence = Recurrence::kElman;
  Activation activation = Activation::kTanh;  // Elman only
  float alpha = 1.0f;                         // Elman only
  std::size_t batch = 0, units = 0;
};

struct CellForwardStep : CellShape {
  const float* input_sum = nullptr;           // xz (batch, width)
  const float* recurrent_sum = nullptr;       // hz (batch, width)
  const float* previous = nullptr;            // (batch, units)
  const float* previous_cell = nullptr;       // LSTM (batch, units)
  const float* noise = nullptr;               // Elman (batch, units), or null
  const float* gain = nullptr;                // (contexts, width), or null (1)
  const float* bias = nullptr;                // (contexts, width), or null (0)
  const std::int32_t* row_context = nullptr;  // (batch)
  float* gates = nullptr;                     // out (batch, width)
  float* cell = nullptr;                      // out, LSTM (batch, units)
  float* hidden = nullptr;                    // out (batch, units)
  // The state entering the next step, written here so that no launch is needed between the
  // steps: null at the last step. next_starts (batch) are the next step's flags, or null.
  float* next_previous = nullptr;
  float* next_previous_cell = nullptr;  // LSTM
  const std::int32_t* next_starts = nullptr;
};

struct CellBackwardStep : CellShape {
  const float* d_hidden = nullptr;            // (batch, units): the gradient at h' from above
  const float* input_sum = nullptr;           // (batch, width) of the forward pass
  const float* recurrent_sum = nullptr;       // (batch, width)
  const float* gates = nullptr;               // (batch, width)
  const float* previous = nullptr;            // (batch, units)
  const float* previous_cell = nullptr;       // LSTM (batch, units)
  const float* cell = nullptr;                // LSTM (batch, units)
  const float* gain = nullptr;                // (contexts, width), or null
  const std::int32_t* row_context = nullptr;  // (batch)
  // carry (batch, units): on entry the gradient at h' coming from the next step (read only when
  // carry_valid, and not for a sequence whose next step starts an episode: next_starts); on exit
  // the part of the gradient at the entering state that does not pass through U (the caller adds
  // d_recurrent_sum U). carry_cell (LSTM): the same for the cell state, complete on exit.
  bool carry_valid = false;
  const std::int32_t* next_starts = nullptr;
  float* carry = nullptr;
  float* carry_cell = nullptr;
  float* d_input_sum = nullptr;      // out (batch, width)
  float* d_recurrent_sum = nullptr;  // out (batch, width)
  float* gate_grad = nullptr;        // out (batch, width): the gradient at a_k (the bias terms)
  float* gain_terms = nullptr;       // out (batch, width), or null: gate_grad * the gained sum
};

namespace cell {

LOCUS_HOST_DEVICE inline float sigmoid(float v) {
  return 1.0f / (1.0f + expf(-v));
}

LOCUS_HOST_DEVICE inline float activate(Activation activation, float v) {
  switch (activation) {
    case Activation::kRelu:
      return v > 0.0f ? v : 0.0f;
    case Activation::kTanh:
      return tanhf(v);
    case Activation::kSoftplus:
      return v > 20.0f ? v : log1pf(expf(v));
    case Activation::kIdentity:
      break;
  }
  return v;
}

// The activation's derivative from its output (softplus: sigmoid(v) = 1 - e^-out).
LOCUS_HOST_DEVICE inline float slope(Activation activation, float out) {
  switch (activation) {
    case Activation::kRelu:
      return out > 0.0f ? 1.0f : 0.0f;
    case Activation::kTanh:
      return 1.0f - out * out;
    case Activation::kSoftplus:
      return -expm1f(-out);
    case Activation::kIdentity:
      break;
  }
  return 1.0f;
}

LOCUS_HOST_DEVICE inline float gain_of(const float* gain, std::size_t k) {
  return gain ? gain[k] : 1.0f;
}
LOCUS_HOST_DEVICE inline float bias_of(const float* bias, std::size_t k) {
  return bias ? bias[k] : 0.0f;
}

}  // namespace cell

LOCUS_HOST_DEVICE inline void enter_state(const StateEntry& s, std::size_t b, std::size_t j) {
  const std::size_t e = b * s.units + j;
  const bool start = s.starts != nullptr && s.starts[b] != 0;
  s.previous[e] = start || s.initial_hidden == nullptr ? 0.0f : s.initial_hidden[e];
  if (s.previous_cell) {
    s.previous_cell[e] = start || s.initial_cell == nullptr ? 0.0f : s.initial_cell[e];
  }
}

// Unit j of sequence b: its gates, its new state, and the next step's entering state.
LOCUS_HOST_DEVICE inline void cell_forward(const CellForwardStep& s, std::size_t b, std::size_t j) {
  const std::size_t H = s.units, width = gates_of(s.recurrence) * H;
  const std::size_t c = std::size_t(s.row_context[b]);
  const float* g = s.gain ? s.gain + c * width : nullptr;
  const float* beta = s.bias ? s.bias + c * width : nullptr;
  const float* xz = s.input_sum + b * width;
  const float* hz = s.recurrent_sum + b * width;
  float* gates = s.gates + b * width;
  const float prev = s.previous[b * H + j];
  float h = 0.0f, new_cell = 0.0f;
  switch (s.recurrence) {
    case Recurrence::kElman: {
      const float noise = s.noise ? s.noise[b * H + j] : 0.0f;
      const float a = cell::gain_of(g, j) * (xz[j] + hz[j]) + cell::bias_of(beta, j) + noise;
      gates[j] = cell::activate(s.activation, a);
      h = (1.0f - s.alpha) * prev + s.alpha * gates[j];
      break;
    }
    case Recurrence::kGru: {
      const std::size_t jr = j, jz = H + j, jn = 2 * H + j;
      const float r =
          cell::sigmoid(cell::gain_of(g, jr) * (xz[jr] + hz[jr]) + cell::bias_of(beta, jr));
      const float z =
          cell::sigmoid(cell::gain_of(g, jz) * (xz[jz] + hz[jz]) + cell::bias_of(beta, jz));
      const float n = tanhf(cell::gain_of(g, jn) * (xz[jn] + r * hz[jn]) + cell::bias_of(beta, jn));
      gates[jr] = r;
      gates[jz] = z;
      gates[jn] = n;
      h = (1.0f - z) * n + z * prev;
      break;
    }
    case Recurrence::kLstm: {
      float a[4];
      for (std::size_t k = 0; k < 4; ++k) {
        const std::size_t jk = k * H + j;
        a[k] = cell::gain_of(g, jk) * (xz[jk] + hz[jk]) + cell::bias_of(beta, jk);
      }
      const float i = cell::sigmoid(a[0]), f = cell::sigmoid(a[1]), u = tanhf(a[2]),
                  o = cell::sigmoid(a[3]);
      gates[j] = i;
      gates[H + j] = f;
      gates[2 * H + j] = u;
      gates[3 * H + j] = o;
      new_cell = f * s.previous_cell[b * H + j] + i * u;
      s.cell[b * H + j] = new_cell;
      h = o * tanhf(new_cell);
      break;
    }
    case Recurrence::kNone:
      break;
  }
  s.hidden[b * H + j] = h;
  if (s.next_previous) {
    const bool start = s.next_starts != nullptr && s.next_starts[b] != 0;
    s.next_previous[b * H + j] = start ? 0.0f : h;
    if (s.next_previous_cell) s.next_previous_cell[b * H + j] = start ? 0.0f : new_cell;
  }
}

// Unit j of sequence b, backward (recurrent_layer.cpp's cell_backward, with the carried gradient
// read and replaced in place).
LOCUS_HOST_DEVICE inline void cell_backward(const CellBackwardStep& s, std::size_t b,
                                            std::size_t j) {
  const std::size_t H = s.units, width = gates_of(s.recurrence) * H, e = b * H + j;
  const std::size_t c = std::size_t(s.row_context[b]);
  const float* g = s.gain ? s.gain + c * width : nullptr;
  const float* gates = s.gates + b * width;
  const float* xz = s.input_sum + b * width;
  const float* hz = s.recurrent_sum + b * width;
  const bool carried = s.carry_valid && !(s.next_starts != nullptr && s.next_starts[b] != 0);
  const float dh = s.d_hidden[e] + (carried ? s.carry[e] : 0.0f);
  float* da = s.gate_grad ? s.gate_grad + b * width : nullptr;
  float* dxz = s.d_input_sum + b * width;
  float* dhz = s.d_recurrent_sum + b * width;
  float* gain_terms = s.gain_terms ? s.gain_terms + b * width : nullptr;
  // Writes gate k's gradients: at a_k, at xz_k and hz_k (through the gain), and its gain term.
  auto put = [&](std::size_t jk, float d, float dx, float dr, float gained_sum) {
    if (da) da[jk] = d;
    dxz[jk] = dx;
    dhz[jk] = dr;
    if (gain_terms) gain_terms[jk] = d * gained_sum;
  };
  switch (s.recurrence) {
    case Recurrence::kElman: {
      const float d = dh * s.alpha * cell::slope(s.activation, gates[j]);
      const float dz = cell::gain_of(g, j) * d;
      put(j, d, dz, dz, xz[j] + hz[j]);
      s.carry[e] = (1.0f - s.alpha) * dh;
      break;
    }
    case Recurrence::kGru: {
      const std::size_t jr = j, jz = H + j, jn = 2 * H + j;
      const float r = gates[jr], z = gates[jz], n = gates[jn];
      const float dn = dh * (1.0f - z) * (1.0f - n * n);
      const float dzg = dh * (s.previous[e] - n) * z * (1.0f - z);
      const float ds_n = cell::gain_of(g, jn) * dn;  // at xz_n + r * hz_n
      const float dr = ds_n * hz[jn] * r * (1.0f - r);
      put(jn, dn, ds_n, ds_n * r, xz[jn] + r * hz[jn]);
      const float dxr = cell::gain_of(g, jr) * dr, dxzg = cell::gain_of(g, jz) * dzg;
      put(jr, dr, dxr, dxr, xz[jr] + hz[jr]);
      put(jz, dzg, dxzg, dxzg, xz[jz] + hz[jz]);
      s.carry[e] = dh * z;
      break;
    }
    case Recurrence::kLstm: {
      const float i = gates[j], f = gates[H + j], u = gates[2 * H + j], o = gates[3 * H + j];
      const float tc = tanhf(s.cell[e]);
      const float dcell = carried ? s.carry_cell[e] : 0.0f;
      const float dc = dcell + dh * o * (1.0f - tc * tc);
      const float d[4] = {dc * u * i * (1.0f - i), dc * s.previous_cell[e] * f * (1.0f - f),
                          dc * i * (1.0f - u * u), dh * tc * o * (1.0f - o)};
      for (std::size_t k = 0; k < 4; ++k) {
        const std::size_t jk = k * H + j;
        const float dz = cell::gain_of(g, jk) * d[k];
        put(jk, d[k], dz, dz, xz[jk] + hz[jk]);
      }
      s.carry_cell[e] = dc * f;
      s.carry[e] = 0.0f;
      break;
    }
    case Recurrence::kNone:
      break;
  }
}

}  // namespace locus::neuromod::cuda
