// Genboard's small script: everything here is progressive enhancement.
(function () {
  "use strict";
  // Remember the browser's timezone so the server renders times in it (core/middleware.py).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* very old browser: times stay in UTC */ }
})();
