// Sign-up: preselect the browser's own time zone in the select marked data-browser-timezone, when the
// list offers it; otherwise the server's default stays selected.
(function () {
  const select = document.querySelector("select[data-browser-timezone]");
  const zone = select && Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && Array.from(select.options).some((option) => option.value === zone)) {
    select.value = zone;
  }
})();
