// Live drafts: the drawing so far, as the server pushes it (`generation-job:draft`) while a
// streaming model writes. The SVG text is already sanitized by the server, and it still never
// enters the page as markup: it becomes a blob: URL shown by an <img>, where an SVG can run no
// script and load nothing (the page's CSP allows `img-src blob:` for this only).

import { show } from './dom.js';

/** Show `svg` as the card's draft, in place of the previous one. */
export function showDraft(parts, svg) {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  const previous = parts.draftUrl;
  parts.draftUrl = url;
  parts.draft.src = url;
  if (previous) URL.revokeObjectURL(previous);
  const count = Number(parts.root.dataset.drafts || 0) + 1;
  parts.root.dataset.drafts = String(count);
}

/** The draft is over (the final image is shown, or the job failed): drop it. */
export function clearDraft(parts) {
  if (!parts.draftUrl) return;
  URL.revokeObjectURL(parts.draftUrl);
  parts.draftUrl = null;
  parts.draft.removeAttribute('src');
  show(parts.draft, false);
}
