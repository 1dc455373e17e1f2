#!/usr/bin/env bash
# Regenerates the test certificates used by the TLS tests (tests/integration/transport_test.cpp,
# tests/support/test_server.hpp). Run from anywhere; writes next to this script:
#   test-ca.crt / test-ca.key          a self-signed test CA ("ossmp test CA")
#   server.crt / server.key            a server certificate for localhost / 127.0.0.1 / ::1 and
#                                      *.localhost, *.oss.localhost (OpenSSL ignores a wildcard
#                                      directly under a single label, so virtual-hosted tests
#                                      use BUCKET.oss.localhost), signed by the test CA
#   other-ca.crt                       an unrelated CA (to prove verification fails with a wrong CA)
#   expired.crt                        server.key's certificate for localhost / 127.0.0.1, signed
#                                      by the test CA, valid in 2000 only (expired)
# Validity is long (100 years) so the files can be committed. Never use these keys elsewhere.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" \
    -subj "/CN=ossmp test CA" -keyout test-ca.key -out test-ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
    -keyout server.key -out "$tmp/server.csr"
cat > "$tmp/ext.cnf" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:*.localhost,DNS:*.oss.localhost,IP:127.0.0.1,IP:::1
EXT
openssl x509 -req -in "$tmp/server.csr" -CA test-ca.crt -CAkey test-ca.key -CAcreateserial \
    -CAserial "$tmp/ca.srl" -days "$days" -sha256 -extfile "$tmp/ext.cnf" -out server.crt

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" \
    -subj "/CN=ossmp unrelated CA" -keyout "$tmp/other-ca.key" -out other-ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# An expired certificate (explicit dates need `openssl ca`, which wants a little database).
touch "$tmp/index.txt"
echo 1000 > "$tmp/serial"
cat > "$tmp/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $tmp/index.txt
new_certs_dir = $tmp
serial = $tmp/serial
default_md = sha256
policy = any
[any]
commonName = supplied
CNF
printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$tmp/expired.cnf"
openssl ca -batch -config "$tmp/ca.cnf" -in "$tmp/server.csr" -cert test-ca.crt -keyfile test-ca.key \
    -startdate 20000101000000Z -enddate 20010101000000Z -extfile "$tmp/expired.cnf" -notext \
    -out expired.crt
chmod 644 ./*.key ./*.crt # test-only keys, readable by every build user
