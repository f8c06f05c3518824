// The reference kernels: the formulas of kernels.hpp as plain loops, every sum accumulated in
// double, no blocking and no threads. Slow on purpose; the tests compare the CPU kernels with them.

#include <algorithm>
#include <cmath>
#include <vector>

#include "neuromod/kernels.hpp"

namespace locus::neuromod {

namespace {

double activate(Activation activation, double v) {
  switch (activation) {
    case Activation::kIdentity:
      return v;
    case Activation::kRelu:
      return v > 0 ? v : 0.0;
    case Activation::kTanh:
      return std::tanh(v);
    case Activation::kSoftplus:
      return v > 30.0 ? v : std::log1p(std::exp(v));
  }
  return v;
}

// The derivative of the activation, from its output a = act(v).
double activation_slope(Activation activation, double a) {
  switch (activation) {
    case Activation::kIdentity:
      return 1.0;
    case Activation::kRelu:
      return a > 0 ? 1.0 : 0.0;
    case Activation::kTanh:
      return 1.0 - a * a;
    case Activation::kSoftplus:  // sigmoid(v) = 1 - e^-a for a = softplus(v)
      return -std::expm1(-a);
  }
  return 1.0;
}

class ReferenceKernels final : public Kernels {
 public:
  void dense_forward(const float* x, std::size_t rows, std::size_t in, const float* weight,
                     std::size_t out, float scale, float* z) const override {
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < out; ++j) {
        double sum = 0.0;
        for (std::size_t i = 0; i < in; ++i) sum += double(x[r * in + i]) * weight[j * in + i];
        z[r * out + j] = static_cast<float>(scale * sum);
      }
    }
  }

  void dense_backward_input(const float* dz, std::size_t rows, std::size_t out, const float* weight,
                            std::size_t in, float scale, float* dx,
                            bool accumulate) const override {
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t i = 0; i < in; ++i) {
        double sum = 0.0;
        for (std::size_t j = 0; j < out; ++j) sum += double(dz[r * out + j]) * weight[j * in + i];
        const auto value = static_cast<float>(scale * sum);
        dx[r * in + i] = accumulate ? dx[r * in + i] + value : value;
      }
    }
  }

  void bf16_product(const float* a, std::size_t rows, const Bf16Panels& b, float scale, float* c,
                    bool accumulate) const override {
    // The same rounding of both operands as the CPU kernel, with exact (double) sums: the two
    // differ only by the CPU's float32 accumulation.
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t n = 0; n < b.cols; ++n) {
        double sum = 0.0;
        for (std::size_t k = 0; k < b.depth; ++k) {
          sum += double(round_to_bf16(a[r * b.depth + k])) * b.at(k, n);
        }
        const auto value = static_cast<float>(scale * sum);
        c[r * b.cols + n] = accumulate ? c[r * b.cols + n] + value : value;
      }
    }
  }

  void dense_backward_weight(const float* dz, std::size_t rows, std::size_t out, const float* x,
                             std::size_t in, float scale, float* dweight) const override {
    for (std::size_t j = 0; j < out; ++j) {
      for (std::size_t i = 0; i < in; ++i) {
        double sum = 0.0;
        for (std::size_t r = 0; r < rows; ++r) sum += double(dz[r * out + j]) * x[r * in + i];
        dweight[j * in + i] += static_cast<float>(scale * sum);
      }
    }
  }

  void sparse_forward(const float* x, std::size_t rows, std::size_t in, const std::int32_t* index,
                      const float* value, std::size_t out, std::size_t k, float scale,
                      float* z) const override {
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < out; ++j) {
        double sum = 0.0;
        for (std::size_t t = 0; t < k; ++t) {
          sum += double(x[r * in + std::size_t(index[j * k + t])]) * value[j * k + t];
        }
        z[r * out + j] = static_cast<float>(scale * sum);
      }
    }
  }

  void sparse_backward_input(const float* dz, std::size_t rows, std::size_t out,
                             const std::int32_t* index, const float* value, std::size_t k,
                             std::size_t in, float scale, float* dx,
                             bool accumulate) const override {
    std::vector<double> sums(in);
    for (std::size_t r = 0; r < rows; ++r) {
      std::fill(sums.begin(), sums.end(), 0.0);
      for (std::size_t j = 0; j < out; ++j) {
        for (std::size_t t = 0; t < k; ++t) {
          sums[std::size_t(index[j * k + t])] += double(dz[r * out + j]) * value[j * k + t];
        }
      }
      for (std::size_t i = 0; i < in; ++i) {
        const auto v = static_cast<float>(scale * sums[i]);
        dx[r * in + i] = accumulate ? dx[r * in + i] + v : v;
      }
    }
  }

  void sparse_backward_weight(const float* dz, std::size_t rows, std::size_t out,
                              const std::int32_t* index, std::size_t k, const float* x,
                              std::size_t in, float scale, float* dvalue) const override {
    for (std::size_t j = 0; j < out; ++j) {
      for (std::size_t t = 0; t < k; ++t) {
        double sum = 0.0;
        for (std::size_t r = 0; r < rows; ++r) {
          sum += double(dz[r * out + j]) * x[r * in + std::size_t(index[j * k + t])];
        }
        dvalue[j * k + t] += static_cast<float>(scale * sum);
      }
    }
  }

  void modulate_forward(const ModulationArgs& a, const float* z, float* saved,
                        float* h) const override {
    const std::size_t n = a.units;
    for (std::size_t r = 0; r < a.rows; ++r) {
      const std::size_t c = std::size_t(a.row_context[r]);
      double mean = 0.0;
      if (a.center) {
        for (std::size_t j = 0; j < n; ++j) mean += z[r * n + j];
        mean /= double(n);
      }
      for (std::size_t j = 0; j < n; ++j) {
        const double u = double(z[r * n + j]) - mean;
        const double g = a.gain ? a.gain[c * n + j] : 1.0;
        const double b = a.bias ? a.bias[c * n + j] : 0.0;
        if (a.site == ModulationSite::kPreActivation) {
          saved[r * n + j] = static_cast<float>(u);
          h[r * n + j] = static_cast<float>(activate(a.activation, g * u + b));
        } else {
          const double act = activate(a.activation, u);
          saved[r * n + j] = static_cast<float>(act);
          h[r * n + j] = static_cast<float>(g * act + b);
        }
      }
    }
  }

  void modulate_backward(const ModulationArgs& a, const float* saved, const float* h,
                         const float* dh, float* dz, float* dgain, float* dbias) const override {
    const std::size_t n = a.units;
    const std::size_t contexts = [&] {
      std::size_t most = 0;
      for (std::size_t r = 0; r < a.rows; ++r) most = std::max(most, std::size_t(a.row_context[r]));
      return most + 1;
    }();
    std::vector<double> gain_sum(dgain ? contexts * n : 0), bias_sum(dbias ? contexts * n : 0);
    std::vector<double> du(n);
    for (std::size_t r = 0; r < a.rows; ++r) {
      const std::size_t c = std::size_t(a.row_context[r]);
      double mean = 0.0;
      for (std::size_t j = 0; j < n; ++j) {
        const std::size_t e = r * n + j;
        const double g = a.gain ? a.gain[c * n + j] : 1.0;
        double through_gain;  // the gradient reaching the gain's product
        if (a.site == ModulationSite::kPreActivation) {
          through_gain = double(dh[e]) * activation_slope(a.activation, h[e]);
          du[j] = through_gain * g;
        } else {
          through_gain = dh[e];
          du[j] = double(dh[e]) * g * activation_slope(a.activation, saved[e]);
        }
        if (dgain) gain_sum[c * n + j] += through_gain * saved[e];
        if (dbias) bias_sum[c * n + j] += through_gain;
        mean += du[j];
      }
      mean = a.center ? mean / double(n) : 0.0;
      for (std::size_t j = 0; j < n; ++j) dz[r * n + j] = static_cast<float>(du[j] - mean);
    }
    if (dgain) {
      for (std::size_t i = 0; i < gain_sum.size(); ++i) dgain[i] += static_cast<float>(gain_sum[i]);
    }
    if (dbias) {
      for (std::size_t i = 0; i < bias_sum.size(); ++i) dbias[i] += static_cast<float>(bias_sum[i]);
    }
  }
};

}  // namespace

const Kernels& reference_kernels() {
  static const ReferenceKernels kernels;
  return kernels;
}

}  // namespace locus::neuromod
