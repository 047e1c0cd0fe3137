/** What the run controls and status line show, whatever runs the training (the worker client). */
import type { Accessor } from "solid-js";
import type { DType } from "../../runtime/index.ts";

export type RunStatus = "idle" | "running" | "paused" | "done" | "stopped" | "error";

export interface BackendInfo {
  name: "cpu" | "webgpu";
  /** Why the CPU is used when WebGPU was wanted (no adapter, an op it cannot run...). */
  reason?: string;
  /** Auto's verdict, when auto chose the backend ("CPU: 5.1x faster than this software GPU on this graph"). */
  auto?: string;
  /** Auto is timing this graph on each backend. */
  measuring?: boolean;
}

export interface RunState {
  status: RunStatus;
  /** Epochs completed in this run. */
  epoch: number;
  /** The loss of the last completed epoch (computed before its step, as a PyTorch loop prints it). */
  loss?: number;
  lossDtype?: DType;
  epochsPerSec?: number;
  backend: BackendInfo;
  /** Why training stopped with an error (naming the node), or other news. */
  message?: string;
  nodeId?: string;
}

export interface RunController {
  state: Accessor<RunState>;
  run(): void;
  pause(): void;
  step(): void;
  stop(): void;
  reset(): void;
}
