// Names for the editor toolbar's controls, read by screen readers and shown as tooltips. Quill draws
// its buttons as bare icons named after the format ("list: ordered") and its drop-down pickers with no
// name at all; runs after compose.js has built the toolbar. A control not in the table is named after
// its format, so a button added later is never silent.
(function () {
  "use strict";
  const NAMES = {
    bold: "Bold",
    italic: "Italic",
    underline: "Underline",
    strike: "Strikethrough",
    link: "Link",
    image: "Image",
    blockquote: "Quote",
    "code-block": "Code block",
    clean: "Remove formatting",
    header: "Heading",
    size: "Text size",
    font: "Font",
    color: "Text colour",
    background: "Highlight colour",
    align: "Alignment",
    "list:ordered": "Numbered list",
    "list:bullet": "Bulleted list",
    "list:check": "Checklist",
    "indent:-1": "Decrease indent",
    "indent:+1": "Increase indent",
    "align:center": "Align centre",
    "align:right": "Align right",
    "align:justify": "Justify",
    "script:sub": "Subscript",
    "script:super": "Superscript",
  };
  const HEADINGS = { 1: "Heading 1", 2: "Heading 2", 3: "Heading 3", 4: "Heading 4", 5: "Heading 5", 6: "Heading 6" };

  function formatOf(element) {
    const name = [...element.classList].find((css) => css.startsWith("ql-") && css !== "ql-picker");
    return name ? name.slice(3) : "";
  }

  function nameOf(format, value) {
    const name = NAMES[value ? `${format}:${value}` : format];
    if (name) {
      return name;
    }
    const words = format.replaceAll("-", " ");
    return words.charAt(0).toUpperCase() + words.slice(1) + (value ? ` ${value}` : "");
  }

  function label(element, name) {
    element.setAttribute("aria-label", name);
    element.setAttribute("title", name);
  }

  function itemName(format, value) {
    if (format === "header") {
      return value ? HEADINGS[value] || `Heading ${value}` : "Normal text";
    }
    if (format === "align") {
      return value ? nameOf(format, value) : "Align left";
    }
    return value || "Default";
  }

  for (const toolbar of document.querySelectorAll(".ql-toolbar")) {
    toolbar.setAttribute("aria-label", "Formatting");
    for (const button of toolbar.querySelectorAll("button")) {
      label(button, nameOf(formatOf(button), button.value));
    }
    for (const picker of toolbar.querySelectorAll(".ql-picker")) {
      const format = formatOf(picker);
      for (const pickerLabel of picker.querySelectorAll(".ql-picker-label")) {
        label(pickerLabel, nameOf(format, ""));
      }
      for (const item of picker.querySelectorAll(".ql-picker-item")) {
        label(item, itemName(format, item.dataset.value));
      }
    }
  }
})();
