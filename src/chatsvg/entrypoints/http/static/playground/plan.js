// The "Plan" panel: the signed-in user's plan and its limits (GET /api/plans), and, when the
// server has PayPal billing on (a sandbox, or `chatsvg dev fake-paypal` locally), Subscribe and
// Cancel through the same /api/paypal routes the web client uses. The plan changes when PayPal's
// event arrives, so the panel polls /api/paypal/status for a little while after each action.

import { busy, byId, el, replaceChildren, show } from './dom.js';
import { apiErrorText } from './messages.js';

const POLL_MS = 1500;
const POLL_FOR_MS = 60_000;

function figure(value, unit) {
  return value === null || value === undefined ? 'unlimited' : `${value.toLocaleString()}${unit}`;
}

export function createPlanPanel({ api, notify, onCredits }) {
  const ui = {
    name: byId('plan-name'),
    limits: byId('plan-limits'),
    billing: byId('plan-billing'),
    subscribe: byId('plan-subscribe'),
    cancel: byId('plan-cancel'),
  };
  let epoch = 0;
  let plans = null;
  let billingOn = false;
  let polling = null;

  function render(planName, status) {
    const plan = plans ? plans[planName] || plans.FREE : null;
    ui.name.textContent = plan ? `${plan.name}${plan.price ? ` · $${plan.price}/month` : ''}` : planName;
    if (plan) {
      const l = plan.limits;
      replaceChildren(
        ui.limits,
        el('li', {}, `${figure(l.generationsPerMonth, '')} generations per 30-day window`),
        el('li', {}, `${figure(l.maxApiKeys, '')} API key(s), ${figure(l.rateLimits.perMinute, '')}/min`),
        el('li', {}, l.creditRefillAmount
          ? `${l.startingCredits} credits on activation, +${l.creditRefillAmount} each paid month`
          : `${l.startingCredits} credits to start`),
      );
    }
    const sub = status && status.paypal;
    const live = sub && sub.status && !['CANCELLED', 'EXPIRED'].includes(sub.status);
    ui.billing.textContent = status
      ? sub && sub.subscriptionId
        ? `PayPal subscription ${sub.subscriptionId}: ${sub.status}`
        : 'No PayPal subscription.'
      : 'PayPal billing is not enabled on this server.';
    show(ui.subscribe, Boolean(status) && planName !== 'SUPPORTER');
    show(ui.cancel, Boolean(status) && Boolean(live));
  }

  let userPlan = 'FREE';

  async function load(planOfUser) {
    if (planOfUser) userPlan = planOfUser;
    const mine = epoch;
    try {
      if (!plans) {
        const answer = await api.get('/api/plans', { auth: false });
        plans = answer.plans;
        billingOn = Boolean(answer.billing && answer.billing.enabled);
      }
      // While billing is off every /api/paypal route answers 503: not asked at all then.
      const status = billingOn ? await api.get('/api/paypal/status') : null;
      if (mine !== epoch) return null;
      render(status ? status.plan : userPlan, status);
      if (status && onCredits) onCredits(status.credits);
      return status;
    } catch (error) {
      if (mine === epoch) notify(apiErrorText(error));
      return null;
    }
  }

  function pollUntil(done) {
    clearInterval(polling);
    const until = Date.now() + POLL_FOR_MS;
    polling = setInterval(async () => {
      const status = await load();
      if ((status && done(status)) || Date.now() > until) clearInterval(polling);
    }, POLL_MS);
  }

  async function onSubscribe() {
    await busy(ui.subscribe, async () => {
      try {
        const created = await api.post('/api/paypal/create-subscription');
        if (created.approveUrl) window.open(created.approveUrl, '_blank', 'noopener');
        notify('Approve the subscription at PayPal; your plan changes when PayPal confirms it.');
        pollUntil((status) => status.plan === 'SUPPORTER');
      } catch (error) {
        notify(apiErrorText(error));
      }
    });
  }

  async function onCancel() {
    await busy(ui.cancel, async () => {
      try {
        await api.post('/api/paypal/subscription/cancel');
        notify('Cancelled at PayPal; your plan returns to Free when PayPal confirms it.');
        pollUntil((status) => status.plan === 'FREE');
      } catch (error) {
        notify(apiErrorText(error));
      }
    });
  }

  function clear() {
    epoch += 1;
    clearInterval(polling);
    ui.name.textContent = '–';
    ui.limits.replaceChildren();
    ui.billing.textContent = '';
    show(ui.subscribe, false);
    show(ui.cancel, false);
  }

  ui.subscribe.addEventListener('click', onSubscribe);
  ui.cancel.addEventListener('click', onCancel);
  return { load, clear };
}
