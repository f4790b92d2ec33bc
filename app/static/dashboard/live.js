// Live figures: while the page's data-in-flight is "true", fetch its data-stats-url every few
// seconds and put what the server rendered in place: numbers ([data-figure]), progress bars
// ([data-campaign-progress]), status badges ([data-campaign-status]) and other parts
// ([data-live-html]: buttons, cooldowns, ...); then tell the page's other scripts (the charts) with a
// "live:stats" event. The campaigns the page lists are named in ?shown=, so one that finishes is shown
// finished. When nothing is in flight but a campaign is scheduled, data-starts-in says in how many
// seconds it is due: the page looks again then (at least once a minute, in case it was rescheduled).
// Polling stops when the server says nothing is in flight and nothing is scheduled, or when the user is
// logged out (the stats URL sends to the log-in page); a server error or a busy server only delays it.
(function () {
  "use strict";
  const POLL_MS = 3000;
  const WAIT_MAX_MS = 60000;
  const RETRY_MS = 10000;
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
    root.dataset.startsIn = stats.starts_in === null ? "" : String(stats.starts_in);
    const state = document.getElementById("live-state");
    if (state) {
      if (stats.in_flight) {
        state.textContent = "Refreshing every few seconds while emails are going out.";
      } else if (stats.starts_in !== null) {
        state.textContent = "Nothing is going out now: this page follows the next campaign when it starts.";
      } else {
        state.textContent = "Nothing is going out now.";
      }
    }
    document.dispatchEvent(new CustomEvent("live:stats", { detail: stats }));
  }

  async function poll() {
    try {
      const response = await fetch(statsUrl(), { headers: { Accept: "application/json" } });
      if (response.status >= 500 || response.status === 429) {
        window.setTimeout(poll, RETRY_MS); // a proxy restarting, a deploy, a busy server: later
        return;
      }
      if (!response.ok || response.redirected) {
        return; // logged out or refused: nothing to follow
      }
      apply(await response.json());
    } catch (error) {
      // a dropped connection: try again at the next tick
    }
    follow();
  }

  // When to look again, in milliseconds, or null for never.
  function nextPoll() {
    if (root.dataset.inFlight === "true") {
      return POLL_MS;
    }
    const startsIn = Number.parseFloat(root.dataset.startsIn);
    if (Number.isFinite(startsIn)) {
      return Math.min(Math.max(startsIn * 1000, POLL_MS), WAIT_MAX_MS);
    }
    return null;
  }

  function follow() {
    const delay = nextPoll();
    if (delay !== null) {
      window.setTimeout(poll, delay);
    }
  }

  follow();
})();
