//! A whole rack-notifications setup on this machine for the tools in `src/bin/`: the sample events, a chat
//! stand-in whose channels and users match the built-in routes, and the settings the functions get.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;
use shared::Category;
use shared::destination::Provider;

use standins::discord::{Access, DiscordStandIn, OWNER_USER_ID};
use standins::slack::{GENERAL_ID, SlackChannel, SlackStandIn, SlackUser};

/// The workspace root, where `events/` and `target/` live.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tools/ sits in the workspace")
        .to_path_buf()
}

/// A tool's parsed command line, or the exit code it ends with: success after `--help` (the parser's
/// empty problem), 2 after a usage error.
pub fn command_line<T>(tool: &str, usage: &str, parsed: Result<T, String>) -> Result<T, ExitCode> {
    match parsed {
        Ok(options) => Ok(options),
        Err(problem) if problem.is_empty() => {
            println!("{usage}");
            Err(ExitCode::SUCCESS)
        }
        Err(problem) => {
            eprintln!("{tool}: {problem}\n\n{usage}");
            Err(ExitCode::from(2))
        }
    }
}

/// The function (package and binary) that handles `category`.
pub fn function_name(category: Category) -> String {
    format!("notify-{}", category.name())
}

/// One file of `events/`, with the function it goes to.
#[derive(Clone, Debug)]
pub struct Sample {
    pub file: String,
    pub event: Value,
    pub action: String,
    pub category: Category,
}

impl Sample {
    pub fn function(&self) -> String {
        function_name(self.category)
    }
}

/// Reads `paths`, or every `events/*.json` in name order when `paths` is empty.
pub fn load_samples(paths: &[PathBuf]) -> Result<Vec<Sample>, String> {
    let paths = if paths.is_empty() {
        let dir = workspace_root().join("events");
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        found.sort();
        found
    } else {
        paths.to_vec()
    };
    paths.iter().map(|path| read_sample(path)).collect()
}

fn read_sample(path: &Path) -> Result<Sample, String> {
    let fail = |problem: String| format!("{}: {problem}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let event: Value = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
    let action = event["detail"]["action"]
        .as_str()
        .or_else(|| event["detail-type"].as_str())
        .ok_or_else(|| fail("no `detail.action` or `detail-type`".into()))?
        .trim()
        .to_owned();
    let category =
        category_of(&action).ok_or_else(|| fail(format!("no function handles `{action}`")))?;
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    Ok(Sample {
        file,
        event,
        action,
        category,
    })
}

/// The action's category or, for one that has none (audit-only types), the category of the longest
/// namespace it sits in, so it reaches a function that shows it is skipped.
fn category_of(action: &str) -> Option<Category> {
    Category::of(action).or_else(|| {
        action
            .char_indices()
            .rev()
            .filter(|&(_, c)| c == ':')
            .find_map(|(at, _)| Category::of(&action[..=at]))
    })
}

/// A place the built-in routes name, with its id in each stand-in.
pub struct Place {
    pub name: &'static str,
    pub slack_id: &'static str,
    pub discord_id: &'static str,
}

/// The default channel first; the routes below send staging and production to their channels, `web` to
/// its team channel and `billing` to its owner.
pub const CHANNELS: [Place; 4] = [
    Place {
        name: "general",
        slack_id: GENERAL_ID,
        discord_id: standins::discord::CHANNEL_ID,
    },
    Place {
        name: "staging-deploys",
        slack_id: "C0201",
        discord_id: "555555555555555555",
    },
    Place {
        name: "production-deploys",
        slack_id: "C0202",
        discord_id: "666666666666666666",
    },
    Place {
        name: "web-team",
        slack_id: "C0203",
        discord_id: "777777777777777777",
    },
];

/// `billing`'s owner, who accepts direct messages.
pub const OWNER: Place = Place {
    name: "billing owner",
    slack_id: "U0123ABC",
    discord_id: OWNER_USER_ID,
};

/// A message as the stand-in accepted it.
#[derive(Clone, Debug)]
pub struct Message {
    /// The channel id the message landed in (a DM channel for users).
    pub channel: String,
    pub body: Value,
}

/// The chat service the functions post to, with rate limits off so samples and benchmarks never wait.
pub enum Chat {
    Slack(SlackStandIn),
    Discord(DiscordStandIn),
}

impl Chat {
    pub async fn start(provider: Provider) -> Self {
        Self::start_on(provider, None).await
    }

    /// [`Chat::start`], serving on `listener` when given instead of a free port.
    pub async fn start_on(provider: Provider, listener: Option<TcpListener>) -> Self {
        match provider {
            Provider::Slack => {
                let mut builder = SlackStandIn::builder().rate_limit(None);
                for place in &CHANNELS {
                    builder = builder.channel(SlackChannel::public(place.slack_id, place.name));
                }
                if let Some(listener) = listener {
                    builder = builder.listener(listener);
                }
                Self::Slack(builder.user(SlackUser::new(OWNER.slack_id)).start().await)
            }
            Provider::Discord => {
                let mut builder = DiscordStandIn::builder().rate_limit(None);
                for place in &CHANNELS {
                    builder = builder.channel(place.discord_id, Access::Send);
                }
                if let Some(listener) = listener {
                    builder = builder.listener(listener);
                }
                Self::Discord(builder.user(OWNER.discord_id, true).start().await)
            }
        }
    }

    pub fn provider(&self) -> Provider {
        match self {
            Self::Slack(_) => Provider::Slack,
            Self::Discord(_) => Provider::Discord,
        }
    }

    /// The API base URL the functions are given, like `http://127.0.0.1:40123/api`.
    pub fn api_url(&self) -> String {
        match self {
            Self::Slack(slack) => slack.uri(),
            Self::Discord(discord) => discord.uri(),
        }
    }

    /// A function's settings: this stand-in's token and the built-in routes, posting to `api_url`.
    pub fn settings(&self, api_url: &str) -> Vec<(&'static str, String)> {
        let id = |place: &Place| match self.provider() {
            Provider::Slack => place.slack_id,
            Provider::Discord => place.discord_id,
        };
        // Slack routes by channel name, as operators write them; Discord only knows ids.
        let channel = |place: &Place| match self.provider() {
            Provider::Slack => place.name,
            Provider::Discord => place.discord_id,
        };
        let [general, staging, production, web] = &CHANNELS;
        let (provider, token, url_var) = match self {
            Self::Slack(slack) => ("slack", slack.token(), "SLACK_API_URL"),
            Self::Discord(discord) => ("discord", discord.token(), "DISCORD_API_URL"),
        };
        vec![
            ("NOTIFICATIONS_PROVIDER", provider.into()),
            ("NOTIFICATIONS_TOKEN", token.into()),
            ("NOTIFICATIONS_DEFAULT_CHANNEL", channel(general).into()),
            (
                "NOTIFICATIONS_CHANNEL_MAPPING",
                format!(
                    "staging={},production={}",
                    channel(staging),
                    channel(production)
                ),
            ),
            (
                "NOTIFICATIONS_OWNER_MAPPING",
                format!("web=#{},billing=@{}", channel(web), id(&OWNER)),
            ),
            (url_var, api_url.into()),
        ]
    }

    /// The accepted messages from the `from`th on.
    pub fn posted_since(&self, from: usize) -> Vec<Message> {
        let messages: Vec<Message> = match self {
            Self::Slack(slack) => slack
                .posted()
                .into_iter()
                .map(|posted| Message {
                    channel: posted.channel,
                    body: posted.body,
                })
                .collect(),
            Self::Discord(discord) => discord
                .posted()
                .into_iter()
                .map(|posted| Message {
                    channel: posted.channel_id,
                    body: posted.body,
                })
                .collect(),
        };
        messages.into_iter().skip(from).collect()
    }

    /// What the built-in routes call a channel or user id (or the owner's DM channel), if they name it.
    pub fn place_name(&self, id: &str) -> Option<&'static str> {
        let owner_dm = match self {
            Self::Slack(_) => Some(SlackUser::new(OWNER.slack_id).dm_channel()),
            Self::Discord(discord) => discord.dm_channel(OWNER.discord_id),
        };
        if [OWNER.slack_id, OWNER.discord_id].contains(&id) || owner_dm.as_deref() == Some(id) {
            return Some(OWNER.name);
        }
        CHANNELS
            .iter()
            .find(|place| [place.slack_id, place.discord_id].contains(&id))
            .map(|place| place.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_without_a_category_go_where_their_namespace_points() {
        assert_eq!(category_of("app:budget:set"), Some(Category::Budget));
        assert_eq!(
            category_of("app:scale-override:toggled"),
            Some(Category::App)
        );
        assert_eq!(category_of("build:create"), Some(Category::Release));
        assert_eq!(category_of("something:else"), None);
    }

    #[test]
    fn every_sample_reaches_a_function() {
        let samples = load_samples(&[]).unwrap();
        assert!(samples.len() >= 30);
        for category in Category::ALL {
            assert!(samples.iter().any(|s| s.category == category), "{category}");
        }
    }
}
