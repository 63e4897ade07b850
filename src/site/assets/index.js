// The script of the catalog's index (hier docs): the search filters the list of images (and
// dims the picture's other nodes) as the user types. Every word must match; a plain word
// matches the name, kind, provides or owner; `name:`, `kind:`, `provides:` or `owner:` narrows
// it to one. A picture wider than its box first shows its first base in the middle, and can be
// made smaller (down to the width of its box) or larger again.
"use strict";
(function () {
  const input = document.getElementById("search");
  const shown = document.getElementById("shown");
  const none = document.getElementById("none");
  const rows = Array.from(document.querySelectorAll("#images tbody tr"));
  const nodes = Array.from(document.querySelectorAll("svg.hierarchy .node"));
  const fields = ["name", "kind", "provides", "owner"];
  const picture = document.querySelector(".picture");
  const first = document.querySelector("svg.hierarchy .node rect");
  if (picture && first && picture.scrollWidth > picture.clientWidth) {
    const box = first.getBoundingClientRect();
    const frame = picture.getBoundingClientRect();
    picture.scrollLeft += box.left + box.width / 2 - frame.left - picture.clientWidth / 2;
  }
  const svg = document.querySelector("svg.hierarchy");
  const zoom = document.querySelector(".zoom");
  if (picture && svg && zoom && picture.scrollWidth > picture.clientWidth) {
    const natural = svg.width.baseVal.value;
    const fit = Math.min(1, (picture.clientWidth - 2) / natural);
    let scale = 1;
    const set = function (next) {
      scale = Math.max(fit, Math.min(1, next));
      svg.setAttribute("width", String(Math.round(natural * scale)));
      svg.removeAttribute("height");
    };
    zoom.hidden = false;
    zoom.addEventListener("click", function (e) {
      const how = e.target.dataset ? e.target.dataset.zoom : null;
      if (how === "out") set(scale / 1.5);
      if (how === "in") set(scale * 1.5);
      if (how === "fit") set(fit);
    });
  }
  if (!input) return;

  function words(query) {
    return query.toLowerCase().split(/\s+/).filter(Boolean).map(function (word) {
      const colon = word.indexOf(":");
      const field = word.slice(0, colon);
      if (colon > 0 && fields.indexOf(field) >= 0) {
        return { fields: [field], text: word.slice(colon + 1) };
      }
      return { fields: fields, text: word };
    });
  }

  function matches(row, wanted) {
    return wanted.every(function (w) {
      return w.fields.some(function (f) {
        return (row.dataset[f] || "").toLowerCase().indexOf(w.text) >= 0;
      });
    });
  }

  function filter() {
    const wanted = words(input.value);
    const kept = new Set();
    rows.forEach(function (row) {
      const keep = matches(row, wanted);
      row.hidden = !keep;
      if (keep) kept.add(row.dataset.name);
    });
    nodes.forEach(function (node) {
      node.classList.toggle("dim", !kept.has(node.dataset.name));
    });
    shown.textContent = kept.size + " of " + rows.length + " images";
    none.hidden = kept.size > 0;
  }

  input.addEventListener("input", filter);
  input.form.addEventListener("submit", function (e) { e.preventDefault(); });
  const initial = new URLSearchParams(window.location.search).get("q");
  if (initial) input.value = initial;
  filter();
})();
