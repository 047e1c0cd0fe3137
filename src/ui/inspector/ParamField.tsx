/**
 * One param in the inspector, generated from its declaration: a switch for booleans, a menu for enums, text for
 * everything else. Text is checked as you type; a valid value applies at once (the graph re-evaluates), an
 * invalid one shows why and stays out of the document. Typing into a field is one undoable step.
 */
import { createEffect, createSignal, Match, Show, Switch } from "solid-js";
import type { ParamDecl, ParamValue } from "../../nodes/types.ts";
import { fromText, toText } from "./paramText.ts";

export interface ParamFieldProps {
  nodeId: string;
  decl: ParamDecl;
  /** The stored value, or undefined when the default applies. */
  value: ParamValue | undefined;
  commit: (value: ParamValue | undefined) => void;
  beginTyping: () => void;
  endTyping: () => void;
}

export function ParamField(props: ParamFieldProps) {
  const d = () => props.decl;
  const current = () => (props.value === undefined ? d().default : props.value);
  const [draft, setDraft] = createSignal(toText(current()));
  const [error, setError] = createSignal<string | null>(null);
  const [focused, setFocused] = createSignal(false);

  // Follow the document (undo, another edit) unless the user is typing here.
  createEffect(() => {
    const text = toText(current());
    if (!focused()) {
      setDraft(text);
      setError(null);
    }
  });

  const onText = (text: string) => {
    setDraft(text);
    const r = fromText(d(), text);
    if (r.ok) {
      setError(null);
      if (JSON.stringify(r.value) !== JSON.stringify(current())) props.commit(r.value);
    } else setError(r.error);
  };

  // Typing into a text field is one undoable step, from focus to blur; leaving shows the stored value again.
  const typing = {
    onFocus: () => {
      setFocused(true);
      props.beginTyping();
    },
    onBlur: () => {
      setFocused(false);
      props.endTyping();
      setDraft(toText(current()));
      setError(null);
    },
    onInput: (e: { currentTarget: { value: string } }) => onText(e.currentTarget.value),
  };

  const fieldId = () => `param-${props.nodeId}-${d().name}`;
  const label = () => d().label ?? d().name;
  const hint = () => {
    const x = d();
    if (x.type === "number") {
      const lo = x.min !== undefined ? `${x.exclusiveMin ? ">" : "≥"} ${x.min}` : "";
      const hi = x.max !== undefined ? `≤ ${x.max}` : "";
      return [x.integer ? "int" : "float", lo, hi].filter(Boolean).join(", ");
    }
    return x.type === "numbers"
      ? "list of numbers"
      : x.type === "dims"
        ? "int, list or None"
        : x.type === "data"
          ? "nested lists"
          : "";
  };

  return (
    <div
      class="field"
      classList={{ invalid: !!error(), changed: props.value !== undefined }}
      data-param={d().name}
    >
      <div class="field-label">
        <label for={fieldId()}>{label()}</label>
        <span class="field-hint">{hint()}</span>
        <Show when={props.value !== undefined}>
          <button
            type="button"
            class="field-reset"
            title={`Back to the default (${toText(d().default)})`}
            onClick={() => props.commit(undefined)}
          >
            default
          </button>
        </Show>
      </div>
      <Switch>
        <Match when={d().type === "boolean"}>
          <label class="switch">
            <input
              id={fieldId()}
              type="checkbox"
              data-testid={`param-${d().name}`}
              checked={current() === true}
              onChange={(e) => props.commit(e.currentTarget.checked)}
            />
            <span class="switch-track" />
            <span class="switch-text">{current() ? "True" : "False"}</span>
          </label>
        </Match>
        <Match when={d().type === "enum"}>
          <select
            id={fieldId()}
            data-testid={`param-${d().name}`}
            value={current() === null ? "None" : String(current())}
            onChange={(e) => onText(e.currentTarget.value)}
          >
            <Show when={d().nullable || d().default === null}>
              <option value="None">None</option>
            </Show>
            {(d() as Extract<ParamDecl, { type: "enum" }>).options.map((o) => (
              <option value={o}>{o}</option>
            ))}
          </select>
        </Match>
        <Match
          when={d().type === "data" || (d().type === "string" && (d() as { multiline?: boolean }).multiline)}
        >
          <textarea
            id={fieldId()}
            data-testid={`param-${d().name}`}
            rows={3}
            spellcheck={false}
            value={draft()}
            {...typing}
          />
        </Match>
        <Match when={true}>
          <input
            id={fieldId()}
            data-testid={`param-${d().name}`}
            type="text"
            inputMode={d().type === "number" ? "decimal" : undefined}
            spellcheck={false}
            autocomplete="off"
            value={draft()}
            {...typing}
            onKeyDown={(e) => {
              if (e.key === "Enter") e.currentTarget.blur();
            }}
          />
        </Match>
      </Switch>
      <Show when={error()} fallback={<div class="field-help">{d().help}</div>}>
        <div class="field-error" role="alert" data-testid="param-error">
          {error()}
        </div>
      </Show>
    </div>
  );
}
