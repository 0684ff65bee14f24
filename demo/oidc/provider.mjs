// A local OpenID Connect provider for the demo and the tests: the certified `oidc-provider`
// package, with a sign-in page of its own over a small file of accounts. It stands in for
// NHS.net (Microsoft Entra ID) where there is no network; nothing in Openbook knows it is
// not the real one.
//
// Settings come from the environment:
//   OIDC_PROVIDER_PORT     port on 127.0.0.1 (0: any free port)
//   OIDC_PROVIDER_CONFIG   JSON file: {"clients": [...], "accounts": {login: {...}}}
//     a client:  {"client_id", "client_secret", "redirect_uris": [...]}
//     an account: {"password", "email", "email_verified", "name", "amr": ["pwd", "mfa"]}
//   OIDC_PROVIDER_TEST_CONTROLS=1  adds POST /_test/tamper, which corrupts the signature of
//     the next ID token the token endpoint hands out, as an attacker in the middle would.
// The first line printed is "listening <issuer>", for whoever started it to read.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.env.OIDC_PROVIDER_CONFIG, 'utf8'));
const accounts = config.accounts;
const testControls = process.env.OIDC_PROVIDER_TEST_CONTROLS === '1';
let tamperNext = false;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:Arial,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin-top:1rem;font-weight:bold}input{font-size:1rem;padding:.4rem;width:100%}
button{margin-top:1.5rem;font-size:1rem;padding:.5rem 1.5rem}.error{color:#d5281b}</style>
</head><body>${body}</body></html>`;
}

function loginForm(uid, error, login = '') {
  return page('Sign in: local identity provider', `
<h1>Local identity provider</h1>
<p>This stands in for your NHS account's sign-in on a machine with no network.</p>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">E-mail address</label>
<input id="login" name="login" type="email" autocomplete="username" value="${escape(login)}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16384) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function findAccount(_ctx, sub) {
  const account = accounts[sub];
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        email: account.email,
        email_verified: account.email_verified !== false,
        name: account.name,
      };
    },
  };
}

const server = http.createServer();
server.listen(Number(process.env.OIDC_PROVIDER_PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: config.clients.map((c) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      ...c,
    })),
    findAccount,
    // amr in the ID token, as Entra ID sends it: the methods used at sign-in (RFC 8176).
    claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
    // Every client must prove it began the flow (RFC 7636), as Entra ID lets a site insist.
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // Local use over plain HTTP on 127.0.0.1 only.
    ttl: { Session: 3600, Interaction: 600, AuthorizationCode: 60, IdToken: 600, AccessToken: 600, Grant: 3600 },
  });
  provider.proxy = false;

  if (testControls) {
    // The token response is built by the provider; this rewrites it on the way out.
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/token' && tamperNext && ctx.body?.id_token) {
        tamperNext = false;
        const [header, payload, signature] = ctx.body.id_token.split('.');
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
        claims.email = 'someone.else@nhs.net';
        const forged = Buffer.from(JSON.stringify(claims)).toString('base64url');
        ctx.body = { ...ctx.body, id_token: `${header}.${forged}.${signature}` };
      }
    });
  }

  const handle = provider.callback();
  server.on('request', async (req, res) => {
    try {
      const url = new URL(req.url, issuer);
      if (testControls && req.method === 'POST' && url.pathname === '/_test/tamper') {
        tamperNext = true;
        res.writeHead(204).end();
        return;
      }
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      const match = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
      if (!match) {
        handle(req, res);
        return;
      }
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'consent') {
        // Openbook is the only client and a first party: consent is given for it.
        const grant = new provider.Grant({
          accountId: details.session.accountId,
          clientId: details.params.client_id,
        });
        grant.addOIDCScope(details.prompt.details.missingOIDCScope?.join(' ') || 'openid');
        for (const claim of details.prompt.details.missingOIDCClaims || []) grant.addOIDCClaims([claim]);
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return;
      }
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(loginForm(details.uid));
        return;
      }
      const form = await readForm(req);
      const login = (form.get('login') || '').trim().toLowerCase();
      const account = accounts[login];
      if (!account || account.password !== form.get('password')) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
          .end(loginForm(details.uid, 'The e-mail address or password is not right.', login));
        return;
      }
      await provider.interactionFinished(req, res, {
        login: { accountId: login, amr: account.amr || ['pwd'] },
      }, { mergeWithLastSubmission: false });
    } catch (error) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end(String(error.message || error));
    }
  });
  console.log(`listening ${issuer}`);
});
