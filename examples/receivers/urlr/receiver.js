'use strict';
// URLR (seeds/003, "Webhooks" → "Sécurisation", "JavaScript (Node.js)"): the page's
// verifySignature, unchanged — HMAC of JSON.stringify(req.body) with every "/"
// escaped — on Node's built-in modules.
//
//   WEBHOOK_SECRET=secret RECEIVER_LOG=/tmp/log.jsonl node receiver.js PORT
//
// Deviations from the page:
//   1. The page shows the function only. Its req.body is a parsed object, which in
//      Express means express.json(); `express` is ../_lib/expresslike.js (Express
//      semantics on node:http: JSON.parse of the UTF-8 body).
//   2. The route around it is ours: 200 when verifySignature is true, else 401.
//   3. The secret comes from the environment, the port from argv/$PORT.
const express = require('../_lib/expresslike'); // deviation 1
const app = express();
app.use(express.json());

// ---- copied from the page ----------------------------------------------------
const crypto = require('crypto');

function verifySignature(req, secretKey) {
    const signature = req.headers['x-signature'];

    const computedSignature = crypto.createHmac('sha256', secretKey)
        .update(JSON.stringify(req.body).replace(/\//g, '\\/'))
        .digest('hex');

    return computedSignature === signature;
}
// ---- end of the page's code --------------------------------------------------

app.post('/webhook', (req, res) => { // deviation 2
  if (!verifySignature(req, process.env.WEBHOOK_SECRET)) { // deviation 3
    return res.status(401).send('Invalid signature');
  }
  res.status(200).send('OK');
});

app.listen(express.port(), () => console.log('URLR receiver listening on', express.port())); // deviation 3
