#pragma once
// The control that could explain "bursting speeds up STDP" away: more post spikes. A pair-based
// STDP rule is linear in spike counts, so a condition that fires 3.7x faster moves its weights
// faster whether its spikes come in bursts or not. The rate-matched control is the same circuit
// without dendritic drive (tonic firing) at the somatic drive that gives the bursting condition's
// post rate, found by bisection; the effect of bursts is the difference between the two, per
// second and per post spike.

#include <vector>

#include "neuromod/spiking/experiments.hpp"

namespace locus::neuromod::spiking {

struct RateMatchOptions {
  double low = 0.0;  // Hz of somatic input: the bracket searched
  double high = 20000.0;
  double tolerance = 0.5;  // Hz of post rate
  int max_iterations = 20;
};

// The somatic input rate (Hz) at which `condition` (its somatic_rate ignored) fires at
// `target_rate` Hz per pyramidal cell, averaged over options.seeds, in the plasticity circuit of
// `options`: bisection until a probe is within the tolerance, else the closest probe after
// max_iterations. The post rate grows with the somatic input; throws InvalidArgumentError when
// the target lies outside the rates at the bracket's ends.
double matching_somatic_rate(const PlasticityCondition& condition, const PlasticityOptions& options,
                             double target_rate, const RateMatchOptions& search = {});

// The rate-matched control of `bursting`: "tonic at the rate of <label>", the same condition
// without dendritic drive at the somatic input that gives `bursting`'s post rate.
PlasticityCondition rate_matched_control(const PlasticityCondition& bursting,
                                         const PlasticityOptions& options,
                                         const RateMatchOptions& search = {});

// The bursting condition beside its two tonic controls, in this order: `bursting`; "tonic" (no
// dendritic drive, the options' somatic rate); its rate-matched control.
std::vector<PlasticityResult> run_rate_matched_plasticity(const PlasticityCondition& bursting,
                                                          const PlasticityOptions& options,
                                                          const RateMatchOptions& search = {});

}  // namespace locus::neuromod::spiking
