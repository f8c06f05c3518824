#include "neuromod/recurrent_layer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "neuromod/random.hpp"
#include "util/parallel.hpp"

namespace locus::neuromod {

namespace {

inline float sigmoid(float v) {
  return 1.0f / (1.0f + std::exp(-v));
}

inline float activate(Activation activation, float v) {
  switch (activation) {
    case Activation::kRelu:
      return v > 0.0f ? v : 0.0f;
    case Activation::kTanh:
      return std::tanh(v);
    case Activation::kSoftplus:
      return v > 20.0f ? v : std::log1p(std::exp(v));
    case Activation::kIdentity:
      break;
  }
  return v;
}

// The activation's derivative from its output (softplus: sigmoid(v) = 1 - e^-out).
inline float slope(Activation activation, float out) {
  switch (activation) {
    case Activation::kRelu:
      return out > 0.0f ? 1.0f : 0.0f;
    case Activation::kTanh:
      return 1.0f - out * out;
    case Activation::kSoftplus:
      return -std::expm1(-out);
    case Activation::kIdentity:
      break;
  }
  return 1.0f;
}

// Runs body(b0, b1) for each chunk of sequences [b0, b1), in parallel.
template <typename Body>
void for_each_sequence_chunk(std::size_t batch, const Body& body) {
  util::run_blocks((batch + kSequenceChunk - 1) / kSequenceChunk, [&](std::size_t c) {
    body(c * kSequenceChunk, std::min(batch, (c + 1) * kSequenceChunk));
  });
}

// The gate pre-activations' modulation of one row: gain and bias of its context (or 1 and 0).
struct RowModulation {
  const float* gain;
  const float* bias;
  float g(std::size_t j) const { return gain ? gain[j] : 1.0f; }
  float b(std::size_t j) const { return bias ? bias[j] : 0.0f; }
};

RowModulation row_modulation(const RecurrentLayerArgs& args, std::size_t row) {
  const std::size_t width = args.gates() * args.units;
  const std::size_t c = std::size_t(args.row_context[row]);
  return {args.gain ? args.gain + c * width : nullptr, args.bias ? args.bias + c * width : nullptr};
}

// One row's gates and new state from its sums (spec.hpp's equations).
void cell_forward(const RecurrentLayerArgs& args, std::size_t row, const RecurrentTrace& trace,
                  float* gates, float* cell, float* hidden) {
  const std::size_t H = args.units;
  const RowModulation m = row_modulation(args, row);
  const float* xz = trace.input_sum.data() + row * args.gates() * H;
  const float* hz = trace.recurrent_sum.data() + row * args.gates() * H;
  const float* prev = trace.previous.data() + row * H;
  switch (args.recurrence) {
    case Recurrence::kElman: {
      const float* noise = trace.noise.empty() ? nullptr : trace.noise.data() + row * H;
      for (std::size_t j = 0; j < H; ++j) {
        const float a = m.g(j) * (xz[j] + hz[j]) + m.b(j) + (noise ? noise[j] : 0.0f);
        gates[j] = activate(args.activation, a);
        hidden[j] = (1.0f - args.alpha) * prev[j] + args.alpha * gates[j];
      }
      break;
    }
    case Recurrence::kGru:
      for (std::size_t j = 0; j < H; ++j) {
        const std::size_t jr = j, jz = H + j, jn = 2 * H + j;
        const float r = sigmoid(m.g(jr) * (xz[jr] + hz[jr]) + m.b(jr));
        const float z = sigmoid(m.g(jz) * (xz[jz] + hz[jz]) + m.b(jz));
        const float n = std::tanh(m.g(jn) * (xz[jn] + r * hz[jn]) + m.b(jn));
        gates[jr] = r;
        gates[jz] = z;
        gates[jn] = n;
        hidden[j] = (1.0f - z) * n + z * prev[j];
      }
      break;
    case Recurrence::kLstm: {
      const float* prev_cell = trace.previous_cell.data() + row * H;
      for (std::size_t j = 0; j < H; ++j) {
        float a[4];
        for (std::size_t k = 0; k < 4; ++k) {
          const std::size_t jk = k * H + j;
          a[k] = m.g(jk) * (xz[jk] + hz[jk]) + m.b(jk);
        }
        const float i = sigmoid(a[0]), f = sigmoid(a[1]), u = std::tanh(a[2]), o = sigmoid(a[3]);
        gates[j] = i;
        gates[H + j] = f;
        gates[2 * H + j] = u;
        gates[3 * H + j] = o;
        cell[j] = f * prev_cell[j] + i * u;
        hidden[j] = o * std::tanh(cell[j]);
      }
      break;
    }
    case Recurrence::kNone:
      break;
  }
}

// One row's backward step. dh: the gradient at its output h' (from above and from the next step);
// dcell (LSTM): the gradient at its cell state C' from the next step, replaced by the gradient at
// the cell state entering the step. Writes da (the gradient at the gate pre-activations, for the
// gain and bias), dxz and dhz, and sets dprev to the gradient at the entering state that does not
// pass through U.
void cell_backward(const RecurrentLayerArgs& args, std::size_t row, const RecurrentTrace& trace,
                   const float* dh, float* dcell, float* da, float* dxz, float* dhz, float* dprev) {
  const std::size_t H = args.units, width = args.gates() * H;
  const RowModulation m = row_modulation(args, row);
  const float* gates = trace.gates.data() + row * width;
  const float* hz = trace.recurrent_sum.data() + row * width;
  const float* prev = trace.previous.data() + row * H;
  switch (args.recurrence) {
    case Recurrence::kElman:
      for (std::size_t j = 0; j < H; ++j) {
        da[j] = dh[j] * args.alpha * slope(args.activation, gates[j]);
        dxz[j] = dhz[j] = m.g(j) * da[j];
        dprev[j] = (1.0f - args.alpha) * dh[j];
      }
      break;
    case Recurrence::kGru:
      for (std::size_t j = 0; j < H; ++j) {
        const std::size_t jr = j, jz = H + j, jn = 2 * H + j;
        const float r = gates[jr], z = gates[jz], n = gates[jn];
        da[jn] = dh[j] * (1.0f - z) * (1.0f - n * n);
        da[jz] = dh[j] * (prev[j] - n) * z * (1.0f - z);
        const float ds_n = m.g(jn) * da[jn];  // at xz_n + r * hz_n
        da[jr] = ds_n * hz[jn] * r * (1.0f - r);
        dxz[jn] = ds_n;
        dhz[jn] = ds_n * r;
        for (std::size_t jk : {jr, jz}) dxz[jk] = dhz[jk] = m.g(jk) * da[jk];
        dprev[j] = dh[j] * z;
      }
      break;
    case Recurrence::kLstm: {
      const float* prev_cell = trace.previous_cell.data() + row * H;
      const float* cell = trace.cell.data() + row * H;
      for (std::size_t j = 0; j < H; ++j) {
        const float i = gates[j], f = gates[H + j], u = gates[2 * H + j], o = gates[3 * H + j];
        const float tc = std::tanh(cell[j]);
        const float dc = dcell[j] + dh[j] * o * (1.0f - tc * tc);
        da[j] = dc * u * i * (1.0f - i);
        da[H + j] = dc * prev_cell[j] * f * (1.0f - f);
        da[2 * H + j] = dc * i * (1.0f - u * u);
        da[3 * H + j] = dh[j] * tc * o * (1.0f - o);
        dcell[j] = dc * f;
        dprev[j] = 0.0f;
      }
      for (std::size_t jk = 0; jk < width; ++jk) dxz[jk] = dhz[jk] = m.g(jk) * da[jk];
      break;
    }
    case Recurrence::kNone:
      break;
  }
}

// One row's share of the gain and bias gradients over columns [j0, j1): gain += da * (modulated
// sum), bias += da, in double. From `split` on (GRU's candidate, which starts at column
// `candidate`) the gain multiplies xz_n + r * hz_n, r the row's gate `candidate` columns earlier.
// The loops carry no branch, so they vectorize.
void accumulate_row(const float* __restrict da, const float* __restrict xz,
                    const float* __restrict hz, const float* __restrict gates,
                    std::size_t candidate, std::size_t j0, std::size_t split, std::size_t j1,
                    double* __restrict gain, double* __restrict bias) {
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

// gain += sum over rows of da * (modulated sum), bias += sum of da, per row context; columns in
// parallel, rows in order, in double.
void accumulate_modulation(const RecurrentLayerArgs& args, const RecurrentTrace& trace,
                           const float* da, const RecurrentGradients& gradients) {
  if (gradients.gain == nullptr && gradients.bias == nullptr) return;
  const std::size_t H = args.units, width = args.gates() * H, rows = args.rows();
  // The first column whose gain multiplies xz + r * hz (GRU's candidate; none in other cells).
  const std::size_t candidate = args.recurrence == Recurrence::kGru ? 2 * H : width;
  constexpr std::size_t kColumns = 64;
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
