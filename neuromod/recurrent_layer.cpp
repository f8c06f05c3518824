#include "neuromod/recurrent_layer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "neuromod/multiversion.hpp"
#include "neuromod/random.hpp"
#include "neuromod/vector_math.hpp"
#include "util/parallel.hpp"

namespace locus::neuromod {

namespace {

// The cells' loops are multiversioned (neuromod/multiversion.hpp); with vector_math's functions
// every version gives the same bits.

namespace vm = vector_math;

template <Activation A>
inline float activate(float v) {
  if constexpr (A == Activation::kRelu) return vm::select(v > 0.0f, v, 0.0f);
  if constexpr (A == Activation::kTanh) return vm::tanh(v);
  if constexpr (A == Activation::kSoftplus) return v > 20.0f ? v : std::log1p(std::exp(v));
  return v;
}

// The activation's derivative from its output (softplus: sigmoid(v) = 1 - e^-out).
template <Activation A>
inline float slope(float out) {
  if constexpr (A == Activation::kRelu) return vm::select(out > 0.0f, 1.0f, 0.0f);
  if constexpr (A == Activation::kTanh) return 1.0f - out * out;
  if constexpr (A == Activation::kSoftplus) return -std::expm1(-out);
  return 1.0f;
}

// Calls body.template operator()<A>() for the run-time activation.
template <typename Body>
void dispatch(Activation activation, const Body& body) {
  switch (activation) {
    case Activation::kRelu:
      return body.template operator()<Activation::kRelu>();
    case Activation::kTanh:
      return body.template operator()<Activation::kTanh>();
    case Activation::kSoftplus:
      return body.template operator()<Activation::kSoftplus>();
    case Activation::kIdentity:
      return body.template operator()<Activation::kIdentity>();
  }
}

// Runs body(b0, b1) for each chunk of sequences [b0, b1), in parallel.
template <typename Body>
void for_each_sequence_chunk(std::size_t batch, const Body& body) {
  util::run_blocks((batch + kSequenceChunk - 1) / kSequenceChunk, [&](std::size_t c) {
    body(c * kSequenceChunk, std::min(batch, (c + 1) * kSequenceChunk));
  });
}

// `n` copies of `value` (1 or 0), kept per thread: the gain and bias of a layer without them, so
// the loops multiply and add instead of branching.
const float* constant_row(float value, std::size_t n) {
  thread_local std::vector<float> ones, zeros;
  std::vector<float>& row = value == 0.0f ? zeros : ones;
  if (row.size() < n) row.assign(n, value);
  return row.data();
}

// The gate pre-activations' modulation of one row: gain and bias of its context (or 1 and 0).
struct RowModulation {
  const float* gain;
  const float* bias;
};

RowModulation row_modulation(const RecurrentLayerArgs& args, std::size_t row) {
  const std::size_t width = args.gates() * args.units;
  const std::size_t c = std::size_t(args.row_context[row]);
  return {args.gain ? args.gain + c * width : constant_row(1.0f, width),
          args.bias ? args.bias + c * width : constant_row(0.0f, width)};
}

// out = sigmoid (or tanh) of g * (xz + hz) + b over n gate units.
template <bool kTanh>
LOCUS_MULTIVERSION void gates_forward(std::size_t n, const float* __restrict g,
                                      const float* __restrict b, const float* __restrict xz,
                                      const float* __restrict hz, float* __restrict out) {
  for (std::size_t j = 0; j < n; ++j) {
    const float a = g[j] * (xz[j] + hz[j]) + b[j];
    out[j] = kTanh ? vm::tanh(a) : vm::sigmoid(a);
  }
}

template <Activation A>
LOCUS_MULTIVERSION void elman_forward(std::size_t n, const float* __restrict g,
                                      const float* __restrict b, const float* __restrict xz,
                                      const float* __restrict hz, const float* __restrict noise,
                                      float alpha, const float* __restrict prev,
                                      float* __restrict out, float* __restrict hidden) {
  for (std::size_t j = 0; j < n; ++j) {
    out[j] = activate<A>(g[j] * (xz[j] + hz[j]) + b[j] + noise[j]);
    hidden[j] = (1.0f - alpha) * prev[j] + alpha * out[j];
  }
}

// GRU's candidate n = tanh(g * (xz + r * hz) + b) and new state (1 - z) n + z h.
LOCUS_MULTIVERSION void gru_candidate(std::size_t n, const float* __restrict g,
                                      const float* __restrict b, const float* __restrict xz,
                                      const float* __restrict hz, const float* __restrict r,
                                      const float* __restrict z, const float* __restrict prev,
                                      float* __restrict out, float* __restrict hidden) {
  for (std::size_t j = 0; j < n; ++j) {
    out[j] = vm::tanh(g[j] * (xz[j] + r[j] * hz[j]) + b[j]);
    hidden[j] = (1.0f - z[j]) * out[j] + z[j] * prev[j];
  }
}

// LSTM's cell C' = f C + i u and output h' = o tanh(C').
LOCUS_MULTIVERSION void lstm_state(std::size_t n, const float* __restrict i,
                                   const float* __restrict f, const float* __restrict u,
                                   const float* __restrict o, const float* __restrict prev_cell,
                                   float* __restrict cell, float* __restrict hidden) {
  for (std::size_t j = 0; j < n; ++j) {
    cell[j] = f[j] * prev_cell[j] + i[j] * u[j];
    hidden[j] = o[j] * vm::tanh(cell[j]);
  }
}

// One row's gates and new state from its sums (spec.hpp's equations).
void cell_forward(const RecurrentLayerArgs& args, std::size_t row, const RecurrentTrace& trace,
                  float* gates, float* cell, float* hidden) {
  const std::size_t H = args.units, width = args.gates() * H;
  const RowModulation m = row_modulation(args, row);
  const float* xz = trace.input_sum.data() + row * width;
  const float* hz = trace.recurrent_sum.data() + row * width;
  const float* prev = trace.previous.data() + row * H;
  switch (args.recurrence) {
    case Recurrence::kElman: {
      const float* noise =
          trace.noise.empty() ? constant_row(0.0f, H) : trace.noise.data() + row * H;
      dispatch(args.activation, [&]<Activation A>() {
        elman_forward<A>(H, m.gain, m.bias, xz, hz, noise, args.alpha, prev, gates, hidden);
      });
      break;
    }
    case Recurrence::kGru:
      gates_forward<false>(2 * H, m.gain, m.bias, xz, hz, gates);  // r, z
      gru_candidate(H, m.gain + 2 * H, m.bias + 2 * H, xz + 2 * H, hz + 2 * H, gates, gates + H,
                    prev, gates + 2 * H, hidden);
      break;
    case Recurrence::kLstm:
      gates_forward<false>(2 * H, m.gain, m.bias, xz, hz, gates);  // i, f
      gates_forward<true>(H, m.gain + 2 * H, m.bias + 2 * H, xz + 2 * H, hz + 2 * H,
                          gates + 2 * H);  // u
      gates_forward<false>(H, m.gain + 3 * H, m.bias + 3 * H, xz + 3 * H, hz + 3 * H,
                           gates + 3 * H);  // o
      lstm_state(H, gates, gates + H, gates + 2 * H, gates + 3 * H,
                 trace.previous_cell.data() + row * H, cell, hidden);
      break;
    case Recurrence::kNone:
      break;
  }
}

template <Activation A>
LOCUS_MULTIVERSION void elman_backward(std::size_t n, const float* __restrict dh,
                                       const float* __restrict out, float alpha,
                                       float* __restrict da, float* __restrict dprev) {
  for (std::size_t j = 0; j < n; ++j) {
    da[j] = dh[j] * alpha * slope<A>(out[j]);
    dprev[j] = (1.0f - alpha) * dh[j];
  }
}

// g_n: the candidate's gains; hz_n: its recurrent sums.
LOCUS_MULTIVERSION void gru_backward(std::size_t n, const float* __restrict dh,
                                     const float* __restrict r, const float* __restrict z,
                                     const float* __restrict cand, const float* __restrict g_n,
                                     const float* __restrict hz_n, const float* __restrict prev,
                                     float* __restrict da_r, float* __restrict da_z,
                                     float* __restrict da_n, float* __restrict dprev) {
  for (std::size_t j = 0; j < n; ++j) {
    da_n[j] = dh[j] * (1.0f - z[j]) * (1.0f - cand[j] * cand[j]);
    da_z[j] = dh[j] * (prev[j] - cand[j]) * z[j] * (1.0f - z[j]);
    const float ds_n = g_n[j] * da_n[j];  // at xz_n + r * hz_n
    da_r[j] = ds_n * hz_n[j] * r[j] * (1.0f - r[j]);
    dprev[j] = dh[j] * z[j];
  }
}

LOCUS_MULTIVERSION void lstm_backward(std::size_t n, const float* __restrict dh,
                                      const float* __restrict i, const float* __restrict f,
                                      const float* __restrict u, const float* __restrict o,
                                      const float* __restrict prev_cell,
                                      const float* __restrict cell, float* __restrict dcell,
                                      float* __restrict da_i, float* __restrict da_f,
                                      float* __restrict da_u, float* __restrict da_o) {
  for (std::size_t j = 0; j < n; ++j) {
    const float tc = vm::tanh(cell[j]);
    const float dc = dcell[j] + dh[j] * o[j] * (1.0f - tc * tc);
    da_i[j] = dc * u[j] * i[j] * (1.0f - i[j]);
    da_f[j] = dc * prev_cell[j] * f[j] * (1.0f - f[j]);
    da_u[j] = dc * i[j] * (1.0f - u[j] * u[j]);
    da_o[j] = dh[j] * tc * o[j] * (1.0f - o[j]);
    dcell[j] = dc * f[j];
  }
}

// out = g * in over n units.
LOCUS_MULTIVERSION void scale(std::size_t n, const float* __restrict g, const float* __restrict in,
                              float* __restrict out) {
  for (std::size_t j = 0; j < n; ++j) out[j] = g[j] * in[j];
}

// out = a * b over n units.
LOCUS_MULTIVERSION void multiply(std::size_t n, const float* __restrict a,
                                 const float* __restrict b, float* __restrict out) {
  for (std::size_t j = 0; j < n; ++j) out[j] = a[j] * b[j];
}

// One row's backward step. dh: the gradient at its output h' (from above and from the next step);
// dcell (LSTM): the gradient at its cell state C' from the next step, replaced by the gradient at
// the cell state entering the step. Writes da (the gradient at the gate pre-activations, for the
// gain and bias), dxz and dhz, and sets dprev to the gradient at the entering state that does not
// pass through U. Without a gain, da and dxz may be the same storage (g da = da); for Elman and
// LSTM, dxz and dhz may be (they are equal).
void cell_backward(const RecurrentLayerArgs& args, std::size_t row, const RecurrentTrace& trace,
                   const float* dh, float* dcell, float* da, float* dxz, float* dhz, float* dprev) {
  const std::size_t H = args.units, width = args.gates() * H;
  const RowModulation m = row_modulation(args, row);
  const float* gates = trace.gates.data() + row * width;
  const float* hz = trace.recurrent_sum.data() + row * width;
  const float* prev = trace.previous.data() + row * H;
  switch (args.recurrence) {
    case Recurrence::kElman:
      dispatch(args.activation,
               [&]<Activation A>() { elman_backward<A>(H, dh, gates, args.alpha, da, dprev); });
      break;
    case Recurrence::kGru:
      gru_backward(H, dh, gates, gates + H, gates + 2 * H, m.gain + 2 * H, hz + 2 * H, prev, da,
                   da + H, da + 2 * H, dprev);
      break;
    case Recurrence::kLstm:
      lstm_backward(H, dh, gates, gates + H, gates + 2 * H, gates + 3 * H,
                    trace.previous_cell.data() + row * H, trace.cell.data() + row * H, dcell, da,
                    da + H, da + 2 * H, da + 3 * H);
      std::fill_n(dprev, H, 0.0f);
      break;
    case Recurrence::kNone:
      break;
  }
  if (dxz != da) scale(width, m.gain, da, dxz);
  if (dhz != dxz) {  // GRU: dhz = dxz, but r * dxz for the candidate
    std::copy_n(dxz, 2 * H, dhz);
    multiply(H, dxz + 2 * H, gates, dhz + 2 * H);
  }
}

// One row's share of the gain and bias gradients over columns [j0, j1): gain += da * (modulated
// sum), bias += da, in double. From `split` on (GRU's candidate, which starts at column
// `candidate`) the gain multiplies xz_n + r * hz_n, r the row's gate `candidate` columns earlier.
// The loops carry no branch, so they vectorize.
LOCUS_MULTIVERSION void accumulate_row(const float* __restrict da, const float* __restrict xz,
                                       const float* __restrict hz, const float* __restrict gates,
                                       std::size_t candidate, std::size_t j0, std::size_t split,
                                       std::size_t j1, double* __restrict gain,
                                       double* __restrict bias) {
  if (gain) {
    for (std::size_t j = j0; j < split; ++j) gain[j - j0] += double(da[j]) * double(xz[j] + hz[j]);
    for (std::size_t j = split; j < j1; ++j) {
      gain[j - j0] += double(da[j]) * double(xz[j] + gates[j - candidate] * hz[j]);
    }
  }
  if (bias) {
    for (std::size_t j = j0; j < j1; ++j) bias[j - j0] += double(da[j]);
  }
}

// gain += sum over rows of da * (modulated sum), bias += sum of da, per row context; blocks of
// columns in parallel, rows in order, in double. The blocks are wide (256 columns): each row of a
// block is a contiguous run in three arrays, and with 64 columns walking the rows down their 4-8 KB
// strides took 22-29 % of a modulated LSTM's training at 128 units (12 % at 256 columns).
void accumulate_modulation(const RecurrentLayerArgs& args, const RecurrentTrace& trace,
                           const float* da, const RecurrentGradients& gradients) {
  if (gradients.gain == nullptr && gradients.bias == nullptr) return;
  const std::size_t H = args.units, width = args.gates() * H, rows = args.rows();
  // The first column whose gain multiplies xz + r * hz (GRU's candidate; none in other cells).
  const std::size_t candidate = args.recurrence == Recurrence::kGru ? 2 * H : width;
  constexpr std::size_t kColumns = 256;
  util::run_blocks((width + kColumns - 1) / kColumns, [&](std::size_t block) {
    const std::size_t j0 = block * kColumns, j1 = std::min(width, j0 + kColumns), n = j1 - j0;
    const std::size_t split = std::clamp(candidate, j0, j1);
    std::vector<double> gain(gradients.gain ? gradients.contexts * n : 0);
    std::vector<double> bias(gradients.bias ? gradients.contexts * n : 0);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t c = std::size_t(args.row_context[r]), at = r * width;
      accumulate_row(da + at, trace.input_sum.data() + at, trace.recurrent_sum.data() + at,
                     trace.gates.data() + at, candidate, j0, split, j1,
                     gradients.gain ? gain.data() + c * n : nullptr,
                     gradients.bias ? bias.data() + c * n : nullptr);
    }
    for (std::size_t c = 0; c < gradients.contexts; ++c) {
      for (std::size_t j = j0; j < j1; ++j) {
        if (gradients.gain) gradients.gain[c * width + j] += float(gain[c * n + j - j0]);
        if (gradients.bias) gradients.bias[c * width + j] += float(bias[c * n + j - j0]);
      }
    }
  });
}

// The state (and LSTM cell) entering `row`'s step: h and c, or zeros where they are null or a
// start zeroes them.
void enter_step(const RecurrentLayerArgs& args, std::size_t row, const float* h, const float* c,
                RecurrentTrace& trace) {
  const std::size_t H = args.units;
  const bool start = args.starts && args.starts[row];
  float* prev = trace.previous.data() + row * H;
  if (start || h == nullptr) {
    std::fill_n(prev, H, 0.0f);
  } else {
    std::copy_n(h, H, prev);
  }
  if (args.recurrence != Recurrence::kLstm) return;
  float* prev_cell = trace.previous_cell.data() + row * H;
  if (start || c == nullptr) {
    std::fill_n(prev_cell, H, 0.0f);
  } else {
    std::copy_n(c, H, prev_cell);
  }
}

}  // namespace

RecurrentShape recurrent_shape(const NetworkSpec& spec, std::size_t layer, std::size_t steps,
                               std::size_t batch) {
  const LayerSpec& l = spec.layers.at(layer);
  RecurrentShape shape;
  shape.recurrence = l.recurrence;
  shape.activation = l.activation;
  shape.alpha = l.alpha;
  shape.steps = steps;
  shape.batch = batch;
  shape.units = l.units;
  return shape;
}

std::size_t recurrent_state_index(const NetworkSpec& spec, std::size_t layer) {
  std::size_t index = 0;
  for (std::size_t k = 0; k < layer; ++k) {
    const Recurrence r = spec.layers[k].recurrence;
    index += r == Recurrence::kNone ? 0 : (r == Recurrence::kLstm ? 2 : 1);
  }
  return index;
}

void draw_recurrent_noise(std::uint64_t seed, std::size_t layer, std::uint64_t draw,
                          std::size_t rows, std::size_t units, float std_dev, float* noise) {
  constexpr std::uint64_t kRecurrentNoiseStream = 6;  // beside host_network.cpp's weight streams
  constexpr std::size_t kNoiseRows = 256;
  util::run_blocks((rows + kNoiseRows - 1) / kNoiseRows, [&](std::size_t block) {
    const std::size_t r0 = block * kNoiseRows, r1 = std::min(rows, r0 + kNoiseRows);
    RandomStream stream(seed, kRecurrentNoiseStream, layer, (draw << 32) | block);
    for (std::size_t i = r0 * units; i < r1 * units; ++i) {
      noise[i] = static_cast<float>(std_dev * stream.normal());
    }
  });
}

void draw_layer_noise(const NetworkSpec& spec, std::size_t layer, std::uint64_t& draws,
                      std::size_t rows, std::vector<float>& noise) {
  const LayerSpec& l = spec.layers[layer];
  noise.clear();
  if (l.recurrent_noise > 0.0f) {
    noise.resize(rows * l.units);
    draw_recurrent_noise(spec.seed, layer, draws++, rows, l.units, l.recurrent_noise, noise.data());
  }
}

void recurrent_forward(const Kernels& kernels, const RecurrentLayerArgs& args,
                       const float* initial_hidden, const float* initial_cell,
                       RecurrentTrace& trace) {
  const std::size_t H = args.units, width = args.gates() * H, rows = args.rows();
  const std::size_t batch = args.batch;
  const bool lstm = args.recurrence == Recurrence::kLstm;
  trace.recurrent_sum.resize(rows * width);
  trace.gates.resize(rows * width);
  trace.previous.resize(rows * H);
  trace.hidden.resize(rows * H);
  trace.previous_cell.resize(lstm ? rows * H : 0);
  trace.cell.resize(lstm ? rows * H : 0);
  for_each_sequence_chunk(batch, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b) {
      enter_step(args, b, initial_hidden ? initial_hidden + b * H : nullptr,
                 initial_cell ? initial_cell + b * H : nullptr, trace);
    }
  });
  for (std::size_t t = 0; t < args.steps; ++t) {
    const std::size_t first = t * batch;
    // h U^T of the whole batch in one product: sgemm packs U on every call, so once per step
    // (split by columns across the cores) costs far less than once per chunk of sequences.
    kernels.dense_forward(trace.previous.data() + first * H, batch, H, args.recurrent_weight, width,
                          args.weight_gain, trace.recurrent_sum.data() + first * width);
    const bool last = t + 1 == args.steps;
    for_each_sequence_chunk(batch, [&](std::size_t b0, std::size_t b1) {
      for (std::size_t row = first + b0; row < first + b1; ++row) {
        float* cell = lstm ? trace.cell.data() + row * H : nullptr;
        float* hidden = trace.hidden.data() + row * H;
        cell_forward(args, row, trace, trace.gates.data() + row * width, cell, hidden);
        if (!last) enter_step(args, row + batch, hidden, cell, trace);
      }
    });
  }
}

void recurrent_backward(const Kernels& kernels, const RecurrentLayerArgs& args,
                        RecurrentTrace& trace, const float* d_hidden,
                        const RecurrentGradients& gradients) {
  const std::size_t H = args.units, width = args.gates() * H, rows = args.rows();
  const std::size_t batch = args.batch;
  const bool lstm = args.recurrence == Recurrence::kLstm;
  // Without a gain the gradient at the pre-activations equals dxz (1 * da), and for Elman and LSTM
  // dxz equals the gradient at hz: those share dxz's storage. The rest lives in the trace, kept
  // between calls so that a training loop does not allocate (and page-fault) every backward.
  float* dxz = gradients.input_sum;
  float* da = dxz;
  if (args.gain) {
    trace.d_pre_activation.resize(rows * width);
    da = trace.d_pre_activation.data();
  }
  float* dhz = dxz;
  if (args.recurrence == Recurrence::kGru) {
    trace.d_recurrent_sum.resize(rows * width);
    dhz = trace.d_recurrent_sum.data();
  }
  // The gradient at the state (and cell) leaving the current step, carried backward in time.
  std::vector<float> carry(batch * H), carry_cell(lstm ? batch * H : 0), dprev(batch * H);
  for (std::size_t t = args.steps; t-- > 0;) {
    const std::size_t first = t * batch;
    const bool last = t + 1 == args.steps;
    for_each_sequence_chunk(batch, [&](std::size_t b0, std::size_t b1) {
      for (std::size_t b = b0; b < b1; ++b) {
        const std::size_t row = first + b;
        float* dh = carry.data() + b * H;
        const float* from_above = d_hidden + row * H;
        // No gradient comes from beyond the last step, nor crosses a start.
        if (last || (args.starts && args.starts[row + batch])) {
          std::copy_n(from_above, H, dh);
          if (lstm) std::fill_n(carry_cell.data() + b * H, H, 0.0f);
        } else {
          for (std::size_t j = 0; j < H; ++j) dh[j] += from_above[j];
        }
        cell_backward(args, row, trace, dh, lstm ? carry_cell.data() + b * H : nullptr,
                      da + row * width, dxz + row * width, dhz + row * width, dprev.data() + b * H);
      }
    });
    kernels.dense_backward_input(dhz + first * width, batch, width, args.recurrent_weight, H,
                                 args.weight_gain, dprev.data(), true);
    std::swap(carry, dprev);
  }
  if (gradients.recurrent_weight) {
    kernels.dense_backward_weight(dhz, rows, width, trace.previous.data(), H, args.weight_gain,
                                  gradients.recurrent_weight);
  }
  accumulate_modulation(args, trace, da, gradients);
}

}  // namespace locus::neuromod
