// CudaNetwork's implementation: the composition of HostNetwork (forward, backward, contexts,
// optimizer, checks) with its state in GPU memory, cuBLAS for the matrix products and the kernels
// of device_kernels.cu for everything around them.
//
// The fixed structure (random weights, sparse connectivity) and each new context's initial values
// come from a HostNetwork of the same spec kept as `layout_`: one generator for both backends, so a
// CUDA network starts bit-identical to a CPU one and checkpoints move between them.

#include "neuromod/cuda/cuda_network.hpp"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "neuromod/context_table.hpp"
#include "neuromod/cuda/batch_plan.hpp"
#include "neuromod/cuda/cuda_check.hpp"
#include "neuromod/cuda/cuda_recurrent.hpp"
#include "neuromod/cuda/device_buffer.hpp"
#include "neuromod/cuda/device_kernels.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/host_network.hpp"
#include "neuromod/network_checks.hpp"
#include "neuromod/recurrent_layer.hpp"
#include "neuromod/weight_gains.hpp"

namespace locus::neuromod {

// --- DeviceArray --------------------------------------------------------------------------------

template <typename T>
DeviceArray<T>::DeviceArray(std::size_t count) : size_(count) {
  if (count == 0) return;
  const cudaError_t status = cudaMalloc(reinterpret_cast<void**>(&data_), count * sizeof(T));
  if (status != cudaSuccess) {
    data_ = nullptr;
    size_ = 0;
    throw DeviceError(fmt::format("cudaMalloc of {} bytes ({} elements of {} bytes) failed: {}",
                                  count * sizeof(T), count, sizeof(T), cudaGetErrorString(status)));
  }
}

template <typename T>
DeviceArray<T>::~DeviceArray() {
  if (data_) cudaFree(data_);  // errors cannot be reported from a destructor
}

template <typename T>
DeviceArray<T>::DeviceArray(DeviceArray&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

template <typename T>
DeviceArray<T>& DeviceArray<T>::operator=(DeviceArray&& other) noexcept {
  if (this != &other) {
    if (data_) cudaFree(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

template <typename T>
void DeviceArray<T>::upload(std::span<const T> host) {
  if (host.size() != size_) {
    throw ShapeError(fmt::format("DeviceArray::upload: {} host elements for a device array of {}",
                                 host.size(), size_));
  }
  if (size_ > 0) {
    LOCUS_CUDA_CHECK(cudaMemcpy(data_, host.data(), size_ * sizeof(T), cudaMemcpyHostToDevice));
  }
}

template <typename T>
std::vector<T> DeviceArray<T>::download() const {
  std::vector<T> host(size_);
  if (size_ > 0) {
    LOCUS_CUDA_CHECK(cudaMemcpy(host.data(), data_, size_ * sizeof(T), cudaMemcpyDeviceToHost));
  }
  return host;
}

template class DeviceArray<float>;
template class DeviceArray<double>;
template class DeviceArray<std::int32_t>;
template class DeviceArray<std::int64_t>;

// --- device queries -----------------------------------------------------------------------------

bool cuda_available() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

int cuda_device_count() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}

void use_cuda_device(int device) {
  LOCUS_CUDA_CHECK(cudaSetDevice(device));
}

std::string cuda_status() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaErrorInsufficientDriver || status == cudaErrorNoDevice) {
    return fmt::format("no CUDA device or driver on this machine (CUDA: {})",
                       cudaGetErrorString(status));
  }
  if (status != cudaSuccess) {
    return fmt::format("no usable CUDA device ({}: {})", cudaGetErrorName(status),
                       cudaGetErrorString(status));
  }
  if (count == 0) return "no CUDA device";
  int device = 0;
  cudaDeviceProp properties{};
  LOCUS_CUDA_CHECK(cudaGetDevice(&device));
  LOCUS_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
  return fmt::format("{} (compute capability {}.{}, {} multiprocessors, {:.1f} GiB)",
                     properties.name, properties.major, properties.minor,
                     properties.multiProcessorCount,
                     double(properties.totalGlobalMem) / double(1 << 30));
}

namespace {

using cuda::RowGroups;

using cuda::ensure;

// Grows `array` to hold `count` elements, keeping its first `keep` elements and zeroing the rest.
void grow_keep(DeviceArray<float>& array, std::size_t count, std::size_t keep) {
  if (array.size() >= count) return;
  DeviceArray<float> bigger(count);
  if (keep > 0) {
    LOCUS_CUDA_CHECK(
        cudaMemcpy(bigger.data(), array.data(), keep * sizeof(float), cudaMemcpyDeviceToDevice));
  }
  LOCUS_CUDA_CHECK(cudaMemset(bigger.data() + keep, 0, (count - keep) * sizeof(float)));
  array = std::move(bigger);
}

using checks::find_non_finite;

class CudaNetworkImpl final : public CudaNetwork {
 public:
  explicit CudaNetworkImpl(const NetworkSpec& spec);
  ~CudaNetworkImpl() override;
  CudaNetworkImpl(const CudaNetworkImpl&) = delete;
  CudaNetworkImpl& operator=(const CudaNetworkImpl&) = delete;

  const NetworkSpec& spec() const override { return spec_; }
  Backend backend() const override { return Backend::kCuda; }

  using Network::add_context;
  ContextId add_context(std::size_t weight_set) override;
  std::size_t weight_set(ContextId context) const override { return layout_.weight_set(context); }
  ContextId clone_context(ContextId source) override;
  std::size_t context_count() const override { return contexts_.size(); }
  void select_context(ContextId context) override { contexts_.select(context); }
  ContextId selected_context() const override { return contexts_.selected(); }
  void set_frozen(ContextId context, bool frozen) override {
    contexts_.set_frozen(context, frozen);
  }
  bool is_frozen(ContextId context) const override { return contexts_.is_frozen(context); }

  const std::vector<Matrix>& forward(const Matrix& inputs,
                                     std::span<const ContextId> context_ids = {}) override;
  const std::vector<Matrix>& forward_sequence(
      const Matrix& inputs, std::size_t batch, std::span<const ContextId> context_ids,
      const RecurrentState* initial_state, std::span<const std::uint8_t> episode_starts) override;
  const RecurrentState& final_state() const override { return final_state_; }
  using Network::backward;
  void backward(std::span<const Matrix> head_gradients) override;
  void zero_grad() override;
  void set_gradient_mode(GradientMode mode) override { mode_ = mode; }
  GradientMode gradient_mode() const override { return mode_; }

  void set_optimizer(const OptimizerConfig& config) override;
  const OptimizerConfig& optimizer() const override { return optimizer_; }
  StepStats step() override;

  void set_weight_gain(std::size_t slot, float gain) override { weight_gains_.set(slot, gain); }
  float weight_gain(std::size_t slot) const override { return weight_gains_.get(slot); }

  std::vector<ParameterInfo> parameters() const override { return layout_.parameters(); }
  std::vector<float> read_parameter(std::string_view name, ContextId context) const override;
  void write_parameter(std::string_view name, ContextId context,
                       std::span<const float> values) override;
  std::vector<float> read_gradient(std::string_view name, ContextId context) const override;
  void add_to_gradient(std::string_view name, ContextId context,
                       std::span<const float> values) override;
  OptimizerState read_optimizer_state(std::string_view name, ContextId context) const override;
  void write_optimizer_state(std::string_view name, ContextId context,
                             const OptimizerState& state) override;
  std::vector<std::int32_t> connectivity(std::size_t layer) const override {
    return layout_.connectivity(layer);
  }
  std::uint64_t structure_digest() const override { return layout_.structure_digest(); }
  void set_check_finite(bool enabled) override { check_finite_ = enabled; }
  std::uint64_t noise_position() const override { return noise_draws_; }
  void set_noise_position(std::uint64_t position) override { noise_draws_ = position; }

  std::vector<const float*> forward_device(const float* inputs, std::size_t rows,
                                           std::span<const ContextId> context_ids) override;
  void backward_device(std::span<const float* const> head_gradients) override;
  void cross_entropy_device(std::size_t head, const std::int32_t* labels, float* gradient) override;
  std::pair<double, double> last_loss_and_entropy() override;
  void synchronize() override { LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_)); }
  void set_matmul_precision(MatmulPrecision precision) override;
  MatmulPrecision matmul_precision() const override {
    return tf32_ ? MatmulPrecision::kTf32 : MatmulPrecision::kFloat32;
  }
  void set_fused_backward(bool enabled) override { fused_backward_ = enabled; }
  void set_batched_set_products(bool enabled) override { batched_set_products_ = enabled; }

 private:
  struct Block {
    std::string name;
    ParameterKind kind;
    std::size_t index;
    bool per_context;
    bool trainable;
    std::size_t width;
    std::size_t capacity = 0;  // instances the device arrays hold
    DeviceArray<float> value, grad, first, second;
    std::vector<std::int64_t> steps;
    std::vector<char> has_grad;
    std::size_t instances() const { return steps.size(); }
    float* value_of(std::size_t i) { return value.data() + i * width; }
    const float* value_of(std::size_t i) const { return value.data() + i * width; }
  };
  static constexpr int kNoBlock = -1;
  struct LayerState {
    int weight = kNoBlock, recurrent_weight = kNoBlock, gain = kNoBlock, bias = kNoBlock;
    DeviceArray<std::int32_t> sparse_index;          // (units, k)
    DeviceArray<std::int32_t> input_begin, entries;  // the transpose, CSR over inputs
    DeviceArray<float> linear, saved, hidden;        // (rows, units) of the last forward
    const float* saved_view = nullptr;               // saved, or linear when they are equal
    // Recurrent layers: the trace and the steps (linear holds the input sums, (rows, width)).
    std::unique_ptr<cuda::DeviceRecurrentLayer> recurrent;
    std::vector<float>
        noise;  // the last forward's recurrent noise (rows, units), drawn on the host
  };
  struct HeadState {
    int weight = kNoBlock, bias = kNoBlock, output_gain = kNoBlock;
    DeviceArray<float> linear, output, uploaded_gradient;
    DeviceArray<float> sorted;  // the output, then the incoming gradient, in the network's order
  };

  bool learns(const Block& block) const {
    return block.trainable && (block.per_context || mode_ == GradientMode::kAllTrainable);
  }
  Block& find_block(std::string_view name, ContextId context, std::size_t& instance) {
    return checks::find_block(blocks_, spec_.name, name, context, contexts_.size(), instance);
  }
  const Block& find_block(std::string_view name, ContextId context, std::size_t& instance) const {
    return checks::find_block(blocks_, spec_.name, name, context, contexts_.size(), instance);
  }
  void reserve_instances(Block& block, std::size_t instances);
  cuda::ModulationLaunch modulation(std::size_t layer) const;
  const float* block_value(int block) const {
    return block == kNoBlock ? nullptr : blocks_[std::size_t(block)].value.data();
  }
  // episode_starts: empty, or one flag per row (sequences), uploaded with the batch.
  void prepare_batch(std::size_t rows, std::span<const ContextId> context_ids,
                     std::span<const std::uint8_t> episode_starts = {});
  // forward_device after its checks (the batch of `rows` rows with these contexts and, for a
  // sequence batch, steps_, batch_ and initial_state_ set).
  std::vector<const float*> run_forward(const float* inputs, std::size_t rows,
                                        std::span<const ContextId> context_ids,
                                        std::span<const std::uint8_t> episode_starts);
  // Host inputs up, run_forward, outputs down, checked (forward and forward_sequence).
  const std::vector<Matrix>& run_host_forward(const Matrix& inputs,
                                              std::span<const ContextId> context_ids,
                                              std::span<const std::uint8_t> episode_starts);
  // Rows of layer l's weight and of its linear part: units, times the gates of a recurrent layer.
  std::size_t layer_width(std::size_t l) const {
    return gate_count(spec_.layers[l].recurrence) * spec_.layers[l].units;
  }
  cuda::RecurrentInputs recurrent_inputs(std::size_t l) const;
  void recurrent_forward(std::size_t l, const float* input_sum, float* hidden);
  // Layer l's backward from dh (feature_grad_) to the gradient at its input sums (dz).
  void recurrent_backward(std::size_t l, float* dz);
  void download_final_state();
  void head_forward(std::size_t head, const float* features);
  void head_backward(std::size_t head, const float* dy, const float* features, float* dfeatures);
  void modulation_backward(std::size_t l, float* dz, bool dz_needed);
  void mark(Block& block);
  void check_gradients();

  // z (rows, out) = alpha * x (rows, in) . W^T (W (out, in)) + beta * z
  void gemm_forward(const float* x, std::size_t rows, std::size_t in, const float* weight,
                    std::size_t out, float alpha, float* z);
  // dx (rows, in) = alpha * dz (rows, out) . W + beta * dx
  void gemm_backward_input(const float* dz, std::size_t rows, std::size_t out, const float* weight,
                           std::size_t in, float alpha, float beta, float* dx);
  // The products with a fixed weight of one (out, in) matrix per weight set, `weights` (sets, out,
  // in), each row through its context's set. forward: c = z (rows, out) = alpha * a . W^T;
  // backward: c = dx (rows, in) = alpha * a . W + beta * dx (beta 0 or 1). One GEMM with one set;
  // with several, one strided batched GEMM per run of consecutive sets with equal row counts (the
  // network's rows are sorted by set: forward_device gathered them if they came unsorted).
  void set_products(bool forward, const float* a, const float* weights, std::size_t out,
                    std::size_t in, float alpha, float beta, float* c);
  // dW (out, in) += alpha * dz^T . x
  void gemm_backward_weight(const float* dz, std::size_t rows, std::size_t out, const float* x,
                            std::size_t in, float alpha, float* dweight);

  NetworkSpec spec_;
  HostNetwork layout_;
  struct StreamDeleter {
    void operator()(cudaStream_t stream) const { cudaStreamDestroy(stream); }
  };
  struct CublasDeleter {
    void operator()(cublasHandle_t handle) const { cublasDestroy(handle); }
  };
  // Owned, so that a constructor failing half-way releases them.
  std::unique_ptr<std::remove_pointer_t<cudaStream_t>, StreamDeleter> stream_owner_;
  std::unique_ptr<std::remove_pointer_t<cublasHandle_t>, CublasDeleter> cublas_owner_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  bool tf32_ = false;
  bool fused_backward_ = true;
  bool batched_set_products_ = true;
  std::vector<Block> blocks_;
  std::vector<LayerState> layers_;
  std::vector<HeadState> heads_;
  ContextTable contexts_;
  GradientMode mode_ = GradientMode::kAllTrainable;
  OptimizerConfig optimizer_;
  WeightGains weight_gains_;
  bool check_finite_ = true;

  // The last batch.
  std::size_t rows_ = 0;
  bool has_forward_ = false;
  // The last batch's plan: its contexts, groups, weight-set runs and the staging of its upload.
  cuda::BatchPlan plan_;
  // True when the batch's rows were sorted by set: the network's row i is the caller's row
  // plan_.set_order[i], and the inputs, outputs and head gradients cross between the two orders.
  bool rows_permuted_ = false;
  const std::int32_t* set_order_device_ = nullptr;  // plan_.set_order on the device
  DeviceArray<float> sorted_input_;
  DeviceArray<std::int32_t> batch_device_;
  const std::int32_t* row_context_device_ = nullptr;
  RowGroups by_context_, all_rows_;
  DeviceArray<float> input_upload_, input_kept_;
  const float* input_ = nullptr;  // the inputs backward reads (kept copy), or null
  std::vector<Matrix> outputs_;
  // The sequence batch of the last forward: forward() and forward_device run one step of `rows`
  // sequences.
  std::size_t steps_ = 1, batch_ = 0;
  const std::int32_t* starts_device_ = nullptr;    // (rows) episode starts, or null
  const RecurrentState* initial_state_ = nullptr;  // during forward_sequence only
  RecurrentState final_state_;
  std::uint64_t noise_draws_ = 0;  // noisy layer passes so far: HostNetwork's noise stream

  // Scratch.
  DeviceArray<float> feature_grad_, layer_grad_, scratch_, gain_terms_, bias_terms_, partial_;
  DeviceArray<float> bias_partial_;
  DeviceArray<float> head_dr_, head_dot_;
  std::vector<std::int32_t> step_instances_host_;
  std::vector<std::int64_t> step_numbers_host_;
  DeviceArray<std::int32_t> step_instances_;
  DeviceArray<std::int64_t> step_numbers_;
  DeviceArray<double> norm_partial_, scalars_;
  DeviceArray<std::int32_t> flag_;
  DeviceArray<float> row_loss_, row_entropy_;
  DeviceArray<double> loss_totals_;  // (2): mean loss, mean entropy
  bool has_loss_ = false;
};

CudaNetworkImpl::CudaNetworkImpl(const NetworkSpec& spec)
    : spec_(spec), layout_(spec, Backend::kReference), scalars_(2), flag_(2), loss_totals_(2) {
  // A blocking stream: work a caller queues on the default stream (DeviceArray's copies, its own
  // kernels) is ordered with this network's work, so a download after forward_device never reads
  // a buffer the network is still writing.
  LOCUS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamDefault));
  stream_owner_.reset(stream_);
  const cublasStatus_t created = cublasCreate(&cublas_);
  if (created != CUBLAS_STATUS_SUCCESS) {
    throw DeviceError(fmt::format("cublasCreate failed: {} ({})", cublasGetStatusName(created),
                                  cublasGetStatusString(created)));
  }
  cublas_owner_.reset(cublas_);
  LOCUS_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  LOCUS_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));

  // The same blocks as the layout, in the same order: shared ones, then context 0's.
  const std::vector<ParameterInfo> infos = layout_.parameters();
  layers_.resize(spec_.layers.size());
  heads_.resize(spec_.heads.size());
  for (const ParameterInfo& info : infos) {
    if (info.context != kSharedContext && info.context != 0) continue;
    Block block;
    block.name = info.name;
    block.kind = info.kind;
    block.index = info.index;
    block.per_context = info.context != kSharedContext;
    block.trainable = info.trainable;
    block.width = info.size();
    const int id = static_cast<int>(blocks_.size());
    switch (info.kind) {
      case ParameterKind::kLayerWeight:
        layers_[info.index].weight = id;
        break;
      case ParameterKind::kLayerRecurrentWeight:
        layers_[info.index].recurrent_weight = id;
        break;
      case ParameterKind::kLayerGain:
        layers_[info.index].gain = id;
        break;
      case ParameterKind::kLayerBias:
        layers_[info.index].bias = id;
        break;
      case ParameterKind::kHeadWeight:
        heads_[info.index].weight = id;
        break;
      case ParameterKind::kHeadBias:
        heads_[info.index].bias = id;
        break;
      case ParameterKind::kHeadOutputGain:
        heads_[info.index].output_gain = id;
        break;
    }
    blocks_.push_back(std::move(block));
  }
  for (Block& block : blocks_) {
    if (block.per_context) continue;
    reserve_instances(block, 1);
    block.steps.assign(1, 0);
    block.has_grad.assign(1, 0);
    const std::vector<float> values = layout_.read_parameter(block.name, kSharedContext);
    LOCUS_CUDA_CHECK(cudaMemcpy(block.value.data(), values.data(), values.size() * sizeof(float),
                                cudaMemcpyHostToDevice));
  }
  std::size_t fan_in = spec_.input_dim;
  for (std::size_t l = 0; l < spec_.layers.size(); ++l) {
    const LayerSpec& layer = spec_.layers[l];
    if (layer.recurrence != Recurrence::kNone) {
      layers_[l].recurrent = std::make_unique<cuda::DeviceRecurrentLayer>();
    }
    if (layer.kind == LayerKind::kSparseBinary) {
      const std::vector<std::int32_t> index = layout_.connectivity(l);
      layers_[l].sparse_index = DeviceArray<std::int32_t>(index.size());
      layers_[l].sparse_index.upload(index);
      // The transpose: for each input, the positions j * k + t that read it, in increasing order.
      std::vector<std::int32_t> begin(fan_in + 1, 0), entries(index.size());
      for (std::int32_t i : index) ++begin[std::size_t(i) + 1];
      for (std::size_t i = 0; i < fan_in; ++i) begin[i + 1] += begin[i];
      std::vector<std::int32_t> fill(begin.begin(), begin.end() - 1);
      for (std::size_t position = 0; position < index.size(); ++position) {
        entries[std::size_t(fill[std::size_t(index[position])]++)] =
            static_cast<std::int32_t>(position);
      }
      layers_[l].input_begin = DeviceArray<std::int32_t>(begin.size());
      layers_[l].input_begin.upload(begin);
      layers_[l].entries = DeviceArray<std::int32_t>(entries.size());
      layers_[l].entries.upload(entries);
    }
    fan_in = layer.units;
  }
  weight_gains_.reset(spec_.layers.size() + spec_.heads.size());
  outputs_.resize(spec_.heads.size());
  // The layout already holds context 0; mirror it on the device.
  for (Block& block : blocks_) {
    if (!block.per_context) continue;
    reserve_instances(block, 1);
    block.steps.assign(1, 0);
    block.has_grad.assign(1, 0);
    const std::vector<float> values = layout_.read_parameter(block.name, 0);
    LOCUS_CUDA_CHECK(cudaMemcpy(block.value.data(), values.data(), values.size() * sizeof(float),
                                cudaMemcpyHostToDevice));
  }
  contexts_.add(0);
}

CudaNetworkImpl::~CudaNetworkImpl() = default;

void CudaNetworkImpl::reserve_instances(Block& block, std::size_t instances) {
  if (block.capacity >= instances) return;
  const std::size_t capacity = std::max(instances, block.capacity * 2);
  const std::size_t keep = block.instances() * block.width;
  grow_keep(block.value, capacity * block.width, keep);
  // Fixed weights never get a gradient: no memory for one (read_gradient returns zeros).
  if (block.trainable) grow_keep(block.grad, capacity * block.width, keep);
  if (block.first.size() > 0) grow_keep(block.first, capacity * block.width, keep);
  if (block.second.size() > 0) grow_keep(block.second, capacity * block.width, keep);
  block.capacity = capacity;
}

ContextId CudaNetworkImpl::add_context(std::size_t weight_set) {
  const ContextId id = layout_.add_context(weight_set);  // initial values and the checks
  for (Block& block : blocks_) {
    if (!block.per_context) continue;
    reserve_instances(block, std::size_t(id) + 1);
    const std::vector<float> values = layout_.read_parameter(block.name, id);
    LOCUS_CUDA_CHECK(cudaMemcpy(block.value_of(std::size_t(id)), values.data(),
                                values.size() * sizeof(float), cudaMemcpyHostToDevice));
    block.steps.push_back(0);
    block.has_grad.push_back(0);
  }
  contexts_.add(weight_set);
  return id;
}

ContextId CudaNetworkImpl::clone_context(ContextId source) {
  const std::size_t from = contexts_.index(source, "clone_context");
  const ContextId id = add_context(contexts_.weight_sets()[from]);
  for (Block& block : blocks_) {
    if (!block.per_context) continue;
    LOCUS_CUDA_CHECK(cudaMemcpy(block.value_of(std::size_t(id)), block.value_of(from),
                                block.width * sizeof(float), cudaMemcpyDeviceToDevice));
  }
  return id;
}

void CudaNetworkImpl::set_matmul_precision(MatmulPrecision precision) {
  if (precision == MatmulPrecision::kBfloat16) {
    throw InvalidArgumentError(
        "matmul precision bfloat16 is a CPU precision; the cuda backend has float32 and tf32");
  }
  // TF32 tensor-core products: about 3e-4 relative error instead of float32's ~1e-6.
  const bool tf32 = precision == MatmulPrecision::kTf32;
  LOCUS_CUBLAS_CHECK(
      cublasSetMathMode(cublas_, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  tf32_ = tf32;
}

cuda::ModulationLaunch CudaNetworkImpl::modulation(std::size_t l) const {
  const LayerSpec& layer = spec_.layers[l];
  cuda::ModulationLaunch args;
  args.rows = rows_;
  args.units = layer.units;
  args.row_context = row_context_device_;
  args.gain = block_value(layers_[l].gain);
  args.bias = block_value(layers_[l].bias);
  args.center = layer.center;
  args.activation = layer.activation;
  args.site = layer.site;
  return args;
}

// Row row-major products through column-major cuBLAS: a row-major (r, c) matrix is a column-major
// (c, r) one, so C = A B^T in row-major is C^T = B A^T in column-major.
void CudaNetworkImpl::gemm_forward(const float* x, std::size_t rows, std::size_t in,
                                   const float* weight, std::size_t out, float alpha, float* z) {
  const float beta = 0.0f;
  LOCUS_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, int(out), int(rows), int(in),
                                 &alpha, weight, int(in), x, int(in), &beta, z, int(out)));
}

void CudaNetworkImpl::gemm_backward_input(const float* dz, std::size_t rows, std::size_t out,
                                          const float* weight, std::size_t in, float alpha,
                                          float beta, float* dx) {
  LOCUS_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, int(in), int(rows), int(out),
                                 &alpha, weight, int(in), dz, int(out), &beta, dx, int(in)));
}

void CudaNetworkImpl::set_products(bool forward, const float* a, const float* weights,
                                   std::size_t out, std::size_t in, float alpha, float beta,
                                   float* c) {
  if (spec_.weight_sets == 1) {
    if (forward) {
      gemm_forward(a, rows_, in, weights, out, alpha, c);
    } else {
      gemm_backward_input(a, rows_, out, weights, in, alpha, beta, c);
    }
    return;
  }
  // The network's rows are sorted by set (prepare_batch): each run's rows are consecutive.
  const std::size_t a_cols = forward ? in : out, c_cols = forward ? out : in;
  const auto matrix = static_cast<long long>(out * in);
  for (const cuda::SetRun& run : plan_.set_runs) {
    const float* w = weights + run.first_set * out * in;
    const float* a_run = a + run.row_begin * a_cols;
    float* c_run = c + run.row_begin * c_cols;
    const auto n = static_cast<long long>(run.rows_per_set);
    const auto a_stride = n * static_cast<long long>(a_cols);
    const auto c_stride = n * static_cast<long long>(c_cols);
    if (!batched_set_products_) {
      for (std::size_t k = 0; k < run.sets; ++k) {
        const float* w_k = w + k * out * in;
        if (forward) {
          gemm_forward(a_run + k * a_stride, run.rows_per_set, in, w_k, out, alpha,
                       c_run + k * c_stride);
        } else {
          gemm_backward_input(a_run + k * a_stride, run.rows_per_set, out, w_k, in, alpha, beta,
                              c_run + k * c_stride);
        }
      }
      continue;
    }
    if (forward) {  // z^T (out, n) = W (out, in) . x^T (in, n), in cuBLAS's column-major view
      LOCUS_CUBLAS_CHECK(cublasSgemmStridedBatched(
          cublas_, CUBLAS_OP_T, CUBLAS_OP_N, int(out), int(n), int(in), &alpha, w, int(in), matrix,
          a_run, int(in), a_stride, &beta, c_run, int(out), c_stride, int(run.sets)));
    } else {  // dx^T (in, n) = W^T (in, out) . dz^T (out, n)
      LOCUS_CUBLAS_CHECK(cublasSgemmStridedBatched(
          cublas_, CUBLAS_OP_N, CUBLAS_OP_N, int(in), int(n), int(out), &alpha, w, int(in), matrix,
          a_run, int(out), a_stride, &beta, c_run, int(in), c_stride, int(run.sets)));
    }
  }
}

void CudaNetworkImpl::gemm_backward_weight(const float* dz, std::size_t rows, std::size_t out,
                                           const float* x, std::size_t in, float alpha,
                                           float* dweight) {
  const float beta = 1.0f;
  LOCUS_CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_T, int(in), int(out), int(rows),
                                 &alpha, x, int(in), dz, int(out), &beta, dweight, int(in)));
}

// Checks the batch, plans it on the host (batch_plan.hpp) and uploads the plan in one copy.
void CudaNetworkImpl::prepare_batch(std::size_t rows, std::span<const ContextId> context_ids,
                                    std::span<const std::uint8_t> episode_starts) {
  // Whatever fails below, the previous batch can no longer be differentiated (forward() may have
  // replaced the inputs it kept already).
  has_forward_ = false;
  has_loss_ = false;
  checks::forward_inputs(spec_, rows, spec_.input_dim, context_ids.size(), contexts_.selected());
  cuda::plan_batch({.rows = rows,
                    .context_ids = context_ids,
                    .selected = contexts_.selected(),
                    .context_set = contexts_.weight_sets(),
                    .weight_sets = spec_.weight_sets,
                    .episode_starts = episode_starts},
                   plan_);
  rows_ = rows;

  const std::vector<std::int32_t>& h = plan_.staging;
  std::int32_t* device = ensure(batch_device_, h.size());
  LOCUS_CUDA_CHECK(cudaMemcpyAsync(device, h.data(), h.size() * sizeof(std::int32_t),
                                   cudaMemcpyHostToDevice, stream_));
  row_context_device_ = device;
  const auto device_groups = [device](const cuda::RowGroupsLayout& layout) {
    return RowGroups{device + layout.order, device + layout.chunks, device + layout.groups,
                     layout.chunk_count, layout.group_count};
  };
  by_context_ = device_groups(plan_.by_context);
  all_rows_ = device_groups(plan_.all_rows);
  rows_permuted_ = plan_.rows_permuted;
  set_order_device_ = rows_permuted_ ? device + plan_.set_order_at : nullptr;
  starts_device_ = episode_starts.empty() ? nullptr : device + plan_.starts_at;
}

std::vector<const float*> CudaNetworkImpl::forward_device(const float* inputs, std::size_t rows,
                                                          std::span<const ContextId> context_ids) {
  checks::feed_forward_only(spec_);
  steps_ = 1;
  batch_ = rows;
  return run_forward(inputs, rows, context_ids, {});
}

std::vector<const float*> CudaNetworkImpl::run_forward(
    const float* inputs, std::size_t rows, std::span<const ContextId> context_ids,
    std::span<const std::uint8_t> episode_starts) {
  prepare_batch(rows, context_ids, episode_starts);
  const bool keep_input = spec_.layers.empty() || blocks_[std::size_t(layers_[0].weight)].trainable;
  if (keep_input) {
    float* kept = ensure(input_kept_, rows * spec_.input_dim);
    if (rows_permuted_) {  // (forward() uploads elsewhere when there are weight sets)
      cuda::gather_rows(stream_, set_order_device_, rows, spec_.input_dim, inputs, kept);
    } else if (kept != inputs) {  // forward() uploads straight into the kept buffer
      LOCUS_CUDA_CHECK(cudaMemcpyAsync(kept, inputs, rows * spec_.input_dim * sizeof(float),
                                       cudaMemcpyDeviceToDevice, stream_));
    }
    input_ = kept;
  } else {
    input_ = nullptr;
  }
  const float* x = input_ ? input_ : inputs;
  if (!keep_input && rows_permuted_) {
    float* sorted = ensure(sorted_input_, rows * spec_.input_dim);
    cuda::gather_rows(stream_, set_order_device_, rows, spec_.input_dim, inputs, sorted);
    x = sorted;
  }
  std::size_t fan_in = spec_.input_dim;
  for (std::size_t l = 0; l < spec_.layers.size(); ++l) {
    const LayerSpec& layer = spec_.layers[l];
    LayerState& state = layers_[l];
    const std::size_t n = rows * layer.units;
    if (state.recurrent) {  // dense weights, one weight set (validate() refuses the others)
      float* input_sum = ensure(state.linear, rows * layer_width(l));
      gemm_forward(x, rows, fan_in, blocks_[std::size_t(state.weight)].value.data(), layer_width(l),
                   weight_gains_[l], input_sum);
      float* hidden = ensure(state.hidden, n);
      recurrent_forward(l, input_sum, hidden);
      x = hidden;
      fan_in = layer.units;
      continue;
    }
    float* linear = ensure(state.linear, n);
    // Without centering, the pre-activation site's saved u is z itself: keep one copy.
    const bool saved_is_linear = layer.site == ModulationSite::kPreActivation && !layer.center;
    float* saved = saved_is_linear ? linear : ensure(state.saved, n);
    state.saved_view = saved;
    float* hidden = ensure(state.hidden, n);
    const Block& weight = blocks_[std::size_t(state.weight)];
    if (layer.kind == LayerKind::kDenseGaussian) {
      set_products(true, x, weight.value.data(), layer.units, fan_in, weight_gains_[l], 0.0f,
                   linear);
    } else {
      cuda::sparse_forward(stream_, x, rows, fan_in, state.sparse_index.data(), weight.value.data(),
                           layer.units, layer.sparse_k, weight_gains_[l], linear);
    }
    cuda::modulate_forward(stream_, modulation(l), linear, saved, hidden);
    x = hidden;
    fan_in = layer.units;
  }
  std::vector<const float*> outputs;
  for (std::size_t h = 0; h < spec_.heads.size(); ++h) {
    head_forward(h, x);
    outputs.push_back(heads_[h].output.data());
  }
  has_forward_ = true;
  return outputs;
}

void CudaNetworkImpl::head_forward(std::size_t h, const float* features) {
  const HeadSpec& head = spec_.heads[h];
  HeadState& state = heads_[h];
  const std::size_t m = head.units, f = spec_.feature_dim();
  const float scale = weight_gains_[spec_.layers.size() + h];
  float* linear = ensure(state.linear, rows_ * m);
  // `output` is in the caller's row order; a permuted batch computes it in the network's first.
  float* output = ensure(state.output, rows_ * m);
  float* network_order = rows_permuted_ ? ensure(state.sorted, rows_ * m) : output;
  const Block& weight = blocks_[std::size_t(state.weight)];
  if (!weight.per_context) {
    set_products(true, features, weight.value.data(), m, f, scale, 0.0f, linear);
  } else {
    cuda::context_readout_forward(stream_, rows_, m, f, row_context_device_, features,
                                  weight.value.data(), scale, linear);
  }
  const bool bias_per_context =
      state.bias != kNoBlock && blocks_[std::size_t(state.bias)].per_context;
  cuda::head_output(stream_, rows_, m, row_context_device_, linear, block_value(state.output_gain),
                    block_value(state.bias), bias_per_context, network_order);
  if (rows_permuted_) {
    cuda::scatter_rows(stream_, set_order_device_, rows_, m, network_order, output);
  }
}

const std::vector<Matrix>& CudaNetworkImpl::forward(const Matrix& inputs,
                                                    std::span<const ContextId> context_ids) {
  checks::feed_forward_only(spec_);
  checks::forward_inputs(spec_, inputs.shape()[0], inputs.shape()[1], context_ids.size(),
                         contexts_.selected());
  steps_ = 1;
  batch_ = inputs.shape()[0];
  return run_host_forward(inputs, context_ids, {});
}

const std::vector<Matrix>& CudaNetworkImpl::run_host_forward(
    const Matrix& inputs, std::span<const ContextId> context_ids,
    std::span<const std::uint8_t> episode_starts) {
  const std::size_t rows = inputs.shape()[0];
  if (check_finite_) checks::finite_inputs(inputs.data(), inputs.size(), spec_.input_dim);
  has_forward_ = false;  // the upload below may replace the inputs the last batch kept
  // Uploaded where backward will read them if it needs them (no second device copy), unless the
  // rows may be permuted into the kept buffer (weight sets).
  const bool keep_input =
      (spec_.layers.empty() || blocks_[std::size_t(layers_[0].weight)].trainable) &&
      spec_.weight_sets == 1;
  float* upload = ensure(keep_input ? input_kept_ : input_upload_, inputs.size());
  LOCUS_CUDA_CHECK(cudaMemcpyAsync(upload, inputs.data(), inputs.size() * sizeof(float),
                                   cudaMemcpyHostToDevice, stream_));
  const std::vector<const float*> device_outputs =
      run_forward(upload, rows, context_ids, episode_starts);
  for (std::size_t h = 0; h < spec_.heads.size(); ++h) {
    Matrix& y = outputs_[h];
    const std::size_t m = spec_.heads[h].units;
    if (y.shape()[0] != rows || y.shape()[1] != m) y.resize({rows, m});
    LOCUS_CUDA_CHECK(cudaMemcpyAsync(y.data(), device_outputs[h], rows * m * sizeof(float),
                                     cudaMemcpyDeviceToHost, stream_));
  }
  LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (check_finite_) {
    for (std::size_t h = 0; h < spec_.heads.size(); ++h) {
      const Matrix& y = outputs_[h];
      if (const std::size_t i = find_non_finite(y.data(), y.size()); i < y.size()) {
        has_forward_ = false;
        throw NonFiniteError(fmt::format(
            "non-finite value {} in the output of head '{}' at row {}, column {} (inputs were "
            "finite: the parameters or weight gains overflow)",
            y.data()[i], spec_.heads[h].name, i / spec_.heads[h].units, i % spec_.heads[h].units));
      }
    }
  }
  return outputs_;
}

void CudaNetworkImpl::mark(Block& block) {
  if (!block.per_context) {
    block.has_grad[0] = 1;
    return;
  }
  for (std::size_t c = 0; c < plan_.context_in_batch.size(); ++c) {
    if (plan_.context_in_batch[c]) block.has_grad[c] = 1;
  }
}

void CudaNetworkImpl::backward(std::span<const Matrix> head_gradients) {
  checks::backward_call(has_forward_, plan_.context_in_batch.size() == contexts_.size(),
                        head_gradients.size(), spec_.heads.size());
  std::vector<const float*> device(spec_.heads.size(), nullptr);
  for (std::size_t h = 0; h < spec_.heads.size(); ++h) {
    const Matrix& grad = head_gradients[h];
    if (grad.size() == 0) continue;
    checks::head_gradient(spec_.heads[h], rows_, grad.shape()[0], grad.shape()[1], grad.data(),
                          check_finite_);
    float* upload = ensure(heads_[h].uploaded_gradient, grad.size());
    LOCUS_CUDA_CHECK(cudaMemcpyAsync(upload, grad.data(), grad.size() * sizeof(float),
                                     cudaMemcpyHostToDevice, stream_));
    device[h] = upload;
  }
  backward_device(device);
  // The host gradients may be freed once we return: wait for the uploads (and the backward).
  LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void CudaNetworkImpl::backward_device(std::span<const float* const> head_gradients) {
  checks::backward_call(has_forward_, plan_.context_in_batch.size() == contexts_.size(),
                        head_gradients.size(), spec_.heads.size());
  const std::size_t num_layers = spec_.layers.size();
  std::size_t lowest = num_layers;
  for (std::size_t l = num_layers; l-- > 0;) {
    for (int b :
         {layers_[l].weight, layers_[l].recurrent_weight, layers_[l].gain, layers_[l].bias}) {
      if (b != kNoBlock && learns(blocks_[std::size_t(b)])) lowest = l;
    }
  }
  const float* features = num_layers > 0 ? layers_[num_layers - 1].hidden.data() : input_;
  const std::size_t f = spec_.feature_dim();
  const bool trunk_learns = lowest < num_layers;
  if (trunk_learns) {
    float* fg = ensure(feature_grad_, rows_ * f);
    LOCUS_CUDA_CHECK(cudaMemsetAsync(fg, 0, rows_ * f * sizeof(float), stream_));
  }
  for (std::size_t h = 0; h < spec_.heads.size(); ++h) {
    if (head_gradients[h] == nullptr) continue;
    const float* dy = head_gradients[h];
    if (rows_permuted_) {  // into the network's row order
      const std::size_t m = spec_.heads[h].units;
      float* sorted = ensure(heads_[h].sorted, rows_ * m);
      cuda::gather_rows(stream_, set_order_device_, rows_, m, dy, sorted);
      dy = sorted;
    }
    head_backward(h, dy, features, trunk_learns ? feature_grad_.data() : nullptr);
  }
  for (std::size_t l = num_layers; trunk_learns && l-- > lowest;) {
    const LayerSpec& layer = spec_.layers[l];
    LayerState& state = layers_[l];
    const std::size_t fan_in = l == 0 ? spec_.input_dim : spec_.layers[l - 1].units;
    Block& weight = blocks_[std::size_t(state.weight)];
    const std::size_t width = layer_width(l);
    float* dz = ensure(layer_grad_, rows_ * width);
    if (state.recurrent) {
      recurrent_backward(l, dz);
    } else {
      modulation_backward(l, dz, learns(weight) || l > lowest);
    }
    const float* layer_input = l == 0 ? input_ : layers_[l - 1].hidden.data();
    const float scale = weight_gains_[l];
    if (learns(weight)) {
      if (layer_input == nullptr) {
        throw Error("backward: the inputs were not kept for a trainable first layer");
      }
      if (layer.kind == LayerKind::kDenseGaussian) {
        gemm_backward_weight(dz, rows_, width, layer_input, fan_in, scale, weight.grad.data());
      } else {
        cuda::sparse_backward_weight(stream_, dz, rows_, layer.units, state.sparse_index.data(),
                                     layer.sparse_k, layer_input, fan_in, scale,
                                     weight.grad.data());
      }
      weight.has_grad[0] = 1;
    }
    if (l > lowest) {
      float* dx = ensure(scratch_, rows_ * fan_in);
      if (layer.kind == LayerKind::kDenseGaussian) {
        set_products(false, dz, weight.value.data(), width, fan_in, scale, 0.0f, dx);
      } else {
        cuda::sparse_backward_input(stream_, dz, rows_, layer.units, state.input_begin.data(),
                                    state.entries.data(), weight.value.data(), layer.sparse_k,
                                    fan_in, scale, dx, false);
      }
      std::swap(scratch_, feature_grad_);
    }
  }
  if (check_finite_) check_gradients();
}

// Layer l's (feed-forward) modulation backward from dh (feature_grad_) to dz (written when
// dz_needed), with the gain and bias gradients reduced per context.
void CudaNetworkImpl::modulation_backward(std::size_t l, float* dz, bool dz_needed) {
  const LayerSpec& layer = spec_.layers[l];
  LayerState& state = layers_[l];
  const std::size_t n = rows_ * layer.units;
  Block* gain = state.gain == kNoBlock ? nullptr : &blocks_[std::size_t(state.gain)];
  Block* bias = state.bias == kNoBlock ? nullptr : &blocks_[std::size_t(state.bias)];
  const bool gain_learns = gain && learns(*gain), bias_learns = bias && learns(*bias);
  const std::size_t partial_size = std::size_t(by_context_.chunk_count) * layer.units;
  if ((gain_learns || bias_learns) && fused_backward_ &&
      cuda::fused_modulate_backward_fits(layer.units, layer.center && dz_needed)) {
    // Gain and bias sums per chunk of rows inside the backward kernel: the per-row terms never
    // touch device memory.
    float* gain_partial = gain_learns ? ensure(partial_, partial_size) : nullptr;
    float* bias_partial = bias_learns ? ensure(bias_partial_, partial_size) : nullptr;
    cuda::modulate_backward_fused(stream_, modulation(l), by_context_, state.saved_view,
                                  state.hidden.data(), feature_grad_.data(),
                                  dz_needed ? dz : nullptr, gain_partial, bias_partial);
    if (gain_learns)
      cuda::reduce_partials(stream_, by_context_, gain_partial, layer.units, gain->grad.data());
    if (bias_learns)
      cuda::reduce_partials(stream_, by_context_, bias_partial, layer.units, bias->grad.data());
  } else {
    cuda::modulate_backward(stream_, modulation(l), state.saved_view, state.hidden.data(),
                            feature_grad_.data(), dz,
                            gain_learns ? ensure(gain_terms_, n) : nullptr,
                            bias_learns ? ensure(bias_terms_, n) : nullptr);
    float* partial = ensure(partial_, partial_size);
    if (gain_learns) {
      cuda::reduce_rows(stream_, by_context_, gain_terms_.data(), layer.units, partial,
                        gain->grad.data());
    }
    if (bias_learns) {
      cuda::reduce_rows(stream_, by_context_, bias_terms_.data(), layer.units, partial,
                        bias->grad.data());
    }
  }
  if (gain_learns) mark(*gain);
  if (bias_learns) mark(*bias);
}

void CudaNetworkImpl::head_backward(std::size_t h, const float* dy, const float* features,
                                    float* dfeatures) {
  const std::size_t m = spec_.heads[h].units, f = spec_.feature_dim();
  const float scale = weight_gains_[spec_.layers.size() + h];
  HeadState& state = heads_[h];
  Block* gain = state.output_gain == kNoBlock ? nullptr : &blocks_[std::size_t(state.output_gain)];
  const bool gain_learns = gain && learns(*gain);
  float* dr = ensure(head_dr_, rows_ * m);
  float* dot = gain_learns ? ensure(head_dot_, rows_) : nullptr;
  cuda::head_backward_terms(stream_, rows_, m, row_context_device_, dy, state.linear.data(),
                            gain ? gain->value.data() : nullptr, dr, dot);
  if (gain_learns) {
    float* partial = ensure(partial_, std::size_t(by_context_.chunk_count));
    cuda::reduce_rows(stream_, by_context_, dot, 1, partial, gain->grad.data());
    mark(*gain);
  }
  Block* bias = state.bias == kNoBlock ? nullptr : &blocks_[std::size_t(state.bias)];
  if (bias && learns(*bias)) {
    const RowGroups& groups = bias->per_context ? by_context_ : all_rows_;
    float* partial = ensure(partial_, std::size_t(groups.chunk_count) * m);
    cuda::reduce_rows(stream_, groups, dy, m, partial, bias->grad.data());
    mark(*bias);
  }
  Block& weight = blocks_[std::size_t(state.weight)];
  const bool weight_learns = learns(weight);
  if (weight_learns && features == nullptr) {
    throw Error("backward: the inputs were not kept for a trainable head");
  }
  if (!weight.per_context) {
    if (weight_learns) {
      gemm_backward_weight(dr, rows_, m, features, f, scale, weight.grad.data());
      mark(weight);
    }
    if (dfeatures) set_products(false, dr, weight.value.data(), m, f, scale, 1.0f, dfeatures);
    return;
  }
  if (weight_learns) {
    cuda::context_readout_backward_weight(stream_, by_context_, m, f, dr, features, scale,
                                          weight.grad.data());
    mark(weight);
  }
  if (dfeatures) {
    cuda::context_readout_backward_input(stream_, rows_, m, f, row_context_device_, dr,
                                         weight.value.data(), scale, dfeatures);
  }
}

// One flag over every learned gradient; only when it is set are the gradients read back to find
// the first bad element for the message.
void CudaNetworkImpl::check_gradients() {
  int* flag = flag_.data();
  LOCUS_CUDA_CHECK(cudaMemsetAsync(flag, 0, sizeof(std::int32_t), stream_));
  for (Block& block : blocks_) {
    if (!learns(block)) continue;
    cuda::flag_non_finite(stream_, block.grad.data(), block.instances() * block.width, flag);
  }
  std::int32_t bad = 0;
  LOCUS_CUDA_CHECK(cudaMemcpyAsync(&bad, flag, sizeof(bad), cudaMemcpyDeviceToHost, stream_));
  LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (!bad) return;
  for (Block& block : blocks_) {
    if (!learns(block)) continue;
    for (std::size_t i = 0; i < block.instances(); ++i) {
      std::vector<float> grad(block.width);
      LOCUS_CUDA_CHECK(cudaMemcpy(grad.data(), block.grad.data() + i * block.width,
                                  block.width * sizeof(float), cudaMemcpyDeviceToHost));
      if (const std::size_t at = find_non_finite(grad.data(), grad.size()); at < grad.size()) {
        throw NonFiniteError(fmt::format(
            "non-finite value {} in {} at element {}", grad[at],
            block.per_context ? fmt::format("the gradient of {} (context {})", block.name, i)
                              : fmt::format("the gradient of {}", block.name),
            at));
      }
    }
  }
}

void CudaNetworkImpl::zero_grad() {
  for (Block& block : blocks_) {
    for (std::size_t i = 0; i < block.instances(); ++i) {
      if (!block.has_grad[i]) continue;
      // Contiguous runs of instances with a gradient are cleared in one call.
      std::size_t end = i;
      while (end < block.instances() && block.has_grad[end]) block.has_grad[end++] = 0;
      LOCUS_CUDA_CHECK(cudaMemsetAsync(block.grad.data() + i * block.width, 0,
                                       (end - i) * block.width * sizeof(float), stream_));
      i = end - 1;
    }
  }
}

void CudaNetworkImpl::set_optimizer(const OptimizerConfig& config) {
  config.validate();
  const bool keep_state = config.kind == optimizer_.kind;
  optimizer_ = config;
  if (keep_state) return;
  for (Block& block : blocks_) {
    block.first = DeviceArray<float>();
    block.second = DeviceArray<float>();
    std::fill(block.steps.begin(), block.steps.end(), 0);
  }
}

StepStats CudaNetworkImpl::step() {
  struct Target {
    Block* block;
    std::size_t at;     // first slot in the packed instance list
    std::size_t count;  // instances of this block to update
    std::size_t norm_at;
  };
  std::vector<Target> targets;
  std::vector<std::int32_t>& instances = step_instances_host_;  // members: reused every step
  std::vector<std::int64_t>& steps = step_numbers_host_;
  instances.clear();
  steps.clear();
  std::size_t norm_slots = 0;
  for (Block& block : blocks_) {
    if (!learns(block)) continue;
    const std::size_t at = instances.size();
    for (std::size_t i = 0; i < block.instances(); ++i) {
      if (block.has_grad[i] && !(block.per_context && contexts_.frozen_at(i))) {
        instances.push_back(static_cast<std::int32_t>(i));
        steps.push_back(block.steps[i] + 1);
      }
    }
    if (instances.size() > at) {
      const std::size_t count = instances.size() - at;
      // One grid row per instance (at most 65535): checked before any state changes.
      if (count > 65535) {
        throw InvalidArgumentError(fmt::format(
            "step: {} contexts of '{}' to update at once; the CUDA backend updates at most 65535 "
            "per step (use fewer contexts per batch)",
            count, block.name));
      }
      targets.push_back({&block, at, count, norm_slots});
      norm_slots += count * cuda::norm_chunks(block.width);
    }
  }
  StepStats stats;
  if (targets.empty()) return stats;
  for (const Target& t : targets) {
    for (std::size_t k = t.at; k < t.at + t.count; ++k) ++t.block->steps[std::size_t(instances[k])];
  }
  const std::size_t state_arrays = optimizer_.state_arrays();
  for (const Target& t : targets) {
    Block& block = *t.block;
    const std::size_t elements = block.capacity * block.width;
    if (state_arrays >= 1 && block.first.size() != elements) {
      block.first = DeviceArray<float>(elements);
      LOCUS_CUDA_CHECK(cudaMemsetAsync(block.first.data(), 0, elements * sizeof(float), stream_));
    }
    if (state_arrays >= 2 && block.second.size() != elements) {
      block.second = DeviceArray<float>(elements);
      LOCUS_CUDA_CHECK(cudaMemsetAsync(block.second.data(), 0, elements * sizeof(float), stream_));
    }
  }
  std::int32_t* instances_device = ensure(step_instances_, instances.size());
  std::int64_t* steps_device = ensure(step_numbers_, steps.size());
  // Copies from pageable host memory return once the data is staged, so locals are safe here.
  LOCUS_CUDA_CHECK(cudaMemcpyAsync(instances_device, instances.data(),
                                   instances.size() * sizeof(std::int32_t), cudaMemcpyHostToDevice,
                                   stream_));
  LOCUS_CUDA_CHECK(cudaMemcpyAsync(steps_device, steps.data(), steps.size() * sizeof(std::int64_t),
                                   cudaMemcpyHostToDevice, stream_));
  double* partial = ensure(norm_partial_, norm_slots);
  for (const Target& t : targets) {
    cuda::gradient_square_sums(stream_, t.block->grad.data(), t.block->width,
                               instances_device + t.at, static_cast<int>(t.count),
                               partial + t.norm_at);
  }
  cuda::finish_norm(stream_, partial, norm_slots, optimizer_.clip_grad_norm, scalars_.data());
  cuda::UpdateRule rule;
  static_assert(int(OptimizerKind::kSgd) == 0 && int(OptimizerKind::kMomentum) == 1 &&
                    int(OptimizerKind::kAdam) == 2 && int(OptimizerKind::kRmsprop) == 3,
                "device_kernels.cu numbers the optimizer kinds 0..3");
  rule.kind = static_cast<int>(optimizer_.kind);
  rule.learning_rate = optimizer_.learning_rate;
  rule.momentum = optimizer_.momentum;
  rule.beta1 = optimizer_.beta1;
  rule.beta2 = optimizer_.beta2;
  rule.epsilon = optimizer_.epsilon;
  rule.rms_alpha = optimizer_.rms_alpha;
  rule.weight_decay = optimizer_.weight_decay;
  rule.clip_value = optimizer_.clip_grad_value;
  rule.nesterov = optimizer_.nesterov;
  rule.decoupled_decay = optimizer_.decoupled_weight_decay;
  LOCUS_CUDA_CHECK(cudaMemsetAsync(flag_.data(), 0, sizeof(std::int32_t), stream_));
  for (const Target& t : targets) {
    Block& block = *t.block;
    cuda::apply_updates(stream_, rule, block.value.data(), block.grad.data(),
                        state_arrays >= 1 ? block.first.data() : nullptr,
                        state_arrays >= 2 ? block.second.data() : nullptr, block.width,
                        instances_device + t.at, steps_device + t.at, static_cast<int>(t.count),
                        scalars_.data(), flag_.data());
  }
  double norm = 0.0;
  std::int32_t bad = 0;
  LOCUS_CUDA_CHECK(
      cudaMemcpyAsync(&norm, scalars_.data(), sizeof(double), cudaMemcpyDeviceToHost, stream_));
  LOCUS_CUDA_CHECK(
      cudaMemcpyAsync(&bad, flag_.data(), sizeof(std::int32_t), cudaMemcpyDeviceToHost, stream_));
  LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  stats.gradient_norm = norm;
  stats.clip_factor = clip_factor(optimizer_, norm);
  stats.updated_tensors = instances.size();
  if (bad && check_finite_) {
    for (const Target& t : targets) {
      Block& block = *t.block;
      for (std::size_t s = 0; s < t.count; ++s) {
        const std::size_t i = std::size_t(instances[t.at + s]);
        std::vector<float> values(block.width);
        LOCUS_CUDA_CHECK(cudaMemcpy(values.data(), block.value_of(i), block.width * sizeof(float),
                                    cudaMemcpyDeviceToHost));
        if (const std::size_t at = find_non_finite(values.data(), values.size());
            at < values.size()) {
          throw NonFiniteError(fmt::format(
              "non-finite value {} in {} after the optimizer step (gradient norm {}) at element {}",
              values[at],
              block.per_context ? fmt::format("{} (context {})", block.name, i) : block.name, norm,
              at));
        }
      }
    }
  }
  return stats;
}

void CudaNetworkImpl::cross_entropy_device(std::size_t head, const std::int32_t* labels,
                                           float* gradient) {
  if (!has_forward_) throw Error("cross_entropy_device: call forward_device first");
  if (head >= spec_.heads.size()) {
    throw InvalidArgumentError(fmt::format("cross_entropy_device: head {} out of range (0..{})",
                                           head, spec_.heads.size() - 1));
  }
  LOCUS_CUDA_CHECK(cudaMemsetAsync(flag_.data() + 1, 0, sizeof(std::int32_t), stream_));
  cuda::cross_entropy(stream_, rows_, spec_.heads[head].units, heads_[head].output.data(), labels,
                      gradient, ensure(row_loss_, rows_), ensure(row_entropy_, rows_),
                      loss_totals_.data(), flag_.data() + 1);
  has_loss_ = true;
}

std::pair<double, double> CudaNetworkImpl::last_loss_and_entropy() {
  if (!has_loss_) throw Error("last_loss_and_entropy: no cross_entropy_device since the forward");
  double totals[2] = {0.0, 0.0};
  std::int32_t bad = 0;
  LOCUS_CUDA_CHECK(cudaMemcpyAsync(totals, loss_totals_.data(), sizeof(totals),
                                   cudaMemcpyDeviceToHost, stream_));
  LOCUS_CUDA_CHECK(
      cudaMemcpyAsync(&bad, flag_.data() + 1, sizeof(bad), cudaMemcpyDeviceToHost, stream_));
  LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (bad) {
    throw InvalidArgumentError(
        "cross_entropy_device: a label is outside [0, classes); labels must index the head's "
        "units");
  }
  return {totals[0], totals[1]};
}

std::vector<float> CudaNetworkImpl::read_parameter(std::string_view name, ContextId context) const {
  std::size_t instance = 0;
  const Block& block = find_block(name, context, instance);
  std::vector<float> values(block.width);
  LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  LOCUS_CUDA_CHECK(cudaMemcpy(values.data(), block.value_of(instance), block.width * sizeof(float),
                              cudaMemcpyDeviceToHost));
  return values;
}

std::vector<float> CudaNetworkImpl::read_gradient(std::string_view name, ContextId context) const {
  std::size_t instance = 0;
  const Block& block = find_block(name, context, instance);
  std::vector<float> values(block.width, 0.0f);
  if (block.grad.size() == 0) return values;
  LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  LOCUS_CUDA_CHECK(cudaMemcpy(values.data(), block.grad.data() + instance * block.width,
                              block.width * sizeof(float), cudaMemcpyDeviceToHost));
  return values;
}

void CudaNetworkImpl::add_to_gradient(std::string_view name, ContextId context,
                                      std::span<const float> values) {
  std::size_t instance = 0;
  Block& block = find_block(name, context, instance);
  checks::writable_values(name, block.trainable, block.width, values, check_finite_,
                          "add_to_gradient");
  // Through the host: a penalty's gradient is added once per step, and its size is a layer's.
  std::vector<float> sum = read_gradient(name, context);
  for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += values[i];
  LOCUS_CUDA_CHECK(cudaMemcpy(block.grad.data() + instance * block.width, sum.data(),
                              block.width * sizeof(float), cudaMemcpyHostToDevice));
}

OptimizerState CudaNetworkImpl::read_optimizer_state(std::string_view name,
                                                     ContextId context) const {
  std::size_t instance = 0;
  const Block& block = find_block(name, context, instance);
  LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  // A state array is allocated at the first step that needs it (for every instance at once).
  auto instance_of = [&](const DeviceArray<float>& array) {
    std::vector<float> values(block.width, 0.0f);
    if (array.size() == 0) return values;
    LOCUS_CUDA_CHECK(cudaMemcpy(values.data(), array.data() + instance * block.width,
                                block.width * sizeof(float), cudaMemcpyDeviceToHost));
    return values;
  };
  return read_state(optimizer_, block.steps[instance], block.first, block.second, instance_of);
}

void CudaNetworkImpl::write_optimizer_state(std::string_view name, ContextId context,
                                            const OptimizerState& state) {
  std::size_t instance = 0;
  Block& block = find_block(name, context, instance);
  checks::writable_optimizer_state(name, block.trainable, block.width, optimizer_, state,
                                   check_finite_);
  LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  // Allocated as step() allocates it: zeros for every instance the block has room for.
  const std::size_t elements = block.capacity * block.width;
  auto store = [&](DeviceArray<float>& array, const std::vector<float>& values) {
    if (values.empty()) return;
    if (array.size() != elements) {
      array = DeviceArray<float>(elements);
      LOCUS_CUDA_CHECK(cudaMemset(array.data(), 0, elements * sizeof(float)));
    }
    LOCUS_CUDA_CHECK(cudaMemcpy(array.data() + instance * block.width, values.data(),
                                block.width * sizeof(float), cudaMemcpyHostToDevice));
  };
  store(block.first, state.first);
  store(block.second, state.second);
  block.steps[instance] = state.steps;
}

void CudaNetworkImpl::write_parameter(std::string_view name, ContextId context,
                                      std::span<const float> values) {
  std::size_t instance = 0;
  Block& block = find_block(name, context, instance);
  checks::writable_values(name, block.trainable, block.width, values, check_finite_);
  LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  LOCUS_CUDA_CHECK(cudaMemcpy(block.value_of(instance), values.data(), block.width * sizeof(float),
                              cudaMemcpyHostToDevice));
}

}  // namespace

// --- recurrent layers (the steps run in cuda_recurrent.cpp) -------------------------------------

// A feed-forward network's rows are independent: its sequence is one batch of rows.
const std::vector<Matrix>& CudaNetworkImpl::forward_sequence(
    const Matrix& inputs, std::size_t batch, std::span<const ContextId> context_ids,
    const RecurrentState* initial_state, std::span<const std::uint8_t> episode_starts) {
  const std::vector<ContextId> row_contexts = checks::sequence_call(
      spec_, inputs, batch, context_ids, initial_state, episode_starts, check_finite_);
  if (!spec_.is_recurrent()) return forward(inputs, row_contexts);
  steps_ = inputs.shape()[0] / batch;
  batch_ = batch;
  initial_state_ = initial_state;
  final_state_.clear();
  try {
    run_host_forward(inputs, row_contexts, episode_starts);
  } catch (...) {
    initial_state_ = nullptr;
    throw;
  }
  initial_state_ = nullptr;
  download_final_state();
  return outputs_;
}

cuda::RecurrentInputs CudaNetworkImpl::recurrent_inputs(std::size_t l) const {
  const LayerState& state = layers_[l];
  cuda::RecurrentInputs inputs;
  inputs.recurrent_weight = block_value(state.recurrent_weight);
  inputs.weight_gain = weight_gains_[l];
  inputs.gain = block_value(state.gain);
  inputs.bias = block_value(state.bias);
  inputs.row_context = row_context_device_;
  inputs.starts = starts_device_;
  return inputs;
}

void CudaNetworkImpl::recurrent_forward(std::size_t l, const float* input_sum, float* hidden) {
  const LayerSpec& layer = spec_.layers[l];
  LayerState& state = layers_[l];
  cuda::RecurrentInputs inputs = recurrent_inputs(l);
  if (initial_state_) {  // host arrays: the layer uploads them
    const std::size_t index = recurrent_state_index(spec_, l);
    inputs.initial_hidden = (*initial_state_)[index].data();
    if (layer.recurrence == Recurrence::kLstm)
      inputs.initial_cell = (*initial_state_)[index + 1].data();
  }
  // The host network's noise, drawn as it draws it (one draw per noisy layer and pass), so that
  // the backends agree.
  draw_layer_noise(spec_, l, noise_draws_, rows_, state.noise);
  state.recurrent->forward(stream_, cublas_, cuda::recurrent_shape(spec_, l, steps_, batch_),
                           inputs, state.noise, input_sum, hidden);
}

void CudaNetworkImpl::recurrent_backward(std::size_t l, float* dz) {
  LayerState& state = layers_[l];
  Block* gain = state.gain == kNoBlock ? nullptr : &blocks_[std::size_t(state.gain)];
  Block* bias = state.bias == kNoBlock ? nullptr : &blocks_[std::size_t(state.bias)];
  Block& recurrent = blocks_[std::size_t(state.recurrent_weight)];
  const bool gain_learns = gain && learns(*gain), bias_learns = bias && learns(*bias);
  const bool recurrent_learns = learns(recurrent);
  state.recurrent->backward(stream_, cublas_, recurrent_inputs(l), feature_grad_.data(), dz,
                            gain_learns, bias_learns,
                            recurrent_learns ? recurrent.grad.data() : nullptr);
  if (recurrent_learns) recurrent.has_grad[0] = 1;
  const std::size_t width = layer_width(l);
  float* partial = ensure(partial_, std::size_t(by_context_.chunk_count) * width);
  if (gain_learns) {
    cuda::reduce_rows(stream_, by_context_, state.recurrent->gain_terms(), width, partial,
                      gain->grad.data());
    mark(*gain);
  }
  if (bias_learns) {
    cuda::reduce_rows(stream_, by_context_, state.recurrent->gate_grad(), width, partial,
                      bias->grad.data());
    mark(*bias);
  }
}

// The state after the last step: each recurrent layer's hidden state, and an LSTM's cell state.
void CudaNetworkImpl::download_final_state() {
  final_state_.clear();
  std::vector<const float*> sources;
  for (std::size_t l = 0; l < spec_.layers.size(); ++l) {
    const LayerState& state = layers_[l];
    if (!state.recurrent) continue;
    const std::size_t last = (steps_ - 1) * batch_ * spec_.layers[l].units;
    sources.push_back(state.hidden.data() + last);
    if (spec_.layers[l].recurrence == Recurrence::kLstm) {
      sources.push_back(state.recurrent->cell() + last);
    }
  }
  // Every matrix exists before the copies into them are queued.
  for (std::size_t l = 0; l < spec_.layers.size(); ++l) {
    if (!layers_[l].recurrent) continue;
    final_state_.emplace_back(Matrix({batch_, spec_.layers[l].units}));
    if (spec_.layers[l].recurrence == Recurrence::kLstm) {
      final_state_.emplace_back(Matrix({batch_, spec_.layers[l].units}));
    }
  }
  for (std::size_t i = 0; i < sources.size(); ++i) {
    LOCUS_CUDA_CHECK(cudaMemcpyAsync(final_state_[i].data(), sources[i],
                                     final_state_[i].size() * sizeof(float), cudaMemcpyDeviceToHost,
                                     stream_));
  }
  LOCUS_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

std::unique_ptr<CudaNetwork> make_cuda_network(const NetworkSpec& spec) {
  if (!cuda_available()) {
    throw InvalidArgumentError(
        fmt::format("the CUDA backend needs a CUDA device: {}; use the cpu backend on this machine",
                    cuda_status()));
  }
  spec.validate();
  return std::make_unique<CudaNetworkImpl>(spec);
}

CudaNetwork& as_cuda(Network& network) {
  if (auto* cuda = dynamic_cast<CudaNetwork*>(&network)) return *cuda;
  throw InvalidArgumentError(fmt::format("network '{}' runs on the {} backend, not on cuda",
                                         network.spec().name, to_string(network.backend())));
}

}  // namespace locus::neuromod
