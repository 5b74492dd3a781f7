// The plan-item form: "Thêm dòng vốn" adds a funding line (a copy of the formset's empty form, numbered, with
// TOTAL_FORMS raised), and the indicator list offers only the chosen criterion's indicators. Without this script
// the form still works: it has three empty lines after each save, and the server checks the indicator's criterion.
(function () {
  function setUpFundingLines() {
    var lines = document.getElementById("funding-lines");
    var template = document.getElementById("funding-line-template");
    var button = document.getElementById("add-funding-line");
    if (!lines || !template || !button) {
      return;
    }
    var prefix = lines.dataset.prefix;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    button.hidden = false;
    document.querySelectorAll(".no-js-hint").forEach(function (hint) {
      hint.hidden = true;
    });
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var line = holder.firstElementChild;
      lines.appendChild(line);
      total.value = String(index + 1);
      var first = line.querySelector("select, input");
      if (first) {
        first.focus();
      }
    });
  }

  function setUpIndicatorFilter() {
    var criterion = document.getElementById("id_criterion");
    var indicator = document.getElementById("id_indicator");
    if (!criterion || !indicator) {
      return;
    }
    // Every option, kept aside: options are rebuilt rather than hidden (hidden options stay selectable in some
    // browsers).
    var all = Array.prototype.slice.call(indicator.options).map(function (option) {
      return option.cloneNode(true);
    });

    function offer() {
      var chosen = criterion.value;
      var current = indicator.value;
      indicator.innerHTML = "";
      all.forEach(function (option) {
        var belongs = !option.value || !chosen || option.dataset.criterion === chosen;
        if (belongs) {
          var copy = option.cloneNode(true);
          copy.selected = copy.value === current;
          indicator.appendChild(copy);
        }
      });
      if (indicator.value !== current) {
        indicator.value = "";
      }
    }

    criterion.addEventListener("change", offer);
    offer();
  }

  function setUp() {
    setUpFundingLines();
    setUpIndicatorFilter();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
