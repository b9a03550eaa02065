// Keeps the dashboard's live section (#live) current without a reload. The section is rendered
// whole by the server; this script listens to its event stream (server-sent events, the URL in
// data-live-url) and replaces each part (data-live-part) with the server's new rendering of it.
// Only decisions that changed are read out (#live-announce, aria-live="polite"); the figures that
// move every second are not. Without this script the section is a snapshot, and says so.
(function () {
  "use strict";
  function start() {
    var section = document.getElementById("live");
    if (!section || !window.EventSource) return;
    var state = document.getElementById("live-state");
    var announcer = document.getElementById("live-announce");
    var shown = {};
    var source = new EventSource(section.getAttribute("data-live-url"));

    function say(which) {
      var words = state.getAttribute(which);
      if (state.textContent !== words) state.textContent = words;
    }

    function replace(name, html) {
      var node = section.querySelector('[data-live-part="' + name + '"]');
      if (!node || shown[name] === html) return;
      shown[name] = html;
      // Keep the keyboard's place: a focused link is focused again in the new rendering.
      var focused = document.activeElement;
      var href = focused && node.contains(focused) ? focused.getAttribute("href") : null;
      node.innerHTML = html;
      if (href) {
        var links = node.querySelectorAll("a[href]");
        for (var i = 0; i < links.length; i++) {
          if (links[i].getAttribute("href") === href) {
            links[i].focus();
            break;
          }
        }
      }
    }

    source.addEventListener("live", function (event) {
      var data = JSON.parse(event.data);
      say("data-live-on");
      section.setAttribute("data-live-state", "on");
      for (var name in data.parts) {
        if (Object.prototype.hasOwnProperty.call(data.parts, name)) {
          replace(name, data.parts[name]);
        }
      }
      if (data.announce) {
        announcer.textContent = "";
        announcer.textContent = data.announce;
      }
    });
    source.addEventListener("end", function () {
      // The session ended: no reconnecting; the page says updates stopped.
      source.close();
      say("data-live-off");
      section.setAttribute("data-live-state", "off");
    });
    source.onerror = function () {
      // Reconnecting (the browser retries by itself) or refused: not live until the next event.
      say("data-live-off");
      section.setAttribute("data-live-state", "off");
    };
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
