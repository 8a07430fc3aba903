// The draft form, made quicker where JavaScript runs; without it every part still works
// through the server (app/web/forms.py):
// - conditional fields (schema show_if) are shown only when their condition holds;
// - repeating rows are added, removed and moved in place: the buttons marked
//   data-row-action="add|remove|up|down" inside a data-rows list would otherwise submit the
//   form; rows are renumbered (name.0.sub, name.1.sub, ...) so the server reads them in order;
// - the error summary takes focus, and its links move focus to the field they name.
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

  function updateConditions() {
    document.querySelectorAll("[data-show-if]").forEach(function (box) {
      var want = box.getAttribute("data-show-values").split("|");
      var have = values(box.getAttribute("data-show-if"));
      box.hidden = !have.some(function (v) { return want.indexOf(v) >= 0; });
    });
  }

  function rowsOf(list) {
    return Array.prototype.filter.call(list.children, function (el) {
      return el.hasAttribute("data-row");
    });
  }

  // Give every row of `list` its position: names, ids, label targets, button values and
  // labels all carry the row's index, as the server renders them.
  function renumber(list) {
    var name = list.getAttribute("data-rows");
    var pattern = new RegExp("^" + name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "\\.(\\d+|__i__)");
    rowsOf(list).forEach(function (row, i) {
      var prefix = name + "." + i;
      row.querySelectorAll("[name], [id], [for], button[value]").forEach(function (el) {
        ["name", "id", "for", "value"].forEach(function (attr) {
          if (attr === "value" && el.tagName !== "BUTTON") return; // what was typed stays
          var v = el.getAttribute(attr);
          if (v && pattern.test(v)) el.setAttribute(attr, v.replace(pattern, prefix));
        });
      });
      var no = row.querySelector("[data-row-no]");
      if (no) no.textContent = (i + 1) + ".";
      row.querySelectorAll("button[data-row-action]").forEach(function (b) {
        b.setAttribute("aria-label", b.textContent.trim() + "第" + (i + 1) + "项");
      });
    });
  }

  function firstInput(row) {
    return row && row.querySelector("input, select, textarea");
  }

  function rowAction(button) {
    var list = button.closest("[data-rows]");
    var action = button.getAttribute("data-row-action");
    var row = button.closest("[data-row]");
    var focus = null;
    if (action === "add") {
      var template = list.querySelector("template[data-row-template]");
      var fresh = template.content.firstElementChild.cloneNode(true);
      list.insertBefore(fresh, template);
      focus = firstInput(fresh);
    } else if (action === "remove") {
      var rows = rowsOf(list);
      var next = rows[rows.indexOf(row) + 1] || rows[rows.indexOf(row) - 1];
      row.remove();
      focus = firstInput(next) || list.querySelector('[data-row-action="add"]');
    } else if (action === "up" && row.previousElementSibling && row.previousElementSibling.hasAttribute("data-row")) {
      list.insertBefore(row, row.previousElementSibling);
      focus = button;
    } else if (action === "down" && row.nextElementSibling && row.nextElementSibling.hasAttribute("data-row")) {
      list.insertBefore(row.nextElementSibling, row);
      focus = button;
    }
    renumber(list);
    if (focus) focus.focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-rows] button[data-row-action]");
    if (button) {
      event.preventDefault();
      rowAction(button);
      return;
    }
    var link = event.target.closest("[data-error-summary] a[href^='#'], [data-progress] a[href^='#']");
    if (link && focusField(decodeURIComponent(link.getAttribute("href").slice(1)))) {
      event.preventDefault();
    }
  });

  // Move focus (not only the view) to the field named `id`: its input, or the first input
  // inside it (a list, a group of checkboxes).
  function focusField(id) {
    var target = id && document.getElementById(id);
    if (!target) return false;
    var field = target.matches("input, select, textarea") ? target : firstInput(target) || target;
    target.scrollIntoView({block: "center"});
    field.focus();
    return true;
  }
  document.addEventListener("change", updateConditions);

  function start() {
    updateConditions();
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    } else if (location.hash) { // a missing field linked from the draft page
      focusField(decodeURIComponent(location.hash.slice(1)));
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
