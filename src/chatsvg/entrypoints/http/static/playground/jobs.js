// What the page knows about a job, merged from API answers and live events.

const TERMINAL = new Set(['SUCCEEDED', 'FAILED']);
const STATUS_RANK = { QUEUED: 0, RUNNING: 1, SUCCEEDED: 2, FAILED: 2 };

export function isTerminal(job) {
  return TERMINAL.has(job.status);
}

/** The members of a job the page keeps (never the SVG text itself). */
export function jobRecord(job) {
  return {
    id: job.id,
    status: job.status,
    progress: job.progress,
    prompt: job.prompt,
    style: job.style,
    model: job.model,
    privacy: job.privacy,
    errorCode: job.errorCode,
    errorMessage: job.errorMessage,
    generationId: job.generationId,
    // Every drawing of a job that made several ({id, svgUrl}); a refinement's parent drawing.
    generations: Array.isArray(job.generations) ? job.generations : null,
    parentId: job.generation?.parentId ?? null,
  };
}

/** Merge what we learn about a job; its status never moves backwards (events can race answers). */
export function mergeJob(current, incoming) {
  if (!current) return { ...incoming };
  const merged = { ...current };
  for (const [key, value] of Object.entries(incoming)) {
    if (value !== null && value !== undefined) merged[key] = value;
  }
  const rankNow = STATUS_RANK[current.status] ?? 0;
  const rankNew = STATUS_RANK[incoming.status] ?? 0;
  if (rankNew < rankNow) {
    merged.status = current.status;
    merged.progress = current.progress;
  } else if (incoming.status === current.status) {
    merged.progress = Math.max(current.progress ?? 0, incoming.progress ?? 0);
  }
  return merged;
}
