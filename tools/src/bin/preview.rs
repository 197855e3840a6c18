//! `preview`: runs the six real function binaries on this machine against local Slack and Discord stand-ins,
//! feeds them the sample events and shows what each one posted, where, and why; under a routing document
//! with `--routes`; then each live message as it ends, and with `--html` a picture of the channels.
//! `--check` instead checks the settings in the environment as the functions read them, sending nothing.
//!
//! `cargo run -p tools --bin preview -- [--provider slack|discord|both] [--routes FILE] [--no-live]
//! [--html FILE] [--json] [EVENT.json …]` or `cargo run -p tools --bin preview -- --check`

#[path = "preview/board.rs"]
mod board;
#[path = "preview/check.rs"]
mod check;
#[path = "preview/html.rs"]
mod html;
#[path = "preview/ssm.rs"]
mod ssm;
#[path = "preview/stack.rs"]
mod stack;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;
use shared::Category;
use shared::config;
use shared::destination::Provider;
use standins::{FunctionProcess, Invocation, RuntimeApi, function_binary};
use tools::local::{Message, Sample, command_line, function_name, load_samples};

use board::{Activity, Marks};
use stack::{Routes, Stack};

const USAGE: &str = "\
usage: cargo run -p tools --bin preview -- [--provider slack|discord|both] [--routes FILE] [--no-live]
                                           [--html FILE] [--json] [EVENT.json ...]
       cargo run -p tools --bin preview -- --check

Runs the six notify-* functions under a local Lambda Runtime API against local Slack and Discord
stand-ins (no AWS account, no chat token) and invokes each with the sample events of its category
(default: every events/*.json). Prints where each message went, by which routing rule, and what it
looks like; then each live message (one per release, alert and auto-shutdown) as it ends.

  --provider  the stack's main provider, NOTIFICATIONS_PROVIDER; both = a run for each
              (default: both, or slack with --routes)
  --routes    run under this routing document (NOTIFICATIONS_ROUTES); the stand-ins get every
              channel, user and webhook it names, and the other provider's token if it posts there
  --no-live   one message per event (NOTIFICATIONS_LIVE_MESSAGES=false)
  --html      also write the channels' messages, as they end, to this HTML page
  --json      print the full request bodies instead of the sketch
  --check     check the settings in this environment as the functions read them, and the routing
              document's and the service catalog's SSM parameters when AWS is reachable; sends nothing";

/// Lambda's default timeout is 3 s; a local post takes milliseconds, so this only catches a hung function.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(10);

struct Options {
    /// `None`: the default, which depends on `--routes`.
    providers: Option<Vec<Provider>>,
    routes: Option<PathBuf>,
    live: bool,
    html: Option<PathBuf>,
    json: bool,
    check: bool,
    files: Vec<PathBuf>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        providers: None,
        routes: None,
        live: true,
        html: None,
        json: false,
        check: false,
        files: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.into())),
            _ => (arg.clone(), None),
        };
        let mut value = |flag: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--json" => options.json = true,
            "--no-live" => options.live = false,
            "--check" => options.check = true,
            "--routes" => options.routes = Some(value("--routes")?.into()),
            "--html" => options.html = Some(value("--html")?.into()),
            "--provider" => {
                let value = value("--provider")?;
                options.providers = Some(match value.to_ascii_lowercase().as_str() {
                    "slack" => vec![Provider::Slack],
                    "discord" => vec![Provider::Discord],
                    "both" => vec![Provider::Slack, Provider::Discord],
                    other => {
                        return Err(format!(
                            "--provider: `{other}` is not slack, discord or both"
                        ));
                    }
                });
            }
            other if other.starts_with('-') => return Err(format!("unknown option `{other}`")),
            _ => options.files.push(arg.into()),
        }
    }
    let runs = options.providers.is_some()
        || options.routes.is_some()
        || options.html.is_some()
        || !options.live
        || options.json
        || !options.files.is_empty();
    if options.check && runs {
        return Err("--check reads the environment only: it takes no other option".into());
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match command_line("preview", USAGE, parse_args()) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    let runtime = tokio::runtime::Runtime::new().expect("start the async runtime");
    if options.check {
        return runtime.block_on(check::run());
    }
    let samples = match load_samples(&options.files) {
        Ok(samples) => samples,
        Err(problem) => {
            eprintln!("preview: {problem}");
            return ExitCode::from(2);
        }
    };
    let providers = options.providers.clone().unwrap_or_else(|| {
        // A routing document is written for one stack, whose destinations without a prefix are on its
        // main provider: Slack's unless `--provider` says otherwise.
        match options.routes {
            Some(_) => vec![Provider::Slack],
            None => vec![Provider::Slack, Provider::Discord],
        }
    });
    let mut documents = Vec::new();
    for provider in &providers {
        match options
            .routes
            .as_deref()
            .map(|path| Routes::read(path, *provider))
        {
            None => documents.push(None),
            Some(Ok(routes)) => documents.push(Some(routes)),
            Some(Err(problem)) => {
                eprintln!(
                    "preview: with NOTIFICATIONS_PROVIDER={}: {problem}",
                    provider.key()
                );
                return ExitCode::from(2);
            }
        }
    }
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

    let paint = Paint::detect();
    let mut failed = 0;
    let mut runs = Vec::new();
    for (provider, routes) in providers.into_iter().zip(&documents) {
        let run = runtime.block_on(async {
            let stack = Stack::start(provider, routes.as_ref(), options.live).await?;
            let run = Preview {
                samples: &samples,
                binaries: &binaries,
                options: &options,
                paint,
            };
            Ok::<_, String>(run.preview(&stack, routes.as_ref()).await)
        });
        match run {
            Ok((run_failed, channels)) => {
                failed += run_failed;
                runs.push(html::Run {
                    title: run_title(provider, routes.as_ref(), options.live),
                    channels,
                });
            }
            Err(problem) => {
                eprintln!("preview: {problem}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(path) = &options.html {
        let files: Vec<&str> = samples.iter().map(|s| s.file.as_str()).collect();
        let note = format!(
            "What the channels show after the preview ran {} sample event(s): {}. Each message as it \
             ends, with the replies in its thread.",
            files.len(),
            files.join(", ")
        );
        let page = html::page("rack notifications: the channels", &note, &runs);
        if let Err(error) = std::fs::write(path, page) {
            eprintln!("preview: {}: {error}", path.display());
            return ExitCode::from(2);
        }
        eprintln!("preview: wrote {}", path.display());
    }
    if failed > 0 {
        eprintln!("preview: {failed} invocation(s) failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn run_title(provider: Provider, routes: Option<&Routes>, live: bool) -> String {
    let mut title = format!("A {provider} stack");
    if let Some(routes) = routes {
        title += &format!(", routes from {}", routes.origin);
    }
    if !live {
        title += ", live messages off";
    }
    title
}

/// What every run of a preview shares.
struct Preview<'a> {
    samples: &'a [Sample],
    binaries: &'a [(Category, PathBuf)],
    options: &'a Options,
    paint: Paint,
}

impl Preview<'_> {
    /// Runs every sample against `stack` and prints the results; returns how many invocations failed
    /// and what the channels show at the end.
    async fn preview(
        &self,
        stack: &Stack,
        routes: Option<&Routes>,
    ) -> (usize, Vec<board::Channel>) {
        let paint = self.paint;
        let provider = stack.provider;
        println!(
            "{}",
            paint.bold(&format!(
                "══ a {provider} stack: Slack stand-in at {}, Discord stand-in at {} ══",
                stack.slack().uri(),
                stack.discord().uri()
            ))
        );
        for (name, value) in stack.settings() {
            match (name.as_str(), routes) {
                (config::ROUTES, Some(routes)) => println!(
                    "   {name}=<{}: {} routes>",
                    routes.origin,
                    routes.document.routes.len()
                ),
                (config::TOKEN, _) => {}
                (name, _) if name.starts_with("NOTIFICATIONS_") => println!("   {name}={value}"),
                _ => {}
            }
        }
        println!();

        let (mut delivered, mut skipped, mut failed) = (0, 0, 0);
        for (category, binary) in self.binaries {
            let function = function_name(*category);
            let api = RuntimeApi::start_for(&function).await;
            let process = FunctionProcess::spawn(binary, &api, stack.settings().iter().cloned());
            for sample in self.samples.iter().filter(|s| s.category == *category) {
                let marks = Marks::of(stack);
                let outcome = api.invoke(sample.event.clone(), INVOKE_TIMEOUT).await;
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
                        let line = if reason.starts_with("dropped by route") {
                            format!("– {reason}")
                        } else {
                            format!("– skipped: {reason}")
                        };
                        println!("  {}", paint.yellow(&line));
                    }
                    Invocation::Ok(report) if report.get("delivered").is_some() => {
                        delivered += 1;
                        let also = report["also"].as_array().into_iter().flatten();
                        for each in std::iter::once(&report["delivered"]).chain(also) {
                            println!("  {}", paint.green(&delivery(stack, each)));
                        }
                    }
                    other => {
                        failed += 1;
                        println!("  {}", paint.red(&failure(other)));
                        for line in last_lines(&process.logs(), 8) {
                            println!("  {}", paint.dim(&format!("│ {line}")));
                        }
                    }
                }
                for activity in board::since(stack, marks) {
                    self.show(activity);
                }
                println!();
            }
        }
        println!(
            "{provider} stack: {delivered} delivered, {skipped} skipped, {failed} failed; {} message(s) posted\n",
            Marks::of(stack).posted()
        );
        let channels = board::channels(stack);
        if self.options.live {
            println!("{}", paint.bold("── live messages as they end ──"));
            let lines = board::live_lines(&channels);
            if lines.is_empty() {
                println!(
                    "  none: no release, alert or auto-shutdown reached a channel that can edit"
                );
            }
            for line in lines {
                println!("  {line}");
            }
            println!();
        }
        (failed, channels)
    }

    fn show(&self, activity: Activity) {
        let paint = self.paint;
        match activity {
            Activity::Posted {
                provider,
                place,
                message,
            } => {
                println!("  {}", paint.dim(&format!("{provider} {place}:")));
                let lines = if self.options.json {
                    let json = serde_json::to_string_pretty(&message.body).unwrap_or_default();
                    json.lines().map(str::to_owned).collect()
                } else {
                    sketch(provider, &message)
                };
                for line in lines {
                    println!("    {line}");
                }
            }
            Activity::Edited {
                provider,
                place,
                id,
                text,
            } => println!(
                "  {}",
                paint.dim(&format!(
                    "✎ {provider} {place}: message {id} now shows: {text}"
                ))
            ),
        }
    }
}

/// `✓ Slack #web-team by the owner rule → #web-team, message 1700000000.000004`.
fn delivery(stack: &Stack, delivered: &Value) -> String {
    let text = |key: &str| delivered[key].as_str().unwrap_or("?").to_owned();
    let provider = Provider::parse(&text("provider")).unwrap_or(stack.provider);
    let (destination, rule) = (text("destination"), text("rule"));
    let by = if rule.starts_with("route ") {
        format!("by {rule}")
    } else {
        format!("by the {rule} rule")
    };
    let mut line = format!("✓ {provider} {destination} {by}");
    // Where it landed, when the destination does not say: a DM, a channel named by id, a webhook's.
    let landed = stack.label(provider, &text("channel"));
    if landed != destination {
        line += &format!(" → {landed}");
    }
    match delivered["message_id"].as_str() {
        Some("") | None => line += ", no message id (a Slack webhook gives none)",
        Some(id) => line += &format!(", message {id}"),
    }
    if let Some(meant) = delivered["redirected_from"].as_str() {
        line += &format!(" (meant for {meant}, which refused it)");
    }
    if delivered["duplicate"] == true {
        line += " (posted by an earlier invocation: nothing new)";
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
