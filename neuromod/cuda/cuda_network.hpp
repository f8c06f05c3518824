#pragma once
// CudaNetwork: the Network of network.hpp with its parameters, gradients, activations and optimizer
// state in GPU memory. make_network(spec, Backend::kCuda) returns one; everything that uses the
// Network interface (agents, the harness, checkpoints, the tests) runs on it unchanged.
//
// Through the Network interface a batch crosses the PCIe bus (inputs up, outputs down). A training
// loop whose data already lives on the device uses the device-side calls below instead, which keep
// every byte on the GPU and synchronize only where a host value is asked for:
//
//   CudaNetwork& net = as_cuda(*network);
//   DeviceArray<float> x(rows * input_dim);  DeviceArray<std::int32_t> labels(rows);  (filled)
//   DeviceArray<float> grad(rows * classes);
//   net.forward_device(x.data(), rows, context_ids);                 // ids on the host
//   net.cross_entropy_device(0, labels.data(), grad.data());         // dLoss/dlogits on device
//   net.zero_grad();  net.backward_device({grad.data()});  net.step();
//
// How the work is laid out on the device: dense layers and shared readouts are cuBLAS products over
// every row of the batch, whatever context each row belongs to (with several weight sets, one
// strided batched product per run of consecutive sets with equal row counts, over the rows sorted
// by set: a batch that does not come sorted is gathered once at the input and its head outputs
// scattered back, so forward_device's inputs and outputs and the gradients backward_device and
// cross_entropy_device take and write stay in the caller's row order); per-row context gain, bias,
// centering and activation are one fused kernel per layer (and its mirror in backward). Gradients
// of per-context parameters are reduced per context over the batch's rows in a fixed order (rows
// sorted by context on the host, fixed-size chunks, then chunk sums in order): no floating-point
// atomics, so results are bit-identical run to run. The optimizer update, the gradient norm and its
// clipping factor stay on the device; step() reads back one value (the norm, with a non-finite
// flag) because StepStats reports it.
//
// Recurrent layers (Network::forward_sequence) run as the host backends run them: the input sums of
// the whole sequence as one cuBLAS product, then per step the recurrent product h U^T (cuBLAS) and
// one fused gate kernel per cell kind, and backward per step from the last (gate kernel, then the
// carried state gradient through U), dU as one product over the sequence and the gain and bias
// gradients reduced per context as above. cuda_recurrent.hpp runs them; recurrent_plan.hpp plans
// them in plain C++ (tested on the CPU). Recurrent noise is drawn on the host exactly as the host
// backends draw it and uploaded, so the backends agree. forward() and forward_device refuse a
// recurrent network (its rows are steps of sequences); backward_device works after
// forward_sequence.
//
// Built only when CMake finds nvcc (LOCUS_CUDA=AUTO/ON); otherwise make_network(..., kCuda) throws
// an error that says so, and cuda_available() is false.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "neuromod/network.hpp"

namespace locus::neuromod {

// Device memory of `count` elements of T (uninitialized), freed on destruction. Movable only.
// upload/download are synchronous copies on the default stream, which is ordered with the work of
// every CudaNetwork (their streams block on it), so a download sees what forward_device wrote.
template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(std::size_t count);
  ~DeviceArray();
  DeviceArray(DeviceArray&& other) noexcept;
  DeviceArray& operator=(DeviceArray&& other) noexcept;
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  void upload(std::span<const T> host);  // host.size() must equal size()
  std::vector<T> download() const;

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

class CudaNetwork : public Network {
 public:
  // --- device-side compute (pointers into GPU memory) --------------------------------------------
  // Forward on inputs (rows, input_dim) already on the device; context ids on the host (one per
  // row, or empty for the selected context). Returns one device pointer per head to its outputs
  // (rows, units), valid until the next forward. Asynchronous: nothing is checked for NaN here.
  virtual std::vector<const float*> forward_device(const float* inputs, std::size_t rows,
                                                   std::span<const ContextId> context_ids = {}) = 0;
  // Backward from device gradients (rows, units) of each head (nullptr for a head without loss).
  // Asynchronous unless check_finite is on (then it checks the gradients it computed).
  virtual void backward_device(std::span<const float* const> head_gradients) = 0;
  // dLoss/dlogits of the mean softmax cross-entropy of head `head` against device labels (rows),
  // written to `gradient` (rows, units) on the device, as softmax_cross_entropy (losses.hpp) does.
  // The loss and the batch-mean softmax entropy (nats; for NGM) stay on the device until
  // last_loss_and_entropy() reads them. Labels out of range raise an error at that read.
  virtual void cross_entropy_device(std::size_t head, const std::int32_t* labels,
                                    float* gradient) = 0;
  // {loss, mean entropy} of the last cross_entropy_device (synchronizes).
  virtual std::pair<double, double> last_loss_and_entropy() = 0;
  // Waits for every queued kernel of this network.
  virtual void synchronize() = 0;

  // Kernel versions of the layer backward (bench/RESULTS.md has both timings): fused (default)
  // sums the gain and bias gradients per chunk of rows inside the backward kernel; unfused writes
  // per-row terms and reduces them in a second pass. The unfused one is also the fallback for
  // layers too wide for the fused kernel's shared memory, and the tests check one against the
  // other.
  virtual void set_fused_backward(bool enabled) = 0;
  // Kernel versions of the weight-set products: one strided batched GEMM per run of consecutive
  // sets with equal row counts (default), or one GEMM per set (the benchmark compares them).
  virtual void set_batched_set_products(bool enabled) = 0;
};

// The network as a CudaNetwork; throws InvalidArgumentError if it runs on another backend.
CudaNetwork& as_cuda(Network& network);

// A CUDA network for `spec` (what make_network(spec, Backend::kCuda) returns). Throws
// InvalidArgumentError if locus was built without CUDA or no device is present.
std::unique_ptr<CudaNetwork> make_cuda_network(const NetworkSpec& spec);

}  // namespace locus::neuromod
