// The HTML report's tables (src/html). Reads the JSON island, builds every element with
// createElement/textContent (never parsed HTML: tag values are attacker-controlled), and
// shows rows a page at a time so 100 000 findings filter and sort quickly.
"use strict";
(function () {
  var t0 = performance.now();
  var d = JSON.parse(document.getElementById("data").textContent);
  var S = d.strings;
  var T = d.t;
  function t(key, vars) {
    var s = Object.prototype.hasOwnProperty.call(T, key) ? T[key] : key;
    if (vars) {
      Object.keys(vars).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
    }
    return s;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  var fmt = new Intl.NumberFormat(d.lang === "nl" ? "nl-NL" : "en-GB");
  var SEV = ["sev_info", "sev_low", "sev_medium", "sev_high", "sev_blocking"];
  var PRINT_MAX = 2000;

  // Sort rank of every string, computed once: sorting rows then compares integers.
  var rankCache = null;
  function ranks() {
    if (!rankCache) {
      var order = S.map(function (_, i) { return i; });
      var coll = new Intl.Collator(d.lang, { numeric: true, sensitivity: "base" });
      order.sort(function (a, b) { return coll.compare(S[a], S[b]); });
      rankCache = new Int32Array(S.length);
      order.forEach(function (s, r) { rankCache[s] = r; });
    }
    return rankCache;
  }

  // spec: { id, rows, cols: [{ key, col, num, cls, text(row) }], filters: [{ key, col,
  //   min, options }], toggle: { key, col }, rowClass(row), pageSize }
  function Table(spec) {
    var root = document.getElementById("t-" + spec.id);
    root.textContent = "";
    var state = { page: 0, sort: null, dir: 1, q: "", f: {}, toggle: false };
    var all = spec.rows;
    var hay = null; // lower-cased row text, built on the first search
    var shown = all;
    var controls = el("div", "controls");
    var search = el("input");
    search.type = "search";
    search.placeholder = t("search_hint");
    search.setAttribute("data-filter", "search");
    var sl = el("label", null, t("search"));
    sl.appendChild(search);
    controls.appendChild(sl);
    (spec.filters || []).forEach(function (f) {
      var lab = el("label", null, t(f.key) + (f.min ? " (" + t("at_least") + ")" : ""));
      var sel = el("select");
      sel.setAttribute("data-filter", f.name);
      var o = el("option", null, t("all"));
      o.value = "";
      sel.appendChild(o);
      var values = f.options ? f.options : distinct(f.col);
      values.forEach(function (v) {
        var op = el("option", null, v.label);
        op.value = v.value;
        sel.appendChild(op);
      });
      sel.addEventListener("change", function () {
        if (sel.value === "") delete state.f[f.col];
        else state.f[f.col] = { min: !!f.min, v: f.min ? Number(sel.value) : index(sel.value) };
        state.page = 0;
        apply();
      });
      lab.appendChild(sel);
      controls.appendChild(lab);
    });
    if (spec.toggle) {
      var cl = el("label", "check");
      var cb = el("input");
      cb.type = "checkbox";
      cb.setAttribute("data-filter", "toggle");
      cb.addEventListener("change", function () { state.toggle = cb.checked; state.page = 0; apply(); });
      cl.appendChild(cb);
      cl.appendChild(document.createTextNode(t(spec.toggle.key)));
      controls.appendChild(cl);
    }
    root.appendChild(controls);
    var pager = el("div", "pager");
    var prev = el("button", null, t("prev"));
    var next = el("button", null, t("next"));
    var count = el("span", "count");
    prev.type = next.type = "button";
    prev.addEventListener("click", function () { if (state.page > 0) { state.page--; render(); } });
    next.addEventListener("click", function () {
      if ((state.page + 1) * spec.pageSize < shown.length) { state.page++; render(); }
    });
    pager.appendChild(prev);
    pager.appendChild(next);
    pager.appendChild(count);
    root.appendChild(pager);
    var cut = el("p", "print-cut note");
    root.appendChild(cut);
    var scroll = el("div", "scroll");
    var table = el("table", "rows");
    var thead = el("thead");
    var hr = el("tr");
    var ths = spec.cols.map(function (c, i) {
      var th = el("th", "sortable" + (c.num ? " num" : ""), t(c.key));
      th.title = t("sort_hint");
      th.addEventListener("click", function () {
        if (state.sort === i) state.dir = -state.dir;
        else { state.sort = i; state.dir = 1; }
        state.page = 0;
        apply();
      });
      hr.appendChild(th);
      return th;
    });
    thead.appendChild(hr);
    table.appendChild(thead);
    var tbody = el("tbody");
    table.appendChild(tbody);
    scroll.appendChild(table);
    root.appendChild(scroll);

    var lookup = null;
    function index(s) {
      if (!lookup) { lookup = new Map(); S.forEach(function (v, i) { if (!lookup.has(v)) lookup.set(v, i); }); }
      return lookup.has(s) ? lookup.get(s) : -1;
    }
    function distinct(col) {
      var seen = new Set();
      all.forEach(function (r) { if (r[col] !== 0) seen.add(r[col]); });
      // Only this column's values: ranking every string of the page (ranks(), for
      // sorting) would cost most of the page's opening time on a large scan.
      var coll = new Intl.Collator(d.lang, { numeric: true, sensitivity: "base" });
      return Array.from(seen).sort(function (a, b) { return coll.compare(S[a], S[b]) || a - b; })
        .map(function (i) { return { value: S[i], label: S[i] }; });
    }
    function text(r) {
      var parts = [];
      spec.cols.forEach(function (c) { parts.push(c.text(r)); if (c.sub !== undefined) parts.push(S[r[c.sub]]); });
      return parts.join("\u0001").toLowerCase();
    }
    function apply() {
      var q = state.q.trim().toLowerCase();
      if (q && !hay) hay = all.map(text);
      var keys = Object.keys(state.f);
      var out = [];
      for (var i = 0; i < all.length; i++) {
        var r = all[i];
        if (spec.toggle && !state.toggle && r[spec.toggle.col] !== 0) continue;
        var ok = true;
        for (var k = 0; k < keys.length; k++) {
          var f = state.f[keys[k]];
          var v = r[keys[k]];
          if (f.min ? v < f.v : v !== f.v) { ok = false; break; }
        }
        if (ok && q && hay[i].indexOf(q) < 0) ok = false;
        if (ok) out.push(r);
      }
      if (state.sort !== null) {
        var c = spec.cols[state.sort];
        var dir = state.dir;
        if (c.num) {
          out.sort(function (a, b) { return (a[c.col] - b[c.col]) * dir; });
        } else {
          var rk = ranks();
          out.sort(function (a, b) { return (rk[a[c.col]] - rk[b[c.col]]) * dir; });
        }
      }
      ths.forEach(function (th, i) {
        th.classList.toggle("asc", state.sort === i && state.dir === 1);
        th.classList.toggle("desc", state.sort === i && state.dir === -1);
      });
      shown = out;
      render();
    }
    var printing = false;
    function render() {
      var size = printing ? PRINT_MAX : spec.pageSize;
      var start = printing ? 0 : state.page * size;
      var end = Math.min(shown.length, start + size);
      tbody.textContent = "";
      var frag = document.createDocumentFragment();
      for (var i = start; i < end; i++) {
        var r = shown[i];
        var tr = el("tr", spec.rowClass ? spec.rowClass(r) : "");
        spec.cols.forEach(function (c) {
          var td = el("td", typeof c.cls === "function" ? c.cls(r) : c.cls || "", c.text(r));
          td.setAttribute("data-label", t(c.key));
          if (c.sub !== undefined && r[c.sub] !== 0) {
            td.appendChild(el("div", "act", t(c.subKey) + ": " + S[r[c.sub]]));
          }
          tr.appendChild(td);
        });
        frag.appendChild(tr);
      }
      tbody.appendChild(frag);
      var total = all.length;
      var line = shown.length === 0 ? t("rows_none")
        : t("rows_of", { a: fmt.format(start + 1), b: fmt.format(end), n: fmt.format(shown.length) });
      if (shown.length !== total) line += " " + t("rows_total", { m: fmt.format(total) });
      count.textContent = line;
      root.setAttribute("data-shown", String(shown.length));
      root.setAttribute("data-total", String(total));
      root.setAttribute("data-page-rows", String(end - start));
      prev.disabled = state.page === 0;
      next.disabled = end >= shown.length;
      cut.textContent = shown.length > PRINT_MAX ? t("print_cut", { n: fmt.format(PRINT_MAX) }) : "";
    }
    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.q = search.value; state.page = 0; apply(); }, 120);
    });
    window.addEventListener("beforeprint", function () { printing = true; render(); });
    window.addEventListener("afterprint", function () { printing = false; render(); });
    apply();
    return { apply: apply, state: state };
  }

  function s(col) { return function (r) { return S[r[col]]; }; }
  function col(key, c, cls) { return { key: key, col: c, text: s(c), cls: cls }; }

  var sevOptions = [4, 3, 2, 1, 0].map(function (i) { return { value: String(i), label: t(SEV[i]) }; });
  var tables = {};
  tables.findings = Table({
    id: "findings",
    rows: d.findings,
    pageSize: 100,
    cols: [
      { key: "col_severity", col: 0, num: true, text: function (r) { return t(SEV[r[0]]); },
        cls: function (r) { return "sev sev-" + r[0]; } },
      col("col_code", 1, "id nw"),
      col("col_activity", 2),
      col("col_provider", 3),
      col("col_scope", 4, "id"),
      col("col_region", 5),
      col("col_class", 6),
      col("col_resource", 7, "id"),
      { key: "col_message", col: 8, text: s(8), cls: "msg", sub: 9, subKey: "col_action" },
      col("col_suppressed", 10)
    ],
    filters: [
      { key: "col_severity", name: "severity", col: 0, min: true, options: sevOptions },
      { key: "col_code", name: "code", col: 1 },
      { key: "col_provider", name: "provider", col: 3 },
      { key: "col_activity", name: "activity", col: 2 }
    ],
    toggle: { key: "show_suppressed", col: 10 },
    rowClass: function (r) { return r[10] !== 0 ? "suppressed" : ""; }
  });
  tables.unregistered = Table({
    id: "unregistered",
    rows: d.unregistered,
    pageSize: 50,
    cols: [
      col("col_first_seen", 0), col("col_provider", 1), col("col_scope", 2, "id"),
      col("col_region", 3), col("col_class", 4), col("col_type", 5), col("col_name", 6),
      col("col_resource", 7, "id"), col("col_owner", 8), col("col_creator", 9, "id")
    ],
    filters: [
      { key: "col_provider", name: "provider", col: 1 },
      { key: "col_class", name: "class", col: 4 }
    ]
  });
  tables.coverage = Table({
    id: "coverage",
    rows: d.coverage,
    pageSize: 50,
    cols: [
      col("col_provider", 0), col("col_scope", 1, "id"), col("col_region", 2),
      col("col_service", 3), col("col_status", 4), col("col_error", 5, "msg")
    ],
    filters: [
      { key: "col_provider", name: "provider", col: 0 },
      { key: "col_status", name: "status", col: 4 }
    ]
  });
  tables.changes = Table({
    id: "changes",
    rows: d.changes,
    pageSize: 50,
    cols: [
      col("col_change", 0), col("col_provider", 1), col("col_scope", 2, "id"),
      col("col_type", 3), col("col_resource", 4, "id"), col("col_before", 5), col("col_after", 6)
    ],
    filters: [
      { key: "col_change", name: "change", col: 0 },
      { key: "col_provider", name: "provider", col: 1 }
    ]
  });
  window.cloudcensusPage = { ready: true, ms: performance.now() - t0, tables: tables };
  document.documentElement.setAttribute("data-ready", "1");
})();
