// The ChatSVG HTTP API as the browser must use it: cookies only (the access and refresh tokens
// are HttpOnly, so this code never sees them), the CSRF token from GET /api/csrf kept in memory
// and sent as X-CSRF-Token on every unsafe request, and on a 401 exactly one refresh, then a retry.

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const REFRESH_LOCK = 'chatsvg-playground-refresh';

/** An answer of the API that is not a success: the problem+json members a client reads. */
export class ApiError extends Error {
  constructor(status, body, headers) {
    super(messageOf(body) || `The server answered ${status}.`);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.errorCode ?? null;
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
    this.retryAfter = parseRetryAfter(headers?.get('Retry-After'));
  }
}

/** The server could not be reached at all. */
export class NetworkError extends Error {
  constructor() {
    super('Cannot reach the ChatSVG server. Is it still running?');
    this.name = 'NetworkError';
  }
}

/** A request of a session that was signed out meanwhile: it was not sent. */
export class SessionEnded extends Error {
  constructor() {
    super('You are signed out.');
    this.name = 'SessionEnded';
  }
}

function messageOf(body) {
  if (!body || typeof body !== 'object') return '';
  return String(body.error || body.detail || '');
}

function parseRetryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function errorCodeOf(response) {
  const body = await readBody(response.clone());
  return body?.errorCode ?? null;
}

/**
 * Create the API client.
 * `onRefreshed(user)` runs after a successful refresh, before the failed request is retried
 * (the app reconnects its socket there); `onSessionLost()` runs when the refresh fails.
 */
export function createApi({ onRefreshed, onSessionLost } = {}) {
  let csrfToken = null;
  let refreshing = null;
  // Whether the sign-out under way (or done) succeeded; null when none was asked since the last
  // sign-in. Until then, requests of the ending session wait for it, and once it succeeded
  // they are not sent at all, nor refreshed on a 401: they could only fail.
  let signOut = null;

  async function loadCsrf() {
    const response = await rawFetch('GET', '/api/csrf');
    const body = await readBody(response);
    if (!response.ok || !body?.csrfToken) {
      throw new ApiError(response.status, body, response.headers);
    }
    csrfToken = body.csrfToken;
    return csrfToken;
  }

  async function rawFetch(method, path, { body, headers = {} } = {}) {
    const init = {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json', ...headers },
    };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    if (UNSAFE_METHODS.has(method)) {
      init.headers['X-CSRF-Token'] = csrfToken ?? (await loadCsrf());
    }
    try {
      return await fetch(path, init);
    } catch {
      throw new NetworkError();
    }
  }

  /** Send once; when the CSRF token was refused, fetch it again and send once more. */
  async function sendWithCsrf(method, path, options) {
    const response = await rawFetch(method, path, options);
    if (response.status === 403 && (await errorCodeOf(response)) === 'CSRF_FAILED') {
      await loadCsrf();
      return rawFetch(method, path, options);
    }
    return response;
  }

  async function postRefresh() {
    const response = await sendWithCsrf('POST', '/api/auth/refresh');
    const body = await readBody(response);
    if (!response.ok) return null;
    return body?.user ?? null;
  }

  /** Can the current cookies already authenticate (another tab may have just refreshed)? */
  async function currentUser() {
    const response = await rawFetch('GET', '/api/auth/current-user');
    return response.ok ? readBody(response) : null;
  }

  // Refresh tokens rotate and a spent one revokes the whole family, so two refreshes must never
  // run at once: one promise per page, and a Web Lock across tabs (cookies are shared by tabs).
  async function refreshAcrossTabs() {
    if (!navigator.locks) return postRefresh();
    const first = await navigator.locks.request(REFRESH_LOCK, { ifAvailable: true }, (lock) =>
      lock ? postRefresh().then((user) => ({ user })) : null,
    );
    if (first) return first.user;
    // Another tab was refreshing: wait for it, then see whether its new cookies work for us.
    return navigator.locks.request(
      REFRESH_LOCK,
      async () => (await currentUser()) ?? postRefresh(),
    );
  }

  /** One refresh for however many requests failed with 401 at the same time. */
  function refresh() {
    if (!refreshing) {
      refreshing = (async () => {
        const user = await refreshAcrossTabs();
        if (user) await onRefreshed?.(user);
        return user;
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  async function sessionEnded() {
    return signOut !== null && (await signOut);
  }

  /** Sign out; in the meantime, the session's other requests wait to learn whether it ended. */
  async function logout() {
    const done = request('POST', '/api/auth/logout', { auth: false });
    signOut = done.then(
      () => true,
      () => false,
    );
    if (!(await signOut)) signOut = null;
    return done;
  }

  /**
   * Make a request and return its parsed JSON body (null for 204).
   * `auth: false` marks requests that must not trigger a refresh (sign-in, sign-up, ...);
   * `startsSession` the sign-in and sign-up, after which requests may be sent again.
   */
  async function request(method, path, { body, headers, auth = true, startsSession } = {}) {
    if (auth && (await sessionEnded())) throw new SessionEnded();
    let response = await sendWithCsrf(method, path, { body, headers });
    if (response.status === 401 && auth) {
      if (await sessionEnded()) throw new SessionEnded();
      const user = await refresh();
      if (user) {
        response = await sendWithCsrf(method, path, { body, headers });
      } else {
        onSessionLost?.();
      }
    }
    const parsed = await readBody(response);
    if (!response.ok) throw new ApiError(response.status, parsed, response.headers);
    if (startsSession) signOut = null;
    return parsed;
  }

  return {
    loadCsrf,
    refresh,
    logout,
    get: (path, options) => request('GET', path, options),
    post: (path, body, options) => request('POST', path, { ...options, body }),
    patch: (path, body, options) => request('PATCH', path, { ...options, body }),
    delete: (path, options) => request('DELETE', path, options),
  };
}
