"""PyTorch peer for the recurrent-network benchmark (bench_recurrent.cpp), same model and protocol.

The model: torch.nn.RNN (tanh) / nn.GRU / nn.LSTM of `hidden` units on 32 inputs, time-major
(steps, batch, 32) inputs, a linear readout nn.Linear(hidden, 8) at every step, cross-entropy over
every step. One iteration: forward, loss, zero the gradients, backward (no optimizer step). Two
modes: trainable (every parameter learns: the peer of locus's trainable networks and of its
modulated ones, which the goal compares with the ordinary RNN), and frozen (the input and recurrent
weights and the readout's weight fixed, only the biases learn: PyTorch's nearest to a modulated
network, for information). Inputs and labels are drawn before the clock starts; one warm-up, then
timed repeats until `repeats` ran while other processes used under 0.25 cores; the median
sequences per second is the figure.

The caller sets OMP_NUM_THREADS and MKL_NUM_THREADS (OPENBLAS_NUM_THREADS for an OpenBLAS build) to
the thread count; torch.set_num_threads gets --threads.
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


CELLS = {"elman": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}


def config_name(cell: str, mode: str, batch: int, hidden: int, threads: int) -> str:
    # As bench_recurrent.cpp names it; the torch "frozen" mode pairs with locus's "modulated".
    locus_mode = "modulated" if mode == "frozen" else mode
    return f"{cell} {locus_mode}, batch {batch}, hidden {hidden}, {threads} thr"


def measure(cell: str, mode: str, batch: int, hidden: int, threads: int, args) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(7)
    rnn = CELLS[cell](args.input, hidden)  # nn.RNN's default nonlinearity is tanh
    readout = torch.nn.Linear(hidden, args.outputs)
    if mode == "frozen":
        for name, p in list(rnn.named_parameters()) + [("weight", readout.weight)]:
            p.requires_grad_(not name.startswith("weight"))
    params = [p for p in list(rnn.parameters()) + list(readout.parameters()) if p.requires_grad]
    generator = torch.Generator().manual_seed(7)
    batches = [(torch.rand(args.steps, batch, args.input, generator=generator),
                torch.randint(0, args.outputs, (args.steps * batch,), generator=generator))
               for _ in range(2)]

    def iteration(i: int) -> float:
        x, labels = batches[i % 2]
        out, _ = rnn(x)
        loss = F.cross_entropy(readout(out).reshape(-1, args.outputs), labels)
        for p in params:
            p.grad = None
        loss.backward()
        return float(loss.detach())

    iterations, r = time_calibrated_iterations(iteration, args.seconds, 1, args.repeats, batch)
    name = config_name(cell, mode, batch, hidden, threads)
    print(f"{name:<44} {r.median_rate:10.1f} sequences/s (PyTorch {mode}{r.busy_note()})",
          file=sys.stderr, flush=True)
    return {"name": name, "impl": f"torch {torch.__version__}",
            "config": {"cell": cell, "mode": mode, "batch": batch, "hidden": hidden,
                       "threads": threads, "steps": args.steps, "input": args.input,
                       "outputs": args.outputs},
            "iterations_per_repeat": iterations, **rate_fields("sequences", r)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.3)
    parser.add_argument("--cells", nargs="+", choices=list(CELLS), default=list(CELLS))
    parser.add_argument("--modes", nargs="+", choices=["trainable", "frozen"],
                        default=["trainable", "frozen"])
    parser.add_argument("--batch", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--input", type=int, default=32)
    parser.add_argument("--outputs", type=int, default=8)
    parser.add_argument("--threads", type=int, required=True,
                        help="torch.set_num_threads (the caller sets the libraries' variables)")
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    results = [measure(c, m, b, h, args.threads, args)
               for c in args.cells for m in args.modes for h in args.hidden for b in args.batch]
    with open(args.json, "w", encoding="utf-8") as out:
        json.dump({"benchmark": "recurrent_forward_backward", "results": results}, out, indent=2)


if __name__ == "__main__":
    main()
