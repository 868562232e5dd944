//! One error taxonomy and one voice (issue 26, point 5): a usage error (exit 2) is only
//! what was typed on the command line, a failure at run time is exit 1; and the lines a
//! run says on stderr carry the name of the tool that runs (`aws-console:` for the
//! stand-alone console), whatever code prints them.

use crate::support::*;

/// A profile's `credential_process` that fails is a failed run (1) naming the profile
/// and the program, not a command-line usage error (2).
#[test]
fn a_failing_credential_process_is_a_failure_not_a_usage_error() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://idp.example.test\nclient_id = c\n");
    env.write(".aws/config", "[profile p]\ncredential_process = false\n");
    env.call(&["exec", "--profile", "p", "--", "true"])
        .code(1)
        .stderr_has("saml-login: error: credential_process of profile p: false failed");
}

/// The stand-alone `aws-console` resolving a chained profile says the chain's notice in
/// its own name (the code is shared with saml-login, which used to sign it).
#[test]
fn aws_console_says_a_chained_profiles_notice_in_its_own_name() {
    let moto = moto();
    let fed = Server::python("federation.py", &[]);
    let env = Env::new().sts(&moto).var(
        "SAML_LOGIN_FEDERATION_URL",
        format!("{}/federation", fed.url),
    );
    // The source: session credentials (as a saml-login profile gives), so the hop is a
    // chained session, which saml-login announces.
    env.write(
        ".aws/config",
        "[profile base]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"ASIABASEEXAMPLE1\",\"SecretAccessKey\":\"base-secret\",\"SessionToken\":\"base-token\"}'\n\
         [profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deployer\nsource_profile = base\nregion = eu-west-1\nduration_seconds = 7200\n",
    );
    env.cmd_for("aws-console")
        .args(["--profile", "deploy", "--print"])
        .ran()
        .success()
        .stderr_has(
            "aws-console: profile deploy chains on a role session, which AWS limits to 3600 s",
        )
        .stderr_lacks("saml-login:");
}
