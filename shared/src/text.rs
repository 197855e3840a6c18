//! Escaping and truncating untrusted text, counted in characters as both providers count them.

use std::borrow::Cow;

pub const ELLIPSIS: char = '…';

/// Escapes every character of `raw` with `escape` and cuts the result to at most `max` characters,
/// never inside an escape sequence, ending with an ellipsis when anything was cut.
pub fn escape_within(
    raw: &str,
    max: usize,
    escape: impl Fn(char) -> Option<&'static str>,
) -> String {
    let pieces: Vec<Piece> = raw
        .chars()
        .map(|c| match escape(c) {
            Some(seq) => Piece::Seq(seq),
            None => Piece::Char(c),
        })
        .collect();
    let total: usize = pieces.iter().map(|p| p.width()).sum();
    let mut out = String::with_capacity(raw.len());
    if total <= max {
        pieces.iter().for_each(|piece| piece.push_to(&mut out));
        return out;
    }
    // The ellipsis takes one place.
    let mut used = 0;
    for piece in pieces {
        if used + piece.width() + 1 > max {
            break;
        }
        piece.push_to(&mut out);
        used += piece.width();
    }
    if max > 0 {
        out.push(ELLIPSIS);
    }
    out
}

/// Cuts plain text (no escaping) to `max` characters with an ellipsis.
pub fn truncate(raw: &str, max: usize) -> Cow<'_, str> {
    if raw.chars().count() <= max {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(escape_within(raw, max, |_| None))
    }
}

#[derive(Clone, Copy)]
enum Piece {
    Char(char),
    Seq(&'static str),
}

impl Piece {
    fn width(self) -> usize {
        match self {
            Piece::Char(_) => 1,
            Piece::Seq(seq) => seq.chars().count(),
        }
    }

    fn push_to(self, out: &mut String) {
        match self {
            Piece::Char(c) => out.push(c),
            Piece::Seq(seq) => out.push_str(seq),
        }
    }
}

/// Turns `release:autoscale-disabled` into `Release autoscale disabled`, `spend_usd` into `Spend usd`.
pub fn humanize(identifier: &str) -> String {
    let words: Vec<&str> = identifier
        .split(|c: char| c == ':' || c == '-' || c == '_' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = words.join(" ");
    if let Some(first) = out.chars().next() {
        let upper: String = first.to_uppercase().collect();
        out.replace_range(..first.len_utf8(), &upper);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amp(c: char) -> Option<&'static str> {
        (c == '&').then_some("&amp;")
    }

    #[test]
    fn short_text_is_kept() {
        assert_eq!(escape_within("a&b", 10, amp), "a&amp;b");
        assert_eq!(escape_within("abcde", 5, amp), "abcde");
    }

    #[test]
    fn long_text_ends_with_an_ellipsis_within_the_limit() {
        let out = escape_within("abcdefgh", 5, amp);
        assert_eq!(out, "abcd…");
        assert_eq!(out.chars().count(), 5);
    }

    #[test]
    fn never_cuts_an_escape_in_half() {
        let out = escape_within("ab&&&&", 6, amp);
        assert_eq!(out, "ab…");
        let out = escape_within("&&&&", 10, amp);
        assert_eq!(out, "&amp;…");
    }

    #[test]
    fn counts_characters_not_bytes() {
        let out = truncate("ééééé", 3);
        assert_eq!(out, "éé…");
    }

    #[test]
    fn humanizes_identifiers() {
        assert_eq!(
            humanize("release:autoscale-disabled"),
            "Release autoscale disabled"
        );
        assert_eq!(humanize("spend_usd"), "Spend usd");
        assert_eq!(humanize("élan"), "Élan");
        assert_eq!(humanize(""), "");
    }
}
