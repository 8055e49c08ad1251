// WCAG 2.x contrast ratio of every visible text node under the elements matched by ``roots`` (CSS selectors),
// computed from the rendered page: the text's colour against its background, with the translucent backgrounds
// of its ancestors composited down to the first opaque one. Used by tests/test_browser.py.
(roots) => {
  const parse = (value) => {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const background = (element) => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) {
        layers.push(c);
        if (c[3] >= 1) break;
      }
    }
    let color = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) color = over(layers[i], color);
    return color;
  };
  const channel = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const luminance = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const ratio = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const found = [];
  for (const selector of roots) {
    for (const root of document.querySelectorAll(selector)) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim()) continue;
        const element = node.parentElement;
        const rect = element.getBoundingClientRect();
        const style = getComputedStyle(element);
        if (!rect.width || !rect.height || style.visibility === "hidden" || element.closest("details:not([open]) > :not(summary)")) continue;
        const bg = background(element);
        const fg = over(parse(style.color), bg);
        found.push({ root: selector, tag: element.tagName.toLowerCase(), cls: element.className, text: node.textContent.trim().slice(0, 40), ratio: Math.round(ratio(fg, bg) * 100) / 100, fg: style.color, bg: `rgb(${bg.slice(0, 3).map(Math.round).join(",")})` });
      }
    }
  }
  return found;
}
