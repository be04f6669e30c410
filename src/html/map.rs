//! The page's world map: countries coloured by jurisdiction class, with resource counts.
//!
//! Outlines come from `world.tsv` (Natural Earth via world-atlas, projected and simplified
//! by `scripts/map/build-world.cjs`). Each resource location is placed with the same
//! catalog call the evaluation makes ([`Catalog::classify`] on the scan date, with the
//! provider's DPF setting), so the map cannot disagree with the findings.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use cloudcensus_core::{ClassifyOptions, JurisdictionClass, ScanData};

use super::{Texts, class_key, escape, fill};
use crate::rules::Context;

const WORLD_TSV: &str = include_str!("world.tsv");

/// The Europe inset, in canvas units (Iceland to Cyprus).
const EUROPE: (f64, f64, f64, f64) = (885.0, 25.0, 330.0, 225.0);

/// One country outline.
#[derive(Debug)]
pub struct Outline {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    /// Natural Earth's name.
    pub name: String,
    /// Label point (centroid of the largest ring), canvas units.
    pub label: (f64, f64),
    /// SVG path data.
    pub path: String,
}

/// The outlines and the canvas size.
pub struct World {
    /// Canvas width and height.
    pub size: (f64, f64),
    /// Outlines by code.
    pub outlines: Vec<Outline>,
}

/// Parses `world.tsv`.
pub fn parse(text: &str) -> Result<World, String> {
    let mut size = None;
    let mut outlines = Vec::new();
    let mut header = false;
    for (n, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("# canvas ") {
            let v: Vec<f64> = rest
                .split(' ')
                .map(|x| x.parse().map_err(|_| format!("line {}: bad canvas", n + 1)))
                .collect::<Result<_, _>>()?;
            if v.len() != 2 {
                return Err(format!("line {}: canvas needs width and height", n + 1));
            }
            size = Some((v[0], v[1]));
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if !header {
            if line != "country\tname\tlabel_x\tlabel_y\tpath" {
                return Err(format!("line {}: unexpected header '{line}'", n + 1));
            }
            header = true;
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let [code, name, x, y, path] = f[..] else {
            return Err(format!("line {}: expected 5 tab-separated fields", n + 1));
        };
        let num = |s: &str| {
            s.parse::<f64>()
                .map_err(|_| format!("line {}: '{s}' is not a number", n + 1))
        };
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!("line {}: '{code}' is not an alpha-2 code", n + 1));
        }
        if !path.starts_with('M')
            || !path
                .bytes()
                .all(|b| b.is_ascii_digit() || b" -Mlz".contains(&b))
        {
            return Err(format!(
                "line {}: path of {code} is not plain path data",
                n + 1
            ));
        }
        outlines.push(Outline {
            code: code.to_string(),
            name: name.to_string(),
            label: (num(x)?, num(y)?),
            path: path.to_string(),
        });
    }
    let size = size.ok_or("no '# canvas W H' line")?;
    Ok(World { size, outlines })
}

/// The built-in outlines.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    // A test parses the file; a broken file cannot reach a release.
    WORLD.get_or_init(|| parse(WORLD_TSV).expect("src/html/world.tsv is valid"))
}

/// Resources in one country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCount {
    /// ISO alpha-2.
    pub country: String,
    /// Worst class of what is there.
    pub class: JurisdictionClass,
    /// Resources with a location (primary or replica) here.
    pub resources: usize,
    /// Of which only a replica is here.
    pub replica_only: usize,
}

/// What the map shows.
#[derive(Debug, Clone, Default)]
pub struct Places {
    /// Per country.
    pub countries: Vec<CountryCount>,
    /// Resources with a location the catalog places in no country (or no location).
    pub unplaced: usize,
}

/// Places every resource location of `scan` in its countries.
pub fn place(ctx: &Context<'_>, scan: &ScanData) -> Places {
    let date = scan.meta.reference_date();
    // country -> (class, resources, replica only)
    let mut by: BTreeMap<String, (JurisdictionClass, usize, usize)> = BTreeMap::new();
    let mut cache: BTreeMap<(cloudcensus_core::Provider, &str), Vec<(String, JurisdictionClass)>> =
        BTreeMap::new();
    let mut unplaced = 0;
    for r in &scan.resources {
        let opts = ClassifyOptions {
            dpf_certified: ctx.rules.dpf(r.provider),
        };
        // country -> (class, seen as primary)
        let mut here: BTreeMap<String, (JurisdictionClass, bool)> = BTreeMap::new();
        let mut lost = r.location.is_none();
        let all = r
            .location
            .iter()
            .map(|l| (l.as_str(), false))
            .chain(r.replica_locations.iter().map(|l| (l.as_str(), true)));
        for (raw, replica) in all {
            let per = cache.entry((r.provider, raw)).or_insert_with(|| {
                ctx.catalog
                    .classify(r.provider, raw, date, opts)
                    .per_country
                    .into_iter()
                    .map(|c| (c.country, c.class))
                    .collect()
            });
            if per.is_empty() {
                lost = true;
            }
            for (c, class) in per.iter() {
                let e = here.entry(c.clone()).or_insert((*class, false));
                e.0 = e.0.max(*class);
                e.1 |= !replica;
            }
        }
        if lost {
            unplaced += 1;
        }
        for (c, (class, primary)) in here {
            let e = by.entry(c).or_insert((class, 0, 0));
            e.0 = e.0.max(class);
            e.1 += 1;
            if !primary {
                e.2 += 1;
            }
        }
    }
    let mut countries: Vec<CountryCount> = by
        .into_iter()
        .map(|(country, (class, resources, replica_only))| CountryCount {
            country,
            class,
            resources,
            replica_only,
        })
        .collect();
    countries.sort_by(|a, b| {
        b.class
            .cmp(&a.class)
            .then(b.resources.cmp(&a.resources))
            .then(a.country.cmp(&b.country))
    });
    Places {
        countries,
        unplaced,
    }
}

fn in_europe(p: (f64, f64)) -> bool {
    let (x, y, w, h) = EUROPE;
    p.0 >= x && p.0 <= x + w && p.1 >= y && p.1 <= y + h
}

/// Pushes overlapping bubbles apart (a few rounds of pairwise separation with a pull back
/// to the anchor), so neighbouring countries' counts stay readable.
fn separate(anchors: &[(f64, f64)], radius: f64) -> Vec<(f64, f64)> {
    let mut p = anchors.to_vec();
    let min = 2.0 * radius + radius * 0.25;
    for _ in 0..200 {
        let mut moved = false;
        for i in 0..p.len() {
            for j in i + 1..p.len() {
                let (dx, dy) = (p[j].0 - p[i].0, p[j].1 - p[i].1);
                let d = (dx * dx + dy * dy).sqrt();
                if d < min {
                    let (ux, uy) = if d < 1e-6 {
                        // Same point: split along a fixed direction per pair.
                        let a = (i * 7 + j * 13) as f64;
                        (a.cos(), a.sin())
                    } else {
                        (dx / d, dy / d)
                    };
                    let push = (min - d) / 2.0;
                    p[i].0 -= ux * push;
                    p[i].1 -= uy * push;
                    p[j].0 += ux * push;
                    p[j].1 += uy * push;
                    moved = true;
                }
            }
        }
        for (q, a) in p.iter_mut().zip(anchors) {
            q.0 += (a.0 - q.0) * 0.02;
            q.1 += (a.1 - q.1) * 0.02;
        }
        if !moved {
            break;
        }
    }
    p
}

fn bubbles(out: &mut String, items: &[(&CountryCount, (f64, f64), &str)], radius: f64) {
    let anchors: Vec<(f64, f64)> = items.iter().map(|i| i.1).collect();
    let at = separate(&anchors, radius);
    for ((c, a, name), p) in items.iter().zip(&at) {
        let cls = c.class.as_str();
        let moved = ((p.0 - a.0).powi(2) + (p.1 - a.1).powi(2)).sqrt() > radius * 0.6;
        let _ = write!(
            out,
            "<g class=\"bubble c-{cls}\" data-country=\"{}\">",
            escape(&c.country)
        );
        let _ = write!(out, "<title>{}: {}</title>", escape(name), c.resources);
        if moved {
            let _ = write!(
                out,
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/><circle class=\"dot\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\"/>",
                a.0,
                a.1,
                p.0,
                p.1,
                a.0,
                a.1,
                radius * 0.18
            );
        }
        let r = if c.resources >= 1000 {
            radius * 1.35
        } else {
            radius
        };
        let _ = write!(
            out,
            "<circle class=\"b{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{:.1}\">{}</text></g>",
            if c.replica_only == c.resources {
                " replica"
            } else {
                ""
            },
            p.0,
            p.1,
            p.0,
            p.1 + radius * 0.36,
            radius * if c.resources >= 100 { 0.8 } else { 1.0 },
            c.resources
        );
    }
}

/// The map's markup: a world view, a Europe inset and the per-country table.
pub fn render(places: &Places, texts: &Texts) -> String {
    let w = world();
    let counts: BTreeMap<&str, &CountryCount> = places
        .countries
        .iter()
        .map(|c| (c.country.as_str(), c))
        .collect();
    let mut paths = String::with_capacity(WORLD_TSV.len() + 8 * 1024);
    for o in &w.outlines {
        let cls = match counts.get(o.code.as_str()) {
            Some(c) if c.replica_only == c.resources => {
                format!("c-{} replica", c.class.as_str())
            }
            Some(c) => format!("c-{}", c.class.as_str()),
            None => "empty".to_string(),
        };
        let _ = write!(
            paths,
            "<path class=\"{cls}\" data-country=\"{}\" d=\"{}\"><title>{}</title></path>",
            escape(&o.code),
            o.path,
            escape(&o.name)
        );
    }
    let mut out = String::new();
    out.push_str("<div class=\"maps\">\n");
    // Hatching for replica-only countries, one pattern per class colour (CSS sets them).
    let defs: String = JurisdictionClass::ALL
        .iter()
        .map(|c| {
            format!(
                "<pattern id=\"h-{k}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" \
                 patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" class=\"hb\"/>\
                 <rect width=\"3\" height=\"6\" class=\"hf c-{k}\"/></pattern>",
                k = c.as_str()
            )
        })
        .collect();
    let name_of = |code: &str| -> String {
        w.outlines
            .iter()
            .find(|o| o.code == code)
            .map(|o| o.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let mut world_items = Vec::new();
    let mut europe_items = Vec::new();
    let names: Vec<(String, String)> = places
        .countries
        .iter()
        .map(|c| (c.country.clone(), name_of(&c.country)))
        .collect();
    for (c, (_, name)) in places.countries.iter().zip(&names) {
        let Some(o) = w.outlines.iter().find(|o| o.code == c.country) else {
            continue;
        };
        if in_europe(o.label) {
            europe_items.push((c, o.label, name.as_str()));
        } else {
            world_items.push((c, o.label, name.as_str()));
        }
    }
    // World view.
    let _ = write!(
        out,
        "<figure class=\"world\"><svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\
         <defs>{defs}</defs><g id=\"cc-countries\">{paths}</g>",
        w.size.0,
        w.size.1,
        escape(texts.get("map_world"))
    );
    let (ex, ey, ew, eh) = EUROPE;
    let _ = write!(
        out,
        "<rect class=\"inset\" x=\"{ex}\" y=\"{ey}\" width=\"{ew}\" height=\"{eh}\"/>\
         <text class=\"inset-l\" x=\"{ex}\" y=\"{}\">{}</text>",
        ey + eh + 18.0,
        escape(texts.get("map_europe"))
    );
    bubbles(&mut out, &world_items, 16.0);
    out.push_str("</svg></figure>\n");
    // Europe inset: the same outlines, zoomed.
    let _ = write!(
        out,
        "<figure class=\"europe\"><figcaption>{}</figcaption><svg viewBox=\"{ex} {ey} {ew} {eh}\" role=\"img\" aria-label=\"{}\">\
         <use href=\"#cc-countries\"/>",
        escape(texts.get("map_europe")),
        escape(texts.get("map_europe"))
    );
    bubbles(&mut out, &europe_items, 6.5);
    out.push_str("</svg></figure>\n");
    // Legend and the numbers as a table (readable, printable, and what tests check).
    out.push_str("<div class=\"side\"><ul class=\"legend\">");
    for c in JurisdictionClass::ALL.iter().rev() {
        let _ = write!(
            out,
            "<li><span class=\"sw c-{}\"></span>{}</li>",
            c.as_str(),
            escape(texts.get(&class_key(*c)))
        );
    }
    let _ = write!(
        out,
        "<li><span class=\"sw replica c-eea\"></span>{}</li></ul>",
        escape(texts.get("replicas"))
    );
    if places.countries.is_empty() {
        let _ = write!(
            out,
            "<p class=\"note\">{}</p>",
            escape(texts.get("map_none"))
        );
    } else {
        let _ = write!(
            out,
            "<table class=\"countries\"><thead><tr><th>{}</th><th>{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead><tbody>",
            escape(texts.get("col_country")),
            escape(texts.get("col_class")),
            escape(texts.get("col_resources")),
            escape(texts.get("col_replicas"))
        );
        for (c, (_, name)) in places.countries.iter().zip(&names) {
            let _ = write!(
                out,
                "<tr data-country=\"{code}\"><td>{} <span class=\"code\">{code}</span></td><td><span class=\"sw c-{k}\"></span>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(name),
                escape(texts.get(&class_key(c.class))),
                c.resources,
                c.replica_only,
                code = escape(&c.country),
                k = c.class.as_str()
            );
        }
        out.push_str("</tbody></table>");
    }
    if places.unplaced > 0 {
        let _ = write!(
            out,
            "<p class=\"note\" data-metric=\"unplaced\">{}</p>",
            escape(&fill(
                texts.get("map_unplaced"),
                &[("n", &places.unplaced.to_string())]
            ))
        );
    }
    let _ = write!(
        out,
        "<p class=\"source\">{}</p></div>\n</div>\n",
        escape(texts.get("map_source"))
    );
    out
}
