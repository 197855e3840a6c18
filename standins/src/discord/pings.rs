//! Whom a Discord message pings: the mentions in its `content` (embeds never ping), narrowed by
//! `allowed_mentions` as Discord narrows them.

use serde_json::Value;

/// Whom a message notifies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pings {
    /// User ids from `<@id>` and `<@!id>`, in order of first mention.
    pub users: Vec<String>,
    /// Role ids from `<@&id>`, in order of first mention.
    pub roles: Vec<String>,
    /// `@everyone` or `@here`.
    pub everyone: bool,
}

impl Pings {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.roles.is_empty() && !self.everyone
    }
}

/// The pings of a body that carries `content`; `None` when it has none (an edit that leaves the
/// content alone leaves its mentions alone too).
pub(super) fn pings(body: &Value) -> Option<Pings> {
    let content = body.get("content")?.as_str()?;
    let allowed = Allowed::read(&body["allowed_mentions"]);
    let mut pings = Pings::default();
    for (kind, id) in mentions(content) {
        let (list, pinged) = match kind {
            Kind::User => (&mut pings.users, allowed.may("users", &allowed.users, id)),
            Kind::Role => (&mut pings.roles, allowed.may("roles", &allowed.roles, id)),
        };
        if pinged && !list.iter().any(|known| known == id) {
            list.push(id.to_string());
        }
    }
    pings.everyone = (content.contains("@everyone") || content.contains("@here"))
        && allowed
            .parse
            .as_ref()
            .is_none_or(|p| p.contains(&"everyone"));
    Some(pings)
}

enum Kind {
    User,
    Role,
}

/// `<@id>`, `<@!id>` and `<@&id>` in `content`, in order.
fn mentions(content: &str) -> Vec<(Kind, &str)> {
    let mut found = Vec::new();
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let (kind, id_start) = match rest.as_bytes().first() {
            Some(b'&') => (Kind::Role, 1),
            Some(b'!') => (Kind::User, 1),
            _ => (Kind::User, 0),
        };
        let tail = &rest[id_start..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with('>') {
            found.push((kind, &tail[..digits]));
        }
    }
    found
}

/// `allowed_mentions` as sent; `parse` is `None` when the field is missing or null, which Discord
/// reads as "parse everything".
struct Allowed<'a> {
    parse: Option<Vec<&'a str>>,
    users: Vec<&'a str>,
    roles: Vec<&'a str>,
}

impl<'a> Allowed<'a> {
    fn read(value: &'a Value) -> Self {
        let strings = |key: &str| -> Vec<&'a str> {
            value[key]
                .as_array()
                .map(|items| items.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        Self {
            // An `allowed_mentions` object without `parse` parses nothing but its explicit lists.
            parse: value.is_object().then(|| strings("parse")),
            users: strings("users"),
            roles: strings("roles"),
        }
    }

    fn may(&self, kind: &str, listed: &[&str], id: &str) -> bool {
        match &self.parse {
            None => true,
            Some(parse) => parse.contains(&kind) || listed.contains(&id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CONTENT: &str = "<@1> <@!2> <@&3> @here <@1> <@x> <@4";

    fn of(allowed_mentions: Value) -> Pings {
        pings(&json!({"content": CONTENT, "allowed_mentions": allowed_mentions})).unwrap()
    }

    #[test]
    fn no_allowed_mentions_parses_everything() {
        let all = pings(&json!({ "content": CONTENT })).unwrap();
        assert_eq!(
            all,
            Pings {
                users: vec!["1".into(), "2".into()],
                roles: vec!["3".into()],
                everyone: true
            }
        );
        assert_eq!(of(Value::Null), all);
    }

    #[test]
    fn allowed_mentions_narrow_by_kind_and_id() {
        assert!(of(json!({"parse": []})).is_empty());
        assert!(of(json!({})).is_empty(), "no parse means parse nothing");
        let users = of(json!({"users": ["2", "9"]}));
        assert_eq!(
            (users.users, users.roles, users.everyone),
            (vec!["2".to_string()], vec![], false)
        );
        let roles = of(json!({"parse": ["everyone"], "roles": ["3"]}));
        assert_eq!(
            (roles.users.len(), roles.roles, roles.everyone),
            (0, vec!["3".to_string()], true)
        );
    }

    #[test]
    fn embeds_and_missing_content_never_ping() {
        assert_eq!(
            pings(&json!({"embeds": [{"description": "@everyone"}]})),
            None
        );
    }
}
