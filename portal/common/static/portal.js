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
  /* Projector mode: keys for a trainer at the front of the room; prompts when it ends.
     The keys can be switched off (WCAG 2.1.4), and the choice is remembered. */
  function projector(body) {
    var video = document.getElementById("episode-video"), prompts = document.getElementById("prompts");
    var toggle = document.getElementById("shortcuts"), stored = "portal.projector.shortcuts";
    body.classList.add("js");
    if (toggle) {
      try { toggle.checked = window.localStorage.getItem(stored) !== "off"; } catch (e) {}
      toggle.addEventListener("change", function () {
        try { window.localStorage.setItem(stored, toggle.checked ? "on" : "off"); } catch (e) {}
      });
      document.getElementById("shortcuts-switch").hidden = false;
    }
    if (video && prompts) {
      prompts.hidden = true;
      video.addEventListener("ended", function () { prompts.hidden = false; body.classList.add("ended"); prompts.scrollIntoView(); });
      video.addEventListener("play", function () { prompts.hidden = true; body.classList.remove("ended"); });
    }
    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey || /INPUT|TEXTAREA|SELECT|BUTTON/.test(event.target.tagName)) { return; }
      if (toggle && !toggle.checked) { return; }
      var key = event.key;
      if (key === " " && video) { event.preventDefault(); if (video.paused) { video.play(); } else { video.pause(); } }
      else if (key === "ArrowRight" && body.dataset.next) { window.location.href = body.dataset.next; }
      else if (key === "ArrowLeft" && body.dataset.prev) { window.location.href = body.dataset.prev; }
      else if (key === "f" || key === "F") {
        if (document.fullscreenElement) { document.exitFullscreen(); } else { document.documentElement.requestFullscreen().catch(function () {}); }
      } else if ((key === "c" || key === "C") && video && video.textTracks.length) {
        var track = video.textTracks[0];
        track.mode = track.mode === "showing" ? "hidden" : "showing";
      }
    });
    if (video && video.textTracks.length) { video.textTracks[0].mode = "showing"; }
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("video[data-progress-url]"), watch);
    if (document.body.classList.contains("projector")) { projector(document.body); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
