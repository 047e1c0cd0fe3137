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

export function frameLoop(
  draw: () => void,
  raf: Raf = (cb) => requestAnimationFrame(cb),
  caf: Caf = (id) => cancelAnimationFrame(id),
): FrameLoop {
  let pending: number | null = null;
  return {
    request() {
      if (pending !== null) return;
      pending = raf(() => {
        pending = null;
        draw();
      });
    },
    dispose() {
      if (pending !== null) caf(pending);
      pending = null;
    },
  };
}
