//! Benchmarks of the pure pipeline: parsing the real two-role Auth0 response and a
//! 500-role response, and updating one profile in a 1,000-profile credentials file.
//! Targets (README): parse of two roles under 50 us.

use std::hint::black_box;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use saml_login::aws::assertion::SamlResponse;
use saml_login::storage::credentials_file::update_profile;

fn auth0_two_roles() -> SamlResponse {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/saml/auth0-two-roles.b64"
    );
    SamlResponse::new(std::fs::read_to_string(path).unwrap())
}

fn five_hundred_roles() -> SamlResponse {
    let values: String = (0..500)
        .map(|i| {
            format!(
                "<saml:AttributeValue>arn:aws:iam::{a:012}:role/Role{i},arn:aws:iam::{a:012}:saml-provider/idp</saml:AttributeValue>",
                a = 100_000_000_000u64 + i
            )
        })
        .collect();
    let xml = format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"><saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"><saml:AttributeStatement><saml:Attribute Name=\"https://aws.amazon.com/SAML/Attributes/Role\">{values}</saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>"
    );
    SamlResponse::new(base64::engine::general_purpose::STANDARD.encode(xml))
}

fn thousand_profiles() -> String {
    (0..1000)
        .map(|i| {
            format!(
                "# profile {i}\n[profile-{i}]\naws_access_key_id = AKIA{i:016}\naws_secret_access_key = {s}\naws_session_token = {t}\nexpiration = 2026-11-29T20:00:00Z\n\n",
                s = "s".repeat(40),
                t = "t".repeat(600)
            )
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let two = auth0_two_roles();
    assert_eq!(two.parse().unwrap().roles.len(), 2);
    c.bench_function("parse auth0 two-role response", |b| {
        b.iter(|| black_box(&two).parse().unwrap())
    });

    let many = five_hundred_roles();
    assert_eq!(many.parse().unwrap().roles.len(), 500);
    c.bench_function("parse 500-role response", |b| {
        b.iter(|| black_box(&many).parse().unwrap())
    });

    let file = thousand_profiles();
    let entries = vec![
        ("aws_access_key_id", "AKIANEW".to_owned()),
        ("aws_secret_access_key", "x".repeat(40)),
        ("aws_session_token", "y".repeat(600)),
        ("expiration", "2026-11-29T21:00:00Z".to_owned()),
        (
            "x_security_token_expires",
            "2026-11-29T21:00:00Z".to_owned(),
        ),
    ];
    c.bench_function("update one profile in a 1,000-profile file", |b| {
        b.iter(|| update_profile(black_box(&file), "profile-500", &entries))
    });
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
