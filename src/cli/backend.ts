/** Tell the user which backend runs, and why when it is not the one they asked for. */
import {
  type BackendChoice,
  type BackendName,
  type BackendRequest,
  resolveBackend,
} from "../engine/scheduler-backend.ts";
import type { Io } from "./io.ts";

/** Load and register the WebGPU backend (src/gpu) when it is asked for; a failure leaves the CPU to run. */
async function register(name: BackendRequest, io: Io): Promise<void> {
  if (name === "cpu") return;
  try {
    const gpu = await import("../gpu/backend.ts");
    gpu.registerWebGpuBackend();
  } catch (e) {
    io.stderr.write(
      `gradwire: the WebGPU backend could not be loaded (${e instanceof Error ? e.message : String(e)})\n`,
    );
  }
}

/** Eval always computes on the CPU (one pass needs no GPU); say so when another backend was asked for. */
export function noteEvalBackend(name: BackendRequest, io: Io): void {
  if (name === "webgpu")
    io.stderr.write(`gradwire: eval computes on the CPU; --backend ${name} applies to training\n`);
}

/** Load the WebGPU backend so that auto can measure it (auto decides when training starts). */
export async function prepareAuto(io: Io): Promise<void> {
  await register("auto", io);
}

/** Make the asked-for backend available; print why the CPU runs instead when it cannot be had. */
export async function prepareBackend(name: BackendName, io: Io): Promise<BackendChoice> {
  await register(name, io);
  const choice = await resolveBackend(name);
  if (choice.fallback) io.stderr.write(`gradwire: ${choice.fallback}\n`);
  return choice;
}
