<?php
// URLR (seeds/003, "Webhooks" → "Sécurisation", "PHP"): the page's verifySignature,
// unchanged, as the router script of PHP's built-in server:
//
//   WEBHOOK_SECRET=secret RECEIVER_LOG=/tmp/log.jsonl \
//     php -d display_errors=0 -S 127.0.0.1:PORT receiver.php
//
// The page's function cannot work as printed: it reads $_SERVER['x-signature'],
// which PHP never sets — request headers are in $_SERVER as HTTP_X_SIGNATURE. As
// printed, $signature is null, and hash_equals() throws a TypeError (PHP 8): every
// request is answered 500. Deviations:
//   1. One added line copies HTTP_X_SIGNATURE to the key the page reads, so the
//      function itself stays as printed. With URLR_AS_PRINTED=1 in the
//      environment the line is skipped, to show the page's code as it is.
//   2. The page shows the function only; its $body is the raw request body
//      (file_get_contents('php://input')). The note "Encodez le body en JSON et
//      échappez les slashs" describes how that body was made (PHP's json_encode
//      escapes "/" by default), which is what the Node verifier must redo.
//   3. The route around it is ours: 200 when verifySignature is true, else 401.
//   4. For the Go test, a shutdown function writes one JSON line per request (see
//      ../_lib/expresslike.js for the fields), with "reencoded_ok": whether
//      verifySignature(json_encode(json_decode($body)), ...) would also pass —
//      the other reading of the page's note.

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
        'reencoded_ok' => $GLOBALS['reencoded_ok'] ?? null,
    ];
    if ($fatal) {
        $entry['error'] = $err['message'];
    }
    $line = json_encode($entry, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE) . "\n";
    $log = getenv('RECEIVER_LOG');
    file_put_contents($log !== false && $log !== '' ? $log : 'php://stderr', $line, FILE_APPEND | LOCK_EX);
});

if (getenv('URLR_AS_PRINTED') !== '1') {
    $_SERVER['x-signature'] = $_SERVER['HTTP_X_SIGNATURE'] ?? null; // deviation 1 (added line)
}

// ---- copied from the page ----------------------------------------------------
function verifySignature(string $body, string $secretKey): bool {
    $signature = $_SERVER['x-signature'];

    $computedSignature = hash_hmac('sha256', $body, $secretKey);

    return hash_equals($computedSignature, $signature);
}
// ---- end of the page's code --------------------------------------------------

$secretKey = getenv('WEBHOOK_SECRET');
$body = file_get_contents('php://input'); // deviation 2
if (!verifySignature($body, $secretKey)) { // deviation 3
    http_response_code(401);
    exit('Invalid signature');
}
try {
    $reencoded = json_encode(json_decode($body));
    $reencoded_ok = is_string($reencoded) && verifySignature($reencoded, $secretKey);
} catch (Throwable $e) {
    $reencoded_ok = false;
}
echo 'OK';
