/**
 * Run controls in the toolbar: run, pause, step one epoch, stop, reset, the number of epochs, and which
 * backend trains (WebGPU or CPU, with the reason for falling back).
 */
import { createEffect, createSignal, For, onCleanup, onMount, Show } from "solid-js";
import type { BackendRequest } from "../../engine/scheduler-backend.ts";
import { Icon, IconButton } from "../icons.tsx";
import type { BackendInfo, RunController } from "./types.ts";

/** The chip's words: what runs, and why (auto's verdict, or why WebGPU was not had). */
export function backendTitle(b: BackendInfo): string {
  if (b.measuring) return "Auto: timing a few epochs of this graph on the CPU and on WebGPU";
  if (b.reason) return `CPU: ${b.reason}`;
  if (b.auto) return `Auto chose ${b.auto}`;
  return b.name === "webgpu" ? "Training on the GPU with WebGPU" : "Training on the CPU";
}

export interface RunControlsProps {
  run: RunController;
  /** The backend the user asks for; the state says which one runs. */
  wantedBackend: () => BackendRequest;
  setBackend: (b: BackendRequest) => void;
  epochs: () => number;
  setEpochs: (n: number) => void;
  /** Why the graph cannot train (a validation error), or null. */
  blocked: () => string | null;
}

const BACKENDS = [
  {
    name: "auto",
    label: "Auto",
    help: "the faster of the two on this graph, timed on it before the run (the default)",
  },
  {
    name: "webgpu",
    label: "WebGPU",
    help: "train on the GPU; falls back to the CPU, saying why, when it cannot",
  },
  { name: "cpu", label: "CPU", help: "train with the CPU runtime in the worker" },
] as const;

export function RunControls(props: RunControlsProps) {
  const [backendOpen, setBackendOpen] = createSignal(false);
  let backendWrap!: HTMLDivElement;
  onMount(() => {
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent ? e.key === "Escape" : !backendWrap.contains(e.target as Node))
        setBackendOpen(false);
    };
    window.addEventListener("pointerdown", close);
    window.addEventListener("keydown", close);
    onCleanup(() => {
      window.removeEventListener("pointerdown", close);
      window.removeEventListener("keydown", close);
    });
  });
  const s = () => props.run.state();
  const running = () => s().status === "running";
  const [draft, setDraft] = createSignal(String(props.epochs()));
  const [bad, setBad] = createSignal(false);
  createEffect(() => setDraft(String(props.epochs())));
  const blockedTitle = (what: string) => (props.blocked() ? `${what}: ${props.blocked()}` : what);

  return (
    <div class="toolbar-group run-controls">
      <button
        type="button"
        class="btn primary run-btn"
        data-testid="run"
        title={blockedTitle(s().status === "paused" ? "Resume (Ctrl/⌘ Enter)" : "Run (Ctrl/⌘ Enter)")}
        disabled={running() || !!props.blocked()}
        onClick={() => props.run.run()}
      >
        <Icon name="run" /> {s().status === "paused" ? "Resume" : "Run"}
      </button>
      <IconButton
        icon="pause"
        testid="pause"
        title="Pause (Ctrl/⌘ Enter)"
        disabled={!running()}
        onClick={() => props.run.pause()}
      />
      <IconButton
        icon="step"
        testid="step"
        title={blockedTitle("Train one epoch (Ctrl/⌘ →)")}
        disabled={running() || !!props.blocked()}
        onClick={() => props.run.step()}
      />
      <IconButton
        icon="stop"
        testid="stop"
        title="Stop (keeps the trained values)"
        disabled={!(running() || s().status === "paused")}
        onClick={() => props.run.stop()}
      />
      <IconButton
        icon="reset"
        testid="reset"
        title="Reset: parameters back to their initial values, history cleared"
        onClick={() => props.run.reset()}
      />
      <label class="epochs" classList={{ invalid: bad() }} title="Epochs per run">
        <input
          type="text"
          inputMode="numeric"
          data-testid="epochs"
          value={draft()}
          onInput={(e) => {
            const t = e.currentTarget.value;
            setDraft(t);
            const n = Number(t);
            const ok = /^\d+$/.test(t.trim()) && n >= 1 && n <= 1_000_000;
            setBad(!ok);
            if (ok) props.setEpochs(n);
          }}
          onBlur={() => {
            setBad(false);
            setDraft(String(props.epochs()));
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") e.currentTarget.blur();
          }}
        />
        <span>epochs</span>
      </label>
      <div class="menu-wrap" ref={backendWrap}>
        <button
          type="button"
          class={`backend-chip ${s().backend.name}`}
          data-testid="backend"
          aria-haspopup="menu"
          aria-expanded={backendOpen()}
          title={backendTitle(s().backend)}
          onClick={() => setBackendOpen((o) => !o)}
        >
          <Icon name={s().backend.name === "webgpu" ? "gpu" : "cpu"} />
          {s().backend.measuring ? "Measuring…" : s().backend.name === "webgpu" ? "WebGPU" : "CPU"}
          <Show when={s().backend.reason}>
            <span class="backend-why">fallback</span>
          </Show>
          <Show when={!s().backend.reason && props.wantedBackend() === "auto"}>
            <span class="backend-auto">auto</span>
          </Show>
        </button>
        <Show when={backendOpen()}>
          <div class="menu backend-menu" role="menu">
            <For each={BACKENDS}>
              {(b) => (
                <button
                  type="button"
                  role="menuitemradio"
                  aria-checked={props.wantedBackend() === b.name}
                  class="menu-item"
                  classList={{ checked: props.wantedBackend() === b.name }}
                  data-testid={`backend-${b.name}`}
                  onClick={() => {
                    props.setBackend(b.name);
                    setBackendOpen(false);
                  }}
                >
                  <span class="menu-item-title">
                    {props.wantedBackend() === b.name ? "● " : "○ "}
                    {b.label}
                  </span>
                  <span class="menu-item-desc">{b.help}</span>
                </button>
              )}
            </For>
            <Show when={s().backend.reason}>
              <div class="menu-note">Running on the CPU: {s().backend.reason}</div>
            </Show>
            <Show when={!s().backend.reason && s().backend.auto}>
              <div class="menu-note" data-testid="backend-auto-reason">
                {s().backend.auto}
              </div>
            </Show>
          </div>
        </Show>
      </div>
    </div>
  );
}
