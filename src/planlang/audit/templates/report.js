"use strict";
(function () {
  // The search box: organisations and rules whose text holds every word typed stay shown.
  const box = document.getElementById("search");
  const count = document.getElementById("search-count");
  const items = Array.from(document.querySelectorAll("[data-search]"));
  function filter() {
    const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const item of items) {
      const text = item.dataset.search + " " + item.textContent.toLowerCase();
      const keep = words.every(function (w) { return text.includes(w); });
      item.hidden = !keep;
      if (keep) shown += 1;
    }
    count.textContent = words.length ? shown + " of " + items.length + " shown" : "";
  }
  box.addEventListener("input", filter);

  // A link to another figure opens it (and every section around it) and brings it into view.
  function reveal(id) {
    const target = document.getElementById(id);
    if (!target) return;
    for (let node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
      if (node.hidden) node.hidden = false;
    }
    document.querySelectorAll(".target").forEach(function (n) { n.classList.remove("target"); });
    target.classList.add("target");
    target.scrollIntoView({ block: "center" });
  }
  document.addEventListener("click", function (event) {
    const link = event.target.closest("a.link");
    if (!link) return;
    event.preventDefault();
    const id = link.getAttribute("href").slice(1);
    history.replaceState(null, "", "#" + id);
    reveal(id);
  });
  if (location.hash.length > 1) reveal(decodeURIComponent(location.hash.slice(1)));
})();
