/**
 * The WGSL transcendentals generated from the float32 breakdowns (runtime/simd/breakdown.ts), run on the
 * device over many inputs: gw_tanh equals the CPU's tanhF32 bit for bit, and gw_exp is within 1 ulp of the
 * CPU's float32 exp (Math.exp rounded once), where SwiftShader's exp builtin is up to 63 ulps off.
 */
import { describe, expect, it } from "vitest";
import { preludeFor } from "../../src/gpu/wgsl.ts";
import { tanhF32 } from "../../src/runtime/simd/breakdown.ts";
import { useDevice } from "./harness.ts";

const device = useDevice();

/** `expr` (reading `x`) on the device, once per input. */
async function onDevice(expr: string, xs: Float32Array): Promise<Float32Array> {
  const dev = device().device;
  const body = `@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.x + g.y * 65535u * 64u;
  if (i >= arrayLength(&X)) { return; }
  let x = X[i];
  Y[i] = ${expr};
}`;
  const module = dev.createShaderModule({ code: `${preludeFor(body)}\n${body}` });
  const pipeline = dev.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const size = xs.byteLength;
  const bx = dev.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const by = dev.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const back = dev.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  dev.queue.writeBuffer(bx, 0, xs);
  const bind = dev.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: bx } },
      { binding: 1, resource: { buffer: by } },
    ],
  });
  const enc = dev.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  const groups = Math.ceil(xs.length / 64);
  pass.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
  pass.end();
  enc.copyBufferToBuffer(by, 0, back, 0, size);
  dev.queue.submit([enc.finish()]);
  await back.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(back.getMappedRange().slice(0));
  back.unmap();
  for (const b of [bx, by, back]) b.destroy();
  return out;
}

const bits = new Uint32Array(1);
const asF32 = new Float32Array(bits.buffer);
/** Float32 values as integers in order, so neighbours differ by 1. */
function ordinal(v: number): number {
  asF32[0] = v;
  return bits[0] & 0x80000000 ? -(bits[0] & 0x7fffffff) : bits[0];
}
function maxUlps(got: Float32Array, want: Float32Array): number {
  let max = 0;
  for (let i = 0; i < got.length; i++)
    if (!(Number.isNaN(got[i]) && Number.isNaN(want[i])))
      max = Math.max(max, Math.abs(ordinal(got[i]) - ordinal(want[i])));
  return max;
}
function grid(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / n);
}

describe("WGSL transcendentals from the float32 breakdowns", () => {
  it("gw_tanh is the CPU's tanhF32 bit for bit", async () => {
    const xs = grid(-12, 12, 1 << 18);
    const got = await onDevice("gw_tanh(x)", xs);
    expect(maxUlps(got, Float32Array.from(xs, tanhF32))).toBe(0);
    // Each piece's edge, where the select form's choice must be the scalar form's branch.
    const edges = [Number.NaN, 0, -0, Infinity, -Infinity, 1e30, -1e30, 10, -10, 9.999999, 0.55, -0.55];
    const special = Float32Array.from(edges.flatMap((v) => [v, Math.fround(v * (1 + 2 ** -23))]));
    const onGpu = Array.from(await onDevice("gw_tanh(x)", special));
    // toEqual tells -0 from 0 (Object.is), so the sign of zero is checked too.
    expect(onGpu).toEqual(Array.from(special, tanhF32));
  });

  it("gw_exp is within 1 ulp of the CPU's float32 exp, overflow and underflow included", async () => {
    // Below ln(2^-126) the result is subnormal, which devices may flush to zero.
    const xs = grid(-87, 88.72, 1 << 18);
    const got = await onDevice("gw_exp(x)", xs);
    expect(maxUlps(got, Float32Array.from(xs, Math.exp))).toBeLessThanOrEqual(1);
    const special = Float32Array.from([Number.NaN, 0, -0, 1e-30, 88.72283935546875, 1000, -104, -1000]);
    const want = [Number.NaN, 1, 1, 1, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0, 0];
    expect(Array.from(await onDevice("gw_exp(x)", special))).toEqual(want);
  });
});
