// Keyboard shortcuts on the history (templates/history/list.html lists them in the "?"
// dialog): "/" search, j/k move between rows, Enter opens, x selects, s stars, ? help.
// Rows follow the row DOM contract of both layouts: "#rows [data-job]", the title link
// "a.job-link", the selection box "input.job-select", the star "button[data-action=star]".
// Hand-written: the few keys need no library, and each does what the row's own control does
// (a click), so the selection and star scripts see an ordinary click.
(function () {
  "use strict";
  var dialog = document.getElementById("shortcuts");
  if (!dialog) { return; }  // only the history has shortcuts
  var ROWS = "#rows [data-job]";
  var currentCode = null;  // the row j/k moved to, by code: polls and pages replace row elements
  var moveAfterLoad = false;
  var opener = null;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll(ROWS)); }

  // Fields that take keystrokes; a checkbox or radio (a row's selection box, the filter
  // pills) does not, so shortcuts still work from there.
  var CLICKED_INPUTS = ["checkbox", "radio", "button", "submit", "reset"];
  function typing(el) {
    if (!el || !el.closest) { return false; }
    if (el.isContentEditable || el.closest("textarea, select")) { return true; }
    return el.matches("input") && CLICKED_INPUTS.indexOf(el.type) === -1;
  }

  function topbarBottom() {
    var bar = document.querySelector(".topbar");
    return bar ? bar.getBoundingClientRect().bottom : 0;
  }

  function current() {
    var focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest(ROWS) : null;
    if (focused) { return focused; }
    return currentCode ? document.getElementById("job-" + currentCode) : null;
  }

  function firstInView(list) {
    var top = topbarBottom();
    for (var i = 0; i < list.length; i++) {
      if (list[i].getBoundingClientRect().bottom > top + 8) { return list[i]; }
    }
    return list[list.length - 1];
  }

  function mark(row) {
    document.querySelectorAll("#rows .is-current").forEach(function (el) { el.classList.remove("is-current"); });
    currentCode = row.getAttribute("data-job");
    row.classList.add("is-current");
    var link = row.querySelector("a.job-link");
    (link || row).focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    var now = current();
    var index = now ? list.indexOf(now) : -1;
    if (index === -1) { mark(firstInView(list)); return; }
    var next = list[index + step];
    if (next) { mark(next); return; }
    // Past the last loaded row: load the next page, then step onto it.
    var more = step > 0 ? document.querySelector("#rows .jobs-more a") : null;
    if (more) { moveAfterLoad = true; more.click(); }
  }

  document.addEventListener("htmx:afterSettle", function () {
    var row = currentCode ? document.getElementById("job-" + currentCode) : null;
    if (row) { row.classList.add("is-current"); }  // a poll put a fresh element in its place
    if (moveAfterLoad) { moveAfterLoad = false; move(1); }
  });

  function press(row, selector) {
    var control = row && row.querySelector(selector);
    if (control) { control.click(); }
  }

  function openHelp() {
    opener = document.activeElement;
    dialog.showModal();
  }
  dialog.addEventListener("close", function () {
    if (opener && opener.focus && document.contains(opener)) { opener.focus(); }
    opener = null;
  });
  document.querySelectorAll("[data-shortcuts]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", openHelp);
  });

  var actions = {
    "/": function () {
      var search = document.getElementById("id_q");
      if (!search) { return false; }
      search.focus();
      search.select();
    },
    "j": function () { move(1); },
    "k": function () { move(-1); },
    "Enter": function (event) {
      // On a link, button or summary Enter already does what it says.
      if (event.target.closest && event.target.closest("a, button, summary, audio, video")) { return false; }
      var row = current();
      if (!row) { return false; }
      press(row, "a.job-link");
    },
    "x": function () { press(current(), "input.job-select"); },
    "s": function () { press(current(), 'button[data-action="star"]'); },
    "?": openHelp,
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
    if (typing(event.target) || dialog.open || document.querySelector("dialog[open]")) { return; }
    var action = Object.prototype.hasOwnProperty.call(actions, event.key) ? actions[event.key] : null;
    if (action && action(event) !== false) { event.preventDefault(); }
  });
})();
