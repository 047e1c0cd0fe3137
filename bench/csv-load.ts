/**
 * Loading a large CSV file in the editor (issue 13: "loading a 100 MB CSV keeps the page responsive and shows
 * progress"): a csv node is added, the file chosen in its picker, and the main thread is watched until the file
 * is loaded: the longest task, the longest gap between frames, and the progress messages the page showed.
 * Run with `npx tsx bench/csv-load.ts [file.csv]` (default: a generated 100 MB file of 6 numeric columns).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dropKind } from "../tests/e2e/actions.ts";
import { app, closeApp } from "../tests/e2e/harness.ts";

function generated(bytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), "gradwire-csv-"));
  const path = join(dir, "big.csv");
  const parts: string[] = ["a,b,c,d,e,target\n"];
  let size = parts[0].length;
  let s = 1;
  const rnd = () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
  while (size < bytes) {
    const row = `${Array.from({ length: 6 }, () => (rnd() * 2 - 1).toFixed(6)).join(",")}\n`;
    parts.push(row);
    size += row.length;
  }
  writeFileSync(path, parts.join(""));
  return path;
}

async function main() {
  const path = process.argv[2] ?? generated(100e6);
  const a = await app();
  const context = await a.browser.newContext({ viewport: { width: 1600, height: 900 } });
  const page = await context.newPage();
  await page.goto(a.url);
  await page.waitForSelector('[data-testid="app-ready"]', { state: "attached" });
  const id = await dropKind(page, "csv", { x: 700, y: 400 });
  await page.locator(`.gw-node[data-node-id="${id}"]`).click();
  await page.waitForSelector('[data-testid="csv-file"]', { state: "attached" });
  await page.evaluate(`(() => {
    window.__long = []; window.__gaps = []; window.__msgs = []; window.__stop = false;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
      .observe({ type: "longtask", buffered: false });
    let last = performance.now();
    const tick = (t) => { window.__gaps.push(t - last); last = t; if (!window.__stop) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    new MutationObserver(() => {
      const el = document.querySelector('[data-testid="csv-status"]');
      const t = el ? el.textContent : "";
      if (t && window.__msgs[window.__msgs.length - 1] !== t) window.__msgs.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
  const t0 = Date.now();
  await page.setInputFiles('[data-testid="csv-file"]', path);
  await page.waitForFunction(
    () =>
      /rows/.test(document.querySelector('[data-testid="csv-status"]')?.textContent ?? "") ||
      document.querySelector('[data-testid="csv-error"]') !== null,
    undefined,
    { timeout: 600_000, polling: 50 },
  );
  const seconds = (Date.now() - t0) / 1000;
  await page.waitForTimeout(1500);
  const r = (await page.evaluate(
    "(() => { window.__stop = true; return { long: window.__long, gaps: window.__gaps.slice(1), msgs: window.__msgs }; })()",
  )) as { long: number[]; gaps: number[]; msgs: string[] };
  const max = (xs: number[]) => xs.reduce((m, x) => Math.max(m, x), 0);
  console.log(
    `CSV ${(statSync(path).size / 1e6).toFixed(0)} MB loaded in ${seconds.toFixed(1)} s; longest main-thread task ${max(r.long).toFixed(0)} ms, ${r.long.length} long tasks; longest frame gap ${max(r.gaps).toFixed(0)} ms; ${r.msgs.length} progress messages: ${r.msgs.slice(0, 3).join(" | ")} … ${r.msgs.at(-1)}`,
  );
  await context.close();
  await closeApp();
  if (!process.argv[2]) rmSync(join(path, ".."), { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
