"""PyTorch peer for the modulated-network benchmark (bench_neuromod.cpp), same model and protocol.

The model: h1 = relu((x W1^T) * G1[c] + B1[c]), h2 = relu((h1 W2^T) * G2[c] + B2[c]),
y = (h2 W3^T) * S[c] + Bo[c], with W1 (400, 784), W2 (400, 400), W3 (10, 400) fixed (buffers, no
gradient) and the per-context tables G, B, S, Bo learned; c is each row's context id. One iteration:
forward, cross-entropy, zero the gradients, backward (no optimizer step). Inputs, labels and context
ids are drawn before the clock starts; with --precision bfloat16 the forward runs under
torch.autocast("cpu", dtype=torch.bfloat16) (PyTorch's mixed precision: the products in bfloat16
through oneDNN, the rest in float32) with the fixed weights stored in bfloat16 once (as locus packs
them once; autocast would otherwise cast them on every call); one warm-up, then timed repeats until `repeats` ran while other
processes used under 0.25 cores; the median samples per second is the figure.

Run with the interpreter that has torch (Debian's python3-torch: /usr/bin/python3). The caller sets
OPENBLAS_NUM_THREADS (the matrix products) and OMP_NUM_THREADS (the element-wise ops) to the thread
count; torch.set_num_threads gets --intra-op-threads (default the same count).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_timing import rate_fields, time_calibrated_iterations  # noqa: E402


class ModulatedMLP(torch.nn.Module):
    def __init__(self, contexts: int, generator: torch.Generator,
                 weight_dtype: torch.dtype = torch.float32) -> None:
        super().__init__()

        def fixed(rows: int, cols: int, scale: float) -> torch.Tensor:
            weights = torch.randn(rows, cols, generator=generator) * (scale / cols ** 0.5)
            return weights.to(weight_dtype)

        self.register_buffer("w1", fixed(400, 784, 2 ** 0.5))
        self.register_buffer("w2", fixed(400, 400, 2 ** 0.5))
        self.register_buffer("w3", fixed(10, 400, 1.0))
        self.g1 = torch.nn.Parameter(torch.ones(contexts, 400))
        self.b1 = torch.nn.Parameter(torch.zeros(contexts, 400))
        self.g2 = torch.nn.Parameter(torch.ones(contexts, 400))
        self.b2 = torch.nn.Parameter(torch.zeros(contexts, 400))
        self.s = torch.nn.Parameter(torch.ones(contexts, 1))
        self.bo = torch.nn.Parameter(torch.zeros(contexts, 10))

    def forward(self, x: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        h1 = torch.relu(F.linear(x, self.w1) * self.g1[ctx] + self.b1[ctx])
        h2 = torch.relu(F.linear(h1, self.w2) * self.g2[ctx] + self.b2[ctx])
        return F.linear(h2, self.w3) * self.s[ctx] + self.bo[ctx]


class AgentsMLP(torch.nn.Module):
    """`agents` modulated MLPs with their own fixed weights, run at once with torch.bmm (the
    PyTorch way of batching a population of models); the batch's rows are grouped by agent, each
    agent one context (gains broadcast over its rows)."""

    def __init__(self, agents: int, generator: torch.Generator,
                 weight_dtype: torch.dtype = torch.float32) -> None:
        super().__init__()

        def fixed(rows: int, cols: int, scale: float) -> torch.Tensor:
            weights = torch.randn(agents, rows, cols, generator=generator) * (scale / cols ** 0.5)
            return weights.to(weight_dtype)

        self.register_buffer("w1", fixed(400, 784, 2 ** 0.5))
        self.register_buffer("w2", fixed(400, 400, 2 ** 0.5))
        self.register_buffer("w3", fixed(10, 400, 1.0))
        self.g1 = torch.nn.Parameter(torch.ones(agents, 1, 400))
        self.b1 = torch.nn.Parameter(torch.zeros(agents, 1, 400))
        self.g2 = torch.nn.Parameter(torch.ones(agents, 1, 400))
        self.b2 = torch.nn.Parameter(torch.zeros(agents, 1, 400))
        self.s = torch.nn.Parameter(torch.ones(agents, 1, 1))
        self.bo = torch.nn.Parameter(torch.zeros(agents, 1, 10))

    def forward(self, x: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        del ctx  # row r belongs to agent r // (batch / agents)
        xs = x.view(self.w1.shape[0], -1, 784)
        h1 = torch.relu(torch.bmm(xs, self.w1.transpose(1, 2)) * self.g1 + self.b1)
        h2 = torch.relu(torch.bmm(h1, self.w2.transpose(1, 2)) * self.g2 + self.b2)
        out = torch.bmm(h2, self.w3.transpose(1, 2)) * self.s + self.bo
        return out.reshape(-1, 10)


def measure(batch: int, contexts: int, threads: int, repeats: int, seconds: float,
            intra_op_threads: int, precision: str, agents: int = 1) -> dict:
    torch.set_num_threads(intra_op_threads)
    generator = torch.Generator().manual_seed(7)
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    model = AgentsMLP(agents, generator, dtype) if agents > 1 else \
        ModulatedMLP(contexts, generator, dtype)
    batches = [(torch.rand(batch, 784, generator=generator),
                torch.randint(0, contexts, (batch,), generator=generator),
                torch.randint(0, 10, (batch,), generator=generator)) for _ in range(4)]

    def iteration(i: int) -> float:
        x, ctx, labels = batches[i % 4]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            logits = model(x, ctx)
        loss = F.cross_entropy(logits.float(), labels)
        model.zero_grad(set_to_none=True)
        loss.backward()
        return float(loss.detach())

    iterations, r = time_calibrated_iterations(iteration, seconds, 3, repeats, batch)
    name = f"modulated MLP batch {batch}, {contexts} {'agents' if agents > 1 else 'ctx'}, " \
        f"{threads} thr"
    if precision != "float32":
        name += f", {precision}"
    print(f"{name:<44} {r.median_rate:12.0f} samples/s (PyTorch, {intra_op_threads} intra-op "
          f"threads{r.busy_note()})", file=sys.stderr, flush=True)
    return {"name": name, "impl": f"torch {torch.__version__}",
            "config": {"batch": batch, "contexts": contexts, "threads": threads, "agents": agents,
                       "intra_op_threads": intra_op_threads, "precision": precision,
                       "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default")},
            "iterations_per_repeat": iterations, **rate_fields("samples", r)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--batch", type=int, nargs="+", default=[128, 1024])
    parser.add_argument("--contexts", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--agents", type=int, nargs="+", default=[],
                        help="instead of --contexts: agents with their own weights (torch.bmm)")
    parser.add_argument("--threads", type=int, required=True,
                        help="cores for the run (OpenBLAS's threads, set by the caller)")
    parser.add_argument("--intra-op-threads", type=int, default=None,
                        help="torch.set_num_threads (default: --threads)")
    parser.add_argument("--precision", nargs="+", choices=["float32", "bfloat16"],
                        default=["float32"])
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    intra = args.threads if args.intra_op_threads is None else args.intra_op_threads
    if args.agents:
        results = [measure(b, k, args.threads, args.repeats, args.seconds, intra, p, agents=k)
                   for p in args.precision for b in args.batch for k in args.agents]
    else:
        results = [measure(b, c, args.threads, args.repeats, args.seconds, intra, p)
                   for p in args.precision for b in args.batch for c in args.contexts]
    with open(args.json, "w", encoding="utf-8") as out:
        json.dump({"benchmark": "neuromod_forward_backward", "results": results}, out, indent=2)


if __name__ == "__main__":
    main()
