// Forms marked data-confirm="question" ask before they are sent, including forms a live page puts in
// place later (the campaign page's buttons): one listener on the document sees every submit.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
