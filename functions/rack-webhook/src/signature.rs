//! `Convox-Signature`: the header read and checked against the rack's signing keys, without I/O.
//!
//! A rack sends `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each `v1` an HMAC-SHA256 of `<t>.<raw body>`
//! under one of its keys (it signs with each of its active keys during a rotation).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header's name as a Function URL event carries it (lower case).
pub const HEADER: &str = "convox-signature";
/// How far `t` may be from this function's clock, either way: older is a replay, newer a wrong clock.
pub const TOLERANCE: Duration = Duration::from_secs(300);
/// An HMAC-SHA256 is 32 bytes, 64 hex digits.
const DIGEST_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// A well-formed header: the signed time and the candidate signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// `t` as sent: it is signed as text.
    t: String,
    seconds: u64,
    candidates: Vec<[u8; DIGEST_LEN]>,
}

/// Why a request's signature is refused. Nothing here quotes the header or the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("Convox-Signature has no `t=` timestamp")]
    NoTimestamp,
    #[error("Convox-Signature has more than one `t=` timestamp")]
    RepeatedTimestamp,
    #[error("Convox-Signature's `t` is not a number of seconds")]
    BadTimestamp,
    #[error("Convox-Signature has no `v1=` signature of 64 hex digits")]
    NoSignature,
    #[error(
        "Convox-Signature's `t` is {seconds} s {direction} this function's clock, more than the {} s allowed",
        TOLERANCE.as_secs()
    )]
    OutOfWindow {
        seconds: u64,
        direction: &'static str,
    },
}

impl Signature {
    /// Reads the header; items other than `t` and `v1` are ignored (a later scheme may add some), and so
    /// are `v1` values that cannot be a signature.
    pub fn parse(header: &str) -> Result<Self, SignatureError> {
        let mut t = None;
        let mut candidates = Vec::new();
        for item in header.split(',') {
            let Some((key, value)) = item.split_once('=') else {
                continue;
            };
            match key.trim() {
                "t" if t.is_some() => return Err(SignatureError::RepeatedTimestamp),
                "t" => t = Some(value.trim()),
                "v1" => {
                    let mut digest = [0; DIGEST_LEN];
                    if hex::decode_to_slice(value.trim(), &mut digest).is_ok() {
                        candidates.push(digest);
                    }
                }
                _ => {}
            }
        }
        let t = t.ok_or(SignatureError::NoTimestamp)?;
        // Digits only: `u64::from_str` would also take a leading `+`.
        let seconds = Some(t)
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
            .ok_or(SignatureError::BadTimestamp)?;
        if candidates.is_empty() {
            return Err(SignatureError::NoSignature);
        }
        Ok(Self {
            t: t.to_owned(),
            seconds,
            candidates,
        })
    }

    /// Whether `t` is within [`TOLERANCE`] of `now`.
    pub fn check_time(&self, now: SystemTime) -> Result<(), SignatureError> {
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let (seconds, direction) = if self.seconds <= now {
            (now - self.seconds, "behind")
        } else {
            (self.seconds - now, "ahead of")
        };
        if seconds > TOLERANCE.as_secs() {
            return Err(SignatureError::OutOfWindow { seconds, direction });
        }
        Ok(())
    }

    /// Whether any `v1` is the signature of `body` under any of `keys` (comma-separated, see [`keys`]).
    /// Each comparison takes the same time whatever the bytes (`verify_slice`).
    pub fn matches(&self, keys: &str, body: &[u8]) -> bool {
        keys_in(keys).any(|key| {
            // HMAC takes a key of any length: this never fails.
            let Ok(mut mac) = HmacSha256::new_from_slice(key.as_bytes()) else {
                return false;
            };
            mac.update(self.t.as_bytes());
            mac.update(b".");
            mac.update(body);
            self.candidates
                .iter()
                .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
        })
    }
}

/// The keys of the parameter's value: comma-separated, each used as is (its UTF-8 bytes are the HMAC
/// key, never hex-decoded), blanks around and between them ignored.
pub fn keys_in(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|key| !key.is_empty())
}

#[cfg(test)]
mod tests {
    use standins::rack::signature as sign;

    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    // Computed apart from this code: HMAC-SHA256, key "whsec-test", message
    // `1795891428.{"action":"app:create"}` (Python's hmac module).
    const KNOWN: &str =
        "t=1795891428,v1=c7e18167a3d5b3deabb227cfacf10286be9ef8140afbdab100a14771d5e7ecef";
    const KNOWN_BODY: &[u8] = br#"{"action":"app:create"}"#;

    #[test]
    fn a_known_signature_matches_its_key_and_body_only() {
        let signature = Signature::parse(KNOWN).unwrap();
        assert!(signature.matches("whsec-test", KNOWN_BODY));
        assert!(signature.matches(" other , whsec-test ", KNOWN_BODY));
        assert!(!signature.matches("other", KNOWN_BODY));
        assert!(!signature.matches("", KNOWN_BODY));
        assert!(!signature.matches("whsec-test", br#"{"action":"app:delete"}"#));
        // The key is used as is, not hex-decoded, and `t` is signed as sent.
        assert!(!signature.matches(&hex::encode("whsec-test"), KNOWN_BODY));
        let later = KNOWN.replace("t=1795891428", "t=1795891429");
        assert!(
            !Signature::parse(&later)
                .unwrap()
                .matches("whsec-test", KNOWN_BODY)
        );
    }

    #[test]
    fn any_one_v1_may_match_and_unknown_items_are_ignored() {
        let body = b"{}";
        let header = sign(&["old", "new"], 100, body);
        let signature = Signature::parse(&format!("{header},v0=abc,scheme")).unwrap();
        assert!(signature.matches("new", body));
        assert!(signature.matches("old", body));
        assert!(!signature.matches("third", body));
        // Several headers reach the function joined with commas, spaces and all.
        let spaced = sign(&["k"], 100, body).replace(',', " , ");
        assert!(Signature::parse(&spaced).unwrap().matches("k", body));
    }

    #[test]
    fn malformed_headers_are_named() {
        let v1 = format!("v1={}", "ab".repeat(32));
        let cases = [
            (String::new(), SignatureError::NoTimestamp),
            (v1.clone(), SignatureError::NoTimestamp),
            (format!("t=1,t=1,{v1}"), SignatureError::RepeatedTimestamp),
            (format!("t=,{v1}"), SignatureError::BadTimestamp),
            (format!("t=+5,{v1}"), SignatureError::BadTimestamp),
            (format!("t=-5,{v1}"), SignatureError::BadTimestamp),
            (format!("t=1e9,{v1}"), SignatureError::BadTimestamp),
            (
                format!("t={},{v1}", "9".repeat(30)),
                SignatureError::BadTimestamp,
            ),
            ("t=5".into(), SignatureError::NoSignature),
            ("t=5,v1=xyz".into(), SignatureError::NoSignature),
            (
                format!("t=5,v1={}", "ab".repeat(31)),
                SignatureError::NoSignature,
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(Signature::parse(&header), Err(expected), "{header}");
        }
    }

    #[test]
    fn t_must_be_within_five_minutes_either_way() {
        let signature = Signature::parse(&sign(&["k"], 1_000_000, b"")).unwrap();
        for now in [1_000_000, 1_000_300, 999_700] {
            assert_eq!(signature.check_time(at(now)), Ok(()), "{now}");
        }
        assert_eq!(
            signature.check_time(at(1_000_301)),
            Err(SignatureError::OutOfWindow {
                seconds: 301,
                direction: "behind"
            })
        );
        let error = signature.check_time(at(999_699)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Convox-Signature's `t` is 301 s ahead of this function's clock, more than the 300 s allowed"
        );
    }
}
