//! The messenger for every destination of a stack: Slack's and Discord's transports side by side, each
//! with its own token, sharing one HTTP client, the parameters and the channels' pace.

use std::sync::Arc;

use super::discord::DiscordMessenger;
use super::slack::SlackMessenger;
use super::{DeliveryError, HttpClientError, Message, Messenger, Pace};
use crate::deadline::Deadline;
use crate::destination::{Destination, Provider, Receipt};
use crate::ledger::Lanes;
use crate::params::Parameters;
use crate::secret::{Secret, Secrets};

#[derive(Debug)]
pub struct ProviderMessenger<P, L> {
    slack: SlackMessenger<P, L>,
    discord: DiscordMessenger<P, L>,
}

/// What the transports need from the settings.
#[derive(Debug)]
pub struct Transports {
    pub slack_url: String,
    pub discord_url: String,
    pub slack_token: Option<Secret>,
    pub discord_token: Option<Secret>,
}

impl<P: Parameters, L: Lanes> ProviderMessenger<P, L> {
    pub fn new(
        transports: Transports,
        parameters: Arc<P>,
        lanes: Arc<L>,
    ) -> Result<Self, HttpClientError> {
        let http = super::http::client()?;
        let webhooks = Arc::new(Secrets::default());
        let pace = Pace::new(lanes);
        Ok(Self {
            slack: SlackMessenger::new(
                http.clone(),
                &transports.slack_url,
                transports.slack_token,
                webhooks.clone(),
                parameters.clone(),
                pace.clone(),
            )?,
            discord: DiscordMessenger::new(
                http,
                &transports.discord_url,
                transports.discord_token,
                webhooks,
                parameters,
                pace,
            ),
        })
    }
}

impl<P: Parameters, L: Lanes> Messenger for ProviderMessenger<P, L> {
    async fn post(
        &self,
        to: &Destination,
        message: &Message<'_>,
        deadline: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        match to.provider {
            Provider::Slack => self.slack.post(to, message, deadline).await,
            Provider::Discord => self.discord.post(to, message, deadline).await,
        }
    }
}
