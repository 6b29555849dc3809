// Building and updating the cards of jobs and of the history. Text goes in as text only; images
// are <img> of http(s) URLs the API gave (the stored, sanitized files).

import { el, safeUrl, show } from './dom.js';
import { isTerminal } from './jobs.js';
import { STATUS_LABELS, formatBytes, formatDate, jobErrorText } from './messages.js';

/** "style · model · private" for a job or a generation. */
function describe(item) {
  return `${item.style} · ${item.model} · ${item.privacy ? 'private' : 'public'}`;
}

function whenAndSize(item) {
  return `${formatDate(item.createdAt)} · ${formatBytes(item.sizeBytes)}`;
}

/** A job's card; `parts` holds the elements that `updateJobCard` changes. */
export function createJobCard(jobId, { onCancel, onDownload }) {
  const parts = {
    placeholder: el('div', { class: 'job-placeholder' }, el('span', { class: 'spinner' })),
    image: el('img', { class: 'job-image', alt: '', hidden: true }),
    prompt: el('p', { class: 'job-prompt' }),
    meta: el('p', { class: 'job-meta' }),
    pill: el('span', { class: 'pill' }),
    progress: el('progress', { max: 100, value: 0 }),
    error: el('p', { class: 'job-error', hidden: true }),
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
  parts.image.addEventListener('load', () => {
    show(parts.image, true);
    show(parts.placeholder, false);
  });
  parts.image.addEventListener('error', () => {
    parts.placeholder.replaceChildren('Preview unavailable');
  });
  parts.root = el(
    'li',
    { class: 'job', dataset: { jobId } },
    el('div', { class: 'job-media' }, parts.placeholder, parts.image),
    el(
      'div',
      { class: 'job-body' },
      parts.prompt,
      parts.meta,
      el('div', { class: 'job-status' }, parts.pill, parts.progress),
      parts.error,
      el('div', { class: 'job-actions' }, parts.cancel, parts.download),
    ),
  );
  return parts;
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
  show(parts.download, job.status === 'SUCCEEDED' && Boolean(job.generationId));
  parts.root.classList.toggle('failed', failed);
  renderJobImage(parts, job);
}

function renderJobImage(parts, job) {
  if (job.status === 'FAILED') {
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
    el('div', { class: 'gallery-foot' }, download),
  );
}
