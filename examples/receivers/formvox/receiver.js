'use strict';
// FormVox (seeds/001, "External API & Webhooks" → "Signature Verification",
// "Node.js Example"): the page's verifier and Express route, unchanged, on Node's
// built-in modules.
//
//   WEBHOOK_SECRET=whsec_... RECEIVER_LOG=/tmp/log.jsonl node receiver.js PORT
//
// Deviations from the page:
//   1. `express` is ../_lib/expresslike.js (Express semantics on node:http): its
//      express.raw({type: 'application/json'}) gives req.body as the raw bytes.
//   2. The page's snippet uses `app` without creating it; we create it.
//   3. secret comes from the environment instead of 'whsec_your_secret_here', the
//      port from argv/$PORT.
const express = require('../_lib/expresslike'); // deviation 1
const app = express(); // deviation 2

// ---- copied from the page ----------------------------------------------------
const crypto = require('crypto');

function verifyWebhook(payload, signature, secret, timestamp) {
  // Check timestamp is recent
  if (Math.abs(Date.now() / 1000 - timestamp) > 300) {
    return false;
  }

  const signedPayload = `${timestamp}.${payload}`;
  const expectedSignature = 'v1=' + crypto
    .createHmac('sha256', secret)
    .update(signedPayload)
    .digest('hex');

  return crypto.timingSafeEqual(
    Buffer.from(expectedSignature),
    Buffer.from(signature)
  );
}

// Express.js example
app.post('/webhook', express.raw({type: 'application/json'}), (req, res) => {
  const payload = req.body.toString();
  const signature = req.headers['x-formvox-signature'];
  const timestamp = parseInt(req.headers['x-formvox-timestamp']);
  const secret = process.env.WEBHOOK_SECRET; // deviation 3: the page has 'whsec_your_secret_here'

  if (!verifyWebhook(payload, signature, secret, timestamp)) {
    return res.status(401).send('Invalid signature');
  }

  const data = JSON.parse(payload);
  console.log('Webhook received:', data.event);
  res.status(200).send('OK');
});
// ---- end of the page's code --------------------------------------------------

app.listen(express.port(), () => console.log('FormVox receiver listening on', express.port())); // deviation 3
