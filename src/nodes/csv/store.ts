/**
 * Where a csv node's text comes from: embedded in the graph (its `content` param), or provided by whoever read
 * the file (the CLI from the path, relative to the graph file; the editor from the file picker or a drop),
 * keyed by its SHA-256 and by its path. Parsed data sets are cached per text and options, so validation and
 * evaluation parse a file once; a provided file's cache entry is named by its provision rather than by its text,
 * since using a 100 MB string as a map key hashes all of it.
 */
import {
  buildDataset,
  type CsvDataset,
  CsvError,
  type CsvOptions,
  type ParseProgress,
  parseCsv,
} from "./table.ts";

const provided = new Map<string, string>();
/** A name for each provided text, shared by all its keys: the cache's key for it (see cacheKey). */
const providedName = new Map<string, string>();
let provisions = 0;
/** `bytes`: the file as read, when the provider has them and a listener may take them over (transfer). */
type ProvideListener = (keys: readonly string[], text: string, bytes?: ArrayBuffer) => void;
const listeners = new Set<ProvideListener>();

/** Make a file's text available to csv nodes naming it by any of `keys` (its sha256, its path). */
export function provideCsv(keys: readonly string[], text: string, bytes?: ArrayBuffer): void {
  const name = `provided file ${++provisions}`;
  for (const k of keys)
    if (k !== "") {
      provided.set(k, text);
      providedName.set(k, name);
    }
  for (const l of listeners) l(keys, text, bytes);
}

/**
 * Follow provided files: `listener` gets every text provided so far, then each new one (the scheduler's Web
 * Worker has its own copy of this module, and the page forwards files to it this way). Returns the unsubscribe.
 */
export function followProvidedCsv(listener: ProvideListener): () => void {
  const byText = new Map<string, string[]>();
  for (const [k, t] of provided) byText.set(t, [...(byText.get(t) ?? []), k]);
  for (const [t, keys] of byText) listener(keys, t);
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export interface CsvSource {
  content: string;
  path: string;
  sha256: string;
}

/** The text for a node's source, or undefined when the file has not been provided. */
export function csvText(s: CsvSource): string | undefined {
  if (s.content !== "") return s.content;
  return (s.sha256 !== "" ? provided.get(s.sha256) : undefined) ?? provided.get(s.path);
}

/**
 * The name of a source's text in the cache: the name it was provided under when it is a provided file (found by
 * its hash or its path), else the text itself (embedded, so small).
 */
export function cacheKey(s: CsvSource, text: string): string {
  if (s.content === "")
    for (const k of [s.sha256, s.path])
      if (k !== "" && provided.get(k) === text) return providedName.get(k) ?? text;
  return text;
}

const MAX_CACHED_TEXTS = 4;
export type Built = { data: CsvDataset; header: boolean };
const cache = new Map<string, Map<string, Built | CsvError>>();

function entriesFor(key: string): Map<string, Built | CsvError> {
  let byOptions = cache.get(key);
  if (!byOptions) {
    if (cache.size >= MAX_CACHED_TEXTS) cache.delete(cache.keys().next().value as string);
    byOptions = new Map();
    cache.set(key, byOptions);
  }
  return byOptions;
}

/** Keep a data set built elsewhere (a Web Worker parsed the file), so this thread does not parse it again. */
export function rememberCsv(
  key: string,
  file: string,
  header: "auto" | "yes" | "no",
  o: CsvOptions,
  built: Built,
): void {
  entriesFor(key).set(JSON.stringify([file, header, o]), built);
}

/** Parse and build, once per text (named by `textKey`, see cacheKey) and options; a CsvError is cached and thrown again. */
export function csvDataset(
  text: string,
  file: string,
  header: "auto" | "yes" | "no",
  o: CsvOptions,
  onProgress?: ParseProgress,
  textKey = text,
): Built {
  const byOptions = entriesFor(textKey);
  const key = JSON.stringify([file, header, o]);
  let r = byOptions.get(key);
  if (r === undefined) {
    try {
      const table = parseCsv(text, file, header, onProgress);
      r = { data: buildDataset(table, o), header: table.header };
    } catch (e) {
      if (!(e instanceof CsvError)) throw e;
      r = e;
    }
    byOptions.set(key, r);
  }
  if (r instanceof CsvError) throw r;
  return r;
}
