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
    let (out, stderr) = env.run(&["exec", "--profile", "p", "--", "true"]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("saml-login: error: credential_process of profile p: false failed"),
        "{stderr}"
    );
}
