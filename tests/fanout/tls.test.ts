// HTTPS receivers: the connection goes to the checked address while the certificate is verified
// against the URL's name; an untrusted certificate is a failed attempt (retried), never ignored.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { postWebhook } from '../../src/fanout/http-post.ts';

// A self-signed certificate for localhost / 127.0.0.1 (valid until 2125), trusted by nobody.
const CERT = `-----BEGIN CERTIFICATE-----
MIIDJzCCAg+gAwIBAgIUAzs3aPBkiK/R/VUh2PQit+yAKR8wDQYJKoZIhvcNAQEL
BQAwFDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMzE3MDc1NloYDzIxMjYx
MDMwMTcwNzU2WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwggEiMA0GCSqGSIb3DQEB
AQUAA4IBDwAwggEKAoIBAQC8zwf0j7eCwcHVvWbhIu7G47ILxK7xskhA6BQJ8uBH
JHYIj1CjB1NVV18BMeFbFh1eTDx0KusFMmeYfi8o2sbeISruTrhqjPZ+qfW4mcXn
i/jE+SBT4TVVt9XiDfUGdZUSvC2jC8moEpCSYjV9JXP09z72IBHZ4IQpI6UPIjIT
BsAokvPPpLWdCPwPYXpdAke34cFMA/R8vgM/NWXHEJe8uEBENzFzBeFxEIqH5Xqh
/2WVVUcvmk8dQfeinlr056Dn3dfv8KL0SVcT5zzz6tVgcAH1rz+hmPNOgvDpRrub
Lr2Dx9U8BZxD6B9BMp7jA1FSZc9D9oU607cwTG3lDEPjAgMBAAGjbzBtMB0GA1Ud
DgQWBBScLaQZ0IZSC2SOyMBCq9IgP3+d8zAfBgNVHSMEGDAWgBScLaQZ0IZSC2SO
yMBCq9IgP3+d8zAPBgNVHRMBAf8EBTADAQH/MBoGA1UdEQQTMBGCCWxvY2FsaG9z
dIcEfwAAATANBgkqhkiG9w0BAQsFAAOCAQEAjQr3DM/OM/UtiYMgNOio4R3sdAo+
Q9eaN9IcFHX3fS3Vfapjy84MyNkV/zTbGP2VxV8+GfyeY+OiplkTuxr48mM/DqAE
T4KWAqUnQtIr+iW+WrTNO9PSX62SzaJqoBdIz/UZWrjeir/g8oBkT2YXmEU44QMV
rMkLQag1iMe2Q2pqJvvbguunhBw15qiokY8DWjfjVyKTTA4ITkVBbQBsfNIaXvlH
KB4FKDr2sQ52ggScCbNAwWGq1O/6hhPNEFf8vI5DO9uoRjCBbcLdC6o7KR3UnoCd
GbHzWbh80oKPKxZ75wJ4Dft0AWqXu6ABEONvhZ9VrwjPeersAadcs2fVgg==
-----END CERTIFICATE-----`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC8zwf0j7eCwcHV
vWbhIu7G47ILxK7xskhA6BQJ8uBHJHYIj1CjB1NVV18BMeFbFh1eTDx0KusFMmeY
fi8o2sbeISruTrhqjPZ+qfW4mcXni/jE+SBT4TVVt9XiDfUGdZUSvC2jC8moEpCS
YjV9JXP09z72IBHZ4IQpI6UPIjITBsAokvPPpLWdCPwPYXpdAke34cFMA/R8vgM/
NWXHEJe8uEBENzFzBeFxEIqH5Xqh/2WVVUcvmk8dQfeinlr056Dn3dfv8KL0SVcT
5zzz6tVgcAH1rz+hmPNOgvDpRrubLr2Dx9U8BZxD6B9BMp7jA1FSZc9D9oU607cw
TG3lDEPjAgMBAAECggEAQXuGNU4w5bMgcGpnh3avnKA0zHsS97WO9J/o70hie5oM
K8zUuS4du0/5nbb4gzhIyD8lil6mMx+3qT4+SeuSpFCZjJwVvrKT/PsiQztl1XgI
t/v1N9I4Rrni/qs7i1l1cdF8/HrmnhmONY7FIVm/fTrRBdi6iDejboczxGtmNY19
orxiYVGyFcM2vpVpE23I5t/aLBhNaABQRIlWTi8/CveqpVpabC+73QuqwkTC+Zcb
t95w6nQDCmkMFMrGsXG+3FDQN4YxGyYf3JLuR339ULK/4wigQ50mSjg3vrWSAQO7
TJ9FDG7btBVZYCOSFVTdHACqiDG1AncN/ynX7WL98QKBgQDmxXgxai/LqGwHYP8o
Lsax1RuaK+RqZ+1fgpkLdomXQiCIoc3z7bq7eDQbb1XjtfrTdBCNKQHzAb18NOAe
7eKE8OckBzeO6r0hqXbqQ1XsR729gdd8bt8NGI4rG0PBOWdZegsG1R5RmHgl/nN/
BBIkZDrmkkjy6c+JkKP5NMBgcwKBgQDRcypKImtJAlsp2wi5DsV8EzrTHEnZMyHa
cq4PUgCQvL4vOT/begpHdBxQTczleJbQ6NtAh0krogMsROweo9nRHc61NjZ0ksiS
cH6yNKRJW7t9oYwpnscZt6u7snWDgEmTNt3+/8O6QHkbvJERaRCyBRWiCbBw+IGR
h1rAh8ji0QKBgQCaqrbHx7eI87STrXrV36PkBESfq9NHTahWXx1cBXJqIjPT3z49
wpNomkOyL4iNOaaGmj+NnHJmAECTQo0DrcQn/Z2tE/k0nDdunDnLAJ5R4jNVE/Ts
vRJZoJ+IXJmoo2SVH6rMRYIwhdPhAw09j+jo4xRm/JxP0kz6kiqUF7rn6QKBgQCz
R9G+DUIqB0NDS4Jm7RbrgoZKqB8qNJNYqesFoBptybE9ONLJKehciy2lK0MkdJkb
jwYFcQeXuqDepsw52eSbE9mY0SPBmtbmSjaYkWjChiuxeLNB+O/Rup7cFgBypD/W
LBPPrtu5tHA15q2B6p3o02NWBNcri/tUNzjeLhws0QKBgCnWNUZc6H6lQCXV1VXv
vw2go/iC2HlxdtCToqVIjyaTvDnXLtgDcKCpMxYc3yD/6XgpXWkxkoUi8j1jFeGt
Drelncte0AvFPFsCwJ7SQ5HuGqrNwRGVQjpHVU7UmSW7ysQdB32hnrRb38k8gLbs
oNFLlhLCxWJlCPL48l9yb0AX
-----END PRIVATE KEY-----`;

let server: ReturnType<typeof Bun.serve>;
let hits = 0;
beforeAll(() => {
  server = Bun.serve({ port: 0, hostname: '127.0.0.1', tls: { cert: CERT, key: KEY }, fetch: () => (hits++, new Response(null, { status: 204 })) });
});
afterAll(() => server?.stop(true));

test('a receiver whose certificate is not trusted is never sent the body', async () => {
  for (const host of ['127.0.0.1', 'localhost']) {
    const out = await postWebhook({ url: `https://${host}:${server.port}/hook`, headers: {}, body: '{}', timeoutMs: 3000, allowPrivate: true });
    expect(out.kind).toBe('network');
    expect(out.kind === 'network' && out.error).toMatch(/certificate|self.signed|SELF_SIGNED/i);
  }
  expect(hits).toBe(0);
});

test('https to a private address is refused before any connection when not allowed', async () => {
  const out = await postWebhook({ url: `https://localhost:${server.port}/hook`, headers: {}, body: '{}', timeoutMs: 3000, allowPrivate: false });
  expect(out.kind).toBe('refused');
  expect(out.kind === 'refused' && out.error).toMatch(/^localhost resolves to (127\.0\.0\.1|::1), not a global unicast address \(loopback/);
  expect(hits).toBe(0);
});
