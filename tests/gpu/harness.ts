/**
 * GPU parity: run a parity case (the same CaseList format as the CPU suite) on WebGPU through Dawn and
 * SwiftShader, and compare its outputs and gradients with PyTorch's answer and with the CPU runtime's.
 * Everything the case computes runs on the GPU (no constant folding).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireDevice, type GpuDevice } from "../../src/gpu/device.ts";
import { evaluateOnGpu } from "../../src/gpu/evaluate.ts";
import type { Tensor } from "../../src/runtime/index.ts";
import {
  type Arg,
  type CallAnswer,
  type CaseList,
  expectTensor,
  type Flat,
  type Impl,
  mismatch,
  type ParityCase,
  type TensorSpec,
  torchBatch,
  toTensor,
} from "../helpers/torch.ts";

/** A device for the test file, released after it. */
export function useDevice(): () => GpuDevice {
  let dev: GpuDevice | null = null;
  beforeAll(async () => {
    dev = await acquireDevice();
  });
  afterAll(() => {
    dev?.destroy();
  });
  return () => {
    if (!dev) throw new Error("no device yet");
    return dev;
  };
}

/**
 * Parameters after hundreds of steps: 1e-4 relative to the tensor's scale. Element by element, a bias near
 * zero can differ by more relative to itself: the two float32 implementations round differently at every
 * step (the GPU's gradients agree with the CPU's to 5e-7 at a fixed point), and Adam's normalised steps let
 * that grow to about 2e-5 in absolute terms over this example's 300 epochs.
 */
export function paramTol(values: ArrayLike<number>): { rtol: number; atol: number } {
  let scale = 0;
  for (let i = 0; i < values.length; i++) scale = Math.max(scale, Math.abs(values[i]));
  return { rtol: 1e-4, atol: 1e-4 * scale };
}

/** float32 on the GPU: the 1e-5 relative (1e-6 absolute). */
export const F32 = { rtol: 1e-5, atol: 1e-6 };

function tensorArgs(args: Arg[], out: TensorSpec[]): void {
  for (const a of args) {
    if (a === null || typeof a !== "object") continue;
    if ("tensor" in a) out.push(a.tensor);
    else if ("list" in a) tensorArgs(a.list, out);
    else if ("tuple" in a) tensorArgs(a.tuple, out);
  }
}

function outputsOf(r: ReturnType<Impl>): Tensor[] {
  if (Array.isArray(r)) return r;
  if ("values" in r && "indices" in r) return [r.values, r.indices];
  return [r as Tensor];
}

function specsOf(c: ParityCase): TensorSpec[] {
  const specs: TensorSpec[] = [];
  tensorArgs(c.call.args, specs);
  tensorArgs(Object.values(c.call.kwargs ?? {}), specs);
  return specs;
}

/** The CPU runtime's outputs and gradients for the case, with the same upstream gradients as torch. */
function onCpu(c: ParityCase, ans: CallAnswer): { outputs: Tensor[]; grads: (Tensor | null)[] } {
  const inputs = specsOf(c).map(toTensor);
  const outputs = outputsOf(c.impl(...inputs));
  const diff = outputs.map((o, k) => [o, ans.grad_outputs[k]] as const).filter(([, g]) => g !== null);
  for (const [k, [o, g]] of diff.entries())
    if (g) o.backward(toTensor(g), { retainGraph: k < diff.length - 1 });
  return { outputs, grads: inputs.map((t) => t.grad) };
}

/** Run one case on the GPU and check it against torch and the CPU runtime. */
export async function checkGpuCase(dev: GpuDevice, c: ParityCase, answer: CallAnswer): Promise<void> {
  if ("error" in answer && answer.error !== undefined)
    throw new Error(`torch refused this case: ${answer.error}`);
  const inputs = specsOf(c).map(toTensor);
  const wrt = inputs.filter((t) => t.requiresGrad);
  const gradOutputs = answer.grad_outputs.map((g: Flat | null) => (g ? toTensor(g) : null));
  const gpu = await evaluateOnGpu(dev, () => outputsOf(c.impl(...inputs)), { wrt, gradOutputs, fold: false });
  const cpu = onCpu(c, answer);
  const tol = c.tol ?? F32;
  expect(gpu.outputs.length, "number of outputs").toBe(answer.outputs.length);
  gpu.outputs.forEach((o, k) => {
    expectTensor(o, answer.outputs[k], `output ${k} vs torch`, tol);
    expect(mismatch(o.data, cpu.outputs[k].data, tol), `output ${k} vs the CPU runtime`).toBeNull();
  });
  let w = 0;
  inputs.forEach((t, k) => {
    const g = t.requiresGrad ? gpu.grads[w++] : null;
    const expected = answer.grads[k];
    if (!t.requiresGrad) return;
    if (expected === null && g !== null) {
      // torch has no gradient here; the GPU's must then be all zeros (no path) or absent.
      expect(
        Array.from(g.data).every((v) => v === 0),
        `grad ${k}: torch has none`,
      ).toBe(true);
      return;
    }
    expectTensor(g, expected, `grad of tensor argument ${k} vs torch`, tol);
    const cg = cpu.grads[k];
    if (g && cg) expect(mismatch(g.data, cg.data, tol), `grad ${k} vs the CPU runtime`).toBeNull();
  });
}

/** One test per case, all answered by one PyTorch process, all run on one device. */
export function describeGpuParity(title: string, list: CaseList, device: () => GpuDevice): void {
  describe(title, () => {
    let answers: ReturnType<typeof torchBatch> = [];
    beforeAll(() => {
      answers = torchBatch(list.cases.map((c) => c.call));
    });
    for (const [i, c] of list.cases.entries())
      it(c.name, async () => {
        await checkGpuCase(device(), c, answers[i] as CallAnswer);
      });
  });
}

export interface CpuCase {
  name: string;
  inputs: TensorSpec[];
  impl: Impl;
  tol?: { rtol: number; atol: number };
}

/** Cases with no single torch function (compositions): the GPU against the CPU runtime, values and grads. */
export function describeGpuVsCpu(title: string, cases: CpuCase[], device: () => GpuDevice): void {
  describe(title, () => {
    for (const c of cases)
      it(c.name, async () => {
        const seedOf = (o: Tensor, k: number) =>
          toTensor({
            data: Array.from({ length: o.numel }, (_, i) => Math.fround(0.5 + ((i * 7 + k * 3) % 5) / 4)),
            shape: [...o.shape],
            dtype: o.dtype,
          });
        const cpuIn = c.inputs.map(toTensor);
        const cpuOut = outputsOf(c.impl(...cpuIn));
        const seeds = cpuOut.map((o, k) => (o.requiresGrad ? seedOf(o, k) : null));
        const diff = cpuOut.map((o, k) => [o, seeds[k]] as const).filter(([, g]) => g !== null);
        for (const [k, [o, g]] of diff.entries()) if (g) o.backward(g, { retainGraph: k < diff.length - 1 });
        const gpuIn = c.inputs.map(toTensor);
        const wrt = gpuIn.filter((t) => t.requiresGrad);
        const gpu = await evaluateOnGpu(device(), () => outputsOf(c.impl(...gpuIn)), {
          wrt,
          gradOutputs: seeds,
          fold: false,
        });
        const tol = c.tol ?? F32;
        gpu.outputs.forEach((o, k) => {
          expect(o.dtype).toBe(cpuOut[k].dtype);
          expect([...o.shape]).toEqual([...cpuOut[k].shape]);
          expect(mismatch(o.data, cpuOut[k].data, tol), `output ${k}`).toBeNull();
        });
        let w = 0;
        cpuIn.forEach((t, k) => {
          if (!t.requiresGrad) return;
          const g = gpu.grads[w++];
          if (!t.grad) {
            expect(
              g === null || Array.from(g.data).every((v) => v === 0),
              `grad ${k}: the CPU has none`,
            ).toBe(true);
            return;
          }
          expect(g, `grad ${k}`).not.toBeNull();
          expect(mismatch((g as Tensor).data, t.grad.data, tol), `grad ${k}`).toBeNull();
        });
      });
  });
}
