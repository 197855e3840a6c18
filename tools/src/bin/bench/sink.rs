//! Where a benchmarked function's messages arrive: the Slack stand-in or a local EventBridge.

use shared::destination::Provider;
use standins::bus::BusStandIn;
use tools::local::Chat;

use super::TIMEOUT;

/// Where a function's messages arrive, to time the first and count them all.
#[derive(Clone, Copy)]
pub(crate) enum Sink {
    /// The Slack stand-in with the built-in routes and no rate limit; one message per event (live
    /// messages off), as the floor answers once per event.
    Chat,
    /// A local EventBridge; the receiver takes unsigned requests, so that it needs no SSM.
    Bus,
}

pub(crate) enum Started {
    Chat(Chat),
    Bus(BusStandIn),
}

impl Started {
    pub(crate) async fn start(sink: Sink) -> Self {
        match sink {
            Sink::Chat => Self::Chat(Chat::start(Provider::Slack).await),
            Sink::Bus => Self::Bus(BusStandIn::start().await),
        }
    }

    pub(crate) fn settings(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Chat(chat) => {
                let mut settings = chat.settings(&chat.api_url());
                settings.push(("NOTIFICATIONS_LIVE_MESSAGES", "false".into()));
                settings
            }
            Self::Bus(bus) => vec![
                ("RACK_EVENT_BUS", "default".into()),
                ("RACK_ALLOW_UNSIGNED", "true".into()),
                ("AWS_ENDPOINT_URL", bus.uri()),
            ],
        }
    }

    pub(crate) fn received(&self) -> usize {
        match self {
            Self::Chat(chat) => chat.posted_count(),
            Self::Bus(bus) => bus.entries().len(),
        }
    }

    /// Returns once `total` arrived; the wait outlasts an invocation's, whose error says more.
    pub(crate) async fn wait_for(&self, total: usize) {
        match self {
            Self::Chat(chat) => chat.wait_for_posted(total, TIMEOUT * 2).await,
            Self::Bus(bus) => bus.wait_for_entries(total, TIMEOUT * 2).await,
        }
    }
}
