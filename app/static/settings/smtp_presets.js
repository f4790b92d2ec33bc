// The provider picker on the settings page: copies the chosen preset into the SMTP form and shows
// the provider's published sending limit. The presets themselves are data in the page.
(function () {
  const picker = document.getElementById("preset");
  const note = document.getElementById("preset-note");
  const presets = JSON.parse(document.getElementById("smtp-presets").textContent);

  picker.addEventListener("change", function () {
    const preset = presets[picker.value];
    note.textContent = preset ? preset.note : "";
    if (!preset) {
      return;
    }
    for (const [name, value] of Object.entries(preset.fields)) {
      if (value !== null) {
        document.getElementById(name).value = value;
      }
    }
  });
})();
