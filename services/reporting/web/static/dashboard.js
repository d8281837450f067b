// The dashboard's own script: fetches the numbers as JSON (GET /v1/dashboard) every few
// seconds and redraws the tables and the charts (Chart.js, served from /static/vendor/).
// No inline script anywhere: the page's Content-Security-Policy allows only files from 'self'.
(function () {
  "use strict";
  var marker = document.querySelector("[data-dashboard]");
  if (!marker) { return; }
  var language = marker.getAttribute("data-dashboard");
  var refreshSeconds = parseInt(marker.getAttribute("data-refresh"), 10) || 15;
  var COLORS = ["#1d70b8", "#00703c", "#d4351c", "#6f72af", "#b58840", "#28a197"];
  var charts = {};

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

  function chartConfig(spec) {
    var horizontal = !!spec.horizontal;
    return {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set, index) {
          return {
            label: set.label,
            data: set.data,
            backgroundColor: COLORS[index % COLORS.length],
            borderColor: COLORS[index % COLORS.length],
            borderWidth: 2,
            tension: 0.2
          };
        })
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: language === "de" ? "de-DE" : "en-GB",
        scales: {
          x: { stacked: !!spec.stacked, beginAtZero: true },
          y: { stacked: !!spec.stacked, beginAtZero: true }
        },
        plugins: { legend: { position: "bottom" } }
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
