/* The portal's own script: save a lesson video's position as it plays, so Resume
   returns to the same second. Pages work without it. */
(function () {
  "use strict";
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }
  function watch(video) {
    var url = video.getAttribute("data-progress-url"), saved = -1;
    var start = parseFloat(video.getAttribute("data-start") || "0");
    if (start > 0) {
      video.addEventListener("loadedmetadata", function () {
        if (video.currentTime < 1) { video.currentTime = start; }
      }, { once: true });
    }
    function save(beacon) {
      var t = Math.floor(video.currentTime || 0);
      if (t === saved) { return; }
      saved = t;
      var body = new FormData();
      body.append("csrf_token", csrfToken());
      body.append("seconds", String(t));
      if (beacon && navigator.sendBeacon) { navigator.sendBeacon(url, body); return; }
      fetch(url, { method: "POST", body: body, credentials: "same-origin" }).catch(function () {});
    }
    var last = 0;
    video.addEventListener("timeupdate", function () {
      var now = Date.now();
      if (now - last > 10000) { last = now; save(false); }
    });
    video.addEventListener("pause", function () { save(false); });
    video.addEventListener("ended", function () { save(false); });
    window.addEventListener("pagehide", function () { save(true); });
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("video[data-progress-url]"), watch);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
