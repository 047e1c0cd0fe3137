"""PyTorch reference for gradwire's runtime tests.

Reads one JSON batch of cases on stdin and writes one JSON answer on stdout, so a test file pays for a single
Python start and `import torch`. Run with Debian's interpreter: /usr/bin/python3 tests/reference/torch_ref.py

Case kinds:
  call   : call torch.* / F.* / linalg.* / a Tensor method on encoded arguments, return the outputs, the
           upstream gradients used, and the gradient of every tensor argument that requires grad.
  optim  : run a named objective under a torch.optim optimizer for many steps, return the trajectory.
  script : run one of the named autograd scripts below, return its named values.

Numbers that JSON cannot carry (nan, inf, -inf) travel as those strings.
"""

import json
import math
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)

DTYPES = {
    "float16": torch.float16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}


def dec_num(v):
    if isinstance(v, str):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[v]
    return v


def enc_num(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
    return v


def make_tensor(spec):
    dtype = DTYPES[spec["dtype"]]
    data = [dec_num(v) for v in spec["data"]]
    if dtype == torch.bool:
        data = [bool(v) for v in data]
    elif dtype in (torch.int32, torch.int64):
        data = [int(v) for v in data]
    # Values are sent exactly representable in their dtype, so one conversion from float64 is exact.
    t = torch.tensor(data, dtype=torch.float64 if dtype.is_floating_point else dtype)
    t = t.to(dtype).reshape(spec["shape"])
    if spec.get("requires_grad"):
        t.requires_grad_(True)
    return t


def flat(t):
    t = t.detach()
    values = t.reshape(-1).tolist() if t.dtype != torch.bool else [bool(v) for v in t.reshape(-1).tolist()]
    return {"data": [enc_num(v) for v in values], "shape": list(t.shape), "dtype": NAMES[t.dtype]}


def decode(arg, tensors):
    """Arguments: {"tensor": spec}, {"list": [...]}, {"num": "nan"}, or plain JSON values."""
    if isinstance(arg, dict):
        if "tensor" in arg:
            t = make_tensor(arg["tensor"])
            tensors.append(t)
            return t
        if "list" in arg:
            return [decode(a, tensors) for a in arg["list"]]
        if "tuple" in arg:
            return tuple(decode(a, tensors) for a in arg["tuple"])
        if "num" in arg:
            return dec_num(arg["num"])
        raise ValueError(f"unknown argument encoding {arg}")
    return arg


def resolve(name):
    ns, _, attr = name.partition(".")
    if ns == "torch":
        return getattr(torch, attr)
    if ns == "F":
        return getattr(F, attr)
    if ns == "linalg":
        return getattr(torch.linalg, attr)
    raise ValueError(f"unknown function namespace in {name}")


def grad_values(n, seed):
    """Upstream gradients exact in every float dtype and never zero: multiples of 0.25 in [-1.125, 1.125]."""
    return [((i * 7 + seed) % 10 - 4.5) / 4 for i in range(n)]


def as_outputs(result):
    if isinstance(result, torch.Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [r for r in result if isinstance(r, torch.Tensor)]
    return [torch.tensor(result)]


def run_call(case):
    tensors = []
    args = [decode(a, tensors) for a in case.get("args", [])]
    kwargs = {k: decode(v, tensors) for k, v in case.get("kwargs", {}).items()}
    name = case["fn"]
    if name.startswith("method."):
        result = getattr(args[0], name[len("method.") :])(*args[1:], **kwargs)
    else:
        result = resolve(name)(*args, **kwargs)
    outs = as_outputs(result)
    answer = {"outputs": [flat(o) for o in outs], "grad_outputs": [], "grads": []}
    diff = [o for o in outs if o.requires_grad]
    seed = case.get("grad_seed", 0)
    grad_outs = []
    for k, o in enumerate(outs):
        if o.requires_grad:
            g = torch.tensor(grad_values(o.numel(), seed + k), dtype=o.dtype).reshape(o.shape)
            grad_outs.append(g)
            answer["grad_outputs"].append(flat(g))
        else:
            answer["grad_outputs"].append(None)
    leaves = [t for t in tensors if t.requires_grad]
    if diff and leaves:
        torch.autograd.backward(diff, grad_outs)
    answer["grads"] = [flat(t.grad) if t.requires_grad and t.grad is not None else None for t in tensors]
    return answer


# ---- optimizer trajectories -------------------------------------------------------------------------------


def objective(name, params, data):
    if name == "regression":
        w, b = params
        return F.mse_loss(data["X"] @ w + b, data["y"])
    if name == "mlp":
        w1, b1, w2, b2 = params
        h = torch.tanh(F.linear(data["X"], w1, b1))
        return F.cross_entropy(F.linear(h, w2, b2), data["y"])
    if name == "quartic":
        (p,) = params
        return ((p * p - data["c"]) ** 2).sum() + (p * data["a"]).sum()
    raise ValueError(f"unknown objective {name}")


def run_optim(case):
    params = [make_tensor(dict(p, requires_grad=True)) for p in case["params"]]
    data = {k: make_tensor(v) for k, v in case["data"].items()}
    cls = getattr(torch.optim, case["optimizer"])
    kwargs = dict(case.get("kwargs", {}))
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    opt = cls(params, **kwargs)
    schedule = {int(s): v for s, v in case.get("lr_schedule", [])}
    losses = []
    for step in range(case["steps"]):
        if step in schedule:
            for g in opt.param_groups:
                g["lr"] = schedule[step]
        if case.get("zero_grad", True):
            opt.zero_grad()
        if case["objective"] == "given":
            # Gradients handed in, one row per step: tests the update rule alone, with no loss arithmetic.
            (p,) = params
            g = data["G"][step].reshape(p.shape)
            p.grad = g.clone() if p.grad is None else p.grad + g
        else:
            loss = objective(case["objective"], params, data)
            loss.backward()
            losses.append(enc_num(loss.item()))
        opt.step()
    return {"losses": losses, "params": [flat(p) for p in params]}


# ---- autograd scripts -------------------------------------------------------------------------------------


class Square(torch.autograd.Function):
    """The tutorial's `square`, whose backward forgets the 2 * input factor."""

    @staticmethod
    def forward(ctx, i):
        result = i.pow(2)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output


class TrueSquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        ctx.save_for_backward(i)
        return i * i

    @staticmethod
    def backward(ctx, grad_output):
        (i,) = ctx.saved_tensors
        return 2 * i * grad_output


def error_of(fn):
    try:
        fn()
    except RuntimeError as e:
        return str(e).split("\n")[0]
    return None


def script_tutorial():
    f32 = torch.float32
    yvar = torch.tensor([0, 1, 0, 0], dtype=f32, requires_grad=True)
    pvar = torch.tensor([0.001, 0.5, 0.1, 0.1], dtype=f32, requires_grad=True)
    plow = torch.tensor([0.001, 0.55, 0.1, 0.1], dtype=f32, requires_grad=True)
    l2 = torch.pow((yvar - pvar).norm(), 2)
    l2low = torch.pow((yvar - plow).norm(), 2)
    delta = l2.data - l2low.data
    out = {"LossDelta": delta, "L2LossVar": l2, "L2LossVarLowerLoss": l2low}
    l2low.backward(gradient=delta, retain_graph=True)
    out["firstGradientResult"] = plow.grad.clone()
    out["Yvar.grad.first"] = yvar.grad.clone()
    custom = Square.apply((yvar - plow).norm())
    out["L2LossCustom"] = custom
    plow.grad.data.zero_()
    custom.backward(gradient=delta, retain_graph=True)
    out["customGrad1"] = plow.grad.clone()
    custom.backward(gradient=delta, retain_graph=True)
    out["customGrad2"] = plow.grad.clone()
    custom.backward(gradient=delta, retain_graph=True)
    out["customGrad3"] = plow.grad.clone()
    out["Yvar.grad"] = yvar.grad.clone()
    out["Pvar.grad"] = pvar.grad
    return out


def script_accumulate():
    x = torch.tensor([1.5, -2.0, 0.25], dtype=torch.float64, requires_grad=True)
    y = (x * x * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.clone()
    y.backward(retain_graph=True)
    g2 = x.grad.clone()
    y.backward()
    g3 = x.grad.clone()
    err = error_of(lambda: y.backward())
    x.grad = None
    z = (x.exp() * 2).sum()
    z.backward()
    return {"g1": g1, "g2": g2, "g3": g3, "second_backward_error": err is not None, "fresh": x.grad}


def script_no_saved_tensors():
    # Nodes that save no tensors (add, sum) can be walked twice without retain_graph, as in torch.
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    err = error_of(lambda: y.backward())
    return {"error": err is not None, "grad": x.grad}


def script_detach():
    x = torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64, requires_grad=True)
    y = x * 3
    d = y.detach()
    z = (y * d).sum()
    z.backward()
    return {"grad": x.grad, "detached_requires_grad": d.requires_grad, "is_leaf": d.is_leaf}


def script_no_grad():
    x = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        y = x * 2
    z = (x * y).sum()
    z.backward()
    return {"y_requires_grad": y.requires_grad, "grad": x.grad, "z_requires_grad": z.requires_grad}


def script_explicit_gradient():
    x = torch.tensor([[1.0, 2.0], [3.0, -4.0]], dtype=torch.float64, requires_grad=True)
    y = x * x + x
    y.backward(gradient=torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64))
    g1 = x.grad.clone()
    w = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
    s = (w * w).sum()
    s.backward(gradient=torch.tensor(3.0))
    err = error_of(lambda: (x * 2).backward())
    return {"grad": g1, "scalar_grad": w.grad, "nonscalar_error": err is not None}


def script_custom_function():
    x = torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64, requires_grad=True)
    y = TrueSquare.apply(x * 2).sum()
    y.backward()
    g = x.grad.clone()
    x.grad = None
    z = Square.apply(x).sum()
    z.backward()
    return {"grad": g, "wrong_grad": x.grad, "y": y}


def script_shared_subgraph():
    # A leaf reached along several paths sums its gradients; an intermediate used twice does too.
    a = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([2.0, 0.5, -1.0], dtype=torch.float64, requires_grad=True)
    h = a * b
    out = (h * h + h.exp() - a).sum()
    out.backward()
    return {"a": a.grad, "b": b.grad, "out": out}


def script_leaf_no_grad_input():
    x = torch.tensor([1.0, 2.0], dtype=torch.float32)
    w = torch.tensor([0.5, 0.25], dtype=torch.float32, requires_grad=True)
    y = (x * w).sum()
    y.backward()
    return {"x_grad_is_none": x.grad is None, "w": w.grad, "y_is_leaf": y.is_leaf}


def script_errors():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    plain = torch.tensor([1.0, 2.0], dtype=torch.float64)
    y = x * x
    return {
        "backward_without_grad": error_of(lambda: plain.sum().backward()) is not None,
        "implicit_nonscalar": error_of(lambda: y.backward()) is not None,
        "gradient_shape_mismatch": error_of(lambda: y.backward(torch.ones(3, dtype=torch.float64))) is not None,
        "gradient_expandable_shape": error_of(lambda: y.backward(torch.ones(2, 2, dtype=torch.float64))) is not None,
        "gradient_same_count_other_shape": error_of(lambda: y.backward(torch.ones(2, 1, dtype=torch.float64)))
        is not None,
        "int_requires_grad": error_of(lambda: torch.tensor([1, 2]).requires_grad_()) is not None,
    }


def script_backward_from_leaf():
    x = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    x.backward(torch.tensor([0.5, 0.25], dtype=torch.float64))
    x.backward(torch.tensor([1.0, 1.0], dtype=torch.float64))
    return {"grad": x.grad}


SCRIPTS = {
    "errors": script_errors,
    "backward_from_leaf": script_backward_from_leaf,
    "tutorial": script_tutorial,
    "accumulate": script_accumulate,
    "no_saved_tensors": script_no_saved_tensors,
    "detach": script_detach,
    "no_grad": script_no_grad,
    "explicit_gradient": script_explicit_gradient,
    "custom_function": script_custom_function,
    "shared_subgraph": script_shared_subgraph,
    "leaf_no_grad_input": script_leaf_no_grad_input,
}


def run_script(case):
    values = SCRIPTS[case["name"]]()
    out = {}
    for k, v in values.items():
        if isinstance(v, torch.Tensor):
            out[k] = flat(v)
        elif v is None:
            out[k] = None
        else:
            out[k] = enc_num(v)
    return {"values": out}


RUNNERS = {"call": run_call, "optim": run_optim, "script": run_script}


def main():
    batch = json.load(sys.stdin)
    answers = []
    for case in batch["cases"]:
        try:
            answers.append(RUNNERS[case["kind"]](case))
        except Exception as e:  # the test compares torch's refusal with gradwire's
            answers.append({"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"})
    json.dump({"torch": torch.__version__, "answers": answers}, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
