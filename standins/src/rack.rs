//! A rack's side of a webhook, as the receiver gets it: the `Convox-Signature` a rack signs its body
//! with, and the event Lambda makes of a request to a Function URL.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

/// The header's name, in the lower case a Function URL event uses.
pub const SIGNATURE_HEADER: &str = "convox-signature";

/// `t=<t>,v1=<hex>[,v1=<hex>…]`: one HMAC-SHA256 of `<t>.<body>` per key, as a rack signs with each of
/// its keys; a key's UTF-8 bytes are the HMAC key, as they are.
pub fn signature(keys: &[&str], t: u64, body: &[u8]) -> String {
    let mut header = format!("t={t}");
    for key in keys {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        header.push_str(",v1=");
        header.push_str(&hex::encode(mac.finalize().into_bytes()));
    }
    header
}

/// Seconds since the epoch on this machine's clock: the `t` of a fresh signature.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
}

/// The Function URL event (payload format 2.0) of a request with `headers` (names in lower case) and
/// `body`, which a Function URL base64-encodes when it does not take it for text.
pub fn function_url_event(
    method: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    base64: bool,
) -> Value {
    let body = if base64 {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    let headers: Map<String, Value> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), Value::from(*value)))
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_millis() as u64;
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous", "apiId": "stand-in", "requestId": format!("url-{now}"),
            "domainName": "stand-in", "domainPrefix": "stand-in",
            "http": {"method": method, "path": "/", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": "rack"},
            "routeKey": "$default", "stage": "$default", "timeEpoch": now
        },
        "body": body, "isBase64Encoded": base64
    })
}
