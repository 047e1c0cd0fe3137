/** The status line: run state, epoch, loss (as PyTorch prints it), epochs per second, and what the graph needs. */
import { Show } from "solid-js";
import { formatCount } from "../values/summary.ts";
import { torchScalar } from "../values/torchFormat.ts";
import type { RunController } from "./types.ts";

export interface StatusLineProps {
  run: RunController;
  totalEpochs: () => number;
  errors: () => number;
  warnings: () => number;
  lastEdit: () => string;
  /** The graph's parameters, as torch counts them (0 when none, or before the values arrive). */
  paramTotal?: () => number;
  /** Show the node a message names. */
  onFocusNode?: (id: string) => void;
}

const STATUS_TEXT = {
  idle: "Ready",
  running: "Training",
  paused: "Paused",
  done: "Done",
  stopped: "Stopped",
  error: "Stopped with an error",
} as const;

export function StatusLine(props: StatusLineProps) {
  const s = () => props.run.state();
  const loss = () => {
    const l = s().loss;
    return l === undefined ? "–" : torchScalar(l, s().lossDtype ?? "float32");
  };
  return (
    <footer class="statusbar" data-status={s().status}>
      <span class={`status-dot ${s().status}`} />
      <span class="status-text" data-testid="run-status">
        {STATUS_TEXT[s().status]}
      </span>
      <span class="stat">
        epoch <b data-testid="epoch">{s().epoch}</b>
        <span class="dim"> / {props.totalEpochs()}</span>
      </span>
      <span class="stat" title={s().loss === undefined ? "" : `loss ${s().loss}`}>
        loss <b data-testid="loss-value">{loss()}</b>
        <Show when={s().loss !== undefined}>
          <span
            class="dim"
            data-testid="loss-label"
            title="Computed in the last epoch's forward pass, before its step (as a PyTorch loop prints it); the loss node shows the loss after that step"
          >
            {" "}
            before the last step
          </span>
        </Show>
      </span>
      <Show when={(props.paramTotal?.() ?? 0) > 0}>
        <span
          class="stat"
          title="Elements of every tensor that requires grad: sum(p.numel() for p in parameters)"
        >
          <b data-testid="param-total">{formatCount(props.paramTotal?.() ?? 0)}</b> parameters
        </span>
      </Show>
      <span class="stat">
        <b data-testid="epochs-per-sec">
          {s().epochsPerSec === undefined ? "–" : formatRate(s().epochsPerSec ?? 0)}
        </b>{" "}
        epochs/s
      </span>
      <Show when={s().message}>
        {(message) => {
          const cls = () => `status-message ${s().status === "error" ? "error" : ""}`;
          return (
            <Show
              when={props.onFocusNode ? s().nodeId : undefined}
              fallback={
                <span class={cls()} data-testid="run-message" title={message()}>
                  {message()}
                </span>
              }
            >
              {(nodeId) => (
                // The message names a node: clicking it selects that node and brings it into view.
                <button
                  type="button"
                  class={cls()}
                  data-testid="run-message"
                  title={message()}
                  onClick={() => props.onFocusNode?.(nodeId())}
                >
                  {message()}
                </button>
              )}
            </Show>
          );
        }}
      </Show>
      <span class="status-spacer" />
      <Show when={props.errors() + props.warnings() > 0}>
        <span class="stat problems">
          <Show when={props.errors() > 0}>
            <span class="err">
              {props.errors()} error{props.errors() === 1 ? "" : "s"}
            </span>
          </Show>
          <Show when={props.warnings() > 0}>
            <span class="warn">
              {props.warnings()} warning{props.warnings() === 1 ? "" : "s"}
            </span>
          </Show>
        </span>
      </Show>
      <Show when={props.lastEdit()}>
        <span class="stat dim last-edit" title={props.lastEdit()}>
          {props.lastEdit()}
        </span>
      </Show>
    </footer>
  );
}

export function formatRate(r: number): string {
  if (r >= 1000) return `${(r / 1000).toFixed(1)}k`;
  if (r >= 100) return r.toFixed(0);
  return r.toFixed(1);
}
