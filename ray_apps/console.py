"""The operator console: one static page that lists pending alerts (probe crop beside the watchlist image)
and posts the officer's decision. The officer signs in as themselves (POST /v1/auth/token); the token is
kept in this tab's sessionStorage, and every image and call goes through the authenticated API."""

CONSOLE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LFR operator console</title>
<style>
 body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:60rem}
 .alert{border:1px solid #bbb;border-radius:6px;padding:.8rem;margin:.8rem 0;display:flex;gap:1rem;align-items:center}
 .alert img{width:160px;height:160px;object-fit:contain;background:#eee}
 button{margin:.2rem;padding:.4rem .8rem} #msg{color:#a00}
</style></head><body>
<h1>Pending alerts</h1>
<form id="signin" onsubmit="signIn(event)">Name <input id="user" autocomplete="username" size="20">
Password <input id="pass" type="password" autocomplete="current-password" size="20">
<button>Sign in</button> <span id="who"></span></form>
<p>Deployment <input id="dep" size="38"></p>
<p>Reason for viewing <input id="why" size="60" placeholder="e.g. adjudicating alerts of operation X">
<button onclick="save()">Show</button> <small>(logged with every view)</small></p>
<p>An alert is a prompt for a human decision, never an identification by itself.</p>
<div id="msg"></div><div id="list"></div>
<script>
const q = new URLSearchParams(location.search);
const dep = document.getElementById('dep'), why = document.getElementById('why');
dep.value = q.get('deployment') || sessionStorage.getItem('lfr-dep') || '';
why.value = sessionStorage.getItem('lfr-why') || '';
let token = sessionStorage.getItem('lfr-token') || '';
document.getElementById('who').textContent = sessionStorage.getItem('lfr-who') || '';
function hdr(){ return {'Authorization': 'Bearer ' + token}; }
function reason(){ return 'reason=' + encodeURIComponent(why.value); }
async function signIn(ev){
  ev.preventDefault();
  const user = document.getElementById('user').value;
  const r = await fetch('/v1/auth/token', {method: 'POST', body: new URLSearchParams({
    username: user, password: document.getElementById('pass').value})});
  document.getElementById('pass').value = '';
  if (!r.ok){ document.getElementById('msg').textContent = (await r.json()).detail; return; }
  token = (await r.json()).access_token;
  sessionStorage.setItem('lfr-token', token); sessionStorage.setItem('lfr-who', 'signed in as ' + user);
  document.getElementById('who').textContent = 'signed in as ' + user; load();
}
function save(){ sessionStorage.setItem('lfr-dep', dep.value); sessionStorage.setItem('lfr-why', why.value); load(); }
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
  if (!dep.value || !token || !why.value) return;
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
