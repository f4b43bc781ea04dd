// castd's management console: polls the HTTP API every few seconds and
// shows the server, vhosts, streams and clients. Every URL is relative to
// the page, so the console works behind the API's basic auth, over HTTPS
// and behind a proxy that adds a path prefix. Data from the API (stream
// names come from publishers) is only ever set as text, never as HTML.
'use strict';

(() => {
  const pollMs = 3000;
  const listCount = 200; // streams and clients asked for per poll
  const defaultVhost = '__defaultVhost__';
  // SRS's default ports, used when endpoints.json cannot be read.
  const defaultEndpoints = { rtmp: 1935, http: 8080, https: 0, srt: 10080, rtc: true, vhosts: {} };

  // SRS error codes the console may meet (the API answers HTTP 200 with them).
  const apiErrors = {
    400: 'bad request (the client has no connection to close)',
    1060: 'unknown raw API call',
    1061: 'raw API or its reload is disabled',
    2014: 'no such vhost',
    2048: 'no such stream',
    2049: 'no such client (already gone?)',
  };

  const state = {
    versions: null,
    summary: null,
    envelope: null,
    vhosts: [],
    streams: [],
    clients: [],
    endpoints: null,
    endpointsNote: '',
    raw: null,
    expanded: new Set(), // stream ids whose play URLs are shown
    errors: new Map(), // source -> message
  };

  const $ = (id) => document.getElementById(id);

  // el builds an element; children are nodes or strings (set as text).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) {
        continue;
      }
      if (k === 'className') {
        node.className = v;
      } else if (k.startsWith('on')) {
        node.addEventListener(k.slice(2), v);
      } else {
        node.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children) {
      if (c !== undefined && c !== null) {
        node.append(c instanceof Node ? c : String(c));
      }
    }
    return node;
  }

  // call fetches an API path (below api/v1/) and returns its JSON; it
  // throws an Error that says what failed: the network, the HTTP status,
  // the body, or SRS's code.
  async function call(path, options) {
    const url = new URL('../api/v1/' + path, location.href);
    let res;
    try {
      res = await fetch(url, { cache: 'no-store', credentials: 'same-origin', ...options });
    } catch (e) {
      throw new Error(`${path}: ${e.message}`);
    }
    if (!res.ok) {
      throw new Error(`${path}: HTTP ${res.status} ${res.statusText}`.trim());
    }
    let body;
    try {
      body = await res.json();
    } catch (e) {
      throw new Error(`${path}: the answer is not JSON (${e.message})`);
    }
    if (body.code !== 0) {
      const why = apiErrors[body.code] ? `: ${apiErrors[body.code]}` : '';
      throw new Error(`${path}: API error ${body.code}${why}`);
    }
    return body;
  }

  // track runs one request and files its error under source.
  async function track(source, f) {
    try {
      await f();
      state.errors.delete(source);
    } catch (e) {
      state.errors.set(source, e.message);
    }
  }

  // --- formatting -----------------------------------------------------

  function duration(seconds) {
    if (!(seconds >= 0)) {
      return '—';
    }
    let s = Math.floor(seconds);
    const d = Math.floor(s / 86400);
    s -= d * 86400;
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    if (d > 0) {
      return `${d}d ${h}h ${m}m`;
    }
    if (h > 0) {
      return `${h}h ${m}m ${s}s`;
    }
    return m > 0 ? `${m}m ${s}s` : `${s}s`;
  }

  function bytes(n) {
    if (!(n >= 0)) {
      return '—';
    }
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
  }

  const percent = (fraction) => (fraction >= 0 ? `${(fraction * 100).toFixed(1)}%` : '—');
  const kbps = (k) => (k && k.recv_30s !== undefined ? [k.recv_30s, k.send_30s] : [0, 0]);

  function vhostName(id) {
    const v = state.vhosts.find((x) => x.id === id);
    return v ? v.name : id;
  }

  // --- play URLs ------------------------------------------------------

  function fill(template, vhost, app, stream) {
    return template.replaceAll('[vhost]', vhost).replaceAll('[app]', app).replaceAll('[stream]', stream);
  }

  // playURLs lists how players reach stream s: host names come from the
  // page's own address, ports from endpoints.json.
  function playURLs(s) {
    const ep = state.endpoints || defaultEndpoints;
    const vhost = vhostName(s.vhost);
    const isDefault = vhost === defaultVhost;
    const tpl = ep.vhosts[vhost] || ep.vhosts[defaultVhost] || null;
    const host = location.hostname;
    // HTTP picks the vhost by the Host header; RTMP, SRT and WHEP by a parameter.
    const httpHost = isDefault ? host : vhost;
    const app = s.app;
    const name = s.name;
    const urls = [];
    if (ep.rtmp) {
      urls.push(['RTMP', `rtmp://${host}:${ep.rtmp}/${app}/${name}${isDefault ? '' : '?vhost=' + encodeURIComponent(vhost)}`]);
    }
    const flv = tpl ? tpl.flv : '/[app]/[stream].flv';
    const hls = tpl ? tpl.hls : '/[app]/[stream].m3u8';
    if (ep.http && flv) {
      urls.push(['HTTP-FLV', `http://${httpHost}:${ep.http}${fill(flv, vhost, app, name)}`]);
    }
    if (ep.https && flv) {
      urls.push(['HTTPS-FLV', `https://${httpHost}:${ep.https}${fill(flv, vhost, app, name)}`]);
    }
    if (ep.http && hls) {
      urls.push(['HLS', `http://${httpHost}:${ep.http}${fill(hls, vhost, app, name)}`]);
    }
    if (ep.rtc && (!tpl || tpl.rtc)) {
      const whep = new URL('../rtc/v1/whep/', location.href);
      whep.searchParams.set('app', app);
      whep.searchParams.set('stream', name);
      if (!isDefault) {
        whep.searchParams.set('vhost', vhost);
      }
      urls.push(['WebRTC (WHEP)', whep.toString()]);
    }
    if (ep.srt && (!tpl || tpl.srt)) {
      urls.push(['SRT', `srt://${host}:${ep.srt}?streamid=#!::r=${app}/${name},m=request${isDefault ? '' : ',h=' + vhost}`]);
    }
    return urls;
  }

  // --- rendering ------------------------------------------------------

  function renderErrors() {
    const box = $('errors');
    const text = [...state.errors.values()].join('\n');
    if (box.dataset.text === text) {
      return; // unchanged: do not make screen readers announce it again
    }
    box.dataset.text = text;
    box.replaceChildren();
    box.hidden = state.errors.size === 0;
    if (state.errors.size > 0) {
      box.append(el('strong', {}, 'Could not read the API (what is shown may be out of date):'),
        el('ul', {}, ...[...state.errors.values()].map((m) => el('li', {}, m))));
    }
  }

  function fact(label, value) {
    return el('div', {}, el('dt', {}, label), el('dd', {}, value));
  }

  function renderServer() {
    const sum = state.summary;
    const env = state.envelope || {};
    const v = state.versions;
    const facts = [];
    if (v) {
      facts.push(fact('Version', `castd ${v.castd || '?'} (SRS ${v.version})`));
    }
    facts.push(fact('Server ID', env.server || '—'), fact('PID', env.pid || '—'));
    if (sum) {
      const self = sum.self;
      const sys = sum.system;
      let inK = 0;
      let outK = 0;
      for (const vh of state.vhosts) {
        const [r, s] = kbps(vh.kbps);
        inK += r;
        outK += s;
      }
      facts.push(
        fact('Uptime', duration(self.srs_uptime)),
        fact('CPU (castd, of one core)', percent(self.cpu_percent)),
        fact('CPU (machine)', `${percent(sys.cpu_percent)} of ${sys.cpus_online || sys.cpus} CPUs`),
        fact('Memory (castd)', `${bytes(self.mem_kbyte * 1024)} (${percent(self.mem_percent)})`),
        fact('Load', [sys.load_1m, sys.load_5m, sys.load_15m].map((x) => x.toFixed(2)).join(' ')),
        fact('Connections', String(sys.conn_srs)),
        fact('Bandwidth in / out', `${inK} / ${outK} kbps`),
        fact('Received / sent', `${bytes(sys.srs_recv_bytes)} / ${bytes(sys.srs_send_bytes)}`),
      );
    }
    $('server').replaceChildren(...facts);
  }

  function emptyRow(cols, text) {
    return el('tr', {}, el('td', { colspan: cols, className: 'empty' }, text));
  }

  function renderVhosts() {
    const rows = state.vhosts.map((v) => {
      const [r, s] = kbps(v.kbps);
      return el('tr', { 'data-vhost-id': v.id },
        el('td', {}, v.name), el('td', {}, v.enabled ? 'yes' : 'no'),
        el('td', {}, String(v.streams)), el('td', {}, String(v.clients)),
        el('td', { className: 'num' }, String(r)), el('td', { className: 'num' }, String(s)),
        el('td', {}, v.hls && v.hls.enabled ? 'on' : 'off'));
    });
    $('vhosts').tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(7, 'No vhosts.')]));
  }

  function renderStreams() {
    const rows = [];
    for (const s of state.streams) {
      const [r, w] = kbps(s.kbps);
      const video = s.video ? [s.video.codec, s.video.profile, s.video.level].filter(Boolean).join(' ') : '—';
      const size = s.video && s.video.width ? `${s.video.width}×${s.video.height}` : '—';
      const audio = s.audio
        ? `${s.audio.codec} ${s.audio.sample_rate ? s.audio.sample_rate + ' Hz' : ''} ${s.audio.channel ? s.audio.channel + ' ch' : ''}`.trim()
        : '—';
      const live = s.publish && s.publish.active;
      const publisher = live ? state.clients.find((c) => c.id === s.publish.cid) : null;
      const open = state.expanded.has(s.id);
      const detailsId = `urls-${s.id}`;
      const toggle = el('button', {
        type: 'button',
        'aria-expanded': open ? 'true' : 'false',
        'aria-controls': detailsId,
        'aria-label': `Play URLs of ${s.app}/${s.name}`,
        onclick: () => {
          if (state.expanded.has(s.id)) {
            state.expanded.delete(s.id);
          } else {
            state.expanded.add(s.id);
          }
          renderStreams();
        },
      }, open ? 'Hide URLs' : 'URLs');
      rows.push(el('tr', { 'data-stream-id': s.id, 'data-stream-name': s.name },
        el('td', {}, s.name), el('td', {}, s.app), el('td', {}, vhostName(s.vhost)),
        el('td', {}, video), el('td', {}, size), el('td', {}, audio),
        el('td', { className: 'num' }, String(r)), el('td', { className: 'num' }, String(w)),
        el('td', { className: 'num' }, String(s.clients)),
        el('td', { className: live ? 'live' : '' }, live ? 'publishing' : 'no publisher'),
        el('td', {}, publisher ? duration(publisher.alive) : '—'),
        el('td', {}, toggle)));
      if (open) {
        const items = playURLs(s).map(([label, url]) =>
          el('li', { 'data-kind': label }, `${label}: `, el('code', {}, url)));
        rows.push(el('tr', { className: 'urls', id: detailsId },
          el('td', { colspan: 12 }, el('ul', { 'aria-label': `Play URLs of ${s.app}/${s.name}` }, ...items))));
      }
    }
    if (state.streams.length >= listCount) {
      rows.push(emptyRow(12, `Showing the first ${listCount} streams.`));
    }
    $('streams').tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(12, 'No streams.')]));
    const note = $('ports-note');
    note.textContent = state.endpointsNote;
    note.hidden = state.endpointsNote === '';
  }

  function renderClients() {
    const rows = state.clients.map((c) => {
      const kick = el('button', {
        type: 'button',
        className: 'danger',
        'aria-label': `Kick client ${c.id}`,
        onclick: () => kickClient(c),
      }, 'Kick');
      return el('tr', { 'data-client-id': c.id, 'data-client-type': c.type, 'data-publish': String(!!c.publish), 'data-stream-name': c.name || '' },
        el('td', {}, el('code', {}, c.id)), el('td', {}, c.ip), el('td', {}, c.type),
        el('td', {}, c.url || '—'), el('td', {}, duration(c.alive)),
        el('td', { className: 'num' }, bytes(c.send_bytes)), el('td', { className: 'num' }, bytes(c.recv_bytes)),
        el('td', {}, kick));
    });
    if (state.clients.length >= listCount) {
      rows.push(emptyRow(8, `Showing the first ${listCount} clients.`));
    }
    $('clients').tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(8, 'No clients.')]));
  }

  function render() {
    renderErrors();
    renderServer();
    renderVhosts();
    renderStreams();
    renderClients();
    $('reload').hidden = !(state.raw && state.raw.enabled && state.raw.allow_reload);
  }

  function say(text, failed) {
    const m = $('message');
    m.textContent = text;
    m.classList.toggle('failed', !!failed);
  }

  // --- actions --------------------------------------------------------

  async function kickClient(c) {
    if (!window.confirm(`Kick client ${c.id} (${c.type} from ${c.ip}, ${c.url || 'no stream'})?`)) {
      return;
    }
    try {
      await call(`clients/${encodeURIComponent(c.id)}`, { method: 'DELETE' });
      say(`Kicked client ${c.id}.`);
    } catch (e) {
      say(`Kick failed: ${e.message}`, true);
    }
    refresh();
  }

  async function reloadConfig() {
    if (!window.confirm('Reload castd\'s config file now (as SIGHUP does)?')) {
      return;
    }
    try {
      await call('raw?rpc=reload');
      say('Reload requested…');
      // The reload runs after the answer; ask how it went a moment later.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const r = await call('raw?rpc=reload-fetch');
      const d = r.data || {};
      say(d.err ? `Reload failed (${d.err}): ${d.msg}` : `Reload: ${d.msg || 'done'}.`, !!d.err);
    } catch (e) {
      say(`Reload failed: ${e.message}`, true);
    }
    refresh();
  }

  // --- polling --------------------------------------------------------

  async function loadEndpoints() {
    try {
      const res = await fetch(new URL('endpoints.json', location.href), { cache: 'no-store', credentials: 'same-origin' });
      if (!res.ok) {
        throw new Error(`HTTP ${res.status}`);
      }
      const ep = await res.json();
      state.endpoints = { ...defaultEndpoints, ...ep, vhosts: ep.vhosts || {} };
      const unknown = ['rtmp', 'http'].filter((k) => !ep[k]);
      state.endpointsNote = unknown.length ? `Off or unknown in the config: ${unknown.join(', ')}.` : '';
    } catch (e) {
      state.endpoints = defaultEndpoints;
      state.endpointsNote = `Play URLs use SRS's default ports (RTMP 1935, HTTP 8080, SRT 10080): endpoints.json could not be read (${e.message}).`;
    }
  }

  let timer = 0;
  let running = false;
  let again = false; // an action asked for fresh data while a poll ran
  async function poll() {
    await Promise.all([
      track('summaries', async () => {
        const r = await call('summaries');
        state.summary = r.data;
        state.envelope = r;
      }),
      track('vhosts', async () => {
        state.vhosts = (await call('vhosts/')).vhosts || [];
      }),
      track('streams', async () => {
        state.streams = (await call(`streams/?count=${listCount}`)).streams || [];
      }),
      track('clients', async () => {
        state.clients = (await call(`clients/?count=${listCount}`)).clients || [];
      }),
      track('raw', async () => {
        const r = await call('raw?rpc=raw');
        state.raw = r.http_api ? r.http_api.raw_api : null;
      }),
      state.versions
        ? null
        : track('versions', async () => {
          state.versions = (await call('versions')).data;
        }),
    ]);
    render();
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}, every ${pollMs / 1000} s`;
  }

  // refresh polls now and schedules the next poll. Asked while a poll
  // runs (a kick, say), it polls again right after, so what the page shows
  // is never older than the action.
  async function refresh() {
    clearTimeout(timer);
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await poll();
      } while (again);
    } finally {
      running = false;
      if (!document.hidden) {
        timer = setTimeout(refresh, pollMs);
      }
    }
  }

  async function start() {
    $('refresh').addEventListener('click', () => refresh());
    $('reload').addEventListener('click', reloadConfig);
    // No polling while the tab is hidden; catch up when it shows again.
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) {
        refresh();
      }
    });
    await loadEndpoints();
    refresh();
  }

  start();
})();
