// Progressive enhancement: while a page's live region says it is live, fetch that region again every
// second and bring the page up to date IN PLACE: text and attributes change where they differ, so
// keyboard focus, a fold the operator opened and a button being pressed all survive the update; a
// part whose structure changed is replaced, unless the operator is working inside it (then it waits
// for the next second). What the server says to announce (`data-announce`: a progress step, a state
// change, a cancel) goes to the page's polite live region. Without JavaScript the pages work the
// same; reload to update.
(function () {
  "use strict";
  var INTERVAL = 1000;
  var pointerDown = false;
  var announced = null;
  document.addEventListener("pointerdown", function () { pointerDown = true; }, true);
  document.addEventListener("pointerup", function () { pointerDown = false; }, true);
  document.addEventListener("pointercancel", function () { pointerDown = false; }, true);

  function region() { return document.getElementById("live"); }

  function announce(text) {
    var status = document.getElementById("announce");
    if (!status || !text || text === announced) return;
    announced = text;
    status.textContent = text;
  }

  function busyInside(node) {
    var active = document.activeElement;
    return pointerDown || (active && active !== document.body && node.contains(active));
  }

  function syncAttributes(from, to) {
    var keepOpen = from.tagName === "DETAILS";  // the operator's fold, not the server's
    for (var i = 0; i < to.attributes.length; i++) {
      var attr = to.attributes[i];
      if (keepOpen && attr.name === "open") continue;
      if (from.getAttribute(attr.name) !== attr.value) from.setAttribute(attr.name, attr.value);
    }
    for (var j = from.attributes.length - 1; j >= 0; j--) {
      var name = from.attributes[j].name;
      if (keepOpen && name === "open") continue;
      if (!to.hasAttribute(name)) from.removeAttribute(name);
    }
    if (from.tagName === "PROGRESS" && to.hasAttribute("value")) from.value = Number(to.getAttribute("value"));
  }

  function sameShape(a, b) {
    if (a.childNodes.length !== b.childNodes.length) return false;
    for (var i = 0; i < a.childNodes.length; i++) {
      var x = a.childNodes[i], y = b.childNodes[i];
      if (x.nodeType !== y.nodeType || x.nodeName !== y.nodeName) return false;
    }
    return true;
  }

  // Bring `from` (in the page) to what `to` (fresh from the server) says; false when a part that
  // must be replaced is in use by the operator, to try again on the next tick.
  function morph(from, to) {
    syncAttributes(from, to);
    if (!sameShape(from, to)) {
      if (busyInside(from)) return false;
      var open = {};
      from.querySelectorAll("details[id]").forEach(function (d) { open[d.id] = d.open; });
      from.replaceChildren.apply(from, Array.prototype.slice.call(to.childNodes));
      from.querySelectorAll("details[id]").forEach(function (d) { if (d.id in open) d.open = open[d.id]; });
      return true;
    }
    var done = true;
    for (var i = 0; i < from.childNodes.length; i++) {
      var x = from.childNodes[i], y = to.childNodes[i];
      if (x.nodeType === Node.TEXT_NODE) {
        if (x.data !== y.data) x.data = y.data;
      } else if (x.nodeType === Node.ELEMENT_NODE) {
        done = morph(x, y) && done;
      }
    }
    return done;
  }

  function tick() {
    var now = region();
    if (!now || now.getAttribute("data-live") !== "1") return;
    fetch(window.location.href, { headers: { "X-Proxx-Fragment": "1" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var holder = document.createElement("template");
        holder.innerHTML = html;
        var fresh = holder.content.getElementById("live");
        var current = region();
        if (fresh && current) {
          morph(current, fresh);
          announce(fresh.getAttribute("data-announce"));
        }
      })
      .catch(function () { /* the server may be restarting: try again on the next tick */ })
      .then(function () { window.setTimeout(tick, INTERVAL); });
  }
  var first = region();
  if (first) announced = first.getAttribute("data-announce");  // what the page already says
  window.setTimeout(tick, INTERVAL);
})();
