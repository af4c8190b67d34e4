// The table layout's play buttons (templates/history/row_table.html): one shared <audio>,
// docked at the bottom of the page while in use, so a row stays one line. Without script the
// buttons are hidden and a row's title still leads to the job page with its players.
(function () {
  "use strict";
  var dock = null, audio = null, label = null, playing = "";

  function makeDock() {
    dock = document.createElement("div");
    dock.className = "dock-player";
    dock.setAttribute("role", "region");
    dock.setAttribute("aria-label", "Player");
    label = document.createElement("span");
    label.className = "dock-player-title";
    audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-small";
    close.textContent = "Close";
    close.addEventListener("click", function () {
      audio.pause();
      mark();
      dock.hidden = true;
    });
    dock.append(label, audio, close);
    document.body.appendChild(dock);
    ["play", "pause", "ended", "emptied"].forEach(function (name) { audio.addEventListener(name, mark); });
  }

  // The playing track's buttons say so (also those of rows htmx brought in since).
  function mark() {
    var on = audio && !audio.paused ? playing : "";
    document.querySelectorAll(".play-button").forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-play") === on ? "true" : "false");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".play-button") : null;
    if (!button) { return; }
    if (!dock) { makeDock(); }
    var src = button.getAttribute("data-play");
    if (src === playing && !audio.paused) {
      audio.pause();
      mark();  // at once: the "pause" event comes a moment later
      return;
    }
    if (src !== playing) {
      playing = src;
      audio.src = src;
      label.textContent = button.getAttribute("data-title");
    }
    dock.hidden = false;
    audio.play().catch(function () { mark(); });
    mark();  // play() unpauses at once; its "play" event comes a moment later
  });
  document.addEventListener("htmx:afterSettle", mark);
})();
