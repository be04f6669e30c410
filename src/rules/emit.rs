//! How a rule emits a finding: the pack's code, severity, clause and action, plus where
//! it was found (resource, activity, location). Rule modules call [`Emitter`]; the engine
//! collects what they emit.

use cloudcensus_core::{Placement, Resource};

use super::shared::{FastMap, Interner};
use super::{Context, Countries, Finding, ObservedLocation, SharedStr};
use crate::register::Activity;

/// The message in the evaluation language. A macro, not a function, so only the chosen
/// language's text is formatted (evaluation emits a message per finding; formatting both
/// doubled the cost of a million-resource evaluation).
macro_rules! t {
    ($lang:expr, $nl:expr, $en:expr $(,)?) => {
        match $lang {
            $crate::rules::Lang::Nl => $nl,
            $crate::rules::Lang::En => $en,
        }
    };
}
pub(crate) use t;

/// A rule's texts, shared by every finding of that code.
pub(crate) struct RuleText {
    code: SharedStr,
    severity: super::Severity,
    clause: SharedStr,
    action: SharedStr,
}

/// `format!` into a reused per-thread buffer, then one allocation of exactly the
/// message's length: `format!`'s own estimate is the literal text only, so almost every
/// message grew (reallocated) once or twice, and a generous up-front capacity wastes
/// ~60 bytes per finding, for hundreds of thousands of findings per evaluation.
macro_rules! msg {
    ($($arg:tt)*) => {{
        $crate::rules::emit::MSG_BUF.with_borrow_mut(|buf| {
            buf.clear();
            std::fmt::Write::write_fmt(buf, format_args!($($arg)*))
                .expect("writing to a String cannot fail");
            String::from(buf.as_str())
        })
    }};
}

pub(crate) use msg;

thread_local! {
    /// The buffer [`msg!`] formats into.
    pub(crate) static MSG_BUF: std::cell::RefCell<String> = std::cell::RefCell::new(String::with_capacity(512));
}

/// Emits findings with the pack's texts for one evaluation run (one per thread).
pub(crate) struct Emitter<'c> {
    /// What the evaluation runs with.
    pub(crate) ctx: &'c Context<'c>,
    /// The findings emitted so far.
    pub(crate) out: Vec<Finding>,
    rules: FastMap<&'c str, RuleText>,
    /// Interned text shared by findings.
    pub(crate) intern: Interner,
}

impl<'c> Emitter<'c> {
    pub(crate) fn new(ctx: &'c Context<'c>) -> Self {
        let rules = ctx
            .pack
            .rules
            .iter()
            .rev() // the first rule with a code wins, as with `RulePack::rule`
            .map(|r| {
                (
                    r.code.as_str(),
                    RuleText {
                        code: SharedStr::from(r.code.as_str()),
                        severity: r.severity,
                        clause: SharedStr::from(r.clause.as_str()),
                        action: SharedStr::from(r.action(ctx.lang)),
                    },
                )
            })
            .collect();
        Emitter {
            ctx,
            out: Vec::new(),
            rules,
            intern: Interner::default(),
        }
    }

    pub(crate) fn base(&self, code: &str, message: String) -> Option<Finding> {
        let rule = self.rules.get(code)?;
        Some(Finding {
            code: rule.code.clone(),
            severity: rule.severity,
            clause: rule.clause.clone(),
            provider: None,
            scope: None,
            region: None,
            countries: Countries::default(),
            class: None,
            resource_id: None,
            resource_type: None,
            activity_id: None,
            message,
            action: rule.action.clone(),
            suppressed: None,
        })
    }

    pub(crate) fn resource(
        &mut self,
        code: &str,
        r: &Resource,
        place: Option<&Placement>,
        activity: Option<&str>,
        message: String,
    ) {
        if let Some(mut f) = self.base(code, message) {
            f.provider = Some(r.provider);
            f.scope = Some(self.intern.str(&r.scope_id));
            f.resource_id = Some(r.id.clone());
            f.resource_type = Some(self.intern.str(&r.resource_type));
            f.activity_id = activity.map(|a| self.intern.str(a));
            match place {
                Some(p) => {
                    f.region = Some(self.intern.str(&p.location));
                    f.countries = self.intern.countries(&p.countries);
                    f.class = Some(p.class);
                }
                None => f.region = r.location.as_deref().map(|l| self.intern.str(l)),
            }
            self.out.push(f);
        }
    }

    pub(crate) fn activity(
        &mut self,
        code: &str,
        a: &Activity,
        sample: Option<&Resource>,
        loc: Option<&ObservedLocation>,
        message: String,
    ) {
        if let Some(mut f) = self.base(code, message) {
            f.activity_id = Some(self.intern.str(&a.id));
            if let Some(r) = sample {
                f.provider = Some(r.provider);
                f.scope = Some(self.intern.str(&r.scope_id));
                f.resource_id = Some(r.id.clone());
                f.resource_type = Some(self.intern.str(&r.resource_type));
            }
            if let Some(l) = loc {
                f.provider = Some(l.provider);
                f.region = Some(self.intern.str(&l.location));
                f.countries = self.intern.countries(&l.countries);
                f.class = Some(l.class);
            }
            self.out.push(f);
        }
    }
}
