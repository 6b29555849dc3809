// The "API keys" panel: create a key (shown once, with a Copy button), list the live keys with
// their scopes and usage, open a key's figures, revoke it. The same /api/keys the web client uses.

import { busy, byId, el, replaceChildren, show } from './dom.js';
import { apiErrorText, pluralize } from './messages.js';

export function createKeysPanel({ api, notify }) {
  const ui = {
    form: byId('key-form'),
    error: byId('key-error'),
    reveal: byId('key-reveal'),
    secret: byId('key-secret'),
    copy: byId('key-copy'),
    hide: byId('key-hide'),
    list: byId('keys'),
    empty: byId('keys-empty'),
    summary: byId('keys-summary'),
  };
  let epoch = 0;

  function hideSecret() {
    ui.secret.textContent = '';
    show(ui.reveal, false);
  }

  async function copySecret() {
    try {
      await navigator.clipboard.writeText(ui.secret.textContent);
      ui.copy.textContent = 'Copied!';
      setTimeout(() => {
        ui.copy.textContent = 'Copy';
      }, 2000);
    } catch {
      notify('Copying was refused by the browser: select the key and copy it by hand.');
    }
  }

  function showError(error) {
    ui.error.textContent = error ? apiErrorText(error) : '';
    show(ui.error, Boolean(error));
  }

  async function onCreate(event) {
    event.preventDefault();
    const data = new FormData(ui.form);
    const button = ui.form.querySelector('button[type=submit]');
    showError(null);
    await busy(button, async () => {
      try {
        const created = await api.post('/api/keys', {
          name: String(data.get('name') || '').trim(),
          environment: String(data.get('environment') || 'production'),
        });
        ui.form.reset();
        ui.secret.textContent = created.key;
        ui.copy.textContent = 'Copy';
        show(ui.reveal, true);
        await load();
      } catch (error) {
        if (error instanceof Error) showError(error);
      }
    });
  }

  function keyItem(key) {
    const stats = el('p', { class: 'hint key-stats', hidden: true });
    const statsButton = el('button', { type: 'button', class: 'button ghost small' }, 'Stats');
    const revokeButton = el('button', { type: 'button', class: 'button ghost small' }, 'Revoke');
    statsButton.addEventListener('click', () =>
      busy(statsButton, async () => {
        try {
          const { stats: s } = await api.get(`/api/keys/${encodeURIComponent(key.id)}/stats`);
          stats.textContent =
            `${pluralize(s.totalRequests, 'request', 'requests')}: ${s.successfulRequests} ` +
            `succeeded, ${s.failedRequests} failed (${s.successRate.toFixed(1)}%), ` +
            `${pluralize(s.totalCreditsUsed, 'credit', 'credits')} used.`;
          show(stats, true);
        } catch (error) {
          notify(apiErrorText(error));
        }
      }),
    );
    // Two clicks, no dialog: "Revoke", then "Confirm revoke".
    revokeButton.addEventListener('click', () => {
      if (revokeButton.dataset.armed !== 'true') {
        revokeButton.dataset.armed = 'true';
        revokeButton.textContent = 'Confirm revoke';
        return;
      }
      busy(revokeButton, async () => {
        try {
          await api.delete(`/api/keys/${encodeURIComponent(key.id)}`);
          notify(`The key "${key.name}" was revoked; it no longer works.`);
          await load();
        } catch (error) {
          notify(apiErrorText(error));
        }
      });
    });
    return el(
      'li',
      { class: 'key', dataset: { keyId: key.id } },
      el('div', { class: 'key-head' }, el('strong', { class: 'key-name' }, key.name), ' ',
        el('code', { class: 'key-prefix' }, `${key.keyPrefix}…`), ' ',
        el('span', { class: 'key-env' }, key.environment)),
      el('p', { class: 'hint' },
        `${key.scopes.join(', ')} · ${pluralize(key.usageCount, 'request', 'requests')}` +
          (key.lastUsedAt ? ` · last used ${new Date(key.lastUsedAt).toLocaleString()}` : '')),
      stats,
      el('div', { class: 'key-actions' }, statsButton, revokeButton),
    );
  }

  async function load() {
    const mine = epoch;
    try {
      const [{ keys }, { summary }] = await Promise.all([
        api.get('/api/keys'),
        api.get('/api/keys/usage/summary'),
      ]);
      if (mine !== epoch) return;
      replaceChildren(ui.list, keys.map(keyItem));
      show(ui.empty, keys.length === 0);
      ui.summary.textContent = summary.totalRequests
        ? `All keys: ${pluralize(summary.totalRequests, 'request', 'requests')}, ` +
          `${summary.successRate.toFixed(1)}% successful, ${summary.averageLatencyMs} ms on ` +
          `average, ${pluralize(summary.totalCreditsUsed, 'credit', 'credits')} used.`
        : '';
    } catch (error) {
      if (mine === epoch) notify(apiErrorText(error));
    }
  }

  function clear() {
    epoch += 1;
    hideSecret();
    showError(null);
    ui.list.replaceChildren();
    ui.summary.textContent = '';
  }

  ui.form.addEventListener('submit', onCreate);
  ui.copy.addEventListener('click', copySecret);
  ui.hide.addEventListener('click', hideSecret);
  return { load, clear };
}
