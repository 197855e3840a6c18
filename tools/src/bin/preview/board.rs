//! What the chat services show, read from the stand-ins: what one invocation posted and edited, and at
//! the end of a run, per channel, each message as it stands (edits applied) with the replies in its
//! thread, for both providers.

use std::collections::HashSet;

use serde_json::Value;
use shared::destination::Provider;
use tools::local::Message;

use super::stack::Stack;

/// How far each stand-in's records went before an invocation.
#[derive(Clone, Copy)]
pub struct Marks {
    slack_posted: usize,
    slack_updates: usize,
    discord_posted: usize,
    discord_edits: usize,
}

impl Marks {
    pub fn of(stack: &Stack) -> Self {
        Self {
            slack_posted: stack.slack().posted().len(),
            slack_updates: stack.slack().updates().len(),
            discord_posted: stack.discord().posted().len(),
            discord_edits: stack.discord().edits().len(),
        }
    }

    pub fn posted(&self) -> usize {
        self.slack_posted + self.discord_posted
    }
}

/// One thing an invocation did in a chat service.
pub enum Activity {
    /// A new message; `place` says where (`#web-team`, `#web-team, thread of 1700000000.000002`).
    Posted {
        provider: Provider,
        place: String,
        message: Message,
    },
    /// A live message's root edited to show the lifecycle's new state.
    Edited {
        provider: Provider,
        place: String,
        id: String,
        text: String,
    },
}

/// What happened in both services since `marks`, Slack's first.
pub fn since(stack: &Stack, marks: Marks) -> Vec<Activity> {
    let mut done = Vec::new();
    let slack = stack.slack();
    for posted in slack.posted().into_iter().skip(marks.slack_posted) {
        let mut place = stack.label(Provider::Slack, &posted.channel);
        match &posted.thread_ts {
            Some(root) if posted.reply_broadcast => {
                place += &format!(", thread of {root}, also sent to the channel")
            }
            Some(root) => place += &format!(", thread of {root}"),
            None if posted.via_webhook => place += " (webhook)",
            None => {}
        }
        done.push(Activity::Posted {
            provider: Provider::Slack,
            place,
            message: Message {
                channel: posted.channel,
                body: posted.body,
            },
        });
    }
    for update in slack.updates().into_iter().skip(marks.slack_updates) {
        done.push(Activity::Edited {
            provider: Provider::Slack,
            place: stack.label(Provider::Slack, &update.channel),
            text: line(Provider::Slack, &update.body),
            id: update.ts,
        });
    }
    let discord = stack.discord();
    for posted in discord.posted().into_iter().skip(marks.discord_posted) {
        let mut place = stack.label(Provider::Discord, &posted.channel_id);
        if let Some(root) = &posted.message_reference {
            place += &format!(", replying to {root}");
        }
        if posted.via_webhook {
            place += " (webhook)";
        }
        done.push(Activity::Posted {
            provider: Provider::Discord,
            place,
            message: Message {
                channel: posted.channel_id,
                body: posted.body,
            },
        });
    }
    for edit in discord.edits().into_iter().skip(marks.discord_edits) {
        let now = discord.message(&edit.channel_id, &edit.message_id);
        done.push(Activity::Edited {
            provider: Provider::Discord,
            place: stack.label(Provider::Discord, &edit.channel_id),
            text: now.map_or_else(String::new, |m| line(Provider::Discord, &m.body)),
            id: edit.message_id,
        });
    }
    done
}

/// A channel and its messages as they stand.
pub struct Channel {
    pub provider: Provider,
    pub label: String,
    pub messages: Vec<Shown>,
}

/// A message as it stands now, with its thread.
pub struct Shown {
    pub id: String,
    pub body: Value,
    pub edits: usize,
    pub via_webhook: bool,
    /// Discord's thread name, when one was started on the message.
    pub thread: Option<String>,
    pub replies: Vec<Reply>,
}

pub struct Reply {
    pub body: Value,
    /// Slack: a reply also sent to the channel; Discord: a reply posted in the channel, linked to the
    /// message (where there is no thread, in a DM, or as the channel's copy of a failure).
    pub in_channel: bool,
}

impl Shown {
    /// A live message's root: one with replies under it.
    pub fn is_root(&self) -> bool {
        !self.replies.is_empty()
    }
}

/// Every channel with messages, Slack's first, each in the order of its first message.
pub fn channels(stack: &Stack) -> Vec<Channel> {
    let mut channels: Vec<(String, Channel)> = Vec::new();
    let mut add = |provider: Provider, id: &str, shown: Shown| {
        let key = format!("{}:{id}", provider.key());
        match channels.iter_mut().find(|(k, _)| *k == key) {
            Some((_, channel)) => channel.messages.push(shown),
            None => channels.push((
                key,
                Channel {
                    provider,
                    label: stack.label(provider, id),
                    messages: vec![shown],
                },
            )),
        }
    };
    let slack = stack.slack();
    for posted in slack.posted() {
        if posted.thread_ts.is_some() || posted.orphaned {
            continue;
        }
        let Some(now) = slack.message(&posted.channel, &posted.ts) else {
            continue;
        };
        let replies = now
            .replies
            .iter()
            .map(|reply| Reply {
                body: reply.body.clone(),
                in_channel: reply.reply_broadcast,
            })
            .collect();
        let shown = Shown {
            id: posted.ts.clone(),
            body: now.body,
            edits: now.edits,
            via_webhook: posted.via_webhook,
            thread: None,
            replies,
        };
        add(Provider::Slack, &posted.channel, shown);
    }
    let discord = stack.discord();
    let threads = discord.threads();
    let thread_ids: HashSet<&str> = threads.iter().map(|t| t.thread_id.as_str()).collect();
    let posted = discord.posted();
    for message in &posted {
        if thread_ids.contains(message.channel_id.as_str()) || message.message_reference.is_some() {
            continue;
        }
        let Some(now) = discord.message(&message.channel_id, &message.message_id) else {
            continue;
        };
        let thread = threads.iter().find(|t| t.message_id == message.message_id);
        let replies = posted
            .iter()
            .filter_map(|reply| {
                let in_thread = thread.is_some_and(|t| t.thread_id == reply.channel_id);
                let in_channel = reply.channel_id == message.channel_id
                    && reply.message_reference.as_deref() == Some(&message.message_id);
                (in_thread || in_channel).then(|| Reply {
                    body: reply.body.clone(),
                    in_channel,
                })
            })
            .collect();
        let shown = Shown {
            id: message.message_id.clone(),
            body: now.body,
            edits: now.edits,
            via_webhook: message.via_webhook,
            thread: thread.map(|t| t.name.clone()),
            replies,
        };
        add(Provider::Discord, &message.channel_id, shown);
    }
    channels.into_iter().map(|(_, channel)| channel).collect()
}

/// The live messages compactly: per root, where it is, its text as it ends, and its replies in order.
pub fn live_lines(channels: &[Channel]) -> Vec<String> {
    let mut lines = Vec::new();
    for channel in channels {
        for root in channel.messages.iter().filter(|m| m.is_root()) {
            let edited = match root.edits {
                0 => String::new(),
                1 => ", edited once".to_owned(),
                n => format!(", edited {n} times"),
            };
            lines.push(format!(
                "{} {}  (message {}{edited})",
                channel.provider, channel.label, root.id
            ));
            lines.push(format!("  {}", line(channel.provider, &root.body)));
            for reply in &root.replies {
                let mark = if reply.in_channel { "↩" } else { "↳" };
                lines.push(format!(
                    "    {mark} {}",
                    line(channel.provider, &reply.body)
                ));
            }
        }
    }
    lines
}

/// A message on one line, as the chat app shows its text: Slack's `text`, Discord's content (or, if it
/// has none, its embed's title).
pub fn line(provider: Provider, body: &Value) -> String {
    let str_of = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let shown = match provider {
        Provider::Slack => super::slack_shown(&str_of(&body["text"])),
        Provider::Discord => {
            let content = str_of(&body["content"]);
            let text = if content.trim().is_empty() {
                str_of(&body["embeds"][0]["title"])
            } else {
                content
            };
            super::discord_shown(&text)
        }
    };
    shown.split_whitespace().collect::<Vec<_>>().join(" ")
}
