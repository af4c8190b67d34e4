// Saved views (templates/saved_views/tabs.html): progressive enhancement of plain links and
// forms. After htmx filters the history (the address bar changes, the tabs do not re-render),
// the tab whose parameters are on screen is marked, "Update with what's on screen" is offered
// while they differ from the opened view's; "Save view" and the update take the address bar's
// parameters, not the ones the page was first rendered with.
(function () {
  "use strict";
  var SKIPPED = { cursor: true, view: true };

  function normal(search) {
    var pairs = [];
    new URLSearchParams(search).forEach(function (value, name) {
      if (value !== "" && !SKIPPED[name]) { pairs.push([name, value]); }
    });
    pairs.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0); });
    return new URLSearchParams(pairs).toString();
  }

  // The strip scrolls sideways on narrow screens: bring the marked tab into it (the strip
  // alone, never the page).
  function reveal(nav, active) {
    var strip = nav.querySelector(".view-tabs-list");
    if (!active || !strip || strip.scrollWidth <= strip.clientWidth) { return; }
    var left = active.getBoundingClientRect().left - strip.getBoundingClientRect().left + strip.scrollLeft;
    if (left < strip.scrollLeft || left + active.offsetWidth > strip.scrollLeft + strip.clientWidth) {
      strip.scrollLeft = Math.max(0, left - 16);
    }
  }

  function markActive() {
    var nav = document.querySelector("[data-view-tabs]");
    if (!nav || location.pathname !== "/history/") { return; }
    var marked = new URLSearchParams(location.search).get("view");
    var onScreen = normal(location.search);
    var tabs = nav.querySelectorAll("a.view-tab");
    var active = null;
    tabs.forEach(function (tab) {
      if (!active && marked && tab.getAttribute("data-view") === marked) { active = tab; }
    });
    tabs.forEach(function (tab) {
      if (!active && normal(tab.getAttribute("data-query")) === onScreen && (onScreen !== "" || !tab.hasAttribute("data-view"))) {
        active = tab;
      }
    });
    tabs.forEach(function (tab) {
      if (tab === active) { tab.setAttribute("aria-current", "page"); } else { tab.removeAttribute("aria-current"); }
    });
    reveal(nav, active);
    // "Edit view" is for the view rendered with the page: hidden while another tab ("All jobs"
    // included) is on screen. While no tab is, it offers to update that view with what is.
    var manage = nav.querySelector("[data-manages]");
    if (manage) {
      var own = null;
      tabs.forEach(function (tab) { if (tab.getAttribute("data-view") === manage.getAttribute("data-manages")) { own = tab; } });
      manage.hidden = !own || (active !== null && active !== own);
      var update = manage.querySelector("form[data-update-view]");
      if (update && own) { update.hidden = normal(own.getAttribute("data-query")) === onScreen; }
    }
  }

  function revealRendered() {
    var nav = document.querySelector("[data-view-tabs]");
    if (nav) { reveal(nav, nav.querySelector('a.view-tab[aria-current="page"]')); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", revealRendered); } else { revealRendered(); }

  document.addEventListener("htmx:pushedIntoHistory", markActive);
  document.addEventListener("htmx:historyRestore", markActive);
  window.addEventListener("popstate", function () { setTimeout(markActive, 0); });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-save-view], form[data-update-view]") || location.pathname !== "/history/") { return; }
    var field = form.querySelector("input[name=query]");
    if (field) { field.value = normal(location.search); }
  });
})();
