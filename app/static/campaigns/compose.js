// The compose page's editor. The HTML textarea (#html_body) is the source of truth: Quill edits a
// copy of it and writes its own HTML back only when the user types in it, so HTML written in the
// source view is kept as it is until then. The merge-field picker inserts {{ key }} where the cursor
// was last: in the subject, the HTML source, the plain text or the visual editor.
(function () {
  "use strict";
  const source = document.getElementById("html_body");
  const wrap = document.getElementById("editor-wrap");
  const toggle = document.getElementById("toggle-source");
  const textBody = document.getElementById("text_body");
  const textEdited = document.getElementById("text_edited");
  if (!source || !wrap || !window.Quill) {
    return;
  }

  // Mail readers know no Quill classes: alignment is written as a style, as colours already are.
  window.Quill.register(window.Quill.import("attributors/style/align"), true);

  function insertImageByAddress() {
    const answer = window.prompt("Address (URL) of the image, starting with https://");
    if (answer === null) {
      return;
    }
    const address = answer.trim();
    // https only: mail readers and this app's pages (its Content-Security-Policy) load no http images.
    if (!/^https:\/\/\S+$/i.test(address)) {
      window.alert("The image was not added: its address must start with https://.");
      return;
    }
    const range = this.quill.getSelection(true);
    this.quill.insertEmbed(range.index, "image", address, "user");
    this.quill.setSelection(range.index + 1, 0, "user");
  }

  // Quill copies the <select>'s label to the picker but not to the button that opens it, and gives
  // its items none: name them, for screen readers and for tests.
  function labelPickers() {
    const names = {
      "": "Default",
      1: "Heading 1",
      2: "Heading 2",
      3: "Heading 3",
      center: "Centre",
      right: "Right",
      justify: "Justify",
    };
    for (const picker of document.querySelectorAll("#editor-toolbar .ql-picker")) {
      const opener = picker.querySelector(".ql-picker-label");
      opener.setAttribute("aria-label", picker.getAttribute("aria-label"));
      for (const item of picker.querySelectorAll(".ql-picker-item")) {
        const value = item.dataset.value || "";
        const name = picker.classList.contains("ql-align") && value === "" ? "Left" : names[value];
        item.setAttribute("aria-label", name || value);
      }
    }
  }

  function refuseImageFile() {
    window.alert("Images are added by their address (URL): use the image button of the toolbar.");
  }

  const quill = new window.Quill("#editor", {
    theme: "snow",
    modules: {
      toolbar: { container: "#editor-toolbar", handlers: { image: insertImageByAddress } },
      // A dropped or pasted image file would be embedded as base64 data, which many readers block.
      uploader: { handler: refuseImageFile },
    },
  });
  quill.root.classList.add("email-body");
  labelPickers();

  let showingSource = false;
  let target = null; // the plain field last focused, or null for the visual editor

  function loadEditor() {
    quill.setContents([], "api");
    quill.clipboard.dangerouslyPasteHTML(source.value, "api");
  }

  function editorHTML() {
    if (quill.getText().trim() === "" && !quill.root.querySelector("img")) {
      return "";
    }
    // getSemanticHTML writes every space as &nbsp;, which would break {{ name }}: undo that.
    return unescapeTags(quill.getSemanticHTML().replaceAll("&nbsp;", " "));
  }

  // It also escapes quotes and &, <, > in the text, so that {{ company | default('there') }} would reach
  // the template as default(&#39;there&#39;), a syntax error: inside {{ … }} and {% … %} they are Jinja's.
  function unescapeTags(html) {
    const entities = { "&#39;": "'", "&quot;": '"', "&lt;": "<", "&gt;": ">", "&amp;": "&" };
    return html.replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g, (tag) =>
      tag.replace(/&#39;|&quot;|&lt;|&gt;|&amp;/g, (entity) => entities[entity]),
    );
  }

  function showSource(show) {
    showingSource = show;
    if (!show) {
      loadEditor();
    }
    source.classList.toggle("d-none", !show);
    wrap.classList.toggle("d-none", show);
    toggle.setAttribute("aria-pressed", String(show));
    toggle.textContent = show ? "Visual editor" : "HTML source";
    target = show ? source : null;
  }

  function insertIntoField(field, text) {
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? start;
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.focus();
    field.setSelectionRange(start + text.length, start + text.length);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  quill.on("text-change", function (delta, oldContents, origin) {
    if (origin === "user") {
      source.value = editorHTML();
    }
  });
  quill.on("selection-change", function (range) {
    if (range) {
      target = null;
    }
  });
  for (const field of document.querySelectorAll("[data-merge-target]")) {
    field.addEventListener("focus", function () {
      target = field;
    });
  }
  if (textBody && textEdited) {
    textBody.addEventListener("input", function () {
      textEdited.checked = true;
    });
  }
  for (const button of document.querySelectorAll("[data-merge-field]")) {
    button.addEventListener("click", function () {
      const text = "{{ " + button.dataset.mergeField + " }}";
      if (target) {
        insertIntoField(target, text);
        return;
      }
      const range = quill.getSelection(true);
      quill.insertText(range.index, text, "user");
      quill.setSelection(range.index + text.length, 0, "user");
    });
  }
  toggle.addEventListener("click", function () {
    showSource(!showingSource);
  });

  toggle.classList.remove("d-none");
  showSource(false);
})();
