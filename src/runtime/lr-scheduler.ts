/**
 * Learning-rate schedulers with torch.optim.lr_scheduler 1.13's arithmetic, step for step. torch computes each
 * new learning rate from the group's current one (the "chainable" `get_lr`), in Python floats, so the same
 * float64 operations in the same order give the same numbers bit for bit; closed forms would drift from them.
 *
 * Python's math.cos and `float ** int` are glibc's, correctly rounded; V8's Math.cos and `**` are not always (one
 * unit off for a few percent of the cosine annealing arguments), so both go through the runtime's correctly
 * rounded versions (random/libm.ts, exact.ts).
 *
 * A scheduler works on one param group: `group.lr` (and `betas` / `momentum` when OneCycleLR cycles the
 * momentum), which its owner copies into the optimizer after each change. Several schedulers may share a
 * group, as in torch (they chain). Constructing one performs torch's initial step (`last_epoch` 0), which
 * already sets the first learning rate (LinearLR's start factor, OneCycleLR's initial_lr).
 */
import { powInt } from "./exact.ts";
import { sincos } from "./random/libm.ts";

/** Python's math.cos (glibc, correctly rounded). */
const cos = (x: number): number => sincos(x)[1];

export interface ParamGroup {
  lr: number;
  /** torch's `group['initial_lr']`: set by the first scheduler made on the group (OneCycleLR overwrites it). */
  initialLr?: number;
  /** Adam-like optimizers' (beta1, beta2). */
  betas?: number[];
  /** SGD's and RMSprop's momentum. */
  momentum?: number;
}

export abstract class LRScheduler {
  /** Epochs (or batches, for per-batch schedules) stepped so far; torch's `last_epoch`. */
  lastEpoch = -1;
  protected stepCount = 0;
  /** The group's lr when the scheduler was made (torch's `initial_lr`, its `base_lrs[0]`). */
  protected baseLr: number;

  constructor(public group: ParamGroup) {
    group.initialLr ??= group.lr;
    this.baseLr = group.initialLr;
  }

  /** A copy of the scheduler's state on a copy of `group` (the WebGPU session rolls back to one). */
  cloneOn(group: ParamGroup): this {
    const c = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(c, this);
    c.group = group;
    return c;
  }

  /** torch's `_initial_step`, which subclasses call once their own fields are set. */
  protected init(): void {
    this.step();
  }

  /** `scheduler.step()`: the next epoch's (or batch's) learning rate. */
  step(_metric?: number): void {
    this.stepCount++;
    this.lastEpoch++;
    this.group.lr = this.nextLr();
  }

  protected abstract nextLr(): number;
}

export class StepLR extends LRScheduler {
  constructor(
    group: ParamGroup,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(group);
    this.init();
  }
  protected nextLr(): number {
    const lr = this.group.lr;
    if (this.lastEpoch === 0 || pyMod(this.lastEpoch, this.stepSize) !== 0) return lr;
    return lr * this.gamma;
  }
}

export class MultiStepLR extends LRScheduler {
  private readonly counts = new Map<number, number>();
  constructor(
    group: ParamGroup,
    milestones: readonly number[],
    readonly gamma = 0.1,
  ) {
    super(group);
    // torch keeps a Counter: a milestone listed twice decays by gamma ** 2.
    for (const m of milestones) this.counts.set(m, (this.counts.get(m) ?? 0) + 1);
    this.init();
  }
  protected nextLr(): number {
    const c = this.counts.get(this.lastEpoch);
    return c === undefined ? this.group.lr : this.group.lr * powInt(this.gamma, c);
  }
}

export class ExponentialLR extends LRScheduler {
  constructor(
    group: ParamGroup,
    readonly gamma: number,
  ) {
    super(group);
    this.init();
  }
  protected nextLr(): number {
    return this.lastEpoch === 0 ? this.group.lr : this.group.lr * this.gamma;
  }
}

export class CosineAnnealingLR extends LRScheduler {
  constructor(
    group: ParamGroup,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(group);
    this.init();
  }
  protected nextLr(): number {
    const { lastEpoch: e, tMax: T, etaMin, baseLr } = this;
    const lr = this.group.lr;
    if (e === 0) return lr;
    if (this.stepCount === 1 && e > 0) return etaMin + ((baseLr - etaMin) * (1 + cos((e * Math.PI) / T))) / 2;
    if (pyMod(e - 1 - T, 2 * T) === 0) return lr + ((baseLr - etaMin) * (1 - cos(Math.PI / T))) / 2;
    return ((1 + cos((Math.PI * e) / T)) / (1 + cos((Math.PI * (e - 1)) / T))) * (lr - etaMin) + etaMin;
  }
}

export class LinearLR extends LRScheduler {
  constructor(
    group: ParamGroup,
    readonly startFactor = 1 / 3,
    readonly endFactor = 1,
    readonly totalIters = 5,
  ) {
    super(group);
    if (startFactor > 1 || startFactor < 0)
      throw new RangeError("Starting multiplicative factor expected to be between 0 and 1.");
    if (endFactor > 1 || endFactor < 0)
      throw new RangeError("Ending multiplicative factor expected to be between 0 and 1.");
    this.init();
  }
  protected nextLr(): number {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    const lr = this.group.lr;
    if (e === 0) return lr * s;
    if (e > n) return lr;
    const den = n * s + (e - 1) * (f - s);
    if (den === 0) throw new RangeError("float division by zero");
    return lr * (1 + (f - s) / den);
  }
}

export interface OneCycleOptions {
  maxLr: number;
  /** The cycle's length; without it, epochs × stepsPerEpoch (torch's rule). */
  totalSteps?: number | null;
  epochs?: number | null;
  stepsPerEpoch?: number | null;
  pctStart?: number;
  annealStrategy?: "cos" | "linear";
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
}

interface Phase {
  endStep: number;
  startLr: "initial" | "max" | "min";
  endLr: "initial" | "max" | "min";
  startMomentum: "max" | "base";
  endMomentum: "max" | "base";
}

/** OneCycleLR, stepped after every batch (torch's documented use). */
export class OneCycleLR extends LRScheduler {
  private readonly phases: Phase[];
  private readonly lrs: Record<Phase["startLr"], number>;
  private readonly momenta: Record<Phase["startMomentum"], number>;
  private readonly anneal: (start: number, end: number, pct: number) => number;
  private readonly useBeta1: boolean;
  readonly totalSteps: number;
  private readonly cycleMomentum: boolean;

  constructor(group: ParamGroup, o: OneCycleOptions) {
    super(group);
    const pct = o.pctStart ?? 0.3;
    const total = oneCycleSteps(o);
    if (pct < 0 || pct > 1) throw new RangeError(`Expected float between 0 and 1 pct_start, but got ${pct}`);
    this.totalSteps = total;
    this.phases = o.threePhase
      ? [
          {
            endStep: pct * total - 1,
            startLr: "initial",
            endLr: "max",
            startMomentum: "max",
            endMomentum: "base",
          },
          {
            endStep: 2 * pct * total - 2,
            startLr: "max",
            endLr: "initial",
            startMomentum: "base",
            endMomentum: "max",
          },
          { endStep: total - 1, startLr: "initial", endLr: "min", startMomentum: "max", endMomentum: "max" },
        ]
      : [
          {
            endStep: pct * total - 1,
            startLr: "initial",
            endLr: "max",
            startMomentum: "max",
            endMomentum: "base",
          },
          { endStep: total - 1, startLr: "max", endLr: "min", startMomentum: "base", endMomentum: "max" },
        ];
    this.anneal =
      (o.annealStrategy ?? "cos") === "cos"
        ? (start, end, p) => end + ((start - end) / 2.0) * (cos(Math.PI * p) + 1)
        : (start, end, p) => (end - start) * p + start;
    const initial = o.maxLr / (o.divFactor ?? 25);
    this.lrs = { initial, max: o.maxLr, min: initial / (o.finalDivFactor ?? 1e4) };
    // torch sets the group's initial_lr itself, whatever an earlier scheduler set.
    group.initialLr = initial;
    this.baseLr = initial;
    this.cycleMomentum = o.cycleMomentum ?? true;
    this.momenta = { max: o.maxMomentum ?? 0.95, base: o.baseMomentum ?? 0.85 };
    this.useBeta1 = group.betas !== undefined;
    if (this.cycleMomentum) {
      if (!this.useBeta1 && group.momentum === undefined)
        throw new RangeError("optimizer must support momentum with `cycle_momentum` option enabled");
      this.setMomentum(this.momenta.max);
    }
    this.init();
  }

  private setMomentum(m: number): void {
    if (this.useBeta1) this.group.betas = [m, ...(this.group.betas ?? []).slice(1)];
    else this.group.momentum = m;
  }

  protected nextLr(): number {
    const step = this.lastEpoch;
    if (step > this.totalSteps)
      throw new RangeError(
        `Tried to step ${step + 1} times. The specified number of total steps is ${this.totalSteps}`,
      );
    let start = 0;
    for (const [i, ph] of this.phases.entries()) {
      if (step <= ph.endStep || i === this.phases.length - 1) {
        // Python divides by zero only to raise (a cycle too short for its phases); JavaScript would go on.
        if (ph.endStep === start) throw new RangeError("float division by zero");
        const pct = (step - start) / (ph.endStep - start);
        if (this.cycleMomentum)
          this.setMomentum(this.anneal(this.momenta[ph.startMomentum], this.momenta[ph.endMomentum], pct));
        return this.anneal(this.lrs[ph.startLr], this.lrs[ph.endLr], pct);
      }
      start = ph.endStep;
    }
    throw new Error("unreachable: the last phase always applies");
  }
}

export interface PlateauOptions {
  mode?: "min" | "max";
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: "rel" | "abs";
  cooldown?: number;
  minLr?: number;
  eps?: number;
}

/** ReduceLROnPlateau: `step(metric)` once per epoch; the lr drops by `factor` after `patience` bad epochs. */
export class ReduceLROnPlateau extends LRScheduler {
  private readonly o: Required<PlateauOptions>;
  private best: number;
  private badEpochs = 0;
  private cooldownCounter = 0;

  constructor(group: ParamGroup, opts: PlateauOptions = {}) {
    super(group);
    this.o = {
      mode: "min",
      factor: 0.1,
      patience: 10,
      threshold: 1e-4,
      thresholdMode: "rel",
      cooldown: 0,
      minLr: 0,
      eps: 1e-8,
      ...opts,
    };
    if (this.o.factor >= 1) throw new RangeError("Factor should be < 1.0.");
    this.best = this.worse();
    // Unlike the others, torch's ReduceLROnPlateau takes no initial step: last_epoch starts at 0.
    this.lastEpoch = 0;
  }

  private worse(): number {
    return this.o.mode === "min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  private isBetter(a: number, best: number): boolean {
    const { mode, thresholdMode: tm, threshold: t } = this.o;
    if (mode === "min" && tm === "rel") return a < best * (1 - t);
    if (mode === "min") return a < best - t;
    if (tm === "rel") return a > best * (t + 1);
    return a > best + t;
  }

  override step(metric?: number): void {
    if (metric === undefined) throw new TypeError("ReduceLROnPlateau.step needs the metric it watches");
    this.lastEpoch++;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.badEpochs = 0;
    } else this.badEpochs++;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.badEpochs = 0;
    }
    if (this.badEpochs > this.o.patience) {
      const old = this.group.lr;
      const next = Math.max(old * this.o.factor, this.o.minLr);
      if (old - next > this.o.eps) this.group.lr = next;
      this.cooldownCounter = this.o.cooldown;
      this.badEpochs = 0;
    }
  }

  protected nextLr(): number {
    return this.group.lr;
  }
}

/** OneCycleLR's total_steps, checked as torch checks it. */
function oneCycleSteps(o: OneCycleOptions): number {
  const positive = (name: string, v: number | null | undefined): number => {
    if (v === undefined || v === null || !Number.isInteger(v) || v <= 0)
      throw new RangeError(`Expected positive integer ${name}, but got ${v ?? "None"}`);
    return v;
  };
  if (o.totalSteps == null && o.epochs == null && o.stepsPerEpoch == null)
    throw new RangeError("You must define either total_steps OR (epochs AND steps_per_epoch)");
  if (o.totalSteps != null) return positive("total_steps", o.totalSteps);
  return positive("epochs", o.epochs) * positive("steps_per_epoch", o.stepsPerEpoch);
}

/** Python's `%` for integers: the result takes the divisor's sign. */
function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
