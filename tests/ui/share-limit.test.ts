// A share link is capped like an imported file: a small link that unpacks past 20 MB is refused while
// unpacking, not after the whole text is in memory.
import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { MAX_FILE_BYTES } from "../../src/graph/format.ts";
import { decodeGraph } from "../../src/ui/files/share.ts";

const base64Url = (b: Uint8Array) => Buffer.from(b).toString("base64url");

describe("share link size", () => {
  it("refuses a link that unpacks to more than a graph file may hold, naming the limit", async () => {
    const bomb = deflateRawSync(Buffer.alloc(MAX_FILE_BYTES + 1_000_000, 32));
    expect(bomb.length).toBeLessThan(100_000);
    await expect(decodeGraph(`d.${base64Url(bomb)}`)).rejects.toThrow(/larger than 20 MB once unpacked/);
  });

  it("refuses an uncompressed link past the limit, and still opens one just under it", async () => {
    const big = Buffer.alloc(MAX_FILE_BYTES + 10, 32);
    await expect(decodeGraph(`p.${base64Url(big)}`)).rejects.toThrow(/larger than 20 MB/);
    const ok = Buffer.alloc(1_000_000, 32);
    expect((await decodeGraph(`d.${base64Url(deflateRawSync(ok))}`)).length).toBe(ok.length);
  });
});
