// htmx leaves 4xx responses unswapped; the workspace answers refused input (422) and a stale form (409)
// with the re-rendered indicator carrying its messages, so those must be shown in place.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status === 422 || status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
