/**
 * A node on the canvas: its PyTorch name, input ports on the left and outputs on the right (handle id = port
 * name), key params inline, a live preview of its value and, once a backward pass ran, of its gradient, and the
 * validator's messages about it.
 */
import { Handle, type NodeProps } from "@dschz/solid-flow";
import { createMemo, For, Index, Show } from "solid-js";
import { instanceModule, isInstance, moduleById } from "../../graph/modules.ts";
import {
  type OutputDecl,
  outputsOf,
  type ParamDecl,
  type ParamValue,
  type PortDecl,
} from "../../nodes/types.ts";
import { groupOf } from "../palette/search.ts";
import { formatCount, inlineNumbers } from "../values/summary.ts";
import type { ValueLike } from "../values/torchFormat.ts";
import { ValuePreview } from "../values/ValuePreview.tsx";
import { useCanvas } from "./context.ts";

/** A param value as Python would write it, kept short for the node's face. */
export function pyLiteral(v: ParamValue, max = 18): string {
  const s =
    v === null
      ? "None"
      : typeof v === "boolean"
        ? v
          ? "True"
          : "False"
        : typeof v === "string"
          ? `'${v}'`
          : Array.isArray(v)
            ? `[${v.map((x) => pyLiteral(x, max)).join(", ")}]`
            : String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** On the node itself, "node 'x' (type)" is redundant: the message sits on that node. */
export function shortMessage(message: string): string {
  const m = /^node '[^']*' \([^)]*\)(.*)$/s.exec(message);
  if (!m) return message;
  const rest = m[1];
  const port = /^, input '([^']*)': (.*)$/s.exec(rest);
  if (port) return `${port[1]}: ${port[2]}`;
  if (rest.startsWith(", ")) return rest.slice(2);
  if (rest.startsWith(": ")) return rest.slice(2);
  if (rest.startsWith(" is ")) return `This node${rest}`;
  return rest.trim();
}

const numbersOf = (v: ValueLike | undefined) => (v ? inlineNumbers(v) : "");

const same = (a: ParamValue, b: ParamValue) => JSON.stringify(a) === JSON.stringify(b);

/** The params worth reading at a glance: not the literal data (the preview shows it), at most four. */
function inlineParams(decls: readonly ParamDecl[], standIns: ReadonlySet<string>): ParamDecl[] {
  return decls.filter((d) => d.type !== "data" && !standIns.has(d.name) && d.name !== "name").slice(0, 4);
}

export function GwNode(props: NodeProps<{ kind: string }, "gw">) {
  const { editor, analysis } = useCanvas();
  const node = () => editor.view().nodes[props.id];
  const kind = createMemo(() => editor.registry.get(props.data.kind));
  /** For a module instance, its definition: its ports are the node's. */
  const module = createMemo(() => {
    const n = node();
    return n && isInstance(n) ? moduleById(editor.doc(), instanceModule(n) ?? "") : undefined;
  });
  const ports = createMemo(
    (): { inputs: readonly PortDecl[]; outputs: readonly OutputDecl[] } | undefined => {
      const k = kind();
      if (k) return { inputs: k.inputs, outputs: outputsOf(k) };
      const m = module();
      return m
        ? {
            inputs: m.inputs.map((p) => ({ name: p.name, help: `input of module ${m.id}` })),
            outputs: m.outputs.map((p) => ({ name: p.name, help: `output of module ${m.id}` })),
          }
        : undefined;
    },
  );
  const group = () => {
    const k = kind();
    return k ? groupOf(k.family).toLowerCase() : module() ? "module" : "unknown";
  };
  const issues = () => analysis.issuesOf(props.id);
  const errors = () => issues().filter((i) => i.severity === "error");
  const warnings = () => issues().filter((i) => i.severity === "warning");
  const connected = createMemo(() => {
    const set = new Set<string>();
    for (const e of Object.values(editor.view().edges)) if (e.target === props.id) set.add(e.targetPort);
    return set;
  });
  const standIns = createMemo(
    () => new Set((kind()?.inputs ?? []).map((p) => p.scalarParam).filter((p): p is string => !!p)),
  );
  const params = createMemo(() => {
    const k = kind();
    const n = node();
    if (!k || !n) return [];
    return inlineParams(k.params, standIns()).map((d) => {
      const v = n.params[d.name] ?? d.default;
      return { name: d.name, text: pyLiteral(v), changed: !same(v, d.default) };
    });
  });
  // Rebuilt with every epoch's records: computed once here (the node reads it twice), its rows kept by position.
  const leaves = createMemo(() => analysis.leaves(props.id));
  // The node a training run stopped at (its message in the status line names it).
  const runError = () => analysis.runErrorNode() === props.id;
  const value = () => analysis.value(props.id);
  // The status line prints the loss of the last epoch, before its step; this node shows it after the step.
  const lossAfterStep = () => analysis.trained() && analysis.objective() === props.id;
  const grad = () => analysis.grad(props.id);
  const portIssue = (port: string) => issues().find((i) => i.port === port && i.severity === "error");
  // An unconnected input is the normal state of a node just dropped: its port is marked, not a paragraph.
  const listed = () => issues().filter((i) => i.code !== "missing-input");

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: double-click opens a module; Open in the module bar is the keyboard way
    <div
      class={`gw-node g-${group()}`}
      classList={{
        selected: !!props.selected,
        "has-error": errors().length > 0,
        "run-error": runError(),
        "has-warning": warnings().length > 0,
      }}
      data-node-id={props.id}
      data-node-type={props.data.kind}
      onDblClick={() => {
        const m = module();
        if (m) editor.openModule(m.id);
      }}
      title={module() ? `module ${module()!.id}: double-click to edit inside it` : undefined}
    >
      <header class="gw-node-head">
        <span class="gw-node-type">{module()?.id ?? props.data.kind}</span>
        <Show when={node()?.name}>
          <span class="gw-node-name">{node()?.name}</span>
        </Show>
        <span class="gw-node-id">{props.id}</span>
        <Show when={analysis.paramCount(props.id) > 0}>
          <span class="gw-node-params" data-testid="param-count" title="parameters this node owns and trains">
            {formatCount(analysis.paramCount(props.id))}{" "}
            {analysis.paramCount(props.id) === 1 ? "param" : "params"}
          </span>
        </Show>
        <Show when={errors().length > 0}>
          <span
            class="gw-badge error"
            title={errors()
              .map((e) => e.message)
              .join("\n")}
          >
            {errors().length}
          </span>
        </Show>
        <Show when={errors().length === 0 && warnings().length > 0}>
          <span
            class="gw-badge warning"
            title={warnings()
              .map((e) => e.message)
              .join("\n")}
          >
            !
          </span>
        </Show>
      </header>
      <Show when={ports()} fallback={<div class="gw-node-unknown">unknown node type</div>}>
        {(k) => (
          <div class="gw-ports">
            <div class="gw-inputs">
              <For each={k().inputs}>
                {(p) => {
                  const standIn = () =>
                    p.scalarParam && !connected().has(p.name) ? node()?.params[p.scalarParam] : undefined;
                  return (
                    <div
                      class="gw-port in"
                      classList={{ optional: !!p.optional, bad: !!portIssue(p.name) }}
                      title={
                        portIssue(p.name)?.message ?? `${p.name}: ${p.help}${p.optional ? " (optional)" : ""}`
                      }
                    >
                      <Handle type="target" position="left" id={p.name} class="gw-handle" />
                      <span class="gw-port-name">{p.name}</span>
                      <Show when={standIn() !== undefined && standIn() !== null}>
                        <span class="gw-port-standin">= {pyLiteral(standIn() as ParamValue, 10)}</span>
                      </Show>
                    </div>
                  );
                }}
              </For>
            </div>
            <div class="gw-outputs">
              <For each={k().outputs}>
                {(o) => {
                  const meta = () => analysis.outMeta(props.id, o.name);
                  return (
                    <div class="gw-port out" title={`${o.name}: ${o.help}`}>
                      <Show when={meta()}>
                        {(m) => <span class="gw-port-shape">[{m().shape.join(", ")}]</span>}
                      </Show>
                      <span class="gw-port-name">{o.name}</span>
                      <Handle type="source" position="right" id={o.name} class="gw-handle" />
                    </div>
                  );
                }}
              </For>
            </div>
          </div>
        )}
      </Show>
      <Show when={params().length > 0}>
        <div class="gw-params">
          <For each={params()}>
            {(p) => (
              <span class="gw-param" classList={{ changed: p.changed }}>
                <span class="k">{p.name}</span>=<span class="v">{p.text}</span>
              </span>
            )}
          </For>
        </div>
      </Show>
      <Show when={value()}>
        {(v) => (
          <ValuePreview
            value={v()}
            kind="value"
            requiresGrad={analysis.requiresGrad(props.id)}
            label={lossAfterStep() ? "after last step" : undefined}
            stale={
              analysis.valueStale(props.id)
                ? "the last value computed: this node cannot be computed now (see the error upstream)"
                : undefined
            }
          />
        )}
      </Show>
      <Show when={grad()}>
        {(g) => (
          <ValuePreview
            value={g()}
            kind="grad"
            stale={analysis.gradsStale() ? "from before this run; updated when training pauses" : undefined}
          />
        )}
      </Show>
      <Show when={leaves().length > 0}>
        <div class="gw-leaves" data-testid="trained-leaves">
          <Index each={leaves()}>
            {(l) => (
              <div class="gw-leaf">
                <span class="gw-leaf-name">{l().leaf}</span>
                <span class="gw-leaf-value">{numbersOf(l().value)}</span>
                <Show when={l().grad}>{(g) => <span class="gw-leaf-grad">∇ {inlineNumbers(g())}</span>}</Show>
              </div>
            )}
          </Index>
        </div>
      </Show>
      <Show when={listed().length > 0}>
        <ul class="gw-issues">
          <For each={listed().slice(0, 3)}>
            {(i) => (
              <li class={i.severity} data-testid="node-issue" title={i.message}>
                {shortMessage(i.message)}
              </li>
            )}
          </For>
        </ul>
      </Show>
    </div>
  );
}
