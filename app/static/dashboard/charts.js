// The dashboard's two bar charts (Chart.js, served from /static/vendor/chartjs/): emails sent per
// hour over the last 48 hours and per day over the last 30 days, from the page's #chart-data JSON.
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
      return;
    }
    new Chart(canvas, {
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

  bars("chart-hours", data.hours, "Emails sent");
  bars("chart-days", data.days, "Emails sent");
})();
