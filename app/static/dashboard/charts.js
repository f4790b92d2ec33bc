// The dashboard's two bar charts (Chart.js, served from /static/vendor/chartjs/): emails sent per
// hour over the last 48 hours and per day over the last 30 days, from the page's #chart-data JSON,
// redrawn with the series of each live refresh (the "live:stats" event of live.js).
(function () {
  "use strict";
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);

  function bars(canvasId, series, label) {
    const canvas = document.getElementById(canvasId);
    if (!canvas) {
      return null;
    }
    return new Chart(canvas, {
      type: "bar",
      data: { labels: series.labels, datasets: [{ label: label, data: series.counts }] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  const charts = {
    hours: bars("chart-hours", data.hours, "Emails sent"),
    days: bars("chart-days", data.days, "Emails sent"),
  };

  document.addEventListener("live:stats", (event) => {
    for (const [name, series] of Object.entries(event.detail.charts || {})) {
      const chart = charts[name];
      if (chart) {
        chart.data.labels = series.labels;
        chart.data.datasets[0].data = series.counts;
        chart.update();
      }
    }
  });
})();
