// Building and updating the cards of jobs and of the history. Text goes in as text only; images
// are <img> of http(s) URLs the API gave (the stored, sanitized files).

import { clearDraft } from './drafts.js';
import { el, replaceChildren, safeUrl, show } from './dom.js';
import { isTerminal } from './jobs.js';
import { STATUS_LABELS, formatBytes, formatDate, jobErrorText } from './messages.js';

/** "style · model · private" for a job or a generation. */
function describe(item) {
  return `${item.style} · ${item.model} · ${item.privacy ? 'private' : 'public'}`;
}

function whenAndSize(item) {
  return `${formatDate(item.createdAt)} · ${formatBytes(item.sizeBytes)}`;
}

/**
 * A job's card; `parts` holds the elements that `updateJobCard` changes. `onRefine(instruction,
 * button)` resolves to null once the refinement is queued, or to the text of what went wrong;
 * `onSelect(generationId)` picks one drawing of a job that made several.
 */
export function createJobCard(jobId, { onCancel, onDownload, onRefine, onSelect }) {
  const parts = {
    placeholder: el('div', { class: 'job-placeholder' }, el('span', { class: 'spinner' })),
    draft: el('img', { class: 'job-draft', alt: 'The drawing so far', hidden: true }),
    image: el('img', { class: 'job-image', alt: '', hidden: true }),
    prompt: el('p', { class: 'job-prompt' }),
    parent: el('p', { class: 'job-parent', hidden: true }),
    meta: el('p', { class: 'job-meta' }),
    pill: el('span', { class: 'pill' }),
    progress: el('progress', { max: 100, value: 0 }),
    error: el('p', { class: 'job-error', hidden: true }),
    variants: el('div', { class: 'job-variants', role: 'group', hidden: true }),
    draftUrl: null,
    variantIds: '',
    onSelect,
  };
  parts.cancel = el(
    'button',
    { type: 'button', class: 'button ghost small', onclick: () => onCancel(parts.cancel) },
    'Cancel',
  );
  parts.download = el(
    'button',
    { type: 'button', class: 'button secondary small', onclick: () => onDownload(parts.download) },
    'Download SVG',
  );
  parts.refineForm = createRefineForm(onRefine);
  parts.refine = el(
    'button',
    {
      type: 'button',
      class: 'button ghost small',
      onclick: () => {
        show(parts.refineForm.root, parts.refineForm.root.hidden);
        if (!parts.refineForm.root.hidden) parts.refineForm.input.focus();
      },
    },
    'Refine',
  );
  parts.draft.addEventListener('load', () => {
    if (!parts.image.hidden || !parts.draftUrl) return;
    show(parts.draft, true);
    show(parts.placeholder, false);
  });
  parts.image.addEventListener('load', () => {
    show(parts.image, true);
    show(parts.placeholder, false);
    clearDraft(parts); // the final drawing replaces the draft
  });
  parts.image.addEventListener('error', () => {
    parts.placeholder.replaceChildren('Preview unavailable');
  });
  parts.root = el(
    'li',
    { class: 'job', dataset: { jobId } },
    el('div', { class: 'job-media' }, parts.placeholder, parts.draft, parts.image),
    el(
      'div',
      { class: 'job-body' },
      parts.prompt,
      parts.parent,
      parts.meta,
      el('div', { class: 'job-status' }, parts.pill, parts.progress),
      parts.error,
      parts.variants,
      el('div', { class: 'job-actions' }, parts.cancel, parts.download, parts.refine),
      parts.refineForm.root,
    ),
  );
  return parts;
}

/** "What should change?": the instruction of a refinement, sent by `onRefine`. */
function createRefineForm(onRefine) {
  const input = el('input', {
    type: 'text',
    name: 'instruction',
    maxlength: 1000,
    required: true,
    placeholder: 'Make the fox orange',
    'aria-label': 'What should change?',
  });
  const send = el('button', { type: 'submit', class: 'button primary small' }, 'Send refinement');
  const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
  const root = el('form', { class: 'job-refine', hidden: true }, input, send, error);
  root.addEventListener('submit', async (event) => {
    event.preventDefault();
    show(error, false);
    const problem = await onRefine(input.value, send);
    if (problem) {
      error.textContent = problem;
      show(error, true);
      return;
    }
    root.reset();
    show(root, false);
  });
  return { root, input };
}

/** Show `job` in its card (statuses, progress, error, buttons, image). */
export function updateJobCard(parts, job) {
  parts.root.dataset.status = job.status;
  if (job.generationId) parts.root.dataset.generationId = job.generationId;
  parts.prompt.textContent = job.prompt || '…';
  parts.meta.textContent = job.style ? describe(job) : '';
  parts.pill.textContent = STATUS_LABELS[job.status] ?? job.status;
  parts.pill.className = `pill status-${String(job.status).toLowerCase()}`;
  parts.progress.value = job.status === 'SUCCEEDED' ? 100 : (job.progress ?? 0);
  show(parts.progress, !isTerminal(job));
  const failed = job.status === 'FAILED';
  parts.error.textContent = failed ? jobErrorText(job.errorCode, job.errorMessage) : '';
  show(parts.error, failed);
  show(parts.cancel, job.status === 'QUEUED');
  const done = job.status === 'SUCCEEDED' && Boolean(job.generationId);
  show(parts.download, done);
  show(parts.refine, done);
  if (!done) show(parts.refineForm.root, false);
  parts.root.classList.toggle('failed', failed);
  renderParent(parts, job);
  renderVariants(parts, job);
  renderJobImage(parts, job);
}

/** A refinement names the drawing it changes. */
function renderParent(parts, job) {
  if (!job.parentId) return;
  parts.root.dataset.parentId = job.parentId;
  parts.parent.textContent = job.parentPrompt
    ? `Refines “${job.parentPrompt}”`
    : 'Refines an earlier drawing';
  show(parts.parent, true);
}

/** Every drawing of a job that made several, the one shown (and downloaded, refined) pressed. */
function renderVariants(parts, job) {
  const made = Array.isArray(job.generations) ? job.generations : [];
  if (made.length < 2) return;
  const ids = made.map((g) => g.id).join(',');
  if (ids !== parts.variantIds) {
    parts.variantIds = ids;
    const buttons = made.map((g, i) =>
      el(
        'button',
        {
          type: 'button',
          class: 'variant',
          dataset: { generationId: g.id },
          'aria-label': `Drawing ${i + 1} of ${made.length}`,
          onclick: () => parts.onSelect(g.id),
        },
        el('img', { src: safeUrl(g.svgUrl), alt: '', decoding: 'async' }),
      ),
    );
    replaceChildren(parts.variants, buttons);
    parts.variants.setAttribute('aria-label', `${made.length} drawings`);
  }
  const chosen = job.selectedId || job.generationId;
  for (const button of parts.variants.children) {
    button.setAttribute('aria-pressed', String(button.dataset.generationId === chosen));
  }
  show(parts.variants, true);
}

function renderJobImage(parts, job) {
  if (job.status === 'FAILED') {
    clearDraft(parts);
    const mark = el('span', { class: 'failed-mark', 'aria-hidden': 'true' }, '!');
    parts.placeholder.replaceChildren(mark);
    return;
  }
  const src = job.imageUrl ? safeUrl(job.imageUrl) : null;
  if (src && parts.image.getAttribute('src') !== src) {
    parts.image.alt = `SVG generated for: ${job.prompt ?? ''}`;
    parts.image.src = src;
  }
}

/** One generation of the history, its image loaded from the signed `svgUrl`. */
export function createHistoryCard(item, { onDownload }) {
  const download = el(
    'button',
    { type: 'button', class: 'button secondary small', onclick: () => onDownload(download) },
    'Download',
  );
  const image = el('img', { src: safeUrl(item.svgUrl), alt: item.prompt, decoding: 'async' });
  image.addEventListener('error', () => image.parentElement?.classList.add('broken'));
  return el(
    'li',
    { class: 'gallery-item', dataset: { generationId: item.id } },
    el('div', { class: 'thumb' }, image),
    el('p', { class: 'gallery-prompt', title: item.prompt }, item.prompt),
    el('p', { class: 'gallery-meta' }, describe(item)),
    el('p', { class: 'gallery-meta' }, whenAndSize(item)),
    item.parentId ? el('p', { class: 'gallery-meta gallery-parent' }, 'A refinement') : null,
    el('div', { class: 'gallery-foot' }, download),
  );
}
