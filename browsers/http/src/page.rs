//! Reading an IdP's answer page without running it: its forms (action, method, fields)
//! as html5ever's WHATWG tokenizer (Servo's, the algorithm browsers use) gives them:
//! character references decoded, comments, scripts and styles skipped as a browser
//! skips them. No tree and no script: the page is judged by what it declares.

use std::cell::RefCell;

use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// A form field as the page declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub name: String,
    pub value: String,
    pub kind: FieldKind,
}

/// What a field asks of whoever submits the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// `<input type="hidden">`: sent as it is, nobody sees it.
    Hidden,
    /// A submit, image, reset or plain button: sent only by the one clicked (a scripted
    /// `form.submit()` sends none).
    Button,
    /// `<input type="password">`.
    Password,
    /// Anything a person fills or chooses: a text, e-mail or other input, a checkbox,
    /// a `<select>`, a `<textarea>`.
    Visible,
}

/// One `<form>` of the page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Form {
    /// The `action` attribute as written (`None`: the page's own URL).
    pub action: Option<String>,
    /// The `method` attribute, lower case (`get` when absent).
    pub method: String,
    /// Its fields in document order (disabled ones left out, as a browser leaves them).
    pub fields: Vec<Field>,
}

impl Form {
    pub fn is_post(&self) -> bool {
        self.method == "post"
    }

    /// The fields a submission without a clicked button sends: every named one but
    /// the buttons.
    pub fn submitted(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .filter(|f| f.kind != FieldKind::Button && !f.name.is_empty())
            .map(|f| (f.name.as_str(), f.value.as_str()))
    }

    /// Whether the form asks a person for anything (a visible field or a password).
    pub fn asks_for_input(&self) -> bool {
        self.fields
            .iter()
            .any(|f| matches!(f.kind, FieldKind::Visible | FieldKind::Password))
    }

    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f.name == name)
    }
}

/// What the page declares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Page {
    pub forms: Vec<Form>,
    /// `<base href>`, against which a relative action resolves.
    pub base: Option<String>,
    /// A field outside any form (or naming one with `form=`): a shape we do not read.
    pub stray_fields: bool,
}

impl Page {
    /// Whether the page holds a password field (a login form).
    pub fn asks_for_password(&self) -> bool {
        self.forms
            .iter()
            .flat_map(|f| &f.fields)
            .any(|f| f.kind == FieldKind::Password)
    }
}

/// Read `html`'s forms.
pub(crate) fn read(html: &str) -> Page {
    let tokenizer = Tokenizer::new(Reader::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(html.into());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.page.into_inner()
}

#[derive(Default)]
struct Reader {
    page: RefCell<Page>,
    /// Inside a `<form>` (forms do not nest: a nested start tag is ignored, as the
    /// HTML parser ignores it).
    in_form: RefCell<bool>,
}

fn attr(tag: &Tag, name: &str) -> Option<String> {
    tag.attrs
        .iter()
        .find(|a| &*a.name.local == name)
        .map(|a| a.value.to_string())
}

impl Reader {
    fn start(&self, tag: &Tag) -> TokenSinkResult<()> {
        let name = &*tag.name;
        match name {
            // Scripting is on in the browsers saml-login runs, so `<noscript>` holds
            // text, not markup: its fallback button is no part of the form there either.
            "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                return TokenSinkResult::RawData(RawKind::Rawtext);
            }
            "title" => return TokenSinkResult::RawData(RawKind::Rcdata),
            "textarea" => {
                self.field(tag, FieldKind::Visible);
                return TokenSinkResult::RawData(RawKind::Rcdata);
            }
            "plaintext" => return TokenSinkResult::Plaintext,
            "base" => {
                let mut page = self.page.borrow_mut();
                if page.base.is_none() {
                    page.base = attr(tag, "href");
                }
            }
            "form" if !*self.in_form.borrow() => {
                *self.in_form.borrow_mut() = true;
                self.page.borrow_mut().forms.push(Form {
                    action: attr(tag, "action").filter(|a| !a.trim().is_empty()),
                    method: attr(tag, "method")
                        .map(|m| m.trim().to_ascii_lowercase())
                        .unwrap_or_else(|| "get".into()),
                    fields: Vec::new(),
                });
            }
            "input" => {
                let kind = match attr(tag, "type")
                    .map(|t| t.trim().to_ascii_lowercase())
                    .as_deref()
                {
                    Some("hidden") => FieldKind::Hidden,
                    Some("submit" | "image" | "reset" | "button") => FieldKind::Button,
                    Some("password") => FieldKind::Password,
                    _ => FieldKind::Visible,
                };
                self.field(tag, kind);
            }
            "button" => self.field(tag, FieldKind::Button),
            "select" => self.field(tag, FieldKind::Visible),
            _ => {}
        }
        TokenSinkResult::Continue
    }

    fn end(&self, tag: &Tag) {
        if &*tag.name == "form" {
            *self.in_form.borrow_mut() = false;
        }
    }

    /// A field of the open form; one outside a form, or naming another with `form=`,
    /// marks the page as a shape we do not read.
    fn field(&self, tag: &Tag, kind: FieldKind) {
        if attr(tag, "disabled").is_some() {
            return;
        }
        let mut page = self.page.borrow_mut();
        if !*self.in_form.borrow() || attr(tag, "form").is_some() {
            page.stray_fields = true;
            return;
        }
        if let Some(form) = page.forms.last_mut() {
            form.fields.push(Field {
                name: attr(tag, "name").unwrap_or_default(),
                value: attr(tag, "value").unwrap_or_default(),
                kind,
            });
        }
    }
}

impl TokenSink for Reader {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) if tag.kind == TagKind::StartTag => self.start(&tag),
            Token::TagToken(tag) => {
                self.end(&tag);
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Auth0's answer to a valid session (as the test IdP serves it).
    const AUTH0: &str = r#"<!DOCTYPE html><html><head><title>Submit This Form</title></head>
<body><form method="post" name="hiddenform" action="http://localhost:12200/saml">
<input type="hidden" name="SAMLResponse" value="PHNhbWxw&#x2B;T2s=">
<input type="hidden" name="RelayState" value="a&amp;b">
<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript>
</form><script>window.setTimeout(function() {document.forms[0].submit();}, 0);</script></body></html>"#;

    /// SimpleSAMLphp 1.19's post.php template.
    const SIMPLESAMLPHP: &str = r#"<html><body onload="document.getElementsByTagName('input')[0].click();">
<noscript><p><strong>Note:</strong> Since your browser does not support JavaScript, you must press the button below once to proceed.</p></noscript>
<form method="post" action="https://signin.aws.amazon.com/saml">
<input type="submit" style="display:none;" />
<input type="hidden" name="SAMLResponse" value="PHN" />
<input type="hidden" name="RelayState" value="rs" />
<noscript><button type="submit" class="btn">Submit</button></noscript>
</form></body></html>"#;

    #[test]
    fn auth0s_form_with_references_decoded() {
        let page = read(AUTH0);
        assert_eq!(page.forms.len(), 1);
        let form = &page.forms[0];
        assert!(form.is_post() && !form.asks_for_input());
        assert_eq!(form.action.as_deref(), Some("http://localhost:12200/saml"));
        let sent: Vec<_> = form.submitted().collect();
        assert_eq!(
            sent,
            [("SAMLResponse", "PHNhbWxw+T2s="), ("RelayState", "a&b")]
        );
        assert!(!page.stray_fields && !page.asks_for_password());
    }

    #[test]
    fn simplesamlphps_form_sends_no_button() {
        let page = read(SIMPLESAMLPHP);
        let form = &page.forms[0];
        assert!(form.is_post() && !form.asks_for_input());
        let sent: Vec<_> = form.submitted().collect();
        assert_eq!(sent, [("SAMLResponse", "PHN"), ("RelayState", "rs")]);
    }

    #[test]
    fn login_pages_ask_for_input() {
        let page = read(
            r#"<form method="POST" action="/u/login/password?state=s"><input name="username" type="email"><input type="password" name="password"><button type="submit">Go</button></form>"#,
        );
        assert!(page.asks_for_password());
        assert!(page.forms[0].asks_for_input() && page.forms[0].is_post());
        let identifier =
            read(r#"<form method="post"><input id="username" name="username"></form>"#);
        assert!(identifier.forms[0].asks_for_input());
        assert_eq!(identifier.forms[0].action, None);
        for visible in [
            r#"<form><input type="checkbox" name="c"></form>"#,
            r#"<form><select name="s"><option>a</select></form>"#,
            r#"<form><textarea name="t">x</textarea></form>"#,
        ] {
            assert!(read(visible).forms[0].asks_for_input(), "{visible}");
        }
    }

    /// What a browser would not see as markup is not read as markup: a form in a
    /// comment, a script's string or a textarea's text is no form.
    #[test]
    fn markup_in_comments_scripts_and_text_is_not_a_form() {
        let page = read(
            r#"<!-- <form method="post" action="http://localhost:1/saml"><input type="hidden" name="SAMLResponse" value="x"></form> -->
<script>document.write('<form method="post" action="http://localhost:1/saml"><input type="hidden" name="SAMLResponse" value="y"></form>')</script>
<textarea><form method="post"></form></textarea><title><form></title>"#,
        );
        assert!(page.forms.is_empty(), "{page:?}");
        assert!(page.stray_fields, "the textarea is a field outside a form");
    }

    #[test]
    fn disabled_nested_stray_and_base() {
        let page = read(
            r#"<base href="https://idp.example/x/"><form method=post action=acs><input type=hidden name=a value=1 disabled><form action=other><input type=hidden name=b value=2></form><input type=hidden name=c form=f></form>"#,
        );
        assert_eq!(page.base.as_deref(), Some("https://idp.example/x/"));
        assert_eq!(page.forms.len(), 1, "a nested form start is ignored");
        assert_eq!(page.forms[0].action.as_deref(), Some("acs"));
        assert_eq!(page.forms[0].submitted().collect::<Vec<_>>(), [("b", "2")]);
        assert!(page.stray_fields, "a field naming a form with form=");
        assert!(!read("<p>hello</p>").stray_fields);
    }
}
