// The optimizer specs themselves: each is complete (every name its update uses is declared, its per-step
// values and flags fill the uniform slot by name), and the optimizers' public state API saves, restores and
// shows what torch's state_dict holds.
import { describe, expect, it } from "vitest";
import { optimizerWgsl, stateNames, stepUniforms, uniformFields } from "../../src/gpu/optim.ts";
import {
  defaultHyper,
  mseLoss,
  ops as O,
  OPTIMIZER_SPECS,
  OPTIMIZERS,
  type Optimizer,
  type Tensor,
  tensor,
} from "../../src/runtime/index.ts";
import { namesIn } from "../../src/runtime/optim/spec.ts";

describe("every optimizer spec is complete", () => {
  for (const spec of OPTIMIZER_SPECS)
    it(spec.name, () => {
      const h = defaultHyper(spec);
      const { reads, writes, flags } = namesIn(spec.update);
      const locals = new Set(
        [...reads, ...writes].filter(
          (n) =>
            n !== "p" && n !== "g" && !spec.uniforms.includes(n) && !spec.buffers.some((b) => b.name === n),
        ),
      );
      // A name that is none of p, g, a buffer or a uniform must be a local the update declares.
      for (const n of locals) expect(JSON.stringify(spec.update), n).toContain(`"k":"let","name":"${n}"`);
      for (const f of flags) expect(spec.flags).toContain(f);
      for (const b of spec.buffers) if (b.usedIf) expect(spec.flags).toContain(b.usedIf);
      expect(Object.keys(spec.flagsOf(h, () => false, spec.scalars?.(h) ?? {})).sort()).toEqual(
        [...spec.flags].sort(),
      );
      expect(Object.keys(spec.values(h, spec.scalars?.(h) ?? {})).sort()).toEqual([...spec.uniforms].sort());
      expect(uniformFields(spec).length).toBeLessThanOrEqual(15);
      expect(OPTIMIZERS[spec.name as keyof typeof OPTIMIZERS]).toBeDefined();
    });
});

describe("the WebGPU step kernel reads its uniforms by name", () => {
  it("Adam's kernel declares the spec's names and its update reads them", () => {
    const wgsl = optimizerWgsl(
      {
        kind: "Adam",
        count: 4,
        paramOffset: 0,
        gradOffset: 4,
        stateOffsets: [8, 12, 16],
        guards: [],
        records: { base: 0, size: 0, header: null, flag: null, ranges: [] },
      },
      () => "",
    );
    for (const name of ["beta1", "neg_step_size", "bias_correction2_sqrt", "amsgrad", "record_slot"])
      expect(wgsl).toContain(`  ${name}: f32,`);
    expect(wgsl).toContain("H.neg_step_size");
    expect(wgsl).toContain("if (H.amsgrad != 0.0)");
    expect(wgsl).not.toMatch(/h\(\d+u\)/);
  });

  it("a step's uniforms are the CPU's values in float32, in the named order", () => {
    const spec = OPTIMIZER_SPECS.find((s) => s.name === "Adam")!;
    const h = { ...defaultHyper(spec), lr: 0.01, amsgrad: true };
    const state = { steps: 0, scalars: { step: 0 }, started: {} };
    const u = stepUniforms(spec, h, state);
    const at = (name: string) => uniformFields(spec).indexOf(name);
    expect(u[at("neg_step_size")]).toBe(Math.fround(-(0.01 / (1 - 0.9))));
    expect(u[at("amsgrad")]).toBe(1);
    expect(u[at("maximize")]).toBe(0);
    expect(state.scalars.step).toBe(1);
    expect(state.started).toEqual({ exp_avg: true, exp_avg_sq: true, max_exp_avg_sq: true });
    expect(stateNames("Adagrad", { initial_accumulator_value: 0.1 })).toEqual([
      { name: "sum", init: Math.fround(0.1) },
    ]);
  });
});

describe("optimizer state: save, restore, inspect", () => {
  const problem = () => {
    const w = tensor([0.5, -1.5, 2], { dtype: "float32", requiresGrad: true });
    const x = tensor([1, 2, 3], { dtype: "float32" });
    return { w, loss: () => mseLoss(O.mul(w, x), tensor([1, 0, -1], { dtype: "float32" })) };
  };
  const run = (opt: Optimizer, loss: () => Tensor, steps: number) => {
    for (let i = 0; i < steps; i++) {
      opt.zeroGrad();
      loss().backward();
      opt.step();
    }
  };

  it("shows torch's state keys, and nothing before the first step", () => {
    const { w, loss } = problem();
    const opt = new OPTIMIZERS.Adam([w], { lr: 0.1, amsgrad: true });
    expect(opt.stateOf(w)).toBeUndefined();
    run(opt, loss, 3);
    const s = opt.stateOf(w)!;
    expect(Object.keys(s).sort()).toEqual(["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]);
    expect(s.step).toBe(3);
    expect(opt.hyper).toMatchObject({ lr: 0.1, amsgrad: true, betas: [0.9, 0.999] });
  });

  it("a saved state continues bit for bit in another optimizer", () => {
    const a = problem();
    const optA = new OPTIMIZERS.Adam([a.w], { lr: 0.1 });
    run(optA, a.loss, 5);
    const saved = optA.stateDict();
    const values = a.w.data.slice();
    run(optA, a.loss, 5);

    const b = problem();
    b.w.data.set(values);
    const optB = new OPTIMIZERS.Adam([b.w], { lr: 0.5 });
    optB.loadStateDict(saved);
    expect(optB.hyper.lr).toBe(0.1);
    run(optB, b.loss, 5);
    expect([...b.w.data]).toEqual([...a.w.data]);
  });

  it("saved state is a copy: stepping on does not change it", () => {
    const { w, loss } = problem();
    const opt = new OPTIMIZERS.SGD([w], { lr: 0.1, momentum: 0.9 });
    run(opt, loss, 2);
    const saved = opt.stateDict();
    const buf = (saved.state[0]!.momentum_buffer as Float64Array).slice();
    run(opt, loss, 2);
    expect([...(saved.state[0]!.momentum_buffer as Float64Array)]).toEqual([...buf]);
  });

  it("refuses a state for another number of parameters, and a tensor it does not train", () => {
    const { w } = problem();
    const opt = new OPTIMIZERS.SGD([w]);
    expect(() => opt.loadStateDict({ hyper: opt.hyper, state: [] })).toThrow(/has 0 parameters/);
    const other = tensor([1], { dtype: "float32", requiresGrad: true });
    expect(() => opt.setStateOf(other, {})).toThrow(/not one of its parameters/);
  });
});
