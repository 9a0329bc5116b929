#!/usr/bin/env python3
"""A local webhook receiver for trying idpc-hub's webhooks (README, "First hour").

Listens on 127.0.0.1:9000 (or the port given as the first argument), checks each delivery's
Standard Webhooks signature with the subscription's secret from WEBHOOK_SECRET, prints it, and
answers 204 when the signature is valid (400 otherwise, which idpc-hub retries).
Standard library only.
"""
import base64
import hashlib
import hmac
import http.server
import os
import sys

SECRET = os.environ.get("WEBHOOK_SECRET", "")
if not SECRET.startswith("whsec_"):
    sys.exit("set WEBHOOK_SECRET to the subscription's signing secret (whsec_...)")
KEY = base64.b64decode(SECRET.removeprefix("whsec_"))
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 9000


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        signed = f'{self.headers["webhook-id"]}.{self.headers["webhook-timestamp"]}.'.encode() + body
        expected = "v1," + base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
        # During a secret rotation the header carries two signatures, separated by a space.
        valid = any(
            hmac.compare_digest(s, expected) for s in self.headers.get("webhook-signature", "").split()
        )
        print("signature", "valid" if valid else "INVALID", body.decode(), flush=True)
        self.send_response(204 if valid else 400)
        self.end_headers()

    def log_message(self, *args):
        pass


print(f"listening on http://127.0.0.1:{PORT}/", flush=True)
http.server.HTTPServer(("127.0.0.1", PORT), Receiver).serve_forever()
