/**
 * The `auto` backend: train on whichever backend finishes this graph's run sooner, by measurement.
 *
 * Which backend is faster depends on the graph and the machine: a tiny graph spends its epoch in per-dispatch
 * overhead and a software adapter (SwiftShader, llvmpipe, WARP) computes on the same cores as the CPU backend,
 * while a large graph on a real GPU wins by far. No fixed rule gets all of these right, so auto times a few
 * epochs of the graph on each backend — on probe copies of its parameters, so the real run's numbers never
 * depend on the measurement — and caches the verdict per shape class: the same node kinds wired the same way
 * with the same tensor shapes. A change of shapes is a new class and is measured again.
 */
import type { ValidationResult } from "../graph/validate.ts";
import { MiniBatchSession } from "./batches.ts";
import type {
  AdapterInfo,
  Backend,
  BackendName,
  TrainingProgram,
  TrainingSession,
} from "./scheduler-backend.ts";

/** One backend's measured speed on a graph. */
export interface Measurement {
  backend: BackendName;
  /** Starting a session: tracing and compiling kernels on a GPU; nothing on the CPU. */
  setupSeconds: number;
  /** Steady-state rate, after a warm-up epoch. */
  epochsPerSecond: number;
  /** Epochs the rate was timed over. */
  epochs: number;
  /** The measurement was cut short because this backend was already far slower: the rate is an upper bound. */
  cutShort?: boolean;
}

export interface AutoDecision {
  backend: BackendName;
  /** Why, in words for the backend chip and the CLI: "CPU: 5.1x faster than this software GPU on this graph". */
  reason: string;
  measurements: Measurement[];
}

export interface AutoOptions {
  /** Epochs the run still has to go: a GPU's set-up is worth paying only over enough of them. */
  epochs: number;
  /** Timed milliseconds per backend after its warm-up epoch (default 250). */
  budgetMs?: number;
  now?: () => number;
}

/** A software adapter must beat the CPU by this factor: it competes for the same cores as the page. */
export const SOFTWARE_MARGIN = 1.25;
/**
 * Runs that end within this many seconds on the CPU stay there: starting and timing a GPU costs about as much
 * as it could save.
 */
export const BREAK_EVEN_SECONDS = 1;
/**
 * A software adapter is timed only for runs this long on the CPU: it compiles its kernels slowly (seconds)
 * and rarely wins, since it computes on the same cores.
 */
export const SOFTWARE_BREAK_EVEN_SECONDS = 10;

/**
 * The shape class of a validated graph: node kinds, wiring and every output's shape and dtype, in evaluation
 * order (ids and hyperparameters do not change the cost of an epoch).
 */
export function shapeClass(v: ValidationResult, types: Record<string, string>): string {
  const index = new Map(v.order.map((id, i) => [id, i]));
  return JSON.stringify(
    v.order.map((id) => [
      types[id],
      Object.entries(v.metas[id] ?? {}).map(([port, m]) => [port, m.shape, m.dtype]),
      (v.adjacency.into.get(id) ?? []).map((e) => [e.targetPort, index.get(e.source), e.sourcePort]),
    ]),
  );
}

/** The epoch's outcome, or "late" when it takes longer than `ms` (the timer is cleared either way). */
async function within<T>(work: T | Promise<T>, ms: number): Promise<T | "late"> {
  if (!Number.isFinite(ms)) return work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), Math.max(0, ms));
  });
  // An epoch given up on may still fail later: that is no longer anyone's concern.
  if (work instanceof Promise) work.catch(() => {});
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run epochs for `ms` milliseconds (at least one), or until the `left` epochs of the planned run are done. `ahead(el)`
 * is how many epochs each call announces (a GPU batches up to that many). An epoch still pending after
 * `giveUpMs` ends the phase as "late".
 */
async function phase(
  session: TrainingSession,
  ms: number,
  giveUpMs: number,
  now: () => number,
  ahead: (elapsedMs: number, epochs: number) => number,
  left: number,
): Promise<{ epochs: number; ms: number; late: boolean; pending?: Promise<unknown> }> {
  const t = now();
  let epochs = 0;
  for (;;) {
    const el = now() - t;
    const work = session.epoch(Math.max(1, Math.min(left - epochs, ahead(el, epochs))));
    const r = await within(work, giveUpMs - el);
    // The epoch given up on is still running on the device (a software GPU's, on the CPU's own cores).
    if (r === "late") return { epochs, ms: now() - t, late: true, pending: Promise.resolve(work) };
    epochs++;
    const done = now() - t;
    if (done >= ms || epochs >= left) return { epochs, ms: done, late: false };
  }
}

/**
 * Time `backend` on a probe program: set-up; a warm-up (the JIT compiling hot loops, a GPU's pipelines and
 * growing batches: half the budget), after which whatever a GPU computed ahead is settled; then two timed
 * windows of half the budget each, of which the faster gives the rate (the later one is often faster still
 * warming up). A timed window announces only the epochs it expects to run, so no work computed ahead is
 * counted. An epoch that takes the whole budget on its own is measurement enough, and so is the whole planned
 * run. `giveUpMs`: stop once one epoch has taken that long — this backend is then slower than the other by
 * more than the margin that matters.
 */
export async function measure(
  backend: Backend,
  program: TrainingProgram,
  opts: {
    budgetMs: number;
    giveUpMs?: number;
    now: () => number;
    epochs?: number;
    /** How long to wait, at most, for an epoch given up on to finish before disposing (default 60 s). */
    drainMs?: number;
  },
): Promise<Measurement> {
  const { now, budgetMs } = opts;
  const giveUp = opts.giveUpMs ?? Number.POSITIVE_INFINITY;
  const planned = opts.epochs ?? Number.POSITIVE_INFINITY;
  let ran = 0;
  const left = () => planned - ran;
  const t0 = now();
  const started = await backend.startTraining(program);
  // With a DataLoader an epoch is the loader's batches, one step each, as the trainer runs it.
  const session = program.loader ? new MiniBatchSession(program, program.loader, started) : started;
  const setupSeconds = (now() - t0) / 1000;
  const result = (p: { epochs: number; ms: number }, cutShort?: boolean): Measurement => ({
    backend: backend.name,
    setupSeconds,
    epochsPerSecond: (Math.max(p.epochs, 1) * 1000) / Math.max(p.ms, 1e-3),
    epochs: Math.max(p.epochs, 1),
    ...(cutShort ? { cutShort } : {}),
  });
  let pending: Promise<unknown> | undefined;
  const counted = async (ms: number, ahead: (el: number, n: number) => number) => {
    const p = await phase(session, ms, giveUp, now, ahead, left());
    ran += p.epochs;
    pending = p.pending;
    return p;
  };
  try {
    // The first epoch is announced alone: a GPU would otherwise queue a whole batch, which runs on (on a
    // software GPU, on the CPU's cores) after a measurement that gives up on it.
    const warm = await counted(budgetMs / 2, (_el, n) => (n === 0 ? 1 : left()));
    if (warm.late) return result(warm, true);
    if (warm.ms >= budgetMs || left() <= 0) return result(warm);
    await session.sync();
    const rate = warm.epochs / Math.max(warm.ms, 1e-3);
    const windowed = (el: number, n: number) =>
      Math.ceil(((budgetMs / 2 - el) * (n > 0 ? n / Math.max(el, 1e-3) : rate)) / 1);
    const first = await counted(budgetMs / 2, windowed);
    if (first.late || left() <= 0) return result(first, first.late || undefined);
    const second = await counted(budgetMs / 2, windowed);
    const best = second.epochs / second.ms > first.epochs / first.ms ? second : first;
    return result(best, second.late || undefined);
  } finally {
    // An epoch given up on is waited for (at most one announced epoch), so it does not compete with what runs next.
    if (pending)
      await within(
        pending.catch(() => {}),
        opts.drainMs ?? 60_000,
      );
    session.dispose();
  }
}

const fmtRatio = (r: number) => (r >= 10 ? r.toFixed(0) : r.toFixed(1));
const gpuWords = (a: AdapterInfo | undefined) =>
  a?.software ? `this software GPU (${a.description})` : a ? `this GPU (${a.description})` : "WebGPU";

/** The run's expected seconds on a measured backend: set-up once, then the epochs at its rate. */
function expected(m: Measurement, epochs: number): number {
  return m.setupSeconds + epochs / m.epochsPerSecond;
}

/** The verdict from the two measurements (pure: the tests feed it numbers). */
export function decide(
  cpu: Measurement,
  gpu: Measurement,
  adapter: AdapterInfo | undefined,
  epochs: number,
): AutoDecision {
  const measurements = [cpu, gpu];
  const tCpu = expected(cpu, epochs);
  const tGpu = expected(gpu, epochs);
  const margin = adapter?.software ? SOFTWARE_MARGIN : 1;
  const perEpoch = gpu.epochsPerSecond / cpu.epochsPerSecond;
  if (tGpu * margin < tCpu)
    return {
      backend: "webgpu",
      reason: `WebGPU: ${fmtRatio(perEpoch)}x faster than the CPU on this graph${adapter?.software ? ` (software adapter: ${adapter.description})` : ""}`,
      measurements,
    };
  if (perEpoch > 1)
    return {
      backend: "cpu",
      reason: `CPU: this run of ${epochs} epoch${epochs === 1 ? "" : "s"} ends sooner on the CPU (${gpuWords(adapter)} is ${fmtRatio(perEpoch)}x faster per epoch${adapter?.software ? " but shares the CPU's cores" : `, but takes ${gpu.setupSeconds.toFixed(1)} s to start`})`,
      measurements,
    };
  return {
    backend: "cpu",
    reason: `CPU: ${gpu.cutShort ? "over " : ""}${fmtRatio(1 / perEpoch)}x faster than ${gpuWords(adapter)} on this graph`,
    measurements,
  };
}

/** What auto needs from the trainer: probe programs and the WebGPU backend (or why there is none). */
export interface AutoInputs {
  /** A training program over fresh copies of the graph's parameters (never the real run's). */
  probe(): TrainingProgram;
  cpu: Backend;
  /** The WebGPU backend, or why there is none; asked for only when the run is long enough to need it. */
  gpu(): Promise<Backend | { unavailable: string }>;
}

/** What was measured of one shape class: the CPU, and WebGPU once a run was long enough to ask. */
export interface Measured {
  cpu?: Measurement;
  gpu?: Measurement | { failed: string };
}

/**
 * Measure the CPU, then WebGPU (given up once it is clearly slower), and decide. A graph whose whole run is
 * over within BREAK_EVEN_SECONDS on the CPU stays there without starting a GPU at all. `measured` holds what
 * earlier calls measured of this shape class; it is filled in, and reused, so a graph is timed once.
 */
export async function chooseBackend(
  inputs: AutoInputs,
  opts: AutoOptions,
  measured: Measured = {},
): Promise<AutoDecision> {
  const now = opts.now ?? (() => performance.now());
  const budgetMs = opts.budgetMs ?? 250;
  measured.cpu ??= await measure(inputs.cpu, inputs.probe(), { budgetMs, now, epochs: opts.epochs });
  const cpu = measured.cpu;
  const cpuRun = expected(cpu, opts.epochs);
  if (cpuRun < BREAK_EVEN_SECONDS)
    return {
      backend: "cpu",
      reason: `CPU: the whole run takes about ${cpuRun < 0.01 ? "0.01" : cpuRun.toFixed(2)} s on the CPU, too little to gain from starting a GPU`,
      measurements: [cpu],
    };
  const gpuBackend = await inputs.gpu();
  if ("unavailable" in gpuBackend)
    return { backend: "cpu", reason: `CPU: ${gpuBackend.unavailable}`, measurements: [cpu] };
  if (gpuBackend.adapter?.software && cpuRun < SOFTWARE_BREAK_EVEN_SECONDS && !measured.gpu)
    return {
      backend: "cpu",
      reason: `CPU: ${gpuWords(gpuBackend.adapter)} computes on the CPU's own cores; this run (about ${cpuRun.toFixed(1)} s on the CPU) is too short to time it`,
      measurements: [cpu],
    };
  if (!measured.gpu) {
    // WebGPU gets enough time to show it is faster: an epoch taking three times the CPU's (with a GPU's first
    // dispatches allowed two seconds) says it is not.
    const giveUpMs = Math.max(budgetMs, 2000, (3 * 1000) / cpu.epochsPerSecond);
    try {
      measured.gpu = await measure(gpuBackend, inputs.probe(), {
        budgetMs,
        giveUpMs,
        now,
        epochs: opts.epochs,
      });
    } catch (e) {
      measured.gpu = { failed: e instanceof Error ? e.message : String(e) };
    }
  }
  if ("failed" in measured.gpu)
    return {
      backend: "cpu",
      reason: `CPU: WebGPU cannot run this graph (${measured.gpu.failed})`,
      measurements: [cpu],
    };
  return decide(cpu, measured.gpu, gpuBackend.adapter, opts.epochs);
}

/** Measurements by shape class, for this process (a worker, the CLI): a graph seen before is not timed again. */
export class AutoCache {
  private readonly entries = new Map<string, Measured>();
  constructor(private readonly limit = 64) {}

  /** The record of this class, created empty on first use (the most recently used are kept). */
  of(key: string): Measured {
    const m = this.entries.get(key) ?? {};
    this.entries.delete(key);
    this.entries.set(key, m);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
    return m;
  }

  clear(): void {
    this.entries.clear();
  }
}

export const autoCache = new AutoCache();
