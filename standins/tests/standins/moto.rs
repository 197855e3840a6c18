//! `MotoServer`: starts, stores SecureString parameters the SDK reads back, and goes away on drop.

use std::net::TcpStream;

use standins::MotoServer;

#[tokio::test]
async fn secure_parameters_round_trip_and_drop_stops_the_server() {
    let moto = MotoServer::start().await;
    moto.put_secure_parameter("/rack/slack/token", "xoxb-secret")
        .await;
    moto.put_secure_parameter("/rack/slack/token", "xoxb-rotated")
        .await;
    let parameter = moto
        .ssm_client()
        .await
        .get_parameter()
        .name("/rack/slack/token")
        .with_decryption(true)
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!(parameter.value(), Some("xoxb-rotated"));
    assert_eq!(parameter.r#type().map(|t| t.as_str()), Some("SecureString"));
    let env = moto.function_env();
    assert!(env.contains(&("AWS_ENDPOINT_URL".into(), moto.endpoint())));

    let address = moto.endpoint().trim_start_matches("http://").to_string();
    drop(moto);
    assert!(
        TcpStream::connect(address).is_err(),
        "moto_server still listening after drop"
    );
}
