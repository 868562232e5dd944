//! The SAML response as captured (`SamlResponse`, base64) and the facts saml-login
//! reads from it (`Assertion`): the AWS roles, session name and duration, expiry and
//! where it was addressed. Parsed once, namespace-aware, with DTDs refused.

use base64::Engine as _;
use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use saml_login_capture::Secret;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::aws::partition::signin_region;
use crate::aws::role::AwsRole;
use crate::error::{Error, Result};

const SAML_ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const SAML_PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
const SESSION_NAME_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
const SESSION_DURATION_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/SessionDuration";

/// The `SAMLResponse` form value exactly as the IdP posted it (base64), and where it
/// was posted when a browser captured it. The value is a secret.
#[derive(Clone, Debug)]
pub struct SamlResponse {
    value: Secret,
    posted_to: Option<url::Url>,
}

impl SamlResponse {
    pub fn new(base64: impl Into<String>) -> Self {
        Self {
            value: Secret::new(base64.into().trim().to_owned()),
            posted_to: None,
        }
    }

    /// Note the endpoint the response was posted to.
    #[must_use]
    pub fn posted_to(mut self, url: url::Url) -> Self {
        self.posted_to = Some(url);
        self
    }

    /// The region of the AWS sign-in endpoint the response was posted to, if any.
    pub fn endpoint_region(&self) -> Option<String> {
        self.posted_to
            .as_ref()
            .and_then(|u| signin_region(u.as_str()))
    }

    /// The base64 text, as STS wants it.
    pub fn expose(&self) -> &str {
        self.value.expose()
    }

    /// Decode (line breaks and spaces tolerated) and parse.
    pub fn parse(&self) -> Result<Assertion> {
        let compact: Vec<u8> = self
            .expose()
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if compact.is_empty() {
            return Err(Error::Assertion("the response is empty".into()));
        }
        let xml = base64::engine::general_purpose::STANDARD
            .decode(&compact)
            .map_err(|e| {
                // A value copied from a form body or a URL: `%2B`, `%2F`, `%3D`.
                let url_encoded = compact.windows(3).any(|w| {
                    w[0] == b'%' && matches!(&w[1..], b"2B" | b"2b" | b"2F" | b"2f" | b"3D" | b"3d")
                });
                Error::Assertion(if url_encoded {
                    format!(
                        "not valid base64 ({e}): it looks URL-encoded (`%2B`, `%3D`); decode it first, e.g. python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.stdin.read()))'"
                    )
                } else {
                    format!("not valid base64 ({e})")
                })
            })?;
        let xml = String::from_utf8(xml)
            .map_err(|_| Error::Assertion("the decoded response is not UTF-8 text".into()))?;
        Assertion::parse_xml(&xml)
    }
}

/// What saml-login needs from a SAML response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assertion {
    /// Granted roles in the order the IdP sent them, duplicates removed.
    pub roles: Vec<AwsRole>,
    pub session_name: Option<String>,
    /// The `SessionDuration` attribute, seconds.
    pub session_duration: Option<i32>,
    /// The earliest `NotOnOrAfter` of the conditions and subject confirmations.
    pub not_on_or_after: Option<OffsetDateTime>,
    /// The response's `Destination`.
    pub destination: Option<String>,
    /// The response's `IssueInstant`.
    pub issued_at: Option<OffsetDateTime>,
    /// The subject confirmation's `Recipient`.
    pub recipient: Option<String>,
}

/// The roles read so far: in the IdP's order, each once (a set keeps the check linear
/// in the number of values, whatever a hostile response repeats).
#[derive(Default)]
struct Roles {
    in_order: Vec<AwsRole>,
    seen: std::collections::BTreeSet<AwsRole>,
}

/// Where the parser is, for attribute values.
struct OpenAttribute {
    name: String,
    values: Vec<String>,
    depth: usize,
}

impl Assertion {
    /// Parse the decoded XML of a SAML 2.0 response.
    pub fn parse_xml(xml: &str) -> Result<Self> {
        let mut reader = NsReader::from_str(xml);
        let mut out = Assertion::default();
        let mut roles = Roles::default();
        let mut depth = 0usize;
        let mut attribute: Option<OpenAttribute> = None;
        // Text of the AttributeValue being read: Some while inside one.
        let mut value: Option<String> = None;
        let mut saw_root = false;
        let mut encrypted = false;

        loop {
            let position = reader.buffer_position();
            let (ns, event) = reader
                .read_resolved_event()
                .map_err(|e| xml_error(xml, position, &e))?;
            let in_saml = matches!(ns, ResolveResult::Bound(n) if n.0 == SAML_ASSERTION_NS);
            let in_protocol = matches!(ns, ResolveResult::Bound(n) if n.0 == SAML_PROTOCOL_NS);
            match event {
                Event::DocType(_) => {
                    return Err(Error::Assertion(
                        "a DOCTYPE or entity declaration is not allowed".into(),
                    ));
                }
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    saw_root = true;
                    let local = e.local_name();
                    match (in_saml, in_protocol, local.as_ref()) {
                        (_, true, "Response") => {
                            out.destination = attr(e, "Destination")?;
                            out.issued_at = attr(e, "IssueInstant")?
                                .and_then(|v| OffsetDateTime::parse(v.trim(), &Rfc3339).ok());
                        }
                        (true, _, "SubjectConfirmationData") => {
                            out.recipient = attr(e, "Recipient")?;
                            out.note_expiry(attr(e, "NotOnOrAfter")?)?;
                        }
                        (true, _, "Conditions") => {
                            out.note_expiry(attr(e, "NotOnOrAfter")?)?;
                        }
                        (true, _, "EncryptedAssertion") => encrypted = true,
                        (true, _, "Attribute") if !empty => {
                            attribute = Some(OpenAttribute {
                                name: attr(e, "Name")?.unwrap_or_default(),
                                values: Vec::new(),
                                depth,
                            });
                        }
                        (true, _, "AttributeValue") if attribute.is_some() => {
                            if empty {
                                if let Some(a) = attribute.as_mut() {
                                    a.values.push(String::new());
                                }
                            } else {
                                value = Some(String::new());
                            }
                        }
                        _ => {}
                    }
                    if !empty {
                        depth += 1;
                    }
                }
                Event::Text(t) => {
                    if let Some(v) = value.as_mut() {
                        v.push_str(&t.xml10_content());
                    }
                }
                Event::CData(t) => {
                    if let Some(v) = value.as_mut() {
                        v.push_str(&t.into_inner());
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(v) = value.as_mut() {
                        let c = resolve_reference(&r.xml10_content(), r.resolve_char_ref())?;
                        v.push(c);
                    }
                }
                Event::End(ref e) => {
                    depth = depth.saturating_sub(1);
                    let local = e.local_name();
                    if in_saml && local.as_ref() == "AttributeValue" {
                        if let (Some(v), Some(a)) = (value.take(), attribute.as_mut()) {
                            a.values.push(v);
                        }
                    } else if in_saml
                        && local.as_ref() == "Attribute"
                        && attribute.as_ref().is_some_and(|a| a.depth == depth)
                    {
                        let a = attribute.take().expect("checked above");
                        out.take_attribute(a, &mut roles)?;
                    }
                }
                Event::Eof if depth > 0 => {
                    return Err(xml_error_at(
                        xml,
                        xml.len() as u64,
                        "the document ends before its elements are closed (truncated?)",
                    ));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !saw_root {
            return Err(Error::Assertion(
                "the decoded response holds no XML element".into(),
            ));
        }
        if roles.in_order.is_empty() && encrypted {
            return Err(Error::Assertion(
                "the assertion is encrypted (EncryptedAssertion): saml-login reads the roles \
                 from it, so the IdP must not encrypt assertions for AWS (SimpleSAMLphp: no \
                 `assertion.encryption` in the urn:amazon:webservices SP entry)"
                    .into(),
            ));
        }
        if roles.in_order.is_empty() {
            return Err(Error::Assertion(format!(
                "no {ROLE_ATTRIBUTE} attribute with a role: the IdP grants no AWS role"
            )));
        }
        out.roles = roles.in_order;
        Ok(out)
    }

    fn take_attribute(&mut self, a: OpenAttribute, roles: &mut Roles) -> Result<()> {
        match a.name.as_str() {
            ROLE_ATTRIBUTE => {
                for v in &a.values {
                    let role = AwsRole::parse(v).map_err(Error::Assertion)?;
                    if roles.seen.insert(role.clone()) {
                        roles.in_order.push(role);
                    }
                }
            }
            SESSION_NAME_ATTRIBUTE => {
                self.session_name = a.values.first().map(|v| v.trim().to_owned());
            }
            SESSION_DURATION_ATTRIBUTE => {
                if let Some(v) = a.values.first() {
                    let seconds =
                        v.trim()
                            .parse::<i32>()
                            .ok()
                            .filter(|s| *s > 0)
                            .ok_or_else(|| {
                                Error::Assertion(format!(
                                    "SessionDuration {v:?} is not a number of seconds"
                                ))
                            })?;
                    self.session_duration = Some(seconds);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn note_expiry(&mut self, value: Option<String>) -> Result<()> {
        let Some(value) = value else { return Ok(()) };
        let at = OffsetDateTime::parse(value.trim(), &Rfc3339)
            .map_err(|_| Error::Assertion(format!("NotOnOrAfter {value:?} is not a date-time")))?;
        self.not_on_or_after = Some(self.not_on_or_after.map_or(at, |t| t.min(at)));
        Ok(())
    }

    /// The region of the AWS sign-in endpoint the assertion is addressed to
    /// (`https://REGION.signin.aws.amazon.com/saml`), if it names one.
    pub fn signin_region(&self) -> Option<String> {
        [&self.destination, &self.recipient]
            .into_iter()
            .flatten()
            .find_map(|u| signin_region(u))
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>> {
    for a in e.attributes() {
        let a = a.map_err(|err| Error::Assertion(format!("bad XML attribute: {err}")))?;
        if a.key.local_name().as_ref() == name {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| Error::Assertion(format!("bad XML attribute {name}: {err}")))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn resolve_reference(
    name: &str,
    char_ref: std::result::Result<Option<char>, quick_xml::Error>,
) -> Result<char> {
    if let Ok(Some(c)) = char_ref {
        return Ok(c);
    }
    match name {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(Error::Assertion(format!(
            "unknown entity reference &{other}; (entity declarations are not allowed)"
        ))),
    }
}

fn xml_error(xml: &str, position: u64, e: &quick_xml::Error) -> Error {
    xml_error_at(xml, position, &e.to_string())
}

/// `the SAML response is not well-formed XML (line L, column C: why)`.
fn xml_error_at(xml: &str, position: u64, why: &str) -> Error {
    let before = &xml.as_bytes()[..usize::try_from(position)
        .unwrap_or(usize::MAX)
        .min(xml.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.len()
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    Error::NotXml(format!("line {line}, column {column}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const R1: &str = "arn:aws:iam::123456789012:role/Developer";
    const P1: &str = "arn:aws:iam::123456789012:saml-provider/test-idp";

    fn fixture(name: &str) -> String {
        let path = format!("{}/fixtures/saml/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn parse_b64(name: &str) -> Result<Assertion> {
        SamlResponse::new(fixture(name)).parse()
    }

    fn parse_xml(name: &str) -> Result<Assertion> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(fixture(name));
        SamlResponse::new(b64).parse()
    }

    fn err(r: Result<Assertion>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn real_auth0_two_roles() {
        let a = parse_b64("auth0-two-roles.b64").unwrap();
        let names: Vec<_> = a.roles.iter().map(AwsRole::name).collect();
        assert_eq!(names, ["OAuthAdministrator", "OAuthIdentity"]);
        assert!(a.roles.iter().all(|r| r.account() == "245111612214"));
        assert_eq!(
            a.roles[0].provider_arn,
            "arn:aws:iam::245111612214:saml-provider/auth0-mvanholsteijn-eu-auth0-com-provider"
        );
        assert_eq!(a.session_name.as_deref(), Some("mark@binx.io"));
        assert_eq!(
            a.destination.as_deref(),
            Some("http://localhost:12200/saml")
        );
        assert_eq!(
            a.recipient.as_deref(),
            Some("https://signin.aws.amazon.com/saml")
        );
        assert_eq!(
            a.not_on_or_after.unwrap().format(&Rfc3339).unwrap(),
            "2019-01-15T13:28:09.997Z"
        );
        assert_eq!(a.session_duration, None);
    }

    #[test]
    fn real_auth0_one_role() {
        let a = parse_b64("auth0-one-role.b64").unwrap();
        assert_eq!(a.roles.len(), 1);
        assert_eq!(
            a.roles[0].role_arn,
            "arn:aws:iam::245111612214:role/OAuthAdministrator"
        );
    }

    #[test]
    fn line_broken_base64() {
        let a = parse_b64("line-broken.b64").unwrap();
        assert_eq!(a.roles.len(), 2);
        assert_eq!(a.roles[1].name(), "Admin");
        assert_eq!(a.roles[1].account(), "210987654321");
    }

    /// SimpleSAMLphp 1.19 (tests/integration/simplesamlphp.rs): a signed response holding a signed
    /// assertion, `xsi:type="xs:string"` values, URI name formats, several roles in one
    /// multi-valued attribute over two accounts, a five-minute validity.
    #[test]
    fn real_simplesamlphp_response_keeps_the_idp_role_order() {
        let a = parse_b64("simplesamlphp-signed-three-roles-two-accounts.b64").unwrap();
        let roles: Vec<_> = a.roles.iter().map(|r| r.role_arn.as_str()).collect();
        assert_eq!(
            roles,
            [
                "arn:aws:iam::210987654321:role/ops/Admin",
                "arn:aws:iam::123456789012:role/Developer",
                "arn:aws:iam::210987654321:role/Auditor",
            ]
        );
        assert!(
            a.roles
                .iter()
                .all(|r| r.provider_arn.ends_with(":saml-provider/simplesamlphp"))
        );
        assert_eq!(a.session_name.as_deref(), Some("multi@example.org"));
        assert_eq!(a.session_duration, Some(3600));
        assert_eq!(
            a.destination.as_deref(),
            Some("http://localhost:12200/saml")
        );
        assert_eq!(a.recipient.as_deref(), Some("http://localhost:12200/saml"));
        assert!(a.not_on_or_after.is_some());
    }

    /// SimpleSAMLphp's variants (tests/support/simplesamlphp/make-fixtures.sh): only the
    /// assertion signed, only the response signed, the basic attribute name format. Each
    /// is read the same.
    #[test]
    fn real_simplesamlphp_signing_and_name_format_variants() {
        let full = parse_b64("simplesamlphp-signed-three-roles-two-accounts.b64").unwrap();
        for name in [
            "simplesamlphp-signed-assertion-only.b64",
            "simplesamlphp-signed-response-only.b64",
            "simplesamlphp-basic-name-format.b64",
        ] {
            let a = parse_b64(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(a.roles, full.roles, "{name}");
            assert_eq!(a.session_name, full.session_name, "{name}");
            assert_eq!(a.session_duration, Some(3600), "{name}");
        }
    }

    /// A Role value with line breaks and spaces around the comma, as SimpleSAMLphp
    /// sends whatever its attribute source holds.
    #[test]
    fn real_simplesamlphp_whitespace_in_a_role_value() {
        let a = parse_b64("simplesamlphp-whitespace-in-role-value.b64").unwrap();
        assert_eq!(a.roles.len(), 1);
        assert_eq!(
            a.roles[0].role_arn,
            "arn:aws:iam::123456789012:role/Developer"
        );
        assert_eq!(
            a.roles[0].provider_arn,
            "arn:aws:iam::123456789012:saml-provider/simplesamlphp"
        );
    }

    /// An encrypted assertion hides the roles from saml-login: say so, and what to change.
    #[test]
    fn real_simplesamlphp_encrypted_assertion_is_a_clear_error() {
        let message = err(parse_b64("simplesamlphp-encrypted-assertion.b64"));
        assert!(message.contains("encrypted"), "{message}");
        assert!(message.contains("EncryptedAssertion"), "{message}");
    }

    #[test]
    fn reversed_order_whitespace_duplicates_and_prefixes() {
        for name in [
            "reversed-role-order.xml",
            "whitespace-and-duplicates.xml",
            "other-prefixes.xml",
        ] {
            let a = parse_xml(name).unwrap();
            assert_eq!(a.roles.len(), 1, "{name}");
            assert_eq!(a.roles[0].role_arn, R1, "{name}");
            assert_eq!(a.roles[0].provider_arn, P1, "{name}");
            assert_eq!(a.session_name.as_deref(), Some("dev@example.com"), "{name}");
        }
    }

    #[test]
    fn earliest_not_on_or_after() {
        let a = parse_xml("two-roles-two-accounts.xml").unwrap();
        assert_eq!(
            a.not_on_or_after.unwrap().format(&Rfc3339).unwrap(),
            "2030-01-01T00:30:00.5Z"
        );
    }

    #[test]
    fn session_duration() {
        assert_eq!(
            parse_xml("session-duration.xml").unwrap().session_duration,
            Some(7200)
        );
        assert!(err(parse_xml("bad-session-duration.xml")).contains("SessionDuration"));
    }

    #[test]
    fn refusals_are_clear_errors() {
        let cases = [
            (parse_xml("doctype.xml"), "DOCTYPE"),
            (parse_xml("undeclared-entity.xml"), "entity"),
            (
                parse_xml("no-role-attribute.xml"),
                "no https://aws.amazon.com/SAML/Attributes/Role",
            ),
            (
                parse_xml("wrong-namespace.xml"),
                "no https://aws.amazon.com/SAML/Attributes/Role",
            ),
            (parse_xml("not-a-role-pair.xml"), "not a pair"),
            (
                parse_xml("role-and-role.xml"),
                "not a role ARN and a saml-provider ARN",
            ),
            (
                parse_xml("not-well-formed.xml"),
                "not well-formed XML (line ",
            ),
            (
                parse_xml("truncated.xml"),
                "not well-formed XML (line 6, column 1: the document ends",
            ),
            (parse_b64("not-base64.b64"), "not valid base64"),
            (parse_b64("base64-of-text.b64"), "no XML element"),
            (SamlResponse::new("  \n").parse(), "empty"),
            (
                SamlResponse::new("PHNhbWxwOlJlc3BvbnNl%2BeG1%3D").parse(),
                "it looks URL-encoded",
            ),
        ];
        for (result, expected) in cases {
            let message = err(result);
            assert!(
                message.starts_with("SAML response: ")
                    || message.starts_with("the SAML response is not well-formed XML ("),
                "{message}"
            );
            assert!(message.contains(expected), "{message} lacks {expected}");
        }
    }

    #[test]
    fn regional_signin_endpoint() {
        assert_eq!(
            signin_region("https://eu-west-1.signin.aws.amazon.com/saml").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            signin_region("https://cn-north-1.signin.amazonaws.cn/saml").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(signin_region("https://signin.aws.amazon.com/saml"), None);
        assert_eq!(signin_region("http://localhost:12200/saml"), None);
        assert_eq!(
            signin_region("https://evil.example/eu-west-1.signin.aws.amazon.com"),
            None
        );
    }

    #[test]
    fn debug_redacts_the_response() {
        let r = SamlResponse::new(fixture("auth0-one-role.b64"));
        assert!(!format!("{r:?}").contains("PHNhbWxw"));
    }
}
