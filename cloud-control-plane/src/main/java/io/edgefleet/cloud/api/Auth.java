package io.edgefleet.cloud.api;

import io.edgefleet.cloud.api.Token.Role;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;

/**
 * Bearer-token authentication for {@code /api/v1}: no or unknown token → 401 (with
 * {@code WWW-Authenticate: Bearer}); a viewer token on a write → 403. Tokens are compared in
 * constant time over their SHA-256, so neither timing nor length leaks.
 */
public final class Auth {
    private record Entry(byte[] hash, Token token) {
    }

    private final List<Entry> tokens;

    public Auth(List<Token> tokens) {
        if (tokens.isEmpty()) {
            throw new IllegalArgumentException("at least one API token is needed");
        }
        this.tokens = tokens.stream().map(t -> new Entry(sha(t.secret()), t)).toList();
    }

    /** The caller's token, or 401. */
    public Token authenticate(Optional<String> authorization) {
        String h = authorization.orElseThrow(() -> unauthorized("this endpoint needs 'Authorization: Bearer <token>'"));
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw unauthorized("the Authorization header is not a Bearer token");
        }
        byte[] presented = sha(h.substring(7).strip());
        Token found = null;
        for (Entry e : tokens) {
            if (MessageDigest.isEqual(e.hash(), presented)) {
                found = e.token();
            }
        }
        if (found == null) {
            throw unauthorized("the bearer token is not valid");
        }
        return found;
    }

    /** 403 unless the token may write. */
    public static void requireOperator(Token t) {
        if (t.role() != Role.OPERATOR) {
            throw new ApiException(403, "Forbidden", "token '" + t.name() + "' has role viewer; this change needs an operator token");
        }
    }

    private static ApiException unauthorized(String detail) {
        return new ApiException(401, "Unauthorized", detail);
    }

    private static byte[] sha(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
