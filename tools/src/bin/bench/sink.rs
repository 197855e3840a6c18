//! Where a benchmarked function's messages arrive: the Slack stand-in or a local EventBridge.

use standins::SlackStandIn;
use standins::bus::BusStandIn;
use standins::slack::SlackChannel;

use super::TIMEOUT;

/// The functions keep to a channel's pace, one post per 1.05 s: the warm events of a round go to this
/// many channels in turn, one rack each, so that none waits for its channel at the default 500 a round.
pub(crate) const CHANNELS: usize = 500;

/// Where a function's messages arrive, to time the first and count them all.
#[derive(Clone, Copy)]
pub(crate) enum Sink {
    /// The Slack stand-in without rate limit, a channel per rack; one message per event (live messages
    /// off), as the floor answers once per event.
    Chat,
    /// A local EventBridge; the receiver takes unsigned requests, so that it needs no SSM.
    Bus,
}

pub(crate) enum Started {
    Chat(SlackStandIn),
    Bus(BusStandIn),
}

impl Started {
    pub(crate) async fn start(sink: Sink) -> Self {
        match sink {
            Sink::Chat => {
                let mut slack = SlackStandIn::builder().rate_limit(None);
                for n in 0..CHANNELS {
                    let (id, name) = (format!("CBENCH{n:04}"), format!("bench-{n}"));
                    slack = slack.channel(SlackChannel::public(&id, &name));
                }
                Self::Chat(slack.start().await)
            }
            Sink::Bus => Self::Bus(BusStandIn::start().await),
        }
    }

    pub(crate) fn settings(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Chat(slack) => {
                let mapping: Vec<String> = (0..CHANNELS)
                    .map(|n| format!("rack-{n}=bench-{n}"))
                    .collect();
                vec![
                    ("NOTIFICATIONS_PROVIDER", "slack".into()),
                    ("NOTIFICATIONS_TOKEN", slack.token().into()),
                    ("NOTIFICATIONS_DEFAULT_CHANNEL", "bench-0".into()),
                    ("NOTIFICATIONS_CHANNEL_MAPPING", mapping.join(",")),
                    ("NOTIFICATIONS_LIVE_MESSAGES", "false".into()),
                    ("SLACK_API_URL", slack.uri()),
                ]
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
            Self::Chat(slack) => slack.posted().len(),
            Self::Bus(bus) => bus.entries().len(),
        }
    }

    /// Returns once `total` arrived; the wait outlasts an invocation's, whose error says more.
    pub(crate) async fn wait_for(&self, total: usize) {
        match self {
            Self::Chat(slack) => drop(slack.wait_for_posted(total, TIMEOUT * 2).await),
            Self::Bus(bus) => bus.wait_for_entries(total, TIMEOUT * 2).await,
        }
    }
}
