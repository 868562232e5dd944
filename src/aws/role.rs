//! An AWS role granted by the IdP: the role ARN and the SAML provider ARN of one value
//! of the `https://aws.amazon.com/SAML/Attributes/Role` attribute.

use std::fmt;

/// One role the assertion grants.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AwsRole {
    /// `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`
    pub role_arn: String,
    /// `arn:PARTITION:iam::ACCOUNT:saml-provider/NAME`
    pub provider_arn: String,
}

impl AwsRole {
    /// Parse `role_arn,provider_arn` in either order, whitespace trimmed.
    pub fn parse(value: &str) -> Result<Self, String> {
        let parts: Vec<&str> = value.split(',').map(str::trim).collect();
        let [a, b] = parts.as_slice() else {
            return Err(format!(
                "role value {value:?} is not a pair `role_arn,provider_arn`"
            ));
        };
        let (role, provider) = match (arn_kind(a), arn_kind(b)) {
            (Some(ArnKind::Role), Some(ArnKind::Provider)) => (a, b),
            (Some(ArnKind::Provider), Some(ArnKind::Role)) => (b, a),
            _ => {
                return Err(format!(
                    "role value {value:?} is not a role ARN and a saml-provider ARN"
                ));
            }
        };
        Ok(Self {
            role_arn: (*role).to_owned(),
            provider_arn: (*provider).to_owned(),
        })
    }

    /// The account number (the fifth field of the ARN).
    pub fn account(&self) -> &str {
        self.role_arn.split(':').nth(4).unwrap_or_default()
    }

    /// The role name: the last path element after `role/`.
    pub fn name(&self) -> &str {
        self.role_arn.rsplit('/').next().unwrap_or_default()
    }

    /// The account and role name of a role ARN (`arn:P:iam::ACCOUNT:role/PATH/NAME`);
    /// `None` for anything else (a plain role name).
    pub fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
        if !matches!(arn_kind(arn), Some(ArnKind::Role)) {
            return None;
        }
        let account = arn.split(':').nth(4)?;
        let name = arn.rsplit('/').next()?;
        (!account.is_empty() && !name.is_empty()).then_some((account, name))
    }
}

impl fmt::Display for AwsRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.role_arn)
    }
}

enum ArnKind {
    Role,
    Provider,
}

fn arn_kind(arn: &str) -> Option<ArnKind> {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = fields.as_slice() else {
        return None;
    };
    let well_formed = *prefix == "arn"
        && !partition.is_empty()
        && *service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return None;
    }
    let partition_ok = partition
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !partition_ok {
        return None;
    }
    match resource.split_once('/') {
        Some(("role", path_and_name)) if is_iam_role(path_and_name) => Some(ArnKind::Role),
        Some(("saml-provider", name)) if is_iam_name(name, 128, b"._-") => Some(ArnKind::Provider),
        _ => None,
    }
}

/// IAM's character sets: a role name is 1-64 of `A-Za-z0-9+=,.@_-`, its path printable
/// ASCII without spaces. So no IdP-supplied role can carry `[`, `]`, a line end or an
/// escape sequence into a profile name, the credentials file or a terminal.
fn is_iam_role(path_and_name: &str) -> bool {
    let (path, name) = path_and_name
        .rsplit_once('/')
        .unwrap_or(("", path_and_name));
    path.bytes().all(|b| b.is_ascii_graphic()) && is_iam_name(name, 64, b"+=,.@_-")
}

fn is_iam_name(name: &str, max: usize, punctuation: &[u8]) -> bool {
    (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || punctuation.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::123456789012:role/team/Developer";
    const PROVIDER: &str = "arn:aws:iam::123456789012:saml-provider/auth0";

    #[test]
    fn either_order_and_whitespace() {
        let a = AwsRole::parse(&format!("{ROLE},{PROVIDER}")).unwrap();
        let b = AwsRole::parse(&format!("  {PROVIDER} ,\n {ROLE} ")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.account(), "123456789012");
        assert_eq!(a.name(), "Developer");
    }

    #[test]
    fn iam_names_with_every_allowed_character() {
        // (`,` is allowed by IAM but separates the two ARNs of the attribute value.)
        let role = "arn:aws-us-gov:iam::123456789012:role/a/b-c_d!/Dev+=.@_-1";
        let r = AwsRole::parse(&format!("{role},{PROVIDER}")).unwrap();
        assert_eq!(r.name(), "Dev+=.@_-1");
    }

    #[test]
    fn not_a_pair() {
        for bad in [
            ROLE,
            "",
            "a,b",
            &format!("{ROLE},{ROLE}"),
            &format!("{ROLE},{PROVIDER},x"),
            "arn:aws:iam::12345:role/x,arn:aws:iam::12345:saml-provider/y",
            // Outside IAM's character sets: a section header, an escape sequence.
            &format!("arn:aws:iam::123456789012:role/pwn]\n[default],{PROVIDER}"),
            &format!("arn:aws:iam::123456789012:role/\x1b[31mred,{PROVIDER}"),
            &format!("arn:aws:iam::123456789012:role/a b,{PROVIDER}"),
            &format!(
                "arn:aws:iam::123456789012:role/{},{PROVIDER}",
                "r".repeat(65)
            ),
            &format!("{ROLE},arn:aws:iam::123456789012:saml-provider/x]y"),
            &format!("arn:AWS]:iam::123456789012:role/r,{PROVIDER}"),
        ] {
            assert!(AwsRole::parse(bad).is_err(), "{bad}");
        }
    }
}
