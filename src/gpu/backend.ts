/**
 * The WebGPU backend as the scheduler sees it. Importing this module registers it under "webgpu"; the factory
 * acquires the device (once, shared), so a missing adapter shows up as the reason the CPU runs instead.
 */
import {
  type AdapterInfo,
  type Backend,
  BackendUnavailable,
  registerBackend,
} from "../engine/scheduler-backend.ts";
import { acquireDevice, type DeviceOptions, type GpuDevice } from "./device.ts";
import { isGpuError } from "./errors.ts";
import { compileEvaluation } from "./evaluate.ts";
import { type GpuTrainingOptions, GpuTrainingSession } from "./session.ts";

let shared: Promise<GpuDevice> | null = null;

/** The process's device, acquired on first use and again after a loss. */
export async function sharedDevice(opts: DeviceOptions = {}): Promise<GpuDevice> {
  if (shared) {
    const dev = await shared.catch(() => null);
    if (dev && !dev.isLost) return dev;
  }
  shared = acquireDevice(opts);
  shared.catch(() => {
    shared = null;
  });
  return shared;
}

/** A backend on a given device (tests pass their own), or on the shared one. */
export function webgpuBackend(
  device?: GpuDevice,
  opts: GpuTrainingOptions = {},
  adapter?: AdapterInfo,
): Backend {
  return {
    name: "webgpu",
    adapter: adapter ?? (device ? { description: device.description, software: device.software } : undefined),
    async startTraining(program, carried) {
      try {
        const dev = device ?? (await sharedDevice());
        return await GpuTrainingSession.start(dev, program, opts, carried);
      } catch (e) {
        if (isGpuError(e)) throw new BackendUnavailable(e.message);
        throw e;
      }
    },
    async evaluator(forward, leaves) {
      try {
        return await compileEvaluation(device ?? (await sharedDevice()), forward, leaves);
      } catch (e) {
        if (isGpuError(e)) throw new BackendUnavailable(e.message);
        throw e;
      }
    },
  };
}

/** Register the backend with the scheduler; the factory fails (so the CPU runs) when there is no device. */
export function registerWebGpuBackend(opts: GpuTrainingOptions = {}): void {
  registerBackend("webgpu", async () => {
    const dev = await sharedDevice();
    return webgpuBackend(undefined, opts, { description: dev.description, software: dev.software });
  });
}
