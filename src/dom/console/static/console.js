// dom console: link the map's markers, the linked table's rows and the details panel. No framework.
"use strict";

(function () {
  const table = document.querySelector("table.linked");
  const details = document.getElementById("details");
  if (!table || !details) {
    return;
  }
  const headers = Array.from(table.tHead.rows[0].cells, (cell) => cell.textContent.trim());
  const rows = new Map(
    Array.from(table.tBodies[0].rows, (row) => [row.dataset.node, row]).filter(([id]) => id)
  );
  const markers = new Map(
    Array.from(document.querySelectorAll(".marker"), (marker) => [marker.dataset.node, marker])
  );

  function show(id) {
    const row = rows.get(id);
    if (!row || row.classList.contains("selected")) {
      return;
    }
    for (const element of document.querySelectorAll(".selected")) {
      element.classList.remove("selected");
    }
    row.classList.add("selected");
    const marker = markers.get(id);
    if (marker) {
      marker.classList.add("selected");
      marker.parentNode.appendChild(marker); // draw the chosen marker on top
    }
    const list = details.querySelector("dl");
    list.replaceChildren();
    Array.from(row.cells).forEach((cell, index) => {
      const term = document.createElement("dt");
      term.textContent = headers[index];
      const value = document.createElement("dd");
      value.textContent = cell.textContent.replace(/\s+/g, " ").trim();
      list.append(term, value);
    });
    list.hidden = false;
    details.querySelector(".placeholder").hidden = true;
  }

  function nodeOf(event, selector) {
    const target = event.target.closest(selector);
    return target ? target.dataset.node : undefined;
  }

  const map = document.getElementById("map");
  for (const [area, selector] of [[map, ".marker"], [table, "tbody tr"]]) {
    area.addEventListener("click", (event) => show(nodeOf(event, selector)));
    area.addEventListener("mouseover", (event) => show(nodeOf(event, selector)));
    area.addEventListener("focusin", (event) => show(nodeOf(event, selector)));
  }

  const filter = document.querySelector(".filter select");
  if (filter) {
    filter.addEventListener("change", () => filter.form.submit());
  }
})();
