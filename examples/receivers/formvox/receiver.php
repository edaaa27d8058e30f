<?php
// FormVox (seeds/001, "External API & Webhooks" → "Signature Verification",
// "PHP Example"): the page's verifier and usage, unchanged, as the router script
// of PHP's built-in server (no extension beyond php-cli):
//
//   WEBHOOK_SECRET=whsec_... RECEIVER_LOG=/tmp/log.jsonl \
//     php -d display_errors=0 -S 127.0.0.1:PORT receiver.php
//
// Deviations from the page:
//   1. $secret comes from the environment instead of the literal 'whsec_your_secret_here'.
//   2. Where the page writes "// Process webhook...", we answer 200 "OK".
//   3. A shutdown function writes one JSON line per request for the Go test (see
//      ../_lib/expresslike.js for the fields). With display_errors=0 a fatal error
//      (say a missing header, a TypeError) is a 500, as under PHP-FPM.

register_shutdown_function(function () {
    $status = http_response_code();
    $err = error_get_last();
    $fatal = $err !== null && in_array($err['type'], [E_ERROR, E_PARSE, E_CORE_ERROR, E_COMPILE_ERROR, E_USER_ERROR], true);
    $body = file_get_contents('php://input');
    $parsed = json_decode($body, true);
    $entry = [
        'ok' => $status === 200 && !$fatal,
        'status' => $fatal ? 500 : $status,
        'path' => $_SERVER['REQUEST_URI'] ?? '',
        'event' => is_array($parsed) ? ($parsed['event'] ?? null) : null,
        'headers' => array_change_key_case(getallheaders(), CASE_LOWER),
        'body' => $body,
    ];
    if ($fatal) {
        $entry['error'] = $err['message'];
    }
    $line = json_encode($entry, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE) . "\n";
    $log = getenv('RECEIVER_LOG');
    file_put_contents($log !== false && $log !== '' ? $log : 'php://stderr', $line, FILE_APPEND | LOCK_EX);
});

// ---- copied from the page ----------------------------------------------------
function verifyWebhook(string $payload, string $signature, string $secret, int $timestamp): bool
{
    // Check timestamp is recent (prevent replay attacks)
    if (abs(time() - $timestamp) > 300) {
        return false; // Reject if older than 5 minutes
    }

    $signedPayload = $timestamp . '.' . $payload;
    $expectedSignature = 'v1=' . hash_hmac('sha256', $signedPayload, $secret);

    return hash_equals($expectedSignature, $signature);
}

// Usage
$payload = file_get_contents('php://input');
$signature = $_SERVER['HTTP_X_FORMVOX_SIGNATURE'];
$timestamp = (int) $_SERVER['HTTP_X_FORMVOX_TIMESTAMP'];
$secret = getenv('WEBHOOK_SECRET'); // deviation 1: the page has 'whsec_your_secret_here'

if (!verifyWebhook($payload, $signature, $secret, $timestamp)) {
    http_response_code(401);
    exit('Invalid signature');
}

$data = json_decode($payload, true);
// Process webhook...
// ---- end of the page's code --------------------------------------------------

echo 'OK'; // deviation 2
