/**
 * Applying learned merges to one pre-tokenized piece. Token ids 0..255 are the byte tokens
 * (in some order), and merge number r (its rank) makes token id 256 + r from a pair of
 * existing tokens. Encoding a piece repeatedly merges the adjacent pair of lowest rank,
 * leftmost on ties, until no adjacent pair is a merge — the rule of GPT-2's encoder.
 */

/** First id produced by a merge; merge rank r produces id MERGE_BASE + r. */
export const MERGE_BASE = 256;

/**
 * Open-addressing hash table from a pair of token ids to a merge rank. Rank lookups are the
 * inner loop of encoding, and int-keyed typed arrays avoid both string keys and the boxed
 * doubles that a packed `a * V + b` key would need in a Map once it exceeds 2^30.
 */
export class PairTable {
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly ranks: Int32Array;
  private readonly mask: number;

  /** Sizes the table for `capacity` pairs at a load factor of at most 1/2. */
  constructor(capacity: number) {
    let size = 16;
    while (size < 2 * capacity) size *= 2;
    this.lefts = new Int32Array(size).fill(-1);
    this.rights = new Int32Array(size);
    this.ranks = new Int32Array(size);
    this.mask = size - 1;
  }

  private slot(a: number, b: number): number {
    // Multiplicative mixing of both ids, then fold the high bits down (Fibonacci-style hashing).
    let h = Math.imul(a ^ Math.imul(b, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** Records that (a, b) merges with rank `rank`; a pair added twice keeps its first rank. */
  set(a: number, b: number, rank: number): void {
    let i = this.slot(a, b);
    for (;;) {
      const l = this.lefts[i];
      if (l === -1) {
        this.lefts[i] = a;
        this.rights[i] = b;
        this.ranks[i] = rank;
        return;
      }
      if (l === a && this.rights[i] === b) return;
      i = (i + 1) & this.mask;
    }
  }

  /** Rank of the merge (a, b), or -1 if that pair is not a merge. */
  get(a: number, b: number): number {
    let i = this.slot(a, b);
    for (;;) {
      const l = this.lefts[i];
      if (l === -1) return -1;
      if (l === a && this.rights[i] === b) return this.ranks[i];
      i = (i + 1) & this.mask;
    }
  }
}

/** Pieces longer than this (in bytes) use the heap-based merge, whose cost is O(n log n) rather than O(n²). */
export const LONG_PIECE = 64;

/**
 * Merges `ids` in place by scanning for the lowest-rank pair each round; O(n²) but fastest
 * for the short pieces that make up almost all text. `pairRank[i]` caches the rank of
 * (ids[i], ids[i+1]) so a merge only recomputes the two pairs it touched.
 */
export function mergeScan(ids: number[], table: PairTable): number[] {
  let n = ids.length;
  if (n < 2) return ids;
  const pairRank = new Int32Array(n - 1);
  for (let i = 0; i < n - 1; i++) pairRank[i] = table.get(ids[i], ids[i + 1]);
  for (;;) {
    let best = -1;
    let at = -1;
    for (let i = 0; i < n - 1; i++) {
      const r = pairRank[i];
      if (r >= 0 && (best < 0 || r < best)) {
        best = r;
        at = i;
      }
    }
    if (at < 0) break;
    ids[at] = MERGE_BASE + best;
    // Close the gap left by ids[at + 1] and its pair rank.
    for (let k = at + 1; k < n - 1; k++) ids[k] = ids[k + 1];
    for (let k = at + 1; k < n - 2; k++) pairRank[k] = pairRank[k + 1];
    n--;
    if (at + 1 < n) pairRank[at] = table.get(ids[at], ids[at + 1]);
    if (at > 0) pairRank[at - 1] = table.get(ids[at - 1], ids[at]);
  }
  ids.length = n;
  return ids;
}

/**
 * Same result as {@link mergeScan}, for long pieces: a doubly linked list of tokens and a
 * min-heap of candidate pairs keyed by (rank, position). Entries go stale when a neighbour
 * merges; a popped entry is used only if the pair now at its position still has its rank
 * (a rank names exactly one pair, so that check is exact).
 */
export function mergeHeap(ids: number[], table: PairTable): number[] {
  const n = ids.length;
  if (n < 2) return ids;
  const tok = Int32Array.from(ids);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  // Entry = rank * 2^32 + position: ordering by this number is ordering by (rank, position),
  // i.e. lowest rank first and leftmost on ties; both fit easily below 2^53.
  const heap: number[] = [];
  const push = (rank: number, pos: number): void => {
    let i = heap.length;
    const e = rank * 4294967296 + pos;
    heap.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p] <= e) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = e;
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap.pop() as number;
    const m = heap.length;
    if (m > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= m) break;
        const c = l + 1 < m && heap[l + 1] < heap[l] ? l + 1 : l;
        if (heap[c] >= last) break;
        heap[i] = heap[c];
        i = c;
      }
      heap[i] = last;
    }
    return top;
  };
  for (let i = 0; i < n - 1; i++) {
    const r = table.get(tok[i], tok[i + 1]);
    if (r >= 0) push(r, i);
  }
  while (heap.length > 0) {
    const e = pop();
    const rank = Math.floor(e / 4294967296);
    const i = e - rank * 4294967296;
    if (tok[i] < 0) continue;
    const j = next[i];
    if (j >= n || table.get(tok[i], tok[j]) !== rank) continue;
    tok[i] = MERGE_BASE + rank;
    tok[j] = -1;
    const k = next[j];
    next[i] = k;
    if (k < n) {
      prev[k] = i;
      const r = table.get(tok[i], tok[k]);
      if (r >= 0) push(r, i);
    }
    const p = prev[i];
    if (p >= 0) {
      const r = table.get(tok[p], tok[i]);
      if (r >= 0) push(r, p);
    }
  }
  ids.length = 0;
  for (let i = 0; i < n; i = next[i]) ids.push(tok[i]);
  return ids;
}

/** Applies the merges to one piece's byte-token ids (in place), choosing the faster algorithm for its length. */
export function mergePiece(ids: number[], table: PairTable): number[] {
  return ids.length > LONG_PIECE ? mergeHeap(ids, table) : mergeScan(ids, table);
}
