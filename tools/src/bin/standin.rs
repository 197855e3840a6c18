//! standin: the local Slack or Discord stand-in that `preview` uses, on a fixed loopback port for
//! `cargo lambda watch` (or anything else) to post to; prints each message, reply and edit it accepts on
//! one line until Ctrl-C.
//!
//! `cargo run -p tools --bin standin -- slack|discord [--port PORT]`

use std::net::{Ipv4Addr, TcpListener};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;
use shared::destination::Provider;
use tools::local::{Chat, command_line};

const USAGE: &str = "\
usage: cargo run -p tools --bin standin -- slack|discord [--port PORT]

Serves a local Slack or Discord API on 127.0.0.1:PORT (default 9700 for Slack, 9701 for Discord) with
the channels and users of the built-in routes, as `preview` sets it up, and no rate limits. Prints the
settings that post to it, then each message, thread reply and edit it accepts on one line, until
Ctrl-C. local.env, which Cargo.toml hands to `cargo lambda watch`, points every function at the Slack
one on its default port.";

/// The port `local.env`, the settings `cargo lambda watch` reads, names.
const SLACK_PORT: u16 = 9700;
const DISCORD_PORT: u16 = 9701;

/// How often the accepted messages are looked at: quick enough for a person reading along.
const POLL: Duration = Duration::from_millis(100);

struct Options {
    provider: Provider,
    port: u16,
}

fn parse_args() -> Result<Options, String> {
    let mut provider = None;
    let mut port = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.into())),
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--port" => {
                let value: String = inline
                    .or_else(|| args.next())
                    .ok_or("--port needs a value")?;
                port = Some(
                    value
                        .parse::<u16>()
                        .map_err(|_| format!("--port: `{value}` is not a port number"))?,
                );
            }
            other if other.starts_with('-') => return Err(format!("unknown option `{other}`")),
            name => {
                if provider.is_some() {
                    return Err(format!("`{name}`: one provider only"));
                }
                provider = Some(
                    Provider::parse(name)
                        .ok_or_else(|| format!("`{name}` is not slack or discord"))?,
                );
            }
        }
    }
    let provider = provider.ok_or("name the provider: slack or discord")?;
    let port = port.unwrap_or(match provider {
        Provider::Slack => SLACK_PORT,
        Provider::Discord => DISCORD_PORT,
    });
    Ok(Options { provider, port })
}

fn main() -> ExitCode {
    let options = match command_line("standin", USAGE, parse_args()) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, options.port)) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "standin: cannot listen on 127.0.0.1:{}: {error} (another stand-in? --port picks another port)",
                options.port
            );
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
    runtime.block_on(serve(options.provider, listener))
}

/// Starts the stand-in on `listener` and reports what reaches it, forever.
async fn serve(provider: Provider, listener: TcpListener) -> ExitCode {
    let chat = Chat::start_on(provider, Some(listener)).await;
    let api_url = chat.api_url();
    println!("{provider} stand-in at {api_url} until Ctrl-C; settings that post to it:");
    for (name, value) in chat.settings(&api_url) {
        println!("   {name}={value}");
    }
    let mut printed = Printed::default();
    loop {
        for line in new_lines(&chat, &mut printed) {
            println!("{line}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// How much of each list the stand-in keeps was printed already.
#[derive(Default)]
struct Printed {
    posted: usize,
    edited: usize,
    refused: usize,
}

/// One line for each message, edit and refusal since the last call: `posted to <place>: <text>`,
/// `replied in <place> under <root>: <text>`, `edited <message> in <place>: <text>`, `refused: <error>`,
/// with the text as sent, on one line.
fn new_lines(chat: &Chat, printed: &mut Printed) -> Vec<String> {
    let place = |id: &str| match chat.place_name(id) {
        Some(name) => format!("{id} ({name})"),
        None => id.to_owned(),
    };
    let mut lines = Vec::new();
    match chat {
        Chat::Slack(slack) => {
            for posted in slack.posted().into_iter().skip(printed.posted) {
                printed.posted += 1;
                let (channel, text) = (place(&posted.channel), one_line(&posted.body["text"]));
                lines.push(match &posted.thread_ts {
                    Some(root) if posted.reply_broadcast => {
                        format!("replied in {channel} under {root} (also in the channel): {text}")
                    }
                    Some(root) => format!("replied in {channel} under {root}: {text}"),
                    None => format!("posted to {channel}: {text}"),
                });
            }
            for update in slack.updates().into_iter().skip(printed.edited) {
                printed.edited += 1;
                let text = one_line(&update.body["text"]);
                lines.push(format!(
                    "edited {} in {}: {text}",
                    update.ts,
                    place(&update.channel)
                ));
            }
            for error in slack.errors().into_iter().skip(printed.refused) {
                printed.refused += 1;
                lines.push(format!("refused: {error}"));
            }
        }
        Chat::Discord(discord) => {
            // A reply under a live message sits in a thread: a channel of its own, named after its parent here.
            let threads = discord.threads();
            let thread = |channel: &str| threads.iter().find(|t| t.thread_id == channel);
            for posted in discord.posted().into_iter().skip(printed.posted) {
                printed.posted += 1;
                let text = discord_text(&posted.body);
                let channel = &posted.channel_id;
                lines.push(match (thread(channel), &posted.message_reference) {
                    (Some(thread), _) => format!(
                        "replied in {} under {}: {text}",
                        place(&thread.parent_id),
                        thread.message_id
                    ),
                    (None, Some(to)) => format!("replied in {} to {to}: {text}", place(channel)),
                    (None, None) => format!("posted to {}: {text}", place(channel)),
                });
            }
            for edit in discord.edits().into_iter().skip(printed.edited) {
                printed.edited += 1;
                let channel = thread(&edit.channel_id).map_or(&edit.channel_id, |t| &t.parent_id);
                let text = discord_text(&edit.body);
                lines.push(format!(
                    "edited {} in {}: {text}",
                    edit.message_id,
                    place(channel)
                ));
            }
            for (status, code) in discord.errors().into_iter().skip(printed.refused) {
                printed.refused += 1;
                lines.push(format!("refused: HTTP {status}, code {code}"));
            }
        }
    }
    lines
}

/// A Discord body's words: its content, else its embed's title.
fn discord_text(body: &Value) -> String {
    match body["content"]
        .as_str()
        .filter(|content| !content.trim().is_empty())
    {
        Some(content) => one_line(&Value::from(content)),
        None => one_line(&body["embeds"][0]["title"]),
    }
}

/// A text value on one line; empty when it is not text.
fn one_line(text: &Value) -> String {
    let words: Vec<&str> = text
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use tools::local::workspace_root;

    /// `local.env`, which `cargo lambda watch` reads (Cargo.toml), holds the settings this stand-in
    /// prints for its default Slack port: its test token, its channels, its URL. A real token committed
    /// there fails here too. Settings of other functions' own may sit beside them.
    #[tokio::test]
    async fn local_env_posts_to_the_slack_stand_in() {
        let chat = Chat::start(Provider::Slack).await;
        let expected = chat.settings(&format!("http://127.0.0.1:{SLACK_PORT}/api"));
        let text =
            std::fs::read_to_string(workspace_root().join("local.env")).expect("read local.env");
        let found: HashMap<&str, &str> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| match line.split_once('=') {
                Some((name, value)) => (name, unquoted(value)),
                None => panic!("local.env: `{line}` is not NAME=value"),
            })
            .collect();
        for (name, value) in &expected {
            assert_eq!(
                found.get(name),
                Some(&value.as_str()),
                "local.env: {name} must be the stand-in's `{value}`"
            );
        }
    }

    /// A value as cargo-lambda's env file reader takes it: without the quotes around it.
    fn unquoted(value: &str) -> &str {
        ['\'', '"']
            .into_iter()
            .find_map(|quote| value.strip_prefix(quote)?.strip_suffix(quote))
            .unwrap_or(value)
    }
}
