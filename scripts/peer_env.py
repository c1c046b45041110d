"""The private Python environment of the peer scripts (`.venv-peers/` at the repository root).

Both `peer_bench.py` and `make_torch_fixtures.py` call `ensure_environment()` first: when the
running interpreter is not the one inside `.venv-peers/`, it creates that virtual environment if
it is missing, installs what is missing into it from PyPI, and re-executes the calling script with
the environment's interpreter and the same arguments.

What installs on a CPU-only Debian bookworm machine with Python 3.11 and only PyPI reachable
(checked with torch 2.15.0 and tensorflow 2.21.0):

  * `pip install torch tensorflow` works as is. PyPI's Linux torch wheel is the CUDA build and pulls
    in about 3 GB of nvidia-* wheels; it runs on the CPU without a GPU (`torch.cuda.is_available()`
    is False). The whole environment takes about 7.5 GB of disk and a minute or two to install on a
    fast link.
  * `pip install --no-deps torch` plus its pure-Python dependencies (filelock typing-extensions
    sympy networkx jinja2 fsspec numpy) does NOT work: `import torch` fails while loading its
    global dependencies (`libcudart.so.13: cannot open shared object file`, then `libcublasLt.so.*
    not found`). The nvidia-* wheels are needed even on a CPU-only machine.
  * TensorFlow is only needed by the benchmark (and by the optional Keras cross-checks of the
    fixture script); `ensure_environment(need_tensorflow=False)` skips it.
"""

import os
import subprocess
import sys
import venv

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENVIRONMENT = os.path.join(REPOSITORY, ".venv-peers")
PYTHON = os.path.join(ENVIRONMENT, "bin", "python")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out


def _inside_environment():
    return os.path.realpath(sys.prefix) == os.path.realpath(ENVIRONMENT)


def _importable(module):
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec('{module}') is None)"
    return subprocess.run([PYTHON, "-c", probe], capture_output=True).returncode == 0


def _pip(*arguments):
    command = [PYTHON, "-m", "pip", "install", "--disable-pip-version-check", *arguments]
    print("+", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=True)


def install(need_tensorflow=True, extras=()):
    """Create `.venv-peers/` if needed and install what is missing (idempotent).

    torch comes from PyPI with its nvidia-* dependencies (see the module's notes: `--no-deps`
    does not give an importable torch); `extras` are further (module, package) pairs.
    """
    if not os.path.exists(PYTHON):
        print(f"creating {ENVIRONMENT}", file=sys.stderr, flush=True)
        venv.EnvBuilder(with_pip=True).create(ENVIRONMENT)
    if not _importable("torch"):
        _pip("torch")
    if not _importable("numpy"):
        _pip("numpy")
    if need_tensorflow and not _importable("tensorflow"):
        _pip("tensorflow")
    for module, package in extras:
        if not _importable(module):
            _pip(package)


def ensure_environment(need_tensorflow=True, extras=()):
    """Make sure the script runs inside `.venv-peers/`; re-execute it there if it does not."""
    install(need_tensorflow, extras)
    if _inside_environment():
        return
    script = os.path.abspath(sys.argv[0])
    os.execv(PYTHON, [PYTHON, script, *sys.argv[1:]])
