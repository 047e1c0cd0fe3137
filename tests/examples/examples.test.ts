/**
 * Every example graph (examples/*.json) against the numbers it states (examples/checks/<example>.json): it loads
 * and validates with exactly the warnings it means to show, the real `gradwire` bin reproduces the stated numbers
 * from eval and train, the tutorial's own code run by PyTorch prints the same numbers, and gradwire's values
 * agree with PyTorch's to the runtime's parity tolerances.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import { Trainer } from "../../src/engine/train.ts";
import { loadGraph, parseGraphFile, serializeGraph } from "../../src/graph/format.ts";
import type { GraphDoc } from "../../src/graph/types.ts";
import {
  CHECKS_DIR,
  type Check,
  closeMismatch,
  EXAMPLES_DIR,
  type Example,
  flatPrinted,
  loadExamples,
  num,
  printedMismatch,
  type Stated,
  statedValue,
  TRAJECTORY,
  toleranceOf,
} from "./checks.ts";
import {
  AFTER,
  type CliResult,
  type EvalJson,
  GRAD,
  gradwireAll,
  runTorch,
  type TorchAnswer,
  TRAIN_LOSS,
  TRAIN_PARAM,
  type TrainLine,
  torchNumbers,
  trainLines,
} from "./run.ts";

const EXAMPLES = loadExamples();

/** The tutorial texts, beside a development checkout (../shared/sources); a clone alone has none. */
const SOURCES_DIR = join(EXAMPLES_DIR, "..", "..", "shared", "sources");

/** The tutorial examples/README.md's table lists for an example's number (`3x-` → loss-functions-maths.txt). */
function readmeSource(file: string): string | undefined {
  const readme = readFileSync(join(EXAMPLES_DIR, "README.md"), "utf8");
  const row = new RegExp(`^\\| \`${file[0]}x-\`\\s*\\| \`([^\`]+\\.txt)\`\\s*\\|`, "m").exec(readme);
  return row?.[1];
}

function load(ex: Example): GraphDoc {
  const r = parseGraphFile(ex.text);
  if (!r.ok) throw new Error(`${ex.file}:\n${r.errors.map((e) => `${e.path}: ${e.message}`).join("\n")}`);
  return r.doc;
}

/** Stated values one by one: a failure names the example, the key and the element. */
function expectStated(
  where: string,
  actual: readonly number[],
  stated: Stated,
  dtype?: string,
  shape?: number[],
) {
  const s = statedValue(stated);
  if (s.dtype !== undefined) expect(dtype, `${where}: dtype`).toBe(s.dtype);
  if (s.shape !== undefined) expect(shape, `${where}: shape`).toEqual(s.shape);
  expect(printedMismatch(actual, s.value), where).toBeNull();
}

describe("example files", () => {
  it("come in pairs: each example has its check, each check its example", () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(26);
    const checks = readdirSync(CHECKS_DIR)
      .filter((f) => f.endsWith(".json"))
      .sort();
    expect(checks).toEqual(EXAMPLES.map((e) => e.file));
    for (const ex of EXAMPLES)
      if (ex.check.torch) expect(existsSync(join(CHECKS_DIR, `${ex.name}.py`)), ex.name).toBe(true);
  });

  // The tutorial texts sit beside a development checkout only (../shared/sources); a clone alone has none, and
  // this check is then skipped, saying so in its name. Nothing else in the suite reads outside the clone.
  const sources = existsSync(SOURCES_DIR);
  it.skipIf(!sources)(
    `name tutorials that exist in ../shared/sources${sources ? "" : " (skipped: no ../shared/sources beside this clone)"}`,
    () => {
      for (const ex of EXAMPLES)
        if (ex.check.source)
          expect(existsSync(join(SOURCES_DIR, ex.check.source)), ex.check.source).toBe(true);
    },
  );

  for (const ex of EXAMPLES)
    it(`${ex.file}: loads with a title and description, validates with the intended warnings, round-trips`, () => {
      const doc = load(ex);
      expect(doc.title?.length, "title").toBeGreaterThan(10);
      expect(doc.description?.length, "description").toBeGreaterThan(80);
      // The tutorial a check names is the one examples/README.md lists for its number.
      expect(ex.check.source, "source").toBe(readmeSource(ex.file));
      const r = parseGraphFile(ex.text);
      if (!r.ok) throw new Error("unreachable");
      expect(r.issues.filter((i) => i.severity === "error").map((i) => i.message)).toEqual([]);
      const warnings = r.issues.filter((i) => i.severity === "warning");
      const wanted = ex.check.warnings ?? [];
      expect(warnings.map((w) => w.nodeId)).toEqual(wanted.map((w) => w.node));
      warnings.forEach((w, i) => {
        expect(w.message).toMatch(new RegExp(wanted[i].match));
      });
      // Saving and loading again gives the same document.
      const again = loadGraph(JSON.parse(serializeGraph(doc)));
      expect(again.ok && again.doc).toEqual(doc);
    });
});

interface Runs {
  eval?: CliResult;
  train?: CliResult;
  validate?: CliResult;
}

function commandsOf(ex: Example): [keyof Runs, string[]][] {
  const c = ex.check;
  const out: [keyof Runs, string[]][] = [];
  if (c.eval) out.push(["eval", ["eval", ex.path, "--json"]]);
  if (c.train)
    out.push([
      "train",
      ["train", ex.path, "--jsonl", ...(c.train.epochs ? ["--epochs", String(c.train.epochs)] : [])],
    ]);
  if (c.warnings || !c.eval) out.push(["validate", ["validate", ex.path]]);
  return out;
}

describe("examples from the CLI and in PyTorch", () => {
  const runs = new Map<string, Runs>();
  let torch = new Map<string, TorchAnswer>();

  beforeAll(async () => {
    const jobs = EXAMPLES.flatMap((ex) => commandsOf(ex).map(([kind, args]) => ({ ex, kind, args })));
    const [results, answers] = await Promise.all([
      gradwireAll(jobs.map((j) => j.args)),
      new Promise<Map<string, TorchAnswer>>((resolve, reject) => {
        // The runner blocks; start it once the first gradwire processes are on their way.
        setTimeout(() => {
          try {
            resolve(runTorch(EXAMPLES));
          } catch (e) {
            reject(e);
          }
        }, 50);
      }),
    ]);
    jobs.forEach((j, i) => {
      const r = runs.get(j.ex.name) ?? {};
      r[j.kind] = results[i];
      runs.set(j.ex.name, r);
    });
    torch = answers;
  }, 300_000);

  const evalOf = (ex: Example): EvalJson => {
    const r = runs.get(ex.name)?.eval;
    if (!r) throw new Error("eval did not run");
    expect(r.code, `gradwire eval exit code; stderr: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as EvalJson;
  };

  const trainOf = (ex: Example): { lines: TrainLine[]; result: CliResult } => {
    const r = runs.get(ex.name)?.train;
    if (!r) throw new Error("train did not run");
    return { lines: trainLines(r.stdout), result: r };
  };

  const torchOf = (ex: Example): TorchAnswer => {
    const a = torch.get(ex.name);
    if (!a) throw new Error("PyTorch did not run this example");
    if (a.error) throw new Error(`the tutorial's code failed in PyTorch: ${a.error}`);
    return a;
  };

  for (const ex of EXAMPLES) {
    const c: Check = ex.check;

    if (c.eval)
      it(`${ex.file}: gradwire eval prints the stated numbers`, () => {
        const out = evalOf(ex);
        for (const [key, stated] of Object.entries(c.eval?.nodes ?? {})) {
          const v = out.nodes[key];
          expect(v, `node output '${key}'`).toBeDefined();
          expectStated(`${key}`, v.data.map(num), stated, v.dtype, v.shape);
        }
        for (const [key, stated] of Object.entries(c.eval?.grads ?? {})) {
          const g = out.grads[key];
          expect(g, `gradient of '${key}'`).toBeDefined();
          expectStated(`grad of ${key}`, g.data.map(num), stated, undefined, g.shape);
        }
      });

    if (c.warnings)
      it(`${ex.file}: gradwire validate passes it and prints its warnings`, () => {
        const r = runs.get(ex.name)?.validate;
        expect(r?.code, r?.stderr).toBe(0);
        for (const w of c.warnings ?? []) expect(r?.stderr).toMatch(new RegExp(`warning: .*${w.match}`));
      });

    if (!c.eval && !c.train)
      it(`${ex.file}: gradwire validate passes it`, () => {
        const r = runs.get(ex.name)?.validate;
        expect(r?.code, r?.stderr).toBe(0);
      });

    if (c.train) {
      const t = c.train;
      it(`${ex.file}: gradwire train prints the stated numbers${t.stop ? " and stops where it diverges" : ""}`, () => {
        const { lines, result } = trainOf(ex);
        if (t.stop) {
          expect(result.code, "exit code when training fails").toBe(1);
          expect(result.stderr).toContain(`epoch ${t.stop.epoch}:`);
          expect(result.stderr).toMatch(new RegExp(t.stop.match));
          expect(lines.map((l) => l.epoch)).toEqual(Array.from({ length: t.stop.epoch }, (_, i) => i));
        } else {
          expect(result.code, result.stderr).toBe(0);
          const epochs = t.epochs ?? load(ex).settings.epochs;
          expect(lines.map((l) => l.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i));
        }
        for (const rec of t.records) {
          const line = lines[rec.epoch];
          expect(line, `epoch ${rec.epoch}`).toBeDefined();
          if (rec.loss !== undefined) expectStated(`epoch ${rec.epoch} loss`, [num(line.loss)], rec.loss);
          for (const [id, stated] of Object.entries(rec.params ?? {}))
            expectStated(`epoch ${rec.epoch} ${id}`, line.params[id].map(num), stated);
        }
      });
    }

    if (c.afterTraining)
      it(`${ex.file}: after ${load(ex).settings.epochs} epochs the graph shows the stated numbers`, async () => {
        const s = new Scheduler();
        s.setGraph(load(ex));
        const trainer = new Trainer(s);
        await trainer.run();
        expect(trainer.state.status, trainer.state.message).toBe("done");
        s.evaluate();
        for (const [id, stated] of Object.entries(c.afterTraining ?? {})) {
          const v = s.value(id);
          expect(v, id).toBeDefined();
          expectStated(
            `${id} after training`,
            Array.from(v?.data ?? []),
            stated,
            v?.dtype,
            v ? [...v.shape] : undefined,
          );
        }
      });

    if (c.torch) {
      it(`${ex.file}: the tutorial's code in PyTorch prints the stated numbers`, () => {
        const a = torchOf(ex);
        a.asserts.forEach((ok, i) => {
          expect(ok, `assert ${c.torch?.asserts?.[i]}`).toBe(true);
        });
        let compared = a.asserts.length;
        for (const [key, stated] of Object.entries(c.eval?.nodes ?? {}))
          for (const v of a.values[key] ?? []) {
            expectStated(`PyTorch ${key}`, torchNumbers(v), statedValue(stated).value);
            compared++;
          }
        for (const [key, stated] of Object.entries(c.eval?.grads ?? {}))
          for (const v of a.values[GRAD + key] ?? []) {
            expectStated(`PyTorch grad of ${key}`, torchNumbers(v), stated);
            compared++;
          }
        const losses = a.values[TRAIN_LOSS]?.[0];
        for (const rec of c.train?.records ?? []) {
          if (rec.loss !== undefined && losses) {
            expectStated(`PyTorch epoch ${rec.epoch} loss`, [torchNumbers(losses)[rec.epoch]], rec.loss);
            compared++;
          }
          for (const [id, stated] of Object.entries(rec.params ?? {})) {
            const hist = a.values[TRAIN_PARAM + id]?.[0];
            if (!hist) continue;
            const n = flatPrinted(stated).length;
            expectStated(
              `PyTorch epoch ${rec.epoch} ${id}`,
              torchNumbers(hist).slice(rec.epoch * n, (rec.epoch + 1) * n),
              stated,
            );
            compared++;
          }
        }
        for (const [id, stated] of Object.entries(c.afterTraining ?? {}))
          for (const v of a.values[AFTER + id] ?? []) {
            expectStated(`PyTorch ${id} after training`, torchNumbers(v), statedValue(stated).value);
            compared++;
          }
        if (flatPrinted(Object.values(c.eval?.nodes ?? {}).map((s) => statedValue(s).value)).length > 0)
          expect(compared, "PyTorch confirms at least one stated number").toBeGreaterThan(0);
      });

      it(`${ex.file}: gradwire agrees with PyTorch`, () => {
        const a = torchOf(ex);
        const tol = (key: string, dtype: string | null) => c.torch?.tolerances?.[key] ?? toleranceOf(dtype);
        if (c.eval) {
          const out = evalOf(ex);
          for (const [key, vs] of Object.entries(a.values)) {
            if (key.startsWith(GRAD)) {
              const g = out.grads[key.slice(GRAD.length)];
              expect(g, key).toBeDefined();
              for (const v of vs)
                expect(closeMismatch(g.data.map(num), torchNumbers(v), tol(key, v.dtype)), key).toBeNull();
              continue;
            }
            const node = out.nodes[key];
            if (!node) continue;
            for (const v of vs) {
              if (v.dtype !== null) {
                expect(node.dtype, `${key}: dtype`).toBe(v.dtype);
                expect(node.shape, `${key}: shape`).toEqual(v.shape);
              }
              expect(
                closeMismatch(node.data.map(num), torchNumbers(v), tol(key, node.dtype)),
                key,
              ).toBeNull();
            }
          }
        }
        if (c.train) {
          const { lines } = trainOf(ex);
          const losses = a.values[TRAIN_LOSS]?.[0];
          if (losses) {
            const want = torchNumbers(losses).slice(0, lines.length);
            expect(want.length, "PyTorch ran as many epochs").toBe(lines.length);
            expect(
              closeMismatch(
                lines.map((l) => num(l.loss)),
                want,
                TRAJECTORY,
              ),
              "losses",
            ).toBeNull();
          }
          for (const [key, vs] of Object.entries(a.values)) {
            if (!key.startsWith(TRAIN_PARAM)) continue;
            const id = key.slice(TRAIN_PARAM.length);
            const got = lines.flatMap((l) => l.params[id].map(num));
            const want = torchNumbers(vs[0]).slice(0, got.length);
            expect(closeMismatch(got, want, TRAJECTORY), `${id} over the epochs`).toBeNull();
          }
        }
      });
    }
  }
});
