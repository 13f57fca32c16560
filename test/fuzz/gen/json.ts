/** JSON documents the generators take apart: rule files as YAML data, webhook payloads. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export type JsonPath = readonly (string | number)[];

/** Every place in a document by its path, the document itself first (the empty path). */
export function jsonPaths(doc: Json, at: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(at);
  if (Array.isArray(doc)) doc.forEach((v, i) => jsonPaths(v, [...at, i], out));
  else if (doc && typeof doc === "object") for (const [k, v] of Object.entries(doc)) jsonPaths(v, [...at, k], out);
  return out;
}

/** The container of the place at a non-empty path, and the place's key in it. */
export function placeOf(doc: Json, path: JsonPath): { container: Record<string | number, Json>; key: string | number } {
  let container = doc as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) container = container[p] as Record<string | number, Json>;
  return { container, key: path[path.length - 1]! };
}
