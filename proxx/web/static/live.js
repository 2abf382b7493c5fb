// Progressive enhancement: while a page's live region says it is live, fetch that region again
// every second and swap it in. Without JavaScript the pages work the same; reload to update.
(function () {
  "use strict";
  var INTERVAL = 1000;
  function current() { return document.getElementById("live"); }
  function tick() {
    var region = current();
    if (!region || region.getAttribute("data-live") !== "1") return;
    fetch(window.location.href, { headers: { "X-Proxx-Fragment": "1" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var holder = document.createElement("template");
        holder.innerHTML = html;
        var fresh = holder.content.getElementById("live");
        var now = current();
        if (fresh && now && fresh.innerHTML !== now.innerHTML) {
          var focused = document.activeElement && document.activeElement.id;
          now.replaceWith(fresh);
          if (focused) { var again = document.getElementById(focused); if (again) again.focus(); }
        }
      })
      .catch(function () { /* the server may be restarting: try again on the next tick */ })
      .then(function () { window.setTimeout(tick, INTERVAL); });
  }
  window.setTimeout(tick, INTERVAL);
})();
