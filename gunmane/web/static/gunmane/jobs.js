// The progress panel of a job on the task queue (gunmane/web/jobs): poll its status every second, move the
// bar, and when the job is done show the finished panel and load the page's own address again, which then serves the file (a
// failed job shows why, and its button asks again). Without
// JavaScript the page refreshes itself (<noscript> meta refresh) to the same effect.
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status]");
  if (!box) { return; }
  var statusUrl = box.getAttribute("data-job-status");
  var resultUrl = box.getAttribute("data-job-result");

  function show(state) {
    var bar = box.querySelector("[data-job-bar]");
    var percent = box.querySelector("[data-job-percent]");
    var message = box.querySelector("[data-job-message]");
    if (bar) { bar.value = state.progress; bar.textContent = state.progress + "%"; }
    if (percent) { percent.textContent = state.progress + "%"; }
    if (message && state.message) { message.textContent = state.status === "queued" ? "順番を待っています。" : state.message; }
  }

  // the finished panel (done: a link to the file; failed: why), then the file itself when it is ready
  function swapPanel(ready) {
    fetch(statusUrl.split("?")[0], { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var panel = box.querySelector(".job__panel");
        var next = new DOMParser().parseFromString(html, "text/html").querySelector(".job__panel");
        if (panel && next) { panel.replaceWith(next); }
        if (ready) { window.location.assign(resultUrl); }
      });
  }

  function poll() {
    fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        // the job is gone: the data changed meanwhile and newer work replaced it; the page's own address asks for
        // that (and shows its progress, or the result)
        if (response.status === 404) { window.location.assign(resultUrl); throw new Error("superseded"); }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.finished) {
          swapPanel(state.ready);
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function (error) { if (!error || error.message !== "superseded") { window.setTimeout(poll, 3000); } });
  }
  window.setTimeout(poll, 1000);
})();
