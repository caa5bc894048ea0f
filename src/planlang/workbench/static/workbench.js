// The workbench page: edits build scenario text, the server answers the impact and the derivations.
// Plain JavaScript, no library; every value is put in the page as text (never as HTML).
"use strict";

(function () {
  const token = document.querySelector('meta[name="planlang-token"]').content;
  const scenario = document.getElementById("scenario");
  const DEFAULT = "scenario what_if\n";
  const SVG = "http://www.w3.org/2000/svg";
  let pending = null;
  let asked = 0;
  let dataId = null; // the upload the figures are of; null: the data the server started with

  function post(path, body) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    if (dataId && path !== "/api/data") body = Object.assign({ data: dataId }, body);
    return fetch(path, { method: "POST", headers: headers, body: JSON.stringify(body) });
  }

  function api(path, body) {
    return post(path, body).then(function (response) {
      return response.json().then(function (json) { return { status: response.status, json: json }; });
    });
  }

  // A file to keep: offered for download from memory, never through the network again.
  function save(blob, name) {
    const link = el("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
  }

  function download(path, name) {
    const status = document.getElementById("download-status");
    status.textContent = "preparing " + name + "…";
    post(path, { scenario: scenario.value }).then(function (response) {
      if (response.status !== 200) {
        return response.json().then(function (json) { status.textContent = json.error; });
      }
      return response.blob().then(function (blob) { save(blob, name); status.textContent = "downloaded " + name; });
    }).catch(function (error) { status.textContent = "The workbench did not answer: " + error; });
  }

  // ---- charts: inline SVG, drawn here from the exact decimals the API answers -------------------

  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    Object.keys(attributes || {}).forEach(function (k) { node.setAttribute(k, attributes[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function money(x) {
    const a = Math.abs(x);
    const s = a >= 1e9 ? (a / 1e9).toFixed(2) + "bn" : a >= 1e6 ? (a / 1e6).toFixed(2) + "m"
      : a >= 1e3 ? (a / 1e3).toFixed(1) + "k" : a.toFixed(2);
    return (x < 0 ? "-" : "") + s;
  }

  // Horizontal bars: rows of {label, bars: [{value, className, title}]}; negative values to the left of zero.
  function barChart(id, rows, legend) {
    const holder = document.getElementById(id);
    holder.replaceChildren();
    if (!rows.length) return;
    const perRow = rows[0].bars.length;
    const barH = 12, gap = 8, left = 170, width = 520, top = legend ? 18 : 4;
    const height = top + rows.length * (perRow * barH + gap) + 4;
    let low = 0, high = 0;
    rows.forEach(function (r) { r.bars.forEach(function (b) { low = Math.min(low, b.value); high = Math.max(high, b.value); }); });
    const span = high - low || 1;
    const x = function (v) { return left + (v - low) / span * (width - 70); };
    const chart = svg("svg", { viewBox: "0 0 " + (left + width) + " " + height, role: "img", "class": "bars" });
    (legend || []).forEach(function (item, k) {
      chart.appendChild(svg("rect", { x: left + k * 110, y: 2, width: 10, height: 10, "class": item.className }));
      chart.appendChild(svg("text", { x: left + k * 110 + 14, y: 11 }, item.label));
    });
    rows.forEach(function (r, i) {
      const y0 = top + i * (perRow * barH + gap);
      chart.appendChild(svg("text", { x: left - 6, y: y0 + perRow * barH / 2 + 4, "text-anchor": "end" }, r.label));
      r.bars.forEach(function (b, k) {
        const a = x(Math.min(0, b.value)), z = x(Math.max(0, b.value));
        const bar = svg("rect", { x: a, y: y0 + k * barH, width: Math.max(1, z - a), height: barH - 2, "class": b.className });
        bar.appendChild(svg("title", {}, b.title));
        chart.appendChild(bar);
        chart.appendChild(svg("text", { x: z + 4, y: y0 + k * barH + barH - 3, "class": "small" }, money(b.value)));
      });
    });
    chart.appendChild(svg("line", { x1: x(0), x2: x(0), y1: top, y2: height, "class": "axis" }));
    holder.appendChild(chart);
  }

  function chartTotals(totals) {
    const rows = totals.filter(function (t) { return t.unit === "money" && t.baseline_decimal !== null && t.scenario_decimal !== null; })
      .map(function (t) {
        return { label: t.name.slice(0, 24) + " " + t.period, bars: [
          { value: Number(t.baseline_decimal), className: "before", title: "baseline " + t.baseline },
          { value: Number(t.scenario_decimal), className: "after", title: "scenario " + t.scenario }] };
      });
    barChart("totals-chart", rows.slice(0, 12), [{ label: "baseline", className: "before" }, { label: "scenario", className: "after" }]);
  }

  function chartOrganisations(rows) {
    const shown = rows.filter(function (o) { return o.difference !== null; }).slice(0, 30).map(function (o) {
      const v = Number(o.difference);
      return { label: o.entity + " " + o.name.slice(0, 16), bars: [
        { value: v, className: v >= 0 ? "gain-bar" : "loss-bar", title: o.entity + ": " + o.change }] };
    });
    barChart("organisations-chart", shown);
  }

  // A line per output over the steps of a one-parameter grid; with draws, the percentiles the API gives.
  function lineChart(id, xs, series, xLabel) {
    const holder = document.getElementById(id);
    holder.replaceChildren();
    const points = [];
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null) points.push(v); }); });
    if (!points.length || !xs.length) return;
    const W = 640, H = 260, L = 80, B = 36, T = 20;
    const lo = Math.min.apply(null, points), hi = Math.max.apply(null, points);
    const xlo = Math.min.apply(null, xs), xhi = Math.max.apply(null, xs);
    const px = function (v) { return L + (xhi === xlo ? 0.5 : (v - xlo) / (xhi - xlo)) * (W - L - 20); };
    const py = function (v) { return H - B - (hi === lo ? 0.5 : (v - lo) / (hi - lo)) * (H - B - T); };
    const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "class": "lines" });
    chart.appendChild(svg("line", { x1: L, x2: W - 20, y1: H - B, y2: H - B, "class": "axis" }));
    chart.appendChild(svg("line", { x1: L, x2: L, y1: T, y2: H - B, "class": "axis" }));
    [lo, hi].forEach(function (v) { chart.appendChild(svg("text", { x: L - 4, y: py(v) + 4, "text-anchor": "end", "class": "small" }, money(v))); });
    [xlo, xhi].forEach(function (v) { chart.appendChild(svg("text", { x: px(v), y: H - B + 14, "text-anchor": "middle", "class": "small" }, String(+v.toFixed(6)))); });
    chart.appendChild(svg("text", { x: (L + W) / 2, y: H - 4, "text-anchor": "middle" }, xLabel));
    series.forEach(function (s, k) {
      const d = [];
      s.values.forEach(function (v, i) { if (v !== null) d.push((d.length ? "L" : "M") + px(xs[i]).toFixed(1) + " " + py(v).toFixed(1)); });
      chart.appendChild(svg("path", { d: d.join(" "), "class": "series s" + (k % 4) }));
      s.values.forEach(function (v, i) {
        if (v === null) return;
        const dot = svg("circle", { cx: px(xs[i]), cy: py(v), r: 3, "class": "dot s" + (k % 4) });
        dot.appendChild(svg("title", {}, s.name + " at " + xs[i] + ": " + s.texts[i]));
        chart.appendChild(dot);
      });
      chart.appendChild(svg("text", { x: L + 8, y: T + 12 * k, "class": "legend s" + (k % 4) }, s.name));
    });
    holder.appendChild(chart);
  }

  function sweep() {
    const status = document.getElementById("sweep-status");
    const outputs = document.getElementById("sweep-outputs").value.split(",").map(function (x) { return x.trim(); })
      .filter(function (x) { return x; });
    const body = { scenario: scenario.value, vary: [document.getElementById("sweep-vary").value], outputs: outputs };
    const draws = document.getElementById("sweep-draws").value;
    if (draws) body.draws = Number(draws);
    status.textContent = "sweeping…";
    api("/api/sweep", body).then(function (answer) {
      if (answer.status !== 200) {
        status.textContent = answer.json.diagnostics && answer.json.diagnostics.length
          ? answer.json.diagnostics.map(function (d) { return d.text; }).join("\n") : answer.json.error;
        document.getElementById("sweep-chart").replaceChildren();
        return;
      }
      const j = answer.json;
      const grid = j.vary.filter(function (v) { return v.step !== undefined; })[0];
      const xs = j.steps.map(function (s, i) { return grid ? Number(s.set[grid.target]) : i + 1; });
      const series = [];
      // with draws each step's total is a distribution: its 5th, 50th and 95th percentiles are drawn
      const parts = j.draws ? ["p5", "p50", "p95"] : [null];
      j.outputs.forEach(function (name) {
        parts.forEach(function (part) {
          const texts = j.steps.map(function (s) {
            const t = part ? (s.totals[name] || {})[part] : s.totals[name];
            return t === null || t === undefined ? null : t;
          });
          series.push({ name: name + (part ? " " + part : ""), texts: texts.map(function (t) { return t === null ? "missing" : t; }),
                        values: texts.map(function (t) { return t === null ? null : Number(t); }) });
        });
      });
      status.textContent = j.steps.length + " step(s)" + (j.draws ? " of " + j.draws.count + " draws each" : "") +
        "; totals over every organisation and period";
      lineChart("sweep-chart", xs, series, grid ? grid.target : "step");
    });
  }

  function solve() {
    const answerBox = document.getElementById("solve-answer");
    answerBox.textContent = "seeking…";
    api("/api/solve", { scenario: scenario.value, vary: document.getElementById("solve-vary").value,
                        until: document.getElementById("solve-until").value }).then(function (answer) {
      if (answer.status !== 200) {
        answerBox.textContent = answer.json.diagnostics && answer.json.diagnostics.length
          ? answer.json.diagnostics.map(function (d) { return d.text; }).join("\n") : answer.json.error;
        return;
      }
      answerBox.textContent = answer.json.text + (answer.json.exact ? "\n  exactly " + answer.json.exact : "");
    });
  }

  // ---- data uploaded in the page -----------------------------------------------------------

  function readBase64(file) {
    return new Promise(function (resolve, reject) {
      const reader = new FileReader();
      reader.onload = function () { resolve({ name: file.name, content: String(reader.result).replace(/^[^,]*,/, "") }); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsDataURL(file);
    });
  }

  function upload(files) {
    const name = document.getElementById("data-name");
    const status = document.getElementById("data-status");
    const problems = document.getElementById("data-problems");
    problems.replaceChildren();
    name.textContent = Array.prototype.map.call(files, function (f) { return f.name; }).join(", ");
    status.textContent = "reading…";
    status.className = "";
    Promise.all(Array.prototype.map.call(files, readBase64)).then(function (read) {
      return api("/api/data", { files: read });
    }).then(function (answer) {
      if (answer.status !== 200) {
        status.textContent = answer.json.error;
        status.className = "refused";
        (answer.json.problems || []).forEach(function (p) { problems.appendChild(el("li", p)); });
        return;
      }
      dataId = answer.json.data;
      name.textContent = answer.json.name;
      status.textContent = answer.json.organisations + " organisations, " + answer.json.values + " values";
      answer.json.warnings.forEach(function (w) { problems.appendChild(el("li", w, "warning")); });
      update();
    }).catch(function (error) { status.textContent = "cannot send the file: " + error; status.className = "refused"; });
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
    chartTotals(json.totals);
    chartOrganisations(json.by_organisation);
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
      fill("why-inputs", j.inputs, function (i) {
        return [el("td", i.name), el("td", i.entity || ""), el("td", i.period || ""), el("td", i.value),
                el("td", i.origin || "")];
      });
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
  document.getElementById("upload").addEventListener("change", function (event) {
    if (event.target.files.length) upload(event.target.files);
  });
  document.getElementById("save-plan").addEventListener("click", function () {
    save(new Blob([scenario.value], { type: "text/plain" }), "what_if.plan");
  });
  document.getElementById("load-plan").addEventListener("change", function (event) {
    const file = event.target.files[0];
    if (!file) return;
    file.text().then(function (text) { scenario.value = text; update(); });
  });
  document.getElementById("download-workbook").addEventListener("click", function () { download("/api/compare.xlsx", "compare.xlsx"); });
  document.getElementById("download-receipt").addEventListener("click", function () { download("/api/receipt", "receipt.json"); });
  document.getElementById("sweep-run").addEventListener("click", sweep);
  document.getElementById("solve-run").addEventListener("click", solve);
  window.addEventListener("hashchange", function () {
    if (fromAddress() !== scenario.value) { scenario.value = fromAddress(); update(); }
  });
  scenario.value = fromAddress();
  update();
})();
