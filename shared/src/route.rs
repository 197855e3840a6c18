//! Where a notification goes: the app's owner, else the environment's channel, else the default. Pure.

use std::collections::HashMap;
use std::fmt;

use crate::config::Provider;

/// A place a provider can post to, as the operator wrote it and the provider understands it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A Slack channel name or id, or a Discord channel id.
    Channel(String),
    /// A direct message to a Slack (`U…`) or Discord user id.
    User(String),
    /// A direct message to the Slack user with this email address.
    Email(String),
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Channel(channel) => write!(f, "#{channel}"),
            Self::User(user) | Self::Email(user) => write!(f, "@{user}"),
        }
    }
}

impl Destination {
    /// Reads `#name`, `name`, `@U…`, `@person@example.com` (Slack) or `#<id>`, `<id>`, `@<id>` (Discord).
    pub fn parse(raw: &str, provider: Provider) -> Result<Self, String> {
        let raw = raw.trim();
        let destination = match raw.strip_prefix('@') {
            Some(user) if user.contains('@') && provider == Provider::Slack => {
                Self::Email(user.to_owned())
            }
            Some(user) => Self::User(user.to_owned()),
            None => Self::Channel(raw.strip_prefix('#').unwrap_or(raw).to_owned()),
        };
        match (&destination, provider) {
            (Self::Channel(c) | Self::User(c) | Self::Email(c), _) if c.is_empty() => {
                Err(format!("`{raw}` names no channel or user"))
            }
            (Self::Channel(c) | Self::User(c) | Self::Email(c), _)
                if c.chars().any(char::is_whitespace) =>
            {
                Err(format!("`{raw}` contains white space"))
            }
            (Self::Channel(id) | Self::User(id), Provider::Discord) if !is_snowflake(id) => Err(
                format!("`{raw}` is not a Discord id; Discord channels and users are numeric ids"),
            ),
            (Self::User(id), Provider::Slack) if !is_slack_user_id(id) => Err(format!(
                "`{raw}` is not a Slack user id (`@U…`) or email (`@name@example.com`); Slack cannot message users by name"
            )),
            _ => Ok(destination),
        }
    }
}

fn is_snowflake(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
}

fn is_slack_user_id(id: &str) -> bool {
    id.len() >= 3
        && (id.starts_with('U') || id.starts_with('W'))
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Which routing rule chose a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Owner,
    Environment,
    Default,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Environment => "environment",
            Self::Default => "default",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub destination: Destination,
    pub rule: Rule,
}

/// The static routing table from the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routes {
    pub default: Destination,
    pub environments: HashMap<String, Destination>,
    pub owners: HashMap<String, Destination>,
}

impl Routes {
    /// Most specific first; `catalog_owner` is the service catalog's live answer and beats the static owners.
    pub fn route(
        &self,
        app: Option<&str>,
        rack: Option<&str>,
        catalog_owner: Option<Destination>,
    ) -> Route {
        let owner = catalog_owner.or_else(|| app.and_then(|app| self.owners.get(app)).cloned());
        if let Some(destination) = owner {
            return Route {
                destination,
                rule: Rule::Owner,
            };
        }
        if let Some(destination) = rack.and_then(|rack| self.environments.get(rack)) {
            return Route {
                destination: destination.clone(),
                rule: Rule::Environment,
            };
        }
        Route {
            destination: self.default.clone(),
            rule: Rule::Default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        let channel = |c: &str| Destination::Channel(c.into());
        Routes {
            default: channel("general"),
            environments: HashMap::from([("production".into(), channel("production-deploys"))]),
            owners: HashMap::from([
                ("web".into(), channel("web-team")),
                ("billing".into(), Destination::User("U0123ABC".into())),
            ]),
        }
    }

    #[test]
    fn most_specific_first() {
        let r = routes();
        assert_eq!(
            r.route(Some("web"), Some("production"), None).rule,
            Rule::Owner
        );
        assert_eq!(
            r.route(Some("api"), Some("production"), None).destination,
            Destination::Channel("production-deploys".into())
        );
        assert_eq!(
            r.route(Some("api"), Some("staging"), None).rule,
            Rule::Default
        );
        assert_eq!(
            r.route(None, None, None).destination,
            Destination::Channel("general".into())
        );
        let live = Destination::Channel("platform".into());
        assert_eq!(
            r.route(Some("web"), Some("production"), Some(live.clone()))
                .destination,
            live
        );
    }

    #[test]
    fn parses_destinations_per_provider() {
        use Provider::{Discord, Slack};
        assert_eq!(
            Destination::parse("#deploys", Slack),
            Ok(Destination::Channel("deploys".into()))
        );
        assert_eq!(
            Destination::parse(" deploys ", Slack),
            Ok(Destination::Channel("deploys".into()))
        );
        assert_eq!(
            Destination::parse("@U0123ABC", Slack),
            Ok(Destination::User("U0123ABC".into()))
        );
        assert_eq!(
            Destination::parse("@ana@example.com", Slack),
            Ok(Destination::Email("ana@example.com".into()))
        );
        assert!(
            Destination::parse("@ana", Slack)
                .unwrap_err()
                .contains("cannot message users by name")
        );
        assert_eq!(
            Destination::parse("#1234567890", Discord),
            Ok(Destination::Channel("1234567890".into()))
        );
        assert_eq!(
            Destination::parse("@42", Discord),
            Ok(Destination::User("42".into()))
        );
        assert!(
            Destination::parse("general", Discord)
                .unwrap_err()
                .contains("numeric ids")
        );
        assert!(Destination::parse("#", Slack).is_err());
    }
}
