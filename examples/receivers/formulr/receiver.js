'use strict';
// Formulr (seeds/000, "API & Webhooks" → "Vérification de signature"): the page's
// Node.js verifier and endpoint, unchanged, on Node's built-in modules.
//
//   WEBHOOK_SECRET=votre_secret RECEIVER_LOG=/tmp/log.jsonl node receiver.js PORT
//
// Deviations from the page, each forced by running it without npm packages:
//   1. `app` is ../_lib/expresslike.js (Express semantics on node:http), not Express.
//   2. The page reads req.rawBody without showing where it comes from; Express does
//      not set it. We use the usual idiom, express.json({verify}) keeping the raw
//      bytes, with limit '1mb' since the page promises payloads up to 1 Mo (the
//      default 100kb would answer 413 to larger ones).
//   3. WEBHOOK_SECRET comes from the environment and the port from argv/$PORT.
const express = require('../_lib/expresslike'); // deviation 1
const app = express();
app.use(express.json({ limit: '1mb', verify: (req, res, buf) => { req.rawBody = buf; } })); // deviation 2
const WEBHOOK_SECRET = process.env.WEBHOOK_SECRET; // deviation 3

// ---- copied from the page ----------------------------------------------------
const crypto = require('crypto');

function verifyWebhook(payload, signature, secret) {
  const computed = crypto
    .createHmac('sha256', secret)
    .update(payload)
    .digest('hex');

  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(computed)
  );
}

// Dans votre endpoint
app.post('/webhook', (req, res) => {
  const signature = req.headers['x-formulr-signature'];

  if (!verifyWebhook(req.rawBody, signature, WEBHOOK_SECRET)) {
    return res.status(401).send('Invalid signature');
  }

  // Traiter l'événement
  const event = req.body;
  console.log('Événement reçu:', event.event);

  res.status(200).send('OK');
});
// ---- end of the page's code --------------------------------------------------

app.listen(express.port(), () => console.log('Formulr receiver listening on', express.port())); // deviation 3
