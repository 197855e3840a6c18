//! The routing document: routes as data, in YAML or JSON, checked as precisely as the settings.
//!
//! ```yaml
//! routes:
//!   - name: oncall
//!     match: { category: alert }
//!     to: [slack:#oncall]
//!     mention: [slack:@S0ONCALL]
//!   - name: deploys
//!     match: { type: ["release:*", "app:promote:*"], rack: production }
//!     to: [slack:#deploys, discord-webhook:/rack-notifications/webhooks/deploys]
//!     continue: true
//!   - name: quiet
//!     match: { type: release:scale }
//!     drop: true
//! ```

use std::collections::HashSet;

use serde::Deserialize;
use wildmatch::WildMatch;

use crate::category::Category;
use crate::destination::{Destination, Mention, Place, Provider};
use crate::event::RackEvent;

/// A checked routing document.
#[derive(Debug, Clone)]
pub struct RoutingDocument {
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    pub matcher: Matcher,
    pub to: Vec<Target>,
    pub mentions: Vec<Mention>,
    /// Later routes are tried too, so one event can reach several destinations.
    pub continues: bool,
    /// Matching events go nowhere (noise a team does not want).
    pub drop: bool,
    pub live: bool,
}

/// Where a route sends: a fixed destination, or one of the seed's rules for this event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Destination(Destination),
    /// The app's owner (catalog, else the owner mapping).
    Owner,
    /// The rack's channel from the channel mapping.
    Environment,
    Default,
}

/// What a route matches; an empty list matches everything. Each list matches if any of its items does.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    categories: Vec<Category>,
    types: Vec<WildMatch>,
    statuses: Vec<String>,
    racks: Vec<WildMatch>,
    apps: Vec<WildMatch>,
}

impl Matcher {
    pub fn matches(&self, event: &RackEvent, category: Option<Category>) -> bool {
        let any = |patterns: &[WildMatch], value: Option<&str>| {
            patterns.is_empty() || value.is_some_and(|v| patterns.iter().any(|p| p.matches(v)))
        };
        (self.categories.is_empty() || category.is_some_and(|c| self.categories.contains(&c)))
            && any(&self.types, Some(&event.action))
            && (self.statuses.is_empty()
                || self.statuses.iter().any(|s| s == event.status.as_str()))
            && any(&self.racks, event.rack())
            && any(&self.apps, event.app())
    }
}

/// What a document is checked against: the stack's providers and where its webhook parameters live.
#[derive(Debug, Clone)]
pub struct Context {
    /// The provider of destinations written without one (`NOTIFICATIONS_PROVIDER`).
    pub default_provider: Provider,
    /// Providers with a bot token.
    pub tokens: Vec<Provider>,
    /// The path every webhook parameter must be under, when the stack names one (its IAM grant).
    pub webhook_path: Option<String>,
}

/// A document that cannot be used, and where: the route and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("routing document in {origin}: {problem}")]
pub struct RoutesError {
    pub origin: String,
    pub problem: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    routes: Vec<RawRoute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    name: Option<String>,
    #[serde(rename = "match", default)]
    matcher: RawMatch,
    #[serde(default)]
    to: OneOrMany,
    #[serde(default)]
    mention: OneOrMany,
    #[serde(rename = "continue", default)]
    continues: bool,
    #[serde(default)]
    drop: bool,
    live: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    #[serde(default)]
    category: OneOrMany,
    #[serde(rename = "type", default)]
    kind: OneOrMany,
    #[serde(default)]
    status: OneOrMany,
    #[serde(default)]
    rack: OneOrMany,
    #[serde(default)]
    app: OneOrMany,
}

/// A field that takes one string or a list of them.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn items(&self) -> &[String] {
        match self {
            Self::None => &[],
            Self::One(one) => std::slice::from_ref(one),
            Self::Many(many) => many,
        }
    }
}

const STATUSES: &[&str] = &["success", "error", "start", "cancelled", "skipped"];

impl RoutingDocument {
    /// Reads and checks `text` (YAML, or JSON, which YAML reads too); `origin` names where it came from.
    pub fn parse(text: &str, origin: &str, context: &Context) -> Result<Self, RoutesError> {
        let fail = |problem: String| RoutesError {
            origin: origin.to_owned(),
            problem,
        };
        let raw: RawDocument = serde_yaml_ng::from_str(text).map_err(|e| fail(e.to_string()))?;
        let mut names = HashSet::new();
        let mut routes = Vec::with_capacity(raw.routes.len());
        for (index, raw) in raw.routes.into_iter().enumerate() {
            let name = raw
                .name
                .clone()
                .map(|name| name.trim().to_owned())
                .unwrap_or_else(|| format!("#{}", index + 1));
            let at = |problem: String| fail(format!("route {} (`{name}`): {problem}", index + 1));
            if !names.insert(name.clone()) {
                return Err(at("repeats the name of an earlier route".into()));
            }
            routes.push(route(raw, name.clone(), context).map_err(at)?);
        }
        Ok(Self { routes })
    }
}

fn route(raw: RawRoute, name: String, context: &Context) -> Result<Route, String> {
    let matcher = matcher(&raw.matcher)?;
    match (raw.drop, raw.to.items().is_empty()) {
        (true, false) => return Err("`drop` and `to` exclude each other".into()),
        (false, true) => return Err("has no `to`: name where it sends, or `drop: true`".into()),
        _ => {}
    }
    let to = raw
        .to
        .items()
        .iter()
        .enumerate()
        .map(|(i, raw)| target(raw, context).map_err(|p| format!("`to` item {}: {p}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    let providers: HashSet<Provider> = to
        .iter()
        .map(|target| match target {
            Target::Destination(destination) => destination.provider,
            _ => context.default_provider,
        })
        .collect();
    let mentions = raw
        .mention
        .items()
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let mention = Mention::parse(raw, Some(context.default_provider))
                .map_err(|p| format!("`mention` item {}: {p}", i + 1))?;
            if !providers.contains(&mention.provider()) {
                return Err(format!(
                    "`mention` item {}: `{raw}` is on {}, but the route sends nothing there",
                    i + 1,
                    mention.provider()
                ));
            }
            Ok(mention)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Route {
        name,
        matcher,
        to,
        mentions,
        continues: raw.continues,
        drop: raw.drop,
        live: raw.live.unwrap_or(true),
    })
}

fn matcher(raw: &RawMatch) -> Result<Matcher, String> {
    let patterns = |field: &str, items: &OneOrMany| {
        items
            .items()
            .iter()
            .map(|item| match item.trim() {
                "" => Err(format!("`match.{field}` has an empty item")),
                item => Ok(WildMatch::new(item)),
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let categories = raw
        .category
        .items()
        .iter()
        .map(|item| {
            Category::ALL
                .into_iter()
                .find(|c| c.name() == item.trim())
                .ok_or_else(|| {
                    let known: Vec<_> = Category::ALL.iter().map(|c| c.name()).collect();
                    format!(
                        "`match.category`: `{item}` is not one of {}",
                        known.join(", ")
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let statuses = raw
        .status
        .items()
        .iter()
        .map(|item| {
            let status = item.trim().to_ascii_lowercase();
            if STATUSES.contains(&status.as_str()) {
                Ok(status)
            } else {
                Err(format!(
                    "`match.status`: `{item}` is not one of {}",
                    STATUSES.join(", ")
                ))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Matcher {
        categories,
        types: patterns("type", &raw.kind)?,
        statuses,
        racks: patterns("rack", &raw.rack)?,
        apps: patterns("app", &raw.app)?,
    })
}

fn target(raw: &str, context: &Context) -> Result<Target, String> {
    match raw.trim() {
        "owner" => return Ok(Target::Owner),
        "environment" => return Ok(Target::Environment),
        "default" => return Ok(Target::Default),
        _ => {}
    }
    let destination = Destination::parse(raw, Some(context.default_provider))?;
    match &destination.place {
        Place::Webhook(parameter) => {
            if let Some(path) = &context.webhook_path
                && !parameter.starts_with(&format!("{}/", path.trim_end_matches('/')))
            {
                return Err(format!(
                    "`{raw}`: webhook parameters must be under `{path}/` (NOTIFICATIONS_WEBHOOK_PATH), which the functions may read"
                ));
            }
        }
        _ if !context.tokens.contains(&destination.provider) => {
            return Err(format!(
                "`{raw}` needs a {} bot token, and the stack has none (NOTIFICATIONS_{}_TOKEN_PARAMETER)",
                destination.provider,
                destination.provider.key().to_ascii_uppercase()
            ));
        }
        _ => {}
    }
    Ok(Target::Destination(destination))
}
