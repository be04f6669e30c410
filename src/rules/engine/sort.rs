//! The deterministic order of findings, as a packed-key sort (on two threads for a large
//! evaluation).

use super::super::Finding;
use super::super::shared::{FastMap, SharedStr};

/// Ranks of the distinct values of interned text: equal text, equal rank; order as
/// `str`'s. Keyed by allocation address (interned values share one), so ranking a
/// finding is a hash lookup of an integer.
fn text_ranks<'f>(values: impl Iterator<Item = &'f SharedStr>) -> FastMap<usize, u32> {
    let mut distinct: FastMap<usize, &SharedStr> = FastMap::default();
    for v in values {
        distinct.entry(v.addr()).or_insert(v);
    }
    let mut list: Vec<(usize, &SharedStr)> = distinct.into_iter().collect();
    list.sort_by(|a, b| a.1.as_str().cmp(b.1.as_str()));
    let mut ranks = FastMap::default();
    let mut rank = 0u32;
    for (i, (addr, v)) in list.iter().enumerate() {
        if i > 0 && list[i - 1].1.as_str() != v.as_str() {
            rank += 1;
        }
        ranks.insert(*addr, rank);
    }
    ranks
}

/// Sorts findings by severity (worst first), code, activity, provider, scope, resource,
/// region and message; ties keep their emission order (the order of a stable sort).
///
/// The leading fields are packed into one integer key per finding (interned text by
/// rank), so most comparisons are one integer comparison; the findings are sorted as
/// indices and then permuted in place, without moving ~200-byte structs around or
/// allocating a second vector of them.
pub(in crate::rules) fn sort_findings(out: &mut [Finding]) {
    sort_findings_split(out, PARALLEL_SORT_MIN);
}

/// From this many findings on, the two halves are sorted on two threads.
const PARALLEL_SORT_MIN: usize = 100_000;

/// [`sort_findings`], with the size from which it sorts on two threads.
fn sort_findings_split(out: &mut [Finding], parallel_min: usize) {
    let codes = text_ranks(out.iter().map(|f| &f.code));
    let acts = text_ranks(out.iter().filter_map(|f| f.activity_id.as_ref()));
    let scopes = text_ranks(out.iter().filter_map(|f| f.scope.as_ref()));
    let opt_rank = |ranks: &FastMap<usize, u32>, v: Option<&SharedStr>| -> u128 {
        v.map_or(0, |v| u128::from(ranks[&v.addr()]) + 1)
    };
    let keys: Vec<u128> = out
        .iter()
        .map(|f| {
            let severity = u128::from(4 - f.severity as u8);
            let code = u128::from(codes[&f.code.addr()]);
            let act = opt_rank(&acts, f.activity_id.as_ref());
            let provider = f.provider.map_or(0, |p| u128::from(p as u8) + 1);
            let scope = opt_rank(&scopes, f.scope.as_ref());
            (severity << 120) | (code << 96) | (act << 56) | (provider << 48) | scope
        })
        .collect();
    // Sort (key, resource id, index) entries: contiguous keys, and a tie on the key
    // costs one string comparison instead of two struct lookups. The comparison is a
    // total order (the index breaks ties), so sorting two halves on two threads and
    // merging them gives exactly the order a single sort would.
    type Entry<'f> = (u128, Option<&'f str>, usize);
    let cmp = |a: &Entry<'_>, b: &Entry<'_>| {
        a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)).then_with(|| {
            let (x, y) = (&out[a.2], &out[b.2]);
            x.region
                .cmp(&y.region)
                .then_with(|| x.message.cmp(&y.message))
                .then_with(|| a.2.cmp(&b.2))
        })
    };
    let mut entries: Vec<Entry<'_>> = keys
        .iter()
        .zip(out.iter())
        .enumerate()
        .map(|(i, (&k, f))| (k, f.resource_id.as_deref(), i))
        .collect();
    let n = entries.len();
    let mid = n / 2;
    let (left, right) = entries.split_at_mut(mid);
    if n >= parallel_min {
        std::thread::scope(|s| {
            s.spawn(|| left.sort_unstable_by(cmp));
            right.sort_unstable_by(cmp);
        });
    } else {
        left.sort_unstable_by(cmp);
        right.sort_unstable_by(cmp);
    }
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let (mut i, mut j) = (0, mid);
    while i < mid && j < n {
        if cmp(&entries[j], &entries[i]).is_lt() {
            order.push(entries[j].2);
            j += 1;
        } else {
            order.push(entries[i].2);
            i += 1;
        }
    }
    order.extend(entries[i..mid].iter().map(|e| e.2));
    order.extend(entries[j..].iter().map(|e| e.2));
    drop(entries);
    // Position k receives the finding at order[k]: follow each cycle with swaps.
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        if order[start] == DONE {
            continue;
        }
        let mut cur = start;
        loop {
            let src = order[cur];
            order[cur] = DONE;
            if src == start {
                break;
            }
            out.swap(cur, src);
            cur = src;
        }
    }
}

#[cfg(test)]
mod sort_tests {
    use super::*;
    use crate::matching::MatchSettings;
    use crate::rules::engine::run;
    use crate::rules::{Context, Lang, RulePack, RuleSettings};
    use crate::synth::Synth;
    use cloudcensus_core::Catalog;

    /// The comparator findings were sorted with before the packed keys: the packed,
    /// in-place sort must give exactly the order of a stable sort with it.
    fn reference_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.code.as_str().cmp(b.code.as_str()))
            .then_with(|| a.activity_id.as_deref().cmp(&b.activity_id.as_deref()))
            .then_with(|| a.provider.cmp(&b.provider))
            .then_with(|| a.scope.as_deref().cmp(&b.scope.as_deref()))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
            .then_with(|| a.region.as_deref().cmp(&b.region.as_deref()))
            .then_with(|| a.message.cmp(&b.message))
    }

    #[test]
    fn packed_sort_gives_the_order_of_a_stable_sort_on_the_fields() {
        let synth = Synth::new(7).with_activities(300);
        let register = synth.register();
        let scan = synth.scan_data(5_000);
        let catalog = Catalog::builtin().unwrap();
        let pack = RulePack::builtin("cloudbeleid-2022").unwrap();
        let settings = RuleSettings::default();
        let matching = MatchSettings::default();
        let ctx = Context {
            organisation: "Ministerie van Financiën",
            register: &register,
            catalog: &catalog,
            pack: &pack,
            rules: &settings,
            matching: &matching,
            lang: Lang::Nl,
        };
        let sorted = run(&ctx, &scan, None).findings;
        assert!(sorted.len() > 1_000, "a dirty estate: {}", sorted.len());
        // Shuffle deterministically (reverse, then interleave halves), re-sort both ways.
        let mut shuffled: Vec<Finding> = sorted.iter().rev().cloned().collect();
        let half = shuffled.split_off(shuffled.len() / 2);
        let mut mixed: Vec<Finding> = Vec::new();
        for (a, b) in shuffled.into_iter().zip(half) {
            mixed.push(b);
            mixed.push(a);
        }
        // Text that is equal but not interned together must still rank as equal.
        for f in mixed.iter_mut().step_by(3) {
            f.scope = f.scope.as_deref().map(SharedStr::from);
        }
        let mut expected = mixed.clone();
        expected.sort_by(reference_order);
        let mut threaded = mixed.clone();
        sort_findings(&mut mixed);
        assert_eq!(mixed, expected);
        // The same on two threads (the path a large estate takes).
        sort_findings_split(&mut threaded, 0);
        assert_eq!(threaded, expected);
        let mut again = sorted.clone();
        again.sort_by(reference_order);
        assert_eq!(sorted, again, "evaluation output is in reference order");
    }
}
