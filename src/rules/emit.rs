//! How a rule emits a finding: the pack's code, severity, clause and action, plus where
//! it was found (resource, activity, location). Rule modules call [`Emitter`]; the engine
//! collects what they emit. A finding's message is its rule's template from the pack
//! (parsed once per pack) filled with the values the rule passes.

use std::fmt::Display;

use cloudcensus_core::{Placement, Resource};

use super::message::{Message, Template};
use super::shared::{FastMap, Interner};
use super::{Context, Countries, Finding, ObservedLocation, SharedStr};
use crate::register::Activity;

/// A rule's texts, shared by every finding of that code.
pub(crate) struct RuleText {
    code: SharedStr,
    severity: super::Severity,
    clause: SharedStr,
    action: SharedStr,
}

/// Emits findings with the pack's texts for one evaluation run (one per thread).
pub(crate) struct Emitter<'c> {
    /// What the evaluation runs with.
    pub(crate) ctx: &'c Context<'c>,
    /// The findings emitted so far.
    pub(crate) out: Vec<Finding>,
    rules: FastMap<&'c str, RuleText>,
    /// The templates in the evaluation language, by [`Message::id`].
    templates: FastMap<usize, &'c Template>,
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
        let templates = super::policy::messages()
            .filter_map(|m| Some((m.id(), ctx.pack.template(m, ctx.lang)?)))
            .collect();
        Emitter {
            ctx,
            out: Vec::new(),
            rules,
            templates,
            intern: Interner::default(),
        }
    }

    /// A word a rule lists (a message without placeholders) in the evaluation language;
    /// empty when the pack lacks the rule (its findings are not emitted either).
    pub(crate) fn word(&self, msg: &'static Message) -> &'c str {
        self.templates.get(&msg.id()).map_or("", |t| t.text())
    }

    /// A finding of `msg`'s rule with `msg` filled with `args` (in the order of its
    /// placeholders), without a location; `None` when the pack lacks the rule.
    pub(crate) fn base(&self, msg: &'static Message, args: &[&dyn Display]) -> Option<Finding> {
        debug_assert_eq!(
            args.len(),
            msg.placeholders.len(),
            "{} {}",
            msg.code,
            msg.key
        );
        let rule = self.rules.get(msg.code)?;
        let message = self.templates.get(&msg.id())?.render(args);
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

    /// A finding about resource `r` (at `place`, linked to `activity`).
    pub(crate) fn resource(
        &mut self,
        msg: &'static Message,
        r: &Resource,
        place: Option<&Placement>,
        activity: Option<&str>,
        args: &[&dyn Display],
    ) {
        if let Some(mut f) = self.base(msg, args) {
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

    /// A finding about activity `a` (with a sample resource and/or an observed location).
    pub(crate) fn activity(
        &mut self,
        msg: &'static Message,
        a: &Activity,
        sample: Option<&Resource>,
        loc: Option<&ObservedLocation>,
        args: &[&dyn Display],
    ) {
        if let Some(mut f) = self.base(msg, args) {
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
