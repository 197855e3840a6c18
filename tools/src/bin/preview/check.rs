//! `preview --check`: the settings as the functions read them from the environment, the routing document
//! (inline, or its SSM parameter) and the service catalog's owners, checked without sending anything.
//! Each problem is printed with the variable, route or parameter it is in.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ssm::config::ProvideCredentials;
use shared::aws::Aws;
use shared::config::{self, Config};
use shared::deadline::Deadline;
use shared::destination::{Destination, Place, Provider};
use shared::params::{Parameters, Ssm};
use shared::routing::{RoutesSource, RoutingDocument};
use shared::secret::SecretSource;

/// Every AWS call's bound: a check that waits longer than this on AWS says so instead.
const AWS_TIMEOUT: Duration = Duration::from_secs(5);

/// What a check found: problems fail it; notes say what could not be checked.
#[derive(Default)]
struct Findings {
    problems: Vec<String>,
    notes: Vec<String>,
    facts: Vec<String>,
}

pub async fn run() -> ExitCode {
    let mut found = Findings::default();
    match Config::from_env() {
        Ok(config) => check(&config, &mut found).await,
        Err(error) => found.problems.push(error.to_string()),
    }
    for note in &found.notes {
        println!("– not checked: {note}");
    }
    for problem in &found.problems {
        println!("✗ {problem}");
    }
    match found.problems.len() {
        0 => {
            println!("OK: {}", found.facts.join("; "));
            ExitCode::SUCCESS
        }
        1 => {
            println!("1 problem");
            ExitCode::FAILURE
        }
        n => {
            println!("{n} problems");
            ExitCode::FAILURE
        }
    }
}

async fn check(config: &Config, found: &mut Findings) {
    found.facts.extend(settings(config));
    let parameter = match &config.routes {
        RoutesSource::Parameter { name, context, .. } => Some((name, context)),
        _ => None,
    };
    if parameter.is_none() && config.catalog_path.is_none() {
        found.facts.push(live(config));
        return;
    }
    let aws = match reachable().await {
        Ok(aws) => Some(aws),
        Err(why) => {
            let mut unread = Vec::new();
            if let Some((name, _)) = parameter {
                unread.push(format!("the routing document in SSM parameter `{name}`"));
            }
            if let Some(path) = &config.catalog_path {
                unread.push(format!("the service catalog under `{path}`"));
            }
            found.notes.push(format!(
                "{} (AWS is not reachable: {why})",
                unread.join(" and ")
            ));
            None
        }
    };
    if let (Some((name, context)), Some(aws)) = (parameter, &aws) {
        let read = Ssm::new(aws.clone())
            .read(name, Deadline::after(AWS_TIMEOUT))
            .await;
        let origin = format!("SSM parameter `{name}`");
        match read.map(|text| RoutingDocument::parse(&text, &origin, context)) {
            Ok(Ok(document)) => found.facts.push(format!(
                "routing document in {origin}: {}",
                routes(&document)
            )),
            Ok(Err(error)) => found
                .problems
                .push(format!("{}: {error}", config::ROUTES_PARAMETER)),
            Err(error) => found
                .problems
                .push(format!("{}: {error}", config::ROUTES_PARAMETER)),
        }
    }
    if let (Some(path), Some(aws)) = (&config.catalog_path, &aws) {
        catalog(config, path, aws, found).await;
    }
    found.facts.push(live(config));
}

/// What the settings say, briefly: the provider and tokens, the seed's routes, an inline document.
fn settings(config: &Config) -> Vec<String> {
    let mut facts = Vec::new();
    let mut providers: Vec<_> = config.tokens.iter().collect();
    providers.sort_by_key(|(provider, _)| **provider);
    for (provider, token) in providers {
        let from = match token {
            SecretSource::Parameter(name) => format!("token in SSM parameter `{name}`"),
            SecretSource::Literal(_) => "token in NOTIFICATIONS_TOKEN".to_owned(),
        };
        let main = if *provider == config.provider {
            " (main)"
        } else {
            ""
        };
        facts.push(format!("{provider}{main}, {from}"));
    }
    facts.push(format!(
        "default {}, {} rack channel(s), {} owner(s)",
        config.seed.default,
        config.seed.environments.len(),
        config.seed.owners.len()
    ));
    match &config.routes {
        RoutesSource::None => facts.push("no routing document".to_owned()),
        RoutesSource::Fixed(document) => facts.push(format!(
            "routing document in {}: {}",
            config::ROUTES,
            routes(document)
        )),
        RoutesSource::Parameter { .. } => {}
    }
    facts
}

fn routes(document: &RoutingDocument) -> String {
    match document.routes.len() {
        1 => "1 route".to_owned(),
        n => format!("{n} routes"),
    }
}

fn live(config: &Config) -> String {
    let ledger = match &config.dedup_table {
        Some(table) => format!("deliveries in DynamoDB table `{table}`"),
        None => "deliveries remembered per container only".to_owned(),
    };
    let live = if config.live { "on" } else { "off" };
    format!("live messages {live}, {ledger}")
}

/// The AWS configuration when it has a region and credentials resolve in time; else why not. Both may
/// be looked for in the instance metadata service, hence the bound.
async fn reachable() -> Result<Arc<Aws>, String> {
    let aws = Arc::new(Aws::default());
    let probe = async {
        let config = aws.config().await;
        if config.region().is_none() {
            return Err("no region (AWS_REGION)".to_owned());
        }
        let credentials = config
            .credentials_provider()
            .ok_or("no credentials provider")?;
        match credentials.provide_credentials().await {
            Err(error) => Err(format!("no credentials: {error}")),
            Ok(_) => Ok(()),
        }
    };
    match tokio::time::timeout(AWS_TIMEOUT, probe).await {
        Err(_) => Err(format!("no region and credentials within {AWS_TIMEOUT:?}")),
        Ok(Err(why)) => Err(why),
        Ok(Ok(())) => Ok(aws),
    }
}

/// Every `<path>/<app>/owner-im` must be a destination the stack can post to.
async fn catalog(config: &Config, path: &str, aws: &Aws, found: &mut Findings) {
    let client = aws_sdk_ssm::Client::new(aws.config().await);
    let listed = client
        .get_parameters_by_path()
        .path(path)
        .recursive(true)
        .with_decryption(true)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>();
    let parameters = match tokio::time::timeout(AWS_TIMEOUT, listed).await {
        Err(_) => {
            let problem = format!("no answer from SSM within {AWS_TIMEOUT:?}");
            found
                .problems
                .push(format!("{}: `{path}`: {problem}", config::CATALOG_PATH));
            return;
        }
        Ok(Err(error)) => {
            let error = aws_sdk_ssm::error::DisplayErrorContext(&error);
            found.problems.push(format!(
                "{}: the parameters under `{path}` could not be read: {error}",
                config::CATALOG_PATH
            ));
            return;
        }
        Ok(Ok(pages)) => pages,
    };
    let parameters = parameters
        .into_iter()
        .flat_map(|page| page.parameters.unwrap_or_default());
    let prefix = format!("{path}/");
    let mut owners = 0;
    for parameter in parameters {
        let (Some(name), Some(value)) = (parameter.name(), parameter.value()) else {
            continue;
        };
        let app = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix("/owner-im"));
        if app.is_none_or(|app| app.contains('/')) {
            continue;
        }
        owners += 1;
        // An empty Owner IM names nobody: the functions fall back to the settings' owners.
        if value.trim().is_empty() {
            continue;
        }
        if let Err(problem) = owner(config, value.trim()) {
            found
                .problems
                .push(format!("catalog parameter `{name}`: {problem}"));
        }
    }
    found
        .facts
        .push(format!("catalog under `{path}`: {owners} owner(s)"));
}

/// The functions read an Owner IM as a destination on the main provider, and post to it with that
/// provider's bot token (or its webhook).
fn owner(config: &Config, raw: &str) -> Result<(), String> {
    let destination = Destination::parse(raw, Some(config.provider))?;
    let webhook = matches!(destination.place, Place::Webhook(_));
    if !webhook && !config.tokens.contains_key(&destination.provider) {
        let provider: Provider = destination.provider;
        return Err(format!(
            "`{raw}` is on {provider}, and the stack has no {provider} bot token"
        ));
    }
    Ok(())
}
