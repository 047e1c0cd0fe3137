/**
 * A compiled program on a device: the arena buffer, one pipeline per distinct pass, the per-epoch uniform
 * slots, and a pool of staging buffers for reading results back.
 *
 * A batch of epochs is one command buffer with one compute pass (every kernel of every epoch, in order), then
 * copies of the records and the end state into a staging buffer that is mapped asynchronously: nothing inside
 * the batch waits for the host.
 */
import type { CompiledProgram, Region } from "./compile.ts";
import { envFlag, type GpuDevice } from "./device.ts";
import { GpuError, nodeRef } from "./errors.ts";

/** Dynamic uniform offsets must be multiples of 256 bytes. */
const UNIFORM_STRIDE = 256;

export class GpuProgram {
  private staging: GPUBuffer[] = [];
  private destroyed = false;

  private constructor(
    readonly dev: GpuDevice,
    readonly prog: CompiledProgram,
    readonly arena: GPUBuffer,
    private pipelines: GPUComputePipeline[],
    private group0: GPUBindGroup,
    private uniforms: GPUBuffer,
    private group1: GPUBindGroup,
    readonly maxBatch: number,
  ) {}

  static async create(dev: GpuDevice, prog: CompiledProgram, maxBatch: number): Promise<GpuProgram> {
    dev.check();
    const device = dev.device;
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const bytes = prog.size * 4;
    if (bytes > limit) {
      const { limitMessage } = await import("./compile.ts");
      throw limitMessage(prog, limit);
    }
    const arena = await guarded(dev, "limits", prog.largest.node?.scope ?? null, () =>
      device.createBuffer({
        size: Math.ceil(bytes / 4) * 4,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        label: "gradwire arena",
      }),
    );
    const uniformPasses = prog.passes.filter((p) => p.uniforms).length;
    const uniforms = device.createBuffer({
      size: UNIFORM_STRIDE * Math.max(1, maxBatch * uniformPasses),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: "gradwire step uniforms",
    });
    const layout0 = device.createBindGroupLayout({
      entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "storage" } }],
    });
    const layout1 = device.createBindGroupLayout({
      entries: [
        {
          binding: 0,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: 64 },
        },
      ],
    });
    const layout = device.createPipelineLayout({ bindGroupLayouts: [layout0, layout1] });
    const group0 = device.createBindGroup({
      layout: layout0,
      entries: [{ binding: 0, resource: { buffer: arena } }],
    });
    const group1 = device.createBindGroup({
      layout: layout1,
      entries: [{ binding: 0, resource: { buffer: uniforms, offset: 0, size: 64 } }],
    });
    const cache = new Map<string, Promise<GPUComputePipeline>>();
    const pipelines = await Promise.all(
      prog.passes.map((p) => {
        let hit = cache.get(p.wgsl);
        if (!hit) {
          hit = compilePipeline(dev, layout, p.wgsl, p.scopes);
          cache.set(p.wgsl, hit);
        }
        return hit;
      }),
    );
    const gp = new GpuProgram(dev, prog, arena, pipelines, group0, uniforms, group1, maxBatch);
    for (const c of prog.constants) gp.write(c.offset, c.data);
    return gp;
  }

  /** Write f32 (or i32 bit patterns) at an element offset. */
  write(offset: number, data: Float32Array | Int32Array): void {
    this.dev.check();
    if (data.length === 0) return;
    this.dev.device.queue.writeBuffer(this.arena, offset * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Passes that read a uniform slot (the optimizer steps), each with its own slot per epoch. */
  get uniformPasses(): number {
    return this.prog.passes.filter((p) => p.uniforms).length;
  }

  /**
   * Run one epoch per entry of `epochs` (each entry holding one uniform slot per optimizer step, in pass order),
   * then read back `regions`. With no epochs, runs the passes without uniforms once (an evaluation); with
   * `computeless`, only reads. Resolves with the records of each epoch and the regions' values.
   */
  run(
    epochs: Float32Array[][],
    regions: Region[],
    computeless = false,
  ): Promise<{ records: Float32Array; regions: Float32Array[] }> {
    this.dev.check();
    if (this.destroyed) throw new GpuError("device-lost", "the GPU program was disposed");
    const device = this.dev.device;
    const U = this.uniformPasses;
    if (epochs.length > this.maxBatch) throw new Error("internal: batch larger than the uniform slots");
    if (epochs.length > 0 && U > 0) {
      const data = new Float32Array((UNIFORM_STRIDE / 4) * U * epochs.length);
      epochs.forEach((slots, e) => {
        slots.forEach((u, j) => {
          data.set(u, (UNIFORM_STRIDE / 4) * (e * U + j));
        });
      });
      device.queue.writeBuffer(this.uniforms, 0, data);
    }
    const rec = this.prog.records;
    const recFloats = rec && epochs.length > 0 ? rec.size * epochs.length : 0;
    const total = recFloats + regions.reduce((s, r) => s + r.size, 0);
    const staging = this.takeStaging(Math.max(4, total * 4));
    device.pushErrorScope("validation");
    const encoder = device.createCommandEncoder({ label: "gradwire batch" });
    // The optimizer steps only ever set an epoch's bad-gradient flag: it starts at 0.
    if (rec && recFloats > 0 && !computeless) encoder.clearBuffer(this.arena, rec.base * 4, recFloats * 4);
    if (!computeless) {
      const pass = encoder.beginComputePass();
      pass.setBindGroup(0, this.group0);
      pass.setBindGroup(1, this.group1, [0]);
      for (let e = 0; e < Math.max(1, epochs.length); e++) {
        let j = 0;
        this.prog.passes.forEach((p, i) => {
          if (p.uniforms) {
            if (epochs.length === 0) return;
            pass.setBindGroup(1, this.group1, [(e * U + j++) * UNIFORM_STRIDE]);
          }
          pass.setPipeline(this.pipelines[i]);
          pass.dispatchWorkgroups(...p.groups);
        });
      }
      pass.end();
    }
    let at = 0;
    if (rec && recFloats > 0) {
      encoder.copyBufferToBuffer(this.arena, rec.base * 4, staging, 0, recFloats * 4);
      at = recFloats;
    }
    for (const r of regions) {
      if (r.size > 0) encoder.copyBufferToBuffer(this.arena, r.offset * 4, staging, at * 4, r.size * 4);
      at += r.size;
    }
    device.queue.submit([encoder.finish()]);
    const scope = device.popErrorScope();
    return this.read(staging, scope, recFloats, regions);
  }

  private async read(
    staging: GPUBuffer,
    scope: Promise<GPUError | null>,
    recFloats: number,
    regions: Region[],
  ): Promise<{ records: Float32Array; regions: Float32Array[] }> {
    let off = () => {};
    const lost = new Promise<never>((_, reject) => {
      const fail = (reason: string) =>
        reject(new GpuError("device-lost", `the WebGPU device was lost during training (${reason})`));
      off = this.dev.onLost(fail);
      if (this.dev.lostReason !== null) fail(this.dev.lostReason);
    });
    lost.catch(() => {});
    try {
      const err = await Promise.race([scope, lost]);
      if (err) throw new GpuError("shader", `WebGPU rejected a training batch: ${err.message}`);
      await Promise.race([staging.mapAsync(GPUMapMode.READ), lost]);
    } catch (e) {
      if (e instanceof GpuError) throw e;
      this.dev.check();
      throw new GpuError(
        "device-lost",
        `reading results from the GPU failed (${e instanceof Error ? e.message : String(e)})`,
      );
    } finally {
      off();
    }
    const all = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    this.staging.push(staging);
    const records = all.subarray(0, recFloats);
    const out: Float32Array[] = [];
    let at = recFloats;
    for (const r of regions) {
      out.push(all.subarray(at, at + r.size));
      at += r.size;
    }
    return { records, regions: out };
  }

  private takeStaging(bytes: number): GPUBuffer {
    const size = Math.ceil(bytes / 4) * 4;
    const i = this.staging.findIndex((b) => b.size >= size && b.size <= size * 4);
    if (i >= 0) return this.staging.splice(i, 1)[0];
    return this.dev.device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      label: "gradwire staging",
    });
  }

  dispose(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.dev.isLost) return;
    this.arena.destroy();
    this.uniforms.destroy();
    for (const s of this.staging) s.destroy();
    this.staging = [];
  }
}

/** Run `make` inside error scopes so allocation and validation failures become GpuErrors. */
async function guarded<T>(
  dev: GpuDevice,
  kind: "limits" | "shader",
  node: string | null,
  make: () => T,
): Promise<T> {
  const device = dev.device;
  device.pushErrorScope("out-of-memory");
  device.pushErrorScope("validation");
  const out = make();
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  const err = oom ?? validation;
  if (err)
    throw new GpuError(
      kind,
      `${nodeRef(node)}: the GPU could not ${kind === "limits" ? "allocate memory" : "build a kernel"} (${err.message})`,
      node,
    );
  return out;
}

async function compilePipeline(
  dev: GpuDevice,
  layout: GPUPipelineLayout,
  code: string,
  scopes: string[],
): Promise<GPUComputePipeline> {
  const device = dev.device;
  const node = scopes[0] ?? null;
  const where = scopes.length ? scopes.map((s) => `'${s}'`).join(", ") : "the graph";
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code, label: `gradwire kernel for ${where}` });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === "error");
  let pipeline: GPUComputePipeline | null = null;
  let failure: string | null = null;
  try {
    pipeline = await device.createComputePipelineAsync({ layout, compute: { module, entryPoint: "main" } });
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
  }
  const err = await device.popErrorScope();
  if (errors.length || failure || err || !pipeline) {
    dev.check(node);
    // GRADWIRE_GPU_DUMP=1 prints the rejected kernel, for whoever debugs the code generator.
    if (envFlag("GRADWIRE_GPU_DUMP")) console.error(code);
    const first = errors[0];
    const detail = first
      ? `line ${first.lineNum}: ${first.message}`
      : (failure ?? err?.message ?? "unknown error");
    throw new GpuError(
      "shader",
      `the WebGPU kernel generated for node${scopes.length > 1 ? "s" : ""} ${where} failed validation: ${detail}`,
      node,
    );
  }
  return pipeline;
}
