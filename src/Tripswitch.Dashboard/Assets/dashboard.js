(() => {
  'use strict';
  const base = location.pathname.replace(/\/+$/, '');
  const HISTORY = 60;             // sparkline points (one per update)
  const LOG_SIZE = 50;            // transitions kept in the log
  const STALE_MIN_MS = 5000;      // no event for this long (or three update gaps, if longer): stale
  const FILTER_DELAY_MS = 250;    // typing pauses this long before the view is asked for
  const STATES = ['Closed', 'HalfOpen', 'Open', 'Isolated'];
  const LABELS = { Closed: 'closed', HalfOpen: 'half-open', Open: 'open', Isolated: 'isolated' };
  const SVG = 'http://www.w3.org/2000/svg';
  const W = 132, H = 28;
  const $ = (id) => document.getElementById(id);

  const tbody = $('circuits');
  const empty = $('empty');
  const conn = $('conn');
  const updated = $('updated');
  const log = $('log');
  const filterInput = $('filter'), stateSelect = $('state-filter'), sortSelect = $('sort');
  $('status-path').textContent = base + '/status';

  // The view this page asks the server for; the server answers with that page only, plus the totals.
  const view = { q: '', state: '', sort: 'state', page: 1 };
  let pages = 1;
  const circuits = new Map();     // name -> row view, for the rows on this page only
  let seq = 0;                    // the last snapshot/diff applied; a gap means one was missed: resync
  let serverOffset = 0;           // server time - performance.now(), from the last event
  let lastEventAt = 0;
  let lastUpdateAt = 0;
  let updateGap = 0;              // between the last two updates: the server's snapshot interval

  const fmt = new Intl.NumberFormat(undefined);
  const pct = (x) => (x * 100).toFixed(1) + '%';
  const time = (iso) => new Date(iso).toLocaleTimeString(undefined, { hour12: false });

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setStatus(status, text) {
    conn.dataset.status = status;
    conn.textContent = text || status;
  }

  function createView(name) {
    const row = el('tr');
    row.dataset.circuit = name;
    row.addEventListener('animationend', () => row.classList.remove('flash'));
    const cells = {};
    const add = (key, cls) => { const td = el('td', cls); row.appendChild(td); cells[key] = td; return td; };
    const pill = el('span', 'pill');
    add('state', 'l').appendChild(pill);
    add('name', 'l name').textContent = name;
    const rate = el('span', 'rate');
    const rateText = el('span');
    const bar = el('span', 'bar');
    const barFill = el('i');
    bar.appendChild(barFill);
    rate.append(rateText, bar);
    add('rate').appendChild(rate);
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('width', W);
    svg.setAttribute('height', H);
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    const title = document.createElementNS(SVG, 'title');
    const baseLine = document.createElementNS(SVG, 'line');
    baseLine.setAttribute('class', 'base');
    baseLine.setAttribute('x1', 0); baseLine.setAttribute('x2', W);
    baseLine.setAttribute('y1', H - 0.5); baseLine.setAttribute('y2', H - 0.5);
    const area = document.createElementNS(SVG, 'path');
    area.setAttribute('class', 'area');
    const line = document.createElementNS(SVG, 'path');
    line.setAttribute('class', 'line');
    svg.append(title, baseLine, area, line);
    add('spark', 'l').appendChild(svg);
    for (const key of ['total', 'successful', 'failed', 'rejected', 'ignored', 'slow', 'consecutive', 'retry', 'changes']) add(key);
    add('last', 'l muted');
    const v = { name, row, cells, pill, rateText, barFill, title, area, line, history: [], prev: null, state: null, retryAt: null };
    circuits.set(name, v);
    return v;
  }

  function setState(v, state, flash) {
    if (v.state === state) return;
    const changed = v.state !== null;
    v.state = state;
    v.row.dataset.state = state;
    v.pill.dataset.state = state;
    v.pill.textContent = LABELS[state] || state;
    if (flash && changed) {
      v.row.classList.remove('flash');
      void v.row.offsetWidth; // restart the animation
      v.row.classList.add('flash');
    }
  }

  function renderSpark(v) {
    const h = v.history;
    const step = W / (HISTORY - 1);
    const x0 = W - (h.length - 1) * step;
    let line = '', area = '', run = [];
    const flush = () => {
      if (run.length === 0) return;
      if (run.length === 1) run.push([run[0][0] + 0.01, run[0][1]]);
      line += 'M' + run.map(([x, y]) => x.toFixed(1) + ' ' + y.toFixed(1)).join('L');
      area += 'M' + run[0][0].toFixed(1) + ' ' + H + run.map(([x, y]) => 'L' + x.toFixed(1) + ' ' + y.toFixed(1)).join('') + 'L' + run[run.length - 1][0].toFixed(1) + ' ' + H + 'Z';
      run = [];
    };
    h.forEach((rate, i) => {
      if (rate === null) { flush(); return; }  // no call in that interval: a gap
      run.push([x0 + i * step, 1 + (1 - rate) * (H - 3)]);
    });
    flush();
    v.line.setAttribute('d', line);
    v.area.setAttribute('d', area);
    const last = h.filter((r) => r !== null).slice(-1)[0];
    v.title.textContent = last === undefined ? 'no calls in the recent updates' : 'failure rate over the last interval with calls: ' + pct(last);
  }

  // One point of a row's sparkline per update: the failure rate since the previous one (null: no calls).
  function pushHistory(v, c) {
    if (v.prev) {
      let failed = c.failed - v.prev.failed, ok = c.successful - v.prev.successful;
      if (failed < 0 || ok < 0) { failed = 0; ok = 0; }     // counts were reset
      v.history.push(failed + ok === 0 ? null : failed / (failed + ok));
      if (v.history.length > HISTORY) v.history.shift();
      renderSpark(v);
    }
    v.prev = { failed: c.failed, successful: c.successful };
  }

  function applyCircuit(c) {
    const v = circuits.get(c.name) || createView(c.name);
    setState(v, c.state, true);
    const cells = v.cells;
    v.rateText.textContent = pct(c.successRate);
    v.barFill.style.width = (c.successRate * 100).toFixed(1) + '%';
    cells.total.textContent = fmt.format(c.totalCalls);
    cells.successful.textContent = fmt.format(c.successful);
    cells.failed.textContent = fmt.format(c.failed);
    cells.rejected.textContent = fmt.format(c.rejected);
    cells.ignored.textContent = fmt.format(c.ignored);
    cells.slow.textContent = fmt.format(c.slowCalls);
    cells.consecutive.textContent = fmt.format(c.consecutiveFailures);
    cells.consecutive.className = c.consecutiveFailures > 0 ? 'bad' : '';
    cells.changes.textContent = fmt.format(c.stateChanges);
    cells.last.textContent = c.lastTransition ? time(c.lastTransition.at) : '—';
    cells.last.title = c.lastTransition ? `${LABELS[c.lastTransition.from]} → ${LABELS[c.lastTransition.to]}${c.lastTransition.cause ? ' (' + c.lastTransition.cause + ')' : ''}` : '';
    pushHistory(v, c);
    v.retryAt = c.retryAt ? Date.parse(c.retryAt) : null;
    renderRetry(v);
    return v;
  }

  function renderRetry(v) {
    const td = v.cells.retry;
    switch (v.state) {
      case 'Isolated': td.textContent = 'until reset'; td.className = 'muted'; break;
      case 'HalfOpen': td.textContent = 'probing'; td.className = 'muted'; break;
      case 'Open': {
        // retryAt is a time on the server's clock: count down against the server's time, not this machine's.
        const left = v.retryAt === null ? 0 : Math.max(0, v.retryAt - (performance.now() + serverOffset)) / 1000;
        td.textContent = left > 0 ? left.toFixed(1) + ' s' : 'due';
        td.className = 'bad';
        break;
      }
      default: td.textContent = '—'; td.className = 'muted';
    }
  }

  function renderTotals(t) {
    $('count-all').textContent = fmt.format(t.circuits);
    for (const s of STATES) $('count-' + s).textContent = fmt.format(t[s.charAt(0).toLowerCase() + s.slice(1)]);
    $('matching').textContent = fmt.format(t.matching) + ' matching';
    $('matching').dataset.count = String(t.matching);
    $('empty-text').textContent = t.circuits === 0 ? 'No circuits yet: a circuit appears here on its first use.' : 'No circuit matches this view.';
    // The logo and the tab's title tell the worst state at a glance (of every circuit, not just this page).
    const down = t.open + t.isolated;
    $('logo').dataset.health = down > 0 ? 'Open' : t.halfOpen > 0 ? 'HalfOpen' : 'Closed';
    document.title = (down > 0 ? `(${down} open) ` : '') + 'Tripswitch · circuits';
  }

  function renderPosition(p) {
    view.page = p.page;
    pages = p.pages;
    $('page-info').textContent = `page ${fmt.format(p.page)} of ${fmt.format(p.pages)}`;
    $('prev').disabled = p.page <= 1;
    $('next').disabled = p.page >= p.pages;
  }

  function reorder(names) {
    tbody.append(...names.map((n) => circuits.get(n).row));
  }

  function noteUpdate(e) {
    const now = performance.now();
    if (lastUpdateAt > 0) updateGap = now - lastUpdateAt;
    lastUpdateAt = lastEventAt = now;
    serverOffset = Date.parse(e.generatedAt) - now;
    seq = e.seq;
    document.body.dataset.seq = String(seq);   // tests wait on these two
    document.body.dataset.generatedAt = e.generatedAt;
    updated.textContent = 'updated ' + time(e.generatedAt);
    empty.hidden = circuits.size > 0;
    setStatus('live');
  }

  function onSnapshot(s) {
    for (const v of circuits.values()) v.row.remove();
    circuits.clear();
    for (const c of s.circuits) tbody.appendChild(applyCircuit(c).row);
    renderPosition(s.view);
    renderTotals(s.totals);
    noteUpdate(s);
  }

  function onDiff(d) {
    if (d.seq !== seq + 1) { resync(); return; }   // missed one: start again from a snapshot
    if (d.view) renderPosition(d.view);
    if (d.totals) renderTotals(d.totals);
    for (const name of d.removed || []) { const v = circuits.get(name); if (v) { v.row.remove(); circuits.delete(name); } }
    const changed = new Set();
    for (const c of d.changed || []) { const v = applyCircuit(c); changed.add(c.name); if (!v.row.isConnected) tbody.appendChild(v.row); }
    for (const v of circuits.values()) if (!changed.has(v.name) && v.prev) pushHistory(v, v.prev);   // no calls since
    if (d.order) reorder(d.order);
    if (d.droppedTransitions) addNote(d.generatedAt, `${d.droppedTransitions} transitions missed (the rows above are complete)`);
    noteUpdate(d);
  }

  function onTransition(t) {
    lastEventAt = performance.now();
    const v = circuits.get(t.circuit);
    if (v) {  // on this page; the diff that follows moves it to its place
      setState(v, t.to, true);
      if (t.to !== 'Open') v.retryAt = null;
      renderRetry(v);
    }
    addLog(t);
  }

  function addLog(t) {
    const li = el('li');
    const when = el('time', null, time(t.at));
    when.dateTime = t.at;
    const from = el('span', 'pill', LABELS[t.from] || t.from);
    from.dataset.state = t.from;
    const to = el('span', 'pill', LABELS[t.to] || t.to);
    to.dataset.state = t.to;
    li.append(when, el('span', 'name', t.circuit), from, el('span', 'arrow', '→'), to);
    if (t.cause) li.appendChild(el('span', 'cause', t.cause));
    if (t.droppedTransitions) li.appendChild(el('span', 'muted', `(${t.droppedTransitions} earlier transitions missed)`));
    log.prepend(li);
    while (log.children.length > LOG_SIZE) log.lastChild.remove();
  }

  function addNote(at, text) {
    const li = el('li');
    const when = el('time', null, time(at));
    when.dateTime = at;
    li.append(when, el('span', 'muted', text));
    log.prepend(li);
    while (log.children.length > LOG_SIZE) log.lastChild.remove();
  }

  function streamUrl() {
    const p = new URLSearchParams();
    if (view.q) p.set('q', view.q);
    if (view.state) p.set('state', view.state);
    if (view.sort !== 'state') p.set('sort', view.sort);
    if (view.page > 1) p.set('page', String(view.page));
    const query = p.toString();
    return base + '/events' + (query ? '?' + query : '');
  }

  // One stream per view: a new view (or a resync) closes the stream and opens another, which starts with a snapshot.
  let source = null;
  let retryTimer = 0;
  function connect() {
    clearTimeout(retryTimer);
    if (source) source.close();
    seq = 0;
    lastUpdateAt = 0;
    setStatus('connecting');
    const s = source = new EventSource(streamUrl());
    s.onopen = () => { lastEventAt = performance.now(); };
    s.addEventListener('snapshot', (e) => { if (s === source) onSnapshot(JSON.parse(e.data)); });
    s.addEventListener('diff', (e) => { if (s === source) onDiff(JSON.parse(e.data)); });
    s.addEventListener('transition', (e) => { if (s === source) onTransition(JSON.parse(e.data)); });
    s.onerror = () => {
      if (s !== source) return;
      if (s.readyState === EventSource.CLOSED) {
        // Refused (for example 401/403) or not an event stream: the browser won't retry by itself.
        setStatus('offline');
        s.close();
        retryTimer = setTimeout(connect, 5000);
      } else {
        setStatus('reconnecting');   // the browser reconnects; the server starts again with a snapshot
        seq = 0;
      }
    };
  }

  function resync() { connect(); }

  function setView(change) {
    Object.assign(view, change);
    for (const tile of document.querySelectorAll('.tile')) tile.setAttribute('aria-pressed', String(tile.dataset.filter === view.state));
    stateSelect.value = view.state;
    connect();
  }

  let filterTimer = 0;
  filterInput.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => setView({ q: filterInput.value.trim(), page: 1 }), FILTER_DELAY_MS);
  });
  stateSelect.addEventListener('change', () => setView({ state: stateSelect.value, page: 1 }));
  sortSelect.addEventListener('change', () => setView({ sort: sortSelect.value, page: 1 }));
  $('prev').addEventListener('click', () => { if (view.page > 1) setView({ page: view.page - 1 }); });
  $('next').addEventListener('click', () => { if (view.page < pages) setView({ page: view.page + 1 }); });
  for (const tile of document.querySelectorAll('.tile')) tile.addEventListener('click', () => setView({ state: tile.dataset.filter, page: 1 }));

  setInterval(() => {
    for (const v of circuits.values()) if (v.state === 'Open') renderRetry(v);
    if (conn.dataset.status === 'live' && performance.now() - lastEventAt > Math.max(STALE_MIN_MS, 3 * updateGap)) setStatus('stale');
  }, 200);

  setView({});
})();
