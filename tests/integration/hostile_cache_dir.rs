//! Hostile neighbours, round three (issue 27), finding 5: a cache directory another
//! local user (uid 65534 through `setpriv`) created and planted links in. The login lock
//! must not follow a planted link (it truncated a 0600 file of the user to a PID), and
//! `logout` must not delete through a planted `credentials` link.
//!
//! Linux only: another user through `setpriv`.

#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::Stdio;

use crate::support::*;

const OTHER_UID: u32 = 65534;
const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n";

/// `sh -c SCRIPT` as the other user.
fn as_other_user(script: &str) {
    as_uid_65534("/bin/sh")
        .args(["-c", script])
        .stdin(Stdio::null())
        .ran()
        .success();
}

/// A directory of the other user's, in /tmp, which anyone may enter.
fn others_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("others-cache")
        .tempdir_in("/tmp")
        .unwrap();
    std::os::unix::fs::chown(dir.path(), Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn private_file(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A HOME whose [dev] has logged in once with the user's own cache (the IdP, moto) and
/// the names of the lock files that login used.
fn logged_in_once() -> (Env, Server, Server, Vec<String>) {
    let World { env, idp, moto, .. } = World::new().config(DEV).build();
    env.call(&["-c", "dev", "aws-assume-role"]).success();
    let names: Vec<String> = std::fs::read_dir(env.path(".cache/saml-login/locks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.is_empty());
    (env, idp, moto.unwrap(), names)
}

#[test]
fn the_login_lock_follows_no_link_planted_in_another_users_cache_dir() {
    let (env, _idp, _moto, names) = logged_in_once();

    let victim = env.path("precious/key.pem");
    private_file(&victim, "the user's 0600 file");
    let others = others_dir();
    let locks = others.path().join("saml-login/locks");
    let mut plant = format!("mkdir -p {0} && chmod 777 {0}", locks.display());
    for name in &names {
        plant += &format!(" && ln -s {} {}/{name}", victim.display(), locks.display());
    }
    as_other_user(&plant);

    let cache = others.path().display().to_string();
    let env = env.var("XDG_CACHE_HOME", cache);
    std::fs::remove_file(env.credentials_path()).unwrap();
    let ran = env.call(&["-c", "dev", "aws-assume-role"]);
    let victim_text = std::fs::read_to_string(&victim).unwrap();
    ran.check(
        victim_text == "the user's 0600 file",
        &format!("a planted link was followed: {victim_text:?}"),
    )
    .failure()
    .stderr_has(&locks.display().to_string())
    .stderr_has("another user");
}

#[test]
fn logout_deletes_nothing_through_a_link_planted_in_another_users_cache_dir() {
    let env = Env::new();
    let mine = env.path("mine");
    private_file(&mine.join("keep.json"), "{}");
    private_file(&mine.join("also.json"), "{}");
    let others = others_dir();
    as_other_user(&format!(
        "mkdir -p {0}/saml-login && ln -s {1} {0}/saml-login/credentials",
        others.path().display(),
        mine.display()
    ));
    let env = env.var("XDG_CACHE_HOME", others.path().display().to_string());
    env.call(&["logout", "--all"])
        .check(mine.join("keep.json").exists(), "deleted through the link")
        .check(mine.join("also.json").exists(), "also.json deleted")
        .failure()
        .stderr_has("another user")
        .stderr_has("logout deletes nothing there");
}

/// The lock file is opened without following a link even in the user's own cache
/// (where the directory check passes): a link under a lock's name is refused and its
/// target left alone. Catches the lock opened with links followed (no `O_NOFOLLOW`),
/// which the test above cannot see, as its directory check refuses first.
#[test]
fn a_lock_that_is_a_link_is_not_followed_in_the_users_own_cache_dir() {
    let (env, _idp, _moto, names) = logged_in_once();
    let locks = env.path(".cache/saml-login/locks");

    let victim = env.path("precious/key.pem");
    private_file(&victim, "the user's 0600 file");
    for name in &names {
        let lock = locks.join(name);
        std::fs::remove_file(&lock).unwrap();
        std::os::unix::fs::symlink(&victim, &lock).unwrap();
    }
    std::fs::remove_file(env.credentials_path()).unwrap();
    // --force: a login (which takes the lock), not the cached assertion.
    let ran = env.call(&["-c", "dev", "--timeout", "10", "aws-assume-role", "--force"]);
    let victim_text = std::fs::read_to_string(&victim).unwrap();
    ran.check(
        victim_text == "the user's 0600 file",
        &format!("a link under a lock's name was followed: {victim_text:?}"),
    )
    .failure()
    .stderr_has(&locks.display().to_string())
    .stderr_has("is a symbolic link; saml-login does not follow it")
    .check(
        !env.credentials_path().exists(),
        "a credentials file was written",
    );
}
