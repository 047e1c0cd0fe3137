/** Mini-batch graphs the tests train: a data set, random_split, a DataLoader with validation data, a model. */
import type { ParamValue } from "../../src/nodes/types.ts";

export interface MiniBatchGraph {
  dtype: "float32" | "float64";
  batchSize: number;
  shuffle: boolean;
  dropLast: boolean;
  seed: number;
  epochs: number;
  /** Classifier (make_moons, a hidden layer, cross_entropy, Adam) or regression (make_regression, mse, SGD). */
  task: "classify" | "regress";
  validation?: boolean;
  /** Classify: nn.Dropout and nn.BatchNorm1d after the hidden layer (they behave differently in eval mode). */
  modules?: boolean;
}

type Node = { id: string; type: string; params: Record<string, ParamValue> };

/** The graph file's JSON. */
export function miniBatchGraph(g: MiniBatchGraph): Record<string, unknown> {
  const nodes: Node[] = [];
  const edges: { source: string; sourcePort: string; target: string; targetPort: string }[] = [];
  const node = (id: string, type: string, params: Record<string, ParamValue> = {}) =>
    nodes.push({ id, type, params });
  const edge = (source: string, sourcePort: string, target: string, targetPort: string) =>
    edges.push({ source, sourcePort, target, targetPort });
  const classify = g.task === "classify";
  if (classify) node("data", "make_moons", { n_samples: 90, noise: 0.2, seed: 3, dtype: g.dtype });
  else
    node("data", "make_regression", {
      n_samples: 70,
      n_features: 3,
      noise: 0.5,
      bias: 1,
      seed: 6,
      dtype: g.dtype,
    });
  node("split", "random_split", { lengths: [0.8, 0.2], seed: 4 });
  edge("data", "X", "split", "X");
  edge("data", "y", "split", "y");
  node("loader", "DataLoader", {
    batch_size: g.batchSize,
    shuffle: g.shuffle,
    seed: g.seed,
    drop_last: g.dropLast,
  });
  edge("split", "train_X", "loader", "x");
  edge("split", "train_y", "loader", "y");
  if (g.validation) {
    edge("split", "val_X", "loader", "val_x");
    edge("split", "val_y", "loader", "val_y");
  }
  if (classify) {
    node("l1", "Linear", { in_features: 2, out_features: 8, seed: 1, dtype: g.dtype });
    node("h", "tanh");
    node("l2", "Linear", { in_features: 8, out_features: 2, seed: 2, dtype: g.dtype });
    node("loss", "cross_entropy");
    node("opt", "Adam", { lr: 0.05 });
    edge("loader", "x", "l1", "input");
    edge("l1", "out", "h", "input");
    if (g.modules) {
      node("drop", "Dropout", { p: 0.3, seed: 5 });
      node("bn", "BatchNorm1d", { num_features: 8, dtype: g.dtype });
      edge("h", "out", "drop", "input");
      edge("drop", "out", "bn", "input");
      edge("bn", "out", "l2", "input");
    } else edge("h", "out", "l2", "input");
    edge("l2", "out", "loss", "input");
  } else {
    node("l1", "Linear", { in_features: 3, out_features: 1, seed: 1, dtype: g.dtype });
    node("pred", "flatten");
    node("loss", "mse_loss");
    node("opt", "SGD", { lr: 0.01 });
    edge("loader", "x", "l1", "input");
    edge("l1", "out", "pred", "input");
    edge("pred", "out", "loss", "input");
  }
  edge("loader", "y", "loss", "target");
  edge("loss", "out", "opt", "loss");
  return {
    format: "gradwire.graph",
    version: 3,
    title: `mini-batches: ${g.task}`,
    settings: { epochs: g.epochs },
    nodes: nodes.map((n, i) => ({ ...n, position: { x: 250 * i, y: 0 } })),
    edges: edges.map((e, i) => ({ id: `e${i}`, ...e })),
  };
}
