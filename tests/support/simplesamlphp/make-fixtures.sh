#!/usr/bin/env bash
# Regenerate the SimpleSAMLphp fixtures in fixtures/saml/ (see fixtures/README.md): for
# each case, start SimpleSAMLphp (Debian's package) with this directory's configuration
# and the case's settings, log in through its own form with curl, and keep the
# SAMLResponse it posts. Needs simplesamlphp, php8.2-cli, php8.2-xml, openssl, curl.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../../fixtures/saml"

roles='["arn:aws:iam::210987654321:role/ops/Admin,arn:aws:iam::210987654321:saml-provider/simplesamlphp","arn:aws:iam::123456789012:role/Developer,arn:aws:iam::123456789012:saml-provider/simplesamlphp","arn:aws:iam::210987654321:role/Auditor,arn:aws:iam::210987654321:saml-provider/simplesamlphp"]'
spaced='["\n   arn:aws:iam::123456789012:role/Developer , arn:aws:iam::123456789012:saml-provider/simplesamlphp\n  "]'

# fixture <file> <sign_response> <sign_assertion> <name_format> <roles JSON> [encrypt]
fixture() {
  local file=$1 sign_response=$2 sign_assertion=$3 name_format=$4 role_values=$5 encrypt=${6:-false}
  local d port pid jar url authstate
  d=$(mktemp -d)
  chmod 700 "$d"
  mkdir "$d"/{cert,log,data,tmp,sessions}
  cp "$here"/config.php "$here"/authsources.php "$d"/
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=simplesamlphp-test-idp \
    -keyout "$d/cert/idp.key" -out "$d/cert/idp.crt" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=aws-test-sp \
    -keyout "$d/cert/sp.key" -out "$d/cert/sp.crt" 2>/dev/null
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$d/settings.json" <<JSON
{"base_url": "http://127.0.0.1:$port", "dir": "$d", "metadata_dir": "$here/metadata",
 "secret_salt": "$(openssl rand -hex 16)", "admin_password": "$(openssl rand -hex 16)",
 "acs": "http://localhost:12200/saml", "sign_response": $sign_response,
 "sign_assertion": $sign_assertion, "name_format": "$name_format", "encrypt": $encrypt,
 "users": [{"name": "multi", "password": "s3cret", "attributes": {"uid": ["multi"],
   "https://aws.amazon.com/SAML/Attributes/Role": $role_values,
   "https://aws.amazon.com/SAML/Attributes/RoleSessionName": ["multi@example.org"],
   "https://aws.amazon.com/SAML/Attributes/SessionDuration": ["3600"]}}]}
JSON
  SIMPLESAMLPHP_CONFIG_DIR="$d" php -S "127.0.0.1:$port" -t /usr/share/simplesamlphp/www >/dev/null 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null; rm -rf "$d"' RETURN
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  jar="$d/jar"
  url=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{redirect_url}' \
    "http://127.0.0.1:$port/saml2/idp/SSOService.php?spentityid=urn%3Aamazon%3Awebservices&RelayState=0123abcd")
  authstate=$(curl -s -c "$jar" -b "$jar" "$url" | grep -o 'name="AuthState" value="[^"]*"' \
    | sed 's/.*value="//; s/"$//; s/&amp;/\&/g')
  curl -s -c "$jar" -b "$jar" --data-urlencode "AuthState=$authstate" \
    --data-urlencode username=multi --data-urlencode password=s3cret \
    "http://127.0.0.1:$port/module.php/core/loginuserpass.php?" \
    | grep -o 'name="SAMLResponse" value="[^"]*"' | sed 's/.*value="//; s/"$//' > "$out/$file"
  [ -s "$out/$file" ] || { echo "no SAMLResponse for $file" >&2; return 1; }
  echo "wrote fixtures/saml/$file"
}

uri=urn:oasis:names:tc:SAML:2.0:attrname-format:uri
basic=urn:oasis:names:tc:SAML:2.0:attrname-format:basic
fixture simplesamlphp-signed-three-roles-two-accounts.b64 true true "$uri" "$roles"
fixture simplesamlphp-signed-assertion-only.b64 false true "$uri" "$roles"
fixture simplesamlphp-signed-response-only.b64 true false "$uri" "$roles"
fixture simplesamlphp-basic-name-format.b64 true true "$basic" "$roles"
fixture simplesamlphp-whitespace-in-role-value.b64 true true "$uri" "$spaced"
fixture simplesamlphp-encrypted-assertion.b64 true true "$uri" "$roles" true
