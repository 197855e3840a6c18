//! Settings from the environment, read once at start; every error names the variable and the place.

use std::collections::HashMap;
use std::fmt;

use secrecy::SecretString;

use crate::route::{Destination, Routes};

pub const PROVIDER: &str = "NOTIFICATIONS_PROVIDER";
pub const TOKEN_PARAMETER: &str = "NOTIFICATIONS_TOKEN_PARAMETER";
pub const TOKEN: &str = "NOTIFICATIONS_TOKEN";
pub const DEFAULT_CHANNEL: &str = "NOTIFICATIONS_DEFAULT_CHANNEL";
pub const CHANNEL_MAPPING: &str = "NOTIFICATIONS_CHANNEL_MAPPING";
pub const OWNER_MAPPING: &str = "NOTIFICATIONS_OWNER_MAPPING";
pub const CATALOG_PATH: &str = "NOTIFICATIONS_CATALOG_PATH";
pub const DEDUP_TABLE: &str = "NOTIFICATIONS_DEDUP_TABLE";
pub const SLACK_API_URL: &str = "SLACK_API_URL";
pub const DISCORD_API_URL: &str = "DISCORD_API_URL";

const SLACK_API_DEFAULT: &str = "https://slack.com/api";
const DISCORD_API_DEFAULT: &str = "https://discord.com/api/v10";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Slack,
    Discord,
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Slack => "Slack",
            Self::Discord => "Discord",
        })
    }
}

/// Where the bot token comes from. The token itself is never printed (`SecretString`'s `Debug` hides it).
#[derive(Debug, Clone)]
pub enum TokenSource {
    Parameter(String),
    Literal(SecretString),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub provider: Provider,
    pub token: TokenSource,
    pub routes: Routes,
    /// SSM path under which `<path>/<app>/owner-im` holds an app's owner.
    pub catalog_path: Option<String>,
    /// DynamoDB table recording deliveries, so a repeated event posts nothing new; unset: no deduplication.
    pub dedup_table: Option<String>,
    /// The chosen provider's API base URL, without a trailing slash.
    pub api_url: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var} is not set: {hint}")]
    Missing {
        var: &'static str,
        hint: &'static str,
    },
    #[error("{var}: {problem}")]
    Invalid { var: &'static str, problem: String },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `var`; blank values count as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let invalid = |var: &'static str, problem: String| ConfigError::Invalid { var, problem };

        let provider = match get(PROVIDER).as_deref() {
            Some(p) if p.eq_ignore_ascii_case("slack") => Provider::Slack,
            Some(p) if p.eq_ignore_ascii_case("discord") => Provider::Discord,
            Some(other) => {
                return Err(invalid(
                    PROVIDER,
                    format!("`{other}` is not `slack` or `discord`"),
                ));
            }
            None => {
                return Err(ConfigError::Missing {
                    var: PROVIDER,
                    hint: "set it to `slack` or `discord`",
                });
            }
        };
        let token = match (
            get(TOKEN_PARAMETER),
            var(TOKEN).filter(|t| !t.trim().is_empty()),
        ) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    TOKEN_PARAMETER,
                    format!("set either it or {TOKEN} (local runs only), not both"),
                ));
            }
            (Some(name), None) => TokenSource::Parameter(name),
            (None, Some(token)) => {
                TokenSource::Literal(SecretString::from(token.trim().to_owned()))
            }
            (None, None) => {
                return Err(ConfigError::Missing {
                    var: TOKEN_PARAMETER,
                    hint: "name the SSM SecureString parameter holding the bot token",
                });
            }
        };
        let default = get(DEFAULT_CHANNEL).ok_or(ConfigError::Missing {
            var: DEFAULT_CHANNEL,
            hint: "name the channel that gets every notification not routed elsewhere",
        })?;
        let default =
            Destination::parse(&default, provider).map_err(|p| invalid(DEFAULT_CHANNEL, p))?;
        let routes = Routes {
            default,
            environments: mapping(CHANNEL_MAPPING, get(CHANNEL_MAPPING), provider)?,
            owners: mapping(OWNER_MAPPING, get(OWNER_MAPPING), provider)?,
        };
        let catalog_path = match get(CATALOG_PATH) {
            Some(path) if !path.starts_with('/') => {
                return Err(invalid(
                    CATALOG_PATH,
                    format!("`{path}` is not an SSM path (it must start with `/`)"),
                ));
            }
            Some(path) => Some(path.trim_end_matches('/').to_owned()),
            None => None,
        };
        let dedup_table = match get(DEDUP_TABLE) {
            Some(table) if !is_table_name(&table) => {
                return Err(invalid(
                    DEDUP_TABLE,
                    format!(
                        "`{table}` is not a DynamoDB table name (3 to 255 letters, digits, `_`, `-`, `.`) or table ARN"
                    ),
                ));
            }
            table => table,
        };
        let (url_var, url_default) = match provider {
            Provider::Slack => (SLACK_API_URL, SLACK_API_DEFAULT),
            Provider::Discord => (DISCORD_API_URL, DISCORD_API_DEFAULT),
        };
        let api_url = get(url_var).unwrap_or_else(|| url_default.to_owned());
        match reqwest::Url::parse(&api_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            _ => {
                return Err(invalid(
                    url_var,
                    format!("`{api_url}` is not an http(s) URL"),
                ));
            }
        }
        Ok(Self {
            provider,
            token,
            routes,
            catalog_path,
            dedup_table,
            api_url: api_url.trim_end_matches('/').to_owned(),
        })
    }
}

/// DynamoDB accepts a table's name or its ARN wherever it asks for `TableName`.
fn is_table_name(table: &str) -> bool {
    let name = match table.strip_prefix("arn:") {
        Some(arn) => match arn.split_once(":table/") {
            Some((_, name)) => name,
            None => return false,
        },
        None => table,
    };
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// Reads `key=destination,key=destination`; white space around items is ignored, and so are empty items.
fn mapping(
    var: &'static str,
    raw: Option<String>,
    provider: Provider,
) -> Result<HashMap<String, Destination>, ConfigError> {
    let mut map = HashMap::new();
    let Some(raw) = raw else { return Ok(map) };
    for (index, item) in raw.split(',').map(str::trim).enumerate() {
        if item.is_empty() {
            continue;
        }
        let problem = |what: String| ConfigError::Invalid {
            var,
            problem: format!("item {} (`{item}`) {what}", index + 1),
        };
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| problem("has no `=`".into()))?;
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() {
            return Err(problem("has nothing before `=`".into()));
        }
        let destination = Destination::parse(value, provider).map_err(problem)?;
        if map.insert(key.to_owned(), destination).is_some() {
            return Err(problem(format!("repeats `{key}`")));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|name| vars.get(name).cloned())
    }

    const BASE: [(&str, &str); 3] = [
        (PROVIDER, "slack"),
        (TOKEN_PARAMETER, "/rack-notifications/token"),
        (DEFAULT_CHANNEL, "#general"),
    ];

    #[test]
    fn reads_a_full_configuration() {
        let mut vars = BASE.to_vec();
        vars.push((
            CHANNEL_MAPPING,
            " staging=staging-deploys , production=#production-deploys,",
        ));
        vars.push((OWNER_MAPPING, "web=#web-team,billing=@U0123ABC"));
        vars.push((CATALOG_PATH, "/catalog/"));
        vars.push((DEDUP_TABLE, " rack-notifications-deliveries "));
        vars.push((SLACK_API_URL, "http://127.0.0.1:9000/api/"));
        let config = config(&vars).unwrap();
        assert_eq!(
            config.routes.environments["production"],
            Destination::Channel("production-deploys".into())
        );
        assert_eq!(
            config.routes.owners["billing"],
            Destination::User("U0123ABC".into())
        );
        assert_eq!(config.catalog_path.as_deref(), Some("/catalog"));
        assert_eq!(
            config.dedup_table.as_deref(),
            Some("rack-notifications-deliveries")
        );
        assert_eq!(config.api_url, "http://127.0.0.1:9000/api");
    }

    #[test]
    fn errors_name_the_variable_and_the_place() {
        let with = |extra: (&'static str, &'static str)| {
            let mut vars: Vec<(&str, &str)> = BASE
                .iter()
                .copied()
                .filter(|(k, _)| *k != extra.0)
                .collect();
            vars.push(extra);
            config(&vars).unwrap_err().to_string()
        };
        assert_eq!(
            with((CHANNEL_MAPPING, "staging=a, production")),
            "NOTIFICATIONS_CHANNEL_MAPPING: item 2 (`production`) has no `=`"
        );
        assert_eq!(
            with((PROVIDER, "teams")),
            "NOTIFICATIONS_PROVIDER: `teams` is not `slack` or `discord`"
        );
        assert!(with((OWNER_MAPPING, "web=@bob")).starts_with(
            "NOTIFICATIONS_OWNER_MAPPING: item 1 (`web=@bob`) `@bob` is not a Slack user id"
        ));
        assert_eq!(
            with((SLACK_API_URL, "ftp://x")),
            "SLACK_API_URL: `ftp://x` is not an http(s) URL"
        );
        assert!(with((CATALOG_PATH, "catalog")).starts_with("NOTIFICATIONS_CATALOG_PATH:"));
        assert!(
            with((DEDUP_TABLE, "my table"))
                .starts_with("NOTIFICATIONS_DEDUP_TABLE: `my table` is not a DynamoDB table name")
        );
        assert!(
            with((DEDUP_TABLE, "arn:aws:s3:::bucket")).starts_with("NOTIFICATIONS_DEDUP_TABLE:")
        );
        let missing = config(&[(PROVIDER, "discord")]).unwrap_err().to_string();
        assert!(
            missing.starts_with("NOTIFICATIONS_TOKEN_PARAMETER is not set"),
            "{missing}"
        );
    }

    #[test]
    fn the_dedup_table_is_optional_and_may_be_an_arn() {
        assert_eq!(config(&BASE).unwrap().dedup_table, None);
        let arn = "arn:aws:dynamodb:us-east-1:123456789012:table/rack-deliveries";
        let mut vars = BASE.to_vec();
        vars.push((DEDUP_TABLE, arn));
        assert_eq!(config(&vars).unwrap().dedup_table.as_deref(), Some(arn));
    }

    #[test]
    fn discord_needs_numeric_channels() {
        let err = config(&[
            (PROVIDER, "discord"),
            (TOKEN, "t"),
            (DEFAULT_CHANNEL, "general"),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("NOTIFICATIONS_DEFAULT_CHANNEL: `general` is not a Discord id")
        );
    }

    #[test]
    fn a_literal_token_never_shows() {
        let config = config(&[
            (PROVIDER, "slack"),
            (TOKEN, "xoxb-secret"),
            (DEFAULT_CHANNEL, "general"),
        ])
        .unwrap();
        assert!(!format!("{config:?}").contains("xoxb-secret"));
        match config.token {
            TokenSource::Literal(token) => assert_eq!(token.expose_secret(), "xoxb-secret"),
            TokenSource::Parameter(_) => panic!("expected the literal token"),
        }
    }
}
