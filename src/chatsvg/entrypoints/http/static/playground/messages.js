// Words for people: statuses, the stable error codes of failed jobs and of API errors.

export const STATUS_LABELS = {
  QUEUED: 'Queued',
  RUNNING: 'Generating',
  SUCCEEDED: 'Done',
  FAILED: 'Failed',
};

const JOB_ERRORS = {
  CANCELED: 'Canceled. No credit was used.',
  INSUFFICIENT_CREDITS: 'Not enough credits to run this generation.',
  PROVIDER_RATE_LIMITED: 'The model provider is busy right now. Please try again in a minute.',
  PROVIDER_UNAVAILABLE: 'The model provider could not be reached. Please try again later.',
  PROVIDER_REFUSED: 'The model declined this prompt. Try rephrasing it.',
  INVALID_SVG: 'The model did not return a usable SVG. Try again or rephrase the prompt.',
  GENERATION_FAILED: 'The generation failed. Please try again.',
};

/** A readable sentence for a failed job. */
export function jobErrorText(errorCode, errorMessage) {
  if (errorCode && JOB_ERRORS[errorCode]) return JOB_ERRORS[errorCode];
  if (errorMessage) return errorMessage;
  return 'The generation failed.';
}

export function pluralize(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

/** A readable sentence for an ApiError / NetworkError, with field details for validation. */
export function apiErrorText(error) {
  if (!error || !('status' in error)) return error?.message || 'Something went wrong.';
  switch (error.code) {
    case 'INSUFFICIENT_CREDITS':
      return `Not enough credits. ${error.message}`;
    case 'RATE_LIMITED':
      return error.retryAfter !== null
        ? `Too many requests. Try again in ${pluralize(error.retryAfter, 'second', 'seconds')}.`
        : 'Too many requests. Please wait a moment and try again.';
    case 'VALIDATION_ERROR':
      return validationText(error);
    case 'CSRF_FAILED':
      return 'Your security token was refused. Reload the page and try again.';
    default:
      return error.message;
  }
}

function validationText(error) {
  // The server's message already names the field ("The prompt must not be empty.", or
  // "email: ..." for malformed bodies); the per-field list only helps when it says nothing.
  if (error.message) return error.message;
  const details = error.errors
    .filter((item) => item && item.message)
    .map((item) => (item.field ? `${item.field}: ${item.message}` : String(item.message)));
  return details.length ? details.join('; ') : 'Please check the form and try again.';
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : dateFormat.format(date);
}

export function formatBytes(bytes) {
  if (typeof bytes !== 'number') return '';
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}
