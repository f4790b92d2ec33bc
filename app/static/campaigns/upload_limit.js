// The Recipients page: a file over the upload limit (data-max-bytes on the file input) is refused
// here, before a byte is sent, with the message in data-too-large; the server's 413 stays the backstop.
(function () {
  const input = document.querySelector("input[type=file][data-max-bytes]");
  if (!input) {
    return;
  }
  const limit = Number(input.dataset.maxBytes);
  const message = document.createElement("div");
  message.className = "invalid-feedback";
  message.id = input.id + "-too-large";
  message.textContent = input.dataset.tooLarge;

  function tooLarge() {
    return Array.from(input.files).some((file) => file.size > limit);
  }

  function show() {
    const refused = tooLarge();
    input.classList.toggle("is-invalid", refused);
    if (refused) {
      input.after(message);
      input.setAttribute("aria-describedby", message.id);
    } else {
      message.remove();
      input.removeAttribute("aria-describedby");
    }
  }

  input.addEventListener("change", show);
  input.form.addEventListener("submit", function (event) {
    if (tooLarge()) {
      event.preventDefault();
      show();
    }
  });
})();
