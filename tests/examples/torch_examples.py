"""Run the tutorials' own code for the example checks (examples/checks/*.json) and report the values asked for.

Reads {"cases": [{"name", "code", "inputs", "values", "asserts"}]} on stdin, writes {"answers": [...]} on stdout.
Each case runs in a fresh namespace holding torch, nn, F, math, np, Tensor, Function and Variable, plus its
inputs: gradwire's own values (random tensors gradwire generated), sent as base64 float64 bytes with their dtype
and shape. `values` maps a key to a Python expression (or a list of them) evaluated after the code; `asserts` are
expressions that must be true. Run with Debian's interpreter: /usr/bin/python3.
"""

import base64
import json
import math
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd import Function, Variable

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from torch_ref import DTYPES, NAMES, enc_num  # noqa: E402  (the runtime tests' reference harness)

torch.set_num_threads(1)
# The forward-backward notebook uses ctx.saved_variables, deprecated but still working in torch 1.13.
warnings.simplefilter("ignore", DeprecationWarning)


def make_input(spec):
    raw = np.frombuffer(base64.b64decode(spec["b64"]), dtype=np.float64)
    return torch.from_numpy(raw.copy()).to(DTYPES[spec["dtype"]]).reshape(spec["shape"])


def as_tensor(v):
    """A value as a tensor, and its dtype name when it was a tensor already (None for Python/NumPy numbers)."""
    if isinstance(v, torch.Tensor):
        return v.detach(), NAMES.get(v.dtype)
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, torch.Tensor) for x in v):
        return torch.stack([x.detach() for x in v]), NAMES.get(v[0].dtype)
    return torch.tensor(np.asarray(v, dtype=np.float64)), None


def flat(v):
    t, dtype = as_tensor(v)
    data = t.reshape(-1).tolist()
    return {"data": [enc_num(x) for x in data], "shape": list(t.shape), "dtype": dtype}


def run(case):
    ns = {
        "torch": torch,
        "nn": nn,
        "F": F,
        "math": math,
        "np": np,
        "Tensor": Tensor,
        "Function": Function,
        "Variable": Variable,
    }
    for name, spec in case.get("inputs", {}).items():
        ns[name] = make_input(spec)
    exec(compile(case["code"], f"<{case['name']}>", "exec"), ns)
    values = {}
    for key, exprs in case.get("values", {}).items():
        exprs = exprs if isinstance(exprs, list) else [exprs]
        values[key] = [flat(eval(e, ns)) for e in exprs]
    asserts = [bool(eval(e, ns)) for e in case.get("asserts", [])]
    return {"values": values, "asserts": asserts}


def main():
    cases = json.load(sys.stdin)["cases"]
    answers = []
    for case in cases:
        try:
            answers.append(run(case))
        except Exception as e:  # reported per case, so one broken check names itself
            answers.append({"error": f"{type(e).__name__}: {e}"})
    json.dump({"torch": torch.__version__, "answers": answers}, sys.stdout)


if __name__ == "__main__":
    main()
