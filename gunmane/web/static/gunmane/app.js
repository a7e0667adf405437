/*
 * gunmane 群マネ — small progressive enhancement. Every page works without it.
 * No inline handlers are needed (CSP-friendly); behaviour is declared with data attributes:
 *
 *   data-confirm="この取込を取り消しますか？"   on a <form> (asked on submit) or on an <a>/<button>
 *                                              (asked on click). For htmx requests use hx-confirm.
 *   data-submit-once                          on a <form>: after submitting, its submit buttons are
 *                                              disabled (prevents double imports). Do not use it on
 *                                              forms that download a file and stay on the page.
 *   data-width-pct="42" / data-height-em="7"  a size computed on the server (a percentile bar, a
 *                                              chart's height). The Content-Security-Policy blocks
 *                                              style attributes in markup; setting element.style here is allowed.
 *
 * Progress of long work is polled with htmx (hx-get + hx-trigger="every 2s"), not here.
 */
(function () {
  "use strict";

  function confirmed(el) {
    var message = el.getAttribute("data-confirm");
    return !message || window.confirm(message);
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest("a[data-confirm], button[data-confirm], input[type=submit][data-confirm]");
    if (el && !confirmed(el)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[data-confirm]") && !confirmed(form)) {
      event.preventDefault();
      return;
    }
    if (form.matches("form[data-submit-once]")) {
      if (form.getAttribute("data-submitting") === "1") {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-submitting", "1");
      // Disable after the browser has built the form data, so the submitter's name/value is sent.
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]").forEach(function (b) {
          b.disabled = true;
          b.setAttribute("aria-disabled", "true");
        });
        form.setAttribute("aria-busy", "true");
      }, 0);
    }
  });

  // Coming back with the browser's Back button restores the page from cache: re-enable forms.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.removeAttribute("aria-busy");
      form.querySelectorAll("[aria-disabled=true]").forEach(function (b) {
        b.disabled = false;
        b.removeAttribute("aria-disabled");
      });
    });
  });

  function applySizes(root) {
    root.querySelectorAll("[data-width-pct]").forEach(function (el) {
      var pct = parseFloat(el.getAttribute("data-width-pct"));
      if (isFinite(pct)) el.style.width = Math.max(0, Math.min(100, pct)) + "%";
    });
    root.querySelectorAll("[data-height-em]").forEach(function (el) {
      var em = parseFloat(el.getAttribute("data-height-em"));
      if (isFinite(em) && em > 0) el.style.height = em + "em";
    });
  }
  // Deferred scripts run in order after parsing: sizes are set before charts.js/karte.js draw.
  applySizes(document);
  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt.querySelectorAll) applySizes(event.detail.elt);
  });

  // A form re-rendered with errors after a POST: focus the error summary (DADS guidance).
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".form-errors[data-autofocus]");
    if (summary) summary.focus();
  });

  // After an htmx swap that contains an error summary, move focus to it (screen readers, keyboard).
  document.addEventListener("htmx:afterSwap", function (event) {
    var summary = event.detail && event.detail.target && event.detail.target.querySelector(".form-errors");
    if (summary) summary.focus();
  });
})();
