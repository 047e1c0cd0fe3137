/**
 * Coalesce redraw requests to at most one per animation frame: records may arrive from the worker many times a
 * frame, and drawing once per frame is what keeps the page responsive while training at full speed.
 */
export interface FrameLoop {
  request(): void;
  dispose(): void;
}

type Raf = (cb: () => void) => number;
type Caf = (id: number) => void;

/**
 * `minIntervalMs` spaces draws further apart than frames (a chart of 100k points need not redraw 60 times a
 * second while it streams), a number or read before each frame; a request inside the interval is served by a
 * later frame, never dropped.
 */
export function frameLoop(
  draw: () => void,
  raf: Raf = (cb) => requestAnimationFrame(cb),
  caf: Caf = (id) => cancelAnimationFrame(id),
  minIntervalMs: number | (() => number) = 0,
  now: () => number = () => performance.now(),
): FrameLoop {
  let pending: number | null = null;
  let last = Number.NEGATIVE_INFINITY;
  const interval = typeof minIntervalMs === "number" ? () => minIntervalMs : minIntervalMs;
  const onFrame = () => {
    if (now() - last < interval()) {
      pending = raf(onFrame);
      return;
    }
    pending = null;
    last = now();
    draw();
  };
  return {
    request() {
      if (pending !== null) return;
      pending = raf(onFrame);
    },
    dispose() {
      if (pending !== null) caf(pending);
      pending = null;
    },
  };
}
