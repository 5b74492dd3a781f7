// File controls in Vietnamese: the browser's own button says "Choose File" / "No file chosen" in its language.
// Each <input type=file> is wrapped in a label showing "Chọn tệp…" as a button and the chosen file's name; the
// input stays in the page (visually hidden, still focusable and labelled) so keyboards and screen readers use it.
(function () {
  function enhance(input) {
    if (input.dataset.enhanced) return;
    input.dataset.enhanced = "1";
    var body = document.body;
    var wrapper = document.createElement("label");
    wrapper.className = "file-control";
    var button = document.createElement("span");
    button.className = "button";
    button.setAttribute("aria-hidden", "true");
    button.textContent = body.getAttribute("data-choose-file") || "Chọn tệp…";
    var name = document.createElement("span");
    name.className = "file-name";
    name.setAttribute("aria-live", "polite");
    name.textContent = body.getAttribute("data-no-file") || "Chưa chọn tệp";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    wrapper.appendChild(button);
    wrapper.appendChild(name);
    input.addEventListener("change", function () {
      var names = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
      name.textContent = names.length ? names.join(", ") : body.getAttribute("data-no-file") || "Chưa chọn tệp";
    });
  }
  function enhanceAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("input[type=file]"), enhance);
  }
  document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  // Workspace rows are replaced by htmx after a save: their upload controls come back plain.
  document.addEventListener("htmx:load", function (event) { enhanceAll(event.detail.elt.parentNode || document); });
})();
