// @vitest-environment happy-dom
/**
 * What the editor opens with: a share link's graph survives a reload before any edit, and no autosave content,
 * however broken, keeps the editor from starting or loses the text.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { AUTOSAVE_KEY, UNREADABLE_KEY } from "../../src/ui/files/autosave.ts";
import { shareUrl } from "../../src/ui/files/share.ts";
import { resolveStartup } from "../../src/ui/startup.ts";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "../..");
const example = readFileSync(resolve(ROOT, "examples/05-guessing-game.json"), "utf8");

/** A graph whose node id is `__proto__` (JSON.parse makes it an own property), once crashing the loader. */
const PROTO = readFileSync(resolve(ROOT, "tests/fixtures/proto-ids.graph.json"), "utf8");
/** The same with the edge's id `__proto__` too. */
const PROTO_EDGE = PROTO.replace('"id": "e1"', '"id": "__proto__"');

describe("startup", () => {
  beforeEach(() => localStorage.clear());

  it("autosaves a share link's graph at once, so a reload without an edit opens it again", async () => {
    const url = await shareUrl(example, "http://localhost/");
    const first = await resolveStartup(new URL(url).hash);
    expect(first.source).toBe("link");
    // The page clears the link; the reload has only the autosave.
    const reload = await resolveStartup("");
    expect(reload.source).toBe("autosave");
    expect(reload.doc).toEqual(first.doc);
  });

  it("starts with any autosave content, reporting what it could not restore and keeping its text", async () => {
    for (const text of [
      PROTO,
      PROTO_EDGE,
      "{",
      "null",
      '{"format":"gradwire.graph","version":1,"nodes":{"__proto__":{}}}',
    ]) {
      localStorage.setItem(AUTOSAVE_KEY, text);
      const s = await resolveStartup("");
      if (s.source === "autosave") continue; // a loader that accepts it (or refuses the id) is fine too
      expect(s.source).toBe("empty");
      expect(s.problems[0].title).toMatch(/autosaved graph could not be restored/);
      expect(localStorage.getItem(UNREADABLE_KEY)).toBe(text);
    }
  });

  it("falls through to the autosave when a link's graph crashes the loader", async () => {
    localStorage.setItem(AUTOSAVE_KEY, example);
    const url = await shareUrl(PROTO, "http://localhost/");
    const s = await resolveStartup(new URL(url).hash);
    expect(s.source === "autosave" || s.source === "link").toBe(true);
    if (s.source === "autosave") expect(s.problems[0].title).toMatch(/shared graph could not be opened/);
  });
});
