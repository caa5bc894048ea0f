// The workbench page: edits build scenario text, the server answers the impact and the derivations.
// Plain JavaScript, no library; every value is put in the page as text (never as HTML).
"use strict";

(function () {
  const token = document.querySelector('meta[name="planlang-token"]').content;
  const scenario = document.getElementById("scenario");
  const DEFAULT = "scenario what_if\n";
  let pending = null;
  let asked = 0;

  function api(path, body) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(path, { method: "POST", headers: headers, body: JSON.stringify(body) })
      .then(function (response) {
        return response.json().then(function (json) { return { status: response.status, json: json }; });
      });
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function fill(id, rows, cells) {
    const body = document.querySelector("#" + id + " tbody");
    body.replaceChildren();
    rows.forEach(function (row) {
      const tr = el("tr");
      cells(row).forEach(function (cell) { tr.appendChild(cell); });
      body.appendChild(tr);
    });
  }

  function figure(text, change) {
    const td = el("td", text, "figure");
    if (change && change.charAt(0) === "+") td.classList.add("gain");
    if (change && change.charAt(0) === "-") td.classList.add("loss");
    return td;
  }

  // The scenario lives in the address (#scenario=...), so a copied link reopens it.
  function fromAddress() {
    const match = /(?:^|&)scenario=([^&]*)/.exec(location.hash.slice(1));
    return match ? decodeURIComponent(match[1]) : DEFAULT;
  }

  function toAddress(text) {
    const hash = "#scenario=" + encodeURIComponent(text);
    history.replaceState(null, "", location.pathname + location.search + hash);
    document.getElementById("share").href = location.href;
  }

  function showDiagnostics(json) {
    const list = document.getElementById("diagnostics");
    list.replaceChildren();
    if (!json) return;
    if (json.diagnostics && json.diagnostics.length) {
      json.diagnostics.forEach(function (d) { list.appendChild(el("li", d.text)); });
    } else {
      list.appendChild(el("li", json.error));
    }
  }

  function showImpact(json) {
    document.getElementById("reproduce").textContent = json.reproduce;
    const status = document.getElementById("status");
    status.textContent = json.scenario && json.scenario.sets.length
      ? json.changes_count + " figure(s) changed under " + json.scenario.name
      : "No setting yet: the figures are the baseline's.";
    fill("totals", json.totals, function (t) {
      return [el("td", t.name), el("td", t.covers ? t.period + ": " + t.covers : t.period),
              figure(t.baseline), figure(t.scenario), figure(t.change, t.change)];
    });
    fill("changes", json.changes, function (c) {
      const cell = figure(c.scenario);
      cell.classList.add("clickable");
      cell.title = "why?";
      cell.dataset.name = c.name;
      cell.dataset.entity = c.entity || "";
      cell.dataset.period = c.period || "";
      cell.addEventListener("click", function () { why(c.name, c.entity, c.period); });
      return [el("td", c.name), el("td", c.entity || ""), el("td", c.period || ""),
              figure(c.baseline), cell, figure(c.change, c.change)];
    });
    document.getElementById("changes-count").textContent =
      json.changes_count > json.changes.length ? "(the first " + json.changes.length + " of " + json.changes_count + ")" : "";
    fill("organisations", json.by_organisation, function (o) {
      return [el("td", o.name), el("td", o.entity), el("td", o.kind || ""), figure(o.change, o.change)];
    });
    const flags = document.getElementById("flags");
    flags.replaceChildren();
    json.flags_raised.forEach(function (f) { flags.appendChild(el("li", "raised: " + f.message)); });
    json.flags_cleared.forEach(function (f) { flags.appendChild(el("li", "cleared: " + f.message)); });
    if (!flags.children.length) flags.appendChild(el("li", "none raised or cleared"));
    const defaults = document.getElementById("defaults");
    defaults.replaceChildren();
    json.defaults.forEach(function (d) {
      defaults.appendChild(el("li", d.input + " = " + d.default + ": assumed for " + d.assumed + " of " + d.of));
    });
  }

  function update() {
    const text = scenario.value;
    toAddress(text);
    const mine = ++asked;
    api("/api/impact", { scenario: text }).then(function (answer) {
      if (mine !== asked) return; // a later edit has been sent
      if (answer.status === 200) {
        showDiagnostics(null);
        showImpact(answer.json);
      } else {
        showDiagnostics(answer.json);
        document.getElementById("status").textContent = "The scenario does not check: see the errors under it.";
      }
    }).catch(function (error) {
      document.getElementById("status").textContent = "The workbench did not answer: " + error;
    });
  }

  function soon() {
    clearTimeout(pending);
    pending = setTimeout(update, 250);
  }

  function why(name, entity, period) {
    const body = { scenario: scenario.value, name: name };
    if (entity) body.entity = entity;
    if (period) body.period = period;
    api("/api/explain", body).then(function (answer) {
      const section = document.getElementById("why");
      section.hidden = false;
      if (answer.status !== 200) {
        document.getElementById("why-title").textContent = answer.json.error;
        return;
      }
      const j = answer.json;
      document.getElementById("why-title").textContent =
        j.name + (j.entity ? " for " + j.entity : "") + (j.period ? " in " + j.period : "");
      document.getElementById("why-baseline-value").textContent = j.baseline.value;
      document.getElementById("why-scenario-value").textContent = j.scenario.value;
      document.getElementById("why-baseline").textContent = j.baseline.derivation;
      document.getElementById("why-scenario").textContent = j.scenario.derivation;
      document.getElementById("why-moved").textContent = j.moved_by.length
        ? "Moved by: " + j.moved_by.map(function (m) {
            return m.name + (m.entity ? " for " + m.entity : "") + (m.period ? " in " + m.period : "");
          }).join("; ")
        : "The scenario does not move it.";
      const citations = document.getElementById("why-citations");
      citations.replaceChildren();
      j.citations.forEach(function (c) {
        const quote = el("blockquote");
        if (c.passage) {
          quote.appendChild(el("span", c.passage.before));
          quote.appendChild(el("mark", c.passage.quoted));
          quote.appendChild(el("span", c.passage.after));
        } else {
          quote.textContent = c.quote ? "“" + c.quote + "”" : "";
        }
        quote.appendChild(el("cite", " " + c.source + " " + c.section));
        citations.appendChild(quote);
      });
      section.scrollIntoView();
    });
  }

  // A parameter's edit becomes one `set` line, replacing an earlier one for the same name and period.
  function apply(parameter) {
    const name = parameter.dataset.name;
    const period = parameter.querySelector(".period").value;
    const mode = parameter.querySelector(".mode").value;
    const amount = parameter.querySelector(".amount").value.trim();
    if (!amount) return;
    const target = name + (period ? " in " + period : "");
    const value = mode === "=" ? amount : name + " " + mode + " " + amount;
    const line = "  set " + target + " = " + value;
    const lines = scenario.value.replace(/\n+$/, "").split("\n");
    const at = lines.findIndex(function (l) { return l.trim().startsWith("set " + target + " ="); });
    if (at >= 0) lines[at] = line; else lines.push(line);
    if (!/^\s*scenario\s/.test(lines[0] || "")) lines.unshift(DEFAULT.trim());
    scenario.value = lines.join("\n") + "\n";
    update();
  }

  document.querySelectorAll(".parameter").forEach(function (parameter) {
    parameter.querySelector(".apply").addEventListener("click", function () { apply(parameter); });
    parameter.querySelector(".amount").addEventListener("keydown", function (event) {
      if (event.key === "Enter") apply(parameter);
    });
  });
  scenario.addEventListener("input", soon);
  window.addEventListener("hashchange", function () {
    if (fromAddress() !== scenario.value) { scenario.value = fromAddress(); update(); }
  });
  scenario.value = fromAddress();
  update();
})();
