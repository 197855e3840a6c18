//! `rack-send`: sends sample events to a webhook receiver as a rack sends them: each sample's payload as
//! the body of a POST, signed with the rack's keys, and prints the receiver's answer.
//!
//! `cargo run -p tools --bin rack-send -- --url URL [--as-is] EVENT.json …`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use standins::rack::{SIGNATURE_HEADER, signature, unix_now};
use tools::local::{command_line, load_samples};

const USAGE: &str = "\
usage: cargo run -p tools --bin rack-send -- --url URL [--as-is] EVENT.json ...

Posts each sample's rack payload (its `detail`) to URL, the receiver's Function URL (deployed, or
http://127.0.0.1:9000/lambda-url/rack-webhook/ under `cargo lambda watch`), signed as a rack signs it:
header Convox-Signature, one v1 per key of RACK_SIGNING_KEYS (comma-separated, as in the keys parameter;
unset: the request goes unsigned). Prints the status the receiver answered; exits 1 unless every
request got 202.

The payload's `timestamp` is set to now, as a rack stamps an event it sends, so that each run is a new
event to the notify functions; --as-is sends the sample unchanged (a repeat of the same payload is one
message: the notify functions deduplicate it).";

/// The environment variable with the keys: a key on the command line would stay in the shell's history.
const KEYS: &str = "RACK_SIGNING_KEYS";
/// A rack's webhook gives up after a while too; a receiver answers in milliseconds.
const TIMEOUT: Duration = Duration::from_secs(30);

struct Options {
    url: String,
    as_is: bool,
    files: Vec<PathBuf>,
}

fn parse_args() -> Result<Options, String> {
    let mut url = None;
    let mut as_is = false;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.split_once('=') {
            Some(("--url", value)) => url = Some(value.to_owned()),
            _ => match arg.as_str() {
                "-h" | "--help" => return Err(String::new()),
                "--url" => url = Some(args.next().ok_or("--url needs a value")?),
                "--as-is" => as_is = true,
                other if other.starts_with('-') => return Err(format!("unknown option `{other}`")),
                _ => files.push(arg.into()),
            },
        }
    }
    let url = url.ok_or("--url is required: the receiver's Function URL")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("--url: `{url}` is not an http(s) URL"));
    }
    if files.is_empty() {
        return Err(
            "name at least one sample event, e.g. events/release-promote-success.json".into(),
        );
    }
    Ok(Options { url, as_is, files })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match command_line("rack-send", USAGE, parse_args()) {
        Ok(options) => options,
        Err(exit) => return exit,
    };
    let samples = match load_samples(&options.files) {
        Ok(samples) => samples,
        Err(problem) => {
            eprintln!("rack-send: {problem}");
            return ExitCode::from(2);
        }
    };
    let keys = std::env::var(KEYS).unwrap_or_default();
    let keys: Vec<&str> = keys
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .user_agent("rack-send")
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            eprintln!("rack-send: cannot build the HTTP client: {error}");
            return ExitCode::FAILURE;
        }
    };
    let signed = match keys.len() {
        0 => format!("unsigned ({KEYS} is not set)"),
        1 => "signed with 1 key".to_owned(),
        n => format!("signed with {n} keys"),
    };
    println!("POST {} ({signed})", options.url);
    let mut all_accepted = true;
    for sample in samples {
        let mut payload = sample.event["detail"].clone();
        if !options.as_is {
            payload["timestamp"] = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true).into();
        }
        let body = payload.to_string().into_bytes();
        let mut request = client
            .post(&options.url)
            .header("content-type", "application/json");
        if !keys.is_empty() {
            request = request.header(SIGNATURE_HEADER, signature(&keys, unix_now(), &body));
        }
        let answer = match request.body(body).send().await {
            Ok(response) => {
                let status = response.status();
                all_accepted &= status == reqwest::StatusCode::ACCEPTED;
                status.to_string()
            }
            Err(error) => {
                all_accepted = false;
                format!("no answer: {error}")
            }
        };
        println!("  {:<44} {:<40} {answer}", sample.file, sample.action);
    }
    if all_accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
