/**
 * An edge: a bezier wire labelled with the shape it carries; after a backward pass, the gradient flowing back
 * along it shows as the wire's weight and colour, with its norm in the label.
 */
import { BaseEdge, EdgeLabel, type EdgeProps, getBezierPath } from "@dschz/solid-flow";
import { createMemo, Show } from "solid-js";
import { stats } from "../values/summary.ts";
import { torchScalar } from "../values/torchFormat.ts";
import { useCanvas } from "./context.ts";

/** Stroke width for a gradient norm: logarithmic, so 1e-6 and 1e3 are both visible and distinguishable. */
export function gradWidth(norm: number): number {
  if (!Number.isFinite(norm)) return 4.5;
  if (norm <= 0) return 1.5;
  const t = Math.max(0, Math.min(1, (Math.log10(norm) + 6) / 9));
  return 1.5 + 3 * t;
}

export function GwEdge(props: EdgeProps) {
  const { analysis } = useCanvas();
  const geo = createMemo(() => {
    const [path, labelX, labelY] = getBezierPath({
      sourceX: props.sourceX,
      sourceY: props.sourceY,
      targetX: props.targetX,
      targetY: props.targetY,
      sourcePosition: props.sourcePosition,
      targetPosition: props.targetPosition,
    });
    return { path, labelX, labelY };
  });
  const port = () => props.sourceHandleId ?? "out";
  // A short wire between neighbouring nodes has no room for its label beside them: the shape is dropped there
  // (the output port shows it), and the gradient's label draws above the nodes (see app.css).
  const short = () =>
    Math.abs(props.targetX - props.sourceX) < 120 && Math.abs(props.targetY - props.sourceY) < 120;
  const meta = () => (short() ? undefined : analysis.outMeta(props.source, port()));
  const gradNorm = createMemo(() => {
    const g = analysis.grad(props.source, port());
    return g ? stats(g).norm : undefined;
  });
  const hasGrad = () => gradNorm() !== undefined;
  return (
    <>
      <BaseEdge
        path={geo().path}
        class={`gw-edge${hasGrad() ? " has-grad" : ""}${hasGrad() && analysis.gradsStale() ? " stale" : ""}${props.selected ? " selected" : ""}`}
        style={hasGrad() ? { "stroke-width": `${gradWidth(gradNorm() ?? 0)}px` } : undefined}
        interactionWidth={16}
      />
      <Show when={meta() || hasGrad()}>
        <EdgeLabel x={geo().labelX} y={geo().labelY} class="gw-edge-label" data-edge-id={props.id}>
          <Show when={meta()}>{(m) => <span class="shape">[{m().shape.join(", ")}]</span>}</Show>
          <Show when={hasGrad()}>
            <span class="grad" title="L2 norm of the gradient flowing back along this wire">
              ∇ {torchScalar(gradNorm() ?? 0, "float64")}
            </span>
          </Show>
        </EdgeLabel>
      </Show>
    </>
  );
}
