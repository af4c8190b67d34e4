// The table's Columns menu (templates/history/list.html): each tick or move is saved at once
// and the results come back in place (preferences/views.py answers with HX-Location). The
// menu comes back closed with them: open it again, with the focus where it was, so moving a
// column several places is a few presses of the same button.
(function () {
  "use strict";
  var focusAgain = null;
  document.addEventListener("htmx:configRequest", function (event) {
    var menu = event.target.closest ? event.target.closest("#columns-menu") : null;
    if (!menu) { return; }
    var focused = document.activeElement;
    focusAgain = focused && menu.contains(focused) && focused.id ? focused.id : "columns-menu";
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusAgain) { return; }
    var menu = document.getElementById("columns-menu");
    if (menu) {
      menu.open = true;
      var target = document.getElementById(focusAgain);
      (target && target !== menu ? target : menu.querySelector("summary")).focus();
      var status = document.getElementById("results-status");
      if (status) { status.textContent = "Columns saved."; }
    }
    focusAgain = null;
  });
})();
