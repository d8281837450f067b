// The dashboard's own script: fetches the numbers as JSON (GET /v1/dashboard) every few
// seconds and redraws the tables and the charts (Chart.js, served from /static/vendor/).
// No inline script anywhere: the page's Content-Security-Policy allows only files from 'self'.
(function () {
  "use strict";
  var marker = document.querySelector("[data-dashboard]");
  if (!marker) { return; }
  var language = marker.getAttribute("data-dashboard");
  var refreshSeconds = parseInt(marker.getAttribute("data-refresh"), 10) || 15;
  var charts = {};
  // A line's dash and point shape by its style (services/reporting/web/view.py, SERIES).
  var LINES = {
    line: { dash: [], point: "circle" },
    dashed: { dash: [8, 4], point: "triangle" },
    dotted: { dash: [2, 3], point: "rectRot" }
  };
  var patterns = {};

  function element(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function renderTable(section) {
    var table = document.querySelector('[data-table="' + section.id + '"]');
    if (!table) { return; }
    var body = element("tbody");
    section.table.rows.forEach(function (row) {
      var tr = element("tr");
      row.forEach(function (cell, index) {
        var td = element(index === 0 ? "th" : "td", cell);
        if (index === 0) { td.setAttribute("scope", "row"); }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.replaceChild(body, table.tBodies[0]);
  }

  function renderSummary(section) {
    var list = document.querySelector('[data-summary="' + section.id + '"]');
    if (!list) { return; }
    while (list.firstChild) { list.removeChild(list.firstChild); }
    section.summary.forEach(function (figure) {
      var item = element("div");
      item.className = "summary__item";
      item.appendChild(element("dt", figure.label));
      item.appendChild(element("dd", figure.value));
      list.appendChild(item);
    });
  }

  // A series' colour, as dashboard.css defines it for the tables' keys too.
  function colour(name) {
    return window.getComputedStyle(document.documentElement)
      .getPropertyValue("--series-" + name).trim();
  }

  // White stripes over the colour, as .key--hatched draws them.
  function hatched(name) {
    if (!patterns[name]) {
      var tile = document.createElement("canvas");
      tile.width = 8;
      tile.height = 8;
      var pen = tile.getContext("2d");
      pen.fillStyle = colour(name);
      pen.fillRect(0, 0, 8, 8);
      pen.strokeStyle = "#ffffff";
      pen.lineWidth = 2;
      pen.beginPath();
      pen.moveTo(-2, 10); pen.lineTo(10, -2);
      pen.moveTo(-2, 2); pen.lineTo(2, -2);
      pen.moveTo(6, 10); pen.lineTo(10, 6);
      pen.stroke();
      patterns[name] = pen.createPattern(tile, "repeat");
    }
    return patterns[name];
  }

  function dataset(set) {
    var drawn = { label: set.label, data: set.data };
    var line = LINES[set.style];
    if (line) {
      drawn.borderColor = colour(set.colour);
      drawn.backgroundColor = colour(set.colour);
      drawn.borderWidth = 3;
      drawn.borderDash = line.dash;
      drawn.pointStyle = line.point;
      drawn.pointRadius = 5;
      drawn.tension = 0.2;
    } else if (set.style === "outline") {
      drawn.backgroundColor = "#ffffff";
      drawn.borderColor = colour(set.colour);
      drawn.borderWidth = 2;
    } else {
      drawn.backgroundColor = set.style === "hatched" ? hatched(set.colour) : colour(set.colour);
      drawn.borderColor = "#ffffff";  // apart from the segment beside it in a stacked bar
      drawn.borderWidth = 1;
    }
    return drawn;
  }

  // A bar's label (a forum's title) cut to what a third of the chart's width holds: on a
  // phone the whole title would leave no room for the bars. The table has it in full.
  function shortened(value) {
    var label = String(this.getLabelForValue(value));
    var room = Math.max(12, Math.floor(this.chart.width / 3 / 7));
    return label.length > room ? label.slice(0, room - 1) + "\u2026" : label;
  }

  function chartConfig(spec) {
    var horizontal = !!spec.horizontal;
    return {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(dataset)
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: language === "de" ? "de-DE" : "en-GB",
        scales: {
          x: { stacked: !!spec.stacked, beginAtZero: true },
          y: {
            stacked: !!spec.stacked,
            beginAtZero: true,
            ticks: horizontal ? { callback: shortened } : {}
          }
        },
        plugins: {
          legend: {
            position: "bottom",
            labels: { usePointStyle: spec.type === "line", color: "#0b0c0c" }
          }
        }
      }
    };
  }

  function renderChart(section) {
    if (!section.chart || typeof window.Chart === "undefined") { return; }
    var canvas = document.querySelector('[data-chart="' + section.id + '"]');
    if (!canvas) { return; }
    var existing = charts[section.id];
    var config = chartConfig(section.chart);
    if (existing) {
      existing.data = config.data;
      existing.update();
    } else {
      charts[section.id] = new window.Chart(canvas, config);
    }
  }

  function render(numbers) {
    numbers.sections.forEach(function (section) {
      renderSummary(section);
      renderTable(section);
      renderChart(section);
    });
    var updated = document.querySelector("[data-updated]");
    if (updated) { updated.textContent = numbers.updated_at; }
    document.documentElement.setAttribute("data-refreshed", String(Date.now()));
  }

  function refresh() {
    fetch("/v1/dashboard?lang=" + encodeURIComponent(language), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 401) { window.location.reload(); return null; }
      return response.ok ? response.json() : null;
    }).then(function (numbers) {
      if (numbers) { render(numbers); }
    }).catch(function () { /* offline for a moment: the next round tries again */ })
      .then(function () { window.setTimeout(refresh, refreshSeconds * 1000); });
  }

  refresh();
})();
