/**
 * The few SVG string helpers the plots share. Everything here is pure string work with no
 * DOM and no Node modules, so the same code draws files in the CLI and pages in a browser.
 */

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for use inside an element or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

/**
 * A coordinate or size as short text: at most two decimals, no trailing zeros, and no "-0"
 * (files stay small and diffs stay stable across runs).
 */
export function num(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`svg: coordinate must be a finite number, got ${String(v)}.`);
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** Attribute values: numbers pass through {@link num}, strings are escaped, undefined is dropped. */
export type Attrs = Readonly<Record<string, string | number | undefined>>;

function attrText(attrs: Attrs): string {
  let out = '';
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    out += ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v)}"`;
  }
  return out;
}

/** One element; `children` is already-built SVG markup (escape text with {@link escapeXml}). */
export function el(tag: string, attrs: Attrs, children?: string): string {
  return children === undefined ? `<${tag}${attrText(attrs)}/>` : `<${tag}${attrText(attrs)}>${children}</${tag}>`;
}

/** A text element whose content is escaped here. */
export function text(attrs: Attrs, content: string): string {
  return el('text', attrs, escapeXml(content));
}

/** The outer <svg> element with a white background, sized in CSS pixels. */
export function svgDocument(width: number, height: number, body: string, title?: string): string {
  const head = title === undefined ? '' : el('title', {}, escapeXml(title));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" ` +
    `viewBox="0 0 ${num(width)} ${num(height)}" font-family="sans-serif">` +
    head +
    el('rect', { class: 'background', x: 0, y: 0, width, height, fill: '#ffffff' }) +
    body +
    '</svg>\n'
  );
}
