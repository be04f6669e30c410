//! The HTML report: one self-contained page per scan for the security team.
//!
//! Why a page and not another sheet: the security officer wants to see *where* the data
//! is and chase what nobody registered, from a file that opens offline, can be attached to
//! a ticket and prints. So the page loads nothing: CSS, script and the map's SVG are
//! inline, and it works from `file://`.
//!
//! Why it is safe with hostile input: tag values and names come from the cloud and anyone
//! with tagging rights writes them. Everything the server side writes into the markup goes
//! through [`escape`]; the tables' rows travel in a JSON island (`<script
//! type="application/json">`) in which `<`, `>`, `&`, U+2028 and U+2029 are escaped
//! ([`json_island`]), and the page's script builds the tables with `textContent` only (no
//! `innerHTML`, no links made from data).
//!
//! Why the numbers agree with `findings`: the headline comes from the same
//! [`Evaluation`](crate::rules::Evaluation) `findings` and the workbook use, the
//! visibility lines from [`cloudcensus_core::visibility`], the changes from
//! [`crate::store::diff`] and the unregistered rows from `unregistered`'s own code. The
//! map places each location with the catalog call the evaluation makes.
//!
//! Large scans: rows are shown a page at a time (the whole set is filtered and sorted in
//! memory), so 100 000 findings open and filter quickly (BENCHMARKS.md, `benches/html.rs`).

mod map;
mod text;

use std::collections::BTreeMap;
use std::path::Path;

use std::io::Write as _;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use cloudcensus_core::{CoverageStatus, JurisdictionClass, ScanData};
use serde::Serialize;

use crate::rules::{self, Context, Evaluation, Lang, Severity};
use crate::store::diff::{Change, ChangeKind};
pub use text::Texts;

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

pub use crate::commands::unregistered::Row as UnregisteredRow;

/// What changed since the previous scan.
#[derive(Debug, Clone)]
pub struct Changes {
    /// The previous scan's id.
    pub previous: String,
    /// Its period.
    pub previous_period: String,
    /// The changes ([`crate::store::diff::diff`]).
    pub changes: Vec<Change>,
}

/// Everything the page shows, gathered by the `html` command (or `demo`).
pub struct PageInput<'a> {
    /// The evaluation context (its language is the page's).
    pub ctx: &'a Context<'a>,
    /// The scan (with its resources, for the map).
    pub scan: &'a ScanData,
    /// Its evaluation.
    pub eval: &'a Evaluation,
    /// The unregistered resources, newest first.
    pub unregistered: &'a [UnregisteredRow],
    /// Changes since the previous scan; `None` for the store's first scan.
    pub changes: Option<&'a Changes>,
    /// When the page was made.
    pub generated_at: DateTime<Utc>,
}

/// The headline numbers (also used by tests and the benchmark).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Headline {
    /// Resources in the scan.
    pub resources: usize,
    /// Data-bearing resources.
    pub data_bearing: usize,
    /// Unregistered data-bearing resources (CB-UNREG).
    pub unregistered: usize,
    /// Resources whose worst location (incl. replicas) is a third country or C2000.
    pub outside_eea_adequacy: usize,
    /// Resources whose worst location is a C2000-excluded country.
    pub c2000: usize,
    /// Resources whose worst location is unknown.
    pub location_unknown: usize,
    /// Unsuppressed findings per severity (kebab-case), every severity present.
    pub findings: BTreeMap<String, usize>,
    /// Suppressed findings.
    pub suppressed: usize,
    /// Coverage percent, one decimal.
    pub coverage_percent: String,
    /// Coverage entries that are gaps.
    pub coverage_gaps: usize,
}

/// The headline of an evaluation: the same counts as `findings` and the workbook.
pub fn headline(eval: &Evaluation, scan: &ScanData) -> Headline {
    let class = |c: JurisdictionClass| eval.by_class.get(&c).copied().unwrap_or(0);
    let counts = rules::count_by_severity(&eval.findings);
    Headline {
        resources: eval.resources_total,
        data_bearing: eval.data_bearing_total,
        unregistered: eval.unregistered.len(),
        outside_eea_adequacy: JurisdictionClass::ALL
            .iter()
            .filter(|c| c.needs_safeguards())
            .map(|c| class(*c))
            .sum(),
        c2000: class(JurisdictionClass::C2000Excluded),
        location_unknown: class(JurisdictionClass::Unknown),
        findings: Severity::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), counts.get(s).copied().unwrap_or(0)))
            .collect(),
        suppressed: eval
            .findings
            .iter()
            .filter(|f| f.suppressed.is_some())
            .count(),
        coverage_percent: format!("{:.1}", eval.coverage_percent),
        coverage_gaps: scan.coverage.iter().filter(|c| c.status.is_gap()).count(),
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON text safe inside `<script type="application/json">`: no `<`, `>` or `&` (so no
/// `</script>` or `<!--` can end or bend the element), and no U+2028/U+2029 (line
/// terminators in older JavaScript). These characters occur only inside JSON strings,
/// where the `\uXXXX` escapes mean the same text.
pub fn json_island(value: &impl Serialize) -> Result<String> {
    let raw = serde_json::to_string(value)?;
    let mut out = String::with_capacity(raw.len() + raw.len() / 16);
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A table of strings: each distinct string once, rows as indexes (a 100 000-finding
/// scan repeats codes, actions, scopes and regions on every row).
#[derive(Default, Serialize)]
struct Strings {
    #[serde(rename = "s")]
    list: Vec<String>,
    #[serde(skip)]
    index: std::collections::HashMap<String, usize>,
}

impl Strings {
    fn id(&mut self, s: &str) -> usize {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len();
        self.list.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

#[derive(Serialize)]
struct Island<'a> {
    lang: &'a str,
    t: BTreeMap<&'a str, &'a str>,
    strings: Vec<String>,
    /// severity rank (0 info … 4 blocking), code, activity, provider, scope, region,
    /// class, resource, message, action, suppressed (string indexes).
    findings: Vec<[usize; 11]>,
    /// first seen, provider, scope, region, class, type, name, resource id, owner hints,
    /// creator (audit log).
    unregistered: Vec<[usize; 10]>,
    /// provider, scope, region, service, status, message.
    coverage: Vec<[usize; 6]>,
    /// change, provider, scope, type, resource, before, after.
    changes: Vec<[usize; 7]>,
}

fn severity_rank(s: Severity) -> usize {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

fn class_key(c: JurisdictionClass) -> String {
    format!("class_{}", c.as_str().replace('-', "_"))
}

fn class_label(texts: &Texts, c: JurisdictionClass) -> &str {
    texts.get(&class_key(c))
}

fn change_key(k: ChangeKind) -> String {
    format!("change_{}", k.as_str().replace('-', "_"))
}

fn island(input: &PageInput<'_>, texts: &Texts) -> Result<String> {
    let mut st = Strings::default();
    st.id("");
    let class_text = |c: Option<JurisdictionClass>| c.map(|c| class_label(texts, c)).unwrap_or("");
    let findings = input
        .eval
        .findings
        .iter()
        .map(|f| {
            [
                severity_rank(f.severity),
                st.id(&f.code),
                st.id(f.activity_id.as_deref().unwrap_or_default()),
                st.id(f.provider.map(|p| p.as_str()).unwrap_or_default()),
                st.id(f.scope.as_deref().unwrap_or_default()),
                st.id(f.region.as_deref().unwrap_or_default()),
                st.id(class_text(f.class)),
                st.id(f.resource_id.as_deref().unwrap_or_default()),
                st.id(&f.message),
                st.id(&f.action),
                st.id(f.suppressed.as_deref().unwrap_or_default()),
            ]
        })
        .collect();
    let unregistered = input
        .unregistered
        .iter()
        .map(|u| {
            let class = JurisdictionClass::ALL
                .iter()
                .find(|c| c.as_str() == u.class)
                .map(|c| class_label(texts, *c))
                .unwrap_or(&u.class);
            [
                st.id(&u.first_seen.to_string()),
                st.id(&u.provider),
                st.id(&u.scope),
                st.id(&u.region),
                st.id(class),
                st.id(&u.resource_type),
                st.id(&u.name),
                st.id(&u.resource_id),
                st.id(&u.owner_hints),
                st.id(&crate::report::sheets::creator_label(
                    input.ctx.lang,
                    &u.creator,
                )),
            ]
        })
        .collect();
    let coverage = input
        .scan
        .coverage
        .iter()
        .filter(|c| c.status != CoverageStatus::Scanned)
        .map(|c| {
            [
                st.id(c.provider.as_str()),
                st.id(&c.scope_id),
                st.id(&c.region),
                st.id(&c.service),
                st.id(c.status.as_str()),
                st.id(c.message.as_deref().unwrap_or_default()),
            ]
        })
        .collect();
    let changes = input
        .changes
        .map(|c| {
            c.changes
                .iter()
                .map(|c| {
                    [
                        st.id(texts.get(&change_key(c.change))),
                        st.id(c.provider.as_str()),
                        st.id(&c.scope_id),
                        st.id(&c.resource_type),
                        st.id(&c.resource_id),
                        st.id(&c.before),
                        st.id(&c.after),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    json_island(&Island {
        lang: lang_code(input.ctx.lang),
        t: texts.all(),
        strings: st.list,
        findings,
        unregistered,
        coverage,
        changes,
    })
}

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Nl => "nl",
        Lang::En => "en",
    }
}

fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in pairs {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Renders the page.
pub fn render(input: &PageInput<'_>) -> Result<String> {
    let lang = input.ctx.lang;
    let texts = Texts::builtin(lang);
    let t = |k: &str| escape(texts.get(k));
    let h = headline(input.eval, input.scan);
    let meta = &input.scan.meta;
    let mut o = String::with_capacity(64 * 1024);
    let title = format!(
        "{} — {} — {}",
        texts.get("title"),
        input.ctx.organisation,
        meta.period
    );
    o.push_str("<!DOCTYPE html>\n<html lang=\"");
    o.push_str(lang_code(lang));
    o.push_str("\">\n<head>\n<meta charset=\"utf-8\">\n");
    // No network: the policy forbids every fetch, so a hostile value could not load
    // anything even if it escaped (it cannot: see the module docs).
    o.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    );
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(&format!("<title>{}</title>\n", escape(&title)));
    o.push_str("<style>\n");
    o.push_str(CSS);
    o.push_str("</style>\n</head>\n<body>\n<header>\n");
    o.push_str(&format!(
        "<h1>{}</h1>\n<p class=\"org\">{}</p>\n",
        t("title"),
        escape(input.ctx.organisation)
    ));
    o.push_str(&format!(
        "<p class=\"meta\">{} <code>{}</code> · {} {} · {} {} · {} {} · {} {}</p>\n",
        t("scan"),
        escape(&meta.id),
        t("period"),
        escape(&meta.period),
        t("finished"),
        escape(&meta.finished_at.format("%Y-%m-%d %H:%M UTC").to_string()),
        t("rule_pack"),
        escape(&input.eval.rule_pack),
        t("generated"),
        escape(&input.generated_at.format("%Y-%m-%d %H:%M UTC").to_string()),
    ));
    if input.eval.out_of_scope {
        o.push_str(&format!("<p class=\"warn\">{}</p>\n", t("out_of_scope")));
    }
    o.push_str("<nav>");
    for (id, key) in [
        ("headline", "nav_headline"),
        ("map", "nav_map"),
        ("findings", "nav_findings"),
        ("unregistered", "nav_unregistered"),
        ("coverage", "nav_coverage"),
        ("changes", "nav_changes"),
    ] {
        o.push_str(&format!("<a href=\"#{id}\">{}</a>", t(key)));
    }
    o.push_str("</nav>\n</header>\n<main>\n");

    // Headline.
    o.push_str(&format!(
        "<section id=\"headline\">\n<h2>{}</h2>\n<div class=\"cards\">\n",
        t("nav_headline")
    ));
    let card = |o: &mut String, metric: &str, label: &str, value: String, note: &str, cls: &str| {
        o.push_str(&format!(
            "<div class=\"card {cls}\"><div class=\"v\" data-metric=\"{metric}\">{}</div>\
             <div class=\"l\">{}</div>{}</div>\n",
            escape(&value),
            escape(label),
            if note.is_empty() {
                String::new()
            } else {
                format!("<div class=\"n\">{}</div>", escape(note))
            }
        ));
    };
    card(
        &mut o,
        "resources",
        texts.get("m_resources"),
        h.resources.to_string(),
        "",
        "",
    );
    card(
        &mut o,
        "data-bearing",
        texts.get("m_data_bearing"),
        h.data_bearing.to_string(),
        "",
        "",
    );
    card(
        &mut o,
        "unregistered",
        texts.get("m_unregistered"),
        h.unregistered.to_string(),
        "CB-UNREG",
        if h.unregistered > 0 { "bad" } else { "" },
    );
    card(
        &mut o,
        "outside",
        texts.get("m_outside"),
        h.outside_eea_adequacy.to_string(),
        texts.get("m_outside_note"),
        if h.outside_eea_adequacy > 0 {
            "bad"
        } else {
            ""
        },
    );
    card(
        &mut o,
        "c2000",
        texts.get("m_c2000"),
        h.c2000.to_string(),
        "CB-C2000",
        if h.c2000 > 0 { "worst" } else { "" },
    );
    card(
        &mut o,
        "location-unknown",
        texts.get("m_unknown"),
        h.location_unknown.to_string(),
        "CB-LOC-UNKNOWN",
        "",
    );
    let gaps = if h.coverage_gaps == 0 {
        texts.get("m_no_gaps").to_string()
    } else {
        fill(texts.get("m_gaps"), &[("n", &h.coverage_gaps.to_string())])
    };
    card(
        &mut o,
        "coverage",
        texts.get("m_coverage"),
        format!("{} %", h.coverage_percent),
        &gaps,
        if h.coverage_gaps > 0 { "bad" } else { "" },
    );
    o.push_str("</div>\n");
    o.push_str(&format!(
        "<h3>{}</h3>\n<div class=\"sevs\">\n",
        t("findings_by_severity")
    ));
    for s in Severity::ALL.iter().rev() {
        let n = h.findings.get(s.as_str()).copied().unwrap_or(0);
        o.push_str(&format!(
            "<div class=\"sev sev-{k}\"><span class=\"v\" data-metric=\"findings-{k}\">{n}</span> \
             <span class=\"l\">{}</span></div>\n",
            t(&format!("sev_{}", s.as_str())),
            k = s.as_str(),
        ));
    }
    o.push_str("</div>\n");
    if h.suppressed > 0 {
        o.push_str(&format!(
            "<p class=\"note\" data-metric=\"suppressed\" data-value=\"{}\">{}</p>\n",
            h.suppressed,
            escape(&fill(
                texts.get("suppressed_count"),
                &[("n", &h.suppressed.to_string())]
            ))
        ));
    }
    o.push_str(&format!(
        "<h3>{}</h3>\n<p class=\"note\">{}</p>\n<ul class=\"vis\">\n",
        t("visibility"),
        t("visibility_note")
    ));
    for line in
        cloudcensus_core::visibility::visibility_lines(&input.scan.coverage, lang == Lang::Nl)
    {
        o.push_str(&format!("<li>{}</li>\n", escape(&line)));
    }
    o.push_str("</ul>\n</section>\n");

    // Map.
    o.push_str(&format!(
        "<section id=\"map\">\n<h2>{}</h2>\n<p class=\"note\">{}</p>\n",
        t("map_title"),
        t("map_note")
    ));
    let places = map::place(input.ctx, input.scan);
    o.push_str(&map::render(&places, &texts));
    o.push_str("</section>\n");

    // Tables: filled by the script from the island.
    for (id, title, note) in [
        ("findings", "nav_findings", None),
        (
            "unregistered",
            "nav_unregistered",
            Some("unregistered_note"),
        ),
        ("coverage", "nav_coverage", Some("coverage_note")),
        ("changes", "nav_changes", None),
    ] {
        o.push_str(&format!("<section id=\"{id}\">\n<h2>{}</h2>\n", t(title)));
        if let Some(n) = note {
            o.push_str(&format!("<p class=\"note\">{}</p>\n", t(n)));
        }
        if id == "changes" {
            match input.changes {
                Some(c) => o.push_str(&format!(
                    "<p class=\"note\">{}</p>\n",
                    escape(&fill(
                        texts.get("changes_note"),
                        &[("a", &c.previous), ("b", &c.previous_period)]
                    ))
                )),
                None => o.push_str(&format!("<p class=\"note\">{}</p>\n", t("changes_first"))),
            }
        }
        o.push_str(&format!(
            "<div class=\"table\" id=\"t-{id}\"><noscript><p>{}</p></noscript></div>\n</section>\n",
            t("no_js")
        ));
    }
    o.push_str("</main>\n<footer><p>");
    o.push_str(&escape(&fill(
        texts.get("footer"),
        &[("a", env!("CARGO_PKG_VERSION"))],
    )));
    o.push_str("</p></footer>\n");
    o.push_str("<script type=\"application/json\" id=\"data\">");
    o.push_str(&island(input, &texts)?);
    o.push_str("</script>\n<script>\n");
    o.push_str(JS);
    o.push_str("</script>\n</body>\n</html>\n");
    Ok(o)
}

/// Renders the page and writes it to `path` (through a temporary file renamed into
/// place, so a crash never leaves half a page under the final name).
pub fn write(input: &PageInput<'_>, path: &Path) -> Result<()> {
    let page = render(input)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("page");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(page.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// The default file name: `cloudcensus-<organisation>-<period>.html`.
pub fn default_file_name(organisation: &str, period: &str) -> String {
    format!(
        "cloudcensus-{}-{}.html",
        crate::report::slug(organisation),
        crate::report::slug(period)
    )
}

#[cfg(test)]
mod tests;
