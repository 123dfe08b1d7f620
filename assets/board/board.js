// journeyprobe board: draws each BPM's 24 h chart (uPlot) from the JSON the server embeds
// in the page (#board-data), and sizes the step-duration bars of a run page. No framework,
// no network: everything it needs is in the page.
(function () {
  'use strict';

  // Step duration bars: widths come from data attributes (the CSP allows no inline style).
  document.querySelectorAll('.dur-bar[data-frac]').forEach(function (bar) {
    var f = Math.max(0, Math.min(1, parseFloat(bar.dataset.frac) || 0));
    bar.style.width = (f * 100).toFixed(2) + '%';
  });

  var dataEl = document.getElementById('board-data');
  if (!dataEl || typeof uPlot === 'undefined') return;
  var data = JSON.parse(dataEl.textContent);
  var css = getComputedStyle(document.documentElement);
  function color(name) { return css.getPropertyValue(name).trim(); }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function hhmm(t) {
    var d = new Date(t * 1000);
    return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
  }
  function hhmmss(t) {
    return hhmm(t) + ':' + pad(new Date(t * 1000).getUTCSeconds());
  }
  function pct(r) {
    var p = r * 100;
    return (Math.abs(p - Math.round(p)) < 0.05 ? Math.round(p) : p.toFixed(1)) + '%';
  }

  function outOfBand(b, v) {
    return v != null && ((b.min != null && v < b.min) || (b.max != null && v > b.max));
  }

  // The expected band, shaded under everything else, with its bounds dashed.
  function drawBand(b) {
    return function (u) {
      var ctx = u.ctx, box = u.bbox, dpr = devicePixelRatio || 1;
      var hi = u.valToPos(b.max == null ? 1 : b.max, 'y', true);
      var lo = u.valToPos(b.min == null ? 0 : b.min, 'y', true);
      ctx.save();
      ctx.fillStyle = color('--chart-band');
      ctx.fillRect(box.left, hi, box.width, lo - hi);
      ctx.strokeStyle = color('--chart-band-edge');
      ctx.lineWidth = dpr;
      ctx.setLineDash([4 * dpr, 3 * dpr]);
      [b.min, b.max].forEach(function (bound) {
        if (bound == null) return;
        var y = Math.round(u.valToPos(bound, 'y', true)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(box.left, y);
        ctx.lineTo(box.left + box.width, y);
        ctx.stroke();
      });
      ctx.restore();
    };
  }

  // Change events as DOM flags over the plot: hoverable, and findable by tests and readers.
  // Flags closer than one flag's width step down so each stays readable.
  function placeMarkers(u) {
    u.over.querySelectorAll('.marker').forEach(function (m) { m.remove(); });
    var lastX = -Infinity, row = 0, from = u.scales.x.min;
    data.events.forEach(function (e) {
      if (e.at < from || e.at > data.now) return;
      var x = u.valToPos(e.at, 'x');
      row = x - lastX < 20 ? (row + 1) % 4 : 0;
      lastX = x;
      var m = document.createElement('div');
      m.className = 'marker k-' + e.kind;
      m.dataset.eventId = e.id;
      m.dataset.kind = e.kind;
      m.style.left = x.toFixed(1) + 'px';
      var flag = document.createElement('span');
      flag.className = 'flag';
      flag.style.top = (row * 19 - 2) + 'px';
      flag.textContent = e.kind.charAt(0).toUpperCase();
      flag.title = e.when + ' · ' + e.label;
      flag.setAttribute('aria-label', 'change event: ' + e.label + ', ' + e.when);
      m.appendChild(flag);
      u.over.appendChild(m);
    });
  }

  function readout(b, el) {
    return function (u) {
      var i = u.cursor.idx;
      if (i == null) { el.textContent = ''; return; }
      var n = b.n[i];
      el.textContent = hhmm(b.x[i]) + ' UTC · ' + b.window + ' ratio ' +
        (n[1] ? pct(b.y[i]) + ' (' + n[0] + ' of ' + n[1] + ' runs)' : ': no countable run');
    };
  }

  data.bpms.forEach(function (b) {
    var el = document.querySelector('[data-chart="' + CSS.escape(b.name) + '"]');
    if (!el) return;
    var out = b.y.map(function (v) { return outOfBand(b, v) ? v : null; });
    var line = color('--chart-line');
    var axis = {
      stroke: color('--chart-axis'),
      grid: { stroke: color('--chart-grid'), width: 1 },
      ticks: { stroke: color('--chart-grid'), width: 1 },
      font: '11px system-ui, sans-serif',
    };
    var note = document.createElement('p');
    note.className = 'readout';
    el.insertAdjacentElement('afterend', note);
    // A young instance's chart starts shortly before its first run, not a day ago.
    var from = b.from == null ? data.from : b.from;
    var label = data.now - from < 600 ? hhmmss : hhmm;
    var opts = {
      width: Math.max(200, el.clientWidth),
      height: 170,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      scales: {
        x: { time: true, range: [from, data.now] },
        y: { auto: false, range: [0, 1] },
      },
      axes: [
        Object.assign({}, axis, {
          values: function (u, splits) { return splits.map(label); },
        }),
        Object.assign({}, axis, {
          size: 44,
          splits: function () { return [0, 0.25, 0.5, 0.75, 1]; },
          values: function (u, splits) { return splits.map(function (v) { return Math.round(v * 100) + '%'; }); },
        }),
      ],
      series: [
        {},
        {
          label: 'ratio',
          stroke: line,
          width: 1.5,
          spanGaps: false,
          points: { show: true, size: 4, stroke: line, fill: line },
        },
        {
          label: 'out of band',
          stroke: color('--chart-out'),
          width: 0,
          paths: function () { return null; },
          points: { show: true, size: 7, stroke: color('--chart-out'), fill: color('--chart-out') },
        },
      ],
      hooks: {
        drawClear: [drawBand(b)],
        ready: [placeMarkers],
        setSize: [placeMarkers],
        setCursor: [readout(b, note)],
      },
    };
    var u = new uPlot(opts, [b.x, b.y, out], el);
    if (b.y.every(function (v) { return v == null; })) {
      var empty = document.createElement('div');
      empty.className = 'chart-empty';
      empty.textContent = 'No countable run in the last 24 h';
      u.over.appendChild(empty);
    }
    // Where the time axis starts, for readers and tests.
    el.dataset.from = String(from);
    el.dataset.drawn = 'true';
    if (typeof ResizeObserver !== 'undefined') {
      new ResizeObserver(function () {
        var w = Math.max(200, el.clientWidth);
        if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height: 170 });
      }).observe(el);
    }
  });
})();
