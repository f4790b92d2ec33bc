// Live figures: while the page's data-in-flight is "true", fetch its data-stats-url every few
// seconds and put what the server rendered in place: numbers ([data-figure]), progress bars
// ([data-campaign-progress]), status badges ([data-campaign-status]) and other parts
// ([data-live-html]); then tell the page's other scripts (the charts) with a "live:stats" event. The
// campaigns the page lists are named in ?shown=, so one that finishes is shown finished. Polling
// stops as soon as the server says nothing is in flight.
(function () {
  "use strict";
  const POLL_MS = 3000;
  const root = document.querySelector("[data-stats-url]");
  if (!root) {
    return;
  }
  const numbers = new Intl.NumberFormat("en-US");

  function statsUrl() {
    const shown = [...document.querySelectorAll("[data-campaign-progress]")].map(
      (element) => element.dataset.campaignProgress,
    );
    const url = new URL(root.dataset.statsUrl, window.location.href);
    if (shown.length) {
      url.searchParams.set("shown", shown.join(","));
    }
    return url;
  }

  function replace(selector, htmlById) {
    for (const [id, html] of Object.entries(htmlById || {})) {
      for (const element of document.querySelectorAll(`[${selector}="${id}"]`)) {
        element.innerHTML = html;
      }
    }
  }

  function apply(stats) {
    for (const [name, value] of Object.entries(stats.figures || {})) {
      for (const element of document.querySelectorAll(`[data-figure="${name}"]`)) {
        element.textContent = numbers.format(value);
      }
    }
    replace("data-campaign-progress", stats.campaigns);
    replace("data-campaign-status", stats.badges);
    replace("data-live-html", stats.html);
    root.dataset.inFlight = stats.in_flight ? "true" : "false";
    const state = document.getElementById("live-state");
    if (state && !stats.in_flight) {
      state.textContent = "Nothing is going out now.";
    }
    document.dispatchEvent(new CustomEvent("live:stats", { detail: stats }));
  }

  async function poll() {
    try {
      const response = await fetch(statsUrl(), { headers: { Accept: "application/json" } });
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
