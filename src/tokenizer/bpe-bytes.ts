/**
 * Bytes for byte-level BPE: UTF-8 encoding of pre-tokenized pieces, and GPT-2's reversible
 * byte↔unicode alphabet used by its encoder.json / vocab.bpe files.
 */

/** Bytes GPT-2 shows as themselves: printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ'). */
function isPrintableLatin1(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

let byteToChar: readonly string[] | null = null;
let charToByte: ReadonlyMap<string, number> | null = null;

/**
 * GPT-2's byte alphabet: byte b ↦ one printable character, so that a token's bytes can be
 * written as a whitespace-free string in vocab.bpe. Printable Latin-1 bytes map to the same
 * code point; the other 68 bytes (controls, space, NBSP, soft hyphen) map, in increasing
 * byte order, to U+0100, U+0101, … — which is why a leading space shows as 'Ġ' (U+0120).
 */
export function gpt2ByteToChar(): readonly string[] {
  if (byteToChar === null) {
    const chars: string[] = [];
    let next = 0x100;
    for (let b = 0; b < 256; b++) {
      chars.push(String.fromCharCode(isPrintableLatin1(b) ? b : next++));
    }
    byteToChar = chars;
  }
  return byteToChar;
}

/** Inverse of {@link gpt2ByteToChar}: one alphabet character ↦ its byte. */
export function gpt2CharToByte(): ReadonlyMap<string, number> {
  if (charToByte === null) {
    charToByte = new Map(gpt2ByteToChar().map((c, b) => [c, b] as const));
  }
  return charToByte;
}

/** Decodes a GPT-2 alphabet string (a vocab.bpe / encoder.json entry) to bytes, or null if a character is outside the alphabet. */
export function gpt2StringToBytes(s: string): number[] | null {
  const map = gpt2CharToByte();
  const out: number[] = [];
  for (const ch of s) {
    const b = map.get(ch);
    if (b === undefined) return null;
    out.push(b);
  }
  return out;
}

/**
 * UTF-8 bytes of a JS string, appended to `out`. A lone surrogate (not part of a valid
 * high+low pair) becomes U+FFFD's bytes EF BF BD, exactly as TextEncoder does, so only
 * well-formed strings survive an encode/decode round trip.
 */
export function utf8Bytes(s: string, out: number[] = []): number[] {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out.push(c);
      continue;
    }
    if (c < 0x800) {
      out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        // Surrogate pair → code point in U+10000..U+10FFFF → four bytes.
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
        i++;
        continue;
      }
      c = 0xfffd;
    }
    out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return out;
}

// ignoreBOM: a decoded text that starts with U+FEFF must keep it, or round trips would drop it.
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** UTF-8 → string; invalid or truncated sequences become U+FFFD (never throws). */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
