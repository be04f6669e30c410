#!/usr/bin/env node
// Drives Debian's chromium (headless, through puppeteer-core) over one HTML page of
// `cloudcensus html` and prints what it saw as JSON. The Rust tests (tests/html_cli.rs)
// and the benchmark (benches/html.rs) run it; scripts/test installs puppeteer-core and
// exports CLOUDCENSUS_TEST_CHROMIUM and CLOUDCENSUS_TEST_NODE_MODULES.
//
//   node page.cjs check PAGE.html --code CB-UNREG --shots DIR
//   node page.cjs bench PAGE.html --code CB-UNREG --search TEXT [--runs 5]
//
// check: loads the page from file:// with the network refused, reads the headline
// (`data-metric`), each table's row counts, filters the findings by --code and counts the
// rows, searches, sorts, saves desktop and narrow screenshots and a PDF print, and
// reports every request, dialog, console error and page error.
// bench: per run, a fresh page: time to ready (navigation start to the tables built),
// then filtering by code, searching, and clearing, each timed in the page.
"use strict";
const path = require("path");
const fs = require("fs");
const modules = process.env.CLOUDCENSUS_TEST_NODE_MODULES;
const puppeteer = require(modules ? path.join(modules, "puppeteer-core") : "puppeteer-core");

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
}

async function open(browser, file, viewport) {
  const page = await browser.newPage();
  const seen = { requests: [], dialogs: [], errors: [], console: [] };
  await page.setRequestInterception(true);
  page.on("request", (r) => {
    const url = r.url();
    if (url.startsWith("file://") && url.endsWith(path.basename(file))) return r.continue();
    seen.requests.push(url);
    r.abort();
  });
  page.on("dialog", async (d) => { seen.dialogs.push(d.message()); await d.dismiss(); });
  page.on("pageerror", (e) => seen.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") seen.console.push(m.text()); });
  await page.setViewport(viewport);
  const t0 = Date.now();
  await page.goto("file://" + path.resolve(file), { waitUntil: "load" });
  await page.waitForSelector("html[data-ready]", { timeout: 60000 });
  const loadMs = Date.now() - t0;
  return { page, seen, loadMs };
}

async function tables(page) {
  return page.$$eval("div.table", (ds) => Object.fromEntries(ds.map((d) => [d.id.slice(2), {
    total: Number(d.getAttribute("data-total")),
    shown: Number(d.getAttribute("data-shown")),
    page_rows: d.querySelectorAll("tbody tr").length,
  }])));
}

async function selectCode(page, code) {
  return page.evaluate((code) => {
    const sel = document.querySelector('#t-findings select[data-filter="code"]');
    const t0 = performance.now();
    sel.value = code;
    sel.dispatchEvent(new Event("change"));
    const ms = performance.now() - t0;
    const root = document.getElementById("t-findings");
    const codes = Array.from(root.querySelectorAll("tbody tr")).map((tr) => tr.children[1].textContent);
    return { ms, matched: sel.value === code, shown: Number(root.getAttribute("data-shown")), codes };
  }, code);
}

async function check(browser, file) {
  const shots = arg("--shots");
  const code = arg("--code", "CB-UNREG");
  fs.mkdirSync(shots, { recursive: true });
  const { page, seen, loadMs } = await open(browser, file, { width: 1366, height: 900 });
  const out = { load_ms: loadMs };
  out.metrics = await page.$$eval("[data-metric]", (es) => Object.fromEntries(es.map((e) => [
    e.getAttribute("data-metric"), e.getAttribute("data-value") || e.textContent.trim()])));
  out.countries = await page.$$eval("table.countries tbody tr", (rs) => rs.map((r) => ({
    country: r.getAttribute("data-country"),
    resources: Number(r.children[2].textContent),
    replica_only: Number(r.children[3].textContent),
  })));
  out.map_paths = await page.$$eval("#cc-countries path", (ps) => ps.length);
  out.coloured = await page.$$eval("#cc-countries path:not(.empty)", (ps) => ps.map((p) => p.getAttribute("data-country")));
  out.tables = await tables(page);
  await page.screenshot({ path: path.join(shots, "desktop.png"), fullPage: true });
  out.filter = await selectCode(page, code);
  await page.screenshot({ path: path.join(shots, "desktop-filtered.png") , clip: await page.$eval("#findings", (e) => { const r = e.getBoundingClientRect(); return { x: 0, y: r.top + window.scrollY, width: document.documentElement.clientWidth, height: Math.min(r.height, 1400) }; }) });
  // Back to all codes, then a search and a sort on the unfiltered table.
  await page.select('#t-findings select[data-filter="code"]', "");
  out.search_term = arg("--search", "");
  if (out.search_term) {
    await page.type('#t-findings input[data-filter="search"]', out.search_term);
    await page.waitForFunction((n) => Number(document.getElementById("t-findings").getAttribute("data-shown")) !== n,
      { timeout: 5000 }, out.tables.findings.shown).catch(() => {});
    out.search = (await tables(page)).findings;
  }
  out.text = await page.evaluate(() => document.body.innerText);
  out.scripts = await page.$$eval("script", (s) => s.length);
  out.images = await page.$$eval("img, iframe, object, embed", (s) => s.length);
  out.links = await page.$$eval("a[href]", (as) => as.map((a) => a.getAttribute("href")));
  out.pwned = await page.evaluate(() => window.__pwned === undefined ? null : String(window.__pwned));
  await page.pdf({ path: path.join(shots, "print.pdf"), format: "A4", landscape: true, printBackground: true });
  const narrow = await open(browser, file, { width: 390, height: 844, isMobile: true, deviceScaleFactor: 1 });
  await narrow.page.screenshot({ path: path.join(shots, "narrow.png"), fullPage: true });
  // The same in pieces a person (or an image viewer) can read: top, map, findings.
  for (const [name, sel] of [["narrow-top", "body"], ["narrow-map", "#map"], ["narrow-findings", "#findings"]]) {
    const y = await narrow.page.$eval(sel, (e) => e.getBoundingClientRect().top + window.scrollY);
    await narrow.page.screenshot({ path: path.join(shots, name + ".png"), captureBeyondViewport: true,
      clip: { x: 0, y, width: 390, height: 1600 } });
  }
  out.narrow_overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  for (const k of Object.keys(narrow.seen)) seen[k] = seen[k].concat(narrow.seen[k]);
  out.seen = seen;
  return out;
}

async function bench(browser, file) {
  const runs = Number(arg("--runs", "5"));
  const code = arg("--code", "CB-UNREG");
  const term = arg("--search", "");
  const out = { size_bytes: fs.statSync(file).size, runs: [] };
  for (let i = 0; i < runs; i++) {
    const { page, seen, loadMs } = await open(browser, file, { width: 1366, height: 900 });
    const r = await page.evaluate(() => ({ script_ms: window.cloudcensusPage.ms }));
    r.load_ms = loadMs;
    const f = await selectCode(page, code);
    r.filter_code_ms = f.ms;
    r.filter_shown = f.shown;
    r.search_ms = await page.evaluate((term) => {
      const t = window.cloudcensusPage.tables.findings;
      const t0 = performance.now();
      t.state.q = term;
      t.apply();
      return performance.now() - t0;
    }, term);
    r.search_shown = Number(await page.$eval("#t-findings", (e) => e.getAttribute("data-shown")));
    r.sort_ms = await page.evaluate(() => {
      const t = window.cloudcensusPage.tables.findings;
      t.state.q = ""; delete t.state.f[1];
      const th = document.querySelectorAll("#t-findings th")[7];
      const t0 = performance.now();
      th.click();
      return performance.now() - t0;
    });
    r.errors = seen.errors;
    out.runs.push(r);
    await page.close();
  }
  return out;
}

(async () => {
  const [mode, file] = process.argv.slice(2);
  const executablePath = process.env.CLOUDCENSUS_TEST_CHROMIUM || "/usr/bin/chromium";
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    // As root (CI) chromium needs --no-sandbox; the page is our own file.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--font-render-hinting=none"],
  });
  try {
    const out = mode === "bench" ? await bench(browser, file) : await check(browser, file);
    process.stdout.write(JSON.stringify(out, null, 1) + "\n");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
