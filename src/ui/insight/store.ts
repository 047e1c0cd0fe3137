/**
 * The page's side of the insight views: it asks the scheduler worker for the decision boundary, the loss
 * landscape and its slices (src/engine/landscape.ts) while a view shows them, at most a few times a second
 * and one request in flight per kind, and keeps every run's history (runs.ts) from the streamed records.
 */
import { batch, createMemo, createSignal } from "solid-js";
import type { BoundaryResult, LossSlice, ParamCoord } from "../../engine/landscape.ts";
import { lastRecordOf, type RecordView } from "../../engine/record-columns.ts";
import type { TrainState } from "../../engine/train.ts";
import type { SchedulerClient } from "../../engine/worker-client.ts";
import type { TensorSnapshot } from "../../engine/worker-protocol.ts";
import type { GraphDoc } from "../../graph/types.ts";
import { createRunStore, type RunStore, settingsOf } from "./runs.ts";

/** Requests of one kind: at most one in flight, at most one per `minMs`; a request meanwhile is served after. */
export function pacer(
  send: () => void,
  minMs: number | (() => number),
  now: () => number = () => performance.now(),
) {
  const gap = typeof minMs === "number" ? () => minMs : minMs;
  let inflight = false;
  let wanted = false;
  let last = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fire = () => {
    timer = null;
    if (inflight || !wanted) return;
    const wait = last + gap() - now();
    if (wait > 0) {
      timer = setTimeout(fire, wait);
      return;
    }
    wanted = false;
    inflight = true;
    last = now();
    send();
  };
  return {
    request() {
      wanted = true;
      if (timer === null) fire();
    },
    /** The answer came: the next request may go. */
    done() {
      inflight = false;
      if (wanted && timer === null) fire();
    },
    dispose() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      wanted = false;
    },
  };
}

export interface LandscapeView {
  a: ParamCoord;
  b: ParamCoord;
  xs: number[];
  ys: number[];
  loss: Float64Array;
  others: boolean;
}

/** How often views that read the run history catch up with it while training (ms). */
const HISTORY_MS = 250;

export type InsightTab = "model" | "landscape" | "runs" | "layers";

export interface InsightSource {
  client: SchedulerClient;
  doc: () => GraphDoc;
  train: () => TrainState;
  grads: () => { params: Record<string, TensorSnapshot> };
  isOptimizer: (type: string) => boolean;
  runs?: RunStore;
  /** The graph's sweep nodes' results (loss per swept value), when it has any. */
  sweeps?: () => { nodeId: string; label: string; x: ArrayLike<number>; y: ArrayLike<number> }[];
}

/**
 * Grid points per axis of the landscape: fine for a small model, coarser where each point costs more (the grid
 * is one batched pass, but its work still grows with the model: the MLP example's 96×96 takes about 0.5 s).
 */
export function landscapeSize(trainedElements: number): number {
  return trainedElements <= 16 ? 128 : trainedElements <= 256 ? 96 : 64;
}

export function createInsight(src: InsightSource) {
  const client = src.client;
  const runs = src.runs ?? createRunStore();
  const [tab, setTab] = createSignal<InsightTab | null>(null);

  /**
   * Bumps when the current run's history grew, at most every HISTORY_MS: records arrive in dozens of batches
   * a second, and what the views compute from the history (paths, histograms, the overlay) need not follow
   * each one.
   */
  const [historyVersion, setHistoryVersion] = createSignal(0);
  let historyTimer: ReturnType<typeof setTimeout> | null = null;
  let historyAt = Number.NEGATIVE_INFINITY;
  const historyGrew = () => {
    if (historyTimer !== null) return;
    historyTimer = setTimeout(
      () => {
        historyTimer = null;
        historyAt = performance.now();
        setHistoryVersion((v) => v + 1);
      },
      Math.max(0, historyAt + HISTORY_MS - performance.now()),
    );
  };
  // --- boundary ----------------------------------------------------------------------------------------
  const [boundary, setBoundary] = createSignal<BoundaryResult | undefined>(undefined);
  const [boundaryError, setBoundaryError] = createSignal<string | undefined>(undefined);
  const [boundaryVersion, setBoundaryVersion] = createSignal(0);
  let nextId = 1;
  let boundaryId = 0;
  const boundaryPacer = pacer(() => {
    boundaryId = nextId++;
    client.boundary(boundaryId);
  }, 250);
  client.on("boundary", (m) => {
    if (m.id !== boundaryId) return;
    batch(() => {
      setBoundary(m.result);
      setBoundaryError(m.error);
      setBoundaryVersion((v) => v + 1);
    });
    boundaryPacer.done();
  });

  // --- landscape -----------------------------------------------------------------------------------------
  const [coords, setCoords] = createSignal<{ a: ParamCoord; b: ParamCoord } | undefined>(undefined);
  /** [x0, x1, y0, y1]: the range of the grid; undefined fits the path. */
  const [range, setRange] = createSignal<number[] | undefined>(undefined);
  const [landscape, setLandscape] = createSignal<LandscapeView | undefined>(undefined);
  const [landscapeError, setLandscapeError] = createSignal<string | undefined>(undefined);
  const [landscapeVersion, setLandscapeVersion] = createSignal(0);
  /** The trained values before the run's first step (the path's start). */
  const [start, setStart] = createSignal<Record<string, number[]> | undefined>(undefined);
  let landscapeId = 0;
  let pendingGrid: { a: ParamCoord; b: ParamCoord; xs: number[]; ys: number[] } | undefined;
  const landscapePacer = pacer(
    () => {
      const g = landscapeGrid();
      if (!g) {
        landscapePacer.done();
        return;
      }
      landscapeId = nextId++;
      pendingGrid = g;
      client.landscape(landscapeId, g.a, g.b, g.xs, g.ys);
      // A surface that moves with every other parameter costs the worker a pass per grid point: while training,
      // it is refreshed every two seconds, so training keeps most of the worker.
    },
    () => (src.train().status === "running" && landscape()?.others ? 2000 : 400),
  );
  client.on("landscape", (m) => {
    if (m.id !== landscapeId) return;
    batch(() => {
      if (m.start) setStart(m.start);
      if (m.loss?.length && pendingGrid) setLandscape({ ...pendingGrid, loss: m.loss, others: m.others });
      setLandscapeError(m.error);
      setLandscapeVersion((v) => v + 1);
    });
    const probe = !m.error && m.xs.length === 0 && path().x.length > 0;
    landscapePacer.done();
    if (probe) landscapePacer.request();
  });

  // --- slices --------------------------------------------------------------------------------------------
  const ALPHAS = Array.from({ length: 41 }, (_, i) => -1 + i / 20);
  const [slices, setSlices] = createSignal<{ alphas: number[]; slices: LossSlice[] } | undefined>(undefined);
  const [slicesError, setSlicesError] = createSignal<string | undefined>(undefined);
  let slicesId = 0;
  const slicesPacer = pacer(() => {
    slicesId = nextId++;
    client.slices(slicesId, ALPHAS, 2);
  }, 1000);
  client.on("slices", (m) => {
    if (m.id !== slicesId) return;
    batch(() => {
      if (m.slices) setSlices({ alphas: m.alphas, slices: m.slices });
      setSlicesError(m.error);
    });
    slicesPacer.done();
  });

  // --- trained tensors and the path ----------------------------------------------------------------------
  /** The trained tensors and their sizes: from the gradients (before a run) or the last record. */
  const [lastRecord, setLastRecord] = createSignal<RecordView | undefined>(undefined);
  const trained = (): { id: string; numel: number }[] => {
    const g = src.grads().params;
    const fromGrads = Object.entries(g).map(([id, t]) => ({ id, numel: t.numel }));
    if (fromGrads.length) return fromGrads;
    return Object.entries(lastRecord()?.params ?? {}).map(([id, v]) => ({ id, numel: v.length }));
  };
  const trainedElements = () => trained().reduce((n, t) => n + t.numel, 0);
  /** The chosen coordinates, or the first two elements the model trains (the thermometer's w and b). */
  const chosen = (): { a: ParamCoord; b: ParamCoord } | undefined => {
    const c = coords();
    const t = trained();
    if (c && t.some((x) => x.id === c.a.param) && t.some((x) => x.id === c.b.param)) return c;
    const elems = t.flatMap((x) =>
      Array.from({ length: Math.min(x.numel, 2) }, (_, i) => ({ param: x.id, index: i })),
    );
    return elems.length >= 2 ? { a: elems[0], b: elems[1] } : undefined;
  };
  const elementOf = (values: Record<string, ArrayLike<number>> | undefined, c: ParamCoord) => {
    const v = values?.[c.param];
    return v && c.index < v.length ? v[c.index] : undefined;
  };
  /** The optimizer's path in the chosen plane: the run's start, then one point per kept epoch, then now. */
  const path = createMemo((): { x: number[]; y: number[] } => {
    historyVersion();
    // Only the landscape draws the path: other views do not pay for it per batch of records.
    if (tab() !== "landscape") return { x: [], y: [] };
    const c = chosen();
    if (!c) return { x: [], y: [] };
    const x: number[] = [];
    const y: number[] = [];
    const push = (values: Record<string, ArrayLike<number>> | undefined) => {
      const a = elementOf(values, c.a);
      const b = elementOf(values, c.b);
      if (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)) {
        x.push(a);
        y.push(b);
      }
    };
    push(start());
    const run = runs.current();
    for (const s of run?.history.snapshots ?? []) push(s.params);
    const last = lastRecord();
    if (last && run && run.history.last()?.epoch !== last.epoch) push(last.params);
    return { x, y };
  });
  /** A range around the path: its bounding box, padded, never thinner than a tenth of the values' size. */
  const fitted = (): number[] | undefined => {
    const p = path();
    if (p.x.length === 0) return undefined;
    const box = (vs: number[]) => {
      const lo = Math.min(...vs);
      const hi = Math.max(...vs);
      const mid = (lo + hi) / 2;
      const half = Math.max((hi - lo) / 2, 0.05 * Math.max(Math.abs(lo), Math.abs(hi)), 0.05) * 1.8;
      return [mid - half, mid + half];
    };
    return [...box(p.x), ...box(p.y)];
  };
  /** The grid asked for: the chosen range, or a fitted one kept until the path leaves it. */
  let autoRange: number[] | undefined;
  const currentRange = (): number[] | undefined => {
    const r = range();
    if (r) return r;
    const p = path();
    const inside = (v: number, lo: number, hi: number) => v >= lo && v <= hi;
    const ok =
      autoRange &&
      p.x.every(
        (v, i) => inside(v, autoRange![0], autoRange![1]) && inside(p.y[i], autoRange![2], autoRange![3]),
      );
    if (!ok) autoRange = fitted();
    return autoRange;
  };
  const landscapeGrid = () => {
    const c = chosen();
    if (!c) return undefined;
    const r = currentRange();
    // No path yet: an empty grid brings back where the run starts, and the range follows from it.
    if (!r) return { a: c.a, b: c.b, xs: [], ys: [] };
    const n = landscapeSize(trainedElements());
    const lin = (a: number, b: number) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
    return { a: c.a, b: c.b, xs: lin(r[0], r[1]), ys: lin(r[2], r[3]) };
  };
  const sameGrid = (l: LandscapeView | undefined, g: ReturnType<typeof landscapeGrid>) =>
    !!l &&
    !!g &&
    l.a.param === g.a.param &&
    l.a.index === g.a.index &&
    l.b.param === g.b.param &&
    l.b.index === g.b.index &&
    l.xs.length === g.xs.length &&
    l.xs[0] === g.xs[0] &&
    l.xs[l.xs.length - 1] === g.xs[g.xs.length - 1] &&
    l.ys[0] === g.ys[0] &&
    l.ys[l.ys.length - 1] === g.ys[g.ys.length - 1];

  /** Ask again for what the open view shows, when it may have changed. */
  const refresh = (reason: "records" | "graph" | "open") => {
    const t = tab();
    // A model of two numbers shows its line beside its landscape: what the valley's floor fits.
    if (t === "model" || (t === "landscape" && trainedElements() <= 2)) boundaryPacer.request();
    if (t === "landscape") {
      const l = landscape();
      // A surface of only the two coordinates stays put while they train: ask again only for a new range.
      if (reason !== "records" || !l || l.others || !sameGrid(l, landscapeGrid())) landscapePacer.request();
      if (trainedElements() > 2) slicesPacer.request();
    }
  };

  // --- runs ----------------------------------------------------------------------------------------------
  let lastEpoch = -1;
  client.on("records", (m) => {
    const last = lastRecordOf(m.batches);
    if (!last) return;
    // A record of an earlier epoch than the last one seen starts a new run (after a reset).
    if (!runs.current() || m.batches[0].epoch[0] <= lastEpoch) {
      runs.end();
      const d = src.doc();
      runs.start(d.title ?? "untitled graph", settingsOf(d, src.isOptimizer, src.train().backend));
    }
    lastEpoch = last.epoch;
    batch(() => {
      runs.append(m.batches);
      setLastRecord(last);
    });
    historyGrew();
    refresh("records");
  });
  client.on("state", (m) => {
    if (m.state.epoch === 0 && m.state.status === "idle") {
      // Reset: the run is over and its history stays for comparison.
      if (runs.current()) runs.end();
      lastEpoch = -1;
      batch(() => {
        setLastRecord(undefined);
        setStart(undefined);
      });
      autoRange = undefined;
      refresh("graph");
    } else if (m.state.status === "done" || m.state.status === "stopped" || m.state.status === "error")
      runs.save();
  });
  client.on("values", () => {
    if (src.train().status !== "running") refresh("graph");
  });

  return {
    tab,
    open(t: InsightTab | null) {
      setTab(t);
      if (t) refresh("open");
    },
    runs,
    /** `runs.version`, at most every HISTORY_MS. */
    historyVersion,
    sweeps: () => src.sweeps?.() ?? [],
    boundary,
    boundaryError,
    boundaryVersion,
    landscape,
    landscapeError,
    landscapeVersion,
    slices,
    slicesError,
    trained,
    chosen,
    setCoords(c: { a: ParamCoord; b: ParamCoord }) {
      batch(() => {
        setCoords(c);
        setRange(undefined);
      });
      autoRange = undefined;
      landscapePacer.request();
    },
    path,
    lastRecord,
    currentRange,
    /** Zoom the landscape's range around its centre (factor > 1 shows more). */
    zoom(factor: number) {
      const r = currentRange();
      if (!r) return;
      const cx = (r[0] + r[1]) / 2;
      const cy = (r[2] + r[3]) / 2;
      const hx = ((r[1] - r[0]) / 2) * factor;
      const hy = ((r[3] - r[2]) / 2) * factor;
      setRange([cx - hx, cx + hx, cy - hy, cy + hy]);
      landscapePacer.request();
    },
    /** Back to a range fitted to the path. */
    fit() {
      setRange(undefined);
      autoRange = undefined;
      landscapePacer.request();
    },
    dispose() {
      if (historyTimer !== null) clearTimeout(historyTimer);
      boundaryPacer.dispose();
      landscapePacer.dispose();
      slicesPacer.dispose();
    },
  };
}

export type Insight = ReturnType<typeof createInsight>;
