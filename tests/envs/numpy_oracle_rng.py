#!/usr/bin/env python3
"""numpy is the oracle for locus's RNG.

Builds scripts of mixed RNG calls for many seeds, runs them through rng_dump (the locus side) and
through numpy.random.Generator(PCG64(SeedSequence(seed))) (what gymnasium.utils.seeding.np_random
returns), and requires every output to be identical: integers exactly, doubles and floats bit for
bit. The calls are interleaved so that a call consuming one raw draw too many or too few (the
buffered 32-bit half, a rejection loop, a ziggurat retry) shows up in every later line.

Usage: python3 tests/envs/numpy_oracle_rng.py /path/to/rng_dump
Exit status 0 when everything matches, 1 on a mismatch, 2 on a usage or setup problem.
"""

import random
import struct
import subprocess
import sys

import numpy as np

try:  # When Gymnasium is installed, seed exactly as its environments do.
    from gymnasium.utils.seeding import np_random as gymnasium_np_random
except ImportError:
    gymnasium_np_random = None

# Seeds around the word boundaries of SeedSequence's int splitting, plus ordinary ones.
SEEDS = [0, 1, 2, 7, 42, 123, 1000, 65535, 2**31 - 1, 2**32 - 1, 2**32, 2**32 + 5, 2**40 + 3,
         2**53 + 1, 2**62, 2**63, 2**64 - 1, 9_999_999_967, 31_415_926_535, 12_345_678_901_234_567]

# int64 [low, high) pairs exercising every branch of numpy's bounded integers: a single value
# (no draw), 32-bit Lemire with and without likely rejection, the full 32-bit range (plain
# next_uint32), 64-bit Lemire with likely rejection, and the widest int64 range.
INT_RANGES = [(0, 1), (5, 6), (0, 2), (-5, 5), (0, 3), (0, 100), (-1000, 7), (0, 3 * 2**30),
              (0, 2**31), (0, 2**32 - 1), (0, 2**32), (-(2**31), 2**31), (0, 2**32 + 1),
              (0, 2**40), (-(2**62), 2**62), (-(2**63), 2**62), (-(2**63), 2**63 - 1),
              (2**63 - 10, 2**63 - 1)]

# dtype: [low, high) pairs for the size= integer paths, including each type's full range.
FILL_RANGES = {
    "int8": [(0, 2), (-128, 128), (-3, 100), (0, 1)],
    "uint8": [(0, 256), (0, 255), (10, 13), (0, 192)],
    "int16": [(-32768, 32768), (0, 3), (-100, 30000)],
    "uint16": [(0, 65536), (0, 65535), (0, 49152)],
    "int32": [(-(2**31), 2**31), (0, 7), (-(2**31), 2**30)],
    "uint32": [(0, 2**32 - 1), (0, 3 * 2**30), (0, 10)],
    "int64": [(0, 2), (-(2**63), 2**63 - 1), (-(2**63), 2**62)],
    "uint64": [(0, 2**63 - 1), (0, 5), (0, 2**32)],
    "bool": [(0, 2), (0, 1), (1, 2)],
}


def hex_double(value):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(value)))[0]


def hex_float(value):
    return "%08x" % struct.unpack("<I", np.float32(value).tobytes())[0]


def joined(values):
    return "".join(f"{v} " for v in values)


class Oracle:
    """Keeps the numpy generator in step with the script and records the expected lines."""

    def __init__(self):
        self.gen = None
        self.lines = []
        self.expected = []

    def add(self, line, expected):
        self.lines.append(line)
        self.expected.append(expected.rstrip())

    def seed(self, seed):
        if gymnasium_np_random is not None:
            self.gen, _ = gymnasium_np_random(seed)
        else:
            self.gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
        self.add(f"seed {seed}", "ok")

    def words(self, entropy, key):
        seq = np.random.SeedSequence(np.array(entropy, dtype=np.uint32), spawn_key=tuple(key))
        self.gen = np.random.Generator(np.random.PCG64(seq))
        self.add("words " + " ".join(map(str, entropy)) + " / " + " ".join(map(str, key)), "ok")

    def spawn(self, seed, n, index):
        child = np.random.SeedSequence(seed).spawn(n)[index]
        self.gen = np.random.Generator(np.random.PCG64(child))
        self.add(f"spawn {seed} {n} {index}", "ok")

    def seedseq(self, seed, n):
        seq = np.random.SeedSequence(seed)
        self.add(f"seedseq32 {seed} {n}", joined(seq.generate_state(n, np.uint32)))
        self.add(f"seedseq64 {seed} {n}", joined(seq.generate_state(n, np.uint64)))

    def state(self):
        st = self.gen.bit_generator.state
        self.add("state", "%032x %032x %d %d" % (st["state"]["state"], st["state"]["inc"],
                                                 st["has_uint32"], st["uinteger"]))

    def random_call(self, rnd):
        """Appends one randomly chosen call, weighted towards the everyday ones."""
        g = self.gen
        kind = rnd.choice(["raw", "u32", "random", "float", "uniform", "integers", "integers",
                           "integers", "std_normal", "normal", "std_exp", "exponential", "fill",
                           "fill", "choice", "choice_p", "permutation", "state", "advance"])
        n = rnd.choice([1, 1, 2, 3, 7, 16])
        if kind == "raw":
            self.add(f"raw {n}", joined(g.bit_generator.random_raw(n)))
        elif kind == "u32":
            # integers(0, 2**32) is numpy's plain next_uint32 path (inclusive range 0xFFFFFFFF).
            self.add(f"u32 {n}", joined(int(g.integers(0, 2**32)) for _ in range(n)))
        elif kind == "random":
            self.add(f"random {n}", joined(hex_double(g.random()) for _ in range(n)))
        elif kind == "float":
            self.add(f"float {n}", joined(hex_float(g.random(dtype=np.float32)) for _ in range(n)))
        elif kind == "uniform":
            low = rnd.choice([-0.05, 0.0, -1.0, -2.4, 1e-3, -1e6])
            high = low + rnd.choice([0.1, 1.0, 2.0, 4.8, 0.0, 1e9])
            self.add(f"uniform {low.hex()} {high.hex()} {n}",
                     joined(hex_double(g.uniform(low, high)) for _ in range(n)))
        elif kind == "integers":
            low, high = rnd.choice(INT_RANGES)
            self.add(f"integers {low} {high} {n}",
                     joined(int(g.integers(low, high)) for _ in range(n)))
        elif kind == "std_normal":
            self.add(f"std_normal {n}", joined(hex_double(g.standard_normal()) for _ in range(n)))
        elif kind == "normal":
            loc = rnd.choice([0.0, 1.5, -3.0])
            scale = rnd.choice([1.0, 0.1, 2.5, 0.0])
            self.add(f"normal {loc.hex()} {scale.hex()} {n}",
                     joined(hex_double(g.normal(loc, scale)) for _ in range(n)))
        elif kind == "std_exp":
            self.add(f"std_exp {n}",
                     joined(hex_double(g.standard_exponential()) for _ in range(n)))
        elif kind == "exponential":
            scale = rnd.choice([1.0, 0.5, 250.0])
            self.add(f"exponential {scale.hex()} {n}",
                     joined(hex_double(g.exponential(scale)) for _ in range(n)))
        elif kind == "fill":
            self.fill_call(rnd, rnd.choice([1, 5, 33, 100]))
        elif kind == "choice":
            pop = rnd.choice([1, 2, 5, 1000, 2**33])
            self.add(f"choice {pop} {n}", joined(int(g.choice(pop)) for _ in range(n)))
        elif kind == "choice_p":
            weights = [rnd.random() for _ in range(rnd.choice([1, 2, 4, 9]))]
            weights[rnd.randrange(len(weights))] = 0.0 if len(weights) > 1 else weights[0]
            total = sum(weights)
            p = [w / total for w in weights]
            self.add("choice_p " + " ".join(x.hex() for x in p), str(int(g.choice(len(p), p=p))))
        elif kind == "permutation":
            size = rnd.choice([0, 1, 2, 10, 52])
            self.add(f"permutation {size}", joined(int(v) for v in g.permutation(size)))
        elif kind == "state":
            self.state()
        elif kind == "advance":
            delta = rnd.choice([0, 1, 1000, 2**64 + 17, 2**128 - 1, rnd.getrandbits(128)])
            g.bit_generator.advance(delta)
            self.add(f"advance {delta}", "ok")

    def fill_call(self, rnd, n):
        g = self.gen
        kind = rnd.choice(["random", "float", "uniform", "normal", "std_normal", "std_exp",
                           "integers", "integers"])
        if kind == "random":
            self.add(f"random_fill {n}", joined(hex_double(v) for v in g.random(n)))
        elif kind == "float":
            self.add(f"float_fill {n}",
                     joined(hex_float(v) for v in g.random(n, dtype=np.float32)))
        elif kind == "uniform":
            self.add(f"uniform_fill {(-0.05).hex()} {0.05.hex()} {n}",
                     joined(hex_double(v) for v in g.uniform(-0.05, 0.05, n)))
        elif kind == "normal":
            self.add(f"normal_fill {0.5.hex()} {2.0.hex()} {n}",
                     joined(hex_double(v) for v in g.normal(0.5, 2.0, n)))
        elif kind == "std_normal":
            self.add(f"std_normal_fill {n}", joined(hex_double(v) for v in g.standard_normal(n)))
        elif kind == "std_exp":
            self.add(f"std_exp_fill {n}",
                     joined(hex_double(v) for v in g.standard_exponential(n)))
        else:
            dtype = rnd.choice(sorted(FILL_RANGES))
            low, high = rnd.choice(FILL_RANGES[dtype])
            values = g.integers(low, high, size=n, dtype=bool if dtype == "bool" else dtype)
            self.add(f"integers_fill {dtype} {low} {high} {n}", joined(int(v) for v in values))


def build_script():
    oracle = Oracle()
    for index, seed in enumerate(SEEDS):
        rnd = random.Random(index)
        oracle.seedseq(seed, 8)
        oracle.seed(seed)
        oracle.add("raw 4", joined(oracle.gen.bit_generator.random_raw(4)))
        oracle.state()
        for _ in range(60):
            oracle.random_call(rnd)
        # Long runs so that the rare ziggurat branches (tail, wedge rejection) and the Lemire
        # rejection loops are all taken many times for every seed.
        g = oracle.gen
        oracle.add("std_normal_fill 4000", joined(hex_double(v) for v in g.standard_normal(4000)))
        oracle.add("std_exp_fill 4000",
                   joined(hex_double(v) for v in g.standard_exponential(4000)))
        oracle.add(f"integers {-(2**63)} {2**62} 500",
                   joined(int(g.integers(-(2**63), 2**62)) for _ in range(500)))
        oracle.add(f"integers 0 {3 * 2**30} 500", joined(int(g.integers(0, 3 * 2**30))
                                                        for _ in range(500)))
        oracle.state()
        jumps = rnd.choice([1, 2, 7])
        oracle.gen = np.random.Generator(oracle.gen.bit_generator.jumped(jumps))
        oracle.add(f"jumped {jumps}", "ok")
        oracle.add("raw 2", joined(oracle.gen.bit_generator.random_raw(2)))
        oracle.state()

    # Entropy given as uint32 words (numpy arrays) and spawned children, as used by vector envs.
    for entropy, key in [([0], []), ([1, 2, 3, 4], []), ([7, 0, 0, 0, 9], []), ([123], [0]),
                         ([123], [5, 2**40]), ([1, 2, 3, 4, 5, 6], [3]), ([0xFFFFFFFF] * 3, [])]:
        oracle.words(entropy, key)
        oracle.add("raw 3", joined(oracle.gen.bit_generator.random_raw(3)))
        oracle.add("random 2", joined(hex_double(oracle.gen.random()) for _ in range(2)))
    for seed, n, index in [(0, 1, 0), (42, 4, 3), (2**63, 2, 1)]:
        oracle.spawn(seed, n, index)
        oracle.add("raw 3", joined(oracle.gen.bit_generator.random_raw(3)))

    # numpy rejects these; locus must throw std::invalid_argument.
    oracle.seed(5)
    for line, call in [("integers 5 5 1", lambda g: g.integers(5, 5)),
                       ("integers 5 4 1", lambda g: g.integers(5, 4)),
                       ("uniform 0x1p+0 0x0p+0 1", lambda g: g.uniform(1.0, 0.0)),
                       ("uniform 0x0p+0 inf 1", lambda g: g.uniform(0.0, float("inf"))),
                       ("uniform nan 0x1p+0 1", lambda g: g.uniform(float("nan"), 1.0)),
                       ("normal 0x0p+0 -0x1p+0 1", lambda g: g.normal(0.0, -1.0)),
                       ("normal 0x0p+0 -0x0p+0 1", lambda g: g.normal(0.0, -0.0)),
                       ("exponential -0x1p+0 1", lambda g: g.exponential(-1.0)),
                       ("integers_fill int8 0 200 1", lambda g: g.integers(0, 200, dtype="int8")),
                       ("integers_fill bool 0 3 1", lambda g: g.integers(0, 3, dtype=bool)),
                       ("choice_p 0x1p-1 0x1p-2", lambda g: g.choice(2, p=[0.5, 0.25]))]:
        try:
            call(oracle.gen)
            raise SystemExit(f"oracle setup: numpy accepted '{line}', expected an error")
        except (ValueError, OverflowError):
            pass
        oracle.add("error " + line, "invalid_argument")
    oracle.add("raw 2", joined(oracle.gen.bit_generator.random_raw(2)))
    return oracle


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    oracle = build_script()
    script = "\n".join(oracle.lines) + "\n"
    result = subprocess.run([sys.argv[1]], input=script, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"rng_dump failed with status {result.returncode}:\n{result.stderr}", file=sys.stderr)
        return 1
    actual = [line.rstrip() for line in result.stdout.splitlines()]
    if len(actual) != len(oracle.expected):
        print(f"rng_dump printed {len(actual)} lines for {len(oracle.expected)} commands",
              file=sys.stderr)
    mismatches = 0
    for number, (line, want) in enumerate(zip(oracle.lines, oracle.expected)):
        got = actual[number] if number < len(actual) else "<missing>"
        if got != want:
            mismatches += 1
            if mismatches <= 5:
                print(f"MISMATCH at command {number}: {line}\n  numpy: {want[:300]}\n"
                      f"  locus: {got[:300]}", file=sys.stderr)
    values = sum(len(e.split()) for e in oracle.expected)
    if mismatches or len(actual) != len(oracle.expected):
        print(f"FAILED: {mismatches} of {len(oracle.expected)} commands differ", file=sys.stderr)
        return 1
    seeding = "gymnasium np_random" if gymnasium_np_random is not None else "numpy"
    print(f"numpy {np.__version__} (seeded via {seeding}): {len(oracle.expected)} commands, "
          f"{values} values, {len(SEEDS)} seeds: all identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
