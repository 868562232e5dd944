//! The callback form decoder and the callback checks never panic: `decode_form` on any
//! body, `Captured::from_request` for a POST body or a GET query, and
//! `Callback::accepts` with any required fields and state. `accepts` must also agree
//! with a plain reading of the decoded fields.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use saml_login_capture::{Callback, Captured, Method, decode_form};
use url::Url;

const FIELDS: &[&str] = &["SAMLResponse", "RelayState", "code", "state", "error", ""];

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    get: bool,
    /// Bit i: require FIELDS[i].
    required: u8,
    /// (index into FIELDS, value we sent, required)
    state: Option<(u8, String, bool)>,
    /// The query string of the request URL (GET callbacks read their fields here).
    query: Option<&'a str>,
    body: &'a [u8],
}

fuzz_target!(|data: &[u8]| {
    // The raw bytes as a form body.
    for (k, v) in decode_form(data) {
        let _ = (k.len(), v.expose().len());
    }

    let Ok(input) = Input::arbitrary_take_rest(arbitrary::Unstructured::new(data)) else {
        return;
    };
    let method = if input.get { Method::Get } else { Method::Post };
    let mut callback = Callback::new(method, Url::parse("http://localhost:12200/saml").unwrap());
    let required: Vec<&'static str> = FIELDS
        .iter()
        .enumerate()
        .filter(|(i, _)| input.required & (1 << i) != 0)
        .map(|(_, f)| *f)
        .collect();
    callback = callback.requiring(&required);
    if let Some((i, value, req)) = &input.state {
        let field = FIELDS[usize::from(*i) % FIELDS.len()];
        callback = callback.with_state(field, value.clone(), *req);
    }
    let mut url = Url::parse("http://127.0.0.1:12200/saml").unwrap();
    url.set_query(input.query);
    let captured = Captured::from_request(&callback, url, input.body);
    let verdict = callback.accepts(&captured);

    // An independent reading of the same decision.
    let field = |name: &str| {
        captured
            .fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.expose().to_owned())
    };
    let mut expected = required.is_empty() || required.iter().any(|f| field(f).is_some());
    if let Some(s) = &callback.state {
        expected &= match field(&s.field) {
            Some(v) => v == s.value,
            None => !s.required,
        };
    }
    assert_eq!(verdict.is_ok(), expected, "accepts disagrees: {verdict:?}");
    if let Err(message) = verdict {
        // Refusal messages are fixed text plus field names: never a value received.
        let mut allowed = vec![format!("the request carries no {}", required.join(" or "))];
        if let Some(s) = &callback.state {
            allowed.push(format!("its {} is not the one we sent", s.field));
            allowed.push(format!("it carries no {}", s.field));
        }
        assert!(allowed.contains(&message), "unexpected refusal message {message:?}");
    }
});
