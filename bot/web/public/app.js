// The playground page: a chat channel. Messages come from /api/messages (the past, newest page first, older
// pages on demand) and /api/events (server-sent events: what the dispatcher delivers, the same JobMessage that
// Discord and Slack render). The prompt box and the buttons call the same handlers as the bots.
'use strict';

/** The prompt box's limit, as Discord's prompt field (2 000 characters). */
const PROMPT_LIMIT = 2000;
/** Visible words for buttons the message model gives only an emoji, so they read without an emoji font. */
const BUTTON_WORD = { reroll: 'Reroll', info: 'Info', delete: 'Delete', cancel: 'Cancel', pin: 'Pin', more: 'More' };
/** Accessible names and tooltips; N is the tile. */
const BUTTON_HINT = {
  upscale: 'Upscale tile N', vary_subtle: 'Subtle variation of tile N', vary_strong: 'Strong variation of tile N',
  remix: 'Remix tile N with a new prompt', reroll: 'Reroll: four new images from the same prompt', info: 'How this was made',
  delete: 'Delete this job and its images', cancel: 'Cancel this job', pin: 'Pin tile N to the board',
  more: 'More like tile N: four new images from it',
};

// viewerId: this session's user id (not its secret), to tell "you" from others. follow: keep the newest message
// in view (false while the reader has scrolled up). sent: prompts sent from this page, for ↑.
const state = { viewerId: '', bootId: '', messages: new Map(), older: undefined, follow: true, sent: [], recall: -1 };
const $ = (id) => document.getElementById(id);
const list = $('messages');
const promptBox = $('prompt');

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

/** Scrolls to the newest message unless the reader scrolled up to read history. */
function keepNewestInView() {
  if (state.follow) list.scrollTop = list.scrollHeight;
}
/** The reader acted (sent, pressed): show them the result. */
function followNewest() {
  state.follow = true;
  keepNewestInView();
}
list.addEventListener('scroll', () => { state.follow = nearBottom(); }, { passive: true });
// Images finish loading after the message is drawn and make it taller: stay at the bottom when following.
list.addEventListener('load', keepNewestInView, true);

function articleFor(jobId) {
  return list.querySelector(`article.msg[data-job="${CSS.escape(jobId)}"]`);
}

function etaText(seconds) {
  if (seconds <= 0) return 'any moment now';
  return seconds < 90 ? `about ${seconds} s left` : `about ${Math.round(seconds / 60)} min left`;
}
setInterval(() => {
  for (const span of list.querySelectorAll('.eta[data-done-at]')) span.textContent = ` · ${etaText(Math.round((Number(span.dataset.doneAt) - Date.now()) / 1000))}`;
}, 1000);

/** The body of a job message (its article or a re-post of it): buttons keep their nodes across re-renders so a click is not lost. */
function messageBody(web, old) {
  const m = web.message;
  const oldImages = new Map([...old.querySelectorAll('img')].map((img) => [img.dataset.src, img]));
  // A direct tile link that does not load (expired, or the store is not reachable from this browser) falls back to /api/image.
  const image = (src, attrs, fallback) => oldImages.get(src) ?? el('img', { src, loading: 'lazy', 'data-src': src, ...attrs,
    onerror: fallback ? (event) => { if (event.currentTarget.getAttribute('src') !== fallback) event.currentTarget.src = fallback; } : null });
  const oldButtons = new Map([...old.querySelectorAll('button[data-custom-id]')].map((b) => [b.dataset.customId, b]));
  const button = (b) => {
    // A label that is only a tile number (📌 1, 🧬 2) gets its action's word too.
    const word = b.label && !/^\d+$/.test(b.label) ? b.label : [BUTTON_WORD[b.action] ?? b.action, b.label].filter(Boolean).join(' ');
    const hint = (BUTTON_HINT[b.action] ?? word).replace('N', String(b.index));
    const known = oldButtons.get(b.customId);
    if (known && known.dataset.word === word && known.className === b.style) return known;
    return el('button', { type: 'button', class: b.style, 'data-custom-id': b.customId, 'data-action': b.action, 'data-word': word, 'data-label': b.label || b.emoji,
      disabled: b.disabled, title: hint, 'aria-label': hint, onclick: (event) => press(event.currentTarget, web) },
    b.emoji ? [el('span', { class: 'emoji', 'aria-hidden': 'true', text: b.emoji }), ' '] : null, el('span', { class: 'word', text: word }));
  };
  const eta = web.etaSeconds !== undefined && !m.final ? el('span', { class: 'eta', 'data-done-at': Date.now() + web.etaSeconds * 1000, text: ` · ${etaText(web.etaSeconds)}` }) : null;
  return el('div', { class: 'body' },
    el('div', { class: 'head' }, el('span', { class: 'author', text: 'cascade-bot' }), el('span', { class: 'bot-tag', text: 'BOT' }), el('span', { class: 'time', text: timeOf(web.createdAt) })),
    el('div', { class: 'title' }, el('b', { text: m.title }), ` — ${authorOf(web.ownerId)}`),
    m.parent ? el('div', { class: 'lineage' }, `↳ ${m.parent.label} of `, el('a', { 'data-goto': m.parent.jobId, href: '#', text: `job ${m.parent.jobId.slice(0, 9)}…`, onclick: (event) => { event.preventDefault(); jumpTo(m.parent.jobId); } })) : null,
    el('div', { class: 'status' }, el('span', { class: 'status-text', text: m.statusLine }), eta),
    m.progress ? el('div', { class: 'progress' }, el('div', { style: `width:${Math.round(m.progress.fraction * 100)}%` })) : null,
    m.previewKey && !web.tiles ? el('div', { class: 'preview' }, image(imageUrl(m.previewKey, web.previewVersion), { alt: 'preview' })) : null,
    web.tiles ? el('div', { class: `tiles${web.tiles.length === 1 ? ' single' : ''}` },
      web.tiles.map((tile) => el('button', { type: 'button', class: 'tile', 'data-index': tile.index, title: `Open tile ${tile.index} · seed ${tile.seed} · ${tile.width}×${tile.height}`,
        'aria-label': `Open tile ${tile.index} full size`, onclick: () => openViewer(web, tile) },
      // width/height reserve the tile's space before it loads, so the message does not grow under the reader.
      image(tile.url ?? imageUrl(tile.key), { alt: `tile ${tile.index}`, width: tile.width, height: tile.height }, tile.url ? imageUrl(tile.key) : null),
      web.tiles.length > 1 ? el('span', { text: String(tile.index) }) : null))) : null,
    el('div', { class: 'options' }, m.optionsText, web.picturesText ? el('span', { class: 'pictures', text: ` · ${web.picturesText}` }) : null),
    m.buttonRows.length ? el('div', { class: 'rows' }, m.buttonRows.map((row) => el('div', { class: 'row', 'data-row': row.kind }, row.buttons.map(button)))) : null,
  );
}

/** Draws or updates one job message; keeps images that did not change so nothing flickers. */
function renderMessage(web, { keepScroll = false } = {}) {
  const known = state.messages.get(web.jobId);
  if (known && web.seq < known.seq) return; // an older copy (history vs. live stream)
  state.messages.set(web.jobId, web);
  let article = articleFor(web.jobId);
  if (!article) {
    article = el('article', { class: 'msg', 'data-job': web.jobId });
    insertInOrder(article, web.createdAt);
  }
  article.dataset.status = web.message.status;
  article.dataset.kind = web.kind;
  article.dataset.created = web.createdAt;
  if (web.message.parent) article.dataset.parent = web.message.parent.jobId;
  const ephemerals = [...article.querySelectorAll(':scope > .ephemeral')];
  article.replaceChildren(el('div', { class: 'avatar', 'aria-hidden': 'true', text: 'C' }), messageBody(web, article), ...ephemerals);
  if (web.message.status === 'completed') addToGallery(web);
  if (!keepScroll) keepNewestInView();
}

function insertInOrder(article, createdAt) {
  const later = [...list.querySelectorAll('article.msg[data-job]')].find((other) => other.dataset.created > createdAt);
  list.insertBefore(article, later ?? null);
}

/** /show: the job posted again at the bottom of the channel (for the one who asked, as an ephemeral re-post). */
function repost(web) {
  const article = el('article', { class: 'msg repost', 'data-show-of': web.jobId });
  article.append(el('div', { class: 'avatar', 'aria-hidden': 'true', text: 'C' }), messageBody(web, article));
  list.append(article);
  followNewest();
}

function removeMessage(jobId) {
  state.messages.delete(jobId);
  articleFor(jobId)?.remove();
  for (const copy of list.querySelectorAll(`[data-show-of="${CSS.escape(jobId)}"]`)) copy.remove();
  $('gallery').querySelector(`[data-job="${CSS.escape(jobId)}"]`)?.remove();
  $('gallery-empty').hidden = $('gallery').children.length > 0;
}

function addToGallery(web) {
  const gallery = $('gallery');
  if (!web.tiles || gallery.querySelector(`[data-job="${CSS.escape(web.jobId)}"]`)) return;
  const first = web.tiles[0];
  const lineage = [web.message.parent ? `${web.message.parent.label} of ${web.message.parent.jobId.slice(0, 9)}…` : web.kind, web.picturesText].filter(Boolean).join(' · ');
  const card = el('li', { class: 'card', 'data-job': web.jobId, onclick: () => jumpTo(web.jobId) },
    el('img', { src: imageUrl(first.key), alt: web.prompt, loading: 'lazy', width: first.width, height: first.height }),
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
      el('div', {}, reply.copyable.map((item) => el('code', { class: 'copy', title: `copy ${item.label}`, text: `${item.label}: ${item.value}`, onclick: () => navigator.clipboard?.writeText(item.value) }))),
      // The job's pictures, through /api/image (a session's request; see server.ts sendUpload).
      reply.pictures?.length ? el('div', { class: 'info-pictures' }, reply.pictures.map((p) => el('figure', {}, el('img', { src: imageUrl(p.key), alt: p.label, width: 96 }), el('figcaption', { text: p.label })))) : null);
  } else {
    box.append(el('span', { class: 'text', text: reply.message ?? reply.error ?? 'Done.' }));
  }
  box.append(el('span', { class: 'only-you', text: 'Only you can see this · click to dismiss' }));
  box.addEventListener('click', () => box.remove());
  if (anchor) anchor.append(box);
  else list.append(el('div', { class: 'notice' }, box));
  followNewest();
}

async function post(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, requestId: crypto.randomUUID() }) });
  const reply = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
  return response.ok ? reply : { kind: 'rejected', code: reply.code ?? 'http_error', message: reply.message ?? reply.error ?? `The server answered ${response.status}.` };
}

/** What the page does with a reply to a command or a button. */
function handleReply(reply, web) {
  if (reply.kind === 'done' && reply.action === 'deleted' && reply.jobId) removeMessage(reply.jobId);
  else if (reply.kind === 'accepted') placeholder(reply);
  else if (reply.kind === 'show' && reply.web) repost(reply.web);
  else showEphemeral(reply, web ? articleFor(web.jobId) : undefined);
  // A board action (pin, vote, start, end…) changes the mood-board panel.
  if (reply.boardId || String(reply.kind).startsWith('board_')) readBoard();
}

async function press(button, web) {
  if (button.dataset.action === 'remix') return openRemix(web, Number(button.dataset.customId.split(':')[2]), button.dataset.customId);
  button.disabled = true;
  try {
    handleReply(await post('/api/button', { customId: button.dataset.customId }), web);
  } catch (error) {
    showEphemeral({ kind: 'rejected', code: 'network', message: `Could not reach the playground server (${error.message}).` }, articleFor(web.jobId));
  } finally {
    button.disabled = false;
  }
}

/** The ack: the job's message appears at once; the dispatcher's deliveries then replace it. */
function placeholder(reply) {
  if (state.messages.has(reply.jobId) || articleFor(reply.jobId)) return;
  const article = el('article', { class: 'msg', 'data-job': reply.jobId, 'data-status': 'queued', 'data-created': new Date().toISOString() },
    el('div', { class: 'avatar', 'aria-hidden': 'true', text: 'C' }),
    el('div', { class: 'body' }, el('div', { class: 'status', text: reply.position ? `Queued · position ${reply.position}` : 'Queued' })));
  list.append(article);
  followNewest();
}

// ---- Dialogs: remix (R1–R4) and the tile viewer. Esc closes them (the <dialog> element does that itself).

function openRemix(web, tile, customId) {
  const dialog = $('remix');
  $('remix-title').textContent = `Remix tile ${tile} of “${web.message.title}”`;
  const text = $('remix-text');
  text.value = web.prompt;
  $('remix-error').textContent = '';
  dialog.dataset.customId = customId;
  dialog.dataset.job = web.jobId;
  dialog.showModal();
  text.focus();
  text.select();
}

$('remix-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const dialog = $('remix');
  const text = $('remix-text').value.trim();
  if (!text) return;
  const reply = await post('/api/button', { customId: dialog.dataset.customId, text }).catch((error) => ({ kind: 'rejected', message: `Could not reach the playground server (${error.message}).` }));
  if (reply.kind === 'rejected') {
    $('remix-error').textContent = reply.message;
    return;
  }
  dialog.close();
  handleReply(reply, state.messages.get(dialog.dataset.job));
});
$('remix-cancel').addEventListener('click', () => $('remix').close());

function reproduceLine(web, tile) {
  const options = web.message.optionsText.replace(/--seed \d+/, `--seed ${tile.seed}`);
  return `/imagine ${web.prompt} ${options}`;
}

function openViewer(web, tile) {
  const dialog = $('viewer');
  const img = $('viewer-image');
  img.src = tile.url ?? imageUrl(tile.key);
  img.onerror = tile.url ? () => { if (img.getAttribute('src') !== imageUrl(tile.key)) img.src = imageUrl(tile.key); } : null;
  img.alt = `${web.prompt} — tile ${tile.index}`;
  img.width = tile.width;
  img.height = tile.height;
  $('viewer-prompt').textContent = web.prompt;
  $('viewer-seed').textContent = String(tile.seed);
  $('viewer-size').textContent = `${tile.width}×${tile.height}`;
  $('viewer-options').textContent = web.message.optionsText.replace(/--seed \d+/, `--seed ${tile.seed}`);
  const reproduce = reproduceLine(web, tile);
  $('viewer-reproduce').textContent = reproduce;
  const download = $('viewer-download');
  download.href = `/api/download?job=${encodeURIComponent(web.jobId)}&tile=${tile.index}`;
  download.setAttribute('download', `cascade-${web.jobId}-${tile.index}.png`);
  $('viewer-copy').onclick = async () => {
    await navigator.clipboard?.writeText(reproduce).catch(() => undefined);
    $('viewer-copied').textContent = 'Copied.';
    setTimeout(() => { $('viewer-copied').textContent = ''; }, 1500);
  };
  dialog.dataset.job = web.jobId;
  dialog.dataset.tile = String(tile.index);
  dialog.showModal();
}
$('viewer-close').addEventListener('click', () => $('viewer').close());
$('viewer').addEventListener('click', (event) => { if (event.target === event.currentTarget) event.currentTarget.close(); });

// ---- The prompt box: Enter sends (a form), ↑/↓ walk through prompts sent from this page, a counter shows the limit.

function updateCounter() {
  const length = promptBox.value.length;
  const counter = $('counter');
  const over = length > PROMPT_LIMIT;
  counter.textContent = `${length.toLocaleString('en')} / ${PROMPT_LIMIT.toLocaleString('en')}`;
  counter.classList.toggle('over', over);
  $('send').disabled = over;
  $('limit-note').textContent = over ? `The prompt is ${(length - PROMPT_LIMIT).toLocaleString('en')} characters over the ${PROMPT_LIMIT.toLocaleString('en')}-character limit; shorten it to send.` : '';
}
promptBox.addEventListener('input', () => { state.recall = -1; updateCounter(); });

promptBox.addEventListener('keydown', (event) => {
  if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
  // Only when the box is empty or shows a recalled prompt, so ↑ does not throw away what is being typed.
  if (promptBox.value !== '' && state.recall === -1) return;
  if (state.sent.length === 0) return;
  event.preventDefault();
  if (event.key === 'ArrowUp') state.recall = state.recall === -1 ? state.sent.length - 1 : Math.max(0, state.recall - 1);
  else state.recall = state.recall === -1 ? -1 : state.recall + 1 >= state.sent.length ? -1 : state.recall + 1;
  promptBox.value = state.recall === -1 ? '' : state.sent[state.recall];
  promptBox.setSelectionRange(promptBox.value.length, promptBox.value.length);
  updateCounter();
});

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = promptBox.value.trim();
  const withPictures = pictures.length > 0;
  if ((!text && !withPictures) || text.length > PROMPT_LIMIT) return;
  if (text && state.sent.at(-1) !== text) state.sent.push(text);
  state.recall = -1;
  promptBox.value = '';
  updateCounter();
  try {
    const reply = withPictures ? await postPictures(text) : await post('/api/command', { text });
    handleReply(reply);
    if (reply.kind === 'rejected') promptBox.value = text; // let the user fix the option
    else if (withPictures) clearPictures();
  } catch (error) {
    promptBox.value = text;
    showEphemeral({ kind: 'rejected', code: 'network', message: `Could not reach the playground server (${error.message}).` });
  }
  updateCounter();
});

// ---- Pictures for the next prompt: dropped on the channel, pasted into the box, or picked with 📎. Each is an image
// prompt with its weight, or (one of them) the start image with the strength slider. The server checks them again
// (type sniffed from the bytes, size, pixels): these checks only spare a useless upload.

const PICTURE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const MAX_PICTURES = 5;
const MAX_PICTURE_BYTES = 10 * 1024 * 1024;
/** { file, url (object URL of the thumbnail), weight, start } in the order they were added. */
const pictures = [];

function addPictures(files) {
  const refused = [];
  for (const file of files) {
    if (!PICTURE_TYPES.includes(file.type)) refused.push(`${file.name || 'The pasted file'} is not a PNG, JPEG or WebP picture.`);
    else if (file.size > MAX_PICTURE_BYTES) refused.push(`${file.name} is ${(file.size / 1048576).toFixed(1)} MiB; pictures up to 10 MiB are used.`);
    else if (pictures.length >= MAX_PICTURES) refused.push(`At most ${MAX_PICTURES} pictures go with one prompt; ${file.name} was left out.`);
    else pictures.push({ file, url: URL.createObjectURL(file), weight: 1, start: false });
  }
  if (refused.length) showEphemeral({ kind: 'rejected', code: 'bad_upload', message: refused.join(' ') });
  renderPictures();
}

function removePicture(index) {
  const [removed] = pictures.splice(index, 1);
  if (removed) URL.revokeObjectURL(removed.url);
  renderPictures();
}

function clearPictures() {
  for (const picture of pictures.splice(0)) URL.revokeObjectURL(picture.url);
  renderPictures();
}

function renderPictures() {
  $('attachments').hidden = pictures.length === 0;
  $('strength-control').hidden = !pictures.some((picture) => picture.start);
  $('thumbs').replaceChildren(...pictures.map((picture, index) => el('li', { class: `thumb${picture.start ? ' start' : ''}`, 'data-index': index },
    el('img', { src: picture.url, alt: picture.file.name || `picture ${index + 1}` }),
    el('button', { type: 'button', class: 'remove', title: 'Remove this picture', 'aria-label': `Remove picture ${index + 1}`, text: '✕', onclick: () => removePicture(index) }),
    el('label', {}, el('input', { type: 'checkbox', class: 'use-start', checked: picture.start, onchange: (event) => {
      for (const other of pictures) other.start = false;
      picture.start = event.currentTarget.checked;
      renderPictures();
    } }), 'use as start image'),
    picture.start ? null : el('label', {}, 'weight', el('input', { type: 'number', class: 'weight', min: 0, max: 3, step: 0.1, value: picture.weight, 'aria-label': `Weight of picture ${index + 1}`,
      onchange: (event) => { picture.weight = Number(event.currentTarget.value); } })))));
}

/** The prompt with its pictures (start image first) as one multipart request: POST /api/imagine. */
async function postPictures(text) {
  const form = new FormData();
  form.append('text', text);
  form.append('requestId', crypto.randomUUID());
  const ordered = [...pictures.filter((picture) => picture.start), ...pictures.filter((picture) => !picture.start)];
  for (const picture of ordered) {
    form.append('image', picture.file, picture.file.name || 'pasted.png');
    form.append('weight', String(picture.start ? 1 : picture.weight));
  }
  if (ordered[0]?.start) form.append('strength', $('strength').value);
  const response = await fetch('/api/imagine', { method: 'POST', body: form });
  const reply = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
  return response.ok ? reply : { kind: 'rejected', code: reply.code ?? 'http_error', message: reply.message ?? reply.error ?? `The server answered ${response.status}.` };
}

$('attach').addEventListener('click', () => $('file-picker').click());
$('file-picker').addEventListener('change', (event) => {
  addPictures([...event.currentTarget.files]);
  event.currentTarget.value = '';
});
$('strength').addEventListener('input', (event) => { $('strength-value').textContent = event.currentTarget.value; });
promptBox.addEventListener('paste', (event) => {
  const files = [...(event.clipboardData?.files ?? [])];
  if (files.length === 0) return;
  event.preventDefault();
  addPictures(files);
});
{
  // Dropping anywhere on the channel adds the pictures to the next prompt.
  const zone = document.querySelector('main.channel');
  const composer = $('composer');
  const hasFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');
  zone.addEventListener('dragover', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    composer.classList.add('dropping');
  });
  zone.addEventListener('dragleave', (event) => { if (!zone.contains(event.relatedTarget)) composer.classList.remove('dropping'); });
  zone.addEventListener('drop', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    composer.classList.remove('dropping');
    addPictures([...event.dataTransfer.files]);
    promptBox.focus();
  });
}

// ---- The channel: live events, the newest page, older pages on demand.

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
    else if (data.type === 'board') {
      readBoard();
      if (data.summary) showEphemeral({ kind: 'board_summary', message: data.summary });
    }
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
  readBoard();
  readChannel().then(() => {
    ready = true;
    pending.splice(0).forEach(apply);
    followNewest();
    document.body.dataset.ready = 'true';
  });
}

/** The mood-board side panel: the open board, its pins ranked by votes with 👍, ⭐ (host) and unpin per pin. */
async function readBoard() {
  const body = await (await fetch('/api/boards')).json().catch(() => ({ board: null }));
  const board = body.board;
  const root = $('board');
  root.replaceChildren();
  $('board-empty').hidden = Boolean(board);
  if (!board) return;
  const pinButton = (action, pin, label, title) => el('button', { type: 'button', class: 'secondary', 'data-custom-id': `${action}:${pin.jobId}:${pin.tile}`, title, text: label,
    onclick: async (event) => {
      const reply = await post('/api/button', { customId: event.currentTarget.dataset.customId });
      if (reply.kind !== 'done') showEphemeral(reply);
      readBoard();
    } });
  root.append(el('div', { class: 'board-card', 'data-board': board.id },
    el('h3', { text: `📋 ${board.name}` }),
    board.brief ? el('p', { class: 'board-meta', text: board.brief }) : null,
    el('p', { class: 'board-meta', text: `${board.pins.length}/${board.maxPins} pins · ${board.members} members · until ${board.deadline.slice(0, 16).replace('T', ' ')} UTC` }),
    board.tasteLine ? el('p', { class: 'board-meta', text: `taste: ${board.tasteLine}` }) : null,
    el('p', { class: 'board-meta' }, el('code', { class: 'copy board-code', text: board.code, title: 'copy the board code', onclick: () => navigator.clipboard?.writeText(board.code) })),
    board.pageUrl ? el('p', { class: 'board-meta' }, el('a', { href: board.pageUrl, target: '_blank', class: 'board-page-link', text: 'Open the board page' })) : null,
    el('ol', { class: 'board-pins' }, board.pins.map((pin) => el('li', { class: `board-pin${pin.hero ? ' hero' : ''}`, 'data-pin': pin.pinKey, 'data-votes': pin.votes, title: `${pin.prompt} · seed ${pin.seed}` },
      el('img', { src: pin.imageUrl, alt: pin.prompt, loading: 'lazy' }),
      el('div', { class: 'pin-actions' },
        pinButton('vote', pin, `👍 ${pin.votes}`, 'vote (press again to take it back)'),
        board.role === 'host' ? pinButton('hero', pin, pin.hero ? '⭐' : '☆', 'make this the hero') : null,
        pinButton('unpin', pin, '✕', 'unpin')))))));
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

updateCounter();
connect();
promptBox.focus();
