<?php
// AWS as a service provider: its entity ID, with the ACS the test points at (the
// loopback callback under test, or AWS's own sign-in endpoint). make-fixtures.sh also
// varies the signing, the attribute name format and assertion encryption.
$s = json_decode(file_get_contents(getenv('SIMPLESAMLPHP_CONFIG_DIR') . '/settings.json'), true);

$metadata['urn:amazon:webservices'] = [
    'AssertionConsumerService' => $s['acs'],
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'simplesaml.nameidattribute' => 'uid',
    'simplesaml.attributes' => true,
    'saml20.sign.response' => $s['sign_response'],
    'saml20.sign.assertion' => $s['sign_assertion'],
    'attributes.NameFormat' => $s['name_format'] ?? 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
];
if ($s['encrypt'] ?? false) {
    $metadata['urn:amazon:webservices']['assertion.encryption'] = true;
    $metadata['urn:amazon:webservices']['certificate'] = 'sp.crt';
}
