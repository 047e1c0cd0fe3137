/**
 * Learning-rate schedulers, like torch.optim.lr_scheduler: each is wired from an optimizer's output and changes
 * that optimizer's learning rate as training goes, stepped where PyTorch code steps it: at the end of each epoch,
 * OneCycleLR after each optimizer step, ReduceLROnPlateau at the end of each epoch with the number its `monitor`
 * param names. The arithmetic is in src/runtime/lr-scheduler.ts; the training loop's hooks in
 * src/engine/lr-schedules.ts.
 */
import {
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  type LRScheduler,
  MultiStepLR,
  OneCycleLR,
  type ParamGroup,
  ReduceLROnPlateau,
  StepLR,
} from "../runtime/index.ts";
import { pyArgs, pyFloat, pyKwargs } from "./python.ts";
import { defineKind } from "./registry.ts";
import {
  InferError,
  type LrSchedulerDecl,
  type NodeKind,
  type ParamDecl,
  type ParamReader,
  type TorchContext,
} from "./types.ts";

const num = (name: string, def: number | null, help: string, extra: Partial<ParamDecl> = {}): ParamDecl =>
  ({ name, type: "number", default: def, help, ...extra }) as ParamDecl;
const int = (name: string, def: number | null, help: string, extra: Partial<ParamDecl> = {}): ParamDecl =>
  num(name, def, help, { integer: true, min: 0, ...extra });
const gamma = (def: number): ParamDecl =>
  num("gamma", def, "the factor the learning rate is multiplied by", { min: 0 });

interface SchedulerSpec {
  type: string;
  description: string;
  params: ParamDecl[];
  /** Params torch requires (written even when they equal the default here). */
  required: string[];
  /** Params written as Python floats (torch checks `isinstance(pct_start, float)`). */
  floats?: string[];
  decl: Omit<LrSchedulerDecl, "create">;
  create(group: ParamGroup, p: ParamReader, run: { epochs: number; stepsPerEpoch: number }): LRScheduler;
  /** Python for params whose null means "from the run" (T_max, OneCycleLR's epochs and steps_per_epoch). */
  fromRun?: Record<string, (c: TorchContext) => string>;
  /** Params of gradwire's own, not torch's arguments (ReduceLROnPlateau's monitor). */
  own?: string[];
  check?(p: ParamReader): void;
}

function schedulerKind(s: SchedulerSpec): NodeKind {
  return defineKind({
    type: s.type,
    family: "Optimizers",
    description: s.description,
    inputs: [{ name: "optimizer", help: "the optimizer whose learning rate this schedules" }],
    outputs: [],
    params: s.params,
    infer({ params }) {
      s.check?.(params);
      return {};
    },
    evaluate: () => ({}),
    lrScheduler: { ...s.decl, create: s.create },
    torch: () => [],
    torchSetup(c) {
      const kwargs = s.params.map((d): string => {
        if (s.own?.includes(d.name)) return "";
        const v = c.params.raw(d.name);
        const fromRun = s.fromRun?.[d.name];
        // OneCycleLR: epochs and steps_per_epoch count only without total_steps, as in torch.
        const cycle = s.params.some((p) => p.name === "total_steps") ? c.params.raw("total_steps") : null;
        if (v === null && fromRun) return cycle === null ? `${d.name}=${fromRun(c)}` : "";
        if (s.floats?.includes(d.name) && typeof v === "number" && v !== d.default)
          return `${d.name}=${pyFloat(v)}`;
        if (s.floats?.includes(d.name)) return "";
        return pyKwargs([[d.name, v, s.required.includes(d.name) ? undefined : d.default]]);
      });
      return [`${c.out} = torch.optim.lr_scheduler.${s.type}(${pyArgs(c.inputs.optimizer!, ...kwargs)})`];
    },
  });
}

const positiveInt = (p: ParamReader, name: string) => {
  const v = p.numOrNull(name);
  if (v !== null && v <= 0) throw new InferError(`param '${name}' must be a positive whole number, got ${v}`);
};

export const SCHEDULER_KINDS: readonly NodeKind[] = [
  schedulerKind({
    type: "StepLR",
    description: "Multiplies the learning rate by gamma every step_size epochs, like lr_scheduler.StepLR",
    params: [int("step_size", 10, "epochs between two decays", { min: 1 }), gamma(0.1)],
    required: ["step_size"],
    decl: { stepEvery: "epoch" },
    create: (g, p) => new StepLR(g, p.num("step_size"), p.num("gamma")),
  }),
  schedulerKind({
    type: "MultiStepLR",
    description:
      "Multiplies the learning rate by gamma at each milestone epoch, like lr_scheduler.MultiStepLR",
    params: [
      {
        name: "milestones",
        type: "numbers",
        integer: true,
        min: 0,
        default: [50, 75],
        help: "the epochs at which the learning rate decays (increasing)",
      },
      gamma(0.1),
    ],
    required: ["milestones"],
    decl: { stepEvery: "epoch" },
    create: (g, p) => new MultiStepLR(g, p.nums("milestones"), p.num("gamma")),
    check(p) {
      const m = p.nums("milestones");
      if (m.some((v, i) => i > 0 && v <= m[i - 1]))
        throw new InferError(`param 'milestones' must be increasing, got [${m.join(", ")}]`);
    },
  }),
  schedulerKind({
    type: "ExponentialLR",
    description: "Multiplies the learning rate by gamma every epoch, like lr_scheduler.ExponentialLR",
    params: [gamma(0.95)],
    required: ["gamma"],
    decl: { stepEvery: "epoch" },
    create: (g, p) => new ExponentialLR(g, p.num("gamma")),
  }),
  schedulerKind({
    type: "CosineAnnealingLR",
    description:
      "Anneals the learning rate along a cosine over T_max epochs, like lr_scheduler.CosineAnnealingLR",
    params: [
      int("T_max", null, "epochs of the half cosine (None: the run's epochs)", { min: 1, nullable: true }),
      num("eta_min", 0, "the smallest learning rate", { min: 0 }),
    ],
    required: ["T_max"],
    decl: { stepEvery: "epoch" },
    fromRun: { T_max: () => "args.epochs" },
    create: (g, p, run) => new CosineAnnealingLR(g, p.numOrNull("T_max") ?? run.epochs, p.num("eta_min")),
  }),
  schedulerKind({
    type: "LinearLR",
    description:
      "Scales the learning rate by a factor going linearly from start_factor to end_factor, like lr_scheduler.LinearLR",
    params: [
      num("start_factor", 1 / 3, "the factor in the first epoch", { min: 0, max: 1, exclusiveMin: true }),
      num("end_factor", 1, "the factor after total_iters epochs", { min: 0, max: 1 }),
      int("total_iters", 5, "epochs until end_factor is reached"),
    ],
    required: [],
    decl: { stepEvery: "epoch" },
    create: (g, p) => new LinearLR(g, p.num("start_factor"), p.num("end_factor"), p.num("total_iters")),
  }),
  schedulerKind({
    type: "OneCycleLR",
    description:
      "Warms the learning rate up to max_lr and anneals it down, stepped after every batch, like lr_scheduler.OneCycleLR",
    params: [
      num("max_lr", 0.1, "the peak learning rate", { min: 0, exclusiveMin: true }),
      int("total_steps", null, "steps in the cycle (None: epochs × steps_per_epoch)", {
        min: 1,
        nullable: true,
      }),
      int("epochs", null, "epochs in the cycle (None: the run's epochs)", { min: 1, nullable: true }),
      int("steps_per_epoch", null, "optimizer steps per epoch (None: the run's, one per batch)", {
        min: 1,
        nullable: true,
      }),
      num("pct_start", 0.3, "the fraction of the cycle spent warming up", { min: 0, max: 1 }),
      {
        name: "anneal_strategy",
        type: "enum",
        options: ["cos", "linear"],
        default: "cos",
        help: "how the learning rate moves between phases",
      },
      {
        name: "cycle_momentum",
        type: "boolean",
        default: true,
        help: "cycle the momentum (Adam's beta1) inversely",
      },
      num("base_momentum", 0.85, "the lowest momentum", { min: 0, max: 1 }),
      num("max_momentum", 0.95, "the highest momentum", { min: 0, max: 1 }),
      num("div_factor", 25, "initial_lr = max_lr / div_factor", { min: 0, exclusiveMin: true }),
      num("final_div_factor", 1e4, "min_lr = initial_lr / final_div_factor", { min: 0, exclusiveMin: true }),
      {
        name: "three_phase",
        type: "boolean",
        default: false,
        help: "anneal back to initial_lr before the end",
      },
    ],
    required: ["max_lr"],
    floats: ["pct_start"],
    decl: { stepEvery: "batch" },
    // Today an epoch is one optimizer step.
    fromRun: { epochs: () => "args.epochs", steps_per_epoch: (c) => c.stepsPerEpoch },
    create(g, p, run) {
      return new OneCycleLR(g, {
        maxLr: p.num("max_lr"),
        totalSteps: p.numOrNull("total_steps"),
        epochs: p.numOrNull("epochs") ?? run.epochs,
        stepsPerEpoch: p.numOrNull("steps_per_epoch") ?? run.stepsPerEpoch,
        pctStart: p.num("pct_start"),
        annealStrategy: p.str("anneal_strategy") as "cos" | "linear",
        cycleMomentum: p.bool("cycle_momentum"),
        baseMomentum: p.num("base_momentum"),
        maxMomentum: p.num("max_momentum"),
        divFactor: p.num("div_factor"),
        finalDivFactor: p.num("final_div_factor"),
        threePhase: p.bool("three_phase"),
      });
    },
    check(p) {
      for (const n of ["total_steps", "epochs", "steps_per_epoch"]) positiveInt(p, n);
    },
  }),
  schedulerKind({
    type: "ReduceLROnPlateau",
    description: "Cuts the learning rate when the loss stops improving, like lr_scheduler.ReduceLROnPlateau",
    params: [
      {
        name: "monitor",
        type: "enum",
        options: ["loss", "val_loss"],
        default: "loss",
        help: "the epoch's number it watches, passed to scheduler.step(): the training loss, or the validation loss of a DataLoader with validation data (gradwire's, not a torch argument)",
      },
      {
        name: "mode",
        type: "enum",
        options: ["min", "max"],
        default: "min",
        help: "whether lower or higher is better",
      },
      num("factor", 0.1, "the factor the learning rate is multiplied by (below 1)", { min: 0, max: 1 }),
      int("patience", 10, "epochs without improvement before the cut"),
      num("threshold", 1e-4, "how much better counts as an improvement", { min: 0 }),
      {
        name: "threshold_mode",
        type: "enum",
        options: ["rel", "abs"],
        default: "rel",
        help: "threshold relative to the best value, or absolute",
      },
      int("cooldown", 0, "epochs to wait after a cut before counting again"),
      num("min_lr", 0, "the learning rate never goes below this", { min: 0 }),
      num("eps", 1e-8, "cuts smaller than this are skipped", { min: 0 }),
    ],
    required: [],
    own: ["monitor"],
    decl: { stepEvery: "epoch", monitorParam: "monitor" },
    create: (g, p) =>
      new ReduceLROnPlateau(g, {
        mode: p.str("mode") as "min" | "max",
        factor: p.num("factor"),
        patience: p.num("patience"),
        threshold: p.num("threshold"),
        thresholdMode: p.str("threshold_mode") as "rel" | "abs",
        cooldown: p.num("cooldown"),
        minLr: p.num("min_lr"),
        eps: p.num("eps"),
      }),
    check(p) {
      if (p.num("factor") >= 1) throw new InferError("param 'factor' must be below 1");
    },
  }),
];
