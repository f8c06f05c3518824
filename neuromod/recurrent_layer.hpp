#pragma once
// The steps of one recurrent layer (Elman, GRU, LSTM) over a batch of sequences, for the host
// backends (spec.hpp has the equations). HostNetwork computes the input sums xz = s_w * x W^T of
// the whole sequence as one product, as for a dense layer, and calls recurrent_forward for the
// recurrence; backward returns the gradient at xz, from which HostNetwork forms dW and dx with the
// same products as a dense layer's. The products here (h U^T per step, dU over the sequence) go
// through Kernels, so the CPU backend runs them with BLAS and the reference with double sums.
//
// Parallelism and determinism: each step runs its product h U^T (backward: dhz U) over the whole
// batch as one Kernels call, which splits it by shape (U is packed once per step, not once per
// task), then the cell math in tasks of kSequenceChunk sequences (never split by thread count); the
// sums over rows (dU, the gains' and biases' gradients) are formed after the steps in a fixed
// order. Results are bit-identical for any number of threads.
//
// Rows are time-major: row t * batch + b is sequence b at step t.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "neuromod/kernels.hpp"
#include "neuromod/spec.hpp"

namespace locus::neuromod {

// Sequences per task of the cell math in recurrent_forward and recurrent_backward.
inline constexpr std::size_t kSequenceChunk = 16;

// A recurrent layer over a sequence batch: its cell and `steps` steps of `batch` sequences.
struct RecurrentShape {
  Recurrence recurrence = Recurrence::kElman;
  Activation activation = Activation::kTanh;  // Elman only
  float alpha = 1.0f;                         // Elman only
  std::size_t steps = 0, batch = 0, units = 0;
  std::size_t gates() const { return gate_count(recurrence); }
  std::size_t width() const { return gates() * units; }
  std::size_t rows() const { return steps * batch; }
  bool lstm() const { return recurrence == Recurrence::kLstm; }
};

// The shape of layer `layer` of `spec` over `steps` steps of `batch` sequences.
RecurrentShape recurrent_shape(const NetworkSpec& spec, std::size_t layer, std::size_t steps,
                               std::size_t batch);

// The index in a RecurrentState (network.hpp) of layer `layer`'s hidden state; an LSTM's cell
// state follows it.
std::size_t recurrent_state_index(const NetworkSpec& spec, std::size_t layer);

struct RecurrentLayerArgs : RecurrentShape {
  const float* recurrent_weight = nullptr;    // U (gates * units, units)
  float weight_gain = 1.0f;                   // s_w, on both products
  const float* gain = nullptr;                // (contexts, gates * units), or null (1)
  const float* bias = nullptr;                // (contexts, gates * units), or null (0)
  const std::int32_t* row_context = nullptr;  // (rows)
  const std::uint8_t* starts = nullptr;       // (rows), or null: non-zero zeroes the state first
};

// What the forward pass keeps for backward; every array (rows, width) row-major.
struct RecurrentTrace {
  std::vector<float> input_sum;      // xz (rows, gates * units): the caller fills it first
  std::vector<float> noise;          // Elman: noise on each pre-activation (rows, units), or empty
  std::vector<float> recurrent_sum;  // hz (rows, gates * units)
  std::vector<float> gates;          // gate outputs (rows, gates * units): Elman act(a), GRU r z n,
                                     // LSTM i f u o
  std::vector<float> previous;       // the state entering each step (rows, units), 0 after a start
  std::vector<float> previous_cell;  // LSTM: the cell state entering each step (rows, units)
  std::vector<float> cell;           // LSTM: the cell state after each step (rows, units)
  std::vector<float> hidden;         // the output h' of each step (rows, units)
  // recurrent_backward's scratch, kept between calls so that a training loop does not allocate:
  std::vector<float> d_pre_activation;  // with a gain: the gradient at the gates' pre-activations
  std::vector<float> d_recurrent_sum;   // GRU: the gradient at hz
};

// The noise on an Elman layer's pre-activations (rows, units) for the network's `draw`-th noisy
// pass of layer `layer`: a random stream per block of 256 rows, so the draw does not depend on the
// thread count, and every backend draws the same noise (the CUDA one uploads it).
void draw_recurrent_noise(std::uint64_t seed, std::size_t layer, std::uint64_t draw,
                          std::size_t rows, std::size_t units, float std_dev, float* noise);
// A pass's noise for layer `layer` of `spec` over `rows` rows into `noise` (emptied when the layer
// has none), as every backend draws it: one draw per noisy layer and pass, counted in `draws`.
void draw_layer_noise(const NetworkSpec& spec, std::size_t layer, std::uint64_t& draws,
                      std::size_t rows, std::vector<float>& noise);

// Runs the steps. initial_hidden and initial_cell (LSTM) are (batch, units), or null for zeros.
// Reads trace.input_sum (and trace.noise if not empty); writes the rest of the trace.
void recurrent_forward(const Kernels& kernels, const RecurrentLayerArgs& args,
                       const float* initial_hidden, const float* initial_cell,
                       RecurrentTrace& trace);

struct RecurrentGradients {
  float* input_sum = nullptr;         // out: dLoss/dxz (rows, gates * units)
  float* recurrent_weight = nullptr;  // += dU (gates * units, units), or null (not learned)
  float* gain = nullptr;              // += per context (contexts, gates * units), or null
  float* bias = nullptr;              // += per context (contexts, gates * units), or null
  std::size_t contexts = 0;           // rows of gain and bias
};

// Backpropagates through all the steps from d_hidden (rows, units), the gradient at each step's
// output from above. No gradient reaches the initial state or crosses a start.
void recurrent_backward(const Kernels& kernels, const RecurrentLayerArgs& args,
                        RecurrentTrace& trace, const float* d_hidden,
                        const RecurrentGradients& gradients);

}  // namespace locus::neuromod
