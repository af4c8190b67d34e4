// Genboard's small script: everything here is progressive enhancement.
(function () {
  "use strict";
  // Remember the browser's timezone so the server renders times in it (core/middleware.py).
  // Written as is, not percent-encoded: the server reads cookies verbatim, and IANA names
  // ("Europe/Berlin", "America/Argentina/Buenos_Aires") only hold cookie-safe characters.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_+\/-]+$/.test(zone) && document.cookie.split("; ").indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* very old browser: times stay in UTC */ }

  // Rows are cached with their time absolute (history/row_cache.py); here it reads "3 hours
  // ago", on load and whenever htmx brings rows. The exact time stays in the title.
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat("en", { numeric: "auto" }) : null;
  var steps = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  function ago(when) {
    var seconds = (when.getTime() - Date.now()) / 1000;
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(seconds) >= steps[i][1]) { return relative.format(Math.round(seconds / steps[i][1]), steps[i][0]); }
    }
    return "just now";
  }
  function relativeTimes(root) {
    if (!relative) { return; }
    root.querySelectorAll("time[data-relative]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) { el.textContent = ago(when); el.removeAttribute("data-relative"); }
    });
  }
  relativeTimes(document);
  document.addEventListener("htmx:afterSettle", function () { relativeTimes(document); });

  // With script on, buttons only needed without it (the filter form's "Apply") step aside.
  document.documentElement.classList.add("js");

  // While htmx loads something, what it will replace says so (aria-busy); whole regions
  // (the results, the job panel) also fade a little (CSS).
  function region(event) {
    var target = event.detail && event.detail.target;
    return target && target.setAttribute ? target : null;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var el = region(event);
    if (el) { el.setAttribute("aria-busy", "true"); }
    // A menu whose form was just sent closes: its answer shows elsewhere on the page.
    var menu = event.target.closest && event.target.closest("details.dropdown[open]");
    if (menu && !menu.contains(el)) { menu.removeAttribute("open"); }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var el = region(event);
    if (el) { el.removeAttribute("aria-busy"); }
  });

  // A search of one or two characters would scan a whole history (the server refuses it):
  // the search box waits for the next character, and its hint says so. Caught on the way
  // down (capture), before htmx's listener on the box sees the keystroke.
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.dataset || !box.dataset.minLength) { return; }
    var length = box.value.trim().length;
    var waiting = length > 0 && length < Number(box.dataset.minLength);
    var hint = document.getElementById(box.getAttribute("aria-describedby"));
    if (hint) { hint.classList.toggle("is-waiting", waiting); }
    if (waiting) { event.stopPropagation(); }
  }, true);

  // On a phone the filter pills scroll sideways: bring the chosen ones into view.
  document.querySelectorAll(".pills-options").forEach(function (row) {
    var chosen = row.querySelector("input:checked");
    var pill = chosen && chosen.closest(".pill");
    if (pill && row.scrollWidth > row.clientWidth) {
      row.scrollLeft = pill.offsetLeft - row.offsetLeft - 16;
    }
  });

  // One track at a time: starting a player pauses the others.
  document.addEventListener("play", function (event) {
    document.querySelectorAll("audio, video").forEach(function (media) {
      if (media !== event.target && !media.paused) { media.pause(); }
    });
  }, true);

  // Menus made of <details>: Escape or a click elsewhere closes them.
  function closeMenus(except) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      if (menu !== except && !menu.contains(except)) { menu.removeAttribute("open"); }
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest ? event.target.closest("details.dropdown") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("details.dropdown[open]") : null;
    closeMenus(null);
    if (open) { open.querySelector("summary").focus(); }
  });

  // Copy buttons (the webhook address on a key's page): the field's text to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    var field = button && document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var note = document.getElementById(button.getAttribute("aria-describedby"));
    function done(text) { if (note) { note.textContent = text; } }
    field.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(function () { done("Copied."); },
        function () { done("Selected: press Ctrl+C (⌘C) to copy."); });
    } else {
      done("Selected: press Ctrl+C (⌘C) to copy.");
    }
  });
})();
