"""The operator console: one self-contained page (no asset from outside: a police network has no internet)
for a tablet or a desktop. The officer signs in as themselves (POST /v1/auth/token; the token stays in this
tab's sessionStorage), picks one of the deployments they are assigned to, states why they are looking (every
view is logged with it), and then works from it:

- the alert queue, pushed by the server (server-sent events read with fetch, so the token goes in a header),
  with a sound when a new alert arrives;
- each alert's probe crop beside the watchlist face, framed alike and labelled, with zoom, score, camera,
  time, the frame's age when it was matched (from the camera's capture to the alert), category and rationale;
- a decision after a confirmation step, with a note, and an undo while the database allows it;
- after an engagement, its outcome;
- the dashboard (window countdown, live version, faces seen, alerts, true and false, false alerts per face
  against the projection) and a tile per camera (frames/s, last frame, dropped and refused frames, how many of
  its faces could have been recognised, and "camera too far or too wide" when most of them were narrower than
  the reliable size), with the live gate's face size and each registered camera's range (issue 32 items 2-3);
- the post-deployment reviews assigned to the officer (issue 28 item 5): each alert's class and decision, never
  its subject, and a finding recorded once in their name.

Sign out ends the token at the service too (POST /v1/auth/logout): a copy of it is refused until it expires.
"""

from __future__ import annotations

CONSOLE_HTML = r"""<!doctype html>
<html lang="en" data-time-zone="Europe/London"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LFR operator console</title>
<style>
 :root{--fg:#1d2330;--muted:#5b6475;--line:#d5d9e0;--bg:#f5f6f8;--card:#fff;--accent:#0b5cad;--ok:#1f7a3a;
       --bad:#b3261e;--warn:#8a5a00}
 *{box-sizing:border-box} body{margin:0;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 color:var(--fg);background:var(--bg)}
 header{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;padding:.6rem 1rem;background:#14213d;color:#fff}
 header h1{font-size:1.05rem;margin:0 1rem 0 0} header .who{margin-left:auto}
 header select,header input{font:inherit;padding:.35rem;border-radius:4px;border:1px solid #8893a7;min-width:0;
       width:100%;flex:1 1 10rem}
 header label{display:flex;flex-wrap:wrap;align-items:center;gap:.3rem;flex:1 1 16rem;min-width:0;max-width:100%}
 /* Touch targets of at least 44 px (WCAG 2.5.5) and a focus ring seen on the dark header and on white alike. */
 button,select,input,textarea{min-height:44px} button{min-width:44px}
 :focus-visible{outline:3px solid #ffbf47;outline-offset:1px;box-shadow:0 0 0 6px #1d2330}
 main{display:grid;grid-template-columns:minmax(0,2fr) minmax(16rem,1fr);gap:1rem;padding:1rem}
 @media (max-width:900px){main{grid-template-columns:1fr}}
 section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.8rem}
 h2{font-size:1rem;margin:.1rem 0 .6rem}
 button{font:inherit;padding:.45rem .8rem;border-radius:6px;border:1px solid var(--line);background:#fff;cursor:pointer;
        min-height:44px} button.primary{background:var(--accent);color:#fff;border-color:var(--accent)}
 button.confirm{border-color:var(--ok);color:var(--ok)} button.decline{border-color:var(--bad);color:var(--bad)}
 .alert{border:1px solid var(--line);border-radius:8px;padding:.7rem;margin:0 0 .8rem;display:grid;
        grid-template-columns:auto auto minmax(12rem,1fr);gap:.8rem;align-items:start}
 .alert.pending{border-color:var(--warn);box-shadow:0 0 0 2px #f3d28b inset}
 .alert.fresh{animation:flash 1.2s ease-out 2}
 @keyframes flash{from{background:#fff3cd}to{background:#fff}}
 @media (max-width:600px){.alert{grid-template-columns:1fr 1fr}.alert .facts{grid-column:1/3}}
 button.zoom{padding:0;border:0;background:none;display:block;margin:0 auto}
 .undo-row{margin:.2rem 0 1rem;padding-bottom:.8rem;border-bottom:1px dashed var(--line)}
 figure{margin:0;text-align:center} figure img{width:180px;height:180px;object-fit:contain;background:#e9ecf1;
        border-radius:6px;cursor:zoom-in;display:block}
 @media (max-width:600px){figure img{width:100%;height:auto;aspect-ratio:1}}
 figcaption{font-size:.8rem;color:var(--muted);margin-top:.2rem}
 .facts dl{display:grid;grid-template-columns:auto 1fr;gap:.1rem .6rem;margin:0 0 .5rem}
 .facts dt{color:var(--muted)} .facts dd{margin:0}
 .status{font-weight:600} .status.confirmed{color:var(--ok)} .status.declined{color:var(--bad)}
 .row{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}
 .stats{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:.4rem}
 .stat{background:var(--bg);border-radius:6px;padding:.4rem .5rem} .stat b{display:block;font-size:1.25rem}
 .stat span{font-size:.8rem;color:var(--muted)}
 .tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.5rem}
 .tile{border:1px solid var(--line);border-radius:6px;padding:.4rem .5rem;font-size:.85rem}
 .tile b{display:block} .tile.stale,.tile.far{border-color:var(--warn)} .tile .warn{color:var(--warn);font-weight:600}
 .tile .stale-warn{color:var(--bad);font-weight:600}
 #msg{color:var(--bad);min-height:1.2rem;padding:0 1rem} .hint{color:var(--muted);font-size:.85rem}
 dialog{border:1px solid var(--line);border-radius:10px;max-width:32rem;width:92vw}
 dialog textarea{width:100%;min-height:5rem;font:inherit} dialog::backdrop{background:#0007}
 #zoom img{width:100%;height:auto;image-rendering:auto}
 #reviews{margin:1rem 1rem 0} .review{border:1px solid var(--line);border-radius:8px;padding:.7rem;margin:0 0 .8rem}
 .review textarea{width:100%;min-height:4rem;font:inherit} .review dl{display:grid;grid-template-columns:auto 1fr;
       gap:.1rem .6rem;margin:0 0 .5rem} .review dt{color:var(--muted)} .review dd{margin:0}
 #ranges{margin:.2rem 0 0;padding-left:1.2rem}
 #signin{max-width:24rem;margin:3rem auto} #signin label{display:block;margin:.5rem 0}
 #signin input{width:100%;font:inherit;padding:.5rem}
 [hidden]{display:none!important}
</style></head><body>
<header><h1>LFR operator console</h1>
 <label>Deployment <select id="dep" aria-label="Deployment"></select></label>
 <label>Reason for viewing <input id="why" placeholder="e.g. adjudicating alerts, op. X" aria-label="Reason for viewing"></label>
 <button id="open">Open</button>
 <span class="who" id="who"></span> <button id="signout" hidden>Sign out</button></header>
<div id="msg" role="alert"></div>
<section id="reviews" hidden><h2>Post-deployment reviews assigned to you</h2>
 <p class="hint">Each true alert left unconfirmed and each false alert is reviewed after the window; the deployment
 record is final when every review is done. Your finding is recorded once, in your name.</p>
 <div id="review-list"></div></section>
<form id="signin" hidden><section><h2>Sign in</h2>
 <label>Name <input id="user" autocomplete="username" required></label>
 <label>Password <input id="pass" type="password" autocomplete="current-password" required></label>
 <button class="primary">Sign in</button>
 <p class="hint">You sign in as yourself: every decision is recorded in your name.</p></section></form>
<main id="work" hidden>
 <section id="queue"><h2>Alerts <small class="hint" id="live">not connected</small></h2>
  <p class="hint">An alert is a prompt for your judgement, never an identification by itself.</p>
  <div id="alerts"></div></section>
 <div>
  <section id="dashboard"><h2>Deployment</h2><div id="dash" class="stats"></div>
   <p class="hint" id="window"></p><p class="hint" id="gate"></p><ul class="hint" id="ranges"></ul></section>
  <section><h2>Cameras</h2><div id="tiles" class="tiles"></div></section>
 </div>
</main>
<dialog id="decide"><form method="dialog">
 <h2 id="decide-title"></h2><p id="decide-text" class="hint"></p>
 <label>Note (recorded with your decision)<textarea id="note" maxlength="2000"></textarea></label>
 <div class="row"><button value="cancel">Cancel</button><button id="decide-ok" class="primary" value="ok">Record</button></div>
</form></dialog>
<dialog id="zoom"><form method="dialog"><div id="zoom-body"></div><button>Close</button></form></dialog>
<script>
"use strict";
const $ = id => document.getElementById(id);
const store = sessionStorage;
let token = store.getItem('lfr-token') || '', streamAbort = null, known = new Set(), tileSeen = {};
// The viability assessment, then the engagement's result and its outcome (issue 28 item 1).
const LABEL = {confirmed: 'Confirm match (viable)', declined: 'Decline (not viable)',
               not_engaged: 'Not engaged (viable, officers decided not to engage)'};
const RESULTS = {subject: 'Engaged: the subject', someone_else: 'Engaged: someone else',
                 evaded: 'The subject evaded officers', not_engaged: 'Officers decided not to engage'};
const DISPOSALS = {arrest: 'Arrest', other: 'Other disposal', no_action: 'No action'};
const OUTCOMES = {};  // "result:disposal" -> words, one choice for the officer
for (const r of ['subject', 'someone_else']) for (const [d, w] of Object.entries(DISPOSALS)) OUTCOMES[r + ':' + d] = RESULTS[r] + ', ' + w;
for (const r of ['evaded', 'not_engaged']) OUTCOMES[r] = RESULTS[r];
// Times as a UK officer reads them, in the force's zone (served in data-time-zone), as lfr_core/times.py writes
// them: "05/12/2026 07:34:34 GMT", never the browser's locale ("12/5/2026, 7:34:34 AM" in a US one).
const TIME = new Intl.DateTimeFormat('en-GB', {timeZone: document.documentElement.dataset.timeZone || 'Europe/London',
  day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  hourCycle: 'h23', timeZoneName: 'short'});
function when(iso, timeOnly){
  const d = new Date(iso); if (!iso || isNaN(d)) return '-';
  const p = Object.fromEntries(TIME.formatToParts(d).map(x => [x.type, x.value]));
  const clock = p.hour + ':' + p.minute + ':' + p.second + ' ' + p.timeZoneName;
  return timeOnly ? clock : p.day + '/' + p.month + '/' + p.year + ' ' + clock;
}
function say(text){ $('msg').textContent = text || ''; }
function hdr(extra){ return Object.assign({'Authorization': 'Bearer ' + token}, extra || {}); }
function reason(){ return 'reason=' + encodeURIComponent($('why').value.trim()); }
async function api(path, opts){
  const r = await fetch(path, Object.assign({headers: hdr()}, opts || {}));
  if (r.status === 401){ signOut('Your sign-in has ended; sign in again.'); throw new Error('signed out'); }
  if (!r.ok){ let d = r.statusText; try { d = (await r.json()).detail; } catch (e) {} throw new Error(d); }
  return r;
}
function signOut(why){
  token = ''; store.removeItem('lfr-token'); if (streamAbort) streamAbort.abort();
  $('work').hidden = true; $('signin').hidden = false; $('signout').hidden = true; $('who').textContent = ''; say(why);
}
$('signout').onclick = async () => {  // forgotten here first, then refused by the service until it expires
  const held = token; signOut('');
  try {
    const r = await fetch('/v1/auth/logout', {method: 'POST', headers: {'Authorization': 'Bearer ' + held}});
    if (!r.ok && r.status !== 401) say('Signed out here, but the service did not confirm it (HTTP ' + r.status +
                                       '): the sign-in stays valid until it expires.');
  } catch (e) { say('Signed out here, but the service could not be reached: the sign-in stays valid until it expires.'); }
};
$('signin').onsubmit = async ev => {
  ev.preventDefault();
  const r = await fetch('/v1/auth/token', {method: 'POST', body: new URLSearchParams({
    username: $('user').value, password: $('pass').value})});
  $('pass').value = '';
  if (!r.ok){ say((await r.json()).detail); return; }
  token = (await r.json()).access_token; store.setItem('lfr-token', token); say(''); start();
};
async function start(){
  if (!token){ $('signin').hidden = false; return; }
  try {
    const me = await (await api('/v1/me')).json();
    $('who').textContent = 'Signed in as ' + me.name + ' (' + me.roles.join(', ') + ')';
    $('signin').hidden = true; $('signout').hidden = false;
    loadReviews();
    const deps = await (await api('/v1/me/deployments')).json();
    const sel = $('dep'); sel.innerHTML = '';
    if (!deps.length) say('You are not assigned to any deployment.');
    for (const d of deps){
      const o = document.createElement('option'); o.value = d.id;
      o.textContent = d.place + ' (' + when(d.window_start) + ', ' + d.status + ')'; sel.appendChild(o);
    }
    const linked = new URLSearchParams(location.search).get('deployment'), want = linked || store.getItem('lfr-dep');
    if (want && deps.some(d => d.id === want)) sel.value = want;
    else if (linked){  // a deep link to a deployment this officer is not assigned to: say so, open nothing
      say('You are not assigned to deployment ' + linked + ', so its alerts are not shown: ask its planner to ' +
          'assign you, or choose one of yours.'); return;
    }
    $('why').value = store.getItem('lfr-why') || '';
    if (sel.value && $('why').value) open();
  } catch (e) { if (e.message !== 'signed out') say(e.message); }
}
const CLASSES = {true_unconfirmed: 'True alert, unconfirmed (evaded or not engaged)',
                 false_confirmed: 'False alert, confirmed (engaged: someone else)',
                 false_unconfirmed: 'False alert, unconfirmed (declined: not viable)'};
async function loadReviews(){
  try {
    const list = await (await api('/v1/me/reviews')).json();
    $('reviews').hidden = !list.length;
    $('review-list').replaceChildren(...list.map(r => {
      const dl = el('dl');
      for (const [k, v] of [['Alert', r.alert_id], ['Deployment', r.deployment_id],
                            ['Class', CLASSES[r.alert_class] || r.alert_class.replace(/_/g, ' ')],
                            ['Category', r.category ? r.category.replace(/_/g, ' ') : '-'],
                            ['Score', r.score == null ? '-' : r.score.toFixed(3)], ['Camera', r.camera_id || '-'],
                            ['Seen', when(r.captured_at)], ['Assigned by', r.assigned_by + ', ' + when(r.assigned_at)]])
        dl.append(el('dt', {textContent: k}), el('dd', {textContent: v}));
      const text = el('textarea', {maxLength: 4000, ariaLabel: 'Finding on alert ' + r.alert_id});
      const card = el('article', {className: 'review'}, dl, el('label', {textContent: 'Finding'}), text);
      card.dataset.alert = r.alert_id;
      card.append(el('div', {className: 'row'}, el('button', {className: 'primary', textContent: 'Record finding',
        onclick: () => review(r.alert_id, text.value, card)})));
      return card;
    }));
  } catch (e) { if (e.message !== 'signed out') say(e.message); }
}
async function review(alertId, finding, card){
  if (!finding.trim()){ say('Write your finding first.'); return; }
  try {
    const r = await (await api('/v1/alerts/' + alertId + '/review', {method: 'POST',
      headers: hdr({'Content-Type': 'application/json'}), body: JSON.stringify({finding: finding.trim()})})).json();
    card.replaceChildren(el('p', {className: 'status confirmed', role: 'status',
      textContent: 'Review of alert ' + r.alert_id + ' recorded by ' + r.reviewer + ' at ' + when(r.reviewed_at)}));
    say('');
  } catch (e) { if (e.message !== 'signed out') say(e.message); }
}
$('open').onclick = () => open();
function open(){
  if (!$('dep').value){ say('Choose a deployment.'); return; }
  if ($('why').value.trim().length < 5){ say('Say why you are viewing (at least 5 characters); it is logged.'); return; }
  store.setItem('lfr-dep', $('dep').value); store.setItem('lfr-why', $('why').value.trim());
  say(''); $('work').hidden = false; known = new Set(); $('alerts').innerHTML = '';
  stream(); refreshSide();
}
async function stream(){
  if (streamAbort) streamAbort.abort();
  const ctl = streamAbort = new AbortController();
  const url = '/v1/deployments/' + encodeURIComponent($('dep').value) + '/alerts/stream?' + reason();
  while (!ctl.signal.aborted){
    try {
      const r = await api(url, {signal: ctl.signal});
      $('live').textContent = 'live';
      const reader = r.body.getReader(), dec = new TextDecoder(); let buf = '';
      for (;;){
        const {value, done} = await reader.read(); if (done) break;
        buf += dec.decode(value, {stream: true}); let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0){ handle(buf.slice(0, cut)); buf = buf.slice(cut + 2); }
      }
    } catch (e) { if (ctl.signal.aborted || e.message === 'signed out') return; say(e.message); }
    $('live').textContent = 'reconnecting...';
    await new Promise(res => setTimeout(res, 2000));
  }
}
function handle(block){
  let event = 'message', data = '';
  for (const line of block.split('\n')){
    if (line.startsWith('event: ')) event = line.slice(7); else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (event === 'alerts') render(JSON.parse(data));
  if (event === 'end'){ say(JSON.parse(data).detail); }
}
function chime(){
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)(), o = ctx.createOscillator(), g = ctx.createGain();
    o.frequency.value = 880; g.gain.value = 0.15; o.connect(g); g.connect(ctx.destination);
    o.start(); o.stop(ctx.currentTime + 0.35);
  } catch (e) {}
}
function el(tag, props, ...kids){
  const e = Object.assign(document.createElement(tag), props || {}); for (const k of kids) if (k != null) e.append(k); return e;
}
async function image(url, img){
  try { const r = await api(url + '?' + reason()); img.src = URL.createObjectURL(await r.blob()); }
  catch (e) { img.alt = e.message; }
}
function figure(label, url){
  const img = el('img', {alt: label});
  if (url) image(url, img); else img.alt = label + ': no longer stored';
  const zoom = el('button', {type: 'button', className: 'zoom', ariaLabel: 'Zoom: ' + label, onclick: () => {
    $('zoom-body').replaceChildren(el('p', {textContent: label}), el('img', {src: img.src, alt: label}));
    $('zoom').showModal(); }}, img);
  return el('figure', {}, zoom, el('figcaption', {textContent: label}));
}
function frameAge(a){  // capture (the camera's time, sent by lfr feed) to the alert: how late the officer hears of it
  const s = (Date.parse(a.raised_at) - Date.parse(a.captured_at)) / 1000;
  return isNaN(s) ? '-' : Math.max(0, s).toFixed(1) + ' s';
}
const cards = {};
function render(list){
  let fresh = false;
  const box = $('alerts');
  for (const a of list){
    const key = a.id + a.status + (a.engagement || '') + (a.undo_until || '') + (a.verification || '') +
                (a.second_by || '');
    const two = a.verification && a.verification !== 'not required';  // two-person verification (issue 28 item 2)
    const old = cards[a.id];
    if (old && old.dataset.key === key) continue;
    if (!known.has(a.id) && a.status === 'pending') fresh = true;
    const card = el('article', {className: 'alert ' + a.status + (known.has(a.id) ? '' : ' fresh')});
    card.dataset.key = key; card.dataset.alert = a.id;
    const facts = el('div', {className: 'facts'});
    const dl = el('dl');
    for (const [k, v] of [['Subject', a.subject_ref], ['Category', a.category.replace(/_/g, ' ')],
                          ['Why listed', a.rationale || '-'], ['Score', a.score.toFixed(3)], ['Camera', a.camera_id],
                          ['Seen', when(a.captured_at)], ['Frame age when matched', frameAge(a)]])
      dl.append(el('dt', {textContent: k}), el('dd', {textContent: v}));
    const judged = a.status === 'confirmed' ? 'viable match' : 'not viable';
    facts.append(el('div', {className: 'status ' + a.status, textContent: a.status === 'pending' ? 'Awaiting your decision'
      : judged + ' (' + a.status + ') by ' + a.adjudicated_by + (a.note ? ': "' + a.note + '"' : '')}), dl);
    // The second verifier is shown the alert as pending, never the first assessment, until they have decided.
    if (two) facts.append(el('div', {className: 'status verification', textContent: verifiers(a)}));
    const actions = el('div', {className: 'row'});
    if (a.status === 'pending'){
      for (const o of two ? ['confirmed', 'declined'] : ['confirmed', 'declined', 'not_engaged'])
        actions.append(el('button', {className: o === 'confirmed' ? 'confirm' : o === 'declined' ? 'decline' : '',
                                     textContent: LABEL[o], onclick: () => decide(a, o)}));
    } else {
      const left = a.undo_until ? (new Date(a.undo_until) - Date.now()) / 1000 : 0;
      if (left > 0 && !a.engagement){
        const b = el('button', {textContent: 'Undo (' + Math.ceil(left) + ' s)', onclick: () => act(a, 'undo', null)});
        b.dataset.until = a.undo_until;  // on a row of its own: a tap meant for the next action must not undo
        facts.append(el('div', {className: 'row undo-row'}, b));
      }
      if (a.status === 'confirmed' && !a.engagement && (!two || a.verification === 'verified')){
        const sel = el('select', {ariaLabel: 'Outcome'});
        for (const [k, v] of Object.entries(OUTCOMES)) sel.append(el('option', {value: k, textContent: v}));
        actions.append(sel, el('button', {textContent: 'Record outcome', onclick: () => decide(a, sel.value, true)}));
      }
      if (a.engagement) facts.append(el('div', {className: 'status', textContent: 'Outcome: ' +
        OUTCOMES[a.engagement + (a.disposal ? ':' + a.disposal : '')] + ' (' + a.engagement_by + ')'}));
    }
    facts.append(actions);
    card.append(figure('Camera (probe)', a.probe_crop_url), figure('Watchlist', a.watchlist_image_url), facts);
    if (old) old.replaceWith(card); else box.prepend(card);
    cards[a.id] = card; known.add(a.id);
  }
  if (fresh) chime();
}
function verifiers(a){  // two-person verification, in words
  const said = s => s === 'confirmed' ? 'viable' : 'not viable';
  if (a.verification === 'awaiting first verifier') return 'Two-person verification: awaiting first verifier';
  if (a.verification === 'awaiting second verifier') return a.status === 'pending'
    ? 'Two-person verification: awaiting second verifier (you decide on your own; the first assessment is shown after yours)'
    : 'Awaiting second verifier';
  return (a.verification === 'verified' ? 'Verified by ' : 'Not verified: ') + a.adjudicated_by + ' (' +
    said(a.status) + ') and ' + a.second_by + ' (' + said(a.second_status) + ')';
}
let pending = null;
function decide(a, choice, outcome){
  pending = {a, choice, outcome};
  $('decide-title').textContent = outcome ? 'Outcome: ' + OUTCOMES[choice] : LABEL[choice] + '?';
  $('decide-text').textContent = a.subject_ref + ' on camera ' + a.camera_id + ' at ' +
    when(a.captured_at, true) + '. This is recorded in your name.';
  $('note').value = ''; $('decide').showModal();
}
$('decide').onclose = () => {
  if ($('decide').returnValue === 'ok' && pending)
    act(pending.a, pending.outcome ? 'engagement' : 'adjudication', pending.outcome
        ? {outcome: pending.choice.split(':')[0], disposal: pending.choice.split(':')[1] || null, note: $('note').value}
        : {outcome: pending.choice, note: $('note').value});
  pending = null;
};
async function act(a, what, body){
  try {
    const r = await api('/v1/alerts/' + a.id + '/' + what, {method: 'POST', headers: hdr({'Content-Type': 'application/json'}),
                                                             body: body ? JSON.stringify(body) : null});
    render([await r.json()]); say(''); refreshSide();
  } catch (e) { if (e.message !== 'signed out') say(e.message); }
}
// A camera's counters reach the database every 5 s while frames arrive (counters_flush_s): three flushes
// without one is a camera or a feed that stopped, not a quiet moment.
const STALE_S = 15;
// What a camera lost, its own losses with the service's: it said "0 dropped" when the feed had not sent 13 of 33.
function lost(t){
  const gone = (t.frames_not_sent || 0) + t.frames_dropped, read = t.frames + t.frames_refused + gone;
  return gone + ' of ' + read + ' frames lost (' + (t.frames_not_sent || 0) + ' not sent by the camera, ' +
    t.frames_dropped + ' dropped here), ' + t.frames_refused + ' refused';
}
function stat(label, value){ return el('div', {className: 'stat'}, el('b', {textContent: value}), el('span', {textContent: label})); }
async function refreshSide(){
  const dep = $('dep').value; if (!dep || $('work').hidden) return;
  try {
    const d = await (await api('/v1/deployments/' + dep + '/dashboard')).json();
    const per = f => f == null ? '-' : (f * 1000).toFixed(3);
    $('dash').replaceChildren(
      stat('watchlist version (' + d.watchlist_size + ' people)', d.version == null ? 'none live' : 'v' + d.version),
      stat('faces seen', d.faces_seen), stat('alerts', d.alerts), stat('awaiting decision', d.pending),
      stat('true alerts', d.true_alerts), stat('false alerts', d.false_alerts),
      stat('arrests', d.engagement_outcomes.arrest || 0),
      stat('false alerts per 1,000 faces (projected ' + per(d.projected_false_alerts_per_face) + ')', per(d.false_alerts_per_face)));
    $('dash').dataset.alerts = d.alerts; $('dash').dataset.confirmed = d.true_alerts;
    $('dash').dataset.arrests = d.engagement_outcomes.arrest || 0;
    const fmt = s => { s = Math.round(s); return Math.floor(s / 3600) + 'h ' + Math.floor(s % 3600 / 60) + 'm ' + s % 60 + 's'; };
    $('window').textContent = d.seconds_to_start > 0 ? 'Starts in ' + fmt(d.seconds_to_start)
      : d.seconds_to_end > 0 ? 'Window ends in ' + fmt(d.seconds_to_end) : 'Window over (' + d.status + ')';
    // The live gate and each camera's range (issue 32 items 2-3), as the approval and the planner's view say them.
    $('gate').textContent = d.live_gate || 'Live gate: no list built yet';
    $('ranges').replaceChildren(...((d.camera_ranges || []).length ? d.camera_ranges
      : ['No camera registered with its resolution and field of view (lfr camera add)']).map(t => el('li', {textContent: t})));
    const tiles = await (await api('/v1/deployments/' + dep + '/cameras')).json(), now = Date.now();
    $('tiles').replaceChildren(...tiles.map(t => {
      const seen = tileSeen[t.camera_id], at = Date.parse(t.last_frame_at);
      const fps = seen && at > seen.at ? (t.frames - seen.frames) / ((at - seen.at) / 1000) : null;
      if (!seen || at > seen.at) tileSeen[t.camera_id] = {frames: t.frames, at, fps};
      const shown = fps ?? (seen ? seen.fps : null), age = (now - at) / 1000;
      return el('div', {className: 'tile' + (age > STALE_S ? ' stale' : '') + (t.warning ? ' far' : ''),
                        title: t.warning || ''}, el('b', {textContent: t.camera_id}),
        el('div', {textContent: (shown == null ? '-' : shown.toFixed(1)) + ' frames/s'}),
        el('div', {textContent: 'last frame ' + Math.max(0, Math.round(age)) + ' s ago'}),
        age > STALE_S ? el('div', {className: 'stale-warn', role: 'status', textContent: 'No frame for ' +
          Math.round(age) + ' s: check the camera and its feed'}) : null,
        el('div', {textContent: lost(t)}),
        t.faces_banded ? el('div', {textContent: t.faces_reliable + ' of ' + t.faces_banded + ' faces recognisable'}) : null,
        t.warning ? el('div', {className: 'warn', role: 'status', textContent: t.warning}) : null);
    }));
  } catch (e) { if (e.message !== 'signed out') say(e.message); }
}
setInterval(refreshSide, 5000);
setInterval(() => { for (const b of document.querySelectorAll('button[data-until]')){
  const left = (new Date(b.dataset.until) - Date.now()) / 1000;
  if (left <= 0) (b.closest('.undo-row') || b).remove(); else b.textContent = 'Undo (' + Math.ceil(left) + ' s)'; } }, 1000);
start();
</script></body></html>
"""


def console_page(time_zone: str) -> str:
    """The console for a force whose times are read in `time_zone` (an IANA name, `Settings.time_zone`)."""
    return CONSOLE_HTML.replace('data-time-zone="Europe/London"', f'data-time-zone="{time_zone}"', 1)
