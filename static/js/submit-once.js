// A plain POST form sends one request: once submitted, its submit buttons are disabled and it is marked busy,
// so a double click does not send it twice (the server also refuses a creation form sent twice).
// htmx forms are left to htmx (it cancels their native submit first). Buttons come back when the page is
// shown again from the back/forward cache, or after a while if the page stayed (e.g. a file download).
(function () {
  var RESTORE_AFTER_MS = 15000;

  function buttons(form) {
    return form.querySelectorAll('button:not([type="button"]):not([type="reset"]), input[type="submit"]');
  }

  function release(form) {
    delete form.dataset.submitting;
    form.removeAttribute("aria-busy");
    buttons(form).forEach(function (button) {
      if (button.dataset.submitOnce === "disabled") {
        button.disabled = false;
        delete button.dataset.submitOnce;
      }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.getAttribute("method") || "get").toLowerCase() !== "post") {
      return;
    }
    if (form.matches("[hx-post], [hx-put], [hx-patch], [hx-delete], [hx-get]") || form.closest("[hx-boost]")) {
      return;
    }
    if (form.dataset.submitting) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    form.setAttribute("aria-busy", "true");
    // Later, not now: a disabled button would drop its own name/value from the request being built.
    setTimeout(function () {
      buttons(form).forEach(function (button) {
        if (!button.disabled) {
          button.disabled = true;
          button.dataset.submitOnce = "disabled";
        }
      });
    }, 0);
    setTimeout(function () {
      release(form);
    }, RESTORE_AFTER_MS);
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-submitting]").forEach(release);
    }
  });
})();
