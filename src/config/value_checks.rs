//! Checks of setting values that would otherwise fail only after the login: a managed
//! policy ARN that is not one, a `# comment` written after a value.

use crate::config::keys::{Key, Tool};
use crate::config::layers::Layers;
use crate::error::{Error, Result};

/// A managed policy ARN (`arn:PARTITION:iam::ACCOUNT:policy/NAME`), or why not.
pub(super) fn check_policy_arn(arn: &str) -> std::result::Result<String, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && ((account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
                    || *account == "aws")
                && resource.starts_with("policy/")
                && resource.len() > "policy/".len() =>
        {
            Ok(arn.to_owned())
        }
        _ => Err(format!(
            "{arn:?} is not a managed policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)"
        )),
    }
}

/// A `#` after a value in the file is part of the value (as for the AWS CLI): where it
/// follows a space it is meant as a comment, and would only fail after the login.
/// Only the keys `tool` reads: another tool's values are not its concern.
pub(super) fn check_inline_comments(layers: &Layers<'_>, tool: Tool) -> Result<()> {
    for key in Key::read_by_tool(tool) {
        // JSON may hold anything in its strings.
        if key == Key::InlinePolicy {
            continue;
        }
        let Some(s) = layers.get(key) else { continue };
        if s.origin.starts_with('[') && (s.value.contains(" #") || s.value.contains("\t#")) {
            return Err(Error::BadValue {
                field: key.name().to_owned(),
                origin: s.origin,
                message: format!(
                    "{:?} holds an inline comment: `#` after a value is part of the value (for saml-login as for the AWS CLI); put the comment on a line of its own",
                    s.value.trim()
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_arns_are_checked() {
        assert!(check_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess").is_ok());
        assert!(check_policy_arn("arn:aws:iam::123456789012:policy/team/NoDelete").is_ok());
        assert!(check_policy_arn("arn:aws-cn:iam::123456789012:policy/P").is_ok());
        for bad in [
            "notanarn",
            "arn:aws:iam::aws:role/R",
            "arn:aws:iam::12:policy/P",
            "arn:aws:s3:::b",
        ] {
            assert!(check_policy_arn(bad).is_err(), "{bad}");
        }
    }
}
