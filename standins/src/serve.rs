//! What the Slack and Discord stand-ins share: a local HTTP server that counts every request and answers
//! it by the provider's rules.

use std::net::TcpListener;
use std::sync::Arc;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::tally::Tally;

/// A provider's rules: how it answers one request.
pub(crate) trait Rules: Send + Sync + 'static {
    fn tally(&self) -> &Tally;

    /// The answer and its HTTP status, for the counts; rules that keep a list of refusals add to it here.
    fn answer_counted(&self, request: &Request) -> (u16, ResponseTemplate);
}

struct Counted<R>(Arc<R>);

impl<R: Rules> Respond for Counted<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let rules = &self.0;
        rules.tally().request();
        let (status, answer) = rules.answer_counted(request);
        rules.tally().status(status);
        answer
    }
}

/// Serves `rules` on `listener`, else on a free loopback port. Requests are not recorded: the rules keep
/// what the tests look at.
pub(crate) async fn serve<R: Rules>(rules: Arc<R>, listener: Option<TcpListener>) -> MockServer {
    let mut builder = MockServer::builder().disable_request_recording();
    if let Some(listener) = listener {
        builder = builder.listener(listener);
    }
    let server = builder.start().await;
    Mock::given(any())
        .respond_with(Counted(rules))
        .mount(&server)
        .await;
    server
}

/// A request header as text; empty when missing or not text.
pub(crate) fn header(request: &Request, name: &str) -> String {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A query-string parameter of `url`, decoded; the first when repeated.
pub(crate) fn query(url: &wiremock::http::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}
