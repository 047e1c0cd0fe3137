/**
 * A tensor on a node's face: shape and dtype, then the numbers as PyTorch prints them when there are few,
 * or a sparkline (vectors) or heat strip (matrices) with the range when there are many.
 */
import { createMemo, createSignal, Index, Match, Show, Switch } from "solid-js";
import { INLINE_NUMBERS, inlineNumbers, samples, shapeText, stats } from "./summary.ts";
import { numelOf, torchRepr, torchScalar, type ValueLike } from "./torchFormat.ts";

export function Sparkline(props: { data: ArrayLike<number>; class?: string }) {
  const path = createMemo(() => {
    const ys = samples(props.data, 48).filter(Number.isFinite);
    if (ys.length < 2) return "";
    let lo = Math.min(...ys);
    let hi = Math.max(...ys);
    if (hi === lo) {
      hi += 1;
      lo -= 1;
    }
    return ys
      .map(
        (y, i) =>
          `${((i / (ys.length - 1)) * 100).toFixed(2)},${(18 - ((y - lo) / (hi - lo)) * 16).toFixed(2)}`,
      )
      .join(" ");
  });
  return (
    <svg
      class={`sparkline ${props.class ?? ""}`}
      viewBox="0 0 100 20"
      preserveAspectRatio="none"
      aria-hidden="true"
    >
      <polyline points={path()} vector-effect="non-scaling-stroke" />
    </svg>
  );
}

/** Rows × columns as coloured cells on a diverging scale centred on zero. */
export function HeatStrip(props: { value: ValueLike; class?: string }) {
  const cells = createMemo(() => {
    const v = props.value;
    const cols = v.shape.length >= 2 ? v.shape[v.shape.length - 1] : v.data.length;
    const rows = Math.max(1, Math.floor(v.data.length / Math.max(1, cols)));
    const maxRows = 16;
    const maxCols = 48;
    const rStep = Math.max(1, Math.ceil(rows / maxRows));
    const cStep = Math.max(1, Math.ceil(cols / maxCols));
    let amax = 0;
    for (let i = 0; i < v.data.length; i++)
      if (Number.isFinite(v.data[i])) amax = Math.max(amax, Math.abs(v.data[i]));
    const out: { x: number; y: number; c: string }[] = [];
    const nr = Math.ceil(rows / rStep);
    const nc = Math.ceil(cols / cStep);
    for (let r = 0; r < nr; r++)
      for (let c = 0; c < nc; c++) {
        const x = v.data[r * rStep * cols + c * cStep];
        const t = amax > 0 && Number.isFinite(x) ? x / amax : 0;
        const color = Number.isFinite(x)
          ? t >= 0
            ? `rgba(var(--heat-pos), ${Math.abs(t).toFixed(3)})`
            : `rgba(var(--heat-neg), ${Math.abs(t).toFixed(3)})`
          : "var(--danger)";
        out.push({ x: c, y: r, c: color });
      }
    return { cells: out, nr, nc };
  });
  return (
    <svg
      class={`heatstrip ${props.class ?? ""}`}
      viewBox={`0 0 ${cells().nc} ${cells().nr}`}
      preserveAspectRatio="none"
      aria-hidden="true"
    >
      {/* By position: while training, the same cells take new colours (no elements made or removed). */}
      <Index each={cells().cells}>
        {(c) => <rect x={c().x} y={c().y} width="1.02" height="1.02" fill={c().c} />}
      </Index>
    </svg>
  );
}

export interface ValuePreviewProps {
  value: ValueLike;
  /** "value" or "grad": the gradient is shown with its own accent and a ∇ label. */
  kind: "value" | "grad";
  requiresGrad?: boolean;
  /** Shown dimmed, with why: a gradient from before the current run, a value from before an error upstream. */
  stale?: string;
  /** Replaces "value" in the head (the loss node after training says which loss it shows). */
  label?: string;
}

export function ValuePreview(props: ValuePreviewProps) {
  const n = () => numelOf(props.value.shape);
  const s = createMemo(() => stats(props.value));
  const full = () => torchRepr(props.value, { requiresGrad: props.requiresGrad });
  // The tooltip prints the whole tensor as torch does: thousands of numbers for a hidden layer, so it is made
  // only while the pointer is on the preview, not each time a value streams in while training.
  const [hover, setHover] = createSignal(false);
  return (
    <div
      class={`preview preview-${props.kind}`}
      classList={{ stale: !!props.stale }}
      title={hover() ? (props.stale ? `${full()}\n(${props.stale})` : full()) : undefined}
      onPointerEnter={() => setHover(true)}
      onPointerLeave={() => setHover(false)}
      data-preview={props.kind}
    >
      <div class="preview-head">
        <span class="preview-label">{props.kind === "grad" ? "∇ grad" : (props.label ?? "value")}</span>
        <span class="preview-shape">{shapeText(props.value.shape)}</span>
        <span class="preview-dtype">{props.value.dtype}</span>
      </div>
      <Switch>
        <Match when={n() === 0}>
          <div class="preview-numbers">[]</div>
        </Match>
        <Match when={n() <= INLINE_NUMBERS}>
          <div class="preview-numbers" data-testid={props.kind === "grad" ? "grad-numbers" : "value-numbers"}>
            {inlineNumbers(props.value)}
          </div>
        </Match>
        <Match when={props.value.truncated}>
          {/* Only the printed corners and the stats of a large tensor are here: no curve drawn from part of it. */}
          <div class="preview-numbers" data-testid={props.kind === "grad" ? "grad-numbers" : "value-numbers"}>
            {inlineNumbers(props.value)}
          </div>
          <Range min={s().min} max={s().max} mean={s().mean} dtype={props.value.dtype} />
        </Match>
        <Match when={props.value.shape.length >= 2}>
          <HeatStrip value={props.value} />
          <Range min={s().min} max={s().max} dtype={props.value.dtype} />
        </Match>
        <Match when={true}>
          <Sparkline data={props.value.data} />
          <Range min={s().min} max={s().max} dtype={props.value.dtype} />
        </Match>
      </Switch>
      <Show when={s().nonFinite > 0}>
        <div class="preview-warn">{s().nonFinite} non-finite</div>
      </Show>
    </div>
  );
}

function Range(props: { min: number; max: number; mean?: number; dtype: ValueLike["dtype"] }) {
  const num = (x: number) => (Number.isFinite(x) ? torchScalar(x, props.dtype) : "–");
  return (
    <div class="preview-range" data-testid="preview-range">
      <span>{num(props.min)}</span>
      <span>…</span>
      <span>{num(props.max)}</span>
      <Show when={props.mean !== undefined}>
        <span class="preview-mean">mean {num(props.mean ?? Number.NaN)}</span>
      </Show>
    </div>
  );
}
