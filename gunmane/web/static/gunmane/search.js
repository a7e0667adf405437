// Suggestions for the municipality search box: fills its <datalist> from ?format=json as the visitor
// types (the form works without this: submitting lists the matches, one match opens its カルテ).
(function () {
  "use strict";
  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.getAttribute("data-suggest");
    if (!list || !url) { return; }
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var q = input.value.trim();
        if (!q || q === last) { return; }
        last = q;
        fetch(url + "&q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) {
            if (input.value.trim() !== q) { return; }
            list.replaceChildren();
            data.results.forEach(function (m) {
              var option = document.createElement("option");
              option.value = m.label;
              option.textContent = m.kind + (m.population ? "・人口 " + m.population.toLocaleString("ja-JP") + " 人" : "");
              list.appendChild(option);
            });
          })
          .catch(function () { /* suggestions are optional */ });
      }, 200);
    });
  }
  document.querySelectorAll("input[data-suggest]").forEach(attach);
}());
