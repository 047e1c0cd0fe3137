/**
 * Interaction benchmark of the editor in real Chromium (not a test: it reports, it does not judge):
 *   1. a 300-node graph: time from importing the file to every node rendered and measured;
 *   2. dragging a node across that graph: frame times during the drag;
 *   3. training at full speed in the worker: the longest main-thread task and the longest gap between frames,
 *      with the plots streaming;
 *   4. the same with each insight view open (decision boundary, loss landscape, runs, layers), on the
 *      regression above and on the two-class MLP example.
 * Run with `npm run bench:ui` (or `npx tsx bench/ui.ts`); results are printed and written to bench/UI-RESULTS.md,
 * with the machine's load average, since other work on the machine lengthens main-thread tasks.
 * Options: `--parts load,drag,train,insight` (default all), `--graphs regression,mlp`,
 * `--views none,model,landscape,runs,layers`, `--reps N` (each insight scenario N times), `--out FILE` (instead of
 * bench/UI-RESULTS.md), `--profile` (a CPU profile of the main thread per insight scenario: the functions that
 * took the most time and the long tasks' own time are printed), `--trace` (a Chrome trace per training run and
 * insight scenario: the main thread's tasks by their CPU time as well as their wall time, which on a loaded
 * machine also counts time the thread waited for a core), `--stretch MS` (with `--profile`: list the busy stretches of MS or more
 * rather than of 50 ms or more), `--callers NAME` (with `--profile`: the call paths that led to the function NAME's
 * self time).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { parseGraphFile, serializeGraph } from "../src/graph/format.ts";
import type { GraphDoc, GraphEdge, GraphNode } from "../src/graph/types.ts";
import { app, closeApp, ROOT } from "../tests/e2e/harness.ts";
import { list, option } from "./args.ts";

const PARTS = ["load", "drag", "train", "insight"] as const;
const parts = new Set(list("parts", PARTS) ?? PARTS);
const GRAPHS = ["regression", "mlp"] as const;
const graphs = list("graphs", GRAPHS) ?? GRAPHS;
const VIEWS = ["none", "model", "landscape", "runs", "layers"] as const;
const views = list("views", VIEWS) ?? VIEWS;
const reps = Number(option("reps") ?? 1);
const profile = process.argv.includes("--profile");
const trace = process.argv.includes("--trace");
const stretchMs = Number(option("stretch") ?? 50);
const callersOf = option("callers");

/** 300 nodes: 30 chains of tensor → 8 elementwise ops → sum, laid out on a grid. */
function bigGraph(): GraphDoc {
  const nodes: Record<string, GraphNode> = {};
  const edges: Record<string, GraphEdge> = {};
  const ops = ["add", "mul", "tanh", "sub", "relu", "exp", "neg", "abs"];
  let e = 0;
  for (let c = 0; c < 30; c++) {
    const y = c * 180;
    const t = `t${c}`;
    nodes[t] = { id: t, type: "tensor", position: { x: 0, y }, params: { data: [c, c + 1.5, -c, 2.25] } };
    let prev = t;
    ops.forEach((op, k) => {
      const id = `${op}${c}_${k}`;
      const params: Record<string, number> =
        op === "add" || op === "sub" || op === "mul" ? { other: 0.5 } : {};
      nodes[id] = { id, type: op, position: { x: (k + 1) * 260, y }, params };
      const eid = `e${e++}`;
      edges[eid] = { id: eid, source: prev, sourcePort: "out", target: id, targetPort: "input" };
      prev = id;
    });
    const s = `sum${c}`;
    nodes[s] = { id: s, type: "sum", position: { x: 9 * 260, y }, params: {} };
    const eid = `e${e++}`;
    edges[eid] = { id: eid, source: prev, sourcePort: "out", target: s, targetPort: "input" };
  }
  return { nodes, edges, settings: { epochs: 100 }, title: "300 nodes" };
}

/** The thermometer regression, trained for a very long run so it trains at full speed while we watch. */
function trainingGraph(): GraphDoc {
  const x = Array.from({ length: 64 }, (_, i) => i / 8);
  const y = x.map((v) => 2 * v + 1);
  const n = (id: string, type: string, px: number, py: number, params = {}): GraphNode => ({
    id,
    type,
    position: { x: px, y: py },
    params,
  });
  return {
    title: "training speed",
    settings: { epochs: 1_000_000 },
    nodes: {
      x: n("x", "tensor", 0, 0, { data: x, dtype: "float32" }),
      y: n("y", "tensor", 0, 250, { data: y, dtype: "float32" }),
      m: n("m", "model", 300, 0),
      loss: n("loss", "mse_loss", 600, 100),
      opt: n("opt", "SGD", 900, 100, { lr: 0.001 }),
    },
    edges: {
      a: { id: "a", source: "x", sourcePort: "out", target: "m", targetPort: "input" },
      b: { id: "b", source: "m", sourcePort: "out", target: "loss", targetPort: "input" },
      c: { id: "c", source: "y", sourcePort: "out", target: "loss", targetPort: "target" },
      d: { id: "d", source: "loss", sourcePort: "out", target: "opt", targetPort: "loss" },
    },
  };
}

async function importGraph(page: Page, doc: GraphDoc): Promise<void> {
  await page.setInputFiles('[data-testid="import-json"]', {
    name: "bench.json",
    mimeType: "application/json",
    buffer: Buffer.from(serializeGraph(doc)),
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** Record long tasks and the gaps between animation frames from now on (see `stopWatching`). */
async function watchMainThread(page: Page): Promise<void> {
  // Scripts run in the page are strings: the bench runs through tsx, whose helpers do not exist in the page.
  await page.evaluate(`(() => {
    window.__long = [];
    window.__gaps = [];
    window.__stop = false;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__long.push(e.duration);
    }).observe({ type: "longtask", buffered: false });
    let last = performance.now();
    const tick = (t) => {
      window.__gaps.push(t - last);
      last = t;
      if (!window.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
}

async function stopWatching(page: Page): Promise<{ long: number[]; gaps: number[] }> {
  return (await page.evaluate(
    "(() => { window.__stop = true; return { long: window.__long, gaps: window.__gaps.slice(1) }; })()",
  )) as { long: number[]; gaps: number[] };
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** A trace's main-thread tasks in one clause of a result line ("" without a trace). */
function taskSummary(tasks: { wall: number[]; cpu: number[] } | null): string {
  if (!tasks) return "";
  const cpu50 = tasks.cpu.filter((t) => t >= 50).length;
  const all = tasks.cpu.reduce((x, y) => x + y, 0);
  return (
    `; tasks by CPU time: longest ${ms(Math.max(0, ...tasks.cpu))}, ${cpu50} of 50 ms or more, ` +
    `${ms(all)} in all (by wall time: longest ${ms(Math.max(0, ...tasks.wall))})`
  );
}

/** The renderer main thread's tasks in a Chrome trace: their wall and CPU times (ms). */
function mainThreadTasks(json: string): { wall: number[]; cpu: number[] } {
  const events = (JSON.parse(json) as { traceEvents: TraceEvent[] }).traceEvents;
  const main = events.find((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain");
  const tasks = events.filter(
    (e) =>
      main &&
      e.pid === main.pid &&
      e.tid === main.tid &&
      e.ph === "X" &&
      e.name === "ThreadControllerImpl::RunTask",
  );
  return {
    wall: tasks.map((e) => (e.dur ?? 0) / 1000),
    cpu: tasks.map((e) => (e.tdur ?? e.dur ?? 0) / 1000),
  };
}

/** Run, saying yes to the long-run question, and wait until training runs (the window starts then). */
async function startRun(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid="run"]:not([disabled])', { timeout: 60_000 });
  await page.click('[data-testid="run"]');
  const running = '[data-testid="pause"]:not([disabled])';
  const asked = await Promise.race([
    page.waitForSelector(running, { timeout: 60_000 }).then(() => false),
    page.waitForSelector('[data-testid="long-run-confirm"]', { timeout: 60_000 }).then(() => true),
  ]);
  if (asked) {
    await page.click('[data-testid="long-run-confirm"]');
    await page.waitForSelector(running, { timeout: 60_000 });
  }
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Where a profile of the page's main thread spent its time: the functions with the most self time, and the
 * busy stretches (samples with no idle between them) of 50 ms (`--stretch`) or more, which is what long tasks are made of,
 * each with its own heaviest functions and the outermost function of its stack (what started the task).
 */
function hotFunctions(p: CpuProfile, top = 10): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
  };
  /** The outermost named JS frame of a sample's stack. */
  const root = (id: number) => {
    let cur = id;
    let last = id;
    while (parent.has(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (f.functionName && f.functionName !== "(root)") last = cur;
      cur = parent.get(cur)!;
    }
    return name(last);
  };
  const idle = (id: number) => {
    const f = byId.get(id)!.callFrame.functionName;
    return f === "(idle)" || f === "(program)";
  };
  const self = new Map<string, number>();
  let total = 0;
  const stretches: { ms: number; self: Map<string, number>; roots: Map<string, number> }[] = [];
  let cur: (typeof stretches)[number] | null = null;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] / 1000;
    total += dt;
    if (idle(id)) {
      if (cur && cur.ms >= stretchMs) stretches.push(cur);
      cur = null;
      return;
    }
    add(self, name(id), dt);
    cur ??= { ms: 0, self: new Map(), roots: new Map() };
    cur.ms += dt;
    add(cur.self, name(id), dt);
    add(cur.roots, root(id), dt);
  });
  /** The frames above each sample of `callersOf`, four deep, with the time they led to it. */
  const paths = new Map<string, number>();
  if (callersOf)
    p.samples.forEach((id, i) => {
      if (byId.get(id)!.callFrame.functionName !== callersOf) return;
      const chain: string[] = [];
      for (let cur = parent.get(id); cur !== undefined && chain.length < 4; cur = parent.get(cur))
        chain.push(name(cur));
      add(paths, chain.join(" < "), p.timeDeltas[i] / 1000);
    });
  const busy = [...self.values()].reduce((a, b) => a + b, 0);
  const heaviest = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([f, v]) => `${f} ${v.toFixed(0)} ms`)
      .join("; ");
  return [
    `    main thread busy ${busy.toFixed(0)} of ${total.toFixed(0)} ms; most self time:`,
    ...[...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `      ${v.toFixed(1).padStart(7)} ms  ${k}`),
    `    busy stretches of ${stretchMs} ms or more: ${stretches.length}`,
    ...stretches
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5)
      .map(
        (st) =>
          `      ${st.ms.toFixed(0)} ms: ${heaviest(st.self, 4)}\n        from: ${heaviest(st.roots, 3)}`,
      ),
    ...(callersOf ? [`    ${callersOf} called from:`] : []),
    ...[...paths]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([k, v]) => `      ${v.toFixed(1).padStart(7)} ms  ${k}`),
  ].join("\n");
}

async function main() {
  const loadStart = loadavg();
  const a = await app();
  const context = await a.browser.newContext({ viewport: { width: 1600, height: 900 } });
  const page = await context.newPage();
  await page.goto(a.url);
  await page.waitForSelector('[data-testid="app-ready"]', { state: "attached" });
  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };

  if (parts.has("load") || parts.has("drag")) {
    // 1. Load and render 300 nodes.
    const doc = bigGraph();
    const t0 = Date.now();
    await importGraph(page, doc);
    await page.waitForFunction(
      (n) => {
        const els = document.querySelectorAll<HTMLElement>(".solid-flow__node");
        return (
          els.length === n && [...els].every((e) => e.style.visibility !== "hidden" && e.offsetWidth > 0)
        );
      },
      Object.keys(doc.nodes).length,
      { timeout: 120_000, polling: 16 },
    );
    const rendered = Date.now() - t0;
    await page.waitForFunction(
      () => document.querySelectorAll('.gw-node [data-preview="value"]').length >= 300,
      null,
      {
        timeout: 120_000,
      },
    );
    const withValues = Date.now() - t0;
    say(
      `300-node graph (${Object.keys(doc.edges).length} wires): rendered in ${rendered} ms, every node's value shown after ${withValues} ms`,
    );

    if (parts.has("drag")) {
      // 2. Drag one node across the canvas; record every frame's duration meanwhile.
      await page.keyboard.press("f");
      await page.waitForTimeout(600);
      const node = page.locator('.gw-node[data-node-id="tanh12_2"] .gw-node-head');
      const box = await node.boundingBox();
      if (!box) throw new Error("node not visible");
      // Scripts run in the page are strings: the bench runs through tsx, whose helpers do not exist in the page.
      await page.evaluate(`(() => {
      window.__frames = [];
      window.__stop = false;
      let last = performance.now();
      const tick = (t) => {
        window.__frames.push(t - last);
        last = t;
        if (!window.__stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
      const sx = box.x + 20;
      const sy = box.y + box.height / 2;
      await page.mouse.move(sx, sy);
      await page.mouse.down();
      const steps = 120;
      for (let i = 1; i <= steps; i++) {
        await page.mouse.move(sx + (i * 500) / steps, sy + Math.sin(i / 10) * 120);
      }
      await page.mouse.up();
      const frames = (await page.evaluate(
        "(() => { window.__stop = true; return window.__frames.slice(1); })()",
      )) as number[];
      say(
        `dragging a node on it (${steps} pointer moves): ${frames.length} frames, median ${ms(pct(frames, 50))}, p95 ${ms(pct(frames, 95))}, longest ${ms(Math.max(...frames))}`,
      );
    }
  }

  if (parts.has("train")) {
    // 3. Train at full speed; watch the main thread. Once on the backend the editor picks (WebGPU where the
    // browser offers it), once on the CPU.
    await importGraph(page, trainingGraph());
    await page.waitForSelector('.gw-node[data-node-id="opt"]');
    await page.waitForFunction(
      () => !document.querySelector('[data-testid="run"]')?.hasAttribute("disabled"),
    );
    for (const choice of ["default", "cpu"] as const) {
      if (choice === "cpu") {
        await page.click('[data-testid="backend"]');
        await page.click('[data-testid="backend-cpu"]');
        await page.click('[data-testid="reset"]');
        await page.waitForFunction(
          () => document.querySelector('[data-testid="epoch"]')?.textContent === "0",
        );
      }
      // The observer watches inside the trace's window: starting a trace stalls the renderer itself.
      if (trace) await a.browser.startTracing(page, { categories: ["toplevel", "__metadata"] });
      await watchMainThread(page);
      await page.click('[data-testid="run"]');
      await page.waitForTimeout(6000);
      const speed = await page.locator('[data-testid="epochs-per-sec"]').textContent();
      const epoch = await page.locator('[data-testid="epoch"]').textContent();
      const points = await page.locator('[data-testid="plot-loss"]').getAttribute("data-points");
      const backend = (await page.locator('[data-testid="backend"]').textContent())?.trim();
      await page.click('[data-testid="pause"]');
      const watch = await stopWatching(page);
      const tasks = trace ? mainThreadTasks((await a.browser.stopTracing()).toString("utf8")) : null;
      const longest = watch.long.length ? Math.max(...watch.long) : 0;
      say(
        `training 6 s at full speed on ${backend}: ${epoch} epochs (${speed} epochs/s), loss plot holding ${points} points; ` +
          `longest main-thread task ${watch.long.length ? ms(longest) : "under 50 ms (no long task reported)"}, ` +
          `${watch.long.length} long tasks; frames: median ${ms(pct(watch.gaps, 50))}, p95 ${ms(pct(watch.gaps, 95))}, longest ${ms(Math.max(...watch.gaps))}` +
          taskSummary(tasks),
      );
    }
  }

  // 4. Each insight view open while training at full speed on the CPU: the regression (a line, a 128×128
  // landscape of weight and bias) and the MLP example (a 96×96 boundary, a 96×96 landscape, slices).
  const mlp = parseGraphFile(readFileSync(join(ROOT, "examples", "51-mlp-two-class-adam.json"), "utf8"));
  if (!mlp.ok) throw new Error("the MLP example does not parse");
  const insightGraphs = {
    // Runs long enough for every repetition (each resumes the last).
    regression: { ...trainingGraph(), title: "training speed", settings: { epochs: 10_000_000 } },
    mlp: { ...mlp.doc, settings: { epochs: 10_000_000 } },
  };
  const cdp = profile ? await context.newCDPSession(page) : null;
  if (cdp) {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  }
  for (const name of parts.has("insight") ? graphs : []) {
    await importGraph(page, insightGraphs[name]);
    await page.waitForFunction(() => document.querySelector('[data-testid="epoch"]')?.textContent === "0");
    await page.waitForFunction(
      () => !document.querySelector('[data-testid="run"]')?.hasAttribute("disabled"),
    );
    await page.click('[data-testid="backend"]');
    await page.click('[data-testid="backend-cpu"]');
    for (const view of views) {
      if (view !== "none") await page.click(`[data-testid="insight-${view}"]`);
      for (let rep = 0; rep < reps; rep++) {
        await page.waitForTimeout(300);
        const e0 = Number(await page.locator('[data-testid="epoch"]').textContent());
        await startRun(page);
        // The observer watches inside the trace's window: starting a trace stalls the renderer itself.
        if (trace) await a.browser.startTracing(page, { categories: ["toplevel", "__metadata"] });
        await watchMainThread(page);
        if (cdp) await cdp.send("Profiler.start");
        await page.waitForTimeout(4000);
        const watch = await stopWatching(page);
        const tasks = trace ? mainThreadTasks((await a.browser.stopTracing()).toString("utf8")) : null;
        const prof = cdp ? ((await cdp.send("Profiler.stop")) as { profile: CpuProfile }).profile : null;
        await page.click('[data-testid="pause"]', { timeout: 30_000 }).catch(() => undefined);
        await page.waitForTimeout(200);
        const e1 = Number(await page.locator('[data-testid="epoch"]').textContent());
        const draws = await page.evaluate(
          `[...document.querySelectorAll(".insight .chart")].map((c) => c.dataset.draws ?? c.dataset.points ?? "").join("/")`,
        );
        const longest = watch.long.length ? Math.max(...watch.long) : 0;
        say(
          `${name}, ${view === "none" ? "no insight view" : `insight view "${view}"`} open, 4 s training on the CPU${reps > 1 ? ` (rep ${rep + 1})` : ""}: ${e1 - e0} epochs; ` +
            `longest main-thread task ${watch.long.length ? ms(longest) : "under 50 ms (no long task reported)"}, ` +
            `${watch.long.length} long tasks; frames: median ${ms(pct(watch.gaps, 50))}, p95 ${ms(pct(watch.gaps, 95))}, longest ${ms(Math.max(...watch.gaps))}` +
            (draws ? `; view redraws ${draws}` : "") +
            taskSummary(tasks),
        );
        if (prof) console.log(hotFunctions(prof));
      }
    }
    await page.click('[data-testid="insight-layers"]');
  }

  await context.close();
  await closeApp();
  const out = option("out") ?? join(ROOT, "bench", "UI-RESULTS.md");
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(", ");
  // Notes written under the results (sections from the first "## " heading on) are kept.
  let notes = "";
  try {
    const before = readFileSync(out, "utf8");
    const at = before.indexOf("\n## ");
    if (at >= 0) notes = `\n${before.slice(at + 1)}`;
  } catch {
    // No earlier results.
  }
  writeFileSync(
    out,
    `# Editor interaction benchmark\n\n\`npx tsx bench/ui.ts\` (headless Chromium, 1600×900, ${new Date().toISOString().slice(0, 16)}; load average ${load(loadStart)} at the start, ${load(loadavg())} at the end)\n\n${lines.map((l) => `- ${l}`).join("\n")}\n${notes}`,
  );
  console.log(`written to ${out}`);
}

main().catch(async (e) => {
  console.error(e);
  await closeApp();
  process.exit(1);
});
