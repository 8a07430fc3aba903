// The document picker of a case file's "归入已发文书" form: as the clerk types a number (any
// bracket style) or words of a title, list the matching documents the clerk may read (from
// /documents/lookup) and fill the field with the chosen number. Without JavaScript the plain
// text field still works: the server accepts any bracket style.
(function () {
  "use strict";
  var input = document.querySelector("input[data-lookup]");
  var list = document.getElementById("document-picker");
  if (!input || !list || !window.fetch) return;
  var timer = null;
  var asked = "";

  function clear() {
    list.textContent = "";
    list.hidden = true;
  }

  function choose(doc) {
    input.value = doc.number;
    clear();
    input.focus();
  }

  function show(docs) {
    list.textContent = "";
    if (!docs.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "没有匹配的文书";
      list.appendChild(none);
    }
    docs.forEach(function (doc) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("role", "option");
      button.setAttribute("data-number", doc.number);
      button.className = "picker-option";
      button.textContent = doc.number + "　" + doc.title + "（" + doc.unit + "，" + doc.issue_date + "）";
      button.addEventListener("click", function () { choose(doc); });
      item.appendChild(button);
      list.appendChild(item);
    });
    list.hidden = false;
  }

  function ask() {
    var q = input.value.trim();
    if (q === asked) return;
    asked = q;
    if (!q) { clear(); return; }
    var url = input.getAttribute("data-lookup") + "?q=" + encodeURIComponent(q);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (docs) { if (q === asked) show(docs); })
      .catch(clear);
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Escape") clear();
    if (e.key === "ArrowDown" && !list.hidden) {
      var first = list.querySelector("button");
      if (first) { e.preventDefault(); first.focus(); }
    }
  });
})();
