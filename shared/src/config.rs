//! Settings from the environment, read once at start; every error names the variable and the place.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::SecretString;

use crate::deliver::Transports;
use crate::destination::{Destination, Provider};
use crate::routing::{Context, RoutesSource, RoutingDocument, SeedRoutes};
use crate::secret::{Secret, SecretSource};

pub const PROVIDER: &str = "NOTIFICATIONS_PROVIDER";
pub const TOKEN_PARAMETER: &str = "NOTIFICATIONS_TOKEN_PARAMETER";
pub const TOKEN: &str = "NOTIFICATIONS_TOKEN";
pub const SLACK_TOKEN_PARAMETER: &str = "NOTIFICATIONS_SLACK_TOKEN_PARAMETER";
pub const DISCORD_TOKEN_PARAMETER: &str = "NOTIFICATIONS_DISCORD_TOKEN_PARAMETER";
pub const DEFAULT_CHANNEL: &str = "NOTIFICATIONS_DEFAULT_CHANNEL";
pub const CHANNEL_MAPPING: &str = "NOTIFICATIONS_CHANNEL_MAPPING";
pub const OWNER_MAPPING: &str = "NOTIFICATIONS_OWNER_MAPPING";
pub const CATALOG_PATH: &str = "NOTIFICATIONS_CATALOG_PATH";
pub const DEDUP_TABLE: &str = "NOTIFICATIONS_DEDUP_TABLE";
pub const ROUTES: &str = "NOTIFICATIONS_ROUTES";
pub const ROUTES_PARAMETER: &str = "NOTIFICATIONS_ROUTES_PARAMETER";
pub const WEBHOOK_PATH: &str = "NOTIFICATIONS_WEBHOOK_PATH";
pub const LIVE_MESSAGES: &str = "NOTIFICATIONS_LIVE_MESSAGES";
pub const SLACK_API_URL: &str = "SLACK_API_URL";
pub const DISCORD_API_URL: &str = "DISCORD_API_URL";

const SLACK_API_DEFAULT: &str = "https://slack.com/api";
const DISCORD_API_DEFAULT: &str = "https://discord.com/api/v10";
/// A token refused by the provider is read again at once: refusals are rare and a rotation must show.
const TOKEN_REFRESH: Duration = Duration::ZERO;

#[derive(Debug)]
pub struct Config {
    /// The provider of destinations written without one: the seed's settings.
    pub provider: Provider,
    pub tokens: HashMap<Provider, SecretSource>,
    pub seed: SeedRoutes,
    pub routes: RoutesSource,
    /// SSM path under which `<path>/<app>/owner-im` holds an app's owner.
    pub catalog_path: Option<String>,
    /// DynamoDB table of deliveries, channel schedules and live messages; unset: kept in memory, per
    /// container.
    pub dedup_table: Option<String>,
    /// One message per release, alert and auto-shutdown, edited in place (routes can turn it off).
    pub live: bool,
    pub slack_url: String,
    pub discord_url: String,
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

/// A setting's value through `var` (the environment, or a test's pairs), trimmed; blank counts as unset.
pub fn setting(var: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    var(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn invalid(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        problem: problem.into(),
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `var`; blank values count as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| setting(&var, name);
        let provider = match get(PROVIDER) {
            Some(raw) => Provider::parse(&raw)
                .ok_or_else(|| invalid(PROVIDER, format!("`{raw}` is not `slack` or `discord`")))?,
            None => {
                return Err(ConfigError::Missing {
                    var: PROVIDER,
                    hint: "set it to `slack` or `discord`",
                });
            }
        };
        let tokens = tokens(provider, &get)?;
        let default = get(DEFAULT_CHANNEL).ok_or(ConfigError::Missing {
            var: DEFAULT_CHANNEL,
            hint: "name the channel that gets every notification not routed elsewhere",
        })?;
        let default = Destination::parse(&default, Some(provider))
            .map_err(|problem| invalid(DEFAULT_CHANNEL, problem))?;
        let seed = SeedRoutes {
            default,
            environments: mapping(CHANNEL_MAPPING, get(CHANNEL_MAPPING), provider)?,
            owners: mapping(OWNER_MAPPING, get(OWNER_MAPPING), provider)?,
        };
        let seeded = std::iter::once((DEFAULT_CHANNEL, &seed.default))
            .chain(seed.environments.values().map(|d| (CHANNEL_MAPPING, d)))
            .chain(seed.owners.values().map(|d| (OWNER_MAPPING, d)));
        for (var, destination) in seeded {
            let webhook = matches!(destination.place, crate::destination::Place::Webhook(_));
            if !webhook && !tokens.contains_key(&destination.provider) {
                return Err(invalid(
                    var,
                    format!(
                        "`{destination}` is on {}, and the stack has no {} bot token",
                        destination.provider, destination.provider
                    ),
                ));
            }
        }
        let webhook_path = match get(WEBHOOK_PATH) {
            Some(path) if !path.starts_with('/') => {
                return Err(invalid(
                    WEBHOOK_PATH,
                    format!("`{path}` is not an SSM path (it must start with `/`)"),
                ));
            }
            path => path.map(|p| p.trim_end_matches('/').to_owned()),
        };
        let context = Context {
            default_provider: provider,
            tokens: tokens.keys().copied().collect(),
            webhook_path,
        };
        let routes = match (get(ROUTES), get(ROUTES_PARAMETER)) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    ROUTES,
                    format!("set either it or {ROUTES_PARAMETER}, not both"),
                ));
            }
            (Some(text), None) => RoutesSource::Fixed(std::sync::Arc::new(
                RoutingDocument::parse(&text, ROUTES, &context)
                    .map_err(|error| invalid(ROUTES, error.problem))?,
            )),
            (None, Some(name)) => RoutesSource::parameter(name, context),
            (None, None) => RoutesSource::None,
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
        let live = match get(LIVE_MESSAGES)
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(invalid(
                    LIVE_MESSAGES,
                    format!("`{other}` is not `true` or `false`"),
                ));
            }
        };
        Ok(Self {
            provider,
            tokens,
            seed,
            routes,
            catalog_path,
            dedup_table,
            live,
            slack_url: api_url(SLACK_API_URL, get(SLACK_API_URL), SLACK_API_DEFAULT)?,
            discord_url: api_url(DISCORD_API_URL, get(DISCORD_API_URL), DISCORD_API_DEFAULT)?,
        })
    }

    /// What the transports need: the API URLs and a secret per provider's token.
    pub fn transports(&self) -> Transports {
        let token = |provider| {
            self.tokens
                .get(&provider)
                .map(|source| Secret::new("bot token", source.clone(), TOKEN_REFRESH))
        };
        Transports {
            slack_url: self.slack_url.clone(),
            discord_url: self.discord_url.clone(),
            slack_token: token(Provider::Slack),
            discord_token: token(Provider::Discord),
        }
    }
}

/// The seed's token (`NOTIFICATIONS_TOKEN_PARAMETER`, or `NOTIFICATIONS_TOKEN` for local runs) is the
/// default provider's; `NOTIFICATIONS_<PROVIDER>_TOKEN_PARAMETER` names one per provider for stacks that
/// post to both.
fn tokens(
    provider: Provider,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<HashMap<Provider, SecretSource>, ConfigError> {
    let mut tokens = HashMap::new();
    match (get(TOKEN_PARAMETER), get(TOKEN)) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                TOKEN_PARAMETER,
                format!("set either it or {TOKEN} (local runs only), not both"),
            ));
        }
        (Some(name), None) => {
            tokens.insert(provider, SecretSource::Parameter(name));
        }
        (None, Some(token)) => {
            tokens.insert(provider, SecretSource::Literal(SecretString::from(token)));
        }
        (None, None) => {}
    }
    for (each, var) in [
        (Provider::Slack, SLACK_TOKEN_PARAMETER),
        (Provider::Discord, DISCORD_TOKEN_PARAMETER),
    ] {
        if let Some(name) = get(var) {
            if tokens.contains_key(&each) {
                return Err(invalid(
                    var,
                    format!(
                        "{TOKEN_PARAMETER} already names the {each} token (NOTIFICATIONS_PROVIDER is `{}`); set one of them",
                        provider.key()
                    ),
                ));
            }
            tokens.insert(each, SecretSource::Parameter(name));
        }
    }
    if !tokens.contains_key(&provider) {
        return Err(ConfigError::Missing {
            var: TOKEN_PARAMETER,
            hint: "name the SSM SecureString parameter holding the bot token",
        });
    }
    Ok(tokens)
}

fn api_url(var: &'static str, raw: Option<String>, default: &str) -> Result<String, ConfigError> {
    let url = raw.unwrap_or_else(|| default.to_owned());
    match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
            Ok(url.trim_end_matches('/').to_owned())
        }
        _ => Err(invalid(var, format!("`{url}` is not an http(s) URL"))),
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
        let problem = |what: String| invalid(var, format!("item {} (`{item}`) {what}", index + 1));
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| problem("has no `=`".into()))?;
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() {
            return Err(problem("has nothing before `=`".into()));
        }
        let destination = Destination::parse(value, Some(provider)).map_err(problem)?;
        if map.insert(key.to_owned(), destination).is_some() {
            return Err(problem(format!("repeats `{key}`")));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests;
