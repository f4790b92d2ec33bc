// Live figures: while the page's data-in-flight is "true", fetch its data-stats-url every few
// seconds and put the new numbers ([data-figure]) and progress bars ([data-campaign-progress],
// rendered by the server) in place; stop as soon as the server says nothing is in flight.
(function () {
  "use strict";
  const POLL_MS = 3000;
  const root = document.querySelector("[data-stats-url]");
  if (!root) {
    return;
  }
  const numbers = new Intl.NumberFormat("en-US");

  function apply(stats) {
    for (const [name, value] of Object.entries(stats.figures || {})) {
      for (const element of document.querySelectorAll(`[data-figure="${name}"]`)) {
        element.textContent = numbers.format(value);
      }
    }
    for (const [id, html] of Object.entries(stats.campaigns || {})) {
      for (const element of document.querySelectorAll(`[data-campaign-progress="${id}"]`)) {
        element.innerHTML = html;
      }
    }
    root.dataset.inFlight = stats.in_flight ? "true" : "false";
    const state = document.getElementById("live-state");
    if (state && !stats.in_flight) {
      state.textContent = "Nothing is going out now.";
    }
  }

  async function poll() {
    try {
      const response = await fetch(root.dataset.statsUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) {
        return; // logged out or a server error: stop rather than hammer the server
      }
      apply(await response.json());
    } catch (error) {
      // a dropped connection: try again at the next tick
    }
    if (root.dataset.inFlight === "true") {
      window.setTimeout(poll, POLL_MS);
    }
  }

  if (root.dataset.inFlight === "true") {
    window.setTimeout(poll, POLL_MS);
  }
})();
