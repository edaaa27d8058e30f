# Products Manager (seeds/002, "Webhooks" -> "Vérification (Python)"): the page's
# verifier and Flask route, unchanged, on the standard library only. It signs
# request.get_data(as_text=True), the raw body, where the page's Node receiver
# signs JSON.stringify(req.body): the profile's `json: ecmascript` makes the two
# the same bytes.
#
#   WEBHOOK_SECRET=votre_secret RECEIVER_LOG=/tmp/log.jsonl python3 receiver.py PORT
#
# Deviations from the page:
#   1. Flask and request come from ../_lib/flasklike.py (Flask's semantics on
#      http.server); the page's snippet uses `app` and `request` without showing
#      their imports.
#   2. YOUR_SECRET comes from the environment.
#   3. The port comes from argv/$PORT, and app.run is called.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "_lib"))
from flasklike import Flask, request  # deviation 1

app = Flask(__name__)  # deviation 1
YOUR_SECRET = os.environ['WEBHOOK_SECRET']  # deviation 2

# ---- copied from the page ------------------------------------------------------
import hmac
import hashlib

def verify_webhook(payload: str, signature: str, secret: str) -> bool:
    expected = 'sha256=' + hmac.new(
        secret.encode(),
        payload.encode(),
        hashlib.sha256
    ).hexdigest()

    return hmac.compare_digest(signature, expected)

# Dans votre route Flask
@app.route('/webhooks/productsmanager', methods=['POST'])
def webhook():
    signature = request.headers.get('X-Webhook-Signature')
    payload = request.get_data(as_text=True)

    if not verify_webhook(payload, signature, YOUR_SECRET):
        return 'Invalid signature', 401

    data = request.json
    print(f"Event: {data['event']}")

    return 'OK', 200
# ---- end of the page's code ----------------------------------------------------

if __name__ == '__main__':
    import flasklike
    app.run(host='127.0.0.1', port=flasklike.port())  # deviation 3
