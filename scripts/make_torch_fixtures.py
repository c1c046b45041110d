#!/usr/bin/env python3
"""Write the PyTorch reference values that the engine's tests compare against.

Usage:
    python3 scripts/make_torch_fixtures.py [--out Tests/Fixtures/torch] [--check] [--only NAME]

Every case (defined in fixture_cases.py and fixture_cases_training.py) is one safetensors file
under `Tests/Fixtures/torch/` (format: scripts/safetensors_f32.py; the list of files, tensors and
metadata keys: Tests/Fixtures/torch/README.md). Each case seeds
PyTorch with `torch.manual_seed(seed of the case)`, draws its inputs in float32 on the CPU and
computes in float32, so rerunning the script rewrites the same bytes.

`--check` also, for every case: recomputes it in float64 from the same float32 inputs and prints
the worst error of the stored float32 values under the README's comparison rule; reads every file
back (and with the `safetensors` package too, when it is installed); and, when TensorFlow is
installed, compares the Keras-convention cases ("same" convolutions, BatchNorm momentum and
moving variance, RMSProp and Adam formulas) against Keras itself.

The script runs itself inside `.venv-peers/` (see scripts/peer_env.py), creating it if needed.
"""
import argparse
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_env  # noqa: E402

if __name__ == "__main__":
    checking = "--check" in sys.argv
    peer_env.ensure_environment(need_tensorflow=checking,
                                extras=[("safetensors", "safetensors")] if checking else [])

import torch  # noqa: E402

import fixture_cases_training  # noqa: E402,F401  (registers its cases after the layers')
import safetensors_f32  # noqa: E402
from fixture_cases import CASES  # noqa: E402

DEFAULT_OUT = os.path.join(peer_env.REPOSITORY, "Tests", "Fixtures", "torch")


# ------------------------------------------------------------------------------------------ driver

def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def compute(name, dtype):
    function, settings = CASES[name]
    torch.manual_seed(seed_of(name))
    tensors, metadata = function(dtype, **settings)
    metadata = {key: str(value) for key, value in metadata.items()}
    metadata["seed"] = str(seed_of(name))
    metadata["case"] = name
    return tensors, metadata


def write_case(directory, name):
    tensors, metadata = compute(name, torch.float32)
    path = os.path.join(directory, name + ".safetensors")
    safetensors_f32.write(path, {key: (list(value.shape), value.detach().to(torch.float32)
                                       .reshape(-1).tolist())
                                 for key, value in tensors.items()}, metadata)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="float64, read-back and Keras checks")
    parser.add_argument("--only", action="append", help="write only this case (repeatable)")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(arguments.out, exist_ok=True)
    names = arguments.only or list(CASES)
    total = 0
    for name in names:
        path = write_case(arguments.out, name)
        total += os.path.getsize(path)
        print(f"{os.path.getsize(path):8d}  {os.path.relpath(path, peer_env.REPOSITORY)}")
    print(f"{total:8d}  bytes in {len(names)} files")
    if arguments.check:
        import fixture_checks
        sys.exit(0 if fixture_checks.run(arguments.out, names, compute) else 1)


if __name__ == "__main__":
    main()
