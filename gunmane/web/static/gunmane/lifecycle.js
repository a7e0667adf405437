/* gunmane 劣化予測・LCC・対策計画: charts described by the server (JSON in #lifecycle-charts).
   Each dataset: {label, data, color, band (thin, no legend), fill ("-1" = fill to the previous band),
   line (draw as a line on a bar chart)}. Every chart's numbers are also in a table on the page. */
(function () {
  "use strict";
  var FONT = '"Noto Sans JP", "Noto Sans CJK JP", "BIZ UDPGothic", "Yu Gothic UI", "Meiryo", sans-serif';

  function config(c) {
    var datasets = c.datasets.map(function (d) {
      var ds = { label: d.label, data: d.data, borderColor: d.color, backgroundColor: d.color + (c.type === "bar" ? "cc" : ""),
                 pointRadius: 0, borderWidth: d.band ? 0 : 2, tension: 0.15, spanGaps: true };
      if (d.band) { ds.backgroundColor = d.color + "33"; ds.fill = d.fill || false; ds.bandOnly = true; }
      if (d.line) { ds.type = "line"; ds.fill = false; ds.borderDash = [6, 4]; ds.backgroundColor = d.color; }
      return ds;
    });
    var scales = {
      x: { stacked: !!c.stacked, title: { display: !!c.x_title, text: c.x_title, font: { family: FONT } },
           ticks: { font: { family: FONT }, maxTicksLimit: 21 } },
      y: { stacked: !!c.stacked, beginAtZero: true, title: { display: !!c.y_title, text: c.y_title, font: { family: FONT } },
           ticks: { font: { family: FONT } } }
    };
    if (c.y_max) scales.y.max = c.y_max;
    if (c.horizontal) {  /* value axis is x: swap the titles */
      scales = { x: { beginAtZero: false, title: { display: !!c.y_title, text: c.y_title, font: { family: FONT } },
                      ticks: { font: { family: FONT } } },
                 y: { ticks: { font: { family: FONT } } } };
    }
    return { type: c.type, data: { labels: c.labels, datasets: datasets },
             options: { indexAxis: c.horizontal ? "y" : "x", responsive: true, maintainAspectRatio: false, animation: false,
                        interaction: { mode: "index", intersect: false },
                        plugins: { legend: { labels: { font: { family: FONT },
                                   filter: function (item, data) { return !data.datasets[item.datasetIndex].bandOnly; } } } },
                        scales: scales } };
  }

  function draw() {
    if (typeof Chart === "undefined") return;
    var el = document.getElementById("lifecycle-charts");
    if (!el) return;
    var charts = JSON.parse(el.textContent);
    if (!Array.isArray(charts)) return;  /* a page before its first calculation has no charts */
    charts.forEach(function (c) {
      var canvas = document.querySelector('canvas[data-chart="' + c.id + '"]');
      if (canvas) new Chart(canvas, config(c));
    });
  }

  function start() { draw(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
