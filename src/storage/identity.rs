//! What decides a session's credentials, so that a stored answer (a valid profile, the
//! credential cache) is reused only for the very same request: the IdP, the account
//! and role, the session policies, the asked-for duration and the STS region.
//!
//! It is computed from the settings before any login (the role as account number and
//! role name, the way the user asks for it) and recorded next to what it produced, so
//! that the comparison needs no login.

use sha2::{Digest, Sha256};

use crate::aws::role::AwsRole;

/// The request for one role's credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SessionIdentity {
    /// The login's start page (IdP and application), without our `RelayState`.
    idp: String,
    /// The account number.
    account: String,
    /// The role name (the last element of the role ARN's path).
    role: String,
    /// The managed session policies, sorted (STS treats them as a set).
    policy_arns: Vec<String>,
    /// The inline session policy, in a canonical JSON form.
    inline_policy: Option<String>,
    /// The duration asked for; `None` lets the assertion's `SessionDuration` decide.
    duration: Option<i32>,
    /// The STS region asked for.
    region: Option<String>,
}

/// The parts of a request that are the same for every role of a run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestTerms<'a> {
    pub idp: &'a url::Url,
    pub policy_arns: &'a [String],
    pub inline_policy: Option<&'a str>,
    pub duration: Option<i32>,
    pub region: Option<&'a str>,
}

impl SessionIdentity {
    /// The identity of `role_name` in `account` under `terms`. A role given as a full
    /// ARN counts as its account and name.
    pub(crate) fn new(terms: RequestTerms<'_>, account: &str, role_name: &str) -> Self {
        let (account, role) = match AwsRole::parse_role_arn(role_name) {
            Some((arn_account, name)) => (arn_account.to_owned(), name.to_owned()),
            None => (account.to_owned(), role_name.to_owned()),
        };
        let mut policy_arns = terms.policy_arns.to_vec();
        policy_arns.sort();
        policy_arns.dedup();
        let inline_policy = terms.inline_policy.map(|p| {
            serde_json::from_str::<serde_json::Value>(p)
                .map_or_else(|_| p.trim().to_owned(), |v| v.to_string())
        });
        let mut idp = terms.idp.clone();
        idp.set_fragment(None);
        Self {
            idp: idp.into(),
            account,
            role,
            policy_arns,
            inline_policy,
            duration: terms.duration,
            region: terms.region.map(str::to_owned),
        }
    }

    /// The login's start page this request goes through (what `logout` forgets).
    pub(crate) fn idp(&self) -> &str {
        &self.idp
    }

    /// The identity of a granted `role` under `terms`.
    pub(crate) fn of_role(terms: RequestTerms<'_>, role: &AwsRole) -> Self {
        Self::new(terms, role.account(), role.name())
    }

    /// A stable digest of the whole identity (hex SHA-256), recorded beside what the
    /// request produced.
    pub(crate) fn fingerprint(&self) -> String {
        let canonical = serde_json::json!({
            "v": 1,
            "idp": self.idp,
            "account": self.account,
            "role": self.role,
            "policy_arns": self.policy_arns,
            "inline_policy": self.inline_policy,
            "duration": self.duration,
            "region": self.region,
        });
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }

    /// `Role` in `account`, for messages.
    pub(crate) fn describe(&self) -> String {
        format!("role {} in account {}", self.role, self.account)
    }

    pub(crate) fn account(&self) -> &str {
        &self.account
    }

    pub(crate) fn role(&self) -> &str {
        &self.role
    }
}

/// What ties a stored profile's markers to its keys: a digest of the access key id
/// (hex SHA-256, 32 digits). Keys another program wrote in place of ours do not match it.
pub(crate) fn keys_fingerprint(access_key_id: &str) -> String {
    let digest = Sha256::digest(format!("saml-login keys v1\n{}", access_key_id.trim()).as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms<'a>(idp: &'a url::Url, policies: &'a [String]) -> RequestTerms<'a> {
        RequestTerms {
            idp,
            policy_arns: policies,
            inline_policy: None,
            duration: None,
            region: None,
        }
    }

    #[test]
    fn every_part_of_the_request_counts() {
        let idp = url::Url::parse("https://idp.example/samlp/c").unwrap();
        let other_idp = url::Url::parse("https://idp.example/samlp/d").unwrap();
        let none: Vec<String> = Vec::new();
        let read_only = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()];
        let base = SessionIdentity::new(terms(&idp, &none), "111111111111", "Dev").fingerprint();
        let variants = [
            SessionIdentity::new(terms(&other_idp, &none), "111111111111", "Dev"),
            SessionIdentity::new(terms(&idp, &none), "222222222222", "Dev"),
            SessionIdentity::new(terms(&idp, &none), "111111111111", "Admin"),
            SessionIdentity::new(terms(&idp, &read_only), "111111111111", "Dev"),
            SessionIdentity::new(
                RequestTerms {
                    inline_policy: Some("{}"),
                    ..terms(&idp, &none)
                },
                "111111111111",
                "Dev",
            ),
            SessionIdentity::new(
                RequestTerms {
                    duration: Some(7200),
                    ..terms(&idp, &none)
                },
                "111111111111",
                "Dev",
            ),
            SessionIdentity::new(
                RequestTerms {
                    region: Some("eu-west-1"),
                    ..terms(&idp, &none)
                },
                "111111111111",
                "Dev",
            ),
        ];
        for v in variants {
            assert_ne!(v.fingerprint(), base, "{v:?}");
        }
    }

    #[test]
    fn the_same_request_written_differently_is_the_same() {
        let idp = url::Url::parse("https://idp.example/samlp/c").unwrap();
        let a = vec!["arn:b".to_owned(), "arn:a".to_owned()];
        let b = vec!["arn:a".to_owned(), "arn:b".to_owned(), "arn:a".to_owned()];
        let by_name = SessionIdentity::new(
            RequestTerms {
                inline_policy: Some("{ \"Version\": \"2012-10-17\" }"),
                ..terms(&idp, &a)
            },
            "111111111111",
            "Dev",
        );
        let by_arn = SessionIdentity::new(
            RequestTerms {
                inline_policy: Some("{\"Version\":\"2012-10-17\"}"),
                ..terms(&idp, &b)
            },
            "ignored-alias",
            "arn:aws:iam::111111111111:role/team/Dev",
        );
        assert_eq!(by_name.fingerprint(), by_arn.fingerprint());
        let granted = AwsRole::parse(
            "arn:aws:iam::111111111111:role/Dev,arn:aws:iam::111111111111:saml-provider/p",
        )
        .unwrap();
        assert_eq!(
            SessionIdentity::of_role(terms(&idp, &b), &granted).fingerprint(),
            SessionIdentity::new(terms(&idp, &a), "111111111111", "Dev").fingerprint()
        );
    }
}
