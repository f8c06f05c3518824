#include "neuromod/spiking/kernels.hpp"

#include <algorithm>

namespace locus::neuromod::spiking::detail {

// x86-64 with GCC: one variant per instruction-set level, chosen at load time. Elsewhere the
// compiler's default target.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LOCUS_SPIKING_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define LOCUS_SPIKING_CLONES
#endif

// The loops are written for the vectorizer: parameters and pointers copied into locals, no calls
// into libm, selects between computed outcomes instead of branches, and `ivdep` because the
// arrays never overlap (GCC ignores restrict on local pointers).
LOCUS_SPIKING_CLONES void run_pyramidal_kernel(const PyramidalKernel& p) {
  const auto [dt, k, v_rest, v_threshold, a, b, inv_c, v_peak, peak_slope, c_slope, u_max] = p.soma;
  const auto [e_exc, e_inh, nmda_ratio, mg_factor, mg_slope, decay_ampa, decay_nmda, decay_gaba] =
      p.synapses;
  const double inv_cd = p.inv_cd;
  const double c_regular = p.c_regular, d_regular = p.d_regular;
  const double c_burst = p.c_burst, d_burst = p.d_burst;
  const double vd_rest = p.vd_rest, leak = p.leak, k_calcium = p.k_calcium, f_half = p.f_half;
  const double inv_f_slope = p.inv_f_slope, ad = p.ad, bd = p.bd;
  const double calcium_threshold = p.calcium_threshold, bap_amplitude = p.bap_amplitude;
  const double soma_coupling = p.soma_coupling, bap_from = p.bap_from, bap_to = p.bap_to;
  const double current_soma = p.current_soma, current_dendrite = p.current_dendrite;
  const double step = p.step;
  const bool coupled = p.coupled;
  double* __restrict v = p.v;
  double* __restrict u = p.u;
  double* __restrict vd = p.vd;
  double* __restrict ud = p.ud;
  double* __restrict ga = p.ga;
  double* __restrict gn = p.gn;
  double* __restrict gg = p.gg;
  double* __restrict ga_d = p.ga_d;
  double* __restrict gn_d = p.gn_d;
  double* __restrict gg_d = p.gg_d;
  double* __restrict last = p.last_spike;
  double* __restrict calcium_active = p.calcium_active;
  double* __restrict in_se = p.in_soma_exc;
  double* __restrict in_si = p.in_soma_inh;
  double* __restrict in_de = p.in_dend_exc;
  double* __restrict in_di = p.in_dend_inh;
  const double* __restrict poisson_soma = p.poisson_soma;
  const double* __restrict poisson_dend = p.poisson_dendrite;
  double* __restrict spiked = p.spiked;
  double* __restrict onset = p.calcium_onset;
  const std::int64_t begin = p.begin, end = p.end;

#pragma GCC ivdep
  for (std::int64_t i = begin; i < end; ++i) {
    const double g_ampa = ga[i] + in_se[i] + poisson_soma[i];
    const double g_nmda = gn[i] + nmda_ratio * in_se[i];
    const double g_gaba = gg[i] + in_si[i];
    const double g_ampa_d = ga_d[i] + in_de[i] + poisson_dend[i];
    const double g_nmda_d = gn_d[i] + nmda_ratio * in_de[i];
    const double g_gaba_d = gg_d[i] + in_di[i];
    in_se[i] = 0.0;
    in_si[i] = 0.0;
    in_de[i] = 0.0;
    in_di[i] = 0.0;

    const double v0 = v[i], u0 = u[i], vd0 = vd[i], ud0 = ud[i];
    const double block = 1.0 / (1.0 + mg_factor * exp_vectorizable(-mg_slope * v0));
    const double block_d = 1.0 / (1.0 + mg_factor * exp_vectorizable(-mg_slope * vd0));
    const double i_soma =
        current_soma - (g_ampa + g_nmda * block) * (v0 - e_exc) - g_gaba * (v0 - e_inh);
    const double i_dend = current_dendrite - (g_ampa_d + g_nmda_d * block_d) * (vd0 - e_exc) -
                          g_gaba_d * (vd0 - e_inh);
    const double f = 1.0 / (1.0 + exp_vectorizable((f_half - vd0) * inv_f_slope));
    const double last_spike = last[i];
    const double since_spike = step - last_spike - 1.0;
    const double bap = ((since_spike >= bap_from) & (since_spike < bap_to)) ? bap_amplitude : 0.0;

    const double v1 =
        v0 +
        dt * ((k * (v0 - v_rest) * (v0 - v_threshold) - u0 + i_soma + soma_coupling * f) * inv_c);
    const double u1 = u0 + dt * (a * (b * (v0 - v_rest) - u0));
    const double vd1 =
        vd0 + dt * ((-leak * (vd0 - vd_rest) + k_calcium * f + bap + ud0 + i_dend) * inv_cd);
    const double ud1 = ud0 + dt * (ad * (bd * (vd0 - vd_rest) - ud0));

    // A calcium spike in the dendrite switches the somatic reset to the bursting values, unless
    // the compartments are decoupled. Both outcomes are computed and one is selected.
    const bool calcium = vd1 >= calcium_threshold;
    const bool burst = calcium & coupled;
    const bool spike = v1 >= v_peak + peak_slope * u1;
    const double v_reset = (burst ? c_burst : c_regular) + c_slope * u1;
    const double u_reset = std::min(u1 + (burst ? d_burst : d_regular), u_max);
    v[i] = spike ? v_reset : v1;
    u[i] = spike ? u_reset : u1;
    // Arithmetic rather than "spike ? step : last", which GCC turns into a conditional store that
    // it does not vectorize. Exact: both are whole numbers far below 2^53.
    last[i] = last_spike + (spike ? step - last_spike : 0.0);
    vd[i] = vd1;
    ud[i] = ud1;
    spiked[i] = spike ? 1.0 : 0.0;
    onset[i] = (calcium & (calcium_active[i] == 0.0)) ? 1.0 : 0.0;
    calcium_active[i] = calcium ? 1.0 : 0.0;
    ga[i] = g_ampa * decay_ampa;
    gn[i] = g_nmda * decay_nmda;
    gg[i] = g_gaba * decay_gaba;
    ga_d[i] = g_ampa_d * decay_ampa;
    gn_d[i] = g_nmda_d * decay_nmda;
    gg_d[i] = g_gaba_d * decay_gaba;
  }
}

LOCUS_SPIKING_CLONES void run_izhikevich_kernel(const IzhikevichKernel& p) {
  const auto [dt, k, v_rest, v_threshold, a, b, inv_c, v_peak, peak_slope, c_slope, u_max] = p.soma;
  const auto [e_exc, e_inh, nmda_ratio, mg_factor, mg_slope, decay_ampa, decay_nmda, decay_gaba] =
      p.synapses;
  const double c = p.c, d = p.d, current = p.current;
  double* __restrict v = p.v;
  double* __restrict u = p.u;
  double* __restrict ga = p.ga;
  double* __restrict gn = p.gn;
  double* __restrict gg = p.gg;
  double* __restrict in_se = p.in_soma_exc;
  double* __restrict in_si = p.in_soma_inh;
  const double* __restrict poisson = p.poisson;
  double* __restrict spiked = p.spiked;
  const std::int64_t begin = p.begin, end = p.end;

#pragma GCC ivdep
  for (std::int64_t i = begin; i < end; ++i) {
    const double g_ampa = ga[i] + in_se[i] + poisson[i];
    const double g_nmda = gn[i] + nmda_ratio * in_se[i];
    const double g_gaba = gg[i] + in_si[i];
    in_se[i] = 0.0;
    in_si[i] = 0.0;
    const double v0 = v[i], u0 = u[i];
    const double block = 1.0 / (1.0 + mg_factor * exp_vectorizable(-mg_slope * v0));
    const double i_syn = current - (g_ampa + g_nmda * block) * (v0 - e_exc) - g_gaba * (v0 - e_inh);
    const double v1 = v0 + dt * ((k * (v0 - v_rest) * (v0 - v_threshold) - u0 + i_syn) * inv_c);
    const double u1 = u0 + dt * (a * (b * (v0 - v_rest) - u0));
    const bool spike = v1 >= v_peak + peak_slope * u1;
    const double v_reset = c + c_slope * u1;
    const double u_reset = std::min(u1 + d, u_max);
    v[i] = spike ? v_reset : v1;
    u[i] = spike ? u_reset : u1;
    spiked[i] = spike ? 1.0 : 0.0;
    ga[i] = g_ampa * decay_ampa;
    gn[i] = g_nmda * decay_nmda;
    gg[i] = g_gaba * decay_gaba;
  }
}

namespace {

// Always inlined, so that each target clone of draw_poisson gets its own vectorized copy.
template <int kEntries>
[[gnu::always_inline]] inline void draw_from_table(RngBank& rng, const PoissonTable& table,
                                                   double weight, std::int64_t begin,
                                                   std::int64_t end, double* __restrict out) {
  double cdf[kEntries];
  for (int j = 0; j < kEntries; ++j) cdf[j] = table.cdf[static_cast<std::size_t>(j)];
  for (std::int64_t i = begin; i < end; ++i) {
    const double u = rng.uniform(static_cast<std::size_t>(i));
    double count = 0.0;
#pragma GCC unroll 32
    for (int j = 0; j < kEntries; ++j) count += u >= cdf[j] ? 1.0 : 0.0;
    out[i] = weight * count;
  }
}

}  // namespace

LOCUS_SPIKING_CLONES void draw_poisson(RngBank& rng, const PoissonTable& table, double mean,
                                       double weight, std::int64_t begin, std::int64_t end,
                                       double* out) {
  if (table.exact && table.used == 16) {
    draw_from_table<16>(rng, table, weight, begin, end, out);
  } else if (table.exact) {
    draw_from_table<PoissonTable::kSize>(rng, table, weight, begin, end, out);
  } else {
    for (std::int64_t i = begin; i < end; ++i) {
      const double u = rng.uniform(static_cast<std::size_t>(i));
      out[i] = weight * static_cast<double>(poisson_from_uniform(u, mean, table.exp_minus_mean));
    }
  }
}

LOCUS_SPIKING_CLONES void decay_traces(double* traces, double decay, std::int64_t begin,
                                       std::int64_t end) {
  for (std::int64_t i = begin; i < end; ++i) traces[i] *= decay;
}

}  // namespace locus::neuromod::spiking::detail
