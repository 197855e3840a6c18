//! The chat providers and the places on them a message can go, as operators write them.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    Slack,
    Discord,
}

impl Provider {
    pub const ALL: [Self; 2] = [Self::Slack, Self::Discord];

    /// The name in settings and routing documents.
    pub fn key(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Discord => "discord",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|provider| raw.trim().eq_ignore_ascii_case(provider.key()))
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Slack => "Slack",
            Self::Discord => "Discord",
        })
    }
}

/// How a message reaches its place: a bot token's API, or a webhook whose URL is a secret in SSM.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    /// A Slack channel name or id, or a Discord channel id.
    Channel(String),
    /// A direct message to a Slack (`U…`) or Discord user id.
    User(String),
    /// A direct message to the Slack user with this email address.
    Email(String),
    /// The SSM SecureString parameter holding a webhook URL; the URL itself is never kept in settings.
    Webhook(String),
}

/// Someone a route's messages ping: named only in the routing document, never taken from event text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mention {
    SlackUser(String),
    /// A Slack user group (`S…`).
    SlackGroup(String),
    DiscordUser(String),
    DiscordRole(String),
}

impl Mention {
    pub fn provider(&self) -> Provider {
        match self {
            Self::SlackUser(_) | Self::SlackGroup(_) => Provider::Slack,
            Self::DiscordUser(_) | Self::DiscordRole(_) => Provider::Discord,
        }
    }

    /// Slack's markup for it; `None` on Discord.
    pub fn slack(&self) -> Option<String> {
        match self {
            Self::SlackUser(id) => Some(format!("<@{id}>")),
            Self::SlackGroup(id) => Some(format!("<!subteam^{id}>")),
            _ => None,
        }
    }

    /// Discord's markup for it; `None` on Slack.
    pub fn discord(&self) -> Option<String> {
        match self {
            Self::DiscordUser(id) => Some(format!("<@{id}>")),
            Self::DiscordRole(id) => Some(format!("<@&{id}>")),
            _ => None,
        }
    }

    /// Reads `slack:@U…` (a user), `slack:@S…` (a user group), `discord:@<id>` (a user) or
    /// `discord:@&<id>` (a role); without a prefix, on `default`.
    pub fn parse(raw: &str, default: Option<Provider>) -> Result<Self, String> {
        let raw = raw.trim();
        let (provider, who) = match raw.split_once(':') {
            Some((prefix, who)) => (
                Provider::parse(prefix)
                    .ok_or_else(|| format!("`{raw}`: `{prefix}` is not slack or discord"))?,
                who.trim(),
            ),
            None => (
                default.ok_or_else(|| {
                    format!("`{raw}` names no provider: write `slack:{raw}` or `discord:{raw}`")
                })?,
                raw,
            ),
        };
        let id = who
            .strip_prefix('@')
            .ok_or_else(|| format!("`{raw}`: a mention starts with `@`"))?;
        let alphanumeric =
            |id: &str| id.len() >= 3 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        match provider {
            Provider::Slack if alphanumeric(id) && (id.starts_with('U') || id.starts_with('W')) => {
                Ok(Self::SlackUser(id.to_owned()))
            }
            Provider::Slack if alphanumeric(id) && id.starts_with('S') => {
                Ok(Self::SlackGroup(id.to_owned()))
            }
            Provider::Slack => Err(format!(
                "`{raw}` is not a Slack user id (`@U…`) or user group id (`@S…`)"
            )),
            Provider::Discord => match id.strip_prefix('&') {
                Some(role) if is_snowflake(role) => Ok(Self::DiscordRole(role.to_owned())),
                None if is_snowflake(id) => Ok(Self::DiscordUser(id.to_owned())),
                _ => Err(format!(
                    "`{raw}` is not a Discord user (`@<id>`) or role (`@&<id>`) id"
                )),
            },
        }
    }
}

/// What the provider says it posted: where the message landed and the id to edit or reply to it by.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    /// The channel the message landed in, as the provider names it (a DM's channel for users).
    pub channel: String,
    /// Slack's `ts` or Discord's message id; empty when the provider gives none (a Slack webhook, or an
    /// answer that said it posted without saying what).
    pub message_id: String,
}

/// One place on one provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Destination {
    pub provider: Provider,
    pub place: Place,
}

/// Shown as operators write it: `#deploys`, `@U0123`, `webhook /rack/hooks/ops`; the provider apart.
impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Place::Channel(channel) => write!(f, "#{channel}"),
            Place::User(user) | Place::Email(user) => write!(f, "@{user}"),
            Place::Webhook(parameter) => write!(f, "webhook {parameter}"),
        }
    }
}

impl Destination {
    pub fn new(provider: Provider, place: Place) -> Self {
        Self { provider, place }
    }

    /// Provider and place, unique across providers: the destination's part of a delivery's key.
    pub fn key(&self) -> String {
        format!("{}:{self}", self.provider.key())
    }

    /// Whether the provider gives back an id by which the message can be edited and replied to.
    pub fn can_edit(&self) -> bool {
        !matches!(
            (self.provider, &self.place),
            (Provider::Slack, Place::Webhook(_))
        )
    }

    /// Reads `slack:#deploys`, `discord:@42`, `slack-webhook:/param`, `discord-webhook:/param`, or, without
    /// a prefix, a place on `default` (the seed's settings name no provider per destination):
    /// `#name`, `name`, `@U…`, `@person@example.com` on Slack; `#<id>`, `<id>`, `@<id>` on Discord.
    pub fn parse(raw: &str, default: Option<Provider>) -> Result<Self, String> {
        let raw = raw.trim();
        let (provider, webhook, place) = match raw.split_once(':') {
            Some((prefix, rest)) if !prefix.contains(['#', '@', '/']) => {
                let (name, webhook) = match prefix.strip_suffix("-webhook") {
                    Some(name) => (name, true),
                    None => (prefix, false),
                };
                let provider = Provider::parse(name).ok_or_else(|| {
                    format!("`{raw}`: `{prefix}` is not slack, discord, slack-webhook or discord-webhook")
                })?;
                (provider, webhook, rest.trim())
            }
            _ => {
                let provider = default.ok_or_else(|| {
                    format!("`{raw}` names no provider: write `slack:{raw}` or `discord:{raw}`")
                })?;
                (provider, false, raw)
            }
        };
        let place = if webhook {
            parse_webhook(place)?
        } else {
            parse_place(place, provider)?
        };
        Ok(Self::new(provider, place))
    }
}

fn parse_webhook(parameter: &str) -> Result<Place, String> {
    if !parameter.starts_with('/') || !is_parameter_name(parameter) {
        return Err(format!(
            "`{parameter}` is not an SSM parameter name (`/path/name`); a webhook's URL is a secret and lives in SSM"
        ));
    }
    Ok(Place::Webhook(parameter.to_owned()))
}

fn parse_place(raw: &str, provider: Provider) -> Result<Place, String> {
    let place = match raw.strip_prefix('@') {
        Some(user) if user.contains('@') && provider == Provider::Slack => {
            Place::Email(user.to_owned())
        }
        Some(user) => Place::User(user.to_owned()),
        None => Place::Channel(raw.strip_prefix('#').unwrap_or(raw).to_owned()),
    };
    let (Place::Channel(name) | Place::User(name) | Place::Email(name) | Place::Webhook(name)) =
        &place;
    if name.is_empty() {
        return Err(format!("`{raw}` names no channel or user"));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(format!("`{raw}` contains white space"));
    }
    match (&place, provider) {
        (Place::Channel(id) | Place::User(id), Provider::Discord) if !is_snowflake(id) => Err(
            format!("`{raw}` is not a Discord id; Discord channels and users are numeric ids"),
        ),
        (Place::User(id), Provider::Slack) if !is_slack_user_id(id) => Err(format!(
            "`{raw}` is not a Slack user id (`@U…`) or email (`@name@example.com`); Slack cannot message users by name"
        )),
        _ => Ok(place),
    }
}

pub(crate) fn is_snowflake(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
}

fn is_slack_user_id(id: &str) -> bool {
    id.len() >= 3
        && (id.starts_with('U') || id.starts_with('W'))
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// SSM parameter names: letters, digits and `_.-/`, at most 2048 characters.
pub(crate) fn is_parameter_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 2048
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Provider::{Discord, Slack};

    fn place(raw: &str, default: Provider) -> Result<Place, String> {
        Destination::parse(raw, Some(default)).map(|d| d.place)
    }

    #[test]
    fn seed_destinations_per_provider() {
        assert_eq!(
            place("#deploys", Slack),
            Ok(Place::Channel("deploys".into()))
        );
        assert_eq!(
            place(" deploys ", Slack),
            Ok(Place::Channel("deploys".into()))
        );
        assert_eq!(
            place("@U0123ABC", Slack),
            Ok(Place::User("U0123ABC".into()))
        );
        assert_eq!(
            place("@ana@example.com", Slack),
            Ok(Place::Email("ana@example.com".into()))
        );
        assert!(
            place("@ana", Slack)
                .unwrap_err()
                .contains("cannot message users by name")
        );
        assert_eq!(
            place("#1234567890", Discord),
            Ok(Place::Channel("1234567890".into()))
        );
        assert_eq!(place("@42", Discord), Ok(Place::User("42".into())));
        assert!(
            place("general", Discord)
                .unwrap_err()
                .contains("numeric ids")
        );
        assert!(place("#", Slack).is_err());
    }

    #[test]
    fn mentions_name_users_groups_and_roles() {
        let parsed = |raw: &str| Mention::parse(raw, None);
        assert_eq!(parsed("slack:@U0123").unwrap().slack().unwrap(), "<@U0123>");
        assert_eq!(
            parsed("slack:@S0ONCALL").unwrap().slack().unwrap(),
            "<!subteam^S0ONCALL>"
        );
        assert_eq!(parsed("discord:@42").unwrap().discord().unwrap(), "<@42>");
        assert_eq!(parsed("discord:@&77").unwrap().discord().unwrap(), "<@&77>");
        assert!(parsed("slack:@here").is_err());
        assert!(parsed("discord:@everyone").is_err());
        assert!(parsed("@U0123").unwrap_err().contains("names no provider"));
        assert_eq!(
            Mention::parse("@U0123", Some(Slack)),
            Ok(Mention::SlackUser("U0123".into()))
        );
    }

    #[test]
    fn prefixed_destinations_name_their_provider_and_way() {
        let parsed = |raw: &str| Destination::parse(raw, None);
        assert_eq!(
            parsed("discord:#42").unwrap(),
            Destination::new(Discord, Place::Channel("42".into()))
        );
        assert_eq!(
            parsed("slack:@U0123").unwrap(),
            Destination::new(Slack, Place::User("U0123".into()))
        );
        let hook = parsed("slack-webhook:/rack/hooks/ops").unwrap();
        assert_eq!(hook.place, Place::Webhook("/rack/hooks/ops".into()));
        assert!(!hook.can_edit());
        assert!(
            parsed("discord-webhook:/rack/hooks/ops")
                .unwrap()
                .can_edit()
        );
        assert!(
            parsed("discord-webhook:https://x")
                .unwrap_err()
                .contains("SSM parameter")
        );
        assert!(
            parsed("teams:#x")
                .unwrap_err()
                .contains("`teams` is not slack")
        );
        assert!(
            parsed("#deploys")
                .unwrap_err()
                .contains("names no provider")
        );
        assert_eq!(parsed("slack:#deploys").unwrap().key(), "slack:#deploys");
    }
}
