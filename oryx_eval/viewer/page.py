"""The viewer's HTML: summary table, then samples rendered by a small script, one page of rows at a time.

Sample data are embedded as JSON; the script filters (status, compression, metadata values, text) and
renders only the current page (``PAGE`` rows), so a run of thousands of samples opens at once. The initial
state can be set in the URL: ``?status=wrong&compression=4&meta.depth=50&q=text&page=2``.
"""

from __future__ import annotations

import html
import json
from typing import Any

PAGE = 50

CSS = """body{font-family:system-ui,sans-serif;margin:1.2em;font-size:13px}table.summary{border-collapse:collapse}
.summary td,.summary th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}
.summary td:first-child,.summary th:first-child{text-align:left}#controls{margin:1em 0;display:flex;flex-wrap:wrap;gap:8px}
.sample{border:1px solid #ddd;border-radius:6px;margin:8px 0;padding:8px}.sample.correct{border-left:6px solid #2a9d4a}
.sample.wrong{border-left:6px solid #d1495b}.sample.unparsed{border-left:6px solid #e8a33d}
.sample.failed{border-left:6px solid #666;background:#f6f6f6}.thumbs{display:flex;flex-wrap:wrap;gap:3px}
figure{margin:0;text-align:center;font-size:10px;color:#555}figure img{display:block;max-height:96px}
pre{white-space:pre-wrap;background:#fafafa;padding:4px;margin:2px 0;max-height:12em;overflow:auto}
.kv{color:#444}.kv b{color:#000}.err{color:#a00}"""

JS = r"""
const DATA=JSON.parse(document.getElementById('data').textContent);
const S=DATA.samples, PAGE=DATA.page;let page=0;
const $=id=>document.getElementById(id);
const esc=s=>String(s==null?'':s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
function fill(sel,vals){for(const v of vals){const o=document.createElement('option');o.value=v;o.textContent=v;sel.appendChild(o);}}
fill($('compression'),DATA.compressions);
for(const [k,vals] of Object.entries(DATA.meta)){const l=document.createElement('label');l.textContent=k+' ';
const s=document.createElement('select');s.dataset.meta=k;s.id='meta.'+k;fill(s,['']);fill(s,vals);l.appendChild(s);$('controls').appendChild(l);}
const q=new URLSearchParams(location.search);
for(const [k,v] of q){const el=$(k);if(el)el.value=v;} page=Math.max(0,(+q.get('page')||1)-1);
function keep(s){const st=$('status').value;
if(st==='not_correct'?s.status==='correct':(st&&s.status!==st))return false;
if($('compression').value&&s.compression!==$('compression').value)return false;
for(const el of document.querySelectorAll('select[data-meta]')){if(el.value&&String(s.metadata[el.dataset.meta])!==el.value)return false;}
const t=$('q').value.toLowerCase();if(t&&!(s.sample_id+' '+s.output+' '+s.prompt).toLowerCase().includes(t))return false;return true;}
function lat(s){return Object.entries(s.latency_s).filter(([k,v])=>v>0).map(([k,v])=>k+' '+v.toFixed(3)).join(', ');}
function card(s){const th=s.thumbs.map(t=>`<figure><img src="${esc(t.src)}" alt="frame ${t.index}" onload="this.dataset.ok=1" onerror="this.dataset.ok=0"><figcaption>#${t.index}${t.t==null?'':' '+t.t.toFixed(1)+'s'}</figcaption></figure>`).join('');
const tk=s.tokens;return `<div class="sample ${s.status}" data-id="${esc(s.sample_id)}" data-status="${s.status}">
<div><b>${esc(s.sample_id)}</b> · ${esc(s.task)} · compression ${esc(s.compression)}${s.compression_used&&s.compression_used!==s.compression?' (used '+esc(s.compression_used)+')':''} · <b class="status">${s.status}</b> · score ${s.score==null?'-':s.score}</div>
<div class="thumbs">${th}${s.thumb_error?'<span class="err">no thumbnails: '+esc(s.thumb_error)+'</span>':''}</div>
<div class="kv">frames seen ${s.frames.count}${s.frames.size?' at '+s.frames.size.join('x'):''}${s.frames.source_frames?' of '+s.frames.source_frames:''} · tokens visual ${tk.visual} (raw ${tk.visual_raw}), text ${tk.text}, output ${tk.output} · latency s: ${lat(s)}</div>
<div class="kv">extracted <b class="extracted">${esc(s.extracted==null?'(unparsed)':s.extracted)}</b> · target <b>${esc(s.target)}</b> · metadata ${esc(JSON.stringify(s.metadata))}</div>
${s.error?'<div class="err">error: '+esc(s.error)+'</div>':''}
<details><summary>prompt</summary><pre>${esc(s.prompt)}</pre></details><div>output:</div><pre class="output">${esc(s.output)}</pre></div>`;}
function render(){const rows=S.filter(keep);const pages=Math.max(1,Math.ceil(rows.length/PAGE));page=Math.min(page,pages-1);
$('samples').innerHTML=rows.slice(page*PAGE,(page+1)*PAGE).map(card).join('');
$('count').textContent=`${rows.length} of ${S.length} samples · page ${page+1}/${pages}`;$('count').dataset.shown=rows.length;}
document.querySelectorAll('#controls select,#controls input').forEach(el=>el.addEventListener('input',()=>{page=0;render();}));
$('prev').onclick=()=>{page=Math.max(0,page-1);render();};$('next').onclick=()=>{page++;render();};
render();
"""


def summary_table(stats: list[dict[str, Any]]) -> str:
    """The run's per (task, compression) stats as an HTML table."""
    e = html.escape
    hs = (
        "task",
        "compression",
        "n",
        "failed",
        "unparsed",
        "accuracy",
        "visual tok",
        "latency p50 s",
        "p90 s",
    )
    rows = []
    for s in stats:
        tok, lat = s.get("tokens_mean", {}), s.get("latency_s", {})
        vals = [s.get("task"), s.get("compression"), s.get("n"), s.get("failed"), s.get("unparsed")]
        vals += [f"{s.get('accuracy', float('nan')):.3f}", f"{tok.get('visual', float('nan')):.1f}"]
        vals += [f"{lat.get('p50', float('nan')):.3f}", f"{lat.get('p90', float('nan')):.3f}"]
        rows.append("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in vals) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in hs)
    return f'<table class="summary"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def render_page(
    title: str, header_lines: list[str], stats: list[dict[str, Any]], data: dict[str, Any]
) -> str:
    """The full self-contained page."""
    e = html.escape
    blob = json.dumps({**data, "page": PAGE}, default=str).replace("</", "<\\/")
    status = "".join(
        f'<option value="{v}">{t}</option>'
        for v, t in (("", "all"), ("not_correct", "not correct"), ("wrong", "wrong (answered)"),
                     ("unparsed", "unparsed"), ("failed", "failed"), ("correct", "correct"))
    )  # fmt: skip
    notes = "".join(f"<p>{e(n)}</p>" for n in header_lines)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{e(title)}</title><style>{CSS}</style></head>'
        f"<body><h1>{e(title)}</h1>{notes}{summary_table(stats)}"
        f'<div id="controls"><label>status <select id="status">{status}</select></label>'
        f'<label>compression <select id="compression"><option value=""></option></select></label>'
        f'<label>search <input id="q" type="search"></label><button id="prev">prev</button>'
        f'<button id="next">next</button><span id="count"></span></div><div id="samples"></div>'
        f'<script type="application/json" id="data">{blob}</script><script>{JS}</script></body></html>\n'
    )
