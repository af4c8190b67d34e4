// The summary line of keys and syncs (templates/history/notices.html): progressive
// enhancement of its two forms and of its words while syncs run. Without script the
// dismissal posts and comes back, and "Sync now" posts and comes back with a message.
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!event.detail.successful || !form.matches || !form.matches(".notice-dismiss")) { return; }
    // Dismissed (the server keeps it): hide the line; focus goes on to the search.
    form.closest("#notices").hidden = true;
    var search = document.getElementById("id_q");
    if (search) { search.focus({ preventScroll: true }); }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "sync-area") { return; }
    // A sync was just asked for: its progress shows, dismissed or not.
    var line = document.getElementById("notices");
    if (!line) { return; }
    line.hidden = false;
    line.querySelector("details").open = true;
  });

  // Each sync's progress polls itself (history/sync_progress.html); the summary's words
  // follow them: how many still run, then what they brought.
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  document.addEventListener("htmx:afterSettle", function () {
    var words = document.querySelector("#notices .notice-sync");
    var runs = document.querySelectorAll("#sync-area .sync-progress[data-state]");
    if (!words || !runs.length) { return; }
    var running = 0, fresh = 0, finished = 0;
    runs.forEach(function (run) {
      var state = run.getAttribute("data-state");
      if (state === "queued" || state === "running") { running += 1; }
      if (state === "done") { finished += 1; fresh += Number(run.getAttribute("data-new")) || 0; }
    });
    if (running) {
      words.textContent = "syncing " + plural(running, "key") + "…";
    } else if (finished) {
      words.textContent = "last sync just now: " + fresh.toLocaleString("en") + " new";
    }
    var spinner = document.querySelector("#notices .notice-spinner");
    if (spinner) { spinner.hidden = running === 0; }
  });
})();
