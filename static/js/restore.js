// Back after a deep scroll returns to the same row. The list grows by htmx pages ("load
// more", revealed); a job page and Back load the list afresh with its first page only (the
// browser's back-forward cache, when it keeps the page, needs none of this). So on leaving
// the list, the row at the top of the view (or the row whose link was followed) is kept in
// sessionStorage under the list's address, with how many rows were loaded; on coming back
// to that address by Back or Forward, the next pages are fetched again, one by one with
// their own "more" URLs (keyset cursors: cheap at any depth), until that row is there, and
// it is put back where it was on screen and focused.
// Hand-written: htmx's history cache keeps only pages it pushed itself (the filters), not a
// list grown in place, and it would keep a whole deep list in localStorage.
(function () {
  "use strict";
  var ROWS = "#rows [data-job]";
  var PREFIX = "genboard:history-row:";
  // Pages to fetch at most beyond the rows that were loaded: rows may have arrived since.
  var SLACK_ROWS = 200;
  var followed = false;

  function storageKey() { return PREFIX + location.pathname + location.search; }

  function read() {
    try { return JSON.parse(sessionStorage.getItem(storageKey()) || "null"); } catch (e) { return null; }
  }

  function topRow() {
    var bar = document.querySelector(".topbar");
    var top = bar ? bar.getBoundingClientRect().bottom : 0;
    var rows = document.querySelectorAll(ROWS);
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getBoundingClientRect().bottom > top) { return rows[i]; }
    }
    return null;
  }

  function save(row) {
    row = row || topRow();
    if (!row) { return; }
    var state = {
      job: row.getAttribute("data-job"),
      top: Math.round(row.getBoundingClientRect().top),
      rows: document.querySelectorAll(ROWS).length,
    };
    try { sessionStorage.setItem(storageKey(), JSON.stringify(state)); } catch (e) { return; }
    // This entry's scroll is ours to put back: the browser's own would jump to a height
    // the first page alone does not have (and reveal the "more" control on the way).
    history.scrollRestoration = "manual";
  }

  // Following a link in a row (a click, or Enter from static/js/keyboard.js): that row.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    var row = link && link.closest(ROWS);
    if (row) { followed = true; save(row); }
  }, true);
  window.addEventListener("pagehide", function () {
    if (!followed) { save(null); }
  });
  window.addEventListener("pageshow", function (event) {
    followed = false;
    if (!event.persisted) { restore(); }
  });

  function backOrForward() {
    var entries = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    return entries.length > 0 && entries[0].type === "back_forward";
  }

  function place(row, top) {
    window.scrollTo(0, window.scrollY + row.getBoundingClientRect().top - top);
    var link = row.querySelector("a.job-link");
    if (link) { link.focus({ preventScroll: true }); }
  }

  function restore() {
    var state = read();
    if (!state || !document.getElementById("rows") || !backOrForward() || !window.htmx) { return; }
    var list = document.getElementById("rows");
    list.setAttribute("aria-busy", "true");
    function done() { list.removeAttribute("aria-busy"); }
    function step() {
      var row = document.getElementById("job-" + state.job);
      if (row) { place(row, state.top); done(); return; }
      var more = document.querySelector("#rows .jobs-more a[hx-get]");
      if (!more || document.querySelectorAll(ROWS).length > state.rows + SLACK_ROWS) { done(); return; }
      // The same request the "more" control makes, awaited (htmx.ajax answers a promise).
      // The view stays at the top meanwhile, so the control's own "revealed" does not fire.
      htmx.ajax("GET", more.getAttribute("hx-get"), { target: more.closest(".jobs-more"), swap: "outerHTML" })
        .then(step, done);
    }
    step();
  }
})();
