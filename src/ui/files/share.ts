/**
 * Share links: the graph file, deflated and base64url-encoded, in the URL's fragment (`#graph=...`), so the
 * link carries the whole graph and nothing is uploaded anywhere. Falls back to plain base64url where the
 * browser has no CompressionStream.
 */

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

/** The file text a share fragment carries; throws with a readable message when the link is damaged. */
export async function decodeGraph(fragment: string): Promise<string> {
  try {
    if (fragment.startsWith(PREFIX_DEFLATE)) {
      const bytes = await pipe(fromBase64Url(fragment.slice(2)), new DecompressionStream("deflate-raw"));
      return new TextDecoder().decode(bytes);
    }
    if (fragment.startsWith(PREFIX_PLAIN)) return new TextDecoder().decode(fromBase64Url(fragment.slice(2)));
  } catch {
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
