/**
 * Mini-batch epochs. With a DataLoader an epoch is PyTorch's `for xb, yb in loader:` loop: each batch stands
 * in for the loader's outputs and one optimizer step is taken on it (the inner session's single step); the
 * epoch's loss is the mean of its batch losses, as PyTorch code usually logs it, and each batch's loss is kept.
 * The validation data, when the loader has some, is then evaluated once without gradients, with
 * EvalContext.training false, and scored (validationMetrics).
 *
 * Graphs without a DataLoader keep the plain session (one full-batch step per epoch): their numbers are as
 * before.
 */
import { LOADER_PORTS, LoaderEpochs, metricKind, takeRows, VALIDATION_PORTS } from "../nodes/loader.ts";
import type { NodeOutputs, ParamValue } from "../nodes/types.ts";
import { noGrad } from "../runtime/autograd.ts";
import { l1Loss, mseLoss } from "../runtime/losses.ts";
import * as ops from "../runtime/ops/index.ts";
import type { Optimizer } from "../runtime/optim.ts";
import type { Tensor } from "../runtime/tensor.ts";
import { SchedulerError } from "./scheduler.ts";
import type { EpochOutcome, LoaderBinding, TrainingProgram, TrainingSession } from "./scheduler-backend.ts";

/**
 * The validation metrics for the objective's loss of this type on these input and target, named as the epoch
 * lines name them: `val_accuracy` for classifiers, `val_mse` and `val_mae` for regression.
 */
export function validationMetrics(
  lossType: string,
  input: Tensor | undefined,
  target: Tensor | undefined,
): Record<string, number> {
  if (!input || !target) return {};
  switch (metricKind(lossType, input, target)) {
    case "argmax":
      return { val_accuracy: argmaxAccuracy(input, target) };
    case "probabilities":
      return { val_accuracy: thresholdAccuracy(input, target, 0.5) };
    case "logits":
      return { val_accuracy: thresholdAccuracy(input, target, 0) };
    case "regression":
      return { val_mse: mseLoss(input, target).item(), val_mae: l1Loss(input, target).item() };
    default:
      return {};
  }
}

/**
 * `(input.argmax(1) == target).sum().item() / len(target)`, as the exported script scores it: the runtime's
 * argmax, which takes torch's first maximum and lets NaN win.
 */
function argmaxAccuracy(input: Tensor, target: Tensor): number {
  const hits = ops.eq(ops.argmax(input, 1), target);
  return ops.sum(ops.cast(hits, "float64")).item() / target.numel;
}

/** `((input > at) == (target > 0.5)).float().mean()`. */
function thresholdAccuracy(input: Tensor, target: Tensor, at: number): number {
  const v = input.data;
  const t = target.data;
  let correct = 0;
  for (let i = 0; i < v.length; i++) if (v[i] > at === t[i] > 0.5) correct++;
  return correct / v.length;
}

/** A DataLoader's epochs for a data set of `n` samples. */
export interface LoaderOrder {
  n: number;
  epochs: LoaderEpochs;
}

/** A session whose epochs loop over the DataLoader's batches, one optimizer step each (see the module comment). */
export class MiniBatchSession implements TrainingSession {
  /**
   * The loader's epochs: one generator for the whole run, as one DataLoader object is iterated epoch after
   * epoch; a session that takes over the run (a backend switch) is handed it.
   */
  order: LoaderOrder | undefined;

  constructor(
    private readonly program: TrainingProgram,
    private readonly loader: LoaderBinding,
    private readonly inner: TrainingSession,
    order?: LoaderOrder,
  ) {
    this.order = order;
  }

  /**
   * One optimizer step on one batch: the batch stands in for the loader's outputs, then forward, zero_grad,
   * backward and step (the inner session's epoch of one step). Per-step work (a learning-rate scheduler's
   * step) belongs right after this.
   */
  private async optimizerStep(batch: NodeOutputs): Promise<EpochOutcome> {
    this.loader.setBatch(batch);
    this.inner.feed?.(LOADER_PORTS.map((p) => batch[p]!));
    return this.inner.epoch(1);
  }

  async epoch(): Promise<EpochOutcome> {
    const data = this.loader.inputs();
    const x = data.x!;
    const y = data.y!;
    const n = x.shape[0];
    if (this.order?.n !== n) this.order = { n, epochs: new LoaderEpochs(n, this.loader.settings) };
    const batches = this.order.epochs.next();
    // `iter(loader)` draws the workers' base seed from the loader's generator, and without one (no shuffle, as
    // the exported DataLoader is written) from torch's global generator, which dropout's masks come from too.
    if (!this.loader.settings.shuffle) this.program.random?.generator.random64();
    if (batches.length === 0)
      throw new SchedulerError(
        `DataLoader '${this.program.labelOf(this.loader.nodeId)}' has no batch: ${n} samples, batch_size ${this.loader.settings.batchSize}, drop_last`,
        this.loader.nodeId,
      );
    const steps: number[] = [];
    let sum = 0;
    let last: EpochOutcome | undefined;
    let firstLr: number | undefined;
    for (const rows of batches) {
      const out = await this.optimizerStep({ x: takeRows(x, rows), y: takeRows(y, rows) });
      // A non-finite loss or gradient stops here, with the batch still standing in, so the trainer can say where.
      if (!out.stepped || !Number.isFinite(out.loss)) return { ...out, steps };
      steps.push(out.loss);
      sum += out.loss;
      if (steps.length === 1) firstLr = out.lr;
      last = out;
    }
    // The epoch's learning rate is its first step's, as the exported loop reads it before the batches.
    const { lr: _last, ...rest } = last!;
    const outcome: EpochOutcome = { ...rest, loss: sum / steps.length, steps };
    if (firstLr !== undefined) outcome.lr = firstLr;
    const vx = data[VALIDATION_PORTS.x];
    const vy = data[VALIDATION_PORTS.y];
    // Validation runs on the CPU, on the parameters synced from the backend: once per epoch, in eval mode, the
    // CPU's numbers are the reference and no second (evaluation) program needs compiling per shape.
    if (vx && vy) await this.inner.sync();
    if (vx && vy) Object.assign(outcome, this.validate({ [LOADER_PORTS[0]]: vx, [LOADER_PORTS[1]]: vy }));
    this.loader.setBatch(undefined);
    // The per-epoch schedulers step now, after validation, so ReduceLROnPlateau can watch val_loss.
    const monitored: Record<string, number> = { loss: outcome.loss };
    if (outcome.valLoss !== undefined) monitored.val_loss = outcome.valLoss;
    this.program.schedules?.afterEpoch(monitored);
    return outcome;
  }

  /** The validation data through the model in the training data's place, without gradients, in eval mode. */
  private validate(val: NodeOutputs): Pick<EpochOutcome, "valLoss" | "metrics"> {
    this.loader.setBatch(val, false);
    try {
      return noGrad(() => {
        const { objective } = this.program.forward();
        const obj = this.program.objective;
        const metrics =
          obj && this.program.inputOf
            ? validationMetrics(
                obj.type,
                this.program.inputOf(obj.nodeId, "input"),
                this.program.inputOf(obj.nodeId, "target"),
              )
            : {};
        return { valLoss: objective.item(), metrics };
      });
    } finally {
      this.loader.setBatch(undefined);
    }
  }

  setHyper(groupNodeId: string, name: string, value: ParamValue): void {
    this.inner.setHyper(groupNodeId, name, value);
  }

  sync(): void | Promise<void> {
    return this.inner.sync();
  }

  optimizers(): ReadonlyMap<string, Optimizer> {
    return this.inner.optimizers?.() ?? new Map();
  }

  dispose(): void {
    this.loader.setBatch(undefined);
    this.inner.dispose();
  }
}
