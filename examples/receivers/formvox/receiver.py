# FormVox (seeds/001, "External API & Webhooks" -> "Signature Verification",
# "Python Example"): the page's verifier and Flask view, unchanged, on the
# standard library only.
#
#   WEBHOOK_SECRET=whsec_... RECEIVER_LOG=/tmp/log.jsonl python3 receiver.py PORT
#
# Deviations from the page:
#   1. Flask and request come from ../_lib/flasklike.py (Flask's semantics on
#      http.server), not from the flask package.
#   2. secret comes from the environment instead of 'whsec_your_secret_here'.
#   3. The port comes from argv/$PORT, and app.run is called.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "_lib"))

# ---- copied from the page ------------------------------------------------------
import hmac
import hashlib
import time

def verify_webhook(payload: str, signature: str, secret: str, timestamp: int) -> bool:
    # Check timestamp is recent
    if abs(time.time() - timestamp) > 300:
        return False

    signed_payload = f"{timestamp}.{payload}"
    expected_signature = 'v1=' + hmac.new(
        secret.encode(),
        signed_payload.encode(),
        hashlib.sha256
    ).hexdigest()

    return hmac.compare_digest(expected_signature, signature)

# Flask example
from flasklike import Flask, request  # deviation 1: the page has "from flask import Flask, request"

app = Flask(__name__)

@app.route('/webhook', methods=['POST'])
def webhook():
    payload = request.get_data(as_text=True)
    signature = request.headers.get('X-FormVox-Signature')
    timestamp = int(request.headers.get('X-FormVox-Timestamp'))
    secret = os.environ['WEBHOOK_SECRET']  # deviation 2: the page has 'whsec_your_secret_here'

    if not verify_webhook(payload, signature, secret, timestamp):
        return 'Invalid signature', 401

    data = request.json
    print(f"Webhook received: {data['event']}")
    return 'OK', 200
# ---- end of the page's code ----------------------------------------------------

if __name__ == '__main__':
    import flasklike
    app.run(host='127.0.0.1', port=flasklike.port())  # deviation 3
