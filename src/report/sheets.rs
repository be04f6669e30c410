//! The data behind each sheet. Every producer emits rows in its own canonical column
//! order ([`columns`]); writers project them onto the template's column order.

use std::collections::BTreeMap;

use anyhow::Result;
use cloudcensus_core::{JurisdictionClass, Provider};

use super::ReportData;
use super::cells::Cell;
use crate::register::{Activity, TransferBasis};
use crate::rules::{ActivityFacts, Lang, Severity};

/// The sheet keys cloudcensus can fill.
pub const KEYS: &[&str] = &[
    "cover",
    "summary",
    "known-use",
    "material-use",
    "transfers",
    "special-categories",
    "key-registers",
    "concentration",
    "explain",
    "unregistered",
    "findings",
    "coverage",
    "legend",
];

/// The column keys of a sheet, in the order its producer emits them.
pub fn columns(key: &str) -> Option<&'static [&'static str]> {
    Some(match key {
        "cover" => &["item", "value"],
        "summary" => &["topic", "value", "note"],
        "known-use" => &[
            "activity_id",
            "name",
            "unit",
            "providers",
            "service_model",
            "cloud_type",
            "observed",
            "worst_class",
            "declared",
            "transfer_basis",
            "prescan_dpia",
            "formal_dpia",
            "formal_dpia_date",
            "dpia_sent",
            "material",
            "exit",
            "audit",
            "resources",
            "data_subjects",
            "data_categories",
            "retention",
            "recipients",
            "unfilled",
        ],
        "material-use" => &[
            "activity_id",
            "name",
            "unit",
            "reason",
            "providers",
            "resources",
            "data_bearing",
            "types",
            "first_seen",
            "last_seen",
        ],
        "transfers" => &[
            "activity_id",
            "name",
            "personal_data",
            "special",
            "provider",
            "location",
            "countries",
            "class",
            "basis",
            "replica",
            "resources",
            "transfer_basis",
            "instrument",
            "dpia_sent",
        ],
        "special-categories" => &[
            "activity_id",
            "name",
            "categories",
            "resources",
            "observed",
            "worst_class",
            "transfer_basis",
            "explain",
            "sent",
            "status",
        ],
        "key-registers" => &[
            "activity_id",
            "name",
            "registers",
            "resources",
            "observed",
            "explain",
            "advice",
            "decision",
            "status",
        ],
        "concentration" => &[
            "period",
            "provider",
            "parent",
            "jurisdiction",
            "laws",
            "material",
            "material_share",
            "personal",
            "special",
            "basis",
            "no_exit",
            "data_bearing",
            "data_bearing_share",
        ],
        "explain" => &[
            "activity_id",
            "name",
            "condition",
            "document",
            "reason",
            "reference",
            "date",
            "status",
        ],
        "unregistered" => &[
            "provider",
            "scope",
            "region",
            "countries",
            "class",
            "type",
            "name",
            "resource_id",
            "owner_hints",
            "creator",
            "created",
            "first_seen",
            "last_seen",
        ],
        "findings" => &[
            "code",
            "severity",
            "clause",
            "activity_id",
            "provider",
            "scope",
            "region",
            "countries",
            "class",
            "resource_type",
            "resource_id",
            "message",
            "action",
            "suppressed",
        ],
        "coverage" => &[
            "scan", "period", "provider", "scope", "region", "service", "status", "message",
        ],
        "legend" => &["section", "term", "meaning"],
        _ => return None,
    })
}

/// Tag keys that hint at who owns an unregistered resource.
pub const OWNER_HINT_KEYS: &[&str] = &[
    "owner",
    "eigenaar",
    "team",
    "created-by",
    "createdby",
    "creator",
    "cost-center",
    "costcenter",
    "kostenplaats",
    "project",
    "application",
    "app",
    "contact",
    "department",
    "afdeling",
];

/// A creator as the sheet shows it: the principal as it is; in Dutch, the `unknown (…)`
/// answers in Dutch too (a provider's error text in the reason stays as it came).
pub(crate) fn creator_label(lang: Lang, creator: &str) -> String {
    match (lang, creator.strip_prefix("unknown (")) {
        (Lang::Nl, Some(why)) => {
            let why = why
                .replace("older than ", "ouder dan ")
                .replace(" days)", " dagen)")
                .replace("not looked up", "niet opgezocht");
            format!("onbekend ({why}")
        }
        _ => creator.to_string(),
    }
}

fn l(lang: Lang, nl: &str, en: &str) -> String {
    match lang {
        Lang::Nl => nl.to_string(),
        Lang::En => en.to_string(),
    }
}

fn yes_no(lang: Lang, b: bool) -> Cell {
    Cell::text(if b {
        l(lang, "ja", "yes")
    } else {
        l(lang, "nee", "no")
    })
}

fn class_label(lang: Lang, c: JurisdictionClass) -> String {
    match (lang, c) {
        (Lang::Nl, JurisdictionClass::Eea) => "EER".into(),
        (Lang::Nl, JurisdictionClass::Adequacy) => "adequaat".into(),
        (Lang::Nl, JurisdictionClass::ThirdCountry) => "derde land".into(),
        (Lang::Nl, JurisdictionClass::C2000Excluded) => "C2000-uitgesloten".into(),
        (Lang::Nl, JurisdictionClass::Unknown) => "onbekend".into(),
        (Lang::En, JurisdictionClass::Eea) => "EEA".into(),
        (Lang::En, JurisdictionClass::Adequacy) => "adequacy".into(),
        (Lang::En, JurisdictionClass::ThirdCountry) => "third country".into(),
        (Lang::En, JurisdictionClass::C2000Excluded) => "C2000-excluded".into(),
        (Lang::En, JurisdictionClass::Unknown) => "unknown".into(),
    }
}

fn severity_label(lang: Lang, s: Severity) -> String {
    match (lang, s) {
        (Lang::Nl, Severity::Blocking) => "blokkerend".into(),
        (Lang::Nl, Severity::High) => "hoog".into(),
        (Lang::Nl, Severity::Medium) => "middel".into(),
        (Lang::Nl, Severity::Low) => "laag".into(),
        (Lang::Nl, Severity::Info) => "info".into(),
        (Lang::En, s) => s.to_string(),
    }
}

/// The localised name of a jurisdiction class (for charts and the legend).
pub fn class_name(lang: Lang, c: JurisdictionClass) -> String {
    class_label(lang, c)
}

/// The localised name of a severity (for charts and the legend).
pub fn severity_name(lang: Lang, s: Severity) -> String {
    severity_label(lang, s)
}

fn observed(lang: Lang, f: &ActivityFacts) -> String {
    f.locations
        .iter()
        .map(|o| {
            format!(
                "{} {} ({}, {}{})",
                o.provider,
                o.location,
                o.countries.join("+"),
                class_label(lang, o.class),
                if o.replica_only { ", replica" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn transfer(a: &Activity) -> Cell {
    Cell::opt_text(a.transfer_basis.map(|t| t.label().to_string()))
}

/// Whether the activity uses public cloud: observed resources, or declared public use.
fn in_public_cloud(a: &Activity, f: &ActivityFacts) -> bool {
    f.resources > 0 || a.declares_public_cloud() && a.is_active()
}

/// `key=value` of the tags that hint at an owner, joined with `; `.
pub fn owner_hints(tags: &std::collections::BTreeMap<String, String>) -> String {
    tags.iter()
        .filter(|(k, _)| {
            OWNER_HINT_KEYS
                .iter()
                .any(|h| h.eq_ignore_ascii_case(k.trim()))
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn pct(n: usize, of: usize) -> f64 {
    if of == 0 {
        100.0
    } else {
        n as f64 * 100.0 / of as f64
    }
}

/// Summary metrics: (topic, value, note).
pub fn summary_rows(d: &ReportData<'_>) -> Vec<(String, Cell, String)> {
    let lang = d.ctx.lang;
    let e = &d.eval;
    let reg = d.ctx.register;
    let pairs: Vec<(&Activity, &ActivityFacts)> =
        reg.activities.iter().zip(&e.activities).collect();
    let in_cloud: Vec<&(&Activity, &ActivityFacts)> = pairs
        .iter()
        .filter(|(a, f)| in_public_cloud(a, f))
        .collect();
    let pd = in_cloud.iter().filter(|(a, _)| a.personal_data).count();
    let special = in_cloud
        .iter()
        .filter(|(a, _)| a.has_special_categories())
        .count();
    let basis = in_cloud
        .iter()
        .filter(|(a, _)| a.has_basisregistratie())
        .count();
    let material = in_cloud.iter().filter(|(a, _)| a.material).count();
    let dpia_ok = in_cloud
        .iter()
        .filter(|(a, _)| !a.personal_data || a.prescan_dpia.is_some())
        .count();
    let exit_ok = in_cloud
        .iter()
        .filter(|(a, _)| a.exit_strategy == Some(true))
        .count();
    let audit_ok = in_cloud
        .iter()
        .filter(|(a, _)| {
            matches!(
                a.right_to_audit,
                Some(crate::register::RightToAudit::Yes | crate::register::RightToAudit::ViaSlm)
            )
        })
        .count();
    let mut rows: Vec<(String, Cell, String)> = Vec::new();
    let mut push =
        |nl: &str, en: &str, v: Cell, note: String| rows.push((l(lang, nl, en), v, note));
    push(
        "Resources in de publieke cloud (laatste scan)",
        "Resources in public cloud (latest scan)",
        Cell::int(e.resources_total),
        d.latest.meta.period.clone(),
    );
    for p in Provider::ALL {
        let n = e.by_provider.get(&p).copied().unwrap_or(0);
        push(
            &format!("  waarvan {}", p.company()),
            &format!("  of which {}", p.company()),
            Cell::int(n),
            String::new(),
        );
    }
    for c in JurisdictionClass::ALL {
        let n = e.by_class.get(&c).copied().unwrap_or(0);
        push(
            &format!("  locatieklasse {}", class_label(Lang::Nl, c)),
            &format!("  location class {}", class_label(Lang::En, c)),
            Cell::int(n),
            l(
                lang,
                "zwaarste locatie incl. replica's",
                "worst location incl. replicas",
            ),
        );
    }
    push(
        "Gegevensdragende resources",
        "Data-bearing resources",
        Cell::int(e.data_bearing_total),
        String::new(),
    );
    push(
        "Gekoppeld aan het register",
        "Linked to the register",
        Cell::int(e.registered_total),
        String::new(),
    );
    push(
        "Niet geregistreerd (gegevensdragend)",
        "Unregistered (data-bearing)",
        Cell::int(e.unregistered.len()),
        "CB-UNREG".into(),
    );
    push(
        "Uitgezonderd (niet materieel, sandbox)",
        "Excluded (not material, sandbox)",
        Cell::int(e.excluded.len()),
        String::new(),
    );
    push(
        "Verwerkingen in het register",
        "Activities in the register",
        Cell::int(reg.activities.len()),
        String::new(),
    );
    push(
        "Verwerkingen met publiek cloudgebruik",
        "Activities using public cloud",
        Cell::int(in_cloud.len()),
        String::new(),
    );
    push(
        "  materieel cloudgebruik",
        "  material cloud use",
        Cell::int(material),
        String::new(),
    );
    push(
        "  met persoonsgegevens",
        "  with personal data",
        Cell::int(pd),
        String::new(),
    );
    push(
        "  met bijzondere persoonsgegevens",
        "  with special categories",
        Cell::int(special),
        String::new(),
    );
    push(
        "  met basisregistratie",
        "  with a key register",
        Cell::int(basis),
        String::new(),
    );
    if let Some(last) = d.scans.last() {
        let (value, note) = match concentration_headline(lang, last) {
            Some((share, note)) => (Cell::Percent(share), note),
            None => (
                Cell::text(l(lang, "geen", "none")),
                l(
                    lang,
                    "geen materiële verwerkingen in de publieke cloud",
                    "no material activities in public cloud",
                ),
            ),
        };
        push(
            "Materiële verwerkingen bij één provider (grootste aandeel)",
            "Material activities on one provider (largest share)",
            value,
            format!(
                "{note} — {}",
                l(lang, "zie blad Concentratie", "see sheet Concentration")
            ),
        );
    }
    push(
        "DPIA aanwezig (waar vereist)",
        "DPIA present (where required)",
        Cell::Percent(pct(dpia_ok, in_cloud.len())),
        format!("{dpia_ok}/{}", in_cloud.len()),
    );
    push(
        "Exitstrategie geregeld",
        "Exit strategy in place",
        Cell::Percent(pct(exit_ok, in_cloud.len())),
        format!("{exit_ok}/{}", in_cloud.len()),
    );
    push(
        "Right-to-audit of SLM geregeld",
        "Right-to-audit or SLM in place",
        Cell::Percent(pct(audit_ok, in_cloud.len())),
        format!("{audit_ok}/{}", in_cloud.len()),
    );
    let counts = crate::rules::count_by_severity(&e.findings);
    for s in Severity::ALL.iter().rev() {
        push(
            &format!("Bevindingen {}", severity_label(Lang::Nl, *s)),
            &format!("Findings {}", severity_label(Lang::En, *s)),
            Cell::int(counts.get(s).copied().unwrap_or(0)),
            String::new(),
        );
    }
    let suppressed = e.findings.iter().filter(|f| f.suppressed.is_some()).count();
    push(
        "Bevindingen met uitzondering",
        "Suppressed findings",
        Cell::int(suppressed),
        String::new(),
    );
    push(
        "Dekking van de laatste scan",
        "Coverage of the latest scan",
        Cell::Percent(e.coverage_percent),
        l(lang, "zie blad Dekking", "see sheet Coverage"),
    );
    // A coverage percentage never stands without what the listings could see.
    for line in cloudcensus_core::visibility::visibility_lines(&d.latest.coverage, lang == Lang::Nl)
    {
        let (provider, text) = line.split_once(": ").unwrap_or(("", line.as_str()));
        push(
            &format!("  zichtbaarheid {provider}"),
            &format!("  visibility {provider}"),
            Cell::text(text),
            String::new(),
        );
    }
    rows
}

/// Emits the rows of sheet `key`.
pub fn produce(
    d: &ReportData<'_>,
    key: &str,
    emit: &mut dyn FnMut(Vec<Cell>) -> Result<()>,
) -> Result<()> {
    let lang = d.ctx.lang;
    let reg = d.ctx.register;
    let e = &d.eval;
    let pairs = || reg.activities.iter().zip(&e.activities);
    match key {
        "cover" => {
            let first = d
                .scans
                .first()
                .map(|s| s.period.clone())
                .unwrap_or_default();
            let last = d.scans.last().map(|s| s.period.clone()).unwrap_or_default();
            let mut kv = |k: String, v: Cell| emit(vec![Cell::Text(k), v]);
            kv(
                l(lang, "Rapport", "Report"),
                Cell::text(format!(
                    "{} {}",
                    l(
                        lang,
                        "Jaarrapportage publiek cloudgebruik",
                        "Yearly report on public cloud use"
                    ),
                    d.year
                )),
            )?;
            kv(
                l(lang, "Organisatie", "Organisation"),
                Cell::text(d.ctx.organisation),
            )?;
            kv(
                l(lang, "Verslagjaar", "Year"),
                Cell::text(d.year.to_string()),
            )?;
            kv(
                l(lang, "Periode gedekt", "Period covered"),
                Cell::text(format!("{first} – {last}")),
            )?;
            kv(
                l(lang, "Aantal scans", "Scans used"),
                Cell::int(d.scans.len()),
            )?;
            for s in &d.scans {
                kv(
                    format!("  scan {}", s.period),
                    Cell::text(format!(
                        "{} · {} · sha256 {}",
                        s.id,
                        s.finished_at.format("%Y-%m-%d %H:%M UTC"),
                        if s.hash.is_empty() {
                            "-".to_string()
                        } else {
                            s.hash.clone()
                        }
                    )),
                )?;
            }
            kv(
                l(
                    lang,
                    "Register van verwerkingen",
                    "Register of processing activities",
                ),
                Cell::text(&reg.source),
            )?;
            kv(
                l(lang, "Beleid / regelset", "Policy / rule pack"),
                Cell::text(format!("{} ({})", d.ctx.pack.title, d.ctx.pack.name)),
            )?;
            kv(
                l(lang, "Bron beleid", "Policy source"),
                Cell::text(&d.ctx.pack.source),
            )?;
            kv(
                l(lang, "Locatiecatalogus", "Location catalog"),
                Cell::text(d.ctx.catalog.version()),
            )?;
            kv(
                l(lang, "Peildatum locatieklassen", "Classification date"),
                Cell::Date(e.reference_date),
            )?;
            kv(
                l(lang, "Gegenereerd op", "Generated at"),
                Cell::DateTime(d.generated_at),
            )?;
            kv(
                l(lang, "Gegenereerd met", "Generated with"),
                Cell::text(format!("cloudcensus {}", d.tool_version)),
            )?;
            kv(
                l(lang, "Vastgesteld door", "Approved by"),
                Cell::text("____________________________"),
            )?;
            kv(
                l(lang, "Datum vaststelling", "Date of approval"),
                Cell::text("____________________________"),
            )?;
        }
        "summary" => {
            for (topic, value, note) in summary_rows(d) {
                emit(vec![Cell::Text(topic), value, Cell::Text(note)])?;
            }
        }
        "known-use" => {
            for (a, f) in pairs().filter(|(a, f)| a.personal_data && in_public_cloud(a, f)) {
                emit(vec![
                    Cell::text(&a.id),
                    Cell::text(&a.name),
                    Cell::text(&a.unit),
                    Cell::text(a.providers.join(", ")),
                    Cell::opt_text(a.service_model.map(|m| m.label())),
                    Cell::opt_text(a.cloud_type.map(|m| m.label())),
                    Cell::text(observed(lang, f)),
                    Cell::opt_text(f.worst_class.map(|c| class_label(lang, c))),
                    Cell::text(a.declared_locations.join(", ")),
                    transfer(a),
                    Cell::opt_date(a.prescan_dpia),
                    Cell::opt_text(a.formal_dpia.map(|m| m.label())),
                    Cell::opt_date(a.formal_dpia_date),
                    Cell::opt_date(a.dpia_sent_to_cio),
                    yes_no(lang, a.material),
                    Cell::opt_text(a.exit_strategy.map(|b| {
                        if b {
                            l(lang, "ja", "yes")
                        } else {
                            l(lang, "nee", "no")
                        }
                    })),
                    Cell::opt_text(a.right_to_audit.map(|m| m.label())),
                    Cell::int(f.resources),
                    Cell::text(a.data_subjects.join("; ")),
                    Cell::text(a.data_categories.join("; ")),
                    Cell::text(&a.retention),
                    Cell::text(a.recipients.join("; ")),
                    Cell::text(
                        a.unfilled
                            .iter()
                            .map(|u| {
                                if lang == Lang::Nl {
                                    u.label()
                                } else {
                                    u.label_en()
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                ])?;
            }
        }
        "material-use" => {
            for (a, f) in pairs().filter(|(a, f)| a.material && in_public_cloud(a, f)) {
                let types = f
                    .by_type
                    .iter()
                    .map(|(t, n)| format!("{t} ×{n}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                emit(vec![
                    Cell::text(&a.id),
                    Cell::text(&a.name),
                    Cell::text(&a.unit),
                    Cell::text(&a.material_reason),
                    Cell::text(a.providers.join(", ")),
                    Cell::int(f.resources),
                    Cell::int(f.data_bearing),
                    Cell::text(types),
                    Cell::opt_date(f.first_seen),
                    Cell::opt_date(f.last_seen),
                ])?;
            }
        }
        "transfers" => {
            for (a, f) in pairs() {
                for o in f
                    .locations
                    .iter()
                    .filter(|o| o.class != JurisdictionClass::Eea)
                {
                    emit(vec![
                        Cell::text(&a.id),
                        Cell::text(&a.name),
                        yes_no(lang, a.personal_data),
                        yes_no(lang, a.has_special_categories()),
                        Cell::text(o.provider.as_str()),
                        Cell::text(&o.location),
                        Cell::text(o.countries.join("+")),
                        Cell::text(class_label(lang, o.class)),
                        Cell::text(&o.basis),
                        yes_no(lang, o.replica_only),
                        Cell::int(o.resources),
                        transfer(a),
                        Cell::text(&a.transfer_instrument),
                        Cell::opt_date(a.dpia_sent_to_cio),
                    ])?;
                }
            }
        }
        "special-categories" => {
            for (a, f) in pairs().filter(|(a, _)| a.has_special_categories()) {
                let outside = f.locations.iter().any(|o| o.class.needs_safeguards());
                let explained = a.transfer_basis == Some(TransferBasis::Safeguards)
                    && !a.explain_reference.trim().is_empty();
                let status = if f.resources == 0 {
                    l(
                        lang,
                        "niet in de publieke cloud waargenomen",
                        "not observed in public cloud",
                    )
                } else if !outside {
                    l(lang, "voldoet aan 9a/9b", "meets 9a/9b")
                } else if explained && a.dpia_sent_to_cio.is_some() {
                    l(
                        lang,
                        "9c met explain, verzonden aan CIO Rijk",
                        "9c with explain, sent to CIO Rijk",
                    )
                } else if explained {
                    l(
                        lang,
                        "actie: explain naar CIO Rijk sturen",
                        "action: send explain to CIO Rijk",
                    )
                } else {
                    l(
                        lang,
                        "overtreding: buiten EER zonder 9c + explain",
                        "violation: outside EEA without 9c + explain",
                    )
                };
                emit(vec![
                    Cell::text(&a.id),
                    Cell::text(&a.name),
                    Cell::text(
                        a.special_categories
                            .iter()
                            .map(|c| c.label())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    Cell::int(f.resources),
                    Cell::text(observed(lang, f)),
                    Cell::opt_text(f.worst_class.map(|c| class_label(lang, c))),
                    transfer(a),
                    Cell::text(&a.explain_reference),
                    Cell::opt_date(a.dpia_sent_to_cio),
                    Cell::text(status),
                ])?;
            }
        }
        "key-registers" => {
            for (a, f) in pairs().filter(|(a, _)| a.has_basisregistratie()) {
                let explained = !a.explain_reference.trim().is_empty();
                let prior = a.cio_advice_prior();
                let status = if f.resources == 0 {
                    l(
                        lang,
                        "niet in de publieke cloud waargenomen",
                        "not observed in public cloud",
                    )
                } else if explained && prior {
                    l(
                        lang,
                        "explain met voorafgaand advies CIO Rijk",
                        "explain with prior CIO Rijk advice",
                    )
                } else {
                    l(
                        lang,
                        "overtreding: explain en voorafgaand advies ontbreken",
                        "violation: explain and prior advice missing",
                    )
                };
                emit(vec![
                    Cell::text(&a.id),
                    Cell::text(&a.name),
                    Cell::text(a.basisregistraties.join(", ")),
                    Cell::int(f.resources),
                    Cell::text(observed(lang, f)),
                    Cell::text(&a.explain_reference),
                    Cell::opt_date(a.cio_advice_date),
                    Cell::opt_date(a.decision_date),
                    Cell::text(status),
                ])?;
            }
        }
        "explain" => {
            for (a, f) in pairs() {
                let outside = f.locations.iter().any(|o| o.class.needs_safeguards());
                let sent_status = |date: Option<chrono::NaiveDate>| {
                    Cell::text(if date.is_some() {
                        l(lang, "verzonden", "sent")
                    } else {
                        l(lang, "te verzenden", "to send")
                    })
                };
                if outside && a.personal_data && !a.has_special_categories() {
                    emit(vec![
                        Cell::text(&a.id),
                        Cell::text(&a.name),
                        Cell::text(l(lang, "9. Persoonsgegevens", "9. Personal data")),
                        Cell::text(l(lang, "DPIA (pre-scan/formeel)", "DPIA (pre-scan/formal)")),
                        Cell::text(l(
                            lang,
                            "niet aantoonbaar 9a of 9b: gegevens buiten EER/adequaat",
                            "9a or 9b not demonstrable: data outside EEA/adequacy",
                        )),
                        Cell::text(&a.transfer_instrument),
                        Cell::opt_date(a.dpia_sent_to_cio),
                        sent_status(a.dpia_sent_to_cio),
                    ])?;
                }
                if outside && a.has_special_categories() {
                    emit(vec![
                        Cell::text(&a.id),
                        Cell::text(&a.name),
                        Cell::text(l(
                            lang,
                            "10. Bijzondere persoonsgegevens",
                            "10. Special categories",
                        )),
                        Cell::text(l(lang, "explain met DPIA", "explain with DPIA")),
                        Cell::text(l(
                            lang,
                            "bijzondere persoonsgegevens buiten EER/adequaat",
                            "special categories outside EEA/adequacy",
                        )),
                        Cell::text(&a.explain_reference),
                        Cell::opt_date(a.dpia_sent_to_cio),
                        sent_status(a.dpia_sent_to_cio),
                    ])?;
                }
                if f.resources > 0 && a.has_basisregistratie() {
                    emit(vec![
                        Cell::text(&a.id),
                        Cell::text(&a.name),
                        Cell::text(l(lang, "11. Basisregistraties", "11. Key registers")),
                        Cell::text(l(
                            lang,
                            "explain vooraf (advies CIO Rijk)",
                            "explain beforehand (CIO Rijk advice)",
                        )),
                        Cell::text(format!(
                            "{} {}",
                            l(
                                lang,
                                "basisregistratie in publieke cloud:",
                                "key register in public cloud:"
                            ),
                            a.basisregistraties.join(", ")
                        )),
                        Cell::text(&a.explain_reference),
                        Cell::opt_date(a.cio_advice_date),
                        Cell::text(if a.cio_advice_date.is_some() {
                            l(lang, "advies ontvangen", "advice received")
                        } else {
                            l(lang, "advies vragen", "ask for advice")
                        }),
                    ])?;
                }
            }
        }
        "unregistered" => {
            let mut rows: Vec<&(usize, crate::rules::SeenRange)> = e.unregistered.iter().collect();
            // Newest first, then by id: what appeared recently is what to chase.
            rows.sort_by(|x, y| {
                y.1.first
                    .cmp(&x.1.first)
                    .then_with(|| d.listed[x.0].id.cmp(&d.listed[y.0].id))
            });
            let opts = |p: Provider| cloudcensus_core::ClassifyOptions {
                dpf_certified: d.ctx.rules.dpf(p),
            };
            for (idx, seen) in rows {
                let r = &d.listed[*idx];
                let place = r.location.as_deref().map(|loc| {
                    d.ctx
                        .catalog
                        .classify(r.provider, loc, e.reference_date, opts(r.provider))
                });
                emit(vec![
                    Cell::text(r.provider.as_str()),
                    Cell::text(r.scope_id.as_str()),
                    Cell::opt_text(
                        place
                            .as_ref()
                            .map(|p| p.location.clone())
                            .or(r.location.as_deref().map(str::to_string)),
                    ),
                    Cell::opt_text(place.as_ref().map(|p| p.countries.join("+"))),
                    Cell::opt_text(place.as_ref().map(|p| class_label(lang, p.class))),
                    Cell::text(r.resource_type.as_str()),
                    Cell::text(&r.name),
                    Cell::text(&r.id),
                    Cell::text(&r.owner_hints),
                    Cell::text(creator_label(lang, &r.creator)),
                    r.created.map_or(Cell::Empty, Cell::DateTime),
                    Cell::Date(seen.first),
                    Cell::Date(seen.last),
                ])?;
            }
        }
        "findings" => {
            for f in &e.findings {
                emit(vec![
                    Cell::text(f.code.as_str()),
                    Cell::text(severity_label(lang, f.severity)),
                    Cell::text(f.clause.as_str()),
                    Cell::opt_text(f.activity_id.as_deref()),
                    Cell::opt_text(f.provider.map(|p| p.as_str())),
                    Cell::opt_text(f.scope.as_deref()),
                    Cell::opt_text(f.region.as_deref()),
                    Cell::text(f.countries.join("+")),
                    Cell::opt_text(f.class.map(|c| class_label(lang, c))),
                    Cell::opt_text(f.resource_type.as_deref()),
                    Cell::opt_text(f.resource_id.clone()),
                    Cell::text(&f.message),
                    Cell::text(f.action.as_str()),
                    Cell::opt_text(f.suppressed.clone()),
                ])?;
            }
        }
        "coverage" => {
            // Per scan, first what its listings could see: a type outside them is seen
            // only when tagged, which no coverage status says by itself.
            for s in &d.scans {
                for line in
                    cloudcensus_core::visibility::visibility_lines(&s.coverage, lang == Lang::Nl)
                {
                    let (provider, text) = line.split_once(": ").unwrap_or(("", line.as_str()));
                    emit(vec![
                        Cell::text(&s.id),
                        Cell::text(&s.period),
                        Cell::text(provider),
                        Cell::text("*"),
                        Cell::text("*"),
                        Cell::text(l(lang, "zichtbaarheid", "visibility")),
                        Cell::text(l(lang, "zichtbaarheid", "visibility")),
                        Cell::text(text),
                    ])?;
                }
            }
            for s in &d.scans {
                let mut entries: Vec<_> = s.coverage.iter().collect();
                // Gaps first so they cannot hide below thousands of "scanned" rows.
                entries.sort_by_key(|c| {
                    (
                        !c.status.is_gap(),
                        c.provider,
                        c.scope_id.clone(),
                        c.region.clone(),
                        c.service.clone(),
                    )
                });
                for c in entries {
                    emit(vec![
                        Cell::text(&s.id),
                        Cell::text(&s.period),
                        Cell::text(c.provider.as_str()),
                        Cell::text(&c.scope_id),
                        Cell::text(&c.region),
                        Cell::text(&c.service),
                        Cell::text(c.status.as_str()),
                        Cell::opt_text(c.message.clone()),
                    ])?;
                }
            }
        }
        "concentration" => {
            for s in &d.scans {
                for row in concentration_rows(d, s) {
                    emit(row)?;
                }
            }
        }
        "legend" => legend(d, emit)?,
        other => anyhow::bail!("no data for sheet key '{other}'"),
    }
    Ok(())
}

fn legend(d: &ReportData<'_>, emit: &mut dyn FnMut(Vec<Cell>) -> Result<()>) -> Result<()> {
    let lang = d.ctx.lang;
    let mut row =
        |s: String, t: String, m: String| emit(vec![Cell::Text(s), Cell::Text(t), Cell::Text(m)]);
    let rules_label = l(lang, "Regel", "Rule");
    for r in &d.ctx.pack.rules {
        row(
            rules_label.clone(),
            format!("{} ({})", r.code, severity_label(lang, r.severity)),
            format!(
                "{} — {} [{}] {}: {}",
                r.title(lang),
                r.explanation(lang),
                r.clause,
                l(lang, "Actie", "Action"),
                r.action(lang)
            ),
        )?;
    }
    let cls = l(lang, "Locatieklasse", "Location class");
    let defs: [(JurisdictionClass, &str, &str); 5] = [
        (
            JurisdictionClass::Eea,
            "Binnen de Europese Economische Ruimte (EU + IJsland, Liechtenstein, Noorwegen): voorwaarde 9a.",
            "Inside the European Economic Area (EU + Iceland, Liechtenstein, Norway): condition 9a.",
        ),
        (
            JurisdictionClass::Adequacy,
            "Land met een adequaatheidsbesluit van de Europese Commissie dat op de peildatum gold: voorwaarde 9b. De VS alleen via het Data Privacy Framework (vanaf 10-07-2023) en alleen voor gecertificeerde organisaties.",
            "Country with an EU adequacy decision in force on the reference date: condition 9b. The US only via the Data Privacy Framework (from 2023-07-10) and only for certified organisations.",
        ),
        (
            JurisdictionClass::ThirdCountry,
            "Buiten EER zonder adequaatheid: alleen met een passend doorgiftemechanisme (art. 46 AVG, bv. SCC/BCR): voorwaarde 9c.",
            "Outside the EEA without adequacy: only with an appropriate transfer mechanism (GDPR art. 46, e.g. SCC/BCR): condition 9c.",
        ),
        (
            JurisdictionClass::C2000Excluded,
            "Land uitgesloten op grond van de C2000-criteria (voorwaarde 7).",
            "Country excluded under the C2000 criteria (condition 7).",
        ),
        (
            JurisdictionClass::Unknown,
            "Locatie niet in de catalogus of niet aan één plaats gebonden; nooit als EER behandeld.",
            "Location not in the catalog or not bound to one place; never treated as EEA.",
        ),
    ];
    for (c, nl, en) in defs {
        row(cls.clone(), class_label(lang, c), l(lang, nl, en))?;
    }
    let adq = l(lang, "Adequaatheidsbesluit", "Adequacy decision");
    let start = chrono::NaiveDate::from_ymd_opt(d.year, 1, 1).unwrap_or(d.eval.reference_date);
    let end = chrono::NaiveDate::from_ymd_opt(d.year, 12, 31).unwrap_or(d.eval.reference_date);
    let mut decisions: Vec<_> = d
        .ctx
        .catalog
        .adequacy_decisions()
        .iter()
        .filter(|a| a.valid_from <= end && a.valid_until.is_none_or(|u| u >= start))
        .collect();
    decisions.sort_by(|a, b| {
        a.country
            .cmp(&b.country)
            .then(a.valid_from.cmp(&b.valid_from))
    });
    for a in decisions {
        let country = d.ctx.catalog.country_name(&a.country).unwrap_or(&a.country);
        row(
            adq.clone(),
            format!("{} ({})", a.decision, a.country),
            format!(
                "{country}: {} {} {}{}{}",
                l(lang, "geldig vanaf", "valid from"),
                a.valid_from,
                a.valid_until
                    .map(|u| format!("{} {u}", l(lang, "t/m", "until")))
                    .unwrap_or_default(),
                if a.scope.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", a.scope)
                },
                if a.requires_certification {
                    l(
                        lang,
                        " — alleen gecertificeerde organisaties",
                        " — certified organisations only",
                    )
                } else {
                    String::new()
                },
            ),
        )?;
    }
    let def = l(lang, "Begrip", "Term");
    let terms: [(&str, &str, &str, &str); 7] = [
        (
            "Materieel cloudgebruik",
            "Material cloud use",
            "Gebruik van publieke clouddiensten ten behoeve van de primaire taak van de organisatie: de dienst is van wezenlijk belang (voorwaarde 5).",
            "Use of public cloud services for the primary task of the organisation: the service is essential (condition 5).",
        ),
        (
            "Gekend gebruik",
            "Known use",
            "Departementen kennen hun materieel publiek cloudgebruik en rapporteren jaarlijks aan CIO Rijk over verwerking van persoonsgegevens in de publieke cloud (voorwaarde 3).",
            "Departments know their material public cloud use and report yearly to CIO Rijk on processing of personal data in public cloud (condition 3).",
        ),
        (
            "9a / 9b / 9c",
            "9a / 9b / 9c",
            "9a: opslag en verwerking binnen de EER; 9b: land met adequaatheidsbesluit; 9c: passend doorgiftemechanisme (art. 46 AVG, bv. standaardcontractbepalingen).",
            "9a: storage and processing within the EEA; 9b: country with an adequacy decision; 9c: appropriate transfer mechanism (GDPR art. 46, e.g. standard contractual clauses).",
        ),
        (
            "Pas toe of leg uit",
            "Comply or explain",
            "Uitzondering is mogelijk als die wordt uitgelegd; de explain (met DPIA) gaat naar CIO Rijk (voorwaarden 10 en 11).",
            "An exception is allowed when explained; the explain (with the DPIA) goes to CIO Rijk (conditions 10 and 11).",
        ),
        (
            "Replica-locatie",
            "Replica location",
            "Een extra locatie met een kopie van de gegevens (S3-replicatie, Azure geo-redundante opslag, Google dual-/multi-regio). Telt mee als waargenomen locatie.",
            "An extra location holding a copy of the data (S3 replication, Azure geo-redundant storage, Google dual/multi-region). Counts as an observed location.",
        ),
        (
            "Concentratie",
            "Concentration",
            "Voorwaarde 6: hoeveel materiële verwerkingen van één provider afhangen, en onder welke jurisdictie het moederbedrijf valt. Een Amerikaans moederbedrijf valt onder de CLOUD Act en FISA 702, ook voor gegevens in EU-regio's. Een verwerking bij twee providers telt bij beide mee. Regel CB-CONC meldt een aandeel boven max_provider_share.",
            "Condition 6: how many material activities depend on one provider, and under whose jurisdiction its parent company falls. A US parent is subject to the CLOUD Act and FISA 702, also for data in EU regions. An activity on two providers counts for both. Rule CB-CONC reports a share above max_provider_share.",
        ),
        (
            "Dekking",
            "Coverage",
            "Wat de scan niet kon uitlezen (geen toegang, throttling, fout) staat op het blad Dekking en telt als bevinding CB-COVERAGE; het is nooit 'nul resources'.",
            "What the scan could not list (access denied, throttling, error) is on the Coverage sheet and counts as finding CB-COVERAGE; it is never 'zero resources'.",
        ),
    ];
    for (tnl, ten, nl, en) in terms {
        row(def.clone(), l(lang, tnl, ten), l(lang, nl, en))?;
    }
    Ok(())
}

/// The rows of the *Concentratie* sheet for one scan: a row per provider.
///
/// A provider the scan did not list at all (no coverage entry) gets "not scanned" for its
/// data-bearing resources instead of a zero; its material activities still count, since
/// the register names them.
fn concentration_rows(d: &ReportData<'_>, s: &super::ScanSummary) -> Vec<Vec<Cell>> {
    let lang = d.ctx.lang;
    let c = &s.concentration;
    let date = s.finished_at.date_naive();
    let catalog = d.ctx.catalog;
    c.providers
        .iter()
        .map(|p| {
            let facts = catalog.facts_of(p.provider);
            let scanned = s.coverage.iter().any(|e| e.provider == p.provider);
            let unknown = || {
                Cell::text(l(
                    lang,
                    "onbekend (geen providergegevens)",
                    "unknown (no provider facts)",
                ))
            };
            let (parent, jurisdiction, laws) = match facts {
                Some(f) => {
                    let country = catalog
                        .country_name(&f.home_country)
                        .unwrap_or(&f.home_country);
                    let side = if catalog.is_eea_member(&f.home_country, date) {
                        l(lang, "binnen de EER", "inside the EEA")
                    } else {
                        l(lang, "buiten de EER", "outside the EEA")
                    };
                    (
                        Cell::text(&f.parent),
                        Cell::text(format!("{} — {country} ({side})", f.home_country)),
                        if f.laws.is_empty() {
                            Cell::text(l(lang, "geen bekend", "none known"))
                        } else {
                            Cell::text(f.laws.join("; "))
                        },
                    )
                }
                None => (unknown(), unknown(), unknown()),
            };
            let (bearing, bearing_share) = if scanned {
                (
                    Cell::int(p.data_bearing),
                    Cell::Percent(if c.data_bearing_total == 0 {
                        0.0
                    } else {
                        p.data_bearing as f64 * 100.0 / c.data_bearing_total as f64
                    }),
                )
            } else {
                let t = l(lang, "niet gescand", "not scanned");
                (Cell::text(&t), Cell::text(&t))
            };
            vec![
                Cell::text(&s.period),
                Cell::text(p.provider.company()),
                parent,
                jurisdiction,
                laws,
                Cell::int(p.material),
                Cell::Percent(c.share(p.material)),
                Cell::int(p.personal),
                Cell::int(p.special),
                Cell::int(p.basis),
                Cell::int(p.no_exit),
                bearing,
                bearing_share,
            ]
        })
        .collect()
}

/// The headline of condition 6: the share of the material activities on the provider that
/// carries most of them in scan `s`, as (percent, text naming the provider and the count).
pub fn concentration_headline(lang: Lang, s: &super::ScanSummary) -> Option<(f64, String)> {
    let c = &s.concentration;
    let top = c.largest()?;
    Some((
        c.share(top.material),
        match lang {
            Lang::Nl => format!(
                "{}: {} van {} ({})",
                top.provider.company(),
                top.material,
                c.material_total,
                s.period
            ),
            Lang::En => format!(
                "{}: {} of {} ({})",
                top.provider.company(),
                top.material,
                c.material_total,
                s.period
            ),
        },
    ))
}

/// Monthly severity counts for the chart: (period, counts per severity).
pub fn monthly_severities(d: &ReportData<'_>) -> Vec<(String, BTreeMap<Severity, usize>)> {
    d.scans
        .iter()
        .map(|s| (s.period.clone(), s.severities.clone()))
        .collect()
}

#[cfg(test)]
mod creator_label_tests {
    use super::*;

    #[test]
    fn a_dutch_sheet_says_why_a_creator_is_unknown_in_dutch_and_keeps_principals_as_they_are() {
        assert_eq!(
            creator_label(Lang::Nl, "unknown (older than 90 days)"),
            "onbekend (ouder dan 90 dagen)"
        );
        assert_eq!(
            creator_label(Lang::Nl, "unknown (not looked up)"),
            "onbekend (niet opgezocht)"
        );
        assert_eq!(
            creator_label(Lang::En, "unknown (older than 90 days)"),
            "unknown (older than 90 days)"
        );
        let arn = "arn:aws:sts::1:assumed-role/R/unknown (x)";
        assert_eq!(creator_label(Lang::Nl, arn), arn);
    }
}
