// The import remembers, for every document and member number of the file,
// the line where it first appeared: a million of each for a full registry.
// Two Maps took ≈ 2 s of hashing and garbage collection per million lines
// and 83 MB; this table keeps whole numbers in two typed arrays the garbage
// collector never scans (open addressing, linear probing, at most half
// full): ≈ 0.2 s and 32 MB per million keys.

/** Whole numbers the table takes: up to 15 digits (documents have 8, member numbers 12). */
const MAX_KEY = 999_999_999_999_999;
const MIN_CAPACITY = 1024;
const TWO_TO_THE_32 = 2 ** 32;

/** Whole number → the first line it was seen on. */
export class FirstLines {
  /** key + 1 per slot, so that 0 marks an empty slot (0 is a valid member number). */
  #keys: Float64Array;
  #lines: Float64Array;
  #size = 0;

  constructor(capacity = MIN_CAPACITY) {
    const slots = 2 ** Math.ceil(Math.log2(Math.max(MIN_CAPACITY, capacity * 2)));
    this.#keys = new Float64Array(slots);
    this.#lines = new Float64Array(slots);
  }

  get size(): number {
    return this.#size;
  }

  /** The line `key` was claimed on, or undefined. */
  get(key: number): number | undefined {
    const slot = this.#find(checkKey(key));
    return this.#keys[slot] === 0 ? undefined : this.#lines[slot];
  }

  /**
   * Records `line` for `key` unless the key is there already; returns the
   * earlier line when it was (and leaves it as it is).
   */
  claim(key: number, line: number): number | undefined {
    const slot = this.#find(checkKey(key));
    if (this.#keys[slot] !== 0) return this.#lines[slot];
    this.#keys[slot] = key + 1;
    this.#lines[slot] = line;
    this.#size += 1;
    // At most half full, so a probe stays short.
    if (this.#size * 2 > this.#keys.length) this.#grow();
    return undefined;
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  #find(key: number): number {
    const keys = this.#keys;
    const mask = keys.length - 1;
    const stored = key + 1;
    let slot = hash(key) & mask;
    for (;;) {
      const found = keys[slot];
      if (found === stored || found === 0) return slot;
      slot = (slot + 1) & mask;
    }
  }

  #grow(): void {
    const keys = this.#keys;
    const lines = this.#lines;
    this.#keys = new Float64Array(keys.length * 2);
    this.#lines = new Float64Array(keys.length * 2);
    for (let slot = 0; slot < keys.length; slot++) {
      const stored = keys[slot] as number;
      if (stored === 0) continue;
      const target = this.#find(stored - 1);
      this.#keys[target] = stored;
      this.#lines[target] = lines[slot] as number;
    }
  }
}

function checkKey(key: number): number {
  if (!Number.isInteger(key) || key < 0 || key > MAX_KEY)
    throw new RangeError(`FirstLines keys are whole numbers from 0 to ${MAX_KEY}, not ${key}`);
  return key;
}

/** Mixes both 32-bit halves of the key (Murmur3's finaliser), so sequential keys spread out. */
function hash(key: number): number {
  let h = Math.imul(
    (key >>> 0) ^ Math.imul(Math.floor(key / TWO_TO_THE_32), 0x9e3779b1),
    0x85ebca6b,
  );
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
