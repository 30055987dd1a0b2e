/**
 * BPE merging in O(n log n) for long pieces (SentencePiece-style tokenizers such as Gemma's have
 * no pre-tokenizer, so a whole paragraph is one piece): the symbols form a linked list and the
 * candidate pairs a min-heap ordered by (rank, position), as in Hugging Face's Rust Word::merge_all.
 * A popped pair that no longer stands at its position (a neighbour merged first) is skipped.
 */

/** A merge of the pair (a, b): its rank (lower first) and the id it makes. */
export interface MergeRule {
  readonly rank: number;
  readonly id: number;
}

/** Min-heap of (rank, pos, id) triples in flat arrays. */
class PairHeap {
  private rank: number[] = [];
  private pos: number[] = [];
  private id: number[] = [];

  get size(): number {
    return this.rank.length;
  }

  private less(i: number, j: number): boolean {
    return this.rank[i] < this.rank[j] || (this.rank[i] === this.rank[j] && this.pos[i] < this.pos[j]);
  }

  private swap(i: number, j: number): void {
    [this.rank[i], this.rank[j]] = [this.rank[j], this.rank[i]];
    [this.pos[i], this.pos[j]] = [this.pos[j], this.pos[i]];
    [this.id[i], this.id[j]] = [this.id[j], this.id[i]];
  }

  push(rank: number, pos: number, id: number): void {
    this.rank.push(rank);
    this.pos.push(pos);
    this.id.push(id);
    for (let i = this.rank.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the smallest triple; returns [rank, pos, id]. */
  pop(): [number, number, number] {
    const top: [number, number, number] = [this.rank[0], this.pos[0], this.id[0]];
    const last = this.rank.length - 1;
    this.swap(0, last);
    this.rank.pop();
    this.pos.pop();
    this.id.pop();
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

/** Applies the merges to a sequence of ids: lowest rank first, leftmost on ties. */
export function mergeIds(ids: readonly number[], rule: (a: number, b: number) => MergeRule | undefined): number[] {
  const n = ids.length;
  if (n < 2) return [...ids];
  const sym = Int32Array.from(ids);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new PairHeap();
  const offer = (pos: number) => {
    const nx = next[pos];
    if (nx < 0) return;
    const m = rule(sym[pos], sym[nx]);
    if (m !== undefined) heap.push(m.rank, pos, m.id);
  };
  for (let i = 0; i + 1 < n; i++) offer(i);
  while (heap.size > 0) {
    const [, pos, id] = heap.pop();
    const nx = next[pos];
    if (!alive[pos] || nx < 0) continue;
    // Still the same pair? (Either symbol may have been merged into another since it was queued.)
    if (rule(sym[pos], sym[nx])?.id !== id) continue;
    sym[pos] = id;
    alive[nx] = 0;
    next[pos] = next[nx];
    if (next[nx] >= 0) prev[next[nx]] = pos;
    if (prev[pos] >= 0) offer(prev[pos]);
    offer(pos);
  }
  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i]) out.push(sym[i]);
  return out;
}
