/**
 * The seam between the scheduler and what runs a training epoch. The CPU backend runs the runtime's ops
 * directly; the WebGPU backend (src/gpu) registers itself with `registerBackend("webgpu", ...)` and receives the
 * same `TrainingProgram`: a CPU forward pass it can trace and compile, the trained leaves and the optimizers.
 * A backend that cannot run a program throws `BackendUnavailable` with the reason (naming the node), and the
 * scheduler falls back to the CPU without losing the graph or the training history.
 */
import type { TrainingGroup } from "../graph/training.ts";
import type { LoaderSettings } from "../nodes/loader.ts";
import type { NodeOutputs, ParamValue } from "../nodes/types.ts";
import type { Optimizer } from "../runtime/optim.ts";
import type { TorchGenerator } from "../runtime/random/index.ts";
import type { Tensor } from "../runtime/tensor.ts";
import type { LrSchedules } from "./lr-schedules.ts";

// The groups are graph queries (src/graph/training.ts); re-exported for the backends that receive them.
export type { Trainable, TrainingGroup } from "../graph/training.ts";

export type BackendName = "cpu" | "webgpu";
export const BACKEND_NAMES: readonly BackendName[] = ["cpu", "webgpu"];
/** What a user asks for: a backend, or `auto` (the faster one on this graph, measured: src/engine/auto-backend.ts). */
export type BackendRequest = BackendName | "auto";
export const BACKEND_REQUESTS: readonly BackendRequest[] = ["auto", "cpu", "webgpu"];

/** The adapter a GPU backend runs on, for choosing and for saying where training runs. */
export interface AdapterInfo {
  description: string;
  /** A software renderer (SwiftShader, llvmpipe, WARP): it computes on the same CPU cores as the CPU backend. */
  software: boolean;
}

/** The DataLoader a program's losses depend on: training iterates its batches (engine/batches.ts). */
export interface LoaderBinding {
  nodeId: string;
  settings: LoaderSettings;
  /** The tensors reaching its ports (x, y, val_x, val_y), computed now. */
  inputs(): Record<string, Tensor | undefined>;
  /**
   * Let `outputs` (a batch, the validation data) stand for its outputs until called with undefined; `training`
   * is EvalContext.training for the nodes downstream meanwhile.
   */
  setBatch(outputs: NodeOutputs | undefined, training?: boolean): void;
}

export interface ForwardResult {
  /** Each group's loss, in group order (CPU tensors with autograd history). */
  losses: Tensor[];
  /** The value training reports each epoch (the objective; the first group's loss by default). */
  objective: Tensor;
}

export interface TrainingProgram {
  groups: TrainingGroup[];
  /** Tensors with more elements than this need not be in EpochOutcome's params and grads (default: all). */
  recordLimit?: number;
  /** Runs the forward pass on the CPU with runtime ops (traceable), from the current leaf values. */
  forward(): ForwardResult;
  /** A node's label for messages. */
  labelOf(nodeId: string): string;
  /** The DataLoader whose batches the losses are computed on, when there is one. */
  loader?: LoaderBinding;
  /** The tensor reaching a node's input port after the last forward pass (validation metrics read the loss's). */
  inputOf?(nodeId: string, port: string): Tensor | undefined;
  /** The node training reports (the objective, else the first loss) and its kind: validation metrics follow it. */
  objective?: { nodeId: string; type: string };
  /**
   * The learning-rate schedulers, when some optimizer has one (set by the trainer; the session steps them and
   * leaves them at the state after its last delivered epoch once synced).
   */
  schedules?: LrSchedules;
  /**
   * When the forward pass draws (dropout): torch's global generator for the run, seeded once with `seed` (the
   * first random node's), as `torch.manual_seed(seed)` before a PyTorch loop. Every training forward pass
   * draws from it in evaluation order, so each step has new masks; a backend that does not run the CPU
   * forward each step draws the same masks from it itself (the WebGPU session). The trainer keeps one for
   * the whole run, across the sessions and programs it builds.
   */
  random?: { seed: number; generator: TorchGenerator };
}

export interface EpochOutcome {
  /**
   * The objective before the step (with mini-batches: the mean of the batch losses). When it is not finite, no
   * step was taken (and `stepped` is false).
   */
  loss: number;
  /** With mini-batches: each optimizer step's loss, in order (one per batch). */
  steps?: number[];
  /** The loss on the DataLoader's validation data after the epoch's steps, without gradients. */
  valLoss?: number;
  /** Validation metrics after the epoch's steps (val_accuracy, or val_mse and val_mae), by name. */
  metrics?: Record<string, number>;
  /** With a learning-rate scheduler: the learning rate of the epoch's first step (the first scheduled optimizer's). */
  lr?: number;
  /** Gradients used by the step, by trainable id (flat, row-major). */
  grads: Map<string, ArrayLike<number>>;
  /** Parameter values after the step, by trainable id. */
  params: Map<string, ArrayLike<number>>;
  /**
   * False when the epoch stopped before the step: the loss was not finite, or (with a finite loss) a gradient
   * was NaN or infinite. The parameters and optimizer state are then as they were before the epoch.
   */
  stepped: boolean;
}

export interface TrainingSession {
  /**
   * Forward, zero_grad (if the group's param says so), backward from each loss, optimizer step. `ahead` is
   * how many epochs the caller means to run, this one included: a backend may compute that far ahead.
   */
  epoch(ahead?: number): EpochOutcome | Promise<EpochOutcome>;
  /**
   * Mini-batches: the tensors standing in for the DataLoader's outputs in the next epoch (one step), in port
   * order. A backend that compiled the forward pass takes them as per-step inputs instead of constants.
   */
  feed?(inputs: readonly Tensor[]): void;
  /** Change a hyperparameter (lr, momentum...) of one group from the next epoch on. */
  setHyper(groupNodeId: string, name: string, value: ParamValue): void;
  /** Copy the current parameter values into the CPU leaf tensors (so previews and eval see them). */
  sync(): void | Promise<void>;
  /** After sync: the CPU optimizers holding the run's state, by group node id, for a session continuing it. */
  optimizers?(): ReadonlyMap<string, Optimizer>;
  dispose(): void;
}

/** A forward compiled for a backend's device, run again with new values of its leaves (see Backend.evaluator). */
export interface Evaluator {
  /** Run with these values of the leaves (in order, each of its leaf's size); each output's values. */
  run(values: readonly ArrayLike<number>[]): Promise<ArrayLike<number>[]>;
  dispose(): void;
}

export interface Backend {
  readonly name: BackendName;
  /** The GPU adapter, for a GPU backend whose device is known. */
  readonly adapter?: AdapterInfo;
  /**
   * Prepare to train; throw BackendUnavailable when this backend cannot run the program. `carried`: optimizers
   * (by group node id) whose state the run continues, from a session of another backend on the same program.
   */
  startTraining(
    program: TrainingProgram,
    carried?: ReadonlyMap<string, Optimizer>,
  ): TrainingSession | Promise<TrainingSession>;
  /**
   * A device backend: compile `forward` (runtime ops, traced once on the CPU) to run on the device with `leaves`
   * as its inputs, so it can run again with new values of them (the loss landscape's batched grid). Throws
   * BackendUnavailable when the device cannot run it.
   */
  evaluator?(forward: () => readonly Tensor[], leaves: readonly Tensor[]): Promise<Evaluator>;
}

export class BackendUnavailable extends Error {
  override name = "BackendUnavailable";
}

function flat(t: Tensor): number[] {
  return Array.from(t.data);
}

/** The CPU backend: torch's loop, op for op, on the runtime's tensors. */
export const cpuBackend: Backend = {
  name: "cpu",
  startTraining(program, carried) {
    const optimizers = new Map<string, Optimizer>(carried ?? []);
    const optimizerOf = (g: TrainingGroup) => {
      let o = optimizers.get(g.nodeId);
      if (!o) {
        o = g.kind.optimizer!.create(
          g.params.map((p) => p.tensor),
          g.hyper,
        );
        optimizers.set(g.nodeId, o);
      }
      return o;
    };
    return {
      epoch() {
        const { losses, objective } = program.forward();
        const grads = new Map<string, number[]>();
        const params = new Map<string, number[]>();
        const trainables = program.groups.flatMap((g) => g.params.map((p) => p.tensor));
        const gradsBefore = trainables.map((t) => t.grad);
        program.groups.forEach((g, i) => {
          const opt = optimizerOf(g);
          if (g.zeroGrad) opt.zeroGrad();
          losses[i].backward(undefined, { retainGraph: i < program.groups.length - 1 });
        });
        // The losses are read after the backward pass, so on the SIMD path a loss and its parameters' gradients
        // are computed in one pass over the data (simd/deferred.ts). A non-finite loss stops the epoch before
        // any step, with the gradients as they were, so the graph still shows where it came from.
        const bad = [objective, ...losses].map((l) => l.item()).find((x) => !Number.isFinite(x));
        if (bad !== undefined) {
          trainables.forEach((t, i) => {
            t.grad = gradsBefore[i];
          });
          return { loss: bad, grads, params, stepped: false };
        }
        const loss = objective.item();
        let finite = true;
        for (const g of program.groups)
          for (const p of g.params)
            if (p.tensor.grad) {
              const gr = flat(p.tensor.grad);
              grads.set(p.id, gr);
              if (!gr.every(Number.isFinite)) finite = false;
            }
        // A NaN or infinite gradient stops the epoch before any step too: the parameters keep their values.
        if (!finite) return { loss, grads, params, stepped: false };
        const { schedules } = program;
        schedules?.apply((id) => optimizers.get(id));
        const lr = schedules?.lr;
        for (const g of program.groups) optimizerOf(g).step();
        // The two hooks of a training loop: after each optimizer step, and at the end of the epoch (with
        // mini-batches this step is one batch's, and the mini-batch session ends the epoch: batches.ts).
        schedules?.afterStep();
        if (!program.loader) schedules?.afterEpoch({ loss });
        for (const g of program.groups) for (const p of g.params) params.set(p.id, flat(p.tensor));
        return { loss, grads, params, stepped: true, ...(lr !== undefined ? { lr } : {}) };
      },
      setHyper(groupNodeId, name, value) {
        optimizers.get(groupNodeId)?.setHyper(name, value as number | boolean | number[]);
      },
      sync() {},
      optimizers: () => new Map(optimizers),
      dispose() {
        optimizers.clear();
      },
    };
  },
};

type BackendFactory = () => Backend | Promise<Backend>;
const factories = new Map<BackendName, BackendFactory>([["cpu", () => cpuBackend]]);

/** Make a backend available (the WebGPU backend calls this where it is loaded). */
export function registerBackend(name: BackendName, factory: BackendFactory): void {
  factories.set(name, factory);
}

export interface BackendChoice {
  backend: Backend;
  /** Why the asked-for backend is not the one running, when it is not. */
  fallback?: string;
}

/** The backend of that name, or the CPU with the reason when it is not available. */
export async function resolveBackend(name: BackendName): Promise<BackendChoice> {
  const factory = factories.get(name);
  if (!factory)
    return {
      backend: cpuBackend,
      fallback: `the ${name === "webgpu" ? "WebGPU" : name} backend is not available in this build; running on the CPU`,
    };
  try {
    return { backend: await factory() };
  } catch (e) {
    if (name === "cpu") throw e;
    return {
      backend: cpuBackend,
      fallback: `${name === "webgpu" ? "WebGPU" : name} is not available (${e instanceof Error ? e.message : String(e)}); running on the CPU`,
    };
  }
}
