<?php
// The login of SimpleSAMLphp's own form: exampleauth:UserPass with the users, each with
// the attributes AWS reads, from settings.json.
$s = json_decode(file_get_contents(__DIR__ . '/settings.json'), true);

$users = ['exampleauth:UserPass'];
foreach ($s['users'] as $user) {
    $users[$user['name'] . ':' . $user['password']] = $user['attributes'];
}

$config = [
    'admin' => ['core:AdminPassword'],
    'example-userpass' => $users,
];
