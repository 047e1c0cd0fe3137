/**
 * Share links: the graph file, deflated and base64url-encoded, in the URL's fragment (`#graph=...`), so the
 * link carries the whole graph and nothing is uploaded anywhere. Falls back to plain base64url where the
 * browser has no CompressionStream.
 */

import { MAX_FILE_BYTES } from "../../graph/format.ts";

const PREFIX_DEFLATE = "d.";
const PREFIX_PLAIN = "p.";

function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(s: string): Uint8Array {
  const b64 = s.replaceAll("-", "+").replaceAll("_", "/") + "===".slice((s.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function pipe(bytes: Uint8Array, stream: GenerativeStream): Promise<Uint8Array> {
  const out = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

type GenerativeStream = CompressionStream | DecompressionStream;

export async function encodeGraph(text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  if (typeof CompressionStream === "function")
    return PREFIX_DEFLATE + toBase64Url(await pipe(bytes, new CompressionStream("deflate-raw")));
  return PREFIX_PLAIN + toBase64Url(bytes);
}

class TooLarge extends Error {}

const tooLarge = () =>
  new Error(
    `the shared graph is larger than ${MAX_FILE_BYTES / 1e6} MB once unpacked, the most a graph file may be`,
  );

/** Inflate, stopping as soon as the output passes `limit` bytes (a small link can unpack to gigabytes). */
async function inflateAtMost(bytes: Uint8Array, limit: number): Promise<Uint8Array> {
  const reader = new Blob([bytes as BlobPart])
    .stream()
    .pipeThrough(new DecompressionStream("deflate-raw"))
    .getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new TooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The file text a share fragment carries; throws with a readable message when the link is damaged or unpacks
 * to more than a graph file may hold (the same cap as importing a file).
 */
export async function decodeGraph(fragment: string): Promise<string> {
  try {
    if (fragment.startsWith(PREFIX_DEFLATE)) {
      const bytes = await inflateAtMost(fromBase64Url(fragment.slice(2)), MAX_FILE_BYTES);
      return new TextDecoder().decode(bytes);
    }
    if (fragment.startsWith(PREFIX_PLAIN)) {
      if ((fragment.length - 2) * 0.75 > MAX_FILE_BYTES) throw new TooLarge();
      return new TextDecoder().decode(fromBase64Url(fragment.slice(2)));
    }
  } catch (e) {
    if (e instanceof TooLarge) throw tooLarge();
    throw new Error("the shared link is damaged (it was probably cut short when copied)");
  }
  throw new Error("the shared link is not one gradwire made");
}

export const HASH_KEY = "graph";

export async function shareUrl(text: string, base: string = location.href): Promise<string> {
  const u = new URL(base);
  u.hash = `${HASH_KEY}=${await encodeGraph(text)}`;
  return u.toString();
}

/** The encoded graph in a URL's fragment, if there is one. */
export function fragmentOf(hash: string): string | undefined {
  const h = hash.startsWith("#") ? hash.slice(1) : hash;
  const params = new URLSearchParams(h);
  return params.get(HASH_KEY) ?? undefined;
}
