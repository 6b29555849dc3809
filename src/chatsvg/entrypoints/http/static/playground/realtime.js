// Live updates through the official socket.io-client. The handshake authenticates with the
// HttpOnly `token` cookie, which the browser sends by itself; after a token refresh the socket
// reconnects so that the server sees the new cookie.

import { io } from './vendor/socket.io.esm.min.js';

const READY_TIMEOUT_MS = 5000;

/**
 * `handlers`: onJobUpdate(update), onJobDraft(draft), onNotification(notification), onReady(), onState(state) with
 * state one of 'connecting' | 'live' | 'offline', and onRefused() when the server turned the
 * connection away (an expired or revoked session) or dropped it on its own.
 */
export function createRealtime(handlers) {
  let socket = null;
  let waiters = [];

  function settleWaiters(ok) {
    for (const resolve of waiters) resolve(ok);
    waiters = [];
  }

  function build() {
    const s = io({
      path: '/socket.io/',
      withCredentials: true,
      autoConnect: false,
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
    });
    s.on('server:ready', () => {
      handlers.onState('live');
      settleWaiters(true);
      handlers.onReady();
    });
    s.on('generation-job:update', (update) => handlers.onJobUpdate(update));
    s.on('generation-job:draft', (draft) => handlers.onJobDraft(draft));
    s.on('notification:new', (notification) => handlers.onNotification(notification));
    s.on('connect_error', () => {
      // `active` is false when the server refused us; socket.io then stops retrying by itself.
      handlers.onState(s.active ? 'connecting' : 'offline');
      if (!s.active) {
        settleWaiters(false);
        handlers.onRefused();
      }
    });
    s.on('disconnect', (reason) => {
      handlers.onState(s.active ? 'connecting' : 'offline');
      if (reason === 'io server disconnect') handlers.onRefused();
    });
    return s;
  }

  /** Resolves true once the server said `server:ready`, false on refusal or after a timeout. */
  function whenReady(timeoutMs = READY_TIMEOUT_MS) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (ok) => {
        clearTimeout(timer);
        resolve(ok);
      };
      waiters.push(done);
    });
  }

  function connect() {
    socket ??= build();
    if (socket.connected) return Promise.resolve(true);
    handlers.onState('connecting');
    const ready = whenReady();
    socket.connect();
    return ready;
  }

  /** Drop the connection and open a new one (a new handshake with the current cookies). */
  function reconnect() {
    if (!socket) return connect();
    socket.disconnect();
    return connect();
  }

  function disconnect() {
    if (!socket) return;
    socket.disconnect();
    settleWaiters(false);
    handlers.onState('offline');
  }

  return { connect, reconnect, disconnect };
}
