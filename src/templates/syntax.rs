//! Where a template's syntax error is. Handlebars' parser reports where it stopped, which for
//! an expression or a block left open is far from the mistake (the next `{{`, or the end of
//! the file): these are found first and reported where they open.

use handlebars::TemplateError;

use super::position;
use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

/// A syntax error, placed where the mistake is: an expression never closed, a block never
/// closed (or closed with another name), else where the parser stopped.
pub fn problem(e: &TemplateError, source: &SourceFile) -> Diagnostic {
    if let Some(d) = unclosed_expression(source).or_else(|| unbalanced_blocks(source)) {
        return d;
    }
    let (line, column) = e.pos().unwrap_or((0, 0));
    let reason = e.reason().to_string();
    // The parser's own message lists every token it could have accepted; keep the gist.
    let reason = match reason.split_once(": expected") {
        Some((gist, _)) => gist.to_string(),
        None => reason,
    };
    Diagnostic::error(format!("invalid template syntax: {reason}")).at(position(
        source,
        Some(line),
        Some(column),
    ))
}

/// A block opened and never closed (or closed with another name): named with the place of
/// its opening, which the parser alone reports at the end of the file.
fn unbalanced_blocks(source: &SourceFile) -> Option<Diagnostic> {
    let text = &source.text;
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut at = 0;
    while let Some(found) = text[at..].find("{{") {
        let start = at + found;
        let rest = text[start + 2..].trim_start_matches('~');
        let (kind, rest) = match rest.chars().next() {
            Some('#') | Some('/') => (rest.chars().next()?, &rest[1..]),
            _ => {
                at = start + 2;
                continue;
            }
        };
        let rest = rest.trim_start_matches(['>', '*']);
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '}' && *c != '~')
            .collect();
        if kind == '#' {
            stack.push((name, start));
        } else {
            match stack.pop() {
                Some((open, _)) if open == name => {}
                Some((open, offset)) => {
                    let loc = source.locate(start..start + 2 + name.len() + 1);
                    let opened = source.position(offset);
                    return Some(
                        Diagnostic::error(format!(
                            "invalid template syntax: `{{{{/{name}}}}}` closes `{{{{#{open}}}}}` (opened at line {}, column {})",
                            opened.line, opened.column
                        ))
                        .at(loc),
                    );
                }
                None => {
                    return Some(
                        Diagnostic::error(format!(
                            "invalid template syntax: `{{{{/{name}}}}}` closes a block that was never opened"
                        ))
                        .at(source.locate(start..start + 2 + name.len() + 1)),
                    );
                }
            }
        }
        at = start + 2;
    }
    let (open, offset) = stack.pop()?;
    Some(
        Diagnostic::error(format!(
            "invalid template syntax: `{{{{#{open}}}}}` is never closed"
        ))
        .at(source.locate(offset..offset + 3 + open.len()))
        .help(format!("add `{{{{/{open}}}}}` where the block ends")),
    )
}

/// An expression whose closing braces never come before the next `{{` (or the end): `{{x`,
/// `{{{x}`, `{{{{raw}}}`. Comments are skipped whole; an escaped `\{{` opens nothing.
fn unclosed_expression(source: &SourceFile) -> Option<Diagnostic> {
    let text = &source.text;
    let mut at = 0;
    while let Some(found) = text[at..].find("{{") {
        let start = at + found;
        if text[..start].ends_with('\\') {
            at = start + 2;
            continue;
        }
        let braces = text[start..]
            .chars()
            .take_while(|&c| c == '{')
            .count()
            .min(4);
        let rest = &text[start + braces..];
        let close = if rest.starts_with("!--") {
            "--}}".to_string()
        } else {
            "}".repeat(braces)
        };
        let end = rest.find(&close);
        let next = rest.find("{{");
        match (end, next) {
            (Some(end), Some(next)) if next < end && !rest.starts_with('!') => {}
            (Some(end), _) => {
                at = start + braces + end + close.len();
                continue;
            }
            (None, _) => {}
        }
        let opening = "{".repeat(braces);
        return Some(
            Diagnostic::error(format!(
                "invalid template syntax: `{opening}` is never closed by `{close}`"
            ))
            .at(source.locate(start..start + braces))
            .help(format!("close the expression with `{close}`")),
        );
    }
    None
}
