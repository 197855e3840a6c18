//! The receiver's settings, read once at start; every error names the variable.

use shared::config::{ConfigError, setting};

pub const EVENT_BUS: &str = "RACK_EVENT_BUS";
pub const EVENT_SOURCE: &str = "RACK_EVENT_SOURCE";
pub const SIGNING_KEYS_PARAMETER: &str = "RACK_SIGNING_KEYS_PARAMETER";
pub const ALLOW_UNSIGNED: &str = "RACK_ALLOW_UNSIGNED";

const DEFAULT_SOURCE: &str = "convox.rack";
/// EventBridge's limits on a bus name and on an entry's `Source`.
const MAX_BUS_NAME: usize = 256;
const MAX_SOURCE: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The bus's name or ARN, as PutEvents takes it.
    pub bus: String,
    pub source: String,
    /// The SSM SecureString holding the signing keys; `None` only when unsigned requests are allowed.
    pub keys_parameter: Option<String>,
    pub allow_unsigned: bool,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `var`; blank values count as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| setting(&var, name);
        let bus = get(EVENT_BUS).ok_or(ConfigError::Missing {
            var: EVENT_BUS,
            hint: "name the EventBridge bus (or give its ARN) that the notify functions' rules listen on",
        })?;
        if !is_bus(&bus) {
            return Err(invalid(
                EVENT_BUS,
                format!(
                    "`{bus}` is not an event bus name (letters, digits, `.`, `-`, `_`, `/`) or event bus ARN"
                ),
            ));
        }
        let source = get(EVENT_SOURCE).unwrap_or_else(|| DEFAULT_SOURCE.to_owned());
        if !is_source(&source) {
            return Err(invalid(
                EVENT_SOURCE,
                format!(
                    "`{source}` is not an event source EventBridge takes (up to {MAX_SOURCE} letters, digits, `.`, `-`, `_`, `/`, not starting with `aws.`)"
                ),
            ));
        }
        // Only `true` opens the receiver to unsigned requests: a typo must not.
        let allow_unsigned = get(ALLOW_UNSIGNED).as_deref() == Some("true");
        let keys_parameter = get(SIGNING_KEYS_PARAMETER);
        if keys_parameter.is_none() && !allow_unsigned {
            return Err(ConfigError::Missing {
                var: SIGNING_KEYS_PARAMETER,
                hint: "without signing keys no request can be accepted: name the SSM SecureString parameter holding the rack's signing keys, or set RACK_ALLOW_UNSIGNED=true to accept unsigned requests",
            });
        }
        Ok(Self {
            bus,
            source,
            keys_parameter,
            allow_unsigned,
        })
    }
}

fn invalid(var: &'static str, problem: String) -> ConfigError {
    ConfigError::Invalid { var, problem }
}

fn is_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
}

/// PutEvents takes a bus's name or its ARN (`arn:<partition>:events:<region>:<account>:event-bus/<name>`).
fn is_bus(bus: &str) -> bool {
    match bus.strip_prefix("arn:") {
        Some(arn) => arn
            .split_once(":event-bus/")
            .is_some_and(|(_, name)| is_name(name, MAX_BUS_NAME)),
        None => is_name(bus, MAX_BUS_NAME),
    }
}

/// The `aws.` prefix is reserved for AWS services: PutEvents refuses it.
fn is_source(source: &str) -> bool {
    is_name(source, MAX_SOURCE) && !source.starts_with("aws.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_vars(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn signed_by_default_with_the_rack_source() {
        let settings = read(&[
            (EVENT_BUS, " rack-events "),
            (SIGNING_KEYS_PARAMETER, "/rack-notifications/signing-keys"),
        ])
        .unwrap();
        assert_eq!(
            settings,
            Settings {
                bus: "rack-events".into(),
                source: "convox.rack".into(),
                keys_parameter: Some("/rack-notifications/signing-keys".into()),
                allow_unsigned: false,
            }
        );
    }

    #[test]
    fn without_keys_only_the_opt_in_starts() {
        let error = read(&[(EVENT_BUS, "default")]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("RACK_SIGNING_KEYS_PARAMETER is not set: without signing keys"),
            "{error}"
        );
        for not_true in ["yes", "TRUE", "1", "false", " "] {
            assert!(
                read(&[(EVENT_BUS, "default"), (ALLOW_UNSIGNED, not_true)]).is_err(),
                "{not_true}"
            );
        }
        let open = read(&[(EVENT_BUS, "default"), (ALLOW_UNSIGNED, " true ")]).unwrap();
        assert!(open.allow_unsigned);
        assert_eq!(open.keys_parameter, None);
    }

    #[test]
    fn the_bus_and_source_are_checked() {
        let keys = (SIGNING_KEYS_PARAMETER, "/k");
        assert_eq!(
            read(&[keys]).unwrap_err(),
            ConfigError::Missing {
                var: EVENT_BUS,
                hint: "name the EventBridge bus (or give its ARN) that the notify functions' rules listen on",
            }
        );
        for bus in [
            "default",
            "aws.partner/acme/123/rack",
            "arn:aws:events:us-east-1:123456789012:event-bus/rack-events",
        ] {
            assert_eq!(read(&[keys, (EVENT_BUS, bus)]).unwrap().bus, bus);
        }
        for bus in [
            "rack events",
            "arn:aws:events:us-east-1:123456789012:rule/x",
        ] {
            let error = read(&[keys, (EVENT_BUS, bus)]).unwrap_err().to_string();
            assert!(error.starts_with("RACK_EVENT_BUS: `"), "{error}");
        }
        for source in ["aws.rack", "rack source", &"s".repeat(257)] {
            let error = read(&[keys, (EVENT_BUS, "b"), (EVENT_SOURCE, source)])
                .unwrap_err()
                .to_string();
            assert!(error.starts_with("RACK_EVENT_SOURCE: `"), "{error}");
        }
        let custom = read(&[keys, (EVENT_BUS, "b"), (EVENT_SOURCE, "acme.rack")]).unwrap();
        assert_eq!(custom.source, "acme.rack");
    }
}
