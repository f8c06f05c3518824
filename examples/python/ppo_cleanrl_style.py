#!/usr/bin/env python3
"""PPO in PyTorch on a locus vector env, written as CleanRL writes its single-file agents.

locus.make_vec(..., copy=True) returns fresh, writable arrays from every reset and step, which
torch.Tensor takes without a copy warning. (Without copy=True the arrays are zero-copy, read-only
views of the C++ batch buffers: fastest, but torch warns that they are not writable, and they are
rewritten by the next step; see docs/python.md.)

    python examples/python/ppo_cleanrl_style.py --steps 100000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

import locus


class Agent(nn.Module):
    def __init__(self, observations: int, actions: int) -> None:
        super().__init__()
        self.critic = nn.Sequential(nn.Linear(observations, 64), nn.Tanh(), nn.Linear(64, 64),
                                    nn.Tanh(), nn.Linear(64, 1))
        self.actor = nn.Sequential(nn.Linear(observations, 64), nn.Tanh(), nn.Linear(64, 64),
                                   nn.Tanh(), nn.Linear(64, actions))

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def act(self, x: torch.Tensor, action: torch.Tensor | None = None):
        distribution = Categorical(logits=self.actor(x))
        if action is None:
            action = distribution.sample()
        return action, distribution.log_prob(action), distribution.entropy(), self.value(x)


def train(env_id: str = "CartPole-v1", steps: int = 100_000, num_envs: int = 8,
          rollout: int = 128, seed: int = 0) -> list[float]:
    """Trains PPO; returns the returns of the episodes that ended, in order."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    envs = locus.make_vec(env_id, num_envs, copy=True)
    agent = Agent(envs.single_observation_space.shape[0], int(envs.single_action_space.n))
    optimizer = torch.optim.Adam(agent.parameters(), lr=2.5e-4, eps=1e-5)
    gamma, lam, clip, epochs, minibatches = 0.99, 0.95, 0.2, 4, 4
    observations = torch.zeros((rollout, num_envs, envs.single_observation_space.shape[0]))
    actions = torch.zeros((rollout, num_envs), dtype=torch.long)
    log_probs, rewards, dones, values = (torch.zeros((rollout, num_envs)) for _ in range(4))
    obs, _ = envs.reset(seed=seed)
    next_obs, next_done = torch.Tensor(obs), torch.zeros(num_envs)
    running = np.zeros(num_envs)
    finished: list[float] = []
    for _ in range(steps // (rollout * num_envs)):
        for t in range(rollout):
            observations[t], dones[t] = next_obs, next_done
            with torch.no_grad():
                action, log_prob, _, value = agent.act(next_obs)
            actions[t], log_probs[t], values[t] = action, log_prob, value
            obs, reward, terminated, truncated, _ = envs.step(action.numpy())
            rewards[t] = torch.Tensor(reward)
            done = np.logical_or(terminated, truncated)
            running += reward
            finished.extend(running[done].tolist())
            running[done] = 0.0
            next_obs, next_done = torch.Tensor(obs), torch.Tensor(done)
        with torch.no_grad():  # generalized advantage estimation
            advantages = torch.zeros_like(rewards)
            last = torch.zeros(num_envs)
            next_value = agent.value(next_obs)
            for t in reversed(range(rollout)):
                not_done = 1.0 - (next_done if t == rollout - 1 else dones[t + 1])
                following = next_value if t == rollout - 1 else values[t + 1]
                delta = rewards[t] + gamma * following * not_done - values[t]
                last = delta + gamma * lam * not_done * last
                advantages[t] = last
            returns = advantages + values
        flat = [x.reshape(-1, *x.shape[2:]) for x in (observations, actions, log_probs,
                                                      advantages, returns)]
        batch = rollout * num_envs
        for _ in range(epochs):
            for rows in np.array_split(rng.permutation(batch), minibatches):
                b_obs, b_actions, b_log_probs, b_advantages, b_returns = (x[rows] for x in flat)
                _, new_log_prob, entropy, new_value = agent.act(b_obs, b_actions)
                ratio = (new_log_prob - b_log_probs).exp()
                b_advantages = (b_advantages - b_advantages.mean()) / (b_advantages.std() + 1e-8)
                policy_loss = torch.max(-b_advantages * ratio,
                                        -b_advantages * ratio.clamp(1 - clip, 1 + clip)).mean()
                loss = (policy_loss + 0.5 * ((new_value - b_returns) ** 2).mean()
                        - 0.01 * entropy.mean())
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
                optimizer.step()
    envs.close()
    return finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    returns = train(args.env, args.steps, seed=args.seed)
    print(f"{len(returns)} episodes; mean return of the last 20: {np.mean(returns[-20:]):.1f} "
          f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
