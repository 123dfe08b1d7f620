//! Scripts run inside the page. Each is one synchronous `execute` (~3 ms on loopback) that
//! answers a whole question at once — where is the element, is it usable, what is the page's
//! HTTP status — so a step costs few WebDriver round trips.

/// Is an element rendered where a person could see it (connected, with a box, not hidden by
/// `visibility`, `display` or `opacity`)? One definition, pasted into every script that
/// needs it ([`PROBE`], [`CANDIDATES`]).
macro_rules! visible_js {
    () => {
        r#"
const visible = (el) => {
  if (!el.isConnected) return false;
  const r = el.getBoundingClientRect();
  if (r.width <= 0 || r.height <= 0) return false;
  if (el.checkVisibility) {
    return el.checkVisibility({ opacityProperty: true, visibilityProperty: true });
  }
  const s = getComputedStyle(el);
  return s.visibility !== 'hidden' && s.display !== 'none' && s.opacity !== '0';
};
"#
    };
}

/// `probe(strategy, expr, needle, prepare)` → page facts plus, when `strategy` is set, the
/// first matching element (preferring a visible one) and its state:
/// `{href, title, status, text_found,
///   match: {count, el, visible, enabled, text, focused, point}|null,
///   invalid: message|null, net_error: code|null}`.
/// With `prepare` `"focus"`, a visible, enabled, editable text field (`<textarea>`, `<input>`
/// of type text, email, password, search, tel, url or number) is also focused with its text
/// selected (`focused: true`), so that one `Input.insertText` replaces its text — a `fill`
/// in two round trips.
/// With `prepare` `"point"`, a visible, enabled element entirely outside the viewport is
/// scrolled into view (`scrolled: true`, no `point`: the page reacts to the scroll after the
/// script); otherwise `point` is `{x, y}`: the centre of the part of its first layout box
/// inside the viewport (WebDriver's in-view centre point), in CSS pixels of the top-level
/// viewport — set only when the element (or one of its descendants) is what the page
/// hit-tests there, so a mouse click at `point` lands on it. An element under an overlay,
/// with `pointer-events: none`, or in a frame gets no `point`.
/// `origin` (`performance.timeOrigin` as a string) names the document: it changes when a
/// new document loads, and [`PAGE_TIMINGS`] compares it.
/// `net_error` is set on the browser's own error page (connection refused, DNS, TLS, reset):
/// Chromium's `ERR_…` code, or Firefox's `e=` code of `about:neterror` / `about:certerror`
/// (where `location` still names the page asked for and `document.documentURI` the error).
/// `status` is the HTTP status of the current document (Navigation Timing), 0 if unknown.
pub const PROBE: &str = concat!(
    r#"
const [strategy, expr, needle, prepare] = arguments;
const nav = performance.getEntriesByType('navigation')[0];
const out = {
  href: location.href,
  title: document.title,
  origin: String(performance.timeOrigin),
  status: (nav && nav.responseStatus) || 0,
  text_found: null,
  match: null,
  invalid: null,
  net_error: null,
};
if (location.protocol === 'chrome-error:') {
  // Chromium's own error page: the page could not be loaded at all.
  const code = document.querySelector('.error-code');
  out.net_error = (code && code.innerText.trim()) || 'the browser could not load the page';
  return out;
}
if (/^about:(neterror|certerror)\?/.test(document.documentURI)) {
  // Firefox's own error page.
  const code = new URLSearchParams(document.documentURI.split('?')[1]).get('e');
  out.net_error = code || 'the browser could not load the page';
  return out;
}
if (needle !== null) {
  out.text_found = !!document.body && document.body.innerText.includes(needle);
}
"#,
    visible_js!(),
    r#"const textOf = (el) => ((el.innerText !== undefined ? el.innerText : el.textContent) || '').trim();
const find = () => {
  if (strategy === 'css') return Array.from(document.querySelectorAll(expr));
  if (strategy === 'xpath') {
    const snap = document.evaluate(expr, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    const found = [];
    for (let i = 0; i < snap.snapshotLength; i++) {
      const n = snap.snapshotItem(i);
      if (n.nodeType === 1) found.push(n);
    }
    return found;
  }
  const want = expr.replace(/\s+/g, ' ').trim();
  const candidates = document.querySelectorAll(
    'a, button, input[type=submit], input[type=button], [role=button], [role=link], summary, label');
  return Array.from(candidates).filter((el) => {
    const t = (el.tagName === 'INPUT' ? el.value : textOf(el)).replace(/\s+/g, ' ').trim();
    return t === want;
  });
};
if (strategy !== null) {
  let all;
  try {
    all = find();
  } catch (e) {
    out.invalid = String(e && e.message || e);
    return out;
  }
  if (all.length > 0) {
    const el = all.find(visible) || all[0];
    out.match = {
      count: all.length,
      el: el,
      visible: visible(el),
      // :disabled also covers controls inside a disabled <fieldset>.
      enabled: !el.matches(':disabled') && el.getAttribute('aria-disabled') !== 'true',
      text: el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT'
        ? String(el.value) : textOf(el),
      focused: false,
    };
    const m = out.match;
    const TEXT = ['text', 'email', 'password', 'search', 'tel', 'url', 'number', ''];
    const field = (el instanceof HTMLTextAreaElement) ||
      (el instanceof HTMLInputElement && TEXT.includes((el.getAttribute('type') || '').toLowerCase()));
    if (prepare === 'focus' && m.visible && m.enabled && field && !el.readOnly) {
      el.focus();
      if (document.activeElement === el) {
        el.select();
        m.focused = true;
      }
    }
    m.point = null;
    m.scrolled = false;
    if (prepare === 'point' && m.visible && m.enabled && window === window.top) {
      // The viewport without scroll bars (in quirks mode the body stands for it).
      const root = document.compatMode === 'BackCompat' && document.body
        ? document.body : document.documentElement;
      const centre = () => {
        const boxes = el.getClientRects();
        const r = boxes.length > 0 ? boxes[0] : el.getBoundingClientRect();
        const vw = root.clientWidth || innerWidth;
        const vh = root.clientHeight || innerHeight;
        const left = Math.max(0, r.left), right = Math.min(vw, r.right);
        const top = Math.max(0, r.top), bottom = Math.min(vh, r.bottom);
        if (right <= left || bottom <= top) return null;
        return { x: (left + right) / 2, y: (top + bottom) / 2 };
      };
      const at = centre();
      if (at === null) {
        // What reacts to the scroll (a header that shows, content loaded late) has not
        // run yet: no point now; the next probe hit-tests the settled page.
        el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
        m.scrolled = true;
      } else {
        const hit = document.elementFromPoint(at.x, at.y);
        if (hit && (hit === el || el.contains(hit))) m.point = at;
      }
    }
  }
}
return out;
"#
);

/// `check_visible(el, min_contrast)` → `{ok, reason, detail, contrast, fg, bg}` where
/// `reason` is `not_visible`, `covered` or `low_contrast` when `ok` is false.
/// Checks, in order: displayed; non-zero size; inside the viewport after scrolling into view;
/// the element (or a descendant) is what is hit at its centre; and the contrast ratio of its
/// text colour over its effective background (walking up through transparent ancestors,
/// compositing translucent layers, white at the root) is at least `min_contrast`.
pub const CHECK_VISIBLE: &str = r#"
const [el, minContrast] = arguments;
const res = (ok, reason, detail, extra) => Object.assign({ ok, reason, detail }, extra || {});
const describe = (n) => {
  if (!n || !n.tagName) return String(n);
  let s = n.tagName.toLowerCase();
  if (n.id) s += '#' + n.id;
  if (n.classList && n.classList.length) s += '.' + Array.from(n.classList).join('.');
  return s;
};
const style = getComputedStyle(el);
const shown = el.checkVisibility
  ? el.checkVisibility({ opacityProperty: true, visibilityProperty: true })
  : style.display !== 'none' && style.visibility !== 'hidden' && style.opacity !== '0';
if (!el.isConnected || !shown) {
  return res(false, 'not_visible',
    `not displayed (display: ${style.display}, visibility: ${style.visibility}, opacity: ${style.opacity})`);
}
let r = el.getBoundingClientRect();
if (r.width <= 0 || r.height <= 0) {
  return res(false, 'not_visible', `has zero size (${r.width}x${r.height})`);
}
el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
r = el.getBoundingClientRect();
const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
if (cx < 0 || cy < 0 || cx >= innerWidth || cy >= innerHeight) {
  return res(false, 'not_visible',
    `lies outside the viewport even after scrolling (centre at ${Math.round(cx)},${Math.round(cy)}, viewport ${innerWidth}x${innerHeight})`);
}
const hit = document.elementFromPoint(cx, cy);
if (!hit || !(hit === el || el.contains(hit))) {
  return res(false, 'covered', `is covered at its centre by ${describe(hit)}`);
}
// Computed colours may be rgb()/rgba(), or oklch()/lab()/color() on modern sites; a 1x1
// canvas turns any CSS colour into sRGB bytes.
const canvas = document.createElement('canvas');
canvas.width = canvas.height = 1;
const g2d = canvas.getContext('2d', { willReadFrequently: true });
const parse = (c) => {
  const m = /^rgba?\(([^)]+)\)$/.exec(c);
  if (m) {
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(parseFloat);
    if (p.length >= 3 && p.every((x) => !isNaN(x))) {
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    }
  }
  if (!g2d) return null;
  g2d.clearRect(0, 0, 1, 1);
  g2d.fillStyle = '#010203';
  g2d.fillStyle = c;
  if (g2d.fillStyle === '#010203' && c !== '#010203') return null;
  g2d.fillRect(0, 0, 1, 1);
  const d = g2d.getImageData(0, 0, 1, 1).data;
  return { r: d[0], g: d[1], b: d[2], a: d[3] / 255 };
};
const over = (top, bottom) => ({
  r: top.r * top.a + bottom.r * (1 - top.a),
  g: top.g * top.a + bottom.g * (1 - top.a),
  b: top.b * top.a + bottom.b * (1 - top.a),
  a: 1,
});
const layers = [];
let image = null;
for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
  const s = getComputedStyle(n);
  if (s.backgroundImage && s.backgroundImage !== 'none' && !image) image = describe(n);
  const c = parse(s.backgroundColor);
  if (c === null) return res(false, 'low_contrast', `background colour ${s.backgroundColor} of ${describe(n)} could not be read, so contrast could not be checked`, { contrast: null });
  if (c.a > 0) layers.push(c);
  if (c.a >= 1) break;
}
let bg = { r: 255, g: 255, b: 255, a: 1 };
for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
const fgRaw = parse(style.color);
if (fgRaw === null) return res(false, 'low_contrast', `text colour ${style.color} could not be read, so contrast could not be checked`, { contrast: null });
const fg = over(fgRaw, bg);
const lum = (c) => {
  const ch = [c.r, c.g, c.b].map((v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
};
const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
const ratio = (l1 + 0.05) / (l2 + 0.05);
const contrast = Math.round(ratio * 100) / 100;
const rgb = (c) => `rgb(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)})`;
const extra = { contrast, fg: rgb(fg), bg: rgb(bg) };
if (ratio < minContrast) {
  let detail = `contrast ${contrast}:1 between text ${rgb(fg)} and background ${rgb(bg)} is below ${minContrast}:1`;
  if (image) detail += ` (a background image on ${image} is not taken into account)`;
  return res(false, 'low_contrast', detail, extra);
}
return res(true, null, `contrast ${contrast}:1`, extra);
"#;

/// `mask(secrets)`: before a screenshot or page capture, replace any secret in form field
/// values and text nodes with `••••`. What it changed is kept in the page so that
/// [`UNMASK_SECRETS`] can put it back when the journey goes on after a named screenshot.
pub const MASK_SECRETS: &str = r#"
const [secrets] = arguments;
const undo = [];
window.__journeyprobeUnmask = undo;
if (!secrets.length) return 0;
const scrub = (s) => {
  let out = s;
  for (const x of secrets) if (out.includes(x)) out = out.split(x).join('••••');
  return out;
};
for (const el of document.querySelectorAll('input, textarea')) {
  const v = scrub(el.value);
  if (v !== el.value) { undo.push([el, 'value', el.value]); el.value = v; }
  const a = el.getAttribute('value');
  if (a !== null && scrub(a) !== a) { undo.push([el, 'attr', a]); el.setAttribute('value', scrub(a)); }
}
const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
for (let t = walker.nextNode(); t; t = walker.nextNode()) {
  const v = scrub(t.nodeValue);
  if (v !== t.nodeValue) { undo.push([t, 'text', t.nodeValue]); t.nodeValue = v; }
}
return undo.length;
"#;

/// Put back what [`MASK_SECRETS`] changed.
pub const UNMASK_SECRETS: &str = r#"
const undo = window.__journeyprobeUnmask || [];
for (const [node, kind, original] of undo) {
  if (kind === 'value') node.value = original;
  else if (kind === 'attr') node.setAttribute('value', original);
  else node.nodeValue = original;
}
delete window.__journeyprobeUnmask;
return undo.length;
"#;

/// `pick(select, kind, want)` → `{option: element|null, is_select, disabled, available}`;
/// a matching but disabled option comes back as `option: null, disabled: true`.
/// `kind` is `value` (exact), `label` (whitespace-normalised text) or `index` (0-based, over
/// all options, optgroups included). Matching in the page avoids building selectors out of
/// user text, which would break on quotes.
pub const PICK_OPTION: &str = r#"
const [sel, kind, want] = arguments;
if (!sel || sel.tagName !== 'SELECT') return { option: null, is_select: false, available: [] };
const norm = (s) => String(s).replace(/\s+/g, ' ').trim();
const opts = Array.from(sel.options);
let option = null;
if (kind === 'value') option = opts.find((o) => o.value === want) || null;
else if (kind === 'label') option = opts.find((o) => norm(o.label || o.text) === norm(want)) || null;
else option = opts[want] || null;
const available = opts.slice(0, 20).map((o) => norm(o.label || o.text));
if (option && option.disabled) return { option: null, is_select: true, disabled: true, available };
return { option, is_select: true, disabled: false, available };
"#;

/// `page_timings(seen, wait_ms, done)` (asynchronous, after two turns of the event loop) →
/// `{origin, nav}`. `origin` names the
/// current document (`performance.timeOrigin` as a string, exact, unlike a float through
/// JSON). When it equals `seen` the step did not load a new document: the script answers at
/// once with `nav: null`, so a click that does not navigate costs one round trip. Otherwise
/// `nav` is `{ttfb, dcl, load, lcp}` in ms from the navigation's start, each null when the
/// browser does not have it yet (load not finished, no contentful paint). LCP is only
/// observable (not in the performance timeline), so a `PerformanceObserver` with
/// `buffered: true` delivers the entries already recorded; the script waits for them at most
/// `wait_ms`, which a page without any contentful paint costs in full.
pub const PAGE_TIMINGS: &str = r#"
const [seen, waitMs] = arguments;
const done = arguments[arguments.length - 1];
// Tasks the step queued (a form's submission) run first: a navigation they start unloads
// this document and the caller reads again, once the new page has loaded.
setTimeout(() => setTimeout(read, 0), 0);
function read() {
const origin = String(performance.timeOrigin);
const nav = performance.getEntriesByType('navigation')[0];
if (origin === seen || !nav || location.protocol === 'chrome-error:'
    || /^about:(neterror|certerror)\?/.test(document.documentURI)) {
  done({ origin, nav: null });
  return;
}
const since = (v) => (typeof v === 'number' && v > 0 ? v - nav.startTime : null);
const out = {
  ttfb: since(nav.responseStart),
  dcl: since(nav.domContentLoadedEventEnd),
  load: since(nav.loadEventEnd),
  lcp: null,
};
const types = (window.PerformanceObserver && PerformanceObserver.supportedEntryTypes) || [];
if (!types.includes('largest-contentful-paint')) {
  done({ origin, nav: out });
  return;
}
let finished = false;
let observer = null;
const finish = () => {
  if (finished) return;
  finished = true;
  if (observer) observer.disconnect();
  done({ origin, nav: out });
};
try {
  observer = new PerformanceObserver((list) => {
    const all = list.getEntries();
    if (all.length > 0) out.lcp = since(all[all.length - 1].startTime);
    finish();
  });
  observer.observe({ type: 'largest-contentful-paint', buffered: true });
} catch (e) {
  finish();
}
setTimeout(finish, waitMs);
}
"#;

/// `candidates(max, max_len)` → `{ids, names, test_ids: [[attr, value]], texts}`: what a
/// selector that matched nothing might have meant, read once after its wait failed (never
/// while polling). `ids`, `names` and `test_ids` (`data-testid`, `data-test`, `data-test-id`,
/// `data-cy`, `data-qa`) come from every element, hidden ones included; `texts` are the
/// visible texts a `text=` locator matches (links, buttons, submit and button inputs,
/// `[role=button]`, `[role=link]`, `summary`, `label`), whitespace collapsed. Each list holds
/// at most `max` distinct values, none longer than `max_len`, and at most `20 * max`
/// elements are looked at per list, so a huge page costs one bounded pass.
pub const CANDIDATES: &str = concat!(
    r#"
const [max, maxLen] = arguments;
const TEST = ['data-testid', 'data-test', 'data-test-id', 'data-cy', 'data-qa'];
const norm = (s) => String(s || '').replace(/\s+/g, ' ').trim();
"#,
    visible_js!(),
    r#"const collect = (selector, valueOf) => {
  const out = [];
  const seen = new Set();
  const all = document.querySelectorAll(selector);
  const n = Math.min(all.length, 20 * max);
  for (let i = 0; i < n && out.length < max; i++) {
    const v = valueOf(all[i]);
    const text = typeof v === 'string' ? v : (v && v[1]);
    if (!text || text.length > maxLen) continue;
    const key = typeof v === 'string' ? v : v.join('\u0000');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
};
const testSelector = TEST.map((a) => '[' + a + ']').join(',');
return {
  ids: collect('[id]', (el) => el.getAttribute('id')),
  names: collect('[name]', (el) => el.getAttribute('name')),
  test_ids: collect(testSelector, (el) => {
    const attr = TEST.find((a) => el.hasAttribute(a));
    return [attr, el.getAttribute(attr)];
  }),
  texts: collect(
    'a, button, input[type=submit], input[type=button], [role=button], [role=link], summary, label',
    (el) => {
      if (!visible(el)) return null;
      const t = el.tagName === 'INPUT' ? el.value
        : (el.innerText !== undefined ? el.innerText : el.textContent);
      return norm(t);
    }),
};
"#
);
