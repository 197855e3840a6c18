//! `preview`: runs the six real function binaries on this machine against local Slack and Discord stand-ins,
//! feeds them the sample events and shows what each one posted, where, and why.
//!
//! `cargo run -p tools --bin preview -- [--provider slack|discord|both] [--json] [EVENT.json …]`

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;
use shared::Category;
use shared::destination::Provider;
use standins::{FunctionProcess, Invocation, RuntimeApi, function_binary};
use tools::local::{Chat, Message, Sample, command_line, function_name, load_samples};

const USAGE: &str = "\
usage: cargo run -p tools --bin preview -- [--provider slack|discord|both] [--json] [EVENT.json ...]

Runs the six notify-* functions under a local Lambda Runtime API against local Slack and Discord
stand-ins (no AWS account, no chat token) and invokes each with the sample events of its category
(default: every events/*.json). Prints where each message went, by which routing rule, and what it
looks like; --json prints the full request bodies instead of the sketch.";

/// Lambda's default timeout is 3 s; a local post takes milliseconds, so this only catches a hung function.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(10);

struct Options {
    providers: Vec<Provider>,
    json: bool,
    files: Vec<PathBuf>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        providers: vec![Provider::Slack, Provider::Discord],
        json: false,
        files: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.into())),
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--json" => options.json = true,
            "--provider" => {
                let value = inline
                    .or_else(|| args.next())
                    .ok_or("--provider needs a value")?;
                options.providers = match value.to_ascii_lowercase().as_str() {
                    "slack" => vec![Provider::Slack],
                    "discord" => vec![Provider::Discord],
                    "both" => vec![Provider::Slack, Provider::Discord],
                    other => {
                        return Err(format!(
                            "--provider: `{other}` is not slack, discord or both"
                        ));
                    }
                };
            }
            other if other.starts_with('-') => return Err(format!("unknown option `{other}`")),
            _ => options.files.push(arg.into()),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match command_line("preview", USAGE, parse_args()) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    let samples = match load_samples(&options.files) {
        Ok(samples) => samples,
        Err(problem) => {
            eprintln!("preview: {problem}");
            return ExitCode::from(2);
        }
    };
    let categories: Vec<Category> = Category::ALL
        .into_iter()
        .filter(|category| samples.iter().any(|s| s.category == *category))
        .collect();
    // Cargo runs before any server starts: building blocks, and its output goes to the terminal as usual.
    let binaries: Vec<(Category, PathBuf)> = categories
        .iter()
        .map(|&category| {
            eprintln!("preview: building {}", function_name(category));
            (category, function_binary(&function_name(category)))
        })
        .collect();

    let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
    let paint = Paint::detect();
    let mut failed = 0;
    for provider in &options.providers {
        failed += runtime.block_on(preview(*provider, &samples, &binaries, &options, paint));
    }
    if failed > 0 {
        eprintln!("preview: {failed} invocation(s) failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Runs every sample against one provider's stand-in and prints the results; returns how many failed.
async fn preview(
    provider: Provider,
    samples: &[Sample],
    binaries: &[(Category, PathBuf)],
    options: &Options,
    paint: Paint,
) -> usize {
    let chat = Chat::start(provider).await;
    let settings = chat.settings(&chat.api_url());
    println!(
        "{}",
        paint.bold(&format!("══ {provider} stand-in at {} ══", chat.api_url()))
    );
    for (name, value) in &settings {
        if name.starts_with("NOTIFICATIONS_") && *name != "NOTIFICATIONS_TOKEN" {
            println!("   {name}={value}");
        }
    }
    println!();

    let (mut delivered, mut skipped, mut failed) = (0, 0, 0);
    for (category, binary) in binaries {
        let function = function_name(*category);
        let api = RuntimeApi::start_for(&function).await;
        let process = FunctionProcess::spawn(binary, &api, settings.iter().cloned());
        for sample in samples.iter().filter(|s| s.category == *category) {
            let before = chat.posted_count();
            let outcome = api.invoke(sample.event.clone(), INVOKE_TIMEOUT).await;
            let posted = chat.posted_since(before);
            println!(
                "{} → {}  {}",
                paint.bold(&sample.file),
                function,
                paint.dim(&format!("({})", sample.action))
            );
            match &outcome {
                Invocation::Ok(report) if report.get("skipped").is_some() => {
                    skipped += 1;
                    let reason = report["skipped"].as_str().unwrap_or("?");
                    println!("  {}", paint.yellow(&format!("– skipped: {reason}")));
                }
                Invocation::Ok(report) if report.get("delivered").is_some() => {
                    delivered += 1;
                    println!("  {}", paint.green(&delivery(&chat, &report["delivered"])));
                }
                other => {
                    failed += 1;
                    println!("  {}", paint.red(&failure(other)));
                    for line in last_lines(&process.logs(), 8) {
                        println!("  {}", paint.dim(&format!("│ {line}")));
                    }
                }
            }
            for message in &posted {
                if options.json {
                    let body = serde_json::to_string_pretty(&message.body).unwrap_or_default();
                    for line in body.lines() {
                        println!("  {line}");
                    }
                } else {
                    for line in sketch(provider, message) {
                        println!("  {line}");
                    }
                }
            }
            println!();
        }
    }
    println!(
        "{provider}: {delivered} delivered, {skipped} skipped, {failed} failed; {} message(s) posted\n",
        chat.posted_count()
    );
    failed
}

/// `✓ delivered to #web-team by the owner rule → channel C0203 (web-team), message 1700000000.000004`.
fn delivery(chat: &Chat, delivered: &Value) -> String {
    let text = |key: &str| delivered[key].as_str().unwrap_or("?").to_owned();
    let named = |id: &str| match chat.place_name(id.trim_start_matches(['#', '@'])) {
        Some(name) if !id.ends_with(name) => format!("{id} ({name})"),
        _ => id.to_owned(),
    };
    let (destination, channel) = (text("destination"), text("channel"));
    let mut line = format!(
        "✓ delivered to {} by the {} rule",
        named(&destination),
        text("rule")
    );
    // Discord names channels by id, so the channel usually repeats the destination.
    if destination.trim_start_matches('#') != channel {
        line.push_str(&format!(" → channel {}", named(&channel)));
    }
    line.push_str(&format!(", message {}", text("message_id")));
    if let Some(meant) = delivered["redirected_from"].as_str() {
        line.push_str(&format!(" (meant for {}, which refused it)", named(meant)));
    }
    line
}

fn failure(outcome: &Invocation) -> String {
    match outcome {
        Invocation::Err(error) => format!("✗ error {}: {}", error.error_type, error.error_message),
        Invocation::InitError(error) => format!(
            "✗ the function did not start: {}: {}",
            error.error_type, error.error_message
        ),
        Invocation::TimedOut => format!("✗ no answer within {INVOKE_TIMEOUT:?}"),
        Invocation::Ok(report) => format!("✗ unexpected response {report}"),
    }
}

fn last_lines(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// A few lines that show a posted message's shape: its fallback line, then its blocks or embed, with the
/// text as the chat app shows it (`--json` shows it as sent).
fn sketch(provider: Provider, message: &Message) -> Vec<String> {
    let body = &message.body;
    let str_of = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let mut lines = Vec::new();
    match provider {
        Provider::Slack => {
            lines.push(format!("text: {}", str_of(&body["text"])));
            for block in body["blocks"].as_array().into_iter().flatten() {
                lines.extend(slack_block(block).into_iter().map(|l| format!("┃ {l}")));
            }
            for attachment in body["attachments"].as_array().into_iter().flatten() {
                lines.push(format!("┃ ▌ colour {}", str_of(&attachment["color"])));
                for block in attachment["blocks"].as_array().into_iter().flatten() {
                    lines.extend(slack_block(block).into_iter().map(|l| format!("┃ ▌ {l}")));
                }
            }
            lines.iter_mut().for_each(|line| *line = slack_shown(line));
        }
        Provider::Discord => {
            lines.push(format!("content: {}", str_of(&body["content"])));
            for embed in body["embeds"].as_array().into_iter().flatten() {
                lines.extend(discord_embed(embed).into_iter().map(|l| format!("▌ {l}")));
            }
            lines
                .iter_mut()
                .for_each(|line| *line = discord_shown(line));
        }
    }
    lines
}

/// Slack shows `<!date^…|fallback>` as a local time (the fallback will do here) and unescapes `& < >`.
fn slack_shown(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!date^") {
        shown.push_str(&rest[..start]);
        let token = &rest[start..];
        let Some(end) = token.find('>') else {
            rest = token;
            break;
        };
        shown.push_str(
            token[..end]
                .rsplit_once('|')
                .map_or("", |(_, fallback)| fallback),
        );
        rest = &token[end + 1..];
    }
    shown.push_str(rest);
    shown
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Discord drops the backslash of an escaped character, and the zero-width space is invisible.
fn discord_shown(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => shown.extend(chars.next()),
            '\u{200B}' => {}
            c => shown.push(c),
        }
    }
    shown
}

fn slack_block(block: &Value) -> Vec<String> {
    let text = |value: &Value| value["text"].as_str().unwrap_or_default().to_owned();
    match block["type"].as_str().unwrap_or_default() {
        "header" => vec![format!("[header] {}", text(&block["text"]))],
        "context" => {
            let elements: Vec<String> = block["elements"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            vec![format!("[context] {}", elements.join("  ·  "))]
        }
        "section" => {
            let mut lines: Vec<String> = text(&block["text"]).lines().map(str::to_owned).collect();
            let fields: Vec<String> = block["fields"]
                .as_array()
                .into_iter()
                .flatten()
                // A field is `*label*\nvalue`: one line each reads better.
                .map(|field| text(field).replacen('\n', " ", 1).replace('\n', " ⏎ "))
                .collect();
            lines.extend(fields.chunks(3).map(|row| row.join("  │  ")));
            lines
                .into_iter()
                .enumerate()
                .map(|(i, line)| {
                    format!("{} {line}", if i == 0 { "[section]" } else { "         " })
                })
                .collect()
        }
        other => vec![format!("[{other}]")],
    }
}

fn discord_embed(embed: &Value) -> Vec<String> {
    let str_of = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let mut lines = vec![format!(
        "{}  (colour #{:06x})",
        str_of(&embed["title"]),
        embed["color"].as_u64().unwrap_or(0)
    )];
    lines.extend(str_of(&embed["description"]).lines().map(str::to_owned));
    let mut row: Vec<String> = Vec::new();
    for field in embed["fields"].as_array().into_iter().flatten() {
        let shown = format!(
            "{}: {}",
            str_of(&field["name"]),
            str_of(&field["value"]).replace('\n', " ⏎ ")
        );
        // Discord lays inline fields out three to a row and gives the others a row of their own.
        if field["inline"].as_bool() == Some(true) && row.len() < 3 {
            row.push(shown);
            continue;
        }
        if !row.is_empty() {
            lines.push(row.join("  │  "));
            row.clear();
        }
        if field["inline"].as_bool() == Some(true) {
            row.push(shown);
        } else {
            lines.push(shown);
        }
    }
    if !row.is_empty() {
        lines.push(row.join("  │  "));
    }
    let mut footer = str_of(&embed["footer"]["text"]);
    if let Some(timestamp) = embed["timestamp"].as_str() {
        footer.push_str(&format!("  ·  {timestamp}"));
    }
    lines.push(footer);
    lines
}

/// ANSI styles when stdout is a terminal that wants them.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn detect() -> Self {
        Self(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
    }

    fn style(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn bold(self, text: &str) -> String {
        self.style("1", text)
    }

    fn dim(self, text: &str) -> String {
        self.style("2", text)
    }

    fn green(self, text: &str) -> String {
        self.style("32", text)
    }

    fn yellow(self, text: &str) -> String {
        self.style("33", text)
    }

    fn red(self, text: &str) -> String {
        self.style("31", text)
    }
}
