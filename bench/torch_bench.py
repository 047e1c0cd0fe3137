"""PyTorch side of `npm run bench`: trains the workloads described by a manifest and times its own loops.

Usage: /usr/bin/python3 bench/torch_bench.py MANIFEST.json
The manifest (written by bench/cpu/torch.ts) names raw little-endian arrays for the data and initial
parameters, so PyTorch trains exactly the values gradwire trains. Prints one JSON document on stdout.
"""

import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load(path, dtype):
    return torch.from_numpy(np.fromfile(path, dtype=dtype).copy())


def adam(params, w):
    return torch.optim.Adam(params, lr=w["lr"], betas=(w["beta1"], w["beta2"]), eps=w["eps"])


def timed(epochs, opt, objective):
    """The training loop every workload shares: its seconds (wall and CPU) and the last epoch's loss."""
    loss = None
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in range(epochs):
        loss = objective()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return time.perf_counter() - t0, time.process_time() - c0, float(loss)


def make_linear(w):
    x = load(w["files"]["x"], np.float32)
    y = load(w["files"]["y"], np.float32)

    def train(epochs):
        weight = torch.tensor([w["w0"]], dtype=torch.float32, requires_grad=True)
        bias = torch.tensor([w["b0"]], dtype=torch.float32, requires_grad=True)
        if w["optimizer"] == "sgd":
            opt = torch.optim.SGD([weight, bias], lr=w["lr"])
        else:
            opt = adam([weight, bias], w)

        def objective():
            return F.mse_loss(weight * x + bias, y)

        return timed(epochs, opt, objective)

    return train


def make_mlp(w):
    n, hidden, classes = w["n"], w["hidden"], w["classes"]
    x = load(w["files"]["x"], np.float32).reshape(n, 2)
    labels = load(w["files"]["labels"], np.int32).long()
    init = {k: load(w["files"][k], np.float32) for k in ("w1", "b1", "w2", "b2")}

    def train(epochs):
        w1 = init["w1"].clone().reshape(hidden, 2).requires_grad_()
        b1 = init["b1"].clone().requires_grad_()
        w2 = init["w2"].clone().reshape(classes, hidden).requires_grad_()
        b2 = init["b2"].clone().requires_grad_()
        opt = adam([w1, b1, w2, b2], w)
        def objective():
            h = torch.tanh(F.linear(x, w1, b1))
            return F.cross_entropy(F.linear(h, w2, b2), labels)

        return timed(epochs, opt, objective)

    return train


def make_cnn(w):
    n, channels, classes = w["n"], w["channels"], w["classes"]
    x = load(w["files"]["x"], np.float32).reshape(n, 1, 8, 8)
    labels = load(w["files"]["labels"], np.int32).long()
    init = {k: load(w["files"][k], np.float32) for k in ("convW", "convB", "fcW", "fcB")}

    def train(epochs):
        conv_w = init["convW"].clone().reshape(channels, 1, 3, 3).requires_grad_()
        conv_b = init["convB"].clone().requires_grad_()
        fc_w = init["fcW"].clone().reshape(classes, channels * 16).requires_grad_()
        fc_b = init["fcB"].clone().requires_grad_()
        opt = adam([conv_w, conv_b, fc_w, fc_b], w)
        def objective():
            h = F.max_pool2d(F.relu(F.conv2d(x, conv_w, conv_b, padding=1)), 2)
            return F.cross_entropy(F.linear(torch.flatten(h, 1), fc_w, fc_b), labels)

        return timed(epochs, opt, objective)

    return train


MAKERS = {"linear": make_linear, "mlp": make_mlp, "cnn": make_cnn}


def measure(train, w, protocol):
    train(max(1, math.ceil(w["epochs"] * protocol["warmupFraction"])))
    runs = []
    cpu_runs = []
    final = float("nan")
    for _ in range(protocol["reps"]):
        seconds, cpu, final = train(w["epochs"])
        runs.append(seconds)
        cpu_runs.append(cpu)
        if seconds > protocol["slowSeconds"] and len(runs) >= 2:
            break
    return {"workload": w["id"], "runs": runs, "cpuRuns": cpu_runs, "finalLoss": final}


def main():
    with open(sys.argv[1]) as f:
        manifest = json.load(f)
    results = []
    for w in manifest["workloads"]:
        train = MAKERS[w["kind"]](w)
        results.append(measure(train, w, manifest["protocol"]))
    info = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    print(json.dumps({"info": info, "results": results}))


if __name__ == "__main__":
    main()
