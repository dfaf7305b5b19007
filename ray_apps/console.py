"""The operator console: one static page that lists pending alerts (probe crop beside the watchlist image)
and posts the officer's decision. The key is typed into the page and kept in this tab's sessionStorage;
every image and call goes through the authenticated API."""

CONSOLE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LFR operator console</title>
<style>
 body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:60rem}
 .alert{border:1px solid #bbb;border-radius:6px;padding:.8rem;margin:.8rem 0;display:flex;gap:1rem;align-items:center}
 .alert img{width:160px;height:160px;object-fit:contain;background:#eee}
 button{margin:.2rem;padding:.4rem .8rem} #msg{color:#a00}
</style></head><body>
<h1>Pending alerts</h1>
<p>Deployment <input id="dep" size="38"> API key <input id="key" type="password" size="30"></p>
<p>Reason for viewing <input id="why" size="60" placeholder="e.g. adjudicating alerts of operation X">
<button onclick="save()">Show</button> <small>(logged with every view)</small></p>
<p>An alert is a prompt for a human decision, never an identification by itself.</p>
<div id="msg"></div><div id="list"></div>
<script>
const q = new URLSearchParams(location.search);
const dep = document.getElementById('dep'), key = document.getElementById('key'), why = document.getElementById('why');
dep.value = q.get('deployment') || sessionStorage.getItem('lfr-dep') || '';
key.value = sessionStorage.getItem('lfr-key') || '';
why.value = sessionStorage.getItem('lfr-why') || '';
function hdr(){ return {'X-API-Key': key.value}; }
function reason(){ return 'reason=' + encodeURIComponent(why.value); }
function save(){ sessionStorage.setItem('lfr-dep', dep.value); sessionStorage.setItem('lfr-key', key.value);
  sessionStorage.setItem('lfr-why', why.value); load(); }
async function img(url, el){
  const r = await fetch(url + '?' + reason(), {headers: hdr()});
  if (r.ok) el.src = URL.createObjectURL(await r.blob());
}
async function decide(id, outcome){
  const r = await fetch('/v1/alerts/' + id + '/adjudication', {method: 'POST',
    headers: {...hdr(), 'Content-Type': 'application/json'}, body: JSON.stringify({outcome})});
  document.getElementById('msg').textContent = r.ok ? '' : (await r.json()).detail;
  load();
}
async function load(){
  const list = document.getElementById('list'); list.innerHTML = '';
  if (!dep.value || !key.value || !why.value) return;
  const r = await fetch('/v1/deployments/' + encodeURIComponent(dep.value) + '/alerts?status=pending&' + reason(),
                        {headers: hdr()});
  if (!r.ok){ document.getElementById('msg').textContent = (await r.json()).detail; return; }
  document.getElementById('msg').textContent = '';
  for (const a of await r.json()){
    const div = document.createElement('div'); div.className = 'alert';
    const probe = document.createElement('img'), wl = document.createElement('img');
    probe.alt = 'probe'; wl.alt = 'watchlist';
    const info = document.createElement('div');
    info.textContent = a.subject_ref + ' (' + a.category + ') score ' + a.score.toFixed(3) +
      ' camera ' + a.camera_id + ' at ' + a.captured_at;
    const buttons = document.createElement('div');
    for (const o of ['confirmed', 'declined', 'not_engaged']){
      const b = document.createElement('button'); b.textContent = o; b.onclick = () => decide(a.id, o);
      buttons.appendChild(b);
    }
    info.appendChild(buttons);
    div.append(probe, wl, info); list.appendChild(div);
    img(a.probe_crop_url, probe); if (a.watchlist_image_url) img(a.watchlist_image_url, wl);
  }
}
load(); setInterval(load, 15000);
</script></body></html>
"""
