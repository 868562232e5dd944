//! The AWS console: sign-in URLs through a loopback stand-in for AWS's federation
//! endpoint, for assumed-role credentials and (via moto's GetFederationToken) for
//! long-term keys, in each partition's hosts and the profile's region.

use crate::support::*;

fn federation() -> Server {
    Server::python("federation.py", &[])
}

fn query(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn get<'a>(q: &'a [(String, String)], k: &str) -> &'a str {
    q.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

#[test]
fn print_url_for_assumed_role_profile_in_its_region() {
    let fed = federation();
    let env = Env::new().var(
        "SAML_LOGIN_FEDERATION_URL",
        format!("{}/federation", fed.url),
    );
    env.write(
        ".aws/credentials",
        "[dev]\naws_access_key_id = ASIAEXAMPLE\naws_secret_access_key = sekrit\naws_session_token = tok\n",
    );
    env.write(".aws/config", "[profile dev]\nregion = eu-central-1\n");
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    let out = env
        .cmd()
        .args(["aws-console", "--profile", "dev", "--print"])
        .ran()
        .success()
        .stderr_lacks("sekrit");
    let url = String::from_utf8(out.out.stdout).unwrap();
    let q = query(url.trim());
    assert_eq!(get(&q, "Action"), "login");
    assert_eq!(get(&q, "Issuer"), "saml-login");
    assert_eq!(
        get(&q, "Destination"),
        "https://console.aws.amazon.com/console/home?region=eu-central-1"
    );
    assert_eq!(get(&q, "SigninToken"), "signin-token-for-ASIAEXAMPLE");
    // What the stand-in was asked.
    let seen = fed.get("/requests");
    assert!(seen.contains("\"sessionId\": \"ASIAEXAMPLE\""), "{seen}");
    assert!(seen.contains("\"SessionDuration\": \"3600\""), "{seen}");
}

#[test]
fn standalone_aws_console_with_service_destination_and_partitions() {
    let fed = federation();
    let env = Env::new().var(
        "SAML_LOGIN_FEDERATION_URL",
        format!("{}/federation", fed.url),
    );
    env.write(
        ".aws/credentials",
        "[gov]\naws_access_key_id = ASIAGOV\naws_secret_access_key = s\naws_session_token = t\n",
    );
    let bin = assert_cmd::cargo::cargo_bin("aws-console");
    for (region, host) in [
        ("us-gov-west-1", "console.amazonaws-us-gov.com"),
        ("cn-north-1", "console.amazonaws.cn"),
        ("ap-southeast-2", "console.aws.amazon.com"),
    ] {
        let out = env
            .command(&bin)
            .args([
                "--profile",
                "gov",
                "--region",
                region,
                "--destination",
                "s3",
                "--print",
            ])
            .ran()
            .success()
            .out;
        let q = query(String::from_utf8(out.stdout).unwrap().trim());
        assert_eq!(
            get(&q, "Destination"),
            format!("https://{host}/s3/home?region={region}")
        );
    }
}

#[test]
fn long_term_keys_go_through_get_federation_token() {
    let fed = federation();
    let moto = moto();
    let env = Env::new().sts(&moto).var(
        "SAML_LOGIN_FEDERATION_URL",
        format!("{}/federation", fed.url),
    );
    env.write(
        ".aws/credentials",
        "[user]\naws_access_key_id = AKIALONGTERMKEY00001\naws_secret_access_key = longTermSecretThatMustNotTravel0000000000\n",
    );
    env.cmd_for("aws-console")
        .args(["--profile", "user", "--print"])
        .ran()
        .success();
    let seen = fed.get("/requests");
    assert!(
        !seen.contains("AKIALONGTERMKEY00001"),
        "long-term keys never reach the endpoint: {seen}"
    );
    assert!(seen.contains("\"sessionToken\": \""), "{seen}");
    assert!(
        !seen.contains("SessionDuration"),
        "federation tokens carry their own duration"
    );
}

#[test]
fn missing_profile_is_named() {
    let env = Env::new();
    env.write(".aws/credentials", "[a]\nx = 1\n");
    env.cmd_for("aws-console")
        .args(["--profile", "nope", "--print"])
        .ran()
        .code(1)
        .stderr_has("no profile [nope]");
}
