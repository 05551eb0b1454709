type Record_ = Record<string, unknown>;

const isRecord = (value: unknown): value is Record_ =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

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
