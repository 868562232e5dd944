<?php
// SimpleSAMLphp's configuration for the tests (tests/support/simplesamlphp.rs): every
// path and value comes from settings.json, which the harness writes next to this file
// in a private temporary directory.
$s = json_decode(file_get_contents(__DIR__ . '/settings.json'), true);

$config = [
    'baseurlpath' => $s['base_url'] . '/',
    'certdir' => $s['dir'] . '/cert/',
    'loggingdir' => $s['dir'] . '/log/',
    'datadir' => $s['dir'] . '/data/',
    'tempdir' => $s['dir'] . '/tmp',
    'metadatadir' => $s['metadata_dir'],
    'technicalcontact_name' => 'saml-login tests',
    'technicalcontact_email' => 'tests@example.org',
    'timezone' => 'UTC',
    'secretsalt' => $s['secret_salt'],
    'auth.adminpassword' => $s['admin_password'],
    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'admin.checkforupdates' => false,
    'trusted.url.domains' => [],
    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'showerrors' => true,
    'errorreporting' => false,
    'debug' => ['saml' => false, 'backtraces' => false, 'validatexml' => false],
    'production' => true,
    'logging.level' => SimpleSAML\Logger::WARNING,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    'store.type' => 'phpsession',
    // Its own session cookies, on plain http (the tests run on loopback).
    'session.cookie.name' => 'SimpleSAMLSessionID',
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'session.phpsession.cookiename' => 'SimpleSAML',
    'session.phpsession.savepath' => $s['dir'] . '/sessions',
    'session.phpsession.httponly' => true,
    'session.authtoken.cookiename' => 'SimpleSAMLAuthToken',
    'session.duration' => 8 * 60 * 60,
    // SimpleSAMLphp's cookies are browser-session cookies by default (lifetime 0):
    // a browser that restarts (the webview's remembered profile) keeps none of them.
    // Deployments that want a remembered login set a lifetime, as here.
    'session.cookie.lifetime' => 8 * 60 * 60,
    'language.cookie.secure' => false,
    'language.cookie.samesite' => null,
    'language.available' => ['en'],
    'language.default' => 'en',
    'theme.use' => 'default',
    'template.auto_reload' => false,
    'metadata.sources' => [['type' => 'flatfile']],
    'metadata.sign.enable' => false,
];
