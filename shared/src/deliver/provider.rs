//! The messenger for every destination of a stack: Slack's and Discord's transports side by side, each
//! with its own token, sharing one HTTP client, the parameters and the channels' pace.

use std::sync::Arc;

use super::discord::DiscordMessenger;
use super::slack::SlackMessenger;
use super::{DeliveryError, HttpClientError, Message, Messenger, Pace};
use crate::deadline::Deadline;
use crate::destination::{Destination, Provider, Receipt};
use crate::ledger::Lanes;
use crate::lifecycle::Root;
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

    async fn edit(
        &self,
        to: &Destination,
        root: &Root,
        message: &Message<'_>,
        deadline: Deadline,
    ) -> Result<(), DeliveryError> {
        match to.provider {
            Provider::Slack => self.slack.edit(root, message, deadline).await,
            Provider::Discord => self.discord.edit(to, root, message, deadline).await,
        }
    }

    async fn open_thread(
        &self,
        to: &Destination,
        root: &Root,
        name: &str,
        deadline: Deadline,
    ) -> Result<Option<String>, DeliveryError> {
        match to.provider {
            // A Slack thread is any message's `ts`: nothing to open.
            Provider::Slack => Ok(None),
            Provider::Discord => self
                .discord
                .open_thread(root, name, deadline)
                .await
                .map(Some),
        }
    }

    async fn reply(
        &self,
        to: &Destination,
        root: &Root,
        message: &Message<'_>,
        broadcast: bool,
        deadline: Deadline,
    ) -> Result<Receipt, DeliveryError> {
        match to.provider {
            Provider::Slack => {
                self.slack
                    .reply(to, root, message, broadcast, deadline)
                    .await
            }
            Provider::Discord => {
                self.discord
                    .reply(to, root, message, broadcast, deadline)
                    .await
            }
        }
    }
}
