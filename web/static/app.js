// govwatch portal: keyboard shortcuts and small conveniences (our own script; pages work without it).
(function () {
  "use strict";
  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "TEXTAREA" || (tag === "INPUT" && target.type !== "checkbox" && target.type !== "radio") || target.isContentEditable;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr.row[data-href]"));
    var current = -1;
    function select(i) {
      if (!rows.length) return;
      if (current >= 0) rows[current].classList.remove("selected");
      current = Math.max(0, Math.min(rows.length - 1, i));
      rows[current].classList.add("selected");
      rows[current].scrollIntoView({ block: "nearest" });
    }
    rows.forEach(function (row) {
      row.addEventListener("click", function (event) {
        if (event.target.closest("a, input, button, select, label")) return;
        window.location.href = row.getAttribute("data-href");
      });
    });
    var all = document.querySelector("[data-select-all]");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll("input[name=finding]").forEach(function (box) { box.checked = all.checked; });
      });
    }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      var key = event.key;
      if (rows.length && (key === "j" || key === "k")) { select(current + (key === "j" ? 1 : -1)); event.preventDefault(); return; }
      if (rows.length && key === "Enter" && current >= 0) { window.location.href = rows[current].getAttribute("data-href"); return; }
      var form = document.querySelector("form.decision[data-key='" + key + "']");
      if (form) { event.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.submit(); return; }
      if (key === "u") {
        var undo = document.getElementById("undo-form");
        if (undo) { event.preventDefault(); undo.submit(); }
      }
    });
  });
})();
