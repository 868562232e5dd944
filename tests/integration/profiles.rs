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
    let out = env
        .command(python())
        .args([
            "-c",
            "import boto3, sys; print(boto3.Session(profile_name=sys.argv[1]).client('sts').get_caller_identity()['Arn'])",
            profile,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "boto3 with {profile}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn configure_writes_a_profile_per_role_and_keeps_the_rest_of_the_file() {
    let (env, idp, _moto, port) = world(&[&format!("{ROLE},{PROVIDER}"), ADMIN]);

    // --dry-run: the change as a diff, nothing written.
    let (out, stderr) = env.run(&["-c", "work", "configure", "--dry-run"]);
    assert!(out.status.success(), "{stderr}");
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+[profile Developer@sandbox]") && diff.contains("+[profile Admin@sandbox]"),
        "{diff}"
    );
    assert_eq!(aws_config(&env), MINE, "--dry-run writes nothing");

    let (out, stderr) = env.run(&["-c", "work", "configure"]);
    assert!(out.status.success(), "{stderr}");
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
    let (out, stderr) = env.run(&["-c", "work", "configure"]);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("nothing changed"), "{stderr}");
    assert_eq!(aws_config(&env), written);

    // A role no longer granted leaves the block; the user's part stays.
    let idp_port = idp.port;
    drop(idp);
    let idp = start_idp(port, Some(idp_port), &[&format!("{ROLE},{PROVIDER}")]);
    let (out, stderr) = env.run(&["-c", "work", "configure", "--force"]);
    assert!(out.status.success(), "{stderr}");
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
    let (out, stderr) = env.run(&["-c", "work", "configure"]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .contains("line 8: [profile Developer@sandbox] is written outside saml-login's block")
            && stderr.contains("arn:aws:iam::123456789012:role/Developer"),
        "{stderr}"
    );
    assert_eq!(aws_config(&env), mine, "nothing written");
    // profile_name decides the names; a template without {role} is refused.
    env.write(
        ".saml-login",
        &format!(
            "{}profile_name = {{role}}-{{account}}\n",
            std::fs::read_to_string(env.path(".saml-login")).unwrap()
        ),
    );
    let (out, stderr) = env.run(&["-c", "work", "configure"]);
    assert!(out.status.success(), "{stderr}");
    assert!(aws_config(&env).contains("[profile Developer-123456789012]"));
    let env = env.var("SAML_LOGIN_PROFILE_NAME", "{account}");
    let (out, stderr) = env.run(&["-c", "work", "configure"]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .contains("profile_name in SAML_LOGIN_PROFILE_NAME: \"{account}\" must contain {role}"),
        "{stderr}"
    );
}

/// A HOME with a generated Developer profile and, by hand, `deploy` chained on it.
fn chained_world(deploy: &str) -> (Env, Server, Server) {
    let (env, idp, moto, _) = world(&[&format!("{ROLE},{PROVIDER}")]);
    let (out, stderr) = env.run(&["-c", "work", "configure"]);
    assert!(out.status.success(), "{stderr}");
    let config = format!("{}\n{deploy}", aws_config(&env));
    env.write(".aws/config", &config);
    (env, idp, moto)
}

const DEPLOY: &str = "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deployer\nsource_profile = Developer@sandbox\nrole_session_name = ci\nduration_seconds = 7200\n";

#[test]
fn exec_and_env_with_a_chained_profile_get_the_chained_role() {
    let (env, _idp, _moto) = chained_world(DEPLOY);
    let who = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])";
    let out = env
        .cmd()
        .args(["exec", "--profile", "deploy", "--"])
        .arg(python())
        .args(["-c", who])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "arn:aws:sts::123456789012:assumed-role/Deployer/ci"
    );
    assert!(
        stderr.contains("chains on a role session, which AWS limits to 3600 s"),
        "{stderr}"
    );
    // The hop is cached under its identity: the same chain again is a hit, said so.
    let (out, stderr) = env.run(&["env", "--profile", "deploy"]);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "using the cached credentials of arn:aws:iam::123456789012:role/Deployer (profile deploy)"
        ),
        "{stderr}"
    );
    let exports = String::from_utf8_lossy(&out.stdout);
    assert!(exports.contains("export AWS_SESSION_TOKEN='"), "{exports}");
    // --force assumes the role again: other keys.
    let key = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("export AWS_ACCESS_KEY_ID='"))
            .map(|k| k.trim_end_matches('\'').to_owned())
            .unwrap()
    };
    let (forced, stderr) = env.run(&["env", "--profile", "deploy", "--force"]);
    assert!(forced.status.success(), "{stderr}");
    assert_ne!(key(&String::from_utf8_lossy(&forced.stdout)), key(&exports));
}

#[test]
fn aws_console_takes_a_chained_profile() {
    let (env, _idp, _moto) = chained_world(DEPLOY);
    let fed = Server::python("federation.py", &[]);
    let env = env.var(
        "SAML_LOGIN_FEDERATION_URL",
        format!("{}/federation", fed.url),
    );
    let (out, stderr) = env.run(&["aws-console", "--profile", "deploy", "--print"]);
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("SigninToken="));
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
        let (out, stderr) = env.run(&["exec", "--profile", profile, "--", "true"]);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
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
    let (out, stderr) = env.run(&["env", "--profile", "deploy"]);
    assert!(out.status.success(), "{stderr}");
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
