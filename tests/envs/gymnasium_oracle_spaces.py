#!/usr/bin/env python3
"""Gymnasium and numpy are the oracle for locus's spaces and arrays.

Runs spaces_dump (the locus side), rebuilds every space it prints from its to_json() form with
gymnasium.spaces, and requires, exactly:
  * repr(space) == locus's to_string();
  * space.seed(s) returns the same seeds, and the seeded samples are identical (floats bit for
    bit), including Discrete's masked sampling and the stream position after it;
  * space.contains(probe) agrees for every probe value locus printed;
and, for arrays: numpy's repr() and str() equal locus's to_string()/to_str() (a 0-d array prints
as its scalar's str() on the locus side, by design), astype() gives the same values, and
numpy.can_cast(from, to, "safe") matches locus's table.

Usage: python3 tests/envs/gymnasium_oracle_spaces.py /path/to/spaces_dump
Exit status 0 when everything matches, 1 on a mismatch, 2 on a usage problem, 77 (CTest's skip)
when numpy or gymnasium is not installed.
"""

import json
import struct
import subprocess
import sys
import warnings

try:
    import numpy as np
    import gymnasium as gym
except ImportError as error:  # pragma: no cover - depends on the machine
    print(f"skipped: {error}")
    sys.exit(77)

SEEDS = [0, 1, 7, 42, 123, 2**31 - 1, 2**32 + 5, 2**63 + 11, 2**64 - 1]
SAMPLES = 6

DTYPES = {
    "bool": np.bool_, "int8": np.int8, "uint8": np.uint8, "int16": np.int16,
    "int32": np.int32, "int64": np.int64, "float32": np.float32, "float64": np.float64,
}


def bound(value):
    if isinstance(value, list):
        return np.array([bound(v) for v in value], dtype=np.float64)
    if value == "inf":
        return np.inf
    if value == "-inf":
        return -np.inf
    return value


def make_space(spec):
    kind = spec["type"]
    if kind == "Discrete":
        return gym.spaces.Discrete(spec["n"], start=spec["start"])
    if kind == "Box":
        shape = tuple(spec["shape"])
        low, high = bound(spec["low"]), bound(spec["high"])
        if isinstance(low, np.ndarray):
            low = low.reshape(shape)
        if isinstance(high, np.ndarray):
            high = high.reshape(shape)
        return gym.spaces.Box(low, high, shape=shape, dtype=DTYPES[spec["dtype"]])
    if kind == "MultiDiscrete":
        return gym.spaces.MultiDiscrete(spec["nvec"], start=spec["start"])
    if kind == "MultiBinary":
        shape = spec["shape"]
        return gym.spaces.MultiBinary(shape[0] if len(shape) == 1 else shape)
    if kind == "Tuple":
        return gym.spaces.Tuple([make_space(s) for s in spec["spaces"]])
    if kind == "Dict":
        return gym.spaces.Dict({k: make_space(s) for k, s in spec["spaces"].items()})
    raise ValueError(f"unknown space type {kind}")


def hex_bits(x, dtype):
    if dtype == np.float32:
        return "%08x" % struct.unpack("<I", np.float32(x).tobytes())[0]
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def encode(value):
    """A Gymnasium sample in spaces_dump's value format."""
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": {k: encode(v) for k, v in value.items()}}
    a = np.asarray(value)
    if a.dtype in (np.float32, np.float64):
        data = [hex_bits(x, a.dtype) for x in a.ravel()]
    else:
        data = [int(x) for x in a.ravel()]
    return {"dtype": str(a.dtype), "shape": list(a.shape), "data": data}


def decode(value):
    if "tuple" in value:
        return tuple(decode(v) for v in value["tuple"])
    if "dict" in value:
        return {k: decode(v) for k, v in value["dict"].items()}
    dtype = np.dtype(DTYPES[value["dtype"]])
    if dtype.kind == "f":
        raw = b"".join(bytes.fromhex(h)[::-1] for h in value["data"])
        flat = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype)
    else:
        flat = np.array(value["data"], dtype=np.int64).astype(dtype)
    return flat.reshape(value["shape"])


def flatten_seeds(returned):
    if isinstance(returned, (tuple, list)):
        return [s for r in returned for s in flatten_seeds(r)]
    if isinstance(returned, dict):
        return [s for r in returned.values() for s in flatten_seeds(r)]
    return [int(returned)]


class Checker:
    def __init__(self):
        self.failures = []
        self.checks = 0

    def equal(self, what, got, want):
        self.checks += 1
        if got != want:
            self.failures.append(f"{what}:\n  locus:     {got!r}\n  reference: {want!r}")


def check_space(line, checker):
    space = make_space(line["space"])
    name = line["repr"]
    checker.equal(f"repr of {line['space']}", line["repr"], repr(space))
    for run in line["runs"]:
        seed = run["seed"]
        checker.equal(f"{name}.seed({seed}) return", run["seeds"], flatten_seeds(space.seed(seed)))
        for k, sample in enumerate(run["samples"]):
            checker.equal(f"{name} seed {seed} sample {k}", sample, encode(space.sample()))
        if "masked" in run:
            n = int(space.n)
            masks = [np.array([1 if (i % 3 == 1 or i == n - 1) else 0 for i in range(n)], np.int8),
                     np.array([1 if i == n - 1 else 0 for i in range(n)], np.int8),
                     np.zeros(n, np.int8)]
            want = []
            for mask in masks:
                want.append(encode(space.sample(mask=mask)))
                want.append(encode(space.sample()))
            checker.equal(f"{name} seed {seed} masked samples", run["masked"], want)
    for value, contained in line["probes"]:
        checker.equal(f"{name}.contains({value})", contained, bool(space.contains(decode(value))))


def check_array(line, checker):
    a = decode(line["array"])
    if a.shape == ():
        want = str(a[()])
        checker.equal(f"str of 0-d {line['array']}", line["str"], want)
        checker.equal(f"to_string of 0-d {line['array']}", line["repr"], want)
    else:
        checker.equal(f"repr of {line['array']}", line["repr"], repr(a))
        checker.equal(f"str of {line['array']}", line["str"], str(a))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    warnings.simplefilter("ignore")  # casts of NaN/inf, Box precision notes
    command = [sys.argv[1], "--samples", str(SAMPLES)] + [str(s) for s in SEEDS]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    checker = Checker()
    counts = {"space": 0, "array": 0, "astype": 0, "can_cast": 0}
    for text in output.splitlines():
        line = json.loads(text)
        if "space" in line:
            check_space(line, checker)
            counts["space"] += 1
        elif "array" in line:
            check_array(line, checker)
            counts["array"] += 1
        elif "astype" in line:
            source = decode(line["astype"])
            want = encode(source.astype(DTYPES[line["to"]]))
            checker.equal(f"{line['astype']}.astype({line['to']})", line["result"], want)
            counts["astype"] += 1
        elif "can_cast" in line:
            for src, dst, got in line["can_cast"]:
                checker.equal(f"can_cast({src}, {dst})", got,
                              bool(np.can_cast(DTYPES[src], DTYPES[dst], "safe")))
            counts["can_cast"] += 1
    print(f"gymnasium {gym.__version__}, numpy {np.__version__}: {checker.checks} checks over "
          f"{counts['space']} spaces, {counts['array']} arrays, {counts['astype']} astype calls")
    if counts["space"] == 0 or counts["array"] == 0 or counts["can_cast"] == 0:
        print("FAIL: spaces_dump printed too little")
        return 1
    if checker.failures:
        print(f"FAIL: {len(checker.failures)} mismatches; the first ones:")
        for failure in checker.failures[:25]:
            print(failure)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
