// The playground page: a chat channel. Messages come from /api/messages (the past, rebuilt from the
// store) and /api/events (server-sent events: what the dispatcher delivers, the same JobMessage that
// Discord and Slack render). The prompt box and the buttons call the same handlers as the bots.
'use strict';

// viewerId: this session's user id (not its secret), to tell "you" from others.
const state = { viewerId: '', bootId: '', messages: new Map(), older: undefined };
const $ = (id) => document.getElementById(id);
const list = $('messages');

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

const imageUrl = (key, version) => `/api/image?key=${encodeURIComponent(key)}${version ? `&v=${version}` : ''}`;
const authorOf = (ownerId) => (ownerId === state.viewerId ? 'you' : `guest-${ownerId.slice(1, 5)}`);
const timeOf = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const nearBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 120;

function articleFor(jobId) {
  return list.querySelector(`article.msg[data-job="${CSS.escape(jobId)}"]`);
}

/** Draws or updates one job message; keeps images that did not change so nothing flickers. */
function renderMessage(web, { keepScroll = false } = {}) {
  const known = state.messages.get(web.jobId);
  if (known && web.seq < known.seq) return; // an older copy (history vs. live stream)
  state.messages.set(web.jobId, web);
  const m = web.message;
  const stick = !keepScroll && nearBottom();
  let article = articleFor(web.jobId);
  if (!article) {
    article = el('article', { class: 'msg', 'data-job': web.jobId });
    insertInOrder(article, web.createdAt);
  }
  article.dataset.status = m.status;
  article.dataset.kind = web.kind;
  article.dataset.created = web.createdAt;
  if (m.parent) article.dataset.parent = m.parent.jobId;

  const ephemerals = [...article.querySelectorAll(':scope > .ephemeral')];
  const oldImages = new Map([...article.querySelectorAll('img')].map((img) => [img.dataset.src, img]));
  // A direct tile link that does not load (expired, or the store is not reachable from this browser) falls back to /api/image.
  const image = (src, alt, fallback) => oldImages.get(src) ?? el('img', { src, alt, loading: 'lazy', 'data-src': src,
    onerror: fallback ? (event) => { if (event.currentTarget.getAttribute('src') !== fallback) event.currentTarget.src = fallback; } : null });
  // Progress re-renders the message several times a second: keep the same button nodes so a click in between is not lost.
  const oldButtons = new Map([...article.querySelectorAll('button[data-custom-id]')].map((b) => [b.dataset.customId, b]));
  const button = (b) => {
    const text = [b.emoji, b.label].filter(Boolean).join(' ');
    const known = oldButtons.get(b.customId);
    if (known && known.textContent === text && known.className === b.style) return known;
    return el('button', { type: 'button', class: b.style, 'data-custom-id': b.customId, 'data-label': b.label || b.emoji, disabled: b.disabled, title: b.label || b.action,
      text, onclick: (event) => press(event.currentTarget, web.jobId) });
  };

  const body = el('div', { class: 'body' },
    el('div', { class: 'head' }, el('span', { class: 'author', text: 'cascade-bot' }), el('span', { class: 'bot-tag', text: 'BOT' }), el('span', { class: 'time', text: timeOf(web.createdAt) })),
    el('div', { class: 'title' }, el('b', { text: m.title }), ` — ${authorOf(web.ownerId)}`),
    m.parent ? el('div', { class: 'lineage' }, `↳ ${m.parent.label} of `, el('a', { 'data-goto': m.parent.jobId, text: `job ${m.parent.jobId.slice(0, 9)}…`, onclick: () => jumpTo(m.parent.jobId) })) : null,
    el('div', { class: 'status', text: m.statusLine }),
    m.progress ? el('div', { class: 'progress' }, el('div', { style: `width:${Math.round(m.progress.fraction * 100)}%` })) : null,
    m.previewKey && !web.tiles ? el('div', { class: 'preview' }, image(imageUrl(m.previewKey, web.previewVersion), 'preview')) : null,
    web.tiles ? el('div', { class: `tiles${web.tiles.length === 1 ? ' single' : ''}` },
      web.tiles.map((tile) => el('div', { class: 'tile', 'data-index': tile.index, title: `tile ${tile.index} · seed ${tile.seed} · ${tile.width}×${tile.height}` },
        image(tile.url ?? imageUrl(tile.key), `tile ${tile.index}`, tile.url ? imageUrl(tile.key) : null), web.tiles.length > 1 ? el('span', { text: String(tile.index) }) : null))) : null,
    el('div', { class: 'options', text: m.optionsText }),
    m.buttonRows.length ? el('div', { class: 'rows' }, m.buttonRows.map((row) => el('div', { class: 'row', 'data-row': row.kind },
      row.buttons.map(button)))) : null,
  );
  article.replaceChildren(el('div', { class: 'avatar', text: 'C' }), body, ...ephemerals);
  if (m.status === 'completed') addToGallery(web);
  if (stick) list.scrollTop = list.scrollHeight;
}

function insertInOrder(article, createdAt) {
  const later = [...list.querySelectorAll('article.msg')].find((other) => other.dataset.created > createdAt);
  list.insertBefore(article, later ?? null);
}

function removeMessage(jobId) {
  state.messages.delete(jobId);
  articleFor(jobId)?.remove();
  $('gallery').querySelector(`[data-job="${CSS.escape(jobId)}"]`)?.remove();
  $('gallery-empty').hidden = $('gallery').children.length > 0;
}

function addToGallery(web) {
  const gallery = $('gallery');
  if (!web.tiles || gallery.querySelector(`[data-job="${CSS.escape(web.jobId)}"]`)) return;
  const first = web.tiles[0];
  const lineage = web.message.parent ? `${web.message.parent.label} of ${web.message.parent.jobId.slice(0, 9)}…` : web.kind;
  const card = el('li', { class: 'card', 'data-job': web.jobId, onclick: () => jumpTo(web.jobId) },
    el('img', { src: imageUrl(first.key), alt: web.prompt, loading: 'lazy' }),
    el('div', { class: 'meta' }, el('b', { text: web.prompt }), el('span', { class: 'seed', text: `seed ${web.tiles.map((t) => t.seed).join(', ')}` }), el('br'), el('span', { class: 'lineage-text', text: lineage })));
  gallery.prepend(card);
  $('gallery-empty').hidden = true;
}

function jumpTo(jobId) {
  const article = articleFor(jobId);
  if (!article) return;
  article.scrollIntoView({ behavior: 'smooth', block: 'center' });
  article.classList.add('highlight');
  setTimeout(() => article.classList.remove('highlight'), 1200);
}

/** A reply only the actor sees (like Discord's ephemeral messages), under a message or at the bottom. */
function showEphemeral(reply, anchor) {
  const isError = reply.kind === 'rejected' || reply.error;
  const box = el('div', { class: `ephemeral${isError ? ' error' : ''}`, 'data-code': reply.code ?? reply.kind, role: isError ? 'alert' : 'status' });
  if (reply.kind === 'info') {
    box.append(el('b', { text: reply.title }), el('ul', {}, reply.lines.map((line) => el('li', { text: line }))),
      el('div', {}, reply.copyable.map((item) => el('code', { class: 'copy', title: `copy ${item.label}`, text: `${item.label}: ${item.value}`, onclick: () => navigator.clipboard?.writeText(item.value) }))));
  } else {
    box.append(el('span', { class: 'text', text: reply.message ?? reply.error ?? 'Done.' }));
  }
  box.append(el('span', { class: 'only-you', text: 'Only you can see this · click to dismiss' }));
  box.addEventListener('click', () => box.remove());
  if (anchor) anchor.append(box);
  else list.append(el('div', { class: 'notice' }, box));
  list.scrollTop = list.scrollHeight;
}

async function post(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, requestId: crypto.randomUUID() }) });
  const reply = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
  return response.ok ? reply : { kind: 'rejected', code: reply.code ?? 'http_error', message: reply.message ?? reply.error ?? `The server answered ${response.status}.` };
}

async function press(button, jobId) {
  button.disabled = true;
  try {
    const reply = await post('/api/button', { customId: button.dataset.customId });
    const anchor = articleFor(jobId);
    if (reply.kind === 'done' && reply.action === 'deleted') removeMessage(jobId);
    else if (reply.kind === 'accepted') placeholder(reply);
    else showEphemeral(reply, anchor);
  } catch (error) {
    showEphemeral({ kind: 'rejected', code: 'network', message: `Could not reach the playground server (${error.message}).` }, articleFor(jobId));
  } finally {
    button.disabled = false;
  }
}

/** The ack: the job's message appears at once; the dispatcher's deliveries then replace it. */
function placeholder(reply) {
  if (state.messages.has(reply.jobId) || articleFor(reply.jobId)) return;
  const article = el('article', { class: 'msg', 'data-job': reply.jobId, 'data-status': 'queued', 'data-created': new Date().toISOString() },
    el('div', { class: 'avatar', text: 'C' }),
    el('div', { class: 'body' }, el('div', { class: 'status', text: reply.position ? `Queued · position ${reply.position}` : 'Queued' })));
  list.append(article);
  list.scrollTop = list.scrollHeight;
}

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('prompt');
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  try {
    const reply = await post('/api/command', { text });
    if (reply.kind === 'accepted') placeholder(reply);
    else showEphemeral(reply);
    if (reply.kind === 'rejected') input.value = text; // let the user fix the option
  } catch (error) {
    input.value = text;
    showEphemeral({ kind: 'rejected', code: 'network', message: `Could not reach the playground server (${error.message}).` });
  }
});

function connect() {
  const pending = [];
  let ready = false;
  let connections = 0;
  const events = new EventSource('/api/events');
  const connection = $('connection');
  events.onopen = () => { connection.dataset.state = 'live'; connection.textContent = 'live'; };
  events.onerror = () => { connection.dataset.state = 'lost'; connection.textContent = 'reconnecting…'; };
  const apply = (data) => {
    if (data.type === 'removed') removeMessage(data.jobId);
    else if (data.type === 'message') renderMessage(data.message);
  };
  events.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (data.type === 'hello') {
      // After a reconnect, read the channel again: deliveries made while away were not streamed to us.
      if (connections++ > 0) readChannel(data.bootId);
    } else if (!ready) pending.push(data);
    else apply(data);
  };
  // Subscribe first, then read the past, so nothing delivered in between is missed.
  readChannel().then(() => {
    ready = true;
    pending.splice(0).forEach(apply);
    list.scrollTop = list.scrollHeight;
    document.body.dataset.ready = 'true';
  });
}

/** The newest page of the channel (older pages load on demand: loadOlder). */
async function readChannel(bootId) {
  const body = await (await fetch('/api/messages')).json();
  // A restarted server numbers its deliveries from 1 again: forget the old numbers.
  if (bootId !== undefined || (state.bootId && body.bootId !== state.bootId)) for (const message of state.messages.values()) message.seq = 0;
  state.bootId = body.bootId;
  state.viewerId = body.viewerId ?? '';
  if (state.older === undefined || bootId === undefined) setOlder(body.older ?? null);
  for (const message of body.messages) renderMessage(message);
}

/** `older`: the cursor of the page before the oldest shown (null: nothing older). */
function setOlder(older) {
  state.older = older;
  $('load-older').hidden = !older;
}

async function loadOlder() {
  if (!state.older) return;
  const button = $('load-older');
  button.disabled = true;
  try {
    const body = await (await fetch(`/api/messages?before=${encodeURIComponent(state.older)}`)).json();
    // Keep what the reader was looking at in place while older messages are added above it.
    const fromBottom = list.scrollHeight - list.scrollTop;
    for (const message of body.messages) renderMessage(message, { keepScroll: true });
    list.scrollTop = list.scrollHeight - fromBottom;
    setOlder(body.older ?? null);
  } finally {
    button.disabled = false;
  }
}
$('load-older').addEventListener('click', loadOlder);

connect();
$('prompt').focus();
