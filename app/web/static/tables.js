/* Narrow screens show each table row as a card (app.css): every cell is labelled with its
   column's header, taken from the table itself so a label never drifts from its column.
   A cell that already has data-label keeps it. Without this script the cards still read,
   only without labels. */
(function () {
  "use strict";
  function label(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) { return; }
    var names = [];
    for (var i = 0; i < head.cells.length; i++) {
      var cell = head.cells[i];
      var span = cell.colSpan || 1;
      for (var k = 0; k < span; k++) { names.push(cell.textContent.trim()); }
    }
    for (var b = 0; b < table.tBodies.length; b++) {
      var rows = table.tBodies[b].rows;
      for (var r = 0; r < rows.length; r++) {
        var col = 0;
        for (var c = 0; c < rows[r].cells.length; c++) {
          var td = rows[r].cells[c];
          if (!td.hasAttribute("data-label") && names[col] && td.colSpan < names.length) {
            td.setAttribute("data-label", names[col]);
          }
          col += td.colSpan || 1;
        }
      }
    }
  }
  function run() {
    var tables = document.querySelectorAll("table.list");
    for (var t = 0; t < tables.length; t++) { label(tables[t]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
