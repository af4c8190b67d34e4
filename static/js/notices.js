// The summary line of keys and syncs (templates/history/notices.html): progressive
// enhancement of its two forms. Without script the dismissal posts and comes back, and
// "Sync now" posts and comes back with a message.
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!event.detail.successful || !form.closest || !form.matches(".notice-dismiss")) { return; }
    // Dismissed (the server keeps it): hide the line, and keep focus on the page.
    var line = form.closest("#notices");
    line.hidden = true;
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
})();
