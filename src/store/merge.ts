import { isDeepStrictEqual } from 'node:util';

type Record_ = Record<string, unknown>;

const isRecord = (value: unknown): value is Record_ =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Two values of a key are the same when they serialize alike (a Date set by this request
 * equals the string it reads back as); values JSON cannot write (a BigInt kept by a
 * BigInt-aware serializer) are compared structurally.
 */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return isDeepStrictEqual(a, b);
  }
}

/**
 * Three-way merge of a session written by two requests at once, key by key: the keys
 * this request changed (from `base`, what it read) win; every other key keeps the
 * value the other request stored (`theirs`). Sessions that are not plain objects: ours wins.
 */
export function mergeSessions(base: unknown, ours: unknown, theirs: unknown): unknown {
  if (!isRecord(base) || !isRecord(ours) || !isRecord(theirs)) return ours;
  const merged: Record_ = { ...theirs };
  for (const key of new Set([...Object.keys(base), ...Object.keys(ours)])) {
    if (same(base[key], ours[key])) continue;
    if (key in ours) merged[key] = ours[key];
    else delete merged[key];
  }
  return merged;
}
