/* アンケート調査 — progressive enhancement only; every page works without it (the server checks
   required answers and conditions).
   1. Conditional questions: a <fieldset data-show-if="q_KEY" data-show-values='["a","b"]'> is hidden
      unless the inputs named q_KEY (radio/checkbox) have one of those values checked and the source
      question is itself shown (conditions chain).
   2. Question editor: fields with data-kinds="single multiple" are shown only for those kinds.
   3. Results: Chart.js bar charts from <script id="survey-charts"> (the tables stay on the page). */
(function () {
  "use strict";
  var FONT = '"Noto Sans JP", "Noto Sans CJK JP", "BIZ UDPGothic", "Yu Gothic UI", "Meiryo", sans-serif';
  var SCALE_COLORS = ["#ce0000", "#f08c6c", "#b3b3b3", "#7096f8", "#0017c1"];

  function checkedValues(form, name) {
    var out = [];
    form.querySelectorAll('input[name="' + name + '"]').forEach(function (el) {
      if (el.checked) out.push(el.value);
    });
    return out;
  }

  function applyConditions(form) {
    form.querySelectorAll("fieldset[data-show-if]").forEach(function (fs) {
      var name = fs.getAttribute("data-show-if");
      var wanted = JSON.parse(fs.getAttribute("data-show-values") || "[]");
      var source = form.querySelector('input[name="' + name + '"]');
      var sourceShown = source && !source.closest("fieldset").hidden;
      var match = sourceShown && checkedValues(form, name).some(function (v) { return wanted.indexOf(v) >= 0; });
      fs.hidden = !match;
    });
  }

  function questionEditor(form) {
    function update() {
      var kind = (form.querySelector('input[name="kind"]:checked') || {}).value;
      form.querySelectorAll("[data-kinds]").forEach(function (el) {
        var kinds = el.getAttribute("data-kinds").split(" ");
        el.hidden = kinds.indexOf(kind) < 0;
      });
    }
    form.addEventListener("change", update);
    update();
  }

  function drawCharts() {
    var data = document.getElementById("survey-charts");
    if (!data || typeof Chart === "undefined") return;
    var charts = JSON.parse(data.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var c = charts.find(function (x) { return x.id === canvas.getAttribute("data-chart"); });
      if (!c) return;
      var datasets, stacked = false;
      if (c.type === "matrix") {
        stacked = true;
        datasets = c.levels.map(function (level, i) {
          return { label: level, data: c.values.map(function (row) { return row[i]; }), backgroundColor: SCALE_COLORS[i] };
        });
      } else {
        datasets = [{ label: "件数", data: c.values, backgroundColor: "#0017c1cc", borderColor: "#0017c1" }];
      }
      new Chart(canvas, {
        type: "bar",
        data: { labels: c.labels, datasets: datasets },
        options: {
          indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: stacked, position: "bottom", labels: { font: { family: FONT } } } },
          scales: { x: { stacked: stacked, beginAtZero: true, ticks: { precision: 0, font: { family: FONT } } },
                    y: { stacked: stacked, ticks: { font: { family: FONT }, autoSkip: false } } }
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("survey-form");
    if (form) {
      form.addEventListener("change", function () { applyConditions(form); });
      applyConditions(form);
    }
    var editor = document.getElementById("question-form");
    if (editor) questionEditor(editor);
    drawCharts();
  });
})();
