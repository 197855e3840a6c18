//! Starting a thread on a message (`POST /channels/{c}/messages/{m}/threads`): the thread is a channel
//! of its own, with the message's id, that the bot posts in like any other.

use serde_json::json;
use wiremock::Request;

use super::Access;
use super::answer::{Answer, json_body};
use super::records::DiscordThread;
use super::state::State;
use super::validate;

// A public thread; Discord starts one of these from a message in a text channel.
const PUBLIC_THREAD: u64 = 11;
// Discord's default when the request names no `auto_archive_duration`: one day, in minutes.
const DEFAULT_ARCHIVE_MINUTES: u64 = 1440;

impl State {
    pub(super) fn start_thread(&self, channel: &str, message: &str, request: &Request) -> Answer {
        if let Err(answer) = self.check_access(channel) {
            return answer;
        }
        let body = match json_body(request) {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        if let Err(rejection) = validate::thread(&body) {
            return Answer::new(400, rejection.body);
        }
        let mut inner = self.inner.lock().unwrap();
        // DMs have no threads, and threads have no threads of their own.
        let is_dm = inner.dm_channels.values().any(|dm| dm == channel);
        if is_dm || inner.threads.iter().any(|t| t.thread_id == channel) {
            return Answer::error(400, 50024, "Cannot execute action on this channel type");
        }
        let Some(stored) = inner.live(channel, message) else {
            return Answer::unknown_message();
        };
        if stored.thread_id.is_some() {
            return Answer::error(
                400,
                160004,
                "A thread has already been created for this message",
            );
        }
        let name = body["name"].as_str().unwrap_or_default().to_string();
        if let Some(stored) = inner.messages.get_mut(message) {
            stored.thread_id = Some(message.into());
        }
        inner.channels.insert(message.into(), Access::Send);
        inner.threads.push(DiscordThread {
            parent_id: channel.into(),
            message_id: message.into(),
            thread_id: message.into(),
            name: name.clone(),
        });
        let archive = body["auto_archive_duration"]
            .as_u64()
            .unwrap_or(DEFAULT_ARCHIVE_MINUTES);
        Answer::new(
            201,
            json!({
                "id": message,
                "type": PUBLIC_THREAD,
                "parent_id": channel,
                "name": name,
                "last_message_id": null,
                "rate_limit_per_user": body["rate_limit_per_user"].as_u64().unwrap_or(0),
                "flags": 0,
                "message_count": 0,
                "member_count": 1,
                "total_message_sent": 0,
                "thread_metadata": {
                    "archived": false,
                    "auto_archive_duration": archive,
                    "locked": false,
                },
            }),
        )
    }
}
