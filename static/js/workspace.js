// htmx leaves 4xx responses unswapped; the workspace answers refused input (422) and a stale form (409)
// with the re-rendered indicator carrying its messages, so those must be shown in place.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status === 422 || status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// After an inline save the row is replaced: focus stays on it (its first field, else the row) and the live
// region of base.html announces "Đã lưu" (its data-saved text) when the save went through.
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  if (!target || !target.id || target.id.indexOf("ind-") !== 0) return;
  var row = document.getElementById(target.id);
  if (!row) return;
  var invalid = row.querySelector("[aria-invalid=true]");
  var focusable = invalid || row.querySelector("summary");
  if (!focusable) {
    row.setAttribute("tabindex", "-1");
    focusable = row;
  }
  focusable.focus();
  var live = document.getElementById("thong-bao");
  if (live && event.detail.xhr.status === 200) {
    live.textContent = "";
    window.setTimeout(function () { live.textContent = live.getAttribute("data-saved"); }, 50);
  }
});
