//! `configure` (one AWS profile per granted role, in a managed block of ~/.aws/config)
//! and `--profile` chains (`role_arn` + `source_profile` on top of a saml-login
//! `credential_process` profile) for `exec`, `env` and `aws-console`: through the real
//! binary, boto3 and moto (which implements AssumeRole and GetCallerIdentity).

use crate::support::*;

const ADMIN: &str =
    "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/test-idp";
const MINE: &str =
    "# my own settings\n[default]\nregion = us-east-1\n\n[profile hand]\noutput = json ; keep me\n";

/// moto, the test IdP granting `roles` (one Role attribute each), a HOME with
/// ~/.saml-login [work] and the user's own ~/.aws/config.
fn world(roles: &[&str]) -> (Env, Server, Server, u16) {
    let mut idp_args = vec!["--split-role-attributes"];
    for r in roles {
        idp_args.extend(["--role", r]);
    }
    let w = World::new()
        .idp_args(&idp_args)
        .section("work", "region = eu-west-1\n")
        .accounts("[DEFAULT]\nsandbox = 123456789012\n")
        .file(".aws/config", MINE)
        .build();
    (w.env, w.idp, w.moto.unwrap(), w.port)
}

fn start_idp(callback_port: u16, idp_port: Option<u16>, roles: &[&str]) -> Server {
    let callback = format!("http://localhost:{callback_port}/saml");
    let port = idp_port.map(|p| p.to_string());
    let mut args = vec![
        "--auto-session",
        "--split-role-attributes",
        "--callback",
        &callback,
    ];
    if let Some(p) = &port {
        args.extend(["--port", p]);
    }
    for r in roles {
        args.extend(["--role", r]);
    }
    idp(&args)
}

fn aws_config(env: &Env) -> String {
    std::fs::read_to_string(env.path(".aws/config")).unwrap()
}

/// boto3's idea of who `profile` of ~/.aws/config is (credential_process and all).
fn boto3_identity(env: &Env, profile: &str) -> String {
    let ran = env
        .command(python())
        .args([
            "-c",
            "import boto3, sys; print(boto3.Session(profile_name=sys.argv[1]).client('sts').get_caller_identity()['Arn'])",
            profile,
        ])
        .ran()
        .success();
    String::from_utf8(ran.out.stdout).unwrap().trim().to_owned()
}

#[test]
fn configure_writes_a_profile_per_role_and_keeps_the_rest_of_the_file() {
    let (env, idp, _moto, port) = world(&[&format!("{ROLE},{PROVIDER}"), ADMIN]);

    // --dry-run: the change as a diff, nothing written.
    env.call(&["-c", "work", "configure", "--dry-run"])
        .success()
        .stdout_has("+[profile Developer@sandbox]")
        .stdout_has("+[profile Admin@sandbox]");
    assert_eq!(aws_config(&env), MINE, "--dry-run writes nothing");

    env.call(&["-c", "work", "configure"]).success();
    let written = aws_config(&env);
    assert!(
        written.starts_with(MINE),
        "the user's part is kept: {written}"
    );
    let exe = assert_cmd::cargo::cargo_bin("saml-login");
    assert!(
        written.contains(&format!(
            "[profile Developer@sandbox]\ncredential_process = {} -c work credential-process --account 123456789012 --role Developer\nregion = eu-west-1\n",
            exe.display()
        )),
        "the running binary's absolute path (it is not on PATH): {written}"
    );
    assert!(written.contains("[profile Admin@sandbox]"), "{written}");

    // boto3 through the generated profile gets that profile's role.
    assert_eq!(
        boto3_identity(&env, "Developer@sandbox").split('/').nth(1),
        Some("Developer")
    );
    assert_eq!(
        idp.samlp_requests(),
        1,
        "configure's login served credential-process"
    );

    // The same grants again: nothing changes.
    env.call(&["-c", "work", "configure"])
        .success()
        .stderr_has("nothing changed");
    assert_eq!(aws_config(&env), written);

    // A role no longer granted leaves the block; the user's part stays.
    let idp_port = idp.port;
    drop(idp);
    let idp = start_idp(port, Some(idp_port), &[&format!("{ROLE},{PROVIDER}")]);
    env.call(&["-c", "work", "configure", "--force"]).success();
    let after = aws_config(&env);
    assert!(after.starts_with(MINE), "{after}");
    assert!(
        after.contains("[profile Developer@sandbox]") && !after.contains("Admin@sandbox"),
        "{after}"
    );
    assert_eq!(idp.samlp_requests(), 1, "--force logged in");
}

#[test]
fn a_generated_name_written_by_hand_is_an_error_naming_both() {
    let (env, _idp, _moto, _) = world(&[&format!("{ROLE},{PROVIDER}")]);
    let mine = format!("{MINE}\n[profile Developer@sandbox]\nregion = ap-south-1\n");
    env.write(".aws/config", &mine);
    env.call(&["-c", "work", "configure"])
        .code(1)
        .stderr_has("line 8: [profile Developer@sandbox] is written outside saml-login's block")
        .stderr_has("arn:aws:iam::123456789012:role/Developer");
    assert_eq!(aws_config(&env), mine, "nothing written");
    // profile_name decides the names; a template without {role} is refused.
    env.write(
        ".saml-login",
        &format!(
            "{}profile_name = {{role}}-{{account}}\n",
            std::fs::read_to_string(env.path(".saml-login")).unwrap()
        ),
    );
    env.call(&["-c", "work", "configure"]).success();
    assert!(aws_config(&env).contains("[profile Developer-123456789012]"));
    let env = env.var("SAML_LOGIN_PROFILE_NAME", "{account}");
    env.call(&["-c", "work", "configure"])
        .code(1)
        .stderr_has("profile_name in SAML_LOGIN_PROFILE_NAME: \"{account}\" must contain {role}");
}

/// A HOME with a generated Developer profile and, by hand, `deploy` chained on it.
fn chained_world(deploy: &str) -> (Env, Server, Server) {
    let (env, idp, moto, _) = world(&[&format!("{ROLE},{PROVIDER}")]);
    env.call(&["-c", "work", "configure"]).success();
    let config = format!("{}\n{deploy}", aws_config(&env));
    env.write(".aws/config", &config);
    (env, idp, moto)
}

const DEPLOY: &str = "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deployer\nsource_profile = Developer@sandbox\nrole_session_name = ci\nduration_seconds = 7200\n";

#[test]
fn exec_and_env_with_a_chained_profile_get_the_chained_role() {
    let (env, _idp, _moto) = chained_world(DEPLOY);
    let who = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])";
    let exec = env
        .cmd()
        .args(["exec", "--profile", "deploy", "--"])
        .arg(python())
        .args(["-c", who])
        .ran()
        .success()
        .stderr_has("chains on a role session, which AWS limits to 3600 s");
    assert_eq!(
        exec.stdout().trim(),
        "arn:aws:sts::123456789012:assumed-role/Deployer/ci"
    );
    // The hop is cached under its identity: the same chain again is a hit, said so.
    let exports = env
        .call(&["env", "--profile", "deploy"])
        .success()
        .stderr_has(
            "using the cached credentials of arn:aws:iam::123456789012:role/Deployer (profile deploy)",
        )
        .stdout_has("export AWS_SESSION_TOKEN='")
        .stdout();
    // --force assumes the role again: other keys.
    let key = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("export AWS_ACCESS_KEY_ID='"))
            .map(|k| k.trim_end_matches('\'').to_owned())
            .unwrap()
    };
    let forced = env
        .call(&["env", "--profile", "deploy", "--force"])
        .success();
    assert_ne!(key(&forced.stdout()), key(&exports));
}

#[test]
fn aws_console_takes_a_chained_profile() {
    let (env, _idp, _moto) = chained_world(DEPLOY);
    let fed = Server::python("federation.py", &[]);
    let env = env.var(
        "SAML_LOGIN_FEDERATION_URL",
        format!("{}/federation", fed.url),
    );
    env.call(&["aws-console", "--profile", "deploy", "--print"])
        .success()
        .stdout_has("SigninToken=");
    assert!(
        fed.get("/requests").contains("\"sessionId\": \"ASIA"),
        "{}",
        fed.get("/requests")
    );
}

#[test]
fn loops_deep_chains_and_mfa_are_refused_before_any_login() {
    let mut deep = String::new();
    for i in 0..12 {
        deep.push_str(&format!(
            "[profile d{i}]\nrole_arn = arn:aws:iam::123456789012:role/R{i}\nsource_profile = d{}\n",
            i + 1
        ));
    }
    let cases = [
        (
            "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/A\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::123456789012:role/B\nsource_profile = a\n".to_owned(),
            "a",
            "the profiles form a loop: a -> b -> a",
        ),
        (deep, "d0", "is deeper than 10 profiles"),
        (
            "[profile m]\nrole_arn = arn:aws:iam::123456789012:role/M\nsource_profile = Developer@sandbox\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n".to_owned(),
            "m",
            "profile m asks for an MFA code (mfa_serial)",
        ),
    ];
    for (text, profile, expected) in cases {
        let (env, idp, _moto, _) = world(&[&format!("{ROLE},{PROVIDER}")]);
        env.write(".aws/config", &text);
        env.call(&["exec", "--profile", profile, "--", "true"])
            .code(1)
            .stderr_has(expected);
        assert_eq!(idp.samlp_requests(), 0);
    }
}

/// Issue 27's claim: a chained session asks STS for 3600 s, whatever the profile says
/// (the request the recording STS received, not only the stderr line).
#[test]
fn a_chained_hop_asks_sts_for_3600_seconds() {
    let (env, _idp, moto) = chained_world(DEPLOY);
    let recorder = sts_recorder(&moto, &[]);
    let env = env.var("AWS_ENDPOINT_URL_STS", recorder.url.clone());
    env.call(&["env", "--profile", "deploy"]).success();
    let calls = sts_calls(&recorder);
    let hops: Vec<_> = calls
        .iter()
        .filter(|c| c.get("Action").map(String::as_str) == Some("AssumeRole"))
        .collect();
    assert_eq!(hops.len(), 1, "{calls:?}");
    assert_eq!(
        hops[0].get("DurationSeconds").map(String::as_str),
        Some("3600"),
        "{calls:?}"
    );
}
