/* gunmane カルテ: charts (Chart.js, vendored) and the municipality map (SVG, no tiles needed).
   Progressive enhancement: every chart's numbers are also in a table on the page. */
(function () {
  "use strict";
  var GRADE_COLORS = ["#1a7f37", "#d4a000", "#d15b00", "#8b0000", "#9e9e9e"];
  var PALETTE = ["#0017c1", "#d15b00", "#1a7f37", "#8b0000", "#6a1b9a", "#00838f"];
  var FONT = '"Noto Sans JP", "Noto Sans CJK JP", "BIZ UDPGothic", "Yu Gothic UI", "Meiryo", sans-serif';

  function seriesData() {
    var el = document.getElementById("karte-series");
    return el ? JSON.parse(el.textContent) : [];
  }

  function chartConfig(s) {
    var names = Object.keys(s.values);
    var type = "bar", indexAxis = "x", stacked = false;
    if (s.id === "ageing_projection" || s.id === "fy_trend") type = "line";
    if (s.id === "peer_percentiles") indexAxis = "y";
    if (s.id === "sector_stock") stacked = true;
    var indexed = s.id === "fy_trend";  /* different units: show each as an index, first year = 100 */
    var datasets = names.map(function (name, i) {
      var color = PALETTE[i % PALETTE.length];
      var data = s.values[name];
      if (indexed) {
        var base = data.find(function (v) { return v !== null && v !== 0; });
        data = data.map(function (v) { return v === null || !base ? null : Math.round(v / base * 1000) / 10; });
      }
      var label = name.indexOf("（") >= 0 || indexed ? name : name + "（" + s.unit + "）";
      var ds = { label: label, data: data, borderColor: color,
                 backgroundColor: type === "line" ? color : color + "cc", spanGaps: false, tension: 0.2 };
      if (s.id === "grade_distribution" && names.length === 1) {
        ds.backgroundColor = s.categories.map(function (_, j) { return GRADE_COLORS[j] || color; });
      }
      return ds;
    });
    var scales = { x: { stacked: stacked, ticks: { font: { family: FONT } } },
                   y: { stacked: stacked, beginAtZero: true, ticks: { font: { family: FONT } } } };
    if (s.id === "peer_percentiles") { scales.x.max = 100; scales.x.beginAtZero = true; }
    if (indexed) {
      scales.y.beginAtZero = false;
      scales.y.title = { display: true, text: s.categories[0] + "年度 = 100", font: { family: FONT } };
    }
    return { type: type, data: { labels: s.categories, datasets: datasets },
             options: { indexAxis: indexAxis, responsive: true, maintainAspectRatio: false, animation: false,
                        plugins: { legend: { display: names.length > 1, labels: { font: { family: FONT } } } },
                        scales: scales } };
  }

  function drawCharts() {
    if (typeof Chart === "undefined") return;
    var all = seriesData();
    document.querySelectorAll("canvas[data-series]").forEach(function (canvas) {
      var s = all.find(function (x) { return x.id === canvas.dataset.series; });
      if (s) new Chart(canvas, chartConfig(s));
    });
  }

  /* --- map ------------------------------------------------------------------------------- */
  var CLASS_COLORS = ["#deebf7", "#9ecae1", "#4292c6", "#08519c", "#08306b"];

  function quantiles(values, k) {
    var v = values.slice().sort(function (a, b) { return a - b; });
    var out = [];
    for (var i = 1; i < k; i++) {
      var b = v[Math.floor((v.length - 1) * i / k)];
      // equal quantiles (many municipalities with the same value) make one class, not 「37〜37」 twice
      if (!out.length || b > out[out.length - 1]) out.push(b);
    }
    // no class above the largest value (it would be empty)
    while (out.length && out[out.length - 1] >= v[v.length - 1]) out.pop();
    return out;
  }

  function fmt(x) {
    if (x === null || x === undefined) return "不明";
    return Math.abs(x) >= 100 ? Math.round(x).toLocaleString("ja-JP") : (Math.round(x * 10) / 10).toLocaleString("ja-JP");
  }

  function drawMap(svg, data) {
    var pts = data.points.filter(function (p) { return p.lat !== null && p.lon !== null; });
    var k = Math.cos(36 * Math.PI / 180);
    var xs = pts.map(function (p) { return p.lon * k; }), ys = pts.map(function (p) { return p.lat; });
    var minX = Math.min.apply(null, xs), maxX = Math.max.apply(null, xs);
    var minY = Math.min.apply(null, ys), maxY = Math.max.apply(null, ys);
    var span = Math.max(maxX - minX, maxY - minY) || 1, pad = 20, size = 1000 - 2 * pad;
    var known = pts.filter(function (p) { return p.value !== null; }).map(function (p) { return p.value; });
    var breaks = known.length ? quantiles(known, 5) : [];
    var r = pts.length > 300 ? 4 : 9;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var ns = "http://www.w3.org/2000/svg";
    pts.forEach(function (p) {
      var c = document.createElementNS(ns, "circle");
      var cls = 0;
      if (p.value !== null) { while (cls < breaks.length && p.value > breaks[cls]) cls++; }
      c.setAttribute("cx", (pad + (p.lon * k - minX) / span * size).toFixed(1));
      c.setAttribute("cy", (pad + (maxY - p.lat) / span * size).toFixed(1));
      c.setAttribute("r", r);
      c.setAttribute("fill", p.value === null ? "#ffffff" : CLASS_COLORS[cls]);
      c.setAttribute("stroke", p.value === null ? "#9e9e9e" : "#333333");
      c.setAttribute("stroke-width", "0.6");
      c.setAttribute("data-code", p.code);
      c.setAttribute("tabindex", "-1");
      var t = document.createElementNS(ns, "title");
      t.textContent = p.name + "：" + fmt(p.value) + " " + data.indicator.unit;
      c.appendChild(t);
      c.addEventListener("click", function () { window.location.href = svg.dataset.karteUrl + p.code + "/"; });
      svg.appendChild(c);
    });
    var legend = document.getElementById("map-legend");
    if (legend) {
      // Built as elements (not an HTML string with a style attribute): the Content-Security-Policy blocks
      // inline style attributes, while element.style set from script is allowed.
      var title = document.createElement("strong");
      title.textContent = data.indicator.label_ja + "（" + data.indicator.unit + "）";
      var list = document.createElement("ul");
      var item = function (swatchClass, color, text) {
        var li = document.createElement("li"), sw = document.createElement("span");
        sw.className = swatchClass;
        if (color) sw.style.background = color;
        li.appendChild(sw);
        li.appendChild(document.createTextNode(text));
        list.appendChild(li);
      };
      var lo = known.length ? Math.min.apply(null, known) : null;
      for (var i = 0; i <= breaks.length && known.length; i++) {
        var from = i === 0 ? lo : breaks[i - 1], to = i < breaks.length ? breaks[i] : Math.max.apply(null, known);
        // a class holds the values above the previous break up to its own: 「37超〜45」; one value alone: 「37」
        var text = fmt(from) === fmt(to) ? fmt(to) : fmt(from) + (i === 0 ? "" : "超") + "〜" + fmt(to);
        item("swatch", CLASS_COLORS[i], text);
      }
      item("swatch swatch--unknown", null, "不明（" + (pts.length - known.length) + "）");
      legend.replaceChildren(title, list);
    }
    var src = document.getElementById("map-source");
    if (src) src.textContent = "出典：" + data.indicator.source;
    svg.setAttribute("data-indicator", data.indicator.id);
  }

  function loadMap(svg, indicator) {
    var url = svg.dataset.mapUrl + "?indicator=" + encodeURIComponent(indicator) + "&fy=" + svg.dataset.fy;
    if (svg.dataset.pref) url += "&pref=" + svg.dataset.pref;
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.points) drawMap(svg, data);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    var svg = document.getElementById("karte-map");
    if (!svg) return;
    var select = document.querySelector("[data-map-select]");
    loadMap(svg, select ? select.value : "bridges_iii_iv_share");
    if (select) select.addEventListener("change", function () { loadMap(svg, select.value); });
  });
})();
