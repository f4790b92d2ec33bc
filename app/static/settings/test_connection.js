// "Test connection" without leaving the page: the form is posted to the button's data-check-url
// (a JSON answer) and the outcome is shown under the buttons, so everything typed stays in place,
// password and provider included, and "Save" works right after. Without this script the button
// posts the form to its formaction and the page comes back with the values kept.
(function () {
  const form = document.getElementById("smtp-form");
  const button = form.querySelector("[data-check-url]");
  const result = document.getElementById("smtp-test-result");
  const UNREACHABLE = "The test could not be run: reload the page and try again.";

  function notice(kind, text) {
    const alert = document.createElement("div");
    alert.className = `alert alert-${kind} mt-2 mb-0`;
    alert.textContent = text;
    return alert;
  }

  function clearFieldErrors() {
    form.querySelectorAll("[data-test-feedback]").forEach((element) => element.remove());
    form.querySelectorAll(".is-invalid").forEach((element) => element.classList.remove("is-invalid"));
  }

  function markFields(errors) {
    for (const [name, messages] of Object.entries(errors)) {
      const input = form.elements.namedItem(name);
      if (!input) {
        continue;
      }
      input.classList.add("is-invalid");
      const feedback = document.createElement("div");
      feedback.className = "invalid-feedback";
      feedback.dataset.testFeedback = "";
      feedback.textContent = messages.join(" ");
      input.after(feedback);
    }
  }

  function show(answer) {
    clearFieldErrors();
    markFields(answer.errors);
    result.replaceChildren(
      notice(answer.ok ? "success" : "danger", answer.message),
      ...answer.warnings.map((warning) => notice("warning", warning)),
    );
  }

  async function check() {
    const response = await fetch(button.dataset.checkUrl, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
    if (!json) {
      throw new Error(`HTTP ${response.status}`);
    }
    return response.json();
  }

  form.addEventListener("submit", async function (event) {
    if (event.submitter !== button) {
      return;
    }
    event.preventDefault();
    if (button.disabled) {
      return;
    }
    window.busyButtons.start(button);
    result.replaceChildren();
    try {
      show(await check());
    } catch (error) {
      result.replaceChildren(notice("danger", UNREACHABLE));
    } finally {
      window.busyButtons.stop(button);
    }
  });
})();
