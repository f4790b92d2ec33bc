// Long actions (saving, testing, sending, importing): the submit button pressed shows the label in its
// data-busy-label ("Saving…") and is disabled, so it cannot be pressed twice while the server works.
// A page's own script that handles a submission itself uses window.busyButtons.start and .stop.
(function () {
  const label = (button) => (button.tagName === "INPUT" ? button.value : button.textContent);

  function setLabel(button, text) {
    if (button.tagName === "INPUT") {
      button.value = text;
    } else {
      button.textContent = text;
    }
  }

  function start(button) {
    button.dataset.idleLabel = label(button);
    setLabel(button, button.dataset.busyLabel);
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }

  function stop(button) {
    if (button.dataset.idleLabel !== undefined) {
      setLabel(button, button.dataset.idleLabel);
      delete button.dataset.idleLabel;
    }
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }

  document.addEventListener("submit", function (event) {
    const button = event.submitter;
    if (event.defaultPrevented || !button || button.dataset.busyLabel === undefined) {
      return;
    }
    // After the browser has taken the form's values: a disabled button's name would not be sent.
    setTimeout(() => start(button), 0);
  });

  // Back to a page kept in the browser's memory: its buttons work again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("[aria-busy=true]").forEach(stop);
    }
  });

  window.busyButtons = { start, stop };
})();
