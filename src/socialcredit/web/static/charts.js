// Draws every chart of the page: each <div data-figure="id"> gets the figure stored as JSON in
// <script type="application/json" id="id">. plotly.js comes from this server, never a CDN.
(function () {
  "use strict";
  var config = { displayModeBar: false, responsive: true };
  function draw() {
    var nodes = document.querySelectorAll("[data-figure]");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var source = document.getElementById(node.getAttribute("data-figure"));
      if (!source) continue;
      var figure = JSON.parse(source.textContent);
      if (figure.layout && figure.layout.height) {
        node.style.height = figure.layout.height + "px";
      }
      window.Plotly.newPlot(node, figure.data, figure.layout, config);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
