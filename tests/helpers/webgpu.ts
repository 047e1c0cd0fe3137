/**
 * The real WebGPU backend (Dawn on SwiftShader) registered as "webgpu" for the tests of a file, on a device
 * acquired when first asked for (again after a loss) and destroyed when the file's tests end.
 */
import { afterAll, beforeAll } from "vitest";
import { registerBackend } from "../../src/engine/scheduler-backend.ts";
import { webgpuBackend } from "../../src/gpu/backend.ts";
import { acquireDevice, type GpuDevice } from "../../src/gpu/device.ts";

export function useWebGpuBackend(): void {
  let device: GpuDevice | null = null;
  beforeAll(() => {
    registerBackend("webgpu", async () => {
      if (!device || device.isLost) device = await acquireDevice();
      return webgpuBackend(device);
    });
  });
  afterAll(() => device?.destroy());
}
