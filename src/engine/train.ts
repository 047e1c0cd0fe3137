/**
 * Training: epochs of forward, backward from each optimizer's loss, and the optimizer step (zeroing gradients
 * first unless the optimizer's zero_grad param is off), streamed as one record per epoch. Run, pause, resume,
 * step, stop and reset; a NaN or infinite loss, gradient or parameter stops the run with a message naming
 * where it started; hyperparameter edits apply from the next epoch.
 */
import type { ParamValue } from "../nodes/types.ts";
import { nonFiniteIn } from "../runtime/finite.ts";
import type { Optimizer } from "../runtime/optim.ts";
import type { Tensor } from "../runtime/tensor.ts";
import { autoCache, chooseBackend, type Measured, shapeClass } from "./auto-backend.ts";
import { type LoaderOrder, MiniBatchSession } from "./batches.ts";
import { LrSchedules } from "./lr-schedules.ts";
import { type GradientFault, Scheduler, SchedulerError } from "./scheduler.ts";
import {
  type Backend,
  type BackendChoice,
  type BackendName,
  type BackendRequest,
  BackendUnavailable,
  cpuBackend,
  type EpochOutcome,
  resolveBackend,
  type TrainingGroup,
  type TrainingProgram,
  type TrainingSession,
} from "./scheduler-backend.ts";

export interface EpochRecord {
  /** 0-based, as `for epoch in range(n)` counts. */
  epoch: number;
  /** The objective computed in this epoch's forward pass, before its step. */
  loss: number;
  /** Each trained tensor's values after the step (flat), for tensors up to `recordLimit` elements. */
  params: Record<string, number[]>;
  /** The gradients the step used, likewise. */
  grads: Record<string, number[]>;
  /** With a DataLoader: each batch's loss, in order (`loss` is their mean). */
  steps?: number[];
  /** The loss on the DataLoader's validation data after the epoch's steps. */
  valLoss?: number;
  /** Validation metrics (val_accuracy, or val_mse and val_mae). */
  metrics?: Record<string, number>;
  /** With a learning-rate scheduler: the learning rate of the epoch's first step. */
  lr?: number;
}

export type TrainStatus = "idle" | "running" | "paused" | "done" | "stopped" | "error";

export interface TrainState {
  status: TrainStatus;
  /** Epochs completed since the last reset. */
  epoch: number;
  /** Epochs a run takes (the graph's settings, or the run's override). */
  epochs: number;
  backend: BackendName;
  /** What the user asked for: a backend, or auto (the faster one on this graph, measured). */
  requested: BackendRequest;
  /** Why auto runs this backend ("CPU: 5.1x faster than this software GPU on this graph"). */
  reason?: string;
  /** Auto is timing the backends on this graph before the run starts. */
  measuring?: boolean;
  /** Why the asked-for backend is not the one running. */
  fallback?: string;
  /** Why training stopped with an error. */
  message?: string;
  nodeId?: string;
}

export interface TrainerOptions {
  /** Default "cpu"; the editor and the CLI ask for "auto". */
  backend?: BackendRequest;
  /** Record values and gradients only of tensors with at most this many elements (default 4096). */
  recordLimit?: number;
  /** How long one batch of epochs runs before yielding to the event loop (ms, default 16). */
  sliceMs?: number;
  now?: () => number;
  /** How the run yields between batches (default: a macrotask, so messages like pause get through). */
  yieldFn?: () => Promise<void>;
}

const macrotask = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

let nextTensorId = 1;
const tensorIds = new WeakMap<Tensor, number>();
function tensorId(t: Tensor): number {
  let id = tensorIds.get(t);
  if (id === undefined) {
    id = nextTensorId++;
    tensorIds.set(t, id);
  }
  return id;
}

/**
 * What a session was built for: the groups, their losses, the identity of every trained tensor, and the
 * DataLoaders' settings (a mini-batch session holds the loader's generator).
 */
function structureOf(groups: TrainingGroup[], scheduler: Scheduler): string {
  const nodes = scheduler.graph.nodes;
  const loaders = scheduler.validation.order.filter(
    (id) => scheduler.registry.get(nodes[id].type)?.dataLoader,
  );
  return JSON.stringify([
    groups.map((g) => [g.nodeId, g.kind.type, g.loss, g.params.map((p) => [p.id, tensorId(p.tensor)])]),
    loaders.map((id) => [id, nodes[id].params]),
  ]);
}

/** Optimizer steps per epoch: one, or one per DataLoader batch (OneCycleLR's steps_per_epoch). */
function stepsPerEpoch(program: TrainingProgram): number {
  const loader = program.loader;
  if (!loader) return 1;
  const n = loader.inputs().x?.shape[0] ?? 0;
  const { batchSize, dropLast } = loader.settings;
  return Math.max(1, dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize));
}

/**
 * What the learning-rate schedules were made from: each scheduled optimizer's lr (where its schedule starts),
 * its schedulers and their params, and the run's length. A change starts the schedules again from the current
 * epoch; the optimizers keep their state.
 */
function scheduleKeyOf(groups: TrainingGroup[], epochs: number): string {
  const scheduled = groups.filter((g) => g.lrSchedulers?.length);
  if (scheduled.length === 0) return "";
  return JSON.stringify([
    epochs,
    scheduled.map((g) => [
      g.nodeId,
      g.hyper.raw("lr"),
      g.lrSchedulers!.map((s) => [s.nodeId, s.kind.type, s.kind.params.map((d) => s.params.raw(d.name))]),
    ]),
  ]);
}

export class Trainer {
  private st: TrainState;
  private session: TrainingSession | null = null;
  /** Optimizers a dropped session left, for the next session of the same structure. */
  private carried: {
    structure: string;
    optimizers?: ReadonlyMap<string, Optimizer>;
    /** A mini-batch session's DataLoader generator, so the shuffle order goes on where it was. */
    order?: LoaderOrder;
    schedules?: LrSchedules;
    scheduleKey: string;
  } | null = null;
  private program: TrainingProgram | null = null;
  /**
   * Torch's global generator for the run (TrainingProgram.random): seeded when the run's first program is
   * built, kept by every program and session after it until reset, as one `torch.manual_seed` before a loop.
   */
  private random: TrainingProgram["random"];
  private structure = "";
  private scheduleKey = "";
  /** The scheduler revision the session was last brought up to date with. */
  private seen = -1;
  private applied = new Map<string, Record<string, ParamValue>>();
  private choice: BackendChoice = { backend: cpuBackend };
  private wanted: BackendRequest;
  /** Auto: the shape class (and run length) the current choice was made for, and what was measured of it. */
  private autoFor: string | null = null;
  private autoMeasured: Measured | null = null;
  /** Record values and gradients only of tensors up to this many elements. */
  recordLimit: number;
  private readonly sliceMs: number;
  private readonly now: () => number;
  private readonly yieldFn: () => Promise<void>;
  private readonly recordListeners = new Set<(records: EpochRecord[]) => void>();
  private readonly stateListeners = new Set<(s: TrainState) => void>();
  private epochsOverride: number | undefined;
  /** The running loop, until it has wound down (a pause or stop ends it at the next epoch boundary). */
  private loop: Promise<void> | null = null;
  /** A backend change waiting for the next epoch boundary. */
  private backendChanged = false;
  /** The first loss of the run, to tell a divergence from a loss that started out bad. */
  private firstLoss: number | undefined;

  constructor(
    readonly scheduler: Scheduler,
    opts: TrainerOptions = {},
  ) {
    this.wanted = opts.backend ?? "cpu";
    this.recordLimit = opts.recordLimit ?? 4096;
    this.sliceMs = opts.sliceMs ?? 16;
    this.now = opts.now ?? (() => performance.now());
    this.yieldFn = opts.yieldFn ?? macrotask;
    this.st = {
      status: "idle",
      epoch: 0,
      epochs: scheduler.graph.settings.epochs,
      backend: "cpu",
      requested: this.wanted,
    };
  }

  get state(): TrainState {
    return this.st;
  }

  /** Called with each batch of records (one per epoch). */
  onRecords(fn: (records: EpochRecord[]) => void): () => void {
    this.recordListeners.add(fn);
    return () => this.recordListeners.delete(fn);
  }

  onState(fn: (s: TrainState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  private setState(patch: Partial<TrainState>): void {
    const next = { ...this.st, ...patch };
    for (const k of ["message", "nodeId", "fallback", "reason", "measuring"] as const)
      if (k in patch && patch[k] === undefined) delete next[k];
    this.st = next;
    for (const l of this.stateListeners) l(this.st);
  }

  /** Choose the backend (takes effect from the next epoch; the CPU with a reason when it is unavailable). */
  async setBackend(name: BackendRequest): Promise<void> {
    this.wanted = name;
    if (name === "auto") {
      // Decided when the next session is built, by measuring this graph (decideAuto).
      this.autoFor = null;
      this.setState({ requested: name, fallback: undefined });
      return;
    }
    this.choice = await resolveBackend(name);
    // The session is swapped at the next epoch boundary, never under an epoch in flight.
    this.backendChanged = true;
    this.setState({
      backend: this.choice.backend.name,
      requested: name,
      fallback: this.choice.fallback,
      reason: undefined,
    });
  }

  /**
   * Auto: choose the backend for the current graph, by measuring it on probe copies of its parameters (once
   * per shape class and run length; src/engine/auto-backend.ts). A different verdict swaps the session.
   */
  private async decideAuto(): Promise<void> {
    const graph = this.scheduler.graph;
    const types = Object.fromEntries(Object.entries(graph.nodes).map(([id, n]) => [id, n.type]));
    const key = shapeClass(this.scheduler.validation, types);
    const epochs = this.targetEpochs();
    if (`${key}|${epochs}` === this.autoFor) return;
    if (this.scheduler.groups().length === 0) return;
    this.setState({ measuring: true });
    let decision: Awaited<ReturnType<typeof chooseBackend>>;
    let gpu: Backend | undefined;
    try {
      this.autoMeasured = autoCache.of(key);
      decision = await chooseBackend(
        {
          probe: () => {
            const probe = new Scheduler({ registry: this.scheduler.registry });
            probe.setGraph(graph);
            return probe.program();
          },
          cpu: cpuBackend,
          gpu: async () => {
            const r = await resolveBackend("webgpu");
            if (r.fallback) return { unavailable: r.fallback };
            gpu = r.backend;
            return gpu;
          },
        },
        { epochs, now: this.now },
        this.autoMeasured,
      );
    } finally {
      this.setState({ measuring: undefined });
    }
    this.autoFor = `${key}|${epochs}`;
    const chosen = decision.backend === "webgpu" && gpu ? gpu : cpuBackend;
    if (chosen !== this.choice.backend) {
      this.choice = { backend: chosen };
      this.backendChanged = true;
    }
    this.setState({ backend: decision.backend, reason: decision.reason, fallback: undefined });
  }

  /** Auto: WebGPU failed on this graph after it was chosen; remember it, so it is not measured again. */
  private autoGpuFailed(message: string): void {
    if (this.wanted !== "auto" || !this.autoMeasured) return;
    this.autoMeasured.gpu = { failed: message };
  }

  private async dropSession(): Promise<void> {
    if (!this.session) return;
    await this.session.sync();
    // The optimizers' state carries over to the next session of the same program (a backend switch).
    this.carried = {
      structure: this.structure,
      optimizers: this.session.optimizers?.(),
      order: this.session instanceof MiniBatchSession ? this.session.order : undefined,
      schedules: this.program?.schedules,
      scheduleKey: this.scheduleKey,
    };
    this.session.dispose();
    this.session = null;
    this.program = null;
    this.structure = "";
    this.applied.clear();
  }

  /** Build the session for the current graph, or bring the existing one up to date (hyperparameters). */
  private async prepare(): Promise<TrainingProgram> {
    if (this.wanted === "auto" && (!this.session || this.seen !== this.scheduler.revision || !this.autoFor))
      await this.decideAuto();
    if (this.backendChanged) {
      this.backendChanged = false;
      await this.dropSession();
    }
    if (this.session && this.program && this.seen === this.scheduler.revision) return this.program;
    this.seen = this.scheduler.revision;
    const groups = this.scheduler.groups();
    if (groups.length === 0) {
      const issue = this.scheduler.validation.issues.find((i) => i.severity === "error");
      throw new SchedulerError(
        issue
          ? `the graph has errors: ${issue.message}`
          : "there is nothing to train: connect a loss to an optimizer (SGD, Adam...)",
        issue?.nodeId,
      );
    }
    const structure = structureOf(groups, this.scheduler);
    const scheduleKey = scheduleKeyOf(groups, this.targetEpochs());
    if (this.session && this.program && structure === this.structure && scheduleKey === this.scheduleKey) {
      for (const g of groups) {
        const cur = this.program.groups.find((x) => x.nodeId === g.nodeId)!;
        cur.zeroGrad = g.zeroGrad;
        cur.hyper = g.hyper;
        const before = this.applied.get(g.nodeId) ?? {};
        const now = this.hyperOf(g);
        for (const [name, v] of Object.entries(now))
          if (JSON.stringify(before[name]) !== JSON.stringify(v)) this.session.setHyper(g.nodeId, name, v);
        this.applied.set(g.nodeId, now);
      }
      return this.program;
    }
    await this.dropSession();
    const program = this.scheduler.program(groups);
    program.recordLimit = this.recordLimit;
    if (program.random) program.random = this.random ??= program.random;
    const same = this.carried?.structure === structure;
    const carried = same ? this.carried?.optimizers : undefined;
    const carriedOrder = same ? this.carried?.order : undefined;
    program.schedules =
      same && this.carried?.scheduleKey === scheduleKey
        ? this.carried.schedules
        : LrSchedules.of(groups, { epochs: this.targetEpochs(), stepsPerEpoch: stepsPerEpoch(program) });
    this.carried = null;
    try {
      this.session = await this.choice.backend.startTraining(program, carried);
    } catch (e) {
      if (!(e instanceof BackendUnavailable) || this.choice.backend === cpuBackend) throw e;
      this.autoGpuFailed(e.message);
      this.choice = { backend: cpuBackend, fallback: `${e.message}; running on the CPU` };
      this.setState({ backend: "cpu", fallback: this.choice.fallback });
      this.session = cpuBackend.startTraining(program, carried) as TrainingSession;
    }
    if (program.loader)
      this.session = new MiniBatchSession(program, program.loader, this.session, carriedOrder);
    this.program = program;
    this.structure = structure;
    this.scheduleKey = scheduleKey;
    for (const g of groups) this.applied.set(g.nodeId, this.hyperOf(g));
    return program;
  }

  private hyperOf(g: TrainingGroup): Record<string, ParamValue> {
    const skip = new Set(g.kind.optimizer?.loopParams ?? []);
    return Object.fromEntries(
      g.kind.params.filter((d) => !skip.has(d.name)).map((d) => [d.name, g.hyper.raw(d.name)]),
    );
  }

  private fail(message: string, nodeId?: string): void {
    this.setState({ status: "error", message, nodeId });
  }

  /** One epoch; returns its record, or undefined when it stopped with an error. */
  private async runEpoch(): Promise<EpochRecord | undefined> {
    const k = this.st.epoch;
    let program: TrainingProgram;
    let outcome: EpochOutcome;
    try {
      program = await this.prepare();
      // While running, the backend may compute up to the end of the run ahead of the records taken.
      outcome = await this.session!.epoch(this.st.status === "running" ? this.targetEpochs() - k : 1);
    } catch (e) {
      if (e instanceof BackendUnavailable && this.choice.backend !== cpuBackend) {
        // The device failed mid-run: keep the parameters and the history, and carry on on the CPU.
        this.autoGpuFailed(e.message);
        this.choice = { backend: cpuBackend, fallback: `${e.message}; continuing on the CPU` };
        try {
          await this.dropSession();
        } catch {
          this.session = null;
        }
        this.setState({ backend: "cpu", fallback: this.choice.fallback });
        return this.runEpoch();
      }
      const nodeId = e instanceof SchedulerError ? e.nodeId : undefined;
      this.fail(`epoch ${k}: ${e instanceof Error ? e.message : String(e)}`, nodeId);
      return undefined;
    }
    if (!outcome.stepped && Number.isFinite(outcome.loss)) {
      // A NaN or infinite gradient: the backend took no step, so the leaves (once synced) hold the values the
      // epoch started from, and a CPU backward pass there finds the node whose backward produced it.
      await this.session!.sync();
      this.failGradient(k, program, outcome);
      return undefined;
    }
    if (!outcome.stepped || !Number.isFinite(outcome.loss)) {
      await this.session!.sync();
      program.forward();
      const first = this.scheduler.firstNonFinite();
      const what = Number.isNaN(outcome.loss) ? "nan" : "inf";
      const where = first
        ? `; node '${this.scheduler.label(first.nodeId)}' (${this.scheduler.graph.nodes[first.nodeId].type}) was the first to produce ${first.what}`
        : "";
      const diverged =
        this.firstLoss !== undefined ? " (training diverged: the learning rate is probably too large)" : "";
      this.fail(`epoch ${k}: the loss became ${what}${where}${diverged}`, first?.nodeId);
      return undefined;
    }
    this.firstLoss ??= outcome.loss;
    const record: EpochRecord = { epoch: k, loss: outcome.loss, params: {}, grads: {} };
    if (outcome.steps) record.steps = outcome.steps;
    if (outcome.valLoss !== undefined) record.valLoss = outcome.valLoss;
    if (outcome.metrics && Object.keys(outcome.metrics).length > 0) record.metrics = outcome.metrics;
    if (outcome.lr !== undefined) record.lr = outcome.lr;
    for (const g of program.groups)
      for (const p of g.params) {
        if (p.tensor.numel > this.recordLimit) continue;
        const v = outcome.params.get(p.id);
        const gr = outcome.grads.get(p.id);
        if (v) record.params[p.id] = Array.from(v);
        if (gr) record.grads[p.id] = Array.from(gr);
      }
    this.st = { ...this.st, epoch: k + 1 };
    for (const g of program.groups)
      for (const p of g.params) {
        const v = outcome.params.get(p.id);
        const bad = v && nonFiniteIn(v);
        if (bad) {
          this.emit([record]);
          this.fail(
            `epoch ${k}: parameter '${p.id}' became ${bad} after the step (training diverged: the learning rate is probably too large)`,
            p.nodeId,
          );
          return undefined;
        }
      }
    return record;
  }

  /**
   * Stop on a NaN or infinite gradient (the epoch took no step), naming the first node whose backward produced
   * it: found by a backward pass from each optimizer's loss on the CPU, at the parameters the epoch started from.
   */
  private failGradient(k: number, program: TrainingProgram, outcome: EpochOutcome): void {
    let fault: GradientFault | undefined;
    try {
      for (const root of new Map(
        program.groups.map((g) => [`${g.loss.nodeId}.${g.loss.port}`, g.loss]),
      ).values()) {
        const f = this.scheduler.gradientFault(root);
        if (f && (!fault || (f.nodeId !== undefined && fault.nodeId === undefined))) fault = f;
        if (fault?.nodeId !== undefined) break;
      }
    } catch {
      // The diagnosis is best effort: the message below still names the parameter.
    }
    // The parameter: from the diagnosis, else from the gradients the backend reported.
    let param = fault?.params[0];
    let nodeOfParam: string | undefined;
    for (const g of program.groups)
      for (const p of g.params) {
        const gr = outcome.grads.get(p.id);
        const bad = !param && gr ? nonFiniteIn(gr) : undefined;
        if (bad) param = { id: p.id, what: bad };
        if (param?.id === p.id) nodeOfParam ??= p.nodeId;
      }
    const more = fault && fault.params.length > 1 ? ` (and ${fault.params.length - 1} more)` : "";
    const what = param
      ? `the gradient of '${param.id}'${more} became ${param.what}`
      : "a gradient became nan or inf";
    let where = "";
    if (fault?.nodeId !== undefined) {
      const id = fault.nodeId;
      const kind = this.scheduler.registry.get(this.scheduler.graph.nodes[id].type);
      const input = kind?.inputs.some((p) => p.name === fault.input)
        ? `its input '${fault.input}'`
        : `its parameter '${fault.input}'`;
      where = `; node '${this.scheduler.label(id)}' (${this.scheduler.graph.nodes[id].type}) was the first to produce ${fault.what} in backward (the gradient for ${input})`;
    }
    this.fail(
      `epoch ${k}: ${what}${where}; no step was taken, the parameters keep their values from before this epoch`,
      fault?.nodeId ?? nodeOfParam,
    );
  }

  private emit(records: EpochRecord[]): void {
    if (records.length === 0) return;
    for (const l of this.recordListeners) l(records);
  }

  private targetEpochs(): number {
    return this.epochsOverride ?? this.scheduler.graph.settings.epochs;
  }

  /**
   * Train until the epoch count is reached (or pause/stop). A run after done, stopped or an error starts over
   * from the initial values; after a pause it continues.
   */
  async run(opts: { epochs?: number } = {}): Promise<void> {
    if (this.loop) {
      if (this.st.status === "running") return this.loop;
      await this.loop;
    }
    if (["done", "stopped", "error"].includes(this.st.status)) await this.reset();
    if (opts.epochs !== undefined) this.epochsOverride = opts.epochs;
    await this.resolveWanted();
    this.setState({ status: "running", epochs: this.targetEpochs(), message: undefined, nodeId: undefined });
    this.loop = this.runLoop();
    try {
      await this.loop;
    } finally {
      this.loop = null;
    }
  }

  private async runLoop(): Promise<void> {
    while (this.st.status === "running" && this.st.epoch < this.targetEpochs()) {
      const batch: EpochRecord[] = [];
      const t0 = this.now();
      do {
        const r = await this.runEpoch();
        if (!r) break;
        batch.push(r);
      } while (
        this.st.status === "running" &&
        this.st.epoch < this.targetEpochs() &&
        this.now() - t0 < this.sliceMs
      );
      this.emit(batch);
      this.setState({ epochs: this.targetEpochs() });
      if (this.st.status === "running" && this.st.epoch < this.targetEpochs()) await this.yieldFn();
    }
    // The leaves take the trained values (a GPU session holds them on the device until asked) before the page
    // hears that the run ended, so the values it then asks for are computed from them.
    await this.syncLeaves();
    if (this.st.status === "running") this.setState({ status: "done" });
    else this.setState({});
  }

  /** Single steps and runs both train on the backend the user chose (resolved once, falling back with a reason). */
  private async resolveWanted(): Promise<void> {
    if (this.wanted !== "auto" && this.choice.backend.name !== this.wanted && !this.choice.fallback)
      await this.setBackend(this.wanted);
  }

  private async syncLeaves(): Promise<void> {
    if (!this.session) return;
    await this.session.sync();
    this.scheduler.paramsChanged();
  }

  pause(): void {
    if (this.st.status === "running") this.setState({ status: "paused" });
  }

  async resume(): Promise<void> {
    if (this.st.status === "paused" || this.st.status === "idle") await this.run();
  }

  /** Stop the run; the trained values stay until reset (the next run starts over). */
  stop(): void {
    if (this.st.status === "running" || this.st.status === "paused") this.setState({ status: "stopped" });
  }

  /** One epoch, then paused (so resume continues). Refused after an error until reset. */
  async step(): Promise<EpochRecord | undefined> {
    if (this.loop) {
      if (this.st.status === "running") return undefined;
      await this.loop;
    }
    if (this.st.status === "error") return undefined;
    if (this.st.status === "stopped" || this.st.status === "done") await this.reset();
    await this.resolveWanted();
    const r = await this.runEpoch();
    if (r) {
      await this.syncLeaves();
      this.emit([r]);
      this.setState({ status: "paused", epochs: this.targetEpochs() });
    }
    return r;
  }

  /** Back to the initial values: leaves recreated from the graph, optimizer state dropped, epoch 0. */
  async reset(): Promise<void> {
    if (this.st.status === "running") this.setState({ status: "stopped" });
    if (this.loop) await this.loop;
    if (this.session) {
      this.session.dispose();
      this.session = null;
    }
    this.carried = null;
    this.program = null;
    this.random = undefined;
    this.structure = "";
    this.applied.clear();
    this.firstLoss = undefined;
    this.scheduler.resetLeaves();
    this.setState({
      status: "idle",
      epoch: 0,
      message: undefined,
      nodeId: undefined,
      epochs: this.targetEpochs(),
    });
  }
}
