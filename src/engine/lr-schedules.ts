/**
 * The learning-rate schedulers of a training run, stepped where PyTorch code steps them. A training loop calls
 * two hooks: `afterStep()` after every optimizer step (OneCycleLR's `scheduler.step()` inside the batch loop)
 * and `afterEpoch(metrics)` at the end of every epoch (the others; ReduceLROnPlateau with the number its
 * `monitor` param names). Before each step it calls `apply(...)`, which copies each scheduled optimizer's param
 * group (lr, and betas or momentum when OneCycleLR cycles them) into the optimizer that steps next: on the CPU
 * the runtime's optimizer, on WebGPU the host-side optimizer whose hyperparameters become the step kernel's
 * uniforms. While a scheduler drives an optimizer, the optimizer's lr param is only where the schedule starts.
 */
import type { LrSchedulerNode, TrainingGroup } from "../graph/training.ts";
import type { LRScheduler, ParamGroup } from "../runtime/lr-scheduler.ts";
import type { Optimizer } from "../runtime/optim.ts";
import { SchedulerError } from "./scheduler.ts";

interface Scheduled {
  node: LrSchedulerNode;
  scheduler: LRScheduler;
}

interface Entry {
  /** The optimizer node. */
  nodeId: string;
  group: ParamGroup;
  schedulers: Scheduled[];
  /** The optimizer's betas and momentum as the group started; `cycled` once a scheduler has changed them. */
  start: { betas?: number[]; momentum?: number };
  cycled: boolean;
}

/** How long the run is, for params left None (T_max, OneCycleLR's epochs and steps_per_epoch). */
export interface RunLength {
  epochs: number;
  stepsPerEpoch: number;
}

const hasBetas = (g: TrainingGroup) => g.kind.params.some((d) => d.name === "betas");

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class LrSchedules {
  private constructor(private readonly entries: Entry[]) {}

  /** The schedulers of the groups (constructed, which takes torch's initial step), or undefined without any. */
  static of(groups: readonly TrainingGroup[], run: RunLength): LrSchedules | undefined {
    const entries: Entry[] = [];
    for (const g of groups) {
      const nodes = g.lrSchedulers ?? [];
      if (nodes.length === 0) continue;
      // The param group torch.optim builds: betas or momentum only where the optimizer takes them.
      const group: ParamGroup = { lr: g.hyper.num("lr") };
      if (hasBetas(g)) group.betas = g.hyper.nums("betas");
      if (g.kind.params.some((d) => d.name === "momentum")) group.momentum = g.hyper.num("momentum");
      const schedulers = nodes.map((node): Scheduled => {
        try {
          return { node, scheduler: node.kind.lrScheduler!.create(group, node.params, run) };
        } catch (e) {
          throw new SchedulerError(`${node.kind.type} '${node.nodeId}': ${message(e)}`, node.nodeId);
        }
      });
      const start = { betas: hasBetas(g) ? g.hyper.nums("betas") : undefined, momentum: group.momentum };
      entries.push({ nodeId: g.nodeId, group, schedulers, start, cycled: false });
    }
    return entries.length ? new LrSchedules(entries) : undefined;
  }

  /** The learning rate the first scheduled optimizer's next step uses (what each epoch reports). */
  get lr(): number {
    return this.entries[0].group.lr;
  }

  /** Whether some scheduler reads a number of the epoch it ends (ReduceLROnPlateau). */
  get readsMetrics(): boolean {
    return this.entries.some((e) => e.schedulers.some((s) => s.node.kind.lrScheduler!.monitorParam));
  }

  /**
   * Copy each scheduled group into its optimizer (by optimizer node id) before that optimizer steps: the lr, and
   * betas or momentum once a scheduler has changed them (so an edit of Adam's betas under a StepLR still counts).
   */
  apply(optimizerOf: (nodeId: string) => Optimizer | undefined): void {
    for (const e of this.entries) {
      const { group, start } = e;
      e.cycled ||=
        group.momentum !== start.momentum || (group.betas ?? []).some((b, i) => b !== start.betas?.[i]);
      const opt = optimizerOf(e.nodeId);
      if (!opt) continue;
      opt.setHyper("lr", group.lr);
      if (!e.cycled) continue;
      if (group.betas) opt.setHyper("betas", [...group.betas]);
      if (group.momentum !== undefined) opt.setHyper("momentum", group.momentum);
    }
  }

  /** After every optimizer step: the per-batch schedulers (OneCycleLR). */
  afterStep(): void {
    this.stepEach("batch", {});
  }

  /** At the end of every epoch: the per-epoch schedulers, ReduceLROnPlateau with its monitored number. */
  afterEpoch(metrics: Readonly<Record<string, number>>): void {
    this.stepEach("epoch", metrics);
  }

  private stepEach(when: "batch" | "epoch", metrics: Readonly<Record<string, number>>): void {
    for (const e of this.entries)
      for (const { node, scheduler } of e.schedulers) {
        const decl = node.kind.lrScheduler!;
        if (decl.stepEvery !== when) continue;
        const monitor = decl.monitorParam ? node.params.str(decl.monitorParam) : undefined;
        if (monitor !== undefined && metrics[monitor] === undefined)
          throw new SchedulerError(
            `${node.kind.type} '${node.nodeId}': monitor '${monitor}' has no value this epoch`,
            node.nodeId,
          );
        try {
          scheduler.step(monitor === undefined ? undefined : metrics[monitor]);
        } catch (e) {
          throw new SchedulerError(`${node.kind.type} '${node.nodeId}': ${message(e)}`, node.nodeId);
        }
      }
  }

  /** An independent copy of every scheduler's state (the WebGPU session rolls back to one). */
  clone(): LrSchedules {
    return new LrSchedules(
      this.entries.map((e) => {
        const group: ParamGroup = { ...e.group, ...(e.group.betas ? { betas: [...e.group.betas] } : {}) };
        return {
          ...e,
          group,
          schedulers: e.schedulers.map((s) => ({ node: s.node, scheduler: s.scheduler.cloneOn(group) })),
        };
      }),
    );
  }

  /** Take another copy's state (what a session hands back at sync). */
  assign(from: LrSchedules): void {
    const c = from.clone();
    this.entries.splice(0, this.entries.length, ...c.entries);
  }
}
