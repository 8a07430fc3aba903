/* Narrow screens show each table row as a card (app.css): every cell is labelled with its
   column's header, taken from the table itself so a label never drifts from its column: the
   table's <thead>, or a row of <th> cells inside a <tbody> (the 发文稿纸's sections), which then
   stays hidden on a narrow screen. A cell that already has data-label keeps it. Without this
   script the cards still read, only without labels. */
(function () {
  "use strict";
  function headings(row) {
    var names = [];
    for (var i = 0; i < row.cells.length; i++) {
      var cell = row.cells[i];
      for (var k = 0; k < (cell.colSpan || 1); k++) { names.push(cell.textContent.trim()); }
    }
    return names;
  }
  function isHeadingRow(row) {
    if (row.cells.length < 2) { return false; }
    for (var i = 0; i < row.cells.length; i++) {
      if (row.cells[i].tagName !== "TH") { return false; }
    }
    return true;
  }
  function label(table) {
    var top = table.tHead && table.tHead.rows[0] ? headings(table.tHead.rows[0]) : [];
    for (var b = 0; b < table.tBodies.length; b++) {
      var names = top;
      var rows = table.tBodies[b].rows;
      for (var r = 0; r < rows.length; r++) {
        if (isHeadingRow(rows[r])) {
          names = headings(rows[r]);
          rows[r].className += " column-heads";
          continue;
        }
        var col = 0;
        for (var c = 0; c < rows[r].cells.length; c++) {
          var cell = rows[r].cells[c];
          var span = cell.colSpan || 1;
          if (cell.tagName === "TD" && !cell.hasAttribute("data-label") && names[col] &&
              span < names.length) {
            cell.setAttribute("data-label", names[col]);
          }
          col += span;
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
