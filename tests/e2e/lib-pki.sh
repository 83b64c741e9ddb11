# tests/e2e/lib-pki.sh: the certificates of the e2e tests (sourced by lib.sh): the proxy CA Squid
# signs bumped certificates with, the origin CA and the origin certificate, other CAs and leaf
# certificates (an attacker's, a private app's), and curl's pin of a certificate's key.
# Every key is EC P-256, every certificate valid for 2 days.

# Names the origin certificate carries and the hosts file maps to 127.0.0.1. A test may add
# names before e2e_pki / e2e_squid_start (E2E_NAMES+=" x.test").
E2E_NAMES="www.zoom.us zoom.us evilzoom.us zoom.us.evil.test www.example.test unpinned.test
teams.lync.com www.bank.test bank.test"

# e2e_pki: make the proxy CA (Squid signs bumped certificates with it), the origin CA, and one
# origin certificate whose SANs are $E2E_NAMES. Sets E2E_PROXY_CA, E2E_PROXY_CA_BUNDLE,
# E2E_ORIGIN_CA, E2E_TRUST, E2E_ORIGIN_CERT, E2E_ORIGIN_KEY, E2E_ORIGIN_PIN.
e2e_pki() {
    local d=$E2E_DIR/pki n san=""
    mkdir -p "$d"
    e2e_ca "$d/proxy-ca" "pinsplice e2e proxy CA"
    e2e_ca "$d/origin-ca" "pinsplice e2e origin CA"
    for n in $E2E_NAMES; do san="${san:+$san,}DNS:$n"; done
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$d/origin.key" -out "$d/origin.csr" -subj "/CN=pinsplice e2e origin" \
        2>"$d/openssl.err" || e2e_die "origin key: $(cat "$d/openssl.err")"
    printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
        "$san" >"$d/origin.ext"
    openssl x509 -req -in "$d/origin.csr" -CA "$d/origin-ca.pem" -CAkey "$d/origin-ca.key" \
        -CAcreateserial -days 2 -extfile "$d/origin.ext" -out "$d/origin.pem" \
        2>"$d/openssl.err" || e2e_die "origin certificate: $(cat "$d/openssl.err")"
    # Squid's http_port tls-cert: CA certificate and key in one file.
    cat "$d/proxy-ca.pem" "$d/proxy-ca.key" >"$d/proxy-ca-bundle.pem"
    cat "$d/proxy-ca.pem" "$d/origin-ca.pem" >"$d/trust.pem"
    chgrp -R proxy "$d" && chmod 0750 "$d" && chmod 0640 "$d"/*
    E2E_PROXY_CA=$d/proxy-ca.pem
    E2E_PROXY_CA_BUNDLE=$d/proxy-ca-bundle.pem
    E2E_ORIGIN_CA=$d/origin-ca.pem
    E2E_TRUST=$d/trust.pem
    E2E_ORIGIN_CERT=$d/origin.pem
    E2E_ORIGIN_KEY=$d/origin.key
    E2E_ORIGIN_PIN=$(e2e_pin "$d/origin.pem")
    [ -n "$E2E_ORIGIN_PIN" ] || e2e_die "cannot compute the origin key's pin"
}

# e2e_ca BASE CN: self-signed CA BASE.pem + BASE.key.
e2e_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -keyout "$1.key" -out "$1.pem" -subj "/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>"$1.err" || e2e_die "CA $2: $(cat "$1.err")"
}

# e2e_leaf BASE CA NAME: a server certificate BASE.pem + BASE.key for NAME (its CN and only
# SAN), issued by the CA made by e2e_ca CA.
e2e_leaf() {
    local base=$1 ca=$2 name=$3
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$base.key" \
        -out "$base.csr" -subj "/CN=$name" 2>"$base.err" ||
        e2e_die "key for $name: $(cat "$base.err")"
    printf 'subjectAltName=DNS:%s\n' "$name" >"$base.ext"
    openssl x509 -req -in "$base.csr" -CA "$ca.pem" -CAkey "$ca.key" \
        -CAcreateserial -days 2 -extfile "$base.ext" -out "$base.pem" 2>"$base.err" ||
        e2e_die "certificate for $name: $(cat "$base.err")"
}

# e2e_pin CERT.pem: print sha256//BASE64 of the certificate's public key (curl --pinnedpubkey).
e2e_pin() {
    local b64
    b64=$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | base64) || return 1
    echo "sha256//$b64"
}
