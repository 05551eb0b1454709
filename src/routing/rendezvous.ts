/** FNV-1a over the string's UTF-16 code units, 32 bits. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** MurmurHash3's finalizer: spreads every input bit over the whole word. */
function mix(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Rendezvous (highest random weight) hashing: each key ranks every server by a score of
 * (key, server) and goes to the highest. Keys spread evenly, and adding or removing one
 * of N servers moves only the keys that rank it first: about 1/N of them.
 */
export class Rendezvous {
  readonly #seeds: readonly number[];

  /** `ids` name the servers; the same ids give the same ranking in every process. */
  constructor(ids: readonly string[]) {
    this.#seeds = ids.map((id) => mix(fnv1a(id)));
  }

  /** Server positions for `key`, best first. */
  rank(key: string): number[] {
    const keyHash = fnv1a(key);
    const scores = this.#seeds.map((seed, index) => ({ index, score: mix(keyHash ^ seed) }));
    scores.sort((a, b) => b.score - a.score || a.index - b.index);
    return scores.map((s) => s.index);
  }
}
