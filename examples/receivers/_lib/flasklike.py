"""A stand-in for the few parts of Flask (2.3+/Werkzeug) that the seed pages'
receivers use, on the standard library only (http.server), so that the pages'
handlers run unchanged without pip packages:

    app = Flask(__name__)
    @app.route(path, methods=['POST'])   def view(): return 'OK', 200
    request.get_data(as_text=True)   request.headers.get(name)   request.json
    app.run(host, port)

The semantics the pages depend on are Flask's:
  - request.get_data(as_text=True) is the raw body decoded as UTF-8 with
    errors='replace' (Werkzeug), request.get_data() the raw bytes;
  - request.headers.get(name) is case-insensitive and None when absent;
  - request.json parses the body with json.loads when the media type is
    application/json or application/*+json, else aborts with 415; invalid JSON
    aborts with 400;
  - a view returns a string (200) or a (body, status) tuple; an exception gives
    500; no route gives 404 (405 for another method).

For the Go test (cmd/hookline/seeds_test.go) it also writes one JSON line per
request, after the answer, to the file $RECEIVER_LOG (stdout when unset):
  {"ok": status == 200, "status", "path", "event", "headers", "body", "error"?}
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_LOG = os.environ.get("RECEIVER_LOG")
_log_lock = threading.Lock()
_local = threading.local()


class HTTPError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class _Request:
    """The request being handled by this thread, like flask.request."""

    @property
    def _r(self):
        return _local.request

    @property
    def headers(self):
        return self._r["headers"]  # email.message.Message: .get is case-insensitive

    @property
    def method(self):
        return self._r["method"]

    @property
    def mimetype(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def is_json(self):
        mt = self.mimetype
        return mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))

    def get_data(self, cache=True, as_text=False):
        data = self._r["data"]
        return data.decode("utf-8", errors="replace") if as_text else data

    def get_json(self):
        if not self.is_json:
            raise HTTPError(415, "Unsupported Media Type: did not attempt to load JSON data because "
                                 "the request Content-Type was not 'application/json'.")
        try:
            return json.loads(self._r["data"])
        except ValueError as e:
            raise HTTPError(400, "Bad Request: Failed to decode JSON object: %s" % e)

    @property
    def json(self):
        return self.get_json()


request = _Request()


def port():
    """The port to listen on: argv[1], else $PORT."""
    return int(sys.argv[1] if len(sys.argv) > 1 else os.environ["PORT"])


def _write_log(entry):
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    with _log_lock:
        if _LOG:
            with open(_LOG, "a", encoding="utf-8") as f:
                f.write(line)
        else:
            sys.stdout.write(line)
            sys.stdout.flush()


class Flask:
    def __init__(self, import_name):
        self.routes = {}  # path -> (methods, view)

    def route(self, path, methods=("GET",)):
        def register(view):
            self.routes[path] = ({m.upper() for m in methods}, view)
            return view
        return register

    def _dispatch(self, method, path):
        if path not in self.routes:
            return 404, "Not Found", None
        methods, view = self.routes[path]
        if method not in methods:
            return 405, "Method Not Allowed", None
        try:
            rv = view()
        except HTTPError as e:
            return e.code, str(e), str(e)
        except Exception as e:  # Flask's handle_exception: 500
            return 500, "Internal Server Error", "%s: %s" % (type(e).__name__, e)
        if isinstance(rv, tuple):
            body, status = rv[0], rv[1]
        else:
            body, status = rv, 200
        return int(status), str(body), None

    def run(self, host="127.0.0.1", port=5000):
        app = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                _local.request = {"headers": self.headers, "data": data, "method": self.command}
                status, body, error = app._dispatch(self.command, path)
                payload = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                event = None
                try:
                    parsed = json.loads(data)
                    if isinstance(parsed, dict):
                        event = parsed.get("event")
                except ValueError:
                    pass
                entry = {
                    "ok": status == 200, "status": status, "path": self.path, "event": event,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": data.decode("utf-8", errors="replace"),
                }
                if error:
                    entry["error"] = error
                _write_log(entry)

            do_POST = _handle
            do_GET = _handle

            def log_message(self, fmt, *args):  # keep stderr quiet
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        print("listening on %s:%d" % (host, port), flush=True)
        server.serve_forever()
