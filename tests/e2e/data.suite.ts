/**
 * A large CSV file chosen in the editor: it is read, hashed and parsed in a Web Worker while the inspector shows
 * how far the parse has got, and only then does the csv node change. A bad cell deep in a large file names its
 * row and column and leaves the node as it was.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dropKind, exportJson } from "./actions.ts";
import { type Session, suitePage } from "./harness.ts";

let s: Session;
const dir = mkdtempSync(join(tmpdir(), "gradwire-csv-e2e-"));

/** About `mb` megabytes of rows `x0..x3,target`, with `bad` put in row `badRow` (1-based line) if given. */
function csvFile(
  name: string,
  mb: number,
  bad?: { row: number; cell: string },
): { path: string; text: string } {
  const lines = ["x0,x1,x2,x3,target"];
  let size = lines[0].length;
  for (let r = 0; size < mb * 1e6; r++) {
    const line = `${(r % 97) / 10},${(r % 13) - 6},${r % 7},${(r * 31) % 101},${r % 3}`;
    lines.push(line);
    size += line.length + 1;
  }
  if (bad) lines[bad.row - 1] = `1,2,${bad.cell},4,0`;
  const text = `${lines.join("\n")}\n`;
  const path = join(dir, name);
  writeFileSync(path, text);
  return { path, text };
}

/** Watch the csv picker's status line and progress bar until the load ends. */
async function watchPicker(): Promise<void> {
  await s.page.evaluate(`(() => {
    window.__csv = { messages: [], progress: 0 };
    new MutationObserver(() => {
      const t = document.querySelector('[data-testid="csv-status"]')?.textContent ?? "";
      const m = window.__csv.messages;
      if (t && m[m.length - 1] !== t) m.push(t);
      if (document.querySelector('[data-testid="csv-progress"]')) window.__csv.progress++;
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  })()`);
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a large CSV file", () => {
  suitePage((_a, session) => {
    s = session;
  });

  it("is parsed off the main thread with progress, then loaded into the node", async () => {
    const id = await dropKind(s.page, "csv", { x: 640, y: 360 });
    await s.page.click(`.gw-node[data-node-id="${id}"] .gw-node-head`);
    const big = csvFile("big.csv", 12);
    await watchPicker();
    await s.page.setInputFiles('[data-testid="csv-file"]', big.path);
    await s.page.waitForFunction(
      () => /rows/.test(document.querySelector('[data-testid="csv-status"]')?.textContent ?? ""),
      undefined,
      { timeout: 120_000 },
    );
    const seen = (await s.page.evaluate("window.__csv")) as { messages: string[]; progress: number };
    const rows = big.text.trim().split("\n").length - 1;
    expect(seen.messages.at(-1)).toBe(`big.csv: ${rows.toLocaleString("en")} rows, 4 features`);
    // Part-way progress was shown, as text and as a bar.
    expect(seen.messages.some((m) => /^Parsing big\.csv: [0-9]{1,2}%$/.test(m))).toBe(true);
    expect(seen.progress).toBeGreaterThan(0);
    await expect.poll(() => s.page.locator('[data-testid="csv-progress"]').count()).toBe(0);
    // The node names the file by path and hash; a file this large is not embedded.
    const node = JSON.parse(await exportJson(s.page)).nodes.find((n: { id: string }) => n.id === id);
    expect(node.params.path).toBe("big.csv");
    expect(node.params.sha256).toBe(createHash("sha256").update(big.text).digest("hex"));
    expect(node.params.content ?? "").toBe("");
    // The training worker has the file too (its bytes were moved there): it evaluates the node, whose preview
    // shows the first row (0, -6, 0, 0) and no issue.
    const face = s.page.locator(`.gw-node[data-node-id="${id}"]`);
    await expect
      .poll(() => face.textContent(), { timeout: 30_000 })
      .toContain("[ 0.0000, -6.0000,  0.0000,  0.0000]");
    expect(await face.locator('[data-testid="node-issue"]').count()).toBe(0);
    expect(s.errors).toEqual([]);
  });

  it("names the row and column of a bad cell and leaves the node as it was", async () => {
    const before = await exportJson(s.page);
    const bad = csvFile("bad.csv", 6, { row: 150_001, cell: "n/a" });
    await s.page.setInputFiles('[data-testid="csv-file"]', bad.path);
    const error = s.page.locator('[data-testid="csv-error"]');
    await error.waitFor({ timeout: 120_000 });
    expect(await error.textContent()).toBe("bad.csv: row 150001, column 'x2': 'n/a' is not a number");
    expect(await exportJson(s.page)).toBe(before);
  });
});
