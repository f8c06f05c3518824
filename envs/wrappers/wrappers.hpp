#pragma once
// Gymnasium's wrappers and the env checker, in one include.

#include "envs/wrappers/env_checker.hpp"
#include "envs/wrappers/frame_stack.hpp"
#include "envs/wrappers/normalize_observation.hpp"
#include "envs/wrappers/order_enforcing.hpp"
#include "envs/wrappers/record_episode_statistics.hpp"
#include "envs/wrappers/time_limit.hpp"
