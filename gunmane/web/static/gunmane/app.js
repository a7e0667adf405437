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

  // The main menu collapses behind its button on narrow screens (app.css, ≤56rem). Without this script the
  // button stays hidden and the menu's items wrap, so every item is reachable either way.
  var menuButton = document.querySelector(".site-nav__toggle");
  var menu = menuButton && document.getElementById(menuButton.getAttribute("aria-controls"));
  if (menuButton && menu) {
    var setMenu = function (open) {
      menuButton.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    };
    document.documentElement.classList.add("js-menu");
    menuButton.hidden = false;
    menuButton.addEventListener("click", function () {
      setMenu(menuButton.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menuButton.getAttribute("aria-expanded") === "true") {
        setMenu(false);
        menuButton.focus();
      }
    });
  }

  // A table wider (or longer) than its box scrolls inside it (.table-wrap): make that box reachable by keyboard, so
  // arrow keys scroll it (WCAG 2.1.1). It gets no role and name of its own: one shared name would repeat on every
  // table of a page (several landmarks of one name), and the table's caption and headers already say what it is.
  function markScrollingTables(root) {
    root.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1 || wrap.scrollHeight > wrap.clientHeight + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("data-scrolls", "");
      } else if (!scrolls && wrap.hasAttribute("data-scrolls")) {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("data-scrolls");
      }
    });
  }
  markScrollingTables(document);
  window.addEventListener("load", function () { markScrollingTables(document); });
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () { markScrollingTables(document); }, 150);
  });
  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt.querySelectorAll) markScrollingTables(event.detail.elt);
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
