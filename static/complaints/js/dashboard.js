// The dashboard's charts (Chart.js, vendored). The data comes from the page's
// json_script block "dashboard-charts": {key: {labels, datasets: [{label, data,
// links}], stacked, horizontal, percent}}. Clicking a bar or a point opens its link:
// the staff queue filtered to the complaints it counts. Each chart's data is also
// rendered by the server as a table under "Show as table" (a <details> element),
// with the same links, for keyboard and screen-reader users.
(function () {
  "use strict";

  const PALETTE = [
    "#0b69a3", "#f0b429", "#2f855a", "#c53030", "#6b46c1",
    "#dd6b20", "#319795", "#b83280", "#718096", "#2b6cb0",
  ];

  function showCustomDates(form) {
    const period = form.querySelector("select[name=period]");
    const custom = period && period.value === "custom";
    form.querySelectorAll("[data-custom-period]").forEach((el) => { el.hidden = !custom; });
  }

  function build(canvas, spec) {
    const line = canvas.dataset.type === "line";
    const datasets = spec.datasets.map((ds, i) => ({
      label: ds.label,
      data: ds.data,
      backgroundColor: PALETTE[i % PALETTE.length],
      borderColor: PALETTE[i % PALETTE.length],
      spanGaps: true,
      pointRadius: line ? 3 : undefined,
      pointHoverRadius: line ? 6 : undefined,
    }));
    // Counts are whole numbers: no 0.5 ticks.
    const valueAxis = { beginAtZero: true, stacked: Boolean(spec.stacked), ticks: { precision: 0 } };
    if (spec.percent) valueAxis.max = 100;
    const categoryAxis = { stacked: Boolean(spec.stacked) };
    return new window.Chart(canvas, {
      type: line ? "line" : "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: spec.horizontal ? "y" : "x",
        interaction: { mode: "nearest", intersect: true },
        scales: spec.horizontal
          ? { x: valueAxis, y: categoryAxis }
          : { x: categoryAxis, y: valueAxis },
        plugins: { legend: { display: datasets.length > 1 } },
        onClick: (event, elements) => {
          if (!elements.length) return;
          const hit = elements[0];
          const links = spec.datasets[hit.datasetIndex].links || [];
          if (links[hit.index]) window.location.assign(links[hit.index]);
        },
        onHover: (event, elements) => {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    // The monthly report's "Print" button (no inline handlers: CSP).
    document.querySelectorAll("[data-print]").forEach((button) => {
      button.addEventListener("click", () => window.print());
    });
    const form = document.getElementById("dashboard-filter");
    if (form) {
      showCustomDates(form);
      form.addEventListener("change", (event) => {
        if (event.target.name === "period") showCustomDates(form);
      });
    }
    const source = document.getElementById("dashboard-charts");
    if (!source || !window.Chart) return;
    const specs = JSON.parse(source.textContent);
    // Kept by key so that tests (and the console) can find a bar's position.
    window.dashboardCharts = {};
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const spec = specs[canvas.dataset.chart];
      if (spec) window.dashboardCharts[canvas.dataset.chart] = build(canvas, spec);
    });
  });
})();
