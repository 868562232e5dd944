//! Any SAML IdP, no extra application: `login_url` opens another vendor's IdP-initiated
//! link and `callback_url = aws` captures the POST at AWS's own sign-in endpoint, inside
//! the browser, before it leaves the machine.
//!
//! The proof that nothing leaves: the run happens in a network namespace of its own
//! (`unshare`, `ip`; root) with loopback, a veth interface holding the default route,
//! and the only resolver a logger on loopback (`dns_watch.py`) that writes down every
//! name asked and answers none. A request to the AWS endpoint needs its name looked
//! up first: the log must hold no sign-in host, and no TCP connection to port 443 may
//! be attempted (the kernel's `/proc/net/snmp` count of active opens to the endpoint
//! is read as the veth's transmit counter). A control run shows both see an attempt.
//!
//! Linux only: network namespaces (`unshare`, `ip`) and `/proc/net/snmp`.

#![cfg(target_os = "linux")]

use crate::support::netns::*;
use crate::support::*;

/// Start the IdP and moto inside the namespace; `$IDP` and `$STS` name them.
fn servers(idp_args: &str) -> String {
    format!(
        r#"{py} {idp} --port 0 --auto-session {idp_args} > "$HOME/idp.out" 2>/dev/null &
{moto}
for i in $(seq 100); do [ -s "$HOME/idp.out" ] && break; sleep 0.1; done
IDP=$(sed -n 's/^listening on //p' "$HOME/idp.out")
"#,
        py = python(),
        idp = support("idp.py").display(),
        moto = moto_in_namespace(),
    )
}

#[test]
fn watcher_sees_an_attempt_to_reach_aws() {
    let env = Env::new();
    let seen = in_watched_namespace(
        &format!(
            "{py} -c \"import socket\ntry: socket.create_connection(('signin.aws.amazon.com', 443), 1)\nexcept OSError: pass\"\n{py} -c \"import socket\ntry: socket.create_connection(('192.0.2.80', 443), 1)\nexcept OSError: pass\"",
            py = python()
        ),
        &env,
    );
    assert!(
        seen.looked_up_aws(),
        "the control lookup was not seen: {}",
        seen.stderr
    );
    assert!(seen.tx_packets > 0, "the control connection was not seen");
}

#[test]
fn headless_captures_at_the_aws_endpoint_with_another_vendors_login_url() {
    let env = Env::new();
    let body = format!(
        r#"{servers}
{bin} --headless --login-url "$IDP/app/amazon_aws/test-client/sso/saml" --callback-url aws --timeout 60 \
  aws-assume-role --account 123456789012 --role Developer --profile p || exit 10
{identity}
"#,
        servers = servers("--callback https://signin.aws.amazon.com/saml"),
        bin = saml_login_path(),
        identity = caller_identity_in_namespace(),
    );
    let seen = in_watched_namespace(&body, &env);
    assert_eq!(seen.status, Some(0), "{}\n{}", seen.stdout, seen.stderr);
    assert!(
        seen.stdout
            .contains("ARN=arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"),
        "{}\n{}",
        seen.stdout,
        seen.stderr
    );
    assert!(
        !seen.looked_up_aws(),
        "the AWS endpoint was looked up: {:?}",
        seen.lookups
    );
    assert_eq!(
        seen.tx_packets, 0,
        "packets left through the way out; lookups: {:?}",
        seen.lookups
    );
}

#[test]
fn regional_endpoint_decides_the_sts_region() {
    let env = Env::new();
    let body = format!(
        r#"{servers}
cat > "$HOME/.saml-login" <<INI
[DEFAULT]
login_url = $IDP/app/amazon_aws/test-client/sso/saml
callback_url = aws
browser = headless
INI
{bin} --verbose aws-assume-role --account 123456789012 --role Developer --profile p || exit 10
"#,
        servers = servers("--callback https://eu-central-2.signin.aws.amazon.com/saml"),
        bin = saml_login_path(),
    );
    let seen = in_watched_namespace(&body, &env);
    assert_eq!(seen.status, Some(0), "{}\n{}", seen.stdout, seen.stderr);
    assert!(
        seen.stderr.contains("region=eu-central-2"),
        "{}\n{}",
        seen.stdout,
        seen.stderr
    );
    assert!(
        seen.stderr
            .contains("to=https://eu-central-2.signin.aws.amazon.com/saml"),
        "{}",
        seen.stderr
    );
    assert!(
        !seen.looked_up_aws(),
        "the AWS endpoint was looked up: {:?}",
        seen.lookups
    );
}

#[test]
fn system_browser_cannot_take_an_https_endpoint() {
    let idp = idp(&["--auto-session"]);
    let env = Env::new();
    env.config(&format!(
        "[DEFAULT]\nlogin_url = {}/app/amazon_aws/test-client/sso/saml\ncallback_url = aws\nbrowser = system\n",
        idp.url
    ));
    env.call(&["get-token"])
        .code(1)
        .stderr_has("use --webview or --headless");
    assert_eq!(idp.stat("samlp"), 0, "no browser was opened");
}

#[test]
fn webview_captures_at_the_aws_endpoint() {
    let env = display_env();
    let body = format!(
        r#"{servers}
{bin} --webview --fresh --login-url "$IDP/app/amazon_aws/test-client/sso/saml" --callback-url aws --timeout 60 \
  aws-assume-role --account 123456789012 --role Developer --profile p || exit 10
{identity}
"#,
        servers =
            servers("--callback https://us-west-2.signin.aws.amazon.com/saml/acs/SAMLSPEXAMPLE"),
        bin = saml_login_path(),
        identity = caller_identity_in_namespace(),
    );
    let seen = in_watched_namespace(&body, &env);
    assert_eq!(seen.status, Some(0), "{}\n{}", seen.stdout, seen.stderr);
    assert_eq!(
        seen.tx_packets, 0,
        "packets left through the way out; lookups: {:?}",
        seen.lookups
    );
    assert!(
        seen.stdout
            .contains("ARN=arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"),
        "{}\n{}",
        seen.stdout,
        seen.stderr
    );
    assert!(
        !seen.looked_up_aws(),
        "the AWS endpoint was looked up: {:?}",
        seen.lookups
    );
}
