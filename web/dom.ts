// A small helper for building elements: text only (never HTML strings), so server text cannot inject markup.
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

/** A bar as wide as the share (0..1); hidden from screen readers, which read the number next to it. */
export function bar(share: number, colour?: string): HTMLSpanElement {
  const fill = element('span', 'fill');
  fill.style.width = `${Math.max(0, Math.min(1, share)) * 100}%`;
  if (colour) fill.style.backgroundColor = colour;
  const track = element('span', 'bar', fill);
  track.setAttribute('aria-hidden', 'true');
  return track;
}
