/**
 * Training on the GPU behind the scheduler's TrainingSession seam.
 *
 * The program is traced once from the scheduler's CPU forward pass, differentiated, fused and compiled. Epochs
 * then run in batches: one command buffer per batch, no readback inside it; the per-epoch records (objective,
 * losses, small parameters and their gradients) and the end state are copied to a staging buffer and mapped
 * asynchronously while the next batch already runs. When the caller says how many epochs it wants
 * (`epoch(ahead)`), batches run ahead of the records it has taken; anything that must see the state at the last
 * delivered epoch (a hyperparameter change, sync) first rolls the GPU back to the nearest batch boundary and
 * replays up to that epoch, so results never depend on how far ahead the GPU ran.
 *
 * A non-finite loss takes no step (the step kernels check it). A NaN or infinite gradient is flagged in the
 * epoch's record by the step kernels, which cannot know in time whether some other element's gradient was bad:
 * such an epoch is handed out as not stepped but not counted as delivered, so the next sync or epoch rolls
 * the GPU back to the state before it, as the CPU, which checks every gradient before stepping, leaves it.
 */

import type { LrSchedules } from "../engine/lr-schedules.ts";
import {
  BackendUnavailable,
  type EpochOutcome,
  type ForwardResult,
  type TrainingGroup,
  type TrainingProgram,
  type TrainingSession,
} from "../engine/scheduler-backend.ts";
import { LOADER_PORTS, takeRows } from "../nodes/loader.ts";
import type { ParamValue } from "../nodes/types.ts";
import { drawMask } from "../runtime/ops/normalization.ts";
import type { Optimizer } from "../runtime/optim.ts";
import { numel } from "../runtime/shape.ts";
import { Tensor } from "../runtime/tensor.ts";
import type { TraceEvent } from "../runtime/trace.ts";
import { backward } from "./autodiff.ts";
import { Capture, traceForward } from "./capture.ts";
import { type CompiledProgram, compileProgram, type GroupSpec } from "./compile.ts";
import type { GpuDevice } from "./device.ts";
import { GpuError, isGpuError, nodeRef } from "./errors.ts";
import type { Node } from "./ir.ts";
import { copyStepState, RECORD_SLOT_INDEX, type StepState, stateNames, stepUniforms } from "./optim.ts";
import { GpuProgram } from "./runner.ts";

export interface GpuTrainingOptions {
  /** Parameters with at most this many elements have their values and gradients in every epoch's record. */
  recordLimit?: number;
  /** The most epochs in one command buffer. */
  maxBatch?: number;
  /** Fold values that do not depend on parameters into constants (default true). */
  fold?: boolean;
}

/** Everything the gradients and optimizers hold at an epoch boundary, on the host. */
interface HostState {
  epoch: number;
  params: Float32Array[];
  grads: Float32Array[];
  /** Per stepping group, per state buffer. */
  states: Float32Array[][];
  /** Per group: steps taken, the optimizer's scalars, the buffers started. */
  groups: StepState[];
  /** The learning-rate schedulers' state at that epoch boundary. */
  schedules?: LrSchedules;
}

interface Batch {
  start: number;
  count: number;
  /** Per group: the step state after the batch. */
  groups: StepState[];
  schedules?: LrSchedules;
  /** Each epoch's lr, with a scheduler. */
  lrs: (number | undefined)[];
  done: Promise<{ records: Float32Array; regions: Float32Array[] }>;
  t0: number;
}

/** A submitted epoch: its uniform slots, and the step state and schedules after it. */
interface Logged {
  uniforms: Float32Array[];
  after: StepState[];
  schedules?: LrSchedules;
  /** The lr of the epoch's step, with a scheduler. */
  lr?: number;
}

interface Slot {
  tensor: Tensor;
  id: string;
  group: number;
  /** Whether the loss reaches it (only then does it have a gradient and an optimizer step). */
  trained: boolean;
  /** A per-step input (a mini-batch tensor, or what nll_loss derives from its class indices): its values for
   * the step's batch, written before each step, never read back. */
  input?: (batch: readonly Tensor[]) => Float32Array;
}

function nowMs(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

/** What one compilation of the training program produced. */
interface Compiled {
  gp: GpuProgram;
  prog: CompiledProgram;
  slots: Slot[];
  /** Groups that have a step kernel (some trained slot), in compiled order. */
  stepping: number[];
  /** The zero_grad flags the program was compiled for. */
  zeroGrads: boolean[];
}

export class GpuTrainingSession implements TrainingSession {
  private ready: EpochOutcome[] = [];
  private inflight: Batch[] = [];
  /** Epochs handed to the caller, and epochs submitted to the GPU (since the last compilation). */
  private delivered = 0;
  private submitted = 0;
  /** Delivered epochs that took no step (non-finite loss). */
  private skipped = 0;
  /** Outcomes of epochs whose gradients were not all finite: their step is undone (rolled back). */
  private readonly badGradients = new WeakSet<EpochOutcome>();
  /** Host copies of the full state at batch boundaries, oldest first. */
  private snapshots: HostState[] = [];
  /** Uniform slots of each submitted epoch still replayable, and the step state after it. */
  private uniformLog = new Map<number, Logged>();
  /** Per group: the step state after the last submitted epoch. */
  private stepStates: StepState[] = [];
  /**
   * The learning-rate schedulers after the last submitted epoch: each epoch's uniforms are computed from the
   * optimizer's hyperparameters after `apply`, so the scheduled lr (and cycled momentum) reaches every step's
   * uniform slot; the kernel itself is compiled once.
   */
  private schedules?: LrSchedules;
  /**
   * A scheduler that raised while epochs ahead were prepared (OneCycleLR stepped past total_steps): the epoch it
   * raised in, which is not submitted, and the error, thrown when the caller asks for that epoch (as the CPU).
   */
  private scheduleFault: { epoch: number; error: unknown } | null = null;
  private batchSize = 8;
  private dirty = false;
  private failure: GpuError | null = null;
  private disposed = false;
  private c!: Compiled;
  /**
   * Mini-batches: the programs compiled so far by the inputs' shapes (a shorter last batch gets its own), and
   * the inputs of the next step. Without a DataLoader there is one program and no inputs.
   */
  private programs = new Map<string, Compiled>();
  private inputs: readonly Tensor[] = [];

  private constructor(
    private readonly dev: GpuDevice,
    private readonly program: TrainingProgram,
    private readonly opts: GpuTrainingOptions,
    private readonly cpuOptimizers: Optimizer[],
  ) {}

  private get groups(): TrainingGroup[] {
    return this.program.groups;
  }
  private get gp(): GpuProgram {
    return this.c.gp;
  }
  private get prog(): CompiledProgram {
    return this.c.prog;
  }
  private get slots(): Slot[] {
    return this.c.slots;
  }
  private get stepping(): number[] {
    return this.c.stepping;
  }
  private get maxBatch(): number {
    return this.opts.maxBatch ?? 256;
  }

  /**
   * Compile `program` for `dev`. `carried`: CPU optimizers (by group node id) whose state this run continues,
   * as after a switch from the CPU backend; their state and the tensors' gradients are uploaded.
   */
  static async start(
    dev: GpuDevice,
    program: TrainingProgram,
    opts: GpuTrainingOptions = {},
    carried?: ReadonlyMap<string, Optimizer>,
  ): Promise<GpuTrainingSession> {
    const optimizers = program.groups.map(
      (g) =>
        carried?.get(g.nodeId) ??
        g.kind.optimizer!.create(
          g.params.map((p) => p.tensor),
          g.hyper,
        ),
    );
    if (program.schedules?.readsMetrics)
      throw new BackendUnavailable(
        "ReduceLROnPlateau reads each epoch's loss before the next epoch's step, and the WebGPU backend runs epochs ahead of their readback",
      );
    // With mini-batches the session steps once per batch and the mini-batch loop ends each epoch (batches.ts):
    // the per-epoch schedule steps would have to reach this session's own run-ahead copy of the schedules.
    if (program.loader && program.schedules)
      throw new BackendUnavailable(
        "learning-rate schedulers with mini-batches train on the CPU (the WebGPU session does not yet step a schedule per batch)",
      );
    const session = new GpuTrainingSession(dev, program, opts, optimizers);
    if (program.loader) {
      // Compiled now for a full batch's shapes (any rows will do), so a graph WebGPU cannot take is refused
      // here, before the DataLoader's order advances; a shorter last batch compiles when it comes.
      const loader = program.loader;
      const data = loader.inputs();
      const rows = Array.from({ length: Math.min(loader.settings.batchSize, data.x!.shape[0]) }, (_, i) => i);
      const batch = Object.fromEntries(LOADER_PORTS.map((p) => [p, takeRows(data[p]!, rows)]));
      loader.setBatch(batch);
      try {
        session.feed(LOADER_PORTS.map((p) => batch[p]));
        session.c = await session.compile();
        session.programs.set(inputKey(session.inputs), session.c);
      } finally {
        loader.setBatch(undefined);
      }
    } else session.c = await session.compile();
    session.restart();
    return session;
  }

  /** Trace the program's forward pass, differentiate it and compile it. */
  private async compile(): Promise<Compiled> {
    const { program, opts } = this;
    const optimizers = this.cpuOptimizers;
    const groups = program.groups;
    const tensors: Tensor[] = [];
    const owner: number[] = [];
    const ids: string[] = [];
    groups.forEach((g, gi) => {
      for (const p of g.params) {
        if (tensors.includes(p.tensor))
          throw new GpuError(
            "unsupported",
            `'${p.id}' is trained by two optimizers; the WebGPU backend needs each tensor in one optimizer`,
            program.labelOf(p.nodeId),
          );
        tensors.push(p.tensor);
        owner.push(gi);
        ids.push(p.id);
      }
    });
    const { result, events } = traceProgram(program);
    const run = program.random;
    const states = stateSlots(events, tensors);
    for (const t of states.targets) {
      tensors.push(t);
      owner.push(-1);
      ids.push(t.name ?? `state ${tensors.length}`);
    }
    // The batch tensors are GPU-resident leaves like the parameters, rewritten before each step.
    // Float ones directly; the host reads class indices (stepInputs) and nll_loss takes what it derives.
    const firstInput = tensors.length;
    const feeds: ((batch: readonly Tensor[]) => Float32Array)[] = [];
    const stepInputs: Tensor[] = [];
    this.inputs.forEach((t, i) => {
      if (t.dtype !== "float32") {
        stepInputs.push(t);
        return;
      }
      tensors.push(t);
      owner.push(-1);
      ids.push(`input ${i}`);
      feeds.push((batch) => asFloat32(batch[i].data));
    });
    // Dropout's masks: a new draw from the run's generator before each step, in the order the forward draws.
    if (run)
      for (const e of events) {
        if (e.op !== "bernoulli") continue;
        const mask = e.outputs[0];
        const keep = e.attrs.keep as number;
        tensors.push(mask);
        owner.push(-1);
        ids.push(`mask ${feeds.length}`);
        feeds.push(() => Float32Array.from(drawMask(run.generator, mask.numel, keep, mask.dtype)));
      }
    const cap = new Capture(events, {
      leaves: tensors,
      fold: opts.fold,
      state: new Set(states.targets),
      stepInputs,
    });
    const b = cap.builder;
    const losses = result.losses.map((t) => cap.valueOf(t));
    const objective = cap.valueOf(result.objective);
    for (const d of cap.derived) {
      const at = this.inputs.indexOf(stepInputs[d.input]);
      tensors.push(new Tensor(new Float32Array(numel(d.shape)), d.shape, "float32"));
      owner.push(-1);
      ids.push(`input ${at} (derived)`);
      feeds.push((batch) => d.compute(Float64Array.from(batch[at].data)));
    }
    refuseStepConstants(cap.stepConstants, [
      ...losses,
      objective,
      ...states.writes.map((w) => cap.valueOf(w.value)),
    ]);
    losses.forEach((l, i) => {
      if (l.numel !== 1)
        throw new GpuError(
          "unsupported",
          `the loss of '${program.labelOf(groups[i].nodeId)}' has ${l.numel} elements; backward needs a single number`,
          program.labelOf(groups[i].loss.nodeId),
        );
    });

    // Each loss differentiated on its own: a group that zeroes its gradients drops what earlier groups'
    // backward passes added to its tensors, as the CPU loop does.
    const perLoss = losses.map((l) => {
      b.scope = l.scope;
      b.what = "loss";
      return backward(b, [{ node: l, grad: b.fill(1, l.shape) }], cap.leafNodes);
    });
    const zeroGrads = groups.map((g) => g.zeroGrad);
    const grads: (Node | null)[] = tensors.map((t, slot) => {
      if (slot >= firstInput) return null;
      const zero = zeroGrads[owner[slot]];
      let acc: Node | null = null;
      for (let i = zero ? owner[slot] : 0; i < perLoss.length; i++) {
        const gi = perLoss[i][slot];
        if (gi) acc = acc ? b.add(acc, gi) : gi;
      }
      if (acc && !zero) acc = b.add(b.node({ k: "grad", slot }, [], t.shape, t.dtype), acc);
      return acc;
    });
    const slots: Slot[] = tensors.map((tensor, k) => ({
      tensor,
      id: ids[k],
      group: owner[k],
      trained: grads[k] !== null,
      input: k >= firstInput ? feeds[k - firstInput] : undefined,
    }));
    if (!slots.some((s) => s.trained))
      throw new GpuError("unsupported", "no trained tensor gets a gradient from the loss", null);
    const stepping = groups.flatMap((_, gi) => (slots.some((s) => s.group === gi && s.trained) ? [gi] : []));
    const groupSpecs: GroupSpec[] = stepping.map((gi) => ({
      kind: optimizers[gi].spec.name,
      slots: slots.flatMap((s, k) => (s.group === gi && s.trained ? [k] : [])),
      states: stateNames(optimizers[gi].spec.name, optimizers[gi].hyper),
      guards: [...losses, objective],
    }));
    const recordLimit = opts.recordLimit ?? program.recordLimit ?? 4096;
    const recordSlots = slots.flatMap((s, k) => (s.trained && s.tensor.numel <= recordLimit ? [k] : []));
    const prog = compileProgram(b, {
      leafShapes: tensors.map((t) => t.shape),
      outputs: [],
      grads,
      groups: groupSpecs,
      records: { header: [objective, ...losses], slots: recordSlots },
      maxBatch: this.maxBatch,
      stateWrites: states.writes.map((w) => ({
        slot: tensors.indexOf(w.target),
        value: cap.valueOf(w.value),
      })),
    });
    const gp = await GpuProgram.create(this.dev, prog, this.maxBatch);
    return { gp, prog, slots, stepping, zeroGrads };
  }

  /** Start counting from the CPU's state: tensors, their gradients, the optimizers' state. */
  private restart(): void {
    this.ready = [];
    this.inflight = [];
    this.delivered = 0;
    this.submitted = 0;
    this.skipped = 0;
    this.uniformLog.clear();
    this.scheduleFault = null;
    const init = this.stateFromCpu();
    this.upload(init);
    this.snapshots = [init];
  }

  private stateFromCpu(): HostState {
    const groups = this.cpuOptimizers.map((opt): StepState => {
      const h = opt.hyper;
      return { steps: 0, scalars: opt.spec.scalars?.(h) ?? {}, started: {} };
    });
    const states = this.stepping.map((gi) => {
      const opt = this.cpuOptimizers[gi];
      const names = stateNames(opt.spec.name, opt.hyper);
      const mine = this.slots.filter((s) => s.group === gi && s.trained);
      const count = mine.reduce((n, s) => n + s.tensor.numel, 0);
      const bufs = names.map((st) => new Float32Array(count).fill(st.init));
      let at = 0;
      for (const s of mine) {
        const rec = opt.stateOf(s.tensor);
        if (rec)
          for (const [key, v] of Object.entries(rec)) {
            const i = names.findIndex((st) => st.name === key);
            if (v instanceof Float64Array) {
              if (i >= 0) bufs[i].set(v, at);
              groups[gi].started[key] = true;
            } else groups[gi].scalars[key] = v;
          }
        at += s.tensor.numel;
      }
      return bufs;
    });
    return {
      epoch: 0,
      schedules: this.program.schedules?.clone(),
      params: this.slots.map((s) => Float32Array.from(s.tensor.data)),
      grads: this.slots.map((s) =>
        s.tensor.grad ? Float32Array.from(s.tensor.grad.data) : new Float32Array(s.tensor.numel),
      ),
      states,
      groups,
    };
  }

  private upload(s: HostState): void {
    s.params.forEach((p, k) => {
      this.gp.write(this.prog.params[k].offset, p);
    });
    s.grads.forEach((g, k) => {
      this.gp.write(this.prog.grads[k].offset, g);
    });
    this.prog.states.forEach((regions, j) => {
      regions.forEach((r, i) => {
        this.gp.write(r.offset, s.states[j][i]);
      });
    });
    this.stepStates = s.groups.map(copyStepState);
    this.schedules = s.schedules?.clone();
  }

  /** zero_grad changed since compiling: hand the state to the CPU objects and compile again from them. */
  private async rebuild(): Promise<void> {
    await this.sync();
    // The old program stays in place until the new one exists: a failed compile leaves a working session.
    const next = await this.compile();
    for (const c of new Set([...this.programs.values(), this.c])) c.gp.dispose();
    this.programs.clear();
    if (this.inputs.length > 0) this.programs.set(inputKey(this.inputs), next);
    this.c = next;
    this.restart();
  }

  private stateRegions() {
    return [...this.prog.params, ...this.prog.grads, ...this.prog.states.flat()];
  }

  private toHostState(
    epoch: number,
    groups: StepState[],
    regions: Float32Array[],
    schedules: LrSchedules | undefined,
  ): HostState {
    const n = this.slots.length;
    let at = 2 * n;
    return {
      epoch,
      schedules: schedules?.clone(),
      params: regions.slice(0, n).map((r) => r.slice()),
      grads: regions.slice(n, 2 * n).map((r) => r.slice()),
      states: this.prog.states.map((rs) => rs.map(() => regions[at++].slice())),
      groups: groups.map(copyStepState),
    };
  }

  /** The uniform slots of the next epoch (one per stepping group), advancing the step states and schedules. */
  private nextUniforms(slot: number): Float32Array[] {
    this.schedules?.apply((id) => this.cpuOptimizers[this.groups.findIndex((g) => g.nodeId === id)]);
    const uniforms = this.stepping.map((gi) => {
      const opt = this.cpuOptimizers[gi];
      const u = stepUniforms(opt.spec, opt.hyper, this.stepStates[gi]);
      u[RECORD_SLOT_INDEX] = slot;
      return u;
    });
    // The epoch's step, then the two hooks of the loop (no scheduler here reads the epoch's loss).
    this.schedules?.afterStep();
    this.schedules?.afterEpoch({});
    return uniforms;
  }

  private submit(count: number): void {
    const start = this.submitted;
    const uniforms: Float32Array[][] = [];
    for (let k = 0; k < count && !this.scheduleFault; k++) {
      const lr = this.schedules?.lr;
      const stepsBefore = this.stepStates.map(copyStepState);
      const schedulesBefore = this.schedules?.clone();
      let u: Float32Array[];
      try {
        u = this.nextUniforms(k);
      } catch (e) {
        if (isGpuError(e)) throw e;
        // The state stays as after the last epoch submitted.
        this.stepStates = stepsBefore;
        this.schedules = schedulesBefore;
        this.scheduleFault = { epoch: start + k, error: e };
        break;
      }
      this.uniformLog.set(start + k, {
        uniforms: u,
        after: this.stepStates.map(copyStepState),
        schedules: this.schedules?.clone(),
        lr,
      });
      uniforms.push(u);
    }
    count = uniforms.length;
    if (count === 0) return;
    const done = this.gp.run(uniforms, this.stateRegions());
    done.catch(() => {});
    this.inflight.push({
      start,
      count,
      groups: this.stepStates.map(copyStepState),
      schedules: this.schedules?.clone(),
      lrs: uniforms.map((_, k) => this.uniformLog.get(start + k)?.lr),
      done,
      t0: nowMs(),
    });
    this.submitted += count;
  }

  private async complete(batch: Batch): Promise<void> {
    const { records, regions } = await batch.done;
    const rec = this.prog.records!;
    for (let k = 0; k < batch.count; k++) {
      const base = k * rec.size;
      let stepped = true;
      for (let h = 0; h < rec.header.length; h++) if (!Number.isFinite(records[base + h])) stepped = false;
      // A finite loss with a bad gradient: the kernels stepped, and the epoch must be undone.
      const badGradient = stepped && records[base + rec.flag] !== 0;
      const params = new Map<string, ArrayLike<number>>();
      const grads = new Map<string, ArrayLike<number>>();
      for (const r of rec.slots) {
        const at = base + r.at;
        params.set(this.slots[r.slot].id, records.slice(at, at + r.size));
        grads.set(this.slots[r.slot].id, records.slice(at + r.size, at + 2 * r.size));
      }
      const lr = batch.lrs[k];
      const outcome: EpochOutcome = { loss: records[base], grads, params, stepped: stepped && !badGradient };
      if (lr !== undefined) outcome.lr = lr;
      if (badGradient) this.badGradients.add(outcome);
      this.ready.push(outcome);
    }
    const end = batch.start + batch.count;
    this.snapshots.push(this.toHostState(end, batch.groups, regions, batch.schedules));
    // Batches grow while a round trip stays short (its fixed cost is mostly the readback's latency) and
    // shrink when one would keep a pause waiting.
    const ms = nowMs() - batch.t0;
    if (ms < 100 && this.batchSize < this.maxBatch)
      this.batchSize = Math.min(this.maxBatch, this.batchSize * 2);
    else if (ms > 250 && this.batchSize > 1) this.batchSize = Math.max(1, this.batchSize >> 1);
  }

  /** A fault becomes BackendUnavailable, so the scheduler carries on on the CPU. */
  private unavailable(e: unknown): never {
    if (isGpuError(e)) {
      this.failure = e;
      throw new BackendUnavailable(e.message);
    }
    throw e;
  }

  /**
   * The next epoch's outcome. `ahead` is how many more epochs the caller means to run (this one included): the
   * GPU runs up to that many ahead of the records taken.
   */
  feed(inputs: readonly Tensor[]): void {
    this.inputs = inputs;
  }

  /**
   * Mini-batches: the program for the fed inputs' shapes, compiled on first use; a switch between programs
   * carries the state across (on the host, at the last delivered step). Then the inputs are written: the queue
   * orders the writes before the step's commands.
   */
  private async takeInputs(): Promise<void> {
    if (this.inputs.length === 0) throw new Error("internal: a mini-batch step without its batch");
    const key = inputKey(this.inputs);
    let next = this.programs.get(key);
    if (!next || next !== this.c) {
      let state: HostState | undefined;
      if (this.c) {
        await this.settle();
        state = this.snapshots.at(-1);
      }
      if (!next) {
        // The new program is traced from the CPU tensors: they must hold the state reached so far.
        if (state) this.writeBack(state);
        next = await this.compile();
        this.programs.set(key, next);
      }
      this.c = next;
      if (state) {
        this.upload(state);
        this.snapshots = [state];
        this.uniformLog.clear();
      } else this.restart();
    }
  }

  /**
   * Write the next step's per-step inputs (the batch, dropout's new masks), after anything that uploads a
   * saved state: the queue orders the writes before the step's commands.
   */
  private writeInputs(): void {
    this.slots.forEach((s, k) => {
      if (s.input) this.gp.write(this.prog.params[k].offset, s.input(this.inputs));
    });
  }

  async epoch(ahead = 1): Promise<EpochOutcome> {
    if (this.disposed) throw new BackendUnavailable("the WebGPU session was disposed");
    if (this.ready.length === 0 && this.failure) throw new BackendUnavailable(this.failure.message);
    try {
      if (this.program.loader) await this.takeInputs();
      if (this.groups.some((g, i) => g.zeroGrad !== this.c.zeroGrads[i])) await this.rebuild();
      if (this.dirty) await this.settle();
      if (this.program.loader || this.slots.some((s) => s.input)) {
        // One step per call: the next batch is not known yet, and each step draws its masks now.
        this.writeInputs();
        ahead = 1;
      }
      const want = Math.max(1, ahead);
      const pending = () => this.submitted - this.delivered;
      if (this.scheduleFault && pending() === 0 && this.ready.length === 0) throw this.scheduleFault.error;
      if (pending() === 0) this.submit(Math.min(this.batchSize, want, this.maxBatch));
      // Keep the next batch in flight while the caller works through this one.
      if (this.inflight.length < 2 && pending() < want)
        this.submit(Math.min(this.batchSize, want - pending(), this.maxBatch));
      while (this.ready.length === 0) await this.complete(this.inflight.shift() as Batch);
    } catch (e) {
      // Records already read back are still good: hand them out before reporting the fault.
      if (this.ready.length === 0) this.unavailable(e);
      if (isGpuError(e)) this.failure = e;
    }
    const out = this.ready.shift() as EpochOutcome;
    if (this.badGradients.has(out)) {
      // Not delivered: what comes next (sync, another epoch) starts from the state before this epoch.
      this.dirty = true;
      return out;
    }
    this.delivered++;
    if (!out.stepped) this.skipped++;
    this.prune();
    return out;
  }

  /** Forget snapshots and uniforms older than the last snapshot at or before the delivered epoch. */
  private prune(): void {
    let keep = 0;
    for (let i = 0; i < this.snapshots.length; i++) if (this.snapshots[i].epoch <= this.delivered) keep = i;
    if (keep > 0) this.snapshots.splice(0, keep);
    const oldest = this.snapshots[0]?.epoch ?? 0;
    for (const e of this.uniformLog.keys()) if (e < oldest) this.uniformLog.delete(e);
  }

  /**
   * Bring the GPU to the state after the last delivered epoch: finish what is in flight, and if the GPU ran
   * ahead, restore the last snapshot at or before `delivered` and replay the epochs up to it.
   */
  private async settle(): Promise<void> {
    this.dirty = false;
    while (this.inflight.length) await this.complete(this.inflight.shift() as Batch);
    if (this.submitted === this.delivered) return;
    const snap = [...this.snapshots].reverse().find((s) => s.epoch <= this.delivered);
    if (!snap) throw new Error("internal: no snapshot to roll back to");
    this.upload(snap);
    const replay: Logged[] = [];
    for (let e = snap.epoch; e < this.delivered; e++) {
      const logged = this.uniformLog.get(e);
      if (!logged) throw new Error(`internal: no uniforms to replay epoch ${e}`);
      replay.push(logged);
    }
    for (let i = 0; i < replay.length; i += this.maxBatch) {
      const chunk = replay.slice(i, i + this.maxBatch);
      const { regions } = await this.gp.run(
        chunk.map((c) => c.uniforms),
        this.stateRegions(),
      );
      const end = snap.epoch + i + chunk.length;
      const last = chunk[chunk.length - 1];
      this.snapshots.push(this.toHostState(end, last.after, regions, last.schedules));
    }
    this.stepStates = (replay.at(-1)?.after ?? snap.groups).map(copyStepState);
    this.schedules = (replay.length ? replay[replay.length - 1].schedules : snap.schedules)?.clone();
    this.ready = [];
    this.submitted = this.delivered;
    // Epochs from here are prepared again, and a scheduler that raised raises again where it did.
    this.scheduleFault = null;
    this.snapshots = this.snapshots.filter((s) => s.epoch <= this.delivered);
    for (const e of this.uniformLog.keys()) if (e >= this.delivered) this.uniformLog.delete(e);
  }

  setHyper(groupNodeId: string, name: string, value: ParamValue): void {
    const gi = this.groups.findIndex((g) => g.nodeId === groupNodeId);
    if (gi < 0) return;
    this.cpuOptimizers[gi].setHyper(name, value as number | boolean | number[]);
    // Epochs already run ahead used the old value: roll them back before the next one.
    this.dirty = true;
  }

  async sync(): Promise<void> {
    if (this.disposed || !this.c) return;
    let state: HostState | undefined;
    if (!this.failure && !this.dev.isLost) {
      try {
        await this.settle();
        const last = this.snapshots[this.snapshots.length - 1];
        state = last?.epoch === this.delivered ? last : undefined;
      } catch (e) {
        if (!isGpuError(e)) throw e;
        this.failure = e;
      }
    }
    // After a fault, records were only handed out from completed batches, so a snapshot sits exactly at the
    // last delivered epoch.
    state ??= [...this.snapshots].reverse().find((s) => s.epoch <= this.delivered);
    if (state) this.writeBack(state);
  }

  /** Parameters, gradients and optimizer state into the CPU tensors and optimizers. */
  private writeBack(s: HostState): void {
    // The schedules as after the last delivered epoch, and the optimizers' lr from them (for a session that
    // continues this run).
    if (s.schedules && this.program.schedules) {
      this.program.schedules.assign(s.schedules);
      this.program.schedules.apply((id) => this.cpuOptimizers[this.groups.findIndex((g) => g.nodeId === id)]);
    }
    this.slots.forEach((slot, k) => {
      const t = slot.tensor;
      if (slot.input) return;
      t.data.set(s.params[k]);
      t.version++;
      if (slot.trained) t.grad = new Tensor(s.grads[k].slice(), t.shape, t.dtype);
    });
    this.stepping.forEach((gi, j) => {
      const opt = this.cpuOptimizers[gi];
      const names = stateNames(opt.spec.name, opt.hyper);
      const g = s.groups[gi];
      if (g.steps - Math.min(this.skipped, g.steps) <= 0) return;
      // Epochs with a non-finite loss took no step; their uniforms still counted one.
      const scalars = { ...g.scalars };
      if (scalars.step !== undefined) scalars.step -= Math.min(this.skipped, scalars.step);
      let at = 0;
      for (const slot of this.slots) {
        if (slot.group !== gi || !slot.trained) continue;
        const n = slot.tensor.numel;
        const rec: Record<string, Float64Array | number> = { ...scalars };
        names.forEach((st, i) => {
          if (g.started[st.name]) rec[st.name] = Float64Array.from(s.states[j][i].subarray(at, at + n));
        });
        opt.setStateOf(slot.tensor, rec);
        at += n;
      }
    });
  }

  /** The CPU optimizer of a group, which holds the run's state after sync. */
  optimizerOf(groupNodeId: string): Optimizer | undefined {
    const gi = this.groups.findIndex((g) => g.nodeId === groupNodeId);
    return gi < 0 ? undefined : this.cpuOptimizers[gi];
  }

  /** After sync: the CPU optimizers holding the run's state, by group, for a session that continues it. */
  optimizers(): ReadonlyMap<string, Optimizer> {
    return new Map(this.groups.map((g, i) => [g.nodeId, this.cpuOptimizers[i]]));
  }

  /** Kernels per epoch after fusion (optimizer steps included), for tests and tuning. */
  get kernelsPerEpoch(): number {
    return this.prog.passes.length;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of new Set([...this.programs.values(), ...(this.c ? [this.c] : [])])) c.gp.dispose();
  }
}

function asFloat32(data: ArrayLike<number>): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/**
 * The program's forward pass under the tracer, its random draws (dropout's masks) taken from a copy of the run's
 * generator: tracing draws nothing from the run, whose steps draw their own masks (the mask slots).
 */
function traceProgram(program: TrainingProgram): ReturnType<typeof traceForward<ForwardResult>> {
  const run = program.random;
  if (run) program.random = { seed: run.seed, generator: run.generator.clone() };
  try {
    return traceForward(() => program.forward());
  } finally {
    program.random = run;
  }
}

/** A per-step input that the program reads as a constant would replay the first batch: refuse the program. */
function refuseStepConstants(constants: ReadonlySet<Node>, roots: readonly Node[]): void {
  if (constants.size === 0) return;
  const seen = new Set<Node>();
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (constants.has(n))
      throw new GpuError(
        "unsupported",
        `${nodeRef(n.scope)} reads the DataLoader's ${n.dtype} batch in a way the WebGPU backend cannot take per step (only as nll_loss's or cross_entropy's target); use the CPU backend`,
        n.scope,
      );
    stack.push(...n.inputs);
  }
}

/** The shapes of a step's inputs: one compiled program each. */
function inputKey(inputs: readonly Tensor[]): string {
  return inputs.map((t) => t.shape.join("x")).join(",");
}

/**
 * The state the traced forward wrote in place (batch_norm's running statistics, num_batches_tracked): each
 * target becomes a GPU-resident slot that no optimizer trains, and its new value is written back every epoch.
 * The trace's own writes are undone first, so the GPU's first epoch starts from the state the CPU had.
 */
function stateSlots(
  events: readonly TraceEvent[],
  trained: readonly Tensor[],
): { targets: Tensor[]; writes: { target: Tensor; value: Tensor }[] } {
  const writes = events.filter((e) => e.op === "state_update");
  for (const e of [...writes].reverse())
    (e.inputs[0] as Tensor).data.set(e.attrs.previous as ArrayLike<number>);
  const targets: Tensor[] = [];
  const out: { target: Tensor; value: Tensor }[] = [];
  for (const e of writes) {
    const target = e.inputs[0] as Tensor;
    // The replayed program reads a target's old value wherever the trace read the tensor.
    const readAfter = events
      .slice(events.indexOf(e) + 1)
      .some((later) => later.op !== "state_update" && later.inputs.includes(target));
    const why = trained.includes(target)
      ? "a tensor an optimizer trains"
      : targets.includes(target)
        ? "the same tensor twice in one forward pass"
        : readAfter
          ? "and reads it again in the same forward pass"
          : null;
    if (why)
      throw new GpuError(
        "unsupported",
        `${nodeRef(e.scope)} updates ${String(e.attrs.what)} in place, ${why}, which the WebGPU backend does not replay; use the CPU backend`,
        e.scope,
      );
    targets.push(target);
    out.push({ target, value: e.inputs[1] as Tensor });
  }
  return { targets, writes: out };
}
