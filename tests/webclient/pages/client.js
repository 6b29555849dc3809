// A stand-in for the ChatSVG web client, written for the browser test suite.
//
// It reproduces what the real client (React + axios `withCredentials: true` + socket.io-client 4.8)
// sends and how it reacts, without React: the CSRF token fetched once per page load and kept in
// memory, credentials on every request, one single-flight refresh on 401 and one retry, the
// idempotency key reused on retry, Socket.IO with credentials on the API origin, the SVG inlined
// with innerHTML, the download fetched without credentials. Every exported function is reachable as
// `window.chat.<name>`; `window.chat.run(name, ...args)` wraps a call into {ok, value} / {ok: false,
// message, status, code, retryAfter} so a test can assert on failures too.

import { io } from "./vendor/socket.io.esm.min.js";

const params = new URLSearchParams(location.search);
export const API_ORIGIN = params.get("api") || location.origin;
const API = `${API_ORIGIN}/api`;
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const AUTH_ENDPOINTS = [
  "/auth/login", "/auth/register", "/auth/logout", "/auth/refresh",
  "/auth/forgot-password", "/auth/reset-password",
];

// What the tests read back. Nothing in here is secret: the page never reads cookies.
export const state = {
  csrfFetches: 0,
  refreshCalls: 0,
  unauthorized: [], // [{path, code}] for every 401 seen
  errors: [], // every message shown to the user
  user: null,
  transports: [], // engine.io transports in order: "polling" then "websocket"
  socketConnects: 0,
  disconnects: [], // reasons, e.g. "io server disconnect"
  connectMs: null,
  serverReady: [],
  jobUpdates: [],
  notifications: [],
  bootError: null,
};

let csrfToken = null; // in memory only, for the page's whole life

export class ApiError extends Error {
  constructor(message, status, code, retryAfter) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

function showError(message) {
  state.errors.push(message);
  document.getElementById("error").textContent = message;
}

function showUser(user) {
  state.user = user;
  document.getElementById("user").textContent = user ? `${user.name} <${user.email}>` : "signed out";
  document.getElementById("credits").textContent = user ? String(user.credits) : "-";
}

function showCredits(credits) {
  if (state.user) state.user = { ...state.user, credits };
  document.getElementById("credits").textContent = String(credits);
}

// ---- HTTP ------------------------------------------------------------------------------------

export async function bootstrapCsrf() {
  state.csrfFetches += 1;
  const res = await fetch(`${API}/csrf`, { credentials: "include" });
  const body = await res.json();
  if (!body.csrfToken) throw new Error("No csrfToken returned from /csrf");
  csrfToken = body.csrfToken;
  return csrfToken;
}

// For the stale-token test only: what the page believes the token is.
export function setCsrfTokenForTest(token) {
  csrfToken = token;
}

function send(method, path, { body, headers } = {}) {
  const h = { ...(headers || {}) };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (UNSAFE.has(method) && csrfToken) h["X-CSRF-Token"] = csrfToken;
  return fetch(`${API}${path}`, {
    method,
    credentials: "include",
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function parse(res) {
  const type = res.headers.get("content-type") || "";
  let data = null;
  if (res.status !== 204) data = type.includes("json") ? await res.json() : await res.text();
  if (!res.ok) {
    const retryAfter = res.headers.get("retry-after");
    let message = (data && (data.error || data.message)) || res.statusText || "Unexpected server error";
    if (res.status === 429 && retryAfter) message = `${message}. Retry after ${retryAfter} seconds.`;
    showError(message);
    throw new ApiError(message, res.status, data && data.errorCode, retryAfter);
  }
  return { status: res.status, data, location: res.headers.get("location") };
}

// Single-flight refresh, as the real client's interceptor: concurrent 401s share one refresh. A 401
// for a request sent before the last refresh finished is retried without refreshing again (the
// real client can, in that race, refresh twice; the result is the same, the count is not).
let refreshPromise = null;
let refreshEpoch = 0;

async function refreshAccessToken() {
  state.refreshCalls += 1;
  try {
    const res = await send("POST", "/auth/refresh");
    return res.ok;
  } catch {
    return false;
  } finally {
    refreshEpoch += 1;
  }
}

export async function request(method, path, options = {}) {
  const epoch = refreshEpoch;
  let res = await send(method, path, options);
  if (res.status === 401 && !AUTH_ENDPOINTS.some((p) => path.startsWith(p))) {
    const problem = await res.clone().json().catch(() => ({}));
    state.unauthorized.push({ path, code: problem.errorCode || null });
    let refreshed = true;
    if (epoch === refreshEpoch || refreshPromise) {
      if (!refreshPromise) {
        refreshPromise = refreshAccessToken().finally(() => {
          refreshPromise = null;
        });
      }
      refreshed = await refreshPromise;
    }
    if (refreshed) res = await send(method, path, options);
  }
  return parse(res);
}

// ---- auth ------------------------------------------------------------------------------------

export async function currentUser() {
  try {
    const { data } = await request("GET", "/auth/current-user");
    showUser(data);
    return data;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      showUser(null);
      return null;
    }
    throw e;
  }
}

export async function register(name, email, password, agreedToTerms = true) {
  await request("POST", "/auth/register", { body: { name, email, password, agreedToTerms } });
  return currentUser();
}

export async function login(email, password, rememberMe = false) {
  await request("POST", "/auth/login", { body: { email, password, rememberMe } });
  return currentUser();
}

export async function logout() {
  // Like the real client, no socket.disconnect() here: the server drops this session's sockets.
  const { status } = await request("POST", "/auth/logout");
  showUser(null);
  return status;
}

export async function authOptions() {
  return (await request("GET", "/auth/options")).data;
}

// ---- realtime --------------------------------------------------------------------------------

let socket = null;

export function getSocket() {
  if (!socket) {
    socket = io(API_ORIGIN, { withCredentials: true, autoConnect: false });
    socket.io.on("open", () => {
      const engine = socket.io.engine;
      state.transports.push(engine.transport.name);
      engine.on("upgrade", (transport) => state.transports.push(transport.name));
    });
    socket.on("connect", () => {
      state.socketConnects += 1;
    });
    socket.on("disconnect", (reason) => state.disconnects.push(reason));
    socket.on("server:ready", (msg) => state.serverReady.push(msg));
    socket.on("generation-job:update", (payload) => state.jobUpdates.push(payload));
    socket.on("notification:new", (payload) => state.notifications.push(payload));
  }
  return socket;
}

export function connectSocket() {
  const s = getSocket();
  if (!s.connected) s.connect();
  return s;
}

export function disconnectSocket() {
  if (socket) socket.disconnect();
}

export function waitForSocketConnected(s, timeoutMs = 8000) {
  if (s.connected) return Promise.resolve();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      s.off("connect", onConnect);
      s.off("connect_error", onError);
    };
    const onConnect = () => {
      cleanup();
      state.connectMs = performance.now() - started;
      resolve();
    };
    const onError = (err) => {
      cleanup();
      reject(err);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error("Socket connection timed out"));
    }, timeoutMs);
    s.on("connect", onConnect);
    s.on("connect_error", onError);
    s.connect();
  });
}

// The web client's race: the page's socket is connecting (its engine open, its CONNECT not yet
// answered) when Generate calls connect() again, and socket.io-client sends a second CONNECT.
export function connectTwiceWhileConnecting(settleMs = 1500) {
  const s = getSocket();
  const errors = [];
  s.on("connect_error", (err) => errors.push(String((err && err.message) || err)));
  s.io.once("open", () => s.connect());
  s.connect();
  return new Promise((resolve) => {
    setTimeout(() => resolve({ connected: s.connected, active: s.active, errors }), settleMs);
  });
}

export function socketState() {
  return {
    connected: Boolean(socket && socket.connected),
    transport: socket && socket.io.engine ? socket.io.engine.transport.name : null,
    transports: [...state.transports],
    connectMs: state.connectMs,
    serverReady: [...state.serverReady],
  };
}

// ---- generation ------------------------------------------------------------------------------

export function newIdempotencyKey() {
  return crypto.randomUUID();
}

const TERMINAL = new Set(["SUCCEEDED", "FAILED"]);

function renderSvg(svg) {
  // What the real client does with the result: inline it into the document.
  document.getElementById("svg-result").innerHTML = svg;
}

// POST /svg/generate-svg, then follow the job over Socket.IO until it ends, then read it.
export async function generate(form, idempotencyKey, timeoutMs = 20000) {
  const { prompt, style = "minimal", privacy = true, model = "offline" } = form;
  const { status, data, location } = await request("POST", "/svg/generate-svg", {
    body: { prompt, style, privacy, model },
    headers: { "x-idempotency-key": idempotencyKey },
  });
  const s = connectSocket();
  await waitForSocketConnected(s);
  const { job, duplicate } = data;
  const jobId = job.id;
  const updates = [];
  let final;
  if (TERMINAL.has(job.status)) {
    final = (await request("GET", `/svg/generation-jobs/${jobId}`)).data;
  } else {
    final = await new Promise((resolve, reject) => {
      const cleanup = () => {
        s.off("generation-job:update", onUpdate);
        clearTimeout(timer);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Timed out waiting for job ${jobId}`));
      }, timeoutMs);
      const onUpdate = async (payload) => {
        if (!payload || payload.jobId !== jobId) return;
        updates.push(payload);
        if (!TERMINAL.has(payload.status)) return;
        cleanup();
        try {
          resolve((await request("GET", `/svg/generation-jobs/${jobId}`)).data);
        } catch (e) {
          reject(e);
        }
      };
      s.on("generation-job:update", onUpdate);
    });
  }
  if (final.job.status === "FAILED") {
    const message = final.job.errorMessage || "Generation failed";
    showError(message);
    throw new ApiError(message, null, final.job.errorCode, null);
  }
  if (!final.job.generation || !final.job.generation.svg) {
    throw new Error("Generation completed but no SVG was returned.");
  }
  renderSvg(final.job.generation.svg);
  if (final.credits !== undefined) showCredits(final.credits);
  return { submitStatus: status, location, duplicate, job: final.job, credits: final.credits, updates };
}

// The submit alone (to replay the same key, as a retry after a lost answer would).
export async function submit(form, idempotencyKey) {
  const { prompt, style = "minimal", privacy = true, model = "offline" } = form;
  const { status, data } = await request("POST", "/svg/generate-svg", {
    body: { prompt, style, privacy, model },
    headers: { "x-idempotency-key": idempotencyKey },
  });
  return { status, job: data.job, duplicate: data.duplicate };
}

export function inlineReport() {
  const root = document.getElementById("svg-result");
  const all = [root, ...root.querySelectorAll("*")];
  const handlers = [];
  for (const el of all) {
    for (const attr of el.attributes) {
      if (/^on/i.test(attr.name)) handlers.push(`${el.localName}@${attr.name}`);
    }
  }
  return {
    svgCount: root.querySelectorAll("svg").length,
    scripts: root.querySelectorAll("script").length,
    foreign: root.querySelectorAll("foreignObject, iframe, embed, object, img, image").length,
    handlers,
    text: root.textContent,
    pwned: window.__pwned === undefined ? null : String(window.__pwned),
  };
}

// ---- library ---------------------------------------------------------------------------------

function renderImages(listId, items) {
  const list = document.getElementById(listId);
  list.replaceChildren();
  for (const item of items) {
    const li = document.createElement("li");
    const img = document.createElement("img");
    img.alt = item.prompt;
    img.dataset.id = item.id;
    img.src = item.svgUrl;
    li.append(img);
    list.append(li);
  }
}

export async function history(query = "") {
  const { data } = await request("GET", `/user/generations${query}`);
  renderImages("history", data.generations);
  return data;
}

export async function gallery(query = "") {
  const { data } = await request("GET", `/svg/public${query}`);
  renderImages("gallery", data.publicGenerations);
  return data;
}

// Wait until every <img> of a list has loaded or failed; report what the browser decoded.
export async function images(listId) {
  const imgs = [...document.querySelectorAll(`#${listId} img`)];
  await Promise.all(
    imgs.map((img) =>
      img.complete
        ? Promise.resolve()
        : new Promise((resolve) => {
            img.addEventListener("load", resolve, { once: true });
            img.addEventListener("error", resolve, { once: true });
          }),
    ),
  );
  return imgs.map((img) => ({ id: img.dataset.id, naturalWidth: img.naturalWidth, src: img.src }));
}

export async function deleteGeneration(id) {
  return (await request("DELETE", `/user/generations/${encodeURIComponent(id)}`)).status;
}

export async function source(id) {
  return (await request("GET", `/svg/${encodeURIComponent(id)}/source`)).data;
}

export async function credits() {
  return (await request("GET", "/user/credits")).data;
}

export async function jobs() {
  return (await request("GET", "/svg/generation-jobs")).data;
}

// GET the short-lived URL, then fetch the file cross-origin WITHOUT credentials and keep a blob.
export async function download(id) {
  const { data } = await request("GET", `/svg/${encodeURIComponent(id)}/download`);
  const res = await fetch(data.downloadUrl, { credentials: "omit" });
  if (!res.ok) throw new ApiError(`download failed: ${res.status}`, res.status, null, null);
  const blob = await res.blob();
  const link = document.getElementById("download-link");
  link.href = URL.createObjectURL(blob);
  link.download = "chatsvg.svg";
  return {
    downloadUrl: data.downloadUrl,
    expiresAt: data.expiresAt,
    type: blob.type,
    size: blob.size,
    text: await blob.text(),
  };
}

// ---- notifications ---------------------------------------------------------------------------

export async function badge() {
  const { data } = await request("GET", "/notification/badge");
  document.getElementById("badge").textContent = String(data.unreadCount);
  return data.unreadCount;
}

export async function latest(limit = 10) {
  return (await request("GET", `/notification/latest?limit=${limit}`)).data;
}

export async function seen() {
  return (await request("POST", "/notification/seen")).data;
}

// ---- probes a hostile page would try (used from a non-allowed origin) --------------------------

// A credentialed CORS read: must reject (no grant) without leaking the body.
export async function probeRead(path) {
  try {
    const res = await fetch(`${API_ORIGIN}${path}`, { credentials: "include" });
    return { rejected: false, status: res.status, body: await res.text() };
  } catch (e) {
    return { rejected: true, message: String(e) };
  }
}

// A "simple" request nobody can read back: opaque in the page, but it reaches the server.
export async function probeNoCors(method, path, body, contentType = "text/plain") {
  const init = { method, mode: "no-cors", credentials: "include" };
  if (body !== undefined) {
    init.body = body;
    init.headers = { "Content-Type": contentType };
  }
  try {
    const res = await fetch(`${API_ORIGIN}${path}`, init);
    return { rejected: false, type: res.type, status: res.status };
  } catch (e) {
    return { rejected: true, message: String(e) };
  }
}

// A credentialed request with the CSRF header (stolen or not): needs a preflight the API refuses.
export async function probeWithHeader(method, path, token) {
  try {
    const res = await fetch(`${API_ORIGIN}${path}`, {
      method,
      credentials: "include",
      headers: { "X-CSRF-Token": token },
    });
    return { rejected: false, status: res.status };
  } catch (e) {
    return { rejected: true, message: String(e) };
  }
}

// The classic cross-site form: text/plain carrying JSON, posted into a hidden frame.
export function probeForm(path, jsonText) {
  return new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.name = `probe-${Math.random().toString(36).slice(2)}`;
    frame.hidden = true;
    document.body.append(frame);
    const form = document.createElement("form");
    form.method = "POST";
    form.action = `${API_ORIGIN}${path}`;
    form.target = frame.name;
    if (jsonText !== undefined) {
      form.enctype = "text/plain";
      const cut = jsonText.lastIndexOf("}");
      const input = document.createElement("input");
      input.type = "hidden";
      // name=value is sent as-is in text/plain: `{..., "pad":"` + "=" + `"}` stays valid JSON.
      input.name = `${jsonText.slice(0, cut)}, "pad": "`;
      input.value = `"${jsonText.slice(cut)}`;
      form.append(input);
    }
    document.body.append(form);
    frame.addEventListener("load", () => resolve(true), { once: true });
    form.submit();
  });
}

// Socket.IO from this page: resolves with how the attempt ended.
export function probeSocket(transports, timeoutMs = 4000) {
  return new Promise((resolve) => {
    const options = { withCredentials: true, reconnection: false, timeout: timeoutMs };
    if (transports) options.transports = transports;
    const s = io(API_ORIGIN, { ...options, forceNew: true });
    const done = (result) => {
      clearTimeout(timer);
      s.close();
      resolve(result);
    };
    const timer = setTimeout(() => done({ connected: false, error: "timeout" }), timeoutMs + 500);
    s.on("connect", () => done({ connected: true, error: null }));
    s.on("connect_error", (err) => done({ connected: false, error: String(err && err.message) }));
  });
}

export function readCookies() {
  return document.cookie;
}

// ---- page load -------------------------------------------------------------------------------

async function boot() {
  try {
    await bootstrapCsrf();
    await currentUser();
  } catch (e) {
    state.bootError = String(e);
  }
}

const api = {
  API_ORIGIN, state, bootstrapCsrf, setCsrfTokenForTest, request, currentUser, register, login,
  logout, authOptions, connectSocket, disconnectSocket, connectTwiceWhileConnecting, socketState,
  newIdempotencyKey, generate,
  submit, inlineReport, history, gallery, images, deleteGeneration, source, credits, jobs, download,
  badge, latest, seen, probeRead, probeNoCors, probeWithHeader, probeForm, probeSocket, readCookies,
  waitForSocket: () => waitForSocketConnected(connectSocket()),
};

api.ready = boot();
api.run = async (name, ...args) => {
  try {
    return { ok: true, value: await api[name](...args) };
  } catch (e) {
    return {
      ok: false,
      message: String((e && e.message) || e),
      status: (e && e.status) ?? null,
      code: (e && e.code) ?? null,
      retryAfter: (e && e.retryAfter) ?? null,
    };
  }
};
window.chat = api;
