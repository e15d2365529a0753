/* The work-order list: selection for bulk actions and keyboard navigation. */
(function () {
  "use strict";
  document.addEventListener("alpine:init", function () {
    window.Alpine.data("workspace", function () {
      return {
        count: 0,
        action: "assign",
        update: function () {
          this.count = this.$root.querySelectorAll("input[name=ids]:checked").length;
        },
        toggleAll: function (event) {
          this.$root.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = event.target.checked; });
          this.update();
        }
      };
    });
  });

  var current = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".kefu-tickets tbody tr[data-href]")); }
  function focusRow(index) {
    var list = rows();
    if (!list.length) { return; }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (row, i) { row.classList.toggle("kefu-row-focus", i === current); });
    list[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    var list = rows();
    if (!list.length) { return; }
    if (event.key === "j") { focusRow(current + 1); event.preventDefault(); }
    else if (event.key === "k") { focusRow(current - 1); event.preventDefault(); }
    else if ((event.key === "o" || event.key === "Enter") && current >= 0) { window.location = list[current].dataset.href; event.preventDefault(); }
    else if (event.key === "x" && current >= 0) {
      var box = list[current].querySelector("input[name=ids]");
      if (box) { box.click(); }
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    var row = event.target.closest ? event.target.closest(".kefu-tickets tbody tr[data-href]") : null;
    if (!row || event.target.closest("a, input, button, label")) { return; }
    window.location = row.dataset.href;
  });
})();
