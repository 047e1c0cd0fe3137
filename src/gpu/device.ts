/**
 * Device acquisition: the only module that knows where WebGPU comes from. In a browser (page or Web Worker) it
 * is `navigator.gpu`; in Node it is the npm package `webgpu` (Dawn), loaded by a dynamic import whose name the
 * bundler cannot see, so the browser build never includes it.
 */
import { GpuError } from "./errors.ts";

export interface DeviceOptions {
  /**
   * "adapter" asks for the adapter's largest buffer limits (big graphs fit); "default" keeps WebGPU's default
   * limits, which every device grants (128 MiB per storage binding).
   */
  limits?: "adapter" | "default";
  /** Use this WebGPU entry point instead of finding one (a second Dawn instance, a worker's navigator.gpu). */
  gpu?: GPU;
}

/** A device and what the backend needs to know about it. */
export class GpuDevice {
  /** Set once the device is lost; every later use fails with this reason. */
  lostReason: string | null = null;
  private lostListeners = new Set<(reason: string) => void>();

  constructor(
    readonly device: GPUDevice,
    readonly description: string,
    /** A software adapter (SwiftShader, llvmpipe, WARP...): WebGPU computed on the CPU's own cores. */
    readonly software = false,
  ) {
    device.lost.then((info) => {
      this.lostReason = info.message || info.reason || "unknown reason";
      for (const l of this.lostListeners) l(this.lostReason);
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  get isLost(): boolean {
    return this.lostReason !== null;
  }

  onLost(listener: (reason: string) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** Throws the device-lost fault if the device is gone. */
  check(node: string | null = null): void {
    if (this.lostReason !== null)
      throw new GpuError("device-lost", `the WebGPU device was lost (${this.lostReason})`, node);
  }

  destroy(): void {
    this.device.destroy();
  }
}

interface NodeWebGpuModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

let nodeGpu: GPU | null = null;
let nodeModule: NodeWebGpuModule | null = null;

/** Debian's chromium ships SwiftShader's Vulkan driver here (a software GPU that runs WebGPU on the CPU). */
const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

/** A debugging switch from the environment (Node only; always off in a browser). */
export function envFlag(name: string): boolean {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return Boolean(p?.env?.[name]);
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string";
}

async function loadNodeGpu(): Promise<GPU> {
  if (nodeGpu) return nodeGpu;
  // A variable specifier keeps bundlers from following it into the browser build.
  const name = "webgpu";
  let mod: NodeWebGpuModule;
  try {
    mod = (await import(/* @vite-ignore */ name)) as NodeWebGpuModule;
  } catch (e) {
    throw new GpuError(
      "unavailable",
      `WebGPU is not available in Node: the npm package 'webgpu' could not be loaded (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  // GPUBufferUsage, GPUMapMode and friends are globals in browsers; Dawn's Node build exports them instead.
  for (const [k, v] of Object.entries(mod.globals))
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  nodeModule = mod;
  // With no Vulkan driver installed at all, the first instance would only print the loader's warnings: go
  // straight to the software one.
  if (!(await hasVulkanDriver())) await useSwiftShader();
  nodeGpu = mod.create([]);
  return nodeGpu;
}

const ICD_DIRS = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"];

/** Whether the Vulkan loader has a driver to find: one named by the environment or installed in its folders. */
async function hasVulkanDriver(): Promise<boolean> {
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.VK_ADD_DRIVER_FILES) return true;
  const fsName = "node:fs";
  const fs = (await import(/* @vite-ignore */ fsName)) as { readdirSync(p: string): string[] };
  return ICD_DIRS.some((d) => {
    try {
      return fs.readdirSync(d).some((f) => f.endsWith(".json"));
    } catch {
      return false;
    }
  });
}

/** Point the Vulkan loader at SwiftShader's driver when Debian's chromium provides it; false when it does not. */
async function useSwiftShader(): Promise<boolean> {
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
  if (!env) return false;
  const fsName = "node:fs";
  const fs = (await import(/* @vite-ignore */ fsName)) as { existsSync(p: string): boolean };
  if (!fs.existsSync(SWIFTSHADER_ICD)) return false;
  env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return true;
}

/**
 * In Node with no Vulkan driver chosen (VK_ICD_FILENAMES unset) and no adapter found: a second Dawn instance
 * on SwiftShader's driver, when Debian's chromium provides it. Null when there is nothing to try.
 */
async function softwareGpu(): Promise<GPU | null> {
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
  if (!isNode() || !nodeModule || !env || env.VK_ICD_FILENAMES) return null;
  if (!(await useSwiftShader())) return null;
  nodeGpu = nodeModule.create([]);
  return nodeGpu;
}

/** The WebGPU entry point of this environment, or null when there is none. */
export async function findGpu(): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (isNode()) return loadNodeGpu();
  return null;
}

const WANTED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxStorageBuffersPerShaderStage",
] as const;

/** Acquire a device, or fail with a clear "unavailable"/"adapter" fault. */
export async function acquireDevice(opts: DeviceOptions = {}): Promise<GpuDevice> {
  const gpu = opts.gpu ?? (await findGpu());
  if (!gpu)
    throw new GpuError(
      "unavailable",
      "WebGPU is not available here (no navigator.gpu): use a browser with WebGPU enabled, or the CPU backend",
    );
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    const software = adapter || opts.gpu ? null : await softwareGpu();
    if (software) adapter = await software.requestAdapter();
  } catch (e) {
    throw new GpuError(
      "adapter",
      `the WebGPU adapter request failed (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (!adapter)
    throw new GpuError(
      "unavailable",
      "no WebGPU adapter was found (no GPU, or its driver is missing or blocked): training runs on the CPU",
    );
  const requiredLimits: Record<string, number> = {};
  if ((opts.limits ?? "adapter") === "adapter")
    for (const k of WANTED_LIMITS) requiredLimits[k] = adapter.limits[k];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch (e) {
    throw new GpuError(
      "adapter",
      `the WebGPU adapter would not create a device (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const info = adapter.info;
  const description =
    [info?.vendor, info?.architecture, info?.description].filter((s) => s && s.length > 0).join(" ") ||
    "WebGPU adapter";
  return new GpuDevice(device, description, isSoftwareAdapter(info, description));
}

/** Software renderers by the adapter's own flag or, where a browser does not set it, by their names. */
export function isSoftwareAdapter(info: Partial<GPUAdapterInfo> | undefined, description: string): boolean {
  if (info?.isFallbackAdapter) return true;
  return /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render driver|microsoft basic/i.test(
    description,
  );
}
