// Small DOM helpers. Text always goes in as text nodes, never as markup.

/**
 * Create an element: `el('p', {class: 'muted'}, 'text', child)`. Attributes named `on…` become
 * event listeners, `dataset` fills data-* attributes, `true` sets a boolean attribute.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
}

/** Replace all children of `node`. */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node;
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

/** Only http(s) URLs are ever put into src/href. */
export function safeUrl(url) {
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Start a download of `url` (the server answers it with Content-Disposition: attachment). */
export function startDownload(url) {
  const href = safeUrl(url);
  if (!href) throw new Error('The download link is not valid.');
  const link = el('a', { href, download: '', rel: 'noopener' });
  document.body.append(link);
  link.click();
  link.remove();
}

/** Disable a button while `work` runs. */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
