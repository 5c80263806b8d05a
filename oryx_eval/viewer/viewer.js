// oryx-eval run viewer: filters the embedded samples and renders one page of them at a time.
const DATA = JSON.parse(document.getElementById('data').textContent);
// initial state from the URL: ?status=wrong&compression=4&meta.depth=50&q=text&page=2&per_page=100
const q = new URLSearchParams(location.search);
const S = DATA.samples, PAGE = Math.max(1, +q.get('per_page') || DATA.page);
let page = 0;
const $ = id => document.getElementById(id);
const ESC = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'};
const esc = s => String(s == null ? '' : s).replace(/[&<>"]/g, c => ESC[c]);

function fill(sel, vals) {
  for (const v of vals) {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = v;
    sel.appendChild(o);
  }
}

fill($('compression'), DATA.compressions);
for (const [k, vals] of Object.entries(DATA.meta)) {
  const l = document.createElement('label');
  l.textContent = k + ' ';
  const s = document.createElement('select');
  s.dataset.meta = k;
  s.id = 'meta.' + k;
  fill(s, ['']);
  fill(s, vals);
  l.appendChild(s);
  $('controls').appendChild(l);
}
for (const [k, v] of q) {
  const el = $(k);
  if (el) el.value = v;
}
page = Math.max(0, (+q.get('page') || 1) - 1);

function keep(s) {
  const st = $('status').value;
  if (st === 'not_correct' ? s.status === 'correct' : (st && s.status !== st)) return false;
  if ($('compression').value && s.compression !== $('compression').value) return false;
  for (const el of document.querySelectorAll('select[data-meta]')) {
    if (el.value && String(s.metadata[el.dataset.meta]) !== el.value) return false;
  }
  const t = $('q').value.toLowerCase();
  return !t || (s.sample_id + ' ' + s.output + ' ' + s.prompt).toLowerCase().includes(t);
}

function latency(s) {
  return Object.entries(s.latency_s).filter(([, v]) => v > 0)
    .map(([k, v]) => k + ' ' + v.toFixed(3)).join(', ');
}

function thumb(t) {
  const ts = t.t == null ? '' : ' ' + t.t.toFixed(1) + 's';
  return `<figure><img src="${esc(t.src)}" alt="frame ${t.index}" onload="this.dataset.ok=1"
    onerror="this.dataset.ok=0"><figcaption>#${t.index}${ts}</figcaption></figure>`;
}

function card(s) {
  const tk = s.tokens, f = s.frames;
  const used = s.compression_used && s.compression_used !== s.compression
    ? ' (used ' + esc(s.compression_used) + ')' : '';
  const noThumbs = s.thumb_error ? '<span class="err">no thumbnails: ' + esc(s.thumb_error) + '</span>' : '';
  const size = f.size ? ' at ' + f.size.join('x') : '';
  const of = f.source_frames ? ' of ' + f.source_frames : '';
  const extracted = s.extracted == null ? '(unparsed)' : s.extracted;
  return `<div class="sample ${s.status}" data-id="${esc(s.sample_id)}" data-status="${s.status}">
  <div><b>${esc(s.sample_id)}</b> · ${esc(s.task)} · compression ${esc(s.compression)}${used}
    · <b class="status">${s.status}</b> · score ${s.score == null ? '-' : s.score}</div>
  <div class="thumbs">${s.thumbs.map(thumb).join('')}${noThumbs}</div>
  <div class="kv">frames seen ${f.count}${size}${of} · tokens visual ${tk.visual} (raw ${tk.visual_raw}),
    text ${tk.text}, output ${tk.output} · latency s: ${latency(s)}</div>
  <div class="kv">extracted <b class="extracted">${esc(extracted)}</b> · target <b>${esc(s.target)}</b>
    · metadata ${esc(JSON.stringify(s.metadata))}</div>
  ${s.error ? '<div class="err">error: ' + esc(s.error) + '</div>' : ''}
  <details><summary>prompt</summary><pre>${esc(s.prompt)}</pre></details>
  <div>output:</div><pre class="output">${esc(s.output)}</pre></div>`;
}

function render() {
  const rows = S.filter(keep);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  page = Math.min(page, pages - 1);
  $('samples').innerHTML = rows.slice(page * PAGE, (page + 1) * PAGE).map(card).join('');
  $('count').textContent = `${rows.length} of ${S.length} samples · page ${page + 1}/${pages}`;
  $('count').dataset.shown = rows.length;
}

document.querySelectorAll('#controls select, #controls input').forEach(
  el => el.addEventListener('input', () => { page = 0; render(); }));
$('prev').onclick = () => { page = Math.max(0, page - 1); render(); };
$('next').onclick = () => { page++; render(); };
render();
