#!/usr/bin/env python3
"""The CUDA backend against PyTorch eager on the same GPU, and against the GPU's roofline.

Runs build/bin/locus_bench_cuda (the locus side, see bench_cuda.cpp), then the same model and step
in PyTorch eager in this process, and prints one table: ms per step for each, the ratio
(PyTorch time / locus time: above 1 means locus is faster), locus's achieved TFLOP/s, and the
fraction of the roofline (max(FLOPs / measured GEMM rate, bytes / measured copy bandwidth) over the
measured time).

The PyTorch model: the same modulated MLP with the fixed weights as buffers, per-context gains and
biases as (contexts, units) parameters gathered per row (g[ctx]), the readout's output gain and
bias likewise; F.cross_entropy; Adam (foreach, PyTorch's default on CUDA). One step: forward, loss,
zero_grad(set_to_none=True), backward, step. Same batch sizes, context counts, input sets (4, used
in turn), warm-up and timing (CUDA events around a run of steps; median of the repeats).

With --agents K: K agents with their own fixed weights (locus: NetworkSpec::weight_sets = K, one
context per agent; PyTorch: the weights as (K, out, in) tensors and torch.bmm, the PyTorch way of
running a population of models at once), each agent batch / K rows of the batch, grouped by agent
(or with --interleave-agents, row r of agent r % K: PyTorch reads the batch through a transposed
view, which bmm copies; locus gathers and scatters the rows around each product).

Usage (on a GPU machine, with a CUDA build):
  python3 bench/perf/run_cuda_bench.py --locus build/bin/locus_bench_cuda --out results.json
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import write_atomically  # noqa: E402


def torch_agents_step_ms(torch, width, rows, agents, interleave, warmup, iterations, repeats,
                         tf32):
    """One step of `agents` modulated MLPs with their own fixed weights, batched with torch.bmm."""
    import torch.nn.functional as F

    torch.backends.cuda.matmul.allow_tf32 = tf32
    device = torch.device("cuda")
    gen = torch.Generator(device="cpu").manual_seed(1)
    k, n = agents, rows // agents
    w1 = (torch.randn(k, width, 784, generator=gen) * (2.0 / 784) ** 0.5).to(device)
    w2 = (torch.randn(k, width, width, generator=gen) * (2.0 / width) ** 0.5).to(device)
    readout = (torch.randn(k, 10, width, generator=gen) / width ** 0.5).to(device)
    g1 = torch.ones(k, 1, width, device=device, requires_grad=True)
    b1 = torch.zeros(k, 1, width, device=device, requires_grad=True)
    g2 = torch.ones(k, 1, width, device=device, requires_grad=True)
    b2 = torch.zeros(k, 1, width, device=device, requires_grad=True)
    s = torch.ones(k, 1, 1, device=device, requires_grad=True)
    bo = torch.zeros(k, 1, 10, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([g1, b1, g2, b2, s, bo], lr=1e-3)
    sets = []
    for i in range(4):
        g = torch.Generator(device="cpu").manual_seed(10 + i)
        x = torch.randn(rows, 784, generator=g).to(device)
        y = torch.randint(0, 10, (rows,), generator=g).to(device)
        sets.append((x, y))

    def step(i):
        x, y = sets[i % 4]
        # (agents, rows per agent, 784) in the batch's row order
        xs = x.view(n, k, 784).transpose(0, 1) if interleave else x.view(k, n, 784)
        h = torch.relu(torch.bmm(xs, w1.transpose(1, 2)) * g1 + b1)
        h = torch.relu(torch.bmm(h, w2.transpose(1, 2)) * g2 + b2)
        out = torch.bmm(h, readout.transpose(1, 2)) * s + bo
        out = out.transpose(0, 1).reshape(rows, 10) if interleave else out.reshape(rows, 10)
        loss = F.cross_entropy(out, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return time_steps(torch, step, warmup, iterations, repeats)


def time_steps(torch, step, warmup, iterations, repeats):
    for i in range(warmup):
        step(i)
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        for i in range(iterations):
            step(i)
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / iterations)
    times.sort()
    n = len(times)
    return times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])


def torch_step_ms(torch, width, rows, contexts, warmup, iterations, repeats, tf32):
    import torch.nn.functional as F

    torch.backends.cuda.matmul.allow_tf32 = tf32
    device = torch.device("cuda")
    gen = torch.Generator(device="cpu").manual_seed(1)
    w1 = (torch.randn(width, 784, generator=gen) * (2.0 / 784) ** 0.5).to(device)
    w2 = (torch.randn(width, width, generator=gen) * (2.0 / width) ** 0.5).to(device)
    readout = (torch.randn(10, width, generator=gen) / width ** 0.5).to(device)
    g1 = torch.ones(contexts, width, device=device, requires_grad=True)
    b1 = torch.zeros(contexts, width, device=device, requires_grad=True)
    g2 = torch.ones(contexts, width, device=device, requires_grad=True)
    b2 = torch.zeros(contexts, width, device=device, requires_grad=True)
    s = torch.ones(contexts, 1, device=device, requires_grad=True)
    bo = torch.zeros(contexts, 10, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([g1, b1, g2, b2, s, bo], lr=1e-3)
    sets = []
    for k in range(4):
        g = torch.Generator(device="cpu").manual_seed(10 + k)
        x = torch.randn(rows, 784, generator=g).to(device)
        y = torch.randint(0, 10, (rows,), generator=g).to(device)
        c = torch.randint(0, contexts, (rows,), generator=g).to(device)
        sets.append((x, y, c))

    def step(i):
        x, y, c = sets[i % 4]
        h = torch.relu((x @ w1.T) * g1[c] + b1[c])
        h = torch.relu((h @ w2.T) * g2[c] + b2[c])
        out = (h @ readout.T) * s[c] + bo[c]
        loss = F.cross_entropy(out, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    if rows >= 65536 and width >= 4096:
        iterations = max(3, iterations // 4)
    return time_steps(torch, step, warmup, iterations, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--locus", required=True, help="path to locus_bench_cuda")
    parser.add_argument("--out", help="write the merged results (JSON) here")
    parser.add_argument("--batch", nargs="+", type=int, default=[128, 1024, 8192, 65536])
    parser.add_argument("--contexts", nargs="+", type=int, default=[1, 16, 256])
    parser.add_argument("--width", nargs="+", type=int, default=[400, 4096])
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--tf32", action="store_true")
    parser.add_argument("--agents", nargs="+", type=int,
                        help="instead of --contexts: agents with their own weights (see above)")
    parser.add_argument("--interleave-agents", action="store_true")
    args = parser.parse_args()

    # The locus side's own JSON is merged into --out: a temporary file, not a second result.
    locus_json = os.path.join(tempfile.mkdtemp(prefix="locus-cuda-bench-"), "locus.json")
    command = [args.locus, "--json", locus_json, "--warmup", str(args.warmup),
               "--iterations", str(args.iterations), "--repeats", str(args.repeats),
               "--batch", *map(str, args.batch), "--contexts", *map(str, args.contexts),
               "--width", *map(str, args.width)]
    if args.tf32:
        command.append("--tf32")
    if args.agents:
        command += ["--agents", *map(str, args.agents)]
    if args.interleave_agents:
        command.append("--interleave-agents")
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)
    with open(locus_json) as f:
        locus = json.load(f)

    import torch

    ceilings = locus.get("ceilings", {})
    gemm = ceilings.get("gemm_tf32_tflops" if args.tf32 else "gemm_fp32_tflops")
    copy = ceilings.get("copy_gbps")
    rows = []
    for run in locus["runs"]:
        agents = run.get("agents", 1)
        if agents > 1:
            peer = torch_agents_step_ms(torch, run["width"], run["batch"], agents,
                                        run["layout"] == "interleaved", args.warmup,
                                        args.iterations, args.repeats, args.tf32)
        else:
            peer = torch_step_ms(torch, run["width"], run["batch"], run["contexts"], args.warmup,
                                 args.iterations, args.repeats, args.tf32)
        floor_ms = max(run["flops"] / (gemm * 1e12), run["bytes"] / (copy * 1e9)) * 1e3
        row = dict(run, torch_ms=peer, ratio=peer / run["ms"], roofline_ms=floor_ms,
                   roofline_fraction=floor_ms / run["ms"],
                   tflops=run["flops"] / (run["ms"] * 1e-3) / 1e12)
        rows.append(row)
        print(f"torch eager {run['width']:5d}-wide batch {run['batch']:6d} contexts "
              f"{run['contexts']:3d} agents {agents:3d}: {peer:9.4f} ms/step", flush=True)

    print()
    print(f"device: {locus['device']}; torch {torch.__version__}; "
          f"measured ceilings: copy {copy:.0f} GB/s, sgemm {ceilings.get('gemm_fp32_tflops', 0):.1f} "
          f"TFLOP/s fp32, {ceilings.get('gemm_tf32_tflops', 0):.1f} TF32")
    print(f"{'width':>5} {'batch':>6} {'ctx':>4} {'agents':>6} {'locus ms':>9} {'torch ms':>9} "
          f"{'torch/locus':>11} {'TFLOP/s':>8} {'roofline':>8}")
    for r in rows:
        agents = f"{r.get('agents', 1)}{'i' if r.get('layout') == 'interleaved' else ''}"
        print(f"{r['width']:5d} {r['batch']:6d} {r['contexts']:4d} {agents:>6} {r['ms']:9.4f} "
              f"{r['torch_ms']:9.4f} {r['ratio']:11.2f} {r['tflops']:8.2f} "
              f"{100 * r['roofline_fraction']:7.1f}%")
    if args.out:
        write_atomically(Path(args.out), json.dumps(
            {"device": locus["device"], "torch": torch.__version__, "ceilings": ceilings,
             "tf32": args.tf32, "runs": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
