/**
 * A nesting limit for graph data. Deeper than any tensor a person writes; deeper values would only exhaust the
 * stack of the recursive code that copies and checks them (immer, zod, structuredClone).
 */
export const MAX_DEPTH = 64;

/** The path of the first value nested deeper than MAX_DEPTH, found without recursion. */
export function tooDeep(json: unknown, max = MAX_DEPTH): PropertyKey[] | undefined {
  return findPath(json, (path) => path.length > max);
}

/**
 * The path of the first key `__proto__`. JSON.parse keeps it as an ordinary key, but copying the object (spread,
 * zod, structuredClone into a record) would set the copy's prototype instead, silently dropping the value.
 */
export function protoKey(json: unknown): PropertyKey[] | undefined {
  return findPath(json, (path) => path[path.length - 1] === "__proto__");
}

/** The path of the first value whose path meets `stop`, walking without recursion. */
function findPath(json: unknown, stop: (path: PropertyKey[]) => boolean): PropertyKey[] | undefined {
  const stack: [unknown, PropertyKey[]][] = [[json, []]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (stop(path)) return path;
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push([v[i], [...path, i]]);
    else if (typeof v === "object" && v !== null)
      for (const [k, x] of Object.entries(v)) stack.push([x, [...path, k]]);
  }
  return undefined;
}
