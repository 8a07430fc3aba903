// Show conditional fields (schema show_if) only when their condition holds. Without
// JavaScript every field stays visible and the server ignores the ones not in play.
(function () {
  "use strict";
  function values(name) {
    var out = [];
    document.querySelectorAll('[name="' + name + '"]').forEach(function (el) {
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      out.push(el.value);
    });
    return out;
  }
  function update() {
    document.querySelectorAll("[data-show-if]").forEach(function (box) {
      var want = box.getAttribute("data-show-values").split("|");
      var have = values(box.getAttribute("data-show-if"));
      var on = have.some(function (v) { return want.indexOf(v) >= 0; });
      box.hidden = !on;
    });
  }
  document.addEventListener("change", update);
  document.addEventListener("DOMContentLoaded", update);
  update();
})();
