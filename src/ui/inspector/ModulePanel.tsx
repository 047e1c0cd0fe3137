/**
 * The inspector's part for a module instance: which module it is (open it, ungroup it), its ports (renamed here,
 * for every instance), and its own params: overrides of its inner nodes' params for this instance only.
 */
import { createSignal, For, Show } from "solid-js";
import {
  instanceModule,
  type ModuleDef,
  moduleById,
  overridesOf,
  sequentialChain,
} from "../../graph/modules.ts";
import type { GraphNode } from "../../graph/types.ts";
import { paramsSchema } from "../../nodes/params.ts";
import type { ParamValue } from "../../nodes/types.ts";
import type { Editor } from "../state/editor.ts";

/** A Sequential's layers as torch prints an nn.Sequential: `(0): Linear(in_features=2, ...)  # fc`, one a line. */
export function sequentialRepr(def: ModuleDef): string | undefined {
  const r = sequentialChain(def);
  if ("path" in r) return undefined;
  const layers = r.chain.map((id, i) => {
    const n = def.nodes[id];
    const args = Object.entries(n.params)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(", ");
    return `  (${i}): ${n.type}(${args})  # ${id}`;
  });
  return ["Sequential(", ...layers, ")"].join("\n");
}

export function ModulePanel(props: { node: GraphNode; editor: Editor }) {
  const editor = props.editor;
  const module = () => moduleById(editor.doc(), instanceModule(props.node) ?? "");
  const [error, setError] = createSignal<string | undefined>(undefined);
  const overrides = () =>
    [...overridesOf(props.node)].flatMap(([inner, values]) =>
      Object.entries(values).map(([name, value]) => ({ key: `${inner}.${name}`, value })),
    );

  /** Set (or, with an empty text, remove) one override, refusing a node, param or value the module has not. */
  const setOverride = (key: string, text: string): void => {
    setError(undefined);
    const m = module();
    if (!m) return;
    if (text.trim() === "") {
      editor.setParam(props.node.id, key, undefined);
      return;
    }
    const [inner, ...rest] = key.split(".");
    const name = rest.join(".");
    const target = Object.hasOwn(m.nodes, inner) ? m.nodes[inner] : undefined;
    const kind = target && editor.registry.get(target.type);
    if (!kind?.params.some((p) => p.name === name)) {
      setError(`'${key}': module ${m.id} has no node '${inner}' with a param '${name}'`);
      return;
    }
    let value: ParamValue;
    try {
      value = JSON.parse(text) as ParamValue;
    } catch {
      value = text;
    }
    const r = paramsSchema(kind).safeParse({ [name]: value });
    if (!r.success) {
      setError(`'${key}': ${r.error.issues[0].message}`);
      return;
    }
    editor.setParam(props.node.id, key, value);
  };

  return (
    <Show when={module()}>
      {(m) => (
        <section class="insp-section" data-testid="module-panel">
          <h3 class="insp-h">Module {m().id}</h3>
          <p class="insp-desc">
            {m().description ?? "A group of nodes used as one."} Editing inside it changes every instance; its
            trained tensors are this instance's own.
          </p>
          <Show when={m().sequential && sequentialRepr(m())}>
            {(repr) => (
              <pre class="insp-desc" data-testid="sequential-layers">
                {repr()}
              </pre>
            )}
          </Show>
          <div class="field">
            <div class="field-label">
              <label for="module-name">module name</label>
              <span class="field-hint">every instance follows</span>
            </div>
            <input
              id="module-name"
              type="text"
              data-testid="module-name"
              value={m().id}
              onChange={(e) => {
                const refused = editor.renameModule(m().id, e.currentTarget.value);
                setError(refused);
                if (refused) e.currentTarget.value = m().id;
              }}
            />
          </div>
          <div class="insp-actions">
            <button type="button" class="btn" onClick={() => editor.openModule(m().id)}>
              Open module
            </button>
            <button type="button" class="btn" onClick={() => editor.ungroup(props.node.id)}>
              Ungroup
            </button>
          </div>
          <h3 class="insp-h">Ports</h3>
          <For
            each={
              [
                ...m().inputs.map((p) => ["inputs", p.name]),
                ...m().outputs.map((p) => ["outputs", p.name]),
              ] as ["inputs" | "outputs", string][]
            }
          >
            {([side, name]) => (
              <div class="field">
                <div class="field-label">
                  <label for={`port-${side}-${name}`}>{side === "inputs" ? "input" : "output"}</label>
                </div>
                <input
                  id={`port-${side}-${name}`}
                  type="text"
                  data-testid={`port-name-${side}-${name}`}
                  value={name}
                  onChange={(e) => {
                    const refused = editor.renamePort(m().id, side, name, e.currentTarget.value);
                    setError(refused);
                    if (refused) e.currentTarget.value = name;
                  }}
                />
              </div>
            )}
          </For>
          <h3 class="insp-h">This instance's params</h3>
          <For each={overrides()}>
            {(o) => (
              <div class="field">
                <div class="field-label">
                  <label for={`override-${o.key}`}>{o.key}</label>
                </div>
                <input
                  id={`override-${o.key}`}
                  type="text"
                  data-testid={`override-${o.key}`}
                  value={JSON.stringify(o.value)}
                  onChange={(e) => setOverride(o.key, e.currentTarget.value)}
                />
              </div>
            )}
          </For>
          <div class="field">
            <div class="field-label">
              <label for="override-new">set an inner param</label>
              <span class="field-hint">node.param = value</span>
            </div>
            <input
              id="override-new"
              type="text"
              data-testid="override-new"
              placeholder="W.seed = 2"
              onChange={(e) => {
                const [key, ...value] = e.currentTarget.value.split("=");
                if (!key?.trim() || value.length === 0) return;
                setOverride(key.trim(), value.join("=").trim());
                if (!error()) e.currentTarget.value = "";
              }}
            />
          </div>
          <Show when={error()}>
            <div class="field-error" role="alert" data-testid="module-error">
              {error()}
            </div>
          </Show>
        </section>
      )}
    </Show>
  );
}
