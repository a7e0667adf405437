// ロット設計の地図: a lot (a focusable group in the SVG) shows its totals below the map on hover or keyboard focus.
(function () {
  "use strict";
  function init() {
    var map = document.getElementById("lots-map");
    var info = document.getElementById("lots-map-info");
    if (!map || !info) { return; }
    var idle = info.textContent;
    var lots = map.querySelectorAll(".lot");
    function show(g) {
      for (var i = 0; i < lots.length; i++) { lots[i].classList.toggle("is-active", lots[i] === g); }
      info.textContent = g ? g.getAttribute("data-summary") : idle;
    }
    for (var i = 0; i < lots.length; i++) {
      (function (g) {
        g.addEventListener("mouseenter", function () { show(g); });
        g.addEventListener("focus", function () { show(g); });
        g.addEventListener("mouseleave", function () { if (document.activeElement !== g) { show(null); } });
        g.addEventListener("blur", function () { show(null); });
      })(lots[i]);
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
