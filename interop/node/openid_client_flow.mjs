// A real relying party against Tessera: openid-client v6 (panva) for discovery, the
// authorization code grant with PKCE S256, ID token validation (signature from the JWKS,
// iss, aud, exp, nonce, RFC 9207 iss), userinfo, refresh and RP-initiated logout; the
// browser's part (login and consent pages, cookies) by plain HTTP with a cookie jar.
//
// Inputs (environment): ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
// POST_LOGOUT_REDIRECT_URI, CLIENT2_ID, CLIENT2_SECRET, CLIENT2_REDIRECT_URI, PUBLIC_CLIENT_ID,
// PUBLIC_REDIRECT_URI, USER_EMAIL, USER_PASSWORD; optional USER_NAME (checked against the `name`
// claim).
// Prints one line per step passed; exits 1 with FAIL: … at the first check that fails.
// Run by crates/tessera-cli/tests/interop_oidc.rs.

import { createHash } from 'node:crypto';
import {
  CookieJar,
  authorize,
  check,
  decodeJwt,
  describe,
  fail,
  inputs,
  load,
  pageKind,
  pass,
  request,
} from './support.mjs';

const oidc = await load('openid-client');
const env = inputs([
  'ISSUER',
  'CLIENT_ID',
  'CLIENT_SECRET',
  'REDIRECT_URI',
  'POST_LOGOUT_REDIRECT_URI',
  'CLIENT2_ID',
  'CLIENT2_SECRET',
  'CLIENT2_REDIRECT_URI',
  'PUBLIC_CLIENT_ID',
  'PUBLIC_REDIRECT_URI',
  'USER_EMAIL',
  'USER_PASSWORD',
]);
const user = { email: env.USER_EMAIL, password: env.USER_PASSWORD };
const SCOPE = 'openid profile email';
// OpenID Connect Core §2 and §5.1, and SPEC §4: what an ID token may carry.
const ID_TOKEN_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'sid', 'at_hash', 'azp']);
const PROFILE_CLAIMS = new Set([
  'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile',
  'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
]);
const EMAIL_CLAIMS = new Set(['email', 'email_verified']);

/** Runs a step, turning a library error into a clear failure. */
async function step(name, body) {
  try {
    const result = await body();
    pass(name);
    return result;
  } catch (error) {
    const detail = error.error ? ` (${error.error}: ${error.error_description ?? ''}, HTTP ${error.status ?? '?'})` : '';
    const cause = error.cause ? `\n  cause: ${error.cause.message ?? JSON.stringify(error.cause)}` : '';
    fail(`${name}: ${error.code ? `${error.code} ` : ''}${error.message}${detail}${cause}`);
  }
}

// docs:begin configure
async function configure(clientId, secret, auth) {
  return oidc.discovery(new URL(env.ISSUER), clientId, secret, auth(secret), {
    execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
  });
}
// docs:end configure

// docs:begin authorization-request
/** A fresh authorization request for `config`: its URL and the values the callback needs. */
async function authorizationRequest(config, redirectUri, extra = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SCOPE,
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url, verifier, state, nonce };
}
// docs:end authorization-request

// docs:begin callback-iss
/** RFC 9207 §2.4: the callback names the issuer, and the state comes back unchanged. */
function checkCallback(callback, state) {
  check(callback.searchParams.get('iss') === env.ISSUER, `the callback carries iss=${env.ISSUER} (RFC 9207)`, callback.href);
  check(callback.searchParams.get('state') === state, 'the callback carries the request state', callback.href);
  check(callback.searchParams.get('code'), 'the callback carries a code', callback.href);
}
// docs:end callback-iss

// docs:begin id-token-checks
/** OpenID Connect Core §3.1.3.7 beyond what openid-client checks: the claims a server must add. */
function checkIdToken(tokens, clientId, nonce) {
  const { header, claims } = decodeJwt(tokens.id_token);
  check(header.alg === 'RS256', 'the ID token is RS256 (SPEC §3)', header);
  check(header.kid, 'the ID token header has a kid', header);
  check(header.typ === 'JWT', 'the ID token header has typ JWT (SPEC §4)', header);
  check(claims.iss === env.ISSUER, 'ID token iss is the issuer', claims);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  check(aud.includes(clientId), `ID token aud contains ${clientId}`, claims);
  if (aud.length > 1) check(claims.azp === clientId, 'with several audiences, azp is the client', claims);
  check(typeof claims.sub === 'string' && claims.sub.length > 0, 'ID token has a sub', claims);
  check(Number.isInteger(claims.auth_time), 'ID token has auth_time', claims);
  check(claims.auth_time <= claims.iat + 5, 'auth_time is not after iat', claims);
  check(claims.nonce === nonce, 'ID token nonce is the request nonce', claims);
  check(typeof claims.sid === 'string' && claims.sid.length > 0, 'ID token has a sid', claims);
  check(claims.at_hash, 'ID token has at_hash', claims);
  // OpenID Connect Core §3.1.3.6: left half of SHA-256 of the access token, base64url.
  const digest = createHash('sha256').update(tokens.access_token, 'ascii').digest();
  check(claims.at_hash === digest.subarray(0, 16).toString('base64url'), 'at_hash matches the access token', claims);
  const allowed = (name) => ID_TOKEN_CLAIMS.has(name) || PROFILE_CLAIMS.has(name) || EMAIL_CLAIMS.has(name);
  const extra = Object.keys(claims).filter((name) => !allowed(name));
  check(extra.length === 0, `the ID token carries only OIDC claims (SPEC §4 "and nothing else"), not ${extra.join(', ')}`, claims);
  return claims;
}
// docs:end id-token-checks

/** Follows redirects inside the server and says which page a browser would see. */
async function landing(jar, url, redirectUri) {
  let response = await request(jar, url);
  for (let hop = 0; hop < 8 && response.location && !response.location.startsWith(redirectUri); hop++) {
    response = await request(jar, response.location);
  }
  if (response.location) return { kind: 'callback', response };
  return { ...pageKind(response.body, response.url), response };
}

async function refusedWith(config, refreshToken, expected) {
  try {
    await oidc.refreshTokenGrant(config, refreshToken);
  } catch (error) {
    check(error.error === expected, `the refresh is refused with ${expected}`, `${error.error ?? error.message} (HTTP ${error.status ?? '?'})`);
    return;
  }
  fail(`the refresh token was accepted; expected ${expected}`);
}

// --- 1. Discovery (OpenID Connect Discovery 1.0, RFC 8414) --------------------------------
// docs:begin discovery
const config = await step('discovery with openid-client', () => configure(env.CLIENT_ID, env.CLIENT_SECRET, oidc.ClientSecretBasic));
const metadata = config.serverMetadata();
for (const [field, path] of [
  ['authorization_endpoint', '/oauth/authorize'],
  ['token_endpoint', '/oauth/token'],
  ['userinfo_endpoint', '/oauth/userinfo'],
  ['end_session_endpoint', '/oauth/logout'],
]) {
  check(metadata[field] === `${env.ISSUER}${path}`, `discovery ${field} is ${env.ISSUER}${path}`, metadata[field]);
}
check(metadata.jwks_uri, 'discovery has jwks_uri', metadata);
check(JSON.stringify(metadata.code_challenge_methods_supported) === '["S256"]', 'code_challenge_methods_supported is ["S256"]', metadata.code_challenge_methods_supported);
check(metadata.authorization_response_iss_parameter_supported === true, 'authorization_response_iss_parameter_supported is true', metadata);
check((metadata.response_types_supported ?? []).includes('code'), 'response_types_supported has code', metadata.response_types_supported);
check((metadata.id_token_signing_alg_values_supported ?? []).includes('RS256'), 'id_token_signing_alg_values_supported has RS256', metadata.id_token_signing_alg_values_supported);
pass('discovery metadata has the endpoints, S256 only and RFC 9207');
// docs:end discovery

// --- 2. Errors: no redirect to an unverified URI, RFC 6749 §4.1.2.1 errors to a verified one
// docs:begin redirect-uri-exact
await step('an unknown client or an unregistered redirect_uri gets an HTML error page, no redirect', async () => {
  const jar = new CookieJar();
  const good = await authorizationRequest(config, env.REDIRECT_URI);
  for (const [what, change] of [
    ['unknown client_id', (url) => url.searchParams.set('client_id', 'no-such-client')],
    ['unregistered redirect_uri', (url) => url.searchParams.set('redirect_uri', 'http://127.0.0.1:9/evil')],
    // SPEC §5: exact match. RFC 8252 §7.3's any-port loopback rule is for native (public)
    // clients; a confidential web client's registered port is part of its URI.
    ['redirect_uri on another port of the loopback', (url) => {
      const other = new URL(env.REDIRECT_URI);
      other.port = String(Number(other.port || 80) + 1);
      url.searchParams.set('redirect_uri', other.href);
    }],
  ]) {
    const url = new URL(good.url);
    change(url);
    const response = await request(jar, url);
    check(response.status === 400, `${what}: status 400`, describe(response));
    check(!response.location, `${what}: no Location header`, describe(response));
    check(/text\/html/.test(response.headers.get('content-type') ?? ''), `${what}: an HTML page`, response.headers.get('content-type'));
  }
});
// docs:end redirect-uri-exact
await step('code_challenge_method=plain, response_type=token and response_mode=fragment come back to the client as errors with state and iss (RFC 6749 §4.1.2.1)', async () => {
  const jar = new CookieJar();
  for (const [param, value, error] of [
    ['code_challenge_method', 'plain', 'invalid_request'],
    ['response_type', 'token', 'unsupported_response_type'],
    ['response_mode', 'fragment', null],
  ]) {
    const req = await authorizationRequest(config, env.REDIRECT_URI);
    const url = new URL(req.url);
    url.searchParams.set(param, value);
    const response = await request(jar, url);
    check(response.status === 303 || response.status === 302, `${param}=${value}: a redirect`, describe(response));
    const back = new URL(response.location);
    check(back.href.startsWith(env.REDIRECT_URI), `${param}=${value}: to the redirect_uri`, back.href);
    check(error ? back.searchParams.get('error') === error : back.searchParams.get('error'), `${param}=${value}: error=${error ?? '…'}`, back.href);
    check(back.searchParams.get('error_description'), `${param}=${value}: has error_description`, back.href);
    check(back.searchParams.get('state') === req.state, `${param}=${value}: has the state`, back.href);
    check(back.searchParams.get('iss') === env.ISSUER, `${param}=${value}: has iss (RFC 9207)`, back.href);
    check(!back.searchParams.get('code'), `${param}=${value}: no code`, back.href);
  }
});

// --- 3. Sign in: login page (one wrong password first), consent, callback -----------------
const jar = new CookieJar();
const first = await authorizationRequest(config, env.REDIRECT_URI);
const signIn = await step('authorize: login page, wrong password (401, role=alert), sign in, consent, callback', () =>
  authorize(jar, first.url, env.REDIRECT_URI, user, { wrongPasswordFirst: true }),
);
check(signIn.pages[0] === 'login', 'the first page is the login form', signIn.pages);
checkCallback(signIn.callback, first.state);
pass(`callback has code, state and iss (pages seen: ${signIn.pages.join(', ')})`);

// docs:begin forced-login
// OIDC Core §3.1.2.1: prompt=login and max_age=0 ask for the password again even right after
// a login, in the same second (auth_time has one-second granularity).
for (const extra of [{ prompt: 'login' }, { max_age: '0' }]) {
  const forced = await authorizationRequest(config, env.REDIRECT_URI, extra);
  const page = await landing(jar, forced.url, env.REDIRECT_URI);
  const what = Object.entries(extra).map(([k, v]) => `${k}=${v}`).join('');
  check(page.kind === 'login', `${what} right after a login shows the login form again`, describe(page.response));
  pass(`${what} right after a login: the login form`);
}
// docs:end forced-login

// --- 4. Code exchange: openid-client checks state, iss, PKCE, nonce and the signature -----
// docs:begin code-exchange
const tokens = await step('authorizationCodeGrant (client_secret_basic, PKCE S256, state, nonce, iss, RS256 signature)', () =>
  oidc.authorizationCodeGrant(config, signIn.callback, {
    pkceCodeVerifier: first.verifier,
    expectedState: first.state,
    expectedNonce: first.nonce,
    idTokenExpected: true,
  }),
);
// docs:end code-exchange
check(tokens.token_type.toLowerCase() === 'bearer', 'token_type is Bearer', tokens);
check(tokens.refresh_token, 'the token response has a refresh_token', Object.keys(tokens));
check(Number.isInteger(tokens.expires_in) && tokens.expires_in > 0, 'the token response has expires_in', tokens.expires_in);
check(typeof tokens.scope === 'string' && tokens.scope.split(' ').includes('openid'), 'the token response has the granted scope', tokens.scope);
const idClaims = checkIdToken(tokens, env.CLIENT_ID, first.nonce);
check(JSON.stringify(tokens.claims()) === JSON.stringify(idClaims), 'openid-client read the same ID token claims');
pass(`ID token: iss, aud, sub=${idClaims.sub}, auth_time, nonce, sid, at_hash`);

// docs:begin code-replay
await step('a code is single use: a second exchange is refused with invalid_grant', async () => {
  try {
    await oidc.authorizationCodeGrant(config, signIn.callback, {
      pkceCodeVerifier: first.verifier,
      expectedState: first.state,
      expectedNonce: first.nonce,
    });
  } catch (error) {
    check(error.error === 'invalid_grant', 'a replayed code: invalid_grant', `${error.error ?? error.message}`);
    return;
  }
  fail('a replayed authorization code was accepted');
});
// docs:end code-replay
// A replayed code revokes what it issued (SPEC §7), so the journey goes on with a new code.
const again = await authorizationRequest(config, env.REDIRECT_URI);
const resumed = await step('authorize again within the session: straight back to the client', () =>
  authorize(jar, again.url, env.REDIRECT_URI, user),
);
check(!resumed.pages.includes('login'), 'no login form within the session', resumed.pages);
checkCallback(resumed.callback, again.state);
const tokens1 = await step('authorizationCodeGrant for the new code', () =>
  oidc.authorizationCodeGrant(config, resumed.callback, {
    pkceCodeVerifier: again.verifier,
    expectedState: again.state,
    expectedNonce: again.nonce,
    idTokenExpected: true,
  }),
);
const claims1 = checkIdToken(tokens1, env.CLIENT_ID, again.nonce);
check(claims1.sub === idClaims.sub && claims1.sid === idClaims.sid && claims1.auth_time === idClaims.auth_time, 'same sub, sid and auth_time within the session', { first: idClaims, second: claims1 });
// docs:begin code-replay-revokes
await refusedWith(config, tokens.refresh_token, 'invalid_grant');
pass('the refresh token of the replayed code was revoked with it');
// docs:end code-replay-revokes

// --- 5. Userinfo ---------------------------------------------------------------------------
// docs:begin userinfo
const info = await step('userinfo with the access token (sub checked by openid-client)', () =>
  oidc.fetchUserInfo(config, tokens1.access_token, claims1.sub),
);
check(info.sub === claims1.sub, 'userinfo sub is the ID token sub', info);
check(info.email === user.email, `userinfo email is ${user.email} (scope email)`, info);
if (process.env.USER_NAME) check(info.name === process.env.USER_NAME, `userinfo name is ${process.env.USER_NAME} (scope profile)`, info);
pass(`userinfo: ${JSON.stringify(info)}`);
// docs:end userinfo

// --- 6. Refresh (OpenID Connect Core §12.2) ------------------------------------------------
// docs:begin refresh
const refreshed = await step('refreshTokenGrant: new tokens with a new ID token', () => oidc.refreshTokenGrant(config, tokens1.refresh_token));
check(refreshed.id_token, 'the refresh response has an id_token (openid was granted)', Object.keys(refreshed));
check(refreshed.refresh_token && refreshed.refresh_token !== tokens1.refresh_token, 'the refresh token was rotated', refreshed.refresh_token);
const refreshedClaims = decodeJwt(refreshed.id_token).claims;
for (const claim of ['iss', 'sub', 'auth_time', 'sid']) {
  check(JSON.stringify(refreshedClaims[claim]) === JSON.stringify(claims1[claim]), `the refreshed ID token has the same ${claim} (OIDC Core §12.2)`, { before: claims1, after: refreshedClaims });
}
check(JSON.stringify([refreshedClaims.aud].flat()) === JSON.stringify([claims1.aud].flat()), 'the refreshed ID token has the same aud', { before: claims1.aud, after: refreshedClaims.aud });
check(refreshedClaims.iat >= claims1.iat, 'the refreshed ID token is issued now', refreshedClaims);
pass('refreshed ID token: same iss, sub, aud, auth_time, sid');
// docs:end refresh

// --- 7. Single sign-on into a second client -------------------------------------------------
// docs:begin sso-second-client
const config2 = await step('discovery for the second client (client_secret_post)', () =>
  configure(env.CLIENT2_ID, env.CLIENT2_SECRET, oidc.ClientSecretPost),
);
const second = await authorizationRequest(config2, env.CLIENT2_REDIRECT_URI);
const sso = await step('SSO: authorize the second client with the same browser', () =>
  authorize(jar, second.url, env.CLIENT2_REDIRECT_URI, user),
);
check(!sso.pages.includes('login'), 'SSO: no login form for the second client', sso.pages);
checkCallback(sso.callback, second.state);
const tokens2 = await step('authorizationCodeGrant for the second client', () =>
  oidc.authorizationCodeGrant(config2, sso.callback, {
    pkceCodeVerifier: second.verifier,
    expectedState: second.state,
    expectedNonce: second.nonce,
    idTokenExpected: true,
  }),
);
const claims2 = checkIdToken(tokens2, env.CLIENT2_ID, second.nonce);
check(claims2.sub === claims1.sub, 'SSO: the same sub for the second client', { first: claims1.sub, second: claims2.sub });
check(claims2.sid === claims1.sid, 'SSO: the same session (sid)', { first: claims1.sid, second: claims2.sid });
check(claims2.auth_time === claims1.auth_time, 'SSO: the same auth_time (no new login)', { first: claims1.auth_time, second: claims2.auth_time });
pass(`SSO into ${env.CLIENT2_ID} without a login (pages seen: ${sso.pages.join(', ') || 'none'})`);
// docs:end sso-second-client

// --- 7b. A native app: a public client, no secret, PKCE, a loopback redirect on any port -----
// docs:begin public-client
// RFC 8252: the app cannot keep a secret, so it authenticates with `none` and PKCE binds the code
// to the app instance; it listens on whichever loopback port is free (§7.3).
const native = await step('discovery for the native app (public client, token_endpoint_auth_method none)', () =>
  configure(env.PUBLIC_CLIENT_ID, undefined, oidc.None),
);
const loopback = env.PUBLIC_REDIRECT_URI.replace('127.0.0.1', `127.0.0.1:${49152 + Math.floor(Math.random() * 16000)}`);
const withoutPkce = new URL(oidc.buildAuthorizationUrl(native, { redirect_uri: loopback, scope: SCOPE, state: 'np' }));
const refused = await request(jar, withoutPkce);
check(new URL(refused.location).searchParams.get('error') === 'invalid_request', 'a public client without PKCE is refused', describe(refused));
const app = await authorizationRequest(native, loopback);
const appSignIn = await step('the native app signs in through the same browser session', () =>
  authorize(jar, app.url, loopback, user),
);
checkCallback(appSignIn.callback, app.state);
const appTokens = await step('authorizationCodeGrant with the verifier and no secret', () =>
  oidc.authorizationCodeGrant(native, appSignIn.callback, {
    pkceCodeVerifier: app.verifier,
    expectedState: app.state,
    expectedNonce: app.nonce,
    idTokenExpected: true,
  }),
);
const appClaims = checkIdToken(appTokens, env.PUBLIC_CLIENT_ID, app.nonce);
check(appClaims.sub === claims1.sub, 'the native app gets the same sub', { app: appClaims.sub, web: claims1.sub });
const appRefreshed = await step('the native app refreshes with its refresh token alone', () =>
  oidc.refreshTokenGrant(native, appTokens.refresh_token),
);
check(appRefreshed.access_token && appRefreshed.refresh_token !== appTokens.refresh_token, 'rotated', appRefreshed);
pass(`native app ${env.PUBLIC_CLIENT_ID}: PKCE, loopback port ${new URL(loopback).port}, no secret`);
// docs:end public-client

// --- 8. RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) ------------------------
// docs:begin logout
const logoutState = oidc.randomState();
const endSession = oidc.buildEndSessionUrl(config, {
  id_token_hint: refreshed.id_token,
  post_logout_redirect_uri: env.POST_LOGOUT_REDIRECT_URI,
  state: logoutState,
});
const oldSessionCookie = jar.cookies.get('tessera_session');
const logout = await step('buildEndSessionUrl with id_token_hint: redirect to post_logout_redirect_uri', () => request(jar, endSession));
check(logout.status === 303 || logout.status === 302, 'logout with a matching id_token_hint redirects at once (303)', describe(logout));
const back = new URL(logout.location);
check(`${back.origin}${back.pathname}` === env.POST_LOGOUT_REDIRECT_URI, 'to the registered post_logout_redirect_uri', back.href);
check(back.searchParams.get('state') === logoutState, 'with the logout state', back.href);
pass(`logged out${logout.cookies.tessera_session?.expired ? ' (session cookie cleared)' : ''}`);
// docs:end logout

// docs:begin after-logout
const after = await authorizationRequest(config, env.REDIRECT_URI);
const page = await step('after logout, authorize shows a page', () => landing(jar, after.url, env.REDIRECT_URI));
check(page.kind === 'login', 'after logout, authorize shows the login form again', describe(page.response));
pass('after logout the login form is back');
// The session ended at the server, not only in this browser: its old cookie signs no one in.
const stale = new CookieJar();
stale.cookies.set('tessera_session', oldSessionCookie);
const replayed = await landing(stale, (await authorizationRequest(config, env.REDIRECT_URI)).url, env.REDIRECT_URI);
check(replayed.kind === 'login', 'the old session cookie, sent again after logout, gets the login form', describe(replayed.response));
pass('the ended session is ended at the server: its old cookie gets the login form');
await refusedWith(config, refreshed.refresh_token, 'invalid_grant');
pass('the refresh token of the ended session is refused (invalid_grant)');
if (tokens2.refresh_token) {
  await refusedWith(config2, tokens2.refresh_token, 'invalid_grant');
  pass("the second client's refresh token of the ended session is refused too");
}
// docs:end after-logout
const relogin = await step('sign in again after logout', () => authorize(jar, after.url, env.REDIRECT_URI, user));
const tokens3 = await step('authorizationCodeGrant after the new login', () =>
  oidc.authorizationCodeGrant(config, relogin.callback, {
    pkceCodeVerifier: after.verifier,
    expectedState: after.state,
    expectedNonce: after.nonce,
    idTokenExpected: true,
  }),
);
const claims3 = checkIdToken(tokens3, env.CLIENT_ID, after.nonce);
check(claims3.sub === claims1.sub && claims3.sid !== claims1.sid, 'a new session (new sid) for the same sub', { before: claims1, after: claims3 });
pass('openid-client journey complete');
