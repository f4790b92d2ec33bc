// The provider picker on the settings page: copies the chosen preset into the SMTP form and shows
// the provider's published sending limit. The presets themselves are data in the page. A page shown
// again with a provider chosen (after a test without JavaScript, or a refused save) shows its note.
(function () {
  const picker = document.getElementById("preset");
  const note = document.getElementById("preset-note");
  const presets = JSON.parse(document.getElementById("smtp-presets").textContent);

  function showNote() {
    const preset = presets[picker.value];
    note.textContent = preset ? preset.note : "";
    return preset;
  }

  picker.addEventListener("change", function () {
    const preset = showNote();
    if (!preset) {
      return;
    }
    for (const [name, value] of Object.entries(preset.fields)) {
      if (value !== null) {
        document.getElementById(name).value = value;
      }
    }
  });
  showNote();
})();
