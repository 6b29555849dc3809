// The ChatSVG playground: sign in, submit prompts, follow jobs live, see, download and page
// through results. Plain modules, no framework. Model output is never put into the page as
// markup: results are shown as <img> of the sanitized file the server stores.

import { ApiError, createApi } from './api.js';
import { createRealtime } from './realtime.js';
import { busy, byId, replaceChildren, safeUrl, show, startDownload } from './dom.js';
import { showDraft } from './drafts.js';
import { isTerminal, jobRecord, mergeJob } from './jobs.js';
import { createKeysPanel } from './keys.js';
import { createPlanPanel } from './plan.js';
import { apiErrorText, pluralize } from './messages.js';
import { createHistoryCard, createJobCard, updateJobCard } from './views.js';

const HISTORY_PAGE_SIZE = 8;
const RECENT_JOBS = 20;
const NOTICE_MS = 10000;

// Who the cookies sign in, always answered with a 200: the session may have been started
// elsewhere (another tab, an OAuth return, devtools), and the HttpOnly cookies cannot be read
// here. A signed-out visit so makes no request that is bound to fail.
const SESSION_PATH = '/api/auth/playground-session';
const ADMIN_LINK_PATH = '/api/auth/playground-admin';

const state = {
  user: null,
  epoch: 0, // bumped at sign-out: answers for an older session are dropped
  jobs: new Map(), // job id -> job record
  jobViews: new Map(), // job id -> the card's elements
  submitting: 0,
  history: { cursor: null, loading: false, reloadAgain: false, timer: null },
  retryTimer: null,
  noticeTimer: null,
  refusedStreak: 0,
};

const api = createApi({ onRefreshed, onSessionLost });
const realtime = createRealtime({
  onJobUpdate,
  onJobDraft,
  onNotification,
  onReady,
  onState: showLiveState,
  onRefused,
});

const keysPanel = createKeysPanel({ api, notify: (text) => notify(text) });
const planPanel = createPlanPanel({
  api,
  notify: (text) => notify(text),
  onCredits: (balance) => setCredits(balance),
});

const ui = {
  loading: byId('loading'),
  authView: byId('auth-view'),
  appView: byId('app-view'),
  session: byId('session'),
  live: byId('live'),
  credits: byId('credits'),
  who: byId('who'),
  adminLink: byId('admin-link'),
  logout: byId('logout'),
  notice: byId('notice'),
  noticeText: byId('notice-text'),
  tabLogin: byId('tab-login'),
  tabRegister: byId('tab-register'),
  loginForm: byId('login-form'),
  registerForm: byId('register-form'),
  composeForm: byId('compose-form'),
  prompt: byId('prompt'),
  promptCount: byId('prompt-count'),
  style: byId('style'),
  model: byId('model'),
  variants: byId('variants'),
  public: byId('public'),
  generate: byId('generate'),
  composeError: byId('compose-error'),
  jobs: byId('jobs'),
  jobsEmpty: byId('jobs-empty'),
  history: byId('history'),
  historyEmpty: byId('history-empty'),
  historyMore: byId('history-more'),
  historyReload: byId('history-reload'),
};

// ---------------------------------------------------------------- session

async function start() {
  bindUi();
  let session;
  try {
    [, session] = await Promise.all([api.loadCsrf(), api.get(SESSION_PATH, { auth: false })]);
  } catch (error) {
    ui.loading.textContent = apiErrorText(error);
    return;
  }
  let user = session.user;
  if (!user && session.canRefresh) {
    // Only the refresh cookie is left (the access token expired): refresh first, no 401 needed.
    user = await api.refresh().catch((error) => {
      notify(apiErrorText(error));
      return null;
    });
  }
  if (user) enterApp(user);
  else showSignIn();
}

function showSignIn() {
  show(ui.loading, false);
  show(ui.appView, false);
  show(ui.session, false);
  show(ui.authView, true);
}

function enterApp(user) {
  state.user = user;
  renderUser();
  show(ui.loading, false);
  show(ui.authView, false);
  show(ui.appView, true);
  show(ui.session, true);
  realtime.connect();
  loadRecentJobs();
  loadHistory(true);
  loadAdminLink();
  keysPanel.load();
  planPanel.load(user.plan);
  ui.prompt.focus();
}

/** An "Admin" link to the web app's admin page, when the signed-in address is an admin's. */
async function loadAdminLink() {
  const epoch = state.epoch;
  const answer = await api.get(ADMIN_LINK_PATH).catch(() => null);
  const url = answer && answer.adminUrl ? safeUrl(answer.adminUrl) : null;
  if (epoch !== state.epoch || !url) return;
  ui.adminLink.href = url;
  show(ui.adminLink, true);
}

function leaveApp(message) {
  show(ui.adminLink, false);
  realtime.disconnect();
  state.user = null;
  state.epoch += 1;
  state.jobs.clear();
  state.jobViews.clear();
  ui.jobs.replaceChildren();
  // A history reload still due (a job that ended just before) must not go out signed out.
  clearTimeout(state.history.timer);
  state.history.reloadAgain = false;
  state.history.cursor = null;
  ui.history.replaceChildren();
  keysPanel.clear();
  planPanel.clear();
  show(ui.jobsEmpty, true);
  show(ui.historyMore, false);
  releaseSubmit();
  showSignIn();
  switchTab('login');
  if (message) notify(message);
}

async function onRefreshed(user) {
  const signedIn = state.user !== null;
  state.user = user;
  if (!signedIn) return;
  renderUser();
  // The socket authenticated with the old cookie: shake hands again with the new one.
  await realtime.reconnect();
}

function onSessionLost() {
  if (state.user) leaveApp('Your session has ended. Please sign in again.');
}

/** The server refused or dropped our socket: most likely the access token expired. */
async function onRefused() {
  if (!state.user) return;
  state.refusedStreak += 1;
  if (state.refusedStreak > 2) {
    notify('Live updates are unavailable right now. Reload the page to try again.');
    return;
  }
  const user = await api.refresh().catch(() => null);
  if (!user) onSessionLost();
}

function renderUser() {
  ui.who.textContent = state.user.name || state.user.email;
  ui.who.title = state.user.email;
  setCredits(state.user.credits);
}

function setCredits(balance) {
  if (typeof balance !== 'number') return;
  if (state.user) state.user.credits = balance;
  ui.credits.textContent = pluralize(balance, 'credit', 'credits');
  ui.credits.dataset.value = String(balance);
  ui.credits.classList.toggle('low', balance <= 2);
}

async function refreshCredits() {
  const epoch = state.epoch;
  try {
    const { balance } = await api.get('/api/user/credits');
    if (epoch === state.epoch) setCredits(balance);
  } catch {
    // The balance is refreshed again after the next job; nothing to tell the user here.
  }
}

// ---------------------------------------------------------------- sign-in and sign-up

function switchTab(which) {
  const login = which === 'login';
  ui.tabLogin.setAttribute('aria-selected', String(login));
  ui.tabRegister.setAttribute('aria-selected', String(!login));
  show(ui.loginForm, login);
  show(ui.registerForm, !login);
}

async function submitAuthForm(form, path, body) {
  const errorBox = form.querySelector('.form-error');
  show(errorBox, false);
  try {
    const submit = form.querySelector('button[type="submit"]');
    const { user } = await busy(submit, () =>
      api.post(path, body, { auth: false, startsSession: true }),
    );
    form.reset();
    enterApp(user);
  } catch (error) {
    errorBox.textContent = apiErrorText(error);
    show(errorBox, true);
  }
}

function onLogin(event) {
  event.preventDefault();
  const data = new FormData(ui.loginForm);
  submitAuthForm(ui.loginForm, '/api/auth/login', {
    email: String(data.get('email')).trim(),
    password: String(data.get('password')),
    rememberMe: data.get('rememberMe') === 'on',
  });
}

function onRegister(event) {
  event.preventDefault();
  const data = new FormData(ui.registerForm);
  submitAuthForm(ui.registerForm, '/api/auth/register', {
    name: String(data.get('name')).trim(),
    email: String(data.get('email')).trim(),
    password: String(data.get('password')),
    agreedToTerms: data.get('agreedToTerms') === 'on',
  });
}

async function onLogout() {
  realtime.disconnect();
  try {
    await busy(ui.logout, () => api.logout());
  } catch (error) {
    notify(apiErrorText(error));
    realtime.connect();
    return;
  }
  leaveApp('You are signed out.');
}

// ---------------------------------------------------------------- submitting prompts

function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function onSubmitPrompt(event) {
  event.preventDefault();
  show(ui.composeError, false);
  const body = {
    prompt: ui.prompt.value,
    style: ui.style.value,
    model: ui.model.value,
    privacy: !ui.public.checked,
  };
  const n = Number(ui.variants.value);
  if (n > 1) body.n = n; // drawings of one job; one is what the API does without it
  // One key per submission: the retry after a token refresh can never create a second job.
  const headers = { 'Idempotency-Key': newIdempotencyKey() };
  state.submitting += 1;
  try {
    const answer = await busy(ui.generate, () =>
      api.post('/api/svg/generate-svg', body, { headers }),
    );
    upsertJob(jobRecord(answer.job));
    if (ui.prompt.value === body.prompt) {
      ui.prompt.value = ''; // unless the user has already typed the next one
      updatePromptCount();
    }
  } catch (error) {
    showComposeError(error);
  } finally {
    state.submitting -= 1;
    fetchIncompleteJobs();
  }
}

function showComposeError(error) {
  ui.composeError.textContent = apiErrorText(error);
  show(ui.composeError, true);
  const code = error instanceof ApiError ? error.code : null;
  if (code === 'INSUFFICIENT_CREDITS') refreshCredits();
  if (code === 'RATE_LIMITED') holdSubmit(error.retryAfter ?? 10);
}

/** After a 429, keep the Generate button disabled for Retry-After seconds, counting down. */
function holdSubmit(seconds) {
  clearInterval(state.retryTimer);
  let left = seconds;
  const tick = () => {
    if (left <= 0) {
      releaseSubmit();
      return;
    }
    ui.generate.disabled = true;
    ui.generate.textContent = `Try again in ${left} s`;
    left -= 1;
  };
  tick();
  state.retryTimer = setInterval(tick, 1000);
}

function releaseSubmit() {
  clearInterval(state.retryTimer);
  ui.generate.disabled = false;
  ui.generate.textContent = 'Generate';
  show(ui.composeError, false);
}

function updatePromptCount() {
  ui.promptCount.textContent = `${ui.prompt.value.length} / ${ui.prompt.maxLength}`;
}

// ---------------------------------------------------------------- jobs

function renderJob(job) {
  let parts = state.jobViews.get(job.id);
  if (!parts) {
    parts = createJobCard(job.id, {
      onCancel: (button) => cancelJob(job.id, button),
      onDownload: (button) => downloadGeneration(shownGeneration(job.id), button),
      onRefine: (instruction, button) => refineJob(job.id, instruction, button),
      onSelect: (generationId) => selectDrawing(job.id, generationId),
    });
    state.jobViews.set(job.id, parts);
    ui.jobs.prepend(parts.root);
    show(ui.jobsEmpty, false);
  }
  updateJobCard(parts, job);
}

function upsertJob(incoming) {
  const job = mergeJob(state.jobs.get(incoming.id), incoming);
  state.jobs.set(job.id, job);
  renderJob(job);
  if (isTerminal(job) && !job.finishing) {
    job.finishing = true;
    finishJob(job.id);
  }
  return job;
}

function onJobUpdate(update) {
  if (!update || typeof update.jobId !== 'string') return;
  const known = state.jobs.has(update.jobId);
  upsertJob({
    id: update.jobId,
    status: update.status,
    progress: update.progress,
    generationId: update.generationId ?? null,
    errorCode: update.errorCode ?? null,
    errorMessage: update.errorMessage ?? null,
  });
  // A job we did not submit from this page (another tab), or whose submit answer is still on
  // its way: fetch its details, unless a submit in flight is about to bring them.
  if (!known && state.submitting === 0) fetchJob(update.jobId);
}

async function fetchJob(jobId) {
  const epoch = state.epoch;
  try {
    const { job, credits } = await api.get(`/api/svg/generation-jobs/${encodeURIComponent(jobId)}`);
    if (epoch !== state.epoch) return null;
    setCredits(credits);
    return upsertJob(jobRecord(job));
  } catch (error) {
    if (epoch === state.epoch) notify(apiErrorText(error));
    return null;
  }
}

function fetchIncompleteJobs() {
  if (state.submitting > 0) return;
  for (const job of state.jobs.values()) {
    if (!job.prompt) fetchJob(job.id);
  }
}

/** The drawing a card shows: the one picked among a job's several, else its (first) one. */
function shownGeneration(jobId) {
  const job = state.jobs.get(jobId);
  return job?.selectedId || job?.generationId;
}

/** Show another drawing of a job that made several (Download and Refine then act on it). */
function selectDrawing(jobId, generationId) {
  const job = state.jobs.get(jobId);
  const drawing = job?.generations?.find((g) => g.id === generationId);
  if (!drawing) return;
  upsertJob({ id: jobId, status: job.status, selectedId: generationId, imageUrl: drawing.svgUrl });
}

/** Refine the drawing a card shows: a new job, whose card names the drawing it changes.
 * Resolves to null when queued, or to the text of what went wrong (shown by the form). */
async function refineJob(jobId, instruction, button) {
  const parent = state.jobs.get(jobId);
  const generationId = shownGeneration(jobId);
  if (!parent || !generationId) return 'This drawing cannot be refined.';
  const headers = { 'Idempotency-Key': newIdempotencyKey() };
  state.submitting += 1;
  try {
    const answer = await busy(button, () =>
      api.post(`/api/svg/${encodeURIComponent(generationId)}/refine`, { instruction }, { headers }),
    );
    upsertJob({ ...jobRecord(answer.job), parentId: generationId, parentPrompt: parent.prompt });
    return null;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'INSUFFICIENT_CREDITS') refreshCredits();
    return apiErrorText(error);
  } finally {
    state.submitting -= 1;
    fetchIncompleteJobs();
  }
}

/** The drawing so far of a running job; ignored once the job has ended (the result is shown). */
function onJobDraft(draft) {
  if (!draft || typeof draft.jobId !== 'string' || typeof draft.svg !== 'string') return;
  const job = state.jobs.get(draft.jobId);
  const parts = state.jobViews.get(draft.jobId);
  if (!job || !parts || isTerminal(job)) return;
  showDraft(parts, draft.svg);
  if (typeof draft.progress === 'number') {
    upsertJob({ id: job.id, status: 'RUNNING', progress: draft.progress });
  }
}

/** Once a job has ended: the balance, and for a success its image and the history. */
async function finishJob(jobId) {
  const epoch = state.epoch;
  const job = await fetchJob(jobId);
  if (!job || epoch !== state.epoch || job.status !== 'SUCCEEDED' || !job.generationId) return;
  try {
    const { downloadUrl } = await api.get(
      `/api/svg/${encodeURIComponent(job.generationId)}/download`,
    );
    if (epoch !== state.epoch) return;
    upsertJob({ id: jobId, status: job.status, imageUrl: downloadUrl });
  } catch (error) {
    if (epoch !== state.epoch) return;
    notify(apiErrorText(error));
  }
  scheduleHistoryReload();
}

/** Resynchronise jobs still running after a (re)connection: events may have been missed. */
function onReady() {
  state.refusedStreak = 0;
  for (const job of state.jobs.values()) {
    if (!isTerminal(job) && job.prompt) fetchJob(job.id);
  }
}

async function loadRecentJobs() {
  const epoch = state.epoch;
  try {
    const { jobs } = await api.get(`/api/svg/generation-jobs?limit=${RECENT_JOBS}`);
    if (epoch !== state.epoch) return;
    for (const job of jobs.slice().reverse()) {
      if (!isTerminal(job)) upsertJob(jobRecord(job));
    }
  } catch (error) {
    if (epoch === state.epoch) notify(apiErrorText(error));
  }
}

async function cancelJob(jobId, button) {
  try {
    const { job } = await busy(button, () =>
      api.post(`/api/svg/generation-jobs/${encodeURIComponent(jobId)}/cancel`),
    );
    upsertJob(jobRecord(job));
  } catch (error) {
    const text =
      error instanceof ApiError && error.code === 'JOB_NOT_CANCELLABLE'
        ? 'This job has already started, so it can no longer be canceled.'
        : apiErrorText(error);
    notify(text);
  }
}

// ---------------------------------------------------------------- downloads

async function downloadGeneration(generationId, button) {
  if (!generationId) return;
  try {
    const { downloadUrl } = await busy(button, () =>
      api.get(`/api/svg/${encodeURIComponent(generationId)}/download`),
    );
    startDownload(downloadUrl);
  } catch (error) {
    notify(apiErrorText(error));
  }
}

// ---------------------------------------------------------------- history

function scheduleHistoryReload() {
  clearTimeout(state.history.timer);
  state.history.timer = setTimeout(() => loadHistory(true), 200);
}

async function loadHistory(reset) {
  const history = state.history;
  if (history.loading) {
    history.reloadAgain ||= reset;
    return;
  }
  history.loading = true;
  const epoch = state.epoch;
  try {
    const query = new URLSearchParams({ limit: String(HISTORY_PAGE_SIZE) });
    if (!reset && history.cursor) query.set('cursor', history.cursor);
    const page = await busy(ui.historyMore, () => api.get(`/api/user/generations?${query}`));
    if (epoch !== state.epoch) return;
    const cards = page.generations.map((item) =>
      createHistoryCard(item, { onDownload: (button) => downloadGeneration(item.id, button) }),
    );
    if (reset) replaceChildren(ui.history, cards);
    else ui.history.append(...cards);
    history.cursor = page.nextCursor;
    show(ui.historyMore, Boolean(page.nextCursor));
    show(ui.historyEmpty, ui.history.children.length === 0);
  } catch (error) {
    if (epoch === state.epoch) notify(apiErrorText(error));
  } finally {
    history.loading = false;
    if (history.reloadAgain && epoch === state.epoch) {
      history.reloadAgain = false;
      loadHistory(true);
    }
  }
}

// ---------------------------------------------------------------- notices and live state

function onNotification(notification) {
  if (notification?.type === 'LOW_CREDITS') {
    notify(notification.message || notification.title || 'Your credits are running low.');
  }
}

function notify(text) {
  ui.noticeText.textContent = text;
  show(ui.notice, true);
  clearTimeout(state.noticeTimer);
  state.noticeTimer = setTimeout(() => show(ui.notice, false), NOTICE_MS);
}

const LIVE_LABELS = { live: 'Live', connecting: 'Connecting…', offline: 'Offline' };

function showLiveState(liveState) {
  ui.live.dataset.state = liveState;
  ui.live.textContent = LIVE_LABELS[liveState] ?? liveState;
}

// ---------------------------------------------------------------- wiring

function bindUi() {
  ui.tabLogin.addEventListener('click', () => switchTab('login'));
  ui.tabRegister.addEventListener('click', () => switchTab('register'));
  ui.loginForm.addEventListener('submit', onLogin);
  ui.registerForm.addEventListener('submit', onRegister);
  ui.logout.addEventListener('click', onLogout);
  ui.composeForm.addEventListener('submit', onSubmitPrompt);
  ui.prompt.addEventListener('input', updatePromptCount);
  ui.prompt.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) ui.composeForm.requestSubmit();
  });
  ui.historyMore.addEventListener('click', () => loadHistory(false));
  ui.historyReload.addEventListener('click', () => loadHistory(true));
  byId('notice-close').addEventListener('click', () => show(ui.notice, false));
}

start();
