'use strict';
// A stand-in for the few parts of Express 4 (and body-parser 1.x) that the seed
// pages' receivers use, on Node's built-in http module only, so that the pages'
// handlers run unchanged without npm packages:
//
//   const app = express();  app.use(mw);  app.post(path, ...handlers);  app.listen(port, cb)
//   express.json([{limit, verify}])  express.raw({type, limit})
//   req.headers (lower-case names, as Node gives them)  req.body  req.rawHeaders
//   res.status(code).send(text)
//
// The semantics the pages depend on are Express's:
//   - express.json(): when the request's media type is application/json, the body
//     (at most `limit` bytes, 100kb by default, else 413) is decoded as UTF-8 (a
//     leading BOM stripped, as iconv-lite does), must start with { or [ (strict
//     mode, else 400), and req.body = JSON.parse(text) ({} for an empty body);
//     `verify(req, res, buf)` sees the raw bytes first. Another media type leaves
//     req.body = {}.
//   - express.raw({type}): when the media type matches, req.body is the raw bytes
//     (a Buffer); otherwise req.body = {}.
//   - A handler that throws gets Express's default error handler: 500, or the
//     connection closed if the answer was already sent.
//   - No route: 404.
//
// For the Go test (cmd/hookline/seeds_test.go) it also writes one JSON line per
// request, after the answer, to the file $RECEIVER_LOG (stdout when unset):
//   {"ok": status == 200, "status", "path", "event", "headers", "raw_headers",
//    "body": the raw body as text, "error"?, ...whatever the receiver put in req.log}
const http = require('http');
const fs = require('fs');

const LOG = process.env.RECEIVER_LOG;

function writeLog(entry) {
  const line = JSON.stringify(entry) + '\n';
  if (LOG) fs.appendFileSync(LOG, line);
  else process.stdout.write(line);
}

// mediaType returns the lower-cased type/subtype of a Content-Type header.
function mediaType(ct) {
  return String(ct || '').split(';')[0].trim().toLowerCase();
}

// typeMatches is type-is for the exact types the pages use ('application/json').
function typeMatches(req, type) {
  const hasBody = req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
  return hasBody && mediaType(req.headers['content-type']) === type;
}

function parseLimit(limit) {
  if (limit === undefined) return 100 * 1024; // body-parser's '100kb'
  if (typeof limit === 'number') return limit;
  const m = /^(\d+)(b|kb|mb)$/i.exec(String(limit).trim());
  if (!m) throw new Error('limit: ' + limit);
  return Number(m[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[m[2].toLowerCase()];
}

function httpError(status, message) {
  const err = new Error(message);
  err.status = status;
  return err;
}

function express() {
  const stack = []; // {path|null, fn}

  const app = {
    use(fn) { stack.push({ path: null, fn }); },
    post(path, ...fns) { for (const fn of fns) stack.push({ path, fn }); },
    listen(port, cb) {
      const server = http.createServer(handle);
      server.listen(port, '127.0.0.1', cb);
      return server;
    },
  };

  function handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      req.rawBodyBuffer = Buffer.concat(chunks); // the shim's own copy, for the log
      req.log = {};
      decorate(res);
      res.on('finish', () => logRequest(req, res));
      const path = req.url.split('?')[0];
      const layers = stack.filter((l) => l.path === null || (req.method === 'POST' && l.path === path));
      const routed = layers.some((l) => l.path !== null);
      let i = 0;
      const next = (err) => {
        if (err) return fail(err);
        const layer = layers[i++];
        if (!layer) {
          if (!res.headersSent) res.status(404).send(`Cannot ${req.method} ${path}`);
          return undefined;
        }
        try {
          const r = layer.fn(req, res, next);
          if (r && typeof r.catch === 'function') r.catch(fail);
        } catch (e) {
          fail(e);
        }
        return undefined;
      };
      const fail = (err) => {
        req.log.error = String(err && err.stack || err).split('\n')[0];
        if (res.headersSent) {
          req.socket.destroy();
          return;
        }
        res.status(err.status || 500).send(err.status ? err.message : 'Internal Server Error');
      };
      if (!routed) {
        res.status(404).send(`Cannot ${req.method} ${path}`);
        return;
      }
      next();
    });
  }

  return app;
}

function decorate(res) {
  res.status = (code) => { res.statusCode = code; return res; };
  res.send = (body) => {
    const b = Buffer.from(String(body));
    if (!res.getHeader('Content-Type')) res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Length', b.length);
    res.end(b);
    return res;
  };
}

function bodyReader(kind, opts) {
  opts = opts || {};
  const limit = parseLimit(opts.limit);
  const type = opts.type || 'application/json';
  return function (req, res, next) {
    if (req._bodyParsed) return next();
    req.body = req.body || {};
    if (!typeMatches(req, type)) return next();
    const buf = req.rawBodyBuffer;
    if (buf.length > limit) return next(httpError(413, 'request entity too large'));
    req._bodyParsed = true;
    if (opts.verify) {
      try {
        opts.verify(req, res, buf, 'utf-8');
      } catch (e) {
        return next(httpError(403, e.message));
      }
    }
    if (kind === 'raw') {
      req.body = buf;
      return next();
    }
    let text = buf.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.length === 0) {
      req.body = {};
      return next();
    }
    const first = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d])/.exec(text);
    if (!first || (first[1] !== '{' && first[1] !== '[')) return next(httpError(400, 'strict mode: not an object or array'));
    try {
      req.body = JSON.parse(text);
    } catch (e) {
      return next(httpError(400, e.message));
    }
    return next();
  };
}

express.json = (opts) => bodyReader('json', opts);
express.raw = (opts) => bodyReader('raw', opts);

function logRequest(req, res) {
  const text = req.rawBodyBuffer.toString('utf8');
  let event = null;
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object') event = parsed.event === undefined ? null : parsed.event;
  } catch (e) { /* not JSON: event stays null */ }
  writeLog(Object.assign({
    ok: res.statusCode === 200,
    status: res.statusCode,
    path: req.url,
    event,
    headers: req.headers,
    raw_headers: req.rawHeaders,
    body: text,
  }, req.log));
}

// port returns the port to listen on: argv[2], else $PORT.
express.port = () => Number(process.argv[2] || process.env.PORT);

module.exports = express;
