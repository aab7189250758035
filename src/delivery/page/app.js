// The built-in page: plain ES module, no build step. It calls the authwatch API with a bearer
// token the user pastes (kept in sessionStorage for this tab only). Every value from the API
// is written with textContent, never innerHTML, so alert data cannot inject markup.
const TOKEN_KEY = 'authwatch.token';
const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

function setStatus(text, isError = false) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', isError);
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, init = {}) {
  const t = token();
  if (!t) throw new ApiError(401, 'UNAUTHORIZED', 'no token');
  const headers = { accept: 'application/json', authorization: `Bearer ${t}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { ...init, headers, cache: 'no-store', credentials: 'omit' });
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) throw new ApiError(res.status, body?.code ?? 'ERROR', body?.message ?? `HTTP ${res.status}`);
  return body;
}

function formatGroup(group) {
  return Object.entries(group ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function formatTime(iso) {
  if (!iso) return '';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function renderAlerts(items) {
  const body = $('alerts').tBodies[0];
  const rows = items.map((a) => {
    const tr = el('tr');
    tr.dataset.alertId = a.id;
    tr.append(el('td', formatTime(a.last_seen)));
    const lvl = el('td');
    lvl.append(el('span', a.rule?.level, `level level-${a.rule?.level ?? 'informational'}`));
    tr.append(lvl);
    const rule = el('td', a.rule?.name);
    rule.title = a.rule?.title ?? '';
    tr.append(rule, el('td', formatGroup(a.group), 'group'), el('td', a.count), el('td', a.status));
    return tr;
  });
  body.replaceChildren(...rows);
  $('alerts-count').textContent = `(${items.length})`;
  $('alerts-empty').hidden = items.length > 0;
}

function actionButton(label, action, op, secondary) {
  const b = el('button', label, secondary ? 'secondary' : undefined);
  b.type = 'button';
  b.dataset.op = op;
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await api(`/v1/actions/${encodeURIComponent(action.id)}/${op}`, { method: 'POST', body: JSON.stringify({ comment: 'via built-in page' }) });
      setStatus(`${op}: ${action.type} ${action.target}`);
    } catch (err) {
      setStatus(`${op} failed: ${err.message}`, true);
    }
    await refresh();
  });
  return b;
}

function renderActions(items) {
  const body = $('actions').tBodies[0];
  const rows = items.map((a) => {
    const tr = el('tr');
    tr.dataset.actionId = a.id;
    tr.dataset.status = a.status;
    const ttl = a.status === 'active' && a.expires_at ? `until ${formatTime(a.expires_at)}` : a.ttl;
    tr.append(el('td', a.type), el('td', a.target, 'target'), el('td', a.status, 'action-status'), el('td', ttl), el('td', a.reason));
    const buttons = el('td', null, 'buttons');
    if (a.status === 'proposed') buttons.append(actionButton('Approve', a, 'approve'), actionButton('Reject', a, 'reject', true));
    if (a.status === 'active') buttons.append(actionButton('Lift', a, 'lift', true));
    tr.append(buttons);
    return tr;
  });
  body.replaceChildren(...rows);
  $('actions-count').textContent = `(${items.length})`;
  $('actions-empty').hidden = items.length > 0;
}

// Prometheus text format: sum every sample of the named metric (all label sets).
function sumMetric(text, name) {
  let total = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) {
      total += value;
      seen = true;
    }
  }
  if (seen) return total;
  // a declared metric without samples yet (no label set used) counts as zero
  return text.includes(`# TYPE ${name} `) ? 0 : null;
}

const HEALTH = [
  ['Events received', 'authwatch_events_received_total'],
  ['Events accepted', 'authwatch_events_accepted_total'],
  ['Events rejected', 'authwatch_events_rejected_total'],
  ['Events that needed redaction', 'authwatch_events_redacted_total'],
  ['Alerts raised', 'authwatch_alerts_total'],
  ['Webhook deliveries pending', 'authwatch_webhook_outbox_pending{state="pending"}'],
];

async function refreshHealth() {
  const res = await fetch('/metrics', { cache: 'no-store', credentials: 'omit' });
  if (!res.ok) return;
  const text = await res.text();
  const cards = HEALTH.map(([label, metric]) => {
    const div = el('div');
    div.dataset.metric = metric;
    const v = metric.includes('{') ? exactSample(text, metric) : sumMetric(text, metric);
    div.append(el('dt', label), el('dd', v === null ? '–' : Math.round(v).toLocaleString('en')));
    return div;
  });
  $('health').replaceChildren(...cards);
}

function exactSample(text, series) {
  for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  const name = series.slice(0, series.indexOf('{'));
  return text.includes(`# TYPE ${name} `) ? 0 : null;
}

let refreshing = null;
async function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      await refreshHealth();
    } catch {
      /* metrics are best effort */
    }
    if (!token()) {
      setStatus('No token yet: paste an access token to see alerts and actions.');
      return;
    }
    try {
      const [alerts, proposed, active] = await Promise.all([
        api('/v1/alerts?limit=100'),
        api('/v1/actions?status=proposed&limit=100'),
        api('/v1/actions?status=active&limit=100'),
      ]);
      renderAlerts(alerts.items ?? []);
      renderActions([...(proposed.items ?? []), ...(active.items ?? [])]);
      if (!$('status').classList.contains('error')) setStatus(`Updated ${new Date().toISOString().slice(11, 19)} UTC`);
    } catch (err) {
      if (err.status === 401) setStatus('The token was refused (expired or invalid). Paste a new one.', true);
      else if (err.status === 403) setStatus(`The token lacks a scope: ${err.message}`, true);
      else setStatus(`API error: ${err.message}`, true);
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const v = $('token-input').value.trim().replace(/^Bearer\s+/i, '');
  $('token-input').value = '';
  if (v) sessionStorage.setItem(TOKEN_KEY, v);
  setStatus('Token set.');
  void refresh();
});
$('token-forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  renderAlerts([]);
  renderActions([]);
  setStatus('Token forgotten.');
});

void refresh();
setInterval(() => void refresh(), POLL_MS);
