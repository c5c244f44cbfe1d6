// Live statuses: keeps the statuses on this page up to date through the
// server's event stream (/api/events).  The page works without it.
"use strict";
(function () {
  if (!window.EventSource || !window.Map) {
    return;
  }
  var MAX_QUERY = 4000; // longer URLs: follow everyone and pick ours
  var nodes = document.querySelectorAll("[data-user]");
  if (!nodes.length) {
    return;
  }
  var byName = new Map();
  Array.prototype.forEach.call(nodes, function (node) {
    var name = node.getAttribute("data-user");
    if (!byName.has(name)) {
      byName.set(name, []);
    }
    byName.get(name).push(node);
  });
  var query = Array.from(byName.keys()).map(function (name) {
    return "user=" + encodeURIComponent(name);
  }).join("&");
  var url = "/api/events" + (query.length <= MAX_QUERY ? "?" + query : "");

  // Statuses are set as text, never as HTML.
  function show(name, status) {
    (byName.get(name) || []).forEach(function (node) {
      var target = node.querySelector(".status");
      if (!target) {
        return;
      }
      if (status === null) {
        target.textContent = "No longer here.";
        node.classList.add("gone");
      } else {
        target.textContent = status;
        node.classList.remove("gone");
      }
    });
  }

  var source = new EventSource(url);
  // <html data-live="open"> while the stream is connected (for styles and tests).
  source.addEventListener("open", function () {
    document.documentElement.setAttribute("data-live", "open");
  });
  source.addEventListener("error", function () {
    document.documentElement.removeAttribute("data-live");
  });
  source.addEventListener("status", function (event) {
    var change;
    try {
      change = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (change && typeof change.name === "string") {
      show(change.name, typeof change.status === "string" ? change.status : null);
    }
  });
  // Changes were missed (the stream was away too long): read them again.
  source.addEventListener("reset", function () {
    byName.forEach(function (_, name) {
      fetch("/api/users/" + encodeURIComponent(name)).then(function (response) {
        if (response.status === 404) {
          return { status: null };
        }
        return response.ok ? response.json() : Promise.reject(response.status);
      }).then(function (user) {
        show(name, typeof user.status === "string" ? user.status : null);
      }).catch(function () {});
    });
  });
})();
