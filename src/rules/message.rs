//! Finding messages as data: each rule's messages live in the rule pack as templates with
//! named placeholders (`{name}`, `{location}`; `{{` and `}}` for literal braces), in every
//! language. The Rust side of a message is a [`Message`]: which rule and key it belongs
//! to and which values it supplies, in order. A pack is checked against those when it
//! loads (a missing message, an unknown key, an unknown or unused placeholder is an error
//! naming the rule and the key), and each template is parsed once per pack, so emitting
//! a finding is a walk over pre-split text.

use std::fmt::{self, Display, Write as _};

/// A message a rule emits: its rule code, its key in the pack (`[rule.messages.KEY]`) and
/// the placeholders it fills, in the order the rule passes their values.
#[derive(Debug)]
pub(crate) struct Message {
    /// Rule code, e.g. `CB-UNREG`.
    pub code: &'static str,
    /// Key under the rule's `messages` table.
    pub key: &'static str,
    /// Placeholder names, in argument order.
    pub placeholders: &'static [&'static str],
}

impl Message {
    /// A message of rule `code` under `key`, filling `placeholders`.
    pub(crate) const fn new(
        code: &'static str,
        key: &'static str,
        placeholders: &'static [&'static str],
    ) -> Self {
        Message {
            code,
            key,
            placeholders,
        }
    }

    /// The identity used to find this message's template: its address (messages are
    /// statics).
    pub(crate) fn id(&'static self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// What it fills in, for error messages: `placeholders {a}, {b}`.
    pub(crate) fn describe(&self) -> String {
        if self.placeholders.is_empty() {
            "no placeholders".to_string()
        } else {
            format!("placeholders {}", self.listed())
        }
    }

    /// The placeholders as `{a}, {b}` for error messages.
    fn listed(&self) -> String {
        if self.placeholders.is_empty() {
            return "none".to_string();
        }
        self.placeholders
            .iter()
            .map(|p| format!("{{{p}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Literal text.
    Text(Box<str>),
    /// The value of the placeholder at this argument index.
    Arg(usize),
}

/// A template parsed against its [`Message`]: literal text and argument indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
    /// The literal length, to size the output.
    literal: usize,
}

impl Template {
    /// Parses `text` for `msg`. Errors name the problem; the caller adds rule, key and
    /// language.
    pub(crate) fn parse(msg: &Message, text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut used = vec![false; msg.placeholders.len()];
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|&(_, n)| n == '{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek().is_some_and(|&(_, n)| n == '}') => {
                    chars.next();
                    lit.push('}');
                }
                '}' => {
                    return Err(format!(
                        "a '}}' at byte {at} closes nothing (write '}}}}' for a literal brace)"
                    ));
                }
                '{' => {
                    let rest = &text[at + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(format!(
                            "the '{{' at byte {at} is not closed (write '{{{{' for a literal brace)"
                        ));
                    };
                    let name = &rest[..end];
                    let Some(i) = msg.placeholders.iter().position(|p| *p == name) else {
                        return Err(format!(
                            "unknown placeholder {{{name}}}; this message has {}",
                            msg.listed()
                        ));
                    };
                    used[i] = true;
                    if !lit.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut lit).into_boxed_str()));
                    }
                    pieces.push(Piece::Arg(i));
                    // Skip the name and the closing brace.
                    for _ in 0..name.chars().count() + 1 {
                        chars.next();
                    }
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Text(lit.into_boxed_str()));
        }
        let unused: Vec<String> = msg
            .placeholders
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .map(|(p, _)| format!("{{{p}}}"))
            .collect();
        if !unused.is_empty() {
            return Err(format!(
                "placeholder {} is missing; this message has {}",
                unused.join(", "),
                msg.listed()
            ));
        }
        let literal = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len(),
                Piece::Arg(_) => 0,
            })
            .sum();
        Ok(Template { pieces, literal })
    }

    /// The text of a template without placeholders (a word a rule lists).
    pub(crate) fn text(&self) -> &str {
        match self.pieces.as_slice() {
            [Piece::Text(t)] => t,
            _ => "",
        }
    }

    /// Writes the template with `args` (in the message's placeholder order) into `out`.
    pub(crate) fn write(&self, out: &mut String, args: &[&dyn Display]) -> fmt::Result {
        out.reserve(self.literal);
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Arg(i) => write!(out, "{}", args[*i])?,
            }
        }
        Ok(())
    }

    /// The template with `args`, as one allocation of exactly its length.
    pub(crate) fn render(&self, args: &[&dyn Display]) -> String {
        MSG_BUF.with_borrow_mut(|buf| {
            buf.clear();
            self.write(buf, args)
                .expect("writing to a String cannot fail");
            String::from(buf.as_str())
        })
    }
}

thread_local! {
    /// The buffer [`Template::render`] writes into: one reused buffer per thread, then one
    /// allocation of exactly the message's length (hundreds of thousands of findings per
    /// evaluation; growing each message's own string reallocated once or twice).
    static MSG_BUF: std::cell::RefCell<String> = std::cell::RefCell::new(String::with_capacity(512));
}

#[cfg(test)]
mod tests {
    use super::*;

    static M: Message = Message::new("CB-X", "k", &["name", "where"]);

    #[test]
    fn a_template_fills_named_placeholders_in_any_order() {
        let t = Template::parse(&M, "{where}: '{name}' {{literal}}").unwrap();
        assert_eq!(t.render(&[&"a", &"eu-west-1"]), "eu-west-1: 'a' {literal}");
    }

    #[test]
    fn an_unknown_placeholder_is_named_with_the_ones_available() {
        let e = Template::parse(&M, "{name} {wher}").unwrap_err();
        assert!(e.contains("unknown placeholder {wher}"), "{e}");
        assert!(e.contains("{name}, {where}"), "{e}");
    }

    #[test]
    fn a_placeholder_the_template_leaves_out_is_an_error() {
        let e = Template::parse(&M, "only {name}").unwrap_err();
        assert!(e.contains("placeholder {where} is missing"), "{e}");
    }

    #[test]
    fn an_unbalanced_brace_is_an_error() {
        assert!(Template::parse(&M, "{name} {where").is_err());
        assert!(Template::parse(&M, "{name} {where} }").is_err());
    }
}
