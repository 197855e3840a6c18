//! The chat services of one preview run and the settings the functions get: a Slack and a Discord
//! stand-in that hold the built-in routes' places and every place a routing document names, made up on
//! the fly, and a local SSM that holds the second provider's bot token and the webhooks' URLs.
//!
//! The rule for a document's places: a channel name or id, a user id or an email becomes a channel or a
//! user who accepts direct messages; a webhook parameter becomes a webhook into a channel named after the
//! parameter's last segment (the existing channel of that name, on Slack, if there is one).

use std::collections::{BTreeMap, HashMap};

use shared::config;
use shared::destination::{Destination, Place, Provider};
use shared::routing::{Context, RoutingDocument, Target};
use standins::discord::{Access, DiscordStandIn};
use standins::slack::{SlackChannel, SlackStandIn, SlackUser};
use tools::local::{CHANNELS, Chat, OWNER};

use super::ssm::SsmStandIn;

/// The parameters the local SSM serves a bot token under, per provider.
fn token_parameter(provider: Provider) -> String {
    format!("/preview/{}-token", provider.key())
}

/// A routing document as the preview runs it: its text, where it came from, and the checked routes.
pub struct Routes {
    pub origin: String,
    pub text: String,
    pub document: RoutingDocument,
}

impl Routes {
    /// Reads and checks the document at `path` for a stack whose main provider is `provider`, with a
    /// bot token for both providers (the preview gives one to whichever the document names).
    pub fn read(path: &std::path::Path, provider: Provider) -> Result<Self, String> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{origin}: {e}"))?;
        let context = Context {
            default_provider: provider,
            tokens: Provider::ALL.to_vec(),
            webhook_path: None,
        };
        let document =
            RoutingDocument::parse(&text, &origin, &context).map_err(|e| e.to_string())?;
        Ok(Self {
            origin,
            text,
            document,
        })
    }

    fn destinations(&self) -> impl Iterator<Item = &Destination> {
        self.document
            .routes
            .iter()
            .flat_map(|route| &route.to)
            .filter_map(|target| match target {
                Target::Destination(destination) => Some(destination),
                _ => None,
            })
    }
}

/// The places a document names beyond the built-in ones, as the stand-ins will hold them.
#[derive(Default)]
struct Extra {
    slack_channels: Vec<SlackChannel>,
    slack_users: Vec<SlackUser>,
    discord_channels: Vec<String>,
    discord_users: Vec<String>,
    /// Webhook parameter → the channel id it posts into.
    slack_webhooks: Vec<(String, String)>,
    discord_webhooks: Vec<(String, String)>,
    /// What the preview calls a channel id it made up (Slack DMs included).
    names: HashMap<(Provider, String), String>,
}

impl Extra {
    fn of(routes: Option<&Routes>) -> Self {
        let mut extra = Self::default();
        for destination in routes.into_iter().flat_map(Routes::destinations) {
            extra.add(destination);
        }
        extra
    }

    fn add(&mut self, destination: &Destination) {
        match (destination.provider, &destination.place) {
            (Provider::Slack, Place::Channel(channel)) => {
                self.slack_channel(channel);
            }
            (Provider::Slack, Place::User(id)) => self.slack_user(SlackUser::new(id), id),
            (Provider::Slack, Place::Email(email)) => {
                let id = format!("U9{:03}", self.slack_users.len() + 1);
                self.slack_user(SlackUser::new(&id).email(email), email);
            }
            (Provider::Slack, Place::Webhook(parameter)) => {
                let channel = self.slack_channel(last_segment(parameter));
                push_new(&mut self.slack_webhooks, (parameter.clone(), channel));
            }
            (Provider::Discord, Place::Channel(id)) => {
                if !CHANNELS.iter().any(|c| c.discord_id == id) {
                    push_new(&mut self.discord_channels, id.clone());
                }
            }
            (Provider::Discord, Place::User(id)) => {
                if id != OWNER.discord_id {
                    push_new(&mut self.discord_users, id.clone());
                }
            }
            (Provider::Discord, Place::Webhook(parameter)) => {
                if self.discord_webhooks.iter().any(|(p, _)| p == parameter) {
                    return;
                }
                // Discord channels are ids; these stand for the channels the webhooks were made in.
                let id = format!("9{:017}", self.discord_webhooks.len() + 1);
                let name = format!("#{}", last_segment(parameter));
                self.names.insert((Provider::Discord, id.clone()), name);
                self.discord_channels.push(id.clone());
                self.discord_webhooks.push((parameter.clone(), id));
            }
            // A destination parsed for Discord never holds an email.
            (Provider::Discord, Place::Email(_)) => {}
        }
    }

    /// The id of the Slack channel named (or with the id) `channel`, made up if nobody has it yet.
    fn slack_channel(&mut self, channel: &str) -> String {
        let known = CHANNELS
            .iter()
            .map(|c| (c.slack_id, c.name))
            .chain(self.slack_channels.iter().map(|c| (&*c.id, &*c.name)))
            .find(|(id, name)| *id == channel || *name == channel);
        if let Some((id, _)) = known {
            return id.to_owned();
        }
        let id = format!("C9{:03}", self.slack_channels.len() + 1);
        self.slack_channels.push(SlackChannel::public(&id, channel));
        let name = format!("#{channel}");
        self.names.insert((Provider::Slack, id.clone()), name);
        id
    }

    fn slack_user(&mut self, user: SlackUser, shown: &str) {
        let known = user.id == OWNER.slack_id
            || self
                .slack_users
                .iter()
                .any(|u| u.id == user.id || (u.email.is_some() && u.email == user.email));
        if !known {
            let dm = (Provider::Slack, user.dm_channel());
            self.names.insert(dm, format!("@{shown}"));
            self.slack_users.push(user);
        }
    }
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// `/rack-notifications/webhooks/deploys` → `deploys`.
fn last_segment(parameter: &str) -> &str {
    parameter
        .rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or(parameter)
}

/// Both stand-ins, the local SSM when something needs it, and the functions' settings.
pub struct Stack {
    pub provider: Provider,
    slack: Chat,
    discord: Chat,
    /// Kept for its server, which lives as long as the stack.
    _ssm: Option<SsmStandIn>,
    names: HashMap<(Provider, String), String>,
    discord_users: Vec<String>,
    settings: Vec<(String, String)>,
}

impl Stack {
    /// Starts the services for a stack whose main provider is `provider`; `Err` names a setting the
    /// functions would refuse.
    pub async fn start(
        provider: Provider,
        routes: Option<&Routes>,
        live: bool,
    ) -> Result<Self, String> {
        let extra = Extra::of(routes);
        let slack = slack(&extra).await;
        let discord = discord(&extra).await;
        let (main, other) = match provider {
            Provider::Slack => (&slack, &discord),
            Provider::Discord => (&discord, &slack),
        };
        // A second provider's bot token, when the document posts there through its API.
        let needs_other_token = routes
            .into_iter()
            .flat_map(Routes::destinations)
            .any(|d| d.provider != provider && !matches!(d.place, Place::Webhook(_)));
        let mut parameters = BTreeMap::new();
        if needs_other_token {
            parameters.insert(token_parameter(other.provider()), token(other).to_owned());
        }
        for (parameter, channel) in &extra.slack_webhooks {
            parameters.insert(parameter.clone(), slack_of(&slack).webhook_url(channel));
        }
        for (parameter, channel) in &extra.discord_webhooks {
            parameters.insert(parameter.clone(), discord_of(&discord).webhook_url(channel));
        }

        let mut settings: Vec<(String, String)> = main
            .settings(&main.api_url())
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        let other_url = match other.provider() {
            Provider::Slack => config::SLACK_API_URL,
            Provider::Discord => config::DISCORD_API_URL,
        };
        settings.push((other_url.into(), other.api_url()));
        if needs_other_token {
            let var = match other.provider() {
                Provider::Slack => config::SLACK_TOKEN_PARAMETER,
                Provider::Discord => config::DISCORD_TOKEN_PARAMETER,
            };
            settings.push((var.into(), token_parameter(other.provider())));
        }
        if let Some(routes) = routes {
            settings.push((config::ROUTES.into(), routes.text.clone()));
        }
        if !live {
            settings.push((config::LIVE_MESSAGES.into(), "false".into()));
        }
        let ssm = if parameters.is_empty() {
            None
        } else {
            Some(SsmStandIn::start(parameters).await)
        };
        if let Some(ssm) = &ssm {
            settings.push(("AWS_ENDPOINT_URL".into(), ssm.endpoint()));
        }
        // Exactly as the functions will read them, so a problem shows here, named, and not as six
        // functions that fail to start.
        let vars: HashMap<&str, &str> = settings
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        config::Config::from_vars(|name| vars.get(name).map(|v| (*v).to_owned()))
            .map_err(|e| format!("the functions would refuse these settings: {e}"))?;
        Ok(Self {
            provider,
            slack,
            discord,
            _ssm: ssm,
            names: extra.names,
            discord_users: extra.discord_users,
            settings,
        })
    }

    pub fn settings(&self) -> &[(String, String)] {
        &self.settings
    }

    pub fn chat(&self, provider: Provider) -> &Chat {
        match provider {
            Provider::Slack => &self.slack,
            Provider::Discord => &self.discord,
        }
    }

    pub fn slack(&self) -> &SlackStandIn {
        slack_of(&self.slack)
    }

    pub fn discord(&self) -> &DiscordStandIn {
        discord_of(&self.discord)
    }

    /// What the preview calls channel `id` on `provider`: `#name`, `DM @user`, a Discord thread by its
    /// channel, or the id itself.
    pub fn label(&self, provider: Provider, id: &str) -> String {
        if let Some(name) = self.names.get(&(provider, id.to_owned())) {
            return dm_or_channel(name);
        }
        if provider == Provider::Discord {
            let threads = self.discord().threads();
            if let Some(thread) = threads.iter().find(|t| t.thread_id == id) {
                return format!(
                    "{}, thread of {id}",
                    self.label(provider, &thread.parent_id)
                );
            }
        }
        if provider == Provider::Discord
            && let Some(user) = self
                .discord_users
                .iter()
                .find(|user| self.discord().dm_channel(user).as_deref() == Some(id))
        {
            return format!("DM @{user}");
        }
        match self.chat(provider).place_name(id) {
            Some(name) if name == OWNER.name => format!("DM {name}"),
            Some(name) => format!("#{name}"),
            None if provider == Provider::Discord => format!("#{id}"),
            None => id.to_owned(),
        }
    }
}

fn dm_or_channel(name: &str) -> String {
    if name.starts_with('@') {
        format!("DM {name}")
    } else {
        name.to_owned()
    }
}

fn slack_of(chat: &Chat) -> &SlackStandIn {
    match chat {
        Chat::Slack(slack) => slack,
        Chat::Discord(_) => unreachable!("the stack's Slack side holds the Slack stand-in"),
    }
}

fn discord_of(chat: &Chat) -> &DiscordStandIn {
    match chat {
        Chat::Discord(discord) => discord,
        Chat::Slack(_) => unreachable!("the stack's Discord side holds the Discord stand-in"),
    }
}

fn token(chat: &Chat) -> &str {
    match chat {
        Chat::Slack(slack) => slack.token(),
        Chat::Discord(discord) => discord.token(),
    }
}

/// Rate limits off, so that a run never waits.
async fn slack(extra: &Extra) -> Chat {
    let mut builder = SlackStandIn::builder()
        .rate_limit(None)
        .update_rate_limit(None);
    let built_in = CHANNELS
        .iter()
        .map(|place| SlackChannel::public(place.slack_id, place.name));
    for channel in built_in.chain(extra.slack_channels.iter().cloned()) {
        builder = builder.channel(channel);
    }
    let users = std::iter::once(SlackUser::new(OWNER.slack_id));
    for user in users.chain(extra.slack_users.iter().cloned()) {
        builder = builder.user(user);
    }
    for (_, channel) in &extra.slack_webhooks {
        builder = builder.webhook(channel);
    }
    Chat::Slack(builder.start().await)
}

async fn discord(extra: &Extra) -> Chat {
    let mut builder = DiscordStandIn::builder().rate_limit(None);
    let built_in = CHANNELS.iter().map(|place| place.discord_id.to_owned());
    for channel in built_in.chain(extra.discord_channels.iter().cloned()) {
        builder = builder.channel(&channel, Access::Send);
    }
    for user in std::iter::once(OWNER.discord_id).chain(extra.discord_users.iter().map(|u| &**u)) {
        builder = builder.user(user, true);
    }
    for (_, channel) in &extra.discord_webhooks {
        builder = builder.webhook(channel);
    }
    Chat::Discord(builder.start().await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(yaml: &str) -> Routes {
        let path = std::env::temp_dir().join(format!("preview-routes-{}.yaml", std::process::id()));
        std::fs::write(&path, yaml).unwrap();
        let routes = Routes::read(&path, Provider::Slack).unwrap();
        std::fs::remove_file(&path).unwrap();
        routes
    }

    #[test]
    fn every_place_a_document_names_is_made_once_and_built_in_ones_are_reused() {
        let routes = routes(
            "routes:
              - {name: a, to: ['#oncall', 'slack:#general', 'C0202', '@U0123ABC', '@ana@example.com']}
              - {name: b, to: ['slack:#oncall', 'discord:#42', 'discord:@7', 'discord:@333333333333333333']}
              - {name: c, to: ['slack-webhook:/hooks/oncall', 'slack-webhook:/hooks/ops']}
              - {name: d, to: ['discord-webhook:/hooks/deploys', 'discord-webhook:/hooks/deploys']}",
        );
        let extra = Extra::of(Some(&routes));
        let channels: Vec<(&str, &str)> = extra
            .slack_channels
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str()))
            .collect();
        assert_eq!(channels, [("C9001", "oncall"), ("C9002", "ops")]);
        let users: Vec<_> = extra.slack_users.iter().map(|u| u.email.clone()).collect();
        assert_eq!(users, [Some("ana@example.com".to_owned())]);
        assert_eq!(
            extra.slack_webhooks,
            [
                ("/hooks/oncall".to_owned(), "C9001".to_owned()),
                ("/hooks/ops".to_owned(), "C9002".to_owned())
            ]
        );
        assert_eq!(
            extra.discord_channels,
            ["42".to_owned(), "900000000000000001".to_owned()]
        );
        assert_eq!(extra.discord_users, ["7".to_owned()]);
        assert_eq!(extra.discord_webhooks.len(), 1);
        assert_eq!(
            extra.names[&(Provider::Discord, "900000000000000001".to_owned())],
            "#deploys"
        );
        assert_eq!(
            extra.names[&(Provider::Slack, "D9001".to_owned())],
            "@ana@example.com"
        );
        assert_eq!(extra.names[&(Provider::Slack, "C9002".to_owned())], "#ops");
    }
}
