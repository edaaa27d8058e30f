'use strict';
// Products Manager (seeds/002, "Webhooks" → "Exemple Complet (Express.js)"): the
// page's complete receiver — signature over JSON.stringify(req.body) after
// express.json(), deduplication on webhook_id — unchanged, on Node's built-in
// modules; plus the verifyWebhook function of "Vérification (Node.js)".
//
//   WEBHOOK_SECRET=votre_secret RECEIVER_LOG=/tmp/log.jsonl node receiver.js PORT
//
// Deviations from the page:
//   1. require('express') is ../_lib/expresslike.js (Express semantics on
//      node:http; express.json() = JSON.parse of the UTF-8 body, 100kb limit).
//   2. One added line (marked) registers `audit`, which records for the Go test the
//      body's webhook_id, whether processedWebhooks already held it, and what the
//      "Vérification (Node.js)" section's verifyWebhook says of the same request.
//   3. The port comes from argv/$PORT instead of 3000.
//   The "Vérification (Node.js)" section's function is copied below the complete
//   example (its route and its second `const crypto` are left out: they would
//   redeclare the complete example's).

// ---- copied from the page: "Exemple Complet (Express.js)" -------------------
const express = require('../_lib/expresslike'); // deviation 1: the page has require('express')
const crypto = require('crypto');

const app = express();
app.use(express.json());
app.use(audit); // deviation 2 (added line)

const WEBHOOK_SECRET = process.env.WEBHOOK_SECRET;
const processedWebhooks = new Set();

function verifySignature(payload, signature) {
  const hmac = crypto.createHmac('sha256', WEBHOOK_SECRET);
  const digest = 'sha256=' + hmac.update(payload).digest('hex');
  return crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(digest));
}

app.post('/webhooks/productsmanager', (req, res) => {
  const signature = req.headers['x-webhook-signature'];
  const payload = JSON.stringify(req.body);

  // 1. Vérifier la signature
  if (!verifySignature(payload, signature)) {
    console.error('[WEBHOOK] Invalid signature');
    return res.status(401).send('Invalid signature');
  }

  const { event, webhook_id, data } = req.body;

  // 2. Vérifier l'idempotence
  if (processedWebhooks.has(webhook_id)) {
    console.log('[WEBHOOK] Already processed:', webhook_id);
    return res.status(200).send('OK');
  }

  // 3. Répondre immédiatement
  res.status(200).send('OK');

  // 4. Traiter l'événement
  console.log('[WEBHOOK]', event, data);

  switch(event) {
    case 'import.completed':
      console.log(`Import ${data.job_id} completed: ${data.stats.created} created, ${data.stats.updated} updated`);
      break;

    case 'import.failed':
      console.error(`Import ${data.job_id} failed: ${data.error.message}`);
      // Envoyer une alerte par email
      break;

    case 'product.updated':
      console.log(`Product ${data.sku} updated:`, data.changes);
      break;

    case 'stock.low_alert':
      console.warn(`Low stock alert for ${data.sku}: ${data.current_stock} units`);
      // Envoyer notification Slack
      break;
  }

  processedWebhooks.add(webhook_id);
});

app.listen(express.port(), () => { // deviation 3: the page has 3000
  console.log('Webhook server listening on port ' + express.port());
});
// ---- end of the page's code -------------------------------------------------

// ---- copied from the page: "Vérification (Node.js)" (the function only) -----
function verifyWebhook(payload, signature, secret) {
  const hmac = crypto.createHmac('sha256', secret);
  const digest = 'sha256=' + hmac.update(payload).digest('hex');

  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(digest)
  );
}
// ---- end of the page's code -------------------------------------------------

function audit(req, res, next) {
  const body = req.body || {};
  req.log.id = body.webhook_id === undefined ? null : body.webhook_id;
  req.log.duplicate = processedWebhooks.has(body.webhook_id);
  try {
    req.log.verify_webhook = verifyWebhook(JSON.stringify(req.body), req.headers['x-webhook-signature'], WEBHOOK_SECRET);
  } catch (e) {
    req.log.verify_webhook = false;
    req.log.verify_webhook_error = String(e.message);
  }
  next();
}
