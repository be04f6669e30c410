//! HTML page tests without a browser: escaping, texts, outlines, headline, map counts.
//! The browser tests are in tests/html_cli.rs.

use std::path::Path;

use chrono::TimeZone;
use cloudcensus_core::{Catalog, Category, Provider, Resource};

use super::*;
use crate::matching::MatchSettings;
use crate::register::Register;
use crate::rules::{RulePack, RuleSettings};

struct Fixture {
    register: Register,
    catalog: Catalog,
    pack: RulePack,
    rules: RuleSettings,
    matching: MatchSettings,
}

impl Fixture {
    fn new() -> Fixture {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/register.csv");
        Fixture {
            register: crate::register::load(&path, None).unwrap().register,
            catalog: Catalog::builtin().unwrap(),
            pack: RulePack::builtin("cloudbeleid-2022").unwrap(),
            rules: RuleSettings::default(),
            matching: MatchSettings::default(),
        }
    }

    fn ctx(&self, lang: Lang) -> Context<'_> {
        Context {
            organisation: "Ministerie van <Voorbeeld> & Zaken",
            register: &self.register,
            catalog: &self.catalog,
            pack: &self.pack,
            rules: &self.rules,
            matching: &self.matching,
            lang,
        }
    }
}

const HOSTILE_NAME: &str = "</script><script>window.__pwned=1</script>";
const HOSTILE_OWNER: &str = "<img src=x onerror=\"window.__pwned=2\">";
const HOSTILE_ACTIVITY: &str = "javascript:window.__pwned=3";
const HOSTILE_SEPARATORS: &str = "line\u{2028}para\u{2029}end <!-- &amp;";

fn hostile() -> Resource {
    let mut tags = std::collections::BTreeMap::new();
    tags.insert("owner".to_string(), HOSTILE_OWNER.to_string());
    tags.insert("contact".to_string(), HOSTILE_SEPARATORS.to_string());
    Resource {
        provider: Provider::Aws,
        scope_id: "999988887777".into(),
        id: format!("arn:aws:s3:::{HOSTILE_NAME}"),
        resource_type: "s3:bucket".into(),
        category: Category::DataStore,
        name: HOSTILE_NAME.into(),
        location: Some("eu-west-1".into()),
        replica_locations: vec![],
        resource_group: None,
        tags,
        created_at: None,
    }
}

fn page(fx: &Fixture, scan: &ScanData, lang: Lang) -> (String, Evaluation) {
    let ctx = fx.ctx(lang);
    let eval = rules::evaluate(&ctx, scan, None);
    let rows = crate::commands::unregistered::rows(&ctx, scan, &eval);
    let html = render(&PageInput {
        ctx: &ctx,
        scan,
        eval: &eval,
        unregistered: &rows,
        changes: None,
        generated_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
    })
    .unwrap();
    (html, eval)
}

fn island_of(html: &str) -> serde_json::Value {
    let start = html
        .find("<script type=\"application/json\" id=\"data\">")
        .unwrap();
    let rest = &html[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest.find("</script>").unwrap();
    serde_json::from_str(&rest[open..close]).unwrap()
}

#[test]
fn hostile_tag_values_and_names_never_reach_the_markup_unescaped() {
    let fx = Fixture::new();
    let mut scan = crate::example_estate::scan(12);
    let mut r = hostile();
    scan.resources.push(r.clone());
    // An activity tag naming no register activity: CB-UNKNOWN-ID quotes it.
    r.id = "arn:aws:s3:::second".into();
    r.name = "second".into();
    r.tags
        .insert("verwerking".to_string(), HOSTILE_ACTIVITY.to_string());
    scan.resources.push(r);
    let (html, eval) = page(&fx, &scan, Lang::Nl);
    // Only the page's own two script elements open and close.
    assert_eq!(html.matches("<script").count(), 2, "script elements");
    assert_eq!(html.matches("</script>").count(), 2, "script ends");
    assert!(!html.contains("<img"), "an <img> made it into the markup");
    assert!(!html.contains('\u{2028}') && !html.contains('\u{2029}'));
    assert!(!html.contains("<!--"));
    assert!(html.contains("Ministerie van &lt;Voorbeeld&gt; &amp; Zaken"));
    assert!(!html.contains("href=\"javascript"));
    // The text survives: the island holds every hostile value verbatim.
    let island = island_of(&html);
    let strings: Vec<&str> = island["strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(strings.contains(&HOSTILE_NAME), "{strings:?}");
    let hints = strings
        .iter()
        .find(|s| s.contains("owner=<img"))
        .expect("owner hints in the island");
    assert!(hints.contains(HOSTILE_OWNER) && hints.contains(HOSTILE_SEPARATORS));
    assert!(
        eval.findings
            .iter()
            .any(|f| f.message.contains(HOSTILE_ACTIVITY)),
        "CB-UNKNOWN-ID quotes the tag"
    );
    assert!(strings.iter().any(|s| s.contains(HOSTILE_ACTIVITY)));
    // The script builds rows with textContent only.
    assert!(!JS.contains("innerHTML") && !JS.contains("insertAdjacentHTML"));
    assert!(!JS.contains("document.write") && !JS.contains("eval("));
}

#[test]
fn json_island_escapes_markup_characters_and_line_separators() {
    let v = serde_json::json!({ "a": "</script><!-- & \u{2028}\u{2029} >" });
    let s = json_island(&v).unwrap();
    for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
        assert!(!s.contains(bad), "{bad:?} in {s}");
    }
    let back: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(back, v, "the escapes mean the same text");
}

#[test]
fn escape_covers_element_and_attribute_contexts() {
    assert_eq!(
        escape("<a href=\"x\" title='y'>&</a>"),
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
    );
}

/// Keys quoted as `t("key")` / `texts.get("key")` / `key: "key"` in the page's sources.
fn used_keys(src: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for pat in ["t(\"", "texts.get(\"", "key: \"", "col(\"", "(\"nav_"] {
        for (i, _) in src.match_indices(pat) {
            let start = i + pat.len() - if pat == "(\"nav_" { 4 } else { 0 };
            if let Some(len) = src[start..].find('"') {
                let k = &src[start..start + len];
                if k.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !k.is_empty() {
                    keys.push(k.to_string());
                }
            }
        }
    }
    keys
}

#[test]
fn every_text_the_page_uses_exists_in_dutch_and_english() {
    assert!(Texts::blank().is_empty(), "blank: {:?}", Texts::blank());
    let known: Vec<&str> = Texts::keys().collect();
    let mut used = used_keys(JS);
    used.extend(used_keys(include_str!("mod.rs")));
    used.extend(used_keys(include_str!("map.rs")));
    used.extend(Severity::ALL.iter().map(|s| format!("sev_{}", s.as_str())));
    used.extend(JurisdictionClass::ALL.iter().map(|c| class_key(*c)));
    used.extend(
        [
            ChangeKind::Added,
            ChangeKind::Removed,
            ChangeKind::Moved,
            ChangeKind::ActivityChanged,
        ]
        .iter()
        .map(|k| change_key(*k)),
    );
    assert!(used.len() > 60, "found only {} keys: {used:?}", used.len());
    let missing: Vec<&String> = used
        .iter()
        .filter(|k| !known.contains(&k.as_str()))
        .collect();
    assert!(missing.is_empty(), "not in text.toml: {missing:?}");
    // Both languages differ where they should (a copy-paste would leave Dutch in English).
    assert_ne!(
        Texts::builtin(Lang::Nl).get("title"),
        Texts::builtin(Lang::En).get("title")
    );
}

#[test]
fn world_outlines_parse_and_include_the_small_cloud_countries() {
    let w = map::world();
    assert_eq!(w.size.0, 2000.0);
    let codes: Vec<&str> = w.outlines.iter().map(|o| o.code.as_str()).collect();
    for c in [
        "NL", "IE", "US", "SG", "HK", "BH", "MO", "QA", "IL", "CH", "GB", "AE", "KR",
    ] {
        assert!(codes.contains(&c), "{c} has no outline");
    }
    assert!(!codes.contains(&"AQ"), "Antarctica is dropped");
    for o in &w.outlines {
        assert!(
            o.label.0 >= 0.0 && o.label.0 <= w.size.0,
            "{} label x",
            o.code
        );
        assert!(
            o.label.1 >= 0.0 && o.label.1 <= w.size.1,
            "{} label y",
            o.code
        );
    }
    let err = map::parse("country\tname\tlabel_x\tlabel_y\tpath\nNL\tx\t1\t2\tM1 1z\n")
        .err()
        .unwrap();
    assert!(err.contains("no '# canvas"), "{err}");
    let err =
        map::parse("# canvas 10 10\ncountry\tname\tlabel_x\tlabel_y\tpath\nNL\tx\t1\t2\tM1 1\"z\n")
            .err()
            .unwrap();
    assert!(
        err.contains("line 3") && err.contains("not plain path data"),
        "{err}"
    );
}

#[test]
fn headline_is_the_evaluation_s_counts() {
    let fx = Fixture::new();
    let scan = crate::example_estate::scan(12);
    let (html, eval) = page(&fx, &scan, Lang::En);
    let h = headline(&eval, &scan);
    assert_eq!(h.resources, eval.resources_total);
    assert_eq!(h.unregistered, eval.unregistered.len());
    let counts = rules::count_by_severity(&eval.findings);
    for s in Severity::ALL {
        assert_eq!(h.findings[s.as_str()], counts.get(&s).copied().unwrap_or(0));
        assert!(html.contains(&format!(
            "data-metric=\"findings-{}\">{}<",
            s.as_str(),
            h.findings[s.as_str()]
        )));
    }
    assert!(h.outside_eea_adequacy >= h.c2000 && h.c2000 > 0, "{h:?}");
    assert!(html.contains(&format!("data-metric=\"resources\">{}<", h.resources)));
    assert!(html.contains("<html lang=\"en\">") && html.contains("Where the resources are"));
}

#[test]
fn map_counts_each_resource_once_per_country_and_marks_replica_only_countries() {
    let fx = Fixture::new();
    let mut scan = crate::example_estate::scan(12);
    let mut a = hostile();
    a.name = "a".into();
    a.id = "a".into();
    a.location = Some("eu-west-1".into());
    a.replica_locations = vec!["us-east-1".into(), "us-west-2".into(), "eu-west-1".into()];
    let mut b = a.clone();
    b.id = "b".into();
    b.location = Some("mars-north-1".into());
    b.replica_locations = vec![];
    scan.resources = vec![a, b];
    let ctx = fx.ctx(Lang::Nl);
    let places = map::place(&ctx, &scan);
    let ie = places.countries.iter().find(|c| c.country == "IE").unwrap();
    assert_eq!((ie.resources, ie.replica_only), (1, 0));
    let us = places.countries.iter().find(|c| c.country == "US").unwrap();
    assert_eq!(
        (us.resources, us.replica_only),
        (1, 1),
        "two US replicas, one resource"
    );
    assert_eq!(places.unplaced, 1, "mars-north-1 has no country");
    let html = map::render(&places, &Texts::builtin(Lang::Nl));
    assert!(html.contains("class=\"c-eea\" data-country=\"IE\""));
    assert!(
        html.contains("replica\" data-country=\"US\""),
        "US is hatched"
    );
}
