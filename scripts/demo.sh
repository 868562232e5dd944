#!/usr/bin/env bash
# A whole login on this machine, no Auth0 tenant and no AWS account needed: the bundled
# Auth0-like test IdP, moto's STS, real headless Chromium filling the IdP's login form,
# and a throwaway HOME. Prints the roles granted and the profile written.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

bash scripts/install-deps.sh
echo "==> cargo build --release"
cargo build --release --locked --no-default-features --features headless
BIN=$ROOT/target/release/saml-login

PY=$(python3 -c 'import sys; print(sys.executable)')
WORK=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

STS_PORT=$(free_port)
moto_server -H 127.0.0.1 -p "$STS_PORT" >"$WORK/moto.log" 2>&1 &
pids+=($!)
"$PY" tests/support/idp.py --port 0 --user demo:demo-password \
  --role arn:aws:iam::123456789012:role/Developer,arn:aws:iam::123456789012:saml-provider/test-idp \
  >"$WORK/idp.out" 2>"$WORK/idp.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$WORK/idp.out" ] && curl -s "http://127.0.0.1:$STS_PORT/" >/dev/null 2>&1 && break; sleep 0.1; done
IDP_URL=$(sed -n 's/^listening on //p' "$WORK/idp.out")

export HOME="$WORK/home"
mkdir -p "$HOME"
export AWS_ENDPOINT_URL_STS="http://127.0.0.1:$STS_PORT"
export SAML_LOGIN_USERNAME=demo SAML_LOGIN_PASSWORD=demo-password
cat >"$HOME/.saml-login" <<INI
[DEFAULT]
idp_url = $IDP_URL
client_id = test-client
browser = headless

[dev]
aws_account = sandbox
aws_role = Developer
aws_profile = dev
INI
printf '[DEFAULT]\nsandbox = 123456789012\n' >"$HOME/.aws-accounts"

echo
echo "==> saml-login aws-assume-role --show   (the roles the IdP grants)"
"$BIN" aws-assume-role --show
echo "==> saml-login -c dev aws-assume-role   (credentials from moto's STS)"
"$BIN" -c dev aws-assume-role
echo
echo "==> $HOME/.aws/credentials (secrets shortened)"
sed -E 's/^(aws_secret_access_key|aws_session_token) = (.{6}).*/\1 = \2.../' "$HOME/.aws/credentials"
echo
echo "==> GetCallerIdentity with profile dev"
AWS_SHARED_CREDENTIALS_FILE="$HOME/.aws/credentials" "$PY" -c "
import boto3
print(boto3.Session(profile_name='dev').client('sts', endpoint_url='$AWS_ENDPOINT_URL_STS', region_name='us-east-1').get_caller_identity()['Arn'])"
