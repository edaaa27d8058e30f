// Hookline portal: a little progressive enhancement. Every page works
// without it; it adds copy buttons and live refresh of the delivery log.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    if (!navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.querySelector(b.getAttribute("data-copy"));
      if (!el) return;
      var label = b.textContent;
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        b.textContent = "✓";
        setTimeout(function () { b.textContent = label; }, 1500);
      });
    });
  });
  var live = document.querySelector("input[data-live]");
  if (live) {
    live.parentElement.hidden = false;
    var key = "hookline-live:" + location.pathname;
    live.checked = sessionStorage.getItem(key) === "1";
    var timer = null;
    var arm = function () {
      clearTimeout(timer);
      if (live.checked) timer = setTimeout(refresh, 1000 * Number(live.getAttribute("data-live")));
    };
    var refresh = function () {
      fetch(location.href, { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("log"), old = document.getElementById("log");
          if (fresh && old) old.replaceWith(fresh);
        }
        arm();
      }).catch(arm);
    };
    live.addEventListener("change", function () {
      sessionStorage.setItem(key, live.checked ? "1" : "0");
      arm();
    });
    arm();
  }
});
