//! AWS partitions (aws, aws-us-gov, aws-cn): which one an ARN or a region belongs to,
//! and its hosts. The sign-in hosts are the capture crate's list
//! ([`saml_login_capture::AWS_SIGNIN_HOSTS`]), the one every browser matches.

use saml_login_capture::AWS_SIGNIN_HOSTS;

/// An AWS partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Partition {
    Aws,
    AwsUsGov,
    AwsCn,
}

impl Partition {
    /// The partition a region belongs to.
    pub(crate) fn of_region(region: &str) -> Self {
        if region.starts_with("cn-") {
            Partition::AwsCn
        } else if region.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else {
            Partition::Aws
        }
    }

    /// The partition named in an ARN (`arn:PARTITION:...`).
    pub(crate) fn of_arn(arn: &str) -> Self {
        match arn.split(':').nth(1) {
            Some("aws-cn") => Partition::AwsCn,
            Some("aws-us-gov") => Partition::AwsUsGov,
            _ => Partition::Aws,
        }
    }

    /// The partition's AWS sign-in host (`signin.aws.amazon.com`).
    pub(crate) fn signin_host(self) -> &'static str {
        let domain = match self {
            Partition::Aws => ".aws.amazon.com",
            Partition::AwsUsGov => ".amazonaws-us-gov.com",
            Partition::AwsCn => ".amazonaws.cn",
        };
        AWS_SIGNIN_HOSTS
            .iter()
            .find(|h| h.ends_with(domain))
            .expect("the capture crate lists every partition's sign-in host")
    }

    /// The console's federation endpoint.
    pub(crate) fn federation_url(self) -> String {
        format!("https://{}/federation", self.signin_host())
    }

    pub(crate) fn console_host(self) -> &'static str {
        match self {
            Partition::Aws => "console.aws.amazon.com",
            Partition::AwsUsGov => "console.amazonaws-us-gov.com",
            Partition::AwsCn => "console.amazonaws.cn",
        }
    }

    /// The region STS uses in this partition when none is configured.
    pub(crate) fn default_region(self) -> &'static str {
        match self {
            Partition::Aws => "us-east-1",
            Partition::AwsUsGov => "us-gov-west-1",
            Partition::AwsCn => "cn-north-1",
        }
    }
}

/// The region of an AWS sign-in URL: `eu-west-1` from
/// `https://eu-west-1.signin.aws.amazon.com/saml` (none for the global host).
pub(crate) fn signin_region(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    saml_login_capture::signin_host_region(url.host_str()?)
        .filter(|region| !region.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_of_arns_and_regions() {
        assert_eq!(
            Partition::of_arn("arn:aws-cn:iam::1:role/x"),
            Partition::AwsCn
        );
        assert_eq!(
            Partition::of_arn("arn:aws-us-gov:iam::1:role/x"),
            Partition::AwsUsGov
        );
        assert_eq!(Partition::of_arn("arn:aws:iam::1:role/x"), Partition::Aws);
        assert_eq!(Partition::of_region("cn-north-1"), Partition::AwsCn);
        for p in [Partition::Aws, Partition::AwsUsGov, Partition::AwsCn] {
            assert_eq!(Partition::of_region(p.default_region()), p);
        }
        assert_eq!(
            Partition::AwsUsGov.federation_url(),
            "https://signin.amazonaws-us-gov.com/federation"
        );
        assert_eq!(Partition::AwsCn.signin_host(), "signin.amazonaws.cn");
    }
}
